// Chapter 5: the heartbeat (RFC 6455 §5.5.2, §5.5.3).
//
// A Ping (opcode 0x9) may be sent at any time, even between the fragments of
// a message; the peer "MUST send a Pong frame in response, unless it already
// received a Close frame", carrying "identical Application data". An
// unsolicited Pong is a one-way heartbeat and needs no answer.
//
// Pings keep idle connections alive through NATs and proxies and tell a peer
// that has gone silent from one that is merely quiet. This chapter decides
// when to ping, what to answer, and when a silent peer has taken too long.
// It never reads a clock: the caller passes the time in, so tests are
// instant and deterministic.
#pragma once

#include <wslab/rules.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace wslab::heartbeat {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::milliseconds;

// The pong that answers a ping (§5.5.2, §5.5.3): the identical payload, or
// nothing once a Close frame has been received.
std::optional<std::string> pong_for(std::span<const std::uint8_t> ping_payload,
                                    bool close_received);

struct Options {
  Duration ping_interval{0};  // send a ping after this much time without one; 0: never
  Duration pong_timeout{0};   // fail if its pong is not back by then; 0: never
};

// Schedules our pings and watches for their pongs.
class Keepalive {
 public:
  struct Action {
    enum class Kind { none, send_ping, fail } kind = Kind::none;
    std::string ping_payload;          // for send_ping
    std::optional<Violation> violation;  // for fail: pong_timeout (close 1011)
  };

  Keepalive(Options options, TimePoint now);

  // Time has passed: what must the connection do now? Returns send_ping when
  // a ping is due (and records it as outstanding), fail when the outstanding
  // ping's pong is overdue, none otherwise. A ping is due ping_interval after
  // the last one, once its pong is back; with no pong timeout an unanswered
  // ping does not hold back the next. Our pings carry their number (1, 2, ...)
  // as 4 bytes in network byte order.
  Action poll(TimePoint now);

  // The earliest time at which poll() would do something; TimePoint::max()
  // if nothing is scheduled. An event loop sets its timer to this.
  TimePoint next_deadline() const;

  // A pong arrived. If its payload is that of the outstanding ping, the
  // round trip is measured and returned; any other pong is unsolicited and
  // ignored (§5.5.3).
  std::optional<Duration> on_pong(std::span<const std::uint8_t> payload, TimePoint now);

  // We sent a ping of our own (e.g. the user asked for one): it is tracked
  // like a scheduled one, so its pong measures the round trip too. It
  // replaces an outstanding ping (§5.5.3 lets the peer answer only the
  // latest) without postponing that ping's pong timeout.
  void on_ping_sent(std::span<const std::uint8_t> payload, TimePoint now);

  std::optional<Duration> last_rtt() const { return last_rtt_; }
  bool awaiting_pong() const { return outstanding_.has_value(); }
  std::uint64_t pings_sent() const { return pings_sent_; }
  std::uint64_t pongs_matched() const { return pongs_matched_; }

 private:
  struct SentPing {
    std::string payload;
    TimePoint sent_at;
  };

  void record_ping(std::string payload, TimePoint now);
  TimePoint ping_due() const;  // when the next ping is due; TimePoint::max() if none may go
  TimePoint pong_due() const;  // when the awaited pong is overdue; TimePoint::max() if none

  Options options_;
  TimePoint last_ping_;               // when the last ping went out (or the start)
  std::optional<SentPing> outstanding_;  // the latest ping, awaiting its pong
  // The pong timeout runs from the oldest ping still unanswered: a newer
  // ping replaces the one we wait for, but must not postpone the failure.
  TimePoint unanswered_since_{};
  std::uint64_t unanswered_number_ = 0;  // that ping's number (1 = the first ping sent)
  std::optional<Duration> last_rtt_;
  std::uint64_t pings_sent_ = 0;
  std::uint64_t pongs_matched_ = 0;
};

}  // namespace wslab::heartbeat
