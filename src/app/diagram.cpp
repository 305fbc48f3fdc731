#include "diagram.hpp"

#include <wslab/close.hpp>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace wslab::app {

namespace {

struct Field {
  std::string label;
  int first_bit;  // bit index from the start of the frame, MSB of byte 0 = 0
  int bits;
};

std::string hex_byte(std::uint8_t b) {
  char buf[4];
  std::snprintf(buf, sizeof buf, "%02x", b);
  return buf;
}

int bit_at(std::span<const std::uint8_t> bytes, int bit) {
  return (bytes[static_cast<std::size_t>(bit / 8)] >> (7 - bit % 8)) & 1;
}

// Centre `label` in `width` columns, cutting it if it does not fit.
std::string centred(std::string label, std::size_t width) {
  if (label.size() > width) label.resize(width);
  const std::size_t left = (width - label.size()) / 2;
  return std::string(left, ' ') + label + std::string(width - label.size() - left, ' ');
}

}  // namespace

std::string to_hex(std::span<const std::uint8_t> bytes, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    if (i) out += ' ';
    out += hex_byte(bytes[i]);
  }
  if (bytes.size() > max) out += " ...";
  return out;
}

std::string printable(std::string_view bytes, std::size_t max) {
  // Valid UTF-8 text is shown as it is; otherwise every byte outside
  // printable ASCII becomes '.'. Control characters always do.
  const std::string_view shown = bytes.substr(0, max);
  const bool text = framing::is_valid_utf8(shown);
  std::string out = "\"";
  for (const char ch : shown) {
    const auto c = static_cast<unsigned char>(ch);
    out += (c >= 0x20 && c != 0x7f && (c < 0x80 || text)) ? ch : '.';
  }
  out += bytes.size() > max ? "\"..." : "\"";
  return out;
}

bool parse_hex(std::string_view text, std::string& out, std::string& error) {
  out.clear();
  int high = -1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ' || c == ':' || c == ',' || c == '\n' || c == '\t') continue;
    if (c == '0' && i + 1 < text.size() && (text[i + 1] == 'x' || text[i + 1] == 'X') && high < 0) {
      ++i;
      continue;
    }
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else {
      error = std::string("not a hex digit: '") + c + "' at position " + std::to_string(i + 1);
      return false;
    }
    if (high < 0) {
      high = v;
    } else {
      out += static_cast<char>(high << 4 | v);
      high = -1;
    }
  }
  if (high >= 0) {
    error = "odd number of hex digits";
    return false;
  }
  return true;
}

std::string draw_frame(std::span<const std::uint8_t> frame) {
  using framing::LengthForm;
  std::string out;
  if (frame.size() < 2) {
    return "incomplete frame: " + std::to_string(frame.size()) +
           " byte(s); every frame starts with 2 header bytes (RFC 6455 §5.2)\n";
  }
  const bool fin = frame[0] & 0x80, rsv1 = frame[0] & 0x40, rsv2 = frame[0] & 0x20, rsv3 = frame[0] & 0x10;
  const std::uint8_t opcode = frame[0] & 0x0F;
  const bool mask = frame[1] & 0x80;
  const std::uint8_t len7 = frame[1] & 0x7F;
  const int ext_bytes = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  const std::size_t header_size = 2 + static_cast<std::size_t>(ext_bytes) + (mask ? 4 : 0);

  std::vector<Field> fields = {{"FIN", 0, 1},  {"RSV1", 1, 1}, {"RSV2", 2, 1},       {"RSV3", 3, 1},
                               {"opcode", 4, 4}, {"MASK", 8, 1}, {"Payload len", 9, 7}};
  int bit = 16;
  if (ext_bytes) {
    fields.push_back({ext_bytes == 2 ? "Extended payload length (16)" : "Extended payload length (64)", bit,
                      ext_bytes * 8});
    bit += ext_bytes * 8;
  }
  if (mask) {
    fields.push_back({"Masking-key", bit, 32});
    bit += 32;
  }
  const int header_bits = static_cast<int>(std::min(header_size, frame.size()) * 8);

  out += " 0                   1                   2                   3\n";
  out += " 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1\n";
  auto field_of = [&](int b) {
    for (std::size_t i = 0; i < fields.size(); ++i)
      if (b >= fields[i].first_bit && b < fields[i].first_bit + fields[i].bits) return static_cast<int>(i);
    return -1;
  };
  for (int row = 0; row * 32 < header_bits; ++row) {
    const int from = row * 32, to = std::min(from + 32, header_bits);
    std::string border = "+", bits_line, label_line;
    // The border marks field boundaries with '+', like the RFC's figure.
    for (int b = from; b < to; ++b) {
      const bool boundary = b + 1 == to || field_of(b + 1) != field_of(b);
      border += boundary ? "-+" : "--";
    }
    for (int b = from; b < to;) {
      const int f = field_of(b);
      int end = b;
      while (end < to && field_of(end) == f) ++end;
      bits_line += '|';
      label_line += '|';
      std::string cells;
      for (int k = b; k < end; ++k) {
        if (k > b) cells += ' ';
        cells += static_cast<char>('0' + bit_at(frame, k));
      }
      bits_line += cells;
      label_line += centred(fields[static_cast<std::size_t>(f)].label, cells.size());
      b = end;
    }
    out += border + "\n" + bits_line + "|\n" + label_line + "|\n";
    if ((row + 1) * 32 >= header_bits) out += border + "\n";
  }

  // The fields, one line each.
  char line[160];
  auto add = [&](const char* fmt, auto... args) {
    std::snprintf(line, sizeof line, fmt, args...);
    out += line;
  };
  const bool control = framing::is_control(opcode);
  add("FIN          %d   %s\n", fin,
      fin       ? "final fragment of its message"
      : control ? "a control frame may not be fragmented: a receiver must Fail (§5.5)"
                : "more fragments follow (§5.4)");
  add("RSV1-3       %d %d %d  %s\n", rsv1, rsv2, rsv3,
      (rsv1 || rsv2 || rsv3) ? "set: only a negotiated extension may do this, else Fail (§5.2)"
                             : "0 unless an extension is negotiated");
  const bool known = opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA);
  add("opcode       0x%X %s%s\n", opcode, std::string(framing::opcode_name(opcode)).c_str(),
      known ? "" : ": not defined, a receiver must Fail (§5.2)");
  add("MASK         %d   %s\n", mask, mask ? "masked: client to server (§5.3)" : "not masked: server to client");
  if (frame.size() < header_size) {
    out += "incomplete header: " + std::to_string(frame.size()) + " of " + std::to_string(header_size) +
           " header bytes present\n";
    return out;
  }
  std::uint64_t length = len7;
  for (int i = 0; i < ext_bytes; ++i) length = (i == 0 ? 0 : length << 8) | frame[2 + static_cast<std::size_t>(i)];
  const auto form = len7 == 126 ? LengthForm::len16 : len7 == 127 ? LengthForm::len64 : LengthForm::len7;
  const bool minimal = framing::minimal_length_form(length) == form;
  add("Payload len  %llu (%s form%s)\n", static_cast<unsigned long long>(length),
      std::string(framing::length_form_name(form)).c_str(),
      minimal ? "" : "; NOT minimal: a receiver must Fail, §5.2");
  if (form == LengthForm::len64 && (length >> 63) != 0)
    out += "             the most significant bit of a 64-bit length must be 0: a receiver must Fail (§5.2)\n";
  if (control && length > 125)
    out += "             a control frame carries at most 125 bytes: a receiver must Fail (§5.5)\n";
  masking::MaskingKey key{};
  if (mask) {
    std::copy_n(frame.begin() + 2 + ext_bytes, 4, key.begin());
    out += "Masking-key  " + to_hex(key) + "\n";
  }
  const auto payload = frame.subspan(header_size);
  const std::size_t present = static_cast<std::size_t>(std::min<std::uint64_t>(payload.size(), length));
  std::string data(reinterpret_cast<const char*>(payload.data()), present);
  const auto bytes = [](const std::string& s) {
    return std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  };
  if (mask) {
    out += "Payload      " + to_hex(bytes(data), 32) + "  (masked, as on the wire)\n";
    masking::apply_mask({reinterpret_cast<std::uint8_t*>(data.data()), data.size()}, key);
    out += "Unmasked     " + to_hex(bytes(data), 32) + "  " + printable(data) + "\n";
  } else {
    out += "Payload      " + to_hex(bytes(data), 32) + "  " + printable(data) + "\n";
  }
  if (opcode == 0x8 && present == length) {
    // Chapter 6: a Close payload is a 2-byte status code and a UTF-8 reason.
    const auto parsed = close::parse_payload(bytes(data));
    if (!parsed) {
      out += "Close        invalid: " + parsed.violation().message() + "\n";
    } else if (!parsed->code) {
      out += "Close        no status code (reported as 1005)\n";
    } else {
      const auto info = close::describe(*parsed->code);
      out += "Close code   " + std::to_string(*parsed->code) + " " +
             (info ? std::string(info->name) + ": " + std::string(info->meaning) : std::string(close::range_of(*parsed->code))) +
             "\n";
      if (!parsed->reason.empty()) out += "Reason       " + printable(parsed->reason, 123) + "\n";
    }
  }
  if (present < length)
    out += "incomplete payload: " + std::to_string(present) + " of " + std::to_string(length) + " bytes present\n";
  else if (payload.size() > length)
    out += std::to_string(payload.size() - length) + " byte(s) after this frame belong to the next one\n";
  return out;
}

}  // namespace wslab::app
