// What an s3_sync's probe finds, kept as the provider's private data beside its state
// (State::private_data): the keys (relative to the prefixes) missing from the target,
// differing from the source, and extra in the target. Each entry carries what a rollback
// needs — the target's earlier ETag and version — so the step's journaled prior is the undo
// record. Pure functions: the provider's I/O is in sync.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/plan/diff.h"
#include "engine/value.h"

namespace reconcile::s3 {

struct Entry {
  std::string key;             // relative to the prefix
  std::uint64_t size = 0;      // the source's (what the sync writes)
  std::string etag;            // the source's; "" when not computed
  std::uint64_t old_size = 0;  // the target's before the sync
  std::string old_etag;
  std::string old_version;  // the target's version id, when versioned
};

// A probe's finding. `listed` false: no lists (the state a sync writes when done, or a source
// bucket not there yet, `source_missing`, when nothing could be compared).
struct Lists {
  std::vector<Entry> missing, differing, extra;
  bool versioned = false;  // the target keeps versions: what the sync overwrites can come back
  bool source_missing = false;
  bool listed = false;
};

// As private data: JSON text, an entry [key, size, etag, old_size, old_etag, old_version].
std::string Pack(const Lists& lists);
// A state's lists: from its private data, or, in a journal written before private data, from
// the tab-packed lists its attributes held then. Damaged data reads as no lists.
Lists ListsOf(const AttrMap& attrs, const std::string& private_data);
inline Lists ListsOf(const State& s) { return ListsOf(s.attrs, s.private_data.str()); }

// The tab-packed form of those older journals, one entry a string.
std::string EncodeLegacy(const Entry& e);
Entry DecodeLegacy(const std::string& s);

// One side of the comparison, in key order.
struct Listed {
  std::string key;  // relative
  std::uint64_t size = 0;
  std::string etag;
};

// Merge of two key-ordered listings. `same` decides objects of equal key and size whose ETags
// differ in form (multipart, local files); it may be slow, so it is asked only then.
struct Merged {
  std::vector<Entry> missing, differing, extra;
};
template <typename Same>
Merged Merge(const std::vector<Listed>& source, const std::vector<Listed>& target, Same same) {
  Merged m;
  std::size_t i = 0, j = 0;
  while (i < source.size() || j < target.size()) {
    if (j == target.size() || (i < source.size() && source[i].key < target[j].key)) {
      m.missing.push_back({source[i].key, source[i].size, source[i].etag, 0, "", ""});
      ++i;
    } else if (i == source.size() || target[j].key < source[i].key) {
      m.extra.push_back({target[j].key, 0, "", target[j].size, target[j].etag, ""});
      ++j;
    } else {
      const Listed& s = source[i];
      const Listed& t = target[j];
      bool equal = s.size == t.size && ((!s.etag.empty() && s.etag == t.etag) || same(s, t));
      if (!equal) m.differing.push_back({s.key, s.size, s.etag, t.size, t.etag, ""});
      ++i;
      ++j;
    }
  }
  return m;
}

// What a rollback does, from the entries the sync journaled (`wanted`) and the probe now.
struct Undo {
  std::vector<Entry> remove;         // created by the sync, still as the source has them
  std::vector<Entry> restore;        // overwritten or deleted by the sync, with a version to go back to
  std::vector<Entry> lost;           // overwritten or deleted, with no version: cannot be put back
  std::vector<Entry> changed_since;  // created by the sync but changed since: left alone
};
Undo PlanUndo(const Lists& now, const Lists& wanted);

// Plan lines: "12 objects, 48.0 KiB", the keys with --explain.
std::string Bytes(std::uint64_t n);
std::string Objects(std::size_t n);  // "1 object", "12 objects"
AttrChange Summary(const std::string& name, const std::vector<Entry>& entries, const std::string& what,
                   bool old_sizes = false);

}  // namespace reconcile::s3
