// The client's test harness. See client_helpers.hpp.
#include "client_helpers.hpp"

#include <wslab/handshake.hpp>

#include <Poco/Net/SocketAddress.h>
#include <Poco/Timespan.h>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace wslab::testing {

using Clock = std::chrono::steady_clock;

// --- Recorder -----------------------------------------------------------------------

void Recorder::add(std::string line) {
  {
    std::lock_guard lock(mutex_);
    log_.push_back(std::move(line));
  }
  changed_.notify_all();
}

void Recorder::attach(net::Client& client) {
  net::Client* c = &client;
  auto state = [c] { return std::string(connection::to_string(c->readyState())); };
  client.onopen = [this, state] {
    {
      std::lock_guard lock(mutex_);
      opened_ = true;
    }
    add("open " + state());
  };
  client.onmessage = [this, state](const net::MessageEvent& e) {
    {
      std::lock_guard lock(mutex_);
      messages_.push_back(e);
    }
    add(e.binary ? "binary " + std::to_string(e.data.size()) + " bytes " + state()
                 : "text " + (e.data.size() <= 64 ? e.data : std::to_string(e.data.size()) + " bytes") + " " +
                       state());
  };
  client.onpong = [this, state](const net::PongEvent& e) { add("pong " + e.data + " " + state()); };
  client.onerror = [this, state](const net::ErrorEvent& e) {
    {
      std::lock_guard lock(mutex_);
      error_ = e;
    }
    add("error " + e.message + " " + state());
  };
  client.onclose = [this, state](const net::CloseEvent& e) {
    {
      std::lock_guard lock(mutex_);
      closed_ = e;
    }
    add("close " + std::to_string(e.code) + (e.wasClean ? " clean " : " unclean ") + e.reason + " " + state());
  };
}

std::vector<std::string> Recorder::log() const {
  std::lock_guard lock(mutex_);
  return log_;
}

std::vector<net::MessageEvent> Recorder::messages() const {
  std::lock_guard lock(mutex_);
  return messages_;
}

std::optional<net::ErrorEvent> Recorder::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

std::optional<net::CloseEvent> Recorder::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

bool Recorder::opened() const {
  std::lock_guard lock(mutex_);
  return opened_;
}

std::size_t Recorder::message_count() const {
  std::lock_guard lock(mutex_);
  return messages_.size();
}

template <class P>
bool Recorder::wait(P predicate, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, predicate);
}

bool Recorder::wait_open(std::chrono::milliseconds timeout) const {
  return wait([this] { return opened_ || closed_.has_value(); }, timeout) && opened_;
}

bool Recorder::wait_close(std::chrono::milliseconds timeout) const {
  return wait([this] { return closed_.has_value(); }, timeout);
}

bool Recorder::wait_messages(std::size_t n, std::chrono::milliseconds timeout) const {
  return wait([this, n] { return messages_.size() >= n || closed_.has_value(); }, timeout) && messages_.size() >= n;
}

// --- ScriptedServer -------------------------------------------------------------------

ScriptedServer::ScriptedServer(Script script)
    : script_(std::move(script)), listener_(Poco::Net::SocketAddress("127.0.0.1", 0)) {
  port_ = listener_.address().port();
  thread_ = std::thread([this] { run(); });
}

ScriptedServer::~ScriptedServer() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  listener_.close();
}

bool ScriptedServer::wait_done(std::chrono::milliseconds timeout) const {
  const auto end = Clock::now() + timeout;
  while (!done_.load()) {
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

std::vector<std::string> ScriptedServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void ScriptedServer::run() {
  std::vector<Poco::Net::StreamSocket> held;  // open until the test ends
  for (int i = 0; i < script_.connections && !stop_.load(); ++i) {
    // Wait (bounded) for the next connection.
    bool ready = false;
    for (int tries = 0; tries < 100 && !stop_.load() && !ready; ++tries) {
      ready = listener_.poll(Poco::Timespan(0, 50'000), Poco::Net::Socket::SELECT_READ);
    }
    if (!ready) break;
    Poco::Net::StreamSocket socket;
    try {
      socket = listener_.acceptConnection();
    } catch (const Poco::Exception&) {
      continue;  // aborted before we took it
    }
    ++accepted_;
    if (!script_.on_accept.empty()) {
      try {
        socket.sendBytes(script_.on_accept.data(), static_cast<int>(script_.on_accept.size()));
      } catch (const Poco::Exception&) {
        // As above.
      }
      held.push_back(socket);
      continue;
    }
    socket.setReceiveTimeout(Poco::Timespan(0, 100'000));
    std::string head;
    const auto end = Clock::now() + 5s;
    while (head.find("\r\n\r\n") == std::string::npos && Clock::now() < end && !stop_.load()) {
      char buffer[4096];
      try {
        const int n = socket.receiveBytes(buffer, sizeof buffer);
        if (n <= 0) break;
        head.append(buffer, static_cast<std::size_t>(n));
      } catch (const Poco::TimeoutException&) {
        // Nothing yet: look at the clock and the stop flag, then wait again.
      } catch (const Poco::Exception&) {
        break;  // the client went away (reset): the head is what it is
      }
    }
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(head);
    }
    if (script_.delay_101.count() > 0) {
      // Hold the 101 back; meanwhile, is anyone else knocking?
      const auto until = Clock::now() + script_.delay_101;
      while (Clock::now() < until) {
        if (listener_.poll(Poco::Timespan(0, 10'000), Poco::Net::Socket::SELECT_READ)) {
          pending_during_delay_.store(true);
          std::this_thread::sleep_for(10ms);
        }
      }
    }
    if (script_.answer) {
      std::string key;
      if (auto request = handshake::parse_request(head)) {
        if (const std::string* k = request->headers.find("Sec-WebSocket-Key")) key = *k;
      }
      std::string response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: " +
                             handshake::compute_accept(key) + "\r\n";
      if (script_.subprotocol) response += "Sec-WebSocket-Protocol: " + *script_.subprotocol + "\r\n";
      response += "\r\n" + script_.after_open;
      try {
        socket.sendBytes(response.data(), static_cast<int>(response.size()));
      } catch (const Poco::Exception&) {
        // The client gave up before the answer: that is its test's business.
      }
    }
    held.push_back(socket);
  }
  done_.store(true);
  while (!stop_.load()) std::this_thread::sleep_for(5ms);
}

// --- Ports and directories ----------------------------------------------------------------

std::uint16_t closed_port() {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  const std::uint16_t port = socket.address().port();
  socket.close();
  return port;
}

TempDir::TempDir() {
  char pattern[] = "/tmp/wslab-client-XXXXXX";
  const char* made = ::mkdtemp(pattern);
  REQUIRE(made != nullptr);
  path = made;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

// --- TinyProxy ---------------------------------------------------------------------------

namespace {
constexpr const char* kTinyproxy = "/usr/bin/tinyproxy";
}

TinyProxy::TinyProxy(std::vector<std::uint16_t> connect_ports) {
  // Not installed is a failure, not a skip: the test would otherwise pass
  // having checked nothing.
  INFO("tinyproxy is needed for the proxy tests: apt-get install -y tinyproxy");
  REQUIRE(std::filesystem::exists(kTinyproxy));

  port_ = closed_port();
  const std::string conf = (dir_.path / "tinyproxy.conf").string();
  const std::string log_file = (dir_.path / "tinyproxy.log").string();
  {
    std::ofstream out(conf);
    out << "Port " << port_ << "\n"
        << "Listen 127.0.0.1\n"
        << "Timeout 30\n"
        << "Allow 127.0.0.1\n"
        << "MaxClients 20\n"
        << "LogLevel Info\n";
    // Without a ConnectPort line tinyproxy allows CONNECT to every port;
    // with them, to the listed ports only (its default config lists 443
    // and 563).
    for (std::uint16_t p : connect_ports) out << "ConnectPort " << p << "\n";
  }

  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec.
    const int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execl(kTinyproxy, "tinyproxy", "-d", "-c", conf.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  pid_ = pid;

  // Wait until it accepts connections.
  const auto end = Clock::now() + 5s;
  for (;;) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      FAIL("tinyproxy exited at start:\n" << log());
    }
    try {
      Poco::Net::StreamSocket probe;
      probe.connect(Poco::Net::SocketAddress("127.0.0.1", port_), Poco::Timespan(0, 200'000));
      probe.close();
      break;
    } catch (const Poco::Exception&) {
      if (Clock::now() >= end) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        FAIL("tinyproxy did not listen on port " << port_ << " within 5 s:\n" << log());
      }
      std::this_thread::sleep_for(20ms);
    }
  }
}

TinyProxy::~TinyProxy() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto end = Clock::now() + 3s;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() >= end) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
}

std::string TinyProxy::log() const {
  std::ifstream in(dir_.path / "tinyproxy.log");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace wslab::testing
