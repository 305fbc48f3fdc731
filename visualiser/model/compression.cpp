// The Frame panel's permessage-deflate details (compression.hpp).
#include "wslab/viz/compression.hpp"

#include <wslab/framing.hpp>

#include <cstdio>
#include <vector>

namespace wslab::viz {

namespace {

// The data frames of `frame`'s message, in order, found among `frames` (the
// same connection and direction; control frames may sit between them, §5.4).
struct Message {
  std::vector<const trace::Frame*> frames{};
  bool first_seen = false;  // its first frame (text/binary) is still kept
  bool ended = false;       // its FIN frame is in
};

Message message_of(const std::deque<trace::Frame>& frames, const trace::Frame& frame) {
  Message current;
  auto holds = [&frame](const Message& m) {
    for (const trace::Frame* f : m.frames)
      if (f->seq == frame.seq) return true;
    return false;
  };
  for (const trace::Frame& f : frames) {
    if (f.conn != frame.conn || f.direction != frame.direction || framing::is_control(f.opcode)) continue;
    if (f.opcode != 0x0) {
      current = Message{};  // a new message starts (one left open was cut short, §5.4)
      current.first_seen = true;
    }
    current.frames.push_back(&f);
    if (f.fin) {
      current.ended = true;
      if (holds(current)) return current;
      current = Message{};
    }
  }
  if (holds(current)) return current;
  return Message{{&frame}, frame.opcode != 0x0, frame.fin};  // not in the store: the frame alone
}

std::string size_text(std::uint64_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

}  // namespace

std::string percent(double ratio) {
  char text[32];
  const double p = ratio * 100;
  std::snprintf(text, sizeof text, p >= 100 ? "%.0f %%" : p >= 1 ? "%.1f %%" : "%.2f %%", p);
  return text;
}

CompressionView compression_view(const std::deque<trace::Frame>& frames, const trace::Frame& frame,
                                  bool permessage_deflate) {
  CompressionView v;
  // A frame traced as compressed is proof enough that it was agreed.
  v.permessage_deflate = permessage_deflate || frame.compressed;
  const bool data = !framing::is_control(frame.opcode);
  v.compressed = frame.compressed || (v.permessage_deflate && frame.rsv1 && data && frame.opcode != 0x0);
  v.rsv1_label = !v.permessage_deflate ? "RSV1"
                 : frame.rsv1 && v.compressed ? "RSV1 (permessage-deflate: compressed)"
                                              : "RSV1 (permessage-deflate)";
  v.frame_wire_size = frame.payload_length;
  if (!v.compressed) return v;

  const Message m = message_of(frames, frame);
  v.frames_in_message = m.frames.size();
  const trace::Frame& last = *m.frames.back();
  if (m.first_seen && m.ended) {
    std::uint64_t sum = 0;
    for (const trace::Frame* f : m.frames) sum += f->payload_length;
    v.message_wire_size = sum;
  }
  if (m.ended && last.uncompressed_size) v.inflated_size = last.uncompressed_size;
  if (v.message_wire_size && v.inflated_size && *v.inflated_size > 0)
    v.ratio = static_cast<double>(*v.message_wire_size) / static_cast<double>(*v.inflated_size);

  // The sizes line.
  const bool one_frame = m.frames.size() == 1 && m.first_seen && m.ended;
  if (v.message_wire_size)
    v.sizes = "on the wire " + size_text(*v.message_wire_size) + " (compressed" +
              (one_frame ? "" : ", in " + std::to_string(m.frames.size()) + " frames") + ")";
  else
    v.sizes = "this frame: " + size_text(frame.payload_length) + " on the wire (compressed)";
  if (v.inflated_size) {
    v.sizes += " -> inflated " + size_text(*v.inflated_size);
    if (v.ratio) v.sizes += ": " + percent(*v.ratio) + " (wire / inflated)";
  } else {
    v.sizes += m.ended ? "; the message's inflated size is not in the trace"
                       : "; inflated once the message's last frame is in";
  }

  // The two payload views.
  v.wire_hex = trace::hex(frame.preview);
  if (frame.preview.size() < frame.payload_length) v.wire_hex += " ...";
  if (v.inflated_size) {
    const trace::Bytes& in = last.uncompressed_preview;
    v.inflated_hex = trace::hex(in);
    const std::string_view text(reinterpret_cast<const char*>(in.data()), in.size());
    const bool cut = in.size() < *v.inflated_size;
    framing::Utf8Validator utf8;
    utf8.feed(text);
    // A preview cut short may end inside a code point (not the peer's fault).
    if (utf8.ok() && (utf8.complete() || cut)) v.inflated_text = std::string(text);
    if (cut) v.inflated_note = "first " + std::to_string(in.size()) + " of " + size_text(*v.inflated_size);
    if (last.seq != frame.seq)
      v.inflated_note += std::string(v.inflated_note.empty() ? "" : ", ") + "from the message's last frame (#" +
                         std::to_string(last.seq) + ")";
  } else {
    v.inflated_note = m.ended ? "not in the trace" : "the message's last frame is not in yet";
  }
  return v;
}

}  // namespace wslab::viz
