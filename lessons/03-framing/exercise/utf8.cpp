// Chapter 3, part 3: UTF-8 validation (RFC 6455 §5.6, §8.1; RFC 3629).
// EXERCISE: lessons/03-framing. Yours to write here: Utf8Validator::accept.
// Given: feed (without its fast path: a stretch goal), is_valid_utf8 and the
// slow reference validator the tests compare yours with.
//
// RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8
// but finds that the byte stream is not, in fact, a valid UTF-8 stream, that
// endpoint MUST _Fail the WebSocket Connection_."
//
// The validator walks the grammar of RFC 3629 §4 one octet at a time:
//
//   UTF8-1      = %x00-7F
//   UTF8-2      = %xC2-DF UTF8-tail
//   UTF8-3      = %xE0 %xA0-BF UTF8-tail / %xE1-EC 2( UTF8-tail ) /
//                 %xED %x80-9F UTF8-tail / %xEE-EF 2( UTF8-tail )
//   UTF8-4      = %xF0 %x90-BF 2( UTF8-tail ) / %xF1-F3 3( UTF8-tail ) /
//                 %xF4 %x80-8F 2( UTF8-tail )
//   UTF8-tail   = %x80-BF
//
// The narrow ranges after E0, ED, F0 and F4 are where the rules hide: E0
// %x80-9F would be an overlong 3-octet form, ED %xA0-BF a UTF-16 surrogate
// (U+D800..U+DFFF), F0 %x80-8F an overlong 4-octet form, F4 %x90-BF a code
// point above U+10FFFF. C0 and C1 can only start overlong 2-octet forms and
// F5..FF only code points above U+10FFFF, so they never appear at all.
// Because every range is checked on the octet it applies to, the validator
// stops at the first octet that no valid text could continue with.
#include "wslab/framing.hpp"

#include <cstring>
#include <stdexcept>

namespace wslab::framing {

namespace {

// True if none of the 8 octets at p has its high bit set.
[[maybe_unused]] bool eight_ascii_octets(const std::uint8_t* p) noexcept {
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return (word & 0x8080808080808080u) == 0;
}

}  // namespace

bool Utf8Validator::accept(std::uint8_t octet) noexcept {
  // Exercise (step 6): one octet of the RFC 3629 §4 grammar at the top of
  // this file. need_ counts the continuation octets still expected; lower_
  // and upper_ bound the next one (normally 0x80..0xBF, narrower right after
  // E0, ED, F0 and F4). Return false at the first octet no valid text could
  // continue with.
  //
  // accept() is noexcept, so the skeleton cannot throw: it rejects every
  // octet until you write it.
  (void)octet;
  return false;  // exercise: replace me
}

bool Utf8Validator::feed(std::span<const std::uint8_t> bytes) noexcept {
  if (!ok_) return false;
  // Stretch goal: most text is ASCII; between characters (need_ == 0), 8
  // ASCII octets can be accepted at once (eight_ascii_octets above).
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (!accept(bytes[i])) {
      valid_ += i;
      ok_ = false;
      return false;
    }
  }
  valid_ += bytes.size();
  return true;
}

bool Utf8Validator::feed(std::string_view bytes) noexcept {
  return feed(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                            bytes.size()));
}

bool is_valid_utf8(std::string_view text) noexcept {
  Utf8Validator validator;
  return validator.feed(text) && validator.complete();
}

bool is_valid_utf8_reference(std::string_view text) noexcept {
  // RFC 3629 §3: decode each character from its bit pattern, then ask of the
  // code point what the table of §4 encodes in its octet ranges.
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<std::uint8_t>(text[i]);
    std::size_t length;   // octets in this character
    char32_t code_point;  // the bits of the lead octet, to be continued
    char32_t smallest;    // the smallest code point that needs `length` octets
    if (lead < 0x80) {    // 0xxxxxxx
      length = 1;
      code_point = lead;
      smallest = 0;
    } else if ((lead & 0xE0) == 0xC0) {  // 110xxxxx 10xxxxxx
      length = 2;
      code_point = lead & 0x1Fu;
      smallest = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {  // 1110xxxx 10xxxxxx 10xxxxxx
      length = 3;
      code_point = lead & 0x0Fu;
      smallest = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {  // 11110xxx 10xxxxxx 10xxxxxx 10xxxxxx
      length = 4;
      code_point = lead & 0x07u;
      smallest = 0x10000;
    } else {
      return false;  // 10xxxxxx cannot start a character; 11111xxx is not UTF-8
    }
    if (text.size() - i < length) return false;  // truncated
    for (std::size_t k = 1; k < length; ++k) {
      const auto octet = static_cast<std::uint8_t>(text[i + k]);
      if ((octet & 0xC0) != 0x80) return false;  // not 10xxxxxx
      code_point = (code_point << 6) | (octet & 0x3Fu);
    }
    if (code_point < smallest) return false;                         // overlong
    if (code_point >= 0xD800 && code_point <= 0xDFFF) return false;  // surrogate
    if (code_point > 0x10FFFF) return false;                         // beyond Unicode
    i += length;
  }
  return true;
}

}  // namespace wslab::framing
