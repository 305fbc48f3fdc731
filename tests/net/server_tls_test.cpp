// wss:// (RFC 6455 §4.1 step 5, §10.6): the same server with a TlsEngine
// between the socket and each connection.
#include "server_test_helpers.hpp"

#include <wslab/net/transport.hpp>

#include <catch2/catch.hpp>

using namespace wslab;
using namespace wslab::testing;

namespace {

// One self-signed certificate for the whole file (making a key takes a while).
net::ServerOptions tls_options() {
  auto o = test_options();
  o.tls = net::TlsServerOptions{.cert_pem = certificate().cert_pem, .key_pem = certificate().key_pem};
  return o;
}

// A client that trusts exactly the server's certificate, and checks the name.
const net::TlsContext& trusting_client() {
  static const net::TlsContext ctx = net::TlsContext::client({.verify = true, .ca_pem = certificate().cert_pem});
  return ctx;
}

}  // namespace

TEST_CASE("TLS-1 tls: wss:// echo of text and binary, then a clean close, through a verified TLS session",
          "[net][server]") {
  RunningServer s(tls_options());
  WsClient c(s.port(), {.tls = &trusting_client()});
  REQUIRE(c.open());
  REQUIRE(c.raw().tls());
  CHECK(c.raw().tls()->handshake_done());
  CHECK(c.raw().tls()->version().rfind("TLSv1.", 0) == 0);

  REQUIRE(c.send_text("över TLS"));
  auto e = c.next_message();
  REQUIRE(e);
  CHECK(e->type == Event::Type::text);
  CHECK(e->data == "över TLS");

  // Larger than the transport's 64 KiB TLS chunk many times over.
  const std::string data = pattern(3u << 20, 42);
  REQUIRE(c.send_binary(data));
  e = c.next_message(10s);
  REQUIRE(e);
  CHECK(e->type == Event::Type::binary);
  CHECK(e->data == data);

  c.close(1000);
  auto closed = c.wait_close();
  REQUIRE(closed);
  CHECK(closed->code == 1000);
  CHECK(closed->was_clean);
  CHECK(eventually([&] { return s.stats().open_connections == 0; }));
}

TEST_CASE("tls: the front door over TLS: the demo page and /healthz", "[net][server]") {
  RunningServer s(tls_options());
  auto r = http_exchange(s.port(), http_get("/"), 5s, &trusting_client());
  CHECK(r.status == 200);
  CHECK(r.body == std::string(net::demo_page()));
  CHECK(r.eof);
  r = http_exchange(s.port(), http_get("/healthz"), 5s, &trusting_client());
  CHECK(r.status == 200);
  CHECK(r.body == "{\"status\":\"ok\",\"connections\":0}\n");
}

TEST_CASE("tls: the TLS handshake counts against the handshake timeout: a silent TCP client is dropped",
          "[net][server]") {
  auto options = tls_options();
  options.handshake_timeout = 500ms;
  RunningServer s(options);
  RawClient silent(s.port());  // connects, never says ClientHello
  const auto start = std::chrono::steady_clock::now();
  bool eof = false;
  const std::string got = silent.read_until_eof(5s, &eof);
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(eof);
  CHECK(got.empty());  // no plaintext 408 leaks out of a TLS port
  CHECK(took >= 400ms);
  CHECK(took < 3s);
  CHECK(s.stats().rejected_by_status.at(408) == 1);
}

TEST_CASE("tls: plain HTTP sent to the TLS port fails the TLS handshake and the server carries on", "[net][server]") {
  RunningServer s(tls_options());
  auto r = http_exchange(s.port(), http_get("/healthz"));  // no TLS
  CHECK(r.status == 0);
  CHECK(r.eof);
  CHECK(eventually([&] { return s.stats().open_connections == 0; }));
  WsClient c(s.port(), {.tls = &trusting_client()});
  REQUIRE(c.open());
  REQUIRE(c.send_text("fine"));
  auto e = c.next_message();
  REQUIRE(e);
  CHECK(e->data == "fine");
}

TEST_CASE("tls: stop() closes wss:// connections with 1001 like ws:// ones", "[net][server]") {
  RunningServer s(tls_options());
  WsClient c(s.port(), {.tls = &trusting_client()});
  REQUIRE(c.open());
  s.server().stop();
  auto e = c.wait_close();
  REQUIRE(e);
  CHECK(e->code == 1001);
  CHECK(e->was_clean);
  CHECK(eventually([&] { return s.finished(); }));
}

TEST_CASE("tls: back-pressure holds over TLS: a client that never reads does not grow the server's output",
          "[net][server]") {
  auto options = tls_options();
  options.output_high_water = 256 * 1024;
  RunningServer s(options);
  WsClient c(s.port(), {.tls = &trusting_client()});
  REQUIRE(c.open());
  // 48 MiB of echoes queued at the server if it kept reading.
  const std::string message = pattern(64 * 1024, 1);
  for (int i = 0; i < 768; ++i) {
    REQUIRE(c.conn().send_binary(message));
    if (!c.flush(1s)) break;  // the server stopped reading: our send blocks
  }
  const auto stats = s.stats();
  CHECK(stats.reads_paused >= 1);
  // The mark, one 64 KiB read's worth of echoes, and one TLS chunk.
  CHECK(stats.max_buffered_output <= options.output_high_water + 64 * 1024 + net::Transport::kTlsChunk + 64 * 1024);
}
