// TLS engines back to back in memory: no sockets, just bytes moved by hand.
#include <wslab/net/tls.hpp>

#include <catch2/catch.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace {

using namespace wslab::net;

// One self-signed certificate for the whole file (key generation is cheap,
// but there is no reason to repeat it).
const SelfSigned& certificate() {
  static const SelfSigned cert = make_self_signed();
  return cert;
}

// Options built field by field (designated initializers that leave fields
// out trip -Wmissing-field-initializers).
TlsServerOptions pem_options(const std::string& cert_pem, const std::string& key_pem) {
  TlsServerOptions o;
  o.cert_pem = cert_pem;
  o.key_pem = key_pem;
  return o;
}

TlsServerOptions file_options(const std::string& cert_file, const std::string& key_file) {
  TlsServerOptions o;
  o.cert_file = cert_file;
  o.key_file = key_file;
  return o;
}

TlsClientOptions client_options(bool verify, const std::string& ca_pem = {}, const std::string& ca_file = {}) {
  TlsClientOptions o;
  o.verify = verify;
  o.ca_pem = ca_pem;
  o.ca_file = ca_file;
  return o;
}

TlsContext server_context() {
  return TlsContext::server(pem_options(certificate().cert_pem, certificate().key_pem));
}

TlsContext trusting_client(bool verify = true) {
  return TlsContext::client(client_options(verify, certificate().cert_pem));
}

// A client and a server engine wired back to back. pump() moves ciphertext
// both ways (in pieces of `chunk` bytes) until neither has anything to say.
struct Pair {
  TlsEngine client;
  TlsEngine server;
  std::string client_received, server_received;
  std::size_t chunk = SIZE_MAX;

  Pair(const TlsContext& client_context, const TlsContext& server_context, const std::string& name)
      : client(client_context, name), server(server_context) {}

  static void move(TlsEngine& from, TlsEngine& to, std::size_t chunk) {
    const std::string bytes = from.take_output();
    for (std::size_t i = 0; i < bytes.size(); i += chunk) {
      const std::string_view piece = std::string_view(bytes).substr(i, chunk);
      to.feed({reinterpret_cast<const std::uint8_t*>(piece.data()), piece.size()});
    }
  }

  void pump() {
    for (int round = 0; round < 1000; ++round) {
      if (!client.has_output() && !server.has_output()) {
        // Nothing in flight: give both a chance to produce (flush) and stop.
        client.read(client_received);
        server.read(server_received);
        if (!client.has_output() && !server.has_output()) return;
      }
      move(client, server, chunk);
      server.read(server_received);
      move(server, client, chunk);
      client.read(client_received);
    }
    FAIL("TLS pump did not settle");
  }
};

std::string random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char pattern[] = "/tmp/wslab-tls-XXXXXX";
    path = mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    const auto file = path / name;
    std::ofstream(file, std::ios::binary) << text;
    return file.string();
  }
};

}  // namespace

TEST_CASE("TLS: two engines complete a handshake in memory (TLS 1.2+ only)", "[net]") {
  Pair p(trusting_client(), server_context(), "localhost");
  CHECK_FALSE(p.client.handshake_done());
  CHECK(p.client.has_output());  // the ClientHello is ready at once
  CHECK(p.client.version().empty());
  p.pump();
  REQUIRE(p.client.handshake_done());
  REQUIRE(p.server.handshake_done());
  CHECK_FALSE(p.client.failed());
  CHECK_FALSE(p.server.failed());
  CHECK(p.client.error().empty());
  CHECK(p.client.version() == "TLSv1.3");
  CHECK(p.server.version() == "TLSv1.3");
  CHECK_FALSE(p.client.cipher().empty());
  CHECK(p.client.cipher() == p.server.cipher());
}

TEST_CASE("TLS: contexts require TLS 1.2 or newer, a TLS 1.2 peer gets a forward-secret AEAD suite", "[net]") {
  TlsContext server = server_context();
  TlsContext client = trusting_client();
  CHECK(SSL_CTX_get_min_proto_version(server.poco()->sslContext()) == TLS1_2_VERSION);
  CHECK(SSL_CTX_get_min_proto_version(client.poco()->sslContext()) == TLS1_2_VERSION);
  // A server that stops at TLS 1.2.
  REQUIRE(SSL_CTX_set_max_proto_version(server.poco()->sslContext(), TLS1_2_VERSION) == 1);
  Pair p(client, server, "localhost");
  p.client.write(std::string_view("over TLS 1.2"));
  p.pump();
  REQUIRE(p.client.handshake_done());
  CHECK(p.client.version() == "TLSv1.2");
  CHECK_THAT(p.client.cipher(), Catch::StartsWith("ECDHE-") && Catch::Contains("-GCM-") ||
                                    Catch::Contains("CHACHA20-POLY1305"));
  CHECK(p.server_received == "over TLS 1.2");
}

TEST_CASE("TLS: data is queued until the handshake is done, then flows both ways", "[net]") {
  Pair p(trusting_client(), server_context(), "localhost");
  p.client.write(std::string_view("early from the client"));  // before any byte has moved
  p.pump();
  REQUIRE(p.client.handshake_done());
  CHECK(p.server_received == "early from the client");
  p.server.write(std::string_view("hello client"));
  p.client.write(std::string_view("hello server"));
  p.pump();
  CHECK(p.client_received == "hello client");
  CHECK(p.server_received == "early from the client" "hello server");
}

TEST_CASE("TLS: ciphertext delivered in pieces of every size from 1 to 64 bytes", "[net]") {
  const std::size_t chunk = GENERATE(range(std::size_t{1}, std::size_t{65}));
  Pair p(trusting_client(), server_context(), "localhost");
  p.chunk = chunk;
  const std::string to_server = random_bytes(300, 1);
  const std::string to_client = random_bytes(257, 2);
  p.client.write(to_server);
  p.pump();
  p.server.write(to_client);
  p.pump();
  CHECK(p.server_received == to_server);
  CHECK(p.client_received == to_client);
}

TEST_CASE("TLS: plaintext written in pieces of every size arrives whole and in order", "[net]") {
  Pair p(trusting_client(), server_context(), "localhost");
  p.pump();
  const std::string message = random_bytes(4000, 3);
  std::size_t at = 0;
  for (std::size_t size = 1; at < message.size(); ++size) {
    const std::string_view piece = std::string_view(message).substr(at, size);
    p.client.write(piece);
    p.server.write(piece);
    at += piece.size();
    if (size % 7 == 0) p.pump();
  }
  p.pump();
  CHECK(p.server_received == message);
  CHECK(p.client_received == message);
}

TEST_CASE("TLS: 4 MiB each way, more than one TLS record's worth many times over", "[net]") {
  Pair p(trusting_client(), server_context(), "localhost");
  p.pump();
  const std::string big = random_bytes(4u << 20, 4);
  p.client.write(big);
  p.server.write(big);
  p.pump();
  CHECK(p.server_received.size() == big.size());
  CHECK(p.server_received == big);
  CHECK(p.client_received == big);
}

TEST_CASE("TLS: shutdown() sends close_notify and the peer sees peer_closed()", "[net]") {
  Pair p(trusting_client(), server_context(), "localhost");
  p.pump();
  p.client.write(std::string_view("last words"));
  p.client.shutdown();
  p.client.write(std::string_view("ignored after shutdown"));
  p.pump();
  CHECK(p.server_received == "last words");
  CHECK(p.server.peer_closed());
  CHECK_FALSE(p.client.peer_closed());
  CHECK_FALSE(p.server.failed());
  p.server.shutdown();
  p.pump();
  CHECK(p.client.peer_closed());
  CHECK_FALSE(p.client.failed());
}

TEST_CASE("TLS: verify=true with the certificate trusted succeeds for localhost and 127.0.0.1", "[net]") {
  const std::string name = GENERATE(as<std::string>{}, "localhost", "127.0.0.1", "::1");
  Pair p(trusting_client(), server_context(), name);
  p.pump();
  INFO("client error: " << p.client.error());
  CHECK(p.client.handshake_done());
  CHECK_FALSE(p.client.failed());
}

TEST_CASE("TLS: verify=true fails for a host the certificate does not name", "[net]") {
  SECTION("DNS name") {
    Pair p(trusting_client(), server_context(), "example.com");
    p.pump();
    REQUIRE(p.client.failed());
    CHECK_FALSE(p.client.handshake_done());
    CHECK(p.client.error() == "certificate verify failed: hostname mismatch (X509 error 62)");
    // The client's alert tells the server why.
    CHECK(p.server.failed());
    CHECK_THAT(p.server.error(), Catch::Contains("alert"));
  }
  SECTION("IP address") {
    Pair p(trusting_client(), server_context(), "10.1.2.3");
    p.pump();
    REQUIRE(p.client.failed());
    CHECK(p.client.error() == "certificate verify failed: IP address mismatch (X509 error 64)");
  }
}

TEST_CASE("TLS: verify=true without trusting the certificate fails with the X509 reason", "[net]") {
  // The system store does not know our throw-away certificate.
  Pair p(TlsContext::client({}), server_context(), "localhost");
  p.pump();
  REQUIRE(p.client.failed());
  CHECK_THAT(p.client.error(), Catch::StartsWith("certificate verify failed: "));
  CHECK_THAT(p.client.error(), Catch::Contains("self-signed certificate"));
  CHECK_THAT(p.client.error(), Catch::Contains("(X509 error 18)"));
  REQUIRE(p.server.failed());
  CHECK_THAT(p.server.error(), Catch::Contains("tlsv1 alert unknown ca"));
  CHECK_FALSE(p.server.read(p.server_received));  // stays failed
}

TEST_CASE("TLS: verify=false accepts the untrusted certificate and any name", "[net]") {
  const std::string name = GENERATE(as<std::string>{}, "localhost", "example.com");
  TlsContext context = TlsContext::client(client_options(false));
  CHECK_FALSE(context.verifies());
  Pair p(context, server_context(), name);
  p.client.write(std::string_view("ping"));
  p.pump();
  CHECK(p.client.handshake_done());
  CHECK_FALSE(p.client.failed());
  CHECK(p.server_received == "ping");
}

namespace {
int remember_server_name(SSL* ssl, int*, void* arg) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  *static_cast<std::string*>(arg) = name ? name : "(none)";
  return SSL_TLSEXT_ERR_OK;
}
}  // namespace

TEST_CASE("HSC-2 TLS: the client sends SNI for a host name, never for an IP literal (RFC 6066 §3)", "[net]") {
  auto [name, expected] = GENERATE(table<std::string, std::string>({
      {"localhost", "localhost"},
      {"127.0.0.1", "(none)"},
      {"::1", "(none)"},
  }));
  TlsContext server = server_context();
  std::string seen = "(callback not called)";
  SSL_CTX_set_tlsext_servername_callback(server.poco()->sslContext(), remember_server_name);
  SSL_CTX_set_tlsext_servername_arg(server.poco()->sslContext(), &seen);
  Pair p(trusting_client(), server, name);
  p.pump();
  REQUIRE(p.server.handshake_done());
  CHECK(seen == expected);
}

TEST_CASE("TLS: server certificate and key from files, errors name the file", "[net]") {
  TempDir dir;
  const std::string cert = dir.write("cert.pem", certificate().cert_pem);
  const std::string key = dir.write("key.pem", certificate().key_pem);

  SECTION("good files") {
    Pair p(trusting_client(), TlsContext::server(file_options(cert, key)), "localhost");
    p.pump();
    CHECK(p.client.handshake_done());
  }
  SECTION("a missing certificate file") {
    const std::string missing = (dir.path / "nope.pem").string();
    CHECK_THROWS_WITH(TlsContext::server(file_options(missing, key)),
                      "cannot open certificate file '" + missing + "'");
  }
  SECTION("a file that holds no certificate") {
    const std::string junk = dir.write("junk.pem", "this is not PEM\n");
    CHECK_THROWS_WITH(TlsContext::server(file_options(junk, key)),
                      Catch::StartsWith("no PEM certificate in certificate file '" + junk + "'") &&
                          Catch::Contains("no start line"));
  }
  SECTION("a missing CA file for a client") {
    const std::string missing = (dir.path / "ca.pem").string();
    CHECK_THROWS_WITH(TlsContext::client(client_options(true, {}, missing)), "cannot open CA file '" + missing + "'");
  }
  SECTION("a CA file") {
    Pair p(TlsContext::client(client_options(true, {}, cert)), server_context(), "localhost");
    p.pump();
    CHECK(p.client.handshake_done());
  }
}

TEST_CASE("TLS: a private key that does not match the certificate is refused", "[net]") {
  const SelfSigned other = make_self_signed({"other.test"});
  CHECK_THROWS_AS(TlsContext::server(pem_options(certificate().cert_pem, other.key_pem)), TlsError);
  CHECK_THROWS_WITH(TlsContext::server(pem_options(certificate().cert_pem, other.key_pem)),
                    Catch::StartsWith("the private key in key_pem does not match the certificate in cert_pem") &&
                        Catch::Contains("key values mismatch"));
  CHECK_THROWS_WITH(TlsContext::server(pem_options(certificate().cert_pem, {})),
                    "TLS server options: cert_pem given without key_pem");
  CHECK_THROWS_WITH(TlsContext::server({}), "TLS server options: no certificate and key given");
}

TEST_CASE("TLS: garbage ciphertext fails the engine with a reason, never a crash", "[net]") {
  const std::uint32_t seed = GENERATE(range(1u, 21u));
  SECTION("server receiving garbage instead of a ClientHello") {
    TlsEngine server(server_context());
    const std::string junk = random_bytes(64 * seed, seed);
    server.feed({reinterpret_cast<const std::uint8_t*>(junk.data()), junk.size()});
    std::string out;
    CHECK_FALSE(server.read(out));
    CHECK(server.failed());
    CHECK_FALSE(server.error().empty());
    CHECK(out.empty());
  }
  SECTION("client receiving garbage after a good handshake") {
    Pair p(trusting_client(), server_context(), "localhost");
    p.pump();
    // A plausible record header (application data, TLS 1.2) with a garbage body.
    std::string junk = "\x17\x03\x03";
    junk += static_cast<char>(0);
    junk += static_cast<char>(100);
    junk += random_bytes(100, seed);
    p.client.feed({reinterpret_cast<const std::uint8_t*>(junk.data()), junk.size()});
    CHECK_FALSE(p.client.read(p.client_received));
    CHECK(p.client.failed());
    CHECK_THAT(p.client.error(), Catch::Contains("decryption failed or bad record mac"));
    CHECK(p.client_received.empty());
  }
}

TEST_CASE("TLS: make_self_signed gives a v3 certificate with SAN, CA:FALSE and a day's validity", "[net]") {
  const SelfSigned cert = make_self_signed({"example.test", "192.0.2.7", "2001:db8::1"});
  CHECK_THAT(cert.cert_pem, Catch::StartsWith("-----BEGIN CERTIFICATE-----"));
  CHECK_THAT(cert.key_pem, Catch::StartsWith("-----BEGIN PRIVATE KEY-----"));

  BIO* bio = BIO_new_mem_buf(cert.cert_pem.data(), static_cast<int>(cert.cert_pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  REQUIRE(x != nullptr);
  CHECK(X509_get_version(x) == 2);
  CHECK(X509_check_host(x, "example.test", 0, 0, nullptr) == 1);
  CHECK(X509_check_host(x, "other.test", 0, 0, nullptr) == 0);
  CHECK(X509_check_ip_asc(x, "192.0.2.7", 0) == 1);
  CHECK(X509_check_ip_asc(x, "2001:db8::1", 0) == 1);
  CHECK(X509_check_ip_asc(x, "192.0.2.8", 0) == 0);
  CHECK(X509_check_ca(x) == 0);
  CHECK(X509_get_signature_nid(x) == NID_ecdsa_with_SHA256);
  EVP_PKEY* key = X509_get0_pubkey(x);
  REQUIRE(key != nullptr);
  CHECK(EVP_PKEY_is_a(key, "EC"));
  CHECK(EVP_PKEY_get_bits(key) == 256);
  int days = 0, seconds = 0;
  REQUIRE(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(x), X509_get0_notAfter(x)) == 1);
  CHECK(days * 86400 + seconds == 25 * 3600);
  CHECK(X509_cmp_current_time(X509_get0_notBefore(x)) < 0);
  CHECK(X509_cmp_current_time(X509_get0_notAfter(x)) > 0);
  X509_free(x);
  // Two calls, two keys.
  CHECK(make_self_signed().key_pem != make_self_signed().key_pem);
}
