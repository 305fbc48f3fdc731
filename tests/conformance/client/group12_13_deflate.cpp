// Autobahn|Testsuite groups 12 and 13, permessage-deflate (RFC 7692), client
// role: the hostile server accepts the client's offer, compresses what it
// sends and inflates the client's echoes with zlib called directly
// (conformance/pmd_zlib.hpp), never with wslab's extensions chapter.
//
// wslab's client offers "permessage-deflate; client_max_window_bits" (its
// defaults; the offer is checked below). As Autobahn's fuzzing server, the
// hostile server sends and the client echoes.
//
// client 12.x: five kinds of data (12.1 JSON text, 12.2 HTML text, 12.3
// prose sent as binary, 12.4 a bitmap, 12.5 random bytes) in Autobahn's 18
// sub-cases (16 B to 128 KiB in one frame, then 8 KiB to 128 KiB with the
// compressed data in frames of 256 B to 32 KiB), the offer accepted as it
// is ("permessage-deflate").
//
// client 13.x: the JSON data under the responses of Autobahn's seven
// server accept functions (13.1 - 13.7: asking the client for
// client_no_context_takeover and client_max_window_bits 8 or 15), then
// wslab's sweeps (client 13.x wslab): every window size in each direction,
// each parameter, the client's own offers (PMD-4), and responses the client
// must refuse. The client's echoes are inflated with exactly the agreed
// client window, and with client_no_context_takeover each from an empty
// window, with payloads that make a client breaking the agreement fail.
//
// Then the strict rules (client 12.x wslab): RSV1 on a continuation or a
// control frame, data that is not DEFLATE, a compression bomb, RSV1
// without the extension, control frames between compressed fragments,
// uncompressed messages, RFC 7692 §7.2.3's examples, UTF-8 after inflating.
#include "conformance/client/hostile_server.hpp"
#include "conformance/pmd_zlib.hpp"

#include <catch2/catch.hpp>

#include <memory>

using namespace wslab;
using namespace wslab::conformance;
using namespace wslab::conformance::pmd;

namespace {

std::uint8_t opcode_of(Data d) { return is_text(d) ? kText : kBinary; }

// One connection on which the hostile server accepted permessage-deflate
// with `response`: its compressor works with the server's side of the
// agreement, its inflater with the client's (RFC 7692 §7.1).
class Compressed {
 public:
  explicit Compressed(const std::string& response, net::ClientOptions options = test_client_options())
      : c(std::move(options)) {
    c.open({}, response);
    // The client's offer, and the response we gave it, as RFC 7692 §7.1
    // reads them (the response must be one the client may accept).
    const auto offer_header = c.server.request_header("Sec-WebSocket-Extensions");
    INFO("request:\n" << c.server.request());
    REQUIRE(offer_header);
    offer = *offer_header;
    const auto offers = parse_extensions(offer);
    REQUIRE(offers.size() == 1);  // one offer, permessage-deflate
    const Verdict v = agree(offers[0], parse_extensions(response).at(0));
    INFO("offer: " << offer << "; response: " << response << "; " << v.problem);
    REQUIRE(v.agreement);
    agreement = *v.agreement;
    out = std::make_unique<Deflater>(agreement.server_max_window_bits, agreement.server_no_context_takeover);
    in = std::make_unique<Inflater>(agreement.client_max_window_bits, agreement.client_no_context_takeover);
  }

  // A message's frames, compressed as a whole (§7.2.1), the data cut into
  // frames of `fragment` octets, RSV1 on the first only (§6).
  static std::string frames(std::uint8_t opcode, const std::string& data, std::size_t fragment) {
    std::string bytes;
    const auto parts = split(data, fragment);
    for (std::size_t i = 0; i < parts.size(); ++i)
      bytes += Frame{.opcode = i == 0 ? opcode : kContinuation, .payload = parts[i], .fin = i + 1 == parts.size(),
                     .rsv = static_cast<std::uint8_t>(i == 0 ? 4 : 0)}
                   .bytes();
    return bytes;
  }
  void send(std::uint8_t opcode, const std::string& message, std::size_t fragment = 0) {
    REQUIRE(c.server.send(frames(opcode, out->message(message), fragment)));
  }

  // The client's next message: masked, RSV1 on its first frame (wslab's
  // client compresses every data message once the extension is agreed),
  // equal to `expected` once inflated with exactly the agreed client window
  // and takeover. Returns the compressed data.
  std::string expect_echo(std::uint8_t opcode, const std::string& expected) {
    std::string data;
    for (bool first = true;; first = false) {
      const ReceivedFrame f = c.expect_frame(10s);  // every client rule (PMD-5 included) checked
      INFO("client frame: " << f.describe());
      REQUIRE(f.opcode == (first ? opcode : kContinuation));
      if (first) CHECK(f.rsv == 4);
      data += f.payload;
      if (f.fin) break;
    }
    const auto inflated = in->message(data);
    INFO("agreement: client window " << agreement.client_max_window_bits << " bits"
                                     << (agreement.client_no_context_takeover ? ", no context takeover" : "")
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

  ClientCase c;
  std::string offer;  // the request's Sec-WebSocket-Extensions
  Agreement agreement;
  std::unique_ptr<Deflater> out;
  std::unique_ptr<Inflater> in;
};

void autobahn_subcases(const std::string& group, Data data, const std::string& response) {
  for (std::size_t i = 0; i < std::size(kSubCases); ++i) {
    const SubCase sc = kSubCases[i];
    const std::size_t count = message_count(sc.size);
    DYNAMIC_SECTION("client " << group << "." << i + 1 << " " << count << " messages of " << size_name(sc.size)
                              << (sc.fragment ? " in frames of " + size_name(sc.fragment)
                                              : std::string(" in one frame"))) {
      Compressed c(response);
      Cutter cut(data);
      for (std::size_t n = 0; n < count; ++n) c.echo(opcode_of(data), cut.next(sc.size), sc.fragment);
      c.c.close_normally();
    }
  }
}

// Messages that exercise the agreement both ways, then a normal close.
void exercise(Compressed& c) {
  const int server_bits = c.agreement.server_max_window_bits;
  const int client_bits = c.agreement.client_max_window_bits;
  // Client to server: the echo of far repeats at 1.5 x 2^client_bits must
  // not reach back that far (PMD-9).
  const std::size_t far_size = client_bits >= 15 ? 6000 : (std::size_t{3} << client_bits) + 1000;
  const std::string far = far_repeats(client_bits, far_size, true, 21);
  REQUIRE(far_repeats_bite(client_bits, far));  // the check can fail (pmd_zlib.hpp)
  c.echo(kText, far);
  // Server to client: repeats just inside the server window, which our
  // compressor uses and the client must inflate.
  const std::size_t near = server_bits >= 10 ? (std::size_t{1} << server_bits) - 300 : 200;
  const std::string block = far_repeats(8, near, false, 22).substr(0, near);
  std::string within;
  while (within.size() < 3 * near + 100) within += block;
  c.echo(kBinary, within);
  // The same message twice (PMD-10), each way.
  Cutter cut(Data::json);
  const std::string twice = cut.next(3000);
  REQUIRE(takeover_bites(twice));
  c.send(kText, twice);
  const std::string first = c.expect_echo(kText, twice);
  c.send(kText, twice);
  const std::string second = c.expect_echo(kText, twice);
  if (c.agreement.client_no_context_takeover) CHECK(second == first);  // same input, same empty window
  c.echo(kText, cut.next(20000), 1000);
  c.echo(kBinary, far_repeats(15, 1500, false, 23));
  c.c.close_normally();
}

net::ClientOptions with_deflate(const extensions::Settings& s) {
  net::ClientOptions o = test_client_options();
  o.permessage_deflate = s;
  return o;
}

}  // namespace

// --- client 12.x ------------------------------------------------------------------------------

TEST_CASE("client 12.1 JSON text compressed, 16 B to 128 KiB, whole and in fragments PMD-5 PMD-6 is echoed",
          "[conformance][group12]") {
  autobahn_subcases("12.1", Data::json, "permessage-deflate");  // RFC 7692 §6, §7.2.1, §7.2.2
}

TEST_CASE("client 12.2 HTML text compressed, 16 B to 128 KiB, whole and in fragments PMD-5 PMD-6 is echoed",
          "[conformance][group12]") {
  autobahn_subcases("12.2", Data::html, "permessage-deflate");  // RFC 7692 §6, §7.2
}

TEST_CASE("client 12.3 prose as binary compressed, 16 B to 128 KiB, whole and in fragments PMD-5 PMD-6 is echoed",
          "[conformance][group12]") {
  autobahn_subcases("12.3", Data::prose, "permessage-deflate");  // RFC 7692 §6, §7.2
}

TEST_CASE("client 12.4 a bitmap compressed, 16 B to 128 KiB, whole and in fragments PMD-5 PMD-6 is echoed",
          "[conformance][group12]") {
  autobahn_subcases("12.4", Data::bitmap, "permessage-deflate");  // RFC 7692 §6, §7.2
}

TEST_CASE("client 12.5 random bytes compressed, 16 B to 128 KiB, whole and in fragments PMD-5 PMD-6 is echoed",
          "[conformance][group12]") {
  autobahn_subcases("12.5", Data::random, "permessage-deflate");  // RFC 7692 §7.2.1: stored blocks
}

// --- client 13.x: Autobahn's seven accept functions -------------------------------------------

TEST_CASE("client 13.1 the offer accepted as it is PMD-3 PMD-10 is echoed", "[conformance][group13]") {
  // Autobahn accept1: nothing asked of the client; context taken over both ways.
  autobahn_subcases("13.1", Data::json, "permessage-deflate");
}

TEST_CASE("client 13.2 client_no_context_takeover in the response PMD-14 PMD-10 each echo from an empty window",
          "[conformance][group13]") {
  // RFC 7692 §7.1.1.2: "A server MAY include the client_no_context_takeover
  // extension parameter in an extension negotiation response" (even though
  // wslab's client did not offer it) and "A client MUST support" it.
  autobahn_subcases("13.2", Data::json, "permessage-deflate; client_no_context_takeover");
}

TEST_CASE("client 13.3 client_max_window_bits=8 in the response PMD-3 PMD-9 echoes within 256 bytes",
          "[conformance][group13]") {
  // RFC 7692 §7.1.2.2: the client offered client_max_window_bits, so the
  // server may limit the client's window; every echo then inflates with an
  // 8-bit window.
  autobahn_subcases("13.3", Data::json, "permessage-deflate; client_max_window_bits=8");
}

TEST_CASE("client 13.4 client_max_window_bits=15 in the response PMD-3 PMD-9 is echoed", "[conformance][group13]") {
  autobahn_subcases("13.4", Data::json, "permessage-deflate; client_max_window_bits=15");  // RFC 7692 §7.1.2.2
}

TEST_CASE("client 13.5 client_no_context_takeover and client_max_window_bits=8 PMD-9 PMD-10 PMD-14 are honoured",
          "[conformance][group13]") {
  autobahn_subcases("13.5", Data::json, "permessage-deflate; client_no_context_takeover; client_max_window_bits=8");
}

TEST_CASE("client 13.6 client_no_context_takeover and client_max_window_bits=15 PMD-10 PMD-14 are honoured",
          "[conformance][group13]") {
  autobahn_subcases("13.6", Data::json, "permessage-deflate; client_no_context_takeover; client_max_window_bits=15");
}

TEST_CASE("client 13.7 the first of three acceptable answers PMD-9 PMD-10 is honoured", "[conformance][group13]") {
  // Autobahn accept7 tries accept5, accept2, accept1 in turn; with wslab's
  // offer (client_max_window_bits) the first applies: the response of 13.5,
  // here with its own connection per sub-case again.
  autobahn_subcases("13.7", Data::json, "permessage-deflate; client_no_context_takeover; client_max_window_bits=8");
}

// --- client 13.x wslab -------------------------------------------------------------------------

TEST_CASE("client 13.x wslab client_max_window_bits 8 to 15 in the response PMD-9 the client compresses within it",
          "[conformance][group13]") {
  // RFC 7692 §7.1.2.2: "By including this extension parameter in an
  // extension negotiation response, a server limits the LZ77 sliding window
  // size that the client uses to compress messages."
  for (int bits = 8; bits <= 15; ++bits) {
    DYNAMIC_SECTION("client_max_window_bits=" << bits) {
      Compressed c("permessage-deflate; client_max_window_bits=" + std::to_string(bits));
      REQUIRE(c.agreement.client_max_window_bits == bits);
      exercise(c);
    }
  }
}

TEST_CASE("client 13.x wslab server_max_window_bits 8 to 15 in the response PMD-9 the client inflates with it",
          "[conformance][group13]") {
  // RFC 7692 §7.1.2.1: "A server MAY include the server_max_window_bits
  // extension parameter in an extension negotiation response even if the
  // extension negotiation offer being accepted by the response didn't
  // include" it; the server then compresses within that window.
  for (int bits = 8; bits <= 15; ++bits) {
    DYNAMIC_SECTION("server_max_window_bits=" << bits) {
      Compressed c("permessage-deflate; server_max_window_bits=" + std::to_string(bits));
      exercise(c);
    }
  }
}

TEST_CASE("client 13.x wslab each parameter and the client's own offers PMD-1 PMD-4 PMD-10 the agreement holds",
          "[conformance][group13]") {
  // RFC 7692 §7.1.1.1, §7.1.1.2, §7.1.2.1, §7.1.2.2.
  struct Setup {
    const char* name;
    extensions::Settings settings;
    const char* response;
  };
  const Setup setups[] = {
      {"server_no_context_takeover added by the server", {}, "permessage-deflate; server_no_context_takeover"},
      {"client_no_context_takeover offered, left out of the response (PMD-4)",
       {.client_no_context_takeover = true},
       "permessage-deflate"},
      {"client_max_window_bits=10 offered, left out of the response", {.client_max_window_bits = 10},
       "permessage-deflate"},
      {"client_max_window_bits=12 offered, lowered to 9", {.client_max_window_bits = 12},
       "permessage-deflate; client_max_window_bits=9"},
      {"server_no_context_takeover and server_max_window_bits=10 offered",
       {.server_no_context_takeover = true, .server_max_window_bits = 10},
       "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"},
      {"server_max_window_bits=12 offered, answered with 9", {.server_max_window_bits = 12},
       "permessage-deflate; server_max_window_bits=9"},
      {"everything at 8 bits",
       {},
       "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8; "
       "client_max_window_bits=8"},
  };
  for (const Setup& s : setups) {
    DYNAMIC_SECTION(s.name) {
      Compressed c(s.response, with_deflate(s.settings));
      exercise(c);
    }
  }
}

TEST_CASE("client 13.x wslab a response the client must refuse PMD-2 PMD-3 fails the connection 1006",
          "[conformance][group13]") {
  // RFC 7692 §7: "A client MUST _Fail the WebSocket Connection_ if the peer
  // server accepted an extension negotiation offer for this extension with
  // an extension negotiation response meeting any of the following
  // conditions" (a parameter not defined for a response, an invalid value,
  // a parameter twice, a configuration the client does not support); §5:
  // two elements both using RSV1; §7.1.1.1, §7.1.2.1: the response must
  // honour what the offer asked of the server. The connection never opens:
  // onerror names the rule, onclose reports 1006, nothing is sent.
  struct Refused {
    const char* response;
    extensions::Settings settings;
    error rule;
  };
  const Refused cases[] = {
      {"permessage-deflate; x-unknown", {}, error::bad_deflate_parameter},
      {"permessage-deflate; server_no_context_takeover; server_no_context_takeover", {}, error::bad_deflate_parameter},
      {"permessage-deflate; client_no_context_takeover=yes", {}, error::bad_deflate_parameter},
      {"permessage-deflate; client_max_window_bits", {}, error::bad_deflate_parameter},
      {"permessage-deflate; server_max_window_bits=16", {}, error::bad_deflate_parameter},
      {"permessage-deflate; client_max_window_bits=08", {}, error::bad_deflate_parameter},
      {"permessage-deflate, permessage-deflate", {}, error::rsv1_conflict},
      {"permessage-deflate", {.server_no_context_takeover = true}, error::deflate_response_mismatch},
      {"permessage-deflate", {.server_max_window_bits = 10}, error::deflate_response_mismatch},
      {"permessage-deflate; server_max_window_bits=11", {.server_max_window_bits = 10},
       error::deflate_response_mismatch},
      {"permessage-deflate; client_max_window_bits=11", {.client_max_window_bits = 10},
       error::deflate_response_mismatch},
  };
  for (const Refused& r : cases) {
    DYNAMIC_SECTION(r.response << " (rule " << wslab::rule(r.rule).name << ")") {
      // The test's own reading agrees that the response is one to refuse.
      HostileServer server;
      net::ClientOptions options = with_deflate(r.settings);
      options.handshake_timeout = 2s;
      EchoClient client(server.url(), options);
      client.ws.connect();
      REQUIRE(server.accept());
      REQUIRE(server.read_request());
      const auto offer = server.request_header("Sec-WebSocket-Extensions");
      REQUIRE(offer);
      const auto response = parse_extensions(r.response);
      CHECK((response.size() > 1 || !agree(parse_extensions(*offer).at(0), response.at(0)).agreement));
      server.send(server.response_101("Sec-WebSocket-Extensions: " + std::string(r.response) + "\r\n"));
      REQUIRE(client.events.wait_close(4s));
      CHECK_FALSE(client.events.opened());
      const Violation v = reported_violation(client);
      CHECK(v.rule().name == wslab::rule(r.rule).name);
      CHECK(client.events.error()->message.find(std::string(wslab::rule(r.rule).section)) != std::string::npos);
      const auto closed = client.events.closed();
      REQUIRE(closed);
      CHECK(closed->code == 1006);  // RFC 6455 §7.1.5: no Close frame
      CHECK_FALSE(closed->wasClean);
      const auto after = server.next(3s);
      CHECK(after.what == HostileServer::Got::closed);
      CHECK(server.frames().empty());
    }
  }
}

// --- client 12.x wslab: the strict rules --------------------------------------------------------

TEST_CASE("client 12.x wslab RSV1 on a continuation frame PMD-5 fails 1002", "[conformance][group12]") {
  // RFC 7692 §6: "An endpoint MUST NOT set the "Per-Message Compressed" bit
  // of control frames and non-first fragments of a data message. An
  // endpoint receiving such a frame MUST _Fail the WebSocket Connection_."
  Compressed c("permessage-deflate");
  c.echo(kText, "first, fine");
  const std::string data = c.out->message("second, with RSV1 twice");
  REQUIRE(c.c.server.send(Frame{.opcode = kText, .payload = data.substr(0, 6), .fin = false, .rsv = 4}.bytes() +
                          Frame{.opcode = kContinuation, .payload = data.substr(6), .rsv = 4}.bytes()));
  c.c.expect_failure(1002, error::compressed_continuation);
}

TEST_CASE("client 12.x wslab RSV1 on a control frame PMD-5 PMD-11 fails 1002 without answering it",
          "[conformance][group12]") {
  // RFC 7692 §6 (as above). The message before it is echoed; the ping after
  // it is not answered (RFC 6455 §7.1.7).
  const std::pair<const char*, std::string> bad[] = {
      {"ping", Frame{.opcode = kPing, .payload = "p", .rsv = 4}.bytes()},
      {"pong", Frame{.opcode = kPong, .payload = "p", .rsv = 4}.bytes()},
      {"close", Frame{.opcode = kClose, .payload = std::string("\x03\xe8", 2), .rsv = 4}.bytes()},
  };
  for (const auto& [name, frame] : bad) {
    DYNAMIC_SECTION("RSV1 on a " << name) {
      Compressed c("permessage-deflate");
      REQUIRE(c.c.server.send(Compressed::frames(kText, c.out->message("before"), 0) + frame + ping("after")));
      c.expect_echo(kText, "before");
      c.c.expect_failure(1002, error::compressed_control_frame);
    }
  }
}

TEST_CASE("client 12.x wslab a compressed payload that does not inflate PMD-13 fails 1007", "[conformance][group12]") {
  // RFC 7692 §7.2.2; RFC 6455 §7.4.1 (1007: data not consistent with the
  // message's type), §10.7.
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
      c.echo(kBinary, "before");
      REQUIRE(c.c.server.send(Frame{.opcode = kBinary, .payload = payload, .rsv = 4}.bytes()));
      c.c.expect_failure(1007, error::bad_compressed_data);
    }
  }
}

TEST_CASE("client 12.x wslab a compression bomb PMD-7 fails 1009 while inflating, before its frame ends",
          "[conformance][group12]") {
  // RFC 6455 §10.4: the limit on a message's size applies to what it
  // inflates to. The client's limit here is 1 MiB; 8 MiB of zeros compress
  // to about 8 KiB; the server sends the header and the first half of the
  // data (4 MiB of zeros) and nothing more: the client must fail with 1009
  // while inflating.
  net::ClientOptions o = test_client_options();
  o.max_message_size = 1u << 20;
  const std::string bomb = compressed_zeros(std::size_t{8} << 20);
  REQUIRE(bomb.size() < 16 * 1024);
  const std::string frame = Frame{.opcode = kBinary, .payload = bomb, .rsv = 4}.bytes();
  Compressed c("permessage-deflate", o);
  c.echo(kBinary, std::string(1000, '\0'));
  REQUIRE(c.c.server.send(frame.substr(0, frame.size() / 2)));
  c.c.expect_failure(1009, error::inflated_too_big);
}

TEST_CASE("client 12.x wslab RSV1 without permessage-deflate agreed FR-1 EX-1 fails 1002", "[conformance][group12]") {
  // RFC 6455 §5.2. The client offered permessage-deflate; the 101 did not
  // accept it; a compressed "Hello" (RFC 7692 §7.2.3.1) is then a protocol
  // error, after the plain text before it is echoed.
  ClientCase c;
  c.open(text("plain") + Frame{.opcode = kText, .payload = std::string("\xf2\x48\xcd\xc9\xc9\x07\x00", 7), .rsv = 4}.bytes());
  REQUIRE(c.server.request_header("Sec-WebSocket-Extensions"));
  c.expect_echo(kText, "plain");
  c.expect_failure(1002, error::bad_reserved_bits);
}

TEST_CASE("client 12.x wslab a ping between the fragments of a compressed message PMD-11 is answered, then the message echoed",
          "[conformance][group12]") {
  // RFC 7692 §6: PMCEs operate on data messages only; RFC 6455 §5.4.
  Compressed c("permessage-deflate");
  const std::string message = data_set(Data::html).substr(0, 5000);
  const auto parts = split(c.out->message(message), 300);
  REQUIRE(parts.size() >= 3);
  std::string bytes;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i == 2) bytes += ping("between");
    bytes += Frame{.opcode = i == 0 ? kText : kContinuation, .payload = parts[i], .fin = i + 1 == parts.size(),
                   .rsv = static_cast<std::uint8_t>(i == 0 ? 4 : 0)}
                 .bytes();
  }
  REQUIRE(c.c.server.send(bytes));
  c.c.expect_pong("between");
  c.expect_echo(kText, message);
  c.c.close_normally();
}

TEST_CASE("client 12.x wslab uncompressed messages between compressed ones PMD-12 are echoed as they are",
          "[conformance][group12]") {
  // RFC 7692 §6.2: RSV1 clear, the message is taken as it is; the client's
  // inflater keeps the window of the last compressed message (§7.2.2).
  Compressed c("permessage-deflate");
  const std::string a = data_set(Data::json).substr(0, 2000);
  c.echo(kText, a);
  REQUIRE(c.c.server.send(text("not compressed")));
  c.expect_echo(kText, "not compressed");
  REQUIRE(c.c.server.send(binary("in two", false) + continuation(" frames")));
  c.expect_echo(kBinary, "in two frames");
  c.echo(kText, a);
  c.c.close_normally();
}

TEST_CASE("client 12.x wslab RFC 7692 7.2.3's example payloads PMD-6 are each inflated to Hello",
          "[conformance][group12]") {
  // RFC 7692 §7.2.3.1 - §7.2.3.6, byte for byte (see the server role).
  Compressed c("permessage-deflate");
  const auto examples = rfc_examples();
  REQUIRE(c.c.server.send(Frame{.opcode = kText, .payload = examples[0].payload, .rsv = 4}.bytes()));
  c.expect_echo(kText, "Hello");
  REQUIRE(c.c.server.send(Frame{.opcode = kText, .payload = std::string("\xf2\x00\x11\x00\x00", 5), .rsv = 4}.bytes()));
  c.expect_echo(kText, "Hello");
  for (const auto& e : examples) {
    INFO("RFC 7692 §" << e.section);
    REQUIRE(c.c.server.send(Frame{.opcode = kText, .payload = e.payload, .rsv = 4}.bytes()));
    c.expect_echo(kText, "Hello");
  }
  REQUIRE(c.c.server.send(Frame{.opcode = kText, .payload = std::string("\xf2\x48\xcd", 3), .fin = false, .rsv = 4}.bytes() +
                          continuation(std::string("\xc9\xc9\x07\x00", 4))));
  c.expect_echo(kText, "Hello");
  REQUIRE(c.c.server.send(Frame{.opcode = kBinary, .payload = std::string(1, '\0'), .rsv = 4}.bytes()));
  c.expect_echo(kBinary, "");
  c.c.close_normally();
}

TEST_CASE("client 12.x wslab a compressed text that inflates to invalid UTF-8 U8-2 PMD-6 fails 1007",
          "[conformance][group12]") {
  // RFC 6455 §8.1 on the inflated text (RFC 7692 §6.2).
  Compressed c("permessage-deflate");
  c.echo(kText, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5");
  c.send(kText, "valid up to here \xed\xa0\x80 (a UTF-16 surrogate)");
  c.c.expect_failure(1007, error::bad_utf8);
}
