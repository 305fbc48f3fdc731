// Layer 3: the WebSocket client. See client.hpp for the interface.
//
// A Client's work happens in a Session that lives on the event loop thread
// and goes through the steps of RFC 6455 §4.1 in order:
//
//   resolving  the host name, on a short-lived thread (getaddrinfo blocks)
//   waiting    behind another connection to the same address (§4.1 step 2)
//   tcp        a non-blocking connect, trying each address in turn
//   proxy      CONNECT host:port through an HTTP proxy (RFC 7231 §4.3.6)
//   tls        wss://: the TLS handshake, with SNI and certificate checks
//   websocket  the opening handshake and everything after it, which the
//              sans-I/O Connection decides; the session moves its bytes
//   closed     nothing more happens
//
// Before `websocket` a failure is the session's own (it reports what went
// wrong: DNS, TCP, the proxy's answer, TLS). From `websocket` on, the
// Connection reports events and the session turns them into callbacks.
#include <wslab/net/client.hpp>

#include <wslab/framing.hpp>
#include <wslab/handshake.hpp>
#include <wslab/net/transport.hpp>

#include <Poco/Error.h>
#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Net/DNS.h>
#include <Poco/Net/HostEntry.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>

namespace wslab::net {

namespace {

Poco::Logger& logger() { return Poco::Logger::get("wslab.client"); }

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

bool is_ip_address(const std::string& host) {
  Poco::Net::IPAddress address;
  return Poco::Net::IPAddress::tryParse(host, address);
}

// "host:port", the host bracketed if it is an IPv6 address.
std::string authority_of(const std::string& host, std::uint16_t port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// Parses a decimal port 1..65535; nullopt otherwise.
std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// Splits "host", "host:port", "[v6]" or "[v6]:port" (a bare IPv6 address,
// with several colons, is all host).
struct HostPort {
  std::string host;
  std::optional<std::string_view> port;
};
std::optional<HostPort> split_host_port(std::string_view text) {
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    HostPort out{std::string(text.substr(1, close - 1)), std::nullopt};
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      out.port = rest.substr(1);
    }
    return out;
  }
  const auto colon = text.find(':');
  if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    return HostPort{std::string(text.substr(0, colon)), text.substr(colon + 1)};
  }
  return HostPort{std::string(text), std::nullopt};
}

// Does a no_proxy list name this host (and port)?
bool bypasses_proxy(const uri::Uri& target, std::string_view no_proxy) {
  while (!no_proxy.empty()) {
    const auto comma = no_proxy.find(',');
    const std::string_view entry = trim(no_proxy.substr(0, comma));
    no_proxy = comma == std::string_view::npos ? std::string_view() : no_proxy.substr(comma + 1);
    if (entry.empty()) continue;
    if (entry == "*") return true;
    const auto parts = split_host_port(entry);
    if (!parts) continue;
    if (parts->port) {
      const auto port = parse_port(*parts->port);
      if (!port || *port != target.port) continue;
    }
    std::string host = lower(parts->host);
    if (!host.empty() && host.front() == '.') host.erase(0, 1);  // ".example.com"
    if (host.empty()) continue;
    if (target.host == host) return true;
    // A domain covers its subdomains; an address covers only itself.
    if (!is_ip_address(host) && target.host.size() > host.size() &&
        target.host.compare(target.host.size() - host.size(), host.size(), host) == 0 &&
        target.host[target.host.size() - host.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

// --- RFC 6455 §4.1 step 2: one CONNECTING connection per address -----------
//
// "If the client already has a WebSocket connection to the remote host (IP
// address) identified by /host/ and port /port/ pair, even if the remote
// host is known by another name, the client MUST wait until that connection
// has been established or for that connection to have failed. There MUST be
// no more than one connection in a CONNECTING state."
//
// Process-wide: every client of every loop queues here. The front of a
// queue is the connection that is CONNECTING; the others wait their turn.
class ConnectingRegistry {
 public:
  static ConnectingRegistry& instance() {
    static ConnectingRegistry registry;
    return registry;
  }

  // Joins the queue for `key`. Returns true if it is our turn at once.
  // Otherwise `turn` is called when it is: under the registry's lock, so it
  // must do no more than post to an event loop.
  bool enter(const std::string& key, std::uint64_t ticket, std::function<void()> turn) {
    std::lock_guard lock(mutex_);
    auto& queue = queues_[key];
    queue.push_back(Waiter{ticket, std::move(turn)});
    return queue.size() == 1;
  }

  // Leaves the queue: done connecting (open or failed), or given up while
  // waiting. The next one in line gets its turn. Leaving twice is harmless.
  void leave(const std::string& key, std::uint64_t ticket) {
    std::lock_guard lock(mutex_);
    auto it = queues_.find(key);
    if (it == queues_.end()) return;
    auto& queue = it->second;
    const bool was_front = !queue.empty() && queue.front().ticket == ticket;
    std::erase_if(queue, [&](const Waiter& w) { return w.ticket == ticket; });
    if (queue.empty()) {
      queues_.erase(it);
    } else if (was_front) {
      queue.front().turn();
    }
  }

  static std::uint64_t next_ticket() {
    static std::atomic<std::uint64_t> counter{0};
    return ++counter;
  }

 private:
  struct Waiter {
    std::uint64_t ticket;
    std::function<void()> turn;
  };
  std::mutex mutex_;
  std::map<std::string, std::deque<Waiter>> queues_;
};

// Scratch space for reads, one per loop thread (see transport.hpp).
ReadBuffer& read_buffer() {
  thread_local ReadBuffer buffer;
  return buffer;
}

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A name resolution running on its own thread; the session cancels it by
// clearing `loop` (under the mutex, so the thread never posts to a loop
// that is going away).
struct DnsJob {
  std::mutex mutex;
  EventLoop* loop = nullptr;
};

}  // namespace

// --- Proxies -------------------------------------------------------------------

std::string ProxyAddress::authority() const { return authority_of(host, port); }

ProxyAddress parse_proxy_url(std::string_view url) {
  const std::string original(url);
  auto bad = [&](const std::string& why) {
    return std::invalid_argument("proxy URL '" + original + "': " + why);
  };
  std::string_view rest = trim(url);
  const auto scheme_end = rest.find("://");
  if (scheme_end != std::string_view::npos) {
    if (lower(rest.substr(0, scheme_end)) != "http") {
      throw bad("only http:// proxies are supported (the tunnel itself carries TLS for wss://)");
    }
    rest.remove_prefix(scheme_end + 3);
  }
  rest = rest.substr(0, rest.find('/'));  // a trailing "/" or path means nothing here
  if (rest.find('@') != std::string_view::npos) throw bad("proxy credentials are not supported");
  const auto parts = split_host_port(rest);
  if (!parts || parts->host.empty()) throw bad("no host");
  ProxyAddress proxy{lower(parts->host), 1080};
  if (parts->port) {
    const auto port = parse_port(*parts->port);
    if (!port) throw bad("the port is not a number from 1 to 65535");
    proxy.port = *port;
  }
  return proxy;
}

std::optional<ProxyAddress> select_proxy(const uri::Uri& target, const std::optional<std::string>& configured,
                                         const std::function<const char*(const char*)>& getenv) {
  if (configured) {
    if (configured->empty()) return std::nullopt;
    return parse_proxy_url(*configured);
  }
  auto variable = [&](const char* name) -> std::string_view {
    const char* value = getenv(name);
    return value ? trim(value) : std::string_view();
  };
  // curl's conventions. HTTP_PROXY is not read: a CGI program gets a request
  // header "Proxy:" as HTTP_PROXY ("httpoxy"); the lower-case name is safe.
  std::string_view proxy = target.secure ? variable("https_proxy") : variable("http_proxy");
  if (proxy.empty() && target.secure) proxy = variable("HTTPS_PROXY");
  if (proxy.empty()) return std::nullopt;
  std::string_view no_proxy = variable("no_proxy");
  if (no_proxy.empty()) no_proxy = variable("NO_PROXY");
  if (bypasses_proxy(target, no_proxy)) return std::nullopt;
  return parse_proxy_url(proxy);
}

// --- The session -------------------------------------------------------------------

class Client::Session final : public EventLoop::Handler, public std::enable_shared_from_this<Client::Session> {
 public:
  enum class Phase { idle, resolving, waiting, tcp, proxy, tls, websocket, closed };

  Session(EventLoop& loop, Client* client, uri::Uri target, std::vector<std::string> protocols,
          ClientOptions options, std::optional<TlsContext> tls, std::optional<ProxyAddress> proxy)
      : loop_(loop),
        client_(client),
        target_(std::move(target)),
        protocols_(std::move(protocols)),
        options_(std::move(options)),
        tls_(std::move(tls)),
        proxy_(std::move(proxy)),
        proxy_reader_(handshake::Limits{}, true) {}

  // --- Any thread: what the Client reads ---
  std::atomic<ReadyState> state{ReadyState::CONNECTING};
  std::atomic<std::uint64_t> buffered_on_loop{0};  // Connection output + TLS queue
  std::atomic<std::uint64_t> posted_bytes{0};      // sent, not yet on the loop (or discarded)
  mutable std::mutex info_mutex;
  std::string protocol, extensions;

  // ~Client: no callback from now on. Returns whether the session ever ran
  // on the loop (and so needs teardown() there).
  bool abandon() {
    std::lock_guard lock(callback_mutex_);
    abandoned_ = true;
    client_ = nullptr;
    return started_;
  }
  std::thread::id loop_thread() const { return loop_thread_.load(); }

  // --- Loop thread ---

  void start() {
    {
      std::lock_guard lock(callback_mutex_);
      if (abandoned_) return;
      started_ = true;
      loop_thread_.store(std::this_thread::get_id());
    }
    self_ = shared_from_this();  // alive until closed, whatever the Client does
    started_at_ = loop_.now();
    phase_ = Phase::resolving;
    arm_timer();

    const std::string& host = proxy_ ? proxy_->host : target_.host;
    const std::uint16_t port = proxy_ ? proxy_->port : target_.port;
    Poco::Net::IPAddress literal;
    if (Poco::Net::IPAddress::tryParse(host, literal)) {
      resolved({Poco::Net::SocketAddress(literal, port)}, {});
      return;
    }
    // getaddrinfo() blocks: it runs on a thread of its own, and the answer
    // comes back to the loop.
    dns_ = std::make_shared<DnsJob>();
    dns_->loop = &loop_;
    std::thread([job = dns_, host, port, weak = weak_from_this()] {
      std::vector<Poco::Net::SocketAddress> addresses;
      std::string error;
      try {
        const Poco::Net::HostEntry entry = Poco::Net::DNS::resolve(host);
        for (const Poco::Net::IPAddress& address : entry.addresses()) addresses.emplace_back(address, port);
        // IPv4 first, as POCO's SocketAddress does: "localhost" then means
        // 127.0.0.1, where local servers usually listen.
        std::stable_partition(addresses.begin(), addresses.end(), [](const Poco::Net::SocketAddress& a) {
          return a.family() == Poco::Net::SocketAddress::IPv4;
        });
      } catch (const Poco::Exception& e) {
        error = e.displayText();
      }
      std::lock_guard lock(job->mutex);
      if (!job->loop) return;
      job->loop->post([weak, addresses = std::move(addresses), error = std::move(error)] {
        if (auto session = weak.lock()) session->resolved(addresses, error);
      });
    }).detach();
  }

  // True while this session's callbacks run (on the loop thread). send(),
  // ping() and close() called from a callback act at once instead of being
  // posted, as a browser queues data in send() itself: an echo sent from
  // onmessage goes out before a Close or a failure that arrived behind the
  // message (RFC 6455 §7.1.7: frames before a bad one are processed; §5.5.1:
  // messages before a Close are answered first). Any thread may ask.
  bool in_callback() const { return loop_thread_.load() == std::this_thread::get_id() && dispatching_; }

  // The Connection knows the time only from what it is given: tick() first,
  // so that a ping's RTT and a close timeout start now, not at the last read.
  // Not from a callback: the Connection is handing out events, and tick()
  // would apply a pending Close or failure before this message; the
  // dispatch under way writes the output afterwards.
  void send_message(const std::string& data, bool binary) {
    if (phase_ != Phase::websocket) return;
    if (!dispatching_) conn_->tick(loop_.now());
    if (conn_->ready_state() == ReadyState::OPEN) {
      const bool queued = binary ? conn_->send_binary(std::string_view(data)) : conn_->send_text(data);
      // Sent data now counts as the Connection's output; data refused after
      // our Close stays counted, as the WHATWG API counts it.
      if (queued) posted_bytes -= data.size();
    }
    after_call();
  }

  void send_ping(const std::string& payload) {
    if (phase_ != Phase::websocket) return;
    if (!dispatching_) conn_->tick(loop_.now());
    if (conn_->ready_state() == ReadyState::OPEN) conn_->send_ping(payload);
    after_call();
  }

  void close(std::uint16_t code, const std::string& reason) {
    if (phase_ == Phase::idle || phase_ == Phase::closed) return;
    if (phase_ != Phase::websocket) {
      fail_before_open("closed by the application before the connection was established", std::nullopt);
      return;
    }
    if (!dispatching_) conn_->tick(loop_.now());
    if (conn_->ready_state() == ReadyState::CONNECTING) {
      // WHATWG: close() while CONNECTING fails the connection: error, then
      // close (the Connection reports the close).
      deliver_error(ErrorEvent{"closed by the application during the opening handshake", std::nullopt});
      if (phase_ == Phase::closed) return;
    }
    conn_->close(code, reason);
    after_call();
  }

  // After send(), ping() or close(): from a callback, only what the caller
  // reads at once (readyState, bufferedAmount); the dispatch under way does
  // the rest. Otherwise a full step.
  void after_call() {
    if (!dispatching_) return process();
    state.store(conn_->ready_state());
    buffered_on_loop.store(conn_->buffered_amount() + (transport_ ? transport_->queued() : 0));
  }

  // ~Client, on the loop thread: an OPEN connection gets a Close 1001, then
  // everything stops.
  void teardown() {
    if (phase_ == Phase::closed || phase_ == Phase::idle) return;
    auto keep = shared_from_this();
    if (phase_ == Phase::websocket && conn_ && transport_ && conn_->ready_state() == ReadyState::OPEN) {
      conn_->close(close::going_away, "going away");
      write_output();  // best effort: what the socket takes now
      if (transport_) transport_->shutdown_write();
    }
    finish();
  }

  // --- EventLoop::Handler ---

  void on_readable() override {
    auto keep = shared_from_this();
    switch (phase_) {
      case Phase::proxy: read_proxy_answer(); break;
      case Phase::tls: read_tls_handshake(); break;
      case Phase::websocket: read_websocket(16); break;
      default: break;
    }
  }

  void on_writable() override {
    auto keep = shared_from_this();
    switch (phase_) {
      case Phase::tcp: tcp_connected(); break;
      case Phase::proxy:
      case Phase::tls:
        if (!transport_->flush()) return fail_before_open(transport_->error(), std::nullopt);
        write_proxy_request();
        update_interest();
        break;
      case Phase::websocket: process(); break;
      default: break;
    }
  }

  void on_error() override {
    auto keep = shared_from_this();
    switch (phase_) {
      case Phase::tcp: tcp_connected(); break;  // SO_ERROR says what happened
      case Phase::proxy: read_proxy_answer(); break;
      case Phase::tls: read_tls_handshake(); break;
      case Phase::websocket: {
        // Read what is left (an error or end of stream is found there).
        read_websocket(SIZE_MAX);
        if (phase_ == Phase::websocket && conn_->ready_state() != ReadyState::CLOSED) {
          const std::string error = transport_->socket_error();
          transport_failure_ = error.empty() ? "the connection broke" : error;
          close_socket();
          conn_->transport_closed(loop_.now());
          process();
        }
        break;
      }
      default: break;
    }
  }

 private:
  // --- Callbacks ---

  // Calls `fn` with the Client unless it is gone. An exception thrown by an
  // application callback is logged: it must not take the loop down.
  template <class Fn>
  void deliver(Fn&& fn) {
    std::lock_guard lock(callback_mutex_);
    if (abandoned_ || !client_) return;
    try {
      fn(*client_);
    } catch (const std::exception& e) {
      logger().error("exception in a callback for %s: %s", target_.to_string(), std::string(e.what()));
    } catch (...) {
      logger().error("exception in a callback for %s", target_.to_string());
    }
  }

  void deliver_error(const ErrorEvent& event) {
    deliver([&](Client& c) {
      if (c.onerror) c.onerror(event);
    });
  }

  void deliver_close(const CloseEvent& event) {
    deliver([&](Client& c) {
      if (c.onclose) c.onclose(event);
    });
  }

  // --- Steps before the opening handshake ---

  void resolved(const std::vector<Poco::Net::SocketAddress>& addresses, const std::string& error) {
    if (phase_ != Phase::resolving) return;
    dns_.reset();
    const std::string& host = proxy_ ? proxy_->host : target_.host;
    if (addresses.empty()) {
      return fail_before_open("cannot resolve '" + host + "': " + (error.empty() ? "no address" : error),
                              std::nullopt);
    }
    candidates_ = addresses;
    wait_turn();
  }

  void wait_turn() {
    // The rule is about the server's address; through a proxy that does the
    // name lookup itself, each host name counts as a distinct host (§4.1
    // step 2).
    registry_key_ = proxy_ ? "name " + target_.authority() : candidates_.front().toString();
    ticket_ = ConnectingRegistry::next_ticket();
    in_registry_ = true;
    EventLoop* loop = &loop_;
    const bool now = ConnectingRegistry::instance().enter(registry_key_, ticket_, [loop, weak = weak_from_this()] {
      loop->post([weak] {
        if (auto session = weak.lock()) session->turn();
      });
    });
    if (now) {
      connect_tcp();
    } else {
      phase_ = Phase::waiting;
      logger().debug("%s waits: another connection to %s is CONNECTING", target_.to_string(), registry_key_);
    }
  }

  void turn() {
    if (phase_ == Phase::waiting) connect_tcp();
  }

  void connect_tcp() {
    phase_ = Phase::tcp;
    while (next_candidate_ < candidates_.size()) {
      const Poco::Net::SocketAddress& address = candidates_[next_candidate_++];
      current_address_ = address.toString();
      try {
        socket_ = Poco::Net::StreamSocket(address.family());
        socket_.connectNB(address);  // non-blocking: writable once connected (or failed)
        loop_.add(socket_, this, false, true);
        registered_ = true;
        interest_ = {false, true};
        return;
      } catch (const Poco::Exception& e) {
        connect_errors_.push_back(current_address_ + ": " + e.displayText());
        close_socket();
      }
    }
    std::string message = "cannot connect to ";
    for (std::size_t i = 0; i < connect_errors_.size(); ++i) message += (i ? "; " : "") + connect_errors_[i];
    fail_before_open(message, std::nullopt);
  }

  void tcp_connected() {
    int code = 0;
    socklen_t length = sizeof code;
    if (::getsockopt(socket_.impl()->sockfd(), SOL_SOCKET, SO_ERROR, &code, &length) != 0) code = errno;
    if (code != 0) {
      connect_errors_.push_back(current_address_ + ": " + Poco::Error::getMessage(code));
      close_socket();
      connect_tcp();  // the next address, if any
      return;
    }
    logger().debug("%s: TCP connected to %s", target_.to_string(), current_address_);
    transport_.emplace(socket_);  // plain TCP for now
    if (proxy_) {
      // RFC 7231 §4.3.6: "CONNECT server.example.com:80 HTTP/1.1" with a
      // Host header naming the same authority.
      phase_ = Phase::proxy;
      proxy_out_ = "CONNECT " + target_.authority() + " HTTP/1.1\r\nHost: " + target_.authority() + "\r\n\r\n";
      write_proxy_request();
      update_interest();
      return;
    }
    start_tunnel();
  }

  void write_proxy_request() {
    while (phase_ == Phase::proxy && !proxy_out_.empty()) {
      const auto written = transport_->write(proxy_out_);
      if (written.status == Transport::Write::Status::error) {
        return fail_before_open("proxy " + proxy_->authority() + ": " + transport_->error(), std::nullopt);
      }
      if (written.taken == 0) return;
      proxy_out_.erase(0, written.taken);
    }
  }

  void read_proxy_answer() {
    const auto r = transport_->read(read_buffer());
    const std::string proxy = "proxy " + proxy_->authority();
    switch (r.status) {
      case Transport::Read::Status::would_block: return;
      case Transport::Read::Status::eof:
        return fail_before_open(proxy + " closed the connection before answering CONNECT", std::nullopt);
      case Transport::Read::Status::error: return fail_before_open(proxy + ": " + transport_->error(), std::nullopt);
      case Transport::Read::Status::data: break;
    }
    const std::string_view data(reinterpret_cast<const char*>(r.data.data()), r.data.size());
    std::size_t consumed = 0;
    const auto status = proxy_reader_.feed(data, consumed);
    if (status == handshake::HeadReader::Status::need_more) return;
    if (status == handshake::HeadReader::Status::failed) {
      return fail_before_open(proxy + ": " + proxy_reader_.violation().message(), proxy_reader_.violation());
    }
    auto answer = handshake::parse_response(proxy_reader_.head());
    if (!answer) return fail_before_open(proxy + ": " + answer.violation().message(), answer.violation());
    // RFC 7231 §4.3.6: "Any 2xx (Successful) response indicates that the
    // sender (and all inbound proxies) will switch to tunnel mode". Anything
    // else is the proxy's refusal (its body, if any, is not read).
    if (answer->status < 200 || answer->status > 299) {
      const std::string status_line = answer->version + " " + std::to_string(answer->status) + " " + answer->reason;
      return fail_before_open(proxy + " refused CONNECT " + target_.authority() + ": " + status_line, std::nullopt);
    }
    if (consumed != data.size()) {
      // Nobody speaks first in either tunnel (the client sends the TLS
      // ClientHello or the upgrade request), so these bytes are no tunnel's.
      return fail_before_open(proxy + " sent data after its 2xx answer to CONNECT", std::nullopt);
    }
    logger().debug("%s: tunnel through %s established", target_.to_string(), proxy);
    start_tunnel();
  }

  // TCP (direct or tunnelled) is up: TLS for wss://, or straight to the
  // opening handshake.
  void start_tunnel() {
    if (!target_.secure) return begin_websocket();
    phase_ = Phase::tls;
    try {
      // SNI and the certificate check name the host of the URI (§4.1 step
      // 5), never the proxy.
      transport_.emplace(socket_, std::make_unique<TlsEngine>(*tls_, target_.host));
    } catch (const TlsError& e) {
      return fail_before_open(std::string("TLS: ") + e.what(), std::nullopt);
    }
    if (!transport_->flush()) return fail_before_open(transport_->error(), std::nullopt);
    update_interest();
  }

  void read_tls_handshake() {
    for (;;) {
      const auto r = transport_->read(read_buffer());
      switch (r.status) {
        case Transport::Read::Status::would_block: update_interest(); return;
        case Transport::Read::Status::eof:
          return fail_before_open("TLS: the server closed the connection during the TLS handshake", std::nullopt);
        case Transport::Read::Status::error: return fail_before_open(transport_->error(), std::nullopt);
        case Transport::Read::Status::data: break;
      }
      if (!r.data.empty()) early_data_.append(reinterpret_cast<const char*>(r.data.data()), r.data.size());
      if (transport_->handshake_done()) {
        TlsEngine& tls = *transport_->tls();
        logger().debug("%s: %s, %s", target_.to_string(), tls.version(), tls.cipher());
        begin_websocket();
        return;
      }
    }
  }

  // --- The opening handshake and after: the Connection decides ---

  void begin_websocket() {
    phase_ = Phase::websocket;
    const TimePoint now = loop_.now();
    connection::Options o;
    o.role = Role::client;
    o.max_frame_size = options_.max_message_size;
    o.max_message_size = options_.max_message_size;
    o.close_timeout = options_.close_timeout;
    o.handshake_timeout = options_.handshake_timeout;
    o.client.origin = options_.origin;
    o.client.subprotocols = protocols_;
    o.permessage_deflate = options_.permessage_deflate;
    // For the Connection the opening handshake started at connect(): its
    // timeout covers DNS, TCP, the proxy and TLS too.
    conn_.emplace(std::move(o), started_at_, options_.observer);
    conn_->connect(target_, started_at_);
    if (!early_data_.empty()) {
      conn_->receive(std::string_view(early_data_), now);
      early_data_.clear();
    }
    process();
  }

  void read_websocket(std::size_t max_reads) {
    for (std::size_t i = 0; i < max_reads && phase_ == Phase::websocket; ++i) {
      const auto r = transport_->read(read_buffer());
      if (r.status == Transport::Read::Status::would_block) break;
      if (r.status == Transport::Read::Status::data) {
        conn_->receive(r.data, loop_.now());
        continue;
      }
      // The end of the stream (the server closes first, §7.1.1) or a broken
      // connection: either way TCP is gone.
      if (r.status == Transport::Read::Status::error) transport_failure_ = transport_->error();
      close_socket();
      conn_->transport_closed(loop_.now());
      break;
    }
    process();
  }

  // After every step: write, report, close TCP if it is time, re-arm.
  void process() {
    if (phase_ != Phase::websocket) return;
    write_output();
    if (phase_ != Phase::websocket) return;
    close_transport_if_due();
    dispatch_events();
    if (phase_ != Phase::websocket) return;
    if (conn_->ready_state() == ReadyState::CLOSED) {
      finish();
      return;
    }
    state.store(conn_->ready_state());
    buffered_on_loop.store(conn_->buffered_amount() + (transport_ ? transport_->queued() : 0));
    update_interest();
    arm_timer();
  }

  void write_output() {
    if (!transport_) return;
    if (!transport_->flush()) return transport_broke();
    while (!conn_->output().empty()) {
      const auto written = transport_->write(conn_->output());
      if (written.status == Transport::Write::Status::error) return transport_broke();
      if (written.taken == 0) break;
      conn_->consume_output(written.taken);
    }
  }

  void transport_broke() {
    transport_failure_ = transport_->error();
    close_socket();
    conn_->transport_closed(loop_.now());
  }

  // The Connection says TCP should close (after a failure, or when the
  // server did not close it in time): our close_notify and FIN go out after
  // the last bytes, then the socket closes. Bounded by the close timeout in
  // case the server stops reading.
  void close_transport_if_due() {
    if (!transport_ || !conn_->close_transport()) return;
    const TimePoint now = loop_.now();
    if (!close_deadline_) close_deadline_ = now + options_.close_timeout;
    if (conn_->output().empty() && !shutdown_started_) {
      transport_->shutdown_write();
      shutdown_started_ = true;
    }
    if ((shutdown_started_ && (transport_->shutdown_done() || !transport_->error().empty())) ||
        now >= *close_deadline_) {
      close_socket();
      conn_->transport_closed(now);
    }
  }

  void dispatch_events() {
    struct Dispatching {  // in_callback() until we return, however we return
      bool& flag;
      bool was;
      explicit Dispatching(bool& f) : flag(f), was(f) { flag = true; }
      ~Dispatching() { flag = was; }
    } dispatching(dispatching_);
    while (conn_ && conn_->has_event()) {
      connection::Event e = conn_->next_event();
      switch (e.type) {
        case connection::Event::Type::open: {
          leave_registry();  // §4.1 step 2: the next connection may go
          {
            std::lock_guard lock(info_mutex);
            protocol = conn_->protocol();
            extensions = conn_->extensions();
          }
          state.store(ReadyState::OPEN);
          deliver([](Client& c) {
            if (c.onopen) c.onopen();
          });
          break;
        }
        case connection::Event::Type::text:
        case connection::Event::Type::binary: {
          const MessageEvent message{std::move(e.data), e.type == connection::Event::Type::binary};
          deliver([&](Client& c) {
            if (c.onmessage) c.onmessage(message);
          });
          break;
        }
        case connection::Event::Type::pong: {
          const PongEvent pong{std::move(e.data), e.rtt};
          deliver([&](Client& c) {
            if (c.onpong) c.onpong(pong);
          });
          break;
        }
        case connection::Event::Type::error: {
          // A broken transport explains itself better ("Connection reset by
          // peer", a TLS alert) than "closed without a close frame".
          ErrorEvent error{transport_failure_.empty() && e.violation ? e.violation->message() : transport_failure_,
                           e.violation};
          if (error.message.empty()) error.message = "error";
          deliver_error(error);
          break;
        }
        case connection::Event::Type::close: {
          leave_registry();
          state.store(ReadyState::CLOSED);
          CloseEvent closed{e.code, std::move(e.reason), e.was_clean, e.sent_code};
          if (!transport_failure_.empty() && !closed.wasClean) closed.reason = transport_failure_;
          logger().debug("%s closed: %s %s", target_.to_string(), std::to_string(closed.code), closed.reason);
          deliver_close(closed);
          break;
        }
        case connection::Event::Type::ping:     // answered already
        case connection::Event::Type::request:  // server only
          break;
      }
      if (phase_ == Phase::closed) return;  // the Client was destroyed in a callback
    }
  }

  // --- Failure before the Connection exists, and the end ---

  // `message` by value: it often names a member that finish() destroys.
  void fail_before_open(std::string message, std::optional<Violation> violation) {
    if (phase_ == Phase::closed) return;
    logger().debug("%s failed: %s", target_.to_string(), message);
    auto keep = shared_from_this();
    finish();
    deliver_error(ErrorEvent{message, std::move(violation)});
    deliver_close(CloseEvent{close::abnormal_closure, message, false, std::nullopt});
  }

  // Releases everything: socket, timer, place in the queue, DNS job.
  void finish() {
    phase_ = Phase::closed;
    state.store(ReadyState::CLOSED);
    if (conn_) buffered_on_loop.store(conn_->buffered_amount());
    close_socket();
    leave_registry();
    cancel_timer();
    if (dns_) {
      std::lock_guard lock(dns_->mutex);
      dns_->loop = nullptr;
    }
    dns_.reset();
    self_.reset();  // the caller holds a reference until it returns
  }

  void close_socket() {
    if (registered_) {
      loop_.remove(socket_);
      registered_ = false;
    }
    if (transport_) {
      transport_->close();
      transport_.reset();
    } else {
      try {
        socket_.close();
      } catch (const Poco::Exception&) {
        // Not open: nothing to close.
      }
    }
  }

  void leave_registry() {
    if (!in_registry_) return;
    in_registry_ = false;
    ConnectingRegistry::instance().leave(registry_key_, ticket_);
  }

  void update_interest() {
    if (!registered_ || !transport_) return;
    const bool writable = transport_->wants_write() || !proxy_out_.empty() ||
                          (phase_ == Phase::websocket && conn_ && !conn_->output().empty());
    const std::pair<bool, bool> wanted{true, writable};
    if (wanted == interest_) return;
    interest_ = wanted;
    loop_.update(socket_, wanted.first, wanted.second);
  }

  // --- Time ---

  TimePoint deadline() const {
    switch (phase_) {
      case Phase::idle:
      case Phase::closed: return TimePoint::max();
      case Phase::websocket: {
        TimePoint when = conn_->next_deadline();
        if (close_deadline_) when = std::min(when, *close_deadline_);
        return when;
      }
      default: return started_at_ + options_.handshake_timeout;
    }
  }

  void arm_timer() {
    const TimePoint when = deadline();
    if (timer_ && timer_when_ == when) return;
    cancel_timer();
    if (when == TimePoint::max()) return;
    timer_when_ = when;
    timer_ = loop_.at(when, [weak = weak_from_this()] {
      if (auto session = weak.lock()) session->on_timer();
    });
  }

  void cancel_timer() {
    if (timer_) loop_.cancel(*timer_);
    timer_.reset();
  }

  void on_timer() {
    timer_.reset();
    if (phase_ == Phase::closed || phase_ == Phase::idle) return;
    const TimePoint now = loop_.now();
    if (phase_ != Phase::websocket) {
      if (now < started_at_ + options_.handshake_timeout) return arm_timer();
      static constexpr const char* kStage[] = {"", "resolving the host name", "waiting for another connection to the same host",
                                               "connecting over TCP", "waiting for the proxy", "in the TLS handshake"};
      const Violation v(error::handshake_timeout,
                        "opening handshake not complete after " + std::to_string(options_.handshake_timeout.count()) +
                            " ms (" + kStage[static_cast<int>(phase_)] + ")");
      return fail_before_open(v.message(), v);
    }
    conn_->tick(now);
    if (close_deadline_ && now >= *close_deadline_ && transport_) {
      close_socket();
      conn_->transport_closed(now);
    }
    process();
  }

  EventLoop& loop_;
  std::recursive_mutex callback_mutex_;  // recursive: a callback may destroy its Client
  Client* client_;
  bool abandoned_ = false;
  bool started_ = false;
  std::atomic<std::thread::id> loop_thread_{};

  const uri::Uri target_;
  const std::vector<std::string> protocols_;
  const ClientOptions options_;
  const std::optional<TlsContext> tls_;
  const std::optional<ProxyAddress> proxy_;

  Phase phase_ = Phase::idle;
  TimePoint started_at_{};
  std::shared_ptr<Session> self_;
  std::shared_ptr<DnsJob> dns_;

  std::vector<Poco::Net::SocketAddress> candidates_;
  std::size_t next_candidate_ = 0;
  std::string current_address_;
  std::vector<std::string> connect_errors_;
  std::string registry_key_;
  std::uint64_t ticket_ = 0;
  bool in_registry_ = false;

  Poco::Net::StreamSocket socket_;
  bool registered_ = false;
  std::pair<bool, bool> interest_{false, false};  // readable, writable
  std::optional<Transport> transport_;
  std::string proxy_out_;  // the CONNECT request, until written
  handshake::HeadReader proxy_reader_;
  std::string early_data_;  // plaintext that came with the end of the TLS handshake

  std::optional<connection::Connection> conn_;
  std::string transport_failure_;  // why the transport broke, if it did
  std::optional<TimePoint> close_deadline_;
  bool shutdown_started_ = false;
  bool dispatching_ = false;  // see in_callback()

  std::optional<EventLoop::TimerId> timer_;
  TimePoint timer_when_{};
};

// --- Client --------------------------------------------------------------------------

struct Client::LoopThread {
  std::thread thread;
};

namespace {

uri::Uri parse_url(std::string_view url) {
  auto parsed = uri::parse(url);
  if (!parsed) {
    const Violation& v = parsed.violation();
    throw SyntaxError("invalid WebSocket URL \"" + std::string(url) + "\" (" + std::string(v.rule().name) +
                          "): " + v.message(),
                      v);
  }
  return std::move(parsed).value();
}

// WHATWG: the constructor throws SyntaxError for duplicate or invalid
// subprotocols; the rule is RFC 6455 §4.1 req 10.
void check_protocols(const std::vector<std::string>& protocols) {
  for (std::size_t i = 0; i < protocols.size(); ++i) {
    std::string problem;
    if (!handshake::is_token(protocols[i])) {
      problem = "subprotocol \"" + protocols[i] + "\" is not an HTTP token";
    } else if (std::find(protocols.begin(), protocols.begin() + static_cast<std::ptrdiff_t>(i), protocols[i]) !=
               protocols.begin() + static_cast<std::ptrdiff_t>(i)) {
      problem = "subprotocol \"" + protocols[i] + "\" is offered twice";
    }
    if (!problem.empty()) {
      const Violation v(error::bad_subprotocol_header, problem);
      throw SyntaxError("invalid subprotocols (bad_subprotocol_header): " + v.message(), v);
    }
  }
}

std::optional<TlsContext> make_tls(const uri::Uri& target, const ClientOptions& options) {
  if (!target.secure) return std::nullopt;
  TlsClientOptions tls = options.tls;
  if (options.insecure) {
    tls.verify = false;
    logger().warning(
        "%s: certificate verification is OFF (insecure): the server is not authenticated, and anyone on "
        "the path can read and change the traffic. Use this for a local test server only.",
        target.to_string());
  }
  return TlsContext::client(tls);
}

bool is_utf8(std::string_view text) {
  framing::Utf8Validator validator;
  return validator.feed(text) && validator.complete();
}

}  // namespace

Client::Client(std::string_view url, std::vector<std::string> protocols, ClientOptions options)
    : owned_loop_(std::make_shared<EventLoop>()) {
  const uri::Uri target = parse_url(url);
  check_protocols(protocols);
  if (options.permessage_deflate) extensions::check(*options.permessage_deflate);  // std::invalid_argument
  auto tls = make_tls(target, options);
  auto proxy = select_proxy(target, options.proxy, [](const char* name) { return std::getenv(name); });
  session_ = std::make_shared<Session>(*owned_loop_, this, target, std::move(protocols), std::move(options),
                                       std::move(tls), std::move(proxy));
  url_ = target.to_string();
  loop_thread_ = std::make_unique<LoopThread>();
  loop_thread_->thread = std::thread([loop = owned_loop_] { loop->run(); });
}

Client::Client(EventLoop& loop, std::string_view url, std::vector<std::string> protocols, ClientOptions options) {
  const uri::Uri target = parse_url(url);
  check_protocols(protocols);
  if (options.permessage_deflate) extensions::check(*options.permessage_deflate);  // std::invalid_argument
  auto tls = make_tls(target, options);
  auto proxy = select_proxy(target, options.proxy, [](const char* name) { return std::getenv(name); });
  session_ = std::make_shared<Session>(loop, this, target, std::move(protocols), std::move(options),
                                       std::move(tls), std::move(proxy));
  url_ = target.to_string();
  loop_ = &loop;
}

Client::~Client() {
  const bool ran = session_->abandon();  // no callback from here on
  std::shared_ptr<Session> session = session_;
  if (owned_loop_) {
    std::shared_ptr<EventLoop> loop = owned_loop_;
    loop->post([session, loop] {
      session->teardown();
      loop->stop();
    });
    if (loop_thread_->thread.get_id() == std::this_thread::get_id()) {
      loop_thread_->thread.detach();  // destroyed in its own callback: the thread ends by itself
    } else {
      loop_thread_->thread.join();
    }
    return;
  }
  if (!ran) return;  // never reached the loop: nothing to undo there
  EventLoop& loop = *loop_;
  if (session->loop_thread() == std::this_thread::get_id() || !loop.running()) {
    session->teardown();
    return;
  }
  auto done = std::make_shared<std::promise<void>>();
  loop.post([session, done] {
    session->teardown();
    done->set_value();
  });
  auto finished = done->get_future();
  while (finished.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
    if (!loop.running()) {
      // The loop stopped before it got to our work: nobody else runs now.
      session->teardown();
      return;
    }
  }
}

EventLoop& Client::loop() { return owned_loop_ ? *owned_loop_ : *loop_; }

void Client::connect() {
  if (connect_called_.exchange(true)) throw InvalidStateError("connect() was already called");
  loop().post([session = session_] { session->start(); });
}

void Client::send(std::string_view text) {
  if (!is_utf8(text)) throw std::invalid_argument("send(): text is not valid UTF-8 (RFC 6455 §5.6)");
  if (readyState() == ReadyState::CONNECTING) throw InvalidStateError("send() while CONNECTING");
  session_->posted_bytes += text.size();
  if (session_->in_callback()) return session_->send_message(std::string(text), false);
  loop().post([session = session_, data = std::string(text)] { session->send_message(data, false); });
}

void Client::send(std::span<const std::uint8_t> data) {
  if (readyState() == ReadyState::CONNECTING) throw InvalidStateError("send() while CONNECTING");
  session_->posted_bytes += data.size();
  if (session_->in_callback())
    return session_->send_message(std::string(reinterpret_cast<const char*>(data.data()), data.size()), true);
  loop().post([session = session_, bytes = std::string(reinterpret_cast<const char*>(data.data()), data.size())] {
    session->send_message(bytes, true);
  });
}

void Client::ping(std::string_view payload) {
  if (payload.size() > 125) {
    throw std::invalid_argument("ping(): payload of " + std::to_string(payload.size()) +
                                " bytes > 125 (RFC 6455 §5.5)");
  }
  if (readyState() == ReadyState::CONNECTING) throw InvalidStateError("ping() while CONNECTING");
  if (session_->in_callback()) return session_->send_ping(std::string(payload));
  loop().post([session = session_, data = std::string(payload)] { session->send_ping(data); });
}

void Client::close(std::uint16_t code, std::string_view reason) {
  // WHATWG close() step 1-2: only 1000 and the application range.
  if (code != close::normal_closure && (code < 3000 || code > 4999)) {
    throw InvalidAccessError("close(): code " + std::to_string(code) + " is neither 1000 nor in 3000-4999");
  }
  if (reason.size() > 123) {
    throw SyntaxError("close(): reason of " + std::to_string(reason.size()) + " bytes > 123 (RFC 6455 §5.5)");
  }
  if (!is_utf8(reason)) throw SyntaxError("close(): reason is not valid UTF-8 (RFC 6455 §5.5.1)");
  if (session_->in_callback()) return session_->close(code, std::string(reason));
  loop().post([session = session_, code, why = std::string(reason)] { session->close(code, why); });
}

ReadyState Client::readyState() const { return session_->state.load(); }

std::uint64_t Client::bufferedAmount() const { return session_->posted_bytes.load() + session_->buffered_on_loop.load(); }

std::string Client::protocol() const {
  std::lock_guard lock(session_->info_mutex);
  return session_->protocol;
}

std::string Client::extensions() const {
  std::lock_guard lock(session_->info_mutex);
  return session_->extensions;
}

const std::string& Client::url() const { return url_; }

// --- BlockingClient ---------------------------------------------------------------------

struct BlockingClient::State {
  std::mutex mutex;
  std::condition_variable changed;
  bool opened = false;
  std::deque<MessageEvent> messages;
  std::deque<PongEvent> pongs;
  std::optional<ErrorEvent> error;
  std::optional<CloseEvent> closed;
};

BlockingClient::BlockingClient(ClientOptions options, std::vector<std::string> protocols)
    : options_(std::move(options)), protocols_(std::move(protocols)), state_(std::make_shared<State>()) {}

BlockingClient::~BlockingClient() = default;

void BlockingClient::connect(std::string_view url, Duration timeout) {
  client_.reset();
  state_ = std::make_shared<State>();
  ClientOptions options = options_;
  options.handshake_timeout = timeout;
  client_ = std::make_unique<Client>(url, protocols_, options);
  std::shared_ptr<State> s = state_;
  auto update = [s](auto change) {
    {
      std::lock_guard lock(s->mutex);
      change(*s);
    }
    s->changed.notify_all();
  };
  client_->onopen = [update] { update([](State& st) { st.opened = true; }); };
  client_->onmessage = [update](const MessageEvent& e) { update([&](State& st) { st.messages.push_back(e); }); };
  client_->onpong = [update](const PongEvent& e) { update([&](State& st) { st.pongs.push_back(e); }); };
  client_->onerror = [update](const ErrorEvent& e) { update([&](State& st) { st.error = e; }); };
  client_->onclose = [update](const CloseEvent& e) { update([&](State& st) { st.closed = e; }); };
  client_->connect();

  std::unique_lock lock(s->mutex);
  // The handshake timeout ends it; the extra second only guards against a
  // client that never reports at all.
  const bool done = s->changed.wait_for(lock, timeout + std::chrono::seconds(1),
                                        [&] { return s->opened || s->closed.has_value(); });
  if (s->opened) return;
  std::string why = !done ? "no answer within " + std::to_string(timeout.count()) + " ms"
                          : s->error ? s->error->message
                                     : s->closed->reason;
  lock.unlock();
  client_.reset();
  throw std::runtime_error("cannot connect to " + std::string(url) + ": " + why);
}

namespace {
[[noreturn]] void not_connected() { throw InvalidStateError("BlockingClient: connect() first"); }
}  // namespace

void BlockingClient::send_text(std::string_view text) {
  if (!client_) not_connected();
  client_->send(text);
}

void BlockingClient::send_binary(std::span<const std::uint8_t> data) {
  if (!client_) not_connected();
  client_->send(data);
}

void BlockingClient::send_binary(std::string_view data) { send_binary(bytes_of(data)); }

std::optional<MessageEvent> BlockingClient::receive(Duration timeout) {
  std::unique_lock lock(state_->mutex);
  state_->changed.wait_for(lock, timeout, [&] { return !state_->messages.empty() || state_->closed; });
  if (state_->messages.empty()) return std::nullopt;
  MessageEvent message = std::move(state_->messages.front());
  state_->messages.pop_front();
  return message;
}

std::optional<Duration> BlockingClient::ping(std::string_view payload, Duration timeout) {
  if (!client_) not_connected();
  {
    std::lock_guard lock(state_->mutex);
    state_->pongs.clear();
  }
  client_->ping(payload);
  std::unique_lock lock(state_->mutex);
  std::optional<Duration> rtt;
  state_->changed.wait_for(lock, timeout, [&] {
    for (const PongEvent& pong : state_->pongs) {
      if (pong.data == payload && pong.rtt) {
        rtt = pong.rtt;
        return true;
      }
    }
    return state_->closed.has_value();
  });
  return rtt;
}

CloseEvent BlockingClient::close(std::uint16_t code, std::string_view reason) {
  if (!client_) not_connected();
  client_->close(code, reason);
  std::unique_lock lock(state_->mutex);
  const auto limit = 2 * options_.close_timeout + std::chrono::seconds(1);
  if (state_->changed.wait_for(lock, limit, [&] { return state_->closed.has_value(); })) return *state_->closed;
  return CloseEvent{close::abnormal_closure, "the close did not finish in time", false, std::nullopt};
}

ReadyState BlockingClient::ready_state() const {
  return client_ ? client_->readyState() : ReadyState::CLOSED;
}

std::string BlockingClient::protocol() const { return client_ ? client_->protocol() : std::string(); }

std::optional<CloseEvent> BlockingClient::closed() const {
  std::lock_guard lock(state_->mutex);
  return state_->closed;
}

std::optional<ErrorEvent> BlockingClient::last_error() const {
  std::lock_guard lock(state_->mutex);
  return state_->error;
}

}  // namespace wslab::net
