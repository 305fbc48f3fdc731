// `wslab watch`: the trace stream in the terminal. It subscribes to a
// server's /trace/ws (the same stream wslab-viz draws) and prints each frame
// as RFC 6455 §5.2's bit diagram, in ASCII, and each readyState transition
// and handshake head as one line:
//
//   conn 3: CONNECTING → OPEN (handshake accepted)
//   conn 3 #7: received text frame, 16 bytes, masked
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-------+-+-------------+-------------------------------+
//   ...
//
// It is the visualiser's fallback on a machine without a display: wslab-viz
// calls watch_trace() when it cannot open a window. Built as the small
// library wslab_watch (with diagram.cpp) that both link.
#pragma once

#include <wslab/net/backoff.hpp>
#include <wslab/trace.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>

namespace wslab::app {

struct WatchOptions {
  std::string url = "ws://127.0.0.1:8080/trace/ws";
  // Stop after this many frame events (none: until stopped).
  std::optional<std::uint64_t> count{};
  // Connecting; and the waits before reconnecting when the server is not
  // there or the stream ends (RFC 6455 §7.2.3: a random first delay, up to
  // 5 s, then longer ones; a successful connection starts the series again).
  std::chrono::milliseconds connect_timeout{5000};
  net::BackoffOptions retry{};
  // Polled a few times a second; true ends the watch (exit status 0). The
  // caller decides what stops it: `wslab watch` uses SIGINT and SIGTERM.
  std::function<bool()> stop{};
};

// Connects, prints every event as it arrives, reconnects (with a message,
// after the backoff of RFC 6455 §7.2.3) when the server goes away. Returns 0 once `count` frames were shown or
// stop() said so; 3 for a URL that is not a ws:// or wss:// URL.
int watch_trace(const WatchOptions& options, std::ostream& out);

// The pure part: what watch_trace prints for one event. A frame is a
// header line, then the bit diagram of raw_header + preview_masked; a
// payload longer than the preview says "(payload preview: N of M bytes)".
std::string render_event(const trace::Event& event);

// A wait as the commands say it: "100 ms", "5 s", "2.5 s".
std::string spoken(std::chrono::milliseconds duration);

// One trace message (a line of JSON) rendered, or a line saying why it was
// skipped: a viewer never stops on one bad message.
std::string render_message(std::string_view json);

}  // namespace wslab::app
