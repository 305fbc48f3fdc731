// Chapter 7, part 2: the payload transformation (RFC 7692 §6, §7.2) with
// zlib's raw DEFLATE (negative windowBits: no zlib header or checksum, just
// RFC 1951 blocks, which is what §7.2 puts in a frame).
//
//   send:    message ──deflate, Z_SYNC_FLUSH──► ... 00 00 ff ff ──remove──► payload, RSV1 on the first frame
//   receive: payload ──append 00 00 ff ff──► inflate ──► message (the limit and UTF-8 see these bytes)
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
// refuses windowBits -8 (zlib before 1.2.9 silently used 9; Beast's port of
// zlib and Node.js map 8 to 9 themselves). A 9-bit window is safe to send to
// a peer that allowed only 8: zlib never looks further back than the window
// size minus MIN_LOOKAHEAD (262 bytes), here 512 - 262 = 250 < 256, so the
// stream fits the peer's 256-byte window. (Inflating with 8 is fine.)
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

bool ends_with_tail(const std::string& out, std::size_t start) {
  return out.size() - start >= kTail.size() &&
         std::memcmp(out.data() + out.size() - kTail.size(), kTail.data(), kTail.size()) == 0;
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
  if (!z_) open();
  z_stream& z = z_->z;
  const std::size_t start = out.size();
  std::size_t used = start;
  // Room for the usual case in one go (deflateBound is exact for Z_FINISH;
  // a sync flush adds the 5 bytes of an empty block); more if it runs out.
  out.resize(start + deflateBound(&z, static_cast<uLong>(std::min(piece.size(), kMaxSlice))) + 16);
  std::size_t offset = 0;
  do {
    const std::size_t slice = std::min(piece.size() - offset, kMaxSlice);
    z.next_in = bytes(piece.data() + offset);
    z.avail_in = static_cast<uInt>(slice);
    offset += slice;
    // §7.2.1: the data must end with an empty block with no compression,
    // which is what Z_SYNC_FLUSH produces; slices before the last need none.
    const int flush = offset == piece.size() ? Z_SYNC_FLUSH : Z_NO_FLUSH;
    for (;;) {
      if (out.size() == used) out.resize(out.size() + std::max<std::size_t>(1024, (out.size() - start) / 2));
      const std::size_t room = std::min(out.size() - used, kMaxSlice);
      z.next_out = bytes(out.data() + used);
      z.avail_out = static_cast<uInt>(room);
      const int rc = deflate(&z, flush);
      used += room - z.avail_out;
      // Z_BUF_ERROR: nothing to do (an empty piece right after a flush).
      if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("zlib deflate failed");
      if (z.avail_out != 0 && z.avail_in == 0) break;  // all taken, and flushed
    }
  } while (offset < piece.size());
  out.resize(used);

  if (!last) return;
  // §7.2.1 step 3: "Remove 4 octets (that are 0x00 0x00 0xff 0xff) from the
  // tail end." The receiver puts them back (§7.2.2).
  if (ends_with_tail(out, start)) out.resize(out.size() - kTail.size());
  // §7.2.3.6: with nothing to send (zlib gives no second empty block right
  // after a flush), the message's data is 0x00: an empty stored block's
  // header bits (BFINAL 0, BTYPE 00) padded to an octet.
  if (out.size() == start) out.push_back('\0');
  // §7.1.1: without context takeover the next message starts with an empty
  // window; and an idle connection holds no compressor meanwhile.
  if (no_context_takeover_) close();
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

void Inflater::open() {
  memory_->current += sizeof(Stream);  // the output buffer lives in it
  memory_->peak = std::max(memory_->peak, memory_->current);
  auto s = std::make_unique<Stream>();
  s->z.zalloc = counting_alloc;
  s->z.zfree = counting_free;
  s->z.opaque = memory_.get();
  // Raw inflate accepts windowBits -8 .. -15 (only deflate refuses 8).
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
  if (message_finished_) {  // the first chunk of the next message
    message_finished_ = false;
    message_size_ = 0;
  }
  if (!z_) open();
  for (std::size_t offset = 0; offset < chunk.size(); offset += kMaxSlice)
    if (auto v = run(chunk.data() + offset, std::min(chunk.size() - offset, kMaxSlice), sink)) return v;
  return std::nullopt;
}

// §7.2.3.4: a sender may end its data with a block whose BFINAL bit is set.
// zlib then calls the stream finished; what follows (the RFC has the sender
// add an empty stored block's header, 0x00, before our 00 00 ff ff) starts a
// new stream, which keeps the window if context takeover is in use.
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
  inflateSetDictionary(&z, window.data(), length);  // raw inflate takes one at any time
}

MaybeViolation Inflater::run(const std::uint8_t* data, std::size_t size, const Sink& sink) {
  z_stream& z = z_->z;
  z.next_in = bytes(data);
  z.avail_in = static_cast<uInt>(size);
  if (size > 0) stream_ended_ = false;
  for (;;) {
    // Never ask zlib for more than one byte past the limit: that byte is
    // enough to know the message is too big (PMD-7), and a bomb is stopped
    // having cost one output buffer, not its inflated size.
    const std::uint64_t room = max_message_size_ - message_size_;
    const std::size_t want = room < kOutputChunk ? static_cast<std::size_t>(room) + 1 : kOutputChunk;
    z.next_out = z_->out.data();
    z.avail_out = static_cast<uInt>(want);
    const uInt in_before = z.avail_in;
    const int rc = ::inflate(&z, Z_SYNC_FLUSH);
    const std::size_t produced = want - z.avail_out;
    if (rc == Z_MEM_ERROR) throw std::bad_alloc();
    // Past the limit comes first, even if the same call then found bad data
    // further on: zlib goes on decoding (up to the next byte it would write)
    // after its output is full, so which of the two a message gets must not
    // depend on how its payload was cut into chunks (found by fuzz_inflater).
    if (produced > room)
      return Violation(error::inflated_too_big, "the message inflates to more than the limit of " +
                                                    std::to_string(max_message_size_) + " bytes");
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR)
      return Violation(error::bad_compressed_data,
                       std::string("the compressed payload is not valid DEFLATE data: ") +
                           (z.msg ? z.msg : "zlib error " + std::to_string(rc)));
    if (produced > 0) {
      message_size_ += produced;
      if (auto v = sink(std::span<const std::uint8_t>(z_->out.data(), produced))) return v;
    }
    if (rc == Z_STREAM_END) {
      restart_after_final_block();
      if (z.avail_in == 0) {
        stream_ended_ = true;
        return std::nullopt;
      }
      continue;
    }
    if (z.avail_out != 0 && z.avail_in == 0) return std::nullopt;  // all taken, nothing held back
    if (produced == 0 && z.avail_in == in_before) {
      if (z.avail_in == 0) return std::nullopt;
      return Violation(error::bad_compressed_data, "inflate made no progress on the compressed payload");
    }
  }
}

MaybeViolation Inflater::finish(const Sink& sink) {
  if (message_finished_) {  // a message whose payload was empty: no chunk came
    message_finished_ = false;
    message_size_ = 0;
  }
  if (!z_) open();
  MaybeViolation v;
  // §7.2.2 step 1: "Append 4 octets of 0x00 0x00 0xff 0xff to the tail end
  // of the payload of the message." (Unless the data just ended with a
  // BFINAL block and nothing after it: then there is no block to finish.)
  if (!stream_ended_) v = run(kTail.data(), kTail.size(), sink);
  // A sender's data plus those 4 octets ends exactly where a block ends
  // (zlib reports that as data_type bit 128, "between blocks"). Anything
  // else is a message cut short, or not DEFLATE data at all.
  if (!v && !stream_ended_ && (z_->z.data_type & 128) == 0)
    v = Violation(error::bad_compressed_data,
                  "the compressed payload with 00 00 ff ff appended does not end on a DEFLATE block boundary "
                  "(a truncated message, or not DEFLATE data)");
  message_finished_ = true;
  // §7.2.2: without context takeover ("no_context_takeover" agreed for the
  // sender), each message is inflated with an empty window.
  if (no_context_takeover_ || v) close();
  return v;
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
int own_bits(Role role, const Agreement& a) {
  return role == Role::server ? a.server_max_window_bits : a.client_max_window_bits;
}
int peer_bits(Role role, const Agreement& a) {
  return role == Role::server ? a.client_max_window_bits : a.server_max_window_bits;
}
bool own_no_takeover(Role role, const Agreement& a) {
  return role == Role::server ? a.server_no_context_takeover : a.client_no_context_takeover;
}
bool peer_no_takeover(Role role, const Agreement& a) {
  return role == Role::server ? a.client_no_context_takeover : a.server_no_context_takeover;
}
}  // namespace

PerMessageDeflate::PerMessageDeflate(Role role, const Agreement& agreement, std::uint64_t max_message_size,
                                     int level, int mem_level)
    : role_(role),
      agreement_(agreement),
      deflater_(own_bits(role, agreement), own_no_takeover(role, agreement), level, mem_level),
      inflater_(peer_bits(role, agreement), peer_no_takeover(role, agreement), max_message_size) {}

MaybeViolation PerMessageDeflate::on_header(const framing::FrameHeader& h) {
  frame_is_control_ = framing::is_control(h.opcode);
  frame_fin_ = h.fin;
  frame_compressed_ = false;
  if (frame_is_control_) {
    if (h.rsv1)
      return Violation(error::compressed_control_frame,
                       "RSV1 (Per-Message Compressed) set on a " + std::string(framing::opcode_name(h.opcode)) +
                           " frame: control frames are never compressed");
    return std::nullopt;
  }
  if (h.opcode == static_cast<std::uint8_t>(framing::Opcode::continuation)) {
    if (h.rsv1)
      return Violation(error::compressed_continuation,
                       "RSV1 (Per-Message Compressed) set on a continuation frame: only a message's first "
                       "frame says whether it is compressed");
  } else {
    // §6.2: the first frame's RSV1 says whether the whole message is
    // compressed; a message without it is taken as it is.
    message_compressed_ = h.rsv1;
    compressed_size_ = 0;
  }
  frame_compressed_ = message_compressed_;
  if (frame_compressed_) compressed_size_ += h.payload_length;
  return std::nullopt;
}

MaybeViolation PerMessageDeflate::inflate(std::span<const std::uint8_t> chunk, const Inflater::Sink& sink) {
  return inflater_.inflate(chunk, sink);
}

MaybeViolation PerMessageDeflate::on_frame_end(const Inflater::Sink& sink) {
  if (frame_is_control_ || !frame_fin_ || !message_compressed_) return std::nullopt;
  message_compressed_ = false;
  return inflater_.finish(sink);
}

}  // namespace wslab::extensions
