// `wslab frame decode|encode` and `wslab handshake accept`: the chapters'
// worked examples, computed.
#include "commands.hpp"
#include "diagram.hpp"

#include <wslab/close.hpp>
#include <wslab/framing.hpp>
#include <wslab/handshake.hpp>
#include <wslab/masking.hpp>

#include <iostream>

namespace wslab::app {

std::string Options::get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() || it->second.empty() ? fallback : it->second.back();
}

const std::vector<std::string>& Options::all(const std::string& name) const {
  static const std::vector<std::string> none;
  auto it = values_.find(name);
  return it == values_.end() ? none : it->second;
}

void Options::only(const std::string& command, const std::set<std::string>& allowed) const {
  for (const auto& [name, values] : values_)
    if (!allowed.count(name)) throw UsageError("--" + name + " does not apply to `wslab " + command + "`");
}

namespace {

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string hex_arg(const std::string& option, const std::string& text) {
  std::string bytes, error;
  if (!parse_hex(text, bytes, error)) throw UsageError("--" + option + ": " + error);
  return bytes;
}

std::uint8_t parse_opcode(const std::string& text) {
  static const std::map<std::string, std::uint8_t> names = {
      {"continuation", 0x0}, {"text", 0x1}, {"binary", 0x2}, {"close", 0x8}, {"ping", 0x9}, {"pong", 0xA}};
  if (auto it = names.find(text); it != names.end()) return it->second;
  std::string digits = text;
  if (digits.rfind("0x", 0) == 0) digits = digits.substr(2);
  std::uint64_t value = 0;
  try {
    std::size_t used = 0;
    value = std::stoull(digits, &used, 16);
    if (used != digits.size()) throw std::invalid_argument(text);
  } catch (const std::exception&) {
    throw UsageError("--opcode: \"" + text + "\" is not an opcode (a name such as text or ping, or 0x0-0xF)");
  }
  if (value > 0xF) throw UsageError("--opcode: " + text + " does not fit the 4-bit opcode field");
  return static_cast<std::uint8_t>(value);
}

int frame_decode(const Args& args) {
  if (args.size() < 3) throw UsageError("usage: wslab frame decode HEX...");
  std::string hex;
  for (std::size_t i = 2; i < args.size(); ++i) (hex += args[i]) += ' ';
  std::string bytes, error;
  if (!parse_hex(hex, bytes, error)) throw InputError("frame decode: " + error);
  std::cout << draw_frame(bytes_of(bytes));
  return kExitOk;
}

int frame_encode(const Args& args, const Options& options) {
  options.only("frame encode", {"text", "binary", "opcode", "mask", "no-fin", "rsv1", "rsv2", "rsv3",
                                "length-form", "close-code"});
  if (args.size() != 2) throw UsageError("usage: wslab frame encode (--text TEXT | --binary HEX) [options]");
  if (options.has("text") && options.has("binary")) throw UsageError("give --text or --binary, not both");
  framing::FrameHeader h;
  std::string payload = options.has("binary") ? hex_arg("binary", options.get("binary")) : options.get("text");
  h.opcode = options.has("opcode") ? parse_opcode(options.get("opcode"))
             : options.has("close-code") ? 0x8
             : options.has("binary")     ? 0x2
                                         : 0x1;
  if (options.has("close-code")) {
    const auto code = static_cast<std::uint16_t>(parse_number("close-code", options.get("close-code"), 0, 65535));
    // Encoded as given, even a code a receiver must reject: this command
    // composes frames for teaching, broken ones included.
    payload = std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)} + payload;
  }
  h.fin = !options.has("no-fin");
  h.rsv1 = options.has("rsv1");
  h.rsv2 = options.has("rsv2");
  h.rsv3 = options.has("rsv3");
  if (options.has("mask")) {
    h.mask = true;
    const std::string key = options.get("mask");
    if (key == "random" || key.empty()) {
      h.masking_key = masking::random_key();
    } else {
      const std::string k = hex_arg("mask", key);
      if (k.size() != 4) throw UsageError("--mask: a masking key is 4 bytes (8 hex digits), got " + std::to_string(k.size()));
      std::copy(k.begin(), k.end(), h.masking_key.begin());
    }
  }
  h.payload_length = payload.size();
  auto form = framing::minimal_length_form(payload.size());
  if (options.has("length-form")) {
    const auto bits = parse_number("length-form", options.get("length-form"), 7, 64);
    if (bits != 7 && bits != 16 && bits != 64) throw UsageError("--length-form: 7, 16 or 64");
    form = bits == 7 ? framing::LengthForm::len7 : bits == 16 ? framing::LengthForm::len16 : framing::LengthForm::len64;
    if (form == framing::LengthForm::len7 && payload.size() > 125)
      throw UsageError("--length-form 7: the 7-bit field holds at most 125, the payload has " + std::to_string(payload.size()));
    if (form == framing::LengthForm::len16 && payload.size() > 65535)
      throw UsageError("--length-form 16: the 16-bit field holds at most 65535");
  }
  std::array<std::uint8_t, framing::kMaxHeaderSize> header{};
  const std::size_t n = framing::encode_header(h, form, header);
  std::string frame(reinterpret_cast<const char*>(header.data()), n);
  std::string body = payload;
  if (h.mask) masking::apply_mask({reinterpret_cast<std::uint8_t*>(body.data()), body.size()}, h.masking_key);
  frame += body;
  std::cout << to_hex(bytes_of(frame)) << "\n\n" << draw_frame(bytes_of(frame));
  return kExitOk;
}

}  // namespace

int run_frame(const Args& args, const Options& options) {
  if (args.size() >= 2 && args[1] == "decode") {
    options.only("frame decode", {});
    return frame_decode(args);
  }
  if (args.size() >= 2 && args[1] == "encode") return frame_encode(args, options);
  throw UsageError("usage: wslab frame decode HEX... | wslab frame encode (--text TEXT | --binary HEX) [options]");
}

int run_handshake(const Args& args, const Options& options) {
  options.only("handshake accept", {});
  if (args.size() != 3 || args[1] != "accept") throw UsageError("usage: wslab handshake accept KEY");
  const auto steps = handshake::accept_steps(args[2]);
  std::cout << "Sec-WebSocket-Key:    " << steps.key << "\n"
            << "key + GUID:           " << steps.concatenated << "\n"
            << "SHA-1 (hex):          " << steps.sha1_hex << "\n"
            << "base64 of the SHA-1:  " << steps.accept << "\n"
            << "Sec-WebSocket-Accept: " << steps.accept << "\n";
  return kExitOk;
}

}  // namespace wslab::app
