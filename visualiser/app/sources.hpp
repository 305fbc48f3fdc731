// Where wslab-viz's events come from: a live server's /trace/ws stream, or a
// JSON Lines file replayed at the speed it was recorded (× the Replay
// panel's speed). Both feed AppState::store on the UI thread.
#pragma once

#include "app.hpp"

#include <wslab/trace.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace wslab::viz {

// A background thread subscribed to a trace stream with wslab::net::Client.
// Each message is one event's JSON (trace::to_json); it is parsed on the
// client's thread and queued for the UI thread, which takes everything
// pending once per frame. The queue is bounded: a UI that falls behind (a
// very busy server) loses events, counted, instead of growing without end.
// When the server is gone the thread reconnects, waiting 0.25 s, 0.5 s, 1 s,
// then 2 s between attempts; the UI never waits for it.
class LiveSource {
 public:
  explicit LiveSource(std::string url, std::size_t max_queued = 200000);
  ~LiveSource();  // stops the thread (an open connection is closed with 1001)
  LiveSource(const LiveSource&) = delete;
  LiveSource& operator=(const LiveSource&) = delete;

  void start();
  // Moves every pending event to the end of `out`. UI thread.
  void drain(std::vector<trace::Event>& out);
  // "connecting", "connected", "disconnected — retrying in 1.5 s".
  std::string status() const;
  std::string why_disconnected() const;  // "cannot connect to ...: Connection refused
  bool connected() const;
  std::uint64_t dropped() const;       // queue full: events this viewer lost
  std::uint64_t parse_errors() const;  // messages that were not a trace event
  std::string last_parse_error() const;

 private:
  void run();
  void push(trace::Event event);

  using SteadyClock = std::chrono::steady_clock;
  std::string url_;
  std::size_t max_queued_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<trace::Event> queue_;
  bool stopping_ = false;
  bool connected_ = false;
  std::string why_;                // why the last connection ended
  SteadyClock::time_point retry_at_{};  // when disconnected: the next attempt
  std::uint64_t dropped_ = 0, parse_errors_ = 0;
  std::string last_parse_error_;
  std::thread thread_;
};

// A recorded trace, replayed into the Store. position = events applied.
class Replay {
 public:
  explicit Replay(std::vector<trace::Event> events) : events_(std::move(events)) {}

  std::size_t size() const { return events_.size(); }
  const std::vector<trace::Event>& events() const { return events_; }

  // One UI frame: handles the Replay panel's requests (seek, step) and, if
  // playing, applies the events whose time has come (dt seconds of wall
  // time × speed).
  void update(AppState& app, double dt);
  // Applies every event up to and including frame `seq` (all if nullopt or
  // not in the file); for headless screenshots. False if seq is not there.
  bool apply_through(AppState& app, std::optional<std::uint64_t> seq);

 private:
  void rebuild(AppState& app, std::size_t position);  // store = events[0, position)
  void apply_next(AppState& app);
  std::vector<trace::Event> events_;
  double clock_us_ = 0;  // the trace time the replay has reached
};

// An event's time in µs since the trace started (a hello's is 0).
trace::Micros event_time(const trace::Event& event);

}  // namespace wslab::viz
