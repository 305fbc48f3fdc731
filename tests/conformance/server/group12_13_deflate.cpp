// Autobahn|Testsuite groups 12 and 13, permessage-deflate (RFC 7692), server
// role: a raw peer offers the extension, compresses what it sends and
// inflates what the server sends with zlib called directly (pmd_zlib.hpp),
// never with wslab's extensions chapter.
//
// 12.x: compressed echo of five kinds of data (12.1 JSON text, 12.2 HTML
// text, 12.3 prose sent as binary, 12.4 a bitmap, 12.5 random bytes), each
// in Autobahn's 18 sub-cases: messages of 16 B to 128 KiB in one frame
// (12.x.1 - 12.x.10), then 8 KiB to 128 KiB with their compressed data cut
// into frames of 256 B to 32 KiB (12.x.11 - 12.x.18). The offer is
// Autobahn's default: "permessage-deflate; client_no_context_takeover;
// client_max_window_bits".
//
// 13.x: the JSON data under Autobahn's seven offers (13.1 - 13.7: with and
// without server_no_context_takeover, server_max_window_bits 8 or 15, and
// three offers in one header), then wslab's own sweeps (13.x wslab): each
// parameter alone, every window size from 8 to 15 in each direction, and
// combinations. Every echo is checked byte for byte after inflating, and the
// agreement is checked on the wire: each server message is inflated with a
// window of exactly the agreed server_max_window_bits (a server that reaches
// further back fails "invalid distance too far back"), and with
// server_no_context_takeover each one with an empty window (a server that
// took over its context fails the same way). The payloads are chosen so that
// these checks can fail: each case first shows that a compressor breaking
// the agreement would produce data the strict inflater refuses.
//
// Then the strict rules as cases (12.x wslab): RSV1 on a continuation or a
// control frame (1002, RFC 7692 §6), data that is not DEFLATE (1007), a
// compression bomb (1009 while inflating, RFC 6455 §10.4), RSV1 without
// permessage-deflate agreed (1002, RFC 6455 §5.2), control frames between
// compressed fragments, uncompressed messages, RFC 7692 §7.2.3's example
// payloads, UTF-8 checked after inflating.
//
// Autobahn sends 1 000 messages per sub-case; here message_count() of
// them (2 to 12), enough to carry a window from one message to the next,
// and a new connection per sub-case, as Autobahn does.
#include <catch2/catch.hpp>

#include "checks.hpp"
#include "conformance/pmd_zlib.hpp"

#include <memory>

using namespace wslab::conformance;
using namespace wslab::conformance::pmd;

namespace {

// Autobahn's PerMessageDeflateOffer(accept_no_context_takeover = True,
// accept_max_window_bits = True, request_no_context_takeover,
// request_max_window_bits): the client will take over no context and
// accepts a window limit, and asks the server for what the case requests.
std::string autobahn_offer(bool request_no_context_takeover, int request_max_window_bits) {
  std::string offer = "permessage-deflate; client_no_context_takeover; client_max_window_bits";
  if (request_no_context_takeover) offer += "; server_no_context_takeover";
  if (request_max_window_bits != 0) offer += "; server_max_window_bits=" + std::to_string(request_max_window_bits);
  return offer;
}

std::uint8_t opcode_of(Data d) { return is_text(d) ? op::text : op::binary; }

// One connection that agreed permessage-deflate: the peer's compressor
// works with the client's side of the agreement, its inflater with the
// server's (RFC 7692 §7.1: server_* parameters govern what the server sends).
class Compressed {
 public:
  // Offers `offer` and checks the response against the offer element
  // `accepted` (RFC 7692 §7.1, PMD-2, PMD-3): exactly one element, and one
  // a client may accept.
  explicit Compressed(const std::string& offer, std::size_t accepted = 0) : peer(port(), ExtensionOffer{offer}) {
    INFO("offer: " << offer << "\nresponse head:\n" << peer.response_head());
    const auto header = peer.response_header("Sec-WebSocket-Extensions");
    REQUIRE(header);
    response = *header;
    const auto elements = parse_extensions(response);
    REQUIRE(elements.size() == 1);  // one extension, accepted once (RFC 7692 §5)
    const auto offers = parse_extensions(offer);
    REQUIRE(accepted < offers.size());
    const Verdict v = agree(offers[accepted], elements[0]);
    INFO("the response breaks RFC 7692 §7.1: " << v.problem);
    REQUIRE(v.agreement);
    agreement = *v.agreement;
    out = std::make_unique<Deflater>(agreement.client_max_window_bits, agreement.client_no_context_takeover);
    in = std::make_unique<Inflater>(agreement.server_max_window_bits, agreement.server_no_context_takeover);
  }

  // One message, compressed as a whole (§7.2.1), its data cut into frames of
  // `fragment` octets: RSV1 on the first frame only (§6).
  void send(std::uint8_t opcode, const std::string& message, std::size_t fragment = 0) {
    REQUIRE(peer.send(frames(opcode, out->message(message), fragment)));
  }
  static std::vector<Frame> frames(std::uint8_t opcode, const std::string& data, std::size_t fragment) {
    std::vector<Frame> f;
    const auto parts = split(data, fragment);
    for (std::size_t i = 0; i < parts.size(); ++i)
      f.push_back({.opcode = i == 0 ? opcode : op::cont, .payload = parts[i], .fin = i + 1 == parts.size(),
                   .rsv = static_cast<std::uint8_t>(i == 0 ? 4 : 0)});
    return f;
  }

  // The server's next message: `opcode`, compressed (RSV1 on its first
  // frame: wslab's server compresses every data message once the extension
  // is agreed, so the window and takeover checks always bite), and equal to
  // `expected` once inflated with exactly the agreed window and takeover.
  // Returns the compressed data.
  std::string expect_echo(std::uint8_t opcode, const std::string& expected) {
    std::string data;
    for (bool first = true;; first = false) {
      auto got = peer.next(20s);
      INFO("peer error: " << peer.error() << ", eof: " << peer.eof());
      REQUIRE(got);
      INFO("received: " << got->describe() << " [" << hex(got->wire(), 16) << "]");
      REQUIRE(got->opcode() == (first ? opcode : op::cont));
      if (first) CHECK(got->frame.header.rsv1);
      data += got->payload();
      if (got->frame.header.fin) break;
    }
    const auto inflated = in->message(data);
    INFO("agreement: server window " << agreement.server_max_window_bits << " bits"
                                     << (agreement.server_no_context_takeover ? ", no context takeover" : "")
                                     << "; compressed " << data.size() << " B: " << hex(data, 24));
    INFO("inflating failed: " << in->error());
    REQUIRE(inflated);
    REQUIRE(inflated->size() == expected.size());
    CHECK(*inflated == expected);
    return data;
  }

  void echo(std::uint8_t opcode, const std::string& message, std::size_t fragment = 0) {
    send(opcode, message, fragment);
    expect_echo(opcode, message);
  }

  Peer peer;
  std::string response;  // the 101's Sec-WebSocket-Extensions
  Agreement agreement;
  std::unique_ptr<Deflater> out;
  std::unique_ptr<Inflater> in;
};

// Autobahn's 18 sub-cases on one data set: a connection per sub-case,
// message_count() consecutive windows of the data, each echoed.
void autobahn_subcases(const std::string& group, Data data, const std::string& offer, std::size_t accepted = 0) {
  for (std::size_t i = 0; i < std::size(kSubCases); ++i) {
    const SubCase sc = kSubCases[i];
    const std::size_t count = message_count(sc.size);
    DYNAMIC_SECTION(group << "." << i + 1 << " " << count << " messages of " << size_name(sc.size)
                          << (sc.fragment ? " in frames of " + size_name(sc.fragment) : std::string(" in one frame"))) {
      Compressed c(offer, accepted);
      Cutter cut(data);
      for (std::size_t n = 0; n < count; ++n) c.echo(opcode_of(data), cut.next(sc.size), sc.fragment);
      close_normally(c.peer);
    }
  }
}

// The sequence every 13.x wslab case runs: messages that exercise the
// agreement in both directions.
void exercise(Compressed& c) {
  const int server_bits = c.agreement.server_max_window_bits;
  const int client_bits = c.agreement.client_max_window_bits;
  // Server to peer: far repeats at 1.5 x 2^server_bits (PMD-9).
  // (Twice the distance and more: every octet after the first block repeats.)
  const std::size_t far_size = server_bits >= 15 ? 6000 : (std::size_t{3} << server_bits) + 1000;
  const std::string far = far_repeats(server_bits, far_size, true, 11);
  REQUIRE(far_repeats_bite(server_bits, far));  // the check can fail (pmd_zlib.hpp)
  c.echo(op::text, far);
  // Peer to server: repeats just inside the client window, which our
  // compressor (at client_bits) uses and the server must inflate.
  const std::size_t near = client_bits >= 10 ? (std::size_t{1} << client_bits) - 300 : 200;
  std::string within;
  {
    const std::string block = far_repeats(8, near, false, 12).substr(0, near);
    while (within.size() < 3 * near + 100) within += block;
  }
  c.echo(op::binary, within);
  // The same message twice (PMD-10): the server's second echo must inflate
  // with the window its first left, or with an empty one if it agreed not
  // to take over; ours likewise, as agreed.
  Cutter cut(Data::json);
  const std::string twice = cut.next(3000);
  REQUIRE(takeover_bites(twice));
  c.send(op::text, twice);
  const std::string first = c.expect_echo(op::text, twice);
  c.send(op::text, twice);
  const std::string second = c.expect_echo(op::text, twice);
  if (c.agreement.server_no_context_takeover) CHECK(second == first);  // same input, same empty window
  // A fragmented one, and a random binary one.
  c.echo(op::text, cut.next(20000), 1000);
  c.echo(op::binary, far_repeats(15, 1500, false, 13));
  close_normally(c.peer);
}

}  // namespace

// --- 12.x: compressed echo of five kinds of data -----------------------------------------

TEST_CASE("12.1 JSON text compressed, 16 B to 128 KiB, whole and in fragments PMD-5 PMD-6 is echoed byte for byte",
          "[conformance][group12]") {
  // RFC 7692 §6, §7.2.1, §7.2.2.
  autobahn_subcases("12.1", Data::json, autobahn_offer(false, 0));
}

TEST_CASE("12.2 HTML text compressed, 16 B to 128 KiB, whole and in fragments PMD-5 PMD-6 is echoed byte for byte",
          "[conformance][group12]") {
  autobahn_subcases("12.2", Data::html, autobahn_offer(false, 0));  // RFC 7692 §6, §7.2
}

TEST_CASE("12.3 prose as binary compressed, 16 B to 128 KiB, whole and in fragments PMD-5 PMD-6 is echoed byte for byte",
          "[conformance][group12]") {
  autobahn_subcases("12.3", Data::prose, autobahn_offer(false, 0));  // RFC 7692 §6, §7.2
}

TEST_CASE("12.4 a bitmap compressed, 16 B to 128 KiB, whole and in fragments PMD-5 PMD-6 is echoed byte for byte",
          "[conformance][group12]") {
  autobahn_subcases("12.4", Data::bitmap, autobahn_offer(false, 0));  // RFC 7692 §6, §7.2
}

TEST_CASE("12.5 random bytes compressed, 16 B to 128 KiB, whole and in fragments PMD-5 PMD-6 is echoed byte for byte",
          "[conformance][group12]") {
  // Incompressible: DEFLATE falls back to stored blocks (RFC 1951 §3.2.4),
  // still one message's data with the tail removed (RFC 7692 §7.2.1).
  autobahn_subcases("12.5", Data::random, autobahn_offer(false, 0));
}

// --- 13.x: Autobahn's seven offers ---------------------------------------------------------

TEST_CASE("13.1 offer with client_no_context_takeover and client_max_window_bits PMD-3 PMD-10 is echoed",
          "[conformance][group13]") {
  // RFC 7692 §7.1.1.2, §7.1.2.2: the peer keeps no context; the server may.
  autobahn_subcases("13.1", Data::json, autobahn_offer(false, 0));
}

TEST_CASE("13.2 offer asking server_no_context_takeover PMD-3 PMD-10 is echoed, each message from an empty window",
          "[conformance][group13]") {
  // RFC 7692 §7.1.1.1: accepted by including it in the response; then
  // every server message inflates with an empty window (§7.2.2).
  autobahn_subcases("13.2", Data::json, autobahn_offer(true, 0));
}

TEST_CASE("13.3 offer asking server_max_window_bits=8 PMD-3 PMD-9 is echoed within a 256-byte window",
          "[conformance][group13]") {
  // RFC 7692 §7.1.2.1: answered with 8 or less; every server message
  // inflates with an 8-bit window.
  autobahn_subcases("13.3", Data::json, autobahn_offer(false, 8));
}

TEST_CASE("13.4 offer asking server_max_window_bits=15 PMD-3 PMD-9 is echoed", "[conformance][group13]") {
  autobahn_subcases("13.4", Data::json, autobahn_offer(false, 15));  // RFC 7692 §7.1.2.1
}

TEST_CASE("13.5 offer asking server_no_context_takeover and server_max_window_bits=8 PMD-3 PMD-9 PMD-10 is echoed",
          "[conformance][group13]") {
  autobahn_subcases("13.5", Data::json, autobahn_offer(true, 8));  // RFC 7692 §7.1.1.1, §7.1.2.1
}

TEST_CASE("13.6 offer asking server_no_context_takeover and server_max_window_bits=15 PMD-3 PMD-10 is echoed",
          "[conformance][group13]") {
  autobahn_subcases("13.6", Data::json, autobahn_offer(true, 15));  // RFC 7692 §7.1.1.1, §7.1.2.1
}

TEST_CASE("13.7 three offers in one header PMD-8 PMD-3 the first is accepted and honoured", "[conformance][group13]") {
  // RFC 7692 §5: "A client MAY offer multiple PMCE choices"; RFC 6455 §9.1:
  // in the client's order of preference. wslab supports every
  // configuration, so it takes the first (checked: the response must agree
  // with the first offer, server_max_window_bits=8 included).
  autobahn_subcases("13.7", Data::json,
                    autobahn_offer(true, 8) + ", " + autobahn_offer(true, 0) + ", " + autobahn_offer(false, 0));
}

// --- 13.x wslab: each parameter, each window size -------------------------------------------

TEST_CASE("13.x wslab server_max_window_bits 8 to 15 offered PMD-3 PMD-9 the server compresses within the window",
          "[conformance][group13]") {
  // RFC 7692 §7.1.2.1: "By including this parameter in an extension
  // negotiation offer, a client limits the LZ77 sliding window size that
  // the server will use to compress messages." The response carries it
  // with the same or a smaller value; every server message then inflates
  // with exactly that window (§7.2.2). zlib cannot deflate with 8 bits: a
  // server using 9 stays within 256 bytes only if its matches do (zlib's
  // reach is the window minus 262 octets); the far repeats at 384 bytes
  // check that.
  for (int bits = 8; bits <= 15; ++bits) {
    DYNAMIC_SECTION("server_max_window_bits=" << bits) {
      Compressed c("permessage-deflate; server_max_window_bits=" + std::to_string(bits));
      CHECK(c.agreement.server_max_window_bits <= bits);
      exercise(c);
    }
  }
}

TEST_CASE("13.x wslab client_max_window_bits 8 to 15 offered PMD-3 PMD-9 the server inflates what the window allows",
          "[conformance][group13]") {
  // RFC 7692 §7.1.2.2: an offered value is the client's promise not to use
  // a larger window; a response may lower it, never raise it (checked by
  // agree()). The peer compresses with the agreed window, reaching back
  // as far as it allows.
  for (int bits = 8; bits <= 15; ++bits) {
    DYNAMIC_SECTION("client_max_window_bits=" << bits) {
      Compressed c("permessage-deflate; client_max_window_bits=" + std::to_string(bits));
      CHECK(c.agreement.client_max_window_bits <= bits);
      exercise(c);
    }
  }
}

TEST_CASE("13.x wslab each parameter alone and together PMD-1 PMD-3 PMD-10 the agreement holds both ways",
          "[conformance][group13]") {
  // RFC 7692 §7.1.1.1, §7.1.1.2, §7.1.2.1, §7.1.2.2, §7.2.1, §7.2.2.
  const char* offers[] = {
      "permessage-deflate",
      "permessage-deflate; client_no_context_takeover",
      "permessage-deflate; server_no_context_takeover",
      "permessage-deflate; client_max_window_bits",
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8; "
      "client_max_window_bits=8",
      "permessage-deflate; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12",
      "permessage-deflate;server_max_window_bits=\"9\";client_max_window_bits",  // §9.1: a quoted value
  };
  for (const char* offer : offers) {
    DYNAMIC_SECTION(offer) {
      Compressed c(offer);
      exercise(c);
    }
  }
}

TEST_CASE("13.x wslab an offer the server cannot read is declined PMD-2 PMD-8 the next offer is accepted, or none",
          "[conformance][group13]") {
  // RFC 7692 §7: "A server MUST decline an extension negotiation offer for
  // this extension if ... The negotiation offer contains an extension
  // parameter not defined for use in an offer ... with an invalid value
  // ... multiple extension parameters with the same name". Declining is not
  // failing: the handshake succeeds without the extension, or with a later
  // offer (§5).
  const char* bad[] = {
      "permessage-deflate; x-unknown",
      "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
      "permessage-deflate; server_no_context_takeover=1",
      "permessage-deflate; server_max_window_bits",
      "permessage-deflate; server_max_window_bits=7",
      "permessage-deflate; server_max_window_bits=16",
      "permessage-deflate; server_max_window_bits=08",
      "permessage-deflate; client_max_window_bits=abc",
      "permessage-deflate; client_max_window_bits=10; client_max_window_bits=11",
  };
  for (const char* offer : bad) {
    DYNAMIC_SECTION("declined alone: " << offer) {
      Peer peer(port(), ExtensionOffer{offer});
      INFO(peer.response_head());
      CHECK_FALSE(peer.response_header("Sec-WebSocket-Extensions"));
      // Uncompressed from here on: the decoder refuses RSV1 from the server.
      REQUIRE(peer.send(Frame{.opcode = op::text, .payload = "plain"}));
      expect_wire(peer, server_wire(op::text, "plain"));
      close_normally(peer);
    }
    DYNAMIC_SECTION("declined, then a good offer: " << offer) {
      Compressed c(std::string(offer) + ", permessage-deflate; server_no_context_takeover", 1);
      CHECK(c.agreement.server_no_context_takeover);
      c.echo(op::text, "after a declined offer");
      close_normally(c.peer);
    }
  }
}

// --- 12.x wslab: the strict rules -------------------------------------------------------------

TEST_CASE("12.x wslab RSV1 on a continuation frame PMD-5 fails 1002", "[conformance][group12]") {
  // RFC 7692 §6: "An endpoint MUST NOT set the "Per-Message Compressed" bit
  // of control frames and non-first fragments of a data message. An
  // endpoint receiving such a frame MUST _Fail the WebSocket Connection_."
  Compressed c("permessage-deflate");
  c.echo(op::text, "first, fine");
  auto parts = Compressed::frames(op::text, c.out->message("second, with RSV1 twice"), 6);
  REQUIRE(parts.size() >= 2);
  parts[1].rsv = 4;
  c.peer.send(parts);  // the server may fail before the last frame
  expect_failed(c.peer, 1002);
}

TEST_CASE("12.x wslab RSV1 on a control frame PMD-5 PMD-11 fails 1002 without answering it", "[conformance][group12]") {
  // RFC 7692 §6 (as above): control frames are never compressed. The good
  // message before it is echoed; the frame after it is not processed
  // (RFC 6455 §7.1.7).
  const std::pair<const char*, Frame> bad[] = {
      {"ping", {.opcode = op::ping, .payload = "p", .rsv = 4}},
      {"pong", {.opcode = op::pong, .payload = "p", .rsv = 4}},
      {"close", {.opcode = op::close, .payload = close_body(1000), .rsv = 4}},
  };
  for (const auto& [name, frame] : bad) {
    DYNAMIC_SECTION("RSV1 on a " << name) {
      Compressed c("permessage-deflate");
      c.send(op::text, "before");
      c.peer.send(std::vector<Frame>{frame, {.opcode = op::ping, .payload = "after"}});
      c.expect_echo(op::text, "before");
      expect_failed(c.peer, 1002);
    }
  }
}

TEST_CASE("12.x wslab a compressed payload that does not inflate PMD-13 fails 1007", "[conformance][group12]") {
  // RFC 7692 §7.2.2: the payload plus 00 00 ff ff is DEFLATE data; if it is
  // not, the message is not what its type says (RFC 6455 §7.4.1: 1007,
  // "data within a message that was not consistent with the type of the
  // message"; RFC 6455 §10.7: invalid data fails the connection).
  Deflater fresh;
  const std::string whole = fresh.message(data_set(Data::json).substr(0, 4000));
  const std::pair<const char*, std::string> bad[] = {
      {"a reserved block type (BTYPE 11)", std::string("\xff\xff\xff\xff", 4)},
      {"a stored block whose NLEN is not ~LEN", std::string("\x00\x05\x00\x00\x00Hello", 10)},
      {"a message cut in half", whole.substr(0, whole.size() / 2)},
      {"a match reaching before the first octet", std::string("\x02\x02\x00", 3)},
  };
  for (const auto& [name, payload] : bad) {
    DYNAMIC_SECTION(name) {
      REQUIRE_FALSE(inflates_at(15, payload));
      Compressed c("permessage-deflate");
      c.echo(op::binary, "before");
      c.peer.send(Frame{.opcode = op::binary, .payload = payload, .rsv = 4});
      expect_failed(c.peer, 1007);
    }
  }
}

TEST_CASE("12.x wslab a compression bomb PMD-7 fails 1009 while inflating, before its frame ends",
          "[conformance][group12]") {
  // RFC 6455 §10.4: an endpoint "SHOULD impose a limit on frame sizes and
  // the total message size after reassembly"; with permessage-deflate the
  // size after reassembly is the inflated size. 64 MiB of zeros compress to
  // about 64 KiB, four times the server's 16 MiB limit: the server must
  // fail with 1009 while inflating, without waiting for the rest of the
  // frame: the peer writes the header and the first half of the data (32
  // MiB of zeros), and nothing more until the Close has come.
  const std::string bomb = compressed_zeros(std::size_t{64} << 20);
  INFO("the bomb: " << bomb.size() << " B");
  REQUIRE(bomb.size() < 128 * 1024);
  const std::string frame = encode(Frame{.opcode = op::binary, .payload = bomb, .rsv = 4});
  const std::size_t half = frame.size() / 2;
  Compressed c("permessage-deflate");
  c.echo(op::binary, std::string(1000, '\0'));
  REQUIRE(c.peer.send(std::string_view(frame).substr(0, half)));
  expect_fail_fast(c.peer, 1009, std::string_view(frame).substr(half), 20s);
}

TEST_CASE("12.x wslab RSV1 without permessage-deflate agreed FR-1 EX-1 fails 1002", "[conformance][group12]") {
  // RFC 6455 §5.2: RSV1 "MUST be 0 unless an extension is negotiated that
  // defines meanings for non-zero values". Not offered, or offered and
  // declined (RFC 7692 §7): the 101 names no extension, and a compressed
  // "Hello" (RFC 7692 §7.2.3.1) is a protocol error.
  const char* offers[] = {"", "permessage-deflate; server_max_window_bits=16"};
  for (const char* offer : offers) {
    DYNAMIC_SECTION("offer \"" << offer << "\"") {
      Peer peer(port(), ExtensionOffer{offer});
      CHECK_FALSE(peer.response_header("Sec-WebSocket-Extensions"));
      REQUIRE(peer.send(Frame{.opcode = op::text, .payload = "plain"}));
      peer.send(Frame{.opcode = op::text, .payload = std::string("\xf2\x48\xcd\xc9\xc9\x07\x00", 7), .rsv = 4});
      expect_failed(peer, 1002, {server_wire(op::text, "plain")});
    }
  }
}

TEST_CASE("12.x wslab a ping between the fragments of a compressed message PMD-11 is answered, then the message echoed",
          "[conformance][group12]") {
  // RFC 7692 §6: PMCEs operate on data messages only; RFC 6455 §5.4:
  // control frames may be injected in the middle of a fragmented message.
  Compressed c("permessage-deflate");
  const std::string message = data_set(Data::html).substr(0, 5000);
  auto frames = Compressed::frames(op::text, c.out->message(message), 300);
  REQUIRE(frames.size() >= 3);
  frames.insert(frames.begin() + 2, Frame{.opcode = op::ping, .payload = "between"});
  REQUIRE(c.peer.send(frames));
  expect_wire(c.peer, server_wire(op::pong, "between"));
  c.expect_echo(op::text, message);
  close_normally(c.peer);
}

TEST_CASE("12.x wslab uncompressed messages between compressed ones PMD-12 are echoed as they are",
          "[conformance][group12]") {
  // RFC 7692 §6.2: a message whose first frame has RSV1 clear is not
  // compressed. The peer's compressor keeps its context across the
  // uncompressed message (it never saw it), and so must the server's
  // inflater (§7.2.2: "the LZ77 sliding window used to process the last
  // compressed message").
  Compressed c("permessage-deflate");
  const std::string a = data_set(Data::json).substr(0, 2000);
  c.echo(op::text, a);
  REQUIRE(c.peer.send(Frame{.opcode = op::text, .payload = "not compressed"}));
  c.expect_echo(op::text, "not compressed");
  REQUIRE(c.peer.send(std::vector<Frame>{{.opcode = op::binary, .payload = "in two", .fin = false},
                                         {.opcode = op::cont, .payload = " frames"}}));
  c.expect_echo(op::binary, "in two frames");
  c.echo(op::text, a);  // back-references into the first message
  close_normally(c.peer);
}

TEST_CASE("12.x wslab RFC 7692 7.2.3's example payloads PMD-6 are each inflated to Hello", "[conformance][group12]") {
  // RFC 7692 §7.2.3.1 - §7.2.3.6, byte for byte: a compressed block, the
  // same "Hello" again referring back to the first (§7.2.3.2, context
  // takeover), a block with no compression, a block with BFINAL set, two
  // blocks, and the empty message (0x00).
  Compressed c("permessage-deflate");
  const auto examples = rfc_examples();
  REQUIRE(c.peer.send(Frame{.opcode = op::text, .payload = examples[0].payload, .rsv = 4}));
  c.expect_echo(op::text, "Hello");
  REQUIRE(c.peer.send(Frame{.opcode = op::text, .payload = std::string("\xf2\x00\x11\x00\x00", 5), .rsv = 4}));
  c.expect_echo(op::text, "Hello");
  for (const auto& e : examples) {
    INFO("RFC 7692 §" << e.section);
    REQUIRE(c.peer.send(Frame{.opcode = op::text, .payload = e.payload, .rsv = 4}));
    c.expect_echo(op::text, "Hello");
  }
  // §7.2.3.1's fragmented form: "41 03 f2 48 cd" then "80 04 c9 c9 07 00".
  REQUIRE(c.peer.send(std::vector<Frame>{
      {.opcode = op::text, .payload = std::string("\xf2\x48\xcd", 3), .fin = false, .rsv = 4},
      {.opcode = op::cont, .payload = std::string("\xc9\xc9\x07\x00", 4)}}));
  c.expect_echo(op::text, "Hello");
  REQUIRE(c.peer.send(Frame{.opcode = op::binary, .payload = std::string(1, '\0'), .rsv = 4}));
  c.expect_echo(op::binary, "");
  close_normally(c.peer);
}

TEST_CASE("12.x wslab a compressed text that inflates to invalid UTF-8 U8-2 PMD-6 fails 1007", "[conformance][group12]") {
  // RFC 6455 §8.1 applies to the message's text, which with permessage-
  // deflate is what the payload inflates to (RFC 7692 §6.2); the valid
  // text before it is echoed.
  Compressed c("permessage-deflate");
  c.echo(op::text, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5");  // κόσμε
  c.send(op::text, "valid up to here \xed\xa0\x80 (a UTF-16 surrogate)");
  expect_failed(c.peer, 1007);
}
