// The conformance suite's expectations, server role, as Catch2 checks on
// what the raw peer (raw_peer.hpp) reads back from wslab's server.
//
// "Strict" as the Autobahn suite grades it (its OK, not NON-STRICT): frames
// that precede a bad one are answered before the connection is failed, the
// failing Close carries the rule's code (RFC 6455 §7.1.7, §7.4.1), the
// server sends nothing after its Close and closes the TCP connection first
// (§5.5.1, §7.1.1), and every frame it sends is exactly what §5.2 says it
// must be, compared byte for byte.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "net/server_test_helpers.hpp"
#include "raw_peer.hpp"

namespace wslab::conformance {

// The server under test: one per test program, started on first use, with
// the test options (loopback, an ephemeral port, short timeouts) and the
// default limits (16 MiB per frame and per message, inclusive).
testing::RunningServer& server();
std::uint16_t port();

// Is the suite built with a sanitizer? Then the largest volumes are scaled
// down (each such case says how) to keep the run bounded.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

// The next frame the server sends is exactly `wire` (byte for byte).
void expect_wire(Peer& peer, const std::string& wire, Millis timeout = 10s);
void expect_wires(Peer& peer, const std::vector<std::string>& wires, Millis timeout = 10s);
// The next frame is a text (or binary) message carrying `payload`, as one
// frame: a large echo is compared without printing it all.
void expect_message(Peer& peer, std::uint8_t opcode, const std::string& payload, Millis timeout = 20s);

// A Close frame from the server: FIN set, not masked, at most 125 bytes, the
// given code (nullopt: an empty body), a reason of valid UTF-8 (§5.5.1).
void check_close(const Got& frame, std::optional<std::uint16_t> code);

// The close handshake started by the peer (§5.5.1, §7.1.1): sends a Close
// with `code` (and `reason`); the server answers with one Close echoing the
// code, sends nothing else, and closes the TCP connection itself.
void close_normally(Peer& peer, std::uint16_t code = 1000, std::string_view reason = {});

// What is left once the peer has sent a Close (or broken a rule): the
// frames in `before`, byte for byte, then the server's one Close with
// `code`, then the server closes TCP, with nothing in between.
void expect_close_then_eof(Peer& peer, std::optional<std::uint16_t> code,
                           const std::vector<std::string>& before = {}, Millis timeout = 10s);

// The server failed the connection (§7.1.7) with `code`: first what it owed
// for the frames before the bad one (`before`), then its Close, then TCP
// closed by the server. Nothing else: no pong, no echo of anything after.
inline void expect_failed(Peer& peer, std::uint16_t code, const std::vector<std::string>& before = {},
                          Millis timeout = 10s) {
  expect_close_then_eof(peer, code, before, timeout);
}

// Fail fast: the server's Close with `code` arrives although the peer has
// not written the rest (it waits up to `timeout` for it and writes nothing
// meanwhile), then the server closes TCP. The rest (`rest`, if any) is
// written afterwards, when the server has already failed the connection.
void expect_fail_fast(Peer& peer, std::uint16_t code, std::string_view rest = {}, Millis timeout = 5s);

}  // namespace wslab::conformance
