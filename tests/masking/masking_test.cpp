// Chapter 4: masking (RFC 6455 §5.3, §10.3).
//
// apply_mask_reference is §5.3 written out; apply_mask, the fast one, must
// agree with it octet for octet, whatever the offset, length or alignment.
#include <wslab/masking.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

using wslab::masking::apply_mask;
using wslab::masking::apply_mask_reference;
using wslab::masking::MaskingKey;
using wslab::masking::random_key;

namespace {

// Large byte vectors are compared with std::ranges::equal: a failing
// CHECK(a == b) would have Catch print every octet of both.
using Bytes = std::vector<std::uint8_t>;

Bytes bytes_of(std::string_view text) {
  return Bytes(text.begin(), text.end());
}

Bytes random_bytes(std::size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> octet(0, 255);
  Bytes out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(octet(rng));
  return out;
}

// The §5.7 example key.
constexpr MaskingKey kRfcKey = {0x37, 0xfa, 0x21, 0x3d};

}  // namespace

TEST_CASE("MK-5 the RFC 6455 §5.7 example: \"Hello\" masked with 37 fa 21 3d is 7f 9f 4d 51 58",
          "[masking]") {
  Bytes data = bytes_of("Hello");
  apply_mask(data, kRfcKey);
  CHECK(data == Bytes{0x7f, 0x9f, 0x4d, 0x51, 0x58});
}

TEST_CASE("MK-5 the reference loop masks the §5.7 \"Hello\" the same way", "[masking]") {
  Bytes data = bytes_of("Hello");
  apply_mask_reference(data, kRfcKey);
  CHECK(data == Bytes{0x7f, 0x9f, 0x4d, 0x51, 0x58});
}

TEST_CASE("MK-5 a server unmasks the payload of the §5.7 masked frame back to \"Hello\"", "[masking]") {
  // 0x81 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58: FIN + text,
  // MASK + length 5, the key, then the masked payload.
  const Bytes frame = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
  const MaskingKey key = {frame[2], frame[3], frame[4], frame[5]};
  Bytes payload(frame.begin() + 6, frame.end());
  apply_mask(payload, key);
  CHECK(payload == bytes_of("Hello"));
}

TEST_CASE("MK-5 masking twice with the same key and offset restores the input", "[masking]") {
  std::mt19937 rng(4);
  for (std::size_t length : {0u, 1u, 3u, 4u, 5u, 8u, 15u, 16u, 17u, 63u, 64u, 65u, 1000u, 4099u}) {
    for (std::uint64_t offset = 0; offset < 4; ++offset) {
      const Bytes original = random_bytes(length, rng);
      const MaskingKey key = {0xa1, 0x02, 0xff, 0x5c};
      Bytes data = original;
      apply_mask(data, key, offset);
      if (length >= 4) CHECK_FALSE(std::ranges::equal(data, original));
      apply_mask(data, key, offset);
      CHECK(std::ranges::equal(data, original));
    }
  }
}

TEST_CASE("MK-5 apply_mask equals apply_mask_reference for every offset 0-7 and length 0-1024", "[masking]") {
  std::mt19937 rng(5);
  const Bytes original = random_bytes(1024, rng);
  const MaskingKey key = {0x12, 0x34, 0x56, 0x78};
  for (std::uint64_t offset = 0; offset < 8; ++offset) {
    for (std::size_t length = 0; length <= 1024; ++length) {
      Bytes fast(original.begin(), original.begin() + static_cast<std::ptrdiff_t>(length));
      Bytes reference = fast;
      apply_mask(fast, key, offset);
      apply_mask_reference(reference, key, offset);
      if (fast != reference) {
        INFO("offset " << offset << ", length " << length);
        FAIL("apply_mask and apply_mask_reference disagree");
      }
    }
  }
}

TEST_CASE("MK-5 apply_mask equals the reference when the data starts at buffer+1 .. buffer+7", "[masking]") {
  // Head, word body and tail all shift with the alignment of data[0].
  std::mt19937 rng(6);
  const Bytes original = random_bytes(1024 + 16, rng);
  const MaskingKey key = random_key();
  for (std::size_t start = 0; start < 16; ++start) {
    for (std::uint64_t offset = 0; offset < 4; ++offset) {
      for (std::size_t length :
           {0u, 1u, 7u, 8u, 9u, 15u, 16u, 31u, 63u, 64u, 65u, 100u, 127u, 128u, 129u, 200u, 1000u, 1024u}) {
        Bytes fast = original;
        Bytes reference = original;
        apply_mask(std::span(fast).subspan(start, length), key, offset);
        apply_mask_reference(std::span(reference).subspan(start, length), key, offset);
        if (fast != reference) {
          INFO("start buffer+" << start << ", offset " << offset << ", length " << length);
          FAIL("apply_mask and apply_mask_reference disagree");
        }
      }
    }
  }
}

TEST_CASE("MK-5 apply_mask changes only the octets of its span, never its neighbours", "[masking]") {
  const MaskingKey key = {0xff, 0xff, 0xff, 0xff};
  for (std::size_t start = 0; start < 16; ++start) {
    for (std::size_t length = 0; length < 80; ++length) {
      Bytes buffer(start + length + 16, 0x00);
      apply_mask(std::span(buffer).subspan(start, length), key, 3);
      for (std::size_t i = 0; i < buffer.size(); ++i) {
        const bool inside = i >= start && i < start + length;
        if (buffer[i] != (inside ? 0xff : 0x00)) {
          INFO("start " << start << ", length " << length << ", octet " << i);
          FAIL("octet " << i << " is " << int{buffer[i]});
        }
      }
    }
  }
}

TEST_CASE("MK-5 unmasking a payload piece by piece with offsets equals unmasking it whole", "[masking]") {
  // A payload that arrives in several TCP reads is unmasked chunk by chunk:
  // each chunk passes how many payload octets came before it.
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    const std::size_t length = std::uniform_int_distribution<std::size_t>(0, 3000)(rng);
    const Bytes original = random_bytes(length, rng);
    const MaskingKey key = random_key();

    Bytes whole = original;
    apply_mask(whole, key);

    std::vector<std::size_t> cuts = {0, length};
    const int pieces = std::uniform_int_distribution<int>(0, 6)(rng);
    for (int i = 0; i < pieces; ++i)
      cuts.push_back(std::uniform_int_distribution<std::size_t>(0, length)(rng));
    std::sort(cuts.begin(), cuts.end());

    Bytes piecewise = original;
    for (std::size_t i = 0; i + 1 < cuts.size(); ++i)
      apply_mask(std::span(piecewise).subspan(cuts[i], cuts[i + 1] - cuts[i]), key, cuts[i]);
    INFO("round " << round << ", length " << length);
    REQUIRE(std::ranges::equal(piecewise, whole));
  }
}

TEST_CASE("MK-5 the offset counts modulo 4, also for payloads past 4 GiB", "[masking]") {
  std::mt19937 rng(8);
  const Bytes original = random_bytes(37, rng);
  const MaskingKey key = {0x01, 0x20, 0x03, 0x40};
  for (std::uint64_t r = 0; r < 4; ++r) {
    Bytes expected = original;
    apply_mask_reference(expected, key, r);
    for (std::uint64_t base :
         {std::uint64_t{4}, std::uint64_t{1} << 32, std::uint64_t{1} << 62, ~std::uint64_t{3}}) {
      Bytes data = original;
      apply_mask(data, key, base + r);
      INFO("offset " << base + r);
      CHECK(data == expected);
    }
  }
}

TEST_CASE("MK-5 octet i is XORed with key octet (offset + i) mod 4", "[masking]") {
  // Masking zeros writes out the key octets themselves, in the order used.
  const MaskingKey key = {0xa0, 0xb1, 0xc2, 0xd3};
  for (std::uint64_t offset = 0; offset < 4; ++offset) {
    Bytes data(11, 0x00);
    apply_mask(data, key, offset);
    for (std::size_t i = 0; i < data.size(); ++i) CHECK(data[i] == key[(offset + i) % 4]);
  }
}

TEST_CASE("MK-5 zero-length data is left untouched", "[masking]") {
  std::span<std::uint8_t> nothing;
  apply_mask(nothing, kRfcKey, 0);  // no data pointer at all: must not touch memory
  apply_mask_reference(nothing, kRfcKey, 5);

  Bytes buffer = bytes_of("abcdefgh");
  for (std::size_t at = 0; at <= buffer.size(); ++at) {
    apply_mask(std::span(buffer).subspan(at, 0), kRfcKey, at);
    apply_mask_reference(std::span(buffer).subspan(at, 0), kRfcKey, at);
  }
  CHECK(buffer == bytes_of("abcdefgh"));
}

TEST_CASE("MK-5 the all-zero key leaves the payload as it is", "[masking]") {
  // A legal key (§5.3 only asks for unpredictable keys), and masking with it
  // is the identity: a receiver must not treat it specially.
  std::mt19937 rng(9);
  const Bytes original = random_bytes(300, rng);
  Bytes data = original;
  apply_mask(data, MaskingKey{0, 0, 0, 0}, 1);
  CHECK(std::ranges::equal(data, original));
}

TEST_CASE("MK-5 a 1 MiB payload is masked exactly as the reference masks it", "[masking]") {
  std::mt19937 rng(10);
  const Bytes original = random_bytes(std::size_t{1} << 20, rng);
  const MaskingKey key = random_key();
  Bytes fast = original;
  Bytes reference = original;
  apply_mask(std::span(fast).subspan(3), key, 2);
  apply_mask_reference(std::span(reference).subspan(3), key, 2);
  CHECK(std::ranges::equal(fast, reference));
  CHECK_FALSE(std::ranges::equal(fast, original));
}

TEST_CASE("MK-4 random_key: 1000 keys are not all equal and none repeats", "[masking]") {
  // 1000 keys out of 2^32: any repeat at all has a chance of about 1 in
  // 8600, three equal keys about 1 in 10^11. Allow one repeat, never three.
  std::map<std::uint32_t, int> seen;
  for (int i = 0; i < 1000; ++i) {
    const MaskingKey k = random_key();
    ++seen[std::uint32_t{k[0]} << 24 | std::uint32_t{k[1]} << 16 | std::uint32_t{k[2]} << 8 | k[3]];
  }
  CHECK(seen.size() >= 998);
  int most = 0;
  for (const auto& [key, count] : seen) most = std::max(most, count);
  CHECK(most <= 2);
}

TEST_CASE("MK-4 random_key: every bit of the key is set in about half of the keys", "[masking]") {
  // 4000 keys: each bit's count has a standard deviation of about 32 around
  // 2000, so 1600..2400 (more than 12 deviations) fails only for a broken
  // generator, e.g. one stuck bit or a constant octet.
  constexpr int kKeys = 4000;
  std::array<int, 32> ones{};
  std::array<int, 256> octet_values{};
  for (int i = 0; i < kKeys; ++i) {
    const MaskingKey k = random_key();
    for (std::size_t j = 0; j < 4; ++j) {
      ++octet_values[k[j]];
      for (int bit = 0; bit < 8; ++bit) ones[j * 8 + static_cast<std::size_t>(bit)] += (k[j] >> bit) & 1;
    }
  }
  for (std::size_t bit = 0; bit < 32; ++bit) {
    INFO("key bit " << bit);
    CHECK(ones[bit] > 1600);
    CHECK(ones[bit] < 2400);
  }
  // 16000 octets: every one of the 256 values shows up (a value is missing
  // with a chance of about e^-62).
  CHECK(std::count(octet_values.begin(), octet_values.end(), 0) == 0);
}

TEST_CASE("MK-4 random_key: successive keys differ, also across the per-thread batch of 64", "[masking]") {
  // Keys are drawn from OpenSSL 64 at a time; a refill must bring new keys,
  // never the same batch again.
  std::vector<std::uint32_t> keys;
  for (int i = 0; i < 64 * 4 + 1; ++i) {
    const MaskingKey k = random_key();
    keys.push_back(std::uint32_t{k[0]} << 24 | std::uint32_t{k[1]} << 16 | std::uint32_t{k[2]} << 8 | k[3]);
  }
  int equal_neighbours = 0;
  for (std::size_t i = 1; i < keys.size(); ++i) equal_neighbours += keys[i] == keys[i - 1];
  CHECK(equal_neighbours == 0);
  int batches_repeated = 0;
  for (std::size_t i = 64; i + 64 <= keys.size(); ++i)
    batches_repeated +=
        std::equal(keys.begin(), keys.begin() + 8, keys.begin() + static_cast<std::ptrdiff_t>(i));
  CHECK(batches_repeated == 0);
}

TEST_CASE("MK-4 random_key: two threads draw different keys", "[masking]") {
  // Each thread keeps its own batch of keys; they must not be copies.
  std::vector<std::uint32_t> a;
  std::vector<std::uint32_t> b;
  auto draw = [](std::vector<std::uint32_t>& out) {
    for (int i = 0; i < 100; ++i) {
      const MaskingKey k = random_key();
      out.push_back(std::uint32_t{k[0]} << 24 | std::uint32_t{k[1]} << 16 | std::uint32_t{k[2]} << 8 | k[3]);
    }
  };
  std::thread first(draw, std::ref(a));
  std::thread second(draw, std::ref(b));
  first.join();
  second.join();
  std::set<std::uint32_t> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  CHECK(all.size() >= 199);  // 200 keys; one chance repeat is about 1 in 10^6
}
