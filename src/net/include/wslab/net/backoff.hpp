// Layer 3: when to reconnect after an abnormal closure (RFC 6455 §7.2.3).
//
// If every client of a server that went away reconnected at once, and kept
// trying, the server would meet what "amounts to a denial-of-service attack"
// the moment it came back. So §7.2.3: "The first reconnect attempt SHOULD be
// delayed by a random amount of time ... a value chosen randomly between 0
// and 5 seconds is a reasonable initial delay"; "Should the first reconnect
// attempt fail, subsequent reconnect attempts SHOULD be delayed by
// increasingly longer amounts of time, using a method such as truncated
// binary exponential backoff."
//
// The policy, sans-I/O like the chapters: the caller passes the randomness
// in (a number in [0, 1)) and does the waiting. With the defaults:
//
//   attempt 1 (the first REconnect)   random in [0, 5 s]
//   attempt 2                         random in [5, 10 s]
//   attempt 3                         random in [10, 20 s]
//   attempt n                         random in [w/2, w], w = min(cap, 5 s * 2^(n-1))
//
// Each window starts where the one before ended (until the cap truncates
// it), so every wait is at least as long as any earlier one could have been,
// and clients that failed together spread out. The first connection is not
// a reconnection: it is made at once, and reset() after a success starts
// the next series at attempt 1 again. The library's Client never reconnects
// by itself; `wslab tour` and `wslab watch` use this between attempts.
#pragma once

#include <chrono>
#include <cstdint>

namespace wslab::net {

struct BackoffOptions {
  std::chrono::milliseconds first{5000};  // the first reconnect waits a random time in [0, first]
  std::chrono::milliseconds cap{30000};   // the truncation: no window is wider than this
};

// The wait before reconnect attempt `attempt` (1 is the first reconnect;
// 0 is treated as 1), for `random` drawn uniformly from [0, 1) (values
// outside are clamped). Pure: the same arguments give the same delay.
std::chrono::milliseconds backoff_delay(const BackoffOptions& options, std::uint32_t attempt, double random);

// The bounds of attempt `attempt`'s window: backoff_delay lies in [low, high].
struct BackoffWindow {
  std::chrono::milliseconds low{0};
  std::chrono::milliseconds high{0};
};
BackoffWindow backoff_window(const BackoffOptions& options, std::uint32_t attempt);

// A series of reconnect attempts.
class Backoff {
 public:
  explicit Backoff(BackoffOptions options = {}) : options_(options) {}
  // The wait before the next reconnect attempt; counts the attempt.
  std::chrono::milliseconds next(double random) { return backoff_delay(options_, ++attempts_, random); }
  // Connected (or the series is over): the next failure starts at attempt 1.
  void reset() { attempts_ = 0; }
  // Reconnect attempts since the last reset().
  std::uint32_t attempts() const { return attempts_; }
  const BackoffOptions& options() const { return options_; }

 private:
  BackoffOptions options_;
  std::uint32_t attempts_ = 0;
};

}  // namespace wslab::net
