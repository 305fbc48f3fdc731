// The Composer panel: build a frame field by field (RFC 6455 §5.2), the
// invalid ones included, see its bytes, its bit diagram and the rules a
// server will judge it by, and send it on a raw client connection to watch
// the server's reaction arrive in the other panels.
#include "app.hpp"
#include "draw.hpp"
#include "style.hpp"

#include <wslab/framing.hpp>
#include <wslab/masking.hpp>
#include <wslab/viz/bit_layout.hpp>
#include <wslab/viz/composer.hpp>
#include <wslab/viz/rules_check.hpp>

#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace wslab::viz {

namespace {

struct ComposerState {
  bool loaded = false;
  int preset = 0;
  Composition c{};
  bool hex = false;
  std::string payload_text{};
  std::string payload_error{};
  std::string key_text{};
  std::string key_error{};
  int form = 0;  // 0: minimal, then LengthForm + 1
  bool declare = false;
  std::uint64_t declared = 0;
  bool continues = false;
  std::string status{};  // what the last send answered
  ByteHover hover{};
};

std::string to_hex(const std::vector<std::uint8_t>& bytes, std::size_t max = SIZE_MAX) {
  std::string out;
  char text[4];
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    std::snprintf(text, sizeof text, i ? " %02x" : "%02x", bytes[i]);
    out += text;
  }
  return out;
}

// Text if every byte is printable ASCII or valid UTF-8 beyond it, else hex.
bool shows_as_text(const std::vector<std::uint8_t>& payload) {
  const std::string_view s(reinterpret_cast<const char*>(payload.data()), payload.size());
  if (!framing::is_valid_utf8(s)) return false;
  return std::none_of(payload.begin(), payload.end(), [](std::uint8_t b) { return b < 0x20 || b == 0x7F; });
}

void load(ComposerState& st, const Preset& p) {
  st.c = p.composition;
  st.form = p.composition.length_form ? static_cast<int>(*p.composition.length_form) + 1 : 0;
  st.declare = p.composition.declared_length.has_value();
  st.declared = p.composition.declared_length.value_or(p.composition.payload.size());
  st.continues = p.continues_message;
  st.hex = !shows_as_text(p.composition.payload);
  st.payload_text = st.hex ? to_hex(p.composition.payload)
                           : std::string(p.composition.payload.begin(), p.composition.payload.end());
  st.key_text = to_hex({p.composition.masking_key.begin(), p.composition.masking_key.end()});
  st.payload_error.clear();
  st.key_error.clear();
}

// "0x9 ping", "0x3 reserved non-control", ...
const std::string& opcode_item(int op) {
  static const std::vector<std::string> kItems = [] {
    std::vector<std::string> items;
    for (int i = 0; i < 16; ++i) {
      char text[16];
      std::snprintf(text, sizeof text, "0x%X ", i);
      items.push_back(text + std::string(framing::opcode_name(static_cast<std::uint8_t>(i))));
    }
    return items;
  }();
  return kItems[static_cast<std::size_t>(op & 0xF)];
}

void fields(ComposerState& st) {
  Composition& c = st.c;
  if (!st.declare) st.declared = c.payload.size();  // offer the true length to start a lie from
  ImGui::Checkbox("FIN", &c.fin);
  ImGui::SameLine();
  ImGui::Checkbox("RSV1", &c.rsv1);
  ImGui::SameLine();
  ImGui::Checkbox("RSV2", &c.rsv2);
  ImGui::SameLine();
  ImGui::Checkbox("RSV3", &c.rsv3);
  ImGui::SameLine(0, 20);
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 13);
  if (ImGui::BeginCombo("opcode", opcode_item(c.opcode).c_str())) {
    for (int op = 0; op < 16; ++op)
      if (ImGui::Selectable(opcode_item(op).c_str(), c.opcode == op)) c.opcode = static_cast<std::uint8_t>(op);
    ImGui::EndCombo();
  }

  ImGui::Checkbox("MASK", &c.mask);
  ImGui::SameLine(0, 20);
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
  if (ImGui::InputText("Masking-key", &st.key_text)) {
    std::string why;
    const auto key = parse_payload(st.key_text, true, &why);
    if (key && key->size() == 4) {
      std::copy(key->begin(), key->end(), c.masking_key.begin());
      st.key_error.clear();
    } else {
      st.key_error = key ? "the key is 4 bytes, " + std::to_string(key->size()) + " given" : why;
    }
  }
  ImGui::SameLine();
  if (ImGui::SmallButton("random")) {
    c.masking_key = masking::random_key();  // OpenSSL, as a client does (§5.3, §10.3)
    st.key_text = to_hex({c.masking_key.begin(), c.masking_key.end()});
    st.key_error.clear();
  }
  if (!st.key_error.empty()) ImGui::TextColored(style::kError, "%s", st.key_error.c_str());

  static const char* kForms[] = {"minimal (§5.2)", "7-bit", "16-bit (126)", "64-bit (127)"};
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 10);
  ImGui::Combo("length form", &st.form, kForms, 4);
  ImGui::SameLine(0, 20);
  ImGui::Checkbox("declare a length of", &st.declare);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 9);
  ImGui::BeginDisabled(!st.declare);
  ImGui::InputScalar("##declared", ImGuiDataType_U64, &st.declared);
  ImGui::EndDisabled();
  c.length_form = st.form == 0 ? std::nullopt : std::optional(static_cast<framing::LengthForm>(st.form - 1));
  c.declared_length = st.declare ? std::optional(st.declared) : std::nullopt;

  ImGui::TextUnformatted("payload");
  ImGui::SameLine();
  bool switched = false;
  if (ImGui::RadioButton("text", !st.hex) && st.hex) switched = true;
  ImGui::SameLine();
  if (ImGui::RadioButton("hex", st.hex) && !st.hex) switched = true;
  if (switched) {
    // Convert what is there, so a switch never loses the payload.
    st.hex = !st.hex;
    if (st.hex) st.payload_text = to_hex(c.payload);
    else if (shows_as_text(c.payload)) st.payload_text.assign(c.payload.begin(), c.payload.end());
    else st.hex = true;  // not text: stays hex
  }
  ImGui::SameLine();
  ImGui::TextColored(style::kDim, "%zu bytes", c.payload.size());
  ImGui::PushFont(style::mono_font());
  ImGui::InputTextMultiline("##payload", &st.payload_text, ImVec2(-1, ImGui::GetTextLineHeight() * 3.5f));
  ImGui::PopFont();
  std::string why;
  if (const auto payload = parse_payload(st.payload_text, st.hex, &why)) {
    c.payload = *payload;
    st.payload_error.clear();
  } else {
    st.payload_error = why;
  }
  if (!st.payload_error.empty()) ImGui::TextColored(style::kError, "%s (the last good payload is used)", st.payload_error.c_str());

  ImGui::Checkbox("a fragmented message is open (a FIN = 0 data frame went before)", &st.continues);
}

void send_row(AppState& app, ComposerState& st, const std::vector<std::uint8_t>* bytes) {
  if (!app.send_raw) {
    ImGui::TextDisabled("no live server (replay mode): connect wslab-viz to a server to send frames");
    return;
  }
  ImGui::BeginDisabled(bytes == nullptr);
  if (ImGui::Button("Send") || (app.composer_send_request && bytes)) {
    st.status = app.send_raw(*bytes);
    app.composer_send_request = false;
  }
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::TextColored(style::kDim, "on a raw client connection to %s", app.composer_url.c_str());
  const std::string& result = app.composer_result.empty() ? st.status : app.composer_result;
  if (!result.empty()) ImGui::TextWrapped("%s", result.c_str());
}

}  // namespace

void draw_composer_panel(AppState& app) {
  static ComposerState st;
  const std::vector<Preset>& all = [] () -> const std::vector<Preset>& {
    static const std::vector<Preset> kPresets = presets();
    return kPresets;
  }();
  if (!st.loaded) {
    load(st, all.at(0));
    st.loaded = true;
  }
  if (!app.composer_preset_request.empty()) {
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (all[i].name == app.composer_preset_request) {
        st.preset = static_cast<int>(i);
        load(st, all[i]);
      }
    }
    app.composer_preset_request.clear();
  }
  st.hover.begin();

  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 18);
  if (ImGui::BeginCombo("preset", all[static_cast<std::size_t>(st.preset)].name.c_str())) {
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (ImGui::Selectable(all[i].name.c_str(), st.preset == static_cast<int>(i))) {
        st.preset = static_cast<int>(i);
        load(st, all[i]);
      }
    }
    ImGui::EndCombo();
  }
  ImGui::PushTextWrapPos(0);
  ImGui::TextColored(style::kDim, "expect: %s", all[static_cast<std::size_t>(st.preset)].expect.c_str());
  ImGui::PopTextWrapPos();
  ImGui::Spacing();

  fields(st);
  ImGui::Separator();

  std::vector<std::uint8_t> bytes;
  try {
    bytes = compose(st.c);
  } catch (const std::invalid_argument& e) {
    ImGui::TextColored(style::kError, "no such frame: %s", e.what());
    send_row(app, st, nullptr);
    return;
  }

  // The bytes, the diagram as the client sends it, and the server's verdict.
  ImGui::Text("%zu bytes on the wire:", bytes.size());
  ImGui::SameLine();
  ImGui::PushFont(style::mono_font());
  ImGui::TextWrapped("%s%s", to_hex(bytes, 48).c_str(), bytes.size() > 48 ? " ..." : "");
  ImGui::PopFont();

  const trace::Frame sent = as_sent(bytes);
  const Layout layout = bit_layout(sent);
  draw_bit_diagram(sent, layout, st.hover);
  ImGui::Spacing();

  const trace::Frame received = parse_frame(bytes, Role::server);
  const auto checks = check_rules(sent, Role::server, st.continues);
  const auto failed = std::find_if(checks.begin(), checks.end(),
                                   [](const RuleCheck& r) { return r.status == RuleCheck::Status::fail; });
  if (received.error) {
    ImGui::TextColored(style::kError, "the server's FrameParser stops here: %s", received.error->message.c_str());
  } else if (failed != checks.end()) {
    ImGui::TextColored(style::kError, "the server fails the connection with %u: %s (%s)",
                       static_cast<unsigned>(failed->close_code), failed->detail.c_str(), failed->section.c_str());
  } else {
    ImGui::TextColored(ImVec4(0.45f, 0.85f, 0.50f, 1.0f), "\xe2\x9c\x93 every rule a server checks holds");
  }
  send_row(app, st, &bytes);
  ImGui::Spacing();
  style::heading("Rules, as a server receiving it checks them");
  draw_rules_strip(checks);
}

}  // namespace wslab::viz
