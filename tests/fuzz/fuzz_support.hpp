// What the libFuzzer targets in tests/fuzz share (docs/fuzzing.md):
//
//   FUZZ_CHECK(cond, what)  a property that must hold; if it does not, the
//                           input is a finding: print why and abort(), so
//                           libFuzzer saves it as crash-<sha1> and stops
//   Input                   reads the configuration bytes a target takes
//                           from the front of its input (0 once used up)
//   Chunker                 splits a byte stream into pieces whose sizes
//                           come from the input (zero-length pieces too)
//   Utf8Reference           RFC 3629 decoded the slow, obvious way, one code
//                           point at a time, with the position of the first
//                           byte no valid text could continue with
//   hex()                   bytes as "81 85 37 fa", for the messages
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wslab::fuzz {

[[noreturn]] inline void fail(const char* file, int line, const char* condition, const std::string& what) {
  std::fprintf(stderr, "\n==FUZZ CHECK FAILED== %s:%d: %s\n  %s\n", file, line, condition, what.c_str());
  std::fflush(stderr);
  std::abort();
}

#define FUZZ_CHECK(cond, what)                                                  \
  do {                                                                          \
    if (!(cond)) ::wslab::fuzz::fail(__FILE__, __LINE__, #cond, (what));        \
  } while (false)

// The targets' own byte-by-byte loops need no coverage feedback (the
// library's code is what is being explored), and instrumenting every
// comparison in them would cost more than the library itself.
#if defined(__clang__)
#define FUZZ_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define FUZZ_NO_COVERAGE
#endif

// The first i where got[i] != want[i] ^ key[(offset + i) % 4] (or != want[i]
// without a key), or got.size() if none: §5.3's masking, octet by octet.
FUZZ_NO_COVERAGE inline std::size_t first_mask_mismatch(std::span<const std::uint8_t> got,
                                                         std::span<const std::uint8_t> want,
                                                         const std::uint8_t* key, std::uint64_t offset = 0) {
  for (std::size_t i = 0; i < got.size(); ++i) {
    const std::uint8_t expected = key ? static_cast<std::uint8_t>(want[i] ^ key[(offset + i) % 4]) : want[i];
    if (got[i] != expected) return i;
  }
  return got.size();
}

inline std::string hex(std::span<const std::uint8_t> bytes, std::size_t max = 64) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    if (i != 0) out += ' ';
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 0xF];
  }
  if (bytes.size() > max) out += " ...";
  return out;
}

inline std::string hex(std::string_view bytes, std::size_t max = 64) {
  return hex(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()),
             max);
}

inline std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline std::string_view chars_of(std::span<const std::uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// The configuration bytes at the front of an input, then the rest.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : rest_(data, size) {}

  std::uint8_t byte() {
    if (rest_.empty()) return 0;
    const std::uint8_t b = rest_.front();
    rest_ = rest_.subspan(1);
    return b;
  }
  std::uint16_t u16() { return static_cast<std::uint16_t>(byte() << 8 | byte()); }
  // Up to n bytes (fewer if the input runs out).
  std::span<const std::uint8_t> take(std::size_t n) {
    const std::size_t k = n < rest_.size() ? n : rest_.size();
    const auto out = rest_.first(k);
    rest_ = rest_.subspan(k);
    return out;
  }
  std::span<const std::uint8_t> rest() const { return rest_; }
  bool empty() const { return rest_.empty(); }

 private:
  std::span<const std::uint8_t> rest_;
};

// Piece sizes for feeding a stream, from one seed byte of the input:
//   0          everything at once
//   1          one byte at a time
//   2..127     random sizes 0..(seed % 16 + 1)  (0: an empty feed)
//   128..255   random sizes 0..(seed % 128) * 8 + 8
// "Random" is a xorshift seeded with the seed, so a seed always splits a
// stream the same way and a crash reproduces.
class Chunker {
 public:
  explicit Chunker(std::uint8_t seed) : seed_(seed), state_(0x9E3779B9u * (seed + 1u)) {}

  std::size_t next(std::size_t remaining) {
    std::size_t n;
    if (seed_ == 0)
      n = remaining;
    else if (seed_ == 1)
      n = 1;
    else {
      const std::size_t limit = seed_ < 128 ? seed_ % 16 + 1 : (seed_ % 128) * 8u + 8;
      n = random() % (limit + 1);
    }
    return n < remaining ? n : remaining;
  }

 private:
  std::uint32_t random() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }
  std::uint8_t seed_;
  std::uint32_t state_;
};

// RFC 3629 §3, decoded one code point at a time, slowly and obviously:
//
//    Char. number range  |        UTF-8 octet sequence
//       (hexadecimal)    |              (binary)
//    --------------------+---------------------------------------------
//    0000 0000-0000 007F | 0xxxxxxx
//    0000 0080-0000 07FF | 110xxxxx 10xxxxxx
//    0000 0800-0000 FFFF | 1110xxxx 10xxxxxx 10xxxxxx
//    0001 0000-0010 FFFF | 11110xxx 10xxxxxx 10xxxxxx 10xxxxxx
//
// "The definition of UTF-8 prohibits encoding character numbers between
// U+D800 and U+DFFF" (§3), and a character must use the row of its number
// (no overlong forms). The first bad byte is the first one after which no
// continuation could give a valid character: after the bits read so far, the
// code points still possible form an interval; if it holds no number of the
// row's range outside the surrogates, that byte is the bad one.
struct Utf8Verdict {
  bool valid_so_far = true;  // no bad byte (the text may end inside a character)
  bool complete = true;      // valid and ends on a character boundary
  std::size_t first_bad = 0;  // when !valid_so_far: index of the first bad byte
};

// With `boundaries`: resized to text.size() + 1, true at the offset where
// each character of the valid part starts, and at its end if it is complete.
inline Utf8Verdict utf8_reference(std::span<const std::uint8_t> text, std::vector<bool>* boundaries = nullptr) {
  if (boundaries) boundaries->assign(text.size() + 1, false);
  struct Row {
    std::uint8_t lead_mask, lead_bits;  // lead & mask == bits
    std::size_t length;
    char32_t min, max;  // the row's character numbers
  };
  static constexpr Row kRows[] = {
      {0x80, 0x00, 1, 0x0000, 0x007F},
      {0xE0, 0xC0, 2, 0x0080, 0x07FF},
      {0xF0, 0xE0, 3, 0x0800, 0xFFFF},
      {0xF8, 0xF0, 4, 0x10000, 0x10FFFF},
  };
  // Some number in [lo, hi] is in [min, max] and is not a surrogate.
  const auto possible = [](char32_t lo, char32_t hi, const Row& row) {
    const char32_t a = lo > row.min ? lo : row.min;
    const char32_t b = hi < row.max ? hi : row.max;
    if (a > b) return false;
    return a < 0xD800 || b > 0xDFFF;
  };
  Utf8Verdict v;
  std::size_t i = 0;
  while (i < text.size()) {
    if (boundaries) (*boundaries)[i] = true;
    const Row* row = nullptr;
    for (const Row& r : kRows)
      if ((text[i] & r.lead_mask) == r.lead_bits) row = &r;
    if (row == nullptr) return {false, false, i};  // 10xxxxxx or 11111xxx: never a lead
    char32_t bits = text[i] & static_cast<std::uint8_t>(~row->lead_mask);
    for (std::size_t k = 0; k < row->length; ++k) {
      if (k > 0) {
        if (i + k == text.size()) return {true, false, 0};  // ends inside a character
        if ((text[i + k] & 0xC0) != 0x80) return {false, false, i + k};  // not 10xxxxxx
        bits = bits << 6 | (text[i + k] & 0x3Fu);
      }
      const std::size_t left = 6 * (row->length - 1 - k);  // bits still to come
      const char32_t lo = bits << left;
      const char32_t hi = lo | ((char32_t{1} << left) - 1);
      if (!possible(lo, hi, *row)) return {false, false, i + k};
    }
    i += row->length;
  }
  if (boundaries) (*boundaries)[i] = true;
  return v;
}

inline Utf8Verdict utf8_reference(std::string_view text, std::vector<bool>* boundaries = nullptr) {
  return utf8_reference(bytes_of(text), boundaries);
}

}  // namespace wslab::fuzz
