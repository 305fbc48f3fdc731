// Chapter 5: the heartbeat (RFC 6455 §5.5.2, §5.5.3).
#include "wslab/heartbeat.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace wslab::heartbeat {

std::optional<std::string> pong_for(std::span<const std::uint8_t> ping_payload, bool close_received) {
  // §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame
  // in response, unless it already received a Close frame."
  if (close_received) return std::nullopt;
  // §5.5.3: "A Pong frame sent in response to a Ping frame must have
  // identical "Application data" as found in the message body of the Ping
  // frame being replied to."
  return std::string(ping_payload.begin(), ping_payload.end());
}

namespace {

// Our pings carry their sequence number, 4 bytes in network byte order, so
// the pong that answers one can be told from a stale or unsolicited pong.
std::string sequence_payload(std::uint64_t number) {
  const auto n = static_cast<std::uint32_t>(number);
  return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
          static_cast<char>(n)};
}

}  // namespace

Keepalive::Keepalive(Options options, TimePoint now) : options_(options), last_ping_(now) {}

void Keepalive::record_ping(std::string payload, TimePoint now) {
  ++pings_sent_;
  if (!outstanding_) {
    unanswered_since_ = now;
    unanswered_number_ = pings_sent_;
  }
  // §5.5.3: "If an endpoint receives a Ping frame and has not yet sent Pong
  // frame(s) in response to previous Ping frame(s), the endpoint MAY elect to
  // send a Pong frame for only the most recently processed Ping frame." So
  // the pong to wait for is the one for the latest ping.
  outstanding_ = SentPing{std::move(payload), now};
  last_ping_ = now;
}

TimePoint Keepalive::ping_due() const {
  if (options_.ping_interval == Duration::zero()) return TimePoint::max();
  // While a pong timeout watches the outstanding ping, the next ping waits
  // for its pong. With no pong timeout nobody waits for it, so a lost pong
  // does not stop the keepalive.
  if (outstanding_ && options_.pong_timeout > Duration::zero()) return TimePoint::max();
  return last_ping_ + options_.ping_interval;
}

TimePoint Keepalive::pong_due() const {
  if (!outstanding_ || options_.pong_timeout == Duration::zero()) return TimePoint::max();
  return unanswered_since_ + options_.pong_timeout;
}

Keepalive::Action Keepalive::poll(TimePoint now) {
  Action action;
  if (now >= pong_due()) {
    action.kind = Action::Kind::fail;
    action.violation =
        Violation(error::pong_timeout, "no pong " + std::to_string(options_.pong_timeout.count()) +
                                           " ms after ping #" + std::to_string(unanswered_number_));
  } else if (now >= ping_due()) {
    action.kind = Action::Kind::send_ping;
    action.ping_payload = sequence_payload(pings_sent_ + 1);
    record_ping(action.ping_payload, now);
  }
  return action;
}

TimePoint Keepalive::next_deadline() const {
  return std::min(ping_due(), pong_due());
}

std::optional<Duration> Keepalive::on_pong(std::span<const std::uint8_t> payload, TimePoint now) {
  // §5.5.3: "A Pong frame MAY be sent unsolicited. This serves as a
  // unidirectional heartbeat. A response to an unsolicited Pong frame is not
  // expected." A pong that does not carry the outstanding ping's payload
  // (unsolicited, or answering a ping we no longer wait for) changes nothing.
  if (!outstanding_) return std::nullopt;
  const std::string& expected = outstanding_->payload;
  if (!std::equal(payload.begin(), payload.end(), expected.begin(), expected.end(),
                  [](std::uint8_t a, char b) { return a == static_cast<std::uint8_t>(b); }))
    return std::nullopt;

  const auto rtt = std::chrono::duration_cast<Duration>(now - outstanding_->sent_at);
  outstanding_.reset();
  last_rtt_ = rtt;
  ++pongs_matched_;
  return rtt;
}

void Keepalive::on_ping_sent(std::span<const std::uint8_t> payload, TimePoint now) {
  record_ping(std::string(payload.begin(), payload.end()), now);
}

}  // namespace wslab::heartbeat
