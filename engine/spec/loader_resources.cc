// Spec loading, resources: [TYPE.NAME] tables checked against their provider's schema,
// [TYPE.NAME.at.STAGE] overlays, `after` lists and ${TYPE.NAME.attr} references.
#include <algorithm>
#include <charconv>
#include <memory>
#include <mutex>
#include <regex>
#include <unordered_map>

#include "engine/duration.h"
#include "engine/spec/interpolate.h"
#include "engine/spec/loader_internal.h"

namespace reconcile {

namespace {

// Keys only the spec as a whole takes: one below a resource's table was meant above it.
bool SpecWide(const std::string& key) {
  return key == "version" || key == "stages" || key == "state" || key == "vars" || key == "on_failure";
}

// Keys every resource takes besides its type's attributes.
const std::vector<std::string> kEngineKeys = {"stage", "after", "notify", "ensure", "at"};

// Patterns describe short things (a path, a mode, an address, a bucket name), and
// std::regex_match recurses once per character: a 200,000-character path overflowed the
// stack. Longer than PATH_MAX is never a match.
constexpr std::size_t kMaxPatterned = 4096;

// Compiled once per pattern: a schema has a few dozen, and compiling one per value was most of
// `validate`'s time at 100k resources.
const std::regex& Compiled(const std::string& pattern) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::unique_ptr<const std::regex>> compiled;
  std::lock_guard<std::mutex> lock(mu);
  auto& re = compiled[pattern];
  if (!re) re = std::make_unique<const std::regex>(pattern);
  return *re;
}

bool MatchesPattern(const std::string& s, const std::string& pattern) {
  return s.size() <= kMaxPatterned && std::regex_match(s, Compiled(pattern));
}

// A value quoted in an error, cut when long.
std::string Shown(const std::string& s) { return s.size() > 80 ? s.substr(0, 80) + "..." : s; }

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

bool Loader::ReadValue(const toml::node& node, const AttrSchema& attr, const What& what, const std::string& owner,
                       SpecValue* out) {
  out->loc = Loc(node);
  auto mismatch = [&](const char* expected) {
    Err(Loc(node), what + " must be " + expected + ", not " + TomlTypeName(node));
    return false;
  };
  // An integer or boolean may come from a variable: ttl = "${vars.ttl}".
  if ((attr.type == AttrType::kInt || attr.type == AttrType::kBool) && node.is_string()) {
    const std::string& raw = node.as_string()->get();
    std::string s;
    std::size_t refs = pending_refs_.size();
    if (!Interpolate(raw, out->loc, what, owner, &s)) return false;
    if (pending_refs_.size() > refs) {  // Desired() substitutes references in strings and lists only
      pending_refs_.resize(refs);
      Err(out->loc, what + " must be " + AttrTypeName(attr.type) + ", not a reference to another resource",
          "write the value, or take it from a variable: ${vars.NAME}");
      return false;
    }
    if (attr.type == AttrType::kBool && (s == "true" || s == "false")) {
      out->value = s == "true";
      return true;
    }
    std::int64_t n = 0;
    if (attr.type == AttrType::kInt && !s.empty() && std::isdigit(static_cast<unsigned char>(s[0]))) {
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
      if (ec == std::errc() && end == s.data() + s.size()) {
        out->value = n;
        return true;
      }
    }
    // Written as a string: say so. Substituted from a variable: show what it became.
    if (!MayInterpolate(raw)) return mismatch(AttrTypeName(attr.type));
    Err(out->loc, what + " must be " + AttrTypeName(attr.type) + ", not \"" + Shown(s) + "\"");
    return false;
  }
  switch (attr.type) {
    case AttrType::kBool:
      if (!node.is_boolean()) return mismatch("true or false");
      out->value = node.as_boolean()->get();
      return true;
    case AttrType::kInt:
      if (!node.is_integer()) return mismatch("an integer");
      out->value = node.as_integer()->get();
      return true;
    case AttrType::kString:
    case AttrType::kDuration:
    case AttrType::kArgv:
      if (node.is_string()) {
        const std::string& raw = node.as_string()->get();
        if (attr.secret_ok && IsSecretRef(raw)) {
          out->value = raw;
          out->secret = true;
          return true;
        }
        std::string s;
        if (!Interpolate(raw, out->loc, what, owner, &s)) return false;
        if (attr.type == AttrType::kDuration && !MayInterpolate(s)) {
          if (std::string why = DurationError(s); !why.empty()) {
            Err(out->loc, what + why);
            return false;
          }
        }
        if (!attr.pattern.empty() && !MayInterpolate(s) && !MatchesPattern(s, attr.pattern)) {
          Err(out->loc, what + " must be " + attr.pattern_hint + ", not \"" + Shown(s) + "\"");
          return false;
        }
        if (!attr.one_of.empty() && std::find(attr.one_of.begin(), attr.one_of.end(), s) == attr.one_of.end()) {
          Err(out->loc, what + " must be one of " + Join(attr.one_of) + ", not \"" + Shown(s) + "\"" +
                            DidYouMean(s, attr.one_of));
          return false;
        }
        out->value = std::move(s);
        return true;
      }
      if (attr.type != AttrType::kArgv) return mismatch(AttrTypeName(attr.type));
      [[fallthrough]];
    case AttrType::kStringList: {
      const toml::array* arr = node.as_array();
      if (!arr) return mismatch(AttrTypeName(attr.type));
      StringList list;
      bool ok = true;
      for (const toml::node& e : *arr) {
        if (!e.is_string()) {
          Err(Loc(e), "each item of " + what + " must be a string, not " + TomlTypeName(e));
          ok = false;
          continue;
        }
        std::string s;
        if (!Interpolate(e.as_string()->get(), Loc(e), what, owner, &s)) {
          ok = false;
          continue;
        }
        if (!attr.pattern.empty() && !MayInterpolate(s) && !MatchesPattern(s, attr.pattern)) {
          Err(Loc(e), "each item of " + what + " must be " + attr.pattern_hint + ", not \"" + Shown(s) + "\"");
          ok = false;
          continue;
        }
        list.push_back(std::move(s));
        out->item_locs.push_back(Loc(e));
      }
      out->value = std::move(list);
      return ok;
    }
    case AttrType::kStringMap: {
      const toml::table* table = node.as_table();
      if (!table) return mismatch("a table such as { NAME = \"value\" }");
      static const std::regex kName("^[A-Za-z_][A-Za-z0-9_]*$");
      StringList entries;
      bool ok = true;
      for (auto& [k, e] : *table) {
        std::string key(k.str());
        if (!std::regex_match(key, kName)) {
          Err(Loc(k), "'" + key + "' in " + what + " is not a name: letters, digits and _, not starting with a digit");
          ok = false;
          continue;
        }
        if (!e.is_string()) {
          Err(Loc(e), "'" + key + "' in " + what + " must be a string, not " + TomlTypeName(e));
          ok = false;
          continue;
        }
        const std::string& raw = e.as_string()->get();
        if (attr.secret_ok && IsSecretRef(raw)) {
          entries.push_back(key + "=" + raw);
          out->secret = true;
          continue;
        }
        std::string s;
        if (!Interpolate(raw, Loc(e), what, owner, &s)) {
          ok = false;
          continue;
        }
        entries.push_back(key + "=" + s);
      }
      std::sort(entries.begin(), entries.end(), [](const std::string& a, const std::string& b) {
        return a.substr(0, a.find('=')) < b.substr(0, b.find('='));
      });
      out->value = std::move(entries);
      return ok;
    }
  }
  return false;
}

void Loader::ReadResources(const TypeSchema& schema, toml::node& node) {
  toml::table* table = node.as_table();
  if (!table) {
    Err(Loc(node), "'" + schema.name + "' must be tables [" + schema.name + ".NAME]");
    return;
  }
  // Each resource's table is dropped from the tree once read: a spec of a million resources
  // parses into a gigabyte of TOML nodes, which need not all live beside what they became.
  for (auto it = table->begin(); it != table->end(); it = table->erase(it)) {
    const toml::key& name_key = it->first;
    const toml::table* t = it->second.as_table();
    if (!t) {
      Err(Loc(it->second), "'" + schema.name + "." + std::string(name_key.str()) + "' must be a table [" + schema.name +
                               "." + std::string(name_key.str()) + "]");
      continue;
    }
    ReadResource(schema, name_key, *t);
  }
}

void Loader::ReadResource(const TypeSchema& schema, const toml::key& name_key, const toml::table& table) {
  Resource r;
  r.type = schema.name;
  r.name = std::string(name_key.str());
  r.address = r.type + "." + r.name;
  r.schema = registry_.FindType(schema.name);
  r.provider = registry_.ProviderFor(schema.name);
  r.loc = Loc(name_key);
  r.stage_loc = r.loc;
  // The name becomes file names (an nginx site's reconcile-NAME.conf) and lines in files
  // other programs read: a quoted TOML key could otherwise hold "../" or a line break.
  if (r.name.empty() || r.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                            std::string::npos) {
    Err(r.loc, "the name of a [" + schema.name + ".NAME] may hold letters, digits, '-' and '_' only");
    return;
  }
  auto names = [&] {
    std::vector<std::string> out = kEngineKeys;
    if (schema.uses_host) out.push_back("host");
    if (!schema.provider_kind.empty()) out.push_back("provider");
    for (const AttrSchema& a : schema.attrs) out.push_back(a.name);
    return out;
  };

  const toml::table* at = nullptr;
  std::string group;  // host = "group:NAME"
  for (auto& [k, v] : table) {
    std::string key(k.str());
    What what = What::Key(key, r.address);
    if (key == "stage") {
      std::string stage;
      if (!ReadString(v, what, &stage)) continue;
      auto index = spec_->FindStage(stage);
      if (!index) {
        Err(Loc(v),
            "unknown stage '" + stage + "' for " + r.address +
                (ManyErrors() ? "" : DidYouMean(stage, spec_->StageNames())),
            "the stages are: " + StageList());
        continue;
      }
      r.stage = *index;
      r.stage_loc = Loc(v);
    } else if (key == "after" || key == "notify") {
      const toml::array* arr = v.as_array();
      if (!arr) {
        Err(Loc(v), what + " must be a list of addresses such as " +
                        (key == "after" ? "[\"s3_bucket.media\"]" : "[\"command.reload_nginx\"]"));
        continue;
      }
      for (const toml::node& e : *arr) {
        if (!e.is_string()) {
          Err(Loc(e), "each item of " + what + " must be an address string, not " + TomlTypeName(e));
          continue;
        }
        (key == "after" ? pending_after_ : pending_notify_).push_back({r.address, e.as_string()->get(), Loc(e)});
      }
    } else if (key == "ensure") {
      SpecValue sv;
      AttrSchema ensure{"ensure", AttrType::kString};
      ensure.one_of = {"present", "absent"};
      if (ReadValue(v, ensure, what, "", &sv)) r.attrs["ensure"] = std::move(sv);
    } else if (key == "at") {
      at = v.as_table();
      if (!at) Err(Loc(v), what + " must be tables [" + r.address + ".at.STAGE]");
    } else if (key == "host" && schema.uses_host) {
      if (!ReadString(v, what, &r.host)) continue;
      if (r.host.rfind("group:", 0) == 0) {
        group = r.host.substr(6);
        if (!spec_->host_groups.count(group)) {
          std::vector<std::string> groups;
          for (const auto& [n, _] : spec_->host_groups) groups.push_back(n);
          Err(Loc(v), "unknown host group '" + group + "' for " + r.address + DidYouMean(group, groups),
              "declare it as [hosts." + group + "] addresses = [...]");
          group.clear();
        }
        continue;  // r.host stays "group:NAME": it has one, said wrong once
      }
      if (r.host != "local" && !spec_->hosts.count(r.host)) {
        std::vector<std::string> hosts = {"local"};
        for (const auto& [n, _] : spec_->hosts) hosts.push_back(n);
        Err(Loc(v), "unknown host '" + r.host + "' for " + r.address + DidYouMean(r.host, hosts),
            "declare it as [host." + r.host + "], or use host = \"local\" for this machine");
      }
    } else if (key == "provider" && !schema.provider_kind.empty()) {
      if (!ReadString(v, what, &r.provider_instance)) continue;
      auto it = spec_->providers.find(r.provider_instance);
      if (it != spec_->providers.end() && schema.TakesProviderKind(it->second.kind)) continue;
      std::string note = "a " + schema.name + " needs a " + schema.ProviderTables() + " table";
      if (it != spec_->providers.end()) {
        Err(Loc(v),
            "provider '" + r.provider_instance + "' of " + r.address + " is a [provider." + it->second.kind +
                ".NAME], which a " + schema.name + " cannot use",
            note);
        continue;
      }
      std::vector<std::string> same;
      for (const auto& [n, p] : spec_->providers)
        if (schema.TakesProviderKind(p.kind)) same.push_back(n);
      // Instances are named KIND.NAME; a bare NAME of a kind it takes is the likely meaning.
      std::string full;
      for (const std::string& kind : schema.ProviderKinds())
        if (full.empty() && std::find(same.begin(), same.end(), kind + "." + r.provider_instance) != same.end())
          full = kind + "." + r.provider_instance;
      Err(Loc(v),
          "unknown provider '" + r.provider_instance + "' for " + r.address +
              (!full.empty() ? ", did you mean '" + full + "'?" : DidYouMean(r.provider_instance, same)),
          note);
    } else if (const AttrSchema* a = schema.Find(key); a && a->computed) {
      ReadFromWorld(Loc(k), r.address, key);
    } else if (const AttrSchema* a = schema.Find(key)) {
      SpecValue sv;
      if (ReadValue(v, *a, What::Attribute(key, r.address), r.address, &sv)) {
        r.attrs[key] = std::move(sv);
      }
    } else {
      // A setting written below a table belongs to that table in TOML.
      Err(Loc(k), "unknown attribute '" + key + "' in " + r.address + DidYouMean(key, names()),
          SpecWide(key) && WrittenAsIs(Loc(k), key)
              ? "'" + key + "' is a setting of the whole spec: written below [" + r.address +
                    "], it belongs to that table; move it above the first [table]"
              : "");
    }
  }

  if (schema.uses_host && !schema.host_optional && r.host.empty()) {
    std::string hosts;
    for (const auto& [n, _] : spec_->hosts) hosts += ", \"" + n + "\"";
    Err(r.loc, r.address + " has no 'host'; add host = \"local\"" + hosts);
  }
  if (!schema.provider_kind.empty() && r.provider_instance.empty()) {
    // Left out, it is the one instance of the type's own kind; only when there is none, the
    // one of another kind it takes (so a spec that gains an aws account keeps its s3 one).
    std::vector<std::string> same;
    for (const std::string& kind : schema.ProviderKinds()) {
      for (const auto& [n, p] : spec_->providers)
        if (p.kind == kind) same.push_back(n);
      if (!same.empty()) break;
    }
    if (same.size() == 1) {
      r.provider_instance = same[0];
    } else if (same.empty()) {
      Err(r.loc, r.address + " needs a provider, and the spec declares no " + schema.ProviderTables());
    } else {
      Err(r.loc, r.address + " has no 'provider' and the spec declares several: " + Join(same),
          "add provider = \"" + same[0] + "\" (or another of them)");
    }
  }
  for (const AttrSchema& a : schema.attrs) {
    if (!a.file_for.empty() && r.attrs.count(a.name) && r.attrs.count(a.file_for))
      Err(r.attrs[a.name].loc, r.address + " sets both '" + a.name + "' and '" + a.file_for + "'; keep one (" + a.name +
                                   " is a file whose text becomes " + a.file_for + ")");
  }
  // Arguments are never given to a shell unless the spec says so.
  auto shell = schema.shell_attr.empty() ? r.attrs.end() : r.attrs.find(schema.shell_attr);
  bool shell_on = shell != r.attrs.end() && std::holds_alternative<bool>(shell->second.value) &&
                  std::get<bool>(shell->second.value);
  for (const auto& [name, v] : r.attrs) {
    const AttrSchema* a = schema.Find(name);
    if (a && a->type == AttrType::kArgv && std::holds_alternative<std::string>(v.value) && !shell_on)
      Err(v.loc, "'" + name + "' of " + r.address + " is one string, which would need a shell",
          "write it as a list of arguments, e.g. [\"systemctl\", \"reload\", \"nginx\"]" +
              (schema.shell_attr.empty() ? std::string() : ", or set " + schema.shell_attr + " = true"));
  }
  if (at) ReadOverlays(&r, *at);
  // A kind written with a wrong value was reported already; without it, kinds cannot be checked.
  const std::string* kind = nullptr;
  const std::string& variant = schema.variant_attr;
  if (auto it = variant.empty() ? r.attrs.end() : r.attrs.find(variant); it != r.attrs.end())
    kind = std::get_if<std::string>(&it->second.value);
  if (kind || variant.empty() || !table.contains(variant)) CheckKinds(&r);
  // Required means written: one written with a wrong value was reported, and is not missing too.
  for (const AttrSchema& a : schema.attrs) {
    if (!a.required || table.contains(a.name)) continue;
    if (a.kinds.empty() && a.name != variant) {  // a missing kind is CheckKinds' to report
      Err(r.loc, r.address + " is missing required attribute '" + a.name + "' (" + AttrTypeName(a.type) +
                     (a.doc.empty() ? "" : ": " + a.doc) + ")");
    } else if (kind && std::find(a.kinds.begin(), a.kinds.end(), *kind) != a.kinds.end()) {
      Err(r.loc, r.address + " (" + variant + " '" + *kind + "') is missing required attribute '" + a.name + "' (" +
                     AttrTypeName(a.type) + (a.doc.empty() ? "" : ": " + a.doc) + ")");
    }
  }
  CheckValues(r);
  for (const auto& [name, v] : r.attrs) {
    if (const auto* s = std::get_if<std::string>(&v.value); s && MayInterpolate(*s)) r.has_references = true;
    if (const auto* l = std::get_if<StringList>(&v.value))
      for (const std::string& e : *l) r.has_references |= MayInterpolate(e);
  }
  for (const Overlay& o : r.overlays) {
    for (const auto& [name, v] : o.attrs) {
      if (const auto* s = std::get_if<std::string>(&v.value); s && MayInterpolate(*s)) r.has_references = true;
      if (const auto* l = std::get_if<StringList>(&v.value))
        for (const std::string& e : *l) r.has_references |= MayInterpolate(e);
    }
  }
  AddResource(std::move(r), group);
}

void Loader::AddResource(Resource r, const std::string& group) {
  if (group.empty()) {
    spec_->resources.push_back(std::move(r));
    return;
  }
  // One per member: its own steps, journal records and rollback, as if written once per host.
  if (group_of_.count(r.address)) repeated_address_ = true;  // its table twice, in two pieces
  group_of_[r.address] = group;
  std::vector<std::string>& addresses = grouped_[r.address];
  for (const std::string& member : spec_->host_groups.at(group)) {
    Resource one = r;
    one.address = r.address + "[" + member + "]";
    one.host = member;
    addresses.push_back(one.address);
    spec_->resources.push_back(std::move(one));
  }
}

// The key starts its line as it is (`on_failure = …`), not as the end of a dotted key
// (`x.on_failure = …` under [file]), which was not written below a table by mistake.
bool Loader::WrittenAsIs(SourceLoc loc, const std::string& key) const {
  std::string_view line = sources_->Line(loc.file, loc.line);
  std::size_t start = line.find_first_not_of(" \t");
  if (start == std::string_view::npos || line.compare(start, key.size(), key) != 0) return false;
  std::size_t after = start + key.size();
  return after == line.size() || line[after] == ' ' || line[after] == '\t' || line[after] == '=';
}

// Values written into another program's language, checked against it once the whole
// resource is read: a check may depend on another attribute (a DNS value on the record's
// type). A value that still holds references is checked by Desired() once they are known.
void Loader::CheckValues(const Resource& r) {
  auto run = [&](const SpecAttrs& attrs, const AttrMap& resource, const std::string& where) {
    for (const auto& [attr, sv] : attrs) {
      const std::string& name = attr;  // a lambda may not capture a structured binding (clang 14)
      const AttrSchema* a = r.schema->Find(name);
      if (!a || !a->check || sv.secret) continue;
      auto check = [&](const std::string& s, const SourceLoc& loc) {
        if (MayInterpolate(s)) return;
        if (std::string why = a->check(s, resource); !why.empty())
          Err(loc, "attribute '" + name + "' of " + r.address + where + ": " + why);
      };
      if (const auto* s = std::get_if<std::string>(&sv.value)) check(*s, sv.loc);
      if (const auto* n = std::get_if<std::int64_t>(&sv.value)) check(std::to_string(*n), sv.loc);  // ranges
      if (const auto* l = std::get_if<StringList>(&sv.value))
        for (std::size_t i = 0; i < l->size(); ++i) check((*l)[i], i < sv.item_locs.size() ? sv.item_locs[i] : sv.loc);
    }
  };
  // "HOST:PATH" and "PROVIDER:…" values name tables of this spec: they must exist.
  for (const auto& [name, sv] : r.attrs) {
    const AttrSchema* a = r.schema->Find(name);
    const auto* s = std::get_if<std::string>(&sv.value);
    if (!a || !s || sv.secret || MayInterpolate(*s)) continue;
    std::string head = s->substr(0, s->find(':'));
    if (a->names_host && head != "local" && !spec_->hosts.count(head)) {
      std::vector<std::string> hosts = {"local"};
      for (const auto& [n, _] : spec_->hosts) hosts.push_back(n);
      Err(sv.loc, "unknown host '" + head + "' in " + name + " of " + r.address + DidYouMean(head, hosts),
          "write HOST:PATH with HOST a [host.NAME] of this spec, or local for this machine");
    }
    if (!a->names_provider.empty() && s->find(':') != std::string::npos) {
      auto it = spec_->providers.find(head);
      if (it == spec_->providers.end() || it->second.kind != a->names_provider) {
        std::vector<std::string> same;
        for (const auto& [n, p] : spec_->providers)
          if (p.kind == a->names_provider) same.push_back(n);
        Err(sv.loc, "unknown provider '" + head + "' in " + name + " of " + r.address + DidYouMean(head, same),
            "write " + a->names_provider + ".NAME:… with a [provider." + a->names_provider + ".NAME] of this spec");
      }
    }
  }
  AttrMap resource;
  for (const auto& [name, sv] : r.attrs) resource[name] = sv.value;
  run(r.attrs, resource, "");
  for (const Overlay& o : r.overlays) {
    for (const auto& [name, sv] : o.attrs) resource[name] = sv.value;
    run(o.attrs, resource, " at stage " + spec_->stages[o.stage].name);
  }
}

void Loader::ReadOverlays(Resource* r, const toml::table& at) {
  for (auto& [stage_key, node] : at) {
    std::string stage(stage_key.str());
    auto index = spec_->FindStage(stage);
    if (!index) {
      Err(Loc(stage_key),
          "[" + r->address + ".at." + stage + "] names no stage" +
              (ManyErrors() ? "" : DidYouMean(stage, spec_->StageNames())),
          "the stages are: " + StageList());
      continue;
    }
    if (*index < r->stage) {
      Err(Loc(stage_key),
          "[" + r->address + ".at." + stage + "] comes before " + r->address + " enters at stage '" +
              spec_->stages[r->stage].name + "'",
          "an overlay changes a resource from a later stage on; move `stage` earlier or drop the overlay");
      continue;
    }
    const toml::table* t = node.as_table();
    if (!t) {
      Err(Loc(node), "[" + r->address + ".at." + stage + "] must be a table of attributes");
      continue;
    }
    Overlay o;
    o.stage = *index;
    o.loc = Loc(stage_key);
    std::vector<std::string> names = {"ensure"};
    for (const AttrSchema& a : r->schema->attrs)
      if (!a.identity && !a.setting) names.push_back(a.name);
    for (auto& [k, v] : *t) {
      std::string key(k.str());
      std::string what = "attribute '" + key + "' of " + r->address + " at stage " + stage;
      if (key == "stage" || key == "after" || key == "notify" || key == "host" || key == "provider" || key == "at") {
        Err(Loc(k), "'" + key + "' cannot change in a later stage; set it on [" + r->address + "] itself");
        continue;
      }
      AttrSchema ensure{"ensure", AttrType::kString};
      ensure.one_of = {"present", "absent"};
      const AttrSchema* a = key == "ensure" ? &ensure : r->schema->Find(key);
      if (!a) {
        Err(Loc(k),
            "unknown attribute '" + key + "' in [" + r->address + ".at." + stage + "]" + DidYouMean(key, names));
        continue;
      }
      if (a->computed) {
        ReadFromWorld(Loc(k), r->address, key);
        continue;
      }
      if (a->identity) {
        Err(Loc(k), "'" + key + "' identifies " + r->address + " and cannot change between stages",
            "declare a second resource for the new one and retire the old with ensure = \"absent\"");
        continue;
      }
      if (a->setting) {
        Err(Loc(k), "'" + key + "' says how " + r->address + " is handled and cannot change between stages",
            "set it on [" + r->address + "] itself");
        continue;
      }
      SpecValue sv;
      if (ReadValue(v, *a, what, r->address, &sv)) o.attrs[key] = std::move(sv);
    }
    r->overlays.push_back(std::move(o));
  }
  std::sort(r->overlays.begin(), r->overlays.end(),
            [](const Overlay& a, const Overlay& b) { return a.stage < b.stage; });
}

// Types with a variant attribute (a check's `kind`) allow some attributes for some variants only.
void Loader::CheckKinds(Resource* r) {
  const std::string& variant = r->schema->variant_attr;
  const AttrSchema* kind_attr = variant.empty() ? nullptr : r->schema->Find(variant);
  if (!kind_attr) return;
  auto it = r->attrs.find(variant);
  if (it == r->attrs.end()) {
    Err(r->loc, r->address + " has no '" + variant + "'; add " + variant + " = one of " + Join(kind_attr->one_of));
    return;
  }
  const std::string& kind = std::get<std::string>(it->second.value);
  auto applies = [&](const AttrSchema& a) {
    return a.kinds.empty() || std::find(a.kinds.begin(), a.kinds.end(), kind) != a.kinds.end();
  };
  auto check_attrs = [&](const SpecAttrs& attrs) {
    for (const auto& [name, v] : attrs) {
      const AttrSchema* a = r->schema->Find(name);
      if (a && !applies(*a))
        Err(v.loc, "'" + name + "' does not apply to a " + r->type + " of " + variant + " '" + kind + "'",
            "it is for " + variant + " " + Join(a->kinds));
    }
  };
  check_attrs(r->attrs);
  for (const Overlay& o : r->overlays) check_attrs(o.attrs);
}

std::string Loader::StageList() const {
  // A generated spec may have thousands of stages; the note names the first few.
  constexpr std::size_t kShown = 20;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < spec_->stages.size() && i < kShown; ++i) names.push_back(spec_->stages[i].name);
  std::string out = Join(names);
  if (spec_->stages.size() > kShown) out += ", ... (" + std::to_string(spec_->stages.size()) + " stages)";
  return out;
}

std::vector<std::string> Loader::AddressNames() const {
  std::vector<std::string> out;
  out.reserve(spec_->resources.size());
  for (const Resource& r : spec_->resources) out.push_back(r.address);
  return out;
}

void Loader::ResolveDependencies() {
  // A resource on a group is one per member: what it names, each member names; what names it,
  // names every member.
  auto expand = [&](std::vector<Pending>& pending, bool path_is_address) {
    std::vector<Pending> out;
    for (const Pending& p : pending) {
      auto from = grouped_.find(p.from);
      std::vector<std::string> froms = from == grouped_.end() ? std::vector<std::string>{p.from} : from->second;
      std::vector<std::string> paths = {p.path};
      // Each member to its own only between two resources of one group (a file on web1
      // notifies the reload on web1); between two groups, every member of one to every other.
      bool paired = from != grouped_.end() && group_of_.count(p.path) && group_of_.at(p.from) == group_of_.at(p.path);
      if (path_is_address) {
        if (auto to = grouped_.find(p.path); to != grouped_.end()) paths = to->second;
      } else if (std::size_t dot = p.path.rfind('.'); grouped_.count(p.path.substr(0, dot))) {
        Err(p.loc, "'${" + p.path + "}' refers to " + p.path.substr(0, dot) +
                       ", which is one resource per host of its group; a value cannot be taken from it");
        continue;
      }
      auto member = [](const std::string& a) { return a.substr(a.rfind('[')); };
      for (const std::string& f : froms)
        for (const std::string& to : paths)
          if (!paired || member(f) == member(to)) out.push_back({f, to, p.loc});
    }
    pending = std::move(out);
  };
  if (!grouped_.empty()) {
    expand(pending_after_, true);
    expand(pending_notify_, true);
    expand(pending_refs_, false);
  }
  for (const Pending& p : pending_after_) {
    const std::size_t from_index = spec_->Index(p.from).value();
    Resource& from = spec_->resources[from_index];
    auto it = spec_->Index(p.path);
    if (!it) {
      Err(p.loc, "'after' of " + p.from + " names '" + p.path + "', which the spec does not declare" +
                     (ManyErrors() ? "" : DidYouMean(p.path, AddressNames())));
      continue;
    }
    if (*it == from_index) {
      Err(p.loc, p.from + " cannot come after itself");
      continue;
    }
    from.deps.push_back({*it, Dependency::Kind::kAfter, false, p.loc});
  }
  for (const Pending& p : pending_notify_) {
    std::size_t from = spec_->Index(p.from).value();
    auto it = spec_->Index(p.path);
    if (!it) {
      Err(p.loc, "'notify' of " + p.from + " names '" + p.path + "', which the spec does not declare" +
                     (ManyErrors() ? "" : DidYouMean(p.path, AddressNames())));
      continue;
    }
    Resource& handler = spec_->resources[*it];
    if (*it == from) {
      Err(p.loc, p.from + " cannot notify itself");
      continue;
    }
    if (!handler.schema->one_shot) {
      Err(p.loc,
          "'notify' of " + p.from + " names " + p.path + ", a " + handler.type +
              ", which is state, not a step that runs",
          "notify names steps that run once when notified, such as a command (nginx -s reload)");
      continue;
    }
    if (std::find(handler.notified_by.begin(), handler.notified_by.end(), from) == handler.notified_by.end()) {
      handler.notified_by.push_back(from);
      spec_->resources[from].notifies.push_back(*it);
    }
  }
  for (const Resource& r : spec_->resources)
    if (r.IsHandler() && !r.notifies.empty())
      Err(r.loc, r.address + " is notified by other resources, so it cannot notify in turn",
          "list every step to run in the notify of the resources that change");
  for (const Pending& p : pending_refs_) {
    ResolveReference(&spec_->resources[spec_->Index(p.from).value()], p.path, p.loc);
  }
  AddFolderDependencies(spec_);
}

namespace {

// The location a resource names, when known at load time (no ${TYPE.NAME.attr} in it).
const std::string* LoadTimePath(const Resource& r) {
  if (r.schema->location_attr.empty()) return nullptr;
  auto it = r.attrs.find(r.schema->location_attr);
  if (it == r.attrs.end()) return nullptr;
  const auto* s = std::get_if<std::string>(&it->second.value);
  if (!s || s->find("${") != std::string::npos) return nullptr;
  return s;
}

}  // namespace

// A file (or folder) inside a declared folder on the same host comes after it, and so is
// removed before it, without an `after` the operator would have to remember. Only when the
// directory enters no later than it: the other way round is a file that needs a folder that is
// already there, and an edge would be a cycle through the stages.
void AddFolderDependencies(Spec* spec) {
  std::vector<std::size_t> dirs;
  for (std::size_t i = 0; i < spec->resources.size(); ++i)
    if (spec->resources[i].schema->is_folder && LoadTimePath(spec->resources[i])) dirs.push_back(i);
  if (dirs.empty()) return;
  for (std::size_t i = 0; i < spec->resources.size(); ++i) {
    Resource& r = spec->resources[i];
    const std::string* path = LoadTimePath(r);
    if (!path) continue;
    for (std::size_t d : dirs) {
      const Resource& dir = spec->resources[d];
      const std::string& folder = *LoadTimePath(dir);
      if (d == i || dir.host != r.host || dir.stage > r.stage) continue;
      if (path->size() <= folder.size() + 1 || path->compare(0, folder.size(), folder) != 0 ||
          (*path)[folder.size()] != '/')
        continue;
      bool written = std::any_of(r.deps.begin(), r.deps.end(), [&](const Dependency& e) { return e.on == d; });
      if (!written) r.deps.push_back({d, Dependency::Kind::kAfter, false, r.attrs.at(r.schema->location_attr).loc});
    }
  }
}

void Loader::ReadFromWorld(SourceLoc loc, const std::string& address, const std::string& attr) {
  Err(loc, "'" + attr + "' of " + address + " is read from the world, not set",
      "remove it; other resources refer to it as ${" + address + "." + attr + "}");
}

void Loader::ResolveReference(Resource* r, const std::string& path, SourceLoc loc) {
  std::size_t dot = path.rfind('.');
  std::string address = path.substr(0, dot);
  std::string attr = path.substr(dot + 1);
  auto it = spec_->Index(address);
  if (!it) {
    Err(loc, "'${" + path + "}' in " + r->address + " refers to '" + address + "', which the spec does not declare" +
                 (ManyErrors() ? "" : DidYouMean(address, AddressNames())));
    return;
  }
  const Resource& target = spec_->resources[*it];
  if (!target.schema->Find(attr)) {
    std::vector<std::string> names;
    for (const AttrSchema& a : target.schema->attrs) names.push_back(a.name);
    Err(loc, "'${" + path + "}': " + target.type + " has no attribute '" + attr + "'" + DidYouMean(attr, names));
    return;
  }
  if (&target == r) {
    Err(loc, "'${" + path + "}': " + r->address + " cannot refer to itself");
    return;
  }
  r->deps.push_back({*it, Dependency::Kind::kReference, target.schema->Find(attr)->computed, loc});
}

}  // namespace reconcile
