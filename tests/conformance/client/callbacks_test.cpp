// What the conformance cases rely on in the client's API: send(), ping() and
// close() called from inside a callback act at once (as a browser's send()
// queues data before it returns), so an echo goes out before a Close or a
// failure that arrived in the same segment behind the message (RFC 6455
// §5.5.1, §7.1.7), and readyState / bufferedAmount read right after such a
// call already show it (WHATWG: close() sets readyState to CLOSING).
// A regression test for the client's strictness fix in src/net/client.cpp.
#include "conformance/client/hostile_server.hpp"

#include <catch2/catch.hpp>

#include <mutex>

using namespace wslab;
using namespace wslab::conformance;

TEST_CASE("client API-2 CL-2 send() and close() inside onmessage take effect at once, before later frames",
          "[conformance][callbacks]") {
  ClientCase c;
  c.client.set_echo(false);
  std::mutex mutex;
  std::vector<std::string> seen;  // what the callback observed
  std::uint64_t buffered = 0;
  c.client.ws.onmessage = [&](const net::MessageEvent& e) {
    std::lock_guard lock(mutex);
    if (e.data == "a") {
      c.client.ws.send("echo a");
      buffered = c.client.ws.bufferedAmount();
      c.client.ws.close(4001, "enough");
      seen.push_back(std::string("state ") + std::string(connection::to_string(c.client.ws.readyState())));
      c.client.ws.send("after close");  // discarded (§5.5.1: no data frame after a Close)
    } else {
      seen.push_back("message " + e.data);
      c.client.ws.send("echo " + e.data);  // discarded too: CLOSING
    }
  };
  // Two messages and the server's own Close, all in one segment.
  c.open(text("a") + text("b") + close_frame(1000, "server done"));
  const ReceivedFrame first = c.expect_frame();
  CHECK(first.opcode == kText);
  CHECK(first.payload == "echo a");
  const ReceivedFrame second = c.expect_frame();
  REQUIRE(second.opcode == kClose);
  CHECK(second.close_code() == std::optional<std::uint16_t>(4001));  // ours: the server's Close needs no answer now
  CHECK(second.close_reason() == "enough");
  c.expect_silence(60ms);  // nothing after the Close, and the client waits for TCP to close (§7.1.1)
  c.server.shutdown_write();
  CHECK(c.server.next(3s).what == HostileServer::Got::closed);
  REQUIRE(c.client.events.wait_close(3s));
  CHECK(c.client.events.closed()->wasClean);  // both Closes were exchanged (§7.1.4)
  std::lock_guard lock(mutex);
  CHECK(buffered >= 6);  // "echo a" is counted until it reaches the operating system
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == "state CLOSING");
  CHECK(seen[1] == "message b");  // decoded before the Close: still delivered, not echoed
}

TEST_CASE("client API-2 HB-1 ping() inside onopen goes out before the frames that came with the 101 are answered",
          "[conformance][callbacks]") {
  // onopen runs first (RFC 6455 §4.1: the connection is OPEN), and what it
  // sends is queued at once, ahead of the echoes of the frames behind the 101.
  ClientCase c;
  auto recorded_open = c.client.ws.onopen;
  c.client.ws.onopen = [&, recorded_open] {
    recorded_open();
    c.client.ws.ping("from onopen");
    c.client.ws.send("hello from onopen");
  };
  c.open(text("early"));
  const ReceivedFrame p = c.expect_frame();
  CHECK(p.opcode == kPing);
  CHECK(p.payload == "from onopen");
  c.expect_echo(kText, "hello from onopen");
  c.expect_echo(kText, "early");
  REQUIRE(c.server.send(pong("from onopen")));
  c.close_normally();
}
