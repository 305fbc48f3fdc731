// The rules strip: each RFC 6455 receive rule, judged for one traced frame
// with the chapters' own functions.
#include "wslab/viz/rules_check.hpp"

#include "wire.hpp"

#include <wslab/close.hpp>
#include <wslab/framing.hpp>

#include <algorithm>
#include <cstdio>
#include <initializer_list>
#include <string_view>

namespace wslab::viz {

namespace {

using Status = RuleCheck::Status;

std::string opcode_text(std::uint8_t opcode) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%X", static_cast<unsigned>(opcode));
  return std::string(text) + " (" + std::string(framing::opcode_name(opcode)) + ")";
}

std::string_view as_text(const trace::Bytes& bytes, std::size_t from = 0) {
  from = std::min(from, bytes.size());
  return {reinterpret_cast<const char*>(bytes.data()) + from, bytes.size() - from};
}

// One row of the strip: the rules it covers (the first names the row's
// checklist ID, section and close code until a failure says which one broke).
struct Row {
  std::string_view name{};
  std::vector<error> rules{};
  RuleCheck check{};
};

Row row(std::string_view name, std::initializer_list<error> rules) {
  Row r{name, rules, {}};
  const Rule& first = rule(*rules.begin());
  r.check.name = std::string(name);
  r.check.section = std::string(first.section);
  r.check.close_code = first.close_code;
  r.check.checklist = std::string(first.checklist_id);
  r.check.rule = std::string(first.name);
  return r;
}

void set(Row& r, Status status, std::string detail) {
  r.check.status = status;
  r.check.detail = std::move(detail);
}

// A failure of one particular rule of the row.
void fail(Row& r, error id, std::string detail) {
  const Rule& broken = rule(id);
  r.check.status = Status::fail;
  r.check.detail = std::move(detail);
  r.check.section = std::string(broken.section);
  r.check.close_code = broken.close_code;
  r.check.checklist = std::string(broken.checklist_id);
  r.check.rule = std::string(broken.name);
}

// A UTF-8 judgement on the part of a payload the trace kept. `whole`: the
// preview holds all of it; `may_continue`: a later fragment may finish a
// code point this one starts (§5.6: the message as a whole must be valid).
void judge_utf8(Row& r, error id, std::string_view text, std::uint64_t length, bool whole,
                bool may_continue) {
  framing::Utf8Validator v;
  v.feed(text);
  if (!v.ok()) {
    fail(r, id, "invalid UTF-8 at payload byte " + std::to_string(v.valid_bytes()));
    return;
  }
  if (!whole && text.empty()) {
    set(r, Status::not_applicable, "not checked: the trace holds none of the payload");
    return;
  }
  if (!whole) {
    set(r, Status::not_applicable,
        "not checked: preview only (" + std::to_string(text.size()) + " of " + std::to_string(length) +
            " bytes, valid so far)");
    return;
  }
  if (v.complete()) {
    set(r, Status::pass, "valid UTF-8");
  } else if (may_continue) {
    set(r, Status::pass, "valid so far; the next fragment finishes the last code point");
  } else {
    fail(r, id, "the text ends in the middle of a UTF-8 sequence");
  }
}

}  // namespace

std::string_view to_string(RuleCheck::Status status) {
  switch (status) {
    case Status::pass: return "pass";
    case Status::fail: return "fail";
    case Status::not_applicable: return "n/a";
  }
  return "?";
}

Role receiver_of(const trace::Frame& frame, Role traced_role) {
  if (frame.direction == connection::Direction::received) return traced_role;
  return traced_role == Role::server ? Role::client : Role::server;
}

bool inside_fragmented_message(const std::deque<trace::Frame>& frames, const trace::Frame& frame) {
  bool open = false;
  for (const trace::Frame& f : frames) {
    if (f.seq >= frame.seq) break;
    if (f.conn != frame.conn || f.direction != frame.direction) continue;
    if (f.opcode == 0x1 || f.opcode == 0x2) open = !f.fin;       // a message starts
    else if (f.opcode == 0x0 && open) open = !f.fin;             // it continues, FIN ends it
  }
  return open;
}

std::vector<RuleCheck> check_rules(const trace::Frame& frame, Role receiver, bool inside_fragmented_message,
                                   bool permessage_deflate) {
  const detail::WireHeader w = detail::read_wire_header(frame);
  const std::uint8_t opcode = frame.opcode;
  const std::string name = std::string(framing::opcode_name(opcode));
  const bool control = framing::is_control(opcode);
  const bool defined = framing::is_defined(opcode);
  // The whole payload, unmasked, when the trace kept all of it.
  const bool whole_payload = frame.preview.size() >= frame.payload_length;

  std::vector<Row> rows;

  // §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated". RFC 7692
  // §6: permessage-deflate gives RSV1 a meaning, "Per-Message Compressed",
  // on the first frame of a data message only.
  // A frame of a compressed message: traced so, or RSV1 on a message's first
  // frame with the extension agreed.
  const bool compressed = frame.compressed || (permessage_deflate && frame.rsv1 && !control && opcode != 0x0);
  {
    Row r = row("reserved bits", {error::bad_reserved_bits, error::compressed_control_frame,
                                  error::compressed_continuation});
    const bool rsv1_meaningful = permessage_deflate || frame.compressed;
    std::string set_bits;
    for (auto [on, bit] : {std::pair{frame.rsv1 && !rsv1_meaningful, "RSV1"}, {frame.rsv2, "RSV2"}, {frame.rsv3, "RSV3"}})
      if (on) set_bits += (set_bits.empty() ? "" : " and ") + std::string(bit);
    if (!set_bits.empty()) {
      fail(r, error::bad_reserved_bits,
           set_bits + " set without a negotiated extension" + (rsv1_meaningful ? " that uses it" : ""));
    } else if (frame.rsv1 && control) {
      fail(r, error::compressed_control_frame,
           "RSV1 (Per-Message Compressed) set on a " + name + " frame: control frames are never compressed");
    } else if (frame.rsv1 && opcode == 0x0) {
      fail(r, error::compressed_continuation,
           "RSV1 (Per-Message Compressed) set on a continuation frame: only a message's first frame says whether "
           "it is compressed");
    } else if (frame.rsv1) {
      set(r, Status::pass, "RSV1 = 1: Per-Message Compressed, the message is DEFLATE data (permessage-deflate, "
                           "RFC 7692 §6); RSV2-3 are 0");
    } else if (compressed) {
      set(r, Status::pass, "RSV1-3 are 0: a later frame of a compressed message, RSV1 is on its first frame only "
                           "(RFC 7692 §6)");
    } else if (rsv1_meaningful) {
      set(r, Status::pass, control ? "RSV1-3 are 0 (a control frame is never compressed, RFC 7692 §6)"
                                   : "RSV1-3 are 0 (not compressed)");
    } else {
      set(r, Status::pass, "RSV1-3 are 0");
    }
    // With permessage-deflate agreed the row checks RFC 7692 §6's rule (PMD-5).
    if (rsv1_meaningful && r.check.status == Status::pass) {
      const Rule& pmd = rule(error::compressed_continuation);
      r.check.checklist = std::string(pmd.checklist_id);
      r.check.section = std::string(pmd.section);
    }
    rows.push_back(std::move(r));
  }

  // §5.2: "If an unknown opcode is received, the receiving endpoint MUST
  // _Fail the WebSocket Connection_."
  {
    Row r = row("opcode", {error::bad_opcode});
    if (defined)
      set(r, Status::pass, opcode_text(opcode));
    else
      fail(r, error::bad_opcode, opcode_text(opcode) + " is reserved");
    rows.push_back(std::move(r));
  }

  // §5.5: "All control frames MUST have a payload length of 125 bytes or
  // less and MUST NOT be fragmented." The 7-bit field decides: 126 and 127
  // announce a longer length.
  {
    Row size = row("control frame size", {error::bad_control_size});
    Row fin = row("control frame not fragmented", {error::bad_control_fragment});
    if (!control) {
      set(size, Status::not_applicable, "a data frame: only the receiver's limit applies (§10.4)");
      set(fin, Status::not_applicable, "a data frame may be fragmented (§5.4)");
    } else {
      const std::uint64_t announced = w.have_first_octets ? std::uint64_t{w.len7} : frame.payload_length;
      if (announced > framing::kMaxControlPayload && w.have_first_octets)
        fail(size, error::bad_control_size,
             name + ": Payload len " + std::to_string(announced) + " announces a length over 125");
      else if (announced > framing::kMaxControlPayload)
        fail(size, error::bad_control_size,
             name + ": control frame payload " + std::to_string(announced) + " > 125");
      else
        set(size, Status::pass, std::to_string(announced) + " <= 125 bytes");
      if (frame.fin)
        set(fin, Status::pass, "FIN = 1");
      else
        fail(fin, error::bad_control_fragment, name + " frame with FIN = 0");
    }
    rows.push_back(std::move(size));
    rows.push_back(std::move(fin));
  }

  // §5.4: fragments of one message arrive in order, not interleaved with
  // another message's; control frames may come between them.
  {
    Row r = row("message order", {error::bad_continuation, error::bad_data_frame});
    if (control || !defined) {
      set(r, Status::not_applicable,
          control ? "control frames may come between fragments (§5.4)" : "reserved opcode");
    } else if (opcode == 0x0) {
      if (inside_fragmented_message)
        set(r, Status::pass, frame.fin ? "continues the open message and ends it" : "continues the open message");
      else
        fail(r, error::bad_continuation, "continuation frame with no message open");
    } else if (inside_fragmented_message) {
      fail(r, error::bad_data_frame, "new " + name + " message while a fragmented message is still open");
    } else {
      set(r, Status::pass, frame.fin ? "a whole " + name + " message" : "starts a fragmented " + name + " message");
    }
    rows.push_back(std::move(r));
  }

  // §5.1: a client masks every frame; a server masks none.
  {
    Row r = receiver == Role::server ? row("mask direction", {error::unmasked_client_frame, error::masked_server_frame})
                                     : row("mask direction", {error::masked_server_frame, error::unmasked_client_frame});
    const bool masked = w.have_first_octets ? w.masked : frame.mask;
    if (receiver == Role::server && !masked)
      fail(r, error::unmasked_client_frame, "server received an unmasked " + name + " frame");
    else if (receiver == Role::client && masked)
      fail(r, error::masked_server_frame, "client received a masked " + name + " frame");
    else
      set(r, Status::pass, masked ? "client to server, masked" : "server to client, not masked");
    rows.push_back(std::move(r));
  }

  // §5.2: "the minimal number of bytes MUST be used to encode the length",
  // and a 64-bit length has its most significant bit 0. wslab's FrameParser
  // enforces both (1002).
  {
    Row r = row("minimal length", {error::non_minimal_length, error::bad_length_msb});
    const auto form = w.have_first_octets ? std::optional(w.form) : detail::length_form_from_name(frame.length_form);
    const std::optional<std::uint64_t> length = w.have_first_octets ? w.payload_length : std::optional(frame.payload_length);
    if (!form || !length) {
      set(r, Status::not_applicable, "the header was cut short before the length ended");
    } else if (*form == framing::LengthForm::len64 && (*length >> 63) != 0) {
      fail(r, error::bad_length_msb, "64-bit payload length with the most significant bit set");
    } else if (const auto minimal = framing::minimal_length_form(*length); minimal != *form) {
      fail(r, error::non_minimal_length,
           "payload length " + std::to_string(*length) + " sent in the " + std::string(framing::length_form_name(*form)) +
               " form, minimal is " + std::string(framing::length_form_name(minimal)));
    } else {
      set(r, Status::pass, std::to_string(*length) + " in the " + std::string(framing::length_form_name(*form)) + " form");
    }
    rows.push_back(std::move(r));
  }

  // §5.6, §8.1: a text message is UTF-8; a first fragment may end inside a
  // code point that the next one finishes.
  {
    Row r = row("UTF-8", {error::bad_utf8});
    if (opcode == 0x1 && compressed) {
      // RFC 7692 §6, §7.2.2: the wire payload is DEFLATE data; the UTF-8
      // rule applies to the message it inflates to, known on its last frame.
      if (frame.uncompressed_size)
        judge_utf8(r, error::bad_utf8, as_text(frame.uncompressed_preview), *frame.uncompressed_size,
                   frame.uncompressed_preview.size() >= *frame.uncompressed_size, false);
      else
        set(r, Status::not_applicable,
            "compressed: judged on the message inflated, when its last frame is in (RFC 7692 §6)");
      if (r.check.status == Status::pass) r.check.detail += ", inflated";
    } else if (opcode == 0x1) {
      judge_utf8(r, error::bad_utf8, as_text(frame.preview), frame.payload_length, whole_payload, !frame.fin);
    } else if (opcode == 0x0) {
      set(r, Status::not_applicable, "a continuation: checked as part of its message (§5.6)");
    } else {
      set(r, Status::not_applicable, opcode == 0x8 ? "see close reason" : "not a text frame");
    }
    rows.push_back(std::move(r));
  }

  // §5.5.1, §7.4: a Close payload is empty or a 2-byte code, a code that may
  // be sent, and a UTF-8 reason.
  {
    Row payload = row("close payload", {error::bad_close_payload});
    Row code = row("close code", {error::bad_close_code});
    Row reason = row("close reason", {error::bad_close_reason});
    if (opcode != 0x8) {
      for (Row* r : {&payload, &code, &reason}) set(*r, Status::not_applicable, "not a close frame");
    } else {
      const std::uint64_t n = frame.payload_length;
      if (n == 1)
        fail(payload, error::bad_close_payload, "1-byte close payload: a status code takes 2");
      else
        set(payload, Status::pass, n == 0 ? "empty: no status code (reported as 1005)" : std::to_string(n) + " bytes: a code first");

      std::optional<std::uint16_t> value;
      if (frame.preview.size() >= 2 && n >= 2)
        value = static_cast<std::uint16_t>(frame.preview[0] << 8 | frame.preview[1]);
      else if (n >= 2)
        value = frame.close_code;
      if (n < 2) {
        set(code, Status::not_applicable, "no status code");
      } else if (!value) {
        set(code, Status::not_applicable, "not checked: the code is not in the preview");
      } else {
        const auto info = close::describe(*value);
        const std::string text = std::to_string(*value) + (info ? " (" + std::string(info->name) + ")" : "") +
                                 " is in the " + std::string(close::range_of(*value)) + " range";
        if (close::valid_on_wire(*value))
          set(code, Status::pass, text);
        else
          fail(code, error::bad_close_code, text + ": it may not appear in a close frame");
      }

      if (n <= 2)
        set(reason, Status::not_applicable, "no reason");
      else
        judge_utf8(reason, error::bad_close_reason, as_text(frame.preview, 2), n - 2, whole_payload, false);
    }
    rows.push_back(std::move(payload));
    rows.push_back(std::move(code));
    rows.push_back(std::move(reason));
  }

  // What the traced receiver said stands: the rule it broke is failed with
  // the receiver's own words, added as a row if no row covers it.
  if (frame.error) {
    const trace::RuleBroken& e = *frame.error;
    auto covers = [&e](const Row& r) {
      return std::any_of(r.rules.begin(), r.rules.end(), [&e](error id) { return rule(id).name == e.rule; });
    };
    auto it = std::find_if(rows.begin(), rows.end(), covers);
    if (it == rows.end()) {
      std::string label = e.rule;
      std::replace(label.begin(), label.end(), '_', ' ');
      Row extra;
      extra.check.name = label;
      rows.push_back(std::move(extra));
      it = rows.end() - 1;
    }
    RuleCheck& c = it->check;
    c.status = Status::fail;
    c.detail = e.message;
    c.section = e.section;
    c.close_code = e.close_code;
    c.checklist = e.checklist;
    c.rule = e.rule;
  }

  std::vector<RuleCheck> out;
  out.reserve(rows.size());
  for (Row& r : rows) out.push_back(std::move(r.check));
  return out;
}

}  // namespace wslab::viz
