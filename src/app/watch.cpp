// `wslab watch`. See watch.hpp.
#include "watch.hpp"

#include "diagram.hpp"

#include <wslab/net/client.hpp>
#include <wslab/uri.hpp>

#include <cctype>
#include <random>
#include <sstream>
#include <thread>

namespace wslab::app {

namespace {

using std::chrono::milliseconds;

std::string conn_label(std::uint64_t conn) { return "conn " + std::to_string(conn); }

std::string header_of(const trace::Handshake& h, std::string_view name) {
  for (const auto& [n, v] : h.headers) {
    if (n.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < n.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(n[i])) == std::tolower(static_cast<unsigned char>(name[i]));
    if (same) return v;
  }
  return {};
}

std::string render(const trace::Hello& e) {
  return "trace from " + (e.source.empty() ? std::string("?") : e.source) + ", format v" + std::to_string(e.version) +
         ", started " + e.started_at + ", payload previews of up to " + std::to_string(e.preview_bytes) + " bytes\n";
}

std::string render(const trace::ConnectionOpen& e) {
  return conn_label(e.conn) + ": TCP connection from " + e.peer + ", " + std::string(to_string(e.role)) +
         " side, " + e.resource + "\n";
}

// One line per head (RFC 6455 §4.1, §4.2.2): its start line and the header
// that matters for the chapter, with the accept computation when there is one.
std::string render(const trace::Handshake& e) {
  std::string out = conn_label(e.conn) + ": handshake " + std::string(connection::to_string(e.direction)) + " " +
                    (e.request ? "request " : "response ") + e.start_line;
  if (e.request) {
    if (const auto key = header_of(e, "Sec-WebSocket-Key"); !key.empty()) out += ", Sec-WebSocket-Key " + key;
    if (e.accept) out += " (the accept: base64(SHA-1(key + GUID)) = " + e.accept->accept + ")";
  } else if (const auto accept = header_of(e, "Sec-WebSocket-Accept"); !accept.empty()) {
    out += ", Sec-WebSocket-Accept " + accept;
  }
  return out + "\n";
}

// Drops the diagram's "incomplete payload" line: the trace carries only a
// preview of the payload, which is said in its own words below.
std::string without_incomplete_payload(const std::string& diagram) {
  std::string out;
  std::istringstream lines(diagram);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("incomplete payload: ", 0) != 0) out += line + "\n";
  return out;
}

std::string render(const trace::Frame& e) {
  std::string out = conn_label(e.conn) + " #" + std::to_string(e.seq) + ": " +
                    std::string(connection::to_string(e.direction)) + " " +
                    std::string(framing::opcode_name(e.opcode)) + " frame" +
                    // A rejected frame's length may not have been read: the
                    // rules are checked as soon as the octets they need are in.
                    (e.error ? "" : ", " + std::to_string(e.payload_length) + " bytes") +
                    (e.mask ? ", masked" : "") + (e.fin ? "" : ", FIN=0");
  if (e.close_code) out += ", close " + std::to_string(*e.close_code);
  if (!e.close_reason.empty()) out += " \"" + e.close_reason + "\"";
  out += "\n";
  if (e.error) {
    out += "  REJECTED: " + e.error->message + " [" + e.error->rule + ", " + e.error->checklist + "]\n";
  }
  // The frame as it crossed the wire: header bytes, then the payload bytes
  // as sent (masked if it was).
  std::vector<std::uint8_t> wire = e.raw_header;
  wire.insert(wire.end(), e.preview_masked.begin(), e.preview_masked.end());
  const bool header_complete = !e.raw_header.empty() && !e.error;
  const bool truncated = header_complete && e.preview_masked.size() < e.payload_length;
  std::string diagram = draw_frame(wire);
  if (truncated) diagram = without_incomplete_payload(diagram);
  // Indented, like `wslab demo`'s diagrams.
  std::string indented;
  std::istringstream lines(diagram);
  for (std::string line; std::getline(lines, line);) indented += "  " + line + "\n";
  out += indented;
  if (truncated)
    out += "  (payload preview: " + std::to_string(e.preview_masked.size()) + " of " +
           std::to_string(e.payload_length) + " bytes)\n";
  return out;
}

std::string render(const trace::Transition& e) {
  return conn_label(e.conn) + ": " + std::string(connection::to_string(e.from)) + " → " +
         std::string(connection::to_string(e.to)) + (e.cause.empty() ? "" : " (" + e.cause + ")") + "\n";
}

std::string render(const trace::ConnectionClose& e) {
  return conn_label(e.conn) + ": TCP connection closed, code " + std::to_string(e.code) +
         (e.reason.empty() ? "" : " \"" + e.reason + "\"") + (e.was_clean ? ", clean" : ", not clean") +
         (e.sent_code && *e.sent_code != e.code ? " (sent close " + std::to_string(*e.sent_code) + ")" : "") + "\n";
}

std::string render(const trace::Dropped& e) {
  return "(" + std::to_string(e.count) + " trace events dropped: this viewer fell behind; " +
         std::to_string(e.total) + " in all)\n";
}

// Sleeps up to `duration`, in small steps so that stop() is heard.
bool sleep_or_stop(const WatchOptions& options, milliseconds duration) {
  const auto end = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < end) {
    if (options.stop && options.stop()) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return options.stop && options.stop();
}

}  // namespace

std::string spoken(milliseconds d) {
  if (d.count() < 1000) return std::to_string(d.count()) + " ms";
  const auto tenths = (d.count() + 50) / 100;
  return std::to_string(tenths / 10) + (tenths % 10 ? "." + std::to_string(tenths % 10) : "") + " s";
}

std::string render_event(const trace::Event& event) {
  return std::visit([](const auto& e) { return render(e); }, event);
}

std::string render_message(std::string_view json) {
  auto parsed = trace::from_json(json);
  if (const auto* error = std::get_if<trace::ParseError>(&parsed))
    return "(skipped a trace message that does not parse: " + error->message + ")\n";
  return render_event(std::get<trace::Event>(parsed));
}

int watch_trace(const WatchOptions& options, std::ostream& out) {
  if (const auto target = uri::parse(options.url); !target) {
    out << "wslab: watch: --url: " << target.violation().message() << std::endl;
    return 3;
  }
  std::uint64_t frames = 0;
  bool waiting = false;  // the "cannot connect" message was shown
  // §7.2.3 (CL-15): reconnect after a random delay, longer after each failure.
  net::Backoff backoff(options.retry);
  std::mt19937 rng{std::random_device{}()};
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (;;) {
    if (options.stop && options.stop()) return 0;
    net::BlockingClient ws(net::ClientOptions{.proxy = "", .handshake_timeout = options.connect_timeout});
    try {
      ws.connect(options.url, options.connect_timeout);
    } catch (const std::exception& e) {
      if (!waiting)
        out << "watch: " << e.what() << "; retrying after a random delay of up to " << spoken(options.retry.first)
            << ", then longer ones (RFC 6455 §7.2.3; Ctrl-C to stop)" << std::endl;
      waiting = true;
      if (sleep_or_stop(options, backoff.next(uniform(rng)))) return 0;
      continue;
    }
    waiting = false;
    backoff.reset();
    out << "watch: connected to " << options.url << "; every frame the server sends or receives is drawn below"
        << std::endl;
    for (;;) {
      if (options.stop && options.stop()) {
        ws.close(1000, "watch stopped");
        return 0;
      }
      auto message = ws.receive(milliseconds(200));
      if (message) {
        if (message->binary) {
          out << "(skipped a binary message: trace events are text)" << std::endl;
          continue;
        }
        auto parsed = trace::from_json(message->data);
        if (const auto* error = std::get_if<trace::ParseError>(&parsed)) {
          out << "(skipped a trace message that does not parse: " << error->message << ")" << std::endl;
          continue;
        }
        const auto& event = std::get<trace::Event>(parsed);
        out << render_event(event) << std::flush;
        if (std::holds_alternative<trace::Frame>(event) && options.count && ++frames >= *options.count) {
          ws.close(1000, "watch done");
          return 0;
        }
        continue;
      }
      if (const auto closed = ws.closed()) {
        const auto wait = backoff.next(uniform(rng));
        out << "watch: the trace stream ended (code " << closed->code
            << (closed->reason.empty() ? "" : " \"" + closed->reason + "\"") << "); reconnecting in " << spoken(wait)
            << " (RFC 6455 §7.2.3)" << std::endl;
        if (sleep_or_stop(options, wait)) return 0;
        break;
      }
    }
  }
}

}  // namespace wslab::app
