// The trace sources (sources.hpp).
#include "sources.hpp"

#include <wslab/net/client.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <type_traits>

namespace wslab::viz {

trace::Micros event_time(const trace::Event& event) {
  return std::visit(
      [](const auto& e) -> trace::Micros {
        if constexpr (std::is_same_v<std::decay_t<decltype(e)>, trace::Hello>) {
          return 0;
        } else {
          return e.time;
        }
      },
      event);
}

// --- Live ----------------------------------------------------------------------

LiveSource::LiveSource(std::string url, std::size_t max_queued) : url_(std::move(url)), max_queued_(max_queued) {}

LiveSource::~LiveSource() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LiveSource::start() { thread_ = std::thread([this] { run(); }); }

void LiveSource::push(trace::Event event) {
  std::lock_guard lock(mutex_);
  if (queue_.size() >= max_queued_) {
    ++dropped_;
    return;
  }
  queue_.push_back(std::move(event));
}

void LiveSource::drain(std::vector<trace::Event>& out) {
  std::deque<trace::Event> taken;
  {
    std::lock_guard lock(mutex_);
    taken.swap(queue_);
  }
  out.insert(out.end(), std::make_move_iterator(taken.begin()), std::make_move_iterator(taken.end()));
}

std::string LiveSource::status() const {
  std::lock_guard lock(mutex_);
  if (connected_) return "connected";
  if (retry_at_ == SteadyClock::time_point{}) return "connecting";
  auto left = std::chrono::duration<double>(retry_at_ - SteadyClock::now()).count();
  if (left <= 0) return "disconnected — connecting again";
  char buf[64];
  std::snprintf(buf, sizeof buf, "disconnected — retrying in %.1f s", left);
  return buf;
}

std::string LiveSource::why_disconnected() const {
  std::lock_guard lock(mutex_);
  return connected_ ? std::string() : why_;
}

bool LiveSource::connected() const {
  std::lock_guard lock(mutex_);
  return connected_;
}

std::uint64_t LiveSource::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

std::uint64_t LiveSource::parse_errors() const {
  std::lock_guard lock(mutex_);
  return parse_errors_;
}

std::string LiveSource::last_parse_error() const {
  std::lock_guard lock(mutex_);
  return last_parse_error_;
}

void LiveSource::run() {
  using namespace std::chrono;
  auto backoff = milliseconds(250);
  constexpr auto kMaxBackoff = seconds(2);
  for (;;) {
    // Declared before the client: its callbacks may run until its
    // destructor returns (client.hpp).
    bool closed = false;
    std::string why;
    {
      std::unique_ptr<net::Client> client;
      try {
        client = std::make_unique<net::Client>(url_);
      } catch (const std::exception& e) {
        // main checked the URL; anything else here is not going to change.
        std::lock_guard lock(mutex_);
        why_ = e.what();
        retry_at_ = SteadyClock::now() + hours(24 * 365);
        return;
      }
      client->onopen = [&] {
        std::lock_guard lock(mutex_);
        connected_ = true;
        why_.clear();
        backoff = milliseconds(250);
      };
      client->onmessage = [&](const net::MessageEvent& m) {
        auto parsed = trace::from_json(m.data);
        if (auto* event = std::get_if<trace::Event>(&parsed)) {
          push(std::move(*event));
        } else {
          std::lock_guard lock(mutex_);
          ++parse_errors_;
          last_parse_error_ = std::get<trace::ParseError>(parsed).message;
        }
      };
      client->onerror = [&](const net::ErrorEvent& e) {
        std::lock_guard lock(mutex_);
        why = e.message;
      };
      client->onclose = [&](const net::CloseEvent& e) {
        std::lock_guard lock(mutex_);
        if (why.empty()) why = "closed " + std::to_string(e.code) + (e.reason.empty() ? "" : " " + e.reason);
        connected_ = false;
        closed = true;
        wake_.notify_all();
      };
      client->connect();
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return closed || stopping_; });
      if (stopping_) {
        lock.unlock();
        return;  // the client's destructor closes with 1001
      }
    }
    // Reconnect after the backoff; stop() interrupts the wait.
    std::unique_lock lock(mutex_);
    why_ = why;
    retry_at_ = SteadyClock::now() + backoff;
    if (wake_.wait_until(lock, retry_at_, [&] { return stopping_; })) return;
    backoff = std::min<milliseconds>(backoff * 2, kMaxBackoff);
  }
}

// --- Replay --------------------------------------------------------------------

void Replay::apply_next(AppState& app) {
  app.store.add(events_[app.replay.position]);
  ++app.replay.position;
}

void Replay::rebuild(AppState& app, std::size_t position) {
  position = std::min(position, events_.size());
  if (position < app.replay.position) {
    // Back: the Store only grows, so start again from the beginning.
    app.store.clear();
    app.replay.position = 0;
  }
  while (app.replay.position < position) apply_next(app);
  clock_us_ = position == 0 ? 0.0 : static_cast<double>(event_time(events_[position - 1]));
}

bool Replay::apply_through(AppState& app, std::optional<std::uint64_t> seq) {
  app.replay.total = events_.size();
  std::size_t end = events_.size();
  bool found = !seq;
  if (seq) {
    for (std::size_t i = 0; i < events_.size(); ++i) {
      const auto* f = std::get_if<trace::Frame>(&events_[i]);
      if (f && f->seq == *seq) {
        end = i + 1;
        found = true;
        break;
      }
    }
  }
  rebuild(app, end);
  app.replay.playing = false;
  return found;
}

void Replay::update(AppState& app, double dt) {
  auto& r = app.replay;
  r.active = true;
  r.total = events_.size();
  if (r.seek) {
    rebuild(app, *r.seek);
    r.seek.reset();
  }
  if (r.step_forward) {
    r.step_forward = false;
    r.playing = false;
    // Up to and including the next frame, which becomes the selection.
    while (r.position < events_.size()) {
      const auto* f = std::get_if<trace::Frame>(&events_[r.position]);
      apply_next(app);
      if (f) {
        app.selected_seq = f->seq;
        app.selected_conn = f->conn;
        break;
      }
    }
    clock_us_ = r.position == 0 ? 0.0 : static_cast<double>(event_time(events_[r.position - 1]));
  }
  if (r.step_back) {
    r.step_back = false;
    r.playing = false;
    // Take back the last frame applied: the store is rebuilt up to it, and
    // the frame before it becomes the selection.
    std::size_t i = r.position;
    while (i > 0 && !std::holds_alternative<trace::Frame>(events_[i - 1])) --i;
    if (i > 0) {
      rebuild(app, i - 1);
      if (!app.store.frames().empty()) {
        app.selected_seq = app.store.frames().back().seq;
        app.selected_conn = app.store.frames().back().conn;
      } else {
        app.selected_seq.reset();
      }
    }
  }
  if (r.playing) {
    if (r.position >= events_.size()) {
      r.playing = false;
      return;
    }
    clock_us_ += dt * std::clamp(r.speed, 0.01, 1000.0) * 1e6;
    while (r.position < events_.size() && static_cast<double>(event_time(events_[r.position])) <= clock_us_) {
      apply_next(app);
    }
  }
}

}  // namespace wslab::viz
