// The raw test peer. See raw_peer.hpp.
#include "raw_peer.hpp"

#include <Poco/Base64Encoder.h>
#include <Poco/SHA1Engine.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <sstream>
#include <utility>

namespace wslab::conformance {

namespace {

// Masking keys for the peer's frames: fresh for every frame (§5.3), from a
// fixed seed so a failing run can be repeated byte for byte. Every key byte
// is non-zero, so an unmasked byte can never pass for a masked one.
std::array<std::uint8_t, 4> next_key() {
  static std::mt19937 generator(6455);
  std::uniform_int_distribution<int> byte(1, 255);
  return {static_cast<std::uint8_t>(byte(generator)), static_cast<std::uint8_t>(byte(generator)),
          static_cast<std::uint8_t>(byte(generator)), static_cast<std::uint8_t>(byte(generator))};
}

// §5.3: octet i of the payload is XORed with octet i mod 4 of the key. Eight
// octets at a time (the payload starts at key octet 0, so every 8-octet word
// meets the key twice over), then the tail one by one.
void mask_in_place(char* data, std::size_t size, const std::array<std::uint8_t, 4>& key) {
  unsigned char key8[8];
  for (int i = 0; i < 8; ++i) key8[i] = key[static_cast<std::size_t>(i % 4)];
  std::uint64_t k;
  std::memcpy(&k, key8, 8);
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, data + i, 8);
    w ^= k;
    std::memcpy(data + i, &w, 8);
  }
  for (; i < size; ++i) data[i] = static_cast<char>(static_cast<unsigned char>(data[i]) ^ key[i % 4]);
}

// The header octets (§5.2) up to, not including, the masking key.
void append_header(std::string& out, bool fin, std::uint8_t rsv, std::uint8_t opcode, bool mask,
                   std::uint64_t length) {
  out += static_cast<char>((fin ? 0x80 : 0x00) | ((rsv & 0x7) << 4) | (opcode & 0x0F));
  const int m = mask ? 0x80 : 0x00;
  if (length <= 125) {
    out += static_cast<char>(m | static_cast<int>(length));
  } else if (length <= 0xFFFF) {
    out += static_cast<char>(m | 126);
    out += static_cast<char>((length >> 8) & 0xFF);
    out += static_cast<char>(length & 0xFF);
  } else {
    out += static_cast<char>(m | 127);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((length >> shift) & 0xFF);
  }
}

}  // namespace

std::string encode(const Frame& f) {
  std::string out;
  out.reserve(14 + f.payload.size());
  append_header(out, f.fin, f.rsv, f.opcode, f.mask, f.length.value_or(f.payload.size()));
  if (!f.mask) return out + f.payload;
  const auto key = next_key();
  out.append(reinterpret_cast<const char*>(key.data()), key.size());
  const std::size_t start = out.size();
  out += f.payload;
  mask_in_place(out.data() + start, f.payload.size(), key);
  return out;
}

std::string encode(const std::vector<Frame>& frames) {
  std::string out;
  for (const auto& f : frames) out += encode(f);
  return out;
}

std::string server_wire(std::uint8_t opcode, std::string_view payload, bool fin) {
  std::string out;
  append_header(out, fin, 0, opcode, false, payload.size());
  out += payload;
  return out;
}

std::string close_body(std::uint16_t code, std::string_view reason) {
  std::string out;
  out += static_cast<char>(code >> 8);
  out += static_cast<char>(code & 0xFF);
  out += reason;
  return out;
}

std::string hex(std::string_view bytes, std::size_t max) {
  std::string out;
  char buffer[4];
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    std::snprintf(buffer, sizeof buffer, "%02x", static_cast<unsigned char>(bytes[i]));
    if (!out.empty()) out += ' ';
    out += buffer;
  }
  if (bytes.size() > max) out += " ... (" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

Utf8Verdict utf8_verdict(std::string_view text) {
  // Table 3-7, Well-Formed UTF-8 Byte Sequences: a lead octet decides how
  // many continuation octets follow and the range of the first of them; the
  // others are 80..BF.
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead <= 0x7F) {
      ++i;
      continue;
    }
    std::size_t more = 0;
    unsigned char low = 0x80, high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      more = 1;
    } else if (lead == 0xE0) {
      more = 2, low = 0xA0;  // below: overlong
    } else if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) {
      more = 2;
    } else if (lead == 0xED) {
      more = 2, high = 0x9F;  // above: UTF-16 surrogates
    } else if (lead == 0xF0) {
      more = 3, low = 0x90;  // below: overlong
    } else if (lead >= 0xF1 && lead <= 0xF3) {
      more = 3;
    } else if (lead == 0xF4) {
      more = 3, high = 0x8F;  // above: beyond U+10FFFF
    } else {
      return {i, false};  // 80..C1 and F5..FF never start a character
    }
    for (std::size_t k = 1; k <= more; ++k) {
      if (i + k >= text.size()) return {Utf8Verdict::none, false};  // ends inside the character
      const auto octet = static_cast<unsigned char>(text[i + k]);
      const unsigned char lo = k == 1 ? low : 0x80, hi = k == 1 ? high : 0xBF;
      if (octet < lo || octet > hi) return {i + k, false};
    }
    i += more + 1;
  }
  return {};
}

std::string Got::wire() const {
  std::string out(frame.raw_header.begin(), frame.raw_header.end());
  return out + frame.payload;
}

// --- Peer -------------------------------------------------------------------------

namespace {

net::RawClientOptions peer_options() {
  net::RawClientOptions o;
  o.max_frame_size = 20u << 20;
  return o;
}

}  // namespace

// --- The peer that offers extensions: its own handshake and frame decoder ------------

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Every value of header `name` in an HTTP head, in order.
std::vector<std::string> header_values(std::string_view head, std::string_view name) {
  std::vector<std::string> out;
  const std::string wanted = lowered(name);
  std::size_t at = head.find("\r\n");
  while (at != std::string_view::npos && at + 2 < head.size()) {
    const std::size_t start = at + 2;
    const std::size_t end = head.find("\r\n", start);
    const std::string_view line = head.substr(start, (end == std::string_view::npos ? head.size() : end) - start);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && lowered(trimmed(line.substr(0, colon))) == wanted)
      out.emplace_back(trimmed(line.substr(colon + 1)));
    at = end;
  }
  return out;
}

std::string base64(const unsigned char* data, std::size_t size) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  encoder.close();
  return out.str();
}

// RFC 6455 §4.2.2 item 5.4: base64(SHA-1(key + GUID)), with POCO's SHA-1.
std::string accept_for(const std::string& key) {
  Poco::SHA1Engine sha1;
  sha1.update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  const auto& digest = sha1.digest();
  return base64(digest.data(), digest.size());
}

bool is_control_opcode(std::uint8_t opcode) { return (opcode & 0x8) != 0; }
bool known_opcode(std::uint8_t opcode) { return opcode <= 2 || (opcode >= 8 && opcode <= 0xA); }

}  // namespace

struct Peer::OwnClient {
  int fd = -1;
  std::string head;       // the response head
  bool deflate = false;   // the response accepted permessage-deflate: RSV1 has a meaning
  std::string in;         // received, not yet decoded
  bool eof = false;
  std::string failure;    // sticky
  bool in_message = false;  // a fragmented data message is open (§5.4)

  ~OwnClient() {
    if (fd >= 0) ::close(fd);
  }

  static bool wait(int fd, short events, Clock::time_point deadline) {
    for (;;) {
      const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
      pollfd p{fd, events, 0};
      const int rc = ::poll(&p, 1, left > 0 ? static_cast<int>(left) : 0);
      if (rc > 0) return true;
      if (rc == 0 || errno != EINTR) return false;
    }
  }

  bool write(std::string_view bytes, Millis timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n > 0) {
        bytes.remove_prefix(static_cast<std::size_t>(n));
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        if (!wait(fd, POLLOUT, deadline)) return false;
      } else {
        return false;
      }
    }
    return true;
  }

  enum class Got { data, timeout, eof, error };
  Got receive(Clock::time_point deadline) {
    char buffer[64 * 1024];
    for (;;) {
      if (!wait(fd, POLLIN, deadline)) return Got::timeout;
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n > 0) {
        in.append(buffer, static_cast<std::size_t>(n));
        return Got::data;
      }
      if (n == 0) return Got::eof;
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      failure = std::string("receive failed: ") + std::strerror(errno);
      return Got::error;
    }
  }

  void connect(std::uint16_t port, const std::string& path, const std::string& extensions) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw net::RawClientError(std::string("socket: ") + std::strerror(errno));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      throw net::RawClientError(std::string("connect to 127.0.0.1: ") + std::strerror(errno));
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL, 0) | O_NONBLOCK);

    // §4.1: the opening handshake, written out.
    std::random_device entropy;
    unsigned char nonce[16];
    for (unsigned char& b : nonce) b = static_cast<unsigned char>(entropy() & 0xFF);
    const std::string key = base64(nonce, sizeof nonce);
    std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                          "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
                          "\r\nSec-WebSocket-Version: 13\r\n";
    if (!extensions.empty()) request += "Sec-WebSocket-Extensions: " + extensions + "\r\n";
    request += "\r\n";
    if (!write(request, 5s)) throw net::RawClientError("cannot send the handshake request");

    const auto deadline = Clock::now() + 5s;
    std::size_t end;
    while ((end = in.find("\r\n\r\n")) == std::string::npos) {
      if (in.size() > 16 * 1024) throw net::RawClientError("the response head is over 16 KiB");
      const Got got = receive(deadline);
      if (got == Got::timeout) throw net::RawClientError("no complete response head within 5 s");
      if (got != Got::data) throw net::RawClientError("the connection ended during the opening handshake");
    }
    head = in.substr(0, end + 4);
    in.erase(0, end + 4);  // frames that came with the 101 stay for the decoder
    if (head.rfind("HTTP/1.1 101", 0) != 0)
      throw net::RawClientError("handshake refused: " + head.substr(0, head.find("\r\n")));
    const auto upgrade = header_values(head, "Upgrade");
    const auto connection = header_values(head, "Connection");
    const auto accept = header_values(head, "Sec-WebSocket-Accept");
    if (upgrade.size() != 1 || lowered(upgrade[0]) != "websocket")
      throw net::RawClientError("the 101 lacks Upgrade: websocket");
    if (connection.empty() || lowered(connection[0]).find("upgrade") == std::string::npos)
      throw net::RawClientError("the 101 lacks Connection: Upgrade");
    if (accept.size() != 1 || accept[0] != accept_for(key))
      throw net::RawClientError("the 101's Sec-WebSocket-Accept is not base64(SHA-1(key + GUID))");
    for (const auto& value : header_values(head, "Sec-WebSocket-Extensions"))
      if (value.find("permessage-deflate") != std::string::npos) deflate = true;
  }

  // One whole frame from `in`, its rules checked; nullopt if incomplete.
  std::optional<net::RawFrame> decode() {
    if (in.size() < 2) return std::nullopt;
    const auto b0 = static_cast<std::uint8_t>(in[0]);
    const auto b1 = static_cast<std::uint8_t>(in[1]);
    const std::size_t len7 = b1 & 0x7F;
    const std::size_t extended = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    const bool masked = (b1 & 0x80) != 0;
    const std::size_t header_size = 2 + extended + (masked ? 4 : 0);
    if (in.size() < header_size) return std::nullopt;
    std::uint64_t length = len7;
    if (extended > 0) {
      length = 0;
      for (std::size_t i = 0; i < extended; ++i) length = (length << 8) | static_cast<std::uint8_t>(in[2 + i]);
    }
    net::RawFrame f;
    f.header.fin = (b0 & 0x80) != 0;
    f.header.rsv1 = (b0 & 0x40) != 0;
    f.header.rsv2 = (b0 & 0x20) != 0;
    f.header.rsv3 = (b0 & 0x10) != 0;
    f.header.opcode = b0 & 0x0F;
    f.header.mask = masked;
    f.header.payload_length = length;
    // The rules of a server's frame: RFC 6455 §5.1 - §5.5 and, with
    // permessage-deflate agreed, RFC 7692 §6.
    std::string broken;
    const bool control = is_control_opcode(f.header.opcode);
    if (masked) broken = "a masked server frame (RFC 6455 §5.1)";
    else if (f.header.rsv2 || f.header.rsv3) broken = "RSV2 or RSV3 set (RFC 6455 §5.2)";
    else if (f.header.rsv1 && !deflate) broken = "RSV1 set, no extension agreed (RFC 6455 §5.2)";
    else if (f.header.rsv1 && control) broken = "RSV1 on a control frame (RFC 7692 §6)";
    else if (f.header.rsv1 && f.header.opcode == 0) broken = "RSV1 on a continuation frame (RFC 7692 §6)";
    else if (!known_opcode(f.header.opcode)) broken = "a reserved opcode (RFC 6455 §5.2)";
    else if (control && (!f.header.fin || length > 125)) broken = "a fragmented or long control frame (RFC 6455 §5.5)";
    else if ((extended == 2 && length <= 125) || (extended == 8 && length <= 0xFFFF))
      broken = "a non-minimal payload length (RFC 6455 §5.2)";
    else if (length > (20u << 20)) broken = "a frame over 20 MiB";
    else if (!control && f.header.opcode == 0 && !in_message) broken = "a continuation with no message open (§5.4)";
    else if (!control && f.header.opcode != 0 && in_message) broken = "a new data frame inside a message (§5.4)";
    if (!broken.empty()) {
      failure = "the server's frame broke a rule: " + broken;
      return std::nullopt;
    }
    if (in.size() - header_size < length) return std::nullopt;
    f.raw_header.assign(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(header_size));
    f.payload = in.substr(header_size, static_cast<std::size_t>(length));
    in.erase(0, header_size + static_cast<std::size_t>(length));
    if (!control) in_message = !f.header.fin;
    return f;
  }

  net::RawClient::Read read_frame(Millis timeout) {
    using Status = net::RawClient::Status;
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      if (!failure.empty()) return {Status::error, std::nullopt, failure};
      if (auto f = decode()) return {Status::frame, std::move(*f), {}};
      if (!failure.empty()) return {Status::error, std::nullopt, failure};
      if (eof)
        return {Status::eof, std::nullopt,
                in.empty() ? std::string() : "the connection ended in the middle of a frame"};
      switch (receive(deadline)) {
        case Got::data: break;
        case Got::timeout: return {Status::timeout, std::nullopt, {}};
        case Got::eof: eof = true; break;
        case Got::error: break;
      }
    }
  }
};

Peer::Peer(std::uint16_t port, std::string path)
    : client_(net::RawClient::connect("ws://127.0.0.1:" + std::to_string(port) + path, 5s, peer_options())) {}

Peer::Peer(std::uint16_t port, const ExtensionOffer& offer, std::string path) : own_(std::make_unique<OwnClient>()) {
  own_->connect(port, path, offer.value);
}

Peer::~Peer() = default;
Peer::Peer(Peer&&) noexcept = default;

const std::string& Peer::response_head() const { return own_ ? own_->head : client_->response_head(); }

std::optional<std::string> Peer::response_header(std::string_view name) const {
  const auto values = header_values(response_head(), name);
  if (values.empty()) return std::nullopt;
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + v;
  return out;
}

bool Peer::send(std::string_view bytes) {
  if (!(own_ ? own_->write(bytes, 30s) : client_->send_bytes(bytes, 30s))) return false;
  written_ += bytes.size();
  return true;
}

void Peer::poll(Millis timeout) {
  if (eof_ || !error_.empty()) return;
  auto r = own_ ? own_->read_frame(timeout) : client_->read_frame(timeout);
  switch (r.status) {
    case net::RawClient::Status::frame:
      if (r.frame->opcode() == op::close) close_seen_ = true;
      inbox_.push_back(Got{std::move(*r.frame), Clock::now(), written_});
      break;
    case net::RawClient::Status::timeout:
      break;
    case net::RawClient::Status::eof:
      eof_ = true;
      eof_at_ = Clock::now();
      if (!r.error.empty()) error_ = r.error;  // it ended inside a frame
      break;
    case net::RawClient::Status::error:
      error_ = r.error;
      break;
  }
}

Peer::Chopped Peer::send_parts(const std::vector<std::string>& parts, Millis pause) {
  Chopped result;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (close_seen_) {
      result.close_seen = true;
      return result;
    }
    if (!send(parts[i])) return result;
    result.written += parts[i].size();
    if (i + 1 == parts.size()) break;
    // Between pieces: take what the server sent meanwhile, waiting `pause`.
    const auto until = Clock::now() + pause;
    do {
      poll(std::chrono::duration_cast<Millis>(std::max(until - Clock::now(), Clock::duration::zero())));
    } while (Clock::now() < until && !close_seen_ && !eof_ && error_.empty());
  }
  result.complete = true;
  result.close_seen = close_seen_;
  return result;
}

Peer::Chopped Peer::send_chopped(std::string_view bytes, std::size_t chop, Millis pause) {
  std::vector<std::string> parts;
  for (std::size_t at = 0; at < bytes.size(); at += chop) parts.emplace_back(bytes.substr(at, chop));
  return send_parts(parts, pause);
}

std::optional<Got> Peer::next(Millis timeout) {
  const auto until = Clock::now() + timeout;
  while (inbox_.empty() && !eof_ && error_.empty()) {
    const auto left = std::chrono::duration_cast<Millis>(until - Clock::now());
    if (left <= Millis(0)) break;
    poll(left);
  }
  if (inbox_.empty()) return std::nullopt;
  Got g = std::move(inbox_.front());
  inbox_.pop_front();
  return g;
}

bool Peer::quiet_for(Millis d) {
  if (!inbox_.empty() || eof_ || !error_.empty()) return false;
  const auto until = Clock::now() + d;
  while (Clock::now() < until && inbox_.empty() && !eof_ && error_.empty())
    poll(std::chrono::duration_cast<Millis>(until - Clock::now()) + Millis(1));
  return inbox_.empty() && !eof_ && error_.empty();
}

Peer::Ending Peer::until_closed(Millis timeout) {
  Ending e;
  const auto until = Clock::now() + timeout;
  for (;;) {
    while (!inbox_.empty()) {
      e.frames.push_back(std::move(inbox_.front()));
      inbox_.pop_front();
    }
    if (eof_) {
      e.eof = true;
      e.error = error_;
      return e;
    }
    if (!error_.empty()) {
      e.error = error_;
      return e;
    }
    const auto left = std::chrono::duration_cast<Millis>(until - Clock::now());
    if (left <= Millis(0)) {
      e.error =
          "the server had not closed the TCP connection after " + std::to_string(timeout.count()) + " ms";
      return e;
    }
    poll(left);
  }
}

}  // namespace wslab::conformance
