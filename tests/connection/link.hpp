// A client and a server Connection wired back to back in memory, with a
// recording observer on each: the test harness of the connection layer.
#pragma once

#include <wslab/connection.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

namespace wslab::testing {

using namespace wslab::connection;
using namespace std::chrono_literals;

struct SeenFrame {
  Direction direction;
  framing::FrameHeader header;
  std::string raw_header;
  std::string preview;
  std::optional<error> violation;
  bool compressed = false;  // permessage-deflate (RFC 7692)
  std::optional<std::uint64_t> uncompressed_size{};
  std::string uncompressed_preview{};
};

struct SeenTransition {
  ReadyState from, to;
  std::string cause;
};

struct Recorder : Observer {
  std::vector<SeenFrame> frames;
  std::vector<SeenTransition> transitions;
  std::vector<std::string> heads;
  void on_frame(const FrameRecord& f) override {
    frames.push_back({f.direction, f.header,
                      std::string(reinterpret_cast<const char*>(f.raw_header.data()), f.raw_header.size()),
                      std::string(f.payload_preview),
                      f.violation ? std::optional<error>(f.violation->id()) : std::nullopt, f.compressed,
                      f.uncompressed_size, std::string(f.uncompressed_preview)});
  }
  void on_transition(const Transition& t) override {
    transitions.push_back({t.from, t.to, std::string(t.cause)});
  }
  void on_handshake(const HandshakeRecord& h) override { heads.emplace_back(h.head); }
};

inline Options client_options() { return Options{.role = Role::client}; }
inline Options server_options() { return Options{.role = Role::server}; }

struct Link {
  TimePoint now{};
  Recorder client_seen, server_seen;
  Connection client;
  Connection server;
  std::vector<Event> client_events, server_events;
  std::size_t chunk = SIZE_MAX;  // deliver bytes in pieces of this size

  explicit Link(Options c = client_options(), Options s = server_options())
      : client(std::move(c), TimePoint{}, &client_seen), server(std::move(s), TimePoint{}, &server_seen) {}

  static void deliver(Connection& from, Connection& to, TimePoint now, std::size_t chunk) {
    std::string bytes(from.output());
    from.consume_output(bytes.size());
    for (std::size_t i = 0; i < bytes.size(); i += chunk)
      to.receive(std::string_view(bytes).substr(i, chunk), now);
  }

  static void drain(Connection& c, std::vector<Event>& into) {
    while (c.has_event()) into.push_back(c.next_event());
  }

  // Move bytes both ways until neither side has anything to say.
  void pump() {
    for (int i = 0; i < 64; ++i) {
      const bool any = !client.output().empty() || !server.output().empty();
      if (!client.output().empty()) deliver(client, server, now, chunk);
      if (!server.output().empty()) deliver(server, client, now, chunk);
      drain(client, client_events);
      drain(server, server_events);
      if (!any) return;
    }
    FAIL("the connections kept talking for 64 rounds");
  }

  // connect, accept (with `subprotocol`), pump: both sides OPEN.
  void open(std::optional<std::string> subprotocol = std::nullopt) {
    REQUIRE_FALSE(client.connect(*uri::parse("ws://example.com/chat"), now));
    pump();
    REQUIRE(server_events.size() == 1);
    REQUIRE(server_events[0].type == Event::Type::request);
    server.accept(handshake::AcceptOptions{.subprotocol = subprotocol}, now);
    pump();
    REQUIRE(client.ready_state() == ReadyState::OPEN);
    REQUIRE(server.ready_state() == ReadyState::OPEN);
    client_events.clear();
    server_events.clear();
  }

  // The TCP connection goes away (as the net layer would report it).
  void drop_tcp() {
    client.transport_closed(now);
    server.transport_closed(now);
    drain(client, client_events);
    drain(server, server_events);
  }
};

inline std::vector<Event::Type> types(const std::vector<Event>& events) {
  std::vector<Event::Type> out;
  for (const auto& e : events) out.push_back(e.type);
  return out;
}

// The close code carried by the first close frame in `bytes` sent by a server
// (unmasked), or -1.
inline int close_code_in(std::string_view bytes) {
  for (std::size_t i = 0; i + 4 <= bytes.size();) {
    const auto b0 = static_cast<unsigned char>(bytes[i]), b1 = static_cast<unsigned char>(bytes[i + 1]);
    const std::size_t len = b1 & 0x7F;
    if (len > 125 || (b1 & 0x80)) return -1;
    if ((b0 & 0x0F) == 0x8 && len >= 2)
      return static_cast<unsigned char>(bytes[i + 2]) << 8 | static_cast<unsigned char>(bytes[i + 3]);
    i += 2 + len;
  }
  return -1;
}

}  // namespace wslab::testing
