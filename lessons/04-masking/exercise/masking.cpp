// Chapter 4: masking (RFC 6455 §5.3, §10.3). EXERCISE: lessons/04-masking.
//
// Two versions of one transformation, both yours to write (HINTS.md):
// apply_mask_reference is §5.3 written out, one octet at a time; apply_mask
// does the same, and may simply call the reference until you make it fast
// (the stretch goal: a word at a time). random_key is given: fresh keys from
// OpenSSL's CSPRNG, as §5.3 and §10.3 require. Build and check with
//   cmake --preset learner -DWSLAB_LEARNER=masking
//   cmake --build build/learner --target check_masking
#include "wslab/masking.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace wslab::masking {

// Both functions are noexcept (a connection masks every frame and must not
// throw), so the skeleton cannot throw an "exercise" error. Instead each
// writes a poison byte over the data, so that no test passes by accident:
// replace the whole body.

void apply_mask_reference(std::span<std::uint8_t> data, [[maybe_unused]] MaskingKey key,
                          [[maybe_unused]] std::uint64_t offset) noexcept {
  // Exercise (step 1): §5.3, one octet at a time:
  //     j                   = i MOD 4
  //     transformed-octet-i = original-octet-i XOR masking-key-octet-j
  // where i counts from the start of the frame's payload: data[0] is payload
  // octet `offset`, because a payload can arrive (and be unmasked) in pieces.
  std::fill(data.begin(), data.end(), std::uint8_t{0xEE});  // poison: replace me
}

void apply_mask(std::span<std::uint8_t> data, [[maybe_unused]] MaskingKey key,
                [[maybe_unused]] std::uint64_t offset) noexcept {
  // Exercise (step 2): the same transformation. First make it call
  // apply_mask_reference: every test passes. Stretch goal: make it fast, a
  // 64-bit word (8 octets) at a time, as HINTS.md explains; the tests compare
  // it with the reference for every offset, length and alignment.
  std::fill(data.begin(), data.end(), std::uint8_t{0xAA});  // poison: replace me
}

MaskingKey random_key() {
  // §5.3: "The masking key needs to be unpredictable; thus, the masking key
  // MUST be derived from a strong source of entropy". OpenSSL's RAND_bytes is
  // a CSPRNG seeded from the operating system.
  //
  // One RAND_bytes call costs about a microsecond however few bytes it
  // returns (tests/bench/bench_masking measures it), most of the cost of
  // sending a small frame. So
  // each thread draws 64 keys at once and hands them out one by one; every
  // key is still fresh CSPRNG output, used once. (A process that fork()s
  // copies the unused rest of its buffer into the child; wslab never forks.)
  constexpr std::size_t kKeysPerDraw = 64;
  struct Buffer {
    std::array<std::uint8_t, kKeysPerDraw * 4> bytes{};
    std::size_t next = kKeysPerDraw * 4;  // empty: draw on first use
  };
  thread_local Buffer buffer;

  if (buffer.next == buffer.bytes.size()) {
    if (RAND_bytes(buffer.bytes.data(), static_cast<int>(buffer.bytes.size())) != 1)
      throw std::runtime_error("masking: OpenSSL RAND_bytes failed to produce masking keys");
    buffer.next = 0;
  }
  MaskingKey key;
  std::memcpy(key.data(), buffer.bytes.data() + buffer.next, key.size());
  buffer.next += key.size();
  return key;
}

}  // namespace wslab::masking
