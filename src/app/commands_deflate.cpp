// `wslab deflate` and `wslab inflate`: chapter 7's worked examples, computed
// with the extensions chapter (RFC 7692 §7.2). deflate shows each message as
// a permessage-deflate sender makes it: DEFLATE with a sync flush, the 4-octet
// tail 00 00 ff ff removed, the frame with RSV1; inflate the receiver's side:
// the tail appended, inflated, up to a size limit. Several messages share one
// compressor (or inflater), so context takeover can be seen.
#include "commands.hpp"
#include "diagram.hpp"

#include <wslab/extensions.hpp>
#include <wslab/framing.hpp>

#include <algorithm>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace wslab::app {
namespace {

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

int window_bits(const Options& options) {
  return static_cast<int>(parse_number("window-bits", options.get("window-bits", "15"), extensions::kMinWindowBits,
                                       extensions::kMaxWindowBits));
}

std::string describe_window(int bits, bool no_context_takeover) {
  return "LZ77 window 2^" + std::to_string(bits) + " bytes, " +
         (no_context_takeover ? "no context takeover" : "context takeover");
}

constexpr std::size_t kShown = 32;  // hex bytes per line before " ..."

// "  LABEL                 " : the steps' labels in one column.
std::string step(std::string_view label) {
  std::string out = "  " + std::string(label);
  out.resize(std::max<std::size_t>(out.size() + 2, 24), ' ');
  return out;
}

std::string size_of(std::size_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

}  // namespace

int run_deflate(const Args& args, const Options& options) {
  options.only("deflate", {"window-bits", "no-context-takeover", "hex"});
  if (args.size() < 2)
    throw UsageError("usage: wslab deflate [--window-bits 8-15] [--no-context-takeover] [--hex] MESSAGE...");
  const int bits = window_bits(options);
  const bool reset = options.has("no-context-takeover");
  const bool hex_only = options.has("hex");
  // The payloads come from the chapter's own call, Deflater::compress. A
  // second compressor fed the same messages as unfinished pieces (which keep
  // their sync flush whole) shows what zlib produced before §7.2.1 step 3.
  extensions::Deflater sender(bits, reset);
  std::optional<extensions::Deflater> shown;
  if (!hex_only)
    std::cout << "permessage-deflate sender (RFC 7692 §7.2.1): " << describe_window(bits, reset) << "\n";
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& message = args[i];
    const std::string payload = sender.compress(message);
    if (hex_only) {
      std::cout << to_hex(bytes_of(payload)) << "\n";
      continue;
    }
    if (!shown || reset) shown.emplace(bits, false);
    std::string flushed;
    shown->compress(message, false, flushed);
    framing::FrameHeader h;
    h.rsv1 = true;  // §6: "Per-Message Compressed"
    h.opcode = static_cast<std::uint8_t>(framing::Opcode::text);
    std::string frame;
    framing::append_frame(frame, h, payload);
    std::cout << "message " << i << ": " << printable(message, 40) << " (" << size_of(message.size()) << ")\n"
              << step("DEFLATE, sync flush")
              << (flushed.empty() ? "(no output: nothing left to flush)" : to_hex(bytes_of(flushed), kShown)) << "\n"
              << step("remove " + to_hex(extensions::kTail)) << to_hex(bytes_of(payload), kShown) << "  ("
              << size_of(payload.size()) << (payload == std::string(1, '\0') ? ": an empty block's header, §7.2.3.6" : "")
              << ")\n"
              << step("frame, RSV1 set") << to_hex(bytes_of(frame), kShown) << "\n";
  }
  return kExitOk;
}

int run_inflate(const Args& args, const Options& options) {
  options.only("inflate", {"window-bits", "no-context-takeover", "max-message"});
  if (args.size() < 2)
    throw UsageError("usage: wslab inflate [--window-bits 8-15] [--no-context-takeover] [--max-message SIZE] "
                     "HEX... [/ HEX...]");
  const int bits = window_bits(options);
  const bool reset = options.has("no-context-takeover");
  const std::uint64_t limit = parse_size("max-message", options.get("max-message", "16M"));
  // The messages' payloads, separated by "/".
  std::vector<std::string> payloads(1);
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string_view arg = args[i];
    for (std::size_t slash; (slash = arg.find('/')) != std::string_view::npos; arg.remove_prefix(slash + 1)) {
      payloads.back() += ' ';
      payloads.back() += arg.substr(0, slash);
      payloads.emplace_back();
    }
    payloads.back() += ' ';
    payloads.back() += arg;
  }
  std::vector<std::string> messages;
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    std::string payload, error;
    if (!parse_hex(payloads[i], payload, error)) throw InputError("inflate: message " + std::to_string(i + 1) + ": " + error);
    messages.push_back(std::move(payload));
  }
  extensions::Inflater receiver(bits, reset, limit);
  std::cout << "permessage-deflate receiver (RFC 7692 §7.2.2): " << describe_window(bits, reset) << ", at most "
            << size_of(limit) << " a message\n";
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const std::string& payload = messages[i];
    const std::string appended = payload + std::string(extensions::kTail.begin(), extensions::kTail.end());
    std::cout << "message " << i + 1 << ": " << to_hex(bytes_of(payload), kShown) << " (" << size_of(payload.size())
              << ")\n"
              << step("append " + to_hex(extensions::kTail)) << to_hex(bytes_of(appended), kShown) << "\n";
    auto inflated = receiver.inflate_message(bytes_of(payload));
    if (!inflated) {
      std::cout.flush();  // the steps so far, then the one-line error on stderr
      throw InputError("inflate: message " + std::to_string(i + 1) + ": " + inflated.violation().message());
    }
    std::cout << step("inflate") << to_hex(bytes_of(*inflated), kShown) << "  " << printable(*inflated, 40) << " ("
              << size_of(inflated->size()) << ")\n";
  }
  return kExitOk;
}

}  // namespace wslab::app
