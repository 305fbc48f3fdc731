// RFC 6455 §7.2.3 (CL-15): the reconnect backoff of `wslab tour` and
// `wslab watch`, as a pure function of the attempt and the randomness.
#include <wslab/net/backoff.hpp>

#include <catch2/catch.hpp>

#include <random>

using namespace wslab;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

TEST_CASE("CL-15 backoff: the first reconnect waits a random time between 0 and 5 s", "[net][backoff]") {
  // §7.2.3: "a value chosen randomly between 0 and 5 seconds is a
  // reasonable initial delay".
  const net::BackoffOptions options;
  CHECK(net::backoff_delay(options, 1, 0.0) == 0ms);
  CHECK(net::backoff_delay(options, 1, 0.5) == 2500ms);
  CHECK(net::backoff_delay(options, 1, 0.999999) <= 5000ms);
  CHECK(net::backoff_delay(options, 1, 0.999999) >= 4999ms);
  CHECK(net::backoff_delay(options, 0, 0.5) == 2500ms);  // attempt 0 counts as the first
  // The randomness spreads clients out over the whole window.
  std::mt19937 rng(6455);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  milliseconds lowest = 5000ms, highest = 0ms;
  for (int i = 0; i < 1000; ++i) {
    const auto d = net::backoff_delay(options, 1, uniform(rng));
    REQUIRE(d >= 0ms);
    REQUIRE(d <= 5000ms);
    lowest = std::min(lowest, d);
    highest = std::max(highest, d);
  }
  CHECK(lowest < 250ms);
  CHECK(highest > 4750ms);
}

TEST_CASE("CL-15 backoff: later attempts wait increasingly longer, the window doubling up to the cap",
          "[net][backoff]") {
  // §7.2.3: "subsequent reconnect attempts SHOULD be delayed by increasingly
  // longer amounts of time, using a method such as truncated binary
  // exponential backoff".
  const net::BackoffOptions options{.first = 5000ms, .cap = 30000ms};
  struct Expected {
    std::uint32_t attempt;
    milliseconds low, high;
  };
  for (const auto& e : {Expected{1, 0ms, 5000ms}, Expected{2, 5000ms, 10000ms}, Expected{3, 10000ms, 20000ms},
                        Expected{4, 15000ms, 30000ms}, Expected{5, 15000ms, 30000ms}, Expected{1000, 15000ms, 30000ms},
                        Expected{4'000'000'000u, 15000ms, 30000ms}}) {
    INFO("attempt " << e.attempt);
    const auto w = net::backoff_window(options, e.attempt);
    CHECK(w.low == e.low);
    CHECK(w.high == e.high);
    CHECK(net::backoff_delay(options, e.attempt, 0.0) == e.low);
    CHECK(net::backoff_delay(options, e.attempt, 1.0) == e.high);
  }
  // Until the cap, each window starts where the one before ended: a later
  // wait is never shorter than an earlier one could have been.
  for (std::uint32_t n = 1; n < 3; ++n)
    CHECK(net::backoff_window(options, n + 1).low >= net::backoff_window(options, n).high);
  // And the bounds never shrink, capped or not.
  for (std::uint32_t n = 1; n < 40; ++n) {
    CHECK(net::backoff_window(options, n + 1).low >= net::backoff_window(options, n).low);
    CHECK(net::backoff_window(options, n + 1).high >= net::backoff_window(options, n).high);
    CHECK(net::backoff_window(options, n).high <= options.cap);
  }
}

TEST_CASE("CL-15 backoff: a series counts its attempts and reset starts again at the first", "[net][backoff]") {
  net::Backoff b(net::BackoffOptions{.first = 100ms, .cap = 1000ms});
  CHECK(b.attempts() == 0);
  CHECK(b.next(1.0) == 100ms);   // attempt 1: [0, 100]
  CHECK(b.next(0.0) == 100ms);   // attempt 2: [100, 200]
  CHECK(b.next(1.0) == 400ms);   // attempt 3: [200, 400]
  CHECK(b.attempts() == 3);
  b.reset();                     // connected: the next failure is a first reconnect again
  CHECK(b.next(0.0) == 0ms);
  CHECK(b.attempts() == 1);
  // Out-of-range randomness is clamped, a zero first delay stays zero.
  CHECK(net::backoff_delay({.first = 100ms, .cap = 1000ms}, 1, -3.0) == 0ms);
  CHECK(net::backoff_delay({.first = 100ms, .cap = 1000ms}, 1, 7.0) == 100ms);
  CHECK(net::backoff_delay({.first = 0ms, .cap = 0ms}, 4'000'000'000u, 0.5) == 0ms);
}
