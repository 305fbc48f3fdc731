// RFC 7692 §6 and §7.2: compressing and inflating messages as agreed, the
// RSV1 rules, and the limits on what a compressed message may cost.
#include "alloc_counter.hpp"
#include "receiver.hpp"

#include <catch2/catch.hpp>
#include <zlib.h>

#include <random>

using namespace wslab;
using namespace wslab::testing;
using namespace wslab::extensions;

namespace {

constexpr std::uint8_t kText = 0x1, kBinary = 0x2, kContinuation = 0x0, kPing = 0x9, kClose = 0x8;

std::string random_bytes(std::mt19937& rng, std::size_t n) {
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng() & 0xFF);
  return out;
}

// Text that compresses the way real messages do: words from a small vocabulary.
std::string words(std::mt19937& rng, std::size_t n) {
  static const char* vocabulary[] = {"websocket ", "frame ", "message ", "deflate ", "window ", "context ",
                                     "takeover ", "{\"type\":\"chat\",", "\"text\":\"hello\"} ", "ping ", "pong "};
  std::string out;
  while (out.size() < n) out += vocabulary[rng() % std::size(vocabulary)];
  out.resize(n);
  return out;
}

// zlib itself, told the window size: the judge of whether a compressed
// message fits a window (an independent check of our Deflater). It is given
// one output byte at a time: zlib lets a match reach back into what the same
// inflate() call wrote, whatever the window, so only then is every distance
// checked against the window ("invalid distance too far back").
bool zlib_inflates(std::string_view payload, int window_bits, std::string* out = nullptr) {
  z_stream z{};
  if (inflateInit2(&z, -window_bits) != Z_OK) return false;
  std::string data(payload);
  data.append("\x00\x00\xff\xff", 4);
  std::string result;
  z.next_in = reinterpret_cast<Bytef*>(data.data());
  z.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    unsigned char byte = 0;
    z.next_out = &byte;
    z.avail_out = 1;
    rc = inflate(&z, Z_SYNC_FLUSH);
    if (z.avail_out == 0) result += static_cast<char>(byte);
    else if (rc == Z_OK || rc == Z_BUF_ERROR) break;  // all input used
  }
  inflateEnd(&z);
  if (out) *out = result;
  return rc != Z_DATA_ERROR && rc != Z_STREAM_ERROR && rc != Z_MEM_ERROR;
}

// A sender and a receiver of the same direction (server to client) with
// `agreement`.
struct Pipe {
  PerMessageDeflate server;
  Receiver client;
  explicit Pipe(const Agreement& agreement, std::uint64_t max = 16u << 20)
      : server(Role::server, agreement, max), client(agreement, max) {}
  std::string send(std::string_view message, std::uint8_t opcode = kBinary) {
    const std::string payload = server.compress(message);
    REQUIRE_FALSE(client.feed(frame(opcode, payload, true, true)));
    return payload;
  }
};

}  // namespace

// --- Context takeover (§7.1.1, §7.2.1, §7.2.2), each direction on its own ----------------

TEST_CASE("PMD-10 with context takeover a repeated message costs a few bytes, without it the same again",
          "[extensions]") {
  std::mt19937 rng(7);
  const std::string message = words(rng, 2000);
  SECTION("server to client, takeover on") {
    Pipe pipe(Agreement{});
    const auto first = pipe.send(message);
    const auto second = pipe.send(message);  // matches of up to 258 bytes, 2000 back
    CHECK(second.size() < 40);
    CHECK(first.size() > 10 * second.size());
    CHECK(pipe.client.messages.back().payload == message);
  }
  SECTION("server to client, server_no_context_takeover") {
    Pipe pipe(Agreement{.server_no_context_takeover = true});
    const auto first = pipe.send(message);
    const auto second = pipe.send(message);
    CHECK(second == first);
    CHECK(pipe.client.messages.back().payload == message);
  }
  SECTION("the two directions are independent") {
    // server_no_context_takeover alone: the server resets, the client keeps.
    const Agreement a{.server_no_context_takeover = true};
    PerMessageDeflate server(Role::server, a, 1 << 20), client(Role::client, a, 1 << 20);
    const auto s1 = server.compress(message);
    const auto s2 = server.compress(message);
    const auto c1 = client.compress(message);
    const auto c2 = client.compress(message);
    CHECK(s2 == s1);
    CHECK(c2.size() < c1.size() / 10);
    // client_no_context_takeover alone: the other way round.
    const Agreement b{.client_no_context_takeover = true};
    PerMessageDeflate server2(Role::server, b, 1 << 20), client2(Role::client, b, 1 << 20);
    const auto t1 = server2.compress(message);
    const auto t2 = server2.compress(message);
    CHECK(t2.size() < t1.size() / 10);
    const auto d1 = client2.compress(message);
    const auto d2 = client2.compress(message);
    CHECK(d2 == d1);
  }
}

TEST_CASE("PMD-10 a receiver told the sender takes no context over inflates each message with an empty window",
          "[extensions]") {
  // A sender that (wrongly) keeps its window sends a second message that
  // refers back into the first; a receiver that agreed
  // server_no_context_takeover has emptied its window and cannot follow.
  PerMessageDeflate sender(Role::server, Agreement{}, 1 << 20);
  const std::string first = sender.compress("Hello"), second = sender.compress("Hello");
  REQUIRE(hex(second) == "f2 00 11 00 00");
  Receiver strict(Agreement{.server_no_context_takeover = true});
  REQUIRE_FALSE(strict.feed(frame(kText, first, true, true)));
  auto v = strict.feed(frame(kText, second, true, true));
  REQUIRE(v);
  CHECK(v->id() == error::bad_compressed_data);
  CHECK(v->close_code() == 1007);
  // With takeover agreed, the same bytes are fine.
  Receiver keeping{Agreement{}};
  REQUIRE_FALSE(keeping.feed(frame(kText, first, true, true) + frame(kText, second, true, true)));
  CHECK(keeping.messages[1].payload == "Hello");
}

// --- Window sizes (§7.1.2) ----------------------------------------------------------------

TEST_CASE("PMD-9 the compressor never looks further back than the agreed window, 8 to 15 bits", "[extensions]") {
  const int bits = GENERATE(range(8, 16));
  INFO("window bits " << bits);
  // A random block of 1.5 windows, twice: the second copy is only
  // compressible by looking 1.5 windows back, which the window forbids.
  std::mt19937 rng(static_cast<unsigned>(bits));
  const std::size_t window = std::size_t{1} << bits;
  const std::string block = random_bytes(rng, window + window / 2);
  const std::string message = block + block;

  const Agreement a{.server_max_window_bits = bits, .client_max_window_bits = bits};
  PerMessageDeflate server(Role::server, a, 1 << 20);
  const std::string payload = server.compress(message);
  // zlib with exactly that window inflates it: no distance is too far back.
  std::string inflated;
  CHECK(zlib_inflates(payload, bits, &inflated));
  CHECK(inflated == message);
  // And our receiver, with the same agreement.
  Receiver client(a);
  REQUIRE_FALSE(client.feed(frame(kBinary, payload, true, true)));
  CHECK(client.messages[0].payload == message);

  // The check can fail: compressed with a larger window (two sizes up, as
  // zlib reaches 262 bytes short of its window), the copy is found 1.5
  // windows back, and zlib with the agreed window rejects it.
  if (bits < 15) {
    PerMessageDeflate wider(Role::server, Agreement{.server_max_window_bits = std::min(bits + 2, 15)}, 1 << 20);
    const std::string too_far = wider.compress(message);
    CHECK(too_far.size() < payload.size());
    CHECK_FALSE(zlib_inflates(too_far, bits));
  }
}

TEST_CASE("PMD-9 window bits 8: zlib cannot deflate with 256 bytes, 9 is used, and the result fits 256",
          "[extensions]") {
  // zlib refuses a raw 8-bit deflate window outright:
  z_stream z{};
  CHECK(deflateInit2(&z, 6, Z_DEFLATED, -8, 8, Z_DEFAULT_STRATEGY) == Z_STREAM_ERROR);
  // so the Deflater asks for 9, whose matches reach back at most
  // 512 - 262 = 250 bytes: data repeating every 300 bytes finds no match
  // within 256 and inflates with an 8-bit window.
  std::mt19937 rng(8);
  const std::string unit = random_bytes(rng, 300);
  std::string message;
  for (int i = 0; i < 20; ++i) message += unit;
  Deflater deflater(8, false);
  const std::string payload = deflater.compress(message);
  CHECK(zlib_inflates(payload, 8));
  // Data repeating every 200 bytes does compress (the window is used).
  const std::string near = random_bytes(rng, 200);
  std::string repeating;
  for (int i = 0; i < 30; ++i) repeating += near;
  CHECK(deflater.compress(repeating).size() < repeating.size() / 4);
}

// --- Sizes and round trips ------------------------------------------------------------------

TEST_CASE("PMD-6 a 1 MiB message round trips, text and random bytes, in pieces of any size", "[extensions]") {
  std::mt19937 rng(1);
  const std::string text = words(rng, 1 << 20), noise = random_bytes(rng, 1 << 20);
  Pipe pipe(Agreement{});
  const auto small = pipe.send(text, kText);
  CHECK(small.size() < text.size() / 5);
  const auto big = pipe.send(noise);
  CHECK(big.size() < noise.size() + noise.size() / 100);  // stored blocks: barely larger
  REQUIRE(pipe.client.messages.size() == 2);
  CHECK(pipe.client.messages[0].payload == text);
  CHECK(pipe.client.messages[1].payload == noise);

  // Streaming: the same message fed 1, 7 or 4096 bytes at a time.
  for (std::size_t chunk : {std::size_t{4096}, std::size_t{7}}) {
    PerMessageDeflate sender(Role::server, Agreement{}, 16u << 20);
    Receiver receiver;
    REQUIRE_FALSE(receiver.feed(frame(kText, sender.compress(text), true, true), chunk));
    CHECK(receiver.messages.at(0).payload == text);
  }
}

TEST_CASE("PMD-6 random messages round trip under every agreement, fragmented or not", "[extensions]") {
  std::mt19937 rng(2024);
  for (int mask = 0; mask < 4; ++mask) {
    for (int bits : {9, 12, 15}) {
      const Agreement a{.server_no_context_takeover = (mask & 1) != 0,
                        .client_no_context_takeover = (mask & 2) != 0,
                        .server_max_window_bits = bits,
                        .client_max_window_bits = bits};
      PerMessageDeflate server(Role::server, a, 1 << 20);
      Receiver client(a, 1 << 20);
      std::vector<std::string> sent;
      std::string wire;
      for (int i = 0; i < 40; ++i) {
        const std::size_t size = rng() % 3 == 0 ? rng() % 40000 : rng() % 300;
        std::string message = rng() % 2 ? words(rng, size) : random_bytes(rng, size);
        if (rng() % 3 == 0) {  // in 1 to 4 fragments, RSV1 on the first only
          const std::size_t parts = 1 + rng() % 4;
          for (std::size_t p = 0; p < parts; ++p) {
            const std::size_t from = message.size() * p / parts, to = message.size() * (p + 1) / parts;
            std::string payload;
            server.compress(std::string_view(message).substr(from, to - from), p + 1 == parts, payload);
            wire += frame(p == 0 ? kBinary : kContinuation, payload, p + 1 == parts, p == 0);
          }
        } else {
          wire += frame(kBinary, server.compress(message), true, true);
        }
        sent.push_back(std::move(message));
      }
      INFO("agreement " << mask << " bits " << bits);
      REQUIRE_FALSE(client.feed(wire, 1 + rng() % 5000));
      REQUIRE(client.messages.size() == sent.size());
      for (std::size_t i = 0; i < sent.size(); ++i) CHECK(client.messages[i].payload == sent[i]);
    }
  }
}

// --- The decompression limit (PMD-7) --------------------------------------------------------

TEST_CASE("PMD-7 a small bomb is stopped at the limit with 1009, having allocated about the limit", "[extensions]") {
  // 64 MiB of zeros deflates to about 64 KiB; the receiver's limit is 1 MiB.
  const std::string zeros(64u << 20, '\0');
  std::string bomb;
  {
    Deflater d(15, true, 9);
    bomb = d.compress(zeros);
  }
  REQUIRE(bomb.size() < 80 * 1024);
  constexpr std::uint64_t kLimit = 1u << 20;

  SECTION("the inflater alone: stops one byte past the limit, its own memory a fraction of it") {
    Inflater inflater(15, false, kLimit);
    std::uint64_t delivered = 0;
    const Inflater::Sink count = [&](std::span<const std::uint8_t> piece) -> MaybeViolation {
      delivered += piece.size();
      return std::nullopt;
    };
    HeapPeak heap;
    auto v = inflater.inflate(span_of(bomb), count);
    REQUIRE(v);
    CHECK(v->id() == error::inflated_too_big);
    CHECK(v->close_code() == 1009);
    CHECK(v->rule().checklist_id == "PMD-7");
    CHECK(delivered <= kLimit);
    CHECK(inflater.message_size() == delivered);
    CHECK(inflater.peak_memory() < 64 * 1024);  // zlib's state, a 32 KiB window, the 16 KiB output buffer
    CHECK(heap.peak() < 128 * 1024);
  }
  SECTION("through the frame harness: the message is never buffered past the limit") {
    Receiver client(Agreement{}, kLimit);
    HeapPeak heap;
    auto v = client.feed(frame(kBinary, bomb, true, true), 4096);
    REQUIRE(v);
    CHECK(v->id() == error::inflated_too_big);
    CHECK(client.messages.empty());
    // The partial message holds at most the limit; the string holding it
    // grows by doubling, so while it moves to a larger buffer the old and
    // the new one are both held (up to 1 + 2 MiB here), and the inflater
    // adds its ~60 KiB. A few MiB, where the bomb would have taken 64.
    CHECK(client.assembler.message_size() == kLimit);
    CHECK(heap.peak() < 4 * kLimit);
  }
  SECTION("a message of exactly the limit passes") {
    Deflater d(15, true);
    const std::string exact = d.compress(std::string_view(zeros).substr(0, kLimit));
    Receiver client(Agreement{}, kLimit);
    REQUIRE_FALSE(client.feed(frame(kBinary, exact, true, true)));
    CHECK(client.messages.at(0).payload.size() == kLimit);
  }
}

TEST_CASE("PMD-7 past the limit and then not DEFLATE: 1009 however the payload is cut", "[extensions]") {
  // Found by fuzz_inflater (tests/fuzz/corpus/inflater/regression-too-big-then-bad-data):
  // a fixed-Huffman block holding one byte, 'M', then a stored block whose
  // length check fails. With a limit of 0, the 'M' is one byte too many.
  // zlib, its output full, goes on to the bad stored block in the same
  // call, so the answer used to depend on whether the payload came whole
  // (bad_compressed_data) or cut after the 'M' (inflated_too_big). The
  // limit is checked first: what came out before the bad data is too big.
  const std::string payload("\xf2\x05\x00\xfa\xff\x48\x65\x6c\x6c\x6f", 10);
  const auto count = [](std::span<const std::uint8_t>) -> MaybeViolation { return std::nullopt; };
  for (const std::size_t piece : {std::size_t{10}, std::size_t{2}, std::size_t{1}}) {
    INFO("pieces of " << piece << " bytes");
    Inflater inflater(15, false, 0);
    MaybeViolation v;
    for (std::size_t i = 0; i < payload.size() && !v; i += piece)
      v = inflater.inflate(span_of(std::string_view(payload).substr(i, piece)), count);
    if (!v) v = inflater.finish(count);
    REQUIRE(v);
    CHECK(v->id() == error::inflated_too_big);
  }
  // With room for the 'M', the same payload is bad data (§7.2.2, 1007).
  Inflater roomy(15, false, 1);
  auto r = roomy.inflate_message(span_of(payload));
  REQUIRE_FALSE(r);
  CHECK(r.violation().id() == error::bad_compressed_data);
}

// --- RSV1 (§6) -----------------------------------------------------------------------------

TEST_CASE("PMD-5 RSV1 on a control frame fails with 1002", "[extensions]") {
  const auto opcode = static_cast<std::uint8_t>(GENERATE(as<int>{}, 0x8, 0x9, 0xA));  // close, ping, pong
  INFO("opcode " << int(opcode));
  Receiver client;
  auto v = client.feed(frame(opcode, "", true, true));
  REQUIRE(v);
  CHECK(v->id() == error::compressed_control_frame);
  CHECK(v->close_code() == 1002);
  CHECK(v->rule().section == "RFC 7692 §6");
}

TEST_CASE("PMD-5 RSV1 on a continuation frame fails with 1002", "[extensions]") {
  PerMessageDeflate server(Role::server, Agreement{}, 1 << 20);
  std::string a, b;
  server.compress("Hel", false, a);
  server.compress("lo", true, b);
  SECTION("of a compressed message") {
    Receiver client;
    auto v = client.feed(frame(kText, a, false, true) + frame(kContinuation, b, true, true));
    REQUIRE(v);
    CHECK(v->id() == error::compressed_continuation);
    CHECK(v->close_code() == 1002);
  }
  SECTION("of an uncompressed message") {
    Receiver client;
    auto v = client.feed(frame(kText, "Hel", false, false) + frame(kContinuation, "lo", true, true));
    REQUIRE(v);
    CHECK(v->id() == error::compressed_continuation);
  }
}

TEST_CASE("PMD-11 control frames between the fragments of a compressed message are read as they are",
          "[extensions]") {
  PerMessageDeflate server(Role::server, Agreement{}, 1 << 20);
  std::string a, b;
  server.compress("Hello, ", false, a);
  server.compress("world", true, b);
  Receiver client;
  REQUIRE_FALSE(client.feed(frame(kText, a, false, true) + frame(kPing, "not compressed") +
                            frame(kContinuation, b, true)));
  REQUIRE(client.messages.size() == 1);
  CHECK(client.messages[0].payload == "Hello, world");
}

TEST_CASE("PMD-12 a message without RSV1 is delivered as it is, between compressed ones", "[extensions]") {
  PerMessageDeflate server(Role::server, Agreement{}, 1 << 20);
  Receiver client;
  REQUIRE_FALSE(client.feed(frame(kText, server.compress("one"), true, true) + frame(kText, "two") +
                            frame(kText, "thr", false) + frame(kContinuation, "ee") +
                            frame(kText, server.compress("four"), true, true)));
  REQUIRE(client.messages.size() == 4);
  CHECK(client.messages[0].payload == "one");
  CHECK(client.messages[1].payload == "two");
  CHECK(client.messages[2].payload == "three");
  CHECK(client.messages[3].payload == "four");
  CHECK(client.compressed == std::vector<bool>{true, false, false, true});
}

// --- Bad compressed data (§7.2.2) ------------------------------------------------------------

TEST_CASE("PMD-13 a payload that is not DEFLATE data, or is cut short, fails with 1007", "[extensions]") {
  const std::string bad = GENERATE(as<std::string>{},
                                   std::string("\xff\xff\xff\xff", 4),  // BTYPE 11: reserved
                                   std::string("\xf2\x48\xcd", 3),      // Hello, cut in its middle
                                   std::string(),                       // not even a block header (§7.2.1)
                                   std::string("\x00\x05\x00\xfa\xff\x48\x65", 7),  // a stored block, short
                                   std::string("\x01\x00\x00\xff\xff\xff", 6));     // garbage after a final block
  INFO(hex(bad));
  Receiver client;
  auto v = client.feed(frame(kText, bad, true, true));
  REQUIRE(v);
  CHECK(v->id() == error::bad_compressed_data);
  CHECK(v->close_code() == 1007);
  CHECK(v->rule().checklist_id == "PMD-13");
  CHECK(client.messages.empty());
}

TEST_CASE("U8-2 the UTF-8 check runs on the inflated text, with 1007", "[extensions]") {
  PerMessageDeflate server(Role::server, Agreement{}, 1 << 20);
  SECTION("invalid UTF-8 inside a compressed text message") {
    Receiver client;
    auto v = client.feed(frame(kText, server.compress("caf\xc3\x28 au lait"), true, true));
    REQUIRE(v);
    CHECK(v->id() == error::bad_utf8);
    CHECK(v->close_code() == 1007);
    CHECK(v->detail().find("at byte 4") != std::string::npos);  // a position in the inflated text
  }
  SECTION("a code point split between two compressed fragments is fine") {
    std::string a, b;
    server.compress("caf\xc3", false, a);
    server.compress("\xa9", true, b);
    Receiver client;
    REQUIRE_FALSE(client.feed(frame(kText, a, false, true) + frame(kContinuation, b, true)));
    CHECK(client.messages.at(0).payload == "caf\xc3\xa9");
  }
  SECTION("binary messages are not checked") {
    Receiver client;
    REQUIRE_FALSE(client.feed(frame(kBinary, server.compress("\xc3\x28"), true, true)));
  }
}

TEST_CASE("PMD-9 an agreement's sides: a server compresses with the server_ parameters", "[extensions]") {
  const Agreement a{.server_no_context_takeover = true, .client_max_window_bits = 10};
  PerMessageDeflate server(Role::server, a, 1 << 20), client(Role::client, a, 1 << 20);
  CHECK(server.deflater().window_bits() == 15);
  CHECK(server.deflater().no_context_takeover());
  CHECK(server.inflater().window_bits() == 10);
  CHECK_FALSE(server.inflater().no_context_takeover());
  CHECK(client.deflater().window_bits() == 10);
  CHECK_FALSE(client.deflater().no_context_takeover());
  CHECK(client.inflater().window_bits() == 15);
  CHECK(client.inflater().no_context_takeover());
  CHECK(PerMessageDeflate::rsv_bits() == framing::kRsv1);
}
