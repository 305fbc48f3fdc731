// JsonlWriter: trace events to a JSON Lines file on a thread of its own, so a
// slow disk never holds up the event loop that produces them.
#include <wslab/trace.hpp>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace wslab::trace {

JsonlWriter::JsonlWriter(const std::string& path, std::size_t max_queued)
    : out_(path, std::ios::binary | std::ios::trunc), max_queued_(max_queued == 0 ? 1 : max_queued) {
  if (!out_) throw std::runtime_error("cannot write the trace file " + path + ": " + std::strerror(errno));
  thread_ = std::thread([this] { run(); });
}

JsonlWriter::~JsonlWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void JsonlWriter::emit(Event event) {
  std::string line = to_json(event);  // serialised by the caller: the writer only writes
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= max_queued_) {
      ++dropped_total_;
      ++dropped_pending_;
      return;
    }
    if (dropped_pending_ > 0) {
      // Room again: say how much is missing before what follows.
      const Micros t = std::visit(
          [](const auto& e) -> Micros {
            if constexpr (requires { e.time; }) return e.time;
            else return 0;
          },
          event);
      queue_.push_back(to_json(Dropped{.time = t, .count = dropped_pending_, .total = dropped_total_}));
      dropped_pending_ = 0;
    }
    queue_.push_back(std::move(line));
  }
  wake_.notify_one();
}

std::uint64_t JsonlWriter::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_total_;
}

void JsonlWriter::flush() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return queue_.empty() && !writing_; });
}

void JsonlWriter::run() {
  std::deque<std::string> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      writing_ = false;
      if (queue_.empty()) idle_.notify_all();
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) {
        if (dropped_pending_ > 0) {
          batch.push_back(to_json(Dropped{.count = dropped_pending_, .total = dropped_total_}));
          dropped_pending_ = 0;
        } else {
          break;
        }
      }
      batch.swap(queue_);
      writing_ = true;
    }
    for (const auto& line : batch) out_ << line << '\n';
    out_.flush();
    batch.clear();
  }
  std::lock_guard lock(mutex_);
  writing_ = false;
  idle_.notify_all();
}

}  // namespace wslab::trace
