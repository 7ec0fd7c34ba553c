// One diagnostics type for the whole engine: an error at a place in a source file, with the
// line shown and a caret under the column, plus an optional note ("did you mean ...").
// Spec loading collects every error before giving up, so an operator fixes them in one pass.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace reconcile {

// A place in a spec. `file` points into a SourceSet, which outlives the model.
struct SourceLoc {
  const std::string* file = nullptr;
  std::uint32_t line = 0;
  std::uint32_t column = 0;

  bool known() const { return file != nullptr && line > 0; }
  std::string ToString() const;  // "cutover.toml:12:3", or "" when unknown
};

// The texts of every file a spec was read from, kept for caret rendering and hashing.
class SourceSet {
 public:
  // Returns a pointer, stable for the SourceSet's lifetime, to the stored path.
  const std::string* Add(const std::string& path, std::string text);
  const std::string* Find(const std::string& path) const;
  std::string_view Text(const std::string* file) const;
  // Lets the texts go, keeping the paths every SourceLoc points at: once a spec has loaded
  // and its graph is built, no line of it is shown again, and a million resources' text is
  // 110 MiB. Text and Line then give "".
  void ForgetTexts();
  std::vector<std::string> Paths() const;  // every file added, in order
  std::string_view Line(const std::string* file, std::uint32_t line) const;

 private:
  struct Entry {
    std::string path;
    std::string text;
  };
  std::deque<Entry> files_;
  std::map<std::string, std::size_t, std::less<>> index_;
};

struct Diagnostic {
  SourceLoc loc;
  std::string message;
  std::string note;       // shown after the caret line, e.g. the other end of a cycle
  bool show_line = true;  // false when the line holds a secret: the position alone is shown
};

class Diagnostics {
 public:
  void Error(SourceLoc loc, std::string message, std::string note = {}, bool show_line = true);
  // What loads but is likely not what was meant: said, and the spec still runs. Apart from
  // the errors: empty() and size() count errors alone.
  void Warning(SourceLoc loc, std::string message, std::string note = {});
  const std::vector<Diagnostic>& warnings() const { return warnings_; }
  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  // Orders errors as they stand in the files (TOML tables come back sorted by key, not line).
  void SortByLocation();

  // "file:line:col: error: message", the source line, a caret, then the note; one per error,
  // the first kMaxRendered of them, then how many more. A long line is quoted around the column.
  std::string Render(const SourceSet& sources) const;
  std::string RenderWarnings(const SourceSet& sources) const;  // the same, "warning:"
  static constexpr std::size_t kMaxRendered = 20;

 private:
  static std::string RenderItems(const std::vector<Diagnostic>& items, const std::string& kind,
                                 const SourceSet& sources);
  std::vector<Diagnostic> items_;
  std::vector<Diagnostic> warnings_;
};

// Levenshtein distance, as ninja uses for "did you mean".
std::size_t EditDistance(std::string_view a, std::string_view b);

// The candidate nearest to `word`, if it is near enough to be a plausible misspelling.
std::string NearestName(std::string_view word, const std::vector<std::string>& candidates);

// ", did you mean 'x'?" or "" — appended to "unknown ..." messages.
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

// A character as an operator can read it in a one-line error: "'x'", or what kind it is when
// printing it would not show it (a control or non-ASCII character).
std::string CharShown(char c);

}  // namespace reconcile
