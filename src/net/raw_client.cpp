// The raw client. See raw_client.hpp.
#include <wslab/net/raw_client.hpp>

#include <wslab/uri.hpp>

#include <Poco/Exception.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace wslab::net {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Waits until `fd` is ready for `events`; false on timeout or error.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc > 0) return true;
    if (rc == 0 || errno != EINTR) return false;
  }
}

std::string printable(std::string_view bytes, std::size_t max = 40) {
  std::string out = "\"";
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';
  }
  out += bytes.size() > max ? "\"..." : "\"";
  return out;
}

}  // namespace

// --- RawFrame ---------------------------------------------------------------------

std::optional<std::uint16_t> RawFrame::close_code() const {
  if (header.opcode != static_cast<std::uint8_t>(framing::Opcode::close) || payload.size() < 2) return std::nullopt;
  return static_cast<std::uint16_t>(static_cast<unsigned char>(payload[0]) << 8 |
                                    static_cast<unsigned char>(payload[1]));
}

std::string RawFrame::close_reason() const {
  if (header.opcode != static_cast<std::uint8_t>(framing::Opcode::close) || payload.size() < 2) return {};
  return payload.substr(2);
}

std::string RawFrame::describe() const {
  std::string out(framing::opcode_name(header.opcode));
  if (const auto code = close_code()) {
    out += " " + std::to_string(*code);
    if (payload.size() > 2) out += " " + printable(close_reason(), 123);
    return out;
  }
  out += " " + std::to_string(payload.size()) + " bytes";
  if (!payload.empty()) out += " " + printable(payload);
  if (!header.fin) out += " (FIN=0)";
  return out;
}

// --- The connection ---------------------------------------------------------------

struct RawClient::Impl {
  RawClientOptions options;
  Poco::Net::StreamSocket socket;
  int fd = -1;
  bool open = false;
  std::optional<TlsContext> tls_context;
  std::unique_ptr<TlsEngine> tls;

  std::string request_head, response_head;
  handshake::Agreement agreement;

  // Bytes received and not yet parsed: at most what one receive brings plus
  // what the previous frame left over, because the parser takes everything
  // it is given before more is read.
  std::string in;
  std::size_t in_pos = 0;
  framing::FrameParser parser;
  RawFrame current;     // the frame being read
  bool in_frame = false;
  bool eof = false;
  std::string failure;  // sticky: set once a read broke a rule or the socket failed

  explicit Impl(RawClientOptions o)
      : options(std::move(o)),
        parser(framing::ParserOptions{.role = Role::client, .allowed_rsv = 0,
                                      .max_frame_size = options.max_frame_size}) {}

  // Every byte of `bytes` to the socket (no TLS), by `deadline`.
  bool write_plain(std::string_view bytes, Clock::time_point deadline) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n > 0) {
        bytes.remove_prefix(static_cast<std::size_t>(n));
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        if (!wait_for(fd, POLLOUT, deadline)) return false;
      } else {
        return false;
      }
    }
    return true;
  }

  bool pump_tls(Clock::time_point deadline) { return !tls->has_output() || write_plain(tls->take_output(), deadline); }

  bool write(std::string_view bytes, Clock::time_point deadline) {
    if (!open) return false;
    if (!tls) return write_plain(bytes, deadline);
    tls->write(bytes);
    return !tls->failed() && pump_tls(deadline);
  }

  enum class Got { data, timeout, eof, error };

  // Waits for bytes and appends them to `out`; `error` says why on Got::error.
  Got receive(std::string& out, Clock::time_point deadline, std::string& error) {
    char buffer[16 * 1024];
    for (;;) {
      if (!wait_for(fd, POLLIN, deadline)) return Got::timeout;
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n == 0) return Got::eof;
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
        error = std::string("receive failed: ") + std::strerror(errno);
        return Got::error;
      }
      if (!tls) {
        out.append(buffer, static_cast<std::size_t>(n));
        return Got::data;
      }
      tls->feed({reinterpret_cast<const std::uint8_t*>(buffer), static_cast<std::size_t>(n)});
      const std::size_t before = out.size();
      const bool ok = tls->read(out);
      if (!ok || !pump_tls(deadline)) {
        error = "TLS: " + tls->error();
        return Got::error;
      }
      if (out.size() > before) return Got::data;
      if (tls->peer_closed()) return Got::eof;
    }
  }

  void close() {
    if (!open) return;
    open = false;
    try {
      if (tls && !tls->failed()) {
        tls->shutdown();  // close_notify, best effort
        pump_tls(Clock::now() + std::chrono::milliseconds(100));
      }
      socket.close();
    } catch (const Poco::Exception&) {
      // Already gone: nothing left to close.
    }
  }
};

RawClient::RawClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RawClient::RawClient(RawClient&&) noexcept = default;
RawClient& RawClient::operator=(RawClient&&) noexcept = default;
RawClient::~RawClient() {
  if (impl_) impl_->close();
}

RawClient RawClient::connect(const std::string& url, RawDuration timeout, RawClientOptions options) {
  const auto deadline = Clock::now() + timeout;
  // Chapter 1: the URI (§3).
  auto target = uri::parse(url);
  if (!target) throw RawClientError("bad URL \"" + url + "\": " + target.violation().message());

  auto impl = std::make_unique<Impl>(std::move(options));
  const std::string where = target->authority();
  try {
    const Poco::Net::SocketAddress address(target->host, target->port);
    impl->socket = Poco::Net::StreamSocket(address.family());
    impl->socket.connect(address, Poco::Timespan(std::chrono::duration_cast<std::chrono::microseconds>(timeout).count()));
    impl->socket.setNoDelay(true);
    impl->socket.setBlocking(false);
  } catch (const Poco::Exception& e) {
    throw RawClientError("cannot connect to " + where + ": " + e.displayText());
  }
  impl->fd = impl->socket.impl()->sockfd();
  impl->open = true;

  // wss:// (§4.1 step 5): TLS with SNI; the request waits inside the engine
  // until the TLS handshake is done.
  if (target->secure) {
    try {
      impl->tls_context.emplace(TlsContext::client(impl->options.tls));
      impl->tls = std::make_unique<TlsEngine>(*impl->tls_context, target->host);
    } catch (const TlsError& e) {
      throw RawClientError(std::string("TLS: ") + e.what());
    }
    if (!impl->pump_tls(deadline)) throw RawClientError("cannot send the TLS ClientHello to " + where);
  }

  // Chapter 2: the opening handshake (§4.1).
  auto request = handshake::make_client_request(*target, impl->options.handshake);
  if (!request) throw RawClientError("cannot build the handshake request: " + request.violation().message());
  impl->request_head = request->bytes;
  if (!impl->write(request->bytes, deadline)) throw RawClientError("cannot send the handshake request to " + where);

  handshake::HeadReader reader(impl->options.head_limits, /*response=*/true);
  std::string received;
  while (reader.status() == handshake::HeadReader::Status::need_more) {
    received.clear();
    std::string error;
    const auto got = impl->receive(received, deadline, error);
    if (got == Impl::Got::timeout)
      throw RawClientError("opening handshake not complete after " + std::to_string(timeout.count()) + " ms (" +
                           where + ")");
    if (got == Impl::Got::eof) throw RawClientError("the server closed the connection during the opening handshake");
    if (got == Impl::Got::error) throw RawClientError(error);
    std::size_t consumed = 0;
    reader.feed(received, consumed);
    // Bytes after the head are frames already: they go to the frame parser.
    if (reader.status() == handshake::HeadReader::Status::complete) impl->in.assign(received, consumed);
  }
  if (reader.status() == handshake::HeadReader::Status::failed)
    throw RawClientError("bad handshake response: " + reader.violation().message());
  impl->response_head = reader.head();

  auto response = handshake::parse_response(reader.head());
  if (!response) throw RawClientError("bad handshake response: " + response.violation().message());
  auto agreement = handshake::validate_response(*response, *request);
  if (!agreement) {
    const std::string status = std::to_string(response->status) + " " + response->reason;
    throw RawClientError(response->status == 101 ? "handshake failed: " + agreement.violation().message()
                                                 : "handshake refused: HTTP " + status + " (" +
                                                       agreement.violation().message() + ")");
  }
  impl->agreement = std::move(*agreement);
  return RawClient(std::move(impl));
}

bool RawClient::send_bytes(std::span<const std::uint8_t> bytes, RawDuration timeout) {
  return send_bytes(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), timeout);
}

bool RawClient::send_bytes(std::string_view bytes, RawDuration timeout) {
  return impl_->write(bytes, Clock::now() + timeout);
}

bool RawClient::send_frame(const framing::FrameHeader& h, std::string_view payload, RawDuration timeout) {
  std::string bytes;
  framing::append_frame(bytes, h, payload);
  return send_bytes(bytes, timeout);
}

RawClient::Read RawClient::read_frame(RawDuration timeout) {
  Impl& s = *impl_;
  const auto deadline = Clock::now() + timeout;
  using Step = framing::FrameParser::Step;
  for (;;) {
    if (!s.failure.empty()) return {Status::error, std::nullopt, s.failure};
    // Parse what has arrived (chapter 3). A server's frames must not be
    // masked (§5.1): the client-role parser fails on a masked one.
    // The parser is called until it needs more, even on no input: the step
    // after a frame's last payload chunk is its frame_end.
    for (Step step = Step::header; step != Step::need_more;) {
      std::span<std::uint8_t> input(reinterpret_cast<std::uint8_t*>(s.in.data()) + s.in_pos, s.in.size() - s.in_pos);
      step = s.parser.next(input);
      s.in_pos = s.in.size() - input.size();
      switch (step) {
        case Step::header:
          s.current = RawFrame{s.parser.header(), {s.parser.raw_header().begin(), s.parser.raw_header().end()}, {}};
          s.in_frame = true;
          break;
        case Step::payload:
          s.current.payload.append(reinterpret_cast<const char*>(s.parser.payload().data()), s.parser.payload().size());
          break;
        case Step::frame_end:
          s.in_frame = false;
          return {Status::frame, std::move(s.current), {}};
        case Step::failed:
          s.failure = "the server's frame broke a rule: " + s.parser.violation().message();
          return {Status::error, std::nullopt, s.failure};
        case Step::need_more:
          break;
      }
    }
    s.in.clear();
    s.in_pos = 0;
    if (s.eof || !s.open) {
      if (s.in_frame)
        return {Status::eof, std::nullopt,
                "the connection ended in the middle of a frame (" + std::to_string(s.current.payload.size()) + " of " +
                    std::to_string(s.current.header.payload_length) + " payload bytes)"};
      return {Status::eof, std::nullopt, {}};
    }
    std::string error;
    switch (s.receive(s.in, deadline, error)) {
      case Impl::Got::data:
        break;
      case Impl::Got::timeout:
        return {Status::timeout, std::nullopt, {}};
      case Impl::Got::eof:
        s.eof = true;
        break;
      case Impl::Got::error:
        s.failure = error;
        break;
    }
  }
}

RawClient::UntilClosed RawClient::read_until_closed(RawDuration timeout) {
  const auto deadline = Clock::now() + timeout;
  UntilClosed result;
  for (;;) {
    auto r = read_frame(std::chrono::milliseconds(remaining_ms(deadline)));
    switch (r.status) {
      case Status::frame:
        result.frames.push_back(std::move(*r.frame));
        break;
      case Status::eof:
        result.eof = true;
        result.error = std::move(r.error);
        return result;
      case Status::timeout:
        result.error = "the server had not closed the connection after " + std::to_string(timeout.count()) + " ms";
        return result;
      case Status::error:
        result.error = std::move(r.error);
        return result;
    }
  }
}

void RawClient::close() { impl_->close(); }
bool RawClient::closed() const { return !impl_->open; }
const std::string& RawClient::request_head() const { return impl_->request_head; }
const std::string& RawClient::response_head() const { return impl_->response_head; }
const handshake::Agreement& RawClient::agreement() const { return impl_->agreement; }

}  // namespace wslab::net
