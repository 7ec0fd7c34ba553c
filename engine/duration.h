// Durations as specs write them: "500ms", "30s", "10m", "1h30m".
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace reconcile {

// The longest duration a spec may write. Every wait in reconcile (a check's timeout, a
// service's stop_timeout, a lock timeout) is minutes or hours; a year is far past any of
// them and keeps every sum of durations and deadline arithmetic well inside 64 bits.
inline constexpr std::chrono::milliseconds kMaxDuration = std::chrono::hours(24 * 366);

// nullopt when `text` is not a duration or is longer than kMaxDuration.
std::optional<std::chrono::milliseconds> ParseDuration(const std::string& text);
// Why `text` is not a duration a spec may write, as the end of a sentence that starts with
// what it is (" must be a duration such as …"); empty when it is one.
std::string DurationError(const std::string& text);
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace reconcile
