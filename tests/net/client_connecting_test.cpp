// The client's way from connect() to OPEN (RFC 6455 §4.1), and the ways it
// can fail on that way.
#include "client_helpers.hpp"
#include "server_test_helpers.hpp"

#include <catch2/catch.hpp>

using namespace wslab;
using namespace wslab::testing;
using net::Client;

namespace {
std::string ws_url(std::uint16_t port, std::string_view path = "/ws") {
  return "ws://127.0.0.1:" + std::to_string(port) + std::string(path);
}
}  // namespace

TEST_CASE("client: connection refused: onerror names the address and the reason, then onclose 1006", "[net]") {
  const std::uint16_t port = closed_port();
  Recorder r;
  Client ws(ws_url(port));
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_close());
  CHECK_FALSE(r.opened());
  const std::string expected = "cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused";
  REQUIRE(r.error());
  CHECK(r.error()->message == expected);
  CHECK_FALSE(r.error()->violation);
  CHECK(r.closed()->code == 1006);
  CHECK_FALSE(r.closed()->wasClean);
  CHECK(r.closed()->reason == expected);
  CHECK(ws.readyState() == Client::CLOSED);
  CHECK(r.log() == std::vector<std::string>{"error " + expected + " CLOSED",
                                            "close 1006 unclean " + expected + " CLOSED"});
}

TEST_CASE("client: a host name that does not resolve fails with the resolver's reason", "[net]") {
  // .invalid never resolves (RFC 2606 §2).
  Recorder r;
  Client ws("ws://no-such-host.invalid/ws");
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_close(10s));
  REQUIRE(r.error());
  CHECK_THAT(r.error()->message, Catch::StartsWith("cannot resolve 'no-such-host.invalid': "));
  CHECK(r.closed()->code == 1006);
}

TEST_CASE("HSC-3 HSC-4 client: localhost is resolved and connected to, GET line and Host name the URL", "[net]") {
  ScriptedServer peer({});
  Recorder r;
  Client ws("ws://localhost:" + std::to_string(peer.port()) + "/chat?room=1");
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_open());
  REQUIRE(peer.requests().size() == 1);
  CHECK_THAT(peer.requests()[0], Catch::StartsWith("GET /chat?room=1 HTTP/1.1\r\n"));
  CHECK_THAT(peer.requests()[0], Catch::Contains("\r\nHost: localhost:" + std::to_string(peer.port()) + "\r\n"));
}

TEST_CASE("client: a server that never answers the upgrade: handshake_timeout, onerror then onclose 1006",
          "[net]") {
  ScriptedServer::Script script;
  script.answer = false;
  ScriptedServer peer(script);
  net::ClientOptions options;
  options.handshake_timeout = 300ms;
  Recorder r;
  Client ws(ws_url(peer.port()), {}, options);
  r.attach(ws);
  const auto start = std::chrono::steady_clock::now();
  ws.connect();
  REQUIRE(r.wait_close(3s));
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= 300ms);
  CHECK(took < 2s);
  REQUIRE(r.error());
  REQUIRE(r.error()->violation);
  CHECK(r.error()->violation->id() == error::handshake_timeout);
  CHECK(r.closed()->code == 1006);
  CHECK_FALSE(r.opened());
}

TEST_CASE("HSC-7 API-2 client: the subprotocols are offered in order and the server's choice is protocol", "[net]") {
  ScriptedServer::Script script;
  script.subprotocol = "chat.v2";
  ScriptedServer peer(script);
  Recorder r;
  Client ws(ws_url(peer.port()), {"chat.v1", "chat.v2"}, {});
  r.attach(ws);
  std::string protocol_in_onopen;
  auto recorded = ws.onopen;
  ws.onopen = [&, recorded] {
    protocol_in_onopen = ws.protocol();
    recorded();
  };
  ws.connect();
  REQUIRE(r.wait_open());
  CHECK(protocol_in_onopen == "chat.v2");
  CHECK(ws.protocol() == "chat.v2");
  CHECK_THAT(peer.requests()[0], Catch::Contains("\r\nSec-WebSocket-Protocol: chat.v1, chat.v2\r\n"));
}

TEST_CASE("HSC-10 client: a subprotocol the client did not offer fails the connection", "[net]") {
  ScriptedServer::Script script;
  script.subprotocol = "mqtt";
  ScriptedServer peer(script);
  Recorder r;
  Client ws(ws_url(peer.port()), {"chat"}, {});
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_close());
  CHECK_FALSE(r.opened());
  REQUIRE(r.error());
  REQUIRE(r.error()->violation);
  CHECK(r.error()->violation->id() == error::unrequested_subprotocol);
  CHECK(r.closed()->code == 1006);
}

TEST_CASE("HSC-6 client: the Origin option is sent as the Origin header (§4.1 req 8)", "[net]") {
  ScriptedServer peer({});
  net::ClientOptions options;
  options.origin = "https://example.com";
  Recorder r;
  Client ws(ws_url(peer.port()), {}, options);
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_open());
  CHECK_THAT(peer.requests()[0], Catch::Contains("\r\nOrigin: https://example.com\r\n"));
}

TEST_CASE("HSC-1 client: one CONNECTING connection per host and port, the next one waits for it (§4.1 step 2)",
          "[net]") {
  ScriptedServer::Script script;
  script.connections = 2;
  script.delay_101 = 500ms;  // holds the first connection in CONNECTING
  ScriptedServer peer(script);
  Recorder r1, r2;
  Client first(ws_url(peer.port(), "/first"));
  Client second(ws_url(peer.port(), "/second"));
  r1.attach(first);
  r2.attach(second);
  first.connect();
  // The first has reached the server before the second starts.
  REQUIRE(eventually([&] { return peer.accepted() == 1; }));
  second.connect();
  REQUIRE(r1.wait_open());
  REQUIRE(r2.wait_open(5s));
  REQUIRE(peer.wait_done());
  // While the first one's 101 was held back, nobody else was knocking.
  CHECK_FALSE(peer.connection_pending_during_delay());
  REQUIRE(peer.requests().size() == 2);
  CHECK_THAT(peer.requests()[0], Catch::StartsWith("GET /first "));
  CHECK_THAT(peer.requests()[1], Catch::StartsWith("GET /second "));
}

TEST_CASE("HSC-1 client: the control: to different ports nothing waits", "[net]") {
  ScriptedServer::Script script;
  script.delay_101 = 500ms;
  ScriptedServer slow(script);
  ScriptedServer fast({});
  Recorder ra, rb;
  Client a(ws_url(slow.port()));
  Client b(ws_url(fast.port()));
  ra.attach(a);
  rb.attach(b);
  a.connect();
  REQUIRE(eventually([&] { return slow.accepted() == 1; }));
  b.connect();
  REQUIRE(rb.wait_open(2s));
  CHECK_FALSE(ra.opened());  // still held back by its server
  REQUIRE(ra.wait_open());
}

TEST_CASE("HSC-1 client: a connection that fails lets the next one to the same address go", "[net]") {
  ScriptedServer::Script script;
  script.connections = 2;
  script.answer = false;  // neither gets a 101
  ScriptedServer peer(script);
  net::ClientOptions options;
  options.handshake_timeout = 400ms;
  Recorder r1, r2;
  Client first(ws_url(peer.port()), {}, options);
  options.handshake_timeout = 3s;
  Client second(ws_url(peer.port()), {}, options);
  r1.attach(first);
  r2.attach(second);
  first.connect();
  REQUIRE(eventually([&] { return peer.accepted() == 1; }));
  second.connect();
  std::this_thread::sleep_for(100ms);
  CHECK(peer.accepted() == 1);  // the second waits
  REQUIRE(r1.wait_close(2s));   // the first times out ...
  CHECK(eventually([&] { return peer.accepted() == 2; }, 2s));  // ... and the second goes
  second.close();
  REQUIRE(r2.wait_close());
}

TEST_CASE("client: close() while CONNECTING abandons the connection: onerror, then onclose 1006", "[net]") {
  SECTION("during the opening handshake") {
    ScriptedServer::Script script;
    script.answer = false;
    ScriptedServer peer(script);
    Recorder r;
    Client ws(ws_url(peer.port()));
    r.attach(ws);
    ws.connect();
    REQUIRE(eventually([&] { return peer.requests().size() == 1; }));
    ws.close();
    REQUIRE(r.wait_close());
    const auto log = r.log();
    REQUIRE(log.size() == 2);
    CHECK_THAT(log[0], Catch::StartsWith("error closed by the application"));
    CHECK_THAT(log[1], Catch::StartsWith("close 1006 unclean"));
  }
  SECTION("before TCP is even connected: waiting behind another connection") {
    ScriptedServer::Script script;
    script.answer = false;
    ScriptedServer peer(script);
    Recorder r1, r2;
    Client first(ws_url(peer.port()));
    Client second(ws_url(peer.port()));
    r1.attach(first);
    r2.attach(second);
    first.connect();
    REQUIRE(eventually([&] { return peer.accepted() == 1; }));
    second.connect();
    second.close();
    REQUIRE(r2.wait_close());
    CHECK(r2.error()->message == "closed by the application before the connection was established");
    CHECK(r2.closed()->code == 1006);
    CHECK(peer.accepted() == 1);
  }
}

TEST_CASE("client: destroying a client while it waits in the queue lets the next one go", "[net]") {
  ScriptedServer::Script script;
  script.connections = 2;
  script.delay_101 = 300ms;
  ScriptedServer peer(script);
  Recorder r1;
  Client first(ws_url(peer.port(), "/first"));
  r1.attach(first);
  first.connect();
  REQUIRE(eventually([&] { return peer.accepted() == 1; }));
  {
    Client doomed(ws_url(peer.port(), "/doomed"));
    doomed.connect();
    std::this_thread::sleep_for(50ms);
  }  // destroyed while waiting its turn
  Recorder r3;
  Client third(ws_url(peer.port(), "/third"));
  r3.attach(third);
  third.connect();
  REQUIRE(r1.wait_open());
  REQUIRE(r3.wait_open());
  REQUIRE(peer.requests().size() == 2);
  CHECK_THAT(peer.requests()[1], Catch::StartsWith("GET /third "));
}
