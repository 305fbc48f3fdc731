// The echo service (/ws) over real sockets: sizes, fragments, ping/pong.
#include "server_test_helpers.hpp"

#include <catch2/catch.hpp>

using namespace wslab;
using namespace wslab::testing;

TEST_CASE("echo: text and binary come back with the same opcode and bytes at every length form", "[net][server]") {
  RunningServer s;
  WsClient c(s.port());
  REQUIRE(c.open());
  // 0 and 125: 7-bit length; 126 and 64 KiB - 1: 16-bit; 64 KiB and 1 MiB: 64-bit (§5.2).
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{125}, std::size_t{126}, std::size_t{65535},
                           std::size_t{65536}, std::size_t{1} << 20}) {
    INFO("size " << size);
    const std::string text = text_pattern(size, static_cast<std::uint32_t>(size));
    REQUIRE(c.send_text(text));
    auto e = c.next_message(10s);
    REQUIRE(e);
    CHECK(e->type == Event::Type::text);
    CHECK(e->data == text);

    const std::string data = pattern(size, static_cast<std::uint32_t>(size) + 1);
    REQUIRE(c.send_binary(data));
    e = c.next_message(10s);
    REQUIRE(e);
    CHECK(e->type == Event::Type::binary);
    CHECK(e->data == data);
  }
  c.close();
  auto closed = c.wait_close();
  REQUIRE(closed);
  CHECK(closed->code == 1000);
  CHECK(closed->was_clean);
}

TEST_CASE("FR-8 echo: a message of exactly max_message_size (16 MiB) is echoed: the limit is inclusive", "[net][server]") {
  RunningServer s;
  WsClient c(s.port());
  REQUIRE(c.open());
  const std::string data = pattern(16u << 20, 16);
  REQUIRE(c.send_binary(data));
  auto e = c.next_message(20s);
  REQUIRE(e);
  CHECK(e->type == Event::Type::binary);
  CHECK(e->data.size() == data.size());
  CHECK(e->data == data);

  const std::string text = text_pattern(16u << 20, 17);
  REQUIRE(c.send_text(text));
  e = c.next_message(20s);
  REQUIRE(e);
  CHECK(e->type == Event::Type::text);
  CHECK(e->data == text);
}

TEST_CASE("FR-6 echo: a fragmented message is reassembled and echoed whole, a ping between fragments answered first",
          "[net][server]") {
  RunningServer s;
  WsClient c(s.port());
  REQUIRE(c.open());

  // Through the Connection: a text message whose fragments split "é" (U+00E9)
  // between its two bytes (§5.6: only the whole message must be UTF-8).
  const std::string text = "caf\xC3\xA9 au lait";
  REQUIRE(c.send_fragments(framing::Opcode::text, {std::string_view(text).substr(0, 4), std::string_view(text).substr(4, 3),
                                           std::string_view(), std::string_view(text).substr(7)}));
  auto e = c.next_message();
  REQUIRE(e);
  CHECK(e->type == Event::Type::text);
  CHECK(e->data == text);

  const std::string data = pattern(200000, 3);
  std::vector<std::string_view> pieces;
  for (std::size_t i = 0; i < data.size(); i += 30000) pieces.push_back(std::string_view(data).substr(i, 30000));
  REQUIRE(c.send_fragments(framing::Opcode::binary, pieces));
  e = c.next_message();
  REQUIRE(e);
  CHECK(e->type == Event::Type::binary);
  CHECK(e->data == data);

  // On the wire by hand: binary(FIN=0) "ab", ping "p", continuation(FIN=1) "cd".
  RawClient raw(s.port());
  REQUIRE(raw_upgrade(raw, "/ws"));
  REQUIRE(raw.send(client_frame(0x2, "ab", false) + client_frame(0x9, "p") + client_frame(0x0, "cd", true)));
  std::string in;
  std::vector<WireFrame> frames;
  while (frames.size() < 2) {
    REQUIRE(raw.receive(in, 5s) == RawClient::Status::data);
    frames = parse_server_frames(in);
  }
  CHECK(frames[0].opcode == 0xA);  // the pong, before the message is complete
  CHECK(frames[0].payload == "p");
  CHECK(frames[1].opcode == 0x2);
  CHECK(frames[1].fin);
  CHECK(frames[1].payload == "abcd");
}

TEST_CASE("HB-1 echo: a ping is answered with a pong carrying the identical payload", "[net][server]") {
  RunningServer s;
  WsClient c(s.port());
  REQUIRE(c.open());
  REQUIRE(c.ping("are you there?"));
  auto e = c.next_event();
  REQUIRE(e);
  CHECK(e->type == Event::Type::pong);
  CHECK(e->data == "are you there?");
  REQUIRE(e->rtt);  // it answered our ping
  REQUIRE(c.ping());
  e = c.next_event();
  REQUIRE(e);
  CHECK(e->type == Event::Type::pong);
  CHECK(e->data.empty());
}

TEST_CASE("HB-1 echo: with a ping interval the server pings an idle peer, and a peer that answers stays open",
          "[net][server]") {
  auto options = test_options();
  options.ping_interval = 100ms;
  options.pong_timeout = 1s;
  RunningServer s(options);
  WsClient c(s.port());
  REQUIRE(c.open());
  int pings = 0;
  const auto end = std::chrono::steady_clock::now() + 600ms;
  while (std::chrono::steady_clock::now() < end) {
    if (auto e = c.next_event(50ms)) {
      REQUIRE(e->type == Event::Type::ping);  // the client answers it on its own
      CHECK(e->data.size() == 4);             // the ping's number (heartbeat chapter)
      ++pings;
    }
  }
  CHECK(pings >= 3);
  REQUIRE(c.send_text("still here"));
  auto e = c.next_message();
  REQUIRE(e);
  CHECK(e->data == "still here");
  CHECK(s.stats().websocket_connections == 1);
}

TEST_CASE("echo: bytes sent right behind the request (before the 101) are read as frames", "[net][server]") {
  RunningServer s;
  RawClient raw(s.port());
  REQUIRE(raw.send(upgrade_request("/ws") + client_frame(0x1, "early")));
  std::string in;
  std::vector<WireFrame> frames;
  const auto end = std::chrono::steady_clock::now() + 5s;
  while (frames.empty() && std::chrono::steady_clock::now() < end) {
    REQUIRE(raw.receive(in, 5s) == RawClient::Status::data);
    const auto head_end = in.find("\r\n\r\n");
    if (head_end != std::string::npos) frames = parse_server_frames(in.substr(head_end + 4));
  }
  CHECK(in.rfind("HTTP/1.1 101", 0) == 0);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].opcode == 0x1);
  CHECK(frames[0].payload == "early");
}
