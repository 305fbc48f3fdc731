// Layer 3: a transport is how one connection's bytes reach the network: a
// non-blocking TCP socket (POCO's StreamSocket), with a TLS engine in between
// for wss:// (RFC 6455 §4.1 step 5). It is role-neutral: the server and the
// client move their Connection's bytes through the same class.
//
//   read():  socket --recv--> [TLS: feed, decrypt] --> plaintext for the Connection
//   write(): Connection output --> [TLS: encrypt, queue] --send--> socket
//
// Reads go into a ReadBuffer that the caller shares between all transports of
// one loop thread, so an idle connection holds no receive buffer. Without TLS
// a transport holds no buffers at all; with TLS it queues the ciphertext the
// socket did not take yet, and frees that queue once it is sent.
#pragma once

#include <wslab/net/tls.hpp>

#include <Poco/Net/StreamSocket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wslab::net {

// Scratch space for reads, one per loop thread (never per connection).
struct ReadBuffer {
  static constexpr std::size_t kDefaultSize = 64 * 1024;
  explicit ReadBuffer(std::size_t size = kDefaultSize) : bytes(size) {}
  std::vector<std::uint8_t> bytes;  // what one recv() fills
  std::string plaintext;            // TLS: what the engine decrypted from `bytes`
};

class Transport {
 public:
  // `socket` is connected, or connecting (a client's connectNB); it is made
  // non-blocking. With `tls` every byte passes through the engine.
  explicit Transport(Poco::Net::StreamSocket socket, std::unique_ptr<TlsEngine> tls = nullptr);

  struct Read {
    enum class Status {
      data,         // `data` holds what arrived (with TLS it may be empty: handshake bytes only)
      would_block,  // nothing to read now
      eof,          // the peer closed its side (TCP FIN, or TLS close_notify)
      error,        // the connection broke (reset, TLS failure): see error()
    };
    Status status = Status::would_block;
    // Plaintext, writable (the frame parser unmasks in place). Valid until
    // the next read() into the same ReadBuffer.
    std::span<std::uint8_t> data{};
  };
  // One recv() of at most buffer.bytes.size() bytes.
  Read read(ReadBuffer& buffer);

  struct Write {
    enum class Status { ok, error };
    Status status = Status::ok;
    std::size_t taken = 0;  // bytes of the argument taken
    bool blocked = false;   // the socket is full: write again once it is writable
  };
  // Hands bytes to the network: without TLS straight to the socket (as far
  // as the kernel's send buffer takes them); with TLS into the engine, at
  // most kTlsChunk at a time and only while little ciphertext is queued, so
  // the queue stays small and the rest waits in the caller's buffer.
  Write write(std::string_view bytes);
  static constexpr std::size_t kTlsChunk = 64 * 1024;

  // Sends queued ciphertext (and, after shutdown_write(), the FIN once it is
  // all out). False if the connection broke.
  bool flush();
  // Bytes taken by write() but not yet given to the kernel (TLS only).
  std::size_t queued() const { return tls_out_.size() - tls_out_sent_; }
  // Something is waiting for the socket to become writable.
  bool wants_write() const { return queued() > 0 || (shutdown_requested_ && !shutdown_done_); }

  // Our side is done sending: with TLS a close_notify first; then a TCP FIN
  // (shutdown(SHUT_WR)) as soon as everything queued is sent. Reading goes on.
  void shutdown_write();
  bool shutdown_done() const { return shutdown_done_; }

  // Closes the socket. Remove it from the event loop first.
  void close();

  const Poco::Net::StreamSocket& socket() const { return socket_; }
  bool secure() const { return tls_ != nullptr; }
  TlsEngine* tls() const { return tls_.get(); }
  // TLS: the handshake is done; plain TCP: always true.
  bool handshake_done() const { return !tls_ || tls_->handshake_done(); }
  // Why read(), write() or flush() reported an error.
  const std::string& error() const { return error_; }
  // The socket's pending error (SO_ERROR) as text, "" if none: what an
  // event loop's on_error, or a failed non-blocking connect, is about.
  std::string socket_error();

 private:
  bool send_queued();
  void queue_tls_output();  // the engine's new ciphertext joins tls_out_
  bool fail(std::string why);

  Poco::Net::StreamSocket socket_;
  int fd_;
  std::unique_ptr<TlsEngine> tls_;
  std::string tls_out_;  // ciphertext not yet sent; released once it is all out
  std::size_t tls_out_sent_ = 0;
  bool shutdown_requested_ = false;
  bool shutdown_done_ = false;
  std::string error_;
};

}  // namespace wslab::net
