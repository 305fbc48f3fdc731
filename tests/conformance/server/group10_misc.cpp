// Autobahn|Testsuite group 10, miscellaneous: 10.1.1, a 64 KiB text message
// that the sender fragments automatically into 1300-octet frames (RFC 6455
// §5.4: "An intermediary might coalesce and/or split frames"); the receiver
// must reassemble it and the echo is the whole message.
#include <catch2/catch.hpp>

#include "checks.hpp"

using namespace wslab::conformance;

TEST_CASE("10.1.1 a 64 KiB text message in 1300-byte fragments FR-5 FR-6 is echoed whole",
          "[conformance][group10]") {
  std::string text(65536, '*');
  for (std::size_t i = 0; i < text.size(); i += 7) text[i] = static_cast<char>('a' + i % 26);
  std::vector<Frame> frames;
  for (std::size_t at = 0; at < text.size(); at += 1300)
    frames.push_back({.opcode = at == 0 ? op::text : op::cont,
                      .payload = text.substr(at, 1300),
                      .fin = at + 1300 >= text.size()});
  REQUIRE(frames.size() == 51);  // 50 x 1300 + 536
  Peer peer(port());
  REQUIRE(peer.send(frames));
  expect_message(peer, op::text, text);
  close_normally(peer);
}
