// The Frame panel's rules strip: every RFC 6455 rule a receiver checks on a
// frame, and whether this frame keeps it.
//
//   reserved bits   FR-1 §5.2    RSV1-3 are 0 (no extension is negotiated)     1002
//                   PMD-5 RFC 7692 §6  with permessage-deflate agreed: RSV1 marks
//                                a compressed message, on its first frame only;
//                                never on a control or continuation frame      1002
//   opcode          FR-2 §5.2    0, 1, 2, 8, 9 or A                            1002
//   control size    FR-4 §5.5    a control frame carries at most 125 bytes     1002
//   control FIN     FR-4 §5.5    a control frame is not fragmented             1002
//   message order   FR-5 §5.4    a continuation continues an open message, a
//                                new message waits for the open one to end     1002
//   mask direction  MK-2/3 §5.1  client -> server masked, server -> client not 1002
//   minimal length  FR-3 §5.2    the length in the fewest bytes, 64-bit MSB 0  1002
//   UTF-8           U8-2 §8.1    a text frame's payload is UTF-8               1007
//   close payload   CL-1 §5.5.1  empty, or at least a 2-byte code              1002
//   close code      CL-6 §7.4    a code that may appear on the wire            1002
//   close reason    CL-1 §5.5.1  the reason is UTF-8                           1007
//
// The names, checklist IDs, sections and close codes come from the rule book
// (wslab/rules.hpp), the judgements from the chapters themselves
// (framing::is_defined, minimal_length_form, Utf8Validator, close::valid_on_wire),
// so the strip says exactly what the wslab receiver does. wslab enforces the
// minimal length encoding (FrameParser fails a non-minimal length with 1002).
//
// A trace keeps only a preview of the payload: a payload rule (UTF-8, the
// close payload) is judged only when the whole payload is in the preview,
// or when the part that is there already breaks it; otherwise it is "not
// checked: preview only". If the traced receiver rejected the frame
// (frame.error), the rule it broke shows as failed with the receiver's own
// message, even one this re-check cannot see (a message-level UTF-8 error,
// a size limit).
#pragma once

#include <wslab/rules.hpp>
#include <wslab/trace.hpp>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace wslab::viz {

struct RuleCheck {
  std::string name{};     // "reserved bits"
  std::string section{};  // "RFC 6455 §5.2"
  enum class Status { pass, fail, not_applicable } status = Status::pass;
  std::string detail{};          // why: "RSV1 set without a negotiated extension"
  std::uint16_t close_code = 0;  // what breaking it costs: 1002, 1007, 1009
  std::string checklist{};       // "FR-1" (docs/conformance.md)
  std::string rule{};            // the rule book's name of the rule it checks (or broke): "bad_reserved_bits"
};

std::string_view to_string(RuleCheck::Status status);  // "pass", "fail", "n/a"

// `receiver` is the role of the endpoint receiving this frame (a server
// expects masked frames); `inside_fragmented_message` whether a data message
// of this direction was open when the frame arrived (§5.4);
// `permessage_deflate` whether the connection agreed permessage-deflate
// (RFC 7692; ConnectionView::permessage_deflate). With it, RSV1 on the first
// frame of a data message passes (the message is compressed) and a text's
// UTF-8 is judged on the message inflated (frame.uncompressed_preview), not
// on the DEFLATE bytes of the wire.
std::vector<RuleCheck> check_rules(const trace::Frame& frame, Role receiver, bool inside_fragmented_message,
                                   bool permessage_deflate = false);

// The role of the endpoint that receives `frame`, given the traced
// endpoint's role on its connection: the traced endpoint for a received
// frame, its peer for a sent one.
Role receiver_of(const trace::Frame& frame, Role traced_role);

// Whether a data message was open in `frame`'s connection and direction when
// it arrived, from the frames before it (oldest first, as Store::frames()
// keeps them): a data frame with FIN = 0 opens one, a data frame with
// FIN = 1 ends it (§5.4). Frames pushed out of the ring cannot be seen.
bool inside_fragmented_message(const std::deque<trace::Frame>& frames, const trace::Frame& frame);

}  // namespace wslab::viz
