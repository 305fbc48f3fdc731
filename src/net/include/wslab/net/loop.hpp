// Layer 3: the event loop every socket of wslab's server and client runs on.
//
// One thread, one loop, many sockets: a POCO PollSet (epoll on Linux) tells
// which sockets are ready, and the loop calls their handlers. Nothing blocks:
// a slow peer costs a little memory, never a thread. Timers and work posted
// from other threads run on the loop thread too, so handlers need no locks.
#pragma once

#include <Poco/Net/PollSet.h>
#include <Poco/Net/Socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace wslab::net {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::milliseconds;

class EventLoop {
 public:
  // What a registered socket is told. Called on the loop thread.
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void on_readable() = 0;
    virtual void on_writable() = 0;
    // The socket reported an error or hang-up (the handler usually closes).
    virtual void on_error() = 0;
  };

  using TimerId = std::uint64_t;

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Loop thread only. `readable`/`writable` choose what to wait for; a
  // handler removes its socket before it is destroyed.
  void add(const Poco::Net::Socket& socket, Handler* handler, bool readable, bool writable);
  void update(const Poco::Net::Socket& socket, bool readable, bool writable);
  void remove(const Poco::Net::Socket& socket);

  // Loop thread only: run `fn` at `when` (once). cancel() is a no-op for a
  // timer that already ran.
  TimerId at(TimePoint when, std::function<void()> fn);
  void cancel(TimerId id);

  // Any thread: run `fn` on the loop thread soon (wakes the loop up).
  void post(std::function<void()> fn);

  // Runs until stop(); returns on the thread that called it.
  void run();
  // Any thread.
  void stop();
  bool running() const;

  // The loop's clock, read once per iteration (what handlers pass to the
  // sans-I/O Connection as `now`).
  TimePoint now() const { return now_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  TimePoint now_;
};

}  // namespace wslab::net
