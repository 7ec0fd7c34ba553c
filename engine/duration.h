// Durations as specs write them: "500ms", "30s", "10m", "1h30m".
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace reconcile {

std::optional<std::chrono::milliseconds> ParseDuration(const std::string& text);
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace reconcile
