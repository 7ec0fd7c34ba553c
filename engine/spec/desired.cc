// desired(resource, stage): the base attributes with every overlay up to the stage applied,
// references substituted, secrets read when asked. Also secret and sensitivity rules.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_set>

#include "engine/duration.h"
#include "engine/spec/interpolate.h"
#include "engine/spec/spec.h"

namespace reconcile {

namespace {

// The attributes in force at `stage`: base, then overlays in stage order.
std::map<std::string, const SpecValue*> Merged(const Resource& r, std::size_t stage) {
  std::map<std::string, const SpecValue*> out;
  for (const auto& [k, v] : r.attrs) out[k] = &v;
  for (const Overlay& o : r.overlays) {
    if (o.stage > stage) break;
    for (const auto& [k, v] : o.attrs) {
      out[k] = &v;
      // `source` and `content` stand for one thing: the later one written wins.
      for (const AttrSchema& a : r.schema->attrs) {
        if (a.name == k && !a.file_for.empty()) out.erase(a.file_for);
        if (a.file_for == k) out.erase(a.name);
      }
    }
  }
  return out;
}

std::string ToText(const Value& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (auto* l = std::get_if<StringList>(&v)) {
    std::string out;
    for (const std::string& e : *l) out += (out.empty() ? "" : ",") + e;
    return out;
  }
  return "";
}

// `unknown` is set when the value is known only after apply: a computed attribute of a
// resource that does not exist yet, or an attribute that takes one.
Result<Value> Lookup(const Spec& spec, const Resource& from, const std::string& path, std::size_t stage,
                     bool resolve_secrets, DesiredCache* cache, bool* unknown) {
  if (path == "run") return Value(std::to_string(spec.RunOf(from)));
  std::size_t dot = path.rfind('.');
  const Resource* target = spec.Find(path.substr(0, dot));
  std::string attr = path.substr(dot + 1);
  if (!target) return Error{from.address + " refers to '" + path + "', which does not exist"};
  if (target->stage > stage)
    return Error{from.address + " refers to " + target->address + ", which enters only at stage '" +
                 spec.stages[target->stage].name + "'"};
  std::size_t index = static_cast<std::size_t>(target - spec.resources.data());
  // Looked at where the cache keeps it, not copied: a chain copies no state per link.
  std::optional<State> own;
  const State* desired = nullptr;
  std::optional<Error> failed;
  if (cache) {
    if (auto kept = cache->Ref(index, stage)) desired = *kept;
    else failed = kept.error();
  } else if (auto d = Desired(spec, *target, stage, resolve_secrets)) {
    own = std::move(*d);
    desired = &*own;
  } else {
    failed = d.error();
  }
  // The cause is passed on as it is, said once where it is (its own file:line:col), and
  // marked so no referrer adds its own location: a chain of references must not repeat it at
  // each link (10k links made it quadratic, and a crash).
  if (failed) return Error{failed->message, ErrorCode::kInvalid, true};
  // What the world gave it, whatever the spec says of it at this stage (a database retired
  // here, whose settings file goes with it, is still where it was until then).
  if (const AttrSchema* a = target->schema->Find(attr); a && a->computed) {
    std::optional<Value> read = spec.read->Get(index, attr);
    if (read && !IsNull(*read)) return *read;
    *unknown = true;
    return Value(std::string(kKnownAfterApply));
  }
  if (desired->Unknown(attr)) *unknown = true;
  auto it = desired->attrs.find(attr);
  if (it == desired->attrs.end() || IsNull(it->second))
    return Error{from.address + " refers to " + path + ", which has no value at stage '" + spec.stages[stage].name +
                 "'"};
  return it->second;
}

// An error at a written value, with its file:line:col; one from another resource (a
// reference to it) already has its own.
Error Located(const SpecValue& sv, const Error& e) {
  if (e.located) return e;
  return Error{sv.loc.ToString() + ": " + e.message, e.code, true};
}

Error TooLong(const Resource& r) {
  return Error{"a value of " + r.address + " is longer than " + SizeText(kMaxValueBytes) +
               " once its references are substituted; a value may hold at most " + SizeText(kMaxValueBytes)};
}

// Reads a file a spec names: a regular file, or a pipe (a secret handed over by process
// substitution), never a device such as /dev/zero, and at most `max` bytes either way.
Result<std::string> ReadSpecFile(const std::filesystem::path& p, std::size_t max, const std::string& what) {
  auto fail = [&](const std::string& why) {
    return Error{"the " + what + " " + p.string() + " cannot be read: " + why};
  };
  auto too_long = [&] { return fail("it is longer than " + SizeText(max) + ", the most a " + what + " may hold"); };
  struct stat st;
  // Checked before opening: opening some devices has effects of its own.
  if (::stat(p.c_str(), &st) != 0) return fail(std::strerror(errno));
  if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) return fail("it is not a regular file");
  if (S_ISREG(st.st_mode) && static_cast<std::uintmax_t>(st.st_size) > max) return too_long();
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(std::strerror(errno));
  std::string text;
  std::string why;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = std::strerror(errno);
      break;
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > max) break;  // it grew since stat, or a pipe that does not end
  }
  ::close(fd);
  if (!why.empty()) return fail(why);
  if (text.size() > max) return too_long();
  return text;
}

// Substitutes references in one written string. A string that is exactly one reference
// takes the referenced value as it is (a list stays a list).
Result<Value> Substitute(const Spec& spec, const Resource& r, const std::string& s, std::size_t stage,
                         bool resolve_secrets, DesiredCache* cache, bool* unknown) {
  if (!MayInterpolate(s)) return Value(s);
  auto pieces = SplitRefs(s);
  if (!pieces) return pieces.error();
  if (pieces->size() == 1 && (*pieces)[0].is_ref) {
    return Lookup(spec, r, (*pieces)[0].text, stage, resolve_secrets, cache, unknown);
  }
  std::string out;
  for (const Piece& p : *pieces) {
    if (!p.is_ref) {
      out += p.text;
      continue;
    }
    auto v = Lookup(spec, r, p.text, stage, resolve_secrets, cache, unknown);
    if (!v) return v.error();
    out += ToText(*v);
    // Strings built from strings double with each resource; stop before memory does.
    if (out.size() > kMaxValueBytes) return TooLong(r);
  }
  return Value(out);
}

// A table's "NAME=value" entries with references substituted and, when asked, the secrets
// among the values read (a table holds literal values and secrets side by side).
Result<Value> TableEntries(const Spec& spec, const Resource& r, const SpecValue& sv, std::size_t stage,
                           bool resolve_secrets, DesiredCache* cache, bool* unknown) {
  StringList out;
  for (const std::string& e : std::get<StringList>(sv.value)) {
    std::size_t eq = e.find('=');
    std::string key = e.substr(0, eq + 1), value = e.substr(eq + 1);
    if (IsSecretRef(value)) {
      if (!resolve_secrets) {
        out.push_back(e);
        continue;
      }
      auto secret = ResolveSecret(value, spec.dir);
      if (!secret)
        return Error{sv.loc.ToString() + ": '" + e.substr(0, eq) + "' of " + r.address + ": " + secret.error().message};
      out.push_back(key + *secret);
      continue;
    }
    auto v = Substitute(spec, r, value, stage, resolve_secrets, cache, unknown);
    if (!v) return Located(sv, v.error());
    out.push_back(key + ToText(*v));
  }
  return Value(std::move(out));
}

}  // namespace

std::optional<Value> ReadValues::Get(std::size_t resource, const std::string& attr) const {
  std::lock_guard<std::mutex> g(mu_);
  auto it = by_resource_.find(resource);
  if (it == by_resource_.end()) return std::nullopt;
  auto a = it->second.find(attr);
  if (a == it->second.end()) return std::nullopt;
  return a->second;
}

bool ReadValues::Has(std::size_t resource) const {
  std::lock_guard<std::mutex> g(mu_);
  return by_resource_.count(resource) > 0;
}

void ReadValues::Set(std::size_t resource, AttrMap attrs) {
  std::lock_guard<std::mutex> g(mu_);
  by_resource_[resource] = std::move(attrs);
}

void ReadValues::Forget(std::size_t resource) {
  std::lock_guard<std::mutex> g(mu_);
  by_resource_.erase(resource);
}

bool IsSecretRef(const std::string& s) { return s.rfind("env:", 0) == 0 || s.rfind("file:", 0) == 0; }

Result<std::string> ResolveSecret(const std::string& ref, const std::string& dir, bool keep_bytes) {
  if (ref.rfind("env:", 0) == 0) {
    std::string name = ref.substr(4);
    const char* v = std::getenv(name.c_str());
    if (!v) return Error{"the environment variable " + name + " is not set (export it, or use file:PATH)"};
    return std::string(v);
  }
  std::filesystem::path p(ref.substr(5));
  if (p.is_relative()) p = std::filesystem::path(dir) / p;
  auto read = ReadSpecFile(p, kMaxSecretBytes, "secret file");
  if (!read) return read.error();
  std::string text = std::move(*read);
  if (keep_bytes) return text;
  // Secret files usually end with a newline that is not part of the secret; `echo pw > f`
  // writes one, an editor too. Only that one goes: the rest may be the secret's own.
  if (text.size() >= 2 && text.compare(text.size() - 2, 2, "\r\n") == 0) text.resize(text.size() - 2);
  else if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

DesiredCache::DesiredCache(const Spec& spec, bool resolve_secrets, bool keep_all)
    : spec_(spec),
      resolve_secrets_(resolve_secrets) {
  if (keep_all) return;
  referenced_.assign(spec.resources.size(), false);
  for (const Resource& r : spec.resources)
    for (const Dependency& d : r.deps)
      if (d.kind == Dependency::Kind::kReference) referenced_[d.on] = true;
}

Result<State> DesiredCache::At(std::size_t resource, std::size_t stage) {
  if (!referenced_.empty() && !referenced_[resource])
    return Desired(spec_, spec_.resources[resource], stage, resolve_secrets_, this);
  auto kept = Ref(resource, stage);
  if (!kept) return kept.error();
  return **kept;
}

Result<const State*> DesiredCache::Ref(std::size_t resource, std::size_t stage) {
  auto key = [&](std::size_t i) { return static_cast<std::uint64_t>(i) * spec_.stages.size() + stage; };
  auto known = [&](std::size_t i) { return states_.count(key(i)) > 0 || failed_.count(key(i)) > 0; };
  // What it refers to is worked out first, deepest first, from a stack of our own: a chain of
  // references 100k long, entered at a stage none of it was asked at yet, would otherwise be
  // a chain of calls as deep, and overflow the stack.
  if (!known(resource)) {
    std::vector<std::pair<std::size_t, std::size_t>> stack = {{resource, 0}};  // resource, next dep
    // Made only for a walk deeper than one: asked in dependency order, as a plan asks, what a
    // resource refers to is known already, and a million walks allocate nothing.
    std::unordered_set<std::size_t> seen;
    while (!stack.empty()) {
      std::size_t at = stack.back().first;
      const auto& deps = spec_.resources[at].deps;
      if (std::size_t k = stack.back().second++; k < deps.size()) {
        std::size_t on = deps[k].on;
        // One entering later is an error of its referrer's, said by Lookup.
        if (deps[k].kind != Dependency::Kind::kReference || spec_.resources[on].stage > stage || known(on)) continue;
        if (seen.empty()) seen.insert(resource);
        if (seen.insert(on).second) stack.push_back({on, 0});
        continue;
      }
      stack.pop_back();
      auto d = Desired(spec_, spec_.resources[at], stage, resolve_secrets_, this);
      if (d) states_.emplace(key(at), std::move(*d));
      else failed_.emplace(key(at), d.error());
    }
  }
  if (auto bad = failed_.find(key(resource)); bad != failed_.end()) return bad->second;
  // Nodes of an unordered_map stay where they are as it grows: the pointer outlives inserts.
  return &states_.at(key(resource));
}

namespace {

// A value that held references, checked once they are substituted (the loader checked the
// rest): `written` is what the spec says, `value` what it became.
Status CheckSubstituted(const Resource& r, const std::string& name, const SpecValue& sv, const Value& value,
                        const AttrMap& resource) {
  const AttrSchema* a = r.schema->Find(name);
  if (!a || !a->check || sv.secret) return Status::Ok();
  std::vector<std::string> texts;
  if (const auto* s = std::get_if<std::string>(&value)) texts.push_back(*s);
  if (const auto* l = std::get_if<StringList>(&value)) texts = *l;
  for (const std::string& t : texts)
    if (std::string why = a->check(t, resource); !why.empty())
      return Error{sv.loc.ToString() + ": attribute '" + name + "' of " + r.address +
                   ", once its references are substituted: " + why};
  return Status::Ok();
}

}  // namespace

Result<State> Desired(const Spec& spec, const Resource& r, std::size_t stage, bool resolve_secrets,
                      DesiredCache* cache) {
  // References are looked up through a cache, made for this one call when none is given.
  if (!cache && r.has_references && &r >= spec.resources.data() && &r < spec.resources.data() + spec.resources.size()) {
    DesiredCache once(spec, resolve_secrets, true);
    return once.At(static_cast<std::size_t>(&r - spec.resources.data()), stage);
  }
  State state;
  state.exists = true;
  AttrMap written;  // what checks see of the other attributes
  if (r.has_references)
    for (const auto& [name, sv] : Merged(r, stage)) written[name] = sv->value;
  for (const auto& [name, sv] : Merged(r, stage)) {
    if (name == "ensure") {
      state.exists = std::get<std::string>(sv->value) != "absent";
      continue;
    }
    const AttrSchema* schema_attr = r.schema->Find(name);
    if (schema_attr && !schema_attr->file_for.empty() && resolve_secrets) {
      std::filesystem::path p(std::get<std::string>(sv->value));
      if (p.is_relative()) p = std::filesystem::path(spec.dir) / p;
      auto content = ReadSpecFile(p, kMaxSourceBytes, "source file");
      if (!content)
        return Error{sv->loc.ToString() + ": '" + name + "' of " + r.address + ": " + content.error().message};
      state.attrs[schema_attr->file_for] = std::move(*content);
      continue;
    }
    if (sv->secret && schema_attr && schema_attr->type == AttrType::kStringMap) {
      bool unknown = false;
      auto table = TableEntries(spec, r, *sv, stage, resolve_secrets, cache, &unknown);
      if (!table) return table.error();
      state.attrs[name] = std::move(*table);
      if (unknown) state.unknown.push_back(name);
      continue;
    }
    if (sv->secret) {
      if (!resolve_secrets) {
        state.attrs[name] = sv->value;
        continue;
      }
      auto secret = ResolveSecret(std::get<std::string>(sv->value), spec.dir, schema_attr && schema_attr->secret_bytes);
      if (!secret)
        return Error{sv->loc.ToString() + ": attribute '" + name + "' of " + r.address + ": " + secret.error().message};
      state.attrs[name] = std::move(*secret);
      continue;
    }
    if (!r.has_references) {
      state.attrs[name] = sv->value;
      continue;
    }
    if (const auto* s = std::get_if<std::string>(&sv->value)) {
      bool unknown = false;
      auto v = Substitute(spec, r, *s, stage, resolve_secrets, cache, &unknown);
      if (!v) return Located(*sv, v.error());
      const AttrSchema* a = r.schema->Find(name);
      if (a && (a->type == AttrType::kString || a->type == AttrType::kDuration) &&
          !std::holds_alternative<std::string>(*v))
        *v = ToText(*v);
      // Checked once known, when the executor works it out again before a provider has it.
      if (unknown) {
        state.attrs[name] = std::move(*v);
        state.unknown.push_back(name);
        continue;
      }
      if (MayInterpolate(*s))
        if (Status bad = CheckSubstituted(r, name, *sv, *v, written); !bad) return Error{bad.message()};
      // A duration taken from another resource is known only now; the loader checked the rest.
      if (a && a->type == AttrType::kDuration) {
        if (std::string why = DurationError(std::get<std::string>(*v)); !why.empty())
          return Error{sv->loc.ToString() + ": attribute '" + name + "' of " + r.address + why};
      }
      state.attrs[name] = std::move(*v);
    } else if (const auto* l = std::get_if<StringList>(&sv->value)) {
      StringList out;
      std::size_t bytes = 0;  // lists built from lists double too
      bool unknown = false;
      for (const std::string& e : *l) {
        auto v = Substitute(spec, r, e, stage, resolve_secrets, cache, &unknown);
        if (!v) return Located(*sv, v.error());
        if (auto* list = std::get_if<StringList>(&*v)) {
          for (const std::string& x : *list) bytes += x.size() + 1;
          if (bytes > kMaxValueBytes) return Error{sv->loc.ToString() + ": " + TooLong(r).message};
          out.insert(out.end(), list->begin(), list->end());
        } else {
          out.push_back(ToText(*v));
          bytes += out.back().size() + 1;
          if (bytes > kMaxValueBytes) return Error{sv->loc.ToString() + ": " + TooLong(r).message};
        }
      }
      if (unknown) state.unknown.push_back(name);
      else if (std::any_of(l->begin(), l->end(), [](const std::string& e) { return MayInterpolate(e); }))
        if (Status bad = CheckSubstituted(r, name, *sv, out, written); !bad) return Error{bad.message()};
      state.attrs[name] = std::move(out);
    } else {
      state.attrs[name] = sv->value;
    }
  }
  // What the spec leaves out is taken as written: default_from's value, else default_value.
  FillDefaults(*r.schema, &state.attrs);
  return state;
}

namespace {

// Whether a written string takes a value from another resource's sensitive attribute.
bool RefersToSensitive(const Spec& spec, const Resource& r, const std::string& s) {
  if (!MayInterpolate(s)) return false;
  auto pieces = SplitRefs(s);
  if (!pieces) return false;
  for (const Piece& p : *pieces) {
    if (!p.is_ref) continue;
    std::size_t dot = p.text.rfind('.');
    const Resource* t = spec.Find(p.text.substr(0, dot));
    if (t && t != &r && IsSensitive(spec, *t, p.text.substr(dot + 1))) return true;
  }
  return false;
}

}  // namespace

bool IsSensitive(const Spec& /*spec*/, const Resource& r, const std::string& attr) {
  const AttrSchema* a = r.schema->Find(attr);
  return (a && a->sensitive) || r.sensitive_written.contains(attr);
}

void IndexSensitive(Spec* spec) {
  // Sensitivity flows from a referred attribute to the ones referring to it, so each
  // reference is followed once, backwards, from what is sensitive of itself: declared so, or
  // written as a secret. Only attributes with references become nodes; most have none.
  for (Resource& r : spec->resources) {
    for (const auto& [name, v] : r.attrs)
      if (v.secret) r.sensitive_written.add(name);
    for (const Overlay& o : r.overlays)
      for (const auto& [name, v] : o.attrs)
        if (v.secret) r.sensitive_written.add(name);
  }
  std::vector<std::pair<std::size_t, std::string>> nodes;
  std::map<std::pair<std::size_t, std::string>, std::size_t> ids;
  std::vector<std::vector<std::size_t>> referred_by;
  auto id = [&](std::size_t res, const std::string& attr) {
    auto [it, added] = ids.try_emplace({res, attr}, nodes.size());
    if (added) {
      nodes.emplace_back(res, attr);
      referred_by.emplace_back();
    }
    return it->second;
  };
  for (std::size_t i = 0; i < spec->resources.size(); ++i) {
    const Resource& r = spec->resources[i];
    if (!r.has_references) continue;
    auto scan = [&](const std::string& name, const SpecValue& v) {
      auto follow = [&](const std::string& s) {
        if (!MayInterpolate(s)) return;
        auto pieces = SplitRefs(s);
        if (!pieces) return;
        for (const Piece& p : *pieces) {
          if (!p.is_ref) continue;
          std::size_t dot = p.text.rfind('.');
          auto t = spec->Index(std::string_view(p.text).substr(0, dot));
          if (!t || *t == i) continue;
          std::size_t self = id(i, name);
          referred_by[id(*t, p.text.substr(dot + 1))].push_back(self);
        }
      };
      if (const auto* str = std::get_if<std::string>(&v.value)) follow(*str);
      if (const auto* l = std::get_if<StringList>(&v.value))
        for (const std::string& e : *l) follow(e);
    };
    for (const auto& [name, v] : r.attrs) scan(name, v);
    for (const Overlay& o : r.overlays)
      for (const auto& [name, v] : o.attrs) scan(name, v);
  }
  std::vector<bool> sensitive(nodes.size(), false);
  std::vector<std::size_t> todo;
  for (std::size_t n = 0; n < nodes.size(); ++n) {
    const Resource& r = spec->resources[nodes[n].first];
    const AttrSchema* a = r.schema->Find(nodes[n].second);
    if ((a && a->sensitive) || r.sensitive_written.contains(nodes[n].second)) {
      sensitive[n] = true;
      todo.push_back(n);
    }
  }
  while (!todo.empty()) {
    std::size_t n = todo.back();
    todo.pop_back();
    for (std::size_t from : referred_by[n])
      if (!sensitive[from]) {
        sensitive[from] = true;
        todo.push_back(from);
      }
  }
  for (std::size_t n = 0; n < nodes.size(); ++n)
    if (sensitive[n]) spec->resources[nodes[n].first].sensitive_written.add(nodes[n].second);
}

std::set<std::string> SensitiveEntries(const Spec& spec, const Resource& r, const std::string& attr) {
  std::set<std::string> out;
  const AttrSchema* a = r.schema->Find(attr);
  if (!a || a->type != AttrType::kStringMap) return out;
  auto add = [&](const SpecValue& v) {
    const auto* l = std::get_if<StringList>(&v.value);
    if (!l) return;
    for (const std::string& e : *l) {
      std::size_t eq = e.find('=');
      std::string value = eq == std::string::npos ? "" : e.substr(eq + 1);
      if (a->sensitive || (a->secret_ok && IsSecretRef(value)) || RefersToSensitive(spec, r, value))
        out.insert(e.substr(0, eq));
    }
  };
  if (auto it = r.attrs.find(attr); it != r.attrs.end()) add(it->second);
  for (const Overlay& o : r.overlays)
    if (auto it = o.attrs.find(attr); it != o.attrs.end()) add(it->second);
  return out;
}

const HostConfig* HostFor(const Spec& spec, const Resource& r) {
  if (r.host.empty()) return nullptr;
  if (r.host == "local") return &LocalHost();
  auto it = spec.hosts.find(r.host);
  return it == spec.hosts.end() ? nullptr : &it->second;
}

Result<ProviderConfig> ResolveProvider(const Spec& spec, const ProviderInstance& p) {
  ProviderConfig c;
  c.kind = p.kind;
  c.name = p.name;
  for (const auto& [name, sv] : p.attrs) {
    if (!sv.secret) {
      c.attrs[name] = sv.value;
      continue;
    }
    auto secret = ResolveSecret(std::get<std::string>(sv.value), spec.dir);
    if (!secret)
      return Error{sv.loc.ToString() + ": '" + name + "' of [provider." + p.name + "]: " + secret.error().message};
    c.attrs[name] = std::move(*secret);
  }
  // Keys the table leaves out are handed to the provider as their defaults.
  if (p.schema) FillDefaults(p.schema->attrs, &c.attrs);
  return c;
}

std::string NamedInstance(const Spec& spec, const std::string& kind, const std::string& value) {
  for (const std::string& name : {kind + "." + value, value}) {
    auto it = spec.providers.find(name);
    if (it != spec.providers.end() && it->second.kind == kind) return name;
  }
  return "";
}

Result<Target> TargetFor(const Spec& spec, const Resource& r, State&& desired,
                         std::map<std::string, ProviderConfig>* configs) {
  Target t{r.address, r.schema, {}, HostFor(spec, r), nullptr};
  t.hosts = &spec.hosts;
  // Taken from `desired` only once nothing can fail.
  auto done = [&]() -> Result<Target> {
    t.desired = std::move(desired.attrs);
    t.desired_private = std::move(desired.private_data);
    return std::move(t);
  };
  for (const AttrSchema& a : r.schema->attrs) {
    if (!a.scoped) continue;
    std::set<std::string> items;
    std::string reference;  // where an item is a reference, known only at its stage
    auto add = [&](const SpecAttrs& attrs) {
      auto it = attrs.find(a.name);
      if (it == attrs.end()) return;
      if (const auto* list = std::get_if<std::vector<std::string>>(&it->second.value))
        for (const std::string& item : *list) {
          if (item.find("${") == std::string::npos) items.insert(item);
          else if (reference.empty()) reference = it->second.loc.ToString();
        }
    };
    add(r.attrs);
    for (const Overlay& o : r.overlays) add(o.attrs);
    // What it owns must be known at every stage, so a later stage or a rollback can take back
    // what an earlier one added.
    if (!reference.empty())
      return Error{reference + ": " + r.address + "'s " + a.name +
                       " holds a reference; its items are what it owns at every stage, so write them out (or "
                       "give them with --var)",
                   ErrorCode::kInvalid, true};
    t.named[a.name].assign(items.begin(), items.end());
  }
  auto resolve = [&](const std::string& name) -> Result<const ProviderConfig*> {
    auto it = configs->find(name);
    if (it == configs->end()) {
      auto c = ResolveProvider(spec, spec.providers.at(name));
      if (!c) return c.error();
      it = configs->emplace(name, std::move(*c)).first;
    }
    return &it->second;
  };
  for (const AttrSchema& a : r.schema->attrs) {
    if (a.names_provider.empty()) continue;
    std::string value = StringAttr(desired.attrs, a.name);
    std::size_t colon = value.find(':');
    if (colon == std::string::npos || !spec.providers.count(value.substr(0, colon))) continue;
    auto c = resolve(value.substr(0, colon));
    if (!c) return c.error();
    t.providers[value.substr(0, colon)] = *c;
  }
  if (r.provider_instance.empty()) return done();
  auto c = resolve(r.provider_instance);
  if (!c) return c.error();
  t.provider = *c;
  // The instances its provider instance names (a DNS provider's AWS account) come along too.
  const ProviderInstance& instance = spec.providers.at(r.provider_instance);
  for (const auto& [attr, sv] : instance.attrs) {
    const AttrSchema* a = instance.schema ? FindAttr(instance.schema->attrs, attr) : nullptr;
    const auto* s = std::get_if<std::string>(&sv.value);
    if (!a || a->names_provider.empty() || !s) continue;
    std::string named = NamedInstance(spec, a->names_provider, *s);
    if (named.empty()) continue;  // the loader said so
    auto other = resolve(named);
    if (!other) return other.error();
    t.providers[named] = *other;
  }
  return done();
}

}  // namespace reconcile
