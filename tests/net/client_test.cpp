// The client against the wslab server on 127.0.0.1: echo, sizes, readyState,
// closing both ways, bufferedAmount, a shared event loop.
#include "client_helpers.hpp"
#include "server_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <future>

using namespace wslab;
using namespace wslab::testing;
using net::Client;
using net::ReadyState;

namespace {

std::string ws_url(std::uint16_t port, std::string_view path = "/ws") {
  return "ws://127.0.0.1:" + std::to_string(port) + std::string(path);
}

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

TEST_CASE("client: echo of a text message, readyState CONNECTING, OPEN, CLOSED as the callbacks see it", "[net]") {
  RunningServer server;
  Recorder r;
  Client ws(ws_url(server.port()));
  r.attach(ws);
  auto recorded_open = ws.onopen;
  ws.onopen = [&, recorded_open] {
    recorded_open();
    ws.send("hello");
  };
  CHECK(ws.readyState() == Client::CONNECTING);
  CHECK(ws.url() == ws_url(server.port()));
  CHECK(ws.protocol().empty());
  CHECK(ws.extensions().empty());
  ws.connect();
  REQUIRE(r.wait_messages(1));
  CHECK(ws.readyState() == Client::OPEN);
  ws.close(4000, "done");
  REQUIRE(r.wait_close());
  CHECK(ws.readyState() == Client::CLOSED);
  // The server echoes our code (§5.5.1); whether it repeats the reason is
  // up to it.
  const auto log = r.log();
  REQUIRE(log.size() == 3);
  CHECK(log[0] == "open OPEN");
  CHECK(log[1] == "text hello OPEN");
  CHECK_THAT(log[2], Catch::StartsWith("close 4000 clean ") && Catch::EndsWith(" CLOSED"));
  CHECK_FALSE(r.error());
}

TEST_CASE("client: binary messages come back as binary, text as text, in order", "[net]") {
  RunningServer server;
  Recorder r;
  Client ws(ws_url(server.port()));
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_open());
  const std::string blob("\x00\x01\xfe\xff", 4);
  ws.send(bytes(blob));
  ws.send("text after binary");
  ws.send(std::span<const std::uint8_t>());  // an empty binary message
  REQUIRE(r.wait_messages(3));
  const auto messages = r.messages();
  CHECK(messages[0].binary);
  CHECK(messages[0].data == blob);
  CHECK_FALSE(messages[1].binary);
  CHECK(messages[1].data == "text after binary");
  CHECK(messages[2].binary);
  CHECK(messages[2].data.empty());
}

TEST_CASE("client: 1 MiB text and 1 MiB binary messages are echoed intact", "[net]") {
  RunningServer server;
  Recorder r;
  Client ws(ws_url(server.port()));
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_open());
  const std::string text = text_pattern(1u << 20, 7);
  const std::string blob = pattern(1u << 20, 8);
  ws.send(text);
  ws.send(bytes(blob));
  REQUIRE(r.wait_messages(2, 10s));
  const auto messages = r.messages();
  CHECK_FALSE(messages[0].binary);
  CHECK(messages[0].data == text);
  CHECK(messages[1].binary);
  CHECK(messages[1].data == blob);
}

TEST_CASE("FR-8 client: a message over max_message_size fails the connection with 1009", "[net]") {
  RunningServer server;
  net::ClientOptions options;
  options.max_message_size = 1000;
  // Uncompressed, so the frame on the wire is what is too big (FR-8); the
  // compressed case (the inflated size is too big) is PMD-7 in deflate_test.cpp.
  options.permessage_deflate.reset();
  Recorder r;
  Client ws(ws_url(server.port()), {}, options);
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_open());
  ws.send(std::string(1000, 'a'));  // the limit is inclusive
  REQUIRE(r.wait_messages(1));
  ws.send(std::string(1001, 'b'));  // echoed back: too big for us
  REQUIRE(r.wait_close());
  REQUIRE(r.error());
  REQUIRE(r.error()->violation);
  // One frame: the frame limit (the same number) is what it breaks first.
  CHECK(r.error()->violation->id() == error::frame_too_big);
  CHECK(r.closed()->code == 1006);  // §7.1.5: the client failed, it received no Close
  CHECK(r.closed()->sentCode == std::optional<std::uint16_t>(1009));
  CHECK_FALSE(r.closed()->wasClean);
  CHECK(r.message_count() == 1);
}

TEST_CASE("CL-3 client: the client closes with a code and reason, the server echoes the code, clean", "[net]") {
  RunningServer server;
  Recorder r;
  Client ws(ws_url(server.port()));
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_open());
  ws.close();  // 1000 by default
  REQUIRE(r.wait_close());
  CHECK(r.closed()->code == 1000);
  CHECK(r.closed()->wasClean);
  CHECK(eventually([&] { return server.stats().closed_by_code[1000] == 1; }));
  // Closing again does nothing; sending after the close is discarded but
  // counted in bufferedAmount, as the WHATWG API does.
  ws.close(4001);
  ws.send("too late");
  CHECK(eventually([&] { return ws.bufferedAmount() == 8; }));
  std::this_thread::sleep_for(50ms);
  CHECK(r.log().size() == 2);  // open, close: nothing more
}

TEST_CASE("CL-4 client: the server closes (stop, 1001), the client reports a clean close with its code", "[net]") {
  RunningServer server;
  Recorder r;
  Client ws(ws_url(server.port()));
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_open());
  REQUIRE(server.stop());
  REQUIRE(r.wait_close());
  CHECK(r.closed()->code == 1001);
  CHECK(r.closed()->wasClean);
  CHECK(r.closed()->reason == "server shutting down");
  CHECK(r.log().back() == "close 1001 clean server shutting down CLOSED");
}

TEST_CASE("CL-5 client: a server that never answers our Close: CLOSING, then 1006 after close_timeout", "[net]") {
  ScriptedServer peer({});
  net::ClientOptions options;
  options.close_timeout = 300ms;
  Recorder r;
  Client ws(ws_url(peer.port()), {}, options);
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_open());
  const auto start = std::chrono::steady_clock::now();
  ws.close(1000, "bye");
  CHECK(eventually([&] { return ws.readyState() == Client::CLOSING; }, 2s));
  REQUIRE(r.wait_close(3s));
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= 300ms);
  CHECK(took < 2s);
  CHECK(r.closed()->code == 1006);
  CHECK_FALSE(r.closed()->wasClean);
  CHECK(ws.readyState() == Client::CLOSED);
}

TEST_CASE("client: a Close frame from the server with a code and reason reaches onclose", "[net]") {
  // Server -> client frames are unmasked (§5.1): 0x88, length, code 4002, "bye".
  ScriptedServer::Script script;
  script.after_open = std::string("\x88\x05\x0f\xa2" "bye", 7);
  ScriptedServer peer(script);
  // The scripted server never closes TCP after the Close (a server should,
  // §7.1.1): the client answers the Close, waits close_timeout, then closes.
  net::ClientOptions options;
  options.close_timeout = 200ms;
  Recorder r;
  Client ws(ws_url(peer.port()), {}, options);
  r.attach(ws);
  ws.connect();
  REQUIRE(r.wait_open());
  REQUIRE(r.wait_close(3s));
  CHECK(r.closed()->code == 4002);
  CHECK(r.closed()->reason == "bye");
  CHECK(r.log().front() == "open OPEN");
}

TEST_CASE("client: bufferedAmount counts bytes passed to send() until they reach the operating system", "[net]") {
  RunningServer server;
  net::EventLoop loop;
  std::thread loop_thread([&] { loop.run(); });
  {
    Recorder r;
    Client ws(loop, ws_url(server.port()));
    r.attach(ws);
    ws.connect();
    REQUIRE(r.wait_open());
    CHECK(ws.bufferedAmount() == 0);

    // Keep the loop busy so the sends wait in its queue.
    std::promise<void> release;
    std::promise<void> busy;
    loop.post([&] {
      busy.set_value();
      release.get_future().wait();
    });
    busy.get_future().wait();
    ws.send("12345");
    ws.send(std::string(1000, 'x'));
    CHECK(ws.bufferedAmount() == 1005);
    release.set_value();
    CHECK(eventually([&] { return ws.bufferedAmount() == 0; }));
    REQUIRE(r.wait_messages(2));
    ws.close();
    REQUIRE(r.wait_close());
  }
  loop.stop();
  loop_thread.join();
}

TEST_CASE("client: many clients share one event loop (no thread per connection)", "[net]") {
  RunningServer server;
  net::EventLoop loop;
  std::thread loop_thread([&] { loop.run(); });
  {
    constexpr int kClients = 8;
    std::vector<std::unique_ptr<Recorder>> recorders;  // outlive the clients that call them
    std::vector<std::unique_ptr<Client>> clients;
    std::atomic<int> callbacks_elsewhere{0};
    const auto loop_id = std::make_shared<std::thread::id>();
    std::promise<void> got_id;
    loop.post([&] {
      *loop_id = std::this_thread::get_id();
      got_id.set_value();
    });
    got_id.get_future().wait();
    for (int i = 0; i < kClients; ++i) {
      clients.push_back(std::make_unique<Client>(loop, ws_url(server.port())));
      recorders.push_back(std::make_unique<Recorder>());
      recorders.back()->attach(*clients.back());
      Client* c = clients.back().get();
      auto recorded = c->onopen;
      c->onopen = [c, i, recorded, loop_id, &callbacks_elsewhere] {
        if (std::this_thread::get_id() != *loop_id) ++callbacks_elsewhere;
        recorded();
        c->send("client " + std::to_string(i));
      };
      c->connect();
    }
    for (int i = 0; i < kClients; ++i) {
      REQUIRE(recorders[i]->wait_messages(1));
      CHECK(recorders[i]->messages()[0].data == "client " + std::to_string(i));
    }
    CHECK(callbacks_elsewhere == 0);
    CHECK(server.stats().websocket_connections == kClients);
  }
  // The clients were destroyed while OPEN: each sent 1001 "going away".
  CHECK(eventually([&] { return server.stats().closed_by_code[1001] == 8; }));
  loop.stop();
  loop_thread.join();
}

TEST_CASE("client: destroying an OPEN client sends Close 1001 and no callback runs afterwards", "[net]") {
  RunningServer server;
  std::atomic<int> callbacks{0};
  {
    Recorder r;
    Client ws(ws_url(server.port()));
    r.attach(ws);
    ws.connect();
    REQUIRE(r.wait_open());
    ws.onclose = [&](const net::CloseEvent&) { ++callbacks; };
    ws.onerror = [&](const net::ErrorEvent&) { ++callbacks; };
  }
  CHECK(eventually([&] { return server.stats().closed_by_code[1001] == 1; }));
  CHECK(callbacks == 0);
}
