// Chapter 5: the heartbeat (RFC 6455 §5.5.2, §5.5.3).
//
// Time is injected: at(1500) is 1.5 s after an arbitrary start, so every
// schedule below is instant and deterministic.
#include <wslab/heartbeat.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using wslab::heartbeat::Duration;
using wslab::heartbeat::Keepalive;
using wslab::heartbeat::Options;
using wslab::heartbeat::pong_for;
using wslab::heartbeat::TimePoint;
using Kind = Keepalive::Action::Kind;

namespace {

TimePoint at(int ms) {
  return TimePoint{} + std::chrono::milliseconds(ms);
}

std::vector<std::uint8_t> bytes(const std::string& s) {
  return std::vector<std::uint8_t>(s.begin(), s.end());
}

// Our n-th ping's payload: n as 4 bytes, big-endian.
std::string ping_number(std::uint32_t n) {
  return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
          static_cast<char>(n)};
}

}  // namespace

// --- Answering pings --------------------------------------------------------

TEST_CASE("HB-1 a ping is answered by a pong with identical application data", "[heartbeat]") {
  const auto pong = pong_for(bytes("are you there?"), false);
  REQUIRE(pong.has_value());
  CHECK(*pong == "are you there?");
}

TEST_CASE("HB-1 an empty ping is answered by an empty pong", "[heartbeat]") {
  const auto pong = pong_for({}, false);
  REQUIRE(pong.has_value());
  CHECK(pong->empty());
}

TEST_CASE("HB-1 a 125-byte ping of every octet value is echoed byte for byte", "[heartbeat]") {
  std::vector<std::uint8_t> payload(125);
  for (std::size_t i = 0; i < payload.size(); ++i)
    payload[i] = static_cast<std::uint8_t>(255 - i * 2);  // includes 0xff, 0x80, 0x01...
  payload[60] = 0x00;                                     // and an embedded NUL
  const auto pong = pong_for(payload, false);
  REQUIRE(pong.has_value());
  REQUIRE(pong->size() == 125);
  CHECK(std::equal(payload.begin(), payload.end(), pong->begin(),
                   [](std::uint8_t a, char b) { return a == static_cast<std::uint8_t>(b); }));
}

TEST_CASE("HB-1 no pong is sent once a Close frame has been received", "[heartbeat]") {
  CHECK_FALSE(pong_for(bytes("late ping"), true).has_value());
  CHECK_FALSE(pong_for({}, true).has_value());
}

// --- Our own pings ----------------------------------------------------------

TEST_CASE("HB-1 keepalive: the first ping goes out one interval after the start", "[heartbeat]") {
  Keepalive keepalive(Options{1000ms, 5000ms}, at(0));
  CHECK(keepalive.next_deadline() == at(1000));

  const auto early = keepalive.poll(at(999));
  CHECK(early.kind == Kind::none);
  CHECK(early.ping_payload.empty());
  CHECK_FALSE(early.violation.has_value());
  CHECK(keepalive.pings_sent() == 0);

  const auto due = keepalive.poll(at(1000));
  CHECK(due.kind == Kind::send_ping);
  CHECK(due.ping_payload == ping_number(1));
  CHECK_FALSE(due.violation.has_value());
  CHECK(keepalive.awaiting_pong());
  CHECK(keepalive.pings_sent() == 1);
}

TEST_CASE("HB-1 keepalive: no second ping while the first one's pong is awaited", "[heartbeat]") {
  Keepalive keepalive(Options{1000ms, 5000ms}, at(0));
  REQUIRE(keepalive.poll(at(1000)).kind == Kind::send_ping);
  CHECK(keepalive.poll(at(1000)).kind == Kind::none);  // the same instant twice
  CHECK(keepalive.poll(at(2500)).kind == Kind::none);  // an interval later, still waiting
  CHECK(keepalive.pings_sent() == 1);

  // The pong comes back late; the next ping was due at 2000, so it goes now.
  REQUIRE(keepalive.on_pong(bytes(ping_number(1)), at(2600)).has_value());
  const auto next = keepalive.poll(at(2600));
  CHECK(next.kind == Kind::send_ping);
  CHECK(next.ping_payload == ping_number(2));
}

TEST_CASE("HB-1 keepalive: the interval runs from the last ping, not from its pong", "[heartbeat]") {
  Keepalive keepalive(Options{1000ms, 5000ms}, at(0));
  REQUIRE(keepalive.poll(at(1000)).kind == Kind::send_ping);
  REQUIRE(keepalive.on_pong(bytes(ping_number(1)), at(1900)).has_value());
  CHECK(keepalive.next_deadline() == at(2000));
  CHECK(keepalive.poll(at(1999)).kind == Kind::none);
  CHECK(keepalive.poll(at(2000)).kind == Kind::send_ping);
}

TEST_CASE("HB-1 keepalive: the matching pong gives the round-trip time", "[heartbeat]") {
  Keepalive keepalive(Options{1000ms, 5000ms}, at(0));
  CHECK_FALSE(keepalive.last_rtt().has_value());
  REQUIRE(keepalive.poll(at(1000)).kind == Kind::send_ping);

  const auto rtt = keepalive.on_pong(bytes(ping_number(1)), at(1042));
  REQUIRE(rtt.has_value());
  CHECK(*rtt == 42ms);
  CHECK(keepalive.last_rtt() == Duration{42});
  CHECK_FALSE(keepalive.awaiting_pong());
  CHECK(keepalive.pongs_matched() == 1);

  // The same pong again is now unsolicited.
  CHECK_FALSE(keepalive.on_pong(bytes(ping_number(1)), at(1050)).has_value());
  CHECK(keepalive.pongs_matched() == 1);
  CHECK(keepalive.last_rtt() == Duration{42});
}

TEST_CASE("HB-1 keepalive: ping payloads are sequence numbers in network byte order", "[heartbeat]") {
  Keepalive keepalive(Options{10ms, 0ms}, at(0));
  std::string last;
  for (int n = 1; n <= 258; ++n) {
    const auto action = keepalive.poll(at(10 * n));
    REQUIRE(action.kind == Kind::send_ping);
    REQUIRE(keepalive.on_pong(bytes(action.ping_payload), at(10 * n + 1)).has_value());
    last = action.ping_payload;
  }
  CHECK(last == std::string("\x00\x00\x01\x02", 4));  // 258 = 0x0102
  CHECK(keepalive.pings_sent() == 258);
  CHECK(keepalive.pongs_matched() == 258);
}

// --- The pong timeout -------------------------------------------------------

TEST_CASE("HB-3 pong_timeout: no pong in time fails the connection with 1011", "[heartbeat]") {
  Keepalive keepalive(Options{1000ms, 2000ms}, at(0));
  REQUIRE(keepalive.poll(at(1000)).kind == Kind::send_ping);
  CHECK(keepalive.next_deadline() == at(3000));
  CHECK(keepalive.poll(at(2999)).kind == Kind::none);

  const auto action = keepalive.poll(at(3000));
  REQUIRE(action.kind == Kind::fail);
  REQUIRE(action.violation.has_value());
  CHECK(action.violation->id() == wslab::error::pong_timeout);
  CHECK(action.violation->close_code() == 1011);
  CHECK(action.violation->detail() == "no pong 2000 ms after ping #1");
  CHECK(action.violation->message() == "1011: no pong 2000 ms after ping #1 (RFC 6455 §5.5.2)");
}

TEST_CASE("HB-3 pong_timeout: the failure names the ping that went unanswered", "[heartbeat]") {
  Keepalive keepalive(Options{1000ms, 2000ms}, at(0));
  for (int n = 1; n <= 2; ++n) {
    REQUIRE(keepalive.poll(at(1000 * n)).kind == Kind::send_ping);
    REQUIRE(
        keepalive.on_pong(bytes(ping_number(static_cast<std::uint32_t>(n))), at(1000 * n + 5)).has_value());
  }
  REQUIRE(keepalive.poll(at(3000)).kind == Kind::send_ping);  // ping #3, never answered
  const auto action = keepalive.poll(at(5000));
  REQUIRE(action.kind == Kind::fail);
  CHECK(action.violation->detail() == "no pong 2000 ms after ping #3");
}

TEST_CASE("HB-3 pong_timeout: a pong just before the deadline prevents the failure", "[heartbeat]") {
  Keepalive keepalive(Options{1000ms, 2000ms}, at(0));
  REQUIRE(keepalive.poll(at(1000)).kind == Kind::send_ping);
  REQUIRE(keepalive.on_pong(bytes(ping_number(1)), at(2999)) == Duration{1999});
  CHECK(keepalive.poll(at(3000)).kind == Kind::send_ping);  // the next ping, no failure
}

TEST_CASE("HB-3 pong_timeout 0: an unanswered ping never fails the connection", "[heartbeat]") {
  // Nobody waits for the pong, so a lost one does not stop the keepalive:
  // every interval brings the next ping.
  Keepalive keepalive(Options{1000ms, 0ms}, at(0));
  for (int n = 1; n <= 10; ++n) {
    const auto action = keepalive.poll(at(1000 * n));
    CHECK(action.kind == Kind::send_ping);
    CHECK(action.ping_payload == ping_number(static_cast<std::uint32_t>(n)));
    CHECK(keepalive.poll(at(1000 * n + 999)).kind == Kind::none);
  }
  CHECK(keepalive.next_deadline() == at(11000));
}

TEST_CASE("HB-1 ping_interval 0: the keepalive never pings", "[heartbeat]") {
  Keepalive keepalive(Options{0ms, 2000ms}, at(0));
  CHECK(keepalive.next_deadline() == TimePoint::max());
  for (int ms : {0, 1, 1000, 60'000, 86'400'000}) CHECK(keepalive.poll(at(ms)).kind == Kind::none);
  CHECK(keepalive.pings_sent() == 0);
  CHECK_FALSE(keepalive.awaiting_pong());
}

TEST_CASE("HB-1 both disabled: nothing is ever scheduled", "[heartbeat]") {
  Keepalive keepalive(Options{}, at(5));
  CHECK(keepalive.next_deadline() == TimePoint::max());
  CHECK(keepalive.poll(at(1'000'000)).kind == Kind::none);
}

// --- Pongs we did not ask for -------------------------------------------------

TEST_CASE("HB-2 an unsolicited pong is ignored and changes nothing", "[heartbeat]") {
  Keepalive keepalive(Options{1000ms, 2000ms}, at(0));
  CHECK_FALSE(keepalive.on_pong(bytes("heartbeat"), at(500)).has_value());
  CHECK_FALSE(keepalive.on_pong({}, at(600)).has_value());
  CHECK_FALSE(keepalive.last_rtt().has_value());
  CHECK(keepalive.pongs_matched() == 0);
  CHECK_FALSE(keepalive.awaiting_pong());
  CHECK(keepalive.next_deadline() == at(1000));  // the schedule did not move
  CHECK(keepalive.poll(at(1000)).kind == Kind::send_ping);
}

TEST_CASE("HB-2 a pong with another payload does not answer the outstanding ping", "[heartbeat]") {
  Keepalive keepalive(Options{1000ms, 2000ms}, at(0));
  REQUIRE(keepalive.poll(at(1000)).kind == Kind::send_ping);
  CHECK_FALSE(keepalive.on_pong(bytes(ping_number(2)), at(1100)).has_value());
  CHECK_FALSE(keepalive.on_pong(bytes(std::string("\x00\x00\x00", 3)), at(1100)).has_value());
  CHECK_FALSE(keepalive.on_pong(bytes(ping_number(1) + "x"), at(1100)).has_value());
  CHECK(keepalive.awaiting_pong());
  CHECK(keepalive.pongs_matched() == 0);
  CHECK(keepalive.poll(at(3000)).kind == Kind::fail);  // still overdue
}

TEST_CASE("HB-2 a stale pong, for a ping since replaced by a newer one, is ignored", "[heartbeat]") {
  // §5.5.3 lets a peer answer only the most recent ping; we wait for that one.
  Keepalive keepalive(Options{0ms, 5000ms}, at(0));
  keepalive.on_ping_sent(bytes("first"), at(100));
  keepalive.on_ping_sent(bytes("second"), at(300));
  CHECK(keepalive.pings_sent() == 2);

  CHECK_FALSE(keepalive.on_pong(bytes("first"), at(350)).has_value());
  CHECK(keepalive.awaiting_pong());
  CHECK_FALSE(keepalive.last_rtt().has_value());

  const auto rtt = keepalive.on_pong(bytes("second"), at(380));
  REQUIRE(rtt.has_value());
  CHECK(*rtt == 80ms);  // measured from the ping it answers
  CHECK(keepalive.pongs_matched() == 1);
}

// --- User pings ---------------------------------------------------------------

TEST_CASE("HB-1 a ping the user sent is tracked: its pong measures the round trip", "[heartbeat]") {
  Keepalive keepalive(Options{0ms, 2000ms}, at(0));
  keepalive.on_ping_sent(bytes("user ping"), at(700));
  CHECK(keepalive.awaiting_pong());
  CHECK(keepalive.pings_sent() == 1);
  CHECK(keepalive.next_deadline() == at(2700));
  CHECK(keepalive.on_pong(bytes("user ping"), at(725)) == Duration{25});
  CHECK(keepalive.next_deadline() == TimePoint::max());
}

TEST_CASE("HB-3 an unanswered user ping fails the connection after the pong timeout", "[heartbeat]") {
  Keepalive keepalive(Options{0ms, 2000ms}, at(0));
  keepalive.on_ping_sent({}, at(700));
  CHECK(keepalive.poll(at(2699)).kind == Kind::none);
  const auto action = keepalive.poll(at(2700));
  REQUIRE(action.kind == Kind::fail);
  CHECK(action.violation->id() == wslab::error::pong_timeout);
  CHECK(action.violation->detail() == "no pong 2000 ms after ping #1");
}

TEST_CASE("HB-3 a newer ping does not postpone the pong timeout of an unanswered one", "[heartbeat]") {
  Keepalive keepalive(Options{1000ms, 2000ms}, at(0));
  REQUIRE(keepalive.poll(at(1000)).kind == Kind::send_ping);  // ping #1
  keepalive.on_ping_sent(bytes("user"), at(2500));            // ping #2 replaces it
  CHECK(keepalive.next_deadline() == at(3000));               // still #1's deadline
  const auto action = keepalive.poll(at(3000));
  REQUIRE(action.kind == Kind::fail);
  CHECK(action.violation->detail() == "no pong 2000 ms after ping #1");
}

TEST_CASE("HB-2 the pong for the newest ping settles all earlier unanswered ones", "[heartbeat]") {
  Keepalive keepalive(Options{1000ms, 2000ms}, at(0));
  REQUIRE(keepalive.poll(at(1000)).kind == Kind::send_ping);  // ping #1
  keepalive.on_ping_sent(bytes("user"), at(2500));            // ping #2
  CHECK(keepalive.on_pong(bytes("user"), at(2600)) == Duration{100});
  CHECK_FALSE(keepalive.awaiting_pong());
  CHECK(keepalive.next_deadline() == at(3500));  // an interval after the user's ping
  CHECK(keepalive.poll(at(3000)).kind == Kind::none);
  const auto next = keepalive.poll(at(3500));
  CHECK(next.kind == Kind::send_ping);
  CHECK(next.ping_payload == ping_number(3));
}

TEST_CASE("HB-1 next_deadline follows the schedule through a ping and its pong", "[heartbeat]") {
  Keepalive keepalive(Options{30'000ms, 10'000ms}, at(1000));
  CHECK(keepalive.next_deadline() == at(31'000));  // the first ping
  REQUIRE(keepalive.poll(at(31'000)).kind == Kind::send_ping);
  CHECK(keepalive.next_deadline() == at(41'000));  // its pong is due
  REQUIRE(keepalive.on_pong(bytes(ping_number(1)), at(31'020)).has_value());
  CHECK(keepalive.next_deadline() == at(61'000));  // the next ping

  // A pong timeout longer than the interval: no ping is due while we wait
  // for the pong, so the next deadline is the pong's.
  Keepalive patient(Options{1000ms, 5000ms}, at(0));
  REQUIRE(patient.poll(at(1000)).kind == Kind::send_ping);
  CHECK(patient.next_deadline() == at(6000));
}
