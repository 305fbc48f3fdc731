// permessage-deflate (RFC 7692, chapter 7) in the connection: negotiated in
// the opening handshake, compressing what is sent, inflating what arrives
// before the size limit and the UTF-8 check see it.
#include "link.hpp"

#include <random>

using namespace wslab;
using namespace wslab::testing;
using Type = Event::Type;

namespace {

Options deflating(Options o, extensions::Settings settings = {}) {
  o.permessage_deflate = settings;
  return o;
}

// A frame as a client puts it on the wire (masked), any first byte.
std::string client_frame(std::uint8_t first_byte, std::string_view payload) {
  framing::FrameHeader h;
  h.fin = first_byte & 0x80;
  h.rsv1 = first_byte & 0x40;
  h.rsv2 = first_byte & 0x20;
  h.rsv3 = first_byte & 0x10;
  h.opcode = first_byte & 0x0F;
  h.mask = true;
  h.masking_key = {0x37, 0xfa, 0x21, 0x3d};
  std::string out;
  framing::append_frame(out, h, payload);
  return out;
}

// What a client with the default agreement would send for `message`.
std::string client_compressed(std::string_view message) {
  extensions::PerMessageDeflate pmd(Role::client, extensions::Agreement{}, 1 << 20);
  return pmd.compress(message);
}

std::vector<SeenFrame> frames(const Recorder& r, Direction d, std::uint8_t opcode_filter = 0xFF) {
  std::vector<SeenFrame> out;
  for (const auto& f : r.frames)
    if (f.direction == d && (opcode_filter == 0xFF || f.header.opcode == opcode_filter)) out.push_back(f);
  return out;
}

// A client connection fed a server's response by hand: returns the client's
// events after the response `extensions` header.
std::vector<Event> client_given_response(const std::string& extensions_header, Options o = deflating(client_options())) {
  Connection client(std::move(o), TimePoint{});
  REQUIRE_FALSE(client.connect(*uri::parse("ws://example.com/"), TimePoint{}));
  const std::string request(client.output());
  client.consume_output(request.size());
  auto parsed = handshake::parse_request(request);
  REQUIRE(parsed.ok());
  const std::string key = *parsed->headers.find("Sec-WebSocket-Key");
  std::string response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Accept: " + handshake::compute_accept(key) + "\r\n";
  if (!extensions_header.empty()) response += "Sec-WebSocket-Extensions: " + extensions_header + "\r\n";
  response += "\r\n";
  client.receive(response, TimePoint{});
  std::vector<Event> events;
  while (client.has_event()) events.push_back(client.next_event());
  return events;
}

}  // namespace

TEST_CASE("PMD-1 both sides with permessage-deflate agree on it in the handshake", "[connection]") {
  Link link(deflating(client_options()), deflating(server_options()));
  link.open();
  CHECK(link.client_seen.heads[0].find("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n") !=
        std::string::npos);
  CHECK(link.client_seen.heads[1].find("Sec-WebSocket-Extensions: permessage-deflate\r\n") != std::string::npos);
  CHECK(link.client.extensions() == "permessage-deflate");
  CHECK(link.server.extensions() == "permessage-deflate");
  REQUIRE(link.client.permessage_deflate());
  REQUIRE(link.server.permessage_deflate());
  CHECK(link.client.permessage_deflate()->agreement() == link.server.permessage_deflate()->agreement());
}

TEST_CASE("PMD-6 messages both ways go compressed, RSV1 set, and arrive as sent", "[connection]") {
  Link link(deflating(client_options()), deflating(server_options()));
  link.open();
  const std::string text(1000, 'a');
  link.client.send_text(text);
  link.server.send_binary(std::string("\x00\x01\x02\x03", 4));
  link.pump();
  REQUIRE(types(link.server_events) == std::vector{Type::text});
  CHECK(link.server_events[0].data == text);
  REQUIRE(link.server_events[0].compressed_size);
  CHECK(*link.server_events[0].compressed_size < 20);  // 1000 'a's deflate to a handful of bytes
  REQUIRE(types(link.client_events) == std::vector{Type::binary});
  CHECK(link.client_events[0].data == std::string("\x00\x01\x02\x03", 4));

  // On the wire, as each observer saw it.
  const auto sent = frames(link.client_seen, Direction::sent, 0x1);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].header.rsv1);
  CHECK(sent[0].header.mask);
  CHECK(sent[0].compressed);
  CHECK(sent[0].header.payload_length == *link.server_events[0].compressed_size);
  CHECK(sent[0].uncompressed_size == 1000u);
  CHECK(sent[0].uncompressed_preview == text.substr(0, 64));
  const auto received = frames(link.server_seen, Direction::received, 0x1);
  REQUIRE(received.size() == 1);
  CHECK(received[0].header.rsv1);
  CHECK(received[0].compressed);
  CHECK(received[0].preview.size() == received[0].header.payload_length);  // the compressed bytes
  CHECK(received[0].uncompressed_size == 1000u);
  CHECK(received[0].uncompressed_preview == text.substr(0, 64));
}

TEST_CASE("PMD-10 context takeover across messages on a connection, and without it", "[connection]") {
  const std::string message = "{\"type\":\"chat\",\"text\":\"the same message, again and again\"}";
  SECTION("takeover: the second copy is smaller on the wire") {
    Link link(deflating(client_options()), deflating(server_options()));
    link.open();
    link.client.send_text(message);
    link.client.send_text(message);
    link.pump();
    REQUIRE(link.server_events.size() == 2);
    CHECK(link.server_events[1].data == message);
    CHECK(*link.server_events[1].compressed_size < *link.server_events[0].compressed_size / 3);
  }
  SECTION("the client asks for client_no_context_takeover: the same size each time") {
    Link link(deflating(client_options(), {.client_no_context_takeover = true}), deflating(server_options()));
    link.open();
    CHECK(link.client.extensions() == "permessage-deflate; client_no_context_takeover");
    link.client.send_text(message);
    link.client.send_text(message);
    link.server.send_text(message);
    link.server.send_text(message);
    link.pump();
    REQUIRE(link.server_events.size() == 2);
    CHECK(*link.server_events[1].compressed_size == *link.server_events[0].compressed_size);
    REQUIRE(link.client_events.size() == 2);  // the server's direction still takes over
    CHECK(*link.client_events[1].compressed_size < *link.client_events[0].compressed_size / 3);
  }
}

TEST_CASE("PMD-5 a fragmented message goes compressed with RSV1 on its first frame only", "[connection]") {
  Link link(deflating(client_options()), deflating(server_options()));
  link.open();
  const std::vector<std::string_view> parts = {"Hello, ", "", "compressed ", "world"};
  link.client.send_fragments(framing::Opcode::text, parts);
  link.pump();
  REQUIRE(types(link.server_events) == std::vector{Type::text});
  CHECK(link.server_events[0].data == "Hello, compressed world");
  const auto wire = frames(link.client_seen, Direction::sent);
  REQUIRE(wire.size() == 4);
  CHECK(wire[0].header.rsv1);
  CHECK(wire[0].header.opcode == 0x1);
  for (std::size_t i = 1; i < 4; ++i) {
    CHECK_FALSE(wire[i].header.rsv1);
    CHECK(wire[i].header.opcode == 0x0);
    CHECK(wire[i].compressed);
  }
  CHECK_FALSE(wire[0].uncompressed_size);
  CHECK(wire[3].uncompressed_size == 23u);
  CHECK(wire[3].uncompressed_preview == "Hello, compressed world");
}

TEST_CASE("PMD-11 control frames are never compressed", "[connection]") {
  Link link(deflating(client_options()), deflating(server_options()));
  link.open();
  link.client.send_ping("are you there");
  link.pump();
  link.client.close(1000, "bye");
  link.pump();
  for (const auto* r : {&link.client_seen, &link.server_seen})
    for (const auto& f : r->frames)
      if (framing::is_control(f.header.opcode)) {
        CHECK_FALSE(f.header.rsv1);
        CHECK_FALSE(f.compressed);
      }
  CHECK(frames(link.server_seen, Direction::sent, 0xA).at(0).preview == "are you there");
}

TEST_CASE("EX-1 permessage-deflate is used only when both sides have it on", "[connection]") {
  SECTION("the client does not offer it") {
    Link link(client_options(), deflating(server_options()));
    link.open();
    CHECK(link.client_seen.heads[0].find("Sec-WebSocket-Extensions") == std::string::npos);
    CHECK(link.client_seen.heads[1].find("Sec-WebSocket-Extensions") == std::string::npos);
    CHECK_FALSE(link.server.permessage_deflate());
  }
  SECTION("the server does not accept it") {
    Link link(deflating(client_options()), server_options());
    link.open();
    CHECK(link.client_seen.heads[0].find("permessage-deflate") != std::string::npos);
    CHECK(link.client_seen.heads[1].find("Sec-WebSocket-Extensions") == std::string::npos);
    CHECK_FALSE(link.client.permessage_deflate());
    CHECK(link.client.extensions().empty());
  }
  // Either way, messages go as they are: no RSV1 on the wire.
  Link link(client_options(), deflating(server_options()));
  link.open();
  link.client.send_text("plain");
  link.server.send_text("plain too");
  link.pump();
  CHECK(link.server_events.at(0).data == "plain");
  CHECK_FALSE(link.server_events.at(0).compressed_size);
  for (const auto* r : {&link.client_seen, &link.server_seen})
    for (const auto& f : r->frames) CHECK_FALSE(f.header.rsv1);
}

TEST_CASE("PMD-5 RSV1 on a control frame or a continuation frame fails with 1002", "[connection]") {
  Link link(deflating(client_options()), deflating(server_options()));
  link.open();
  SECTION("a ping with RSV1") {
    link.server.receive(client_frame(0xC9, ""), link.now);
    Link::drain(link.server, link.server_events);
    REQUIRE(types(link.server_events) == std::vector{Type::error});
    CHECK(link.server_events[0].violation->id() == error::compressed_control_frame);
  }
  SECTION("a continuation with RSV1") {
    const std::string payload = client_compressed("Hello");
    link.server.receive(client_frame(0x41, payload.substr(0, 2)) + client_frame(0xC0, payload.substr(2)), link.now);
    Link::drain(link.server, link.server_events);
    REQUIRE(types(link.server_events) == std::vector{Type::error});
    CHECK(link.server_events[0].violation->id() == error::compressed_continuation);
  }
  CHECK(close_code_in(link.server.output()) == 1002);
  CHECK(link.server.close_transport());
  // RSV2 and RSV3 stay forbidden: permessage-deflate gave meaning to RSV1 only.
  Link other(deflating(client_options()), deflating(server_options()));
  other.open();
  other.server.receive(client_frame(0xA1, "x"), other.now);
  Link::drain(other.server, other.server_events);
  REQUIRE(types(other.server_events) == std::vector{Type::error});
  CHECK(other.server_events[0].violation->id() == error::bad_reserved_bits);
}

TEST_CASE("U8-2 a compressed text message is checked for UTF-8 after inflating: 1007", "[connection]") {
  Link link(deflating(client_options()), deflating(server_options()));
  link.open();
  link.server.receive(client_frame(0xC1, client_compressed("ok \xc0\xaf")), link.now);
  Link::drain(link.server, link.server_events);
  REQUIRE(types(link.server_events) == std::vector{Type::error});
  CHECK(link.server_events[0].violation->id() == error::bad_utf8);
  CHECK(close_code_in(link.server.output()) == 1007);
}

TEST_CASE("PMD-13 a compressed payload that does not inflate fails with 1007", "[connection]") {
  Link link(deflating(client_options()), deflating(server_options()));
  link.open();
  link.server.receive(client_frame(0xC2, std::string("\xff\xff\xff", 3)), link.now);
  Link::drain(link.server, link.server_events);
  REQUIRE(types(link.server_events) == std::vector{Type::error});
  CHECK(link.server_events[0].violation->id() == error::bad_compressed_data);
  CHECK(close_code_in(link.server.output()) == 1007);
}

TEST_CASE("PMD-7 a compressed message that inflates past max_message_size fails with 1009", "[connection]") {
  auto s = deflating(server_options());
  s.max_message_size = 64 * 1024;
  Link link(deflating(client_options()), s);
  link.open();
  // 16 MiB of zeros, about 16 KiB compressed: within every limit on the wire.
  const std::string bomb = client_compressed(std::string(16u << 20, '\0'));
  REQUIRE(bomb.size() < s.max_message_size);
  link.server.receive(client_frame(0xC2, bomb), link.now);
  Link::drain(link.server, link.server_events);
  REQUIRE(types(link.server_events) == std::vector{Type::error});
  CHECK(link.server_events[0].violation->id() == error::inflated_too_big);
  CHECK(close_code_in(link.server.output()) == 1009);
  // The inflater stopped at the limit: its own memory stayed small.
  REQUIRE(link.server.permessage_deflate());
  CHECK(link.server.permessage_deflate()->inflater().message_size() <= s.max_message_size);
  CHECK(link.server.permessage_deflate()->inflater().peak_memory() < 64 * 1024);
}

TEST_CASE("PMD-2 a client fails the connection on a permessage-deflate response it cannot accept", "[connection]") {
  struct Row {
    std::string response;
    error expected;
  };
  const Row row = GENERATE(values<Row>({
      {"permessage-deflate; server_max_window_bits=16", error::bad_deflate_parameter},
      {"permessage-deflate; client_max_window_bits", error::bad_deflate_parameter},
      {"permessage-deflate; x=1", error::bad_deflate_parameter},
      {"permessage-deflate; server_no_context_takeover; server_no_context_takeover", error::bad_deflate_parameter},
      {"permessage-deflate, permessage-deflate", error::rsv1_conflict},
  }));
  INFO(row.response);
  const auto events = client_given_response(row.response);
  REQUIRE(types(events) == std::vector{Type::error, Type::close});
  CHECK(events[0].violation->id() == row.expected);
  CHECK(events[1].code == 1006);
}

TEST_CASE("PMD-3 a client fails on a response inconsistent with its offer, accepts a consistent one",
          "[connection]") {
  auto o = deflating(client_options(), {.server_no_context_takeover = true, .server_max_window_bits = 10});
  auto events = client_given_response("permessage-deflate; server_max_window_bits=10", o);
  REQUIRE(types(events) == std::vector{Type::error, Type::close});
  CHECK(events[0].violation->id() == error::deflate_response_mismatch);
  events = client_given_response("permessage-deflate; server_no_context_takeover; server_max_window_bits=9", o);
  CHECK(types(events) == std::vector{Type::open});
  // Without an offer, a response naming permessage-deflate is the handshake
  // chapter's error: an extension the client never offered (HSC-10).
  events = client_given_response("permessage-deflate", client_options());
  REQUIRE(types(events) == std::vector{Type::error, Type::close});
  CHECK(events[0].violation->id() == error::unrequested_extension);
}

TEST_CASE("PMD-8 the server declines an invalid offer and takes the next one", "[connection]") {
  Connection server(deflating(server_options()), TimePoint{});
  server.receive("GET / HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                 "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=7, "
                 "permessage-deflate; client_no_context_takeover\r\n\r\n",
                 TimePoint{});
  REQUIRE(server.has_event());
  REQUIRE(server.next_event().type == Type::request);
  server.accept({}, TimePoint{});
  CHECK(std::string(server.output()).find("Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n") !=
        std::string::npos);
  REQUIRE(server.permessage_deflate());
  CHECK(server.permessage_deflate()->agreement().client_no_context_takeover);
  // The application may not answer permessage-deflate itself as well.
  Connection other(deflating(server_options()), TimePoint{});
  other.receive("GET / HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                TimePoint{});
  REQUIRE(other.next_event().type == Type::request);
  CHECK_THROWS_AS(other.accept(handshake::AcceptOptions{.extensions = {{"permessage-deflate", {}}}}, TimePoint{}),
                  std::invalid_argument);
}

TEST_CASE("PMD-6 a compressed session delivered one byte at a time gives the same messages", "[connection]") {
  std::mt19937 rng(5);
  std::vector<std::string> messages;
  for (int i = 0; i < 20; ++i) {
    std::string m;
    const std::size_t n = rng() % 3000;
    for (std::size_t k = 0; k < n; ++k) m += static_cast<char>('a' + rng() % 4);
    messages.push_back(m);
  }
  Link link(deflating(client_options()), deflating(server_options()));
  link.chunk = 1;
  link.open();
  for (const auto& m : messages) link.client.send_text(m);
  link.pump();
  REQUIRE(link.server_events.size() == messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i) {
    CHECK(link.server_events[i].data == messages[i]);
    CHECK(link.server_events[i].compressed_size);
  }
}
