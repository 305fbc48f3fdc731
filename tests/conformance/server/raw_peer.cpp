// The raw test peer. See raw_peer.hpp.
#include "raw_peer.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <random>
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

Peer::Peer(std::uint16_t port, std::string path)
    : client_(net::RawClient::connect("ws://127.0.0.1:" + std::to_string(port) + path, 5s, peer_options())) {}

bool Peer::send(std::string_view bytes) {
  if (!client_.send_bytes(bytes, 30s)) return false;
  written_ += bytes.size();
  return true;
}

void Peer::poll(Millis timeout) {
  if (eof_ || !error_.empty()) return;
  auto r = client_.read_frame(timeout);
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
