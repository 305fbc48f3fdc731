// The hostile server and the echoing client. See hostile_server.hpp.
#include "conformance/client/hostile_server.hpp"

#include <Poco/Base64Encoder.h>
#include <Poco/SHA1Engine.h>

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace wslab::conformance {

namespace {

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left);
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL, 0) | O_NONBLOCK); }

bool known_opcode(std::uint8_t op) { return op <= 2 || (op >= 8 && op <= 0xA); }

}  // namespace

// --- Frames --------------------------------------------------------------------------

std::string Frame::bytes() const {
  std::string out;
  out.push_back(static_cast<char>((fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | (opcode & 0xF)));
  const std::uint64_t length = declared_length.value_or(payload.size());
  int bits = length_bits;
  if (bits == 0) bits = length <= 125 ? 7 : length <= 0xFFFF ? 16 : 64;
  const char mask_bit = mask ? static_cast<char>(0x80) : 0;
  if (bits == 7) {
    out.push_back(static_cast<char>(mask_bit | static_cast<char>(length & 0x7F)));
  } else if (bits == 16) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>((length >> 8) & 0xFF));
    out.push_back(static_cast<char>(length & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((length >> shift) & 0xFF));
  }
  if (mask) {
    for (std::uint8_t k : *mask) out.push_back(static_cast<char>(k));
    for (std::size_t i = 0; i < payload.size(); ++i)
      out.push_back(static_cast<char>(static_cast<std::uint8_t>(payload[i]) ^ (*mask)[i % 4]));
  } else {
    out += payload;
  }
  return out;
}

std::string text(std::string_view payload, bool fin) {
  return Frame{.opcode = kText, .payload = std::string(payload), .fin = fin}.bytes();
}
std::string binary(std::string_view payload, bool fin) {
  return Frame{.opcode = kBinary, .payload = std::string(payload), .fin = fin}.bytes();
}
std::string continuation(std::string_view payload, bool fin) {
  return Frame{.opcode = kContinuation, .payload = std::string(payload), .fin = fin}.bytes();
}
std::string ping(std::string_view payload) { return Frame{.opcode = kPing, .payload = std::string(payload)}.bytes(); }
std::string pong(std::string_view payload) { return Frame{.opcode = kPong, .payload = std::string(payload)}.bytes(); }

std::string close_frame(std::uint16_t code, std::string_view reason) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload += reason;
  return close_frame_raw(payload);
}

std::string close_frame_raw(std::string_view payload) {
  return Frame{.opcode = kClose, .payload = std::string(payload)}.bytes();
}

std::string header_only(std::uint8_t opcode, std::uint64_t length, bool fin) {
  return Frame{.opcode = opcode, .fin = fin, .declared_length = length}.bytes();
}

// --- Received frames ------------------------------------------------------------------

std::optional<std::uint16_t> ReceivedFrame::close_code() const {
  if (opcode != kClose || payload.size() < 2) return std::nullopt;
  return static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                    static_cast<std::uint8_t>(payload[1]));
}

std::string ReceivedFrame::close_reason() const { return payload.size() > 2 ? payload.substr(2) : std::string(); }

std::string ReceivedFrame::describe() const {
  static constexpr const char* kNames[16] = {"continuation", "text", "binary", "op3", "op4", "op5", "op6", "op7",
                                             "close", "ping", "pong", "opB", "opC", "opD", "opE", "opF"};
  std::ostringstream out;
  out << kNames[opcode & 0xF] << (fin ? " fin" : " nofin") << " len=" << length
      << (masked ? " key=" + hex(std::string(reinterpret_cast<const char*>(key.data()), 4)) : " unmasked");
  if (opcode == kClose && close_code()) out << " code=" << *close_code();
  out << " payload=" << hex(payload);
  if (!problems.empty()) out << " PROBLEMS: " << problems;
  return out.str();
}

// --- The server ----------------------------------------------------------------------

HostileServer::HostileServer() {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;  // ephemeral
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener_, 8) != 0) {
    const std::string why = std::strerror(errno);
    ::close(listener_);
    throw std::runtime_error("bind/listen on 127.0.0.1: " + why);
  }
  socklen_t size = sizeof address;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size);
  port_ = ntohs(address.sin_port);
  set_nonblocking(listener_);
}

HostileServer::~HostileServer() {
  drop_connection();
  if (listener_ >= 0) ::close(listener_);
}

std::string HostileServer::url(std::string_view resource) const {
  return "ws://127.0.0.1:" + std::to_string(port_) + std::string(resource);
}

void HostileServer::drop_connection() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  request_.clear();
  inbox_.clear();
  inbox_start_ = 0;
  peer_closed_ = peer_reset_ = false;
  frames_.clear();
  rsv1_agreed_ = false;
}

bool HostileServer::connection_pending(Ms wait) {
  pollfd p{listener_, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(wait.count())) > 0 && (p.revents & POLLIN);
}

bool HostileServer::accept(Ms timeout) {
  drop_connection();
  if (!connection_pending(timeout)) return false;
  fd_ = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd_ < 0) return false;
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return true;
}

bool HostileServer::fill(Clock::time_point deadline) {
  if (fd_ < 0 || peer_closed_) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, remaining_ms(deadline)) <= 0) return false;
  char buffer[256 * 1024];
  const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
  if (n > 0) {
    if (inbox_start_ > 0 && inbox_start_ == inbox_.size()) {
      inbox_.clear();
      inbox_start_ = 0;
    }
    inbox_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }
  if (n == 0) {
    peer_closed_ = true;
    return true;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
  peer_closed_ = true;  // ECONNRESET and friends: gone as well
  peer_reset_ = true;
  return true;
}

std::optional<std::string> HostileServer::read_request(Ms timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto end = inbox_.find("\r\n\r\n", inbox_start_);
    if (end != std::string::npos) {
      request_ = inbox_.substr(inbox_start_, end + 4 - inbox_start_);
      inbox_start_ = end + 4;
      return request_;
    }
    if (peer_closed_ || !fill(deadline)) return std::nullopt;
  }
}

std::optional<std::string> HostileServer::request_header(std::string_view name) const {
  std::string_view rest(request_);
  const auto first = rest.find("\r\n");
  if (first == std::string_view::npos) return std::nullopt;
  rest.remove_prefix(first + 2);
  while (!rest.empty()) {
    const auto eol = rest.find("\r\n");
    const std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 2);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos && iequals(trim(line.substr(0, colon)), name))
      return std::string(trim(line.substr(colon + 1)));
  }
  return std::nullopt;
}

std::string HostileServer::accept_value() const {
  // RFC 6455 §1.3, §4.2.2 item 5.4: base64(SHA-1(key + GUID)).
  const std::string key = request_header("Sec-WebSocket-Key").value_or("");
  Poco::SHA1Engine sha1;
  sha1.update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  const Poco::DigestEngine::Digest& digest = sha1.digest();
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.write(reinterpret_cast<const char*>(digest.data()), static_cast<std::streamsize>(digest.size()));
  encoder.close();
  return out.str();
}

std::string HostileServer::response_101(std::string_view extra_headers) const {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
         accept_value() + "\r\n" + std::string(extra_headers) + "\r\n";
}

bool HostileServer::send(std::string_view bytes) {
  if (fd_ < 0) return false;
  const auto deadline = Clock::now() + 20s;  // 16 MiB through a slow debug client
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;  // EPIPE, ECONNRESET
    // Full: wait until we may write, reading meanwhile so that a client
    // busy writing to us never waits for us.
    if (Clock::now() >= deadline) return false;
    pollfd p{fd_, static_cast<short>(POLLOUT | (peer_closed_ ? 0 : POLLIN)), 0};
    ::poll(&p, 1, 50);
    if (p.revents & POLLIN) fill(Clock::now());
  }
  last_send_end_ = Clock::now();
  return true;
}

bool HostileServer::send_chopped(std::string_view bytes, std::size_t chop, Ms pause) {
  while (!bytes.empty()) {
    const std::size_t n = std::min(chop, bytes.size());
    if (!send(bytes.substr(0, n))) return false;
    bytes.remove_prefix(n);
    if (pause.count() > 0) std::this_thread::sleep_for(pause);
  }
  return true;
}

bool HostileServer::send_frames(const std::vector<std::string>& frames, Ms pause) {
  for (const std::string& f : frames) {
    if (!send(f)) return false;
    if (pause.count() > 0) std::this_thread::sleep_for(pause);
  }
  return true;
}

std::optional<ReceivedFrame> HostileServer::parse_one() {
  const std::string_view data = std::string_view(inbox_).substr(inbox_start_);
  if (data.size() < 2) return std::nullopt;
  const auto b0 = static_cast<std::uint8_t>(data[0]);
  const auto b1 = static_cast<std::uint8_t>(data[1]);
  const std::size_t len7 = b1 & 0x7F;
  const std::size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  const bool masked = (b1 & 0x80) != 0;
  const std::size_t header = 2 + ext + (masked ? 4 : 0);
  if (data.size() < header) return std::nullopt;
  std::uint64_t length = len7;
  if (ext > 0) {
    length = 0;
    for (std::size_t i = 0; i < ext; ++i) length = (length << 8) | static_cast<std::uint8_t>(data[2 + i]);
  }
  // A client sending a frame this big to a test is broken: report it
  // instead of waiting for bytes that will never come.
  REQUIRE(length <= (std::uint64_t{64} << 20));
  if (data.size() - header < length) return std::nullopt;

  ReceivedFrame f;
  f.fin = (b0 & 0x80) != 0;
  f.rsv = static_cast<std::uint8_t>((b0 >> 4) & 0x7);
  f.opcode = b0 & 0xF;
  f.masked = masked;
  f.length = length;
  if (masked)
    for (int i = 0; i < 4; ++i) f.key[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(data[2 + ext + static_cast<std::size_t>(i)]);
  f.raw = std::string(data.substr(0, header + length));
  f.payload = f.raw.substr(header);
  if (masked)
    for (std::size_t i = 0; i < f.payload.size(); ++i)
      f.payload[i] = static_cast<char>(static_cast<std::uint8_t>(f.payload[i]) ^ f.key[i % 4]);
  f.at = Clock::now();
  inbox_start_ += header + length;

  // The rules a client's frame must keep.
  std::vector<std::string> problems;
  if (!masked) problems.push_back("not masked (MK-1, RFC 6455 §5.1)");
  if (masked && f.key == std::array<std::uint8_t, 4>{})
    problems.push_back("masking key 00000000 (MK-4, §5.3: unpredictable)");
  if (masked && !frames_.empty() && frames_.back().masked && frames_.back().key == f.key)
    problems.push_back("masking key repeated from the previous frame (MK-4, §5.3: a fresh key per frame)");
  const std::uint8_t allowed = rsv1_agreed_ ? 4 : 0;  // RSV1 with permessage-deflate (RFC 7692 §6)
  if ((f.rsv & ~allowed) != 0) problems.push_back("RSV bits set without an extension (FR-1, §5.2)");
  if ((f.rsv & allowed) != 0 && f.opcode >= 8)
    problems.push_back("RSV1 on a control frame (PMD-5, RFC 7692 §6)");
  if ((f.rsv & allowed) != 0 && f.opcode == kContinuation)
    problems.push_back("RSV1 on a continuation frame (PMD-5, RFC 7692 §6)");
  if (!known_opcode(f.opcode)) problems.push_back("reserved opcode (FR-2, §5.2)");
  if (f.opcode >= 8 && (!f.fin || length > 125)) problems.push_back("control frame fragmented or > 125 bytes (FR-4, §5.5)");
  if ((ext == 2 && length <= 125) || (ext == 8 && length <= 0xFFFF))
    problems.push_back("non-minimal length encoding (FR-3, §5.2)");
  for (const auto& p : problems) f.problems += (f.problems.empty() ? "" : "; ") + p;
  frames_.push_back(f);
  return f;
}

HostileServer::Next HostileServer::next(Ms timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (auto f = parse_one()) return Next{Got::frame, std::move(*f)};
    if (peer_closed_) return Next{Got::closed, {}};
    if (fd_ < 0) return Next{Got::timeout, {}};  // we closed it ourselves
    if (!fill(deadline)) {
      if (Clock::now() >= deadline) return Next{Got::timeout, {}};
    }
  }
}

void HostileServer::shutdown_write() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

void HostileServer::close_connection() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

// --- The client under test -----------------------------------------------------------

net::ClientOptions test_client_options() {
  net::ClientOptions o;
  o.proxy = "";  // never a proxy from the environment: the server is on 127.0.0.1
  o.handshake_timeout = 3s;
  o.close_timeout = 1s;
  return o;
}

EchoClient::EchoClient(std::string url, net::ClientOptions options, std::vector<std::string> protocols)
    : ws(url, std::move(protocols), std::move(options)) {
  events.attach(ws);
  auto record = ws.onmessage;
  ws.onmessage = [this, record](const net::MessageEvent& e) {
    record(e);
    if (!echo_.load()) return;
    if (e.binary) {
      ws.send(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(e.data.data()), e.data.size()));
    } else {
      ws.send(e.data);
    }
  };
}

// --- One conversation ------------------------------------------------------------------

ClientCase::ClientCase(net::ClientOptions options, std::vector<std::string> protocols)
    : client(server.url(), std::move(options), std::move(protocols)) {}

void ClientCase::open(std::string_view after_101, std::string_view extensions) {
  client.ws.connect();
  REQUIRE(server.accept());
  REQUIRE(server.read_request());
  // §4.1: the client sends nothing more before the server's response.
  REQUIRE(server.leftover() == 0);
  std::string headers;
  if (!extensions.empty()) {
    headers = "Sec-WebSocket-Extensions: " + std::string(extensions) + "\r\n";
    server.allow_rsv1(extensions.find("permessage-deflate") != std::string_view::npos);
  }
  REQUIRE(server.send(server.response_101(headers) + std::string(after_101)));
  REQUIRE(client.events.wait_open(3s));
}

ReceivedFrame ClientCase::expect_frame(Ms timeout) {
  auto n = server.next(timeout);
  INFO("expected a frame from the client; got " << (n.what == HostileServer::Got::closed ? "TCP closed" : "nothing")
                                                << "; client events: " << Catch::Detail::stringify(client.events.log()));
  REQUIRE(n.what == HostileServer::Got::frame);
  INFO("client frame: " << n.frame.describe());
  CHECK(n.frame.problems.empty());
  return n.frame;
}

void ClientCase::expect_echo(std::uint8_t opcode, std::string_view payload, Ms timeout) {
  const ReceivedFrame f = expect_frame(timeout);
  INFO("client frame: " << f.describe());
  CHECK(f.opcode == opcode);
  CHECK(f.fin);
  CHECK(f.payload.size() == payload.size());
  CHECK(f.payload == payload);  // byte for byte, once unmasked
}

void ClientCase::expect_pong(std::string_view payload) {
  const ReceivedFrame f = expect_frame();
  INFO("client frame: " << f.describe());
  CHECK(f.opcode == kPong);
  CHECK(f.payload == payload);  // §5.5.3: the Ping's application data, identical
}

void ClientCase::expect_silence(Ms quiet) {
  auto n = server.next(quiet);
  INFO("the client should send nothing now; it sent " << (n.what == HostileServer::Got::frame ? n.frame.describe()
                                                                                                : "a TCP close"));
  CHECK(n.what == HostileServer::Got::timeout);
}

void ClientCase::expect_failure(std::uint16_t code, error rule) {
  const std::size_t messages_before = client.events.message_count();
  const ReceivedFrame f = expect_frame();
  {
    INFO("the client should fail the connection with a Close " << code << " (RFC 6455 §7.1.7); it sent "
                                                               << f.describe());
    REQUIRE(f.opcode == kClose);
    CHECK(f.close_code() == std::optional<std::uint16_t>(code));
  }
  // §7.1.7: nothing after the Close; the client closes TCP.
  auto after = server.next(3s);
  {
    INFO("after its Close the client should close TCP and send nothing; got "
         << (after.what == HostileServer::Got::frame ? after.frame.describe() : "a timeout"));
    CHECK(after.what == HostileServer::Got::closed);
  }
  CHECK(server.leftover() == 0);
  REQUIRE(client.events.wait_close(3s));
  const auto error_event = client.events.error();
  REQUIRE(error_event);
  INFO("onerror: " << error_event->message);
  REQUIRE(error_event->violation);
  CHECK(error_event->violation->rule().name == wslab::rule(rule).name);
  CHECK(error_event->message.find(std::to_string(code)) != std::string::npos);  // names the code and section
  CHECK(error_event->message.find(std::string(wslab::rule(rule).section)) != std::string::npos);
  const auto closed = client.events.closed();
  REQUIRE(closed);
  // §7.1.5 (CL-17): having failed, the client processes no Close, so it
  // reports 1006, as a browser does; the code it sent is sentCode.
  CHECK(closed->code == 1006);
  CHECK(closed->sentCode == std::optional<std::uint16_t>(code));
  CHECK_FALSE(closed->wasClean);
  CHECK(client.events.message_count() == messages_before);  // nothing delivered after the bad frame
  CHECK(client.ws.readyState() == net::Client::CLOSED);
}

void ClientCase::close_normally(std::string_view sent, std::optional<std::uint16_t> answer, std::uint16_t reported,
                                Ms wait) {
  REQUIRE(server.send(sent));
  const ReceivedFrame f = expect_frame();
  {
    INFO("the client should answer our Close (RFC 6455 §5.5.1, CL-3); it sent " << f.describe());
    REQUIRE(f.opcode == kClose);
    CHECK(f.close_code() == answer);
    if (!answer) CHECK(f.payload.empty());
  }
  // §7.1.1 (CL-4): the server closes TCP first; the client waits for it, and
  // sends nothing after its Close (§5.5.1, CL-2).
  auto waiting = server.next(wait);
  {
    INFO("after the close handshake the client should wait for the server to close TCP; got "
         << (waiting.what == HostileServer::Got::frame ? waiting.frame.describe() : "a TCP close"));
    CHECK(waiting.what == HostileServer::Got::timeout);
  }
  server.shutdown_write();
  auto gone = server.next(3s);
  CHECK(gone.what == HostileServer::Got::closed);
  REQUIRE(client.events.wait_close(3s));
  const auto closed = client.events.closed();
  REQUIRE(closed);
  CHECK(closed->code == reported);
  CHECK(closed->wasClean);
  INFO("onerror: " << (client.events.error() ? client.events.error()->message : ""));
  CHECK_FALSE(client.events.error());
}

Violation reported_violation(const EchoClient& client) {
  const auto e = client.events.error();
  REQUIRE(e);
  INFO("onerror: " << e->message);
  REQUIRE(e->violation);
  return *e->violation;
}

std::string repeat(char fill, std::size_t n) { return std::string(n, fill); }

std::string repeat(std::string_view pattern, std::size_t n) {
  std::string out;
  out.reserve(n);
  while (out.size() < n) out.append(pattern.substr(0, std::min(pattern.size(), n - out.size())));
  return out;
}

std::string hex(std::string_view bytes, std::size_t max) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    const auto b = static_cast<std::uint8_t>(bytes[i]);
    out += kDigits[b >> 4];
    out += kDigits[b & 0xF];
  }
  if (bytes.size() > max) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

}  // namespace wslab::conformance
