// The server's front door: plain HTTP pages and the refusals of §4.2.1/§4.2.2.
#include "server_test_helpers.hpp"

#include <catch2/catch.hpp>

using namespace wslab;
using namespace wslab::testing;

TEST_CASE("http: GET / is the demo page, a WebSocket client for /ws over ws:// or wss://", "[net][server]") {
  RunningServer s;
  const auto r = http_exchange(s.port(), http_get("/"));
  REQUIRE(r.status == 200);
  REQUIRE(r.header("Content-Type"));
  CHECK(r.header("Content-Type")->find("text/html") == 0);
  CHECK(r.body.size() == std::stoul(*r.header("Content-Length")));
  CHECK(r.body.find("new WebSocket(") != std::string::npos);
  CHECK(r.body.find("(location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws'") !=
        std::string::npos);
  CHECK(r.body.find("readyState") != std::string::npos);
  CHECK(r.body.find("e.code") != std::string::npos);
  CHECK(r.body == std::string(net::demo_page()));
  // Plain responses close the connection.
  CHECK(*r.header("Connection") == "close");
  CHECK(r.eof);
}

TEST_CASE("http: GET /healthz reports ok and the number of open WebSocket connections", "[net][server]") {
  RunningServer s;
  auto r = http_exchange(s.port(), http_get("/healthz"));
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type")->find("application/json") == 0);
  CHECK(r.body == "{\"status\":\"ok\",\"connections\":0}\n");

  WsClient a(s.port()), b(s.port());
  REQUIRE(a.open());
  REQUIRE(b.open());
  r = http_exchange(s.port(), http_get("/healthz"));
  CHECK(r.body == "{\"status\":\"ok\",\"connections\":2}\n");
  CHECK(s.stats().websocket_connections == 2);
}

TEST_CASE("http: an unknown page is 404, a method other than GET is 405 with Allow: GET", "[net][server]") {
  RunningServer s;
  auto r = http_exchange(s.port(), http_get("/nope"));
  CHECK(r.status == 404);
  CHECK(r.eof);

  r = http_exchange(s.port(), "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n");
  CHECK(r.status == 405);
  REQUIRE(r.header("Allow"));
  CHECK(*r.header("Allow") == "GET");

  const auto stats = s.stats();
  CHECK(stats.rejected_by_status.at(404) == 1);
  CHECK(stats.rejected_by_status.at(405) == 1);
}

TEST_CASE("HSS-2 http: GET /ws without upgrade headers is 426 naming websocket and version 13", "[net][server]") {
  RunningServer s;
  const auto r = http_exchange(s.port(), http_get("/ws"));
  REQUIRE(r.status == 426);
  REQUIRE(r.header("Upgrade"));
  CHECK(*r.header("Upgrade") == "websocket");
  REQUIRE(r.header("Sec-WebSocket-Version"));
  CHECK(*r.header("Sec-WebSocket-Version") == "13");
  CHECK(r.eof);
  CHECK(s.stats().rejected_by_status.at(426) == 1);
}

TEST_CASE("HSS-3 http: an upgrade for a resource ending in /ws that the server does not have is 404", "[net][server]") {
  RunningServer s;
  auto r = http_exchange(s.port(), upgrade_request("/nope/ws"));
  CHECK(r.status == 404);
  CHECK(r.body.find("/nope/ws") != std::string::npos);
  // The query is not part of the path: /ws?room=1 is the echo service.
  WsClientOptions o;
  o.path = "/ws?room=1";
  WsClient c(s.port(), o);
  REQUIRE(c.open());
  REQUIRE(c.send_text("q"));
  auto e = c.next_message();
  REQUIRE(e);
  CHECK(e->data == "q");
}

TEST_CASE("HSS-3 http: with an allow-list a foreign Origin, or none, is 403, a listed one is upgraded", "[net][server]") {
  auto options = test_options();
  options.allowed_origins = {"https://good.example"};
  RunningServer s(options);

  WsClientOptions good;
  good.origin = "https://GOOD.example";  // compared case-insensitively
  WsClient ok(s.port(), good);
  CHECK(ok.open());

  WsClientOptions bad;
  bad.origin = "https://evil.example";
  WsClient refused(s.port(), bad);
  CHECK_FALSE(refused.open());
  CHECK(refused.rejection() == 403);

  const auto r = http_exchange(s.port(), upgrade_request("/ws"));  // no Origin at all
  CHECK(r.status == 403);
  CHECK(s.stats().rejected_by_status.at(403) == 2);
}

TEST_CASE("http: one WebSocket connection over max_connections is 503, a freed slot is taken again", "[net][server]") {
  auto options = test_options();
  options.max_connections = 2;
  RunningServer s(options);
  auto a = std::make_unique<WsClient>(s.port());
  WsClient b(s.port());
  REQUIRE(a->open());
  REQUIRE(b.open());

  WsClient c(s.port());
  CHECK_FALSE(c.open());
  CHECK(c.rejection() == 503);
  // Plain pages are still served when the WebSocket slots are full.
  CHECK(http_exchange(s.port(), http_get("/healthz")).status == 200);

  a->close();
  REQUIRE(a->wait_close());
  a.reset();
  REQUIRE(eventually([&] { return s.stats().websocket_connections == 1; }));
  WsClient d(s.port());
  CHECK(d.open());
  CHECK(s.stats().rejected_by_status.at(503) == 1);
}

TEST_CASE("INV-1 http: a request head over max_header_bytes or max_header_lines is 431", "[net][server]") {
  auto options = test_options();
  options.max_header_bytes = 1024;
  options.max_header_lines = 10;
  RunningServer s(options);

  auto r = http_exchange(s.port(), upgrade_request("/ws", "X-Big: " + std::string(2000, 'a') + "\r\n"));
  CHECK(r.status == 431);
  CHECK(r.eof);

  std::string many;
  for (int i = 0; i < 20; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  r = http_exchange(s.port(), upgrade_request("/ws", many));
  CHECK(r.status == 431);
  CHECK(s.stats().rejected_by_status.at(431) == 2);

  // The default limit (8 KiB) is checked the same way.
  RunningServer d;
  r = http_exchange(d.port(), upgrade_request("/ws", "X-Big: " + std::string(9000, 'a') + "\r\n"));
  CHECK(r.status == 431);
}

TEST_CASE("HSS-1 http: a malformed request is 400, a bad upgrade is refused with its rule's status", "[net][server]") {
  RunningServer s;
  CHECK(http_exchange(s.port(), "HELLO\r\n\r\n").status == 400);
  // The Connection checks the handshake (§4.2.1): a missing key is 400 ...
  auto r = http_exchange(s.port(),
                         "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Version: 13\r\n\r\n");
  CHECK(r.status == 400);
  // ... and version 8 is 426 with the version we speak (§4.4).
  r = http_exchange(s.port(),
                    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
  CHECK(r.status == 426);
  REQUIRE(r.header("Sec-WebSocket-Version"));
  CHECK(*r.header("Sec-WebSocket-Version") == "13");
  const auto stats = s.stats();
  CHECK(stats.rejected_by_status.at(400) == 2);
  CHECK(stats.rejected_by_status.at(426) == 1);
  CHECK(stats.total_upgraded == 0);
  CHECK(eventually([&] { return s.stats().open_connections == 0; }));
}

TEST_CASE("HSS-5 http: the 101 response carries the accept value of §4.2.2 for the client's key", "[net][server]") {
  RunningServer s;
  RawClient c(s.port());
  REQUIRE(c.send(upgrade_request("/ws")));
  std::string in;
  while (in.find("\r\n\r\n") == std::string::npos) REQUIRE(c.receive(in, 5s) == RawClient::Status::data);
  auto response = handshake::parse_response(in.substr(0, in.find("\r\n\r\n") + 4));
  REQUIRE(response.ok());
  CHECK(response->status == 101);
  REQUIRE(response->headers.find("Sec-WebSocket-Accept"));
  CHECK(*response->headers.find("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

namespace {

// The status of the answer to an upgrade request for /ws with this Host
// header (none if `host` is empty), read over a real socket.
int upgrade_status(std::uint16_t port, const std::string& host) {
  RawClient c(port);
  const std::string request = "GET /ws HTTP/1.1\r\n" + (host.empty() ? std::string() : "Host: " + host + "\r\n") +
                              "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  if (!c.send(request)) return -1;
  std::string in;
  while (in.find("\r\n\r\n") == std::string::npos)
    if (c.receive(in, 5s) != RawClient::Status::data) return -2;
  auto response = handshake::parse_response(in.substr(0, in.find("\r\n\r\n") + 4));
  return response.ok() ? response->status : -3;
}

}  // namespace

TEST_CASE("HSS-11 http: with allowed_hosts a Host naming another server is 421, a listed name is upgraded",
          "[net][server]") {
  // RFC 6455 §4.2.1 item 2: the Host header names the server's authority.
  // A page on evil.example whose name was rebound to 127.0.0.1 still sends
  // "Host: evil.example"; RFC 9110 §15.5.20 answers it 421.
  auto options = test_options();
  options.allowed_hosts = {"LocalHost", "127.0.0.1", "[::1]"};
  RunningServer s(options);
  const std::string port = std::to_string(s.port());
  CHECK(upgrade_status(s.port(), "localhost:" + port) == 101);  // case-insensitive, with the port
  CHECK(upgrade_status(s.port(), "127.0.0.1") == 101);           // and without it
  CHECK(upgrade_status(s.port(), "[::1]:" + port) == 101);
  CHECK(upgrade_status(s.port(), "evil.example:" + port) == 421);
  CHECK(upgrade_status(s.port(), "localhost.evil.example") == 421);
  CHECK(upgrade_status(s.port(), "") == 400);  // no Host at all (RFC 9112 §3.2)

  // The refusal names the rule; pages are refused as well.
  const auto r = http_exchange(s.port(), "GET /healthz HTTP/1.1\r\nHost: evil.example\r\n\r\n");
  CHECK(r.status == 421);
  CHECK(r.head.starts_with("HTTP/1.1 421 Misdirected Request\r\n"));
  CHECK(r.body.find("Host \"evil.example\"") != std::string::npos);
  CHECK(r.body.find("RFC 6455 §4.2.1") != std::string::npos);
  CHECK(http_exchange(s.port(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n").status == 200);

  const auto stats = s.stats();
  CHECK(stats.rejected_by_status.at(421) == 3);
  CHECK(stats.rejected_by_status.at(400) == 1);
  CHECK(stats.total_upgraded == 3);
}

TEST_CASE("HSS-11 http: without allowed_hosts any Host is accepted, as before", "[net][server]") {
  RunningServer s;
  CHECK(upgrade_status(s.port(), "evil.example:1234") == 101);
  CHECK(http_exchange(s.port(), "GET /healthz HTTP/1.1\r\nHost: evil.example\r\n\r\n").status == 200);
}

TEST_CASE("HSS-11 host_allowed: names case-insensitive, ports optional or exact, IPv6 literals", "[net]") {
  const std::vector<std::string> allowed = {"example.com", "chat.example.com:8443", "[::1]", "api.example.com:80"};
  CHECK(net::host_allowed("example.com", allowed, false));
  CHECK(net::host_allowed("EXAMPLE.COM:8080", allowed, false));  // no port listed: any port
  CHECK(net::host_allowed("chat.example.com:8443", allowed, true));
  CHECK_FALSE(net::host_allowed("chat.example.com:8444", allowed, true));
  CHECK_FALSE(net::host_allowed("chat.example.com", allowed, true));  // 443 is not 8443
  CHECK(net::host_allowed("api.example.com", allowed, false));         // 80 is ws://'s default (§4.1)
  CHECK_FALSE(net::host_allowed("api.example.com", allowed, true));    // but not wss://'s
  CHECK(net::host_allowed("[::1]:9000", allowed, false));
  CHECK_FALSE(net::host_allowed("[::2]", allowed, false));
  CHECK_FALSE(net::host_allowed("example.com.evil.example", allowed, false));
  CHECK_FALSE(net::host_allowed("evil.example", allowed, false));
  CHECK_FALSE(net::host_allowed("", allowed, false));
  CHECK(net::host_allowed("anything.at.all", {}, false));  // empty list: any Host
  // An IPv6 address may be allowed without its brackets; the Host has them (§3).
  CHECK(net::host_allowed("[::1]:8080", {"::1"}, false));
  CHECK(net::host_allowed("[fe80::1]", {"FE80::1"}, false));
  CHECK_FALSE(net::host_allowed("[::2]:8080", {"::1"}, false));
  CHECK_FALSE(net::host_allowed("::1", {"example.com"}, false));
}
