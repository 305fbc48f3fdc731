// permessage-deflate (RFC 7692) on real loopback sockets: the wslab server
// and client, both with it on by default, one with it off, and the limits.
#include "client_helpers.hpp"
#include "server_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <mutex>
#include <random>

using namespace wslab;
using namespace wslab::testing;
using net::Client;

namespace {

std::string ws_url(std::uint16_t port, std::string_view path = "/ws") {
  return "ws://127.0.0.1:" + std::to_string(port) + std::string(path);
}

// The client's frames as its Connection saw them (on the client's loop thread).
class WireLog : public connection::Observer {
 public:
  struct Frame {
    connection::Direction direction;
    std::uint8_t opcode;
    bool rsv1;
    bool compressed;
    std::uint64_t wire_size;
    std::optional<std::uint64_t> uncompressed_size;
  };
  void on_frame(const connection::FrameRecord& f) override {
    std::lock_guard lock(mutex_);
    frames_.push_back({f.direction, f.header.opcode, f.header.rsv1, f.compressed, f.header.payload_length,
                       f.uncompressed_size});
  }
  std::vector<Frame> data_frames() const {
    std::lock_guard lock(mutex_);
    std::vector<Frame> out;
    for (const auto& f : frames_)
      if (!framing::is_control(f.opcode)) out.push_back(f);
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Frame> frames_;
};

}  // namespace

TEST_CASE("PMD-6 net: the client and server agree on permessage-deflate and echo compressed messages", "[net]") {
  RunningServer server;
  WireLog wire;
  net::ClientOptions options;
  options.observer = &wire;
  Recorder r;
  Client ws(ws_url(server.port()), {}, options);
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_open());
  CHECK(ws.extensions() == "permessage-deflate");

  std::mt19937 rng(11);
  std::vector<std::string> sent;
  for (std::size_t size : {0, 1, 125, 126, 65535, 65536, 1 << 20}) {
    std::string text;
    while (text.size() < size) text += "permessage-deflate compresses repeated words well. ";
    text.resize(size);
    sent.push_back(text);
    ws.send(text);
    std::string noise(size, '\0');
    for (auto& c : noise) c = static_cast<char>(rng());
    sent.push_back(noise);
    ws.send(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(noise.data()), noise.size()));
  }
  REQUIRE(r.wait_messages(sent.size(), 10s));
  const auto messages = r.messages();
  for (std::size_t i = 0; i < sent.size(); ++i) {
    INFO("message " << i << ", " << sent[i].size() << " bytes");
    CHECK(messages[i].binary == (i % 2 == 1));
    CHECK(messages[i].data == sent[i]);
  }
  // Both directions went compressed: RSV1 on every data frame, and the text
  // of 1 MiB took a small fraction of that on the wire each way.
  const auto frames = wire.data_frames();
  REQUIRE(frames.size() == 2 * sent.size());
  for (const auto& f : frames) {
    CHECK(f.rsv1);
    CHECK(f.compressed);
  }
  for (const auto& f : frames)
    if (f.uncompressed_size == (1u << 20) && f.opcode == 0x1) CHECK(f.wire_size < (1u << 20) / 20);
  ws.close(1000, "done");
  REQUIRE(r.wait_close());
  CHECK(r.closed()->code == 1000);
  CHECK(r.closed()->wasClean);
}

TEST_CASE("EX-1 net: with permessage-deflate off on either side, messages go uncompressed", "[net]") {
  const bool server_off = GENERATE(true, false);
  INFO((server_off ? "the server has it off" : "the client has it off"));
  auto server_options = test_options();
  net::ClientOptions options;
  if (server_off) server_options.permessage_deflate.reset();
  else options.permessage_deflate.reset();
  RunningServer server(server_options);
  WireLog wire;
  options.observer = &wire;
  Recorder r;
  Client ws(ws_url(server.port()), {}, options);
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_open());
  CHECK(ws.extensions().empty());
  ws.send(std::string(1000, 'x'));
  REQUIRE(r.wait_messages(1));
  CHECK(r.messages()[0].data == std::string(1000, 'x'));
  const auto frames = wire.data_frames();
  REQUIRE(frames.size() == 2);
  for (const auto& f : frames) {
    CHECK_FALSE(f.rsv1);
    CHECK(f.wire_size == 1000);
  }
}

TEST_CASE("PMD-7 net: the client's max_message_size bounds what a compressed message may inflate to", "[net]") {
  RunningServer server;
  net::ClientOptions options;
  options.max_message_size = 1000;
  Recorder r;
  Client ws(ws_url(server.port()), {}, options);
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_open());
  REQUIRE(ws.extensions() == "permessage-deflate");
  ws.send(std::string(1000, 'a'));  // the limit is inclusive
  REQUIRE(r.wait_messages(1));
  ws.send(std::string(1001, 'b'));  // a dozen bytes on the wire, 1001 inflated
  REQUIRE(r.wait_close());
  REQUIRE(r.error());
  REQUIRE(r.error()->violation);
  CHECK(r.error()->violation->id() == error::inflated_too_big);
  // §7.1.5: the client failed the connection, so it reports 1006; 1009 is what it sent.
  CHECK(r.closed()->code == 1006);
  CHECK(r.closed()->sentCode == std::optional<std::uint16_t>(1009));
  CHECK(r.message_count() == 1);
}

TEST_CASE("PMD-7 net: the server's max_message_size is its inflate limit", "[net]") {
  auto server_options = test_options();
  server_options.max_message_size = 64 * 1024;
  RunningServer server(server_options);
  Recorder r;
  Client ws(ws_url(server.port()));
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_open());
  ws.send(std::string(64 * 1024, 'z'));  // at the limit: echoed
  REQUIRE(r.wait_messages(1));
  ws.send(std::string(1 << 20, 'z'));  // about 1 KiB compressed, 1 MiB inflated
  REQUIRE(r.wait_close());
  CHECK(r.closed()->code == 1009);
  CHECK(r.message_count() == 1);
  CHECK(eventually([&] { return server.stats().closes_sent_by_code.count(1009) == 1; }));
}

TEST_CASE("PMD-1 net: the server's settings shape its response, and the client follows them", "[net]") {
  auto server_options = test_options();
  server_options.permessage_deflate = extensions::Settings{.server_no_context_takeover = true,
                                                           .server_max_window_bits = 10,
                                                           .client_max_window_bits = 9};
  RunningServer server(server_options);
  WireLog wire;
  net::ClientOptions options;
  options.observer = &wire;
  options.permessage_deflate = extensions::Settings{.client_no_context_takeover = true};
  Recorder r;
  Client ws(ws_url(server.port(), "/chat/ws"), {}, options);
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_open());
  CHECK(ws.extensions() ==
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; "
        "client_max_window_bits=9");
  const std::string message = "the chat endpoint broadcasts this, compressed, back to us";
  ws.send(message);
  ws.send(message);
  REQUIRE(r.wait_messages(2));
  CHECK(r.messages()[1].data == message);
  // No context takeover either way: the second copy costs as much as the first.
  const auto frames = wire.data_frames();
  REQUIRE(frames.size() == 4);
  std::vector<std::uint64_t> sent, received;
  for (const auto& f : frames) (f.direction == connection::Direction::sent ? sent : received).push_back(f.wire_size);
  CHECK(sent[0] == sent[1]);
  CHECK(received[0] == received[1]);
}

TEST_CASE("PMD-1 net: settings out of range are refused before anything connects", "[net]") {
  net::ClientOptions options;
  options.permessage_deflate = extensions::Settings{.client_max_window_bits = 16};
  CHECK_THROWS_AS(Client("ws://127.0.0.1:9/ws", {}, options), std::invalid_argument);
  auto server_options = test_options();
  server_options.permessage_deflate = extensions::Settings{.server_max_window_bits = 7};
  CHECK_THROWS_AS(net::Server(server_options), std::invalid_argument);
}
