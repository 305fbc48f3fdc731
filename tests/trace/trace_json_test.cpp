// The trace format: every event kind survives to_json -> from_json, bad
// lines are refused with the field and the reason, a file is read line by
// line, and the Recorder's helpers read heads and frames as the RFC says.
#include <wslab/framing.hpp>
#include <wslab/trace.hpp>

#include <catch2/catch.hpp>

#include <Poco/TemporaryFile.h>

#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

using namespace wslab;
using namespace wslab::trace;
using connection::Direction;
using connection::ReadyState;

namespace {

Event round_trip(const Event& e) {
  const std::string line = to_json(e);
  INFO(line);
  CHECK(line.find('\n') == std::string::npos);
  auto back = from_json(line);
  REQUIRE(std::holds_alternative<Event>(back));
  return std::get<Event>(back);
}

std::string error_of(std::string_view line) {
  auto r = from_json(line);
  REQUIRE(std::holds_alternative<ParseError>(r));
  return std::get<ParseError>(r).message;
}

Frame sample_frame() {
  Frame f{.conn = 7, .time = 123456, .seq = 42, .direction = Direction::received};
  f.fin = false;
  f.rsv1 = true;
  f.opcode = 2;
  f.mask = true;
  f.payload_length = 70000;
  f.length_form = "64-bit";
  f.masking_key = std::array<std::uint8_t, 4>{0x37, 0xfa, 0x21, 0x3d};
  f.raw_header = {0x02, 0xff, 0, 0, 0, 0, 0, 1, 0x11, 0x70, 0x37, 0xfa, 0x21, 0x3d};
  f.preview = {0x48, 0x65, 0x6c};
  f.preview_masked = {0x7f, 0x9f, 0x4d};
  f.error = RuleBroken{.rule = "reserved_bits", .checklist = "FR-2", .section = "RFC 6455 §5.2",
                       .close_code = 1002, .http_status = 0, .message = "1002: RSV1 set (RFC 6455 §5.2)"};
  f.buffered_amount = 99;
  return f;
}

}  // namespace

TEST_CASE("every trace event kind survives a JSON round trip", "[trace]") {
  const std::vector<Event> events = {
      Hello{.source = "wslab serve", .started_at = "2026-11-21T10:00:00.000000Z", .preview_bytes = 64},
      ConnectionOpen{.conn = 1, .time = 5, .role = Role::client, .peer = "127.0.0.1:5000", .resource = "/chat/ws"},
      Handshake{.conn = 1, .time = 6, .direction = Direction::sent, .request = false,
                .start_line = "HTTP/1.1 101 Switching Protocols",
                .headers = {{"Upgrade", "websocket"}, {"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}},
                .accept = Accept{.key = "dGhlIHNhbXBsZSBub25jZQ==",
                                 .concatenated = "dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
                                 .sha1_hex = "b37a4f2cc0624f1690f64606cf385945b2bec4ea",
                                 .accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}},
      sample_frame(),
      Frame{.conn = 2, .time = 9, .seq = 43, .direction = Direction::sent, .opcode = 8, .payload_length = 4,
            .length_form = "7-bit", .raw_header = {0x88, 0x04}, .preview = {0x03, 0xe8, 0x6f, 0x6b},
            .preview_masked = {0x03, 0xe8, 0x6f, 0x6b}, .close_code = 1000, .close_reason = "ok"},
      Transition{.conn = 1, .time = 10, .from = ReadyState::OPEN, .to = ReadyState::CLOSING,
                 .cause = "received close 1000"},
      ConnectionClose{.conn = 1, .time = 11, .code = 1006, .reason = "gone", .was_clean = false},
      ConnectionClose{.conn = 2, .time = 12, .code = 1006, .reason = "1002: RSV1 set (RFC 6455 §5.2)",
                      .was_clean = false, .sent_code = 1002},
      Dropped{.time = 12, .count = 3, .total = 30},
  };
  for (const auto& e : events) {
    INFO(type_name(e));
    CHECK(round_trip(e) == e);
  }
  CHECK(type_name(events[3]) == "frame");
}

TEST_CASE("a frame event carries the fields docs/trace-format.md names", "[trace]") {
  const std::string line = to_json(sample_frame());
  for (const char* field : {R"("type":"frame")", R"("opcode_name":"binary")", R"("length_form":"64-bit")",
                            R"("masking_key":"37 fa 21 3d")", R"("raw_header":"02 ff 00 00)", R"("checklist":"FR-2")"})
    CHECK_THAT(line, Catch::Contains(field));
  // An unmasked frame has "masking_key": null, and reads back as no key.
  Frame plain{.length_form = "7-bit"};
  CHECK_THAT(to_json(plain), Catch::Contains(R"("masking_key":null)"));
  CHECK_FALSE(std::get<Frame>(round_trip(plain)).masking_key.has_value());
}

namespace {

// RFC 7692 §7.2.3.1: "Hello" compressed is f2 48 cd c9 c9 07 00, sent with RSV1.
Frame compressed_hello() {
  Frame f{.conn = 4, .time = 10, .seq = 5, .direction = Direction::sent};
  f.rsv1 = true;
  f.opcode = 1;
  f.payload_length = 7;
  f.length_form = "7-bit";
  f.raw_header = {0xc1, 0x07};
  f.preview = {0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};
  f.preview_masked = f.preview;
  f.compressed = true;
  f.uncompressed_size = 5;
  f.uncompressed_preview = {'H', 'e', 'l', 'l', 'o'};
  return f;
}

}  // namespace

TEST_CASE("a compressed frame's event carries compressed, the inflated size and preview (RFC 7692 6)", "[trace]") {
  // RFC 7692 §6: the wire payload stays the compressed bytes; the inflated
  // message travels beside it, on the frame that ends it.
  const Frame hello = compressed_hello();
  const std::string line = to_json(hello);
  INFO(line);
  for (const char* field : {R"("rsv1":true)", R"("payload_length":7)", R"("preview":"f2 48 cd c9 c9 07 00")",
                            R"("compressed":true)", R"("uncompressed_size":5)",
                            R"("uncompressed_preview":"48 65 6c 6c 6f")"})
    CHECK_THAT(line, Catch::Contains(field));
  CHECK(round_trip(hello) == Event(hello));
  CHECK(std::get<Event>(from_json(to_json_reference(hello))) == Event(hello));

  // The first fragment of a compressed message (§6.1): compressed, not yet inflated.
  Frame first = hello;
  first.fin = false;
  first.uncompressed_size.reset();
  first.uncompressed_preview.clear();
  CHECK_THAT(to_json(first), Catch::Contains(R"("compressed":true)") && !Catch::Contains("uncompressed"));
  CHECK(round_trip(first) == Event(first));
  // An empty message compressed (§7.2.3.6): an uncompressed_size of 0 is kept.
  Frame empty = hello;
  empty.payload_length = 1;
  empty.preview = empty.preview_masked = {0x00};
  empty.uncompressed_size = 0;
  empty.uncompressed_preview.clear();
  CHECK_THAT(to_json(empty), Catch::Contains(R"("uncompressed_size":0,"uncompressed_preview":"")"));
  CHECK(round_trip(empty) == Event(empty));
}

TEST_CASE("an uncompressed frame has no compression fields, and old lines without them still read", "[trace]") {
  // The fields are additive (docs/trace-format.md): a frame that is not part
  // of a compressed message has none, and a reader takes their absence as
  // "not compressed".
  Frame plain = compressed_hello();
  plain.rsv1 = false;
  plain.compressed = false;
  plain.uncompressed_size.reset();
  plain.uncompressed_preview.clear();
  const std::string line = to_json(plain);
  CHECK_THAT(line, !Catch::Contains("compressed"));
  CHECK_THAT(to_json_reference(plain), !Catch::Contains("compressed"));
  const auto back = std::get<Frame>(round_trip(plain));
  CHECK_FALSE(back.compressed);
  CHECK_FALSE(back.uncompressed_size);
  // Bad values are refused with the field named.
  std::string bad = to_json(compressed_hello());
  auto with = [&](std::string from, std::string to) {
    std::string s = bad;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  CHECK_THAT(error_of(with(R"("compressed":true)", R"("compressed":"yes")")),
             Catch::Contains("\"compressed\" not true or false"));
  CHECK_THAT(error_of(with(R"("uncompressed_size":5)", R"("uncompressed_size":4)")),
             Catch::Contains("\"uncompressed_preview\" longer than \"uncompressed_size\""));
  CHECK_THAT(error_of(with(R"("uncompressed_preview":"48)", R"("uncompressed_preview":"4x)")),
             Catch::Contains("\"uncompressed_preview\" not hex"));
  CHECK_THAT(error_of(with(R"(,"uncompressed_preview":"48 65 6c 6c 6f")", "")),
             Catch::Contains("\"uncompressed_preview\" missing"));
}

TEST_CASE("make_frame carries what the connection says of a compressed message (RFC 7692 6)", "[trace]") {
  // A client's compressed "Hello" (§7.2.3.1), masked: the preview is the
  // compressed bytes unmasked, the inflated text comes from the record.
  framing::FrameHeader h{.fin = true, .rsv1 = true, .opcode = 1, .mask = true, .payload_length = 7,
                         .masking_key = {0x37, 0xfa, 0x21, 0x3d}};
  const std::string payload("\xf2\x48\xcd\xc9\xc9\x07\x00", 7);
  std::string wire;
  framing::append_frame(wire, h, payload);
  const auto raw = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(wire.data()), 6);
  connection::FrameRecord record{.direction = Direction::received, .header = h, .raw_header = raw,
                                 .payload_preview = payload};
  record.compressed = true;
  record.uncompressed_size = 5;
  record.uncompressed_preview = "Hello";
  const auto f = make_frame(1, 2, 3, record);
  CHECK(f.rsv1);
  CHECK(f.compressed);
  CHECK(f.payload_length == 7);
  CHECK(f.preview == Bytes(payload.begin(), payload.end()));
  CHECK(f.preview_masked == Bytes(wire.begin() + 6, wire.end()));
  CHECK(f.uncompressed_size == std::optional<std::uint64_t>(5));
  CHECK(f.uncompressed_preview == Bytes{'H', 'e', 'l', 'l', 'o'});
  // A frame before the message's last one: compressed, no sizes yet.
  record.header.fin = false;
  record.uncompressed_size.reset();
  record.uncompressed_preview = {};
  const auto g = make_frame(1, 2, 4, record);
  CHECK(g.compressed);
  CHECK_FALSE(g.uncompressed_size);
  CHECK(g.uncompressed_preview.empty());
}

TEST_CASE("an open event names the agreed extensions when it has them (RFC 6455 9.1)", "[trace]") {
  const ConnectionOpen late{.conn = 2, .time = 5, .role = Role::server, .peer = "127.0.0.1:5000", .resource = "/ws",
                            .extensions = "permessage-deflate; server_no_context_takeover"};
  CHECK_THAT(to_json(late), Catch::EndsWith(R"(,"extensions":"permessage-deflate; server_no_context_takeover"})"));
  CHECK(round_trip(late) == Event(late));
  CHECK(std::get<Event>(from_json(to_json_reference(late))) == Event(late));
  const ConnectionOpen fresh{.conn = 3, .time = 6, .peer = "127.0.0.1:5001", .resource = "/ws"};
  CHECK_THAT(to_json(fresh), !Catch::Contains("extensions"));
  CHECK(std::get<ConnectionOpen>(round_trip(fresh)).extensions.empty());
}

TEST_CASE("CL-17 a close event carries the code reported and, apart, the code sent", "[trace]") {
  // RFC 6455 §7.1.5: the code reported is the received Close's (1006 after
  // a failure); sent_code is the Close the endpoint sent, absent if none.
  const ConnectionClose failed{.conn = 2, .time = 7, .code = 1006, .reason = "1002: RSV1 set (RFC 6455 §5.2)",
                               .was_clean = false, .sent_code = 1002};
  CHECK_THAT(to_json(failed), Catch::Contains(R"("code":1006,)") && Catch::Contains(R"("sent_code":1002)"));
  CHECK(std::get<Event>(from_json(to_json_reference(failed))) == Event(failed));
  const ConnectionClose dropped{.conn = 3, .time = 8, .code = 1006, .reason = "gone"};
  CHECK_THAT(to_json(dropped), !Catch::Contains("sent_code"));
  CHECK_FALSE(std::get<ConnectionClose>(round_trip(dropped)).sent_code.has_value());
  CHECK(std::get<ConnectionClose>(round_trip(failed)).sent_code == std::optional<std::uint16_t>(1002));
}

TEST_CASE("a bad trace line is refused with the field and the reason", "[trace]") {
  CHECK_THAT(error_of("not json"), Catch::StartsWith("not JSON"));
  CHECK(error_of("[1,2]") == "not a JSON object");
  CHECK_THAT(error_of(R"({"type":"wat"})"), Catch::Contains("unknown event type \"wat\""));
  CHECK_THAT(error_of(R"({"type":"hello","v":2,"source":"x","started_at":"","preview_bytes":1})"),
             Catch::Contains("version 2 is not supported"));
  std::string frame = to_json(sample_frame());
  auto with = [&](std::string from, std::string to) {
    std::string s = frame;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  CHECK_THAT(error_of(with(R"("opcode":2)", R"("opcode":16)")), Catch::Contains("\"opcode\" out of range"));
  CHECK_THAT(error_of(with(R"("opcode":2)", R"("opcode":"2")")), Catch::Contains("\"opcode\" not an integer"));
  CHECK_THAT(error_of(with(R"("dir":"received")", R"("dir":"up")")), Catch::Contains("\"dir\" not \"received\""));
  CHECK_THAT(error_of(with(R"("raw_header":"02)", R"("raw_header":"0z)")), Catch::Contains("\"raw_header\" not hex"));
  CHECK_THAT(error_of(with(R"("masking_key":"37 fa 21 3d")", R"("masking_key":"37 fa")")),
             Catch::Contains("not 4 bytes"));
  CHECK_THAT(error_of(with(R"("fin":false,)", "")), Catch::Contains("frame: field \"fin\" missing"));
  CHECK_THAT(error_of(R"({"type":"transition","conn":1,"t":0,"from":"OPEN","to":"SHUT","cause":""})"),
             Catch::Contains("\"to\" not CONNECTING"));
  CHECK_THAT(error_of(R"({"type":"close","conn":-1,"t":0,"code":1000,"reason":"","was_clean":true})"),
             Catch::Contains("\"conn\" out of range"));
}

TEST_CASE("a trace file is read line by line, and an error names its line", "[trace]") {
  Poco::TemporaryFile tmp;
  const std::string path = tmp.path();
  {
    std::ofstream out(path);
    out << to_json(Hello{.source = "test"}) << "\n\n"
        << to_json(Transition{.conn = 1, .to = ReadyState::OPEN, .cause = "x"}) << "\r\n";
  }
  auto ok = read_file(path);
  REQUIRE_FALSE(ok.error);
  CHECK(ok.events.size() == 2);
  {
    std::ofstream out(path, std::ios::app);
    out << R"({"type":"frame","conn":1})" << "\n";
  }
  auto bad = read_file(path);
  REQUIRE(bad.error);
  CHECK_THAT(*bad.error, Catch::Contains(path + ":4: frame: field \"t\" missing"));
  {
    std::ofstream out(path, std::ios::trunc);
    out << to_json(Dropped{}) << "\n";
  }
  CHECK_THAT(*read_file(path).error, Catch::Contains("starts with a \"hello\""));
  CHECK_THAT(*read_file(path + ".missing").error, Catch::Contains("cannot open"));
}

TEST_CASE("hex helpers read what they write and refuse the rest", "[trace]") {
  const Bytes b{0x00, 0x81, 0xff};
  CHECK(hex(b) == "00 81 ff");
  CHECK(parse_hex("00 81 ff") == b);
  CHECK(parse_hex("0081FF") == b);
  CHECK(parse_hex("").value().empty());
  CHECK_FALSE(parse_hex("0"));
  CHECK_FALSE(parse_hex("0 081"));
  CHECK_FALSE(parse_hex("0g"));
}

TEST_CASE("make_handshake splits a head and carries the accept steps of RFC 6455 §1.3", "[trace]") {
  const std::string head =
      "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  const auto h = make_handshake(3, 77, Direction::received, head);
  CHECK(h.request);
  CHECK(h.start_line == "GET /chat HTTP/1.1");
  REQUIRE(h.headers.size() == 5);
  CHECK(h.headers[0] == std::pair<std::string, std::string>{"Host", "server.example.com"});
  REQUIRE(h.accept);
  CHECK(h.accept->sha1_hex == "b37a4f2cc0624f1690f64606cf385945b2bec4ea");
  CHECK(h.accept->accept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  const auto r = make_handshake(3, 78, Direction::sent, "HTTP/1.1 426 Upgrade Required\r\nbroken line\r\n\r\n");
  CHECK_FALSE(r.request);
  CHECK_FALSE(r.accept);
  REQUIRE(r.headers.size() == 1);
  CHECK(r.headers[0].first == "broken line");
}

TEST_CASE("make_frame shows a masked Close frame both ways and reads its code", "[trace]") {
  // A client's Close 1000 "bye", masked with 37 fa 21 3d (§5.3, §5.5.1).
  framing::FrameHeader h{.fin = true, .opcode = 8, .mask = true, .payload_length = 5,
                         .masking_key = {0x37, 0xfa, 0x21, 0x3d}};
  std::string wire;
  framing::append_frame(wire, h, std::string("\x03\xe8" "bye", 5));
  const std::string payload("\x03\xe8" "bye", 5);
  const auto raw = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(wire.data()), 6);
  const Violation v(error::bad_close_code, "close code 999");
  const auto f = make_frame(1, 2, 3, connection::FrameRecord{.direction = Direction::received, .header = h,
                                                             .raw_header = raw, .payload_preview = payload,
                                                             .violation = &v});
  CHECK(f.masking_key == std::array<std::uint8_t, 4>{0x37, 0xfa, 0x21, 0x3d});
  CHECK(f.preview == Bytes{0x03, 0xe8, 'b', 'y', 'e'});
  CHECK(f.preview_masked == Bytes(wire.begin() + 6, wire.end()));
  CHECK(f.close_code == 1000);
  CHECK(f.close_reason == "bye");
  CHECK(f.length_form == "7-bit");
  REQUIRE(f.error);
  CHECK(f.error->close_code == 1002);
  CHECK(f.error->message == v.message());
}

TEST_CASE("a JSONL writer that cannot keep up drops events, counts them and says so", "[trace]") {
  // A FIFO nobody reads yet: the writer thread blocks once the pipe is full,
  // so its queue fills and further events are dropped.
  Poco::TemporaryFile tmp;
  const std::string path = tmp.path();
  REQUIRE(mkfifo(path.c_str(), 0600) == 0);
  std::string received;
  std::thread reader;
  std::unique_ptr<JsonlWriter> writer;
  {
    // Opening a FIFO for writing waits for a reader: open the reading end
    // first, on a thread that waits before reading anything.
    std::atomic<bool> go{false};
    reader = std::thread([&] {
      std::ifstream in(path, std::ios::binary);
      while (!go) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      received.assign(std::istreambuf_iterator<char>(in), {});
    });
    writer = std::make_unique<JsonlWriter>(path, 16);
    writer->emit(Hello{.source = "test"});
    const Frame big = sample_frame();
    for (int i = 0; i < 5000; ++i) writer->emit(big);  // ~ 3 MB: far more than a pipe holds
    CHECK(writer->dropped() > 0);
    const auto dropped = writer->dropped();
    go = true;
    writer->flush();
    writer->emit(Transition{.conn = 1, .time = 5, .to = ReadyState::OPEN, .cause = "after"});
    writer.reset();  // writes the rest and closes the file
    reader.join();
    // Every line is an event; the "dropped" events add up to the count.
    std::istringstream lines(received);
    std::string line;
    std::uint64_t frames = 0, reported = 0;
    while (std::getline(lines, line)) {
      auto e = from_json(line);
      REQUIRE(std::holds_alternative<Event>(e));
      if (auto* d = std::get_if<Dropped>(&std::get<Event>(e))) reported += d->count;
      if (std::holds_alternative<Frame>(std::get<Event>(e))) ++frames;
    }
    CHECK(reported == dropped);
    CHECK(frames + dropped == 5000);
  }
}

TEST_CASE("a trace file that cannot be written is an error naming it", "[trace]") {
  CHECK_THROWS_WITH(JsonlWriter("/nonexistent-dir/t.jsonl"), Catch::Contains("/nonexistent-dir/t.jsonl"));
}

TEST_CASE("the fast JSON writer says what the POCO reference says, for every event kind", "[trace]") {
  // Random events with awkward text: quotes, backslashes, control
  // characters, non-ASCII, invalid UTF-8 (written as U+FFFD by both).
  std::mt19937 rng(6455);
  const std::vector<std::string> texts = {"", "plain", "quote \" backslash \\ slash /", "tab\tnewline\ncr\r",
                                          std::string("nul \0 bell \x07 del \x7f", 18), "héllo 世界 🎉",
                                          "bad \xff\xfe utf-8", "\xed\xa0\x80 surrogate"};
  auto text = [&] { return texts[rng() % texts.size()]; };
  auto bytes = [&](std::size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    return b;
  };
  for (int i = 0; i < 500; ++i) {
    std::vector<Event> events = {
        Hello{.source = text(), .started_at = text(), .preview_bytes = rng()},
        ConnectionOpen{.conn = rng(), .time = static_cast<Micros>(rng()) - 1000, .role = Role::client,
                       .peer = text(), .resource = text(), .extensions = (rng() & 1) ? text() : std::string()},
        Handshake{.conn = 1, .time = 2, .direction = Direction::sent, .request = (rng() & 1) != 0,
                  .start_line = text(), .headers = {{text(), text()}, {text(), text()}},
                  .accept = (rng() & 1) ? std::optional<Accept>(Accept{text(), text(), text(), text()}) : std::nullopt},
        Transition{.conn = rng(), .time = static_cast<Micros>(rng()), .from = ReadyState::CLOSING, .to = ReadyState::CLOSED, .cause = text()},
        ConnectionClose{.conn = 3, .time = 4, .code = static_cast<std::uint16_t>(rng()), .reason = text(),
                        .was_clean = (rng() & 1) != 0,
                        .sent_code = (rng() & 1) ? std::optional<std::uint16_t>(static_cast<std::uint16_t>(rng()))
                                                 : std::nullopt},
        Dropped{.time = static_cast<Micros>(rng()), .count = rng(), .total = std::uint64_t{rng()} << 32},
    };
    Frame f = sample_frame();
    f.opcode = static_cast<std::uint8_t>(rng() % 16);
    f.payload_length = std::uint64_t{rng()} << (rng() % 32);
    f.raw_header = bytes(rng() % 15);
    f.preview = bytes(rng() % 70);
    f.preview_masked = bytes(f.preview.size());
    if (rng() & 1) f.masking_key.reset();
    if (rng() & 1) f.error.reset();
    else f.error->message = text();
    if (rng() & 1) {
      f.close_code = static_cast<std::uint16_t>(rng());
      f.close_reason = text();
    }
    f.compressed = (rng() & 1) != 0;
    if (rng() & 1) {
      f.uncompressed_preview = bytes(rng() % 70);
      f.uncompressed_size = f.uncompressed_preview.size() + (rng() % 3 ? 0 : std::uint64_t{rng()});
    }
    events.push_back(f);
    for (const auto& e : events) {
      const std::string fast = to_json(e), reference = to_json_reference(e);
      INFO(fast << "\n" << reference);
      auto a = from_json(fast), b = from_json(reference);
      if (auto* err = std::get_if<ParseError>(&a)) FAIL("fast: " << err->message);
      if (auto* err = std::get_if<ParseError>(&b)) FAIL("reference: " << err->message);
      CHECK(std::get<Event>(a) == std::get<Event>(b));
    }
  }
}
