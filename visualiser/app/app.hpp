// wslab-viz: the state every panel reads and writes, and the panels.
// main.cpp owns the window (GLFW + OpenGL 3), the trace source (live
// /trace/ws or a replayed file) and the frame loop; each panel is one
// function that draws itself from AppState with ImGui.
#pragma once

#include <wslab/trace.hpp>
#include <wslab/viz/store.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace wslab::viz {

enum class Panel { connections, messages, frame, masking, handshake, composer, replay };
std::string_view panel_name(Panel p);              // "connections", "messages", "frame", ...
std::optional<Panel> panel_from_name(std::string_view name);

struct ReplayControls {  // the Replay panel's state (replay mode only)
  bool active = false;       // a file is being replayed
  bool playing = true;
  double speed = 1.0;        // 0.25 .. 16
  std::size_t position = 0;  // events applied so far
  std::size_t total = 0;
  bool step_forward = false, step_back = false;  // requests, consumed by main
  std::optional<std::size_t> seek{};             // request: go to this position
  const std::vector<trace::Event>* events = nullptr;  // the file's events (the panel's timeline)
};

struct AppState {
  explicit AppState(std::size_t max_frames) : store(max_frames) {}

  Store store;
  std::optional<std::uint64_t> selected_seq{};   // the frame shown in Frame/Masking
  std::optional<std::uint64_t> selected_conn{};  // the connection shown in Handshake/Connections
  double now_seconds = 0;  // ImGui time, for animations

  // The source, for the status bar.
  std::string source_label{};  // "ws://127.0.0.1:8080/trace/ws" or the file name
  std::string source_status{}; // "connected", "disconnected: retrying in 1 s", "replay"
  bool headless = false;       // --screenshot: no animation, no blinking cursor

  ReplayControls replay{};

  // Set by the Frame panel each frame: where the bit diagram's origin (the
  // Geometry's (0,0)) is on screen, in pixels. --screenshot prints it so a
  // test can find the cells in the PNG.
  std::optional<std::pair<float, float>> diagram_origin{};
  // Set by the Frame panel each frame: what it showed, in words (RSV1's
  // label, the permessage-deflate sizes and payload views, each rule's
  // verdict), one "key: value" line each; --screenshot prints it.
  std::string frame_report{};

  // The Composer's raw connection (live mode): a ws:// URL to a server's /ws
  // and a function that sends bytes as they are on it, answering a status line.
  std::string composer_url{};
  // send_raw queues the bytes and answers at once ("sending 6 bytes...");
  // composer_result is what the latest send came to, updated every frame.
  std::function<std::string(const std::vector<std::uint8_t>& bytes)> send_raw{};
  std::string composer_result{};
  // Scripting the Composer (wslab-viz --compose NAME --send; tests, docs):
  // a preset to load and a request to send it once. The panel consumes both.
  std::string composer_preset_request{};
  bool composer_send_request = false;

  const trace::Frame* selected_frame() const {
    return selected_seq ? store.frame(*selected_seq) : nullptr;
  }
};

// Each panel draws into the current ImGui window (no Begin/End of its own):
// main.cpp places it, in a child region of the default layout or full-window
// with --panel. Use ImGui::GetContentRegionAvail() for the space it has.
void draw_connections_panel(AppState& app);
void draw_messages_panel(AppState& app);
void draw_frame_panel(AppState& app);      // bit diagram, hex, rules strip
void draw_masking_panel(AppState& app);
void draw_handshake_panel(AppState& app);
void draw_composer_panel(AppState& app);
void draw_replay_panel(AppState& app);

}  // namespace wslab::viz
