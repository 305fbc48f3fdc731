// Chapter 6: closing the connection (RFC 6455 §5.5.1, §7).
//
// Time is injected: at(1500) is 1.5 s after an arbitrary start.
#include <wslab/close.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using namespace wslab::close;
using wslab::error;
using wslab::Role;

namespace {

TimePoint at(int ms) {
  return TimePoint{} + std::chrono::milliseconds(ms);
}

std::vector<std::uint8_t> bytes(const std::string& s) {
  return std::vector<std::uint8_t>(s.begin(), s.end());
}

// A close payload: the code in network byte order, then the reason.
std::string wire(std::uint16_t code, const std::string& reason = "") {
  return std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)} + reason;
}

ClosePayload payload(std::uint16_t code, std::string reason = "") {
  return ClosePayload{code, std::move(reason)};
}

}  // namespace

// --- Status codes (§7.4) ------------------------------------------------------

TEST_CASE("CL-6 the code table lists 1000-1015 in order, each with its name and meaning", "[close]") {
  const auto table = code_table();
  REQUIRE(table.size() == 16);
  const std::vector<std::string_view> names = {
      "normal_closure",   "going_away",         "protocol_error",      "unsupported_data",
      "reserved",         "no_status_received", "abnormal_closure",    "invalid_payload",
      "policy_violation", "message_too_big",    "mandatory_extension", "internal_error",
      "service_restart",  "try_again_later",    "bad_gateway",         "tls_handshake"};
  for (std::size_t i = 0; i < table.size(); ++i) {
    INFO("row " << i);
    CHECK(table[i].code == 1000 + i);
    CHECK(table[i].name == names[i]);
    CHECK_FALSE(table[i].meaning.empty());
  }
  CHECK(table[0].meaning == "normal closure");
  CHECK(table[7].meaning == "data inconsistent with the message type (e.g. non-UTF-8 in a text message)");
  CHECK(table[9].meaning == "message too big to process");
  CHECK(table[15].meaning == "reserved, never in a close frame: TLS handshake failed");
  // The named constants are the table's codes.
  CHECK(table[1].code == going_away);
  CHECK(table[11].code == internal_error);
  CHECK(table[15].code == tls_handshake);
}

TEST_CASE("CL-6 1004, 1005, 1006 and 1015 are the defined codes that never go on the wire", "[close]") {
  for (const CodeInfo& row : code_table()) {
    INFO("code " << row.code);
    const bool never = row.code == reserved || row.code == no_status_received ||
                       row.code == abnormal_closure || row.code == tls_handshake;
    CHECK(row.on_wire == !never);
    CHECK(row.on_wire == valid_on_wire(row.code));
  }
}

TEST_CASE("CL-6 valid_on_wire: 1000-1003, 1007-1014 and 3000-4999 only", "[close]") {
  struct Case {
    std::uint16_t code;
    bool valid;
  };
  const std::vector<Case> cases = {
      {0, false},    {999, false},  {1000, true}, {1001, true},  {1002, true},  {1003, true},  {1004, false},
      {1005, false}, {1006, false}, {1007, true}, {1008, true},  {1009, true},  {1010, true},  {1011, true},
      {1012, true},  {1013, true},  {1014, true}, {1015, false}, {1016, false}, {2999, false}, {3000, true},
      {3999, true},  {4000, true},  {4999, true}, {5000, false}, {65535, false}};
  for (const auto& c : cases) {
    INFO("code " << c.code);
    CHECK(valid_on_wire(c.code) == c.valid);
  }
}

TEST_CASE("CL-6 range_of names the §7.4.2 range of a code, boundaries included", "[close]") {
  CHECK(range_of(0) == "unused");
  CHECK(range_of(999) == "unused");
  CHECK(range_of(1000) == "protocol");
  CHECK(range_of(2999) == "protocol");
  CHECK(range_of(3000) == "registered");
  CHECK(range_of(3999) == "registered");
  CHECK(range_of(4000) == "private");
  CHECK(range_of(4999) == "private");
  CHECK(range_of(5000) == "invalid");
  CHECK(range_of(65535) == "invalid");
}

TEST_CASE("CL-6 describe returns the row of a defined code and nothing for others", "[close]") {
  const auto row = describe(1011);
  REQUIRE(row.has_value());
  CHECK(row->name == "internal_error");
  CHECK(row->meaning == "the server met an unexpected condition");
  CHECK(row->on_wire);
  CHECK(describe(1006)->name == "abnormal_closure");
  CHECK_FALSE(describe(1006)->on_wire);
  CHECK_FALSE(describe(999).has_value());
  CHECK_FALSE(describe(1016).has_value());
  CHECK_FALSE(describe(3000).has_value());
}

// --- Reading a Close payload (§5.5.1) --------------------------------------------

TEST_CASE("CL-1 an empty close payload has no code (reported as 1005)", "[close]") {
  const auto parsed = parse_payload({});
  REQUIRE(parsed.ok());
  CHECK_FALSE(parsed->code.has_value());
  CHECK(parsed->reason.empty());
}

TEST_CASE("CL-1 a 2-byte payload is a status code in network byte order", "[close]") {
  const auto parsed = parse_payload(bytes(std::string("\x03\xe8", 2)));
  REQUIRE(parsed.ok());
  CHECK(parsed->code == 1000);
  CHECK(parsed->reason.empty());
  CHECK(parse_payload(bytes(wire(4999)))->code == 4999);  // 0x13 0x87
}

TEST_CASE("CL-1 the status code may be followed by a UTF-8 reason", "[close]") {
  const std::string reason = "Tschüss, 再见 👋";
  const auto parsed = parse_payload(bytes(wire(1001, reason)));
  REQUIRE(parsed.ok());
  CHECK(*parsed == payload(1001, reason));
}

TEST_CASE("CL-1 bad_close_payload: a 1-byte close payload is rejected with 1002", "[close]") {
  for (int octet : {0x00, 0x03, 0xff}) {
    const auto parsed = parse_payload(std::vector<std::uint8_t>{static_cast<std::uint8_t>(octet)});
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.violation().id() == error::bad_close_payload);
    CHECK(parsed.violation().close_code() == 1002);
    CHECK(parsed.violation().detail() == "close frame payload of 1 byte: a status code takes 2");
  }
}

TEST_CASE("CL-1 bad_control_size: a close payload of 126 bytes is rejected, 125 accepted", "[close]") {
  const auto at_limit = parse_payload(bytes(wire(1000, std::string(123, 'a'))));
  REQUIRE(at_limit.ok());
  CHECK(at_limit->reason.size() == 123);

  const auto over = parse_payload(bytes(wire(1000, std::string(124, 'a'))));
  REQUIRE_FALSE(over.ok());
  CHECK(over.violation().id() == error::bad_control_size);
  CHECK(over.violation().close_code() == 1002);
  CHECK(over.violation().detail() == "close frame payload 126 > 125");
  CHECK(over.violation().message() == "1002: close frame payload 126 > 125 (RFC 6455 §5.5)");

  // Whatever the payload, the size is checked first: no out-of-range read.
  const auto huge = parse_payload(std::vector<std::uint8_t>(70'000, 0xff));
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.violation().detail() == "close frame payload 70000 > 125");
}

TEST_CASE("CL-6 bad_close_code: a received code that may not be on the wire fails with 1002", "[close]") {
  for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    INFO("code " << code);
    const auto parsed = parse_payload(bytes(wire(code, "reason")));
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.violation().id() == error::bad_close_code);
    CHECK(parsed.violation().close_code() == 1002);
    CHECK(parsed.violation().detail() ==
          "close code " + std::to_string(code) + " may not appear on the wire");
  }
  CHECK(parse_payload(bytes(wire(1005))).violation().message() ==
        "1002: close code 1005 may not appear on the wire (RFC 6455 §7.4)");
}

TEST_CASE("CL-6 every code valid on the wire is accepted when received", "[close]") {
  for (std::uint16_t code :
       {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999}) {
    INFO("code " << code);
    const auto parsed = parse_payload(bytes(wire(code)));
    REQUIRE(parsed.ok());
    CHECK(parsed->code == code);
  }
}

TEST_CASE("CL-1 bad_close_reason: a reason that is not UTF-8 fails with 1007", "[close]") {
  const std::vector<std::string> bad = {
      "\xff",              // never in UTF-8
      "\xc0\xaf",          // overlong "/"
      "\xed\xa0\x80",      // a UTF-16 surrogate, U+D800
      "ok \xe2\x82",       // a code point cut short at the end
      "\xf4\x90\x80\x80",  // above U+10FFFF
      "caf\xe9",           // Latin-1, not UTF-8
  };
  for (const auto& reason : bad) {
    const auto parsed = parse_payload(bytes(wire(1000, reason)));
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.violation().id() == error::bad_close_reason);
    CHECK(parsed.violation().close_code() == 1007);
    CHECK(parsed.violation().detail() ==
          "close reason of " + std::to_string(reason.size()) + " bytes is not valid UTF-8");
  }
}

// --- Building a Close payload -------------------------------------------------------

TEST_CASE("CL-1 encode_payload: empty, code only, code and reason", "[close]") {
  CHECK(encode_payload(ClosePayload{}).value().empty());
  CHECK(encode_payload(payload(1000)).value() == std::string("\x03\xe8", 2));
  CHECK(encode_payload(payload(4001, "bye")).value() == std::string("\x0f\xa1"
                                                                    "bye",
                                                                    5));
}

TEST_CASE("CL-1 payloads survive encode_payload then parse_payload unchanged", "[close]") {
  const std::vector<ClosePayload> payloads = {
      ClosePayload{},
      payload(1000),
      payload(1001, "going away"),
      payload(1011, "Zürich ☃ 🎉"),
      payload(3000, std::string(123, 'x')),
      payload(4999, std::string("nul \0 inside", 12)),
  };
  for (const auto& p : payloads) {
    const auto encoded = encode_payload(p);
    REQUIRE(encoded.ok());
    CHECK(encoded->size() == (p.code ? 2 + p.reason.size() : 0));
    const auto parsed = parse_payload(bytes(*encoded));
    REQUIRE(parsed.ok());
    CHECK(*parsed == p);
  }
}

TEST_CASE("CL-1 encode_payload refuses what a peer would have to reject", "[close]") {
  SECTION("a reason without a code") {
    const auto r = encode_payload(ClosePayload{std::nullopt, "why"});
    REQUIRE_FALSE(r.ok());
    CHECK(r.violation().id() == error::bad_close_payload);
    CHECK(r.violation().detail() == "a close reason needs a status code before it");
  }
  SECTION("a code that may not be on the wire") {
    for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 2999, 5000}) {
      const auto r = encode_payload(payload(code));
      REQUIRE_FALSE(r.ok());
      CHECK(r.violation().id() == error::bad_close_code);
      CHECK(r.violation().detail() == "close code " + std::to_string(code) + " may not appear on the wire");
    }
  }
  SECTION("a reason over 123 bytes") {
    CHECK(encode_payload(payload(1000, std::string(123, 'r'))).ok());
    const auto r = encode_payload(payload(1000, std::string(124, 'r')));
    REQUIRE_FALSE(r.ok());
    CHECK(r.violation().id() == error::bad_control_size);
    CHECK(r.violation().detail() == "close reason 124 bytes > 123");
  }
  SECTION("a reason that is not UTF-8") {
    const auto r = encode_payload(payload(1000, "\xc3\x28"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.violation().id() == error::bad_close_reason);
    CHECK(r.violation().detail() == "close reason of 2 bytes is not valid UTF-8");
  }
}

// --- The close handshake (§5.5.1, §7.1) -------------------------------------------------

TEST_CASE("CL-2 we close first: our Close goes out, no more data, the peer's answer completes it",
          "[close]") {
  CloseHandshake hs(Role::client, 5000ms);
  CHECK(hs.may_send_data());
  const auto sent = hs.start(payload(1000, "done"), at(100));
  REQUIRE(sent.ok());
  REQUIRE(sent->has_value());
  CHECK(**sent == wire(1000, "done"));
  CHECK(hs.close_sent());
  CHECK_FALSE(hs.may_send_data());  // §5.5.1: no data frames after our Close
  CHECK(hs.may_deliver());          // the peer's data still arrives until its Close
  CHECK_FALSE(hs.complete());

  CHECK_FALSE(hs.on_close_received(payload(1000), at(150)).has_value());  // nothing to answer
  CHECK(hs.complete());
  CHECK_FALSE(hs.may_deliver());
  const auto out = hs.outcome();
  CHECK(out.was_clean);
  CHECK(out.code == 1000);
  CHECK(out.reason.empty());
  CHECK(hs.sent() == payload(1000, "done"));
  CHECK(hs.received() == payload(1000));
}

TEST_CASE("CL-3 they close first: we answer at once, echoing their status code", "[close]") {
  CloseHandshake hs(Role::server, 5000ms);
  CHECK_FALSE(hs.close_received());
  const auto answer = hs.on_close_received(payload(1001, "tab closed"), at(10));
  REQUIRE(answer.has_value());
  CHECK(*answer == wire(1001));  // the code, not the reason
  CHECK(hs.close_sent());
  CHECK(hs.close_received());
  CHECK(hs.complete());
  CHECK_FALSE(hs.may_deliver());
  CHECK_FALSE(hs.may_send_data());
  const auto out = hs.outcome();
  CHECK(out.was_clean);
  CHECK(out.code == 1001);
  CHECK(out.reason == "tab closed");
}

TEST_CASE("CL-3 a Close without a code is answered with an empty Close, the outcome is 1005", "[close]") {
  CloseHandshake hs(Role::client, 5000ms);
  const auto answer = hs.on_close_received(ClosePayload{}, at(10));
  REQUIRE(answer.has_value());
  CHECK(answer->empty());
  CHECK(hs.sent() == ClosePayload{});
  const auto out = hs.outcome();
  CHECK(out.was_clean);
  CHECK(out.code == no_status_received);
}

TEST_CASE("CL-3 simultaneous close: each side's Close answers the other's, none is sent twice", "[close]") {
  // §5.5.1: "If a client and server both send a Close message at the same
  // time, both endpoints will have sent and received a Close message and
  // should consider the WebSocket connection closed".
  CloseHandshake client(Role::client, 5000ms);
  CloseHandshake server(Role::server, 5000ms);
  const auto from_client = client.start(payload(1000, "client done"), at(0));
  const auto from_server = server.start(payload(1001, "server stopping"), at(0));
  REQUIRE(from_client.ok());
  REQUIRE(from_server.ok());

  // The Close frames cross on the wire: neither answers again.
  CHECK_FALSE(client.on_close_received(parse_payload(bytes(**from_server)).value(), at(20)).has_value());
  CHECK_FALSE(server.on_close_received(parse_payload(bytes(**from_client)).value(), at(20)).has_value());
  CHECK(client.complete());
  CHECK(server.complete());
  // Each reports the code it received.
  CHECK(client.outcome().code == 1001);
  CHECK(client.outcome().reason == "server stopping");
  CHECK(server.outcome().code == 1000);
  CHECK(client.outcome().was_clean);
  CHECK(server.outcome().was_clean);
  CHECK(server.should_close_tcp(at(20)));
  CHECK_FALSE(client.should_close_tcp(at(20)));
}

TEST_CASE("CL-4 the server closes TCP as soon as both Close frames are exchanged", "[close]") {
  CloseHandshake hs(Role::server, 5000ms);
  REQUIRE(hs.start(payload(1000), at(0)).ok());
  CHECK_FALSE(hs.should_close_tcp(at(0)));  // only our Close so far
  CHECK_FALSE(hs.should_close_tcp(at(4999)));
  hs.on_close_received(payload(1000), at(300));
  CHECK(hs.should_close_tcp(at(300)));
  CHECK_FALSE(hs.timed_out(at(1'000'000)));  // nothing left to wait for
  CHECK(hs.next_deadline() == TimePoint::max());
}

TEST_CASE("CL-4 the client waits for the server to close TCP, up to the close timeout", "[close]") {
  CloseHandshake hs(Role::client, 5000ms);
  const auto answer = hs.on_close_received(payload(1000), at(1000));
  REQUIRE(answer.has_value());
  CHECK(hs.complete());
  CHECK(hs.next_deadline() == at(6000));
  CHECK_FALSE(hs.should_close_tcp(at(1000)));
  CHECK_FALSE(hs.should_close_tcp(at(5999)));
  CHECK_FALSE(hs.timed_out(at(5999)));
  CHECK(hs.should_close_tcp(at(6000)));
  CHECK(hs.timed_out(at(6000)));
  CHECK(hs.outcome().was_clean);  // the handshake itself was complete
}

TEST_CASE("CL-4 client closing first: the wait for TCP starts again once the answer arrives", "[close]") {
  CloseHandshake hs(Role::client, 2000ms);
  REQUIRE(hs.start(payload(1000), at(0)).ok());
  CHECK(hs.next_deadline() == at(2000));
  hs.on_close_received(payload(1000), at(1500));
  CHECK(hs.next_deadline() == at(3500));
  CHECK_FALSE(hs.should_close_tcp(at(2000)));
  CHECK(hs.should_close_tcp(at(3500)));
}

TEST_CASE("CL-4 close_timeout: our Close unanswered by the deadline times out, outcome 1006", "[close]") {
  CloseHandshake hs(Role::client, 3000ms);
  CHECK(hs.next_deadline() == TimePoint::max());
  CHECK_FALSE(hs.timed_out(at(1'000'000)));  // nothing started, nothing to time out
  REQUIRE(hs.start(payload(1000), at(500)).ok());
  CHECK(hs.next_deadline() == at(3500));
  CHECK_FALSE(hs.timed_out(at(3499)));
  CHECK(hs.timed_out(at(3500)));
  CHECK_FALSE(hs.should_close_tcp(at(3500)));  // not a normal close
  const auto out = hs.outcome();
  CHECK_FALSE(out.was_clean);
  CHECK(out.code == abnormal_closure);
  CHECK(out.reason.empty());
}

TEST_CASE("CL-7 TCP lost before any Close frame: the outcome is 1006, not clean", "[close]") {
  for (Role role : {Role::client, Role::server}) {
    CloseHandshake hs(role, 5000ms);
    const auto out = hs.outcome();
    CHECK(out.code == 1006);
    CHECK_FALSE(out.was_clean);
    CHECK(out.reason.empty());
  }
}

TEST_CASE("CL-2 a second close is refused: the first Close stands", "[close]") {
  CloseHandshake hs(Role::client, 5000ms);
  REQUIRE(hs.start(payload(1000, "first"), at(0)).ok());
  const auto again = hs.start(payload(4000, "second"), at(100));
  REQUIRE(again.ok());
  CHECK_FALSE(again->has_value());
  CHECK(hs.sent() == payload(1000, "first"));
  CHECK(hs.next_deadline() == at(5000));  // the timeout was not re-armed

  // After answering the peer's Close we have sent one too.
  CloseHandshake answered(Role::server, 5000ms);
  REQUIRE(answered.on_close_received(payload(1000), at(0)).has_value());
  const auto late = answered.start(payload(1001), at(10));
  REQUIRE(late.ok());
  CHECK_FALSE(late->has_value());
}

TEST_CASE("CL-6 start refuses a payload the peer would reject, and records nothing", "[close]") {
  CloseHandshake hs(Role::client, 5000ms);
  const auto refused = hs.start(payload(1005), at(0));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.violation().id() == error::bad_close_code);
  CHECK_FALSE(hs.close_sent());
  CHECK(hs.may_send_data());
  CHECK(hs.next_deadline() == TimePoint::max());

  const auto too_long = hs.start(payload(1000, std::string(124, 'x')), at(0));
  REQUIRE_FALSE(too_long.ok());
  CHECK(too_long.violation().id() == error::bad_control_size);

  // A valid close still goes through afterwards.
  const auto ok = hs.start(payload(1000), at(1));
  REQUIRE(ok.ok());
  CHECK(ok->has_value());
}

TEST_CASE("CL-3 a second Close from the peer is ignored", "[close]") {
  CloseHandshake hs(Role::server, 5000ms);
  REQUIRE(hs.on_close_received(payload(1001, "first"), at(0)).has_value());
  CHECK_FALSE(hs.on_close_received(payload(1000, "again"), at(10)).has_value());
  CHECK(hs.received() == payload(1001, "first"));
  CHECK(hs.outcome().code == 1001);
}

TEST_CASE("CL-3 a peer's code is echoed only if it may be on the wire", "[close]") {
  // parse_payload never yields such a code; a caller that skipped it still
  // must not make us send one (§7.4.1).
  CloseHandshake hs(Role::server, 5000ms);
  const auto answer = hs.on_close_received(payload(1006), at(0));
  REQUIRE(answer.has_value());
  CHECK(answer->empty());
}
