// wss:// against the wslab server with a make_self_signed() certificate.
#include "client_helpers.hpp"
#include "server_test_helpers.hpp"

#include <Poco/Logger.h>
#include <Poco/Message.h>

#include <catch2/catch.hpp>

using namespace wslab;
using namespace wslab::testing;
using net::Client;

namespace {

net::ServerOptions tls_server_options() {
  net::ServerOptions o = test_options();
  net::TlsServerOptions tls;
  tls.cert_pem = certificate().cert_pem;
  tls.key_pem = certificate().key_pem;
  o.tls = tls;
  return o;
}

std::string wss_url(const std::string& host, std::uint16_t port) {
  return "wss://" + host + ":" + std::to_string(port) + "/ws";
}

// Installs a LogCapture on "wslab.client" for the test's duration.
struct CaptureClientLog {
  Poco::AutoPtr<LogCapture> capture{new LogCapture};
  Poco::Channel::Ptr previous;
  int previous_level;
  CaptureClientLog() {
    Poco::Logger& logger = Poco::Logger::get("wslab.client");
    previous = logger.getChannel();
    previous_level = logger.getLevel();
    logger.setChannel(capture);
    logger.setLevel(Poco::Message::PRIO_INFORMATION);
  }
  ~CaptureClientLog() {
    Poco::Logger& logger = Poco::Logger::get("wslab.client");
    logger.setChannel(previous);
    logger.setLevel(previous_level);
  }
};

}  // namespace

TEST_CASE("HSC-2 client: wss:// with the server's certificate as ca_pem verifies chain and host, then echoes", "[net]") {
  RunningServer server(tls_server_options());
  const std::string host = GENERATE(as<std::string>{}, "localhost", "127.0.0.1");
  net::ClientOptions options;
  options.tls.ca_pem = certificate().cert_pem;
  Recorder r;
  Client ws(wss_url(host, server.port()), {}, options);
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_open());
  ws.send("over TLS");
  REQUIRE(r.wait_messages(1));
  CHECK(r.messages()[0].data == "over TLS");
  ws.close();
  REQUIRE(r.wait_close());
  CHECK(r.closed()->wasClean);
  CHECK(r.closed()->code == 1000);
}

TEST_CASE("HSC-2 client: wss:// verifies by default: an untrusted certificate fails with the X509 reason", "[net]") {
  RunningServer server(tls_server_options());
  Recorder r;
  Client ws(wss_url("localhost", server.port()));  // system CA store only
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_close());
  CHECK_FALSE(r.opened());
  REQUIRE(r.error());
  // The reason is OpenSSL's, not a bare "handshake failed".
  CHECK(r.error()->message == "TLS: certificate verify failed: self-signed certificate (X509 error 18)");
  CHECK(r.closed()->code == 1006);
  CHECK_FALSE(r.closed()->wasClean);
  CHECK(r.closed()->reason == r.error()->message);
  CHECK(ws.readyState() == Client::CLOSED);
  CHECK(r.log().size() == 2);  // error, close
}

TEST_CASE("HSC-2 client: wss:// to a host the certificate does not name fails with the mismatch", "[net]") {
  // A trusted certificate, but for another name.
  const net::SelfSigned other = net::make_self_signed({"example.test"});
  net::ServerOptions server_options = test_options();
  net::TlsServerOptions tls;
  tls.cert_pem = other.cert_pem;
  tls.key_pem = other.key_pem;
  server_options.tls = tls;
  RunningServer server(server_options);
  auto [host, expected] = GENERATE(table<std::string, std::string>({
      {"localhost", "TLS: certificate verify failed: hostname mismatch (X509 error 62)"},
      {"127.0.0.1", "TLS: certificate verify failed: IP address mismatch (X509 error 64)"},
  }));
  net::ClientOptions options;
  options.tls.ca_pem = other.cert_pem;
  Recorder r;
  Client ws(wss_url(host, server.port()), {}, options);
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_close());
  CHECK_FALSE(r.opened());
  REQUIRE(r.error());
  CHECK(r.error()->message == expected);
  CHECK(r.closed()->code == 1006);
}

TEST_CASE("HSC-2 client: wss:// with insecure connects to an untrusted server and logs a warning", "[net]") {
  CaptureClientLog log;
  RunningServer server(tls_server_options());
  net::ClientOptions options;
  options.insecure = true;
  Recorder r;
  Client ws(wss_url("localhost", server.port()), {}, options);
  CHECK(log.capture->contains(Poco::Message::PRIO_WARNING, "certificate verification is OFF"));
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_open());
  ws.send("no questions asked");
  REQUIRE(r.wait_messages(1));
  CHECK(r.messages()[0].data == "no questions asked");
}

TEST_CASE("HSC-2 client: wss:// to a server that answers in plain HTTP fails with the TLS error", "[net]") {
  ScriptedServer::Script script;
  script.on_accept = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";
  ScriptedServer peer(script);
  net::ClientOptions options;
  options.tls.ca_pem = certificate().cert_pem;
  Recorder r;
  Client ws(wss_url("localhost", peer.port()), {}, options);
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_close());
  CHECK_FALSE(r.opened());
  REQUIRE(r.error());
  // OpenSSL reads "HTTP" as a record header with a version it does not know.
  CHECK_THAT(r.error()->message, Catch::StartsWith("TLS: ") && Catch::Contains("wrong version number"));
  CHECK(r.closed()->code == 1006);
}

TEST_CASE("client: ws:// to a wss:// server fails: the server never sees an HTTP request", "[net]") {
  RunningServer server(tls_server_options());
  net::ClientOptions options;
  options.handshake_timeout = 1s;
  Recorder r;
  Client ws("ws://127.0.0.1:" + std::to_string(server.port()) + "/ws", {}, options);
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_close(4s));
  CHECK_FALSE(r.opened());
  REQUIRE(r.error());
  CHECK(r.closed()->code == 1006);
}
