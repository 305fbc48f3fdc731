// Through an HTTP proxy with CONNECT (RFC 7231 §4.3.6): a real tinyproxy,
// started by the test as a child process.
#include "client_helpers.hpp"
#include "server_test_helpers.hpp"

#include <catch2/catch.hpp>

using namespace wslab;
using namespace wslab::testing;
using net::Client;

TEST_CASE("client: ws:// through a real tinyproxy with CONNECT, the server sees the proxy, not us", "[net]") {
  RunningServer server;
  TinyProxy proxy({server.port()});
  net::ClientOptions options;
  options.proxy = proxy.url();  // this proxy, whatever the environment says
  Recorder r;
  Client ws("ws://127.0.0.1:" + std::to_string(server.port()) + "/ws", {}, options);
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_open());
  ws.send("through the tunnel");
  REQUIRE(r.wait_messages(1));
  CHECK(r.messages()[0].data == "through the tunnel");
  ws.close(1000, "done");
  REQUIRE(r.wait_close());
  CHECK(r.closed()->wasClean);
  // tinyproxy logged the CONNECT it carried.
  CHECK_THAT(proxy.log(), Catch::Contains("CONNECT") && Catch::Contains(std::to_string(server.port())));
}

TEST_CASE("HSC-2 client: wss:// through tinyproxy: TLS end to end inside the tunnel, SNI and checks for the host",
          "[net]") {
  net::ServerOptions server_options = test_options();
  net::TlsServerOptions tls;
  tls.cert_pem = certificate().cert_pem;
  tls.key_pem = certificate().key_pem;
  server_options.tls = tls;
  RunningServer server(server_options);
  TinyProxy proxy({server.port()});
  net::ClientOptions options;
  options.proxy = proxy.url();
  options.tls.ca_pem = certificate().cert_pem;
  Recorder r;
  Client ws("wss://localhost:" + std::to_string(server.port()) + "/ws", {}, options);
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_open());
  ws.send("secret");
  REQUIRE(r.wait_messages(1));
  CHECK(r.messages()[0].data == "secret");
  // The proxy saw the name, not an address: it resolves it (§4.1 step 2).
  CHECK_THAT(proxy.log(), Catch::Contains("localhost"));
}

TEST_CASE("client: a proxy that refuses CONNECT: onerror carries its status line, then onclose 1006", "[net]") {
  RunningServer server;
  // tinyproxy allows CONNECT to the listed ports only.
  TinyProxy proxy({static_cast<std::uint16_t>(server.port() == 1 ? 2 : 1)});
  net::ClientOptions options;
  options.proxy = proxy.url();
  Recorder r;
  Client ws("ws://127.0.0.1:" + std::to_string(server.port()) + "/ws", {}, options);
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_close());
  CHECK_FALSE(r.opened());
  REQUIRE(r.error());
  CHECK_THAT(r.error()->message,
             Catch::StartsWith("proxy 127.0.0.1:" + std::to_string(proxy.port()) + " refused CONNECT 127.0.0.1:" +
                               std::to_string(server.port()) + ": HTTP/1.") &&
                 Catch::Contains(" 403 "));
  CHECK(r.closed()->code == 1006);
  CHECK(r.closed()->reason == r.error()->message);
  CHECK(server.stats().total_accepted == 0);  // nothing reached the server
}

TEST_CASE("client: a proxy that is not there: the error names the proxy's address", "[net]") {
  const std::uint16_t port = closed_port();
  net::ClientOptions options;
  options.proxy = "http://127.0.0.1:" + std::to_string(port);
  Recorder r;
  Client ws("ws://example.com/ws", {}, options);
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_close());
  REQUIRE(r.error());
  CHECK(r.error()->message == "cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

TEST_CASE("HSC-11 client: through a proxy each host name is a host of its own: the same name waits, another goes",
          "[net]") {
  // RFC 6455 §4.1 step 2: a client that cannot know the IP address (the
  // proxy resolves the name) MUST treat each host name as a distinct remote
  // host for the one-CONNECTING-at-a-time rule. 127.0.0.1 and localhost are
  // the same address, which only the proxy learns.
  ScriptedServer::Script script;
  script.connections = 2;
  script.delay_101 = 800ms;  // holds the first connection in CONNECTING
  ScriptedServer peer(script);
  TinyProxy proxy({peer.port()});
  net::ClientOptions options;
  options.proxy = proxy.url();
  const std::string port = std::to_string(peer.port());
  std::string second_host;
  bool second_should_wait = false;
  SECTION("the same name: the second connection waits for the first") {
    second_host = "127.0.0.1";
    second_should_wait = true;
  }
  SECTION("another name for the same address: the second connection goes at once") {
    second_host = "localhost";
    second_should_wait = false;
  }
  Recorder r1, r2;
  Client first("ws://127.0.0.1:" + port + "/first", {}, options);
  Client second("ws://" + second_host + ":" + port + "/second", {}, options);
  r1.attach(first);
  r2.attach(second);
  first.connect();
  REQUIRE(eventually([&] { return peer.accepted() == 1; }));  // through the proxy, held before its 101
  second.connect();
  REQUIRE(r1.wait_open());
  REQUIRE(r2.wait_open(5s));
  REQUIRE(peer.wait_done());
  // While the first one's 101 was held back, did the proxy already knock
  // for the second?
  CHECK(peer.connection_pending_during_delay() == !second_should_wait);
  REQUIRE(peer.requests().size() == 2);
  CHECK_THAT(peer.requests()[1], Catch::StartsWith("GET /second "));
  CHECK_THAT(peer.requests()[1], Catch::Contains("\r\nHost: " + second_host + ":" + port + "\r\n"));
}
