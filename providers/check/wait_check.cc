#include "providers/check/wait_check.h"

#include "engine/duration.h"

namespace reconcile {

namespace {

constexpr std::chrono::hours kLongestWait{24};
constexpr std::chrono::minutes kTimeoutMargin{1};

bool IsWait(const AttrMap& resource) {
  auto it = resource.find("kind");
  const std::string* kind = it == resource.end() ? nullptr : AsString(it->second);
  return kind && *kind == "wait";
}

std::optional<std::chrono::milliseconds> DurationOf(const AttrMap& resource, const char* key) {
  auto it = resource.find(key);
  const std::string* text = it == resource.end() ? nullptr : AsString(it->second);
  return text ? WaitDuration(*text) : std::nullopt;
}

}  // namespace

std::optional<std::chrono::milliseconds> WaitDuration(const std::string& text) {
  // Digits enough for any real wait; more would overflow ParseDuration's arithmetic.
  std::size_t run = 0;
  for (char c : text) {
    run = (c >= '0' && c <= '9') ? run + 1 : 0;
    if (run > 9) return std::nullopt;
  }
  auto d = ParseDuration(text);
  if (!d || *d > kLongestWait) return std::nullopt;
  return d;
}

CheckResult WaitClocks::Check(const std::string& address, std::chrono::milliseconds duration) {
  auto now = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point start;
  {
    std::lock_guard<std::mutex> g(mu_);
    start = started_.emplace(address, now).first->second;
  }
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - start);
  if (waited >= duration) return {true, FormatDuration(duration) + " have passed"};
  // Rounded up to the second, so the count never shows "0ms left" while it still waits.
  auto left = std::chrono::ceil<std::chrono::seconds>(duration - waited);
  return {false, FormatDuration(left) + " left of " + FormatDuration(duration)};
}

std::string CheckWaitDuration(const std::string& value, const AttrMap& resource) {
  auto d = WaitDuration(value);
  if (!d) return "is longer than a wait can be (24h at most)";
  if (d->count() == 0) return "is zero; a wait of nothing is no wait, leave the check out";
  auto it = resource.find("timeout");
  const std::string* timeout_text = it == resource.end() ? nullptr : AsString(it->second);
  if (auto timeout = timeout_text ? WaitDuration(*timeout_text) : std::nullopt; timeout && *timeout <= *d)
    return "is not shorter than the check's timeout (" + *timeout_text +
           "), so the wait could never end in time; raise timeout or leave it out (it is then the duration and "
           "a minute)";
  return "";
}

std::string WaitTimeout(const AttrMap& resource) {
  if (!IsWait(resource)) return "";
  auto d = DurationOf(resource, "duration");
  if (!d) return "";
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(*d + kTimeoutMargin).count()) + "s";
}

std::string WaitInterval(const AttrMap& resource) { return IsWait(resource) ? "1s" : ""; }

}  // namespace reconcile
