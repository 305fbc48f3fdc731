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
         " side, " + e.resource + (e.extensions.empty() ? "" : ", extensions " + e.extensions) + "\n";
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
  // The extensions offered (a request) or agreed (a 101), RFC 6455 §9.1.
  if (const auto extensions = header_of(e, "Sec-WebSocket-Extensions"); !extensions.empty())
    out += ", Sec-WebSocket-Extensions " + extensions;
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

// permessage-deflate (RFC 7692 §6) gives RSV1 a meaning: on the first frame
// of a compressed message it says "compressed", and the message's other
// frames have it 0. The diagram's RSV line (which knows only §5.2) is
// replaced by what the bit means on this connection.
std::string with_deflate_rsv(const std::string& diagram, const trace::Frame& e) {
  if (!e.compressed || e.rsv2 || e.rsv3) return diagram;
  const std::string meaning =
      e.rsv1 ? "RSV1 (permessage-deflate: compressed): this message's payload is DEFLATE data (RFC 7692 §6)"
             : "a frame of a compressed message: RSV1 is set on its first frame only (RFC 7692 §6)";
  std::string out;
  std::istringstream lines(diagram);
  constexpr std::string_view kRsv = "RSV1-3       ";
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(kRsv, 0) == 0 && line.size() > kRsv.size() + 7) line = line.substr(0, kRsv.size() + 7) + meaning;
    out += line + "\n";
  }
  return out;
}

// The compressed message's sizes and its first bytes inflated, on the frame
// that ends it (the trace carries them there, docs/trace-format.md).
std::string deflate_lines(const trace::Frame& e) {
  if (!e.compressed || e.error) return {};
  if (!e.uncompressed_size) {
    return "  permessage-deflate: " + std::to_string(e.payload_length) +
           " bytes of a compressed message, inflated when its last frame is in\n";
  }
  const std::uint64_t inflated = *e.uncompressed_size;
  std::string out = "  permessage-deflate: ";
  if (e.rsv1)  // one frame: its payload is the whole compressed message
    out += "payload " + std::to_string(e.payload_length) + " bytes compressed -> " + std::to_string(inflated) +
           " bytes\n";
  else
    out += "the message ends here: its frames' payloads inflate to " + std::to_string(inflated) + " bytes (" +
           std::to_string(e.payload_length) + " compressed bytes in this frame)\n";
  const std::string_view text(reinterpret_cast<const char*>(e.uncompressed_preview.data()),
                              e.uncompressed_preview.size());
  out += "  Inflated     " + to_hex(e.uncompressed_preview, 32) + "  " + printable(text);
  if (e.uncompressed_preview.size() < inflated)
    out += "  (first " + std::to_string(e.uncompressed_preview.size()) + " of " + std::to_string(inflated) + " bytes)";
  return out + "\n";
}

std::string render(const trace::Frame& e) {
  std::string out = conn_label(e.conn) + " #" + std::to_string(e.seq) + ": " +
                    std::string(connection::to_string(e.direction)) + " " +
                    std::string(framing::opcode_name(e.opcode)) + " frame" +
                    // A rejected frame's length may not have been read: the
                    // rules are checked as soon as the octets they need are in.
                    (e.error ? "" : ", " + std::to_string(e.payload_length) + " bytes") +
                    (e.mask ? ", masked" : "") + (e.compressed ? ", compressed" : "") + (e.fin ? "" : ", FIN=0");
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
  diagram = with_deflate_rsv(diagram, e);
  // Indented, like `wslab demo`'s diagrams.
  std::string indented;
  std::istringstream lines(diagram);
  for (std::string line; std::getline(lines, line);) indented += "  " + line + "\n";
  out += indented;
  if (truncated)
    out += "  (payload preview: " + std::to_string(e.preview_masked.size()) + " of " +
           std::to_string(e.payload_length) + " bytes)\n";
  return out + deflate_lines(e);
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
