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

void Diagnostics::SortByLocation() {
  std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    auto key = [](const Diagnostic& d) {
      return std::make_tuple(d.loc.file ? *d.loc.file : std::string(), d.loc.line, d.loc.column);
    };
    return key(a) < key(b);
  });
}

std::string Diagnostics::Render(const SourceSet& sources) const {
  std::string out;
  for (const Diagnostic& d : items_) {
    std::string where = d.loc.ToString();
    out += where.empty() ? "error: " : where + ": error: ";
    out += d.message + "\n";
    if (d.loc.known() && d.show_line) {
      std::string_view line = sources.Line(d.loc.file, d.loc.line);
      if (!line.empty()) {
        std::string num = std::to_string(d.loc.line);
        out += " " + num + " | " + std::string(line) + "\n";
        std::string caret(num.size() + 2, ' ');
        caret += "| ";
        // Keep tabs so the caret lines up under the same column in a terminal.
        for (std::uint32_t c = 1; c < d.loc.column && c - 1 < line.size(); ++c) {
          caret += line[c - 1] == '\t' ? '\t' : ' ';
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

}  // namespace reconcile
