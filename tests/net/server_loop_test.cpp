// The event loop under the server: timers, posted work, socket handlers.
#include <wslab/net/loop.hpp>

#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using wslab::net::Clock;
using wslab::net::EventLoop;

namespace {

// A datagram socket pair on the loopback: `b` becomes readable when `a` sends.
struct UdpPair {
  Poco::Net::DatagramSocket b{Poco::Net::SocketAddress("127.0.0.1", 0), false};
  Poco::Net::DatagramSocket a{Poco::Net::SocketAddress::IPv4};
  UdpPair() {
    b.setBlocking(false);
    a.connect(b.address());
  }
  void ping() { a.sendBytes("x", 1); }
};

struct Recorder : EventLoop::Handler {
  std::function<void()> readable = [] {};
  int reads = 0, writes = 0, errors = 0;
  void on_readable() override {
    ++reads;
    readable();
  }
  void on_writable() override { ++writes; }
  void on_error() override { ++errors; }
};

// Runs `loop` on a thread; the destructor stops it and joins (bounded by the test's stops).
struct LoopThread {
  EventLoop& loop;
  std::thread thread;
  explicit LoopThread(EventLoop& l) : loop(l), thread([this] { loop.run(); }) {}
  ~LoopThread() {
    loop.stop();
    thread.join();
  }
};

}  // namespace

TEST_CASE("loop: timers run in time order, at or after their time, and cancel() stops one", "[net][loop]") {
  EventLoop loop;
  std::vector<int> order;
  std::vector<Clock::duration> lateness;
  const auto start = Clock::now();
  auto at = [&](int n, std::chrono::milliseconds delay) {
    const auto when = start + delay;
    return loop.at(when, [&, n, when] {
      order.push_back(n);
      lateness.push_back(loop.now() - when);
    });
  };
  at(3, 60ms);
  at(1, 20ms);
  const auto cancelled = at(99, 30ms);
  at(2, 40ms);
  loop.cancel(cancelled);
  loop.at(start + 80ms, [&] { loop.stop(); });
  loop.run();
  CHECK(order == std::vector<int>{1, 2, 3});
  for (auto late : lateness) CHECK(late >= Clock::duration::zero());
  CHECK(Clock::now() - start >= 80ms);
  CHECK(Clock::now() - start < 2s);
  CHECK_FALSE(loop.running());
}

TEST_CASE("loop: a timer cancelled by an earlier timer of the same batch does not run", "[net][loop]") {
  EventLoop loop;
  bool second_ran = false;
  const auto when = Clock::now() + 10ms;
  EventLoop::TimerId second = 0;
  loop.at(when, [&] { loop.cancel(second); });
  second = loop.at(when, [&] { second_ran = true; });
  loop.at(when + 20ms, [&] { loop.stop(); });
  loop.run();
  CHECK_FALSE(second_ran);
}

TEST_CASE("loop: post() from another thread wakes a sleeping loop at once, stop() from another thread ends run()",
          "[net][loop]") {
  EventLoop loop;
  // Nothing is scheduled: without a wake-up the loop would sleep for a minute.
  std::promise<Clock::time_point> ran;
  std::atomic<bool> on_loop_thread{false};
  std::thread::id loop_thread;
  std::thread runner([&] {
    loop_thread = std::this_thread::get_id();
    loop.run();
  });
  std::this_thread::sleep_for(50ms);
  CHECK(loop.running());
  const auto posted = Clock::now();
  loop.post([&] {
    on_loop_thread = std::this_thread::get_id() == loop_thread;
    ran.set_value(Clock::now());
  });
  auto done = ran.get_future();
  REQUIRE(done.wait_for(2s) == std::future_status::ready);
  CHECK(done.get() - posted < 500ms);
  CHECK(on_loop_thread);

  const auto stopping = Clock::now();
  loop.stop();
  runner.join();
  CHECK(Clock::now() - stopping < 500ms);
  CHECK_FALSE(loop.running());
}

TEST_CASE("loop: many posts from several threads all run, each exactly once", "[net][loop]") {
  EventLoop loop;
  LoopThread runner(loop);
  std::atomic<int> count{0};
  std::vector<std::thread> posters;
  for (int t = 0; t < 4; ++t)
    posters.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) loop.post([&] { ++count; });
    });
  for (auto& t : posters) t.join();
  const auto end = Clock::now() + 5s;
  while (count.load() < 4000 && Clock::now() < end) std::this_thread::sleep_for(1ms);
  CHECK(count.load() == 4000);
}

TEST_CASE("loop: a readable socket calls its handler, update() and remove() change what is reported", "[net][loop]") {
  EventLoop loop;
  UdpPair pair;
  Recorder r;
  char buffer[16];
  r.readable = [&] {
    pair.b.receiveBytes(buffer, sizeof buffer);
    if (r.reads == 1) {
      loop.update(pair.b, false, false);  // wait for nothing: the next datagram is not reported
      pair.ping();
      loop.at(loop.now() + 50ms, [&] {
        loop.update(pair.b, true, false);  // now it is
      });
    } else {
      loop.remove(pair.b);
      pair.ping();  // not reported: removed
      loop.at(loop.now() + 50ms, [&] { loop.stop(); });
    }
  };
  loop.add(pair.b, &r, true, false);
  pair.ping();
  loop.run();
  CHECK(r.reads == 2);
  CHECK(r.errors == 0);
}

TEST_CASE("loop: a handler may remove another ready socket, the removed handler is not called", "[net][loop]") {
  EventLoop loop;
  UdpPair p1, p2;
  Recorder r1, r2;
  char buffer[16];
  // Both sockets are ready in the same poll; whichever runs first removes the other.
  r1.readable = [&] {
    p1.b.receiveBytes(buffer, sizeof buffer);
    loop.remove(p2.b);
    loop.remove(p1.b);
  };
  r2.readable = [&] {
    p2.b.receiveBytes(buffer, sizeof buffer);
    loop.remove(p1.b);
    loop.remove(p2.b);
  };
  loop.add(p1.b, &r1, true, false);
  loop.add(p2.b, &r2, true, false);
  p1.ping();
  p2.ping();
  std::this_thread::sleep_for(20ms);  // both datagrams have arrived
  loop.at(Clock::now() + 100ms, [&] { loop.stop(); });
  loop.run();
  CHECK(r1.reads + r2.reads == 1);
}

TEST_CASE("loop: a socket waiting for writable is reported writable", "[net][loop]") {
  EventLoop loop;
  UdpPair pair;
  struct Writer : EventLoop::Handler {
    EventLoop& loop;
    Poco::Net::DatagramSocket& socket;
    int writes = 0;
    Writer(EventLoop& l, Poco::Net::DatagramSocket& s) : loop(l), socket(s) {}
    void on_readable() override {}
    void on_writable() override {
      ++writes;
      loop.update(socket, false, false);
      loop.stop();
    }
    void on_error() override {}
  } writer(loop, pair.a);
  loop.add(pair.a, &writer, false, true);
  loop.at(Clock::now() + 2s, [&] { loop.stop(); });  // a bound, should it never be reported
  loop.run();
  CHECK(writer.writes == 1);
  loop.remove(pair.a);
}
