// Every way a connection ends, seen from a real client and from the
// server's counters: close handshakes, failures, timeouts, dropped TCP.
#include "server_test_helpers.hpp"

#include <Poco/Logger.h>
#include <Poco/Message.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

using namespace wslab;
using namespace wslab::testing;

namespace {

// Reads a raw client's bytes until the server closes the TCP connection.
struct Ending {
  std::vector<WireFrame> frames;
  std::string bytes;
  bool eof = false;
  std::chrono::steady_clock::duration took{};
};
Ending read_to_end(RawClient& c, Duration timeout = 10s) {
  const auto start = std::chrono::steady_clock::now();
  Ending e;
  e.bytes = c.read_until_eof(timeout, &e.eof);
  e.took = std::chrono::steady_clock::now() - start;
  e.frames = parse_server_frames(e.bytes);
  return e;
}

std::uint64_t closed(const net::ServerStats& s, std::uint16_t code) {
  auto it = s.closed_by_code.find(code);
  return it == s.closed_by_code.end() ? 0 : it->second;
}

std::uint64_t sent(const net::ServerStats& s, std::uint16_t code) {
  auto it = s.closes_sent_by_code.find(code);
  return it == s.closes_sent_by_code.end() ? 0 : it->second;
}

}  // namespace

TEST_CASE("CL-3 CL-4 close: the client closes, the server answers with the same code and closes TCP first",
          "[net][server]") {
  RunningServer s;
  WsClient c(s.port());
  REQUIRE(c.open());
  c.close(1000, "bye");
  auto e = c.wait_close();
  REQUIRE(e);
  CHECK(e->code == 1000);  // the server's answer echoes the code (§5.5.1)
  CHECK(e->was_clean);
  REQUIRE(eventually([&] { return closed(s.stats(), 1000) == 1; }));
  CHECK(eventually([&] { return s.stats().open_connections == 0; }));
  CHECK(s.stats().websocket_connections == 0);
}

TEST_CASE("close: stop() sends 1001 to every client, completes the close handshakes and run() returns", "[net][server]") {
  RunningServer s;
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(std::make_unique<WsClient>(s.port(), WsClientOptions{.path = i % 2 ? "/ws" : "/chat/ws"}));
    REQUIRE(clients.back()->open());
  }
  s.server().stop();
  for (auto& c : clients) {
    auto e = c->wait_close();  // the client answers the Close by itself
    REQUIRE(e);
    CHECK(e->code == 1001);
    CHECK(e->reason == "server shutting down");
    CHECK(e->was_clean);
  }
  REQUIRE(eventually([&] { return s.finished(); }));
  CHECK(closed(s.stats(), 1001) == 5);
  CHECK(s.stats().open_connections == 0);
  // No longer accepting.
  CHECK_THROWS(RawClient(s.port()));
}

TEST_CASE("close: stop() after a long idle still waits close_timeout for the answer, counted from now",
          "[net][server]") {
  // A Connection knows the time only from what it is given; one idle for
  // longer than close_timeout must not take its Close as already timed out
  // (the server gave up at once and reported 1006 before the fix).
  auto options = test_options();
  options.close_timeout = 1s;
  RunningServer s(options);
  WsClient c(s.port());
  REQUIRE(c.open());
  std::this_thread::sleep_for(1500ms);  // idle: no reads, no timers
  s.server().stop();
  auto e = c.wait_close();
  REQUIRE(e);
  CHECK(e->code == 1001);
  CHECK(e->was_clean);
  REQUIRE(eventually([&] { return s.finished(); }));
  CHECK(closed(s.stats(), 1001) == 1);
  CHECK(closed(s.stats(), 1006) == 0);
}

TEST_CASE("close: stop() before run(): run() returns at once, having accepted nothing", "[net][server]") {
  net::Server server(test_options());
  server.stop();
  std::atomic<bool> returned{false};
  std::thread runner([&] {
    server.run();
    returned = true;
  });
  if (!eventually([&] { return returned.load(); }, 5s)) {
    std::fputs("run() did not return after stop(); aborting\n", stderr);
    std::abort();  // a thread stuck in run() cannot be joined
  }
  runner.join();
  CHECK(server.stats().total_accepted == 0);
}

TEST_CASE("close: a simultaneous close (each side sends Close before it sees the other's) ends cleanly", "[net][server]") {
  RunningServer s;
  WsClient c(s.port());
  REQUIRE(c.open());
  c.conn().close(1000, "me too");  // queued, not yet sent
  s.server().stop();                 // the server's Close 1001 is on its way
  std::this_thread::sleep_for(100ms);
  REQUIRE(c.flush());  // now ours crosses it
  auto e = c.wait_close();
  REQUIRE(e);
  CHECK(e->was_clean);
  CHECK(e->code == 1001);  // the code a closing endpoint reports is the one it received (§7.1.5)
  REQUIRE(eventually([&] { return s.finished(); }));
  CHECK(closed(s.stats(), 1000) == 1);  // and the server reports the client's
}

TEST_CASE("close: a client that never answers the Close is cut off after close_timeout", "[net][server]") {
  auto options = test_options();
  options.close_timeout = 500ms;
  RunningServer s(options);
  RawClient raw(s.port());
  REQUIRE(raw_upgrade(raw, "/ws"));
  const auto start = std::chrono::steady_clock::now();
  s.server().stop();
  const auto end = read_to_end(raw);  // we read, but never answer
  CHECK(end.eof);
  REQUIRE(end.frames.size() == 1);
  CHECK(end.frames[0].opcode == 0x8);
  CHECK(close_code_of(end.frames[0].payload) == 1001);
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= 400ms);
  CHECK(took < 3s);
  REQUIRE(eventually([&] { return s.finished(); }));
  CHECK(closed(s.stats(), 1006) == 1);  // no close handshake: abnormal (§7.1.5)
}

TEST_CASE("HB-1 close: a peer that does not answer pings is failed with 1011 after pong_timeout", "[net][server]") {
  auto options = test_options();
  options.ping_interval = 100ms;
  options.pong_timeout = 300ms;
  options.close_timeout = 300ms;
  RunningServer s(options);
  RawClient raw(s.port());
  REQUIRE(raw_upgrade(raw, "/ws"));
  const auto end = read_to_end(raw, 5s);
  CHECK(end.eof);
  REQUIRE(end.frames.size() >= 2);
  CHECK(end.frames.front().opcode == 0x9);  // ping
  CHECK(end.frames.back().opcode == 0x8);   // close
  CHECK(close_code_of(end.frames.back().payload) == 1011);
  CHECK(end.took < 3s);
  REQUIRE(eventually([&] { return s.stats().open_connections == 0; }));
  CHECK(sent(s.stats(), 1011) == 1);
  CHECK(closed(s.stats(), 1006) == 1);  // failed: no Close received (§7.1.5)
  CHECK(closed(s.stats(), 1011) == 0);
}

TEST_CASE("CL-7 close: the client drops TCP without a Close: the server reports 1006 and sends nothing", "[net][server]") {
  RunningServer s;
  SECTION("FIN") {
    WsClient c(s.port());
    REQUIRE(c.open());
    c.raw().shutdown_write();
    bool eof = false;
    const std::string after = c.raw().read_until_eof(5s, &eof);
    CHECK(eof);
    CHECK(after.empty());  // no Close frame: the connection is gone (§7.1.7 sends nothing on a dead TCP)
  }
  SECTION("reset") {
    WsClient c(s.port());
    REQUIRE(c.open());
    c.raw().reset();
  }
  REQUIRE(eventually([&] { return closed(s.stats(), 1006) == 1; }));
  CHECK(eventually([&] { return s.stats().open_connections == 0; }));
  CHECK(s.stats().websocket_connections == 0);
}

TEST_CASE("FR-8 close: a message over max_message_size is refused with 1009 and the connection closed", "[net][server]") {
  SECTION("one frame of 16 MiB + 1 with the default limits") {
    RunningServer s;
    WsClient c(s.port());
    REQUIRE(c.open());
    REQUIRE(c.send_binary(pattern((16u << 20) + 1)));
    auto e = c.wait_close(10s);
    REQUIRE(e);
    CHECK(e->code == 1009);
    REQUIRE(eventually([&] { return sent(s.stats(), 1009) == 1; }));
    // The server failed the connection: whatever the client answered was not
    // processed, so the server reports 1006 (§7.1.5, §7.1.7).
    CHECK(closed(s.stats(), 1006) == 1);
    CHECK(closed(s.stats(), 1009) == 0);
  }
  SECTION("small fragments adding up to more than a small limit") {
    auto options = test_options();
    options.max_message_size = 1000;
    RunningServer s(options);
    WsClient c(s.port());
    REQUIRE(c.open());
    const std::string piece(400, 'x');
    REQUIRE(c.send_fragments(framing::Opcode::text, {piece, piece, piece}));
    auto e = c.wait_close();
    REQUIRE(e);
    CHECK(e->code == 1009);
    CHECK(eventually([&] { return s.stats().open_connections == 0; }));
  }
}

TEST_CASE("FR-1 MK-2 close: a bad frame fails the connection with 1002, logged at warning with the rule", "[net][server]") {
  Poco::AutoPtr<LogCapture> log(new LogCapture);
  auto& logger = Poco::Logger::get("wslab.server");
  logger.setChannel(log);
  logger.setLevel(Poco::Message::PRIO_DEBUG);

  RunningServer s;
  SECTION("RSV1 set without an extension") {
    RawClient raw(s.port());
    REQUIRE(raw_upgrade(raw, "/ws"));
    REQUIRE(raw.send(client_frame(0x1, "hi", true, true, /*rsv1=*/true)));
    const auto end = read_to_end(raw);
    CHECK(end.eof);
    REQUIRE(end.frames.size() == 1);
    CHECK(end.frames[0].opcode == 0x8);
    CHECK(close_code_of(end.frames[0].payload) == 1002);
  }
  SECTION("an unmasked client frame") {
    RawClient raw(s.port());
    REQUIRE(raw_upgrade(raw, "/ws"));
    REQUIRE(raw.send(client_frame(0x2, "hi", true, /*mask=*/false)));
    const auto end = read_to_end(raw);
    CHECK(end.eof);
    REQUIRE(end.frames.size() == 1);
    CHECK(close_code_of(end.frames[0].payload) == 1002);
  }
  REQUIRE(eventually([&] { return s.stats().open_connections == 0; }));
  CHECK(log->contains(Poco::Message::PRIO_WARNING, "1002: "));
  CHECK(log->contains(Poco::Message::PRIO_INFORMATION, " open /ws from 127.0.0.1:"));
  CHECK(log->contains(Poco::Message::PRIO_INFORMATION, " closed 1006 not clean (sent close 1002): 1002: "));
  CHECK(sent(s.stats(), 1002) == 1);
  logger.setChannel(nullptr);
  logger.setLevel(Poco::Message::PRIO_INFORMATION);
}

TEST_CASE("close: invalid UTF-8 in a text message fails the connection with 1007", "[net][server]") {
  RunningServer s;
  RawClient raw(s.port());
  REQUIRE(raw_upgrade(raw, "/ws"));
  REQUIRE(raw.send(client_frame(0x1, "ok \xC0\xAF")));  // an overlong "/"
  const auto end = read_to_end(raw);
  CHECK(end.eof);
  REQUIRE(end.frames.size() == 1);
  CHECK(close_code_of(end.frames[0].payload) == 1007);
}

TEST_CASE("close: clients killed mid-frame leave the server healthy for the next one", "[net][server]") {
  RunningServer s;
  {
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < 20; ++i) {
      clients.push_back(std::make_unique<RawClient>(s.port()));
      REQUIRE(raw_upgrade(*clients.back(), i % 4 == 0 ? "/chat/ws" : "/ws"));
      // A header announcing 1000 bytes, then only half of them.
      const std::string frame = client_frame(0x2, std::string(1000, 'z'));
      REQUIRE(clients.back()->send(frame.substr(0, 500)));
    }
    // Half of them half-way through a request head.
    for (int i = 0; i < 10; ++i) {
      clients.push_back(std::make_unique<RawClient>(s.port()));
      REQUIRE(clients.back()->send("GET /ws HTTP/1.1\r\nHost: x\r\nUpg"));
    }
    REQUIRE(eventually([&] { return s.stats().open_connections == 30; }));
    for (std::size_t i = 0; i < clients.size(); ++i) {
      if (i % 2) clients[i]->reset();  // RST
    }
  }  // the rest close normally (FIN)
  REQUIRE(eventually([&] { return s.stats().open_connections == 0; }));
  CHECK(s.stats().websocket_connections == 0);
  CHECK(closed(s.stats(), 1006) == 20);

  const auto health = http_exchange(s.port(), http_get("/healthz"));
  CHECK(health.status == 200);
  CHECK(health.body == "{\"status\":\"ok\",\"connections\":0}\n");
  WsClient c(s.port());
  REQUIRE(c.open());
  REQUIRE(c.send_text("still serving"));
  auto e = c.next_message();
  REQUIRE(e);
  CHECK(e->data == "still serving");
}
