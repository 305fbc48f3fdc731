// permessage-deflate (RFC 7692) in the visualiser's model: what RSV1 means
// on a connection that agreed it (the rules strip, the bit meanings), the
// Frame panel's sizes and two payload views, and the Store's connections and
// message rows.
#include <wslab/viz/bit_layout.hpp>
#include <wslab/viz/composer.hpp>
#include <wslab/viz/compression.hpp>
#include <wslab/viz/rules_check.hpp>
#include <wslab/viz/store.hpp>

#include <catch2/catch.hpp>

#include <deque>
#include <stdexcept>
#include <string>
#include <vector>

using namespace wslab;
using namespace wslab::viz;
using connection::Direction;
using Status = RuleCheck::Status;

namespace {

const trace::Bytes kHello7{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};  // RFC 7692 §7.2.3.1

trace::Bytes bytes_of(std::string_view s) { return trace::Bytes(s.begin(), s.end()); }

// A client's frame as the server received it: composed, then read back as
// the trace would have it (RSV bits, opcode, the payload unmasked). Not with
// parse_frame(): its FrameParser agreed no extension, and stops at RSV1.
trace::Frame received(bool fin, bool rsv1, std::uint8_t opcode, const trace::Bytes& payload) {
  Composition c;
  c.fin = fin;
  c.rsv1 = rsv1;
  c.opcode = opcode;
  c.masking_key = {0x37, 0xfa, 0x21, 0x3d};
  c.payload = payload;
  trace::Frame f = as_sent(compose(c));
  f.direction = Direction::received;
  f.conn = 1;
  return f;
}

// "Hello" compressed in one frame, as the trace carries it.
trace::Frame compressed_hello(std::uint64_t seq = 1) {
  trace::Frame f = received(true, true, 0x1, kHello7);
  f.seq = seq;
  f.compressed = true;
  f.uncompressed_size = 5;
  f.uncompressed_preview = bytes_of("Hello");
  return f;
}

const RuleCheck& row(const std::vector<RuleCheck>& checks, std::string_view name) {
  for (const RuleCheck& c : checks)
    if (c.name == name) return c;
  FAIL("no row named " << name);
  throw std::logic_error("not reached");
}

}  // namespace

TEST_CASE("PMD-5 rules strip: RSV1 on a compressed message's first frame passes with permessage-deflate agreed",
          "[rules_check][deflate]") {
  // RFC 7692 §6: with the extension agreed RSV1 is "Per-Message Compressed";
  // the UTF-8 rule applies to the text inflated, not to the DEFLATE bytes.
  const auto checks = check_rules(compressed_hello(), Role::server, false, true);
  const RuleCheck& rsv = row(checks, "reserved bits");
  CHECK(rsv.status == Status::pass);
  CHECK_THAT(rsv.detail, Catch::Contains("Per-Message Compressed") && Catch::Contains("RFC 7692 §6"));
  CHECK(rsv.checklist == "PMD-5");
  CHECK(rsv.section == "RFC 7692 §6");
  const RuleCheck& utf8 = row(checks, "UTF-8");
  CHECK(utf8.status == Status::pass);
  CHECK(utf8.detail == "valid UTF-8, inflated");
  for (const RuleCheck& c : checks) {
    INFO(c.name << ": " << c.detail);
    CHECK(c.status != Status::fail);
  }
  CHECK(checks.size() == 11);
  // A frame traced as compressed says the extension was agreed by itself.
  CHECK(row(check_rules(compressed_hello(), Role::server, false), "reserved bits").status == Status::pass);
  // A message sent uncompressed on such a connection (§6.2): RSV1 0, plain text.
  trace::Frame plain = received(true, false, 0x1, bytes_of("Hello"));
  const auto plain_checks = check_rules(plain, Role::server, false, true);
  CHECK(row(plain_checks, "reserved bits").detail == "RSV1-3 are 0 (not compressed)");
  const auto close_checks = check_rules(received(true, false, 0x8, {0x03, 0xe8}), Role::server, false, true);
  CHECK(row(close_checks, "reserved bits").detail == "RSV1-3 are 0 (a control frame is never compressed, RFC 7692 §6)");
  CHECK(row(plain_checks, "UTF-8").status == Status::pass);
}

TEST_CASE("FR-1 rules strip: RSV1 without permessage-deflate, or RSV2 with it, is still a violation",
          "[rules_check][deflate]") {
  // RFC 6455 §5.2: no extension agreed, no meaning: the same bytes fail.
  trace::Frame f = received(true, true, 0x1, kHello7);
  const RuleCheck bare = row(check_rules(f, Role::server, false, false), "reserved bits");
  CHECK(bare.status == Status::fail);
  CHECK(bare.checklist == "FR-1");
  CHECK(bare.rule == "bad_reserved_bits");
  CHECK(bare.detail == "RSV1 set without a negotiated extension");
  // Without the extension the compressed bytes are judged as text, and fail.
  CHECK(row(check_rules(f, Role::server, false, false), "UTF-8").status == Status::fail);
  // permessage-deflate uses RSV1 only (§6): RSV2 is still reserved.
  Composition c;
  c.rsv1 = true;
  c.rsv2 = true;
  c.payload = kHello7;
  trace::Frame both = as_sent(compose(c));
  both.direction = Direction::received;
  const RuleCheck rsv2 = row(check_rules(both, Role::server, false, true), "reserved bits");
  CHECK(rsv2.status == Status::fail);
  CHECK(rsv2.checklist == "FR-1");
  CHECK(rsv2.detail == "RSV2 set without a negotiated extension that uses it");
}

TEST_CASE("PMD-5 rules strip: RSV1 on a control frame or a continuation frame fails with permessage-deflate",
          "[rules_check][deflate]") {
  // RFC 7692 §6: never on a control frame, only on a message's first frame.
  const trace::Frame ping = received(true, true, 0x9, bytes_of("p"));
  const RuleCheck control = row(check_rules(ping, Role::server, false, true), "reserved bits");
  CHECK(control.status == Status::fail);
  CHECK(control.checklist == "PMD-5");
  CHECK(control.rule == "compressed_control_frame");
  CHECK(control.section == "RFC 7692 §6");
  CHECK(control.close_code == 1002);
  CHECK(control.detail == "RSV1 (Per-Message Compressed) set on a ping frame: control frames are never compressed");

  const trace::Frame continuation = received(true, true, 0x0, {0x00});
  const RuleCheck cont = row(check_rules(continuation, Role::server, true, true), "reserved bits");
  CHECK(cont.status == Status::fail);
  CHECK(cont.checklist == "PMD-5");
  CHECK(cont.rule == "compressed_continuation");

  // The server's own rejection lands on the same row, not on a row of its own.
  trace::Frame rejected = ping;
  rejected.error = trace::RuleBroken{.rule = "compressed_control_frame", .checklist = "PMD-5",
                                     .section = "RFC 7692 §6", .close_code = 1002,
                                     .message = "1002: RSV1 (Per-Message Compressed) set on a ping frame"};
  const auto checks = check_rules(rejected, Role::server, false, true);
  CHECK(checks.size() == 11);
  CHECK(row(checks, "reserved bits").detail == "1002: RSV1 (Per-Message Compressed) set on a ping frame");

  // The later frames of a compressed message have RSV1 0, and pass.
  trace::Frame last = received(true, false, 0x0, {0x00, 0x00});
  last.compressed = true;
  const RuleCheck ok = row(check_rules(last, Role::server, true, true), "reserved bits");
  CHECK(ok.status == Status::pass);
  CHECK_THAT(ok.detail, Catch::Contains("RSV1 is on its first frame only"));
}

TEST_CASE("rules strip: a compressed text's UTF-8 is judged on the message inflated", "[rules_check][deflate]") {
  // RFC 6455 §8.1 on the inflated bytes (RFC 7692 §6); the first fragment
  // has none yet.
  trace::Frame bad = compressed_hello();
  bad.uncompressed_preview = {'H', 0xff, 'l', 'l', 'o'};
  const RuleCheck r = row(check_rules(bad, Role::server, false, true), "UTF-8");
  CHECK(r.status == Status::fail);
  CHECK(r.checklist == "U8-2");
  trace::Frame first = received(false, true, 0x1, {0xf2, 0x48});
  first.compressed = true;
  const RuleCheck n = row(check_rules(first, Role::server, false, true), "UTF-8");
  CHECK(n.status == Status::not_applicable);
  CHECK_THAT(n.detail, Catch::Contains("compressed: judged on the message inflated"));
  // A long message: only the preview is inflated in the trace.
  trace::Frame longer = compressed_hello();
  longer.uncompressed_size = 3100;
  CHECK(row(check_rules(longer, Role::server, false, true), "UTF-8").status == Status::not_applicable);
}

TEST_CASE("bit meanings: RSV1 is the Per-Message Compressed bit where permessage-deflate was agreed",
          "[bit_layout][deflate]") {
  const trace::Frame hello = compressed_hello();
  CHECK_THAT(field_meaning(Field::rsv1, hello, true), Catch::StartsWith("1: Per-Message Compressed"));
  CHECK_THAT(field_meaning(Field::rsv1, hello), Catch::StartsWith("1: Per-Message Compressed"));  // traced so
  trace::Frame bare = hello;
  bare.compressed = false;
  CHECK_THAT(field_meaning(Field::rsv1, bare), Catch::StartsWith("1: set, but no extension"));
  CHECK_THAT(field_meaning(Field::rsv1, received(true, true, 0x9, {}), true),
             Catch::Contains("never compressed") && Catch::Contains("1002"));
  CHECK_THAT(field_meaning(Field::rsv1, received(true, false, 0x1, {}), true), Catch::StartsWith("0: this message is not compressed"));
  CHECK_THAT(field_meaning(Field::rsv2, hello, true), Catch::StartsWith("0: reserved"));
  CHECK(field_meaning(Field::payload, hello) ==
        "7 bytes of payload, masked on the wire, compressed (DEFLATE data, RFC 7692); the message inflates to 5 bytes");
}

TEST_CASE("compression view: one compressed frame, its sizes and both payload views", "[compression][deflate]") {
  const std::deque<trace::Frame> frames{compressed_hello()};
  const CompressionView v = compression_view(frames, frames[0], true);
  CHECK(v.compressed);
  CHECK(v.rsv1_label == "RSV1 (permessage-deflate: compressed)");
  CHECK(v.message_wire_size == std::optional<std::uint64_t>(7));
  CHECK(v.inflated_size == std::optional<std::uint64_t>(5));
  REQUIRE(v.ratio);
  CHECK(*v.ratio == Approx(1.4));
  CHECK(v.sizes == "on the wire 7 bytes (compressed) -> inflated 5 bytes: 140 % (wire / inflated)");
  CHECK(v.wire_hex == "f2 48 cd c9 c9 07 00");
  CHECK(v.inflated_hex == "48 65 6c 6c 6f");
  CHECK(v.inflated_text == std::optional<std::string>("Hello"));
  CHECK(v.inflated_note.empty());

  // Not compressed: on a connection with the extension, and without it.
  const trace::Frame plain = received(true, false, 0x1, bytes_of("Hello"));
  const CompressionView p = compression_view({plain}, plain, true);
  CHECK_FALSE(p.compressed);
  CHECK(p.rsv1_label == "RSV1 (permessage-deflate)");
  CHECK(compression_view({plain}, plain, false).rsv1_label == "RSV1");
  // RSV1 on a ping is not a compressed message, whatever was agreed.
  const trace::Frame ping = received(true, true, 0x9, {});
  CHECK_FALSE(compression_view({ping}, ping, true).compressed);
}

TEST_CASE("compression view: a message in fragments, a long one, one not finished", "[compression][deflate]") {
  // §6.1: RSV1 on the first fragment; the last carries the message inflated.
  trace::Frame first = received(false, true, 0x1, {0xf2, 0x48, 0x05});
  first.seq = 4;
  first.compressed = true;
  trace::Frame ping = received(true, false, 0x9, {});
  ping.seq = 5;
  trace::Frame last = received(true, false, 0x0, {0x00, 0x00, 0x00, 0xff});
  last.seq = 6;
  last.compressed = true;
  last.uncompressed_size = 3100;
  last.uncompressed_preview.assign(64, 'a');
  trace::Frame other = compressed_hello(7);
  other.direction = Direction::sent;  // the other direction: not part of it
  const std::deque<trace::Frame> frames{first, ping, last, other};

  const CompressionView a = compression_view(frames, frames[0], true);
  CHECK(a.frames_in_message == 2);
  CHECK(a.message_wire_size == std::optional<std::uint64_t>(7));
  CHECK(a.inflated_size == std::optional<std::uint64_t>(3100));
  CHECK(percent(*a.ratio) == "0.23 %");
  CHECK(a.sizes == "on the wire 7 bytes (compressed, in 2 frames) -> inflated 3100 bytes: 0.23 % (wire / inflated)");
  CHECK(a.wire_hex == "f2 48 05");
  CHECK(a.inflated_text == std::optional<std::string>(std::string(64, 'a')));
  CHECK(a.inflated_note == "first 64 of 3100 bytes, from the message's last frame (#6)");
  const CompressionView b = compression_view(frames, frames[2], true);
  CHECK(b.inflated_note == "first 64 of 3100 bytes");
  CHECK(b.rsv1_label == "RSV1 (permessage-deflate)");  // RSV1 is 0 on it

  // The last frame not in yet.
  const std::deque<trace::Frame> open{first};
  const CompressionView c = compression_view(open, open[0], true);
  CHECK_FALSE(c.message_wire_size);
  CHECK_FALSE(c.inflated_size);
  CHECK(c.sizes == "this frame: 3 bytes on the wire (compressed); inflated once the message's last frame is in");
  CHECK(c.inflated_note == "the message's last frame is not in yet");
  CHECK(percent(0.018) == "1.8 %");
}

TEST_CASE("store: a connection knows it agreed permessage-deflate, and a compressed message shows inflated",
          "[store][deflate]") {
  CHECK(names_permessage_deflate("permessage-deflate"));
  CHECK(names_permessage_deflate("x-foo, Permessage-Deflate ; client_max_window_bits=10"));
  CHECK_FALSE(names_permessage_deflate("x-webkit-deflate-frame"));
  CHECK_FALSE(names_permessage_deflate("permessage-deflate-2"));
  CHECK_FALSE(names_permessage_deflate(""));

  Store store;
  store.add(trace::Hello{.source = "test"});
  store.add(trace::ConnectionOpen{.conn = 1, .resource = "/ws"});
  store.add(trace::Handshake{.conn = 1, .direction = Direction::sent, .request = false,
                             .start_line = "HTTP/1.1 101 Switching Protocols",
                             .headers = {{"Upgrade", "websocket"},
                                         {"Sec-WebSocket-Extensions", "permessage-deflate"}}});
  // A late viewer's open names them itself (RFC 6455 §9.1).
  store.add(trace::ConnectionOpen{.conn = 2, .resource = "/ws", .extensions = "permessage-deflate"});
  store.add(trace::ConnectionOpen{.conn = 3, .resource = "/ws"});
  REQUIRE(store.connection(1));
  CHECK(store.connection(1)->extensions == "permessage-deflate");
  CHECK(store.connection(1)->permessage_deflate);
  CHECK(store.connection(2)->permessage_deflate);
  CHECK_FALSE(store.connection(3)->permessage_deflate);

  trace::Frame hello = compressed_hello(1);
  store.add(hello);
  trace::Frame first = received(false, true, 0x1, {0xf2, 0x48, 0x05});
  first.seq = 2;
  first.compressed = true;
  trace::Frame last = received(true, false, 0x0, {0x00, 0x00});
  last.seq = 3;
  last.compressed = true;
  last.uncompressed_size = 5;
  last.uncompressed_preview = bytes_of("Hello");
  store.add(first);
  store.add(last);
  const auto rows = store.messages({});
  REQUIRE(rows.size() == 2);
  for (const MessageRow& r : rows) {
    CHECK(r.compressed);
    CHECK(r.inflated_length == std::optional<std::uint64_t>(5));
    CHECK(r.data == "Hello");  // as the application received it, not the DEFLATE bytes
  }
  CHECK(rows[0].length == 7);
  CHECK(rows[1].length == 5);
  CHECK(rows[1].seqs == std::vector<std::uint64_t>{2, 3});
  // A frame traced as compressed on a connection whose 101 was not seen.
  trace::Frame stray = compressed_hello(4);
  stray.conn = 3;
  store.add(stray);
  CHECK(store.connection(3)->permessage_deflate);
}
