// Autobahn group 7, client role: the closing handshake (RFC 6455 §5.5.1,
// §7). The client answers a Close with a Close echoing the status code
// (CL-3), processes nothing after the Close it received and sends nothing
// after its own (CL-2, §5.5.1), and then waits for the server to close TCP
// first (§7.1.1, CL-4). A Close payload is empty or a 2-byte code that may
// appear on the wire plus a UTF-8 reason, 125 bytes at most (CL-1, CL-6);
// anything else fails the connection (1002, or 1007 for a bad reason).
#include "conformance/client/hostile_server.hpp"

#include <catch2/catch.hpp>

using namespace wslab;
using namespace wslab::conformance;

// --- 7.1: close after other traffic -------------------------------------------------------------

TEST_CASE("client 7.1.1 a text message and a Close in the same segment CL-3 echo first, then the answering Close",
          "[conformance][group7]") {
  // RFC 6455 §5.5.1: "after sending a Close frame, the endpoint MUST NOT
  // send any more data frames" - so the echo must be queued before the
  // answering Close, even when both arrive in one read.
  ClientCase c;
  c.open();
  REQUIRE(c.server.send(text("Hello World") + close_frame(1000)));
  c.expect_echo(kText, "Hello World");
  const ReceivedFrame f = c.expect_frame();
  REQUIRE(f.opcode == kClose);
  CHECK(f.close_code() == std::optional<std::uint16_t>(1000));
  c.server.shutdown_write();
  CHECK(c.server.next(3s).what == HostileServer::Got::closed);
  REQUIRE(c.client.events.wait_close(3s));
  CHECK(c.client.events.closed()->wasClean);
}

TEST_CASE("client 7.1.2 two Closes CL-3 are answered once", "[conformance][group7]") {
  // RFC 6455 §5.5.1: one Close per endpoint; after the Close nothing more
  // is processed.
  ClientCase c;
  c.open();
  c.close_normally(close_frame(1000) + close_frame(1000), 1000, 1000);
}

TEST_CASE("client 7.1.3 a Close then a ping CL-2 gets no pong", "[conformance][group7]") {
  // RFC 6455 §5.5.1: after receiving a Close the endpoint processes no
  // more frames; §5.5.2: a Pong is sent "unless it already received a Close".
  ClientCase c;
  c.open();
  c.close_normally(close_frame(1000) + ping("Hello, world!"), 1000, 1000);
}

TEST_CASE("client 7.1.4 a Close then a text message CL-2 is not echoed", "[conformance][group7]") {
  ClientCase c;  // RFC 6455 §5.5.1
  c.open();
  c.close_normally(close_frame(1000) + text("Hello World"), 1000, 1000);
  CHECK(c.client.events.message_count() == 0);
}

TEST_CASE("client 7.1.5 a Close in the middle of a fragmented message CL-3 is answered with a normal close",
          "[conformance][group7]") {
  // RFC 6455 §5.4: a control frame may come between fragments; the Close
  // ends the connection normally: no error, the half message is dropped.
  ClientCase c;
  c.open();
  c.close_normally(text("fragment1", false) + close_frame(1000) + continuation("fragment2"), 1000, 1000);
  CHECK(c.client.events.message_count() == 0);
}

TEST_CASE("client 7.1.6 a 256 KiB text, a text, a Close, a ping CL-3 echoes both messages, answers the Close",
          "[conformance][group7]") {
  // RFC 6455 §5.5.1. Autobahn calls the echo of the messages "implementation
  // defined" (non-strict if lost); wslab processes them before the Close.
  ClientCase c;
  c.open();
  const std::string big = repeat("BAsd7&jh23", 256 * 1024);
  REQUIRE(c.server.send(text(big) + text("Hello World!") + close_frame(1000) + ping()));
  c.expect_echo(kText, big);
  c.expect_echo(kText, "Hello World!");
  const ReceivedFrame f = c.expect_frame();
  REQUIRE(f.opcode == kClose);
  CHECK(f.close_code() == std::optional<std::uint16_t>(1000));
  c.expect_silence(40ms);  // no pong, and TCP still open (CL-4)
  c.server.shutdown_write();
  CHECK(c.server.next(3s).what == HostileServer::Got::closed);
  REQUIRE(c.client.events.wait_close(3s));
  CHECK(c.client.events.closed()->code == 1000);
  CHECK(c.client.events.closed()->wasClean);
}

// --- 7.3: payload sizes -------------------------------------------------------------------------

TEST_CASE("client 7.3.1 a Close without payload CL-3 is answered with an empty Close, reported as 1005",
          "[conformance][group7]") {
  // RFC 6455 §5.5.1: "If there is a body, the first two bytes ... MUST be
  // a 2-byte unsigned integer"; no body is allowed. §7.1.5: the status is
  // then 1005 (no status code), which never goes on the wire (§7.4.1).
  ClientCase c;
  c.open();
  c.close_normally(close_frame_raw(""), std::nullopt, 1005);
}

TEST_CASE("client 7.3.2 a Close with a 1-byte payload CL-1 fails 1002", "[conformance][group7]") {
  ClientCase c;  // RFC 6455 §5.5.1
  c.open();
  REQUIRE(c.server.send(close_frame_raw("a")));
  c.expect_failure(1002, error::bad_close_payload);
}

TEST_CASE("client 7.3.3 a Close with only a code CL-3 is answered with the same code", "[conformance][group7]") {
  ClientCase c;  // RFC 6455 §5.5.1: "typically echoing the status code it received"
  c.open();
  c.close_normally(close_frame(1000), 1000, 1000);
}

TEST_CASE("client 7.3.4 a Close with a code and a reason CL-3 is answered with the code, the reason reported",
          "[conformance][group7]") {
  ClientCase c;  // RFC 6455 §5.5.1, §7.1.6
  c.open();
  c.close_normally(close_frame(1000, "Hello World!"), 1000, 1000);
  CHECK(c.client.events.closed()->reason == "Hello World!");
}

TEST_CASE("client 7.3.5 a Close with a 123-byte reason CL-1 is answered with the code", "[conformance][group7]") {
  ClientCase c;  // RFC 6455 §5.5: 2 + 123 = 125, the most a control frame carries
  c.open();
  c.close_normally(close_frame(1000, repeat('*', 123)), 1000, 1000);
  CHECK(c.client.events.closed()->reason == repeat('*', 123));
}

TEST_CASE("client 7.3.6 a Close with a 124-byte reason FR-4 fails 1002", "[conformance][group7]") {
  ClientCase c;  // RFC 6455 §5.5: 126 bytes is too long for a control frame
  c.open();
  REQUIRE(c.server.send(close_frame(1000, repeat('*', 124))));
  c.expect_failure(1002, error::bad_control_size);
}

TEST_CASE("client 7.5.1 a Close reason that is not UTF-8 U8-2 CL-1 fails 1007", "[conformance][group7]") {
  // RFC 6455 §5.5.1: the reason is UTF-8; §8.1: invalid UTF-8 fails with 1007.
  ClientCase c;
  c.open();
  REQUIRE(c.server.send(close_frame(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64")));
  c.expect_failure(1007, error::bad_close_reason);
}

// --- 7.7, 7.9, 7.13: status codes ---------------------------------------------------------------

TEST_CASE("client 7.7.1-7.7.13 a Close with a valid code CL-6 is answered with the same code",
          "[conformance][group7]") {
  // RFC 6455 §7.4.1 (1000-1003, 1007-1011 defined), §7.4.2 (3000-3999
  // registered, 4000-4999 private). Plus 1012-1014, registered with IANA
  // since (wslab accepts them: 7.7 extra).
  const std::uint16_t codes[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
                                 1012, 1013, 1014};
  for (std::size_t i = 0; i < std::size(codes); ++i) {
    const std::uint16_t code = codes[i];
    DYNAMIC_SECTION((i < 13 ? "7.7." + std::to_string(i + 1) : std::string("7.7 extra")) << ": code " << code) {
      ClientCase c;
      c.open();
      c.close_normally(close_frame(code), code, code);
    }
  }
}

TEST_CASE("client 7.9.1-7.9.9 and 7.13.1-7.13.2 a Close with an invalid code CL-6 fails 1002",
          "[conformance][group7]") {
  // RFC 6455 §7.4.1: 1004 reserved, 1005 and 1006 "MUST NOT be set as a
  // status code in a Close control frame", 1015 likewise; §7.4.2: 0-999
  // unused, 1016-2999 reserved for this and later protocol revisions;
  // 5000 and up are not defined (7.13: Autobahn calls them informational;
  // strict means fail).
  const std::pair<const char*, std::uint16_t> codes[] = {
      {"7.9.1", 0},    {"7.9.2", 999},  {"7.9.3", 1004}, {"7.9.4", 1005},  {"7.9.5", 1006},   {"7.9.6", 1016},
      {"7.9.7", 1100}, {"7.9.8", 2000}, {"7.9.9", 2999}, {"7.13.1", 5000}, {"7.13.2", 65535}, {"7.9 extra", 1015},
  };
  for (const auto& [id, code] : codes) {
    DYNAMIC_SECTION(id << ": code " << code) {
      ClientCase c;
      c.open();
      REQUIRE(c.server.send(close_frame(code)));
      c.expect_failure(1002, error::bad_close_code);
    }
  }
}

// --- After the close (CL-2, CL-4) ---------------------------------------------------------------

TEST_CASE("client CL-4 after the close handshake the client waits for the server to close TCP, up to the close timeout",
          "[conformance][group7]") {
  // RFC 6455 §7.1.1: "the server SHOULD close the TCP connection first ...
  // the client SHOULD wait for the server to close", and may close it
  // itself after a while: wslab waits the close timeout (1 s here). §7.1.4:
  // the closing handshake was complete, so the close is clean.
  ClientCase c;
  c.open();
  REQUIRE(c.server.send(close_frame(1000, "bye")));
  const ReceivedFrame f = c.expect_frame();
  REQUIRE(f.opcode == kClose);
  const auto answered = f.at;
  const auto gone = c.server.next(5s);  // we do not close: the client must, by itself
  CHECK(gone.what == HostileServer::Got::closed);
  const auto waited = Clock::now() - answered;
  CHECK(waited >= 700ms);   // not at once (the close timeout is 1 s)
  CHECK(waited < 3000ms);   // but not forever either
  REQUIRE(c.client.events.wait_close(3s));
  CHECK(c.client.events.closed()->code == 1000);
  CHECK(c.client.events.closed()->wasClean);
}

TEST_CASE("client CL-2 CL-4 a close started by the client: masked Close, nothing after it, TCP closed by the server",
          "[conformance][group7]") {
  // RFC 6455 §5.5.1 (CL-2): after its Close the client sends no data, and
  // does not echo what the server sends before answering; §7.1.1 (CL-4):
  // the client waits for the server to close TCP.
  ClientCase c;
  c.open();
  c.client.ws.close(4000, "done here");
  const ReceivedFrame f = c.expect_frame();
  REQUIRE(f.opcode == kClose);
  CHECK(f.close_code() == std::optional<std::uint16_t>(4000));
  CHECK(f.close_reason() == "done here");
  c.client.ws.send("too late");  // discarded: CLOSING (WHATWG), no frame after a Close (§5.5.1)
  // Until the server's Close arrives the client still reads: the message is
  // delivered but not echoed (no data frame after a Close), and the ping is
  // answered (§5.5.2: a Pong "unless it already received a Close frame").
  REQUIRE(c.server.send(text("still talking") + ping("still there?")));
  c.expect_pong("still there?");
  c.expect_silence(100ms);
  CHECK(c.client.events.message_count() == 1);
  REQUIRE(c.server.send(close_frame(4000)));
  c.expect_silence(40ms);  // the client waits for us to close TCP
  c.server.shutdown_write();
  CHECK(c.server.next(3s).what == HostileServer::Got::closed);
  REQUIRE(c.client.events.wait_close(3s));
  CHECK(c.client.events.closed()->code == 4000);
  CHECK(c.client.events.closed()->wasClean);
}

TEST_CASE("client CL-7 a server that never answers the client's Close: 1006 after the close timeout",
          "[conformance][group7]") {
  // RFC 6455 §7.1.1 and §7.2.1: no answering Close, so no clean close; the
  // client closes TCP itself after its close timeout (1 s here).
  ClientCase c;
  c.open();
  c.client.ws.close(1000);
  const ReceivedFrame f = c.expect_frame();
  REQUIRE(f.opcode == kClose);
  const auto gone = c.server.next(5s);
  CHECK(gone.what == HostileServer::Got::closed);
  CHECK(Clock::now() - f.at >= 700ms);  // the close timeout (1 s), not at once
  REQUIRE(c.client.events.wait_close(3s));
  CHECK(c.client.events.closed()->code == 1006);
  CHECK_FALSE(c.client.events.closed()->wasClean);
}

TEST_CASE("client CL-7 a server that drops TCP without a Close: onerror, then 1006", "[conformance][group7]") {
  // RFC 6455 §7.1.5, §7.2.1: "If _The WebSocket Connection is Closed_ and no
  // Close control frame was received by the endpoint ... _The WebSocket
  // Connection Close Code_ is considered to be 1006."
  ClientCase c;
  c.open();
  REQUIRE(c.server.send(text("last words")));
  c.expect_echo(kText, "last words");
  c.server.close_connection();
  REQUIRE(c.client.events.wait_close(3s));
  CHECK(reported_violation(c.client).id() == error::abnormal_closure);
  CHECK(c.client.events.closed()->code == 1006);
  CHECK_FALSE(c.client.events.closed()->wasClean);
}
