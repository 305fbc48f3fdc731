// Layer 3: TLS for wss:// (RFC 6455 §4.1 step 5, §10.6), sans-I/O.
//
// OpenSSL does the cryptography; this file only wires it to memory BIOs so
// that bytes, not sockets, go in and out:
//
//   feed(ciphertext) -> [network BIO] -> SSL -> read(plaintext)
//   write(plaintext) -> SSL -> [network BIO] -> take_output(ciphertext)
//
// POCO NetSSL's Context owns the SSL_CTX; certificates and keys are loaded
// into it with OpenSSL directly, so that every configuration error can say
// exactly what is wrong (which file, which key, OpenSSL's reason).
#include <wslab/net/tls.hpp>

#include <Poco/Exception.h>
#include <Poco/Net/SSLManager.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <algorithm>
#include <climits>
#include <fstream>
#include <mutex>
#include <sstream>

namespace wslab::net {

namespace {

// --- Small OpenSSL helpers ------------------------------------------------

// OpenSSL objects are freed by their own functions; unique_ptr does the rest.
template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using NamePtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES, GENERAL_NAMES_free>>;
using ConstraintsPtr = std::unique_ptr<BASIC_CONSTRAINTS, Deleter<BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;

// Everything on this thread's OpenSSL error queue, oldest first, and clears
// it: "error:0A000418:SSL routines::tlsv1 alert unknown ca".
std::string openssl_errors() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!text.empty()) text += "; ";
    text += buffer;
  }
  return text;
}

// "what: OpenSSL's reason", or just "what" if OpenSSL said nothing.
[[noreturn]] void throw_tls_error(const std::string& what) {
  const std::string reason = openssl_errors();
  throw TlsError(reason.empty() ? what : what + ": " + reason);
}

// POCO's SSL support (and through it OpenSSL) is initialised once per
// process and stays initialised: contexts may be created on any thread.
void initialize_ssl_once() {
  static std::once_flag once;
  std::call_once(once, [] { Poco::Net::initializeSSL(); });
}

// An IP literal gets no SNI (RFC 6066 §3: "Literal IPv4 and IPv6 addresses
// are not permitted in HostName") and is checked against the certificate's
// IP address entries instead of its DNS names.
bool is_ip_literal(const std::string& host) {
  unsigned char address[16];
  return inet_pton(AF_INET, host.c_str(), address) == 1 || inet_pton(AF_INET6, host.c_str(), address) == 1;
}

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TlsError(std::string("cannot open ") + what + " file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

BioPtr memory_bio(const std::string& pem) {
  ERR_clear_error();  // what follows reports only its own errors
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throw_tls_error("cannot allocate a memory BIO");
  return bio;
}

// Every certificate in a PEM text, in order (a leaf and its chain, or a CA
// bundle). At least one, or TlsError naming `source`.
std::vector<X509Ptr> read_certificates(const std::string& pem, const std::string& source) {
  BioPtr bio = memory_bio(pem);
  std::vector<X509Ptr> certificates;
  while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certificates.emplace_back(certificate);
  }
  // Reading stops with "no start line" at the end of the text: expected.
  const unsigned long last = ERR_peek_last_error();
  if (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE && !certificates.empty()) {
    ERR_clear_error();
  }
  if (certificates.empty()) throw_tls_error("no PEM certificate in " + source);
  if (ERR_peek_error() != 0) throw_tls_error("bad PEM certificate in " + source);
  return certificates;
}

PkeyPtr read_private_key(const std::string& pem, const std::string& source) {
  BioPtr bio = memory_bio(pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) throw_tls_error("no PEM private key in " + source);
  return key;
}

// The server's certificate (plus any chain certificates after it) and its
// private key, checked to belong together before they are installed.
void use_certificate_and_key(SSL_CTX* ctx, const std::string& cert_pem, const std::string& cert_source,
                             const std::string& key_pem, const std::string& key_source) {
  std::vector<X509Ptr> certificates = read_certificates(cert_pem, cert_source);
  PkeyPtr key = read_private_key(key_pem, key_source);
  if (X509_check_private_key(certificates.front().get(), key.get()) != 1) {
    throw_tls_error("the private key in " + key_source + " does not match the certificate in " + cert_source);
  }
  if (SSL_CTX_use_certificate(ctx, certificates.front().get()) != 1) {
    throw_tls_error("cannot use the certificate in " + cert_source);
  }
  for (std::size_t i = 1; i < certificates.size(); ++i) {
    // add1: the SSL_CTX takes its own reference.
    if (SSL_CTX_add1_chain_cert(ctx, certificates[i].get()) != 1) {
      throw_tls_error("cannot use chain certificate " + std::to_string(i) + " in " + cert_source);
    }
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) throw_tls_error("cannot use the private key in " + key_source);
  if (SSL_CTX_check_private_key(ctx) != 1) {
    throw_tls_error("the private key in " + key_source + " does not match the certificate in " + cert_source);
  }
}

// A POCO Context with wslab's protocol policy: TLS 1.2 or newer, ciphers
// with forward secrecy and authenticated encryption only. (TLS 1.3's suites
// are all of that kind and keep OpenSSL's defaults.) Verification is set up
// by the caller with OpenSSL's own verify logic rather than POCO's
// SSLManager callbacks, so that the result is in SSL_get_verify_result().
Poco::Net::Context::Ptr make_context(Poco::Net::Context::Usage usage, int verify_mode) {
  initialize_ssl_once();
  Poco::Net::Context::Params params;
  params.verificationMode = Poco::Net::Context::VERIFY_NONE;
  params.loadDefaultCAs = false;
  params.cipherList = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL";
  params.dhUse2048Bits = true;
  Poco::Net::Context::Ptr context;
  try {
    context = new Poco::Net::Context(usage, params);
    context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
  } catch (const Poco::Exception& e) {
    throw TlsError("cannot create a TLS context: " + e.displayText());
  }
  SSL_CTX_set_verify(context->sslContext(), verify_mode, nullptr);
  return context;
}

}  // namespace

// --- TlsContext -----------------------------------------------------------

TlsContext TlsContext::server(const TlsServerOptions& options) {
  const bool files = !options.cert_file.empty() || !options.key_file.empty();
  const bool text = !options.cert_pem.empty() || !options.key_pem.empty();
  if (files && text) throw TlsError("TLS server options: give the certificate as files or as PEM text, not both");
  if (!files && !text) throw TlsError("TLS server options: no certificate and key given");

  // The server asks no certificate of the client (WebSocket clients
  // authenticate, if at all, in HTTP: RFC 6455 §10.5).
  Poco::Net::Context::Ptr context = make_context(Poco::Net::Context::TLS_SERVER_USE, SSL_VERIFY_NONE);
  if (files) {
    if (options.cert_file.empty()) throw TlsError("TLS server options: key_file given without cert_file");
    if (options.key_file.empty()) throw TlsError("TLS server options: cert_file given without key_file");
    use_certificate_and_key(context->sslContext(), read_file(options.cert_file, "certificate"),
                            "certificate file '" + options.cert_file + "'",
                            read_file(options.key_file, "private key"), "key file '" + options.key_file + "'");
  } else {
    if (options.cert_pem.empty()) throw TlsError("TLS server options: key_pem given without cert_pem");
    if (options.key_pem.empty()) throw TlsError("TLS server options: cert_pem given without key_pem");
    use_certificate_and_key(context->sslContext(), options.cert_pem, "cert_pem", options.key_pem, "key_pem");
  }
  return TlsContext(std::move(context), true, false);
}

TlsContext TlsContext::client(const TlsClientOptions& options) {
  // With SSL_VERIFY_PEER a certificate that does not verify stops the
  // handshake; with SSL_VERIFY_NONE the result is computed but ignored.
  Poco::Net::Context::Ptr context =
      make_context(Poco::Net::Context::TLS_CLIENT_USE, options.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE);
  SSL_CTX* ctx = context->sslContext();
  if (!options.ca_file.empty()) {
    read_file(options.ca_file, "CA");  // a clear message if it is missing
    if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
      throw_tls_error("cannot load CA certificates from '" + options.ca_file + "'");
    }
  }
  if (!options.ca_pem.empty()) {
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    for (const X509Ptr& certificate : read_certificates(options.ca_pem, "ca_pem")) {
      if (X509_STORE_add_cert(store, certificate.get()) != 1) throw_tls_error("cannot trust a certificate in ca_pem");
    }
  }
  if (options.ca_file.empty() && options.ca_pem.empty()) {
    // The system's trust store (Debian: /etc/ssl/certs).
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) throw_tls_error("cannot load the system CA certificates");
  }
  return TlsContext(std::move(context), false, options.verify);
}

// --- make_self_signed ------------------------------------------------------

SelfSigned make_self_signed(const std::vector<std::string>& names) {
  initialize_ssl_once();

  // A fresh EC P-256 key.
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) throw_tls_error("cannot generate an EC P-256 key");

  X509Ptr certificate(X509_new());
  if (!certificate) throw_tls_error("cannot allocate a certificate");
  X509* x = certificate.get();
  if (X509_set_version(x, 2) != 1) throw_tls_error("cannot set the certificate version");  // 2 means v3

  // A random positive 127-bit serial number (RFC 5280 §4.1.2.2: unique, at
  // most 20 octets).
  unsigned char serial_bytes[16];
  if (RAND_bytes(serial_bytes, sizeof serial_bytes) != 1) throw_tls_error("cannot draw a serial number");
  serial_bytes[0] &= 0x7f;
  BignumPtr serial(BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr));
  if (!serial || !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(x))) {
    throw_tls_error("cannot set the serial number");
  }

  // Valid from an hour ago (tolerates clock skew) for one day.
  if (!X509_gmtime_adj(X509_getm_notBefore(x), -60L * 60) || !X509_gmtime_adj(X509_getm_notAfter(x), 24L * 60 * 60)) {
    throw_tls_error("cannot set the validity period");
  }

  // Subject = issuer (self-signed); CN is informative only, clients match
  // host names against subjectAltName (RFC 6125 §6.4.4).
  const std::string common_name = names.empty() ? std::string("wslab self-signed") : names.front();
  X509_NAME* subject = X509_get_subject_name(x);
  if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0) != 1 ||
      X509_set_issuer_name(x, subject) != 1) {
    throw_tls_error("cannot set the certificate's subject");
  }

  // subjectAltName: a DNS entry per host name, an IP entry per address.
  if (!names.empty()) {
    NamePtr alt_names(sk_GENERAL_NAME_new_null());
    if (!alt_names) throw_tls_error("cannot allocate subjectAltName");
    for (const std::string& name : names) {
      GENERAL_NAME* entry = GENERAL_NAME_new();
      if (!entry) throw_tls_error("cannot allocate a subjectAltName entry");
      if (is_ip_literal(name)) {
        ASN1_OCTET_STRING* address = a2i_IPADDRESS(name.c_str());
        if (!address) {
          GENERAL_NAME_free(entry);
          throw_tls_error("bad IP address '" + name + "'");
        }
        GENERAL_NAME_set0_value(entry, GEN_IPADD, address);
      } else {
        ASN1_IA5STRING* dns = ASN1_IA5STRING_new();
        if (!dns || ASN1_STRING_set(dns, name.data(), static_cast<int>(name.size())) != 1) {
          ASN1_IA5STRING_free(dns);
          GENERAL_NAME_free(entry);
          throw_tls_error("cannot encode DNS name '" + name + "'");
        }
        GENERAL_NAME_set0_value(entry, GEN_DNS, dns);
      }
      if (sk_GENERAL_NAME_push(alt_names.get(), entry) == 0) {
        GENERAL_NAME_free(entry);
        throw_tls_error("cannot add a subjectAltName entry");
      }
    }
    if (X509_add1_ext_i2d(x, NID_subject_alt_name, alt_names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
      throw_tls_error("cannot add subjectAltName");
    }
  }

  // basicConstraints CA:FALSE, critical: this certificate signs nothing.
  ConstraintsPtr constraints(BASIC_CONSTRAINTS_new());
  if (!constraints) throw_tls_error("cannot allocate basicConstraints");
  constraints->ca = 0;
  if (X509_add1_ext_i2d(x, NID_basic_constraints, constraints.get(), 1, X509V3_ADD_DEFAULT) != 1) {
    throw_tls_error("cannot add basicConstraints");
  }

  if (X509_set_pubkey(x, key.get()) != 1) throw_tls_error("cannot set the public key");
  if (X509_sign(x, key.get(), EVP_sha256()) == 0) throw_tls_error("cannot sign the certificate");

  auto to_pem = [](auto write) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || write(bio.get()) != 1) throw_tls_error("cannot write PEM");
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
  };
  SelfSigned result;
  result.cert_pem = to_pem([&](BIO* bio) { return PEM_write_bio_X509(bio, x); });
  result.key_pem = to_pem([&](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  return result;
}

// --- TlsEngine --------------------------------------------------------------

struct TlsEngine::Impl {
  Poco::Net::Context::Ptr context;  // keeps the SSL_CTX alive
  SSL* ssl = nullptr;
  BIO* network_in = nullptr;   // ciphertext from the peer; SSL reads it
  BIO* network_out = nullptr;  // ciphertext for the peer; SSL writes it
  std::string pending;         // plaintext waiting for the handshake (or a retry)
  bool handshake_done = false;
  bool shutdown_requested = false;
  bool failed = false;
  bool peer_closed = false;
  std::string error;

  ~Impl() { SSL_free(ssl); }  // frees both BIOs too

  // Records why the engine failed, from SSL_get_error()'s answer and the
  // error queue. A failed certificate check is reported with X509's reason,
  // which is what a user needs ("self-signed certificate", "hostname
  // mismatch"), rather than the generic "certificate verify failed".
  void fail(int ssl_error) {
    failed = true;
    bool verify_failed = false;
    std::string queued;
    while (unsigned long code = ERR_get_error()) {
      verify_failed |= ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED;
      char buffer[256];
      ERR_error_string_n(code, buffer, sizeof buffer);
      if (!queued.empty()) queued += "; ";
      queued += buffer;
    }
    const long verify_result = SSL_get_verify_result(ssl);
    if (verify_failed && verify_result != X509_V_OK) {
      error = std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify_result) +
              " (X509 error " + std::to_string(verify_result) + ")";
    } else if (!queued.empty()) {
      error = queued;
    } else if (ssl_error == SSL_ERROR_SYSCALL) {
      error = "TLS stream ended unexpectedly";
    } else {
      error = "TLS error (SSL_get_error " + std::to_string(ssl_error) + ")";
    }
  }

  // Drives the handshake as far as the input allows. True once it is done.
  bool handshake() {
    if (handshake_done) return true;
    ERR_clear_error();
    const int result = SSL_do_handshake(ssl);
    if (result == 1) {
      handshake_done = true;
      flush();
      if (shutdown_requested) send_close_notify();
      return true;
    }
    const int reason = SSL_get_error(ssl, result);
    // WANT_READ: it needs the peer's next flight; WANT_WRITE cannot last
    // with a memory BIO, which always takes what is written.
    if (reason != SSL_ERROR_WANT_READ && reason != SSL_ERROR_WANT_WRITE) fail(reason);
    return false;
  }

  // Encrypts queued plaintext (only after the handshake).
  void flush() {
    while (!failed && handshake_done && !pending.empty()) {
      const int chunk = static_cast<int>(std::min<std::size_t>(pending.size(), INT_MAX));
      ERR_clear_error();
      const int written = SSL_write(ssl, pending.data(), chunk);
      if (written > 0) {
        pending.erase(0, static_cast<std::size_t>(written));
        continue;
      }
      const int reason = SSL_get_error(ssl, written);
      if (reason != SSL_ERROR_WANT_READ && reason != SSL_ERROR_WANT_WRITE) fail(reason);
      return;  // retried after the next read()
    }
  }

  void send_close_notify() {
    ERR_clear_error();
    const int result = SSL_shutdown(ssl);  // 0: sent, the peer's not yet seen
    if (result < 0) {
      const int reason = SSL_get_error(ssl, result);
      if (reason != SSL_ERROR_WANT_READ && reason != SSL_ERROR_WANT_WRITE) fail(reason);
    }
  }
};

TlsEngine::TlsEngine(const TlsContext& context, std::string server_name) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.context = context.poco();
  s.ssl = SSL_new(s.context->sslContext());
  if (!s.ssl) throw_tls_error("cannot create a TLS session");
  s.network_in = BIO_new(BIO_s_mem());
  s.network_out = BIO_new(BIO_s_mem());
  if (!s.network_in || !s.network_out) {
    BIO_free(s.network_in);
    BIO_free(s.network_out);
    throw_tls_error("cannot allocate memory BIOs");
  }
  SSL_set_bio(s.ssl, s.network_in, s.network_out);  // the SSL owns them now
  // `pending` may move between a retried SSL_write and the next one; and an
  // idle connection gives its record buffers back (about 30 KiB each).
  SSL_set_mode(s.ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);

  if (context.is_server()) {
    SSL_set_accept_state(s.ssl);
    return;
  }
  SSL_set_connect_state(s.ssl);
  if (!server_name.empty()) {
    const bool ip = is_ip_literal(server_name);
    // SNI names the host (RFC 6066 §3), never an address.
    if (!ip && SSL_set_tlsext_host_name(s.ssl, server_name.c_str()) != 1) {
      throw_tls_error("cannot set SNI '" + server_name + "'");
    }
    if (context.verifies()) {
      // Chain verification alone would accept any valid certificate for any
      // host; the name must match too (RFC 6125, RFC 2818 §3.1).
      const int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s.ssl), server_name.c_str())
                         : SSL_set1_host(s.ssl, server_name.c_str());
      if (set != 1) throw_tls_error("cannot check the certificate against '" + server_name + "'");
    }
  }
  s.handshake();  // the ClientHello is ready in take_output()
}

TlsEngine::~TlsEngine() = default;

void TlsEngine::feed(std::span<const std::uint8_t> ciphertext) {
  while (!ciphertext.empty()) {
    const int chunk = static_cast<int>(std::min<std::size_t>(ciphertext.size(), INT_MAX));
    const int written = BIO_write(impl_->network_in, ciphertext.data(), chunk);
    if (written <= 0) {
      impl_->fail(SSL_ERROR_SSL);
      return;
    }
    ciphertext = ciphertext.subspan(static_cast<std::size_t>(written));
  }
}

bool TlsEngine::read(std::string& out) {
  Impl& s = *impl_;
  if (s.failed) return false;
  if (!s.handshake()) return !s.failed;
  char buffer[16 * 1024];
  while (!s.peer_closed) {
    ERR_clear_error();
    const int n = SSL_read(s.ssl, buffer, sizeof buffer);
    if (n > 0) {
      out.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    const int reason = SSL_get_error(s.ssl, n);
    if (reason == SSL_ERROR_ZERO_RETURN) {
      s.peer_closed = true;  // close_notify: no more data will come
    } else if (reason != SSL_ERROR_WANT_READ && reason != SSL_ERROR_WANT_WRITE) {
      s.fail(reason);
      return false;
    }
    break;
  }
  s.flush();  // a write may have waited for what was just read
  return !s.failed;
}

void TlsEngine::write(std::span<const std::uint8_t> plaintext) {
  write(std::string_view(reinterpret_cast<const char*>(plaintext.data()), plaintext.size()));
}

void TlsEngine::write(std::string_view plaintext) {
  Impl& s = *impl_;
  if (s.failed || s.shutdown_requested || plaintext.empty()) return;
  s.pending.append(plaintext);
  s.flush();
}

std::string TlsEngine::take_output() {
  std::string out;
  const std::size_t size = BIO_ctrl_pending(impl_->network_out);
  if (size == 0) return out;
  out.resize(size);
  const int n = BIO_read(impl_->network_out, out.data(), static_cast<int>(std::min<std::size_t>(size, INT_MAX)));
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

bool TlsEngine::has_output() const { return BIO_ctrl_pending(impl_->network_out) > 0; }

void TlsEngine::shutdown() {
  Impl& s = *impl_;
  if (s.failed || s.shutdown_requested) return;
  s.shutdown_requested = true;
  // Before the handshake is done there is no session to close yet; the
  // close_notify follows the handshake (and any queued data).
  if (!s.handshake_done) return;
  s.flush();
  s.send_close_notify();
}

bool TlsEngine::handshake_done() const { return impl_->handshake_done; }
bool TlsEngine::failed() const { return impl_->failed; }
bool TlsEngine::peer_closed() const { return impl_->peer_closed; }
const std::string& TlsEngine::error() const { return impl_->error; }

std::string TlsEngine::version() const {
  return impl_->handshake_done ? std::string(SSL_get_version(impl_->ssl)) : std::string();
}

std::string TlsEngine::cipher() const {
  const SSL_CIPHER* cipher = impl_->handshake_done ? SSL_get_current_cipher(impl_->ssl) : nullptr;
  return cipher ? std::string(SSL_CIPHER_get_name(cipher)) : std::string();
}

}  // namespace wslab::net
