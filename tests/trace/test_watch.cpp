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

TEST_CASE("watch: a compressed frame names RSV1 as permessage-deflate's bit and shows the text inflated",
          "[trace][watch]") {
  // RFC 7692 §7.2.3.1: "Hello" compressed, as the server echoes it: c1 07
  // f2 48 cd c9 c9 07 00. RSV1 is the "Per-Message Compressed" bit (§6).
  trace::Frame f;
  f.conn = 1;
  f.seq = 2;
  f.direction = connection::Direction::sent;
  f.rsv1 = true;
  f.opcode = 0x1;
  f.payload_length = 7;
  f.length_form = "7-bit";
  f.raw_header = {0xc1, 0x07};
  f.preview = {0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};
  f.preview_masked = f.preview;
  f.compressed = true;
  f.uncompressed_size = 5;
  f.uncompressed_preview = {'H', 'e', 'l', 'l', 'o'};
  const std::string out = app::render_event(f);
  INFO(out);
  CHECK(out.rfind("conn 1 #2: sent text frame, 7 bytes, compressed\n", 0) == 0);
  CHECK(contains(out, "|1|1|0|0|0 0 0 1|0|0 0 0 0 1 1 1|"));
  CHECK(contains(out, "RSV1-3       1 0 0  RSV1 (permessage-deflate: compressed)"));
  CHECK_FALSE(contains(out, "else Fail"));  // not a §5.2 violation here
  CHECK(contains(out, "Payload      f2 48 cd c9 c9 07 00"));  // the wire payload as it was
  CHECK(contains(out, "  permessage-deflate: payload 7 bytes compressed -> 5 bytes\n"));
  CHECK(contains(out, "  Inflated     48 65 6c 6c 6f  \"Hello\"\n"));
  // The same frame without the extension is the §5.2 violation it would be.
  trace::Frame plain = f;
  plain.compressed = false;
  plain.uncompressed_size.reset();
  plain.uncompressed_preview.clear();
  const std::string bare = app::render_event(plain);
  CHECK(contains(bare, "RSV1-3       1 0 0  set: only a negotiated extension may do this, else Fail (§5.2)"));
  CHECK_FALSE(contains(bare, "Inflated"));
  CHECK_FALSE(contains(bare, "compressed"));
}

TEST_CASE("watch: the fragments of a compressed message, and an inflated text longer than its preview",
          "[trace][watch]") {
  // §6.1: one deflate stream across the fragments, RSV1 on the first only;
  // the trace inflates the message on its last frame.
  trace::Frame first;
  first.conn = 2;
  first.seq = 5;
  first.fin = false;
  first.rsv1 = true;
  first.opcode = 0x1;
  first.payload_length = 3;
  first.length_form = "7-bit";
  first.raw_header = {0x41, 0x03};
  first.preview = {0xf2, 0x48, 0x05};  // §7.2.3.1's fragmented "Hello"
  first.preview_masked = first.preview;
  first.compressed = true;
  const std::string a = app::render_event(first);
  INFO(a);
  CHECK(contains(a, "received text frame, 3 bytes, compressed, FIN=0"));
  CHECK(contains(a, "RSV1 (permessage-deflate: compressed)"));
  CHECK(contains(a, "permessage-deflate: 3 bytes of a compressed message, inflated when its last frame is in"));

  trace::Frame last = first;
  last.seq = 6;
  last.fin = true;
  last.rsv1 = false;
  last.opcode = 0x0;
  last.payload_length = 4;
  last.raw_header = {0x80, 0x04};
  last.preview = {0x00, 0x00, 0x00, 0x00};
  last.preview_masked = last.preview;
  last.uncompressed_size = 300;
  last.uncompressed_preview.assign(64, 'a');
  const std::string b = app::render_event(last);
  INFO(b);
  CHECK(contains(b, "RSV1-3       0 0 0  a frame of a compressed message: RSV1 is set on its first frame only"));
  CHECK(contains(b, "the message ends here: its frames' payloads inflate to 300 bytes (4 compressed bytes in this frame)"));
  CHECK(contains(b, "(first 64 of 300 bytes)"));
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
  // The extensions offered and agreed (RFC 6455 §9.1), and those a late open event names.
  const auto agreed = trace::make_handshake(
      4, 0, connection::Direction::sent,
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n");
  CHECK(app::render_event(agreed) == "conn 4: handshake sent response HTTP/1.1 101 Switching Protocols, "
                                     "Sec-WebSocket-Accept s3pPLMBiTxaQ9kYGzzhZRbK+xOo=, "
                                     "Sec-WebSocket-Extensions permessage-deflate\n");
  CHECK(app::render_event(trace::ConnectionOpen{.conn = 6, .peer = "127.0.0.1:5000", .resource = "/ws",
                                                .extensions = "permessage-deflate"}) ==
        "conn 6: TCP connection from 127.0.0.1:5000, server side, /ws, extensions permessage-deflate\n");
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

TEST_CASE("watch: live, a compressing client's echo drawn compressed with its text inflated", "[trace][watch]") {
  // RFC 7692: the client offers permessage-deflate, the server agrees; the
  // watch shows the compressed bytes on the wire and the text inflated.
  RunningServer s;
  std::ostringstream out;
  app::WatchOptions options;
  options.url = "ws://127.0.0.1:" + std::to_string(s.port()) + "/trace/ws";
  options.count = 2;
  auto watching = std::async(std::launch::async, [&] { return app::watch_trace(options, out); });
  REQUIRE(eventually([&] { return s.stats().websocket_connections == 1; }));
  WsClient c(s.port(), WsClientOptions{.permessage_deflate = extensions::Settings{}});
  REQUIRE(c.open());
  REQUIRE(c.send_text("Hello"));
  REQUIRE(c.next_message());
  REQUIRE(watching.wait_for(10s) == std::future_status::ready);
  CHECK(watching.get() == 0);
  const std::string text = out.str();
  INFO(text);
  CHECK(contains(text, "Sec-WebSocket-Extensions permessage-deflate\n"));
  CHECK(contains(text, ": received text frame, 7 bytes, masked, compressed\n"));
  CHECK(contains(text, ": sent text frame, 7 bytes, compressed\n"));
  CHECK(contains(text, "Payload      f2 48 cd c9 c9 07 00"));  // §7.2.3.1
  CHECK(contains(text, "RSV1 (permessage-deflate: compressed)"));
  CHECK(contains(text, "permessage-deflate: payload 7 bytes compressed -> 5 bytes"));
  CHECK(contains(text, "Inflated     48 65 6c 6c 6f  \"Hello\""));
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
