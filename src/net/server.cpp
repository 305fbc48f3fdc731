// Layer 3: the WebSocket server. See server.hpp for what it serves.
//
// Every TCP connection is a Session, a handler on the one event loop. A
// session goes through these phases:
//
//   front_door: reading the request head (HeadReader bounds it; the
//   │  handshake timeout, TLS included, answers a slow one 408)
//   ├─ path ends in "/ws", an upgrade, allowed ─► websocket: a Connection
//   │     owns the bytes (CONNECTING → OPEN → CLOSING) until it asks for the
//   │     TCP connection to be closed and its output is sent ──────────────┐
//   └─ anything else (a page, a refusal) ─► responding: one plain HTTP     │
//         response ("Connection: close") until it is sent ─────────────────┤
//                                                                           ▼
//   draining: our FIN is sent (shutdown(SHUT_WR)). After a clean close
//   │  handshake the socket is closed at once; after a failure or an HTTP
//   │  response we read and discard until the peer's FIN (at most
//   ▼  close_timeout), so that unread bytes cause no reset
//   done: socket closed, the Connection told (transport_closed), retired
//
// The peer's FIN or a reset ends any phase at once (for a WebSocket
// connection that is 1006, RFC 6455 §7.1.5, unless the close handshake was
// over).
//
// Timers: each session has at most one loop timer, set to the earliest of
// its deadlines (Connection::next_deadline(): handshake, heartbeat, close
// handshake; our own: front door, flushing, draining). It is re-armed only
// when that time changes, which is rare (a ping sent, a close started), so a
// busy connection costs no timer work per message and an idle one without
// heartbeat has no timer at all. A periodic sweep would instead touch every
// connection ten times a second, busy or not.
//
// Back-pressure: see ServerOptions::output_high_water.
#include "wslab/net/server.hpp"

#include "wslab/net/transport.hpp"

#include <wslab/close.hpp>
#include <wslab/framing.hpp>
#include <wslab/handshake.hpp>
#include <wslab/rules.hpp>
#include <wslab/trace.hpp>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Error.h>
#include <Poco/Logger.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocketImpl.h>
#include <Poco/Timestamp.h>

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace wslab::net {

namespace {

using connection::Connection;
using connection::Event;
using connection::ReadyState;

// What a WebSocket connection is for, chosen by its resource name.
enum class Resource : std::uint8_t { none, echo, chat, trace };

std::string_view to_string(Resource r) {
  switch (r) {
    case Resource::echo: return "/ws";
    case Resource::chat: return "/chat/ws";
    case Resource::trace: return "/trace/ws";
    case Resource::none: break;
  }
  return "-";
}

// The path of a request target, without "?query" (RFC 3986 §3.3, §3.4).
std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::span<std::uint8_t> writable_bytes(std::string& s) {
  return {reinterpret_cast<std::uint8_t*>(s.data()), s.size()};
}

constexpr int kAcceptBatch = 64;                                   // accepts per wake-up, for fairness
constexpr Duration kAcceptRetry = std::chrono::milliseconds(100);  // after running out of descriptors

class Session;

// The server's state, and its listening socket's handler. Server::Impl is
// this class under its public name.
class ServerCore : public EventLoop::Handler {
 public:
  explicit ServerCore(ServerOptions opts);
  ~ServerCore() override;

  // The listening socket's handler.
  void on_readable() override;
  void on_writable() override {}
  void on_error() override;

  void begin_shutdown();
  void retire(Session* session);
  void broadcast(Event::Type type, const std::string& data);
  void deliver_trace(std::optional<std::uint64_t> client, const std::string& text);

  // The trace. `tracing` is true while anyone listens (a /trace/ws viewer or
  // the trace file); only then do sessions carry a Recorder.
  void trace_emit(trace::Event event);
  void update_tracing();                  // attach or detach every session's Recorder
  void trace_welcome(Session& viewer);    // hello + the connections already open
  void schedule_trace_flush();

  // Statistics (written on the loop thread, read from any).
  void count_rejected(int status) {
    std::lock_guard lock(stats_mutex);
    ++rejected[status];
  }
  void count_closed(std::uint16_t code, std::optional<std::uint16_t> sent_code) {
    std::lock_guard lock(stats_mutex);
    ++closed[code];
    if (sent_code) ++closes_sent[*sent_code];
  }
  void note_buffered(std::size_t bytes) {
    if (bytes > max_buffered.load(std::memory_order_relaxed)) max_buffered.store(bytes, std::memory_order_relaxed);
  }

  ServerOptions options;
  connection::Options connection_options;
  std::optional<TlsContext> tls;
  Poco::Logger& log;

  // The loop is declared before the sessions: they unregister from it when
  // they are destroyed.
  EventLoop loop;
  Poco::Net::ServerSocket listener;
  std::uint16_t port = 0;
  bool listening = false;
  ReadBuffer read_buffer;  // every session reads into this one buffer

  std::uint64_t next_id = 1;
  std::unordered_map<std::uint64_t, std::unique_ptr<Session>> sessions;
  // Members of /chat/ws and /trace/ws. Retired sessions leave these lists in
  // sweep(), never while a broadcast walks them.
  std::vector<Session*> chat;
  std::vector<Session*> trace;
  std::vector<std::unique_ptr<Session>> graveyard;  // retired, deleted by sweep()
  bool sweep_scheduled = false;

  class TraceSink final : public trace::Sink {
   public:
    explicit TraceSink(ServerCore& core) : core_(core) {}
    void emit(trace::Event event) override { core_.trace_emit(std::move(event)); }

   private:
    ServerCore& core_;
  };
  trace::Clock trace_clock{Clock::now()};
  trace::Hello trace_hello{};
  TraceSink trace_sink{*this};
  std::unique_ptr<trace::JsonlWriter> trace_writer;
  bool tracing = false;
  bool trace_flush_scheduled = false;

  bool stopping = false;
  EventLoop::TimerId shutdown_timer = 0;

  std::atomic<std::size_t> open_connections{0};
  std::atomic<std::size_t> websocket_connections{0};
  std::atomic<std::uint64_t> total_accepted{0};
  std::atomic<std::uint64_t> total_upgraded{0};
  std::atomic<std::size_t> max_buffered{0};
  std::atomic<std::uint64_t> reads_paused{0};
  std::atomic<std::uint64_t> trace_events{0};
  std::atomic<std::uint64_t> trace_dropped{0};
  mutable std::mutex stats_mutex;
  std::map<int, std::uint64_t> rejected;
  std::map<std::uint16_t, std::uint64_t> closed;
  std::map<std::uint16_t, std::uint64_t> closes_sent;

 private:
  void accept_connections();
  void sweep();
  void finish_shutdown();
};

// One TCP connection, from accept() to close().
class Session final : public EventLoop::Handler {
 public:
  Session(ServerCore& server, std::uint64_t id, Poco::Net::StreamSocket socket, std::unique_ptr<TlsEngine> tls);
  ~Session() override;

  void start();
  void on_readable() override { guarded([this] { readable(); }); }
  void on_writable() override { guarded([this] { after_activity(); }); }
  void on_error() override {
    guarded([this] {
      if (server_.log.debug()) server_.log.debug(name() + " socket error: " + transport_.socket_error());
      close_now();
    });
  }

  // Server::stop(): Close 1001 to an open connection (RFC 6455 §7.4.1:
  // "going away"), nothing more to one still at the front door.
  void go_away();
  // The shutdown's time is up: close the TCP connection now.
  void close_now();
  // A chat message from another member (or from itself).
  void chat_deliver(Event::Type type, const std::string& data);
  void trace_deliver(const std::string& text);
  void trace_flush();
  void catch_up();  // tick the Connection to now before acting on it from outside

  // Tracing turned on (a viewer arrived, or the file): observe this session
  // from now on; or off: stop. /trace/ws sessions are never traced.
  void trace_attach();
  void trace_detach();
  // The events that tell a newly arrived viewer about this connection.
  void trace_describe(std::vector<trace::Event>& out) const;

  std::uint64_t id() const { return id_; }
  bool retired() const { return phase_ == Phase::done; }

 private:
  enum class Phase : std::uint8_t { front_door, websocket, responding, draining, done };

  template <class F>
  void guarded(F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      // A bug, not the peer's doing: log it and drop this connection only.
      server_.log.error(name() + " internal error: " + e.what());
      if (phase_ != Phase::done) close_now();
    }
  }

  std::string name() const { return "#" + std::to_string(id_); }
  TimePoint now() const { return server_.loop.now(); }
  std::size_t buffered() const {
    return (ws_ ? ws_->buffered_amount() : http_out_.size() - http_sent_) + transport_.queued();
  }

  void readable();
  void on_head_bytes(std::span<std::uint8_t> bytes);
  void route(std::span<std::uint8_t> rest);
  void serve_page(const handshake::Request& request, std::string_view path);
  void respond(std::string response);
  void respond_error(const Violation& why);
  void process_events();
  void on_open();
  void on_close(const Event& e);

  bool flush();
  void after_activity();
  void update_interest();
  void arm_timer();
  void on_timer();

  ServerCore& server_;
  const std::uint64_t id_;
  Transport transport_;
  Phase phase_ = Phase::front_door;
  Resource resource_ = Resource::none;
  bool opened_ = false;      // the WebSocket handshake completed
  bool paused_ = false;      // back-pressure: not reading until the peer catches up
  bool linger_ = false;      // draining: wait for the peer's FIN before closing
  TimePoint accepted_at_;
  TimePoint deadline_ = TimePoint::max();  // flushing, responding, draining
  EventLoop::TimerId timer_ = 0;
  TimePoint timer_at_ = TimePoint::max();

  std::string peer() const;                       // "127.0.0.1:53412"
  trace::ConnectionOpen open_event() const;
  void trace_open();                              // the "open" event and the Recorder
  void trace_rejected(const Violation& why, const std::string& response);
  trace::Micros trace_now() const { return server_.trace_clock.since_start(now()); }

  std::unique_ptr<handshake::HeadReader> head_;  // front door only
  // Declared before ws_, which holds a pointer to it, so that it outlives it.
  std::unique_ptr<trace::Recorder> recorder_;
  std::string trace_resource_;          // the requested .../ws path, once known
  std::uint64_t trace_missed_ = 0;      // a viewer: events missed since the last "dropped"
  std::uint64_t trace_missed_total_ = 0;
  bool trace_dirty_ = false;            // a viewer: output waiting for trace_flush()
  std::unique_ptr<Connection> ws_;               // from the upgrade on
  std::string http_out_;                         // a plain HTTP response
  std::size_t http_sent_ = 0;
};

// --- Session: accept to close -------------------------------------------------

Session::Session(ServerCore& server, std::uint64_t id, Poco::Net::StreamSocket socket,
                 std::unique_ptr<TlsEngine> tls)
    : server_(server),
      id_(id),
      transport_(std::move(socket), std::move(tls)),
      accepted_at_(server.loop.now()),
      head_(std::make_unique<handshake::HeadReader>(server.connection_options.handshake_limits)) {}

Session::~Session() {
  if (timer_) server_.loop.cancel(timer_);
  server_.loop.remove(transport_.socket());
  transport_.close();
}

void Session::start() {
  server_.loop.add(transport_.socket(), this, true, false);
  arm_timer();
}

void Session::readable() {
  const auto read = transport_.read(server_.read_buffer);
  switch (read.status) {
    case Transport::Read::Status::would_block:
      break;
    case Transport::Read::Status::eof:
      if (phase_ != Phase::draining && server_.log.debug()) server_.log.debug(name() + " peer closed the TCP connection");
      return close_now();
    case Transport::Read::Status::error:
      if (server_.log.debug()) server_.log.debug(name() + " read failed: " + transport_.error());
      return close_now();
    case Transport::Read::Status::data:
      switch (phase_) {
        case Phase::front_door: on_head_bytes(read.data); break;
        case Phase::websocket:
          ws_->receive(read.data, now());
          process_events();
          break;
        case Phase::responding:  // the request is answered; the rest is ignored
        case Phase::draining:
        case Phase::done:
          break;
      }
      break;
  }
  after_activity();
}

// The request head arrives in pieces; HeadReader bounds it (RFC 6455 §4.2.1
// leaves limits to the server; 431 per RFC 6585 §5).
void Session::on_head_bytes(std::span<std::uint8_t> bytes) {
  std::size_t consumed = 0;
  const auto status = head_->feed(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), consumed);
  if (status == handshake::HeadReader::Status::need_more) return;
  if (status == handshake::HeadReader::Status::failed) return respond_error(head_->violation());
  route(bytes.subspan(consumed));
}

// The front door: which resource, and may this request have it?
void Session::route(std::span<std::uint8_t> rest) {
  auto request = handshake::parse_request(head_->head());
  if (!request) return respond_error(request.violation());
  const std::string path(path_of(request->target));
  const bool websocket_path = ends_with(path, "/ws");
  if (websocket_path) trace_resource_ = path;

  // §4.2.1 item 2 (HSS-11): the Host names the server's authority. With
  // allowed_hosts set, a request for another name is refused, pages too
  // (RFC 9110 §7.4: 421), so a DNS-rebinding page cannot reach the server.
  const auto& hosts = server_.options.allowed_hosts;
  if (!hosts.empty()) {
    const std::string* host = request->headers.find("Host");
    if (!host) return respond_error(Violation(error::no_host, "no Host header"));
    if (!host_allowed(*host, hosts, transport_.secure()))
      return respond_error(Violation(error::host_rejected, "Host \"" + *host + "\" is not a name this server answers to"));
  }
  if (!websocket_path) return serve_page(*request, path);

  if (!handshake::wants_upgrade(*request))
    return respond_error(Violation(error::no_upgrade, request->method + " " + path +
                                                          " has no \"Upgrade: websocket\": this resource speaks only WebSocket"));
  if (path == "/ws") resource_ = Resource::echo;
  else if (path == "/chat/ws") resource_ = Resource::chat;
  else if (path == "/trace/ws" && server_.options.trace_endpoint) resource_ = Resource::trace;
  else return respond_error(Violation(error::unknown_resource, "no WebSocket service at " + path));

  // §4.2.2 step 4 / §10.2: the Origin header is the browser's word for which
  // page opened the connection; a server may refuse origins it does not know.
  const auto& allowed = server_.options.allowed_origins;
  if (!allowed.empty()) {
    const std::string* origin = request->headers.find("Origin");
    const bool ok = origin && std::any_of(allowed.begin(), allowed.end(), [&](const std::string& a) {
                      return equal_ignoring_case(a, *origin);
                    });
    if (!ok)
      return respond_error(Violation(error::origin_rejected,
                                     origin ? "Origin \"" + *origin + "\" is not allowed" : "no Origin header"));
  }
  if (server_.websocket_connections.load() >= server_.options.max_connections)
    return respond_error(Violation(error::server_busy, std::to_string(server_.options.max_connections) +
                                                           " WebSocket connections are open, the most this server takes"));

  // The Connection reads the head again, checks it against §4.2.1 and
  // answers 101 or the rule's status.
  std::string head = head_->head();
  head_.reset();
  phase_ = Phase::websocket;
  if (server_.tracing && resource_ != Resource::trace) trace_open();
  ws_ = std::make_unique<Connection>(server_.connection_options, accepted_at_, recorder_.get());
  ws_->receive(writable_bytes(head), now());
  if (!rest.empty()) ws_->receive(rest, now());  // frames sent right behind the request
  process_events();
}

void Session::serve_page(const handshake::Request& request, std::string_view path) {
  if (request.method != "GET")
    return respond_error(Violation(error::bad_method, request.method + " " + std::string(path) + ": only GET is served"));
  handshake::Headers headers;
  headers.add("Connection", "close");
  headers.add("Cache-Control", "no-store");
  if (path == "/") {
    headers.add("Content-Type", "text/html; charset=utf-8");
    return respond(handshake::make_http_response(200, "OK", headers, demo_page()));
  }
  if (path == "/healthz") {
    headers.add("Content-Type", "application/json");
    const std::string body = R"({"status":"ok","connections":)" +
                             std::to_string(server_.websocket_connections.load()) + "}\n";
    return respond(handshake::make_http_response(200, "OK", headers, body));
  }
  headers.add("Content-Type", "text/plain; charset=utf-8");
  server_.count_rejected(404);
  if (server_.log.information()) server_.log.information(name() + " 404 " + std::string(path));
  respond(handshake::make_http_response(404, "Not Found", headers, "no page at " + std::string(path) + "\n"));
}

void Session::respond_error(const Violation& why) {
  const int status = why.http_status() != 0 ? why.http_status() : 400;
  server_.count_rejected(status);
  if (server_.log.warning()) server_.log.warning(name() + " " + why.message());
  std::string response = handshake::make_reject_response(why);
  if (server_.tracing && !trace_resource_.empty() && resource_ != Resource::trace) trace_rejected(why, response);
  respond(std::move(response));
}

void Session::respond(std::string response) {
  head_.reset();
  http_out_ = std::move(response);
  http_sent_ = 0;
  phase_ = Phase::responding;
  deadline_ = now() + server_.options.close_timeout;
}

// --- Session: WebSocket events ------------------------------------------------

void Session::process_events() {
  while (ws_->has_event()) {
    Event e = ws_->next_event();
    switch (e.type) {
      case Event::Type::request:
        // Routing has checked everything the server has an opinion about.
        ws_->accept(handshake::AcceptOptions{}, now());
        break;
      case Event::Type::open:
        on_open();
        break;
      case Event::Type::text:
      case Event::Type::binary:
        switch (resource_) {
          case Resource::echo:  // same opcode, same bytes
            if (e.type == Event::Type::text) ws_->send_text(e.data);
            else ws_->send_binary(e.data);
            break;
          case Resource::chat:
            server_.broadcast(e.type, e.data);
            break;
          case Resource::trace:  // the trace stream only talks
          case Resource::none:
            break;
        }
        break;
      case Event::Type::ping:  // the Connection has queued the pong (§5.5.2)
      case Event::Type::pong:
        break;
      case Event::Type::error:
        if (!opened_) server_.count_rejected(e.violation->http_status() != 0 ? e.violation->http_status() : 400);
        if (server_.log.warning()) server_.log.warning(name() + " " + e.violation->message());
        break;
      case Event::Type::close:
        on_close(e);
        break;
    }
    if (phase_ == Phase::done) return;
  }
}

void Session::on_open() {
  opened_ = true;
  ++server_.websocket_connections;
  ++server_.total_upgraded;
  if (server_.log.information()) {
    server_.log.information(name() + " open " + std::string(to_string(resource_)) + " from " + peer() +
                            (transport_.secure() ? " (TLS)" : ""));
  }
  if (resource_ == Resource::chat) server_.chat.push_back(this);
  if (resource_ == Resource::trace) {
    server_.trace.push_back(this);
    server_.trace_welcome(*this);
    if (server_.options.on_trace_open) server_.options.on_trace_open(id_);
  }
}

void Session::on_close(const Event& e) {
  if (recorder_)
    server_.trace_emit(trace::ConnectionClose{.conn = id_, .time = trace_now(), .code = e.code, .reason = e.reason,
                                              .was_clean = e.was_clean, .sent_code = e.sent_code});
  if (!opened_) return;  // a refused handshake was counted by its status
  opened_ = false;
  --server_.websocket_connections;
  server_.count_closed(e.code, e.sent_code);
  if (server_.log.information())
    server_.log.information(name() + " closed " + std::to_string(e.code) + (e.was_clean ? " clean" : " not clean") +
                            (e.sent_code && *e.sent_code != e.code ? " (sent close " + std::to_string(*e.sent_code) + ")"
                                                                   : "") +
                            (e.reason.empty() ? "" : ": " + e.reason));
}

// The Connection knows the time only from what it is given. A session acted
// on from outside its own reads and timers (a broadcast, a shutdown) may
// have been idle for long: tick() first, so that what it sends is stamped
// now and a close timeout starts now, not at the last read. Only tick: the
// session may be the very one whose events are being processed (a chat
// member hears its own message), so its queue is left to that loop, and
// anything tick() adds to it is handled at the session's next wake-up.
void Session::catch_up() { ws_->tick(now()); }

void Session::chat_deliver(Event::Type type, const std::string& data) {
  if (phase_ != Phase::websocket || ws_->ready_state() != ReadyState::OPEN) return;
  catch_up();
  if (ws_->ready_state() != ReadyState::OPEN) return after_activity();
  if (buffered() > server_.options.output_high_water) {
    // A reader this slow would make everyone's broadcasts pile up here.
    ws_->close(close::policy_violation, "too slow: output above the high-water mark");
  } else if (type == Event::Type::text) {
    ws_->send_text(data);
  } else {
    ws_->send_binary(data);
  }
  after_activity();
}

// A viewer's queue is its Connection's output, bounded by
// trace_viewer_buffer: above it the viewer misses events, counted, and is
// told how many in a "dropped" event once it has caught up.
void Session::trace_deliver(const std::string& text) {
  if (phase_ != Phase::websocket || ws_->ready_state() != ReadyState::OPEN) return;
  if (buffered() > server_.options.trace_viewer_buffer) {
    ++trace_missed_;
    ++trace_missed_total_;
    ++server_.trace_dropped;
    return;
  }
  if (trace_missed_ > 0) {
    ws_->send_text(trace::to_json(
        trace::Dropped{.time = trace_now(), .count = trace_missed_, .total = trace_missed_total_}));
    trace_missed_ = 0;
  }
  ws_->send_text(text);
  // Written once per loop turn, not once per event.
  trace_dirty_ = true;
  server_.schedule_trace_flush();
}

void Session::trace_flush() {
  if (!trace_dirty_) return;
  trace_dirty_ = false;
  after_activity();
}

std::string Session::peer() const {
  try {
    return transport_.socket().peerAddress().toString();
  } catch (const Poco::Exception&) {
    return "?";  // the socket is already gone
  }
}

trace::ConnectionOpen Session::open_event() const {
  trace::ConnectionOpen e{.conn = id_, .time = server_.trace_clock.since_start(accepted_at_),
                          .role = Role::server, .peer = peer(), .resource = trace_resource_};
  // A viewer that joins after the handshake never sees the 101: say what it
  // agreed (RFC 6455 §9.1; permessage-deflate gives RSV1 its meaning).
  if (ws_ && ws_->ready_state() != ReadyState::CONNECTING) e.extensions = ws_->extensions();
  return e;
}

void Session::trace_open() {
  if (recorder_) return;
  server_.trace_emit(open_event());
  recorder_ = std::make_unique<trace::Recorder>(server_.trace_sink, server_.trace_clock, id_);
  recorder_->set_buffered_amount([this] { return buffered(); });
}

// Refused at the front door, before a Connection existed: the same events a
// Connection's own refusal produces (the request, the response, CONNECTING
// -> CLOSED), so every refused upgrade looks alike in the trace.
void Session::trace_rejected(const Violation& why, const std::string& response) {
  trace_open();
  const auto t = trace_now();
  if (head_ && head_->status() == handshake::HeadReader::Status::complete)
    server_.trace_emit(trace::make_handshake(id_, t, connection::Direction::received, head_->head()));
  server_.trace_emit(trace::make_handshake(id_, t, connection::Direction::sent, response));
  const std::string cause = "handshake rejected: " + std::to_string(why.http_status() ? why.http_status() : 400) +
                            " " + why.detail();  // as the Connection words its own refusals
  server_.trace_emit(trace::Transition{.conn = id_, .time = t, .from = ReadyState::CONNECTING,
                                       .to = ReadyState::CLOSED, .cause = cause});
  server_.trace_emit(trace::ConnectionClose{.conn = id_, .time = t, .code = close::abnormal_closure,
                                            .reason = why.message(), .was_clean = false});
  recorder_.reset();
}

void Session::trace_attach() {
  if (recorder_ || resource_ == Resource::trace || phase_ != Phase::websocket || !ws_) return;
  trace_open();
  // What happened before is not in the trace: say where the connection is.
  const auto state = ws_->ready_state();
  if (state != ReadyState::CONNECTING)
    server_.trace_emit(trace::Transition{.conn = id_, .time = trace_now(), .from = ReadyState::CONNECTING,
                                         .to = state, .cause = "already " + std::string(connection::to_string(state)) +
                                                               " when tracing began"});
  ws_->set_observer(recorder_.get());
}

void Session::trace_detach() {
  if (ws_) ws_->set_observer(nullptr);
  recorder_.reset();
}

void Session::trace_describe(std::vector<trace::Event>& out) const {
  if (!recorder_ || !ws_) return;
  out.push_back(open_event());
  const auto state = ws_->ready_state();
  if (state != ReadyState::CONNECTING)
    out.push_back(trace::Transition{.conn = id_, .time = trace_now(), .from = ReadyState::CONNECTING, .to = state,
                                    .cause = "already " + std::string(connection::to_string(state)) +
                                             " when this viewer joined"});
}

void Session::go_away() {
  switch (phase_) {
    case Phase::front_door:
      return close_now();
    case Phase::websocket:
      if (ws_->ready_state() == ReadyState::OPEN) {
        catch_up();
        if (ws_->ready_state() == ReadyState::OPEN) ws_->close(close::going_away, "server shutting down");
      }
      return after_activity();
    case Phase::responding:
    case Phase::draining:
    case Phase::done:
      return;
  }
}

// --- Session: output, interest, time -------------------------------------------

// Writes what is queued until the socket is full. False if the connection broke.
bool Session::flush() {
  if (!transport_.flush()) return false;
  for (;;) {
    std::string_view out = ws_ ? ws_->output() : std::string_view(http_out_).substr(http_sent_);
    if (out.empty() || transport_.shutdown_done()) return true;
    const auto w = transport_.write(out);
    if (w.status == Transport::Write::Status::error) return false;
    if (ws_) {
      ws_->consume_output(w.taken);
    } else if ((http_sent_ += w.taken) == http_out_.size()) {
      std::string().swap(http_out_);
      http_sent_ = 0;
    }
    if (w.blocked) return true;
  }
}

// After anything happened: write, apply back-pressure, move towards closing,
// wait for the right readiness and the right time.
void Session::after_activity() {
  if (phase_ == Phase::done) return;
  if (!flush()) {
    if (server_.log.debug()) server_.log.debug(name() + " write failed: " + transport_.error());
    return close_now();
  }
  const std::size_t queued = buffered();
  server_.note_buffered(queued);

  // Back-pressure, with hysteresis so a connection near the mark does not
  // switch its epoll interest on every message.
  const std::size_t high = server_.options.output_high_water;
  if (!paused_ && queued > high) {
    paused_ = true;
    ++server_.reads_paused;
  } else if (paused_ && queued <= high / 2) {
    paused_ = false;
  }

  // The Connection (or a plain response) is done with this TCP connection:
  // once everything is written, send our FIN (§7.1.1: the server closes
  // first) and wait for the peer's.
  const bool finished = (phase_ == Phase::websocket && ws_->close_transport()) || phase_ == Phase::responding;
  if (finished) {
    if (deadline_ == TimePoint::max()) deadline_ = now() + server_.options.close_timeout;
    if (queued == 0 && !transport_.wants_write()) {
      // After a close handshake the peer sends nothing more (§5.5.1: no
      // data after its Close), so the socket can go once our FIN is out.
      // After a failure, or a plain HTTP answer, the peer may still be
      // sending: we read and discard until its FIN (bounded), because
      // closing with unread bytes resets the connection, and a reset can
      // destroy our last bytes before the peer has read them.
      linger_ = phase_ == Phase::responding || ws_->failure().has_value();
      transport_.shutdown_write();
      phase_ = Phase::draining;
      deadline_ = now() + server_.options.close_timeout;
      paused_ = false;
    }
  }
  if (phase_ == Phase::draining && !linger_ && transport_.shutdown_done()) return close_now();
  update_interest();
  arm_timer();
}

void Session::update_interest() {
  const bool write = buffered() > 0 || transport_.wants_write();
  server_.loop.update(transport_.socket(), !paused_, write);
}

void Session::arm_timer() {
  TimePoint due = deadline_;
  if (phase_ == Phase::front_door) due = accepted_at_ + server_.options.handshake_timeout;
  if (phase_ == Phase::websocket && !ws_->close_transport()) due = ws_->next_deadline();
  if (due == timer_at_) return;
  if (timer_) server_.loop.cancel(timer_);
  timer_ = 0;
  timer_at_ = due;
  if (due == TimePoint::max()) return;
  timer_ = server_.loop.at(due, [this] {
    timer_ = 0;
    timer_at_ = TimePoint::max();
    guarded([this] { on_timer(); });
  });
}

void Session::on_timer() {
  switch (phase_) {
    case Phase::front_door:
      // Slowloris: the request (or the TLS handshake) is too slow in coming.
      respond_error(Violation(error::handshake_timeout,
                              "request head not complete after " +
                                  std::to_string(server_.options.handshake_timeout.count()) + " ms"));
      break;
    case Phase::websocket:
      if (ws_->close_transport()) {
        if (now() >= deadline_) return close_now();  // the peer does not take our last bytes
      } else {
        ws_->tick(now());  // heartbeat, close handshake timeout
        process_events();
      }
      break;
    case Phase::responding:
    case Phase::draining:
      if (now() >= deadline_) return close_now();
      break;
    case Phase::done:
      return;
  }
  after_activity();
}

// The TCP connection is over: close it, tell the Connection (which reports
// its close event: 1006 if there was no close handshake, §7.1.5), retire.
void Session::close_now() {
  if (phase_ == Phase::done) return;
  server_.loop.remove(transport_.socket());
  transport_.close();
  if (timer_) server_.loop.cancel(timer_);
  timer_ = 0;
  if (ws_ && ws_->ready_state() != ReadyState::CLOSED) {
    ws_->transport_closed(now());
    process_events();  // the close event, with its code
  }
  phase_ = Phase::done;
  server_.retire(this);
}

// --- ServerCore -----------------------------------------------------------------

ServerCore::ServerCore(ServerOptions opts)
    : options(std::move(opts)), log(Poco::Logger::get("wslab.server")) {
  connection_options.role = Role::server;
  connection_options.max_frame_size = options.max_frame_size;
  connection_options.max_message_size = options.max_message_size;
  connection_options.handshake_limits = handshake::Limits{options.max_header_bytes, options.max_header_lines};
  connection_options.handshake_timeout = options.handshake_timeout;
  connection_options.close_timeout = options.close_timeout;
  connection_options.heartbeat = heartbeat::Options{options.ping_interval, options.pong_timeout};
  if (options.permessage_deflate) extensions::check(*options.permessage_deflate);  // std::invalid_argument
  connection_options.permessage_deflate = options.permessage_deflate;  // negotiated by the Connection in accept()
  if (options.tls) tls = TlsContext::server(*options.tls);
  connection_options.payload_preview = options.trace_preview;
  trace_hello = trace::Hello{.source = "wslab serve",
                             .started_at = Poco::DateTimeFormatter::format(
                                 Poco::Timestamp(), Poco::DateTimeFormat::ISO8601_FRAC_FORMAT),
                             .preview_bytes = options.trace_preview};
  if (!options.trace_file.empty()) {
    trace_writer = std::make_unique<trace::JsonlWriter>(options.trace_file);
    trace_writer->emit(trace_hello);
    tracing = true;
  }

  listener.bind(Poco::Net::SocketAddress(options.host, options.port), true);
  listener.listen(options.backlog);
  listener.setBlocking(false);
  port = listener.address().port();
  loop.add(listener, this, true, false);
  listening = true;
}

ServerCore::~ServerCore() {
  graveyard.clear();
  sessions.clear();
  if (listening) loop.remove(listener);
}

void ServerCore::on_readable() { accept_connections(); }

void ServerCore::on_error() {
  // Reading SO_ERROR clears it, so a level-triggered poll does not report it again.
  log.warning("listening socket error: " + Poco::Error::getMessage(listener.impl()->socketError()));
}

void ServerCore::accept_connections() {
  const int listen_fd = listener.impl()->sockfd();
  for (int i = 0; i < kAcceptBatch; ++i) {
    // accept4() directly: POCO's acceptConnection() throws when the queue is
    // empty, which is how every batch ends.
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) return;
      if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue;
      if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        // Out of descriptors: stop listening for a moment (the connection
        // waits in the backlog) instead of spinning on a readable listener.
        log.warning("accept: out of file descriptors (" + std::to_string(open_connections.load()) +
                    " connections open); retrying in 100 ms");
        loop.update(listener, false, false);
        loop.at(loop.now() + kAcceptRetry, [this] {
          if (listening) loop.update(listener, true, false);
        });
        return;
      }
      log.warning("accept failed: " + Poco::Error::getMessage(err));
      return;
    }
    try {
      Poco::Net::StreamSocket socket(new Poco::Net::StreamSocketImpl(fd));
      socket.setNoDelay(true);  // small messages go out at once (no Nagle delay)
      std::unique_ptr<TlsEngine> engine = tls ? std::make_unique<TlsEngine>(*tls) : nullptr;
      const std::uint64_t id = next_id++;
      auto session = std::make_unique<Session>(*this, id, std::move(socket), std::move(engine));
      Session* s = session.get();
      sessions.emplace(id, std::move(session));
      ++total_accepted;
      ++open_connections;
      s->start();
    } catch (const std::exception& e) {
      log.warning(std::string("cannot set up an accepted connection: ") + e.what());
    }
  }
}

void ServerCore::retire(Session* session) {
  auto it = sessions.find(session->id());
  if (it == sessions.end()) return;
  graveyard.push_back(std::move(it->second));
  sessions.erase(it);
  --open_connections;
  if (!sweep_scheduled) {
    sweep_scheduled = true;
    loop.at(loop.now(), [this] { sweep(); });
  }
  if (stopping && sessions.empty()) finish_shutdown();
}

// Runs from a timer, never inside a session's handler or a broadcast.
void ServerCore::sweep() {
  sweep_scheduled = false;
  auto gone = [](Session* s) { return s->retired(); };
  std::erase_if(chat, gone);
  std::erase_if(trace, gone);
  graveyard.clear();
  update_tracing();
}

void ServerCore::trace_emit(trace::Event event) {
  ++trace_events;
  if (!trace.empty()) {
    const std::string line = trace::to_json(event);
    for (std::size_t i = 0; i < trace.size(); ++i) trace[i]->trace_deliver(line);
  }
  if (trace_writer) trace_writer->emit(std::move(event));
}

void ServerCore::update_tracing() {
  const bool wanted = trace_writer || !trace.empty();
  if (wanted == tracing) return;
  tracing = wanted;
  for (auto& [id, session] : sessions) {
    if (tracing) session->trace_attach();
    else session->trace_detach();
  }
}

void ServerCore::trace_welcome(Session& viewer) {
  viewer.trace_deliver(trace::to_json(trace_hello));
  if (!tracing) return update_tracing();  // attaching announces every connection
  std::vector<trace::Event> events;
  for (const auto& [id, session] : sessions) session->trace_describe(events);
  for (const auto& e : events) viewer.trace_deliver(trace::to_json(e));
}

void ServerCore::schedule_trace_flush() {
  if (trace_flush_scheduled) return;
  trace_flush_scheduled = true;
  loop.at(loop.now(), [this] {
    trace_flush_scheduled = false;
    for (std::size_t i = 0; i < trace.size(); ++i) trace[i]->trace_flush();
  });
}

void ServerCore::broadcast(Event::Type type, const std::string& data) {
  // By index: a member may close (and retire) while we deliver, but only
  // sweep() shrinks the list.
  for (std::size_t i = 0; i < chat.size(); ++i) chat[i]->chat_deliver(type, data);
}

void ServerCore::deliver_trace(std::optional<std::uint64_t> client, const std::string& text) {
  for (std::size_t i = 0; i < trace.size(); ++i) {
    if (!client || trace[i]->id() == *client) trace[i]->trace_deliver(text);
  }
}

void ServerCore::begin_shutdown() {
  if (stopping) return;
  stopping = true;
  log.information("shutting down: " + std::to_string(sessions.size()) + " connections open");
  if (listening) {
    loop.remove(listener);
    listener.close();
    listening = false;
  }
  std::vector<Session*> all;
  all.reserve(sessions.size());
  for (auto& [id, s] : sessions) all.push_back(s.get());
  for (Session* s : all) s->go_away();
  if (sessions.empty()) return finish_shutdown();
  shutdown_timer = loop.at(loop.now() + options.close_timeout, [this] {
    shutdown_timer = 0;
    std::vector<Session*> left;
    for (auto& [id, s] : sessions) left.push_back(s.get());
    if (!left.empty()) log.information("shutdown: closing " + std::to_string(left.size()) + " connections that did not finish");
    for (Session* s : left) s->close_now();
    finish_shutdown();
  });
}

void ServerCore::finish_shutdown() {
  if (shutdown_timer) loop.cancel(shutdown_timer);
  shutdown_timer = 0;
  loop.stop();
}

}  // namespace

// --- Server -----------------------------------------------------------------------

class Server::Impl final : public ServerCore {
 public:
  using ServerCore::ServerCore;
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() = default;

std::uint16_t Server::port() const { return impl_->port; }

const ServerOptions& Server::options() const { return impl_->options; }

void Server::run() {
  impl_->log.information("listening on " + impl_->options.host + ":" + std::to_string(impl_->port) +
                         (impl_->tls ? " (TLS)" : ""));
  impl_->loop.run();
  impl_->graveyard.clear();
  impl_->sweep_scheduled = false;
}

void Server::stop() {
  Impl* impl = impl_.get();
  impl->loop.post([impl] { impl->begin_shutdown(); });
}

namespace {

// "name", "name:port", "[v6]", "[v6]:port" -> the name and the port ("" if none).
// A bare IPv6 literal ("::1", more than one ':' and no brackets) is all name:
// an --host-name entry may be written so; a Host header never is (§3).
std::pair<std::string_view, std::string_view> split_authority(std::string_view authority) {
  if (std::count(authority.begin(), authority.end(), ':') > 1 && !authority.starts_with('[')) return {authority, {}};
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return {authority, {}};
    const std::string_view rest = authority.substr(close + 1);
    return {authority.substr(0, close + 1), rest.starts_with(':') ? rest.substr(1) : rest};
  }
  const auto colon = authority.rfind(':');
  if (colon == std::string_view::npos) return {authority, {}};
  return {authority.substr(0, colon), authority.substr(colon + 1)};
}

}  // namespace

bool host_allowed(std::string_view host, const std::vector<std::string>& allowed, bool secure) {
  if (allowed.empty()) return true;
  const auto [name, port] = split_authority(host);
  if (name.empty()) return false;
  const std::string_view default_port = secure ? "443" : "80";
  for (const std::string& entry : allowed) {
    auto [allowed_name, allowed_port] = split_authority(entry);
    std::string bracketed;  // "::1" allowed is the Host "[::1]"
    if (!allowed_name.starts_with('[') && allowed_name.find(':') != std::string_view::npos) {
      bracketed = "[" + std::string(allowed_name) + "]";
      allowed_name = bracketed;
    }
    if (!equal_ignoring_case(name, allowed_name)) continue;
    if (allowed_port.empty() || port == allowed_port) return true;
    if (port.empty() && allowed_port == default_port) return true;  // §4.1: the default port is left out
  }
  return false;
}

ServerStats Server::stats() const {
  ServerStats s;
  s.open_connections = impl_->open_connections.load();
  s.websocket_connections = impl_->websocket_connections.load();
  s.total_accepted = impl_->total_accepted.load();
  s.total_upgraded = impl_->total_upgraded.load();
  s.max_buffered_output = impl_->max_buffered.load();
  s.reads_paused = impl_->reads_paused.load();
  s.trace_events = impl_->trace_events.load();
  s.trace_dropped = impl_->trace_dropped.load() + (impl_->trace_writer ? impl_->trace_writer->dropped() : 0);
  std::lock_guard lock(impl_->stats_mutex);
  s.rejected_by_status = impl_->rejected;
  s.closed_by_code = impl_->closed;
  s.closes_sent_by_code = impl_->closes_sent;
  return s;
}

void Server::send_trace(std::string text) {
  if (!framing::is_valid_utf8(text)) throw std::invalid_argument("Server::send_trace: text is not valid UTF-8");
  Impl* impl = impl_.get();
  impl->loop.post([impl, text = std::move(text)] { impl->deliver_trace(std::nullopt, text); });
}

void Server::send_trace(std::uint64_t client, std::string text) {
  if (!framing::is_valid_utf8(text)) throw std::invalid_argument("Server::send_trace: text is not valid UTF-8");
  Impl* impl = impl_.get();
  impl->loop.post([impl, client, text = std::move(text)] { impl->deliver_trace(client, text); });
}

}  // namespace wslab::net
