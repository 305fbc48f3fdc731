// The `wslab` subcommands. Each gets its positional arguments and the
// options given on the command line; it returns the exit status.
#pragma once

#include "options.hpp"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace wslab::app {

// Exit statuses (documented in `wslab help`).
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 2;        // bad command line
inline constexpr int kExitBadInput = 3;     // invalid input (the message names the rule)
inline constexpr int kExitConnect = 4;      // could not connect / handshake refused
inline constexpr int kExitAbnormal = 5;     // connection failed or closed abnormally
inline constexpr int kExitTimeout = 6;      // no answer in time

// The options of one invocation, by long name; values in order given.
class Options {
 public:
  void add(const std::string& name, const std::string& value) { values_[name].push_back(value); }
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  // The last value given, or `fallback`.
  std::string get(const std::string& name, const std::string& fallback = "") const;
  const std::vector<std::string>& all(const std::string& name) const;
  // Throws UsageError naming the first option `command` does not take.
  void only(const std::string& command, const std::set<std::string>& allowed) const;

 private:
  std::map<std::string, std::vector<std::string>> values_;
};

using Args = std::vector<std::string>;

int run_frame(const Args& args, const Options& options);
int run_handshake(const Args& args, const Options& options);
// permessage-deflate's payload transformation step by step (commands_deflate.cpp).
int run_deflate(const Args& args, const Options& options);
int run_inflate(const Args& args, const Options& options);
int run_serve(const Args& args, const Options& options);
int run_connect(const Args& args, const Options& options);
int run_send(const Args& args, const Options& options);
// The main job's two halves: the scripted demo client (tour.cpp) and the
// trace stream as ASCII bit diagrams (commands_watch.cpp, watch.hpp).
int run_tour(const Args& args, const Options& options);
int run_watch(const Args& args, const Options& options);
// The course (lessons/) in the terminal: list, show N, check N, next.
int run_course(const Args& args, const Options& options);

}  // namespace wslab::app
