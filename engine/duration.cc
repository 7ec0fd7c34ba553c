#include "engine/duration.h"

#include <cctype>

namespace reconcile {

namespace {

enum class Parsed { kOk, kMalformed, kTooLong };

Parsed Parse(const std::string& text, std::chrono::milliseconds* out) {
  const long long max_ms = kMaxDuration.count();
  long long total = 0;
  bool too_long = false;
  std::size_t i = 0;
  if (text.empty()) return Parsed::kMalformed;
  while (i < text.size()) {
    // Digits accumulate with a bound, never through stoll: "99999999999999999999999s" is
    // simply too long, not an exception.
    long long n = 0;
    std::size_t start = i;
    for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
      if (n <= max_ms) n = n * 10 + (text[i] - '0');
    }
    if (i == start) return Parsed::kMalformed;
    long long unit = 0;
    if (text.compare(i, 2, "ms") == 0) {
      unit = 1;
      i += 2;
    } else if (i < text.size() && text[i] == 's') {
      unit = 1000;
      ++i;
    } else if (i < text.size() && text[i] == 'm') {
      unit = 60 * 1000;
      ++i;
    } else if (i < text.size() && text[i] == 'h') {
      unit = 3600 * 1000;
      ++i;
    } else {
      return Parsed::kMalformed;
    }
    if (too_long || n > (max_ms - total) / unit) {
      too_long = true;
      continue;
    }
    total += n * unit;
  }
  if (too_long) return Parsed::kTooLong;
  *out = std::chrono::milliseconds(total);
  return Parsed::kOk;
}

}  // namespace

std::optional<std::chrono::milliseconds> ParseDuration(const std::string& text) {
  std::chrono::milliseconds d{0};
  if (Parse(text, &d) != Parsed::kOk) return std::nullopt;
  return d;
}

std::string DurationError(const std::string& text) {
  std::chrono::milliseconds d{0};
  switch (Parse(text, &d)) {
    case Parsed::kOk:
      return "";
    case Parsed::kTooLong:
      return " is longer than " + FormatDuration(kMaxDuration) + " (a year), the longest wait reconcile takes";
    case Parsed::kMalformed:
      break;
  }
  std::string shown = text.size() > 40 ? text.substr(0, 40) + "..." : text;
  return " must be a duration such as \"30s\", \"10m\" or \"1h30m\", not \"" + shown + "\"";
}

std::string FormatDuration(std::chrono::milliseconds d) {
  long long ms = d.count();
  if (ms < 1000) return std::to_string(ms) + "ms";
  long long s = ms / 1000;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m" + (s % 60 ? std::to_string(s % 60) + "s" : "");
  return std::to_string(s / 3600) + "h" + (s % 3600 / 60 ? std::to_string(s % 3600 / 60) + "m" : "");
}

}  // namespace reconcile
