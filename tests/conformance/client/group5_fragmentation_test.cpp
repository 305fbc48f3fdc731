// Autobahn group 5, client role: fragmentation (RFC 6455 §5.4, FR-5, FR-6).
// A fragmented message is one frame with FIN clear and opcode text/binary,
// continuations, the last with FIN set; control frames may come in between
// and are answered at once; control frames are never fragmented (§5.5,
// FR-4); a continuation with nothing to continue, or a new data frame while
// a message is open, fails the connection with 1002. The same bytes are sent
// whole, in frame-wise chops and in octet-wise chops: the client must be
// agnostic to how TCP cuts the stream.
#include "conformance/client/hostile_server.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace wslab;
using namespace wslab::conformance;

namespace {

enum class Chops { none, frames, octets };

const char* chops_name(Chops chops) {
  switch (chops) {
    case Chops::none: return "in one write";
    case Chops::frames: return "in frame-wise chops";
    case Chops::octets: return "in octet-wise chops";
  }
  return "";
}

// Sends `frames` as `chops` says. After a failure the client closes TCP, so
// later pieces may not be taken: that is not checked here.
void send(ClientCase& c, const std::vector<std::string>& frames, Chops chops) {
  std::string all;
  for (const auto& f : frames) all += f;
  switch (chops) {
    case Chops::none: c.server.send(all); break;
    case Chops::frames: c.server.send_frames(frames, 5ms); break;
    case Chops::octets: c.server.send_chopped(all, 1); break;
  }
}

}  // namespace

TEST_CASE("client 5.1 a ping in 2 fragments FR-4 fails 1002", "[conformance][group5]") {
  // RFC 6455 §5.5: "Control frames themselves MUST NOT be fragmented."
  ClientCase c;
  c.open();
  send(c, {Frame{.opcode = kPing, .payload = "fragment1", .fin = false}.bytes(), continuation("fragment2")},
       Chops::none);
  c.expect_failure(1002, error::bad_control_fragment);
}

TEST_CASE("client 5.2 a pong in 2 fragments FR-4 fails 1002", "[conformance][group5]") {
  ClientCase c;  // RFC 6455 §5.5
  c.open();
  send(c, {Frame{.opcode = kPong, .payload = "fragment1", .fin = false}.bytes(), continuation("fragment2")},
       Chops::none);
  c.expect_failure(1002, error::bad_control_fragment);
}

TEST_CASE("client 5.3-5.5 a text message in 2 fragments FR-6 is echoed as one message", "[conformance][group5]") {
  // RFC 6455 §5.4: an endpoint MUST accept fragmented messages; 5.3 in one
  // write, 5.4 in octet-wise chops, 5.5 in frame-wise chops.
  const std::pair<const char*, Chops> cases[] = {{"5.3", Chops::none}, {"5.4", Chops::octets}, {"5.5", Chops::frames}};
  for (const auto& [id, chops] : cases) {
    DYNAMIC_SECTION(id << " " << chops_name(chops)) {
      ClientCase c;
      c.open();
      send(c, {text("fragment1", false), continuation("fragment2")}, chops);
      c.expect_echo(kText, "fragment1fragment2");
      c.close_normally();
    }
  }
}

TEST_CASE("client 5.6-5.8 a ping between 2 text fragments FR-6 is answered before the message completes",
          "[conformance][group5]") {
  // RFC 6455 §5.4: "Control frames MAY be injected in the middle of a
  // fragmented message"; §5.5.3: the pong "as soon as is practical", so
  // before the echo of the message that is not complete yet.
  const std::pair<const char*, Chops> cases[] = {{"5.6", Chops::none}, {"5.7", Chops::octets}, {"5.8", Chops::frames}};
  for (const auto& [id, chops] : cases) {
    DYNAMIC_SECTION(id << " " << chops_name(chops)) {
      ClientCase c;
      c.open();
      send(c, {text("fragment1", false), ping("ping payload"), continuation("fragment2")}, chops);
      c.expect_pong("ping payload");
      c.expect_echo(kText, "fragment1fragment2");
      c.close_normally();
    }
  }
}

TEST_CASE("client 5.9-5.11 a continuation FIN=1 with nothing to continue FR-5 fails 1002", "[conformance][group5]") {
  // RFC 6455 §5.4: continuation frames follow a first frame with FIN clear.
  const std::pair<const char*, Chops> cases[] = {{"5.9", Chops::none}, {"5.10", Chops::octets}, {"5.11", Chops::frames}};
  for (const auto& [id, chops] : cases) {
    DYNAMIC_SECTION(id << " " << chops_name(chops)) {
      ClientCase c;
      c.open();
      send(c, {continuation("non-continuation payload", true), text("Hello, world!")}, chops);
      c.expect_failure(1002, error::bad_continuation);  // and the text after it is not echoed
    }
  }
}

TEST_CASE("client 5.12-5.14 a continuation FIN=0 with nothing to continue FR-5 fails 1002", "[conformance][group5]") {
  // RFC 6455 §5.4.
  const std::pair<const char*, Chops> cases[] = {
      {"5.12", Chops::none}, {"5.13", Chops::octets}, {"5.14", Chops::frames}};
  for (const auto& [id, chops] : cases) {
    DYNAMIC_SECTION(id << " " << chops_name(chops)) {
      ClientCase c;
      c.open();
      send(c, {continuation("non-continuation payload", false), text("Hello, world!")}, chops);
      c.expect_failure(1002, error::bad_continuation);
    }
  }
}

TEST_CASE("client 5.15 a fragmented message, a stray continuation, a text FR-5 echoes the first then fails 1002",
          "[conformance][group5]") {
  // RFC 6455 §5.4, §7.1.7: the complete message before the bad frame is
  // processed (echoed); the stray continuation fails the connection.
  ClientCase c;
  c.open();
  send(c,
       {text("fragment1", false), continuation("fragment2", true), continuation("fragment3", false),
        text("fragment4")},
       Chops::none);
  c.expect_echo(kText, "fragment1fragment2");
  c.expect_failure(1002, error::bad_continuation);
}

TEST_CASE("client 5.16 twice a stray continuation FIN=0 then a fragmented text FR-5 fails 1002 at once",
          "[conformance][group5]") {
  ClientCase c;  // RFC 6455 §5.4
  c.open();
  std::vector<std::string> frames;
  for (int i = 0; i < 2; ++i) {
    frames.push_back(continuation("fragment1", false));
    frames.push_back(text("fragment2", false));
    frames.push_back(continuation("fragment3", true));
  }
  send(c, frames, Chops::none);
  c.expect_failure(1002, error::bad_continuation);
}

TEST_CASE("client 5.17 twice a stray continuation FIN=1 then a fragmented text FR-5 fails 1002 at once",
          "[conformance][group5]") {
  ClientCase c;  // RFC 6455 §5.4
  c.open();
  std::vector<std::string> frames;
  for (int i = 0; i < 2; ++i) {
    frames.push_back(continuation("fragment1", true));
    frames.push_back(text("fragment2", false));
    frames.push_back(continuation("fragment3", true));
  }
  send(c, frames, Chops::none);
  c.expect_failure(1002, error::bad_continuation);
}

TEST_CASE("client 5.18 a text message in 2 fragments both with opcode text FR-5 fails 1002", "[conformance][group5]") {
  // RFC 6455 §5.4: the fragments after the first are continuations; "the
  // fragments of one message MUST NOT be interleaved".
  ClientCase c;
  c.open();
  send(c, {text("fragment1", false), text("fragment2")}, Chops::none);
  c.expect_failure(1002, error::bad_data_frame);
}

TEST_CASE("client 5.19-5.20 a text in 5 fragments with 2 pings between FR-6 answers the first ping at once",
          "[conformance][group5]") {
  // RFC 6455 §5.4, §5.5.3. 5.19 writes each group at once, 5.20 frame by
  // frame. The first pong must come while the message is still open: the
  // rest is sent only after it arrived (Autobahn waits 1 s; 100 ms here).
  const std::pair<const char*, Chops> cases[] = {{"5.19", Chops::none}, {"5.20", Chops::frames}};
  for (const auto& [id, chops] : cases) {
    DYNAMIC_SECTION(id << " " << chops_name(chops)) {
      ClientCase c;
      c.open();
      send(c, {text("fragment1", false), continuation("fragment2", false), ping("pongme 1!")}, chops);
      c.expect_pong("pongme 1!");
      std::this_thread::sleep_for(100ms);
      send(c,
           {continuation("fragment3", false), continuation("fragment4", false), ping("pongme 2!"),
            continuation("fragment5", true)},
           chops);
      c.expect_pong("pongme 2!");
      c.expect_echo(kText, "fragment1fragment2fragment3fragment4fragment5");
      c.close_normally();
    }
  }
}

TEST_CASE("client 5.x (wslab) a binary message in 4 fragments, some empty, FR-6 is echoed as one binary message",
          "[conformance][group5]") {
  // RFC 6455 §5.4: fragments may be empty; the opcode of the first decides.
  ClientCase c;
  c.open();
  const std::string part(std::string("\x00\xff\x10", 3));
  send(c, {binary("", false), continuation(part, false), continuation("", false), continuation(part, true)},
       Chops::octets);
  c.expect_echo(kBinary, part + part);
  c.close_normally();
}

TEST_CASE("client 5.x (wslab) a binary frame inside an open text message FR-5 fails 1002", "[conformance][group5]") {
  ClientCase c;  // RFC 6455 §5.4: no interleaving
  c.open();
  send(c, {text("fragment1", false), binary("intruder"), continuation("fragment2")}, Chops::none);
  c.expect_failure(1002, error::bad_data_frame);
}
