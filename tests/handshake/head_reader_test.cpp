// Chapter 2 tests: collecting an HTTP head from a byte stream, within limits
// (RFC 6455 §4.2.1, §10.7).
#include <catch2/catch.hpp>
#include <string>
#include <wslab/handshake.hpp>

using namespace wslab::handshake;
using wslab::error;
using Status = HeadReader::Status;

namespace {

const std::string kSampleRequest =
    "GET /chat HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: http://example.com\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

// The first bytes of a masked WebSocket frame, sent right after the head.
const std::string kFrameBytes = "\x81\x85\x37\xfa\x21\x3d";

}  // namespace

TEST_CASE("INV-1 HeadReader fed one byte at a time completes exactly at the blank line", "[handshake]") {
  HeadReader reader;
  const std::string stream = kSampleRequest + kFrameBytes;
  std::size_t total = 0;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    std::size_t consumed = 99;
    const Status status = reader.feed(std::string_view(stream).substr(i, 1), consumed);
    if (i + 1 < kSampleRequest.size()) {
      INFO("byte " << i);
      REQUIRE(status == Status::need_more);
      REQUIRE(consumed == 1);
    } else if (i + 1 == kSampleRequest.size()) {
      CHECK(status == Status::complete);
      CHECK(consumed == 1);
    } else {
      // After the head, nothing more is taken: the frame bytes are the next layer's.
      CHECK(status == Status::complete);
      CHECK(consumed == 0);
    }
    total += consumed;
  }
  CHECK(total == kSampleRequest.size());
  CHECK(reader.head() == kSampleRequest);
  CHECK(reader.status() == Status::complete);
}

TEST_CASE("INV-1 HeadReader does not consume the bytes after the blank line", "[handshake]") {
  HeadReader reader;
  std::size_t consumed = 0;
  CHECK(reader.feed(kSampleRequest + kFrameBytes, consumed) == Status::complete);
  CHECK(consumed == kSampleRequest.size());
  CHECK(reader.head() == kSampleRequest);
  REQUIRE(parse_request(reader.head()).ok());
}

TEST_CASE("INV-1 HeadReader gives the same head however the stream is split", "[handshake]") {
  const std::size_t split = GENERATE(range<std::size_t>(0, 40));
  const std::string stream = kSampleRequest + kFrameBytes;
  HeadReader reader;
  std::size_t first = 0;
  std::size_t second = 0;
  const std::size_t at = split * kSampleRequest.size() / 40;  // always inside the head
  const Status s1 = reader.feed(std::string_view(stream).substr(0, at), first);
  CHECK(s1 == Status::need_more);
  CHECK(first == at);
  CHECK(reader.feed(std::string_view(stream).substr(at), second) == Status::complete);
  CHECK(first + second == kSampleRequest.size());
  CHECK(reader.head() == kSampleRequest);
}

TEST_CASE("INV-1 request_too_large (431): fails as soon as the byte limit is crossed, mid-line",
          "[handshake]") {
  HeadReader reader(Limits{64, 100});
  // One header line far longer than the limit, arriving in one piece: the
  // reader must stop at the limit, not buffer the 100 000 bytes.
  const std::string stream = "GET / HTTP/1.1\r\nX-Long: " + std::string(100000, 'a') + "\r\n\r\n";
  std::size_t consumed = 0;
  CHECK(reader.feed(stream, consumed) == Status::failed);
  CHECK(consumed == 64);
  CHECK(reader.head().size() == 64);
  CHECK(reader.violation().id() == error::request_too_large);
  CHECK(reader.violation().http_status() == 431);
  CHECK(reader.violation().detail() == "request head is longer than the 64-byte limit");
  // A failed reader stays failed and takes nothing more.
  CHECK(reader.feed("\r\n\r\n", consumed) == Status::failed);
  CHECK(consumed == 0);
}

TEST_CASE("INV-1 request_too_large: the limit counts request line, headers and blank line", "[handshake]") {
  const std::string head = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";  // 27 bytes
  REQUIRE(head.size() == 27);
  SECTION("a head of exactly max_header_bytes completes") {
    HeadReader reader(Limits{27, 100});
    std::size_t consumed = 0;
    CHECK(reader.feed(head, consumed) == Status::complete);
    CHECK(consumed == 27);
  }
  SECTION("one byte less fails on the last byte of the blank line") {
    HeadReader reader(Limits{26, 100});
    std::size_t total = 0;
    Status status = Status::need_more;
    for (std::size_t i = 0; i < head.size() && status == Status::need_more; ++i) {
      std::size_t consumed = 0;
      status = reader.feed(std::string_view(head).substr(i, 1), consumed);
      total += consumed;
    }
    CHECK(status == Status::failed);
    CHECK(total == 26);
    CHECK(reader.violation().id() == error::request_too_large);
  }
}

TEST_CASE("INV-1 too_many_headers (431): fails at the first byte of one header line too many",
          "[handshake]") {
  HeadReader reader(Limits{8192, 3});
  const std::string head = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
  const std::size_t fourth = head.find("D:");
  for (std::size_t i = 0; i < head.size(); ++i) {
    std::size_t consumed = 0;
    const Status status = reader.feed(std::string_view(head).substr(i, 1), consumed);
    if (i < fourth) {
      INFO("byte " << i);
      REQUIRE(status == Status::need_more);
    } else {
      CHECK(i == fourth);
      CHECK(status == Status::failed);
      break;
    }
  }
  CHECK(reader.violation().id() == error::too_many_headers);
  CHECK(reader.violation().http_status() == 431);
  CHECK(reader.violation().detail() == "request has more than 3 header lines");

  SECTION("exactly max_header_lines header lines are fine") {
    HeadReader ok(Limits{8192, 4});
    std::size_t consumed = 0;
    CHECK(ok.feed(head, consumed) == Status::complete);
  }
}

TEST_CASE("INV-1 response_too_large: a client reading a response has one error for both limits",
          "[handshake]") {
  const std::string response =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
  std::size_t consumed = 0;

  HeadReader by_bytes(Limits{40, 100}, /*response=*/true);
  CHECK(by_bytes.feed(response, consumed) == Status::failed);
  CHECK(by_bytes.violation().id() == error::response_too_large);
  CHECK(by_bytes.violation().detail() == "response head is longer than the 40-byte limit");
  // The client just fails: no close code, no HTTP status.
  CHECK(by_bytes.violation().http_status() == 0);
  CHECK(by_bytes.violation().close_code() == 0);

  HeadReader by_lines(Limits{8192, 1}, /*response=*/true);
  CHECK(by_lines.feed(response, consumed) == Status::failed);
  CHECK(by_lines.violation().id() == error::response_too_large);
  CHECK(by_lines.violation().detail() == "response has more than 1 header lines");
}

TEST_CASE("HeadReader tolerates bare LF line endings and blank lines before the request line",
          "[handshake]") {
  SECTION("LF only") {
    HeadReader reader;
    const std::string head = "GET / HTTP/1.1\nHost: h\n\nrest";
    std::size_t consumed = 0;
    CHECK(reader.feed(head, consumed) == Status::complete);
    CHECK(consumed == head.size() - 4);
    const auto request = parse_request(reader.head());
    REQUIRE(request.ok());
    CHECK(*request->headers.find("Host") == "h");
  }
  SECTION("leading CRLFs (RFC 7230 §3.5) do not end the head") {
    HeadReader reader;
    const std::string head = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
    std::size_t consumed = 0;
    CHECK(reader.feed(head, consumed) == Status::complete);
    CHECK(consumed == head.size());
    const auto request = parse_request(reader.head());
    REQUIRE(request.ok());
    CHECK(request->method == "GET");
  }
  SECTION("a CR inside a line is content, not the end of the head") {
    HeadReader reader;
    std::size_t consumed = 0;
    CHECK(reader.feed("GET / HTTP/1.1\r\n\r\r\n", consumed) == Status::need_more);
  }
}
