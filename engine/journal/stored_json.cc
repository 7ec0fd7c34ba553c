#include "engine/journal/stored_json.h"

#include <functional>
#include <mutex>

namespace reconcile {

namespace {

// A lock for the first parse of a value: a mutex in each of a million states would weigh more
// than the states, and parses seldom meet.
std::mutex& ParseLock(const void* of) {
  static std::mutex locks[16];
  return locks[std::hash<const void*>{}(of) % 16];
}

}  // namespace

StoredJson StoredJson::FromText(std::string text) {
  StoredJson s;
  s.text_ = std::move(text);
  s.parsed_.store(false, std::memory_order_relaxed);
  return s;
}

// A copy takes what the other holds: its value once parsed, else its text.
StoredJson::StoredJson(const StoredJson& other) { *this = other; }

StoredJson& StoredJson::operator=(const StoredJson& other) {
  if (this == &other) return *this;
  bool parsed = other.parsed_.load(std::memory_order_acquire);
  text_ = other.text_;
  value_ = parsed ? other.value_ : nlohmann::json();
  parsed_.store(parsed, std::memory_order_release);
  return *this;
}

// Moved only where no other thread reads either: building a summary, or one of its copies.
StoredJson::StoredJson(StoredJson&& other) noexcept { *this = std::move(other); }

StoredJson& StoredJson::operator=(StoredJson&& other) noexcept {
  if (this == &other) return *this;
  parsed_.store(other.parsed_.load(std::memory_order_acquire), std::memory_order_release);
  text_ = std::move(other.text_);
  value_ = std::move(other.value_);
  other.text_.clear();
  other.value_ = nlohmann::json();
  other.parsed_.store(true, std::memory_order_release);
  return *this;
}

const nlohmann::json& StoredJson::get() const {
  if (!parsed_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> guard(ParseLock(this));
    if (!parsed_.load(std::memory_order_relaxed)) {
      value_ = nlohmann::json::parse(text_, nullptr, false);
      if (value_.is_discarded()) value_ = nlohmann::json();
      parsed_.store(true, std::memory_order_release);
    }
  }
  return value_;
}

std::string StoredJson::Text() const {
  std::string out;
  AppendText(&out);
  return out;
}

void StoredJson::AppendText(std::string* out) const {
  if (text_.empty()) *out += get().dump();
  else *out += text_;
}

}  // namespace reconcile
