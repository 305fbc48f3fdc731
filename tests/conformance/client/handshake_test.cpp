// The opening handshake, client role, against a hostile server (RFC 6455
// §4.1). The client reads the server's response and MUST fail the WebSocket
// connection (§7.1.7) if it is not a 101 with Upgrade: websocket,
// Connection: Upgrade and the right Sec-WebSocket-Accept (HSC-8, HSC-9), if
// it selects a subprotocol or an extension that was not offered (HSC-10), if
// a header that may appear once appears twice (§11.3, HSS-6), or if it is
// too big or never completes (§10.7, INV-1). Each case checks the whole
// outcome: onerror names the rule, onopen never ran, onclose reports 1006
// (§7.1.5: no Close frame was exchanged), nothing at all is sent after the
// request, and the TCP connection is closed.
//
// Also here: the request itself (HSC-3 - HSC-7), responses a strict client
// must still accept, and what follows a valid 101 in the same TCP segment:
// frames (delivered, not lost) or garbage (the connection, now OPEN, fails
// with 1002).
#include "conformance/client/hostile_server.hpp"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/SHA1Engine.h>

#include <catch2/catch.hpp>

#include <cctype>
#include <functional>
#include <sstream>
#include <thread>

using namespace wslab;
using namespace wslab::conformance;

namespace {

using Respond = std::function<std::string(const HostileServer&)>;

struct Hostile {
  const char* name;
  Respond respond;
  error rule;
  const char* detail;  // a part of the error message: the facts of this case
};

net::ClientOptions fast_options() {
  net::ClientOptions o = test_client_options();
  o.handshake_timeout = 600ms;
  return o;
}

// The client must fail: rule, message, 1006, nothing sent, TCP closed.
void expect_handshake_failure(HostileServer& server, EchoClient& client, error rule, std::string_view detail) {
  REQUIRE(client.events.wait_close(4s));
  CHECK_FALSE(client.events.opened());
  const Violation v = reported_violation(client);
  const auto message = client.events.error()->message;
  INFO("onerror: " << message);
  CHECK(v.rule().name == wslab::rule(rule).name);
  CHECK(message.find(detail) != std::string::npos);
  CHECK(message.find(std::string(wslab::rule(rule).section)) != std::string::npos);  // names the section
  const auto closed = client.events.closed();
  REQUIRE(closed);
  CHECK(closed->code == 1006);  // §7.1.5: no Close frame was received
  CHECK_FALSE(closed->wasClean);
  CHECK(client.ws.readyState() == net::Client::CLOSED);
  // §4.1, §7.1.7: the client sends nothing (no frame, no Close: the
  // connection never opened) and closes TCP.
  const auto after = server.next(3s);
  INFO("after failing the handshake the client should close TCP without sending anything");
  CHECK(after.what == HostileServer::Got::closed);
  CHECK(server.leftover() == 0);
  CHECK(server.frames().empty());
}

void run_hostile(const Hostile& h, std::vector<std::string> protocols = {}, net::ClientOptions options = fast_options()) {
  HostileServer server;
  EchoClient client(server.url(), std::move(options), std::move(protocols));
  client.ws.connect();
  REQUIRE(server.accept());
  REQUIRE(server.read_request());
  server.send(h.respond(server));
  expect_handshake_failure(server, client, h.rule, h.detail);
}

// The 101 head without its blank line, to add headers to.
std::string head_101(const HostileServer& s, bool upgrade = true, bool connection = true, bool accept = true) {
  std::string r = "HTTP/1.1 101 Switching Protocols\r\n";
  if (upgrade) r += "Upgrade: websocket\r\n";
  if (connection) r += "Connection: Upgrade\r\n";
  if (accept) r += "Sec-WebSocket-Accept: " + s.accept_value() + "\r\n";
  return r;
}

std::string sha1_base64(const std::string& text) {
  Poco::SHA1Engine sha1;
  sha1.update(text);
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  const auto& digest = sha1.digest();
  encoder.write(reinterpret_cast<const char*>(digest.data()), static_cast<std::streamsize>(digest.size()));
  encoder.close();
  return out.str();
}

std::string base64_decode(const std::string& text) {
  std::istringstream in(text);
  Poco::Base64Decoder decoder(in);
  std::string out;
  char c;
  while (decoder.get(c)) out.push_back(c);
  return out;
}

}  // namespace

// --- HSC-9: Upgrade, Connection, Sec-WebSocket-Accept ------------------------------------

TEST_CASE("client HSC-9 a wrong or missing Sec-WebSocket-Accept fails the connection 1006", "[conformance][handshake]") {
  // RFC 6455 §4.1, the server's response, item 4: "If the response lacks a
  // |Sec-WebSocket-Accept| header field or the |Sec-WebSocket-Accept|
  // contains a value other than the base64-encoded SHA-1 of the
  // concatenation of the |Sec-WebSocket-Key| (as a string, not
  // base64-decoded) with the string "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
  // ... the client MUST _Fail the WebSocket Connection_."
  const Hostile cases[] = {
      {"the accept value of another key",
       [](const HostileServer& s) {
         return head_101(s, true, true, false) + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
       },
       error::bad_sec_accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
      {"base64(SHA-1(key)) without the GUID",
       [](const HostileServer& s) {
         const std::string key = s.request_header("Sec-WebSocket-Key").value_or("");
         return head_101(s, true, true, false) + "Sec-WebSocket-Accept: " + sha1_base64(key) + "\r\n\r\n";
       },
       error::bad_sec_accept, "Sec-WebSocket-Accept is"},
      {"the key itself echoed back",
       [](const HostileServer& s) {
         const std::string key = s.request_header("Sec-WebSocket-Key").value_or("");
         return head_101(s, true, true, false) + "Sec-WebSocket-Accept: " + key + "\r\n\r\n";
       },
       error::bad_sec_accept, "Sec-WebSocket-Accept is"},
      {"the right value in lower case (base64 is case-sensitive)",
       [](const HostileServer& s) {
         std::string value = s.accept_value();
         for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
         return head_101(s, true, true, false) + "Sec-WebSocket-Accept: " + value + "\r\n\r\n";
       },
       error::bad_sec_accept, "expected"},
      {"no Sec-WebSocket-Accept header",
       [](const HostileServer& s) { return head_101(s, true, true, false) + "\r\n"; }, error::bad_sec_accept,
       "no Sec-WebSocket-Accept"},
      {"an empty Sec-WebSocket-Accept",
       [](const HostileServer& s) { return head_101(s, true, true, false) + "Sec-WebSocket-Accept: \r\n\r\n"; },
       error::bad_sec_accept, "Sec-WebSocket-Accept is \"\""},
  };
  for (const Hostile& h : cases) {
    DYNAMIC_SECTION(h.name) { run_hostile(h); }
  }
}

TEST_CASE("client HSC-9 a missing or wrong Upgrade header fails the connection 1006", "[conformance][handshake]") {
  // RFC 6455 §4.1, the server's response, item 2: "If the response lacks an
  // |Upgrade| header field or the |Upgrade| header field contains a value
  // that is not an ASCII case-insensitive match for the value "websocket",
  // the client MUST _Fail the WebSocket Connection_."
  const Hostile cases[] = {
      {"no Upgrade header", [](const HostileServer& s) { return head_101(s, false) + "\r\n"; },
       error::response_no_upgrade, "no Upgrade header"},
      {"Upgrade: h2c", [](const HostileServer& s) { return head_101(s, false) + "Upgrade: h2c\r\n\r\n"; },
       error::response_no_upgrade, "\"h2c\""},
      {"Upgrade: websockets", [](const HostileServer& s) { return head_101(s, false) + "Upgrade: websockets\r\n\r\n"; },
       error::response_no_upgrade, "\"websockets\""},
  };
  for (const Hostile& h : cases) {
    DYNAMIC_SECTION(h.name) { run_hostile(h); }
  }
}

TEST_CASE("client HSC-9 a Connection header without the Upgrade token fails the connection 1006",
          "[conformance][handshake]") {
  // RFC 6455 §4.1, the server's response, item 3: "If the response lacks a
  // |Connection| header field or the |Connection| header field doesn't
  // contain a token that is an ASCII case-insensitive match for the value
  // "Upgrade", the client MUST _Fail the WebSocket Connection_."
  const Hostile cases[] = {
      {"no Connection header", [](const HostileServer& s) { return head_101(s, true, false) + "\r\n"; },
       error::response_no_connection_upgrade, "no Connection header"},
      {"Connection: keep-alive",
       [](const HostileServer& s) { return head_101(s, true, false) + "Connection: keep-alive\r\n\r\n"; },
       error::response_no_connection_upgrade, "\"keep-alive\""},
      {"Connection: Upgrades (not the token)",
       [](const HostileServer& s) { return head_101(s, true, false) + "Connection: Upgrades\r\n\r\n"; },
       error::response_no_connection_upgrade, "\"Upgrades\""},
  };
  for (const Hostile& h : cases) {
    DYNAMIC_SECTION(h.name) { run_hostile(h); }
  }
}

// --- HSC-8: the status, and what is not HTTP at all -----------------------------------------

TEST_CASE("client HSC-8 a status other than 101 fails the connection 1006", "[conformance][handshake]") {
  // RFC 6455 §4.1: "If the status code received from the server is not 101,
  // the client handles the response per HTTP procedures"; for a WebSocket
  // client that does not authenticate or follow redirects, the connection
  // fails. Redirects: "clients are not required to follow them" (§4.1);
  // wslab does not (the 302 case checks nothing connects to the Location).
  const Hostile cases[] = {
      {"200 OK with a body",
       [](const HostileServer&) { return std::string("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"); },
       error::bad_status, "status 200"},
      {"301 without a Location",
       [](const HostileServer&) { return std::string("HTTP/1.1 301 Moved Permanently\r\nContent-Length: 0\r\n\r\n"); },
       error::bad_status, "status 301"},
      {"404 Not Found",
       [](const HostileServer&) { return std::string("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"); },
       error::bad_status, "status 404"},
      {"500 Internal Server Error",
       [](const HostileServer&) {
         return std::string("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
       },
       error::bad_status, "status 500"},
      {"401 with a challenge",
       [](const HostileServer&) {
         return std::string("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\n\r\n");
       },
       error::bad_status, "status 401"},
      {"101 with everything else right, over HTTP/1.1 but with status 102",
       [](const HostileServer& s) {
         std::string r = head_101(s);
         r.replace(9, 3, "102");
         return r + "\r\n";
       },
       error::bad_status, "status 102"},
  };
  for (const Hostile& h : cases) {
    DYNAMIC_SECTION(h.name) { run_hostile(h); }
  }
}

TEST_CASE("client HSC-8 a 302 redirect to a live WebSocket server is not followed and fails 1006",
          "[conformance][handshake]") {
  // RFC 6455 §4.1: "the server might redirect the client using a 3xx status
  // code (but clients are not required to follow them)". wslab reports the
  // status and connects nowhere else.
  HostileServer target;  // would accept, if anyone came
  HostileServer server;
  EchoClient client(server.url(), fast_options());
  client.ws.connect();
  REQUIRE(server.accept());
  REQUIRE(server.read_request());
  REQUIRE(server.send("HTTP/1.1 302 Found\r\nLocation: " + target.url() + "\r\nContent-Length: 0\r\n\r\n"));
  expect_handshake_failure(server, client, error::bad_status, "status 302");
  CHECK_FALSE(target.connection_pending(300ms));
}

TEST_CASE("client HSC-8 a response that is not HTTP fails the connection 1006", "[conformance][handshake]") {
  // RFC 6455 §4.1: the client reads an HTTP response (RFC 7230 §3.1.2
  // status-line); anything else fails the connection.
  const Hostile cases[] = {
      {"an SSH banner",
       [](const HostileServer&) { return std::string("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n\r\n"); },
       error::bad_response_syntax, "HTTP version"},
      {"a status line without a three-digit status",
       [](const HostileServer&) { return std::string("HTTP/1.1 abc Switching Protocols\r\n\r\n"); },
       error::bad_response_syntax, "abc"},
      {"binary noise ending in a blank line",
       [](const HostileServer&) { return std::string("\x01\x02\xff\xfe\x80 noise\r\n\r\n"); },
       error::bad_response_syntax, "Malformed"},
      {"a header line without a colon",
       [](const HostileServer& s) { return head_101(s) + "this is not a header\r\n\r\n"; },
       error::bad_response_syntax, "has no \":\""},
  };
  for (const Hostile& h : cases) {
    DYNAMIC_SECTION(h.name) { run_hostile(h); }
  }
}

TEST_CASE("client HSC-8 frames instead of a handshake response fail the connection 1006",
          "[conformance][handshake]") {
  // RFC 6455 §4.1: until the 101, the server's bytes are an HTTP response;
  // a server that starts with frames has not accepted anything. wslab
  // fails at once if the bytes cannot start an HTTP response, or at the
  // latest at the handshake timeout.
  HostileServer server;
  EchoClient client(server.url(), fast_options());
  client.ws.connect();
  REQUIRE(server.accept());
  REQUIRE(server.read_request());
  REQUIRE(server.send(text("hello") + ping("are you there")));
  REQUIRE(client.events.wait_close(3s));
  CHECK_FALSE(client.events.opened());
  CHECK(client.events.message_count() == 0);
  const Violation v = reported_violation(client);
  CHECK((v.id() == error::bad_response_syntax || v.id() == error::handshake_timeout));
  CHECK(client.events.closed()->code == 1006);
  CHECK(server.next(3s).what == HostileServer::Got::closed);
  CHECK(server.frames().empty());  // no pong: there is no WebSocket connection
}

// --- HSC-10: what was not offered ---------------------------------------------------------

TEST_CASE("client HSC-10 an unrequested subprotocol fails the connection 1006", "[conformance][handshake]") {
  // RFC 6455 §4.1, the server's response, item 6: "If the response includes
  // a |Sec-WebSocket-Protocol| header field and this header field indicates
  // the use of a subprotocol that was not present in the client's handshake
  // (the server has indicated a subprotocol not requested by the client),
  // the client MUST _Fail the WebSocket Connection_."
  SECTION("none offered, chat selected") {
    run_hostile({"", [](const HostileServer& s) { return head_101(s) + "Sec-WebSocket-Protocol: chat\r\n\r\n"; },
                 error::unrequested_subprotocol, "\"chat\""});
  }
  SECTION("chat and superchat offered, v2.chat selected") {
    run_hostile({"", [](const HostileServer& s) { return head_101(s) + "Sec-WebSocket-Protocol: v2.chat\r\n\r\n"; },
                 error::unrequested_subprotocol, "\"v2.chat\""},
                {"chat", "superchat"});
  }
  SECTION("chat offered, both chat and superchat selected") {
    run_hostile({"",
                 [](const HostileServer& s) {
                   return head_101(s) + "Sec-WebSocket-Protocol: chat, superchat\r\n\r\n";
                 },
                 error::unrequested_subprotocol, "chat, superchat"},
                {"chat"});
  }
}

TEST_CASE("client HSC-10 EX-1 an unrequested extension fails the connection 1006", "[conformance][handshake]") {
  // RFC 6455 §4.1, the server's response, item 5: "If the response includes
  // a |Sec-WebSocket-Extensions| header field and this header field
  // indicates the use of an extension that was not present in the client's
  // handshake (the server has indicated an extension not requested by the
  // client), the client MUST _Fail the WebSocket Connection_." wslab's
  // client offers permessage-deflate only (and nothing with it turned off).
  SECTION("permessage-deflate, with the client's deflate turned off") {
    net::ClientOptions no_deflate = fast_options();
    no_deflate.permessage_deflate.reset();
    run_hostile({"",
                 [](const HostileServer& s) {
                   return head_101(s) + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n";
                 },
                 error::unrequested_extension, "\"permessage-deflate\""},
                {}, no_deflate);
  }
  SECTION("a made-up extension with parameters") {
    run_hostile({"",
                 [](const HostileServer& s) {
                   return head_101(s) + "Sec-WebSocket-Extensions: x-webkit-foo; level=3\r\n\r\n";
                 },
                 error::unrequested_extension, "\"x-webkit-foo\""});
  }
}

// --- HSS-6 (§11.3): headers that appear once ------------------------------------------------

TEST_CASE("client HSS-6 a duplicated Sec-WebSocket-Accept, Protocol or Extensions header fails 1006",
          "[conformance][handshake]") {
  // RFC 6455 §11.3.3: "The |Sec-WebSocket-Accept| header field MUST NOT
  // appear more than once in an HTTP response." §11.3.4 the same for
  // |Sec-WebSocket-Protocol|, §11.3.2 for |Sec-WebSocket-Extensions| ("MUST
  // NOT appear more than once in an HTTP response"). Each duplicate here is
  // otherwise acceptable (the same right value twice, an offered protocol,
  // an empty extension list), so only the multiplicity is wrong.
  SECTION("Sec-WebSocket-Accept twice, both right") {
    run_hostile({"",
                 [](const HostileServer& s) {
                   return head_101(s) + "Sec-WebSocket-Accept: " + s.accept_value() + "\r\n\r\n";
                 },
                 error::bad_sec_accept, "appears 2 times"});
  }
  SECTION("Sec-WebSocket-Protocol twice, the offered one") {
    run_hostile({"",
                 [](const HostileServer& s) {
                   return head_101(s) + "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n\r\n";
                 },
                 error::unrequested_subprotocol, "appears 2 times"},
                {"chat"});
  }
  SECTION("Sec-WebSocket-Extensions twice, empty") {
    run_hostile({"",
                 [](const HostileServer& s) {
                   return head_101(s) + "Sec-WebSocket-Extensions: \r\nSec-WebSocket-Extensions: \r\n\r\n";
                 },
                 error::unrequested_extension, "appears 2 times"});
  }
}

// --- INV-1 (§10.7): too big, never ending, silent ------------------------------------------

TEST_CASE("client INV-1 a response head over the limit fails the connection 1006", "[conformance][handshake]") {
  // RFC 6455 §10.7: "endpoints MUST be prepared for ... invalid data"; a
  // client bounds what it buffers (8 KiB, 100 lines by default).
  SECTION("one 9000-byte header") {
    run_hostile({"", [](const HostileServer& s) { return head_101(s) + "X-Big: " + repeat('a', 9000) + "\r\n\r\n"; },
                 error::response_too_large, "8192-byte limit"});
  }
  SECTION("150 short header lines") {
    run_hostile({"",
                 [](const HostileServer& s) {
                   std::string r = head_101(s);
                   for (int i = 0; i < 150; ++i) r += "X-" + std::to_string(i) + ": y\r\n";
                   return r + "\r\n";
                 },
                 error::response_too_large, "100 header lines"});
  }
  SECTION("20000 bytes of noise without a line break") {
    run_hostile({"", [](const HostileServer&) { return repeat('\x90', 20000); }, error::response_too_large, "8192-byte limit"});
  }
}

TEST_CASE("client INV-1 a response that never ends fails at the handshake timeout 1006", "[conformance][handshake]") {
  // RFC 6455 §10.7 and §4.1: a head dripping in one header line every
  // 40 ms, within every size limit, never completes: the handshake timeout
  // (600 ms here) ends it.
  HostileServer server;
  EchoClient client(server.url(), fast_options());
  const auto start = Clock::now();
  client.ws.connect();
  REQUIRE(server.accept());
  REQUIRE(server.read_request());
  REQUIRE(server.send("HTTP/1.1 101 Switching Protocols\r\n"));
  for (int i = 0; i < 100 && !client.events.closed(); ++i) {
    if (!server.send("X-Drip-" + std::to_string(i) + ": 1\r\n")) break;
    std::this_thread::sleep_for(40ms);
  }
  expect_handshake_failure(server, client, error::handshake_timeout, "600 ms");
  const auto took = Clock::now() - start;
  CHECK(took >= 600ms);
  CHECK(took < 2500ms);
}

TEST_CASE("client INV-1 a server silent after accepting TCP fails at the handshake timeout 1006",
          "[conformance][handshake]") {
  // RFC 6455 §4.1 (the client waits for the response) and §10.7: not
  // forever.
  HostileServer server;
  EchoClient client(server.url(), fast_options());
  const auto start = Clock::now();
  client.ws.connect();
  REQUIRE(server.accept());
  REQUIRE(server.read_request());
  expect_handshake_failure(server, client, error::handshake_timeout, "600 ms");
  const auto took = Clock::now() - start;
  CHECK(took >= 600ms);
  CHECK(took < 2500ms);
}

TEST_CASE("client CL-7 a server that closes TCP in the middle of its response fails 1006",
          "[conformance][handshake]") {
  // RFC 6455 §7.1.5, §7.2.1: the TCP connection went away without a
  // WebSocket connection: 1006.
  HostileServer server;
  EchoClient client(server.url(), fast_options());
  client.ws.connect();
  REQUIRE(server.accept());
  REQUIRE(server.read_request());
  REQUIRE(server.send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: webs"));
  server.shutdown_write();
  expect_handshake_failure(server, client, error::abnormal_closure, "during the opening handshake");
}

// --- After a valid 101 ----------------------------------------------------------------------

TEST_CASE("client HSC-8 a valid 101 followed by frames in the same segment delivers every frame",
          "[conformance][handshake]") {
  // RFC 6455 §4.1: once the 101 is read, "the WebSocket Connection is
  // established"; the bytes after the head in the same read are frames
  // (§5), and none may be lost.
  ClientCase c;
  const std::string blob("\x00\x01\x02\xff", 4);
  c.open(text("first") + binary(blob) + ping("p1") + text("second"));
  // The pong is the protocol's answer, queued as the ping is read; the
  // echoes are the application's. Their relative order is not specified
  // (§5.5.2: "as soon as is practical"); each stream's own order is.
  std::vector<ReceivedFrame> data, pongs;
  for (int i = 0; i < 4; ++i) {
    const ReceivedFrame f = c.expect_frame();
    (f.opcode == kPong ? pongs : data).push_back(f);
  }
  REQUIRE(data.size() == 3);
  CHECK(data[0].opcode == kText);
  CHECK(data[0].payload == "first");
  CHECK(data[1].opcode == kBinary);
  CHECK(data[1].payload == blob);
  CHECK(data[2].opcode == kText);
  CHECK(data[2].payload == "second");
  REQUIRE(pongs.size() == 1);
  CHECK(pongs[0].payload == "p1");
  const auto log = c.client.events.log();
  REQUIRE(log.size() >= 3);
  CHECK(log[0] == "open OPEN");  // onopen first, then the messages
  c.close_normally();
}

TEST_CASE("client HSC-8 garbage right after a valid 101 opens, then fails the connection 1002",
          "[conformance][handshake]") {
  // RFC 6455 §4.1: after the 101 the connection is OPEN, and what follows
  // is read as frames (§5.2): "garbage!" starts with 0x67, RSV1 and RSV2
  // set, so the client fails with 1002 (§7.1.7). It may send a Close now
  // that the connection is open.
  ClientCase c;
  c.open("garbage!");
  c.expect_failure(1002, error::bad_reserved_bits);
  CHECK(c.client.events.log().front() == "open OPEN");
}

// --- Responses a strict client still accepts ---------------------------------------------

TEST_CASE("client HSC-9 accepts a 101 in any letter case, with token lists, extra headers, or in 1-byte chops",
          "[conformance][handshake]") {
  // RFC 6455 §4.1: "an ASCII case-insensitive match for the value
  // websocket", Connection "contains a token ... Upgrade" (so a list),
  // header names are case-insensitive (RFC 7230 §3.2), and other headers
  // are allowed (§4.2.2: "Additional header fields may also be present").
  struct Variant {
    const char* name;
    std::function<std::string(const HostileServer&)> respond;
    std::size_t chop;
  };
  const Variant variants[] = {
      {"Upgrade: WebSocket, upgrade: keep-alive, Upgrade",
       [](const HostileServer& s) {
         return "HTTP/1.1 101 Whatever Reason\r\nupgrade: WebSocket\r\nCONNECTION: keep-alive, upgrade\r\n"
                "sec-websocket-accept: " +
                s.accept_value() + "\r\nServer: hostile/1.0\r\nX-Extra: 1\r\n\r\n";
       },
       0},
      {"the right response in 1-byte chops", [](const HostileServer& s) { return s.response_101(); }, 1},
  };
  for (const Variant& v : variants) {
    DYNAMIC_SECTION(v.name) {
      ClientCase c;
      c.client.ws.connect();
      REQUIRE(c.server.accept());
      REQUIRE(c.server.read_request());
      if (v.chop) {
        REQUIRE(c.server.send_chopped(v.respond(c.server), v.chop, 1ms));
      } else {
        REQUIRE(c.server.send(v.respond(c.server)));
      }
      REQUIRE(c.client.events.wait_open(3s));
      REQUIRE(c.server.send(text("ok")));
      c.expect_echo(kText, "ok");
      c.close_normally();
    }
  }
}

// --- The request (HSC-3 - HSC-7) ------------------------------------------------------------

TEST_CASE("client HSC-3 HSC-4 HSC-5 HSC-6 HSC-7 the opening handshake request is well-formed and its key fresh",
          "[conformance][handshake]") {
  // RFC 6455 §4.1, the requirements on the client's handshake: GET with the
  // resource name and HTTP/1.1 (req 2-3), Host (req 4), Upgrade: websocket
  // (req 5), Connection: Upgrade (req 6), Sec-WebSocket-Key, "a nonce
  // consisting of a randomly selected 16-byte value that has been
  // base64-encoded", "MUST be selected randomly for each connection"
  // (req 7), Sec-WebSocket-Version: 13 (req 9), the offered subprotocols
  // (req 10). The one extension offered is permessage-deflate (RFC 7692
  // §7.1, on by default), asking the server to say its window size.
  std::vector<std::string> keys;
  for (int i = 0; i < 2; ++i) {
    HostileServer server;
    EchoClient client(server.url("/chat/room?id=7&x=%20y"), fast_options(), {"chat", "superchat"});
    client.ws.connect();
    REQUIRE(server.accept());
    const auto request = server.read_request();
    REQUIRE(request);
    INFO("request:\n" << *request);
    CHECK(request->rfind("GET /chat/room?id=7&x=%20y HTTP/1.1\r\n", 0) == 0);
    CHECK(server.request_header("Host") == "127.0.0.1:" + std::to_string(server.port()));
    const std::string upgrade = server.request_header("Upgrade").value_or("");
    CHECK(Catch::toLower(upgrade) == "websocket");
    CHECK(Catch::toLower(server.request_header("Connection").value_or("")).find("upgrade") != std::string::npos);
    const std::string key = server.request_header("Sec-WebSocket-Key").value_or("");
    CHECK(key.size() == 24);
    CHECK(base64_decode(key).size() == 16);
    keys.push_back(key);
    CHECK(server.request_header("Sec-WebSocket-Version") == "13");
    CHECK(server.request_header("Sec-WebSocket-Protocol") == "chat, superchat");
    CHECK(server.request_header("Sec-WebSocket-Extensions") == "permessage-deflate; client_max_window_bits");
    CHECK(server.leftover() == 0);  // nothing after the head before the 101 (§4.1)
    // Finish properly: choose "superchat".
    REQUIRE(server.send(server.response_101("Sec-WebSocket-Protocol: superchat\r\n")));
    REQUIRE(client.events.wait_open(3s));
    CHECK(client.ws.protocol() == "superchat");
  }
  CHECK(keys[0] != keys[1]);  // fresh per connection
}
