// poco_echo: the POCO WebSocket echo server the network benchmarks compare
// wslab with (tests/bench/run_net_bench.py). Poco::Net::HTTPServer hands
// each connection to a thread from its pool, and Poco::Net::WebSocket reads
// and writes frames with blocking calls on that thread: a thread per open
// connection, the design wslab's one event loop avoids.
//
//   poco_echo [--port 0] [--host 127.0.0.1] [--threads 1024]   prints "listening on PORT"
//
// Settings that differ from POCO's defaults (docs/performance.md lists them):
//   ThreadPool(2, THREADS) and HTTPServerParams maxThreads = maxQueued =
//     THREADS (defaults: a pool of 16 and maxThreads 0, i.e. the pool's size;
//     maxQueued 64): with one thread per connection, THREADS must cover every
//     connection the scenario opens;
//   listen backlog 1024 (wslab's; ServerSocket's default is 64);
//   TCP_NODELAY on every WebSocket (as wslab and Beast);
//   WebSocket receive timeout 0, i.e. none (the HTTP server's 60 s would end
//     an idle connection; wslab with --ping-interval 0 keeps it);
//   setMaxPayloadSize(16 MiB), wslab's max_message_size (default: INT_MAX).
// Frames are echoed one by one with the flags (FIN, opcode) they came with,
// which mirrors text and binary; a ping is answered with a pong, a Close
// with a Close carrying the same payload, after which the server closes.
#include <Poco/Buffer.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/ThreadPool.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include <pthread.h>

using Poco::Net::WebSocket;

namespace {

class EchoHandler : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    try {
      WebSocket ws(request, response);  // validates the upgrade and sends the 101
      ws.setNoDelay(true);
      ws.setReceiveTimeout(Poco::Timespan(0));
      ws.setMaxPayloadSize(16 << 20);
      echo(ws);
    } catch (const Poco::Net::WebSocketException& e) {
      // Not an acceptable upgrade (POCO's example answers the same way).
      if (!response.sent()) {
        response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_BAD_REQUEST);
        response.setContentLength(0);
        response.send();
      }
    } catch (const Poco::Exception&) {
      // A reset or a broken frame: the connection ends.
    }
  }

 private:
  static void echo(WebSocket& ws) {
    constexpr int kFin = WebSocket::FRAME_FLAG_FIN;
    Poco::Buffer<char> buffer(0);
    for (;;) {
      buffer.resize(0, false);  // receiveFrame() appends to what the buffer holds
      int flags = 0;
      const int n = ws.receiveFrame(buffer, flags);
      if (n == 0 && flags == 0) return;  // the peer closed the TCP connection
      switch (flags & WebSocket::FRAME_OP_BITMASK) {
        case WebSocket::FRAME_OP_CLOSE:
          ws.sendFrame(buffer.begin(), n, kFin | WebSocket::FRAME_OP_CLOSE);
          return;  // the HTTP server closes the socket when the handler returns
        case WebSocket::FRAME_OP_PING:
          ws.sendFrame(buffer.begin(), n, kFin | WebSocket::FRAME_OP_PONG);
          break;
        case WebSocket::FRAME_OP_PONG:
          break;
        default:
          ws.sendFrame(buffer.begin(), n, flags);
          break;
      }
    }
  }
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new EchoHandler;
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  int threads = 1024;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view arg = argv[i];
    if (arg == "--port") port = static_cast<unsigned short>(std::atoi(argv[i + 1]));
    else if (arg == "--host") host = argv[i + 1];
    else if (arg == "--threads") threads = std::atoi(argv[i + 1]);
    else {
      std::cerr << "usage: poco_echo [--port 0] [--host 127.0.0.1] [--threads 1024]\n";
      return 2;
    }
  }
  if (threads < 2) threads = 2;

  // SIGINT and SIGTERM are taken by sigwait() below: block them before any
  // thread starts, so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  try {
    Poco::ThreadPool pool(2, threads);
    auto params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(threads);
    params->setMaxQueued(threads);
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress(host, port), 1024);
    Poco::Net::HTTPServer server(new Factory, pool, socket, params);
    server.start();
    std::cout << "listening on " << socket.address().port() << std::endl;
    int signal = 0;
    sigwait(&signals, &signal);
    server.stopAll(true);
    pool.joinAll();
  } catch (const Poco::Exception& e) {
    std::cerr << "poco_echo: " << e.displayText() << "\n";
    return 1;
  }
}
