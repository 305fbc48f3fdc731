// Chapter 2 tests: the key and the accept value (RFC 6455 §1.3, §4.1 req 7).
#include <Poco/Base64Decoder.h>

#include <catch2/catch.hpp>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <wslab/handshake.hpp>

using namespace wslab::handshake;

namespace {

std::string base64_decode(const std::string& text) {
  std::istringstream in(text);
  Poco::Base64Decoder decoder(in);
  return {std::istreambuf_iterator<char>(decoder), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("HSS-5 compute_accept: the RFC 6455 §1.3 sample key", "[handshake]") {
  const AcceptSteps steps = accept_steps("dGhlIHNhbXBsZSBub25jZQ==");
  CHECK(steps.key == "dGhlIHNhbXBsZSBub25jZQ==");
  CHECK(steps.concatenated == "dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  CHECK(steps.sha1_hex == "b37a4f2cc0624f1690f64606cf385945b2bec4ea");
  CHECK(steps.accept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  CHECK(compute_accept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("HSS-5 accept_steps: the course notes' key, step by step", "[handshake]") {
  const AcceptSteps steps = accept_steps("A1EEou7Nnq6+BBZoAZqWlg==");
  CHECK(steps.concatenated == "A1EEou7Nnq6+BBZoAZqWlg==258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  CHECK(steps.sha1_hex == "713f15ece2218612fcadb1598281a35380d1790f");
  CHECK(steps.accept == "cT8V7OIhhhL8rbFZgoGjU4DReQ8=");
  CHECK(compute_accept("A1EEou7Nnq6+BBZoAZqWlg==") == steps.accept);
}

TEST_CASE("HSS-5 the accept value is the base64 of the 20 raw SHA-1 bytes, not of the hex", "[handshake]") {
  const AcceptSteps steps = accept_steps("dGhlIHNhbXBsZSBub25jZQ==");
  const std::string raw = base64_decode(steps.accept);
  REQUIRE(raw.size() == 20);
  std::string hex;
  for (const char c : raw) {
    static constexpr char digits[] = "0123456789abcdef";
    hex += digits[static_cast<unsigned char>(c) >> 4];
    hex += digits[static_cast<unsigned char>(c) & 0xF];
  }
  CHECK(hex == steps.sha1_hex);
  // A different key gives a different proof.
  CHECK(compute_accept("A1EEou7Nnq6+BBZoAZqWlg==") != steps.accept);
}

TEST_CASE("HSC-5 generate_key: base64 of 16 fresh random bytes per call", "[handshake]") {
  const std::string a = generate_key();
  const std::string b = generate_key();
  CHECK(a != b);
  for (const std::string& key : {a, b}) {
    CHECK(key.size() == 24);
    CHECK(key.ends_with("=="));
    CHECK(base64_decode(key).size() == 16);
  }
  // Many keys, no repeats (a 128-bit nonce repeating here would mean a broken generator).
  std::set<std::string> keys;
  for (int i = 0; i < 1000; ++i) keys.insert(generate_key());
  CHECK(keys.size() == 1000);
}
