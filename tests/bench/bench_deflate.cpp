// permessage-deflate (chapter 7): compression ratio and throughput of wslab's
// Deflater and Inflater next to zlib called directly with the same settings.
//
// zlib is the floor: wslab's chapter is zlib plus the RFC 7692 framing (a
// sync flush, the 00 00 ff ff tail removed and added back, the message
// limit, the output handed on in 16 KiB pieces), so "wslab / zlib" is what
// that framing costs. Both sides run with the same settings: raw DEFLATE,
// level 6, a 15-bit window, memLevel 8, the default strategy, context
// takeover (one compressor per direction for the whole run, as on a
// connection that agreed "permessage-deflate" with no parameters).
//
// Two kinds of message: text-like (JSON records, which compress well) and
// random bytes (which do not: DEFLATE falls back to stored blocks), at 128 B,
// 4 KiB, 64 KiB and 1 MiB, each a different window of a 4 MiB data set so
// the compressor cannot simply refer to the previous message. "ratio" is
// compressed / original size (lower is better); "no ctx" is the same without
// context takeover (each message compressed from an empty window), which is
// what small messages lose when client_no_context_takeover or
// server_no_context_takeover is agreed.
//
// Each figure is the median of 7 timed runs after a warm-up. Every run checks
// its work: wslab's compressed bytes must equal zlib's (same library, same
// settings, same stream), and both inflaters must give back every message;
// the program exits with 1 if not.
//
// Build and run with the release preset:
//   cmake --preset release && cmake --build --preset release --target bench_deflate
//   build/release/tests/bench/bench_deflate
#include <wslab/extensions.hpp>

#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
namespace ext = wslab::extensions;

constexpr int kRuns = 7;
constexpr std::size_t kDataSize = 4u << 20;

// --- The data -------------------------------------------------------------------

std::string json_data() {
  std::mt19937 g(7692);
  auto pick = [&g](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(g); };
  static const char* words[] = {"socket",  "frame",    "message",   "deflate", "window",     "context", "server",
                                "client",  "payload",  "octet",     "mask",    "close",      "ping",    "pong",
                                "extension", "handshake", "offer", "response", "compressed", "takeover"};
  std::string s;
  s.reserve(kDataSize + 256);
  for (int i = 0; s.size() < kDataSize; ++i)
    s += "{\"id\":" + std::to_string(i) + ",\"user\":\"" + words[pick(20)] + "_" + std::to_string(pick(5000)) +
         "\",\"text\":\"" + words[pick(20)] + " " + words[pick(20)] + " " + words[pick(20)] +
         "\",\"score\":" + std::to_string(pick(100000)) + ",\"ok\":" + (pick(2) ? "true" : "false") + "}\n";
  s.resize(kDataSize);
  return s;
}

std::string incompressible_data() {
  std::mt19937_64 g(6455);
  std::string s(kDataSize, '\0');
  for (std::size_t i = 0; i + 8 <= s.size(); i += 8) {
    const std::uint64_t v = g();
    for (int b = 0; b < 8; ++b) s[i + static_cast<std::size_t>(b)] = static_cast<char>(v >> (8 * b));
  }
  return s;
}

// --- zlib, called directly (the floor) ----------------------------------------------

class ZDeflate {
 public:
  explicit ZDeflate(bool no_context_takeover) : reset_(no_context_takeover) {
    if (deflateInit2(&z_, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2");
  }
  ~ZDeflate() { deflateEnd(&z_); }
  ZDeflate(const ZDeflate&) = delete;
  ZDeflate& operator=(const ZDeflate&) = delete;

  // RFC 7692 §7.2.1: DEFLATE, sync flush, drop 00 00 ff ff.
  void compress(std::string_view in, std::string& out) {
    if (reset_) deflateReset(&z_);
    out.resize(deflateBound(&z_, in.size()) + 16);
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    z_.next_out = reinterpret_cast<Bytef*>(out.data());
    z_.avail_out = static_cast<uInt>(out.size());
    if (deflate(&z_, Z_SYNC_FLUSH) != Z_OK || z_.avail_in != 0) throw std::runtime_error("deflate");
    out.resize(out.size() - z_.avail_out - 4);
  }

 private:
  z_stream z_{};
  bool reset_;
};

class ZInflate {
 public:
  ZInflate() {
    if (inflateInit2(&z_, -15) != Z_OK) throw std::runtime_error("inflateInit2");
  }
  ~ZInflate() { inflateEnd(&z_); }
  ZInflate(const ZInflate&) = delete;
  ZInflate& operator=(const ZInflate&) = delete;

  // RFC 7692 §7.2.2: append 00 00 ff ff, inflate (into 16 KiB pieces appended
  // to a new string, as wslab hands on its output and a receiver delivers a
  // message of its own).
  std::string inflate_message(std::string_view data) {
    static const unsigned char tail[4] = {0x00, 0x00, 0xff, 0xff};
    std::string out;
    run(reinterpret_cast<const Bytef*>(data.data()), data.size(), out);
    run(tail, 4, out);
    return out;
  }

 private:
  void run(const Bytef* in, std::size_t size, std::string& out) {
    z_.next_in = const_cast<Bytef*>(in);
    z_.avail_in = static_cast<uInt>(size);
    unsigned char buffer[16 * 1024];
    do {
      z_.next_out = buffer;
      z_.avail_out = sizeof buffer;
      const int rc = inflate(&z_, Z_SYNC_FLUSH);
      if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("inflate");
      out.append(reinterpret_cast<const char*>(buffer), sizeof buffer - z_.avail_out);
    } while (z_.avail_out == 0);
  }
  z_stream z_{};
};

// --- Timing ------------------------------------------------------------------------

// The median of kRuns runs of `run` (after one warm-up), in seconds.
double median_seconds(const std::function<void()>& run) {
  run();
  std::vector<double> t;
  for (int i = 0; i < kRuns; ++i) {
    const auto start = Clock::now();
    run();
    t.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

double mib_per_s(std::size_t bytes, double seconds) { return static_cast<double>(bytes) / seconds / (1 << 20); }

std::string size_name(std::size_t n) {
  return n >= (1u << 20) ? std::to_string(n >> 20) + " MiB" : n >= 1024 ? std::to_string(n >> 10) + " KiB"
                                                                       : std::to_string(n) + " B";
}

bool run(const char* kind, const std::string& data, std::size_t size) {
  // About 8 MiB of messages per run (at least 16 messages), consecutive windows of the data set.
  const std::size_t count = std::max<std::size_t>(16, (8u << 20) / size);
  std::vector<std::string_view> messages;
  for (std::size_t i = 0, at = 0; i < count; ++i, at = (at + size) % (data.size() - size))
    messages.push_back(std::string_view(data).substr(at, size));
  const std::size_t total = count * size;

  // One pass each, untimed: the compressed streams (context taken over from
  // message to message), checked against each other and inflated back.
  std::vector<std::string> wslab_out(count), zlib_out(count);
  {
    ext::Deflater d(15, false, 6, 8);
    ZDeflate z(false);
    for (std::size_t i = 0; i < count; ++i) {
      wslab_out[i] = d.compress(messages[i]);
      z.compress(messages[i], zlib_out[i]);
    }
  }
  bool ok = wslab_out == zlib_out;
  std::size_t compressed = 0, compressed_fresh = 0;
  for (const auto& m : zlib_out) compressed += m.size();
  {
    ZDeflate fresh(true);
    std::string out;
    for (auto m : messages) {
      fresh.compress(m, out);
      compressed_fresh += out.size();
    }
  }
  {
    ext::Inflater wi(15, false, std::uint64_t{1} << 30);
    ZInflate zi;
    for (std::size_t i = 0; i < count && ok; ++i) {
      auto r = wi.inflate_message({reinterpret_cast<const std::uint8_t*>(zlib_out[i].data()), zlib_out[i].size()});
      ok = r && *r == messages[i] && zi.inflate_message(zlib_out[i]) == messages[i];
    }
  }

  // Timed: each run starts a fresh stream and goes through every message.
  std::string sink;
  std::size_t checksum = 0;
  const double wslab_deflate = median_seconds([&] {
    ext::Deflater d(15, false, 6, 8);
    for (auto m : messages) checksum += d.compress(m).size();
  });
  const double zlib_deflate = median_seconds([&] {
    ZDeflate z(false);
    for (auto m : messages) {
      z.compress(m, sink);
      checksum += sink.size();
    }
  });
  const double wslab_inflate = median_seconds([&] {
    ext::Inflater wi(15, false, std::uint64_t{1} << 30);
    for (const auto& c : zlib_out) {
      auto r = wi.inflate_message({reinterpret_cast<const std::uint8_t*>(c.data()), c.size()});
      checksum += r ? r->size() : 0;
    }
  });
  const double zlib_inflate = median_seconds([&] {
    ZInflate zi;
    for (const auto& c : zlib_out) checksum += zi.inflate_message(c).size();
  });

  const double dw = mib_per_s(total, wslab_deflate), dz = mib_per_s(total, zlib_deflate);
  const double iw = mib_per_s(total, wslab_inflate), iz = mib_per_s(total, zlib_inflate);
  std::printf("%-7s %7s %6zu  %6.3f  %6.3f  %9.1f %9.1f %6.2f  %9.1f %9.1f %6.2f%s\n", kind, size_name(size).c_str(),
              count, static_cast<double>(compressed) / static_cast<double>(total),
              static_cast<double>(compressed_fresh) / static_cast<double>(total), dw, dz, dw / dz, iw, iz, iw / iz,
              ok ? "" : "  CHECK FAILED");
  if (checksum == 0) std::printf("(nothing was compressed)\n");
  return ok;
}

}  // namespace

int main() {
  const std::string text = json_data();
  const std::string random = incompressible_data();
  std::printf("permessage-deflate: wslab (extensions::Deflater / Inflater) against zlib direct, same settings\n");
  std::printf("(raw DEFLATE, level 6, 15-bit window, memLevel 8, context takeover); MiB/s of uncompressed data,\n");
  std::printf("median of %d runs; ratio = compressed / original\n\n", kRuns);
  std::printf("%-7s %7s %6s  %6s  %6s  %9s %9s %6s  %9s %9s %6s\n", "data", "size", "msgs", "ratio", "no ctx",
              "deflate", "zlib", "w/z", "inflate", "zlib", "w/z");
  bool ok = true;
  for (std::size_t size : {std::size_t{128}, std::size_t{4} << 10, std::size_t{64} << 10, std::size_t{1} << 20}) {
    ok = run("text", text, size) && ok;
    ok = run("random", random, size) && ok;
  }
  return ok ? 0 : 1;
}
