// `wslab demo`: every chapter of the course, played out in the terminal by a
// client and a server Connection wired back to back in memory.
#include "demo.hpp"

#include "diagram.hpp"

#include <wslab/connection.hpp>

#include <iostream>
#include <string>

namespace wslab::app {

namespace {

using connection::Connection;
using connection::Direction;
using connection::Event;
using connection::TimePoint;
using namespace std::chrono_literals;

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Prints what the connections report: frames with their bit diagrams and
// every readyState transition with its cause.
class Narrator : public connection::Observer {
 public:
  Narrator(std::ostream& out, std::string name) : out_(out), name_(std::move(name)) {}
  bool frames = true;

  void on_frame(const connection::FrameRecord& f) override {
    if (!frames) return;
    out_ << "\n  [" << name_ << "] " << connection::to_string(f.direction) << " "
         << framing::opcode_name(f.header.opcode) << " frame";
    if (f.violation)
      out_ << ", REJECTED: " << f.violation->message();
    else
      out_ << ", " << f.header.payload_length << " byte(s) of payload";
    out_ << "\n";
    if (f.direction == Direction::sent) {
      // Redraw the frame from its header bytes and payload as they went out.
      std::string wire(reinterpret_cast<const char*>(f.raw_header.data()), f.raw_header.size());
      std::string payload(f.payload_preview);
      if (f.header.mask)
        masking::apply_mask({reinterpret_cast<std::uint8_t*>(payload.data()), payload.size()},
                            f.header.masking_key);
      wire += payload;
      out_ << indent(draw_frame(bytes_of(wire)));
    }
  }
  void on_transition(const connection::Transition& t) override {
    out_ << "  [" << name_ << "] readyState " << connection::to_string(t.from) << " -> "
         << connection::to_string(t.to) << "  (" << t.cause << ")\n";
  }

 private:
  static std::string indent(const std::string& text) {
    std::string out = "    ";
    for (char c : text) {
      out += c;
      if (c == '\n') out += "    ";
    }
    return out.substr(0, out.size() - 4);
  }
  std::ostream& out_;
  std::string name_;
};

struct Pair {
  Narrator client_narrator, server_narrator;
  Connection client, server;
  TimePoint now{};
  std::ostream& out;

  explicit Pair(std::ostream& o)
      : client_narrator(o, "client"),
        server_narrator(o, "server"),
        client(connection::Options{.role = Role::client}, TimePoint{}, &client_narrator),
        server(connection::Options{.role = Role::server}, TimePoint{}, &server_narrator),
        out(o) {}

  // Move bytes both ways until both sides are quiet; print the events.
  void pump() {
    for (int round = 0; round < 16; ++round) {
      bool moved = false;
      if (auto o = client.output(); !o.empty()) {
        std::string bytes(o);
        client.consume_output(bytes.size());
        server.receive(bytes, now);
        moved = true;
      }
      if (auto o = server.output(); !o.empty()) {
        std::string bytes(o);
        server.consume_output(bytes.size());
        client.receive(bytes, now);
        moved = true;
      }
      report("server", server);
      report("client", client);
      if (server.close_transport() && server.ready_state() != connection::ReadyState::CLOSED) {
        out << "  [server] closes the TCP connection (the server closes first, §7.1.1)\n";
        server.transport_closed(now);
        client.transport_closed(now);
        moved = true;
        report("server", server);
        report("client", client);
      }
      if (!moved) return;
    }
  }

  void report(const char* who, Connection& c) {
    while (c.has_event()) {
      Event e = c.next_event();
      out << "  [" << who << "] event " << connection::to_string(e.type);
      switch (e.type) {
        case Event::Type::request:
          out << ": GET " << e.request->resource_name << "\n";
          c.accept({}, now);
          continue;
        case Event::Type::text:
        case Event::Type::binary:
        case Event::Type::ping:
        case Event::Type::pong:
          out << ": " << printable(e.data);
          if (e.rtt) out << " (round trip " << e.rtt->count() << " ms)";
          break;
        case Event::Type::error:
          out << ": " << e.violation->message();
          break;
        case Event::Type::close:
          out << ": code " << e.code << (e.was_clean ? ", clean" : ", not clean")
              << (e.sent_code && *e.sent_code != e.code ? " (sent close " + std::to_string(*e.sent_code) + ")" : "")
              << (e.reason.empty() ? "" : ", reason " + printable(e.reason, 120));
          break;
        case Event::Type::open:
          break;
      }
      out << "\n";
    }
  }
};

void chapter(std::ostream& out, const DemoOptions& options, const char* title) {
  if (options.step) {
    out << "\n(press Enter for the next chapter)";
    out.flush();
    std::string line;
    std::getline(std::cin, line);
  }
  out << "\n==== " << title << " ====\n";
}

}  // namespace

int run_demo(std::ostream& out, const DemoOptions& options) {
  out << "wslab demo: the chapters of RFC 6455, played by a client and a server\n"
         "connected back to back in memory (no sockets). Every frame is drawn as\n"
         "in RFC 6455 §5.2; every readyState change is shown with its cause.\n";

  chapter(out, options, "Chapter 1: the WebSocket URI (RFC 6455 §3)");
  const auto target = uri::parse("ws://example.com/chat?room=1");
  out << "  ws://example.com/chat?room=1 -> host " << target->host << ", port " << target->port
      << ", resource name " << target->resource_name << ", Host header \"" << target->host_header()
      << "\"\n";
  for (const char* bad : {"ws://example.com/chat#top", "http://example.com/", "ws://example.com:99999/"}) {
    const auto r = uri::parse(bad);
    out << "  " << bad << " -> " << (r ? "accepted?!" : r.violation().message()) << "\n";
  }

  Pair pair(out);
  chapter(out, options, "Chapter 2: the opening handshake (RFC 6455 §4)");
  if (auto v = pair.client.connect(*target, pair.now)) {
    out << "  could not connect: " << v->message() << "\n";
    return 1;
  }
  out << "  The client's request:\n\n" << pair.client.output();
  const std::string request(pair.client.output());
  const auto key_at = request.find("Sec-WebSocket-Key: ") + 19;
  const auto steps = handshake::accept_steps(request.substr(key_at, request.find("\r\n", key_at) - key_at));
  out << "  The server proves it read the key (§4.2.2):\n"
      << "    key + GUID = " << steps.concatenated << "\n"
      << "    SHA-1      = " << steps.sha1_hex << "\n"
      << "    base64     = " << steps.accept << "\n\n";
  pair.client_narrator.frames = pair.server_narrator.frames = false;
  {
    std::string bytes(pair.client.output());
    pair.client.consume_output(bytes.size());
    pair.server.receive(bytes, pair.now);
    pair.report("server", pair.server);
    out << "  The server's response:\n\n" << pair.server.output();
    pair.pump();
  }
  pair.client_narrator.frames = pair.server_narrator.frames = true;

  chapter(out, options, "Chapter 3: frames (RFC 6455 §5.2 - §5.4)");
  out << "  The client sends the text \"Hello\" in one frame:\n";
  pair.client.send_text("Hello");
  pair.pump();
  out << "\n  The server echoes it; a server never masks (§5.1):\n";
  pair.server.send_text("Hello");
  pair.pump();
  out << "\n  A message may be split into fragments: \"Hel\" + \"lo\" (§5.4):\n";
  const std::string_view parts[] = {"Hel", "lo"};
  pair.client.send_fragments(framing::Opcode::text, parts);
  pair.pump();

  chapter(out, options, "Chapter 4: masking (RFC 6455 §5.3)");
  {
    const masking::MaskingKey key{0x37, 0xfa, 0x21, 0x3d};
    std::string data = "Hello";
    out << "  payload    " << to_hex(bytes_of(data)) << "  \"Hello\"\n"
        << "  key        " << to_hex(key) << "  (j = i mod 4)\n";
    masking::apply_mask({reinterpret_cast<std::uint8_t*>(data.data()), data.size()}, key);
    out << "  XOR        " << to_hex(bytes_of(data)) << "  (what a proxy sees: nothing it can parse)\n";
    masking::apply_mask({reinterpret_cast<std::uint8_t*>(data.data()), data.size()}, key);
    out << "  XOR again  " << to_hex(bytes_of(data)) << "  (the server's unmasking)\n";
  }

  chapter(out, options, "Chapter 5: the heartbeat (RFC 6455 §5.5.2, §5.5.3)");
  out << "  The server pings; the client answers with a pong carrying the same bytes:\n";
  pair.server.send_ping("are you there?");
  pair.now += 12ms;  // pretend the network took 12 ms
  pair.pump();

  chapter(out, options, "Chapter 3 again: a frame that breaks a rule");
  {
    Pair second(out);
    second.client_narrator.frames = second.server_narrator.frames = false;
    second.client.connect(*target, second.now);
    second.pump();
    out << "  A second client sends a text frame with RSV1 set, though no extension\n"
           "  was negotiated: bytes c1 85 37 fa 21 3d 7f 9f 4d 51 58\n";
    second.server_narrator.frames = true;
    const std::string bad = "\xc1\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
    second.server.receive(bad, second.now);
    second.report("server", second.server);
    second.pump();
  }

  chapter(out, options, "Chapter 6: the close handshake (RFC 6455 §5.5.1, §7)");
  out << "  The client closes with 1000 \"bye\"; the server answers, then closes TCP:\n";
  pair.client.close(close::normal_closure, "bye");
  pair.pump();

  out << "\nThat was the whole protocol. Next: the lessons in lessons/, and `wslab help`.\n";
  return 0;
}

}  // namespace wslab::app
