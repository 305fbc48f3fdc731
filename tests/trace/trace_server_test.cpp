// The live trace: a real server on 127.0.0.1, a viewer on /trace/ws and
// scripted clients. The viewer sees every handshake, frame and transition in
// order; a late viewer learns what is already open; an untraced server does
// no tracing work; a slow viewer misses events (counted) and never holds up
// the traced connections.
#include "net/server_test_helpers.hpp"

#include <wslab/trace.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

using namespace wslab;
using namespace wslab::testing;
using connection::Direction;
using connection::ReadyState;

namespace {

// A /trace/ws viewer: a blocking client whose messages are trace events.
class Viewer {
 public:
  explicit Viewer(std::uint16_t port) : ws_(port, WsClientOptions{.path = "/trace/ws"}) {}
  bool open() { return ws_.open(); }

  // The next event, or nullopt after `timeout`. Every message must parse.
  std::optional<trace::Event> next(Duration timeout = 5s) {
    auto m = ws_.next_message(timeout);
    if (!m) return std::nullopt;
    auto e = trace::from_json(m->data);
    if (auto* err = std::get_if<trace::ParseError>(&e)) throw std::runtime_error(err->message + ": " + m->data);
    return std::get<trace::Event>(e);
  }

  // Events of connection `conn` until its "close" event (inclusive).
  std::vector<trace::Event> until_closed(std::uint64_t conn, Duration timeout = 5s) {
    std::vector<trace::Event> out;
    while (auto e = next(timeout)) {
      const auto* c = std::get_if<trace::ConnectionClose>(&*e);
      if (conn_of(*e) == conn) out.push_back(*e);
      if (c && c->conn == conn) break;
    }
    return out;
  }

  static std::uint64_t conn_of(const trace::Event& e) {
    return std::visit(
        [](const auto& x) -> std::uint64_t {
          if constexpr (requires { x.conn; }) return x.conn;
          else return 0;
        },
        e);
  }

  WsClient& ws() { return ws_; }

 private:
  WsClient ws_;
};

// "frame received text fin=1 'hello'" etc.: a readable script of events.
std::string describe(const trace::Event& e) {
  std::ostringstream out;
  out << trace::type_name(e);
  if (const auto* h = std::get_if<trace::Handshake>(&e)) out << " " << connection::to_string(h->direction) << " " << h->start_line;
  if (const auto* f = std::get_if<trace::Frame>(&e)) {
    out << " " << connection::to_string(f->direction) << " " << framing::opcode_name(f->opcode) << " fin=" << f->fin
        << " mask=" << f->mask << " '" << std::string(f->preview.begin(), f->preview.end()) << "'";
    if (f->error) out << " error " << f->error->checklist << " " << f->error->close_code;
  }
  if (const auto* t = std::get_if<trace::Transition>(&e))
    out << " " << connection::to_string(t->from) << "->" << connection::to_string(t->to);
  if (const auto* c = std::get_if<trace::ConnectionClose>(&e)) {
    out << " " << c->code << (c->was_clean ? " clean" : "");
    if (c->sent_code && *c->sent_code != c->code) out << " sent " << *c->sent_code;
  }
  return out.str();
}

std::vector<std::string> describe_all(const std::vector<trace::Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(describe(e));
  return out;
}

std::uint64_t open_conn(Viewer& viewer) {
  while (auto e = viewer.next()) {
    if (const auto* o = std::get_if<trace::ConnectionOpen>(&*e)) return o->conn;
  }
  return 0;
}

}  // namespace

TEST_CASE("a /trace/ws viewer sees a scripted client's handshake, frames and transitions in order", "[trace][net]") {
  RunningServer s;
  Viewer viewer(s.port());
  REQUIRE(viewer.open());
  auto hello = viewer.next();
  REQUIRE(hello);
  REQUIRE(std::holds_alternative<trace::Hello>(*hello));
  CHECK(std::get<trace::Hello>(*hello).version == trace::kFormatVersion);

  WsClient c(s.port());
  REQUIRE(c.open());
  REQUIRE(c.send_text("hello"));
  REQUIRE(c.next_message());
  REQUIRE(c.send_fragments(framing::Opcode::text, {"Hel", "lo"}));
  REQUIRE(c.next_message());
  REQUIRE(c.ping("p"));
  REQUIRE(c.close(1000, "bye"));
  REQUIRE(c.wait_close());

  const auto conn = open_conn(viewer);
  REQUIRE(conn != 0);
  const auto events = viewer.until_closed(conn);
  CHECK(describe_all(events) == std::vector<std::string>{
                                    "handshake received GET /ws HTTP/1.1",
                                    "handshake sent HTTP/1.1 101 Switching Protocols",
                                    "transition CONNECTING->OPEN",
                                    "frame received text fin=1 mask=1 'hello'",
                                    "frame sent text fin=1 mask=0 'hello'",
                                    "frame received text fin=0 mask=1 'Hel'",
                                    "frame received continuation fin=1 mask=1 'lo'",
                                    "frame sent text fin=1 mask=0 'Hello'",
                                    "frame received ping fin=1 mask=1 'p'",
                                    "frame sent pong fin=1 mask=0 'p'",
                                    "frame received close fin=1 mask=1 '\x03\xe8" "bye'",
                                    "frame sent close fin=1 mask=0 '\x03\xe8'",  // the code echoed (§5.5.1)
                                    "transition OPEN->CLOSING",
                                    "transition CLOSING->CLOSED",
                                    "close 1000 clean",
                                });
  // The accept steps travel with the request; the close code is read out.
  const auto& request = std::get<trace::Handshake>(events.at(0));
  REQUIRE(request.accept);
  const auto& response = std::get<trace::Handshake>(events.at(1));
  bool accept_matches = false;
  for (const auto& [name, value] : response.headers)
    if (name == "Sec-WebSocket-Accept") accept_matches = value == request.accept->accept;
  CHECK(accept_matches);
  const auto& close_frame = std::get<trace::Frame>(events.at(10));
  CHECK(close_frame.close_code == 1000);
  CHECK(close_frame.close_reason == "bye");
  // Sequence numbers count up across the trace.
  std::uint64_t last = 0;
  for (const auto& e : events)
    if (const auto* f = std::get_if<trace::Frame>(&e)) {
      CHECK(f->seq > last);
      last = f->seq;
    }
}

TEST_CASE("a rejected frame and a rejected handshake are traced with the rule they broke", "[trace][net]") {
  RunningServer s;
  Viewer viewer(s.port());
  REQUIRE(viewer.open());

  // An unmasked client frame (§5.1): the server fails the connection, 1002.
  RawClient raw(s.port());
  REQUIRE(raw_upgrade(raw, "/ws"));
  REQUIRE(raw.send(client_frame(0x1, "oops", true, /*mask=*/false)));
  raw.read_until_eof(5s);
  auto conn = open_conn(viewer);
  auto events = viewer.until_closed(conn);
  const auto described = describe_all(events);
  INFO(Catch::Detail::stringify(described));
  REQUIRE(described.size() >= 6);
  CHECK(described[3] == "frame received text fin=1 mask=0 '' error MK-2 1002");
  const auto& bad = std::get<trace::Frame>(events[3]);
  CHECK(bad.error->rule == "unmasked_client_frame");
  CHECK_THAT(bad.error->section, Catch::Contains("§5.1"));
  const auto& answer = std::get<trace::Frame>(events[4]);
  CHECK(answer.direction == Direction::sent);
  CHECK(answer.close_code == 1002);
  // §7.1.5 (CL-17): the server failed, so it processed no Close: 1006; the
  // close event keeps the code it sent.
  CHECK(described.back() == "close 1006 sent 1002");
  CHECK(std::get<trace::ConnectionClose>(events.back()).sent_code == std::optional<std::uint16_t>(1002));

  // No "Upgrade: websocket" at a WebSocket resource: 426 at the front door.
  auto http = http_exchange(s.port(), http_get("/ws"));
  CHECK(http.status == 426);
  conn = open_conn(viewer);
  events = viewer.until_closed(conn);
  REQUIRE(events.size() == 4);
  CHECK(std::get<trace::Handshake>(events[1]).start_line == "HTTP/1.1 426 Upgrade Required");
  CHECK_THAT(std::get<trace::Transition>(events[2]).cause, Catch::StartsWith("handshake rejected: 426 "));
  CHECK(std::get<trace::Transition>(events[2]).to == ReadyState::CLOSED);
}

TEST_CASE("a viewer that arrives late is told which connections are already open", "[trace][net]") {
  RunningServer s;
  WsClient c(s.port());
  REQUIRE(c.open());
  Viewer viewer(s.port());
  REQUIRE(viewer.open());
  REQUIRE(std::holds_alternative<trace::Hello>(*viewer.next()));
  auto open = viewer.next();
  REQUIRE(open);
  REQUIRE(std::holds_alternative<trace::ConnectionOpen>(*open));
  CHECK(std::get<trace::ConnectionOpen>(*open).resource == "/ws");
  auto state = viewer.next();
  REQUIRE(state);
  REQUIRE(std::holds_alternative<trace::Transition>(*state));
  CHECK(std::get<trace::Transition>(*state).to == ReadyState::OPEN);
  CHECK_THAT(std::get<trace::Transition>(*state).cause, Catch::Contains("already OPEN"));
  // From then on its frames arrive.
  REQUIRE(c.send_text("late"));
  REQUIRE(c.next_message());
  auto frame = viewer.next();
  REQUIRE(frame);
  CHECK(describe(*frame) == "frame received text fin=1 mask=1 'late'");
}

TEST_CASE("an untraced server does no tracing work, and stops when the last viewer leaves", "[trace][net]") {
  RunningServer s;
  WsClient c(s.port());
  REQUIRE(c.open());
  for (int i = 0; i < 10; ++i) {
    REQUIRE(c.send_text("untraced"));
    REQUIRE(c.next_message());
  }
  CHECK(s.stats().trace_events == 0);
  {
    Viewer viewer(s.port());
    REQUIRE(viewer.open());
    REQUIRE(c.send_text("traced"));
    REQUIRE(c.next_message());
    CHECK(eventually([&] { return s.stats().trace_events >= 4; }));  // open, transition, 2 frames
    viewer.ws().close();
    REQUIRE(viewer.ws().wait_close());
  }
  // Once the viewer's session is gone, nothing is traced any more.
  std::uint64_t before = 0;
  REQUIRE(eventually([&] {
    before = s.stats().trace_events;
    REQUIRE(c.send_text("x"));
    REQUIRE(c.next_message());
    return s.stats().trace_events == before;
  }));
}

TEST_CASE("a viewer that does not read misses events, counted, and never holds up the traced connections",
          "[trace][net]") {
  auto options = test_options();
  options.trace_viewer_buffer = 64 * 1024;
  RunningServer s(options);
  // The viewer: upgraded, with a small receive window, and not reading.
  RawClient viewer(s.port(), nullptr, "localhost", 4096);
  std::string rest;
  REQUIRE(raw_upgrade(viewer, "/trace/ws", &rest));

  WsClient c(s.port());
  REQUIRE(c.open());
  const std::string text = text_pattern(200, 1);
  for (int i = 0; i < 8000; ++i) {
    REQUIRE(c.send_text(text));
    auto e = c.next_message(5s);
    REQUIRE(e);  // the echo comes whatever the viewer does
  }
  const auto dropped = s.stats().trace_dropped;
  CHECK(dropped > 0);
  CHECK(s.stats().max_buffered_output < (4u << 20) + (1u << 20));

  // The viewer catches up; the next event it gets is preceded by "dropped".
  std::string bytes = rest;
  while (viewer.receive(bytes, 200ms) == RawClient::Status::data) {
  }
  REQUIRE(c.send_text("after"));
  REQUIRE(c.next_message());
  bool told = false;
  for (int i = 0; i < 50 && !told; ++i) {
    viewer.receive(bytes, 100ms);
    for (const auto& f : parse_server_frames(bytes)) {
      auto e = trace::from_json(f.payload);
      REQUIRE(std::holds_alternative<trace::Event>(e));
      if (const auto* d = std::get_if<trace::Dropped>(&std::get<trace::Event>(e))) {
        CHECK(d->total == dropped);
        told = true;
      }
    }
  }
  CHECK(told);
}

TEST_CASE("a compressing client's frames are traced compressed, with the sizes and the text inflated", "[trace][net]") {
  // RFC 7692: the server agrees permessage-deflate (on by default) with a
  // client that offers it; each data frame's event carries the compressed
  // bytes as on the wire, `compressed`, and on a message's last frame the
  // message inflated (§6, §7.2.1). Control frames are never compressed (§6.1).
  RunningServer s;
  Viewer viewer(s.port());
  REQUIRE(viewer.open());

  WsClient c(s.port(), WsClientOptions{.permessage_deflate = extensions::Settings{}});
  REQUIRE(c.open());
  REQUIRE(c.conn().extensions() == "permessage-deflate");
  std::string log;  // 3 100 characters of repetitive text: far more than the 64-byte preview
  for (int i = 0; log.size() < 3100; ++i) log += "{\"user\":\"ada\",\"text\":\"message " + std::to_string(i) + "\"},";
  log.resize(3100);
  const std::vector<std::string> sent = {"Hello", "Hello", "Hello", log};
  REQUIRE(c.send_text(sent[0]));
  REQUIRE(c.next_message());
  REQUIRE(c.send_text(sent[1]));  // context takeover: shorter the second time (§7.2.3.2)
  REQUIRE(c.next_message());
  REQUIRE(c.send_fragments(framing::Opcode::text, {"Hel", "lo"}));  // one deflate stream, RSV1 on the first (§6.1)
  REQUIRE(c.next_message());
  REQUIRE(c.send_text(sent[3]));
  auto echo = c.next_message();
  REQUIRE(echo);
  CHECK(echo->data == log);
  REQUIRE(c.ping("p"));
  REQUIRE(c.close(1000, "bye"));
  REQUIRE(c.wait_close());

  const auto conn = open_conn(viewer);
  REQUIRE(conn != 0);
  const auto events = viewer.until_closed(conn);
  // The 101 agreed it; the open event was written before the handshake, so
  // it names no extensions (the 101 does).
  const auto& response = std::get<trace::Handshake>(events.at(1));
  bool agreed = false;
  for (const auto& [name, value] : response.headers)
    if (name == "Sec-WebSocket-Extensions") agreed = value == "permessage-deflate";
  CHECK(agreed);

  std::vector<trace::Frame> frames;
  for (const auto& e : events)
    if (const auto* f = std::get_if<trace::Frame>(&e)) frames.push_back(*f);
  INFO(Catch::Detail::stringify(describe_all(events)));
  REQUIRE(frames.size() == 13);  // 4 messages (one in 2 fragments) and their echoes, ping, pong, 2 closes
  auto text_of = [](const trace::Bytes& b) { return std::string(b.begin(), b.end()); };
  const trace::Bytes hello7{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};  // RFC 7692 §7.2.3.1
  const trace::Bytes hello5{0xf2, 0x00, 0x11, 0x00, 0x00};              // §7.2.3.2, with the context
  // Frames 0-1: the first "Hello" and its echo, each 7 compressed bytes.
  for (int i : {0, 1}) {
    const auto& f = frames[static_cast<std::size_t>(i)];
    INFO("frame " << i);
    CHECK(f.direction == (i == 0 ? Direction::received : Direction::sent));
    CHECK(f.rsv1);
    CHECK(f.compressed);
    CHECK(f.payload_length == 7);
    CHECK(f.preview == hello7);
    CHECK(f.uncompressed_size == std::optional<std::uint64_t>(5));
    CHECK(text_of(f.uncompressed_preview) == "Hello");
  }
  // Frames 2-3: the second "Hello" both ways, 5 bytes thanks to the window.
  for (int i : {2, 3}) {
    const auto& f = frames[static_cast<std::size_t>(i)];
    INFO("frame " << i);
    CHECK(f.compressed);
    CHECK(f.preview == hello5);
    CHECK(f.uncompressed_size == std::optional<std::uint64_t>(5));
    CHECK(text_of(f.uncompressed_preview) == "Hello");
  }
  // Frames 4-5: the fragments. Both compressed, RSV1 on the first only; the
  // message inflated on the last.
  CHECK(frames[4].opcode == 0x1);
  CHECK_FALSE(frames[4].fin);
  CHECK(frames[4].rsv1);
  CHECK(frames[4].compressed);
  CHECK_FALSE(frames[4].uncompressed_size);
  CHECK(frames[5].opcode == 0x0);
  CHECK(frames[5].fin);
  CHECK_FALSE(frames[5].rsv1);
  CHECK(frames[5].compressed);
  CHECK(frames[5].uncompressed_size == std::optional<std::uint64_t>(5));
  CHECK(text_of(frames[5].uncompressed_preview) == "Hello");
  CHECK(frames[6].direction == Direction::sent);  // the echo: one frame
  CHECK(frames[6].rsv1);
  CHECK(text_of(frames[6].uncompressed_preview) == "Hello");
  // Frames 7-8: 3 100 characters in far fewer bytes; the previews are the
  // first 64 bytes, compressed and inflated.
  for (int i : {7, 8}) {
    const auto& f = frames[static_cast<std::size_t>(i)];
    INFO("frame " << i);
    CHECK(f.compressed);
    CHECK(f.payload_length < 3100 / 4);
    CHECK(f.preview.size() == std::min<std::uint64_t>(64, f.payload_length));
    CHECK(f.uncompressed_size == std::optional<std::uint64_t>(3100));
    CHECK(text_of(f.uncompressed_preview) == log.substr(0, 64));
  }
  // Ping, pong and the closes are not compressed.
  for (std::size_t i = 9; i < frames.size(); ++i) {
    INFO("frame " << i << " " << framing::opcode_name(frames[i].opcode));
    CHECK(framing::is_control(frames[i].opcode));
    CHECK_FALSE(frames[i].rsv1);
    CHECK_FALSE(frames[i].compressed);
    CHECK_FALSE(frames[i].uncompressed_size);
  }
}

TEST_CASE("a viewer that arrives late is told which extensions an open connection agreed", "[trace][net]") {
  // RFC 6455 §9.1: the extensions in use were agreed in a 101 this viewer
  // never saw; the open event it gets says them (docs/trace-format.md).
  RunningServer s;
  WsClient deflating(s.port(), WsClientOptions{.permessage_deflate = extensions::Settings{}});
  REQUIRE(deflating.open());
  WsClient plain(s.port());
  REQUIRE(plain.open());
  Viewer viewer(s.port());
  REQUIRE(viewer.open());
  REQUIRE(std::holds_alternative<trace::Hello>(*viewer.next()));
  std::vector<std::string> extensions;
  for (int i = 0; i < 4; ++i) {  // open, transition, for each connection
    auto e = viewer.next();
    REQUIRE(e);
    if (const auto* o = std::get_if<trace::ConnectionOpen>(&*e)) extensions.push_back(o->extensions);
  }
  std::sort(extensions.begin(), extensions.end());
  CHECK(extensions == std::vector<std::string>{"", "permessage-deflate"});
}
