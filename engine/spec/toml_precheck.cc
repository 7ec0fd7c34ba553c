#include "engine/spec/toml_precheck.h"

#include <cstring>
#include <string>

namespace reconcile {

namespace {

// strchr, without the match of every set's terminating NUL: toml++ reads on over a NUL.
bool OneOf(char c, const char* set) { return c != '\0' && std::strchr(set, c) != nullptr; }

// What ends a value for toml++: whitespace — vertical tab and form feed too — or ] } , #.
constexpr const char* kValueEnd = " \t\n\v\f\r]},#";

bool IsBareKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

class Scanner {
 public:
  Scanner(std::string_view text, std::vector<TomlHeader>* headers) : text_(text), headers_(headers) {}

  std::optional<TomlPrecheckError> Run() {
    std::string open;             // the [ and { of values still open: a '[' inside one is an array, not a table header
    bool value_expected = false;  // just after an array's '[' or ',': toml++ asserts on a '}' here
    bool line_start = true;
    if (At("\xEF\xBB\xBF")) i_ = 3;  // a byte order mark, which toml++ skips
    while (i_ < text_.size()) {
      char c = text_[i_];
      if (c == '\n') {
        Advance();
        line_start = true;
        if (open.empty()) in_value_ = false;
        continue;
      }
      if (c == ' ' && LoneDigitAfterValue()) {
        Advance();
        return Fail("a lone digit after a value; a date and a time are written 1979-05-27 07:32:00");
      }
      if (c == ' ' || c == '\t' || c == '\r') {
        Advance();
        continue;
      }
      if (static_cast<unsigned char>(c) >= 0x80)
        return Fail("a non-ASCII character outside a string or comment; TOML allows it only in quotes");
      bool at_line_start = line_start;
      line_start = false;
      if (c == '#') {
        while (i_ < text_.size() && text_[i_] != '\n') Advance();
        continue;
      }
      if (c == '}' && value_expected) return Fail("expected a value or ']' in this array, not '}'");
      if (value_start_ && ((c >= '0' && c <= '9') || c == '+' || c == '-') && RunsIntoNonAscii())
        return Fail("a value that runs into a non-ASCII character; put a space or comma after the value");
      // toml++ asserts on a number that runs into a quote and on past a space (the fuzzer's
      // v=0"---A--B= 0); no number, date or time holds a quote.
      if (value_start_ && ((c >= '0' && c <= '9') || c == '+' || c == '-') && RunsIntoQuote())
        return Fail("a number, date or time that runs into a quote; a string is written all in quotes");
      // toml++ takes all up to what ends a value as the number: a '{', '[' or '=' in it opens
      // nothing (the fuzzer's v=0$${-A--B= 0 passed as a table, and toml++ asserted on past
      // the space). Valid TOML has none there, so nothing valid is read otherwise.
      if (value_start_ && ((c >= '0' && c <= '9') || c == '+' || c == '-')) {
        value_expected = value_start_ = false;
        while (i_ < text_.size() && !OneOf(text_[i_], kValueEnd)) Advance();
        continue;
      }
      value_expected = false;
      value_start_ = false;
      if (c == '"' || c == '\'') {
        if (auto e = String(c)) return e;
      } else if (c == '[' && open.empty() && at_line_start) {
        if (headers_) headers_->push_back(TomlHeader{i_, line_});
        if (auto e = TableHeader()) return e;
      } else if (c == '[' || c == '{') {
        open += c;
        value_expected = value_start_ = c == '[';
        in_value_ = c == '[';
        Advance();
      } else if (c == ']' || c == '}') {
        if (!open.empty()) open.pop_back();
        in_value_ = true;
        Advance();
      } else {
        value_expected = value_start_ = c == ',' && !open.empty() && open.back() == '[';
        if (c == ',' && !open.empty() && open.back() == '{') in_value_ = false;
        if (c == '=' && !in_value_) {
          in_value_ = value_start_ = true;
          separator_ = i_;
        }
        Advance();
      }
    }
    return std::nullopt;
  }

 private:
  void Advance() {
    unsigned char c = static_cast<unsigned char>(text_[i_++]);
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else if ((c & 0xC0) != 0x80) {  // UTF-8 continuation bytes belong to the character before
      ++column_;
    }
  }

  TomlPrecheckError Fail(std::string message) const { return {line_, column_, std::move(message)}; }

  bool At(std::string_view s) const { return text_.compare(i_, s.size(), s) == 0; }

  // At a space: "1979-05-27 0 " — a value, a space, one digit, then what ends a value. toml++
  // reads ahead for a date and time written with a space and asserts on the end it finds.
  // Never valid TOML: after a value comes a comment, a comma or a bracket, and a digit after
  // a key only in a dotted key ("a. 1"), which the '.' before the space rules out.
  bool LoneDigitAfterValue() const {
    if (i_ == 0 || i_ + 2 >= text_.size()) return false;
    char before = text_[i_ - 1], digit = text_[i_ + 1], after = text_[i_ + 2];
    if (OneOf(before, " \t\n\v\f\r.[{,") || (before == '=' && separator_ == i_ - 1)) return false;
    return digit >= '0' && digit <= '9' && OneOf(after, kValueEnd);
  }

  // A value starting with a digit or sign: toml++ reads ahead to the first character that
  // ends a value (quotes do not), testing each with the check undefined for most non-ASCII
  // characters, so `v = 2"é"` must not reach it. A space then a digit reads on (a date and
  // time written with a space), as toml++ may.
  bool RunsIntoQuote() const {
    for (std::size_t j = i_; j < text_.size(); ++j) {
      if (OneOf(text_[j], "\"'")) return true;
      if (OneOf(text_[j], kValueEnd)) return false;
    }
    return false;
  }

  bool RunsIntoNonAscii() const {
    for (std::size_t j = i_; j < text_.size(); ++j) {
      char c = text_[j];
      if (static_cast<unsigned char>(c) >= 0x80) return true;
      if (c == ' ' && j + 1 < text_.size() && text_[j + 1] >= '0' && text_[j + 1] <= '9') continue;
      if (OneOf(c, kValueEnd)) return false;
    }
    return false;
  }

  // "[" or "[[", spaces, then the first character of the key.
  std::optional<TomlPrecheckError> TableHeader() {
    Advance();
    if (i_ < text_.size() && text_[i_] == '[') Advance();
    while (i_ < text_.size() && (text_[i_] == ' ' || text_[i_] == '\t')) Advance();
    if (i_ >= text_.size()) return std::nullopt;
    char c = text_[i_];
    if (IsBareKeyChar(c) || c == '"' || c == '\'' || c == ']') return std::nullopt;
    return Fail("a table name must start with a letter, digit, '_', '-' or a quote");
  }

  // From the opening quote to past the closing one. A string never closed is told where it
  // opens: toml++ tells the end of the file (of a 20 MiB spec), or the next line's first
  // character as "unescaped control characters".
  std::optional<TomlPrecheckError> String(char quote) {
    std::string_view triple = quote == '"' ? "\"\"\"" : "'''";
    bool multi = At(triple);
    const std::uint32_t line = line_, column = column_;
    auto opened = [&] {  // worded only when it is needed: a spec holds millions of strings
      return TomlPrecheckError{line, column,
                               multi ? "a string opened with " + std::string(triple) +
                                           " here is never closed; close it with " + std::string(triple)
                                     : std::string("a string opened here is not closed on its line; close it with ") +
                                           quote + " (a string of several lines is written between " +
                                           std::string(triple) + ")"};
    };
    for (std::size_t k = 0; k < (multi ? 3u : 1u); ++k) Advance();
    while (i_ < text_.size()) {
      char c = text_[i_];
      if (multi && At(triple)) {
        // Up to two more quotes may end the string: """a"""" is the text a".
        for (int k = 0; k < 3; ++k) Advance();
        for (int k = 0; k < 2 && i_ < text_.size() && text_[i_] == quote; ++k) Advance();
        return std::nullopt;
      }
      if (!multi && c == quote) {
        Advance();
        return std::nullopt;
      }
      if (!multi && c == '\n') return opened();
      if (c == '\\' && quote == '"') {
        Advance();
        if (i_ >= text_.size()) return opened();
        char e = text_[i_];
        if (!multi && (e == '\n' || (e == '\r' && i_ + 1 < text_.size() && text_[i_ + 1] == '\n'))) return opened();
        // toml++ first asks whether the character after a backslash is whitespace, with the
        // check that is undefined for most non-ASCII characters; it is no escape anyway.
        if (multi && static_cast<unsigned char>(e) >= 0x80)
          return Fail("a backslash before a non-ASCII character is not an escape; write \\\\ for a backslash");
        if (multi && (e == ' ' || e == '\t' || e == '\r' || e == '\n')) {
          // A line-ending backslash: toml++ skips the whitespace after it and tests the first
          // other character with a check that is undefined for most non-ASCII characters.
          while (i_ < text_.size() && (text_[i_] == ' ' || text_[i_] == '\t' || text_[i_] == '\r' || text_[i_] == '\n'))
            Advance();
          if (i_ < text_.size() && static_cast<unsigned char>(text_[i_]) >= 0x80)
            return Fail("a non-ASCII character first after a line-ending backslash; write it as \\uXXXX");
          continue;
        }
        Advance();
        continue;
      }
      Advance();
    }
    return opened();
  }

  std::string_view text_;
  std::vector<TomlHeader>* headers_;
  std::size_t i_ = 0;
  bool value_start_ = false;                        // the next character begins a value
  bool in_value_ = false;                           // past the '=' of a key/value pair (or in an array)
  std::size_t separator_ = std::string_view::npos;  // where that '=' is
  std::uint32_t line_ = 1, column_ = 1;
};

}  // namespace

std::optional<TomlPrecheckError> PrecheckToml(std::string_view text, std::vector<TomlHeader>* headers) {
  return Scanner(text, headers).Run();
}

}  // namespace reconcile
