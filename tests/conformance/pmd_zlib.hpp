// permessage-deflate (RFC 7692) for the conformance suite's two test peers,
// groups 12 and 13 of the public suite's layout, both roles: the raw client
// (server/raw_peer.hpp) and the hostile server (client/hostile_server.hpp).
//
// Everything here is written out again, independently of wslab's extensions
// chapter, so that a bug in the product cannot cancel itself out: zlib is
// called directly (raw DEFLATE, a sync flush, the 00 00 ff ff tail removed
// and added back, §7.2.1 and §7.2.2), the Sec-WebSocket-Extensions value is
// read by its own small parser, and what an offer and a response agree on
// (§7.1) is worked out from the RFC's text, not from src/extensions.
//
// And the data: five deterministic data sets standing in for Autobahn's
// five files (JSON, HTML, German prose, a bitmap, a PDF), cut into messages
// the way Autobahn's 12.x/13.x cases cut its files, plus payloads made to
// catch a peer that ignores an agreed window size.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wslab::conformance::pmd {

// --- Sec-WebSocket-Extensions, read here (RFC 6455 §9.1) ----------------------------

struct Param {
  std::string name;
  std::optional<std::string> value;
};
struct Element {
  std::string name;
  std::vector<Param> params;
};

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The elements of a header value: "a; p; q=1, b" -> {a [p, q=1]}, {b}.
// Quoted values (§9.1 allows a quoted-string) come unquoted. Lenient: it
// reads what a correct peer writes; the checks are in agree().
inline std::vector<Element> parse_extensions(std::string_view value) {
  std::vector<Element> out;
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view element = value.substr(start, comma - start);
    start = comma + 1;
    if (trim(element).empty()) continue;
    Element e;
    std::size_t at = 0;
    bool first = true;
    while (at <= element.size()) {
      std::size_t semi = element.find(';', at);
      if (semi == std::string_view::npos) semi = element.size();
      const std::string_view part = trim(element.substr(at, semi - at));
      at = semi + 1;
      if (first) {
        e.name = std::string(part);
        first = false;
        continue;
      }
      const std::size_t eq = part.find('=');
      Param p{std::string(trim(part.substr(0, eq))), std::nullopt};
      if (eq != std::string_view::npos) {
        std::string_view v = trim(part.substr(eq + 1));
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        p.value = std::string(v);
      }
      e.params.push_back(std::move(p));
    }
    out.push_back(std::move(e));
  }
  return out;
}

// --- What an offer and its response agree on (RFC 7692 §7.1) -------------------------

inline constexpr int kMaxWindowBits = 15;

struct Agreement {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = kMaxWindowBits;
  int client_max_window_bits = kMaxWindowBits;
};

// §7.1.2.1/§7.1.2.2: "a decimal integer value without leading zeroes
// between 8 to 15, inclusive".
inline std::optional<int> window_bits(const std::optional<std::string>& v) {
  if (!v) return std::nullopt;
  if (*v == "8" || *v == "9") return (*v)[0] - '0';
  if (v->size() == 2 && (*v)[0] == '1' && (*v)[1] >= '0' && (*v)[1] <= '5') return 10 + ((*v)[1] - '0');
  return std::nullopt;
}

// The four parameters of one element, each at most once: nullopt and
// `problem` set if the element breaks §7.1 (an unknown or repeated
// parameter, an invalid value; in a response, client_max_window_bits
// without a value).
struct Read {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  std::optional<int> server_max_window_bits{};
  bool client_max_window_bits = false;
  std::optional<int> client_max_window_bits_value{};
};

inline std::optional<Read> read_element(const Element& e, bool response, std::string& problem) {
  Read r;
  std::vector<std::string> seen;
  for (const Param& p : e.params) {
    if (std::find(seen.begin(), seen.end(), p.name) != seen.end()) {
      problem = p.name + " twice (RFC 7692 §7)";
      return std::nullopt;
    }
    seen.push_back(p.name);
    if (p.name == "server_no_context_takeover" || p.name == "client_no_context_takeover") {
      if (p.value) {
        problem = p.name + " with a value (RFC 7692 §7.1.1)";
        return std::nullopt;
      }
      (p.name[0] == 's' ? r.server_no_context_takeover : r.client_no_context_takeover) = true;
    } else if (p.name == "server_max_window_bits") {
      r.server_max_window_bits = window_bits(p.value);
      if (!r.server_max_window_bits) {
        problem = "server_max_window_bits=" + p.value.value_or("(none)") + " (RFC 7692 §7.1.2.1)";
        return std::nullopt;
      }
    } else if (p.name == "client_max_window_bits") {
      r.client_max_window_bits = true;
      if (p.value || response) {
        r.client_max_window_bits_value = window_bits(p.value);
        if (!r.client_max_window_bits_value) {
          problem = "client_max_window_bits=" + p.value.value_or("(none)") + " (RFC 7692 §7.1.2.2)";
          return std::nullopt;
        }
      }
    } else {
      problem = "unknown parameter " + p.name + " (RFC 7692 §7)";
      return std::nullopt;
    }
  }
  return r;
}

// A response to an offer: the agreement, or why the client "MUST _Fail the
// WebSocket Connection_" (§7, §7.1.1.1, §7.1.2.1, §7.1.2.2).
struct Verdict {
  std::optional<Agreement> agreement;
  std::string problem;
};

inline Verdict agree(const Element& offer, const Element& response) {
  Verdict v;
  if (response.name != "permessage-deflate" || offer.name != "permessage-deflate") {
    v.problem = "not permessage-deflate";
    return v;
  }
  const auto o = read_element(offer, false, v.problem);
  if (!o) return v;
  const auto r = read_element(response, true, v.problem);
  if (!r) return v;
  Agreement a;
  // §7.1.1.1: "A server accepts an extension negotiation offer that includes
  // the server_no_context_takeover extension parameter by including the
  // server_no_context_takeover extension parameter in the corresponding
  // extension negotiation response"; it may add it unasked.
  if (o->server_no_context_takeover && !r->server_no_context_takeover) {
    v.problem = "server_no_context_takeover offered, not in the response (RFC 7692 §7.1.1.1)";
    return v;
  }
  a.server_no_context_takeover = r->server_no_context_takeover;
  // §7.1.1.2: offered, it is the client's promise not to take over, answered or not.
  a.client_no_context_takeover = o->client_no_context_takeover || r->client_no_context_takeover;
  // §7.1.2.1: offered with N, the response has it "with the same or smaller value".
  if (o->server_max_window_bits &&
      (!r->server_max_window_bits || *r->server_max_window_bits > *o->server_max_window_bits)) {
    v.problem = "server_max_window_bits offered as " + std::to_string(*o->server_max_window_bits) +
                ", answered larger or not at all (RFC 7692 §7.1.2.1)";
    return v;
  }
  a.server_max_window_bits = r->server_max_window_bits.value_or(kMaxWindowBits);
  // §7.1.2.2: "A server MUST NOT include the client_max_window_bits extension
  // parameter in an extension negotiation response if the extension
  // negotiation offer being accepted by the response doesn't include" it;
  // an offered value is the client's own limit, which a response may lower.
  if (r->client_max_window_bits && !o->client_max_window_bits) {
    v.problem = "client_max_window_bits in the response, not offered (RFC 7692 §7.1.2.2)";
    return v;
  }
  if (r->client_max_window_bits && o->client_max_window_bits_value &&
      *r->client_max_window_bits_value > *o->client_max_window_bits_value) {
    v.problem = "client_max_window_bits answered larger than offered (RFC 7692 §7.1.2.2)";
    return v;
  }
  a.client_max_window_bits =
      r->client_max_window_bits_value.value_or(o->client_max_window_bits_value.value_or(kMaxWindowBits));
  v.agreement = a;
  return v;
}

// --- DEFLATE, with zlib (RFC 7692 §7.2) ---------------------------------------------------

inline constexpr std::string_view kTail{"\x00\x00\xff\xff", 4};

// zlib refuses raw deflate with an 8-bit window (deflateInit2 returns
// Z_STREAM_ERROR for windowBits -8 since 1.2.9) and uses a 9-bit one for a
// zlib stream; its matches reach back at most the window minus 262 bytes
// (MAX_DIST), 250 with 9 bits: within the 256 bytes a peer allowed.
inline int zlib_deflate_bits(int agreed) { return agreed < 9 ? 9 : agreed; }

// §7.2.1: "Compress all the octets of the payload of the message using
// DEFLATE", end with an empty stored block (zlib's Z_SYNC_FLUSH), "Remove
// 4 octets (that are 0x00 0x00 0xff 0xff) from the tail end." With context
// takeover the LZ77 window carries over to the next message; without
// (no_context_takeover), each message starts empty (§7.1.1).
class Deflater {
 public:
  explicit Deflater(int window_bits = kMaxWindowBits, bool no_context_takeover = false,
                    int level = Z_DEFAULT_COMPRESSION)
      : no_context_takeover_(no_context_takeover) {
    if (deflateInit2(&z_, level, Z_DEFLATED, -zlib_deflate_bits(window_bits), 8, Z_DEFAULT_STRATEGY) != Z_OK)
      throw std::runtime_error("deflateInit2 failed");
  }
  ~Deflater() { deflateEnd(&z_); }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // One message's payload (RSV1 goes on its first frame).
  std::string message(std::string_view data) { return message_in_pieces(data, data.size() + 1); }

  // The same message compressed in pieces of `piece` octets, each ending
  // with a sync flush, as a streaming sender sends the fragments of a
  // message it does not have whole: the concatenation is one message's data.
  std::string message_in_pieces(std::string_view data, std::size_t piece) {
    if (no_context_takeover_) deflateReset(&z_);
    std::string out;
    std::size_t at = 0;
    do {
      const std::size_t n = std::min(piece, data.size() - at);
      run(data.substr(at, n), out);
      at += n;
    } while (at < data.size());
    if (out.size() >= 4 && std::string_view(out).substr(out.size() - 4) == kTail) out.resize(out.size() - 4);
    if (out.empty()) out.push_back('\0');  // §7.2.3.6: an empty message's data
    return out;
  }

 private:
  void run(std::string_view in, std::string& out) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    char buffer[16384];
    do {
      z_.next_out = reinterpret_cast<Bytef*>(buffer);
      z_.avail_out = sizeof buffer;
      const int rc = deflate(&z_, Z_SYNC_FLUSH);
      if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("deflate failed");
      out.append(buffer, sizeof buffer - z_.avail_out);
    } while (z_.avail_out == 0);
  }

  z_stream z_{};
  bool no_context_takeover_;
};

// §7.2.2: "Append 4 octets of 0x00 0x00 0xff 0xff to the tail end of the
// payload of the message. Decompress the resulting data using DEFLATE."
// With the window exactly as agreed: a peer that compressed with a larger
// window than allowed reaches further back than this inflater keeps, and
// zlib reports "invalid distance too far back". Without context takeover
// (the sender's no_context_takeover), each message is inflated with an
// empty window, so a sender that takes over context fails the same way.
class Inflater {
 public:
  explicit Inflater(int window_bits = kMaxWindowBits, bool no_context_takeover = false,
                    std::size_t limit = std::size_t{64} << 20)
      : window_bits_(window_bits), no_context_takeover_(no_context_takeover), limit_(limit) {
    if (inflateInit2(&z_, -window_bits) != Z_OK) throw std::runtime_error("inflateInit2 failed");
  }
  ~Inflater() { inflateEnd(&z_); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // One message's payload, inflated; nullopt if it does not inflate (error() says why).
  std::optional<std::string> message(std::string_view payload) {
    if (no_context_takeover_ || !started_) inflateReset(&z_);
    started_ = true;
    std::string in(payload);
    in += kTail;
    std::string out;
    z_.next_in = reinterpret_cast<Bytef*>(in.data());
    z_.avail_in = static_cast<uInt>(in.size());
    char buffer[16384];
    // zlib checks a match's distance against the window only for what lies
    // before the output of the current call: within one call's output any
    // distance goes. One octet per call makes the check exact (a distance
    // over 2^window_bits always fails); only needed below 15 bits.
    const uInt chunk = window_bits_ < kMaxWindowBits ? 1 : sizeof buffer;
    bool boundary = false;
    for (;;) {
      z_.next_out = reinterpret_cast<Bytef*>(buffer);
      z_.avail_out = chunk;
      const uInt in_before = z_.avail_in;
      const int rc = inflate(&z_, Z_SYNC_FLUSH);
      out.append(buffer, chunk - z_.avail_out);
      // data_type as the last call that did something left it (a call with
      // nothing to do resets it).
      if (z_.avail_in != in_before || z_.avail_out != chunk) boundary = (z_.data_type & 128) != 0;
      if (out.size() > limit_) return fail("inflates past " + std::to_string(limit_) + " bytes");
      if (rc == Z_STREAM_END) {
        // §7.2.3.4: a block with BFINAL set; what follows starts anew,
        // with the window kept (context takeover) or not.
        if (z_.avail_in == 0) break;
        restart();
        continue;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) return fail(z_.msg ? z_.msg : "zlib error " + std::to_string(rc));
      if (z_.avail_in == 0 && z_.avail_out != 0) break;
      if (rc == Z_BUF_ERROR && z_.avail_out != 0) return fail("inflate stalled");
    }
    // The data plus the tail end where a block ends (zlib: data_type bit 128).
    if (!boundary) return fail("the data does not end on a DEFLATE block boundary");
    return out;
  }
  const std::string& error() const { return error_; }

 private:
  std::optional<std::string> fail(std::string why) {
    error_ = std::move(why);
    started_ = false;  // the next message starts afresh
    return std::nullopt;
  }
  void restart() {
    std::vector<Bytef> window(std::size_t{1} << kMaxWindowBits);
    uInt n = static_cast<uInt>(window.size());
    inflateGetDictionary(&z_, window.data(), &n);
    inflateReset(&z_);
    if (!no_context_takeover_) inflateSetDictionary(&z_, window.data(), n);
  }

  z_stream z_{};
  int window_bits_;
  bool no_context_takeover_;
  std::size_t limit_;
  bool started_ = false;
  std::string error_;
};

// True if `payload` (one message's data, tail removed) inflates with a
// window of `bits` and an empty history.
inline bool inflates_at(int bits, std::string_view payload) { return Inflater(bits).message(payload).has_value(); }

// `n` zero octets compressed as one message: a "bomb" (about 1 000 : 1).
inline std::string compressed_zeros(std::size_t n) {
  Deflater d(kMaxWindowBits, false, 9);
  const std::string mib(std::size_t{1} << 20, '\0');
  std::string out;
  // Piece by piece (one flushed piece each), so no n-byte buffer is needed.
  for (std::size_t done = 0; done < n; done += mib.size()) {
    std::string piece = d.message(std::string_view(mib).substr(0, std::min(mib.size(), n - done)));
    // message() removed the tail of each piece; between pieces it belongs back.
    if (done + mib.size() < n) piece += kTail;
    out += piece;
  }
  return out;
}

// --- The data (Autobahn 12.x / 13.x) ------------------------------------------------------

// Autobahn's five data sets are files (data1.json, data1.html, Goethe's
// Faust, lena512.bmp, a PDF); these stand in for them, made from a fixed
// seed, 256 KiB each. Text sets are ASCII only, so any window of them is
// valid UTF-8.
enum class Data { json, html, prose, bitmap, random };

inline const char* data_name(Data d) {
  switch (d) {
    case Data::json: return "JSON text";
    case Data::html: return "HTML text";
    case Data::prose: return "German prose (UTF-8, sent as binary)";
    case Data::bitmap: return "a grey-scale bitmap (binary)";
    case Data::random: return "random bytes, incompressible like a PDF's streams (binary)";
  }
  return "?";
}
inline bool is_text(Data d) { return d == Data::json || d == Data::html; }

inline const std::string& data_set(Data d) {
  static const std::array<std::string, 5> sets = [] {
    constexpr std::size_t kSize = 256 * 1024;
    std::mt19937 g(7692);
    auto pick = [&g](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(g); };
    static const char* words[] = {"socket", "frame",  "message", "deflate", "window", "context", "server",
                                  "client", "payload", "octet",  "mask",    "close",  "ping",    "pong",
                                  "extension", "handshake", "offer", "response", "compressed", "takeover"};
    std::string json = "[\n";
    for (int i = 0; json.size() < kSize; ++i)
      json += "  {\"id\": " + std::to_string(i) + ", \"name\": \"" + words[pick(20)] + "-" + words[pick(20)] +
              "\", \"score\": " + std::to_string(pick(100000)) + "." + std::to_string(pick(100)) +
              ", \"active\": " + (pick(2) ? "true" : "false") + ", \"tags\": [\"" + words[pick(20)] + "\", \"" +
              words[pick(20)] + "\"]},\n";
    std::string html = "<!DOCTYPE html>\n<html><head><title>wslab</title></head><body>\n";
    for (int i = 0; html.size() < kSize; ++i) {
      html += "<div class=\"row r" + std::to_string(i % 7) + "\"><a href=\"/" + words[pick(20)] + "/" +
              std::to_string(pick(1000)) + "\">" + words[pick(20)] + "</a> <span>";
      for (int w = 0; w < 8; ++w) html += std::string(words[pick(20)]) + " ";
      html += "</span></div>\n";
    }
    static const char* german[] = {"Habe",  "nun,",     "ach!",   "Philosophie,", "Juristerei",   "und",
                                   "Medizin,", "Und",   "leider", "auch",         "Theologie",    "Durchaus",
                                   "studiert,", "mit",  "heißem", "Bemühn.",      "Da",           "steh",
                                   "ich",    "armer",   "Tor!",   "Und",          "bin",          "so",
                                   "klug",   "als",     "wie",    "zuvor;",       "Mägde",        "Schüler"};
    std::string prose;
    while (prose.size() < kSize) {
      for (int w = 0; w < 9; ++w) prose += std::string(german[pick(30)]) + (w == 8 ? "\n" : " ");
    }
    // 512 x 512 grey levels: smooth gradients and circles, a little noise.
    std::string bitmap = "BM";
    bitmap.resize(1078, '\0');  // header and palette of a BMP
    for (int y = 0; bitmap.size() < kSize; ++y)
      for (int x = 0; x < 512; ++x) {
        const int r = ((x - 256) * (x - 256) + (y - 200) * (y - 200)) / 400;
        bitmap.push_back(static_cast<char>((x / 4 + y / 8 + (r % 32) * 3 + static_cast<int>(pick(4))) & 0xFF));
      }
    std::string random(kSize, '\0');
    for (char& c : random) c = static_cast<char>(pick(256));
    json.resize(kSize);
    html.resize(kSize);
    // Cut the prose at a character boundary (its multi-byte characters are 2 octets).
    std::size_t cut = kSize;
    while ((static_cast<unsigned char>(prose[cut]) & 0xC0) == 0x80) --cut;
    prose.resize(cut);
    bitmap.resize(kSize);
    return std::array<std::string, 5>{json, html, prose, bitmap, random};
  }();
  return sets[static_cast<std::size_t>(d)];
}

// Autobahn's sendOne(): consecutive windows of `size` octets over the data
// set, wrapping around at its end.
class Cutter {
 public:
  explicit Cutter(Data d) : data_(data_set(d)) {}
  std::string next(std::size_t size) {
    std::string out;
    while (out.size() < size) {
      const std::size_t n = std::min(size - out.size(), data_.size() - at_);
      out.append(data_, at_, n);
      at_ = (at_ + n) % data_.size();
    }
    return out;
  }

 private:
  const std::string& data_;
  std::size_t at_ = 0;
};

// A payload that exposes a window larger than 2^bits: random octets (letters
// when `text`) repeated at a distance d with 2^bits < d < 2^15 - 262, so a
// 15-bit compressor finds the repeats and one within the agreed window
// cannot. For bits = 15 there is nothing beyond: the distance is 2^14.
inline std::string far_repeats(int bits, std::size_t size, bool text, unsigned seed = 1) {
  const std::size_t d = bits >= 15 ? (std::size_t{1} << 14) : (std::size_t{1} << bits) + (std::size_t{1} << (bits - 1));
  std::mt19937 g(seed);
  std::string block(d, '\0');
  for (char& c : block)
    c = text ? static_cast<char>('a' + std::uniform_int_distribution<int>(0, 25)(g))
             : static_cast<char>(std::uniform_int_distribution<int>(0, 255)(g));
  std::string out;
  while (out.size() < size) out.append(block, 0, std::min(block.size(), size - out.size()));
  return out;
}

// What makes the checks that use far_repeats and context takeover able to
// fail. A window larger than agreed shows: a 15-bit compressor's data for
// far_repeats(bits) does not inflate at `bits` (true at once for 15, where
// nothing lies beyond). Context takeover shows: a message compressed right
// after the same message, the window kept, does not inflate from an empty
// window.
inline bool far_repeats_bite(int bits, const std::string& payload) {
  if (bits >= 15) return true;
  Deflater wide(15);
  return !inflates_at(bits, wide.message(payload));
}
inline bool takeover_bites(const std::string& message) {
  Deflater keeps(15);
  keeps.message(message);
  return !inflates_at(15, keeps.message(message));
}

// The 18 sub-cases of every 12.x and 13.x case: message size and the
// octets per frame of the compressed data (0: one frame), as Autobahn's
// MSG_SIZES; `count` is how many messages we send (Autobahn sends 1 000 of
// each; fewer here, enough to carry the window across messages).
struct SubCase {
  std::size_t size;
  std::size_t fragment;
};
inline constexpr SubCase kSubCases[18] = {
    {16, 0},        {64, 0},        {256, 0},       {1024, 0},       {4096, 0},      {8192, 0},
    {16384, 0},     {32768, 0},     {65536, 0},     {131072, 0},     {8192, 256},    {16384, 256},
    {32768, 256},   {65536, 256},   {131072, 256},  {131072, 1024},  {131072, 4096}, {131072, 32768}};

inline std::size_t message_count(std::size_t size) {
  return std::clamp<std::size_t>((128 * 1024) / size, 2, 12);
}

// The compressed data of one message as frame payloads of `fragment` octets
// (0: all in one).
inline std::vector<std::string> split(const std::string& data, std::size_t fragment) {
  if (fragment == 0 || data.size() <= fragment) return {data};
  std::vector<std::string> out;
  for (std::size_t at = 0; at < data.size(); at += fragment) out.push_back(data.substr(at, fragment));
  return out;
}

inline std::string size_name(std::size_t n) {
  return n >= 1024 && n % 1024 == 0 ? std::to_string(n / 1024) + " KiB" : std::to_string(n) + " B";
}

// RFC 7692 §7.2.3's example payloads, each "Hello" (§7.2.3.1 to §7.2.3.5).
struct Example {
  const char* section;
  std::string payload;
};
inline std::vector<Example> rfc_examples() {
  return {
      {"7.2.3.1 a compressed block", std::string("\xf2\x48\xcd\xc9\xc9\x07\x00", 7)},
      {"7.2.3.3 a block with no compression", std::string("\x00\x05\x00\xfa\xff\x48\x65\x6c\x6c\x6f\x00", 11)},
      {"7.2.3.4 a block with BFINAL set", std::string("\xf3\x48\xcd\xc9\xc9\x07\x00\x00", 8)},
      {"7.2.3.5 two blocks", std::string("\xf2\x48\x05\x00\x00\x00\xff\xff\xca\xc9\xc9\x07\x00", 13)},
  };
}

}  // namespace wslab::conformance::pmd
