// Masking throughput next to memcpy (chapter 4).
//
// memcpy is the yardstick: it reads and writes every byte once, as masking
// in place does, and the C library tunes it for the machine. apply_mask
// should reach at least 0.8 x memcpy on a 1 MiB buffer in a release build;
// apply_mask_reference, the octet-by-octet loop of §5.3, shows what the
// word-at-a-time version buys.
//
// Each figure is the median of several timed runs after a warm-up. Every
// run masks the buffer an even number of times, so it must end up as it
// began; the program checks that (and the memcpy copy) and exits with 1 if
// not, so no result can be optimised away unnoticed.
//
// Build and run with the release preset:
//   cmake --preset release && cmake --build --preset release
//   build/release/tests/bench/bench_masking
#include <wslab/masking.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMiB = std::size_t{1} << 20;
constexpr int kRepetitions = 7;

// Tells the compiler that memory behind `p` is read and written by someone it
// cannot see, so it keeps every memcpy and mask operation.
void clobber(void* p) {
#if defined(__GNUC__)
  asm volatile("" : : "r"(p) : "memory");
#else
  static void* volatile sink;
  sink = p;
#endif
}

// Runs `pass` (one pass over `bytes` bytes) `passes` times per repetition and
// returns the median throughput in GiB/s.
double median_gib_per_s(std::size_t bytes, int passes, const std::function<void()>& pass) {
  for (int i = 0; i < 2; ++i) pass();  // warm-up: page faults, caches, clocks
  std::vector<double> rates;
  for (int r = 0; r < kRepetitions; ++r) {
    const auto start = Clock::now();
    for (int i = 0; i < passes; ++i) pass();
    const std::chrono::duration<double> seconds = Clock::now() - start;
    rates.push_back(static_cast<double>(bytes) * passes / seconds.count() / static_cast<double>(1u << 30));
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

bool run(std::size_t bytes, int passes) {
  std::vector<std::uint8_t> original(bytes);
  for (std::size_t i = 0; i < bytes; ++i) original[i] = static_cast<std::uint8_t>(i * 131 + 7);
  std::vector<std::uint8_t> src = original;
  std::vector<std::uint8_t> dst(bytes);
  std::vector<std::uint8_t> data = original;
  const wslab::masking::MaskingKey key = wslab::masking::random_key();

  const double copy = median_gib_per_s(bytes, passes, [&] {
    std::memcpy(dst.data(), src.data(), bytes);
    clobber(dst.data());
    clobber(src.data());
  });
  // passes is even and each measurement adds 2 warm-up passes, so after
  // every measurement the data has been masked an even number of times.
  const double fast = median_gib_per_s(bytes, passes, [&] {
    wslab::masking::apply_mask(data, key);
    clobber(data.data());
  });
  const bool fast_ok = data == original;
  const double reference = median_gib_per_s(bytes, passes, [&] {
    wslab::masking::apply_mask_reference(data, key);
    clobber(data.data());
  });
  const bool reference_ok = data == original;
  const bool copy_ok = dst == original;

  std::printf("%6zu MiB  %12.2f  %16.2f  %20.2f  %17.2f\n", bytes / kMiB, copy, fast, reference, fast / copy);
  if (!copy_ok || !fast_ok || !reference_ok) {
    std::printf("  check failed:%s%s%s\n", copy_ok ? "" : " memcpy", fast_ok ? "" : " apply_mask",
                reference_ok ? "" : " apply_mask_reference");
    return false;
  }
  return true;
}

}  // namespace

int main() {
  std::printf("wslab masking throughput, GiB/s, median of %d runs\n", kRepetitions);
  std::printf("%10s  %12s  %16s  %20s  %17s\n", "buffer", "memcpy", "apply_mask", "apply_mask_reference",
              "apply_mask/memcpy");
  bool ok = true;
  ok = run(1 * kMiB, 512) && ok;  // 1 MiB: fits in the caches
  ok = run(64 * kMiB, 8) && ok;   // 64 MiB: main memory

  // One key per client frame: what a fresh key from OpenSSL costs.
  constexpr int kKeys = 100000;
  std::uint32_t mix = 0;
  const auto start = Clock::now();
  for (int i = 0; i < kKeys; ++i) {
    const auto k = wslab::masking::random_key();
    mix ^= static_cast<std::uint32_t>(k[0] | k[1] << 8 | k[2] << 16 | k[3] << 24);
  }
  const std::chrono::duration<double, std::nano> elapsed = Clock::now() - start;
  std::printf("random_key: %.0f ns per key (xor of all keys %08x)\n", elapsed.count() / kKeys,
              static_cast<unsigned>(mix));
  return ok ? 0 : 1;
}
