// Panel names, as --panel and the View menu spell them.
#include "app.hpp"

#include <array>
#include <utility>

namespace wslab::viz {

namespace {
constexpr std::array<std::pair<Panel, std::string_view>, 7> kNames{{
    {Panel::connections, "connections"},
    {Panel::messages, "messages"},
    {Panel::frame, "frame"},
    {Panel::masking, "masking"},
    {Panel::handshake, "handshake"},
    {Panel::composer, "composer"},
    {Panel::replay, "replay"},
}};
}  // namespace

std::string_view panel_name(Panel p) {
  for (const auto& [panel, name] : kNames) {
    if (panel == p) return name;
  }
  return "?";
}

std::optional<Panel> panel_from_name(std::string_view name) {
  for (const auto& [panel, n] : kNames) {
    if (n == name) return panel;
  }
  return std::nullopt;
}

}  // namespace wslab::viz
