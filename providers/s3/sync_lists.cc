#include "providers/s3/sync_lists.h"

#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "providers/s3/s3_client.h"

namespace reconcile::s3 {

namespace {

std::map<std::string, Entry> ByKey(const std::vector<Entry>& entries) {
  std::map<std::string, Entry> m;
  for (const Entry& e : entries) m[e.key] = e;
  return m;
}

}  // namespace

std::string EncodeLegacy(const Entry& e) {
  // Keys are URI-encoded so a tab or newline in one cannot break the fields.
  return UriEncode(e.key, true) + "\t" + std::to_string(e.size) + "\t" + e.etag + "\t" + std::to_string(e.old_size) +
         "\t" + e.old_etag + "\t" + e.old_version;
}

Entry DecodeLegacy(const std::string& s) {
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

namespace {

nlohmann::json EntriesJson(const std::vector<Entry>& entries) {
  nlohmann::json out = nlohmann::json::array();
  for (const Entry& e : entries) out.push_back({e.key, e.size, e.etag, e.old_size, e.old_etag, e.old_version});
  return out;
}

std::vector<Entry> EntriesFrom(const nlohmann::json& j) {
  std::vector<Entry> out;
  if (!j.is_array()) return out;
  for (const nlohmann::json& e : j) {
    if (!e.is_array() || e.size() != 6 || !e[0].is_string() || !e[1].is_number_unsigned() || !e[2].is_string() ||
        !e[3].is_number_unsigned() || !e[4].is_string() || !e[5].is_string())
      continue;
    out.push_back({e[0].get<std::string>(), e[1].get<std::uint64_t>(), e[2].get<std::string>(),
                   e[3].get<std::uint64_t>(), e[4].get<std::string>(), e[5].get<std::string>()});
  }
  return out;
}

std::vector<Entry> LegacyEntries(const AttrMap& attrs, const char* list) {
  std::vector<Entry> out;
  auto it = attrs.find(list);
  if (it == attrs.end()) return out;
  if (const auto* l = std::get_if<StringList>(&it->second))
    for (const std::string& s : *l) out.push_back(DecodeLegacy(s));
  return out;
}

}  // namespace

std::string Pack(const Lists& l) {
  nlohmann::json j = {{"versioned", l.versioned}, {"source_missing", l.source_missing}};
  if (l.listed)
    j.update({{"missing", EntriesJson(l.missing)},
              {"differing", EntriesJson(l.differing)},
              {"extra", EntriesJson(l.extra)}});
  return j.dump();
}

Lists ListsOf(const AttrMap& attrs, const std::string& private_data) {
  Lists l;
  if (private_data.empty()) {
    l.listed = attrs.count("missing") > 0;
    l.missing = LegacyEntries(attrs, "missing");
    l.differing = LegacyEntries(attrs, "differing");
    l.extra = LegacyEntries(attrs, "extra");
    l.versioned = BoolAttr(attrs, "versioned").value_or(false);
    l.source_missing = BoolAttr(attrs, "source_missing").value_or(false);
    return l;
  }
  nlohmann::json j = nlohmann::json::parse(private_data, nullptr, false);
  if (!j.is_object()) return l;
  l.listed = j.contains("missing");
  l.missing = EntriesFrom(j.value("missing", nlohmann::json()));
  l.differing = EntriesFrom(j.value("differing", nlohmann::json()));
  l.extra = EntriesFrom(j.value("extra", nlohmann::json()));
  l.versioned = j.value("versioned", false);
  l.source_missing = j.value("source_missing", false);
  return l;
}

Undo PlanUndo(const Lists& now, const Lists& wanted) {
  Undo u;
  auto now_missing = ByKey(now.missing);
  auto now_differing = ByKey(now.differing);
  auto now_extra = ByKey(now.extra);
  // Created by the sync: present now (not missing). If it still matches the source it is
  // what the sync wrote; if it differs, someone wrote it since.
  for (const Entry& e : wanted.missing) {
    if (now_missing.count(e.key)) continue;
    // Differing from the source now, or gone from it (extra: the source was emptied, say by
    // undoing the sync that filled it first): the target still holds what the sync wrote if
    // its ETag is the one written; otherwise someone wrote over it, and it is theirs to keep.
    const Entry* there = nullptr;
    if (auto d = now_differing.find(e.key); d != now_differing.end()) there = &d->second;
    else if (auto x = now_extra.find(e.key); x != now_extra.end()) there = &x->second;
    if (there && (e.etag.empty() || there->old_etag != e.etag)) u.changed_since.push_back(e);
    else u.remove.push_back(e);
  }
  // Overwritten by the sync: back already if the target again holds the earlier ETag.
  for (const Entry& e : wanted.differing) {
    auto it = now_differing.find(e.key);
    if (it != now_differing.end() && it->second.old_etag == e.old_etag) continue;
    (e.old_version.empty() ? u.lost : u.restore).push_back(e);
  }
  // Extra in the target before: still there unless the sync deleted it.
  for (const Entry& e : wanted.extra) {
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
  std::vector<std::string> details;
  details.reserve(entries.size());
  for (const Entry& e : entries) {
    std::uint64_t size = old_sizes ? e.old_size : e.size;
    bytes += size;
    details.push_back(e.key + " (" + Bytes(size) + ")");
  }
  c.set_details(std::move(details));
  c.set_summary(Objects(entries.size()) + ", " + Bytes(bytes) + " " + what);
  // JSON readers get the count and bytes as values.
  c.old_value = std::monostate{};
  c.new_value = static_cast<std::int64_t>(entries.size());
  return c;
}

}  // namespace reconcile::s3
