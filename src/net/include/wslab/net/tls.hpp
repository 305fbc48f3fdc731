// Layer 3: TLS for wss:// (RFC 6455 §4.1 step 5, §10.6), sans-I/O.
//
// A TlsEngine is OpenSSL driven through memory BIOs: ciphertext from the
// socket goes in, plaintext for the WebSocket layer comes out, and the other
// way round. It never touches a socket, so the same event loop serves ws://
// and wss:// and the engine can be tested with two engines back to back.
// Certificates, keys and verification settings come from POCO NetSSL's
// Context, which owns the SSL_CTX.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/Net/Context.h>

namespace wslab::net {

// Thrown for configuration errors (a missing certificate file, a key that
// does not match its certificate, ...), with OpenSSL's reason in the text.
class TlsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TlsServerOptions {
  std::string cert_file{};  // PEM
  std::string key_file{};   // PEM
  // Instead of files: PEM text (e.g. from make_self_signed()).
  std::string cert_pem{};
  std::string key_pem{};
};

struct TlsClientOptions {
  bool verify = true;        // verify the chain and the host name (default)
  std::string ca_file{};       // PEM bundle to trust instead of the system's
  std::string ca_pem{};        // or PEM text to trust
};

// A throw-away certificate for local use (`wslab serve --tls-self-signed`
// and the tests): a fresh key, valid for `names` (DNS names and IP
// addresses, as subjectAltName), one day.
struct SelfSigned {
  std::string cert_pem{};
  std::string key_pem{};
};
SelfSigned make_self_signed(const std::vector<std::string>& names = {"localhost", "127.0.0.1", "::1"});

// A configured TLS context (POCO NetSSL's Context, which owns the SSL_CTX).
class TlsContext {
 public:
  static TlsContext server(const TlsServerOptions& options);  // throws TlsError
  static TlsContext client(const TlsClientOptions& options);  // throws TlsError
  Poco::Net::Context::Ptr poco() const { return context_; }
  bool is_server() const { return server_; }
  bool verifies() const { return verify_; }

 private:
  TlsContext(Poco::Net::Context::Ptr context, bool server, bool verify)
      : context_(std::move(context)), server_(server), verify_(verify) {}
  Poco::Net::Context::Ptr context_;
  bool server_;
  bool verify_;
};

class TlsEngine {
 public:
  // A client engine sends `server_name` as SNI (RFC 6455 §4.1 requires it)
  // and, if the context verifies, checks the certificate against it.
  TlsEngine(const TlsContext& context, std::string server_name = {});
  ~TlsEngine();
  TlsEngine(const TlsEngine&) = delete;
  TlsEngine& operator=(const TlsEngine&) = delete;

  // Ciphertext that arrived from the network.
  void feed(std::span<const std::uint8_t> ciphertext);
  // Decrypted application data: appends what is available to `out`.
  // Returns false once the engine has failed (see error()).
  bool read(std::string& out);
  // Application data to encrypt. Data written before the handshake is done
  // is queued and sent right after it.
  void write(std::span<const std::uint8_t> plaintext);
  void write(std::string_view plaintext);
  // Ciphertext to send to the network; take() removes it.
  std::string take_output();
  bool has_output() const;

  // Sends close_notify.
  void shutdown();

  bool handshake_done() const;
  bool failed() const;
  bool peer_closed() const;  // close_notify received
  // The underlying reason, e.g. "certificate verify failed: self-signed
  // certificate (X509 error 18)" or "tlsv1 alert unknown ca".
  const std::string& error() const;
  std::string version() const;  // "TLSv1.3" once done
  std::string cipher() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wslab::net
