// Interop with POCO's own WebSocket (Poco::Net::WebSocket), an independent
// implementation: POCO as the client against the wslab server here; the
// other direction (wslab client, POCO server) is in poco_server_test.cpp.
#include <wslab/net/server.hpp>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>

#include <catch2/catch.hpp>

#include <string>
#include <thread>

using Poco::Net::WebSocket;

namespace {

// POCO's frame flags and opcodes are two enums; C++20 deprecates mixing them.
constexpr int flags(int a, int b) { return a | b; }
constexpr int kFin = WebSocket::FRAME_FLAG_FIN;

// A wslab server on an ephemeral port, run on a background thread.
struct RunningServer {
  wslab::net::Server server;
  std::thread thread;
  explicit RunningServer(wslab::net::ServerOptions options = {})
      : server([&] {
          options.port = 0;
          return options;
        }()),
        thread([this] { server.run(); }) {}
  ~RunningServer() {
    server.stop();
    thread.join();
  }
};

struct PocoClient {
  Poco::Net::HTTPClientSession session;
  Poco::Net::HTTPRequest request;
  Poco::Net::HTTPResponse response;
  WebSocket ws;
  PocoClient(std::uint16_t port, const std::string& path)
      : session("127.0.0.1", port),
        request(Poco::Net::HTTPRequest::HTTP_GET, path, Poco::Net::HTTPMessage::HTTP_1_1),
        ws(session, request, response) {
    ws.setReceiveTimeout(Poco::Timespan(10, 0));
  }
  // One whole frame (POCO reads frame by frame), payload and flags.
  std::pair<std::string, int> receive(std::size_t capacity = 1 << 16) {
    std::string buffer(capacity, '\0');
    int flags = 0;
    const int n = ws.receiveFrame(buffer.data(), static_cast<int>(buffer.size()), flags);
    buffer.resize(static_cast<std::size_t>(std::max(n, 0)));
    return {buffer, flags};
  }
};

}  // namespace

TEST_CASE("interop POCO client: text and binary echo at the length-form boundaries", "[interop]") {
  RunningServer s;
  PocoClient c(s.server.port(), "/ws");
  CHECK(c.response.getStatus() == Poco::Net::HTTPResponse::HTTP_SWITCHING_PROTOCOLS);
  for (std::size_t size : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u, 1u << 20}) {
    INFO("size " << size);
    const std::string text(size, 't');
    c.ws.sendFrame(text.data(), static_cast<int>(text.size()), WebSocket::FRAME_TEXT);
    auto [reply, flags] = c.receive(size + 16);
    CHECK(reply == text);
    CHECK((flags & WebSocket::FRAME_OP_BITMASK) == WebSocket::FRAME_OP_TEXT);
    CHECK((flags & WebSocket::FRAME_FLAG_FIN) != 0);
    std::string binary(size, '\0');
    for (std::size_t i = 0; i < size; ++i) binary[i] = static_cast<char>(i * 7);
    c.ws.sendFrame(binary.data(), static_cast<int>(binary.size()), WebSocket::FRAME_BINARY);
    auto [breply, bflags] = c.receive(size + 16);
    CHECK(breply == binary);
    CHECK((bflags & WebSocket::FRAME_OP_BITMASK) == WebSocket::FRAME_OP_BINARY);
  }
}

TEST_CASE("interop POCO client: a fragmented message comes back whole", "[interop]") {
  RunningServer s;
  PocoClient c(s.server.port(), "/ws");
  c.ws.sendFrame("frag", 4, WebSocket::FRAME_OP_TEXT);  // FIN clear
  c.ws.sendFrame("men", 3, WebSocket::FRAME_OP_CONT);
  c.ws.sendFrame("ted", 3, flags(kFin, WebSocket::FRAME_OP_CONT));
  auto [reply, flags] = c.receive();
  CHECK(reply == "fragmented");
  CHECK((flags & WebSocket::FRAME_OP_BITMASK) == WebSocket::FRAME_OP_TEXT);
}

TEST_CASE("interop POCO client: a ping is answered with a pong carrying the same payload", "[interop]") {
  RunningServer s;
  PocoClient c(s.server.port(), "/ws");
  c.ws.sendFrame("are you there?", 14, flags(kFin, WebSocket::FRAME_OP_PING));
  auto [reply, flags] = c.receive();
  CHECK((flags & WebSocket::FRAME_OP_BITMASK) == WebSocket::FRAME_OP_PONG);
  CHECK(reply == "are you there?");
}

TEST_CASE("interop POCO client: the close handshake echoes the code", "[interop]") {
  RunningServer s;
  PocoClient c(s.server.port(), "/ws");
  c.ws.shutdown(1000, "bye");
  auto [reply, flags] = c.receive();
  CHECK((flags & WebSocket::FRAME_OP_BITMASK) == WebSocket::FRAME_OP_CLOSE);
  REQUIRE(reply.size() >= 2);
  CHECK((static_cast<unsigned char>(reply[0]) << 8 | static_cast<unsigned char>(reply[1])) == 1000);
}

TEST_CASE("interop POCO client: a reserved opcode is failed with close 1002", "[interop]") {
  RunningServer s;
  PocoClient c(s.server.port(), "/ws");
  c.ws.sendFrame("x", 1, flags(kFin, 0x3));  // opcode 3 is reserved (RFC 6455 §5.2)
  auto [reply, flags] = c.receive();
  CHECK((flags & WebSocket::FRAME_OP_BITMASK) == WebSocket::FRAME_OP_CLOSE);
  REQUIRE(reply.size() >= 2);
  CHECK((static_cast<unsigned char>(reply[0]) << 8 | static_cast<unsigned char>(reply[1])) == 1002);
}

TEST_CASE("interop POCO client: 17 connections at once are all served (no thread per connection)",
          "[interop]") {
  // POCO's own HTTPServer + WebSocket pins a pool thread per connection, 16
  // by default, so connection 17 waits; the wslab server holds them all on
  // one event loop.
  RunningServer s;
  std::vector<std::unique_ptr<PocoClient>> clients;
  for (int i = 0; i < 17; ++i) clients.push_back(std::make_unique<PocoClient>(s.server.port(), "/ws"));
  for (int i = 0; i < 17; ++i) {
    const std::string text = "client " + std::to_string(i);
    clients[static_cast<std::size_t>(i)]->ws.sendFrame(text.data(), static_cast<int>(text.size()));
  }
  for (int i = 0; i < 17; ++i) CHECK(clients[static_cast<std::size_t>(i)]->receive().first == "client " + std::to_string(i));
}
