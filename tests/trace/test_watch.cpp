// `wslab watch` (src/app/watch.hpp): trace events rendered as lines and
// ASCII bit diagrams, from events built here, from their JSON, and live from
// a server's /trace/ws.
#include "net/server_test_helpers.hpp"
#include "watch.hpp"

#include <wslab/trace.hpp>

#include <catch2/catch.hpp>

#include <future>
#include <sstream>

using namespace wslab;
using namespace wslab::testing;
using Catch::Contains;

namespace {

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

// The RFC's masked "Hello" (§5.7): 0x81 0x85, key 37 fa 21 3d.
trace::Frame masked_hello() {
  trace::Frame f;
  f.conn = 3;
  f.seq = 7;
  f.direction = connection::Direction::received;
  f.opcode = 0x1;
  f.mask = true;
  f.payload_length = 5;
  f.length_form = "7-bit";
  f.masking_key = std::array<std::uint8_t, 4>{0x37, 0xfa, 0x21, 0x3d};
  f.raw_header = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d};
  f.preview = {'H', 'e', 'l', 'l', 'o'};
  f.preview_masked = {0x7f, 0x9f, 0x4d, 0x51, 0x58};
  return f;
}

}  // namespace

TEST_CASE("watch: a masked frame is drawn bit by bit, with its fields and its payload unmasked", "[trace][watch]") {
  const std::string out = app::render_event(masked_hello());
  INFO(out);
  CHECK(out.rfind("conn 3 #7: received text frame, 5 bytes, masked\n", 0) == 0);
  CHECK(contains(out, "|1|0|0|0|0 0 0 1|1|0 0 0 0 1 0 1|0 0 1 1 0 1 1 1 1 1 1 1 1 0 1 0|"));
  CHECK(contains(out, "|F|R|R|R|opcode |M| Payload len |"));
  CHECK(contains(out, "Masking-key  37 fa 21 3d"));
  CHECK(contains(out, "Payload      7f 9f 4d 51 58  (masked, as on the wire)"));
  CHECK(contains(out, "\"Hello\""));
  CHECK_FALSE(contains(out, "preview"));  // the whole payload is there
}

TEST_CASE("watch: a payload longer than the preview says how much of it is shown", "[trace][watch]") {
  trace::Frame f;
  f.conn = 1;
  f.seq = 2;
  f.direction = connection::Direction::sent;
  f.opcode = 0x2;
  f.payload_length = 300;
  f.length_form = "16-bit";
  f.raw_header = {0x82, 0x7e, 0x01, 0x2c};  // 126, then 300 in 16 bits
  f.preview.assign(64, 0xab);
  f.preview_masked = f.preview;
  const std::string out = app::render_event(f);
  INFO(out);
  CHECK(out.rfind("conn 1 #2: sent binary frame, 300 bytes\n", 0) == 0);
  CHECK(contains(out, "Extended payload length (16)"));
  CHECK(contains(out, "Payload len  300 (16-bit form)"));
  CHECK(contains(out, "(payload preview: 64 of 300 bytes)"));
  CHECK_FALSE(contains(out, "incomplete payload"));
}

TEST_CASE("watch: a rejected frame names the rule it broke and the close code", "[trace][watch]") {
  trace::Frame f;
  f.conn = 5;
  f.seq = 11;
  f.opcode = 0x1;
  f.rsv1 = true;
  f.mask = true;
  f.raw_header = {0xc1, 0x8b};  // rules are checked on the first two octets
  f.error = trace::RuleBroken{.rule = "bad_reserved_bits", .checklist = "FR-1", .section = "RFC 6455 §5.2",
                              .close_code = 1002,
                              .message = "1002: RSV1 set on a text frame without a negotiated extension (RFC 6455 §5.2)"};
  const std::string out = app::render_event(f);
  INFO(out);
  CHECK(out.rfind("conn 5 #11: received text frame, masked\n", 0) == 0);
  CHECK(contains(out, "REJECTED: 1002: RSV1 set on a text frame"));
  CHECK(contains(out, "[bad_reserved_bits, FR-1]"));
  CHECK(contains(out, "RSV1-3       1 0 0"));
}

TEST_CASE("watch: transitions, handshakes and closes are one line each", "[trace][watch]") {
  CHECK(app::render_event(trace::Transition{.conn = 3,
                                            .from = connection::ReadyState::CONNECTING,
                                            .to = connection::ReadyState::OPEN,
                                            .cause = "handshake accepted"}) ==
        "conn 3: CONNECTING → OPEN (handshake accepted)\n");
  CHECK(app::render_event(trace::ConnectionClose{.conn = 3, .code = 1000, .was_clean = true}) ==
        "conn 3: TCP connection closed, code 1000, clean\n");
  // §7.1.5: a failed connection reports 1006; the code it sent is shown apart.
  CHECK(app::render_event(trace::ConnectionClose{.conn = 5, .code = 1006, .reason = "1002: bad", .sent_code = 1002}) ==
        "conn 5: TCP connection closed, code 1006 \"1002: bad\", not clean (sent close 1002)\n");
  const auto request = trace::make_handshake(
      4, 0, connection::Direction::received,
      "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  const std::string line = app::render_event(request);
  CHECK(line == "conn 4: handshake received request GET /ws HTTP/1.1, Sec-WebSocket-Key dGhlIHNhbXBsZSBub25jZQ== "
                "(the accept: base64(SHA-1(key + GUID)) = s3pPLMBiTxaQ9kYGzzhZRbK+xOo=)\n");
  CHECK(app::render_event(trace::Dropped{.count = 12, .total = 40}) ==
        "(12 trace events dropped: this viewer fell behind; 40 in all)\n");
}

TEST_CASE("watch: a message renders as its event does, a bad one is skipped with the reason", "[trace][watch]") {
  const trace::Event frame = masked_hello();
  CHECK(app::render_message(trace::to_json(frame)) == app::render_event(frame));
  CHECK_THAT(app::render_message("{not json"), Contains("skipped a trace message that does not parse"));
  CHECK_THAT(app::render_message(R"({"type":"teapot"})"), Contains("skipped"));
}

TEST_CASE("watch: a bad URL is exit status 3, said in one line", "[trace][watch]") {
  std::ostringstream out;
  CHECK(app::watch_trace(app::WatchOptions{.url = "http://127.0.0.1/trace/ws"}, out) == 3);
  CHECK_THAT(out.str(), Contains("RFC 6455 §3"));
}

TEST_CASE("watch: live from /trace/ws, a client's echo drawn as it happens", "[trace][watch]") {
  RunningServer s;
  std::ostringstream out;
  app::WatchOptions options;
  options.url = "ws://127.0.0.1:" + std::to_string(s.port()) + "/trace/ws";
  options.count = 2;  // the text received and its echo
  auto watching = std::async(std::launch::async, [&] { return app::watch_trace(options, out); });
  REQUIRE(eventually([&] { return s.stats().websocket_connections == 1; }));  // the viewer is in
  WsClient c(s.port());
  REQUIRE(c.open());
  REQUIRE(c.send_text("hi"));
  REQUIRE(c.next_message());
  REQUIRE(watching.wait_for(10s) == std::future_status::ready);
  CHECK(watching.get() == 0);
  const std::string text = out.str();
  INFO(text);
  CHECK(contains(text, "watch: connected to " + options.url));
  CHECK(contains(text, ": CONNECTING → OPEN (handshake accepted"));
  CHECK(contains(text, ": received text frame, 2 bytes, masked"));
  CHECK(contains(text, ": sent text frame, 2 bytes\n"));
  CHECK(contains(text, "\"hi\""));
}

TEST_CASE("watch: no server yet: says so once, retries, and stops when told", "[trace][watch]") {
  std::ostringstream out;
  std::atomic<int> polls{0};
  app::WatchOptions options;
  options.url = "ws://127.0.0.1:1/trace/ws";
  options.retry = {.first = 100ms, .cap = 200ms};
  options.stop = [&] { return ++polls > 30; };
  CHECK(app::watch_trace(options, out) == 0);
  const std::string text = out.str();
  CHECK(contains(text, "watch: cannot connect to ws://127.0.0.1:1/trace/ws"));
  CHECK(contains(text, "retrying after a random delay of up to 100 ms, then longer ones (RFC 6455 §7.2.3"));
  CHECK(text.find("watch: cannot connect") == text.rfind("watch: cannot connect"));  // said once
}
