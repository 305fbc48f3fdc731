// Chapter 7, part 2: the payload transformation (RFC 7692 §6, §7.2) with
// zlib's raw DEFLATE. EXERCISE: lessons/07-extensions. Yours to write here:
// Deflater::compress (the §7.2.1 steps), Inflater::inflate, run and finish
// (§7.2.2 and the size limit), and PerMessageDeflate's rules (§6: which
// side uses which parameters, RSV1 on received frames). Given: zlib itself,
// wrapped (deflate_into, inflate_some, between_blocks), the streams'
// set-up and clean-up, restart_after_final_block, inflate_message. Build and
// check with
//   cmake --preset learner -DWSLAB_LEARNER=extensions
//   cmake --build build/learner --target check_extensions
//
//   send:    message ──deflate, Z_SYNC_FLUSH──► ... 00 00 ff ff ──remove──► payload, RSV1 on the first frame
//   receive: payload ──append 00 00 ff ff──► inflate ──► message (the limit and UTF-8 see these bytes)
//
// Raw DEFLATE: zlib is set up with a negative windowBits, so it writes and
// reads bare RFC 1951 blocks, with no zlib header or checksum around them.
#include "wslab/extensions.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <utility>

namespace wslab::extensions {

namespace {

// zlib counts sizes in uInt (32 bits): a larger piece goes in slices.
constexpr std::size_t kMaxSlice = std::size_t{1} << 30;

// zlib's raw deflate cannot compress with a 256-byte window: deflateInit2
// refuses windowBits -8. A 9-bit window is safe to send to a peer that
// allowed only 8: zlib never looks further back than the window size minus
// 262 bytes, here 512 - 262 = 250 < 256. (Inflating with 8 is fine.)
int deflate_window_bits(int agreed) { return std::max(agreed, 9); }

// The allocator zlib is given for an Inflater: it counts, so that what one
// message cost is known (Inflater::peak_memory()). Each block carries its
// size in front of it.
constexpr std::size_t kHeader = alignof(std::max_align_t);

voidpf counting_alloc(voidpf opaque, uInt items, uInt size) {
  const std::size_t n = static_cast<std::size_t>(items) * size;
  auto* block = static_cast<unsigned char*>(::operator new(n + kHeader, std::nothrow));
  if (!block) return Z_NULL;
  std::memcpy(block, &n, sizeof n);
  auto* memory = static_cast<ZlibMemory*>(opaque);
  memory->current += n;
  memory->peak = std::max(memory->peak, memory->current);
  return block + kHeader;
}

void counting_free(voidpf opaque, voidpf address) {
  if (!address) return;
  auto* block = static_cast<unsigned char*>(address) - kHeader;
  std::size_t n = 0;
  std::memcpy(&n, block, sizeof n);
  static_cast<ZlibMemory*>(opaque)->current -= n;
  ::operator delete(block);
}

Bytef* bytes(const void* p) { return static_cast<Bytef*>(const_cast<void*>(p)); }  // zlib's API is not const

// Given: compresses `piece` with zlib and appends what zlib writes to `out`.
// With flush = Z_SYNC_FLUSH, zlib ends the output on an octet boundary with
// an empty block with no compression, whose last 4 octets are always
// 00 00 ff ff (kTail): everything so far can then be inflated at once.
// (An empty piece right after a flush produces no output at all.) The LZ77
// window stays in `z` for the next call: context takeover is simply calling
// again with the same stream.
[[maybe_unused]] void deflate_into(z_stream& z, std::string_view piece, int flush, std::string& out) {
  const std::size_t start = out.size();
  std::size_t used = start;
  out.resize(start + deflateBound(&z, static_cast<uLong>(std::min(piece.size(), kMaxSlice))) + 16);
  std::size_t offset = 0;
  do {
    const std::size_t slice = std::min(piece.size() - offset, kMaxSlice);
    z.next_in = bytes(piece.data() + offset);
    z.avail_in = static_cast<uInt>(slice);
    offset += slice;
    const int mode = offset == piece.size() ? flush : Z_NO_FLUSH;
    for (;;) {
      if (out.size() == used) out.resize(out.size() + std::max<std::size_t>(1024, (out.size() - start) / 2));
      const std::size_t room = std::min(out.size() - used, kMaxSlice);
      z.next_out = bytes(out.data() + used);
      z.avail_out = static_cast<uInt>(room);
      const int rc = deflate(&z, mode);
      used += room - z.avail_out;
      if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("zlib deflate failed");
      if (z.avail_out != 0 && z.avail_in == 0) break;  // all taken, and flushed
    }
  } while (offset < piece.size());
  out.resize(used);
}

// Given: one call of zlib's inflate. Reads from z.next_in / z.avail_in (set
// them first: they move on as zlib reads), writes at most `want` octets to
// `out`. Returns zlib's code and how many octets it wrote:
//   Z_OK          progress was made;
//   Z_STREAM_END  a block with BFINAL set has ended the data (§7.2.3.4);
//   Z_BUF_ERROR   no progress was possible (no input left, or no room);
//   Z_DATA_ERROR  not DEFLATE data (z.msg says why), and for raw DEFLATE
//                 Z_NEED_DICT and Z_STREAM_ERROR mean the same;
//   Z_MEM_ERROR   out of memory.
struct Inflated {
  int rc = Z_OK;
  std::size_t produced = 0;
};

[[maybe_unused]] Inflated inflate_some(z_stream& z, std::uint8_t* out, std::size_t want) {
  z.next_out = out;
  z.avail_out = static_cast<uInt>(want);
  const int rc = ::inflate(&z, Z_SYNC_FLUSH);
  return {rc, want - z.avail_out};
}

// Given: whether the data inflated so far ends exactly where a DEFLATE block
// ends (zlib's data_type bit 128). A sender's payload with 00 00 ff ff
// appended always does; if not, the message was cut short or is not DEFLATE.
[[maybe_unused]] bool between_blocks(const z_stream& z) { return (z.data_type & 128) != 0; }

// Given: zlib's reason for a Z_DATA_ERROR, for the violation's detail.
[[maybe_unused]] std::string zlib_reason(const z_stream& z, int rc) {
  return z.msg ? z.msg : "zlib error " + std::to_string(rc);
}

}  // namespace

// --- Deflater (§7.2.1) -------------------------------------------------------------

struct Deflater::Stream {
  z_stream z{};
  ~Stream() { deflateEnd(&z); }
};

Deflater::Deflater(int window_bits, bool no_context_takeover, int level, int mem_level)
    : window_bits_(window_bits), no_context_takeover_(no_context_takeover), level_(level), mem_level_(mem_level) {
  if (window_bits < kMinWindowBits || window_bits > kMaxWindowBits)
    throw std::invalid_argument("Deflater: window bits " + std::to_string(window_bits) + " is not from 8 to 15");
  if (level < 0 || level > 9) throw std::invalid_argument("Deflater: level is not from 0 to 9");
  if (mem_level < 1 || mem_level > 9) throw std::invalid_argument("Deflater: mem_level is not from 1 to 9");
}

Deflater::~Deflater() = default;
Deflater::Deflater(Deflater&&) noexcept = default;
Deflater& Deflater::operator=(Deflater&&) noexcept = default;

// Given: a fresh compressor with an empty window (z_), and freeing it.
void Deflater::open() {
  auto s = std::make_unique<Stream>();
  if (deflateInit2(&s->z, level_, Z_DEFLATED, -deflate_window_bits(window_bits_), mem_level_,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::bad_alloc();
  z_ = std::move(s);
}

void Deflater::close() { z_.reset(); }

std::string Deflater::compress(std::string_view message) {
  std::string out;
  compress(message, true, out);
  return out;
}

void Deflater::compress(std::string_view piece, bool last, std::string& out) {
  // Exercise (step 6): §7.2.1, "Compression":
  //   1. "Compress all the octets of the payload of the message using
  //      DEFLATE": open() the stream if there is none (z_), then
  //      deflate_into(z_->z, piece, Z_SYNC_FLUSH, out). Every piece ends with
  //      a sync flush, so that a fragment can be sent at once.
  //   2. "If the resulting data does not end with an empty DEFLATE block
  //      with no compression (the "BTYPE" bits are set to 00), append an
  //      empty DEFLATE block with no compression to the tail end": the sync
  //      flush did that.
  //   3. Only when `last` ends the message: "Remove 4 octets (that are 0x00
  //      0x00 0xff 0xff) from the tail end" (kTail) of what this call added.
  // An empty result then becomes the single octet 0x00 (§7.2.3.6). Without
  // context takeover (no_context_takeover_), close() the stream after the
  // message: the next one starts with an empty window (§7.1.1).
  (void)piece;
  (void)last;
  (void)out;
  throw std::logic_error(
      "exercise: Deflater::compress is yours to write (lessons/07-extensions/exercise/HINTS.md)");
}

// --- Inflater (§7.2.2) --------------------------------------------------------------

struct Inflater::Stream {
  z_stream z{};
  std::array<std::uint8_t, kOutputChunk> out{};
  ~Stream() { inflateEnd(&z); }
};

Inflater::Inflater(int window_bits, bool no_context_takeover, std::uint64_t max_message_size)
    : window_bits_(window_bits),
      no_context_takeover_(no_context_takeover),
      max_message_size_(max_message_size),
      memory_(std::make_unique<ZlibMemory>()) {
  if (window_bits < kMinWindowBits || window_bits > kMaxWindowBits)
    throw std::invalid_argument("Inflater: window bits " + std::to_string(window_bits) + " is not from 8 to 15");
}

Inflater::~Inflater() { close(); }
Inflater::Inflater(Inflater&&) noexcept = default;
Inflater& Inflater::operator=(Inflater&& other) noexcept {
  if (this != &other) {
    close();
    window_bits_ = other.window_bits_;
    no_context_takeover_ = other.no_context_takeover_;
    max_message_size_ = other.max_message_size_;
    message_size_ = other.message_size_;
    message_finished_ = other.message_finished_;
    stream_ended_ = other.stream_ended_;
    memory_ = std::move(other.memory_);
    z_ = std::move(other.z_);
  }
  return *this;
}

// Given: a fresh inflater with an empty window (z_, with its output buffer
// z_->out of kOutputChunk octets), and freeing it.
void Inflater::open() {
  memory_->current += sizeof(Stream);  // the output buffer lives in it
  memory_->peak = std::max(memory_->peak, memory_->current);
  auto s = std::make_unique<Stream>();
  s->z.zalloc = counting_alloc;
  s->z.zfree = counting_free;
  s->z.opaque = memory_.get();
  if (inflateInit2(&s->z, -window_bits_) != Z_OK) {
    memory_->current -= sizeof(Stream);
    throw std::bad_alloc();
  }
  z_ = std::move(s);
  stream_ended_ = false;
}

void Inflater::close() {
  if (!z_) return;
  z_.reset();  // inflateEnd frees through counting_free
  memory_->current -= sizeof(Stream);
}

std::size_t Inflater::peak_memory() const { return memory_ ? memory_->peak : 0; }

MaybeViolation Inflater::inflate(std::span<const std::uint8_t> chunk, const Sink& sink) {
  // Exercise (step 7): the next chunk of a compressed message. If the last
  // message was finished (message_finished_), this chunk starts a new one:
  // message_size_ counts from 0 again. open() the stream if there is none,
  // and run() the chunk through it (in slices of at most kMaxSlice octets).
  (void)chunk;
  (void)sink;
  throw std::logic_error("exercise: Inflater::inflate is yours to write (lessons/07-extensions/exercise/HINTS.md)");
}

// Given. §7.2.3.4: a sender may end its data with a block whose BFINAL bit is
// set. zlib then calls the stream finished (Z_STREAM_END); what follows
// starts a new stream, which keeps the window if context takeover is in use.
void Inflater::restart_after_final_block() {
  z_stream& z = z_->z;
  if (no_context_takeover_) {
    inflateReset(&z);
    return;
  }
  std::vector<Bytef> window(std::size_t{1} << kMaxWindowBits);
  uInt length = static_cast<uInt>(window.size());
  inflateGetDictionary(&z, window.data(), &length);
  inflateReset(&z);
  inflateSetDictionary(&z, window.data(), length);
}

MaybeViolation Inflater::run(const std::uint8_t* data, std::size_t size, const Sink& sink) {
  // Exercise (step 8): inflate `size` octets at `data` (z_->z.next_in,
  // z_->z.avail_in; if size > 0, stream_ended_ = false), handing every piece
  // of output to `sink` as it comes. A loop, each turn one inflate_some()
  // into z_->out:
  //   - the limit (PMD-7, RFC 6455 §10.4): room = max_message_size_ -
  //     message_size_; ask zlib for at most room + 1 octets (and at most
  //     kOutputChunk). One octet past the limit is enough to know the message
  //     is too big: error::inflated_too_big. A bomb then costs one buffer,
  //     never its inflated size;
  //   - Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR: error::bad_compressed_data
  //     (zlib_reason(z, rc) says why); Z_MEM_ERROR: throw std::bad_alloc;
  //   - output: message_size_ += produced, and sink() it (a violation the
  //     sink returns stops inflating: return it);
  //   - Z_STREAM_END: restart_after_final_block(); if no input is left,
  //     stream_ended_ = true and stop, else go on;
  //   - stop when zlib has taken all the input and did not fill the room it
  //     had (z.avail_in == 0 && z.avail_out != 0); a turn that neither
  //     produced nor consumed anything while input is left is bad data.
  (void)data;
  (void)size;
  (void)sink;
  throw std::logic_error("exercise: Inflater::run is yours to write (lessons/07-extensions/exercise/HINTS.md)");
}

MaybeViolation Inflater::finish(const Sink& sink) {
  // Exercise (step 9): §7.2.2, "Decompression": "Append 4 octets of 0x00
  // 0x00 0xff 0xff to the tail end of the payload of the message" and
  // inflate them (run), unless the data just ended with a BFINAL block
  // (stream_ended_): then there is nothing to finish. The data must now end
  // between blocks (between_blocks), else error::bad_compressed_data (a
  // truncated message, or not DEFLATE). Then message_finished_ = true; close()
  // the stream without context takeover (§7.1.1: each message is inflated
  // with an empty window) or after an error. A message whose payload was
  // empty calls finish() without any inflate(): start it as inflate() does.
  (void)sink;
  throw std::logic_error("exercise: Inflater::finish is yours to write (lessons/07-extensions/exercise/HINTS.md)");
}

Result<std::string> Inflater::inflate_message(std::span<const std::uint8_t> payload) {
  std::string out;
  const Sink sink = [&out](std::span<const std::uint8_t> piece) -> MaybeViolation {
    out.append(reinterpret_cast<const char*>(piece.data()), piece.size());
    return std::nullopt;
  };
  if (auto v = inflate(payload, sink)) {
    finish([](std::span<const std::uint8_t>) -> MaybeViolation { return std::nullopt; });
    return *v;
  }
  if (auto v = finish(sink)) return *v;
  return out;
}

// --- PerMessageDeflate (§6) ------------------------------------------------------------

namespace {

// Exercise (step 5): which of the agreement's parameters apply to which
// direction. The server_ parameters are about what the server sends (and the
// client receives), the client_ parameters about what the client sends.
// own_*: this endpoint's compressor; peer_*: its inflater.
int own_bits(Role role, const Agreement& a) {
  (void)role;
  (void)a;
  throw std::logic_error("exercise: own_bits is yours to write (lessons/07-extensions/exercise/HINTS.md)");
}
int peer_bits(Role role, const Agreement& a) {
  (void)role;
  (void)a;
  throw std::logic_error("exercise: peer_bits is yours to write (lessons/07-extensions/exercise/HINTS.md)");
}
bool own_no_takeover(Role role, const Agreement& a) {
  (void)role;
  (void)a;
  throw std::logic_error("exercise: own_no_takeover is yours to write (lessons/07-extensions/exercise/HINTS.md)");
}
bool peer_no_takeover(Role role, const Agreement& a) {
  (void)role;
  (void)a;
  throw std::logic_error("exercise: peer_no_takeover is yours to write (lessons/07-extensions/exercise/HINTS.md)");
}

}  // namespace

PerMessageDeflate::PerMessageDeflate(Role role, const Agreement& agreement, std::uint64_t max_message_size,
                                     int level, int mem_level)
    : role_(role),
      agreement_(agreement),
      deflater_(own_bits(role, agreement), own_no_takeover(role, agreement), level, mem_level),
      inflater_(peer_bits(role, agreement), peer_no_takeover(role, agreement), max_message_size) {}

MaybeViolation PerMessageDeflate::on_header(const framing::FrameHeader& h) {
  // Exercise (step 10): every received frame's header, in order. §6: "An
  // endpoint MUST NOT set the "Per-Message Compressed" bit of control frames
  // and non-first fragments of a data message. An endpoint receiving such a
  // frame MUST _Fail the WebSocket Connection_": RSV1 on a control frame is
  // error::compressed_control_frame, on a continuation frame
  // error::compressed_continuation. §6.2: the first frame's RSV1 says
  // whether the whole message is compressed. Keep, for the frame:
  // frame_is_control_, frame_fin_, frame_compressed_ (its payload goes
  // through the inflater); for the message: message_compressed_, and
  // compressed_size_ (the payload lengths of its frames, counted from 0 at
  // its first frame). A control frame between fragments changes nothing
  // about the message.
  (void)h;
  throw std::logic_error(
      "exercise: PerMessageDeflate::on_header is yours to write (lessons/07-extensions/exercise/HINTS.md)");
}

MaybeViolation PerMessageDeflate::inflate(std::span<const std::uint8_t> chunk, const Inflater::Sink& sink) {
  return inflater_.inflate(chunk, sink);
}

MaybeViolation PerMessageDeflate::on_frame_end(const Inflater::Sink& sink) {
  // Exercise (step 11): the current frame ended. If it ends a compressed
  // message (a data frame with FIN while message_compressed_), the message is
  // complete: message_compressed_ = false, and finish inflating it.
  // Otherwise nothing happens.
  (void)sink;
  throw std::logic_error(
      "exercise: PerMessageDeflate::on_frame_end is yours to write (lessons/07-extensions/exercise/HINTS.md)");
}

}  // namespace wslab::extensions
