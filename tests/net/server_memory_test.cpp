// What an idle connection costs the server, measured: the server runs in a
// child process (so the test's own clients do not count), and its resident
// memory (VmRSS in /proc/<pid>/status) is read before and after 10 000
// WebSocket connections are opened and left idle.
#include "server_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

using namespace wslab;
using namespace wslab::testing;

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;  // shadow memory and redzones: RSS says nothing about us
#else
constexpr bool kSanitized = false;
#endif

long rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// The server in a child process; the parent learns its port through a pipe.
struct ChildServer {
  pid_t pid = -1;
  std::uint16_t port = 0;

  explicit ChildServer(net::ServerOptions options) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
      ::close(fds[0]);
      net::Server server(std::move(options));
      const std::uint16_t p = server.port();
      if (::write(fds[1], &p, sizeof p) != sizeof p) ::_exit(1);
      server.run();
      ::_exit(0);
    }
    ::close(fds[1]);
    pollfd wait{fds[0], POLLIN, 0};
    REQUIRE(::poll(&wait, 1, 10000) == 1);
    REQUIRE(::read(fds[0], &port, sizeof port) == sizeof port);
    ::close(fds[0]);
  }
  ~ChildServer() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
};

}  // namespace

TEST_CASE("memory: 10 000 idle WebSocket connections cost the server under 8 KiB each", "[net][server]") {
  constexpr int kConnections = 10000;
  constexpr int kBatch = 500;  // within the listen backlog: no SYN is dropped
  auto options = test_options();
  options.max_connections = kConnections;
  ChildServer child(options);
  std::this_thread::sleep_for(100ms);
  const long before = rss_kib(child.pid);
  REQUIRE(before > 0);

  std::vector<std::unique_ptr<RawClient>> clients;
  clients.reserve(kConnections);
  int opened = 0;
  for (int start = 0; start < kConnections; start += kBatch) {
    for (int i = start; i < start + kBatch; ++i) {
      clients.push_back(std::make_unique<RawClient>(child.port));
      REQUIRE(clients.back()->send(upgrade_request("/ws")));
    }
    for (int i = start; i < start + kBatch; ++i) {
      std::string in;
      while (in.find("\r\n\r\n") == std::string::npos) {
        REQUIRE(clients[static_cast<std::size_t>(i)]->receive(in, 10s) == RawClient::Status::data);
      }
      if (in.rfind("HTTP/1.1 101", 0) == 0) ++opened;
    }
  }
  REQUIRE(opened == kConnections);
  std::this_thread::sleep_for(200ms);
  const long idle = rss_kib(child.pid);
  const double per_connection = (idle - before) * 1024.0 / kConnections;

  // Every connection echoes one 1 KiB message, then goes idle again: what it
  // used for that must not stay with it.
  const std::string frame = client_frame(0x2, pattern(1024, 1));
  for (int start = 0; start < kConnections; start += kBatch) {
    for (int i = start; i < start + kBatch; ++i) REQUIRE(clients[static_cast<std::size_t>(i)]->send(frame));
    for (int i = start; i < start + kBatch; ++i) {
      std::string in;
      while (in.size() < 1028) REQUIRE(clients[static_cast<std::size_t>(i)]->receive(in, 10s) == RawClient::Status::data);
      CHECK(in.size() == 1028);
    }
  }
  std::this_thread::sleep_for(200ms);
  const long after_echo = rss_kib(child.pid);
  const double per_connection_after_echo = (after_echo - before) * 1024.0 / kConnections;

  WARN("server VmRSS " << before << " KiB with no connection, " << idle << " KiB with " << kConnections
                       << " idle ones (" << per_connection << " bytes each), " << after_echo
                       << " KiB after one echo on each (" << per_connection_after_echo << " bytes each)");
  if (!kSanitized) {
    CHECK(per_connection < 8192);
    CHECK(per_connection_after_echo < 8192);
  }
}
