// Escaping for XML and HTML text and attribute values: S3 request bodies and plan reports.
#pragma once

#include <string>

namespace reconcile {

// The entity that stands for `ch` in XML and HTML text and attribute values, or nullptr when
// it stands for itself. `quotes` false: only &, < and > (text that is not an attribute value).
inline const char* XmlEntity(char ch, bool quotes = true) {
  if (ch == '&') return "&amp;";
  if (ch == '<') return "&lt;";
  if (ch == '>') return "&gt;";
  if (quotes && ch == '"') return "&quot;";
  if (quotes && ch == '\'') return "&apos;";
  return nullptr;
}

inline std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char ch : s)
    if (const char* e = XmlEntity(ch)) out += e;
    else out += ch;
  return out;
}

}  // namespace reconcile
