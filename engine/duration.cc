#include "engine/duration.h"

#include <cctype>

namespace reconcile {

std::optional<std::chrono::milliseconds> ParseDuration(const std::string& text) {
  std::chrono::milliseconds total{0};
  std::size_t i = 0;
  if (text.empty()) return std::nullopt;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start) return std::nullopt;
    long long n = std::stoll(text.substr(start, i - start));
    if (text.compare(i, 2, "ms") == 0) {
      total += std::chrono::milliseconds(n);
      i += 2;
    } else if (i < text.size() && text[i] == 's') {
      total += std::chrono::seconds(n);
      ++i;
    } else if (i < text.size() && text[i] == 'm') {
      total += std::chrono::minutes(n);
      ++i;
    } else if (i < text.size() && text[i] == 'h') {
      total += std::chrono::hours(n);
      ++i;
    } else {
      return std::nullopt;
    }
  }
  return total;
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
