// A state the journal's summary keeps (history.h), parsed the first time it is read. A
// checkpoint holds a state or three of every resource, and a command reads few of them (an
// apply only those of resources with write-only values): building all of them as JSON values
// was a tenth of a DNS apply of a thousand records. A checkpoint writes them as their JSON texts
// on a line of their own (checkpoint.h), read back as text; the journal's records give them
// parsed.
#pragma once

#include <atomic>
#include <string>

#include <nlohmann/json.hpp>

namespace reconcile {

class StoredJson {
 public:
  StoredJson() = default;
  StoredJson(nlohmann::json value) : value_(std::move(value)) {}  // NOLINT: a state as records give it
  // JSON text as Text() gave it. Text that does not parse reads as null (a checkpoint is
  // checksummed whole, so it is what Text() wrote).
  static StoredJson FromText(std::string text);

  StoredJson(const StoredJson& other);
  StoredJson& operator=(const StoredJson& other);
  StoredJson(StoredJson&& other) noexcept;
  StoredJson& operator=(StoredJson&& other) noexcept;

  // Readers of the summary may be on several threads: the first parses, under a lock.
  const nlohmann::json& get() const;
  operator const nlohmann::json&() const { return get(); }  // NOLINT: read as the JSON it is
  bool is_null() const { return get().is_null(); }
  // Its JSON text: as read, or as dump() writes it.
  std::string Text() const;
  void AppendText(std::string* out) const;

 private:
  mutable std::atomic<bool> parsed_{true};  // value_ holds it; else only text_ does, until get()
  mutable nlohmann::json value_;
  std::string text_;  // as read; never changed but by assignment, so a parse reads it unlocked
};

}  // namespace reconcile
