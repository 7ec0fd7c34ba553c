#include "engine/spec/interpolate.h"

namespace reconcile {

Result<std::vector<Piece>> SplitRefs(const std::string& s) {
  std::vector<Piece> out;
  std::string literal;
  std::size_t literal_start = 0;
  std::size_t i = 0;
  auto flush = [&](std::size_t next) {
    if (!literal.empty()) out.push_back({false, literal, literal_start});
    literal.clear();
    literal_start = next;
  };
  while (i < s.size()) {
    if (s.compare(i, 3, "$${") == 0) {
      literal += "${";
      i += 3;
      continue;
    }
    if (s.compare(i, 2, "${") == 0) {
      std::size_t close = s.find('}', i + 2);
      if (close == std::string::npos)
        return Error{"unterminated '${' (close it with '}', or write '$${' for a literal '${')"};
      flush(i);
      std::string path = s.substr(i + 2, close - i - 2);
      out.push_back({true, path, i});
      i = close + 1;
      literal_start = i;
      continue;
    }
    literal += s[i++];
  }
  flush(i);
  return out;
}

std::string EscapeLiteral(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 2, "${") == 0) out += '$';
    out += s[i];
  }
  return out;
}

}  // namespace reconcile
