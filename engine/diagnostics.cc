#include "engine/diagnostics.h"

#include <algorithm>
#include <tuple>

namespace reconcile {

std::string SourceLoc::ToString() const {
  if (!known()) return file ? *file : std::string();
  return *file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

const std::string* SourceSet::Add(const std::string& path, std::string text) {
  auto it = index_.find(path);
  if (it != index_.end()) {
    files_[it->second].text = std::move(text);
    return &files_[it->second].path;
  }
  files_.push_back({path, std::move(text)});
  index_.emplace(path, files_.size() - 1);
  return &files_.back().path;
}

const std::string* SourceSet::Find(const std::string& path) const {
  auto it = index_.find(path);
  return it == index_.end() ? nullptr : &files_[it->second].path;
}

std::vector<std::string> SourceSet::Paths() const {
  std::vector<std::string> out;
  for (const Entry& e : files_) out.push_back(e.path);
  return out;
}

void SourceSet::ForgetTexts() {
  for (Entry& e : files_) std::string().swap(e.text);
}

std::string_view SourceSet::Text(const std::string* file) const {
  if (!file) return {};
  auto it = index_.find(*file);
  return it == index_.end() ? std::string_view() : std::string_view(files_[it->second].text);
}

std::string_view SourceSet::Line(const std::string* file, std::uint32_t line) const {
  std::string_view text = Text(file);
  std::size_t pos = 0;
  for (std::uint32_t n = 1; n < line; ++n) {
    pos = text.find('\n', pos);
    if (pos == std::string_view::npos) return {};
    ++pos;
  }
  std::size_t end = text.find('\n', pos);
  std::string_view l = text.substr(pos, end == std::string_view::npos ? text.npos : end - pos);
  if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  return l;
}

void Diagnostics::Error(SourceLoc loc, std::string message, std::string note, bool show_line) {
  items_.push_back({loc, std::move(message), std::move(note), show_line});
}

void Diagnostics::Warning(SourceLoc loc, std::string message, std::string note) {
  warnings_.push_back({loc, std::move(message), std::move(note), true});
}

void Diagnostics::SortByLocation() {
  std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    auto key = [](const Diagnostic& d) {
      return std::make_tuple(d.loc.file ? *d.loc.file : std::string(), d.loc.line, d.loc.column);
    };
    return key(a) < key(b);
  });
}

namespace {

// How much of a long source line is quoted: this many characters either side of the column.
// A generated spec may put 10,000 entries on one line; the caret needs only its neighbourhood.
constexpr std::size_t kLineWindow = 60;
constexpr std::size_t kMaxMessage = 2000;

}  // namespace

std::string Diagnostics::Render(const SourceSet& sources) const { return RenderItems(items_, "error", sources); }

std::string Diagnostics::RenderWarnings(const SourceSet& sources) const {
  return RenderItems(warnings_, "warning", sources);
}

std::string Diagnostics::RenderItems(const std::vector<Diagnostic>& items, const std::string& kind,
                                     const SourceSet& sources) {
  std::string out;
  std::size_t shown = 0;
  for (const Diagnostic& d : items) {
    if (shown++ == kMaxRendered) {
      std::size_t more = items.size() - kMaxRendered;
      out += "... and " + std::to_string(more) + " more " + kind + (more == 1 ? "" : "s") + "\n";
      break;
    }
    std::string where = d.loc.ToString();
    out += where.empty() ? kind + ": " : where + ": " + kind + ": ";
    if (d.message.size() > kMaxMessage) out += d.message.substr(0, kMaxMessage) + "...\n";
    else out += d.message + "\n";
    if (d.loc.known() && d.show_line) {
      std::string_view line = sources.Line(d.loc.file, d.loc.line);
      if (!line.empty()) {
        std::string num = std::to_string(d.loc.line);
        // Columns count from 1; from here on `col` counts from 0 within what is shown.
        std::size_t col = d.loc.column > 0 ? d.loc.column - 1 : 0;
        std::string_view shown_line = line;
        std::string before, after;
        if (line.size() > 2 * kLineWindow + 20) {
          std::size_t from = col > kLineWindow ? col - kLineWindow : 0;
          if (from > 0) before = "...";
          if (from + 2 * kLineWindow < line.size()) after = "...";
          shown_line = line.substr(from, 2 * kLineWindow);
          col = col - from + before.size();
        }
        out += " " + num + " | " + before + std::string(shown_line) + after + "\n";
        std::string caret(num.size() + 2, ' ');
        caret += "| ";
        // Keep tabs so the caret lines up under the same column in a terminal.
        for (std::size_t c = 0; c < col && c < before.size() + shown_line.size(); ++c) {
          char ch = c < before.size() ? ' ' : shown_line[c - before.size()];
          caret += ch == '\t' ? '\t' : ' ';
        }
        out += caret + "^\n";
      }
    }
    if (!d.note.empty()) out += "  " + d.note + "\n";
  }
  return out;
}

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t prev = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cur = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1)});
      prev = cur;
    }
  }
  return row[b.size()];
}

std::string NearestName(std::string_view word, const std::vector<std::string>& candidates) {
  // Allow about a third of the word to be wrong, and never fewer than two edits.
  std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const std::string& c : candidates) {
    std::size_t d = EditDistance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string n = NearestName(word, candidates);
  return n.empty() ? std::string() : ", did you mean '" + n + "'?";
}

std::string CharShown(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u < 0x20 || u == 0x7f) return "a control character (a line break, a tab)";
  if (u >= 0x80) return "a non-ASCII character";
  return "'" + std::string(1, c) + "'";
}

}  // namespace reconcile
