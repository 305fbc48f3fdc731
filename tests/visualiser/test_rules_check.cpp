// The Frame panel's rules strip: each RFC 6455 receive rule, pass / fail /
// not applicable, for composed frames, the Composer's presets and traced
// frames the receiver rejected.
#include <wslab/viz/composer.hpp>
#include <wslab/viz/rules_check.hpp>

#include <catch2/catch.hpp>

#include <deque>
#include <stdexcept>
#include <initializer_list>
#include <string>
#include <vector>

using namespace wslab;
using namespace wslab::viz;
using Status = RuleCheck::Status;

namespace {

trace::Bytes bytes(std::initializer_list<int> list) {
  trace::Bytes out;
  for (int b : list) out.push_back(static_cast<std::uint8_t>(b));
  return out;
}

Composition text(std::string_view payload, bool fin = true) {
  Composition c;
  c.fin = fin;
  c.masking_key = {1, 2, 3, 4};
  c.payload.assign(payload.begin(), payload.end());
  return c;
}

// As a server receives it.
trace::Frame received(const Composition& c) { return parse_frame(compose(c), Role::server); }

const RuleCheck& row(const std::vector<RuleCheck>& checks, std::string_view name) {
  for (const RuleCheck& c : checks)
    if (c.name == name) return c;
  FAIL("no row named " << name);
  throw std::logic_error("not reached");
}

std::vector<const RuleCheck*> failures(const std::vector<RuleCheck>& checks) {
  std::vector<const RuleCheck*> out;
  for (const RuleCheck& c : checks)
    if (c.status == Status::fail) out.push_back(&c);
  return out;
}

}  // namespace

TEST_CASE("rules strip: a valid masked text frame passes every rule that applies", "[rules_check]") {
  const auto checks = check_rules(received(text("Hello")), Role::server, false);
  std::vector<std::string> names;
  for (const RuleCheck& c : checks) names.push_back(c.name);
  CHECK(names == std::vector<std::string>{"reserved bits", "opcode", "control frame size",
                                          "control frame not fragmented", "message order", "mask direction",
                                          "minimal length", "UTF-8", "close payload", "close code",
                                          "close reason"});
  CHECK(failures(checks).empty());
  CHECK(row(checks, "reserved bits").status == Status::pass);
  CHECK(row(checks, "reserved bits").checklist == "FR-1");
  CHECK(row(checks, "reserved bits").section == "RFC 6455 §5.2");
  CHECK(row(checks, "reserved bits").close_code == 1002);
  CHECK(row(checks, "UTF-8").status == Status::pass);
  CHECK(row(checks, "UTF-8").close_code == 1007);
  CHECK(row(checks, "control frame size").status == Status::not_applicable);
  CHECK(row(checks, "close code").status == Status::not_applicable);
  CHECK(row(checks, "mask direction").checklist == "MK-2");
  CHECK(to_string(Status::not_applicable) == "n/a");
}

TEST_CASE("rules strip: every Composer preset fails exactly the rule it names", "[rules_check]") {
  for (const Preset& p : presets()) {
    INFO(p.name);
    const trace::Frame f = received(p.composition);
    const auto checks = check_rules(f, Role::server, p.continues_message);
    const auto failed = failures(checks);
    if (!p.breaks) {
      CHECK(failed.empty());
      continue;
    }
    const Rule& expected = rule(*p.breaks);
    REQUIRE(failed.size() == 1);
    CHECK(failed[0]->rule == expected.name);
    CHECK(failed[0]->checklist == expected.checklist_id);
    CHECK(failed[0]->section == expected.section);
    CHECK(failed[0]->close_code == expected.close_code);
    CHECK_FALSE(failed[0]->detail.empty());
    CHECK(p.expect.find(std::to_string(expected.close_code)) != std::string::npos);
  }
}

TEST_CASE("rules strip: the mask direction depends on who receives", "[rules_check]") {
  Composition c = text("Hello");
  CHECK(row(check_rules(received(c), Role::server, false), "mask direction").status == Status::pass);

  // A masked frame arriving at a client: §5.1, MK-3.
  const trace::Frame masked = parse_frame(compose(c), Role::client);
  const auto checks = check_rules(masked, Role::client, false);
  const RuleCheck& r = row(checks, "mask direction");
  CHECK(r.status == Status::fail);
  CHECK(r.checklist == "MK-3");
  CHECK(r.rule == "masked_server_frame");

  c.mask = false;
  CHECK(row(check_rules(parse_frame(compose(c), Role::client), Role::client, false), "mask direction").status ==
        Status::pass);

  trace::Frame f;
  f.direction = connection::Direction::sent;
  CHECK(receiver_of(f, Role::server) == Role::client);
  CHECK(receiver_of(f, Role::client) == Role::server);
  f.direction = connection::Direction::received;
  CHECK(receiver_of(f, Role::server) == Role::server);
}

TEST_CASE("rules strip: message order follows the open message", "[rules_check]") {
  Composition first = text("Hel", false);
  CHECK(row(check_rules(received(first), Role::server, false), "message order").status == Status::pass);
  // A new text message while one is open: bad_data_frame.
  const auto checks = check_rules(received(first), Role::server, true);
  const RuleCheck& r = row(checks, "message order");
  CHECK(r.status == Status::fail);
  CHECK(r.rule == "bad_data_frame");
  // A ping between fragments is fine.
  Composition ping = text("");
  ping.opcode = 0x9;
  CHECK(row(check_rules(received(ping), Role::server, true), "message order").status == Status::not_applicable);

  // From the frames before it: a FIN = 0 text frame opens a message, a
  // control frame and another connection's frames change nothing, FIN ends it.
  std::deque<trace::Frame> frames;
  auto add = [&frames](std::uint64_t seq, std::uint64_t conn, std::uint8_t opcode, bool fin) {
    trace::Frame f;
    f.seq = seq;
    f.conn = conn;
    f.opcode = opcode;
    f.fin = fin;
    frames.push_back(f);
  };
  add(1, 1, 0x1, false);
  add(2, 1, 0x9, true);
  add(3, 2, 0x1, true);
  add(4, 1, 0x0, false);
  add(5, 1, 0x0, true);
  add(6, 1, 0x2, true);
  CHECK_FALSE(inside_fragmented_message(frames, frames[0]));
  CHECK(inside_fragmented_message(frames, frames[1]));
  CHECK_FALSE(inside_fragmented_message(frames, frames[2]));  // connection 2 has nothing open
  CHECK(inside_fragmented_message(frames, frames[3]));
  CHECK(inside_fragmented_message(frames, frames[4]));
  CHECK_FALSE(inside_fragmented_message(frames, frames[5]));
  // The other direction of the same connection is a separate stream.
  frames[3].direction = connection::Direction::sent;
  CHECK_FALSE(inside_fragmented_message(frames, frames[3]));
}

TEST_CASE("rules strip: UTF-8 is judged only on what the preview holds", "[rules_check]") {
  // A first fragment may end inside a code point ("é" is C3 A9).
  CHECK(row(check_rules(received(text("caf\xc3", false)), Role::server, false), "UTF-8").status == Status::pass);
  const auto checks = check_rules(received(text("caf\xc3")), Role::server, false);
  const RuleCheck& cut = row(checks, "UTF-8");
  CHECK(cut.status == Status::fail);
  CHECK(cut.close_code == 1007);

  // A preview of 4 of 10 bytes: valid so far is not checked, invalid is a failure.
  const std::string long_text = "abcdefghij";
  trace::Frame partial = parse_frame(compose(text(long_text)), Role::server, 4);
  REQUIRE(partial.preview.size() == 4);
  RuleCheck r = row(check_rules(partial, Role::server, false), "UTF-8");
  CHECK(r.status == Status::not_applicable);
  CHECK(r.detail.find("preview only") != std::string::npos);
  partial = parse_frame(compose(text("ab\xff" "defghij")), Role::server, 4);
  CHECK(row(check_rules(partial, Role::server, false), "UTF-8").status == Status::fail);

  Composition binary = text("\xff");
  binary.opcode = 0x2;
  CHECK(row(check_rules(received(binary), Role::server, false), "UTF-8").status == Status::not_applicable);
}

TEST_CASE("rules strip: close frames", "[rules_check]") {
  Composition c = text("");
  c.opcode = 0x8;
  auto close_rows = [&c](std::string payload) {
    c.payload.assign(payload.begin(), payload.end());
    return check_rules(received(c), Role::server, false);
  };
  auto checks = close_rows("");
  CHECK(row(checks, "close payload").status == Status::pass);
  CHECK(row(checks, "close code").status == Status::not_applicable);
  checks = close_rows("\x03\xe8" "bye");
  CHECK(failures(checks).empty());
  CHECK(row(checks, "close code").detail.find("1000 (normal_closure)") != std::string::npos);
  CHECK(row(checks, "close reason").status == Status::pass);
  checks = close_rows("\x0b\xb8");  // 3000: registered, may be sent
  CHECK(row(checks, "close code").status == Status::pass);
  checks = close_rows("\x03\xee");  // 1006: never on the wire
  CHECK(row(checks, "close code").status == Status::fail);
  CHECK(row(checks, "close code").checklist == "CL-6");
  CHECK(row(checks, "close code").section == "RFC 6455 §7.4");
  checks = close_rows("\x03\xe8\xc3");  // reason cut in a code point: not UTF-8
  CHECK(row(checks, "close reason").status == Status::fail);
  CHECK(row(checks, "close reason").close_code == 1007);
}

TEST_CASE("rules strip: the receiver's own verdict stands", "[rules_check]") {
  // A continuation whose message turned out not to be UTF-8: the re-check
  // cannot see the message, the trace's error says so.
  trace::Frame f = received(text("lo"));
  f.opcode = 0x0;
  f.error = trace::RuleBroken{.rule = "bad_utf8", .checklist = "U8-2", .section = "RFC 6455 §8.1",
                              .close_code = 1007, .http_status = 0,
                              .message = "1007: invalid UTF-8 at message byte 4 (RFC 6455 §8.1)"};
  auto checks = check_rules(f, Role::server, true);
  const RuleCheck& utf8 = row(checks, "UTF-8");
  CHECK(utf8.status == Status::fail);
  CHECK(utf8.detail == f.error->message);
  CHECK(utf8.checklist == "U8-2");
  CHECK(utf8.close_code == 1007);
  CHECK(failures(checks).size() == 1);

  // A rule no row covers gets a row of its own.
  f = received(text("Hello"));
  f.error = trace::RuleBroken{.rule = "frame_too_big", .checklist = "FR-8", .section = "RFC 6455 §10.4",
                              .close_code = 1009, .http_status = 0, .message = "1009: frame payload 5 > limit 4"};
  checks = check_rules(f, Role::server, false);
  REQUIRE(checks.size() == 12);
  CHECK(checks.back().name == "frame too big");
  CHECK(checks.back().status == Status::fail);
  CHECK(checks.back().close_code == 1009);
  CHECK(checks.back().section == "RFC 6455 §10.4");
}

TEST_CASE("rules strip: a header cut short leaves the length unjudged", "[rules_check]") {
  // RSV1 is caught at octet 0; the 16-bit length that would follow is never read.
  trace::Frame f = parse_frame(bytes({0xC1, 0xfe, 0x00}), Role::server);
  REQUIRE(f.error);
  const auto checks = check_rules(f, Role::server, false);
  CHECK(row(checks, "reserved bits").status == Status::fail);
  CHECK(row(checks, "minimal length").status == Status::not_applicable);
  // And a frame with no bytes at all still gets a strip.
  CHECK(check_rules(trace::Frame{}, Role::client, false).size() == 11);
}
