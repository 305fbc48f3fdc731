// The client's interface: the WHATWG exceptions, URL and subprotocol
// checks, proxy selection from options and environment, and the blocking
// form.
#include "client_helpers.hpp"
#include "server_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace wslab;
using namespace wslab::testing;
using net::Client;

TEST_CASE("URI-4 client: a bad URL throws SyntaxError naming the rule, before any connection", "[net]") {
  auto [url, rule] = GENERATE(table<std::string, error>({
      {"http://example.com/", error::uri_bad_scheme},
      {"ws://example.com/#frag", error::uri_fragment},
      {"ws://user@example.com/", error::uri_userinfo},
      {"ws://example.com:99999/", error::uri_bad_port},
      {"ws:///path", error::uri_empty_host},
      {"ws:example.com", error::uri_not_absolute},
  }));
  INFO(url);
  try {
    Client ws(url);
    FAIL("no exception for " << url);
  } catch (const net::SyntaxError& e) {
    REQUIRE(e.violation());
    CHECK(e.violation()->id() == rule);
    const std::string name(wslab::rule(rule).name);
    CHECK_THAT(e.what(), Catch::StartsWith("invalid WebSocket URL \"" + url + "\" (" + name + "): "));
    CHECK_THAT(e.what(), Catch::EndsWith("(RFC 6455 §3)"));
  }
}

TEST_CASE("HSC-7 client: duplicate or malformed subprotocols throw SyntaxError (bad_subprotocol_header)", "[net]") {
  const std::vector<std::string> protocols =
      GENERATE(std::vector<std::string>{"chat", "chat"}, std::vector<std::string>{"two words"},
               std::vector<std::string>{""});
  try {
    Client ws("ws://127.0.0.1:1/", protocols);
    FAIL("no exception");
  } catch (const net::SyntaxError& e) {
    REQUIRE(e.violation());
    CHECK(e.violation()->id() == error::bad_subprotocol_header);
    CHECK_THAT(e.what(), Catch::StartsWith("invalid subprotocols (bad_subprotocol_header): "));
  }
}

TEST_CASE("API-1 API-3 client: the WHATWG rules for send, close and connect", "[net]") {
  Recorder r;
  Client ws("ws://127.0.0.1:1/");
  CHECK(static_cast<int>(Client::CONNECTING) == 0);
  CHECK(static_cast<int>(Client::OPEN) == 1);
  CHECK(static_cast<int>(Client::CLOSING) == 2);
  CHECK(static_cast<int>(Client::CLOSED) == 3);
  // send() while CONNECTING: InvalidStateError.
  CHECK_THROWS_AS(ws.send("early"), net::InvalidStateError);
  CHECK_THROWS_AS(ws.ping(), net::InvalidStateError);
  // close(): 1000 or 3000-4999 (InvalidAccessError), reason <= 123 bytes (SyntaxError).
  CHECK_THROWS_AS(ws.close(1001), net::InvalidAccessError);
  CHECK_THROWS_AS(ws.close(2999), net::InvalidAccessError);
  CHECK_THROWS_AS(ws.close(5000), net::InvalidAccessError);
  CHECK_THROWS_AS(ws.close(1000, std::string(124, 'r')), net::SyntaxError);
  CHECK_THROWS_AS(ws.close(1000, "\xff"), net::SyntaxError);
  // Text must be UTF-8.
  CHECK_THROWS_AS(ws.send(std::string_view("\xc3")), std::invalid_argument);
  CHECK_THROWS_AS(ws.ping(std::string(126, 'p')), std::invalid_argument);
  // connect() once.
  r.attach(ws);
  ws.connect();
  CHECK_THROWS_AS(ws.connect(), net::InvalidStateError);
  REQUIRE(r.wait_close());
}

TEST_CASE("client: parse_proxy_url accepts http://host:port and host:port, and names what is wrong", "[net]") {
  CHECK(net::parse_proxy_url("http://proxy.example:3128") == net::ProxyAddress{"proxy.example", 3128});
  CHECK(net::parse_proxy_url("http://proxy.example:3128/") == net::ProxyAddress{"proxy.example", 3128});
  CHECK(net::parse_proxy_url("HTTP://Proxy.Example") == net::ProxyAddress{"proxy.example", 1080});
  CHECK(net::parse_proxy_url("10.0.0.1:8080") == net::ProxyAddress{"10.0.0.1", 8080});
  CHECK(net::parse_proxy_url("http://[::1]:8080") == net::ProxyAddress{"::1", 8080});
  CHECK(net::parse_proxy_url("http://[::1]:8080").authority() == "[::1]:8080");
  CHECK_THROWS_WITH(net::parse_proxy_url("https://proxy:443"),
                    Catch::StartsWith("proxy URL 'https://proxy:443': only http:// proxies are supported"));
  CHECK_THROWS_WITH(net::parse_proxy_url("http://user:pw@proxy:3128"),
                    "proxy URL 'http://user:pw@proxy:3128': proxy credentials are not supported");
  CHECK_THROWS_WITH(net::parse_proxy_url("http://proxy:0"),
                    "proxy URL 'http://proxy:0': the port is not a number from 1 to 65535");
  CHECK_THROWS_WITH(net::parse_proxy_url("http://:8080"), "proxy URL 'http://:8080': no host");
}

TEST_CASE("client: the proxy comes from options, or https_proxy / http_proxy unless no_proxy names the host", "[net]") {
  std::map<std::string, std::string> env;
  auto getenv = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  auto target = [](const char* url) { return uri::parse(url).value(); };
  const auto none = std::optional<net::ProxyAddress>();
  const net::ProxyAddress plain{"plain.proxy", 3128}, secure{"secure.proxy", 3129};

  SECTION("nothing set: direct") {
    CHECK(net::select_proxy(target("ws://example.com/"), std::nullopt, getenv) == none);
  }
  SECTION("http_proxy for ws://, https_proxy for wss://") {
    env["http_proxy"] = "http://plain.proxy:3128";
    env["https_proxy"] = "http://secure.proxy:3129";
    CHECK(net::select_proxy(target("ws://example.com/"), std::nullopt, getenv) == plain);
    CHECK(net::select_proxy(target("wss://example.com/"), std::nullopt, getenv) == secure);
  }
  SECTION("HTTPS_PROXY is read, HTTP_PROXY is not (httpoxy)") {
    env["HTTPS_PROXY"] = "http://secure.proxy:3129";
    env["HTTP_PROXY"] = "http://plain.proxy:3128";
    CHECK(net::select_proxy(target("wss://example.com/"), std::nullopt, getenv) == secure);
    CHECK(net::select_proxy(target("ws://example.com/"), std::nullopt, getenv) == none);
  }
  SECTION("no_proxy: exact hosts, localhost, addresses, domains, ports, *") {
    env["http_proxy"] = "http://plain.proxy:3128";
    env["no_proxy"] = "localhost, 127.0.0.1,::1, .internal.example, corp.example, special.example:9000";
    CHECK(net::select_proxy(target("ws://localhost:8080/"), std::nullopt, getenv) == none);
    CHECK(net::select_proxy(target("ws://127.0.0.1:8080/"), std::nullopt, getenv) == none);
    CHECK(net::select_proxy(target("ws://[::1]:8080/"), std::nullopt, getenv) == none);
    CHECK(net::select_proxy(target("ws://a.internal.example/"), std::nullopt, getenv) == none);
    CHECK(net::select_proxy(target("ws://internal.example/"), std::nullopt, getenv) == none);
    CHECK(net::select_proxy(target("ws://corp.example/"), std::nullopt, getenv) == none);
    CHECK(net::select_proxy(target("ws://x.corp.example/"), std::nullopt, getenv) == none);
    CHECK(net::select_proxy(target("ws://special.example:9000/"), std::nullopt, getenv) == none);
    CHECK(net::select_proxy(target("ws://special.example:9001/"), std::nullopt, getenv) == plain);
    CHECK(net::select_proxy(target("ws://notcorp.example/"), std::nullopt, getenv) == plain);
    CHECK(net::select_proxy(target("ws://127.0.0.2/"), std::nullopt, getenv) == plain);
    CHECK(net::select_proxy(target("ws://example.com/"), std::nullopt, getenv) == plain);
    env["no_proxy"] = "*";
    CHECK(net::select_proxy(target("ws://example.com/"), std::nullopt, getenv) == none);
    env.erase("no_proxy");
    env["NO_PROXY"] = "example.com";
    CHECK(net::select_proxy(target("ws://example.com/"), std::nullopt, getenv) == none);
  }
  SECTION("options.proxy wins: a URL forces that proxy (no_proxy aside), \"\" forces none") {
    env["http_proxy"] = "http://plain.proxy:3128";
    env["no_proxy"] = "127.0.0.1";
    CHECK(net::select_proxy(target("ws://127.0.0.1/"), std::string("http://secure.proxy:3129"), getenv) == secure);
    CHECK(net::select_proxy(target("ws://example.com/"), std::string(""), getenv) == none);
  }
}

TEST_CASE("client: BlockingClient connects, sends, receives, pings and closes in plain calls", "[net]") {
  RunningServer server;
  net::BlockingClient ws;
  CHECK(ws.ready_state() == net::ReadyState::CLOSED);  // nothing yet
  ws.connect("ws://127.0.0.1:" + std::to_string(server.port()) + "/ws", 5s);
  CHECK(ws.ready_state() == net::ReadyState::OPEN);
  ws.send_text("hello");
  auto reply = ws.receive(5s);
  REQUIRE(reply);
  CHECK(reply->data == "hello");
  CHECK_FALSE(reply->binary);
  ws.send_binary(std::string_view("\x01\x02", 2));
  reply = ws.receive(5s);
  REQUIRE(reply);
  CHECK(reply->binary);
  CHECK(reply->data == std::string("\x01\x02", 2));
  CHECK_FALSE(ws.receive(50ms));  // nothing more
  const auto rtt = ws.ping("are you there");
  REQUIRE(rtt);
  CHECK(*rtt < 5s);
  const net::CloseEvent closed = ws.close(4000, "bye");
  CHECK(closed.code == 4000);  // echoed by the server (§5.5.1)
  CHECK(closed.wasClean);
  CHECK(ws.ready_state() == net::ReadyState::CLOSED);
  CHECK_FALSE(ws.receive(10ms));  // closed: returns at once
}

TEST_CASE("client: BlockingClient::connect throws runtime_error with the reason", "[net]") {
  SECTION("refused") {
    const std::uint16_t port = closed_port();
    net::BlockingClient ws;
    CHECK_THROWS_WITH(ws.connect("ws://127.0.0.1:" + std::to_string(port) + "/", 2s),
                      "cannot connect to ws://127.0.0.1:" + std::to_string(port) +
                          "/: cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
    CHECK_THROWS_AS(ws.send_text("x"), net::InvalidStateError);
  }
  SECTION("no 101 in time") {
    ScriptedServer::Script script;
    script.answer = false;
    ScriptedServer peer(script);
    net::BlockingClient ws;
    const auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH(ws.connect("ws://127.0.0.1:" + std::to_string(peer.port()) + "/", 300ms),
                      Catch::Contains("opening handshake not complete after 300 ms"));
    CHECK(std::chrono::steady_clock::now() - start < 2s);
  }
  SECTION("a bad URL") {
    net::BlockingClient ws;
    CHECK_THROWS_AS(ws.connect("http://example.com/"), net::SyntaxError);
  }
}

TEST_CASE("client: the ready state and close of a BlockingClient whose server goes away", "[net]") {
  auto server = std::make_unique<RunningServer>();
  net::BlockingClient ws;
  ws.connect("ws://127.0.0.1:" + std::to_string(server->port()) + "/ws", 5s);
  server.reset();  // stop(): Close 1001
  CHECK_FALSE(ws.receive(5s));  // returns once closed
  REQUIRE(ws.closed());
  CHECK(ws.closed()->code == 1001);
  CHECK(ws.ready_state() == net::ReadyState::CLOSED);
  CHECK(ws.close().code == 1001);  // already closed: how it ended
}
