// The Store: trace events in, bounded views out (store.hpp).
#include <wslab/viz/store.hpp>

#include <wslab/framing.hpp>

#include <algorithm>
#include <cctype>
#include <regex>
#include <string_view>
#include <type_traits>
#include <utility>

namespace wslab::viz {

namespace {

using connection::Direction;
using connection::ReadyState;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// "HTTP/1.1 101 Switching Protocols": the status code, 0 if unreadable.
int status_code(std::string_view start_line) {
  auto space = start_line.find(' ');
  if (space == std::string_view::npos || start_line.size() < space + 4) return 0;
  int code = 0;
  for (char c : start_line.substr(space + 1, 3)) {
    if (c < '0' || c > '9') return 0;
    code = code * 10 + (c - '0');
  }
  return code;
}

bool is_control(std::uint8_t opcode) { return (opcode & 0x8) != 0; }  // §5.5: 0x8-0xF

// The payload preview of a row's frames, as a developer-tools column shows
// it. Text (and ping/pong/close application data) shows as text when it is
// valid UTF-8 (§5.6); binary, and anything that is not UTF-8, as hex. A
// preview cut short of the payload may end inside a code point: the cut is
// not the peer's fault, so the incomplete tail is left off, and "…" says
// there is more.
std::string preview_text(std::uint8_t opcode, const std::vector<std::uint8_t>& bytes, bool truncated,
                         const trace::Frame& first) {
  std::string prefix;
  if (opcode == 0x8 && first.close_code) {
    // Close (§5.5.1): the status code, then the reason.
    prefix = std::to_string(*first.close_code);
    if (!first.close_reason.empty()) prefix += " " + first.close_reason;
    return prefix;
  }
  const std::string_view ellipsis = truncated ? "…" : "";
  if (opcode != 0x2) {
    std::string text(bytes.begin(), bytes.end());
    framing::Utf8Validator utf8;
    utf8.feed(text);
    if (utf8.complete()) return text + std::string(ellipsis);
    if (truncated && utf8.ok()) {
      // Leave off the unfinished code point at the cut (at most 3 bytes).
      for (int cut = 1; cut <= 3 && cut <= static_cast<int>(text.size()); ++cut) {
        std::string_view head(text.data(), text.size() - static_cast<std::size_t>(cut));
        if (framing::is_valid_utf8(head)) return std::string(head) + std::string(ellipsis);
      }
    }
  }
  return trace::hex(bytes) + std::string(ellipsis);
}

}  // namespace

bool names_permessage_deflate(std::string_view extensions) {
  while (!extensions.empty()) {
    const auto comma = extensions.find(',');
    std::string_view element = extensions.substr(0, comma);
    extensions = comma == std::string_view::npos ? std::string_view{} : extensions.substr(comma + 1);
    if (iequals(trim(element.substr(0, element.find(';'))), "permessage-deflate")) return true;
  }
  return false;
}

Store::Store(std::size_t max_frames) : max_frames_(std::max<std::size_t>(max_frames, 1)) {}

void Store::clear() {
  frames_.clear();
  connections_.clear();
  hello_.reset();
  evicted_ = source_dropped_ = events_ = 0;
}

const trace::Frame* Store::frame(std::uint64_t seq) const {
  // Frames arrive in seq order, so the ring is sorted: binary search, then
  // a linear look in case a source ever interleaved them.
  auto it = std::lower_bound(frames_.begin(), frames_.end(), seq,
                             [](const trace::Frame& f, std::uint64_t s) { return f.seq < s; });
  if (it != frames_.end() && it->seq == seq) return &*it;
  for (const auto& f : frames_) {
    if (f.seq == seq) return &f;
  }
  return nullptr;
}

const ConnectionView* Store::connection(std::uint64_t conn) const {
  auto it = connections_.find(conn);
  return it == connections_.end() ? nullptr : &it->second;
}

void Store::add(const trace::Event& event) {
  ++events_;

  // A connection the trace has not announced (a live viewer that joined
  // late) still gets a view.
  auto view_of = [this](std::uint64_t conn) -> ConnectionView& {
    auto [it, inserted] = connections_.try_emplace(conn);
    if (inserted) {
      it->second.conn = conn;
      // Bounded: beyond kMaxConnections the oldest closed connection goes
      // (the oldest of all if none is closed).
      if (connections_.size() > kMaxConnections) {
        auto victim = connections_.end();
        for (auto c = connections_.begin(); c != connections_.end(); ++c) {
          if (c->first == conn) continue;
          if (c->second.state == ReadyState::CLOSED) {
            victim = c;
            break;
          }
          if (victim == connections_.end()) victim = c;
        }
        if (victim != connections_.end()) connections_.erase(victim);
        it = connections_.find(conn);
      }
    }
    return it->second;
  };

  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, trace::Hello>) {
          // A hello with another start time is another trace (the live
          // server restarted): its connection ids and frame numbers start
          // again, so what came before is gone. A hello from the same trace
          // (the viewer reconnected) keeps everything.
          if (hello_ && hello_->started_at != e.started_at) {
            auto seen = events_;
            clear();
            events_ = seen;
          }
          hello_ = e;
        } else if constexpr (std::is_same_v<T, trace::ConnectionOpen>) {
          auto& v = view_of(e.conn);
          v = ConnectionView{};
          v.conn = e.conn;
          v.role = e.role;
          v.peer = e.peer;
          v.resource = e.resource;
          v.extensions = e.extensions;
          v.permessage_deflate = names_permessage_deflate(e.extensions);
          v.state = ReadyState::CONNECTING;
          v.state_since = e.time;
        } else if constexpr (std::is_same_v<T, trace::Handshake>) {
          auto& v = view_of(e.conn);
          if (e.request) {
            v.request = e;
          } else {
            v.response = e;
            // The subprotocol the server selected (RFC 6455 §4.2.2 step
            // 5.4, §11.3.4) is in its 101's Sec-WebSocket-Protocol.
            if (status_code(e.start_line) == 101) {
              for (const auto& [name, value] : e.headers) {
                if (iequals(name, "Sec-WebSocket-Protocol")) v.subprotocol = trim(value);
                // §9.1: the header may appear more than once; together they are one list.
                if (iequals(name, "Sec-WebSocket-Extensions"))
                  v.extensions += (v.extensions.empty() ? "" : ", ") + trim(value);
              }
              v.permessage_deflate = names_permessage_deflate(v.extensions);
            }
          }
        } else if constexpr (std::is_same_v<T, trace::Frame>) {
          auto& v = view_of(e.conn);
          ++v.frames;
          v.buffered_amount = e.buffered_amount;
          if (e.compressed) v.permessage_deflate = true;  // only an agreed extension compresses
          frames_.push_back(e);
          while (frames_.size() > max_frames_) {
            frames_.pop_front();
            ++evicted_;
          }
        } else if constexpr (std::is_same_v<T, trace::Transition>) {
          auto& v = view_of(e.conn);
          v.state = e.to;
          v.state_since = e.time;
          v.transitions.push_back(e);
          while (v.transitions.size() > kMaxTransitions) v.transitions.pop_front();
        } else if constexpr (std::is_same_v<T, trace::ConnectionClose>) {
          auto& v = view_of(e.conn);
          v.closed = e;
          // The TCP connection is gone: readyState is CLOSED (a Transition
          // normally said so already).
          if (v.state != ReadyState::CLOSED) {
            v.state = ReadyState::CLOSED;
            v.state_since = e.time;
          }
        } else if constexpr (std::is_same_v<T, trace::Dropped>) {
          source_dropped_ += e.count;
        }
      },
      event);
}

std::vector<MessageRow> Store::messages(const Filter& filter, std::string* regex_error) const {
  if (regex_error) regex_error->clear();
  std::optional<std::regex> pattern;
  if (!filter.pattern.empty()) {
    try {
      pattern.emplace(filter.pattern, std::regex::ECMAScript | std::regex::icase);
    } catch (const std::regex_error& e) {
      if (regex_error) *regex_error = std::string("invalid regular expression: ") + e.what();
      return {};
    }
  }

  // Group first (the whole ring), filter after: a message's continuation
  // frames belong to it whatever the filter says.
  struct Building {
    MessageRow row;
    std::vector<std::uint8_t> bytes;
    bool truncated = false;
    std::vector<std::uint8_t> inflated;  // a compressed message's preview, inflated
    bool inflated_truncated = false;
    const trace::Frame* first = nullptr;
  };
  std::vector<Building> rows;
  rows.reserve(frames_.size());
  // The data message still waiting for its FIN frame, per connection and
  // direction (§5.4: one fragmented message at a time in each direction).
  std::map<std::pair<std::uint64_t, Direction>, std::size_t> open;

  auto take = [](Building& b, const trace::Frame& f) {
    b.row.seqs.push_back(f.seq);
    b.row.length += f.payload_length;
    b.row.error = b.row.error || f.error.has_value();
    b.row.compressed = b.row.compressed || f.compressed;
    if (f.uncompressed_size) {
      // RFC 7692: the message inflated, carried by its last frame; the
      // preview shows it, as the application received it.
      b.row.inflated_length = f.uncompressed_size;
      b.inflated.assign(f.uncompressed_preview.begin(), f.uncompressed_preview.end());
      b.inflated_truncated = f.uncompressed_preview.size() < *f.uncompressed_size;
    }
    b.bytes.insert(b.bytes.end(), f.preview.begin(), f.preview.end());
    if (f.preview.size() < f.payload_length) b.truncated = true;
  };
  auto start = [&](const trace::Frame& f) -> Building& {
    Building& b = rows.emplace_back();
    b.row.conn = f.conn;
    b.row.direction = f.direction;
    b.row.opcode = f.opcode;
    b.row.time = f.time;
    b.first = &f;
    take(b, f);
    b.row.complete = f.fin;
    return b;
  };

  for (const auto& f : frames_) {
    const auto key = std::make_pair(f.conn, f.direction);
    if (is_control(f.opcode)) {
      start(f);  // control frames are never fragmented (§5.5) and may interleave
      continue;
    }
    if (f.opcode == 0x0) {
      auto it = open.find(key);
      if (it == open.end()) {
        // A continuation with no message to continue: its first frame has
        // left the ring, or the peer broke §5.4. A row of its own, which
        // the frames after it continue.
        start(f);
        if (!f.fin) open[key] = rows.size() - 1;
        continue;
      }
      Building& b = rows[it->second];
      take(b, f);
      if (f.fin) {
        b.row.complete = true;
        open.erase(it);
      }
      continue;
    }
    // A new data message (text, binary, or a reserved opcode). One still
    // open in this direction is left incomplete (the peer broke §5.4 and
    // the connection failed).
    open.erase(key);
    start(f);
    if (!f.fin) open[key] = rows.size() - 1;
  }

  std::vector<MessageRow> out;
  out.reserve(rows.size());
  for (auto& b : rows) {
    const MessageRow& r = b.row;
    if (filter.direction == Filter::Direction::sent && r.direction != Direction::sent) continue;
    if (filter.direction == Filter::Direction::received && r.direction != Direction::received) continue;
    if (filter.opcode && r.opcode != *filter.opcode) continue;
    if (filter.conn && r.conn != *filter.conn) continue;
    if (r.inflated_length)
      b.row.data = preview_text(r.opcode, b.inflated, b.inflated_truncated, *b.first);
    else
      b.row.data = preview_text(r.opcode, b.bytes, b.truncated, *b.first);
    if (pattern && !std::regex_search(b.row.data, *pattern)) continue;
    out.push_back(std::move(b.row));
  }
  return out;
}

}  // namespace wslab::viz
