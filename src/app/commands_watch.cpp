// `wslab watch`: the command around watch_trace() (watch.hpp), stopped by
// SIGINT or SIGTERM.
#include "commands.hpp"
#include "watch.hpp"

#include <atomic>
#include <csignal>
#include <iostream>
#include <pthread.h>
#include <thread>

namespace wslab::app {

int run_watch(const Args& args, const Options& options) {
  options.only("watch", {"url", "count", "timeout"});
  if (args.size() != 1) throw UsageError("usage: wslab watch [--url ws://127.0.0.1:8080/trace/ws] [--count N]");
  WatchOptions w;
  w.url = options.get("url", w.url);
  if (options.has("count")) w.count = parse_number("count", options.get("count"), 1, 1'000'000'000'000);
  w.connect_timeout = parse_duration("timeout", options.get("timeout", "5s"));

  // SIGINT and SIGTERM are taken by sigwait() on a thread of their own:
  // blocked before the client's thread exists, so that no thread dies of them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  static std::atomic<bool> stopped{false};
  std::thread([signals] {
    int signal = 0;
    sigwait(&signals, &signal);
    stopped = true;
  }).detach();
  w.stop = [] { return stopped.load(); };
  const int status = watch_trace(w, std::cout);
  if (status == 3) return kExitBadInput;
  return status;
}

}  // namespace wslab::app
