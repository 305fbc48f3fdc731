// Interop with POCO's own WebSocket, the other direction: a POCO HTTPServer
// whose handler upgrades with Poco::Net::WebSocket and echoes every frame,
// and the wslab client (BlockingClient) talking to it.
#include <wslab/net/client.hpp>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/WebSocket.h>

#include <catch2/catch.hpp>

#include <string>

using Poco::Net::WebSocket;
using namespace std::chrono_literals;

namespace {

// POCO's echo: frame in, same frame out, until a Close (which it answers).
class EchoHandler : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    try {
      WebSocket ws(request, response);
      ws.setReceiveTimeout(Poco::Timespan(10, 0));
      std::string buffer(2 << 20, '\0');
      for (;;) {
        int flags = 0;
        const int n = ws.receiveFrame(buffer.data(), static_cast<int>(buffer.size()), flags);
        const int opcode = flags & WebSocket::FRAME_OP_BITMASK;
        if (opcode == WebSocket::FRAME_OP_CLOSE) {
          ws.sendFrame(buffer.data(), n, flags);  // answer the Close with the same payload
          return;
        }
        if (opcode == WebSocket::FRAME_OP_PING) {
          ws.sendFrame(buffer.data(), n, static_cast<int>(WebSocket::FRAME_FLAG_FIN) | WebSocket::FRAME_OP_PONG);
          continue;
        }
        ws.sendFrame(buffer.data(), n, flags);
      }
    } catch (const Poco::Exception&) {
      // The peer went away; nothing to answer.
    }
  }
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new EchoHandler;
  }
};

struct PocoServer {
  Poco::Net::ServerSocket socket{Poco::Net::SocketAddress("127.0.0.1", 0)};
  Poco::Net::HTTPServer server{new Factory, socket, new Poco::Net::HTTPServerParams};
  PocoServer() { server.start(); }
  ~PocoServer() { server.stopAll(true); }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(socket.address().port()) + "/echo"; }
};

}  // namespace

TEST_CASE("interop POCO server: the wslab client's text and binary come back", "[interop]") {
  PocoServer poco;
  wslab::net::BlockingClient ws;
  ws.connect(poco.url(), 5s);
  for (std::size_t size : {0u, 125u, 126u, 65535u, 65536u, 1u << 20}) {
    INFO("size " << size);
    const std::string text(size, 'p');
    ws.send_text(text);
    auto reply = ws.receive(10s);
    REQUIRE(reply);
    CHECK_FALSE(reply->binary);
    CHECK(reply->data == text);
    std::string binary(size, '\0');
    for (std::size_t i = 0; i < size; ++i) binary[i] = static_cast<char>(i * 13);
    ws.send_binary(binary);
    reply = ws.receive(10s);
    REQUIRE(reply);
    CHECK(reply->binary);
    CHECK(reply->data == binary);
  }
  const auto closed = ws.close(1000, "done");
  CHECK(closed.code == 1000);
  CHECK(closed.wasClean);
}

TEST_CASE("interop POCO server: a ping from the wslab client is answered", "[interop]") {
  PocoServer poco;
  wslab::net::BlockingClient ws;
  ws.connect(poco.url(), 5s);
  CHECK(ws.ping("hello?", 5s).has_value());
  ws.close();
}
