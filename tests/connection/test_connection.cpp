// The connection layer: the chapters composed into one state machine.
#include "link.hpp"

using namespace wslab;
using namespace wslab::testing;
using Type = Event::Type;

namespace {

// A frame as a client would put it on the wire (masked), built by hand.
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

std::string server_frame(std::uint8_t first_byte, std::string_view payload) {
  framing::FrameHeader h;
  h.fin = first_byte & 0x80;
  h.opcode = first_byte & 0x0F;
  std::string out;
  framing::append_frame(out, h, payload);
  return out;
}

}  // namespace

TEST_CASE("API-1 an opening handshake takes both sides from CONNECTING to OPEN", "[connection]") {
  Link link;
  CHECK(link.client.ready_state() == ReadyState::CONNECTING);
  CHECK(link.server.ready_state() == ReadyState::CONNECTING);
  REQUIRE_FALSE(link.client.connect(*uri::parse("ws://example.com/chat?room=1"), link.now));
  link.pump();
  REQUIRE(types(link.server_events) == std::vector{Type::request});
  CHECK(link.server_events[0].request->resource_name == "/chat?room=1");
  CHECK(link.server_events[0].request->host == "example.com");
  CHECK(link.server.ready_state() == ReadyState::CONNECTING);  // waits for accept()
  link.server.accept({}, link.now);
  link.pump();
  CHECK(types(link.client_events) == std::vector{Type::open});
  CHECK(types(link.server_events) == std::vector{Type::request, Type::open});
  CHECK(static_cast<int>(link.client.ready_state()) == 1);
  // The observer saw both heads: request then response.
  REQUIRE(link.client_seen.heads.size() == 2);
  CHECK(link.client_seen.heads[0].rfind("GET /chat?room=1 HTTP/1.1\r\n", 0) == 0);
  CHECK(link.client_seen.heads[1].rfind("HTTP/1.1 101", 0) == 0);
}

TEST_CASE("HSS-4 the server picks a subprotocol the client offered and both report it", "[connection]") {
  auto c = client_options();
  c.client.subprotocols = {"chat.v2", "chat"};
  Link link(c);
  link.open("chat");
  CHECK(link.client.protocol() == "chat");
  CHECK(link.server.protocol() == "chat");
}

TEST_CASE("HSS-4 accepting a subprotocol the client never offered is refused", "[connection]") {
  Link link;
  REQUIRE_FALSE(link.client.connect(*uri::parse("ws://example.com/"), link.now));
  link.pump();
  CHECK_THROWS_AS(link.server.accept(handshake::AcceptOptions{.subprotocol = "mqtt"}, link.now),
                  std::invalid_argument);
}

TEST_CASE("EX-3 accepting an extension the client never offered is refused, an offered one is listed",
          "[connection]") {
  // RFC 6455 §4.2.2 /extensions/, §9.1: the server's Sec-WebSocket-Extensions
  // may list only extensions the client requested.
  auto c = client_options();
  c.client.extensions = {handshake::Extension{.name = "x-wslab-test", .params = {}}};
  Link link(c);
  REQUIRE_FALSE(link.client.connect(*uri::parse("ws://example.com/"), link.now));
  link.pump();
  CHECK_THROWS_WITH(link.server.accept(handshake::AcceptOptions{.extensions = {{.name = "x-other", .params = {}}}}, link.now),
                    Catch::Contains("\"x-other\" was not offered"));
  CHECK(link.server.ready_state() == ReadyState::CONNECTING);  // nothing was sent: the application may try again
  CHECK(link.server.output().empty());
  link.server.accept(handshake::AcceptOptions{.extensions = {{.name = "x-wslab-test", .params = {}}}}, link.now);
  CHECK(link.server.extensions() == "x-wslab-test");
  CHECK_THAT(std::string(link.server.output()), Catch::Contains("\r\nSec-WebSocket-Extensions: x-wslab-test\r\n"));
}

TEST_CASE("MK-1 a client masks every frame and a server masks none", "[connection]") {
  Link link;
  link.open();
  link.client.send_text("Hello");
  const std::string from_client(link.client.output());
  link.pump();
  link.server.send_text("Hello");
  const std::string from_server(link.server.output());
  link.pump();
  REQUIRE(from_client.size() == 2 + 4 + 5);
  CHECK((static_cast<unsigned char>(from_client[1]) & 0x80) != 0);
  CHECK(from_client.substr(6) != "Hello");  // masked on the wire
  CHECK(from_server == std::string("\x81\x05Hello", 7));  // RFC 6455 §5.7, unmasked "Hello"
  REQUIRE(types(link.server_events) == std::vector{Type::text});
  CHECK(link.server_events[0].data == "Hello");
  CHECK(link.client_events.at(0).data == "Hello");
}

TEST_CASE("MK-4 each client frame gets a fresh masking key", "[connection]") {
  Link link;
  link.open();
  for (int i = 0; i < 8; ++i) link.client.send_binary(std::string_view("same"));
  std::set<std::string> keys;
  for (const auto& f : link.client_seen.frames)
    keys.insert(std::string(f.header.masking_key.begin(), f.header.masking_key.end()));
  CHECK(keys.size() >= 7);  // eight random 32-bit keys; a repeat is a 1-in-10^8 event
}

TEST_CASE("FR-6 a message sent in fragments arrives whole, with a ping between the fragments", "[connection]") {
  Link link;
  link.open();
  const std::string_view parts[] = {"Hel", "", "lo"};
  REQUIRE(link.client.send_fragments(framing::Opcode::text, parts));
  // A ping in the middle of a fragmented message (§5.4) by hand:
  std::string bytes(link.client.output());
  link.client.consume_output(bytes.size());
  const std::string first = client_frame(0x01, "Hel"), ping = client_frame(0x89, "tick");
  link.server.receive(first + ping + client_frame(0x80, "lo"), link.now);
  link.pump();
  REQUIRE(types(link.server_events) == std::vector{Type::ping, Type::text});
  CHECK(link.server_events[0].data == "tick");
  CHECK(link.server_events[1].data == "Hello");
  // The pong went back with the identical payload (HB-1).
  REQUIRE(types(link.client_events) == std::vector{Type::pong});
  CHECK(link.client_events[0].data == "tick");
}

TEST_CASE("FR-7 send_fragments puts the opcode on the first frame and FIN on the last", "[connection]") {
  Link link;
  link.open();
  const std::string_view parts[] = {"ab", "cd", "ef"};
  REQUIRE(link.client.send_fragments(framing::Opcode::binary, parts));
  const auto& f = link.client_seen.frames;
  REQUIRE(f.size() == 3);
  CHECK((f[0].header.opcode == 0x2 && !f[0].header.fin));
  CHECK((f[1].header.opcode == 0x0 && !f[1].header.fin));
  CHECK((f[2].header.opcode == 0x0 && f[2].header.fin));
  link.pump();
  REQUIRE(types(link.server_events) == std::vector{Type::binary});
  CHECK(link.server_events[0].data == "abcdef");
}

TEST_CASE("HB-1 a ping is answered with a pong carrying the same payload, and the RTT is measured", "[connection]") {
  Link link;
  link.open();
  REQUIRE(link.server.send_ping("are you there?"));
  std::string ping(link.server.output());
  link.server.consume_output(ping.size());
  link.now += 25ms;
  link.client.receive(ping, link.now);
  link.pump();
  REQUIRE(types(link.client_events) == std::vector{Type::ping});
  REQUIRE(types(link.server_events) == std::vector{Type::pong});
  CHECK(link.server_events[0].data == "are you there?");
  REQUIRE(link.server_events[0].rtt);
  CHECK(*link.server_events[0].rtt == 25ms);
  CHECK(link.server.rtt() == 25ms);
}

TEST_CASE("HB-3 keepalive pings on schedule and fails a silent peer with 1011", "[connection]") {
  auto s = server_options();
  s.heartbeat = {.ping_interval = 1000ms, .pong_timeout = 500ms};
  Link link(client_options(), s);
  link.open();
  CHECK(link.server.next_deadline() == link.now + 1000ms);
  link.now += 1000ms;
  link.server.tick(link.now);
  const std::string ping(link.server.output());
  REQUIRE(ping.size() == 2 + 4);
  CHECK(static_cast<unsigned char>(ping[0]) == 0x89);
  link.server.consume_output(ping.size());  // the client never sees it
  link.now += 499ms;
  link.server.tick(link.now);
  CHECK(link.server.ready_state() == ReadyState::OPEN);
  link.now += 1ms;
  link.server.tick(link.now);
  CHECK(link.server.ready_state() == ReadyState::CLOSING);
  REQUIRE(link.server.failure());
  CHECK(link.server.failure()->id() == error::pong_timeout);
  CHECK(close_code_in(link.server.output()) == 1011);
  CHECK(link.server.close_transport());
}

TEST_CASE("CL-3 a client-initiated close: the server echoes, closes TCP first, both end clean", "[connection]") {
  Link link;
  link.open();
  link.client.close(1000, "bye");
  CHECK(link.client.ready_state() == ReadyState::CLOSING);
  CHECK_FALSE(link.client.send_text("too late"));  // CL-2
  link.pump();
  CHECK(link.server.ready_state() == ReadyState::CLOSING);
  CHECK(link.server.close_transport());         // the server closes TCP first (CL-4)
  CHECK_FALSE(link.client.close_transport());   // the client waits for it
  link.drop_tcp();
  CHECK(link.client.ready_state() == ReadyState::CLOSED);
  CHECK(link.server.ready_state() == ReadyState::CLOSED);
  REQUIRE(types(link.server_events) == std::vector{Type::close});
  CHECK(link.server_events[0].code == 1000);
  CHECK(link.server_events[0].reason == "bye");
  CHECK(link.server_events[0].was_clean);
  REQUIRE(types(link.client_events) == std::vector{Type::close});
  CHECK(link.client_events[0].code == 1000);
  CHECK(link.client_events[0].was_clean);
}

TEST_CASE("CL-4 a server-initiated close: the server closes TCP once the client answers", "[connection]") {
  Link link;
  link.open();
  link.server.close(1001, "going away");
  CHECK_FALSE(link.server.close_transport());
  link.pump();
  CHECK(link.server.close_transport());
  CHECK_FALSE(link.client.close_transport());
  // A client that never sees the TCP close gives up after the close timeout.
  link.now += 5000ms;
  link.client.tick(link.now);
  CHECK(link.client.close_transport());
  link.drop_tcp();
  REQUIRE(types(link.client_events) == std::vector{Type::close});
  CHECK(link.client_events[0].code == 1001);
  CHECK(link.client_events[0].was_clean);
}

TEST_CASE("CL-3 simultaneous close: each side's Close answers the other's", "[connection]") {
  Link link;
  link.open();
  link.client.close(1000, "");
  link.server.close(1000, "");
  link.pump();
  CHECK(link.server.close_transport());
  link.drop_tcp();
  CHECK(link.client_events.back().was_clean);
  CHECK(link.server_events.back().was_clean);
  // Exactly one Close frame went each way.
  int closes = 0;
  for (const auto& f : link.server_seen.frames) closes += f.header.opcode == 0x8;
  CHECK(closes == 2);
}

TEST_CASE("FR-1 a frame with RSV1 set and no extension fails the connection with 1002", "[connection]") {
  Link link;
  link.open();
  link.server.receive(client_frame(0xC1, "Hello"), link.now);
  Link::drain(link.server, link.server_events);
  REQUIRE(types(link.server_events) == std::vector{Type::error});
  CHECK(link.server_events[0].violation->id() == error::bad_reserved_bits);
  CHECK(close_code_in(link.server.output()) == 1002);
  CHECK(link.server.close_transport());
  CHECK(link.server.ready_state() == ReadyState::CLOSING);
  // The observer saw the frame and the rule it broke.
  REQUIRE(link.server_seen.frames.size() == 2);  // the bad frame, then our Close
  CHECK(link.server_seen.frames[0].direction == Direction::received);
  CHECK(link.server_seen.frames[0].violation == error::bad_reserved_bits);
  CHECK(link.server_seen.frames[0].header.rsv1);
  CHECK(link.server_seen.frames[1].direction == Direction::sent);
  CHECK(link.server_seen.frames[1].header.opcode == 0x8);
}

TEST_CASE("CL-5 frames before a bad frame are delivered, nothing after it is processed", "[connection]") {
  Link link;
  link.open();
  link.server.receive(client_frame(0x81, "one") + client_frame(0x82, "two") + client_frame(0x83, "bad opcode") +
                          client_frame(0x81, "never"),
                      link.now);
  Link::drain(link.server, link.server_events);
  REQUIRE(types(link.server_events) == std::vector{Type::text, Type::binary, Type::error});
  CHECK(link.server_events[2].violation->id() == error::bad_opcode);
  // The peer's responding Close (and anything else) is not processed (§7.1.7).
  link.server.receive(client_frame(0x88, std::string("\x03\xea", 2)), link.now);
  link.server.receive(client_frame(0x81, "still never"), link.now);
  CHECK_FALSE(link.server.has_event());
  link.drop_tcp();
  REQUIRE(link.server_events.back().type == Type::close);
  // §7.1.5: the peer's Close was not processed, so none was received: 1006.
  CHECK(link.server_events.back().code == 1006);
  CHECK(link.server_events.back().sent_code == std::optional<std::uint16_t>(1002));
  CHECK_FALSE(link.server_events.back().was_clean);
}

TEST_CASE("U8-2 invalid UTF-8 in a text message fails with 1007 at the bad byte", "[connection]") {
  Link link;
  link.open();
  // The first fragment is already invalid: fail without waiting for the rest.
  link.server.receive(client_frame(0x01, "ok \xc0\xaf"), link.now);
  Link::drain(link.server, link.server_events);
  REQUIRE(types(link.server_events) == std::vector{Type::error});
  CHECK(link.server_events[0].violation->id() == error::bad_utf8);
  CHECK(close_code_in(link.server.output()) == 1007);
}

TEST_CASE("FR-8 a message over the limit fails with 1009 before its payload arrives", "[connection]") {
  auto s = server_options();
  s.max_message_size = 1000;
  Link link(client_options(), s);
  link.open();
  const std::string big(1001, 'x');
  const std::string frame = client_frame(0x82, big);
  link.server.receive(std::string_view(frame).substr(0, 8), link.now);  // the header only
  Link::drain(link.server, link.server_events);
  REQUIRE(types(link.server_events) == std::vector{Type::error});
  CHECK(link.server_events[0].violation->id() == error::message_too_big);
  CHECK(close_code_in(link.server.output()) == 1009);
}

TEST_CASE("MK-3 a client fails the connection when a server masks a frame", "[connection]") {
  Link link;
  link.open();
  framing::FrameHeader h;
  h.mask = true;
  h.masking_key = {1, 2, 3, 4};
  std::string masked;
  framing::append_frame(masked, h, std::string_view("hi"));
  link.client.receive(masked, link.now);
  Link::drain(link.client, link.client_events);
  REQUIRE(types(link.client_events) == std::vector{Type::error});
  CHECK(link.client_events[0].violation->id() == error::masked_server_frame);
  CHECK(link.client.close_transport());
}

TEST_CASE("CL-1 a close frame with a 1-byte payload or a forbidden code fails with 1002", "[connection]") {
  for (const std::string& payload : {std::string("\x03", 1), std::string("\x03\xed", 2) /* 1005 */}) {
    Link link;
    link.open();
    link.server.receive(client_frame(0x88, payload), link.now);
    Link::drain(link.server, link.server_events);
    REQUIRE(types(link.server_events) == std::vector{Type::error});
    CHECK(close_code_in(link.server.output()) == 1002);
  }
}

TEST_CASE("CL-3 nothing that arrives after a Close is delivered", "[connection]") {
  Link link;
  link.open();
  link.server.receive(client_frame(0x88, std::string("\x03\xe8", 2)) + client_frame(0x81, "after close"),
                      link.now);
  Link::drain(link.server, link.server_events);
  CHECK(link.server_events.empty());
  CHECK(close_code_in(link.server.output()) == 1000);  // the echo
}

TEST_CASE("HSS-2 a request for another protocol version is refused with 426, never opened", "[connection]") {
  Link link;
  link.server.receive(
      "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
      link.now);
  Link::drain(link.server, link.server_events);
  REQUIRE(types(link.server_events) == std::vector{Type::error, Type::close});
  CHECK(link.server_events[0].violation->id() == error::bad_sec_version);
  const std::string response(link.server.output());
  CHECK(response.rfind("HTTP/1.1 426", 0) == 0);
  CHECK(response.find("Sec-WebSocket-Version: 13\r\n") != std::string::npos);
  CHECK(link.server.ready_state() == ReadyState::CLOSED);
  CHECK(link.server.close_transport());
  REQUIRE(link.server_seen.transitions.size() == 1);
  CHECK(link.server_seen.transitions[0].cause.rfind("handshake rejected: 426", 0) == 0);
}

TEST_CASE("HSC-9 a client fails on a wrong Sec-WebSocket-Accept", "[connection]") {
  Link link;
  REQUIRE_FALSE(link.client.connect(*uri::parse("ws://example.com/"), link.now));
  link.client.consume_output(link.client.output().size());
  link.client.receive(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
      link.now);
  Link::drain(link.client, link.client_events);
  REQUIRE(types(link.client_events) == std::vector{Type::error, Type::close});
  CHECK(link.client_events[0].violation->id() == error::bad_sec_accept);
  CHECK(link.client_events[1].code == 1006);
  CHECK(link.client.ready_state() == ReadyState::CLOSED);
}

TEST_CASE("INV-1 a slow handshake is dropped with 408 after the handshake timeout", "[connection]") {
  Link link;
  link.server.receive("GET /chat HTTP/1.1\r\nHost: exa", link.now);
  CHECK(link.server.next_deadline() == link.now + 10s);
  link.now += 9999ms;
  link.server.tick(link.now);
  CHECK(link.server.ready_state() == ReadyState::CONNECTING);
  link.now += 1ms;
  link.server.tick(link.now);
  CHECK(link.server.ready_state() == ReadyState::CLOSED);
  CHECK(std::string(link.server.output()).rfind("HTTP/1.1 408", 0) == 0);
  CHECK(link.server.close_transport());
}

TEST_CASE("CL-7 a TCP connection lost without a close is reported as 1006, never sent", "[connection]") {
  Link link;
  link.open();
  link.drop_tcp();
  REQUIRE(types(link.client_events) == std::vector{Type::error, Type::close});
  CHECK(link.client_events[0].violation->id() == error::abnormal_closure);
  CHECK(link.client_events[1].code == 1006);
  CHECK_FALSE(link.client_events[1].was_clean);
  CHECK(link.client.output().empty());  // 1006 never goes on the wire
}

TEST_CASE("API-1 the observer sees every readyState transition with its cause", "[connection]") {
  Link link;
  link.open();
  link.client.close(1000, "done");
  link.pump();
  link.drop_tcp();
  const auto& t = link.client_seen.transitions;
  REQUIRE(t.size() == 3);
  CHECK((t[0].from == ReadyState::CONNECTING && t[0].to == ReadyState::OPEN));
  CHECK((t[1].to == ReadyState::CLOSING && t[1].cause == "sent close 1000"));
  CHECK(t[2].to == ReadyState::CLOSED);
  const auto& s = link.server_seen.transitions;
  REQUIRE(s.size() == 3);
  CHECK(s[1].cause == "received close 1000");
}

TEST_CASE("API-2 bufferedAmount counts queued bytes and sending outside OPEN queues nothing", "[connection]") {
  Link link;
  CHECK_FALSE(link.client.send_text("early"));  // CONNECTING
  link.open();
  CHECK(link.client.buffered_amount() == 0);
  link.client.send_binary(std::string_view("12345"));
  CHECK(link.client.buffered_amount() == 2 + 4 + 5);
  link.pump();
  CHECK(link.client.buffered_amount() == 0);
  CHECK_THROWS_AS(link.client.send_text("\xff"), std::invalid_argument);
  CHECK_THROWS_AS(link.client.send_ping(std::string(126, 'p')), std::invalid_argument);
  CHECK_THROWS_AS(link.client.close(1005), std::invalid_argument);
  CHECK_THROWS_AS(link.client.close(1000, std::string(124, 'r')), std::invalid_argument);
  CHECK(link.client.ready_state() == ReadyState::OPEN);  // refused calls change nothing
  link.client.send_binary(std::string_view("12345"));
  link.client.consume_output(4);  // the transport took 4 bytes
  CHECK(link.client.buffered_amount() == 7);
  link.client.close();
  CHECK_FALSE(link.client.send_binary(std::string_view("late")));  // CLOSING
}

TEST_CASE("FR-3 a whole session delivered one byte at a time gives the same events", "[connection]") {
  auto run = [](std::size_t chunk) {
    Link link;
    link.chunk = chunk;
    link.open();
    link.server.send_ping("p");
    link.pump();
    link.client.send_text("héllo wörld");
    const std::string_view parts[] = {"frag", "ment", "ed"};
    link.client.send_fragments(framing::Opcode::binary, parts);
    link.client.send_binary(std::string(70000, 'z'));
    link.client.close(1000, "done");
    link.pump();
    std::vector<std::pair<Type, std::string>> seen;
    for (const auto& e : link.server_events) seen.emplace_back(e.type, e.data);
    return seen;
  };
  const auto whole = run(SIZE_MAX);
  REQUIRE(whole.size() == 4);  // pong, text, binary, binary
  CHECK(run(1) == whole);
  CHECK(run(7) == whole);
}

TEST_CASE("HSC-8 the server's 101 and its first frame in one read are both handled", "[connection]") {
  Link link;
  REQUIRE_FALSE(link.client.connect(*uri::parse("ws://example.com/"), link.now));
  link.pump();
  link.server.accept({}, link.now);
  link.server.send_text("welcome");
  link.pump();  // the response head and the frame go in one delivery
  REQUIRE(types(link.client_events) == std::vector{Type::open, Type::text});
  CHECK(link.client_events[1].data == "welcome");
}

TEST_CASE("MK-2 a server fails the connection on an unmasked client frame", "[connection]") {
  Link link;
  link.open();
  link.server.receive(server_frame(0x81, "unmasked"), link.now);
  Link::drain(link.server, link.server_events);
  REQUIRE(types(link.server_events) == std::vector{Type::error});
  CHECK(link.server_events[0].violation->id() == error::unmasked_client_frame);
  CHECK(close_code_in(link.server.output()) == 1002);
}

TEST_CASE("CL-3 a message that arrives with a Close is echoed before the answering Close", "[connection]") {
  Link link;
  link.open();
  // One read holds a message and the Close behind it (an echo server's case).
  link.server.receive(client_frame(0x82, "echo me") + client_frame(0x88, std::string("\x03\xe8", 2)), link.now);
  REQUIRE(link.server.has_event());
  const Event e = link.server.next_event();
  REQUIRE(e.type == Type::binary);
  CHECK(link.server.ready_state() == ReadyState::OPEN);  // the Close has not taken effect yet
  REQUIRE(link.server.send_binary(e.data));             // so the echo can still go out
  CHECK_FALSE(link.server.has_event());                  // ... and now the Close takes effect
  CHECK(link.server.ready_state() == ReadyState::CLOSING);
  const std::string out(link.server.output());
  REQUIRE(out.size() == 2 + 7 + 2 + 2);
  CHECK(out.substr(0, 9) == std::string("\x82\x07" "echo me", 9));  // the echo first
  CHECK(out.substr(9) == std::string("\x88\x02\x03\xe8", 4));       // then the answering Close
  CHECK(link.server.close_transport());
}

TEST_CASE("CL-5 frames before a bad frame are answered before the failing Close goes out", "[connection]") {
  Link link;
  link.open();
  link.server.receive(client_frame(0x81, "first") + client_frame(0x83, "reserved opcode"), link.now);
  REQUIRE(link.server.has_event());
  const Event text = link.server.next_event();
  REQUIRE(text.type == Type::text);
  REQUIRE(link.server.send_text(text.data));
  REQUIRE(link.server.has_event());
  CHECK(link.server.next_event().type == Type::error);
  CHECK_FALSE(link.server.has_event());
  const std::string out(link.server.output());
  CHECK(out.rfind(std::string("\x81\x05" "first", 7), 0) == 0);
  CHECK(close_code_in(out.substr(7)) == 1002);
}

// --- §7.1.5 and §7.1.6: the close code and reason a connection reports -------

TEST_CASE("CL-17 a connection we failed reports 1006, not clean, though it sent 1002 and the peer answered",
          "[connection]") {
  // RFC 6455 §7.1.5: "The WebSocket Connection Close Code" is the code of the
  // first Close frame RECEIVED, 1006 if none was. Failing (§7.1.7) we send
  // our Close and process nothing more, the peer's answering Close included.
  SECTION("the server fails: RSV1 without an extension") {
    Link link;
    link.open();
    link.client.send_text("fine");
    link.pump();
    link.server.receive(client_frame(0xC1, "rsv1"), link.now);
    link.pump();  // the server's Close 1002 reaches the client, whose answer is ignored
    CHECK(link.server.close_transport());
    link.drop_tcp();
    REQUIRE(link.server_events.back().type == Type::close);
    const Event& server = link.server_events.back();
    CHECK(server.code == 1006);
    CHECK_FALSE(server.was_clean);
    CHECK(server.sent_code == std::optional<std::uint16_t>(1002));
    // The reason still names the rule broken, its code and section.
    CHECK(server.reason.find("1002") != std::string::npos);
    CHECK(server.reason.find("RFC 6455 §5.2") != std::string::npos);
    // The client received the server's Close 1002 and answered it: for the
    // client the closing handshake completed, clean, with the code received.
    REQUIRE(link.client_events.back().type == Type::close);
    const Event& client = link.client_events.back();
    CHECK(client.code == 1002);
    CHECK(client.was_clean);
    CHECK(client.sent_code == std::optional<std::uint16_t>(1002));
  }
  SECTION("the client fails: a masked server frame") {
    Link link;
    link.open();
    framing::FrameHeader h;
    h.mask = true;
    h.masking_key = {1, 2, 3, 4};
    std::string masked;
    framing::append_frame(masked, h, std::string_view("hi"));
    link.client.receive(masked, link.now);
    link.pump();  // the client's Close 1002 reaches the server, which answers 1002
    link.drop_tcp();
    REQUIRE(link.client_events.back().type == Type::close);
    const Event& client = link.client_events.back();
    CHECK(client.code == 1006);
    CHECK_FALSE(client.was_clean);
    CHECK(client.sent_code == std::optional<std::uint16_t>(1002));
    CHECK(client.reason.find("RFC 6455 §5.1") != std::string::npos);
    CHECK(link.server_events.back().code == 1002);
    CHECK(link.server_events.back().was_clean);
  }
  SECTION("a keepalive failure: 1011 sent, 1006 reported") {
    auto s = server_options();
    s.heartbeat = {.ping_interval = 1000ms, .pong_timeout = 500ms};
    Link link(client_options(), s);
    link.open();
    link.now += 1000ms;
    link.server.tick(link.now);  // the ping, which never reaches the client
    link.server.consume_output(link.server.output().size());
    link.now += 500ms;
    link.server.tick(link.now);
    CHECK(close_code_in(link.server.output()) == 1011);
    link.server.transport_closed(link.now);
    Link::drain(link.server, link.server_events);
    REQUIRE(link.server_events.back().type == Type::close);
    CHECK(link.server_events.back().code == 1006);
    CHECK(link.server_events.back().sent_code == std::optional<std::uint16_t>(1011));
  }
}

TEST_CASE("CL-17 the close code is that of the first Close received, 1005 if it had none, 1006 if none came",
          "[connection]") {
  SECTION("their Close 4001: 4001, and our echo is 4001 too") {
    Link link;
    link.open();
    link.server.close(4001, "private");
    link.pump();
    link.drop_tcp();
    CHECK(link.client_events.back().code == 4001);
    CHECK(link.client_events.back().sent_code == std::optional<std::uint16_t>(4001));
    CHECK(link.client_events.back().was_clean);
  }
  SECTION("an empty Close: 1005, and we answered with an empty Close") {
    Link link;
    link.open();
    link.server.receive(client_frame(0x88, ""), link.now);
    link.pump();
    link.drop_tcp();
    CHECK(link.server_events.back().code == 1005);
    CHECK(link.server_events.back().sent_code == std::optional<std::uint16_t>(1005));
    CHECK(link.server_events.back().was_clean);
  }
  SECTION("we close with 1000, they answer 1001: 1001 is reported, 1000 was sent") {
    Link link;
    link.open();
    link.client.close(1000, "mine");
    link.client.consume_output(link.client.output().size());  // the server never sees ours
    link.client.receive(server_frame(0x88, std::string("\x03\xe9", 2) + "theirs"), link.now);
    Link::drain(link.client, link.client_events);
    link.client.transport_closed(link.now);
    Link::drain(link.client, link.client_events);
    REQUIRE(link.client_events.back().type == Type::close);
    CHECK(link.client_events.back().code == 1001);
    CHECK(link.client_events.back().sent_code == std::optional<std::uint16_t>(1000));
    CHECK(link.client_events.back().was_clean);
  }
  SECTION("our Close unanswered: 1006, 1000 sent") {
    Link link;
    link.open();
    link.client.close(1000, "");
    link.client.consume_output(link.client.output().size());
    link.now += 5000ms;
    link.client.tick(link.now);
    CHECK(link.client.close_transport());
    link.client.transport_closed(link.now);
    Link::drain(link.client, link.client_events);
    CHECK(link.client_events.back().code == 1006);
    CHECK_FALSE(link.client_events.back().was_clean);
    CHECK(link.client_events.back().sent_code == std::optional<std::uint16_t>(1000));
  }
  SECTION("TCP lost, no Close either way: 1006, nothing sent") {
    Link link;
    link.open();
    link.drop_tcp();
    CHECK(link.server_events.back().code == 1006);
    CHECK_FALSE(link.server_events.back().sent_code);
  }
}

TEST_CASE("CL-18 the close reason is the reason of the first Close received, empty if it had none", "[connection]") {
  SECTION("their reason, not ours") {
    Link link;
    link.open();
    link.client.close(1000, "mine");
    link.client.consume_output(link.client.output().size());
    link.client.receive(server_frame(0x88, std::string("\x03\xe8", 2) + "theirs"), link.now);
    link.client.transport_closed(link.now);
    Link::drain(link.client, link.client_events);
    REQUIRE(link.client_events.back().type == Type::close);
    CHECK(link.client_events.back().reason == "theirs");
  }
  SECTION("a code without a reason: the empty string") {
    Link link;
    link.open();
    link.client.close(1000, "mine");
    link.pump();  // the server echoes 1000 with no reason
    link.drop_tcp();
    CHECK(link.client_events.back().code == 1000);
    CHECK(link.client_events.back().reason.empty());
  }
  SECTION("a UTF-8 reason arrives decoded, byte for byte") {
    Link link;
    link.open();
    link.server.close(1000, "au revoir, \xc3\xa0 bient\xc3\xb4t");
    link.pump();
    link.drop_tcp();
    CHECK(link.client_events.back().reason == "au revoir, \xc3\xa0 bient\xc3\xb4t");
  }
}

// --- §10.3: what was sent cannot be changed by the caller ----------------------

TEST_CASE("MK-6 changing the caller's buffer after send() changes nothing on the wire", "[connection]") {
  // RFC 6455 §10.3: once a frame's transmission has begun, the application
  // must not be able to change its payload (else it could choose the masked
  // bytes). send() copies and masks into the output at once.
  Link link;
  link.open();
  std::string text = "attacker-chosen? no";
  std::vector<std::uint8_t> binary = {0x00, 0x01, 0x02, 0x03, 0xfe, 0xff};
  std::string piece_a = "frag", piece_b = "ments";
  REQUIRE(link.client.send_text(text));
  REQUIRE(link.client.send_binary(std::span<const std::uint8_t>(binary)));
  const std::string_view pieces[] = {piece_a, piece_b};
  REQUIRE(link.client.send_fragments(framing::Opcode::text, pieces));
  const std::string wire(link.client.output());
  // The caller reuses its buffers at once.
  std::fill(text.begin(), text.end(), 'X');
  std::fill(binary.begin(), binary.end(), std::uint8_t{0xAA});
  piece_a.assign(piece_a.size(), 'Y');
  piece_b.assign(piece_b.size(), 'Z');
  CHECK(std::string(link.client.output()) == wire);  // the queued bytes did not move
  link.pump();
  REQUIRE(types(link.server_events) == std::vector{Type::text, Type::binary, Type::text});
  CHECK(link.server_events[0].data == "attacker-chosen? no");
  CHECK(link.server_events[1].data == std::string("\x00\x01\x02\x03\xfe\xff", 6));
  CHECK(link.server_events[2].data == "fragments");
  // Changed data goes out as a new frame, under a new masking key.
  REQUIRE(link.client.send_text(text));
  link.pump();
  REQUIRE(link.server_events.size() == 4);
  CHECK(link.server_events[3].data == std::string(text.size(), 'X'));
  const auto& frames = link.client_seen.frames;
  REQUIRE(frames.size() == 5);
  CHECK(frames[4].header.masking_key != frames[0].header.masking_key);  // a 1-in-2^32 collision otherwise
}
