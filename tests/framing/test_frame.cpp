// Chapter 3: the frame header model and the encoder (RFC 6455 §5.2, §5.3).
// The §5.7 examples, decoded as well as encoded, are in test_parser.cpp.
#include <catch2/catch.hpp>

#include <wslab/framing.hpp>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

using namespace wslab::framing;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes bytes(std::initializer_list<int> list) {
  Bytes out;
  for (int b : list) out.push_back(static_cast<std::uint8_t>(b));
  return out;
}

Bytes encode(const FrameHeader& h) {
  std::array<std::uint8_t, kMaxHeaderSize> out{};
  const std::size_t n = encode_header(h, out);
  return Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
}

Bytes encode(const FrameHeader& h, LengthForm form) {
  std::array<std::uint8_t, kMaxHeaderSize> out{};
  const std::size_t n = encode_header(h, form, out);
  return Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
}

Bytes as_bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

FrameHeader header(std::uint8_t opcode, std::uint64_t length, bool fin = true) {
  FrameHeader h;
  h.opcode = opcode;
  h.fin = fin;
  h.payload_length = length;
  return h;
}

}  // namespace

TEST_CASE("FR-2 opcode helpers: six defined opcodes, ten reserved, control iff the top bit is set",
          "[framing]") {
  const std::array<const char*, 16> names = {"continuation",
                                             "text",
                                             "binary",
                                             "reserved non-control",
                                             "reserved non-control",
                                             "reserved non-control",
                                             "reserved non-control",
                                             "reserved non-control",
                                             "close",
                                             "ping",
                                             "pong",
                                             "reserved control",
                                             "reserved control",
                                             "reserved control",
                                             "reserved control",
                                             "reserved control"};
  for (std::uint8_t op = 0; op < 16; ++op) {
    INFO("opcode " << int(op));
    CHECK(opcode_name(op) == names[op]);
    CHECK(is_control(op) == (op >= 8));
    const bool defined = op <= 2 || (op >= 8 && op <= 0xA);
    CHECK(is_defined(op) == defined);
  }
  CHECK(static_cast<std::uint8_t>(Opcode::pong) == 0xA);
  CHECK_FALSE(is_defined(0x10));
}

TEST_CASE("FR-3 minimal_length_form switches at 126 and 65536", "[framing]") {
  CHECK(minimal_length_form(0) == LengthForm::len7);
  CHECK(minimal_length_form(125) == LengthForm::len7);
  CHECK(minimal_length_form(126) == LengthForm::len16);
  CHECK(minimal_length_form(65535) == LengthForm::len16);
  CHECK(minimal_length_form(65536) == LengthForm::len64);
  CHECK(minimal_length_form(UINT64_MAX >> 1) == LengthForm::len64);
  CHECK(length_form_name(LengthForm::len7) == "7-bit");
  CHECK(length_form_name(LengthForm::len16) == "16-bit");
  CHECK(length_form_name(LengthForm::len64) == "64-bit");
}

TEST_CASE("FR-3 header_size counts 2 octets, the extended length and the masking key",
          "[framing]") {
  FrameHeader h;
  CHECK(h.header_size() == 2);
  h.length_form = LengthForm::len16;
  CHECK(h.header_size() == 4);
  h.length_form = LengthForm::len64;
  CHECK(h.header_size() == 10);
  h.mask = true;
  CHECK(h.header_size() == kMaxHeaderSize);
  h.length_form = LengthForm::len7;
  CHECK(h.header_size() == 6);
}

TEST_CASE("FR-3 encode_header writes the minimal length form at each boundary", "[framing]") {
  CHECK(encode(header(0x2, 0)) == bytes({0x82, 0x00}));
  CHECK(encode(header(0x2, 125)) == bytes({0x82, 0x7D}));
  CHECK(encode(header(0x2, 126)) == bytes({0x82, 0x7E, 0x00, 0x7E}));
  CHECK(encode(header(0x2, 65535)) == bytes({0x82, 0x7E, 0xFF, 0xFF}));
  CHECK(encode(header(0x2, 65536)) ==
        bytes({0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}));
  CHECK(encode(header(0x2, 0x0123456789ABCDEF)) ==
        bytes({0x82, 0x7F, 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF}));

  SECTION("the length form stored in the header does not matter, the length does") {
    FrameHeader h = header(0x1, 5);
    h.length_form = LengthForm::len64;
    CHECK(encode(h) == bytes({0x81, 0x05}));
  }
}

TEST_CASE("FR-1 encode_header places FIN, RSV1-3, opcode, MASK and the key", "[framing]") {
  FrameHeader h = header(0x0, 3, /*fin=*/false);
  CHECK(encode(h) == bytes({0x00, 0x03}));
  h.rsv1 = true;
  CHECK(encode(h) == bytes({0x40, 0x03}));
  h.rsv1 = false;
  h.rsv2 = true;
  CHECK(encode(h) == bytes({0x20, 0x03}));
  h.rsv2 = false;
  h.rsv3 = true;
  CHECK(encode(h) == bytes({0x10, 0x03}));
  h = header(0xF, 1);  // a reserved opcode can be written, for the composer
  h.rsv1 = h.rsv2 = h.rsv3 = true;
  h.mask = true;
  h.masking_key = {0xDE, 0xAD, 0xBE, 0xEF};
  CHECK(encode(h) == bytes({0xFF, 0x81, 0xDE, 0xAD, 0xBE, 0xEF}));
  CHECK(h.rsv_bits() == (kRsv1 | kRsv2 | kRsv3));
}

TEST_CASE("FR-3 encode_header with an explicit form writes non-minimal lengths on request",
          "[framing]") {
  const FrameHeader h = header(0x1, 5);
  CHECK(encode(h, LengthForm::len7) == bytes({0x81, 0x05}));
  CHECK(encode(h, LengthForm::len16) == bytes({0x81, 0x7E, 0x00, 0x05}));
  CHECK(encode(h, LengthForm::len64) ==
        bytes({0x81, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05}));
  // A 64-bit length with the most significant bit set, which §5.2 forbids on
  // the wire, can still be composed (and is rejected by a parser).
  CHECK(encode(header(0x2, 0x8000000000000000), LengthForm::len64) ==
        bytes({0x82, 0x7F, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}));
}

TEST_CASE("encode_header refuses a length that does not fit the form and a 5-bit opcode",
          "[framing]") {
  std::array<std::uint8_t, kMaxHeaderSize> out{};
  CHECK_THROWS_AS(encode_header(header(0x1, 126), LengthForm::len7, out), std::invalid_argument);
  CHECK_THROWS_AS(encode_header(header(0x1, 65536), LengthForm::len16, out), std::invalid_argument);
  CHECK_THROWS_AS(encode_header(header(0x10, 0), out), std::invalid_argument);
  CHECK(encode_header(header(0x1, 65535), LengthForm::len16, out) == 4);
}

TEST_CASE("MK-5 append_frame masks a copy, keeps the caller's payload and uses its size",
          "[framing]") {
  FrameHeader h = header(0x1, /*length, ignored=*/999);
  h.mask = true;
  h.masking_key = {0x37, 0xfa, 0x21, 0x3d};
  const std::string payload = "Hello";
  std::string out = "prefix";
  append_frame(out, h, payload);
  CHECK(payload == "Hello");
  CHECK(out.substr(0, 6) == "prefix");
  CHECK(as_bytes(out.substr(6)) ==
        bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));

  SECTION("the span overload writes the same bytes") {
    const Bytes raw(payload.begin(), payload.end());
    std::string again = "prefix";
    append_frame(again, h, std::span<const std::uint8_t>(raw));
    CHECK(again == out);
  }
  SECTION("the header is always written in the minimal form") {
    FrameHeader big = header(0x2, 0);
    big.length_form = LengthForm::len64;
    std::string frame;
    append_frame(frame, big, std::string(200, 'x'));
    REQUIRE(frame.size() == 4 + 200);
    CHECK(as_bytes(frame.substr(0, 4)) == bytes({0x82, 0x7E, 0x00, 0xC8}));
  }
  SECTION("an empty payload gives a bare header") {
    std::string frame;
    append_frame(frame, h, std::string_view{});
    CHECK(as_bytes(frame) == bytes({0x81, 0x80, 0x37, 0xfa, 0x21, 0x3d}));
  }
}
