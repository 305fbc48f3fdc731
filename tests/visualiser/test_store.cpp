// The visualiser's Store: the ring of frames, the connection views, and the
// Messages panel's rows (grouping, filters, previews).
#include <wslab/viz/store.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace wslab;
using namespace wslab::viz;
using connection::Direction;
using connection::ReadyState;

namespace {

trace::Bytes bytes(std::string_view s) { return trace::Bytes(s.begin(), s.end()); }

trace::Frame frame(std::uint64_t seq, std::uint64_t conn, Direction dir, std::uint8_t opcode, bool fin,
                   std::string_view payload) {
  trace::Frame f;
  f.conn = conn;
  f.seq = seq;
  f.time = static_cast<trace::Micros>(seq) * 1000;
  f.direction = dir;
  f.opcode = opcode;
  f.fin = fin;
  f.payload_length = payload.size();
  f.length_form = "7-bit";
  f.preview = bytes(payload);
  f.preview_masked = f.preview;
  return f;
}

trace::ConnectionOpen open_event(std::uint64_t conn) {
  return trace::ConnectionOpen{.conn = conn, .time = 0, .role = Role::server, .peer = "127.0.0.1:5000",
                               .resource = "/ws"};
}

std::vector<std::uint64_t> seqs_of(const std::vector<MessageRow>& rows) {
  std::vector<std::uint64_t> out;
  for (const auto& r : rows) out.push_back(r.seqs.front());
  return out;
}

}  // namespace

TEST_CASE("store keeps the last N frames and counts the evicted ones") {
  Store store(3);
  for (std::uint64_t s = 1; s <= 5; ++s) store.add(frame(s, 1, Direction::received, 1, true, "x"));
  REQUIRE(store.frames().size() == 3);
  CHECK(store.frames().front().seq == 3);
  CHECK(store.frames().back().seq == 5);
  CHECK(store.evicted_frames() == 2);
  CHECK(store.events_seen() == 5);
  CHECK(store.frame(2) == nullptr);
  REQUIRE(store.frame(4) != nullptr);
  CHECK(store.frame(4)->seq == 4);
  // The connection counts every frame it saw, kept or not.
  REQUIRE(store.connection(1) != nullptr);
  CHECK(store.connection(1)->frames == 5);
}

TEST_CASE("store builds a connection view from open, handshake, transitions and close") {
  Store store;
  store.add(open_event(7));
  trace::Handshake request{.conn = 7, .time = 10, .direction = Direction::received, .request = true,
                           .start_line = "GET /ws HTTP/1.1",
                           .headers = {{"Sec-WebSocket-Protocol", "chat, superchat"}}};
  trace::Handshake response{.conn = 7, .time = 20, .direction = Direction::sent, .request = false,
                            .start_line = "HTTP/1.1 101 Switching Protocols",
                            .headers = {{"Upgrade", "websocket"}, {"sec-websocket-protocol", " chat "}}};
  store.add(request);
  store.add(response);
  store.add(trace::Transition{.conn = 7, .time = 20, .from = ReadyState::CONNECTING, .to = ReadyState::OPEN,
                              .cause = "handshake accepted"});
  auto f = frame(1, 7, Direction::sent, 1, true, "hi");
  f.buffered_amount = 42;
  store.add(f);

  const ConnectionView* v = store.connection(7);
  REQUIRE(v != nullptr);
  CHECK(v->peer == "127.0.0.1:5000");
  CHECK(v->resource == "/ws");
  CHECK(v->subprotocol == "chat");  // the 101's choice, not the request's offer
  CHECK(v->state == ReadyState::OPEN);
  CHECK(v->state_since == 20);
  REQUIRE(v->request);
  REQUIRE(v->response);
  CHECK(v->response->start_line == "HTTP/1.1 101 Switching Protocols");
  CHECK(v->buffered_amount == 42);
  REQUIRE(v->transitions.size() == 1);
  CHECK(v->transitions[0].cause == "handshake accepted");

  store.add(trace::ConnectionClose{.conn = 7, .time = 99, .code = 1000, .reason = "bye", .was_clean = true});
  v = store.connection(7);
  CHECK(v->state == ReadyState::CLOSED);
  CHECK(v->state_since == 99);
  REQUIRE(v->closed);
  CHECK(v->closed->reason == "bye");
}

TEST_CASE("a rejected handshake has no subprotocol") {
  Store store;
  store.add(open_event(1));
  store.add(trace::Handshake{.conn = 1, .direction = Direction::sent, .request = false,
                             .start_line = "HTTP/1.1 426 Upgrade Required",
                             .headers = {{"Sec-WebSocket-Protocol", "chat"}}});
  store.add(trace::Transition{.conn = 1, .time = 5, .from = ReadyState::CONNECTING, .to = ReadyState::CLOSED,
                              .cause = "handshake rejected: 426"});
  CHECK(store.connection(1)->subprotocol.empty());
  CHECK(store.connection(1)->state == ReadyState::CLOSED);
}

TEST_CASE("store keeps only the last transitions of a connection") {
  Store store;
  store.add(open_event(1));
  for (std::size_t i = 0; i < Store::kMaxTransitions + 10; ++i) {
    store.add(trace::Transition{.conn = 1, .time = static_cast<trace::Micros>(i), .from = ReadyState::OPEN,
                                .to = ReadyState::OPEN, .cause = std::to_string(i)});
  }
  const auto& t = store.connection(1)->transitions;
  REQUIRE(t.size() == Store::kMaxTransitions);
  CHECK(t.front().cause == "10");
  CHECK(t.back().cause == std::to_string(Store::kMaxTransitions + 9));
}

TEST_CASE("store bounds its connections, dropping closed ones first") {
  Store store;
  for (std::uint64_t c = 1; c <= Store::kMaxConnections; ++c) store.add(open_event(c));
  store.add(trace::ConnectionClose{.conn = 500, .time = 1});
  store.add(open_event(5000));
  CHECK(store.connections().size() == Store::kMaxConnections);
  CHECK(store.connection(500) == nullptr);  // the closed one went
  CHECK(store.connection(1) != nullptr);
  CHECK(store.connection(5000) != nullptr);
  store.add(open_event(5001));  // none closed: the oldest goes
  CHECK(store.connections().size() == Store::kMaxConnections);
  CHECK(store.connection(1) == nullptr);
}

TEST_CASE("store counts the events the source dropped") {
  Store store;
  store.add(trace::Dropped{.time = 1, .count = 3, .total = 3});
  store.add(trace::Dropped{.time = 2, .count = 4, .total = 7});
  CHECK(store.source_dropped() == 7);
}

TEST_CASE("a hello from another trace starts again, from the same trace keeps everything") {
  Store store;
  store.add(trace::Hello{.source = "wslab serve", .started_at = "2026-01-01T00:00:00Z"});
  store.add(open_event(1));
  store.add(frame(1, 1, Direction::received, 1, true, "a"));
  store.add(trace::Hello{.source = "wslab serve", .started_at = "2026-01-01T00:00:00Z"});
  CHECK(store.frames().size() == 1);
  store.add(trace::Hello{.source = "wslab serve", .started_at = "2026-01-02T00:00:00Z"});
  CHECK(store.frames().empty());
  CHECK(store.connections().empty());
  REQUIRE(store.hello());
  CHECK(store.hello()->started_at == "2026-01-02T00:00:00Z");
}

TEST_CASE("messages group continuation frames under their message, control frames on their own") {
  Store store;
  // §5.4: a ping may sit between the fragments of a message.
  store.add(frame(1, 1, Direction::received, 1, false, "Hel"));
  store.add(frame(2, 1, Direction::sent, 1, true, "echo"));  // the other direction is independent
  store.add(frame(3, 1, Direction::received, 9, true, "ping!"));
  store.add(frame(4, 1, Direction::received, 0, false, "lo, "));
  store.add(frame(5, 2, Direction::received, 2, true, "\x01\x02"));  // another connection
  store.add(frame(6, 1, Direction::received, 0, true, "WebSocket"));
  store.add(frame(7, 1, Direction::received, 1, false, "unfinished"));

  auto rows = store.messages({});
  REQUIRE(rows.size() == 5);
  CHECK(seqs_of(rows) == std::vector<std::uint64_t>{1, 2, 3, 5, 7});
  CHECK(rows[0].seqs == std::vector<std::uint64_t>{1, 4, 6});
  CHECK(rows[0].opcode == 1);
  CHECK(rows[0].length == 16);
  CHECK(rows[0].complete);
  CHECK(rows[0].data == "Hello, WebSocket");
  CHECK(rows[0].time == 1000);
  CHECK(rows[2].opcode == 9);
  CHECK(rows[2].data == "ping!");
  CHECK(rows[3].data == trace::hex(bytes("\x01\x02")));  // binary shows as hex
  CHECK_FALSE(rows[4].complete);
}

TEST_CASE("a continuation whose first frame has left the ring is a row of its own") {
  Store store(2);
  store.add(frame(1, 1, Direction::received, 1, false, "a"));
  store.add(frame(2, 1, Direction::received, 0, false, "b"));
  store.add(frame(3, 1, Direction::received, 0, true, "c"));
  auto rows = store.messages({});
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].opcode == 0);
  CHECK(rows[0].seqs == std::vector<std::uint64_t>{2, 3});
  CHECK(rows[0].data == "bc");
}

TEST_CASE("messages filter by direction, opcode, connection and a case-insensitive regex") {
  Store store;
  store.add(frame(1, 1, Direction::sent, 1, true, "Hello World"));
  store.add(frame(2, 1, Direction::received, 1, true, "hello again"));
  store.add(frame(3, 1, Direction::received, 9, true, ""));
  store.add(frame(4, 2, Direction::received, 1, true, "goodbye"));

  Filter sent;
  sent.direction = Filter::Direction::sent;
  CHECK(seqs_of(store.messages(sent)) == std::vector<std::uint64_t>{1});

  Filter received;
  received.direction = Filter::Direction::received;
  CHECK(seqs_of(store.messages(received)) == std::vector<std::uint64_t>{2, 3, 4});

  Filter pings;
  pings.opcode = 9;
  CHECK(seqs_of(store.messages(pings)) == std::vector<std::uint64_t>{3});

  Filter conn2;
  conn2.conn = 2;
  CHECK(seqs_of(store.messages(conn2)) == std::vector<std::uint64_t>{4});

  Filter regex;
  regex.pattern = "^HELLO";
  std::string error = "stale";
  CHECK(seqs_of(store.messages(regex, &error)) == std::vector<std::uint64_t>{1, 2});
  CHECK(error.empty());

  regex.pattern = "w.rld|BYE";
  regex.direction = Filter::Direction::sent;
  CHECK(seqs_of(store.messages(regex)) == std::vector<std::uint64_t>{1});
}

TEST_CASE("an invalid regex matches nothing and says why") {
  Store store;
  store.add(frame(1, 1, Direction::sent, 1, true, "hello"));
  Filter f;
  f.pattern = "(unclosed";
  std::string error;
  CHECK(store.messages(f, &error).empty());
  CHECK(error.find("invalid regular expression") != std::string::npos);
  CHECK(store.messages(f).empty());  // no error pointer: still no crash
}

TEST_CASE("message previews: text, hex, a cut code point, close code and reason, errors") {
  Store store;
  // "héllo" with the preview cut inside the é (0xC3 0xA9).
  auto cut = frame(1, 1, Direction::received, 1, true, "h\xC3");
  cut.payload_length = 6;
  store.add(cut);
  // Text that is not UTF-8 (a frame the server rejected with 1007).
  auto bad = frame(2, 1, Direction::received, 1, true, "\xFF\xFE");
  bad.error = trace::RuleBroken{.rule = "bad_utf8", .checklist = "FR-9", .section = "RFC 6455 §8.1",
                                .close_code = 1007};
  store.add(bad);
  auto close = frame(3, 1, Direction::sent, 8, true, "\x03\xE8" "bye");
  close.close_code = 1000;
  close.close_reason = "bye";
  store.add(close);
  auto long_binary = frame(4, 1, Direction::sent, 2, true, "\xAB\xCD");
  long_binary.payload_length = 300;
  long_binary.length_form = "16-bit";
  store.add(long_binary);

  auto rows = store.messages({});
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].data == "h…");
  CHECK(rows[0].length == 6);
  CHECK(rows[1].data == trace::hex(bytes("\xFF\xFE")));
  CHECK(rows[1].error);
  CHECK_FALSE(rows[0].error);
  CHECK(rows[2].data == "1000 bye");
  CHECK(rows[3].data == trace::hex(bytes("\xAB\xCD")) + "…");
  CHECK(rows[3].length == 300);
}
