// The server's test harness. See server_test_helpers.hpp.
#include "server_test_helpers.hpp"

#include <wslab/uri.hpp>

#include <Poco/Message.h>
#include <Poco/Net/SocketAddress.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <random>

namespace wslab::testing {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point end) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Waits until `fd` is ready for `events`; false on timeout.
bool wait_for(int fd, short events, Clock::time_point end) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, remaining_ms(end));
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

net::ServerOptions test_options() {
  net::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.close_timeout = 2s;
  o.handshake_timeout = 5s;
  return o;
}

// --- RunningServer ----------------------------------------------------------------

RunningServer::RunningServer(net::ServerOptions options)
    : server_(std::make_unique<net::Server>(std::move(options))) {
  thread_ = std::thread([this] {
    server_->run();
    finished_.store(true);
  });
}

bool RunningServer::stop(Duration timeout) {
  server_->stop();
  if (!eventually([this] { return finished_.load(); }, timeout)) return false;
  if (thread_.joinable()) thread_.join();
  return true;
}

RunningServer::~RunningServer() {
  if (!thread_.joinable()) return;
  if (!stop(20s)) {
    std::fputs("RunningServer: run() did not return 20 s after stop(); aborting\n", stderr);
    std::abort();
  }
}

// --- RawClient ------------------------------------------------------------------

RawClient::RawClient(std::uint16_t port, const net::TlsContext* tls, std::string server_name, int receive_buffer)
    : socket_(Poco::Net::SocketAddress::IPv4) {
  if (receive_buffer > 0) socket_.setReceiveBufferSize(receive_buffer);
  socket_.connect(Poco::Net::SocketAddress("127.0.0.1", port), Poco::Timespan(5, 0));
  socket_.setNoDelay(true);
  socket_.setBlocking(false);
  fd_ = socket_.impl()->sockfd();
  if (tls) {
    tls_ = std::make_unique<net::TlsEngine>(*tls, std::move(server_name));
    pump_tls_output(5s);  // the ClientHello
  }
}

RawClient::~RawClient() {
  try {
    socket_.close();
  } catch (...) {
  }
}

bool RawClient::send_plain(std::string_view bytes, Duration timeout) {
  const auto end = Clock::now() + timeout;
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (!wait_for(fd_, POLLOUT, end)) return false;
      continue;
    }
    return false;
  }
  return true;
}

bool RawClient::pump_tls_output(Duration timeout) {
  const std::string out = tls_->take_output();
  return send_plain(out, timeout);
}

bool RawClient::send(std::string_view bytes, Duration timeout) {
  if (!tls_) return send_plain(bytes, timeout);
  tls_->write(bytes);
  return !tls_->failed() && pump_tls_output(timeout);
}

std::size_t RawClient::send_some(std::string_view bytes) {
  const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

RawClient::Status RawClient::receive(std::string& out, Duration timeout) {
  const auto end = Clock::now() + timeout;
  char buffer[64 * 1024];
  for (;;) {
    if (!wait_for(fd_, POLLIN, end)) return Status::timeout;
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n == 0) return Status::eof;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      return Status::error;
    }
    if (!tls_) {
      out.append(buffer, static_cast<std::size_t>(n));
      return Status::data;
    }
    tls_->feed(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(buffer), static_cast<std::size_t>(n)));
    const std::size_t before = out.size();
    const bool ok = tls_->read(out);
    if (!pump_tls_output(Duration(remaining_ms(end) + 1)) || !ok) return Status::error;
    if (out.size() > before) return Status::data;
    if (tls_->peer_closed()) return Status::eof;
  }
}

std::string RawClient::read_until_eof(Duration timeout, bool* eof) {
  const auto end = Clock::now() + timeout;
  std::string out;
  Status s = Status::data;
  while (s == Status::data) s = receive(out, Duration(remaining_ms(end)));
  if (eof) *eof = s == Status::eof;
  return out;
}

void RawClient::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

void RawClient::reset() {
  linger l{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  socket_.close();
}

// --- HTTP -------------------------------------------------------------------------

const std::string* HttpResult::header(std::string_view name) const { return headers.find(name); }

HttpResult http_exchange(std::uint16_t port, std::string_view request, Duration timeout,
                         const net::TlsContext* tls) {
  RawClient client(port, tls, "localhost");
  HttpResult r;
  if (!client.send(request)) return r;
  r.raw = client.read_until_eof(timeout, &r.eof);
  const auto end = r.raw.find("\r\n\r\n");
  if (end == std::string::npos) return r;
  r.head = r.raw.substr(0, end + 4);
  r.body = r.raw.substr(end + 4);
  auto parsed = handshake::parse_response(r.head);
  if (parsed) {
    r.status = parsed->status;
    r.headers = parsed->headers;
  }
  return r;
}

std::string http_get(std::string_view path, std::string_view extra_headers) {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + std::string(extra_headers) + "\r\n";
}

std::string upgrade_request(std::string_view path, std::string_view extra_headers) {
  return "GET " + std::string(path) +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
         std::string(extra_headers) + "\r\n";
}

// --- WsClient ---------------------------------------------------------------------

WsClient::WsClient(std::uint16_t port, WsClientOptions options)
    : port_(port), options_(std::move(options)), raw_(port, options_.tls, "localhost") {
  connection::Options o;
  o.role = Role::client;
  o.max_frame_size = options_.max_message_size;
  o.max_message_size = options_.max_message_size;
  o.close_timeout = 5s;
  o.client.origin = options_.origin;
  o.permessage_deflate = options_.permessage_deflate;
  conn_ = std::make_unique<connection::Connection>(std::move(o), Clock::now());
}

bool WsClient::flush(Duration timeout) {
  const std::string_view out = conn_->output();
  if (out.empty()) return true;
  const bool ok = raw_.send(out, timeout);
  conn_->consume_output(out.size());
  return ok;
}

bool WsClient::open(Duration timeout) {
  const std::string scheme = options_.tls ? "wss://" : "ws://";
  auto target = uri::parse(scheme + "localhost:" + std::to_string(port_) + options_.path);
  if (!target || conn_->connect(*target, Clock::now()) || !flush()) return false;
  const auto end = Clock::now() + timeout;
  while (auto e = next_event(Duration(remaining_ms(end)))) {
    if (e->type == Event::Type::open) return true;
    if (e->type == Event::Type::error && e->violation && e->violation->id() == error::bad_status) {
      // "status 403 Forbidden, expected 101 ...": keep the number for the test.
      const std::string& d = e->violation->detail();
      const auto digits = d.find_first_of("0123456789");
      if (digits != std::string::npos) rejection_ = std::atoi(d.c_str() + digits);
    }
    if (e->type == Event::Type::close) return false;
  }
  return false;
}

bool WsClient::send_text(std::string_view text) { return conn_->send_text(text) && flush(); }

bool WsClient::send_binary(std::string_view data) { return conn_->send_binary(data) && flush(); }

bool WsClient::send_fragments(framing::Opcode opcode, std::vector<std::string_view> fragments) {
  return conn_->send_fragments(opcode, fragments) && flush();
}

bool WsClient::ping(std::string_view payload) { return conn_->send_ping(payload) && flush(); }

bool WsClient::close(std::uint16_t code, std::string_view reason) {
  conn_->close(code, reason);
  return flush();
}

std::optional<Event> WsClient::next_event(Duration timeout) {
  const auto end = Clock::now() + timeout;
  std::string bytes;
  while (!conn_->has_event()) {
    if (eof_ || Clock::now() >= end) return std::nullopt;
    bytes.clear();
    const auto status = raw_.receive(bytes, Duration(remaining_ms(end)));
    const auto now = Clock::now();
    if (status == RawClient::Status::data) {
      conn_->receive(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(bytes.data()), bytes.size()), now);
    } else if (status == RawClient::Status::eof || status == RawClient::Status::error) {
      eof_ = true;
      raw_.shutdown_write();  // as a browser does: the server's FIN is answered with ours
      conn_->transport_closed(now);
    } else {
      conn_->tick(now);
    }
    flush();  // pongs and close replies
  }
  return conn_->next_event();
}

std::optional<Event> WsClient::next_message(Duration timeout) {
  const auto end = Clock::now() + timeout;
  while (auto e = next_event(Duration(remaining_ms(end)))) {
    if (e->type != Event::Type::ping && e->type != Event::Type::pong) return e;
  }
  return std::nullopt;
}

std::optional<Event> WsClient::wait_close(Duration timeout) {
  const auto end = Clock::now() + timeout;
  while (auto e = next_event(Duration(remaining_ms(end)))) {
    if (e->type == Event::Type::close) return e;
  }
  return std::nullopt;
}

// --- Logs, payloads -----------------------------------------------------------------

void LogCapture::log(const Poco::Message& message) {
  std::lock_guard lock(mutex_);
  messages_.emplace_back(static_cast<int>(message.getPriority()), message.getText());
}

std::vector<std::pair<int, std::string>> LogCapture::messages() const {
  std::lock_guard lock(mutex_);
  return messages_;
}

bool LogCapture::contains(int priority, std::string_view text) const {
  std::lock_guard lock(mutex_);
  for (const auto& [p, t] : messages_)
    if (p == priority && t.find(text) != std::string::npos) return true;
  return false;
}

std::string pattern(std::size_t size, std::uint32_t seed) {
  std::string s(size, '\0');
  std::uint32_t x = seed * 2654435761u + 12345u;
  for (std::size_t i = 0; i < size; ++i) {
    x = x * 1103515245u + 12345u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

std::string text_pattern(std::size_t size, std::uint32_t seed) {
  std::string s;
  s.reserve(size);
  std::uint32_t x = seed + 7;
  while (s.size() < size) {
    x = x * 1103515245u + 12345u;
    if (size - s.size() >= 2 && (x >> 28) == 0) {
      s += "\xC3\xA9";  // é
    } else {
      s += static_cast<char>('a' + (x >> 24) % 26);
    }
  }
  return s;
}

std::uint16_t close_code_of(std::string_view payload) {
  if (payload.size() < 2) return 0;
  return static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]));
}

std::vector<WireFrame> parse_server_frames(std::string bytes) {
  std::vector<WireFrame> frames;
  framing::FrameParser parser(framing::ParserOptions{Role::client, 0, std::uint64_t{1} << 40});
  std::span<std::uint8_t> input(reinterpret_cast<std::uint8_t*>(bytes.data()), bytes.size());
  WireFrame current;
  for (;;) {
    switch (parser.next(input)) {
      case framing::FrameParser::Step::need_more:
      case framing::FrameParser::Step::failed:
        return frames;
      case framing::FrameParser::Step::header:
        current = WireFrame{parser.header().opcode, parser.header().fin, {}};
        break;
      case framing::FrameParser::Step::payload:
        current.payload.append(reinterpret_cast<const char*>(parser.payload().data()), parser.payload().size());
        break;
      case framing::FrameParser::Step::frame_end:
        frames.push_back(std::move(current));
        break;
    }
  }
}

std::string client_frame(std::uint8_t opcode, std::string_view payload, bool fin, bool mask, bool rsv1) {
  framing::FrameHeader h;
  h.fin = fin;
  h.rsv1 = rsv1;
  h.opcode = opcode;
  h.mask = mask;
  h.masking_key = {0x37, 0xfa, 0x21, 0x3d};
  std::string out;
  framing::append_frame(out, h, payload);
  return out;
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  std::string p;
  p += static_cast<char>(code >> 8);
  p += static_cast<char>(code & 0xff);
  p += reason;
  return p;
}

bool raw_upgrade(RawClient& client, std::string_view path, std::string* rest) {
  if (!client.send(upgrade_request(path))) return false;
  std::string in;
  const auto end = Clock::now() + 5s;
  while (in.find("\r\n\r\n") == std::string::npos) {
    if (client.receive(in, Duration(remaining_ms(end))) != RawClient::Status::data) return false;
  }
  const auto head_end = in.find("\r\n\r\n") + 4;
  if (rest) *rest = in.substr(head_end);
  return in.rfind("HTTP/1.1 101", 0) == 0;
}

}  // namespace wslab::testing
