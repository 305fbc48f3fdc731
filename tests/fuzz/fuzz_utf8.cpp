// fuzz_utf8: framing::Utf8Validator against a slow, obviously correct
// reference (RFC 6455 §5.6, §8.1; RFC 3629 §3). Differential.
//
// Input: byte 0 the chunking seed (see Chunker), the rest the text.
//
// The validator is fed the text in pieces whose sizes come from the input (a
// text message may be split anywhere by its frames, §5.6), each piece in a
// heap buffer of its own size. The reference (utf8_reference in
// fuzz_support.hpp) decodes the whole text one code point at a time.
// Properties:
//   - after every piece, feed() and ok() say "valid so far" exactly when no
//     byte up to the piece's end is bad by the reference;
//   - once it fails, valid_bytes() is the index of the first bad byte the
//     reference finds (fail fast: the first byte no valid text continues
//     with), and it stays failed: more input changes nothing;
//   - while valid, valid_bytes() is the number of bytes fed;
//   - at the end, complete() is the reference's verdict on the whole text,
//     as are is_valid_utf8() and the library's own is_valid_utf8_reference();
//   - reset() starts over: the whole text at once gives the same verdict.
#include <wslab/framing.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"

using namespace wslab::framing;
using wslab::fuzz::hex;
using wslab::fuzz::utf8_reference;
using wslab::fuzz::Utf8Verdict;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  wslab::fuzz::Input in(data, size);
  wslab::fuzz::Chunker chunker(in.byte());
  const std::span<const std::uint8_t> text = in.rest();
  // The verdict on a prefix follows from the whole text's: a byte is bad or
  // not by the bytes up to it, so the prefix of `fed` bytes is valid so far
  // iff the first bad byte is not in it, and complete iff it is also valid
  // and ends on a character boundary.
  std::vector<bool> boundary;
  const Utf8Verdict whole = utf8_reference(text, &boundary);
  const std::string shown = hex(text);

  Utf8Validator validator;
  std::size_t fed = 0;
  do {
    const std::size_t n = chunker.next(text.size() - fed);
    const std::vector<std::uint8_t> piece(text.begin() + static_cast<std::ptrdiff_t>(fed),
                                          text.begin() + static_cast<std::ptrdiff_t>(fed + n));
    const bool was_ok = validator.ok();
    const std::uint64_t was_valid = validator.valid_bytes();
    const bool ok = validator.feed(std::span<const std::uint8_t>(piece));
    fed += n;
    Utf8Verdict prefix;
    prefix.valid_so_far = whole.valid_so_far || whole.first_bad >= fed;
    prefix.complete = prefix.valid_so_far && boundary[fed];
    prefix.first_bad = prefix.valid_so_far ? 0 : whole.first_bad;
    FUZZ_CHECK(ok == prefix.valid_so_far && validator.ok() == ok,
               "after " + std::to_string(fed) + " bytes of " + shown + ": validator says " + (ok ? "valid" : "invalid") +
                   ", the reference " + (prefix.valid_so_far ? "valid" : "invalid"));
    if (ok) {
      FUZZ_CHECK(validator.valid_bytes() == fed, "valid_bytes() " + std::to_string(validator.valid_bytes()) +
                                                     " after " + std::to_string(fed) + " valid bytes");
      FUZZ_CHECK(validator.complete() == prefix.complete,
                 "complete() is " + std::to_string(validator.complete()) + " after " + std::to_string(fed) +
                     " bytes of " + shown);
    } else {
      FUZZ_CHECK(validator.valid_bytes() == prefix.first_bad,
                 "first bad byte of " + shown + " at " + std::to_string(validator.valid_bytes()) +
                     ", the reference says " + std::to_string(prefix.first_bad));
      FUZZ_CHECK(!validator.complete(), "complete() after a bad byte");
      if (!was_ok)
        FUZZ_CHECK(validator.valid_bytes() == was_valid, "valid_bytes() moved after the failure");
    }
  } while (fed < text.size());

  // The verdict on the whole text, three ways.
  FUZZ_CHECK(validator.complete() == whole.complete, "complete() differs from the reference on " + shown);
  const std::string_view chars = wslab::fuzz::chars_of(text);
  FUZZ_CHECK(is_valid_utf8(chars) == whole.complete, "is_valid_utf8 differs from the reference on " + shown);
  FUZZ_CHECK(is_valid_utf8_reference(chars) == whole.complete,
             "is_valid_utf8_reference differs from the reference on " + shown);

  // Sticky failure, and reset().
  if (!whole.valid_so_far) {
    const std::uint8_t ascii[9] = {'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'};
    FUZZ_CHECK(!validator.feed(std::span<const std::uint8_t>(ascii)) && validator.valid_bytes() == whole.first_bad,
               "the validator recovered after a bad byte");
  }
  validator.reset();
  FUZZ_CHECK(validator.feed(text) == whole.valid_so_far && validator.complete() == whole.complete,
             "after reset(), the whole text at once gives another verdict on " + shown);
  if (!whole.valid_so_far)
    FUZZ_CHECK(validator.valid_bytes() == whole.first_bad, "at once, the first bad byte differs on " + shown);
  return 0;
}
