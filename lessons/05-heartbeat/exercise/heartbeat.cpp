// Chapter 5: the heartbeat (RFC 6455 §5.5.2, §5.5.3). EXERCISE: lessons/05-heartbeat.
//
// Yours to write: pong_for and the Keepalive scheduler (its members are in
// wslab/heartbeat.hpp; HINTS.md gives the order). The time is always passed
// in, so the tests are instant. Build and check with
//   cmake --preset learner -DWSLAB_LEARNER=heartbeat
//   cmake --build build/learner --target check_heartbeat
#include "wslab/heartbeat.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

namespace wslab::heartbeat {

std::optional<std::string> pong_for(std::span<const std::uint8_t> ping_payload, bool close_received) {
  // Exercise (step 1): §5.5.2 "Upon receipt of a Ping frame, an endpoint MUST
  // send a Pong frame in response, unless it already received a Close
  // frame." §5.5.3: the Pong carries "identical Application data".
  (void)ping_payload;
  (void)close_received;
  throw std::logic_error("exercise: heartbeat::pong_for is yours to write (lessons/05-heartbeat/exercise/HINTS.md)");
}

namespace {

// Our pings carry their sequence number, 4 bytes in network byte order, so
// the pong that answers one can be told from a stale or unsolicited pong.
[[maybe_unused]] std::string sequence_payload(std::uint64_t number) {
  const auto n = static_cast<std::uint32_t>(number);
  return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
          static_cast<char>(n)};
}

}  // namespace

Keepalive::Keepalive(Options options, TimePoint now) : options_(options), last_ping_(now) {}

void Keepalive::record_ping(std::string payload, TimePoint now) {
  // Exercise (step 2): count the ping; it is the one whose pong we now wait
  // for (§5.5.3 lets the peer answer only the most recent ping), and it is
  // the last ping sent. If no ping was outstanding, the pong timeout starts
  // running now (unanswered_since_, unanswered_number_); a newer ping must
  // not restart it.
  (void)payload;
  (void)now;
  throw std::logic_error("exercise: Keepalive::record_ping is yours to write (lessons/05-heartbeat/exercise/HINTS.md)");
}

TimePoint Keepalive::ping_due() const {
  // Exercise (step 3): never with ping_interval 0; not while a pong timeout
  // waits for the outstanding ping's pong; else ping_interval after the last.
  throw std::logic_error("exercise: Keepalive::ping_due is yours to write (lessons/05-heartbeat/exercise/HINTS.md)");
}

TimePoint Keepalive::pong_due() const {
  // Exercise (step 3): never with no outstanding ping or pong_timeout 0; else
  // pong_timeout after the oldest ping still unanswered.
  throw std::logic_error("exercise: Keepalive::pong_due is yours to write (lessons/05-heartbeat/exercise/HINTS.md)");
}

Keepalive::Action Keepalive::poll(TimePoint now) {
  // Exercise (step 4): fail (error::pong_timeout) once the pong is overdue;
  // else send_ping once a ping is due, with payload sequence_payload(n) for
  // the n-th ping, and record it; else none.
  (void)now;
  throw std::logic_error("exercise: Keepalive::poll is yours to write (lessons/05-heartbeat/exercise/HINTS.md)");
}

TimePoint Keepalive::next_deadline() const {
  // Exercise (step 4): the earlier of the two deadlines.
  throw std::logic_error("exercise: Keepalive::next_deadline is yours to write (lessons/05-heartbeat/exercise/HINTS.md)");
}

std::optional<Duration> Keepalive::on_pong(std::span<const std::uint8_t> payload, TimePoint now) {
  // Exercise (step 5): §5.5.3 "A Pong frame MAY be sent unsolicited ... A
  // response to an unsolicited Pong frame is not expected." Only a pong with
  // the outstanding ping's payload answers it: measure the round trip,
  // remember it (last_rtt_), count it and stop waiting. Any other changes nothing.
  (void)payload;
  (void)now;
  throw std::logic_error("exercise: Keepalive::on_pong is yours to write (lessons/05-heartbeat/exercise/HINTS.md)");
}

void Keepalive::on_ping_sent(std::span<const std::uint8_t> payload, TimePoint now) {
  // Exercise (step 5): a ping the user sent is tracked like a scheduled one.
  (void)payload;
  (void)now;
  throw std::logic_error("exercise: Keepalive::on_ping_sent is yours to write (lessons/05-heartbeat/exercise/HINTS.md)");
}

}  // namespace wslab::heartbeat
