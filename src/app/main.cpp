// `wslab`: the command-line face of the library.
#include "demo.hpp"
#include "diagram.hpp"

#include <wslab/handshake.hpp>

#include <iostream>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace {

// Exit statuses, documented in `wslab help`.
constexpr int kOk = 0;
constexpr int kUsage = 2;
constexpr int kBadInput = 3;

constexpr const char* kUsageText = R"(usage: wslab <command> [arguments]

commands:
  demo [--step]             walk through every chapter in the terminal
                            (--step: wait for Enter between chapters)
  frame decode HEX...       draw a frame as RFC 6455 §5.2's bit diagram,
                            every field named, the payload unmasked
  handshake accept KEY      compute Sec-WebSocket-Accept step by step
  help                      this text

exit status: 0 success, 2 usage error, 3 invalid input (the message names
the rule that was broken)
)";

int usage_error(const std::string& message) {
  std::cerr << "wslab: " << message << "\n(run `wslab help` for usage)\n";
  return kUsage;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsageText;
    return args.empty() ? kUsage : kOk;
  }
  const auto command = args[0];
  if (command == "demo") {
    wslab::app::DemoOptions options;
    for (std::size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "--step") options.step = isatty(STDIN_FILENO) != 0;
      else return usage_error("demo: unknown option '" + std::string(args[i]) + "'");
    }
    return wslab::app::run_demo(std::cout, options);
  }
  if (command == "frame") {
    if (args.size() < 3 || args[1] != "decode") return usage_error("usage: wslab frame decode HEX...");
    std::string hex;
    for (std::size_t i = 2; i < args.size(); ++i) (hex += args[i]) += ' ';
    std::string bytes, error;
    if (!wslab::app::parse_hex(hex, bytes, error)) {
      std::cerr << "wslab: frame decode: " << error << "\n";
      return kBadInput;
    }
    std::cout << wslab::app::draw_frame(
        {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
    return kOk;
  }
  if (command == "handshake") {
    if (args.size() != 3 || args[1] != "accept") return usage_error("usage: wslab handshake accept KEY");
    const auto steps = wslab::handshake::accept_steps(args[2]);
    std::cout << "Sec-WebSocket-Key:    " << steps.key << "\n"
              << "key + GUID:           " << steps.concatenated << "\n"
              << "SHA-1 (hex):          " << steps.sha1_hex << "\n"
              << "base64 of the SHA-1:  " << steps.accept << "\n"
              << "Sec-WebSocket-Accept: " << steps.accept << "\n";
    return kOk;
  }
  return usage_error("unknown command '" + std::string(command) + "'");
}
