// The spec loader's working state, shared by loader.cc (the top-level tables) and
// loader_resources.cc (resources and their overlays). Not part of the engine's interface.
#pragma once

#include <string>
#include <vector>

#include <toml++/toml.h>

#include "engine/registry.h"
#include "engine/spec/spec.h"
#include "engine/spec/toml_pieces.h"

namespace reconcile {

// What a value is, for error messages: "attribute 'ttl' of dns_record.www". Built only when
// an error needs it — a large spec has hundreds of thousands of values and few errors.
class What {
 public:
  What(std::string text) : text_(std::move(text)) {}
  What(const char* text) : text_(text) {}
  static What Attribute(std::string_view key, std::string_view owner) { return What("attribute '", key, owner); }
  static What Key(std::string_view key, std::string_view owner) { return What("'", key, owner); }
  std::string str() const { return prefix_ ? prefix_ + std::string(key_) + "' of " + std::string(owner_) : text_; }

 private:
  What(const char* prefix, std::string_view key, std::string_view owner) : prefix_(prefix), key_(key), owner_(owner) {}
  std::string text_;
  const char* prefix_ = nullptr;
  std::string_view key_, owner_;
};
inline std::string operator+(const What& w, const std::string& s) { return w.str() + s; }
inline std::string operator+(const What& w, const char* s) { return w.str() + s; }
inline std::string operator+(const std::string& s, const What& w) { return s + w.str(); }
inline std::string operator+(const char* s, const What& w) { return s + w.str(); }

// Adds the edges a `file` or `directory` inside a declared `directory` gets without `after`.
void AddFolderDependencies(Spec* spec);

// The resources' tables of a large spec, parsed a piece at a time (toml_pieces.h).
struct SpecPieces {
  std::string_view text;
  const std::string* file;
  const TomlSplit* split;
};

class Loader {
 public:
  Loader(const Registry& registry, SourceSet* sources, Diagnostics* diags, Spec* spec, const LoadOptions& options)
      : registry_(registry),
        sources_(sources),
        diags_(diags),
        spec_(spec),
        options_(options) {}

  void Load(toml::table& root, const SpecPieces* pieces = nullptr);
  // Two resources of one address: TOML forbids it, but pieces parsed apart cannot tell.
  bool repeated_address() const { return repeated_address_; }

 private:
  friend struct ResourceReader;

  // loader.cc
  void ReadHeader(toml::table& root);
  void ReadStages(const toml::node& node);
  void ReadStageOptions(const toml::table& table);
  void ReadState(const toml::table& table);
  void ReadVars(const toml::table& table, const toml::table& root);
  void ResolveVars();
  void ReadHosts(const toml::table& table);
  void ResolveJumps(const std::map<std::string, SourceLoc>& locs);
  // One [host.NAME] table's keys (a [hosts.NAME] group's when `group`: no address).
  HostConfig ReadHost(const std::string& name, const std::string& where, const toml::table& t, bool group);
  std::map<std::string, SourceLoc> jump_locs_;  // hosts with a jump: where it is written
  void ReadHostGroups(const toml::table& table);
  // A resource on host = "group:NAME": one copy per member, addressed TYPE.NAME[MEMBER].
  void AddResource(Resource r, const std::string& group);
  std::map<std::string, std::vector<std::string>> grouped_;  // TYPE.NAME → its members' addresses
  std::map<std::string, std::string> group_of_;              // TYPE.NAME → its group
  void ReadProviders(const toml::table& table);
  void ReadNotify(const toml::node& node);  // loader_notify.cc

  void ReadResourceTables(toml::table& root, const std::vector<std::string>& candidates);
  void ReadPieces(const SpecPieces& pieces, const std::vector<std::string>& candidates);

  // loader_resources.cc
  void ReadResources(const TypeSchema& schema, toml::node& node);  // empties `node` as it reads
  void ReadResource(const TypeSchema& schema, const toml::key& name_key, const toml::table& table);
  void ReadOverlays(Resource* r, const toml::table& at);
  void CheckKinds(Resource* r);
  void CheckValues(const Resource& r);
  bool WrittenAsIs(SourceLoc loc, const std::string& key) const;
  void ResolveDependencies();
  // watch_checks to resources, and the stage options checked together (downtime's order).
  void ResolveStageOptions();
  bool ReadOnFailure(const toml::node& node, const std::string& what, std::string* out);
  void ResolveReference(Resource* r, const std::string& path, SourceLoc loc);

  // Value reading, shared.
  SourceLoc Loc(const toml::source_region& region);
  SourceLoc Loc(const toml::node& n) { return Loc(n.source()); }
  SourceLoc Loc(const toml::key& k) { return Loc(k.source()); }
  void Err(SourceLoc loc, std::string message, std::string note = {}) {
    diags_->Error(loc, std::move(message), std::move(note));
  }
  // Past this many errors only the first are shown (Diagnostics::Render), so suggestions that
  // scan every stage or address are skipped: a spec of 40,000 mistakes stays linear.
  bool ManyErrors() const { return diags_->size() >= 100; }
  // For a line that holds a secret: its position, never its text.
  void ErrHidingLine(SourceLoc loc, std::string message, std::string note = {}) {
    diags_->Error(loc, std::move(message), std::move(note), false);
  }
  // Reads one value of type `type`; `what` names it in errors ("attribute 'ttl' of x").
  // `owner` is the resource address when ${TYPE.NAME.attr} references are allowed, else "".
  bool ReadValue(const toml::node& node, const AttrSchema& attr, const What& what, const std::string& owner,
                 SpecValue* out);
  // Substitutes ${vars.x}; keeps resource references (recorded against `owner`) escaped.
  bool Interpolate(const std::string& s, SourceLoc loc, const What& what, const std::string& owner, std::string* out);
  bool ReadString(const toml::node& node, const What& what, std::string* out);
  void UnknownKey(const toml::key& key, const std::string& where, const std::vector<std::string>& candidates);
  std::vector<std::string> AddressNames() const;
  const AttrSchema* FindHostSetting(const std::string& key) const;
  std::string StageList() const;  // "one, two, three" for notes

  const Registry& registry_;
  SourceSet* sources_;
  Diagnostics* diags_;
  Spec* spec_;
  const LoadOptions& options_;

  // A computed attribute (AttrSchema::computed) written in the spec.
  void ReadFromWorld(SourceLoc loc, const std::string& address, const std::string& attr);

  struct Pending {
    std::string from;  // resource address
    std::string path;  // "file.a" for after, "file.a.content" for a reference
    SourceLoc loc;
  };
  std::vector<Pending> pending_after_;
  std::vector<Pending> pending_notify_;
  struct PendingWatch {
    std::string stage, address;
    SourceLoc loc;
  };
  std::vector<PendingWatch> pending_watch_;
  std::vector<Pending> pending_refs_;
  std::uint32_t line_offset_ = 0;  // of the piece being read: toml++ counts its lines from 1
  bool repeated_address_ = false;
  const std::string* last_path_key_ = nullptr;
  const std::string* last_path_value_ = nullptr;
};

const char* TomlTypeName(const toml::node& n);

}  // namespace reconcile
