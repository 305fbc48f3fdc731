// beast_echo: the Boost.Beast WebSocket echo server the network benchmarks
// compare wslab with (tests/bench/run_net_bench.py). It is Beast's own
// asynchronous echo server (libs/beast/example/websocket/server/async) with
// the settings below, serving every connection on one io_context thread, as
// wslab serves on one event loop thread.
//
//   beast_echo [--port 0] [--host 127.0.0.1] [--deflate]   prints "listening on PORT"
//
// --deflate: accept permessage-deflate (RFC 7692) as wslab serve does by
// default (run_deflate_bench.py): Beast's permessage_deflate option with
// server_enable, a 15-bit window both ways, context takeover, and zlib
// level 6 and memLevel 8 (wslab's settings; Beast's defaults are 8 and 4).
// Beast compresses with its own port of zlib (boost/beast/zlib).
//
// Settings that differ from Beast's defaults (docs/performance.md lists them):
//   TCP_NODELAY on every accepted socket (as wslab: small echoes are not held
//     back by Nagle's algorithm);
//   auto_fragment(false): a message goes out as one frame (the default splits
//     it into frames of write_buffer_bytes, 4096), as wslab and POCO send it;
//   read_message_max(16 MiB), wslab's max_message_size (Beast's default is
//     16 MiB too; set here so that it is stated);
//   timeout: handshake 10 s (wslab's handshake_timeout), no idle timeout, no
//     keep-alive pings (wslab runs with --ping-interval 0);
//   listen backlog 1024 (wslab's; Beast's examples pass SOMAXCONN);
//   no strand per connection (the example has one because it runs several
//     threads; with one thread it is pure overhead).
// The echo mirrors the opcode: ws.text(ws.got_text()) before each write.
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// One WebSocket connection: accept the upgrade, then read a message and
// write it back, until the peer closes.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, bool deflate) : ws_(std::move(socket)) {
    if (deflate) {
      websocket::permessage_deflate pmd;
      pmd.server_enable = true;
      pmd.server_max_window_bits = 15;
      pmd.client_max_window_bits = 15;
      pmd.server_no_context_takeover = false;
      pmd.client_no_context_takeover = false;
      pmd.compLevel = 6;
      pmd.memLevel = 8;
      ws_.set_option(pmd);
    }
  }

  void run() {
    ws_.set_option(websocket::stream_base::timeout{
        .handshake_timeout = std::chrono::seconds(10),
        .idle_timeout = websocket::stream_base::none(),
        .keep_alive_pings = false,
    });
    ws_.auto_fragment(false);
    ws_.read_message_max(16u << 20);
    ws_.async_accept(beast::bind_front_handler(&Session::on_accept, shared_from_this()));
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) return;  // a bad handshake: Beast has answered it; drop the connection
    read();
  }

  void read() { ws_.async_read(buffer_, beast::bind_front_handler(&Session::on_read, shared_from_this())); }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return;  // websocket::error::closed (a clean close) or a failure: the session ends
    ws_.text(ws_.got_text());
    ws_.async_write(buffer_.data(), beast::bind_front_handler(&Session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t bytes) {
    if (ec) return;
    buffer_.consume(bytes);
    read();
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& ioc, const tcp::endpoint& endpoint, bool deflate)
      : ioc_(ioc), acceptor_(ioc), deflate_(deflate) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(1024);
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  void accept() {
    // Each socket on the io_context itself: one thread runs every handler, so
    // the strand of Beast's multi-threaded example would only cost time.
    acceptor_.async_accept(ioc_, beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
  }

 private:
  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(socket), deflate_)->run();
    } else if (ec == net::error::no_descriptors) {
      std::cerr << "beast_echo: accept: " << ec.message() << "\n";
    }
    accept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  bool deflate_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  bool deflate = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--deflate") deflate = true;
    else if (arg == "--port" && i + 1 < argc) port = static_cast<unsigned short>(std::atoi(argv[++i]));
    else if (arg == "--host" && i + 1 < argc) host = argv[++i];
    else {
      std::cerr << "usage: beast_echo [--port 0] [--host 127.0.0.1] [--deflate]\n";
      return 2;
    }
  }
  try {
    net::io_context ioc{1};  // concurrency hint 1: one thread runs it
    auto listener = std::make_shared<Listener>(ioc, tcp::endpoint{net::ip::make_address(host), port}, deflate);
    listener->accept();
    std::cout << "listening on " << listener->port() << std::endl;
    ioc.run();
  } catch (const std::exception& e) {
    std::cerr << "beast_echo: " << e.what() << "\n";
    return 1;
  }
}
