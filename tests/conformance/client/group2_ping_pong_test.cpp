// Autobahn group 2, client role: pings and pongs from the server (RFC 6455
// §5.5.2, §5.5.3, HB-1, HB-2). The client answers each Ping with a Pong
// carrying the identical application data, masked like every client frame;
// a control frame over 125 bytes fails the connection with 1002 (§5.5,
// FR-4); an unsolicited Pong needs no answer.
#include "conformance/client/hostile_server.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace wslab;
using namespace wslab::conformance;

namespace {

// Ping with `payload`, expect the pong, close normally.
void ping_pong(const std::string& payload, std::size_t chop = 0, Ms pause = 0ms) {
  ClientCase c;
  c.open();
  if (chop == 0) {
    REQUIRE(c.server.send(ping(payload)));
  } else {
    REQUIRE(c.server.send_chopped(ping(payload), chop, pause));
  }
  c.expect_pong(payload);
  c.close_normally();
}

std::string bytes_0_to_255() {
  std::string out;
  for (int i = 0; i < 256; ++i) out.push_back(static_cast<char>(i));
  return out;
}

}  // namespace

TEST_CASE("client 2.1 ping without payload HB-1 is answered with an empty pong", "[conformance][group2]") {
  ping_pong("");  // RFC 6455 §5.5.2, §5.5.3
}

TEST_CASE("client 2.2 ping with a small text payload HB-1 is answered with the same payload",
          "[conformance][group2]") {
  ping_pong("Hello, world!");  // RFC 6455 §5.5.3: "identical Application data"
}

TEST_CASE("client 2.3 ping with a small binary payload HB-1 is answered with the same payload",
          "[conformance][group2]") {
  ping_pong(std::string("\x00\xff\xfe\xfd\xfc\xfb\x00\xff", 8));  // RFC 6455 §5.5.3
}

TEST_CASE("client 2.4 ping with a 125-byte binary payload HB-1 is answered with the same payload",
          "[conformance][group2]") {
  ping_pong(repeat('\xfe', 125));  // RFC 6455 §5.5: 125 is the most a control frame carries
}

TEST_CASE("client 2.5 ping with a 126-byte payload FR-4 fails 1002 without a pong", "[conformance][group2]") {
  // RFC 6455 §5.5: "All control frames MUST have a payload length of 125
  // bytes or less". The client decides on the header: only it is sent
  // first, then the payload after the client has failed.
  ClientCase c;
  c.open();
  const std::string frame = ping(repeat('\xfe', 126));
  REQUIRE(c.server.send(frame.substr(0, 4)));  // 2 + 16-bit length
  const ReceivedFrame f = c.expect_frame();
  CHECK(f.opcode == kClose);
  c.server.send(frame.substr(4));  // too late: the client has failed
  CHECK(f.close_code() == std::optional<std::uint16_t>(1002));
  CHECK(c.server.next(3s).what == HostileServer::Got::closed);
  REQUIRE(c.client.events.wait_close(3s));
  CHECK(reported_violation(c.client).id() == error::bad_control_size);
  CHECK(c.client.events.closed()->code == 1002);
}

TEST_CASE("client 2.6 ping with 125 bytes in octet-wise chops HB-1 is answered with the same payload",
          "[conformance][group2]") {
  ping_pong(bytes_0_to_255().substr(0, 125), 1, 1ms);  // RFC 6455 §5.5.3, any chopping (§5.2)
}

TEST_CASE("client 2.7 an unsolicited pong without payload HB-2 gets no answer", "[conformance][group2]") {
  // RFC 6455 §5.5.3: "A response to an unsolicited Pong frame is not
  // expected." The next thing the client sends is the answer to our Close.
  ClientCase c;
  c.open();
  REQUIRE(c.server.send(pong()));
  c.expect_silence();
  c.close_normally();
  const auto log = c.client.events.log();
  CHECK(std::find(log.begin(), log.end(), "pong  OPEN") != log.end());  // wslab shows it (onpong)
}

TEST_CASE("client 2.8 an unsolicited pong with payload HB-2 gets no answer", "[conformance][group2]") {
  ClientCase c;  // RFC 6455 §5.5.3
  c.open();
  REQUIRE(c.server.send(pong("unsolicited pong payload")));
  c.expect_silence();
  c.close_normally();
}

TEST_CASE("client 2.9 an unsolicited pong then a ping HB-1 HB-2 only the ping is answered", "[conformance][group2]") {
  ClientCase c;  // RFC 6455 §5.5.2, §5.5.3
  c.open();
  REQUIRE(c.server.send(pong("unsolicited pong payload") + ping("ping payload")));
  c.expect_pong("ping payload");
  c.close_normally();
}

TEST_CASE("client 2.10 ten pings HB-1 are each answered with their own payload, in order", "[conformance][group2]") {
  // RFC 6455 §5.5.3 allows answering only the most recent ping of a burst;
  // wslab answers every one, in order.
  ClientCase c;
  c.open();
  std::string burst;
  for (int i = 0; i < 10; ++i) burst += ping("payload-" + std::to_string(i));
  REQUIRE(c.server.send(burst));
  for (int i = 0; i < 10; ++i) c.expect_pong("payload-" + std::to_string(i));
  c.close_normally();
}

TEST_CASE("client 2.11 ten pings in octet-wise chops HB-1 are each answered, in order", "[conformance][group2]") {
  ClientCase c;  // RFC 6455 §5.5.3, §5.2
  c.open();
  std::string burst;
  for (int i = 0; i < 10; ++i) burst += ping("payload-" + std::to_string(i));
  REQUIRE(c.server.send_chopped(burst, 1));
  for (int i = 0; i < 10; ++i) c.expect_pong("payload-" + std::to_string(i));
  c.close_normally();
}

TEST_CASE("client 2.x (wslab) a fragmented ping FR-4 fails 1002", "[conformance][group2]") {
  // RFC 6455 §5.5: "Control frames themselves MUST NOT be fragmented."
  ClientCase c;
  c.open();
  REQUIRE(c.server.send(Frame{.opcode = kPing, .payload = "half", .fin = false}.bytes()));
  c.expect_failure(1002, error::bad_control_fragment);
}
