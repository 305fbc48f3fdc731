// Layer 3: a connection's bytes to and from a non-blocking socket, through
// TLS for wss://. See transport.hpp.
//
// The sockets are POCO's (StreamSocket owns the descriptor, sets the options,
// closes it), but the reads and writes call recv()/send() on its descriptor
// directly: POCO 1.11's sendBytes() throws an exception every time a
// non-blocking socket's buffer is full, which is the normal case under load
// here, and it cannot pass MSG_NOSIGNAL (a write to a reset connection would
// otherwise raise SIGPIPE and end the process).
#include "wslab/net/transport.hpp"

#include <Poco/Error.h>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace wslab::net {

Transport::Transport(Poco::Net::StreamSocket socket, std::unique_ptr<TlsEngine> tls)
    : socket_(std::move(socket)), fd_(socket_.impl()->sockfd()), tls_(std::move(tls)) {
  socket_.setBlocking(false);
  if (tls_) {
    // A client engine has its ClientHello ready; it goes out when the
    // socket is writable (connected).
    queue_tls_output();
  }
}

void Transport::queue_tls_output() {
  std::string out = tls_->take_output();
  if (out.empty()) return;
  if (queued() == 0) {
    tls_out_ = std::move(out);  // the usual case: no copy
    tls_out_sent_ = 0;
  } else {
    tls_out_ += out;
  }
}

bool Transport::fail(std::string why) {
  if (error_.empty()) error_ = std::move(why);
  return false;
}

Transport::Read Transport::read(ReadBuffer& buffer) {
  if (!error_.empty()) return {Read::Status::error, {}};
  if (tls_ && tls_->peer_closed()) return {Read::Status::eof, {}};
  const ssize_t n = ::recv(fd_, buffer.bytes.data(), buffer.bytes.size(), 0);
  if (n == 0) return {Read::Status::eof, {}};
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return {Read::Status::would_block, {}};
    fail(Poco::Error::getMessage(errno));
    return {Read::Status::error, {}};
  }
  const auto received = std::span<std::uint8_t>(buffer.bytes.data(), static_cast<std::size_t>(n));
  if (!tls_) return {Read::Status::data, received};

  // TLS: ciphertext in, plaintext out. The engine may also have something
  // to say (its handshake flights, a key update): send it along.
  tls_->feed(received);
  buffer.plaintext.clear();
  const bool ok = tls_->read(buffer.plaintext);
  queue_tls_output();
  if (!ok) {
    fail("TLS: " + tls_->error());
    return {Read::Status::error, {}};
  }
  if (!send_queued()) return {Read::Status::error, {}};
  if (buffer.plaintext.empty() && tls_->peer_closed()) return {Read::Status::eof, {}};
  return {Read::Status::data, std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(buffer.plaintext.data()),
                                                      buffer.plaintext.size())};
}

Transport::Write Transport::write(std::string_view bytes) {
  if (!error_.empty()) return {Write::Status::error, 0};
  if (bytes.empty()) return {Write::Status::ok, 0};
  if (!tls_) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      const auto taken = static_cast<std::size_t>(n);
      return {Write::Status::ok, taken, taken < bytes.size()};
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return {Write::Status::ok, 0, true};
    fail(Poco::Error::getMessage(errno));
    return {Write::Status::error, 0};
  }

  // TLS: encrypt only while little ciphertext is queued, so a peer that
  // does not read leaves the bytes in the caller's buffer (where its
  // back-pressure accounting sees them), not in ours.
  if (queued() >= kTlsChunk) {
    if (!send_queued()) return {Write::Status::error, 0};
    if (queued() >= kTlsChunk) return {Write::Status::ok, 0, true};
  }
  const std::size_t chunk = std::min(bytes.size(), kTlsChunk);
  tls_->write(bytes.substr(0, chunk));
  if (tls_->failed()) {
    fail("TLS: " + tls_->error());
    return {Write::Status::error, 0};
  }
  queue_tls_output();
  if (!send_queued()) return {Write::Status::error, 0};
  return {Write::Status::ok, chunk, queued() >= kTlsChunk};
}

bool Transport::send_queued() {
  while (queued() > 0) {
    const ssize_t n = ::send(fd_, tls_out_.data() + tls_out_sent_, queued(), MSG_NOSIGNAL);
    if (n > 0) {
      tls_out_sent_ += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
    return fail(n < 0 ? Poco::Error::getMessage(errno) : std::string("send() wrote nothing"));
  }
  if (!tls_out_.empty()) {
    std::string().swap(tls_out_);  // all sent: an idle connection keeps no buffer
    tls_out_sent_ = 0;
  }
  if (shutdown_requested_ && !shutdown_done_) {
    // Everything is out: now the FIN. ENOTCONN means the peer is already
    // gone, which is what we wanted anyway.
    if (::shutdown(fd_, SHUT_WR) != 0 && errno != ENOTCONN) fail(Poco::Error::getMessage(errno));
    shutdown_done_ = true;
  }
  return error_.empty();
}

bool Transport::flush() {
  if (!error_.empty()) return false;
  return send_queued();
}

void Transport::shutdown_write() {
  if (shutdown_requested_) return;
  shutdown_requested_ = true;
  if (tls_ && error_.empty()) {
    tls_->shutdown();  // close_notify (RFC 8446 §6.1), before the FIN
    queue_tls_output();
  }
  if (error_.empty()) send_queued();
}

void Transport::close() {
  if (fd_ < 0) return;
  try {
    socket_.close();
  } catch (const Poco::Exception&) {
    // close() failing leaves nothing for us to do: the descriptor is gone.
  }
  fd_ = -1;
}

std::string Transport::socket_error() {
  if (fd_ < 0) return {};
  int code = 0;
  socklen_t length = sizeof code;
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &code, &length) != 0) code = errno;
  return code == 0 ? std::string() : Poco::Error::getMessage(code);
}

}  // namespace wslab::net
