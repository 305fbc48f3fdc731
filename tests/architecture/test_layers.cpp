// The architecture, checked: every module includes only the modules below it,
// the chapters stay sans-I/O (no sockets, no threads, no clock reads), and
// the CMake dependencies say the same as the #includes.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path kSrc = fs::path(WSLAB_SOURCE_DIR) / "src";

// The layering, written out: what each module may include of wslab.
const std::map<std::string, std::set<std::string>> kAllowed = {
    {"rules", {}},
    {"uri", {"rules"}},
    {"masking", {"rules"}},
    {"handshake", {"rules", "uri"}},
    {"framing", {"rules", "masking"}},
    {"heartbeat", {"rules"}},
    {"close", {"rules", "framing", "masking"}},
    {"extensions", {"rules", "handshake", "framing"}},
    {"connection", {"rules", "uri", "masking", "handshake", "framing", "heartbeat", "close", "extensions"}},
    {"trace", {"rules", "uri", "masking", "handshake", "framing", "heartbeat", "close", "extensions", "connection"}},
    {"net",
     {"rules", "uri", "masking", "handshake", "framing", "heartbeat", "close", "extensions", "connection", "trace"}},
};

const std::set<std::string> kChapters = {"uri", "handshake", "framing", "masking", "heartbeat", "close", "extensions"};

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> sources_of(const std::string& module) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(kSrc / module)) {
    const auto ext = e.path().extension();
    if (ext == ".hpp" || ext == ".cpp" || ext == ".h") out.push_back(e.path());
  }
  return out;
}

std::set<std::string> wslab_includes(const std::string& text) {
  std::set<std::string> out;
  static const std::regex re(R"re(#\s*include\s*[<"]wslab/(\w+)\.hpp[>"])re");
  for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it)
    out.insert((*it)[1]);
  return out;
}

}  // namespace

TEST_CASE("every module includes only the modules below it", "[architecture]") {
  for (const auto& [module, allowed] : kAllowed) {
    INFO("module " << module);
    REQUIRE(fs::exists(kSrc / module));
    for (const auto& file : sources_of(module)) {
      for (const auto& inc : wslab_includes(read(file))) {
        if (inc == module) continue;
        INFO(file.string() << " includes wslab/" << inc << ".hpp");
        CHECK(allowed.count(inc) == 1);
      }
    }
  }
}

TEST_CASE("a chapter's CMake dependencies point only downwards", "[architecture]") {
  static const std::regex deps_re(R"(DEPS([^)]*?)(LINK|\)))");
  static const std::regex word_re(R"(\w+)");
  for (const auto& [module, allowed] : kAllowed) {
    const std::string cmake = read(kSrc / module / "CMakeLists.txt");
    std::smatch m;
    if (!std::regex_search(cmake, m, deps_re)) continue;
    const std::string deps = m[1];
    for (std::sregex_iterator it(deps.begin(), deps.end(), word_re), end; it != end; ++it) {
      INFO("module " << module << " declares DEPS " << it->str());
      CHECK(allowed.count(it->str()) == 1);
    }
  }
}

TEST_CASE("the chapters are sans-I/O: no sockets, threads or clock reads", "[architecture]") {
  // POCO's HTTP message classes parse bytes; anything that opens or waits on
  // a socket belongs to the net layer.
  static const std::regex forbidden(
      R"re(#\s*include\s*[<"](Poco/Net/(Socket|StreamSocket|ServerSocket|DatagramSocket|SocketReactor|SocketAcceptor|SecureStreamSocket|SecureServerSocket|HTTPServer|HTTPClientSession|HTTPSClientSession|TCPServer|PollSet|WebSocket)\w*\.h|Poco/Thread\.h|thread|mutex|future|condition_variable|sys/socket\.h|netinet/\w+\.h)[>"])re");
  static const std::regex clock_read(R"((steady_clock|system_clock|high_resolution_clock|Clock)::now\s*\()");
  for (const auto& chapter : kChapters) {
    for (const auto& file : sources_of(chapter)) {
      const std::string text = read(file);
      INFO(file.string());
      CHECK_FALSE(std::regex_search(text, forbidden));
      CHECK_FALSE(std::regex_search(text, clock_read));
    }
  }
}

TEST_CASE("each chapter has exactly one public header, named after it", "[architecture]") {
  for (const auto& chapter : kChapters) {
    std::vector<std::string> headers;
    for (const auto& e : fs::directory_iterator(kSrc / chapter / "include" / "wslab"))
      headers.push_back(e.path().filename().string());
    INFO("chapter " << chapter);
    REQUIRE(headers.size() == 1);
    CHECK(headers[0] == chapter + ".hpp");
  }
}

TEST_CASE("no test case name contains a semicolon (CTest would split it and run nothing)", "[architecture]") {
  // catch_discover_tests turns names into a CMake list: "a; b" becomes two
  // tests that match no test case. (--warn NoTests makes those fail too;
  // this says why.)
  static const std::regex name_re(R"re(TEST_CASE\s*\(\s*"([^"]*)")re");
  for (const auto& e : fs::recursive_directory_iterator(fs::path(WSLAB_SOURCE_DIR) / "tests")) {
    if (e.path().extension() != ".cpp") continue;
    const std::string text = read(e.path());
    for (std::sregex_iterator it(text.begin(), text.end(), name_re), end; it != end; ++it) {
      INFO(e.path().string() << ": " << (*it)[1]);
      CHECK((*it)[1].str().find(';') == std::string::npos);
    }
  }
}
