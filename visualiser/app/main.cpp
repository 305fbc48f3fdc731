// wslab-viz: a live WebSocket trace, drawn. The window (GLFW + OpenGL 3 +
// ImGui), the trace source (a live server's /trace/ws, or a recorded JSON
// Lines file), the frame loop, and --screenshot for headless use:
//
//   wslab-viz                                         # ws://127.0.0.1:8080/trace/ws
//   wslab-viz --replay trace.jsonl --select 4 --panel frame --screenshot frame.png
//
// Layout: a menu bar with the status (source, connection, events/s, frames
// kept and evicted, events the source dropped), then Connections over
// Messages on the left and the other panels as tabs on the right (Frame
// first). Each panel is a function of app.hpp drawing into the region it is
// given.
#include "app.hpp"
#include "sources.hpp"
#include "style.hpp"

#include <wslab/net/raw_client.hpp>
#include <wslab/uri.hpp>
#include <wslab/viz/composer.hpp>

#if __has_include("watch.hpp") && defined(WSLAB_VIZ_HAVE_WATCH)
#include "watch.hpp"
#define WSLAB_VIZ_WATCH 1
#endif

#if defined(__SANITIZE_ADDRESS__)
#include <dlfcn.h>
#include <link.h>
#endif

#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>
#include <stb_image_write.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace wslab;
using namespace wslab::viz;

// Exit statuses.
constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;       // a bad option
constexpr int kExitInput = 3;       // a trace file that cannot be read, a frame not in it, a failed screenshot
constexpr int kExitNoDisplay = 4;   // no display and nothing to fall back to

constexpr const char* kUsage = R"(usage: wslab-viz [options]

Shows a WebSocket trace as it happens: connections and their readyState
transitions, messages, and each frame's bits as RFC 6455 §5.2 draws them.

  --url URL          the live trace stream (default ws://127.0.0.1:8080/trace/ws,
                     what `wslab serve` offers)
  --replay FILE      replay a recorded JSON Lines trace instead (wslab serve --trace-file)
  --frames N         keep the last N frames (default 10000)
  --select K         select frame number K (the trace's "seq")
  --panel NAME       show this panel first: connections, messages, frame, masking,
                     handshake, composer, replay (with --screenshot: only this panel)
  --composer-url URL where the Composer sends its frames (default: --url's server, /ws)
  --screenshot PNG   render the window once to PNG and exit (replay: after every
                     event up to the selected frame); needs a display, e.g. xvfb-run
  --wait SECONDS     with --screenshot and a live source: collect events this
                     long first (default 1)
  --compose NAME     load this Composer preset (e.g. "RSV1 set"; a wrong name lists them)
  --send             send the Composer's frame once at start (live); with
                     --screenshot the result is printed ("composer: ...")
  --size WxH         the window size (default 1280x800)
  --help             this text

Keys: Space play/pause, Left/Right step one frame (replay).
Exit status: 0 ok, 2 bad option or URL, 3 bad input (the trace file, --select, the PNG), 4 no display.
)";

struct Options {
  std::string url = "ws://127.0.0.1:8080/trace/ws";
  std::optional<std::string> replay{};
  std::size_t frames = 10000;
  std::optional<std::uint64_t> select{};
  std::optional<Panel> panel{};
  std::optional<std::string> composer_url{};
  std::optional<std::string> screenshot{};
  int width = 1280, height = 800;
  double wait = 1.0;  // --screenshot, live: seconds of events before the picture
  std::optional<std::string> compose{};
  bool send = false;
};

struct UsageError {
  std::string message;
};

template <class T>
std::optional<T> parse_number(std::string_view s) {
  T value{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// Plain argv parsing: "--name value" or "--name=value".
std::variant<Options, UsageError, std::monostate /* --help */> parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      inline_value = arg.substr(eq + 1);
      arg.resize(eq);
    }
    if (arg == "--help" || arg == "-h") return std::monostate{};
    if (arg == "--send" && !inline_value) {
      o.send = true;
      continue;
    }
    auto value = [&]() -> std::optional<std::string> {
      if (inline_value) return inline_value;
      if (i + 1 < argc) return std::string(argv[++i]);
      return std::nullopt;
    };
    static constexpr std::string_view kWithValue[] = {"--url",   "--replay", "--frames",      "--select",
                                                      "--panel", "--size",   "--screenshot", "--composer-url",
                                                      "--wait",  "--compose"};
    if (std::find(std::begin(kWithValue), std::end(kWithValue), arg) == std::end(kWithValue)) {
      return UsageError{"unknown option " + std::string(argv[i])};
    }
    auto v = value();
    if (!v) return UsageError{arg + " needs a value"};
    if (arg == "--url") {
      o.url = *v;
    } else if (arg == "--replay") {
      o.replay = *v;
    } else if (arg == "--frames") {
      auto n = parse_number<std::size_t>(*v);
      if (!n || *n == 0 || *n > 10'000'000) return UsageError{"--frames: a number from 1 to 10000000, not " + *v};
      o.frames = *n;
    } else if (arg == "--select") {
      auto k = parse_number<std::uint64_t>(*v);
      if (!k || *k == 0) return UsageError{"--select: a frame number (1, 2, ...), not " + *v};
      o.select = *k;
    } else if (arg == "--panel") {
      o.panel = panel_from_name(*v);
      if (!o.panel) {
        return UsageError{"--panel: one of connections, messages, frame, masking, handshake, composer, replay; not " +
                          *v};
      }
    } else if (arg == "--size") {
      auto x = v->find('x');
      auto w = x == std::string::npos ? std::nullopt : parse_number<int>(std::string_view(*v).substr(0, x));
      auto h = x == std::string::npos ? std::nullopt : parse_number<int>(std::string_view(*v).substr(x + 1));
      if (!w || !h || *w < 320 || *h < 240 || *w > 8192 || *h > 8192) {
        return UsageError{"--size: WIDTHxHEIGHT from 320x240 to 8192x8192, not " + *v};
      }
      o.width = *w;
      o.height = *h;
    } else if (arg == "--screenshot") {
      o.screenshot = *v;
    } else if (arg == "--compose") {
      const auto all = presets();
      if (std::none_of(all.begin(), all.end(), [&](const Preset& p) { return p.name == *v; })) {
        std::string names;
        for (const auto& p : all) names += "\n  " + p.name;
        return UsageError{"--compose: no preset named \"" + *v + "\"; the presets are:" + names};
      }
      o.compose = *v;
    } else if (arg == "--composer-url") {
      o.composer_url = *v;
    } else if (arg == "--wait") {
      char* end = nullptr;
      const double w = std::strtod(v->c_str(), &end);
      if (end == v->c_str() || *end != '\0' || !(w >= 0 && w <= 3600)) {
        return UsageError{"--wait: seconds from 0 to 3600, not " + *v};
      }
      o.wait = w;
    }
  }
  return o;
}

// --- The Composer's raw connection (live mode) ------------------------------

// One RawClient kept open between sends (a fragmented message needs one
// connection), opened again when the server has closed it. Sends run on a
// thread of their own, in order: connecting and waiting for the server's
// first reaction (an echo, a Close) can take a moment, and the window must
// not freeze meanwhile. latest() is what the last send came to.
class ComposerLink {
 public:
  explicit ComposerLink(std::string url) : url_(std::move(url)), worker_([this] { run(); }) {}
  ~ComposerLink() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    worker_.join();  // a send in progress ends within its timeouts (about 4 s at most)
  }

  // Queues the bytes; answers at once.
  std::string send(const std::vector<std::uint8_t>& bytes) {
    std::lock_guard lock(mutex_);
    if (jobs_.size() >= kMaxQueued) return latest_ = "busy: " + std::to_string(jobs_.size()) + " sends still waiting";
    jobs_.push_back(bytes);
    latest_ = "sending " + std::to_string(bytes.size()) + " bytes...";
    wake_.notify_one();
    return latest_;
  }

  std::string latest() const {
    std::lock_guard lock(mutex_);
    return latest_;
  }

 private:
  static constexpr std::size_t kMaxQueued = 16;

  void run() {
    for (;;) {
      std::vector<std::uint8_t> bytes;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        bytes = std::move(jobs_.front());
        jobs_.pop_front();
      }
      std::string result = send_now(bytes);
      std::lock_guard lock(mutex_);
      latest_ = std::move(result);
    }
  }

  std::string send_now(const std::vector<std::uint8_t>& bytes) {
    using namespace std::chrono_literals;
    std::string opened;
    if (!client_ || client_->closed()) {
      try {
        client_ = std::make_unique<net::RawClient>(net::RawClient::connect(url_, 1500ms));
        opened = "new connection to " + url_ + "; ";
      } catch (const std::exception& e) {
        client_.reset();
        return url_ + ": " + e.what();
      }
    }
    if (!client_->send_bytes(std::span<const std::uint8_t>(bytes), 1000ms)) {
      client_.reset();
      return opened + "the server no longer takes bytes (connection closed)";
    }
    std::string out = opened + "sent " + std::to_string(bytes.size()) + " bytes";
    auto read = client_->read_frame(400ms);
    switch (read.status) {
      case net::RawClient::Status::frame:
        out += "; server: " + read.frame->describe();
        if (read.frame->opcode() == 0x8) {
          auto rest = client_->read_until_closed(1000ms);
          if (rest.eof) out += ", then closed TCP";
          client_.reset();
        }
        break;
      case net::RawClient::Status::timeout: out += "; no answer yet (see Messages)"; break;
      case net::RawClient::Status::eof:
        out += "; the server closed TCP";
        client_.reset();
        break;
      case net::RawClient::Status::error:
        out += "; " + read.error;
        client_.reset();
        break;
    }
    return out;
  }

  const std::string url_;
  std::unique_ptr<net::RawClient> client_;  // the worker's only
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::vector<std::uint8_t>> jobs_;
  std::string latest_;
  bool stopping_ = false;
  std::thread worker_;  // last: starts once everything above exists
};

// "ws://host:port/trace/ws" -> "ws://host:port/ws": the server's echo.
std::string composer_url_for(const uri::Uri& trace_url) {
  uri::Uri u = trace_url;
  u.resource_name = "/ws";
  return u.to_string();
}

// --- The window's layout --------------------------------------------------------

struct Ui {
  std::optional<Panel> solo{};             // one panel full-window (View menu, --panel with --screenshot)
  std::optional<Panel> select_tab{};       // a tab to bring forward once
  double events_per_second = 0;
  std::uint64_t viewer_dropped = 0;        // the live queue overflowed
  std::uint64_t parse_errors = 0;
  std::string last_parse_error{};
  std::string why_disconnected{};          // the live source's last failure, as a tooltip
};

void draw_panel(Panel p, AppState& app) {
  switch (p) {
    case Panel::connections: draw_connections_panel(app); break;
    case Panel::messages: draw_messages_panel(app); break;
    case Panel::frame: draw_frame_panel(app); break;
    case Panel::masking: draw_masking_panel(app); break;
    case Panel::handshake: draw_handshake_panel(app); break;
    case Panel::composer: draw_composer_panel(app); break;
    case Panel::replay: draw_replay_panel(app); break;
  }
}

const char* panel_title(Panel p) {
  switch (p) {
    case Panel::connections: return "Connections";
    case Panel::messages: return "Messages";
    case Panel::frame: return "Frame";
    case Panel::masking: return "Masking";
    case Panel::handshake: return "Handshake";
    case Panel::composer: return "Composer";
    case Panel::replay: return "Replay";
  }
  return "?";
}

constexpr Panel kAllPanels[] = {Panel::connections, Panel::messages, Panel::frame,   Panel::masking,
                                Panel::handshake,   Panel::composer, Panel::replay};
constexpr Panel kTabPanels[] = {Panel::frame, Panel::masking, Panel::handshake, Panel::composer, Panel::replay};

void draw_status_bar(AppState& app, Ui& ui) {
  if (!ImGui::BeginMainMenuBar()) return;
  if (ImGui::BeginMenu("View")) {
    if (ImGui::MenuItem("All panels", nullptr, !ui.solo)) ui.solo.reset();
    ImGui::Separator();
    for (Panel p : kAllPanels) {
      if (ImGui::MenuItem(panel_title(p), nullptr, ui.solo == p)) ui.solo = p;
    }
    ImGui::EndMenu();
  }
  ImGui::TextColored(style::kHeading, "wslab-viz");
  ImGui::TextDisabled("|");
  ImGui::TextUnformatted(app.source_label.c_str());
  ImGui::TextDisabled("|");
  const bool bad = app.source_status.rfind("disconnected", 0) == 0;
  if (bad) {
    ImGui::TextColored(style::kError, "%s", app.source_status.c_str());
    if (!ui.why_disconnected.empty() && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", ui.why_disconnected.c_str());
  } else {
    ImGui::TextUnformatted(app.source_status.c_str());
  }
  ImGui::TextDisabled("|");
  if (!app.replay.active) {
    ImGui::Text("%.0f events/s", ui.events_per_second);
    ImGui::TextDisabled("|");
  }
  const auto& s = app.store;
  ImGui::Text("frames %zu of %zu kept, %llu evicted", s.frames().size(), s.max_frames(),
              static_cast<unsigned long long>(s.evicted_frames()));
  ImGui::TextDisabled("|");
  if (s.source_dropped() > 0) {
    ImGui::TextColored(style::kError, "dropped by the source: %llu", static_cast<unsigned long long>(s.source_dropped()));
  } else {
    ImGui::TextDisabled("dropped by the source: 0");
  }
  if (ui.viewer_dropped > 0) {
    ImGui::TextDisabled("|");
    ImGui::TextColored(style::kError, "dropped by this viewer: %llu", static_cast<unsigned long long>(ui.viewer_dropped));
  }
  if (ui.parse_errors > 0) {
    ImGui::TextDisabled("|");
    ImGui::TextColored(style::kError, "unreadable events: %llu", static_cast<unsigned long long>(ui.parse_errors));
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", ui.last_parse_error.c_str());
  }
  ImGui::EndMainMenuBar();
}

// A titled, bordered region of the layout holding one panel.
void panel_region(Panel p, AppState& app, ImVec2 size) {
  ImGui::BeginChild(panel_title(p), size, true);
  style::heading(panel_title(p));
  ImGui::Separator();
  draw_panel(p, app);
  ImGui::EndChild();
}

void draw_ui(AppState& app, Ui& ui) {
  draw_status_bar(app, ui);
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(vp->WorkPos);
  ImGui::SetNextWindowSize(vp->WorkSize);
  constexpr ImGuiWindowFlags kFixed = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                      ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus;
  ImGui::Begin("##layout", nullptr, kFixed);
  if (ui.solo) {
    panel_region(*ui.solo, app, ImVec2(0, 0));
    ImGui::End();
    return;
  }
  // Left: Connections over Messages. Right: the other panels as tabs.
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float spacing = ImGui::GetStyle().ItemSpacing.x;
  const float left_w = std::floor(avail.x * 0.42f);
  ImGui::BeginGroup();
  panel_region(Panel::connections, app, ImVec2(left_w, std::floor(avail.y * 0.42f)));
  panel_region(Panel::messages, app, ImVec2(left_w, 0));
  ImGui::EndGroup();
  ImGui::SameLine(0, spacing);
  ImGui::BeginChild("##tabs", ImVec2(0, 0), true);
  if (ImGui::BeginTabBar("panels")) {
    for (Panel p : kTabPanels) {
      ImGuiTabItemFlags flags = ui.select_tab == p ? ImGuiTabItemFlags_SetSelected : 0;
      if (ImGui::BeginTabItem(panel_title(p), nullptr, flags)) {
        ImGui::BeginChild(panel_title(p), ImVec2(0, 0), false);
        draw_panel(p, app);
        ImGui::EndChild();
        ImGui::EndTabItem();
      }
    }
    ImGui::EndTabBar();
  }
  ui.select_tab.reset();
  ImGui::EndChild();
  ImGui::End();
}

// Space: play/pause; Left/Right: one frame back/forward (replay only, and
// not while a text field has the keyboard).
void handle_keys(AppState& app) {
  const ImGuiIO& io = ImGui::GetIO();
  if (!app.replay.active || io.WantTextInput) return;
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Space), false)) {
    if (!app.replay.playing && app.replay.position >= app.replay.total) app.replay.seek = 0;  // again
    app.replay.playing = !app.replay.playing;
  }
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_LeftArrow))) app.replay.step_back = true;
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_RightArrow))) app.replay.step_forward = true;
}

// DejaVu Sans for the UI, DejaVu Sans Mono for bytes (style::mono_font()),
// with the arrows, dashes and symbols the panels use. ImGui's own font if
// DejaVu is not installed.
void load_fonts() {
  ImGuiIO& io = ImGui::GetIO();
  static ImVector<ImWchar> ranges;
  ImFontGlyphRangesBuilder builder;
  builder.AddRanges(io.Fonts->GetGlyphRangesDefault());
  static const ImWchar kExtra[] = {0x0370, 0x03FF,   // Greek (µ, Δ)
                                   0x2000, 0x206F,   // punctuation: — … ‖
                                   0x2190, 0x21FF,   // arrows: → ↑ ↓ ⇄
                                   0x2200, 0x22FF,   // math: ⊕ ≤ ≠
                                   0x2500, 0x25FF,   // box drawing, shapes: ● ▶ ■
                                   0x2700, 0x27BF,   // ✓ ✗
                                   0};
  builder.AddRanges(kExtra);
  builder.BuildRanges(&ranges);
  const char* sans = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  const char* mono = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";
  if (std::filesystem::exists(sans) && std::filesystem::exists(mono)) {
    io.Fonts->AddFontFromFileTTF(sans, 15.0f, nullptr, ranges.Data);
    io.Fonts->AddFontFromFileTTF(mono, 14.0f, nullptr, ranges.Data);
  } else {
    io.Fonts->AddFontDefault();
  }
}

void apply_style() {
  ImGui::StyleColorsDark();
  ImGuiStyle& s = ImGui::GetStyle();
  s.WindowRounding = 0;
  s.ChildRounding = 3;
  s.FrameRounding = 3;
  s.TabRounding = 3;
  s.WindowPadding = ImVec2(6, 6);
  s.ItemSpacing = ImVec2(8, 5);
}

// Writes the back buffer (what was just rendered) as a PNG.
bool write_png(const std::string& path, int width, int height, std::string& error) {
  std::vector<unsigned char> pixels(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE, pixels.data());
  if (GLenum e = glGetError(); e != GL_NO_ERROR) {
    error = "glReadPixels failed (GL error " + std::to_string(e) + ")";
    return false;
  }
  stbi_flip_vertically_on_write(1);  // OpenGL's rows go bottom-up, PNG's top-down
  if (!stbi_write_png(path.c_str(), width, height, 3, pixels.data(), width * 3)) {
    error = "cannot write " + path;
    return false;
  }
  return true;
}

#if defined(__SANITIZE_ADDRESS__)
// Under AddressSanitizer (the asan preset): keep every shared library loaded
// until the process exits. The OpenGL driver (Mesa) keeps some allocations
// until exit by design; tests/support/lsan.supp names its libraries, but
// glfwTerminate() unloads them first, and LeakSanitizer then reports their
// allocations as "<unknown module>", which no suppression can name.
void pin_loaded_libraries() {
  std::vector<std::string> names;
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* out) {
        if (info->dlpi_name && *info->dlpi_name) static_cast<std::vector<std::string>*>(out)->push_back(info->dlpi_name);
        return 0;
      },
      &names);
  for (const auto& name : names) dlopen(name.c_str(), RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}
#else
void pin_loaded_libraries() {}
#endif

std::string glfw_error_text;
void on_glfw_error(int code, const char* description) {
  glfw_error_text = description ? description : ("GLFW error " + std::to_string(code));
}

bool has_display() {
  const char* x = std::getenv("DISPLAY");
  const char* wl = std::getenv("WAYLAND_DISPLAY");
  return (x && *x) || (wl && *wl);
}

// Without a display: say so, and show the frames as ASCII bit diagrams
// (wslab watch) when this build has the watcher.
int no_display(const Options& o, const Replay* replay, const std::string& why) {
  if (o.screenshot) {
    std::cerr << "wslab-viz: --screenshot needs a display (" << why
              << "); run it under Xvfb: xvfb-run -s '-screen 0 " << o.width << "x" << o.height
              << "x24' wslab-viz ...\n";
    return kExitNoDisplay;
  }
  std::cerr << "wslab-viz: no display (" << why << "); showing frames as ASCII bit diagrams instead\n";
#ifdef WSLAB_VIZ_WATCH
  if (replay) {
    // The file, event by event (up to the selected frame, if any).
    for (const auto& event : replay->events()) {
      std::cout << wslab::app::render_event(event);
      const auto* f = std::get_if<trace::Frame>(&event);
      if (f && o.select && f->seq == *o.select) break;
    }
    std::cout.flush();
    return kExitOk;
  }
  wslab::app::WatchOptions w;
  w.url = o.url;
  return wslab::app::watch_trace(w, std::cout);
#else
  (void)replay;
  std::cerr << "wslab-viz: this build has no ASCII watcher (wslab watch); run it with a display or xvfb-run\n";
  return kExitNoDisplay;
#endif
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = parse_options(argc, argv);
  if (std::holds_alternative<std::monostate>(parsed)) {
    std::cout << kUsage;
    return kExitOk;
  }
  if (auto* e = std::get_if<UsageError>(&parsed)) {
    std::cerr << "wslab-viz: " << e->message << "\n(wslab-viz --help lists the options)\n";
    return kExitUsage;
  }
  Options o = std::get<Options>(parsed);
  if (o.send && o.replay) {
    std::cerr << "wslab-viz: --send needs a live server (--url), not --replay\n";
    return kExitUsage;
  }
  if ((o.send || o.compose) && !o.panel) o.panel = Panel::composer;  // the panel that sends must be drawn
  const bool headless = o.screenshot.has_value();

  // The source first: a bad file or URL is reported before any window opens.
  AppState app(o.frames);
  app.headless = headless;
  std::unique_ptr<Replay> replay;
  std::unique_ptr<LiveSource> live;
  std::unique_ptr<ComposerLink> composer;
  if (o.replay) {
    trace::File file = trace::read_file(*o.replay);
    if (file.error) {
      std::cerr << "wslab-viz: " << *file.error << "\n";
      return kExitInput;
    }
    if (file.events.empty()) {
      std::cerr << "wslab-viz: " << *o.replay << ": no events\n";
      return kExitInput;
    }
    replay = std::make_unique<Replay>(std::move(file.events));
    app.source_label = std::filesystem::path(*o.replay).filename().string();
    app.replay.active = true;
    app.replay.total = replay->size();
    app.replay.events = &replay->events();
    app.source_status = "replay";
    // Headless: every event up to and including the selected frame (or
    // all). In a window: the same with --select (paused there), else play
    // from the start.
    if ((headless || o.select) && !replay->apply_through(app, o.select)) {
      std::cerr << "wslab-viz: " << *o.replay << " has no frame " << *o.select << "\n";
      return kExitInput;
    }
  } else {
    auto u = uri::parse(o.url);
    if (!u) {
      std::cerr << "wslab-viz: --url " << o.url << ": " << u.violation().message() << "\n";
      return kExitUsage;
    }
    app.source_label = u->to_string();
    app.composer_url = o.composer_url.value_or(composer_url_for(*u));
    if (auto cu = uri::parse(app.composer_url); !cu) {
      std::cerr << "wslab-viz: --composer-url " << app.composer_url << ": " << cu.violation().message() << "\n";
      return kExitUsage;
    }
  }

  if (!has_display()) return no_display(o, replay.get(), "DISPLAY is not set");
  glfwSetErrorCallback(on_glfw_error);
  if (!glfwInit()) return no_display(o, replay.get(), glfw_error_text.empty() ? "glfwInit failed" : glfw_error_text);

  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
  if (headless) glfwWindowHint(GLFW_VISIBLE, GLFW_FALSE);
  GLFWwindow* window = glfwCreateWindow(o.width, o.height, "wslab-viz", nullptr, nullptr);
  if (!window) {
    std::string why = glfw_error_text.empty() ? "cannot create an OpenGL 3 window" : glfw_error_text;
    glfwTerminate();
    return no_display(o, replay.get(), why);
  }
  glfwMakeContextCurrent(window);
  glfwSwapInterval(headless ? 0 : 1);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // the layout is fixed; nothing to remember
  if (headless) io.ConfigInputTextCursorBlink = false;
  apply_style();
  load_fonts();
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 130");

  Ui ui;
  if (o.panel) {
    if (headless) ui.solo = o.panel;
    ui.select_tab = o.panel;
  }

  // Where things stand before the first frame.
  if (!replay) {
    live = std::make_unique<LiveSource>(app.source_label);
    live->start();
    composer = std::make_unique<ComposerLink>(app.composer_url);
    app.send_raw = [&composer](const std::vector<std::uint8_t>& bytes) { return composer->send(bytes); };
    app.composer_send_request = o.send;
  }
  if (o.compose) app.composer_preset_request = *o.compose;
  // --select: the frame to select once it is there (live: when it arrives).
  // (Two plain values: GCC 12 -O2 warns falsely about an optional here.)
  bool select_pending = o.select.has_value();
  const std::uint64_t select_seq = o.select.value_or(0);

  // A screenshot: a few frames with a fixed clock (ImGui sizes some things
  // from the previous frame), then the last one is read back. A live source
  // gets a second to deliver what it has first.
  constexpr int kSettleFrames = 4;
  const auto started = std::chrono::steady_clock::now();
  int headless_frames = 0;
  std::vector<trace::Event> incoming;
  std::uint64_t rate_events = 0;
  double rate_since = glfwGetTime();
  int status = kExitOk;

  double last_frame = glfwGetTime();
  while (!glfwWindowShouldClose(window)) {
    // About 60 frames a second, waking early for input; vsync (where the
    // display has it) paces the swap as well.
    if (headless) {
      glfwPollEvents();
    } else {
      glfwWaitEventsTimeout(std::max(0.0, 1.0 / 60 - (glfwGetTime() - last_frame)));
      last_frame = glfwGetTime();
    }

    if (live) {
      incoming.clear();
      live->drain(incoming);
      for (const auto& e : incoming) app.store.add(e);
      rate_events += incoming.size();
      app.source_status = live->status();
      if (composer) app.composer_result = composer->latest();
      ui.why_disconnected = live->why_disconnected();
      ui.viewer_dropped = live->dropped();
      ui.parse_errors = live->parse_errors();
      if (ui.parse_errors) ui.last_parse_error = live->last_parse_error();
      const double now = glfwGetTime();
      if (now - rate_since >= 1.0) {
        ui.events_per_second = static_cast<double>(rate_events) / (now - rate_since);
        rate_events = 0;
        rate_since = now;
      }
    }

    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    if (headless) {
      // Deterministic: a fixed clock, and no mouse over anything.
      io.DeltaTime = 1.0f / 60.0f;
      io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
      for (bool& down : io.MouseDown) down = false;
    }
    if (replay && !headless) {
      replay->update(app, io.DeltaTime);
      app.source_status = app.replay.playing ? "replay: playing" : "replay: paused";
    }
    if (select_pending) {
      if (const trace::Frame* f = app.store.frame(select_seq)) {
        app.selected_seq = f->seq;
        app.selected_conn = f->conn;
        select_pending = false;
      }
    }
    app.now_seconds = headless ? 0.0 : glfwGetTime();
    app.diagram_origin.reset();
    app.frame_report.clear();

    ImGui::NewFrame();
    handle_keys(app);
    draw_ui(app, ui);
    ImGui::Render();
    int fb_w = 0, fb_h = 0;
    glfwGetFramebufferSize(window, &fb_w, &fb_h);
    glViewport(0, 0, fb_w, fb_h);
    glClearColor(0.09f, 0.10f, 0.12f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());

    if (headless) {
      const bool live_waited =
          !live || std::chrono::steady_clock::now() - started >= std::chrono::duration<double>(o.wait);
      if (!live_waited) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // a UI's pace, not a spin
      if (live_waited && ++headless_frames >= kSettleFrames) {
        std::string error;
        if (!write_png(*o.screenshot, fb_w, fb_h, error)) {
          std::cerr << "wslab-viz: screenshot: " << error << "\n";
          status = kExitInput;
        } else {
          std::cout << "screenshot: " << *o.screenshot << " " << fb_w << "x" << fb_h << "\n";
          if (composer) std::cout << "composer: " << composer->latest() << "\n";
          // For tests and benchmarks: what the window had when it was drawn.
          std::cout << "status: " << app.source_status << "\n";
          std::cout << "stats: events=" << app.store.events_seen() << " frames_kept=" << app.store.frames().size()
                    << " evicted=" << app.store.evicted_frames() << " source_dropped=" << app.store.source_dropped()
                    << " viewer_dropped=" << ui.viewer_dropped << " parse_errors=" << ui.parse_errors
                    << " seconds=" << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
                    << "\n";
          if (app.diagram_origin) {
            // Window coordinates -> framebuffer pixels (the same unless HiDPI).
            const float sx = static_cast<float>(fb_w) / io.DisplaySize.x;
            const float sy = static_cast<float>(fb_h) / io.DisplaySize.y;
            std::printf("diagram-origin: %.1f %.1f\n", app.diagram_origin->first * sx,
                        app.diagram_origin->second * sy);
          }
          // The Frame panel's words: "frame: rsv1: ...", "frame: rule: reserved bits pass ...".
          std::istringstream report(app.frame_report);
          for (std::string line; std::getline(report, line);) std::cout << "frame: " << line << "\n";
          if (select_pending) std::cout << "note: frame " << select_seq << " was not seen\n";
          std::fflush(stdout);
        }
        break;
      }
    }
    glfwSwapBuffers(window);
  }

  // Stop the sources before the window goes (the live thread closes its
  // connection with 1001).
  app.send_raw = nullptr;
  composer.reset();
  live.reset();
  pin_loaded_libraries();
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return status;
}
