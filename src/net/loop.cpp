// Layer 3: the event loop. See loop.hpp for the contract.
//
// One iteration:
//
//   1. wait in PollSet::poll (epoll) until a socket is ready, the first timer
//      is due, or another thread posts work (a datagram on the wake-up socket);
//   2. read the clock once: that is now() for everything this iteration does;
//   3. call the handlers of the ready sockets;
//   4. run the work posted from other threads;
//   5. run the timers that are due.
//
// Handlers may add and remove sockets, their own included, and start and
// cancel timers while they run: every call goes through a lookup that sees
// those changes, so a handler removed a moment ago is never called again.
#include "wslab/net/loop.hpp"

#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Timespan.h>

#include <algorithm>
#include <atomic>
#include <unordered_map>
#include <utility>

namespace wslab::net {

namespace {

// The longest single wait in poll() when nothing is scheduled. Any wake-up
// (a socket, a post, stop()) ends it earlier; it only bounds how long a
// clock jump could go unnoticed.
constexpr auto kMaxWait = std::chrono::seconds(60);

int poll_mode(bool readable, bool writable) {
  return (readable ? Poco::Net::PollSet::POLL_READ : 0) | (writable ? Poco::Net::PollSet::POLL_WRITE : 0);
}

}  // namespace

struct EventLoop::Impl {
  Poco::Net::PollSet poll_set;

  // What PollSet reports is a Socket; we find its handler by the socket's
  // implementation object, which the reported Socket keeps alive, so an
  // address cannot be reused by a new socket while we dispatch.
  struct Registration {
    Handler* handler = nullptr;
    int mode = 0;             // what we wait for; 0 = nothing (not in the PollSet)
    bool in_poll_set = false;
  };
  std::unordered_map<const Poco::Net::SocketImpl*, Registration> registered;

  // Timers, ordered by time and then by id (first scheduled, first run). A
  // timer's entry in `when` lives until it runs or is cancelled, so cancel()
  // of a timer that is due in the batch being run still stops it.
  std::map<std::pair<TimePoint, TimerId>, std::function<void()>> timers;
  std::unordered_map<TimerId, TimePoint> when;
  TimerId next_timer = 1;
  std::vector<std::pair<TimerId, std::function<void()>>> due;  // reused batch

  // Work posted from any thread. `wake_pending` says a wake-up datagram is
  // already on its way, so a burst of posts sends one datagram.
  std::mutex mutex;
  std::vector<std::function<void()>> posted;
  std::vector<std::function<void()>> running_posted;  // the batch being run (loop thread)
  bool wake_pending = false;

  // The wake-up: a pair of UDP sockets on the loopback interface. PollSet
  // watches only sockets, and a datagram from another thread makes the
  // receiving one readable, which ends poll() at once.
  Poco::Net::DatagramSocket wake_receiver;
  Poco::Net::DatagramSocket wake_sender;

  std::atomic<bool> stop_requested{false};
  std::atomic<bool> running{false};

  Impl()
      : wake_receiver(Poco::Net::SocketAddress("127.0.0.1", 0), false),
        wake_sender(Poco::Net::SocketAddress::IPv4) {
    wake_receiver.setBlocking(false);
    wake_sender.connect(wake_receiver.address());
    // Connected both ways: the receiver takes datagrams from our sender only.
    wake_receiver.connect(wake_sender.address());
    poll_set.add(wake_receiver, Poco::Net::PollSet::POLL_READ);
  }

  void wake() {
    {
      std::lock_guard lock(mutex);
      if (wake_pending) return;
      wake_pending = true;
    }
    const char byte = 1;
    try {
      wake_sender.sendBytes(&byte, 1);
    } catch (const Poco::Exception&) {
      // The loopback refused a one-byte datagram (out of buffers): let the
      // next post try again; the loop still runs posted work at its next
      // iteration, at the latest when poll()'s timeout ends.
      std::lock_guard lock(mutex);
      wake_pending = false;
    }
  }

  void drain_wake_socket() {
    char buffer[64];
    try {
      while (wake_receiver.receiveBytes(buffer, sizeof buffer) > 0) {
      }
    } catch (const Poco::Exception&) {
      // Nothing more to read (or a stray error on the datagram socket).
    }
    // Emptied: the next post must send a datagram again. Work posted just
    // before this point is run by this iteration's run_posted().
    std::lock_guard lock(mutex);
    wake_pending = false;
  }

  void set_mode(const Poco::Net::Socket& socket, Registration& r, int mode) {
    if (mode == r.mode && r.in_poll_set == (mode != 0)) return;  // no system call needed
    // A socket that waits for nothing is taken out of the PollSet: epoll
    // reports a hang-up even for an empty interest set, and PollSet has no
    // name for it, so the loop would spin on an event it cannot deliver.
    if (mode == 0) {
      if (r.in_poll_set) poll_set.remove(socket);
      r.in_poll_set = false;
    } else if (r.in_poll_set) {
      poll_set.update(socket, mode);
    } else {
      poll_set.add(socket, mode);
      r.in_poll_set = true;
    }
    r.mode = mode;
  }

  // How long poll() may sleep: until the first timer, 0 if work is waiting.
  Poco::Timespan wait_time() {
    {
      std::lock_guard lock(mutex);
      if (!posted.empty()) return Poco::Timespan(0);
    }
    if (stop_requested.load()) return Poco::Timespan(0);
    auto wait = std::chrono::duration_cast<std::chrono::microseconds>(kMaxWait);
    if (!timers.empty()) {
      const auto until = timers.begin()->first.first - Clock::now();
      wait = std::clamp(std::chrono::ceil<std::chrono::microseconds>(until),
                        std::chrono::microseconds(0), wait);
    }
    // epoll waits in whole milliseconds (PollSet rounds down): round up, so
    // we never wake just before a timer and spin until it is due.
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait);
    return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
  }

  void dispatch(const Poco::Net::PollSet::SocketModeMap& ready) {
    for (const auto& [socket, mode] : ready) {
      const Poco::Net::SocketImpl* key = socket.impl();
      if (key == wake_receiver.impl()) {
        drain_wake_socket();
        continue;
      }
      // Look the handler up before each call: the previous call may have
      // removed this socket (or another handler removed it).
      auto handler_for = [&](int wanted) -> Handler* {
        auto it = registered.find(key);
        if (it == registered.end()) return nullptr;
        if (wanted != 0 && (it->second.mode & wanted) == 0) return nullptr;
        return it->second.handler;
      };
      if (mode & Poco::Net::PollSet::POLL_READ) {
        if (Handler* h = handler_for(Poco::Net::PollSet::POLL_READ)) h->on_readable();
      }
      if (mode & Poco::Net::PollSet::POLL_ERROR) {
        if (Handler* h = handler_for(0)) h->on_error();
      }
      if (mode & Poco::Net::PollSet::POLL_WRITE) {
        if (Handler* h = handler_for(Poco::Net::PollSet::POLL_WRITE)) h->on_writable();
      }
    }
  }

  void run_posted() {
    {
      std::lock_guard lock(mutex);
      if (posted.empty()) return;
      running_posted.swap(posted);
    }
    for (auto& fn : running_posted) fn();
    running_posted.clear();
  }

  void run_timers(TimePoint now) {
    // Take the due timers out first: a timer that schedules another for
    // `now` runs it at the next iteration, not in an endless loop here.
    while (!timers.empty() && timers.begin()->first.first <= now) {
      auto node = timers.extract(timers.begin());
      due.emplace_back(node.key().second, std::move(node.mapped()));
    }
    for (auto& [id, fn] : due) {
      if (when.erase(id) == 0) continue;  // cancelled by a timer that ran before it
      fn();
    }
    due.clear();
  }
};

EventLoop::EventLoop() : impl_(std::make_unique<Impl>()), now_(Clock::now()) {}

EventLoop::~EventLoop() = default;

void EventLoop::add(const Poco::Net::Socket& socket, Handler* handler, bool readable, bool writable) {
  auto [it, inserted] = impl_->registered.try_emplace(socket.impl());
  it->second.handler = handler;
  impl_->set_mode(socket, it->second, poll_mode(readable, writable));
}

void EventLoop::update(const Poco::Net::Socket& socket, bool readable, bool writable) {
  auto it = impl_->registered.find(socket.impl());
  if (it == impl_->registered.end()) return;
  impl_->set_mode(socket, it->second, poll_mode(readable, writable));
}

void EventLoop::remove(const Poco::Net::Socket& socket) {
  auto it = impl_->registered.find(socket.impl());
  if (it == impl_->registered.end()) return;
  if (it->second.in_poll_set) {
    try {
      impl_->poll_set.remove(socket);
    } catch (const Poco::Exception&) {
      // The socket was closed before it was removed (epoll forgets closed
      // descriptors by itself); nothing is left to undo.
    }
  }
  impl_->registered.erase(it);
}

EventLoop::TimerId EventLoop::at(TimePoint when, std::function<void()> fn) {
  const TimerId id = impl_->next_timer++;
  impl_->timers.emplace(std::make_pair(when, id), std::move(fn));
  impl_->when.emplace(id, when);
  return id;
}

void EventLoop::cancel(TimerId id) {
  auto it = impl_->when.find(id);
  if (it == impl_->when.end()) return;
  impl_->timers.erase(std::make_pair(it->second, id));  // absent if it is in the batch being run
  impl_->when.erase(it);
}

void EventLoop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->posted.push_back(std::move(fn));
  }
  impl_->wake();
}

void EventLoop::run() {
  impl_->running.store(true);
  while (!impl_->stop_requested.load()) {
    const auto ready = impl_->poll_set.poll(impl_->wait_time());
    now_ = Clock::now();
    impl_->dispatch(ready);
    impl_->run_posted();
    impl_->run_timers(now_);
  }
  impl_->stop_requested.store(false);  // the loop can be run again
  impl_->running.store(false);
}

void EventLoop::stop() {
  impl_->stop_requested.store(true);
  impl_->wake();
}

bool EventLoop::running() const { return impl_->running.load(); }

}  // namespace wslab::net
