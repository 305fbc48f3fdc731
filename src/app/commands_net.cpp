// `wslab serve`, `wslab connect`, `wslab send`: the library on the wire.
#include "commands.hpp"
#include "diagram.hpp"

#include <wslab/net/client.hpp>
#include <wslab/net/server.hpp>
#include <wslab/net/tls.hpp>
#include <wslab/trace.hpp>

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/PatternFormatter.h>
#include <Poco/Timestamp.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <iostream>
#include <mutex>
#include <sstream>
#include <poll.h>
#include <pthread.h>
#include <thread>
#include <unistd.h>

namespace wslab::app {

namespace {

// Log lines go to stderr: "2026-11-21 10:47:42.123 [warning] wslab.server: ..."
void setup_logging(const std::string& level) {
  static const std::set<std::string> levels = {"fatal", "critical", "error", "warning", "notice",
                                               "information", "debug", "trace"};
  if (!levels.count(level))
    throw UsageError("--log-level: \"" + level + "\" is not one of error, warning, information, debug");
  Poco::AutoPtr<Poco::PatternFormatter> format(new Poco::PatternFormatter("%Y-%m-%d %H:%M:%S.%i [%p] %s: %t"));
  Poco::AutoPtr<Poco::Channel> console(new Poco::ConsoleChannel(std::cerr));
  Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(format, console));
  Poco::Logger::root().setChannel(channel);
  Poco::Logger::setLevel("", Poco::Logger::parseLevel(level));
}

std::string url_host(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace

int run_serve(const Args& args, const Options& options) {
  options.only("serve", {"host", "port", "tls-cert", "tls-key", "tls-self-signed", "max-message", "max-frame",
                         "max-connections", "max-header-bytes", "handshake-timeout", "close-timeout",
                         "ping-interval", "pong-timeout", "origin", "host-name", "log-level", "trace-file", "no-trace",
                         "trace-preview", "trace-viewer-buffer", "no-deflate"});
  if (args.size() != 1) throw UsageError("`wslab serve` takes no arguments, only options (see `wslab help serve`)");
  setup_logging(options.get("log-level", "information"));

  net::ServerOptions so;
  so.host = options.get("host", "127.0.0.1");
  so.port = static_cast<std::uint16_t>(parse_number("port", options.get("port", "8080"), 0, 65535));
  if (options.has("max-message")) so.max_message_size = parse_size("max-message", options.get("max-message"));
  if (options.has("max-frame")) so.max_frame_size = parse_size("max-frame", options.get("max-frame"));
  if (options.has("max-connections"))
    so.max_connections = parse_number("max-connections", options.get("max-connections"), 1, 1'000'000);
  if (options.has("max-header-bytes"))
    so.max_header_bytes = parse_size("max-header-bytes", options.get("max-header-bytes"));
  so.handshake_timeout = parse_duration("handshake-timeout", options.get("handshake-timeout", "10s"));
  so.close_timeout = parse_duration("close-timeout", options.get("close-timeout", "5s"));
  so.ping_interval = parse_duration("ping-interval", options.get("ping-interval", "30s"));
  so.pong_timeout = parse_duration("pong-timeout", options.get("pong-timeout", "30s"));
  so.allowed_origins = options.all("origin");
  so.allowed_hosts = options.all("host-name");
  so.trace_endpoint = !options.has("no-trace");
  so.trace_file = options.get("trace-file", "");
  if (options.has("trace-preview"))
    so.trace_preview = parse_number("trace-preview", options.get("trace-preview"), 0, 1u << 20);
  if (options.has("trace-viewer-buffer"))
    so.trace_viewer_buffer = parse_size("trace-viewer-buffer", options.get("trace-viewer-buffer"));
  if (options.has("no-deflate")) so.permessage_deflate.reset();  // RFC 7692: on by default

  const bool self_signed = options.has("tls-self-signed");
  if (self_signed && (options.has("tls-cert") || options.has("tls-key")))
    throw UsageError("--tls-self-signed makes its own certificate: give it or --tls-cert/--tls-key, not both");
  if (options.has("tls-cert") != options.has("tls-key"))
    throw UsageError("--tls-cert and --tls-key go together");
  if (self_signed) {
    const auto made = net::make_self_signed({"localhost", "127.0.0.1", "::1"});
    so.tls = net::TlsServerOptions{.cert_pem = made.cert_pem, .key_pem = made.key_pem};
  } else if (options.has("tls-cert")) {
    so.tls = net::TlsServerOptions{.cert_file = options.get("tls-cert"), .key_file = options.get("tls-key")};
  }

  // SIGINT and SIGTERM are taken by sigwait() below, on this thread: block
  // them before any other thread exists so that no thread dies of them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::unique_ptr<net::Server> server;
  try {
    server = std::make_unique<net::Server>(so);
  } catch (const net::TlsError& e) {
    std::cerr << "wslab: serve: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const std::runtime_error& e) {  // the trace file
    std::cerr << "wslab: serve: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const Poco::Exception& e) {
    std::cerr << "wslab: serve: cannot listen on " << url_host(so.host) << ":" << so.port << ": "
              << e.displayText() << "\n";
    return kExitConnect;
  }
  const std::string scheme = so.tls ? "wss" : "ws";
  const std::string http = so.tls ? "https" : "http";
  std::cout << "wslab: listening on " << scheme << "://" << url_host(so.host) << ":" << server->port()
            << "  (demo page: " << http << "://" << url_host(so.host) << ":" << server->port()
            << "/, echo: /ws, chat: /chat/ws, trace: /trace/ws)" << std::endl;
  if (self_signed)
    std::cout << "wslab: using a throw-away self-signed certificate for localhost: clients must trust it "
                 "or skip verification (wslab connect --insecure)"
              << std::endl;

  std::thread loop([&] { server->run(); });
  int signal = 0;
  sigwait(&signals, &signal);
  Poco::Logger::get("wslab.server")
      .information(std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") +
                   ": closing every connection with 1001");
  server->stop();
  loop.join();
  return kExitOk;
}

namespace {

net::ClientOptions client_options(const Options& options) {
  net::ClientOptions co;
  if (options.has("origin")) co.origin = options.get("origin");
  co.insecure = options.has("insecure");
  if (options.has("ca-file")) co.tls.ca_file = options.get("ca-file");
  if (options.has("proxy")) co.proxy = options.get("proxy");
  co.handshake_timeout = parse_duration("timeout", options.get("timeout", "10s"));
  if (options.has("no-deflate")) co.permessage_deflate.reset();  // RFC 7692: offered by default
  return co;
}

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string show_message(const net::MessageEvent& m) {
  if (!m.binary) return m.data;
  return "binary, " + std::to_string(m.data.size()) + " bytes: " + to_hex(bytes_of(m.data), 64);
}

std::string show_close(const net::CloseEvent& e) {
  std::string out = "closed with " + std::to_string(e.code);
  if (const auto info = close::describe(e.code)) out += " (" + std::string(info->name) + ")";
  if (!e.reason.empty()) out += ", reason \"" + e.reason + "\"";
  out += e.wasClean ? ", clean" : ", not clean";
  // The code reported is the server's (RFC 6455 §7.1.5); say what we sent
  // when it differs, as when the client failed the connection (1006, sent 1002).
  if (e.sentCode && *e.sentCode != e.code) out += " (sent close " + std::to_string(*e.sentCode) + ")";
  return out;
}

const std::set<std::string> kClientOptions = {"subprotocol", "origin", "timeout",   "insecure",
                                              "ca-file",     "proxy",  "log-level", "no-deflate"};

}  // namespace

int run_send(const Args& args, const Options& options) {
  auto allowed = kClientOptions;
  allowed.insert("binary");
  options.only("send", allowed);
  const bool binary = options.has("binary");
  if (args.size() != (binary ? 2u : 3u))
    throw UsageError("usage: wslab send URL MESSAGE | wslab send URL --binary HEX");
  setup_logging(options.get("log-level", "warning"));
  std::string payload = binary ? "" : args[2];
  if (binary) {
    std::string error;
    if (!parse_hex(options.get("binary"), payload, error)) throw UsageError("--binary: " + error);
  }
  const auto timeout = parse_duration("timeout", options.get("timeout", "10s"));
  net::BlockingClient ws(client_options(options), options.all("subprotocol"));
  try {
    ws.connect(args[1], timeout);
  } catch (const net::SyntaxError& e) {
    throw InputError(std::string("send: ") + e.what());
  } catch (const std::exception& e) {
    std::cerr << "wslab: send: " << e.what() << "\n";
    return kExitConnect;
  }
  if (binary) ws.send_binary(payload);
  else ws.send_text(payload);
  const auto reply = ws.receive(timeout);
  if (!reply) {
    if (const auto closed = ws.closed()) {
      std::cerr << "wslab: send: no reply: " << show_close(*closed) << "\n";
      return kExitAbnormal;
    }
    std::cerr << "wslab: send: no reply within " << timeout.count() << " ms\n";
    ws.close();
    return kExitTimeout;
  }
  std::cout << show_message(*reply) << std::endl;
  const auto closed = ws.close();
  if (!closed.wasClean) {
    std::cerr << "wslab: send: " << show_close(closed) << "\n";
    return kExitAbnormal;
  }
  return kExitOk;
}

int run_connect(const Args& args, const Options& options) {
  auto allowed = kClientOptions;
  allowed.insert("trace-file");
  options.only("connect", allowed);
  if (args.size() != 2) throw UsageError("usage: wslab connect URL");
  setup_logging(options.get("log-level", "warning"));
  std::mutex print;
  auto say = [&print](const std::string& line) {
    std::lock_guard lock(print);
    std::cout << line << std::endl;
  };
  // --trace-file: this side of the connection, as the server's trace shows
  // its side (docs/trace-format.md). Declared before the client: its
  // callbacks use them until it is gone.
  auto co = client_options(options);
  std::unique_ptr<trace::JsonlWriter> trace_writer;
  std::optional<trace::Clock> trace_clock;
  std::unique_ptr<trace::Recorder> recorder;
  if (options.has("trace-file")) {
    try {
      trace_writer = std::make_unique<trace::JsonlWriter>(options.get("trace-file"));
    } catch (const std::runtime_error& e) {
      throw InputError(std::string("connect: ") + e.what());
    }
    trace_clock.emplace(net::Clock::now());
    trace_writer->emit(trace::Hello{
        .source = "wslab connect",
        .started_at = Poco::DateTimeFormatter::format(Poco::Timestamp(), Poco::DateTimeFormat::ISO8601_FRAC_FORMAT),
        .preview_bytes = connection::Options{}.payload_preview});
    recorder = std::make_unique<trace::Recorder>(*trace_writer, *trace_clock, 1);
    co.observer = recorder.get();
  }
  std::optional<net::Client> ws;
  try {
    ws.emplace(args[1], options.all("subprotocol"), co);
  } catch (const net::SyntaxError& e) {
    throw InputError(std::string("connect: ") + e.what());
  }
  if (trace_writer) {
    trace_writer->emit(trace::ConnectionOpen{.conn = 1, .time = 0, .role = Role::client, .peer = "",
                                             .resource = ws->url()});
    recorder->set_buffered_amount([&ws] { return static_cast<std::size_t>(ws->bufferedAmount()); });
  }
  std::atomic<bool> done{false};
  std::atomic<bool> clean{false};
  ws->onopen = [&] {
    say("readyState CONNECTING -> OPEN" +
        (ws->protocol().empty() ? std::string() : ", subprotocol \"" + ws->protocol() + "\""));
  };
  ws->onmessage = [&](const net::MessageEvent& m) { say("< " + show_message(m)); };
  ws->onpong = [&](const net::PongEvent& p) {
    say("< pong \"" + p.data + "\"" + (p.rtt ? ", round trip " + std::to_string(p.rtt->count()) + " ms" : ""));
  };
  ws->onerror = [&](const net::ErrorEvent& e) { say("error: " + e.message); };
  ws->onclose = [&](const net::CloseEvent& e) {
    if (trace_writer)
      trace_writer->emit(trace::ConnectionClose{.conn = 1, .time = trace_clock->since_start(net::Clock::now()),
                                                .code = e.code, .reason = e.reason, .was_clean = e.wasClean,
                                                .sent_code = e.sentCode});
    say("readyState -> CLOSED: " + show_close(e));
    clean = e.wasClean;
    done = true;
  };
  say("connecting to " + ws->url() + "  (type a line to send it; /ping [data], /binary HEX, /close [code [reason]])");
  std::mutex m;
  std::condition_variable changed;
  auto notify = [&] {
    std::lock_guard lock(m);
    changed.notify_all();
  };
  auto on_open = ws->onopen;
  ws->onopen = [&, on_open] { on_open(); notify(); };
  auto on_close = ws->onclose;
  ws->onclose = [&, on_close](const net::CloseEvent& e) { on_close(e); notify(); };
  ws->connect();

  // Lines are read on their own thread (std::getline blocks) and only once
  // the connection is OPEN, so input typed or piped in early is not lost.
  std::thread reader([&] {
    {
      std::unique_lock lock(m);
      changed.wait(lock, [&] { return done || ws->readyState() == net::ReadyState::OPEN; });
    }
    std::string line;
    while (!done && std::getline(std::cin, line)) {
      try {
        if (line.rfind("/ping", 0) == 0) {
          ws->ping(line.size() > 6 ? line.substr(6) : "");
        } else if (line.rfind("/binary ", 0) == 0) {
          std::string bytes, error;
          if (!parse_hex(line.substr(8), bytes, error)) say("(/binary: " + error + ")");
          else ws->send(bytes_of(bytes));
        } else if (line.rfind("/close", 0) == 0) {
          std::istringstream words(line.substr(6));
          unsigned code = 1000;
          words >> code;
          std::string reason;
          std::getline(words >> std::ws, reason);
          ws->close(static_cast<std::uint16_t>(code), reason);
          return;
        } else {
          ws->send(line);
        }
      } catch (const std::exception& e) {
        say(std::string("(") + e.what() + ")");
      }
    }
    if (!done) ws->close();  // end of input: close politely
  });
  reader.detach();  // it may sit in getline() on a terminal after the close
  std::unique_lock lock(m);
  changed.wait(lock, [&] { return done.load(); });
  return clean ? kExitOk : kExitAbnormal;
}

}  // namespace wslab::app
