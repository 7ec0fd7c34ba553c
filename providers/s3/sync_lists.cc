#include "providers/s3/sync_lists.h"

#include <cstdio>
#include <map>

#include "providers/s3/s3_client.h"

namespace reconcile::s3 {

namespace {

std::map<std::string, Entry> ByKey(const std::vector<Entry>& entries) {
  std::map<std::string, Entry> m;
  for (const Entry& e : entries) m[e.key] = e;
  return m;
}

}  // namespace

std::string Encode(const Entry& e) {
  // Keys are URI-encoded so a tab or newline in one cannot break the fields.
  return UriEncode(e.key, true) + "\t" + std::to_string(e.size) + "\t" + e.etag + "\t" + std::to_string(e.old_size) +
         "\t" + e.old_etag + "\t" + e.old_version;
}

Entry Decode(const std::string& s) {
  std::vector<std::string> f;
  std::size_t start = 0;
  for (;;) {
    auto tab = s.find('\t', start);
    f.push_back(s.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) break;
    start = tab + 1;
  }
  f.resize(6);
  Entry e;
  e.key = UriDecode(f[0]);
  e.size = std::strtoull(f[1].c_str(), nullptr, 10);
  e.etag = f[2];
  e.old_size = std::strtoull(f[3].c_str(), nullptr, 10);
  e.old_etag = f[4];
  e.old_version = f[5];
  return e;
}

std::vector<Entry> Entries(const AttrMap& attrs, const std::string& list) {
  std::vector<Entry> out;
  auto it = attrs.find(list);
  if (it == attrs.end()) return out;
  if (const auto* l = std::get_if<StringList>(&it->second))
    for (const std::string& s : *l) out.push_back(Decode(s));
  return out;
}

StringList Encoded(const std::vector<Entry>& entries) {
  StringList out;
  out.reserve(entries.size());
  for (const Entry& e : entries) out.push_back(Encode(e));
  return out;
}

bool IsUndo(const AttrMap& desired) { return desired.count("missing") > 0; }

Undo PlanUndo(const AttrMap& now_attrs, const AttrMap& wanted) {
  Undo u;
  auto now_missing = ByKey(Entries(now_attrs, "missing"));
  auto now_differing = ByKey(Entries(now_attrs, "differing"));
  auto now_extra = ByKey(Entries(now_attrs, "extra"));
  // Created by the sync: present now (not missing). If it still matches the source it is
  // what the sync wrote; if it differs, someone wrote it since.
  for (const Entry& e : Entries(wanted, "missing")) {
    if (now_missing.count(e.key)) continue;
    auto it = now_differing.find(e.key);
    // Differing from the source now: the target still holds what the sync wrote if its ETag
    // is the one written (the source changed since); otherwise someone wrote over it.
    if (it != now_differing.end() && (e.etag.empty() || it->second.old_etag != e.etag)) u.changed_since.push_back(e);
    else u.remove.push_back(e);
  }
  // Overwritten by the sync: back already if the target again holds the earlier ETag.
  for (const Entry& e : Entries(wanted, "differing")) {
    auto it = now_differing.find(e.key);
    if (it != now_differing.end() && it->second.old_etag == e.old_etag) continue;
    (e.old_version.empty() ? u.lost : u.restore).push_back(e);
  }
  // Extra in the target before: still there unless the sync deleted it.
  for (const Entry& e : Entries(wanted, "extra")) {
    if (now_extra.count(e.key)) continue;
    (e.old_version.empty() ? u.lost : u.restore).push_back(e);
  }
  return u;
}

std::string Objects(std::size_t n) { return std::to_string(n) + (n == 1 ? " object" : " objects"); }

std::string Bytes(std::uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

AttrChange Summary(const std::string& name, const std::vector<Entry>& entries, const std::string& what,
                   bool old_sizes) {
  std::uint64_t bytes = 0;
  AttrChange c;
  c.name = name;
  for (const Entry& e : entries) {
    std::uint64_t size = old_sizes ? e.old_size : e.size;
    bytes += size;
    c.details.push_back(e.key + " (" + Bytes(size) + ")");
  }
  c.summary = Objects(entries.size()) + ", " + Bytes(bytes) +
              " " + what;
  // JSON readers get the count and bytes as values.
  c.old_value = std::monostate{};
  c.new_value = static_cast<std::int64_t>(entries.size());
  return c;
}

}  // namespace reconcile::s3
