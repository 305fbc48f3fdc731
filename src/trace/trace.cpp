// From what a connection's Observer sees to trace events.
#include <wslab/close.hpp>
#include <wslab/framing.hpp>
#include <wslab/handshake.hpp>
#include <wslab/masking.hpp>
#include <wslab/trace.hpp>

#include <algorithm>
#include <cctype>

namespace wslab::trace {
namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

const std::string* header(const Handshake& h, std::string_view name) {
  for (const auto& [n, v] : h.headers)
    if (equal_ignoring_case(n, name)) return &v;
  return nullptr;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 3);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i) out += ' ';
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 0xf];
  }
  return out;
}

std::optional<Bytes> parse_hex(std::string_view text) {
  Bytes out;
  int high = -1;
  for (char c : text) {
    if (c == ' ') {
      if (high >= 0) return std::nullopt;  // a lone digit
      continue;
    }
    const int d = hex_digit(c);
    if (d < 0) return std::nullopt;
    if (high < 0) {
      high = d;
    } else {
      out.push_back(static_cast<std::uint8_t>(high << 4 | d));
      high = -1;
    }
  }
  if (high >= 0) return std::nullopt;
  return out;
}

Micros Clock::since_start(connection::TimePoint t) const {
  return std::chrono::duration_cast<std::chrono::microseconds>(t - origin_).count();
}

// The head is as it was on the wire: a start line, then "Name: value" lines
// (RFC 7230 §3). It has already been through the handshake chapter (or was
// rejected by it), so this only splits lines for display; a line without a
// colon is kept with an empty value rather than dropped.
Handshake make_handshake(std::uint64_t conn, Micros time, connection::Direction direction, std::string_view head) {
  Handshake h{.conn = conn, .time = time, .direction = direction};
  bool first = true;
  while (!head.empty()) {
    const auto eol = head.find('\n');
    std::string_view line = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (first) {
      h.start_line = std::string(line);
      h.request = !line.starts_with("HTTP/");
      first = false;
      continue;
    }
    if (line.empty()) break;  // the blank line ends the head
    const auto colon = line.find(':');
    if (colon == std::string_view::npos)
      h.headers.emplace_back(std::string(trim(line)), "");
    else
      h.headers.emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  }
  // RFC 6455 §4.2.2 step 5.4: the accept value is computed from the
  // request's key; a request carries the steps the server will take.
  if (h.request) {
    if (const auto* key = header(h, "Sec-WebSocket-Key")) {
      auto steps = handshake::accept_steps(*key);
      h.accept = Accept{.key = steps.key, .concatenated = steps.concatenated, .sha1_hex = steps.sha1_hex,
                        .accept = steps.accept};
    }
  }
  return h;
}

Frame make_frame(std::uint64_t conn, Micros time, std::uint64_t seq, const connection::FrameRecord& record) {
  const auto& h = record.header;
  Frame f{.conn = conn, .time = time, .seq = seq, .direction = record.direction};
  f.fin = h.fin;
  f.rsv1 = h.rsv1;
  f.rsv2 = h.rsv2;
  f.rsv3 = h.rsv3;
  f.opcode = h.opcode;
  f.mask = h.mask;
  f.payload_length = h.payload_length;
  f.length_form = std::string(framing::length_form_name(h.length_form));
  // A frame rejected before its key arrived has MASK set and no key yet.
  if (h.mask && record.raw_header.size() >= h.header_size()) f.masking_key = h.masking_key;
  f.raw_header.assign(record.raw_header.begin(), record.raw_header.end());
  f.preview.assign(record.payload_preview.begin(), record.payload_preview.end());
  f.preview_masked = f.preview;
  if (h.mask) masking::apply_mask(f.preview_masked, h.masking_key);
  // RFC 7692: the message inflated, as the connection delivered it.
  f.compressed = record.compressed;
  if (record.uncompressed_size) {
    f.uncompressed_size = record.uncompressed_size;
    f.uncompressed_preview.assign(record.uncompressed_preview.begin(), record.uncompressed_preview.end());
  }
  // A Close frame's body (§5.5.1): a 2-byte status code, then a UTF-8 reason.
  if (h.opcode == static_cast<std::uint8_t>(framing::Opcode::close) && f.preview.size() >= 2) {
    f.close_code = static_cast<std::uint16_t>(f.preview[0] << 8 | f.preview[1]);
    const std::string_view reason(reinterpret_cast<const char*>(f.preview.data() + 2), f.preview.size() - 2);
    if (framing::is_valid_utf8(reason)) f.close_reason = std::string(reason);
  }
  if (record.violation) {
    const auto& rule = record.violation->rule();
    f.error = RuleBroken{.rule = std::string(rule.name), .checklist = std::string(rule.checklist_id),
                         .section = std::string(rule.section), .close_code = rule.close_code,
                         .http_status = rule.http_status, .message = record.violation->message()};
  }
  return f;
}

Recorder::Recorder(Sink& sink, Clock& clock, std::uint64_t conn) : sink_(sink), clock_(clock), conn_(conn) {}

void Recorder::on_handshake(const connection::HandshakeRecord& record) {
  sink_.emit(make_handshake(conn_, clock_.since_start(record.time), record.direction, record.head));
}

void Recorder::on_frame(const connection::FrameRecord& record) {
  auto frame = make_frame(conn_, clock_.since_start(record.time), clock_.next_seq(), record);
  if (buffered_) frame.buffered_amount = buffered_();
  sink_.emit(std::move(frame));
}

void Recorder::on_transition(const connection::Transition& t) {
  sink_.emit(Transition{.conn = conn_, .time = clock_.since_start(t.time), .from = t.from, .to = t.to,
                        .cause = std::string(t.cause)});
}

}  // namespace wslab::trace
