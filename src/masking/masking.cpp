// Chapter 4: masking (RFC 6455 §5.3, §10.3).
//
// Two versions of one transformation. apply_mask_reference is §5.3 written
// out, one octet at a time. apply_mask does the same XOR a word at a time:
// because the key repeats every 4 octets, 8 consecutive octets are always
// masked by the same 8-byte pattern (the key, rotated to the right starting
// octet, written twice), and 16 by that pattern twice (SSE2 on x86-64).
// The tests check that both agree for every offset, length and alignment.
#include "wslab/masking.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace wslab::masking {

void apply_mask_reference(std::span<std::uint8_t> data, MaskingKey key, std::uint64_t offset) noexcept {
  // §5.3: "Octet i of the transformed data ("transformed-octet-i") is the XOR
  // of octet i of the original data ("original-octet-i") with octet at index
  // i modulo 4 of the masking key ("masking-key-octet-j")":
  //     j                   = i MOD 4
  //     transformed-octet-i = original-octet-i XOR masking-key-octet-j
  // `offset` is how many payload octets came before data[0].
  for (std::size_t i = 0; i < data.size(); ++i) {
    const std::uint64_t payload_index = offset + i;
    const std::size_t j = payload_index % 4;
    data[i] = static_cast<std::uint8_t>(data[i] ^ key[j]);
  }
}

namespace {

// The key as seen from payload octet `start`: rotated[j] = key[(start + j) % 4].
// Masking data[0..] with rotated and offset 0 is masking it with key at `start`.
MaskingKey rotated(MaskingKey key, std::uint64_t start) {
  MaskingKey out{};
  for (std::size_t j = 0; j < 4; ++j) out[j] = key[(start + j) % 4];
  return out;
}

// The key repeated to fill a 64-bit word, in memory order: loading 8 payload
// octets into a word and XOR-ing it with this word masks each octet with the
// right key octet, whatever the machine's byte order.
std::uint64_t key_word(MaskingKey key) {
  const std::uint8_t pattern[8] = {key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]};
  std::uint64_t word = 0;
  std::memcpy(&word, pattern, sizeof word);
  return word;
}

// How many octets from `p` to the next multiple of `alignment` (a power of 2).
std::size_t misalignment(const std::uint8_t* p, std::size_t alignment) {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  return (alignment - (address & (alignment - 1))) & (alignment - 1);
}

// Masks n octets (n a multiple of 8) with the 8-byte pattern `word`, which
// must start with the key octet that p[0] uses. std::memcpy moves the bytes
// in and out of a word without breaking the aliasing rules; compilers turn
// each call into one load or store.
void mask_words(std::uint8_t* p, std::size_t n, std::uint64_t word) {
  for (std::size_t i = 0; i < n; i += 8) {
    std::uint64_t chunk;
    std::memcpy(&chunk, p + i, 8);
    chunk ^= word;
    std::memcpy(p + i, &chunk, 8);
  }
}

#if defined(__SSE2__)
// Every x86-64 CPU has SSE2: 16 octets per XOR, four of them per iteration
// so that loads, XORs and stores of independent blocks overlap. n must be a
// multiple of 64 and p 16-byte aligned.
void mask_blocks_sse2(std::uint8_t* p, std::size_t n, std::uint64_t word) {
  const __m128i pattern = _mm_set1_epi64x(static_cast<long long>(word));
  for (std::size_t i = 0; i < n; i += 64) {
    auto* block = reinterpret_cast<__m128i*>(p + i);
    const __m128i a = _mm_xor_si128(_mm_load_si128(block + 0), pattern);
    const __m128i b = _mm_xor_si128(_mm_load_si128(block + 1), pattern);
    const __m128i c = _mm_xor_si128(_mm_load_si128(block + 2), pattern);
    const __m128i d = _mm_xor_si128(_mm_load_si128(block + 3), pattern);
    _mm_store_si128(block + 0, a);
    _mm_store_si128(block + 1, b);
    _mm_store_si128(block + 2, c);
    _mm_store_si128(block + 3, d);
  }
}
constexpr std::size_t kAlignment = 16;
#else
constexpr std::size_t kAlignment = 8;
#endif

}  // namespace

void apply_mask(std::span<std::uint8_t> data, MaskingKey key, std::uint64_t offset) noexcept {
  std::uint8_t* p = data.data();
  std::size_t n = data.size();

  // 1. The head: octet by octet until p is aligned (or the data runs out).
  //    After it, p[0] is payload octet `offset` again.
  const std::size_t head = std::min(n, misalignment(p, kAlignment));
  apply_mask_reference(data.first(head), key, offset);
  p += head;
  n -= head;
  offset += head;

  // 2. The body: whole words, each masked with the key starting at the octet
  //    p[0] uses. 8 and 16 are multiples of 4, so that octet stays the same
  //    for every word.
  const MaskingKey k = rotated(key, offset);
  const std::uint64_t word = key_word(k);
#if defined(__SSE2__)
  const std::size_t blocks = n & ~std::size_t{63};
  mask_blocks_sse2(p, blocks, word);
  p += blocks;
  n -= blocks;
#endif
  const std::size_t words = n & ~std::size_t{7};
  mask_words(p, words, word);
  p += words;
  n -= words;

  // 3. The tail: fewer than 8 octets left, still starting at key octet k[0].
  apply_mask_reference(std::span<std::uint8_t>(p, n), k, 0);
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
