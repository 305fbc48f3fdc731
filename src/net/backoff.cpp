// RFC 6455 §7.2.3: randomized, truncated exponential backoff (see backoff.hpp).
#include "wslab/net/backoff.hpp"

#include <algorithm>

namespace wslab::net {

BackoffWindow backoff_window(const BackoffOptions& options, std::uint32_t attempt) {
  using std::chrono::milliseconds;
  const milliseconds first = std::max(options.first, milliseconds(0));
  const milliseconds cap = std::max(options.cap, first);
  if (attempt <= 1) return {milliseconds(0), first};  // "between 0 and 5 seconds"
  // w = first * 2^(attempt-1), doubled step by step so that it cannot overflow.
  milliseconds w = first;
  for (std::uint32_t i = 1; i < attempt && w < cap && w > milliseconds(0); ++i) w = std::min(cap, w * 2);
  return {w / 2, w};
}

std::chrono::milliseconds backoff_delay(const BackoffOptions& options, std::uint32_t attempt, double random) {
  const BackoffWindow window = backoff_window(options, attempt);
  const double r = std::clamp(random, 0.0, 1.0);
  const auto span = static_cast<double>((window.high - window.low).count());
  return window.low + std::chrono::milliseconds(static_cast<std::int64_t>(r * span));
}

}  // namespace wslab::net
