// fuzz_inflater: extensions::Inflater, permessage-deflate's receiving side
// (RFC 7692 §7.2.2), and extensions::Deflater, its sending side (§7.2.1).
//
// Input: byte 0 the options (bits 0-2: window bits 8 + n; bit 3: no context
// takeover; bits 4-6: the message size limit, one of kLimits; bit 7: round
// trip), byte 1 the chunking seed (see Chunker), then the messages, each a
// 2-byte big-endian length and that many bytes (the last one takes what is
// left).
//
// Received mode (bit 7 clear): each message is a compressed payload as it
// came off the wire. It is inflated three ways, by one Inflater per way, for
// the whole connection, in order:
//   W  Inflater::inflate_message, the payload at once;
//   C  Inflater::inflate in pieces whose sizes come from the input, then
//      finish(), each output piece checked as it comes;
//   R  zlib by hand, the way §7.2.2 says it: the payload with 00 00 ff ff
//      appended, inflated with a sync flush, with the agreed window (reset
//      before each message without context takeover); the message is whole
//      if zlib took everything, reported no error and stopped between two
//      blocks.
// Properties, message by message until one of them fails the connection:
//   - W and C agree: both accept, with the same bytes, or both refuse, with
//     the same rule (inflating does not depend on how the payload was cut);
//   - C never hands on a piece larger than Inflater::kOutputChunk, never more
//     than the limit in all, and message_size() is what it handed on;
//   - against R (while R is in step: a BFINAL block, §7.2.3.4, ends the
//     comparison): what R inflates whole within the limit, C accepts with the
//     same bytes; what R inflates past the limit, C refuses with
//     inflated_too_big (PMD-7); what R finds invalid or cut short, C refuses;
//   - one exception to the three: a match that reaches further back than the
//     agreed window (a sender breaking §7.1.2) is caught by zlib only when
//     the bytes it refers to came out of an earlier inflate() call; when they
//     are in the same call's output zlib copies them. So, for a window under
//     15 bits, one way may refuse such a message ("invalid distance too far
//     back") where another accepts it. That disagreement, and only it, is
//     allowed (docs/fuzzing.md);
//   - the inflater's memory (zlib's state, its window, the output buffer)
//     stays under 64 KiB whatever it is fed: a bomb costs the limit at most.
//
// Round-trip mode (bit 7 set): each message is plain data. A Deflater
// compresses it in fragments cut by the chunker (RSV1's message, §7.2.1) and
// an Inflater with the same parameters inflates the result in pieces: the
// output must be the message, byte for byte, for every window size and
// either takeover setting; and a compressed message never ends in
// 00 00 ff ff (§7.2.1 removes it).
#include <wslab/extensions.hpp>

#include <zlib.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"

namespace {

using namespace wslab;
using wslab::extensions::Deflater;
using wslab::extensions::Inflater;
using wslab::fuzz::bytes_of;
using wslab::fuzz::Chunker;
using wslab::fuzz::hex;
using wslab::fuzz::Input;

constexpr std::array<std::uint64_t, 8> kLimits = {16u << 20, 0, 1, 5, 100, 4096, 65536, 1u << 20};
constexpr std::array<std::uint8_t, 4> kTail = {0x00, 0x00, 0xff, 0xff};
// R stops inflating a little past this (a bomb must not take the fuzzer's
// time); messages it could not finish are left out of the comparison.
constexpr std::size_t kReferenceCap = 2u << 20;

struct Outcome {
  std::string data;
  std::optional<Violation> violation;
};

bool too_far_back(const std::optional<Violation>& v) {
  return v && v->detail().find("too far back") != std::string::npos;
}

std::string rule_of(const std::optional<Violation>& v) { return v ? std::string(rule(v->id()).name) : "none"; }
const std::string kTooBig(rule(error::inflated_too_big).name);

Outcome inflate_whole(Inflater& inflater, std::span<const std::uint8_t> payload) {
  auto r = inflater.inflate_message(payload);
  if (!r) return {{}, r.violation()};
  return {std::move(*r), std::nullopt};
}

Outcome inflate_in_pieces(Inflater& inflater, std::span<const std::uint8_t> payload, Chunker& chunker,
                          std::uint64_t limit) {
  Outcome out;
  const Inflater::Sink sink = [&](std::span<const std::uint8_t> piece) -> MaybeViolation {
    FUZZ_CHECK(!piece.empty(), "an empty output piece");
    FUZZ_CHECK(piece.size() <= Inflater::kOutputChunk,
               "an output piece of " + std::to_string(piece.size()) + " bytes");
    out.data.append(reinterpret_cast<const char*>(piece.data()), piece.size());
    FUZZ_CHECK(out.data.size() <= limit, "more than the limit handed on: " + std::to_string(out.data.size()));
    return std::nullopt;
  };
  std::size_t offset = 0;
  while (offset < payload.size()) {
    const std::size_t n = chunker.next(payload.size() - offset);
    if (auto v = inflater.inflate(payload.subspan(offset, n), sink)) {
      out.violation = v;
      inflater.finish([](std::span<const std::uint8_t>) -> MaybeViolation { return std::nullopt; });
      return out;
    }
    offset += n;
  }
  out.violation = inflater.finish(sink);
  if (!out.violation)
    FUZZ_CHECK(inflater.message_size() == out.data.size(),
               "message_size() " + std::to_string(inflater.message_size()) + ", handed on " +
                   std::to_string(out.data.size()));
  return out;
}

// R: §7.2.2 with zlib and nothing else.
class Reference {
 public:
  enum class Result { whole, invalid, stream_end, over_cap };
  bool too_far_back() const { return too_far_back_; }

  Reference(int window_bits, bool no_context_takeover) : no_context_takeover_(no_context_takeover) {
    if (inflateInit2(&z_, -window_bits) != Z_OK) FUZZ_CHECK(false, "inflateInit2 failed");
  }
  ~Reference() { inflateEnd(&z_); }
  Reference(const Reference&) = delete;
  Reference& operator=(const Reference&) = delete;

  Result inflate_message(std::span<const std::uint8_t> payload, std::string& out) {
    if (no_context_takeover_ && started_) inflateReset(&z_);
    started_ = true;
    std::vector<std::uint8_t> in(payload.begin(), payload.end());
    in.insert(in.end(), kTail.begin(), kTail.end());
    z_.next_in = in.data();
    z_.avail_in = static_cast<uInt>(in.size());
    std::array<std::uint8_t, 4096> buffer{};
    // zlib's "between blocks" (data_type bit 128) as of the last call that
    // did something: a call that can do nothing (out of input) clears it.
    int between_blocks = 0;
    for (;;) {
      z_.next_out = buffer.data();
      z_.avail_out = static_cast<uInt>(buffer.size());
      const uInt in_before = z_.avail_in;
      const int rc = ::inflate(&z_, Z_SYNC_FLUSH);
      const std::size_t produced = buffer.size() - z_.avail_out;
      out.append(reinterpret_cast<const char*>(buffer.data()), produced);
      if (rc == Z_STREAM_END) return Result::stream_end;
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        too_far_back_ = z_.msg && std::string_view(z_.msg).find("too far back") != std::string_view::npos;
        return Result::invalid;
      }
      if (produced > 0 || z_.avail_in != in_before) between_blocks = z_.data_type & 128;
      if (out.size() > kReferenceCap) return Result::over_cap;
      if (z_.avail_in == 0 && z_.avail_out != 0) break;
      if (rc == Z_BUF_ERROR) break;  // no progress possible
    }
    if (z_.avail_in != 0) return Result::invalid;
    return between_blocks != 0 ? Result::whole : Result::invalid;
  }

 private:
  z_stream z_{};
  bool no_context_takeover_;
  bool started_ = false;
  bool too_far_back_ = false;
};

std::vector<std::span<const std::uint8_t>> split_messages(Input& in) {
  std::vector<std::span<const std::uint8_t>> messages;
  while (!in.empty()) messages.push_back(in.take(in.u16()));
  return messages;
}

void received(int window_bits, bool no_takeover, std::uint64_t limit, std::uint8_t seed,
              const std::vector<std::span<const std::uint8_t>>& messages) {
  Inflater whole(window_bits, no_takeover, limit);
  Inflater pieces(window_bits, no_takeover, limit);
  Reference reference(window_bits, no_takeover);
  bool in_step = true;
  Chunker chunker(seed);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const auto payload = messages[i];
    const std::string where = "message " + std::to_string(i) + " (" + hex(payload) + ")";
    const Outcome w = inflate_whole(whole, payload);
    const Outcome c = inflate_in_pieces(pieces, payload, chunker, limit);
    const bool lazy_window = window_bits < 15 && (too_far_back(w.violation) || too_far_back(c.violation));
    if (lazy_window) {
      if (c.violation || w.violation) return;  // the streams part here: the connection is failed one way
    }
    FUZZ_CHECK(rule_of(w.violation) == rule_of(c.violation),
               where + ": at once " + rule_of(w.violation) + ", in pieces " + rule_of(c.violation) + " " +
                   (c.violation ? c.violation->detail() : w.violation ? w.violation->detail() : ""));
    if (!c.violation) FUZZ_CHECK(w.data == c.data, where + ": at once and in pieces inflate differently");
    FUZZ_CHECK(whole.peak_memory() < 64 * 1024 && pieces.peak_memory() < 64 * 1024,
               where + ": the inflater took " + std::to_string(pieces.peak_memory()) + " bytes");
    if (in_step) {
      std::string r;
      switch (reference.inflate_message(payload, r)) {
        case Reference::Result::whole:
          if (r.size() <= limit) {
            if (window_bits < 15 && too_far_back(c.violation)) return;  // zlib's lazy window check
            FUZZ_CHECK(!c.violation, where + ": zlib inflates it whole, the inflater says " + rule_of(c.violation));
            FUZZ_CHECK(c.data == r, where + ": zlib and the inflater inflate it differently");
          } else {
            FUZZ_CHECK(rule_of(c.violation) == kTooBig,
                       where + ": inflates to " + std::to_string(r.size()) + " bytes, past the limit " +
                           std::to_string(limit) + ", but the inflater says " + rule_of(c.violation));
          }
          break;
        case Reference::Result::invalid:
          if (r.size() > limit)
            FUZZ_CHECK(rule_of(c.violation) == kTooBig,
                       where + ": past the limit before it goes wrong, but the inflater says " +
                           rule_of(c.violation));
          else if (window_bits < 15 && reference.too_far_back() && !c.violation)
            in_step = false;  // zlib's lazy window check: R refused what C accepted
          else
            FUZZ_CHECK(c.violation, where + ": zlib finds it invalid or cut short, the inflater accepts it");
          break;
        case Reference::Result::over_cap:
          if (limit < kReferenceCap)
            FUZZ_CHECK(rule_of(c.violation) == kTooBig,
                       where + ": a bomb past the limit, but the inflater says " + rule_of(c.violation));
          in_step = false;
          break;
        case Reference::Result::stream_end:
          in_step = false;  // §7.2.3.4's BFINAL: R would need the restart the inflater does
          break;
      }
    }
    if (c.violation) return;  // the connection is failed (§7.2.2): nothing more is read
  }
}

void round_trip(int window_bits, bool no_takeover, std::uint8_t seed,
                const std::vector<std::span<const std::uint8_t>>& messages) {
  Deflater deflater(window_bits, no_takeover);
  Inflater inflater(window_bits, no_takeover, std::uint64_t{1} << 32);
  Chunker chunker(seed);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const auto message = messages[i];
    const std::string_view text(reinterpret_cast<const char*>(message.data()), message.size());
    std::string compressed;
    std::size_t offset = 0;
    do {  // a message is at least one fragment, even an empty one
      const std::size_t n = chunker.next(text.size() - offset);
      deflater.compress(text.substr(offset, n), offset + n == text.size(), compressed);
      offset += n;
    } while (offset < text.size());
    const std::string where = "message " + std::to_string(i) + " (" + hex(message) + "), window " +
                              std::to_string(window_bits) + (no_takeover ? ", no takeover" : ", takeover");
    FUZZ_CHECK(!compressed.empty(), where + ": compressed to nothing");
    FUZZ_CHECK(compressed.size() < 4 || compressed.compare(compressed.size() - 4, 4, "\x00\x00\xff\xff", 4) != 0,
               where + ": the compressed payload still ends in 00 00 ff ff");
    const Outcome c = inflate_in_pieces(inflater, bytes_of(compressed), chunker, std::uint64_t{1} << 32);
    FUZZ_CHECK(!c.violation, where + ": our own compressed message is refused: " + rule_of(c.violation) + " " +
                                 (c.violation ? c.violation->detail() : std::string()));
    FUZZ_CHECK(c.data == text, where + ": inflates to something else");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  const std::uint8_t options = in.byte();
  const std::uint8_t seed = in.byte();
  const int window_bits = 8 + (options & 7);
  const bool no_takeover = (options & 8) != 0;
  const std::uint64_t limit = kLimits[(options >> 4) & 7];
  const auto messages = split_messages(in);
  if (options & 0x80)
    round_trip(window_bits, no_takeover, seed, messages);
  else
    received(window_bits, no_takeover, limit, seed, messages);
  return 0;
}
