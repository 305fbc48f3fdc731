// wslab-viz itself, headless: a known trace is replayed under Xvfb (started
// here), the Frame panel rendered to a PNG, and the PNG checked: its size,
// and the colour of known bit cells of the selected frame at the positions
// the geometry function (bit_layout) gives, from the diagram origin the app
// prints. Compiled only when wslab-viz is built (WSLAB_VIZ_PATH), so a build
// without ImGui has no such test rather than one that passes doing nothing.
#ifdef WSLAB_VIZ_PATH

#include <wslab/trace.hpp>
#include <wslab/viz/bit_layout.hpp>

#include <catch2/catch.hpp>
#include <stb_image.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace wslab;
using connection::Direction;
using connection::ReadyState;

constexpr std::array<std::uint8_t, 4> kKey{0x37, 0xfa, 0x21, 0x3d};

// Frame 1: what the test looks at. A client's binary frame of 300 bytes:
// masked, and with a 16-bit extended length (126, then 0x012C), so the
// diagram has every field but the 64-bit length.
trace::Frame binary_frame() {
  trace::Frame f;
  f.conn = 1;
  f.time = 2000;
  f.seq = 1;
  f.direction = Direction::received;
  f.fin = true;
  f.opcode = 0x2;
  f.mask = true;
  f.payload_length = 300;
  f.length_form = "16-bit";
  f.masking_key = kKey;
  f.raw_header = {0x82, 0x80 | 126, 0x01, 0x2C, kKey[0], kKey[1], kKey[2], kKey[3]};
  for (std::size_t i = 0; i < 64; ++i) {
    f.preview.push_back(static_cast<std::uint8_t>(i * 7));
    f.preview_masked.push_back(static_cast<std::uint8_t>((i * 7) ^ kKey[i % 4]));
  }
  return f;
}

// handshake, the binary frame, a text echo, the close handshake.
std::vector<trace::Event> known_trace() {
  std::vector<trace::Event> events;
  events.push_back(trace::Hello{.source = "test_screenshot", .started_at = "2026-01-01T00:00:00Z", .preview_bytes = 64});
  events.push_back(trace::ConnectionOpen{.conn = 1, .time = 0, .role = Role::server, .peer = "127.0.0.1:40000",
                                         .resource = "/ws"});
  events.push_back(trace::Handshake{.conn = 1, .time = 1000, .direction = Direction::received, .request = true,
                                    .start_line = "GET /ws HTTP/1.1",
                                    .headers = {{"Host", "127.0.0.1:8080"},
                                                {"Upgrade", "websocket"},
                                                {"Connection", "Upgrade"},
                                                {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                                                {"Sec-WebSocket-Version", "13"}}});
  events.push_back(trace::Handshake{.conn = 1, .time = 1000, .direction = Direction::sent, .request = false,
                                    .start_line = "HTTP/1.1 101 Switching Protocols",
                                    .headers = {{"Upgrade", "websocket"},
                                                {"Connection", "Upgrade"},
                                                {"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}}});
  events.push_back(trace::Transition{.conn = 1, .time = 1000, .from = ReadyState::CONNECTING,
                                     .to = ReadyState::OPEN, .cause = "handshake accepted"});
  events.push_back(binary_frame());
  trace::Frame text;
  text.conn = 1;
  text.time = 3000;
  text.seq = 2;
  text.direction = Direction::sent;
  text.opcode = 0x1;
  text.payload_length = 5;
  text.length_form = "7-bit";
  text.raw_header = {0x81, 0x05};
  text.preview = {'H', 'e', 'l', 'l', 'o'};
  text.preview_masked = text.preview;
  events.push_back(text);
  trace::Frame close = text;
  close.seq = 3;
  close.time = 4000;
  close.direction = Direction::received;
  close.opcode = 0x8;
  close.mask = true;
  close.masking_key = kKey;
  close.payload_length = 2;
  close.raw_header = {0x88, 0x82, kKey[0], kKey[1], kKey[2], kKey[3]};
  close.preview = {0x03, 0xE8};
  close.preview_masked = {0x03 ^ kKey[0], 0xE8 ^ kKey[1]};
  close.close_code = 1000;
  events.push_back(close);
  events.push_back(trace::Transition{.conn = 1, .time = 4000, .from = ReadyState::OPEN, .to = ReadyState::CLOSING,
                                     .cause = "received close 1000"});
  events.push_back(trace::ConnectionClose{.conn = 1, .time = 5000, .code = 1000, .was_clean = true});
  return events;
}

// A display number nobody uses (no lock file, no socket), from `first` on.
std::optional<int> free_display(int first) {
  for (int n = first; n < 300; ++n) {
    if (!fs::exists("/tmp/.X" + std::to_string(n) + "-lock") &&
        !fs::exists("/tmp/.X11-unix/X" + std::to_string(n))) {
      return n;
    }
  }
  return std::nullopt;
}

// Xvfb on :n for as long as this object lives.
class Xvfb {
 public:
  explicit Xvfb(int display) : display_(display) {
    const std::string name = ":" + std::to_string(display);
    std::vector<std::string> args{"Xvfb", name, "-screen", "0", "1280x800x24", "-nolisten", "tcp"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid_, "Xvfb", &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Xvfb() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  Xvfb(const Xvfb&) = delete;
  Xvfb& operator=(const Xvfb&) = delete;

  // Waits (up to 10 s) until the server takes connections.
  bool ready() const {
    if (pid_ <= 0) return false;
    const std::string socket = "/tmp/.X11-unix/X" + std::to_string(display_);
    for (int i = 0; i < 200; ++i) {
      if (fs::exists(socket)) return true;
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return false;  // it exited
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

 private:
  int display_;
  pid_t pid_ = -1;
};

bool xvfb_installed() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && access((fs::path(dir) / "Xvfb").c_str(), X_OK) == 0) return true;
  }
  return false;
}

struct Run {
  int status = -1;
  std::string output;
};

Run run(const std::string& command) {
  Run r;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct Image {
  int width = 0, height = 0;
  std::unique_ptr<unsigned char, void (*)(void*)> pixels{nullptr, stbi_image_free};
  std::array<int, 3> at(int x, int y) const {
    const unsigned char* p = pixels.get() + (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
                                             static_cast<std::size_t>(x)) * 3;
    return {p[0], p[1], p[2]};
  }
};

}  // namespace

TEST_CASE("wslab-viz under Xvfb draws the selected frame's bit cells in their field colours") {
  if (!xvfb_installed()) FAIL("Xvfb is not installed (Debian: apt-get install xvfb): this test needs it");

  const fs::path dir = fs::temp_directory_path() / ("wslab-viz-test-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path trace_file = dir / "known.jsonl";
  const fs::path png = dir / "frame.png";
  {
    std::ofstream out(trace_file);
    for (const auto& e : known_trace()) out << trace::to_json(e) << "\n";
  }

  Run r;
  {
    // Another X server may take the same free number first: try a few.
    std::unique_ptr<Xvfb> xvfb;
    int display = 0;
    for (int next = 90, attempt = 0; attempt < 5; ++attempt) {
      auto n = free_display(next);
      REQUIRE(n);
      xvfb = std::make_unique<Xvfb>(*n);
      if (xvfb->ready()) {
        display = *n;
        break;
      }
      xvfb.reset();
      next = *n + 1;
    }
    REQUIRE(xvfb);
    r = run("DISPLAY=:" + std::to_string(display) + " " + quote(WSLAB_VIZ_PATH) + " --replay " +
            quote(trace_file.string()) + " --select 1 --panel frame --size 1280x800 --screenshot " +
            quote(png.string()) + " 2>&1");
  }
  INFO("wslab-viz said:\n" << r.output);
  REQUIRE(r.status == 0);
  REQUIRE(fs::exists(png));

  Image image;
  int channels = 0;
  image.pixels.reset(stbi_load(png.string().c_str(), &image.width, &image.height, &channels, 3));
  REQUIRE(image.pixels);
  CHECK(image.width == 1280);
  CHECK(image.height == 800);

  // "diagram-origin: X Y": where the Geometry's (0, 0) is, in pixels.
  float ox = -1, oy = -1;
  const auto at = r.output.find("diagram-origin:");
  REQUIRE(at != std::string::npos);
  REQUIRE(std::sscanf(r.output.c_str() + at, "diagram-origin: %f %f", &ox, &oy) == 2);

  // Every field of this frame has cells; sample one pixel inside each cell
  // (2 px from its left edge, half way down: no text there, draw.hpp) and
  // compare it with the field's colour.
  const viz::Layout layout = viz::bit_layout(binary_frame());
  REQUIRE(layout.header_bytes == 8);
  std::size_t checked = 0;
  std::vector<viz::Field> fields_seen;
  for (const viz::Cell& cell : layout.cells) {
    const int x = static_cast<int>(ox + cell.rect.x + 2.5f);
    const int y = static_cast<int>(oy + cell.rect.y + cell.rect.h / 2);
    REQUIRE(x >= 0);
    REQUIRE(y >= 0);
    REQUIRE(x < image.width);
    REQUIRE(y < image.height);
    const auto px = image.at(x, y);
    const viz::Rgba want = viz::field_colour(cell.field);
    INFO("bit " << cell.bit << " (field " << viz::field_label(cell.field) << ") at " << x << "," << y << ": got "
                << px[0] << "," << px[1] << "," << px[2] << ", want " << int(want.r) << "," << int(want.g) << ","
                << int(want.b));
    CHECK(std::abs(px[0] - want.r) <= 3);
    CHECK(std::abs(px[1] - want.g) <= 3);
    CHECK(std::abs(px[2] - want.b) <= 3);
    ++checked;
    if (std::find(fields_seen.begin(), fields_seen.end(), cell.field) == fields_seen.end()) {
      fields_seen.push_back(cell.field);
    }
  }
  // FIN, RSV1-3, opcode, MASK, Payload len, the 16-bit length, the key, payload.
  CHECK(fields_seen.size() == 10);
  CHECK(checked == 8 * 8 + 8 * 8);  // 8 header bytes and 8 payload bytes, 8 cells each

  fs::remove_all(dir);
}

namespace {

// permessage-deflate (RFC 7692): a connection that agreed it, a client's
// compressed "Hello" (§7.2.3.1, frame 1), the server's compressed echo
// (frame 2), and a ping with RSV1 set (frame 3), which the server rejected:
// control frames are never compressed (§6).
std::vector<trace::Event> deflate_trace() {
  std::vector<trace::Event> events;
  events.push_back(trace::Hello{.source = "test_screenshot", .started_at = "2026-01-01T00:00:00Z", .preview_bytes = 64});
  events.push_back(trace::ConnectionOpen{.conn = 1, .time = 0, .role = Role::server, .peer = "127.0.0.1:40000",
                                         .resource = "/ws"});
  events.push_back(trace::Handshake{.conn = 1, .time = 1000, .direction = Direction::sent, .request = false,
                                    .start_line = "HTTP/1.1 101 Switching Protocols",
                                    .headers = {{"Upgrade", "websocket"},
                                                {"Connection", "Upgrade"},
                                                {"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
                                                {"Sec-WebSocket-Extensions", "permessage-deflate"}}});
  events.push_back(trace::Transition{.conn = 1, .time = 1000, .from = ReadyState::CONNECTING,
                                     .to = ReadyState::OPEN, .cause = "handshake accepted: 101"});
  const trace::Bytes hello7{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};
  trace::Frame in;
  in.conn = 1;
  in.time = 2000;
  in.seq = 1;
  in.direction = Direction::received;
  in.rsv1 = true;
  in.opcode = 0x1;
  in.mask = true;
  in.payload_length = 7;
  in.length_form = "7-bit";
  in.masking_key = kKey;
  in.raw_header = {0xc1, 0x87, kKey[0], kKey[1], kKey[2], kKey[3]};
  in.preview = hello7;
  for (std::size_t i = 0; i < hello7.size(); ++i)
    in.preview_masked.push_back(static_cast<std::uint8_t>(hello7[i] ^ kKey[i % 4]));
  in.compressed = true;
  in.uncompressed_size = 5;
  in.uncompressed_preview = {'H', 'e', 'l', 'l', 'o'};
  events.push_back(in);
  trace::Frame out = in;
  out.seq = 2;
  out.time = 2100;
  out.direction = Direction::sent;
  out.mask = false;
  out.masking_key.reset();
  out.raw_header = {0xc1, 0x07};
  out.preview_masked = hello7;
  events.push_back(out);
  trace::Frame ping;
  ping.conn = 1;
  ping.time = 3000;
  ping.seq = 3;
  ping.rsv1 = true;
  ping.opcode = 0x9;
  ping.mask = true;
  ping.length_form = "7-bit";
  ping.raw_header = {0xc9, 0x80};
  ping.error = trace::RuleBroken{.rule = "compressed_control_frame", .checklist = "PMD-5", .section = "RFC 7692 §6",
                                 .close_code = 1002,
                                 .message = "1002: RSV1 (Per-Message Compressed) set on a ping frame: control frames "
                                            "are never compressed (RFC 7692 §6)"};
  events.push_back(ping);
  events.push_back(trace::ConnectionClose{.conn = 1, .time = 5000, .code = 1006, .reason = "failed",
                                          .sent_code = 1002});
  return events;
}

bool has_line(const std::string& output, const std::string& line) {
  std::istringstream lines(output);
  for (std::string l; std::getline(lines, l);)
    if (l == line) return true;
  return false;
}

}  // namespace

TEST_CASE("wslab-viz under Xvfb shows a compressed frame's RSV1, sizes and both payloads (RFC 7692)") {
  if (!xvfb_installed()) FAIL("Xvfb is not installed (Debian: apt-get install xvfb): this test needs it");

  const fs::path dir = fs::temp_directory_path() / ("wslab-viz-deflate-test-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path trace_file = dir / "deflate.jsonl";
  {
    std::ofstream out(trace_file);
    for (const auto& e : deflate_trace()) out << trace::to_json(e) << "\n";
  }
  std::vector<Run> runs;
  {
    std::unique_ptr<Xvfb> xvfb;
    int display = 0;
    for (int next = 120, attempt = 0; attempt < 5; ++attempt) {
      auto n = free_display(next);
      REQUIRE(n);
      xvfb = std::make_unique<Xvfb>(*n);
      if (xvfb->ready()) {
        display = *n;
        break;
      }
      xvfb.reset();
      next = *n + 1;
    }
    REQUIRE(xvfb);
    for (int select : {1, 2, 3})
      runs.push_back(run("DISPLAY=:" + std::to_string(display) + " " + quote(WSLAB_VIZ_PATH) + " --replay " +
                         quote(trace_file.string()) + " --select " + std::to_string(select) +
                         " --panel frame --size 1280x800 --screenshot " +
                         quote((dir / ("frame" + std::to_string(select) + ".png")).string()) + " 2>&1"));
  }
  for (const Run& r : runs) {
    INFO("wslab-viz said:\n" << r.output);
    REQUIRE(r.status == 0);
  }

  // Frame 1, the client's compressed "Hello": RSV1 named as the compressed
  // bit, the sizes with their ratio, the two payloads, and no rule broken.
  const std::string& first = runs[0].output;
  INFO(first);
  CHECK(has_line(first, "frame: rsv1: RSV1 (permessage-deflate: compressed)"));
  CHECK(has_line(first, "frame: sizes: on the wire 7 bytes (compressed) -> inflated 5 bytes: 140 % (wire / inflated)"));
  CHECK(has_line(first, "frame: wire: f2 48 cd c9 c9 07 00"));
  CHECK(has_line(first, "frame: inflated: \"Hello\" 48 65 6c 6c 6f"));
  CHECK(has_line(first, "frame: rule: reserved bits pass PMD-5: RSV1 = 1: Per-Message Compressed, the message is "
                        "DEFLATE data (permessage-deflate, RFC 7692 §6); RSV2-3 are 0"));
  CHECK(has_line(first, "frame: rule: UTF-8 pass U8-2: valid UTF-8, inflated"));
  CHECK(first.find(" fail ") == std::string::npos);
  // The server's echo: the same, unmasked.
  CHECK(has_line(runs[1].output, "frame: wire: f2 48 cd c9 c9 07 00"));
  CHECK(has_line(runs[1].output, "frame: rule: mask direction pass MK-3: server to client, not masked"));
  // Frame 3, RSV1 on a ping: the server's rejection, PMD-5, on the RSV row.
  const std::string& third = runs[2].output;
  CHECK(has_line(third, "frame: rsv1: RSV1 (permessage-deflate)"));
  CHECK(third.find("frame: rule: reserved bits fail PMD-5: 1002: RSV1 (Per-Message Compressed) set on a ping "
                   "frame") != std::string::npos);
  CHECK(third.find("frame: sizes:") == std::string::npos);

  // The bits are still painted in their field colours (RSV1's cell included).
  Image image;
  int channels = 0;
  image.pixels.reset(stbi_load((dir / "frame1.png").string().c_str(), &image.width, &image.height, &channels, 3));
  REQUIRE(image.pixels);
  float ox = -1, oy = -1;
  const auto at = first.find("diagram-origin:");
  REQUIRE(at != std::string::npos);
  REQUIRE(std::sscanf(first.c_str() + at, "diagram-origin: %f %f", &ox, &oy) == 2);
  const viz::Layout layout = viz::bit_layout(std::get<trace::Frame>(deflate_trace()[4]));
  const viz::Cell& rsv1 = layout.cells.at(1);
  REQUIRE(rsv1.field == viz::Field::rsv1);
  REQUIRE(rsv1.value == 1);
  const auto px = image.at(static_cast<int>(ox + rsv1.rect.x + 2.5f), static_cast<int>(oy + rsv1.rect.y + rsv1.rect.h / 2));
  const viz::Rgba want = viz::field_colour(viz::Field::rsv1);
  CHECK(std::abs(px[0] - want.r) <= 3);
  CHECK(std::abs(px[1] - want.g) <= 3);
  CHECK(std::abs(px[2] - want.b) <= 3);

  fs::remove_all(dir);
}

#endif  // WSLAB_VIZ_PATH
