// The conformance suite's expectations. See checks.hpp.
#include "checks.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>

namespace wslab::conformance {

testing::RunningServer& server() {
  static testing::RunningServer running([] {
    auto o = testing::test_options();
    // Long enough that a server waiting for its close timeout, instead of
    // closing TCP at once, shows (see kPromptly).
    o.close_timeout = 10s;
    return o;
  }());
  return running;
}

std::uint16_t port() {
  // WSLAB_CONFORMANCE_PORT=N: test another server on 127.0.0.1:N (its echo
  // at /ws) instead of wslab's own, e.g. to see the suite fail a lax one.
  static const std::uint16_t external = [] {
    const char* text = std::getenv("WSLAB_CONFORMANCE_PORT");
    return text ? static_cast<std::uint16_t>(std::atoi(text)) : std::uint16_t{0};
  }();
  return external ? external : server().port();
}

namespace {

// §7.1.1: once both Close frames have been exchanged (or the connection is
// failed), the server "MUST close the underlying TCP connection
// immediately". Generous for a loaded machine, and well under the server's
// close timeout (10 s).
constexpr auto kPromptly = 3s;

std::string describe_all(const std::vector<Got>& frames) {
  std::string out;
  for (const auto& f : frames) out += "\n  " + f.describe() + " [" + hex(f.wire(), 24) + "]";
  return out.empty() ? std::string(" (none)") : out;
}

}  // namespace

void expect_wire(Peer& peer, const std::string& wire, Millis timeout) {
  auto got = peer.next(timeout);
  INFO("expected: " << hex(wire));
  INFO("peer error: " << peer.error() << ", eof: " << peer.eof());
  REQUIRE(got);
  INFO("received: " << hex(got->wire()) << " = " << got->describe());
  CHECK(got->wire() == wire);
}

void expect_wires(Peer& peer, const std::vector<std::string>& wires, Millis timeout) {
  for (const auto& w : wires) expect_wire(peer, w, timeout);
}

void expect_message(Peer& peer, std::uint8_t opcode, const std::string& payload, Millis timeout) {
  auto got = peer.next(timeout);
  INFO("peer error: " << peer.error() << ", eof: " << peer.eof());
  REQUIRE(got);
  INFO("received: " << got->describe() << " [" << hex(got->wire(), 16) << "]");
  CHECK(got->opcode() == opcode);
  CHECK(got->frame.header.fin);
  REQUIRE(got->payload().size() == payload.size());
  CHECK(got->payload() == payload);
  // The header too, byte for byte: the minimal length form (§5.2), no mask.
  CHECK(hex(got->wire(), 10) == hex(server_wire(opcode, payload), 10));
}

void check_close(const Got& frame, std::optional<std::uint16_t> code) {
  INFO("close frame: " << frame.describe() << " [" << hex(frame.wire()) << "]");
  REQUIRE(frame.opcode() == op::close);
  CHECK(frame.frame.header.fin);         // §5.5: control frames are not fragmented
  CHECK_FALSE(frame.frame.header.mask);  // §5.1: a server never masks
  CHECK(frame.payload().size() <= 125);  // §5.5
  if (!code) {
    CHECK(frame.payload().empty());
    return;
  }
  REQUIRE(frame.payload().size() >= 2);
  CHECK(frame.frame.close_code() == code);
  CHECK(utf8_verdict(frame.frame.close_reason()).valid());  // §5.5.1: the reason is UTF-8
}

void close_normally(Peer& peer, std::uint16_t code, std::string_view reason) {
  REQUIRE(peer.send(Frame{.opcode = op::close, .payload = close_body(code, reason)}));
  expect_close_then_eof(peer, code);
}

void expect_close_then_eof(Peer& peer, std::optional<std::uint16_t> code,
                           const std::vector<std::string>& before, Millis timeout) {
  const auto ending = peer.until_closed(timeout);
  INFO("the server sent:" << describe_all(ending.frames));
  INFO("reading stopped: " << (ending.eof ? "the server closed TCP" : "no EOF") << " " << ending.error);
  // §7.1.1: the server closes the TCP connection first (the peer never does).
  CHECK(ending.eof);
  CHECK(ending.error.empty());
  REQUIRE(ending.frames.size() == before.size() + 1);
  for (std::size_t i = 0; i < before.size(); ++i) {
    INFO("frame " << i << " expected: " << hex(before[i]));
    CHECK(ending.frames[i].wire() == before[i]);
  }
  // One Close, and it is the last thing sent (§5.5.1: no data after it).
  check_close(ending.frames.back(), code);
  if (ending.eof) CHECK(peer.eof_at() - ending.frames.back().at < kPromptly);
}

void expect_fail_fast(Peer& peer, std::uint16_t code, std::string_view rest, Millis timeout) {
  const std::size_t written = peer.written();
  auto got = peer.next(timeout);
  INFO("peer error: " << peer.error() << ", eof: " << peer.eof());
  REQUIRE(got);  // nothing more was written: the server needed nothing more to fail
  CHECK(got->written == written);
  check_close(*got, code);
  if (!rest.empty()) peer.send(rest);  // may fail: the server is closing
  const auto ending = peer.until_closed();
  INFO("after its Close the server sent:" << describe_all(ending.frames));
  CHECK(ending.frames.empty());
  CHECK(ending.eof);
  if (ending.eof) CHECK(peer.eof_at() - got->at < kPromptly);
}

}  // namespace wslab::conformance
