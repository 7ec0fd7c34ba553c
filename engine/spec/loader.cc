// Spec loading, top level: reads the TOML (plus the --env overlay), then the header,
// stages, variables, hosts and provider instances; resources are loader_resources.cc's.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>

#include "engine/duration.h"
#include "engine/hash.h"
#include "engine/spec/interpolate.h"
#include "engine/journal/journal.h"
#include "engine/spec/loader_internal.h"
#include "engine/os_calls.h"
#include "engine/spec/toml_parse_ahead.h"
#include "engine/spec/toml_precheck.h"
#include "engine/spec/toml_twice.h"

namespace reconcile {

namespace {

const std::vector<std::string> kTopLevelKeys = {"version",  "name", "stages", "state",      "vars",  "stage",
                                                "provider", "host", "hosts",  "on_failure", "notify"};
bool IsSetting(std::string_view key) {
  return std::find(kTopLevelKeys.begin(), kTopLevelKeys.end(), key) != kTopLevelKeys.end();
}

const std::vector<std::string> kStageKeys = {"confirm", "watch", "watch_checks", "on_failure", "downtime"};

// A spec far larger than any cutover (a generated one with 100k resources is ~10 MiB):
// past this the file is a mistake such as /dev/zero, refused before it exhausts memory.
constexpr std::size_t kMaxSpecBytes = 256 << 20;

bool ReadFile(const std::string& path, std::string* out) {
  errno = ReadWholeFile(path, kMaxSpecBytes, out);
  return errno == 0;
}

// Merges `over` into `base`: tables merge key by key, anything else replaces. Nodes are moved,
// so each keeps the file and line it was written at.
void Merge(toml::table& base, toml::table& over) {
  for (auto& [key, value] : over) {
    toml::node* existing = base.get(key);
    if (existing && existing->is_table() && value.is_table()) {
      Merge(*existing->as_table(), *value.as_table());
    } else {
      base.insert_or_assign(key, std::move(value));
    }
  }
}

bool ValidName(const std::string& s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; });
}

const AttrSchema kStringAttr{"", AttrType::kString};

// Where SplitRefs stops in a string written at `loc`: the first `${` that no `}` closes.
SourceLoc UnclosedRefLoc(const std::string& s, SourceLoc loc) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 3, "$${") == 0) {
      i += 2;
    } else if (s.compare(i, 2, "${") == 0) {
      std::size_t close = s.find('}', i + 2);
      if (close == std::string::npos) {
        loc.column += static_cast<std::uint32_t>(i) + 1;  // +1 for the opening quote
        break;
      }
      i = close;
    }
  }
  return loc;
}

}  // namespace

const char* TomlTypeName(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    default:
      return "a date or time";
  }
}

SourceLoc Loader::Loc(const toml::source_region& region) {
  SourceLoc loc;
  if (region.path) {
    if (region.path.get() != last_path_key_) {
      last_path_key_ = region.path.get();
      last_path_value_ = sources_->Find(*region.path);
    }
    loc.file = last_path_value_;
  }
  loc.line = region.begin.line + line_offset_;
  loc.column = region.begin.column;
  return loc;
}

void Loader::UnknownKey(const toml::key& key, const std::string& where, const std::vector<std::string>& candidates) {
  Err(Loc(key), "unknown key '" + std::string(key.str()) + "' in " + where + DidYouMean(key.str(), candidates));
}

bool Loader::ReadString(const toml::node& node, const What& what, std::string* out) {
  SpecValue v;
  AttrSchema a = kStringAttr;
  if (!ReadValue(node, a, what, "", &v)) return false;
  *out = std::get<std::string>(v.value);
  return true;
}

bool Loader::Interpolate(const std::string& s, SourceLoc loc, const What& what, const std::string& owner,
                         std::string* out) {
  if (!MayInterpolate(s)) {
    *out = s;
    return true;
  }
  auto pieces = SplitRefs(s);
  if (!pieces) {
    Err(UnclosedRefLoc(s, loc), what + ": " + pieces.error().message);
    return false;
  }
  bool ok = true;
  out->clear();
  for (const Piece& p : *pieces) {
    SourceLoc at = loc;
    at.column += static_cast<std::uint32_t>(p.offset) + 1;  // +1 for the opening quote
    if (!p.is_ref) {
      *out += EscapeLiteral(p.text);
      continue;
    }
    if (p.text.rfind("vars.", 0) == 0) {
      std::string var = p.text.substr(5);
      auto it = spec_->vars.find(var);
      if (it == spec_->vars.end()) {
        std::vector<std::string> names;
        for (const auto& [n, _] : spec_->vars) names.push_back(n);
        Err(at, "unknown variable '" + var + "' in " + what + DidYouMean(var, names),
            names.empty() ? "declare it under [vars] or pass --var " + var + "=VALUE" : "");
        ok = false;
        continue;
      }
      const Value& v = it->second.value;
      std::string text;
      if (auto* str = std::get_if<std::string>(&v)) text = *str;
      else if (auto* i = std::get_if<std::int64_t>(&v)) text = std::to_string(*i);
      else if (auto* b = std::get_if<bool>(&v)) text = *b ? "true" : "false";
      *out += EscapeLiteral(text);
      if (out->size() > kMaxValueBytes) break;
      continue;
    }
    if (p.text == "run" && !owner.empty()) {
      *out += "${run}";  // known once the journal is read: Desired() substitutes it
      continue;
    }
    if (std::count(p.text.begin(), p.text.end(), '.') == 2 && !owner.empty()) {
      pending_refs_.push_back({owner, p.text, at});
      *out += "${" + p.text + "}";
      continue;
    }
    Err(at, "'${" + p.text + "}' in " + what + " is not a reference this can resolve",
        owner.empty() ? "write ${vars.NAME}; resource references are allowed in resources only"
                      : "write ${vars.NAME}, ${TYPE.NAME.attribute} or ${run}");
    ok = false;
  }
  if (out->size() > kMaxValueBytes) {
    Err(loc, what + " is longer than " + SizeText(kMaxValueBytes) + " once its variables are substituted",
        "a value may hold at most " + SizeText(kMaxValueBytes) + "; read large content from a file (source = ...)");
    out->clear();
    return false;
  }
  return ok;
}

void Loader::Load(toml::table& root, const SpecPieces* pieces) {
  // Variables first: every string may use them, the spec's name included. Then hosts and
  // providers before resources, which refer to them.
  if (auto* vars = root.get("vars")) {
    if (auto* t = vars->as_table()) ReadVars(*t, root);
    else Err(Loc(*vars), "[vars] must be a table of name = value");
  }
  for (const auto& [name, value] : options_.vars) {
    spec_->vars[name] = SpecValue{value, SourceLoc{}, false};
  }
  ResolveVars();
  ReadHeader(root);
  if (auto* hosts = root.get("host")) {
    if (auto* t = hosts->as_table()) ReadHosts(*t);
    else Err(Loc(*hosts), "'host' must be tables [host.NAME]");
  }
  if (auto* groups = root.get("hosts")) {
    if (auto* t = groups->as_table()) ReadHostGroups(*t);
    else Err(Loc(*groups), "'hosts' must be groups: [hosts.NAME] with addresses = [...], or hosts.NAME = [HOSTS]");
  }
  ResolveJumps(jump_locs_);
  if (auto* providers = root.get("provider")) {
    if (auto* t = providers->as_table()) ReadProviders(*t);
    else Err(Loc(*providers), "'provider' must be tables [provider.KIND.NAME]");
  }
  if (auto* stage = root.get("stage")) {
    if (auto* t = stage->as_table()) ReadStageOptions(*t);
    else Err(Loc(*stage), "'stage' must be tables [stage.NAME] (the list of stages is 'stages')");
  }
  if (auto* notify = root.get("notify")) ReadNotify(*notify);
  if (auto* state = root.get("state")) {
    if (auto* t = state->as_table()) ReadState(*t);
    else Err(Loc(*state), "'state' must be a table [state] with path = \"...\"");
  }
  if (spec_->state_path.empty() && !spec_->name.empty()) {
    // A rehearsal (--env lab) keeps a journal of its own: a production run must never find
    // the lab's stages complete.
    spec_->state_path = ".reconcile/" + spec_->JournalName() + ".journal";
  }
  if (!spec_->state_path.empty() && std::filesystem::path(spec_->state_path).is_relative()) {
    spec_->state_path = (std::filesystem::path(spec_->dir) / spec_->state_path).lexically_normal();
  }

  std::vector<std::string> candidates = kTopLevelKeys;
  for (const std::string& t : registry_.TypeNames()) candidates.push_back(t);
  std::size_t tables = pieces ? pieces->split->tables : 0;
  for (auto& [key, node] : root)
    if (const toml::table* t = node.as_table(); t && registry_.FindType(std::string(key.str()))) tables += t->size();
  spec_->resources.reserve(tables);
  ReadResourceTables(root, candidates);
  if (pieces) ReadPieces(*pieces, candidates);
  // Resources in the order the spec writes them, whatever order TOML tables come back in:
  // sort indices, then move each (large) resource along its cycle of the permutation, in
  // place (a second vector of them was a quarter of a million-resource load's peak).
  auto& all = spec_->resources;
  std::vector<std::size_t> order(all.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    const SourceLoc &a = all[x].loc, &b = all[y].loc;
    if (a.file != b.file) return a.file < b.file;
    if (a.line != b.line) return a.line < b.line;
    return a.column < b.column;
  });
  for (std::size_t start = 0; start < order.size(); ++start) {
    if (order[start] == start) continue;
    Resource first = std::move(all[start]);
    std::size_t k = start;
    while (order[k] != start) {
      all[k] = std::move(all[order[k]]);
      std::size_t next = order[k];
      order[k] = k;
      k = next;
    }
    all[k] = std::move(first);
    order[k] = k;
  }
  if (!spec_->by_address.Build(spec_->resources)) repeated_address_ = true;
  // A table on a host group is stored once per member, TYPE.NAME[MEMBER]: the same table
  // written again without the group is a repeat the addresses alone do not show.
  for (const auto& [address, members] : grouped_)
    if (spec_->Index(address)) repeated_address_ = true;
  ResolveDependencies();
  ResolveStageOptions();
}

void Loader::ReadResourceTables(toml::table& root, const std::vector<std::string>& candidates) {
  for (auto& [key, node] : root) {
    if (IsSetting(key.str())) continue;
    const TypeSchema* schema = registry_.FindType(std::string(key.str()));
    if (!schema) {
      Err(Loc(key), "unknown resource type '" + std::string(key.str()) + "'" + DidYouMean(key.str(), candidates));
      continue;
    }
    ReadResources(*schema, node);
  }
}

void Loader::ReadPieces(const SpecPieces& pieces, const std::vector<std::string>& candidates) {
  // Two pieces ahead: enough that reading never waits on a piece parsed at the same pace, few
  // enough that the trees waiting (about ten times their text) stay small beside the spec.
  TomlParseAhead parser(pieces.text, *pieces.file, pieces.split->pieces, 2);
  for (const TomlPiece& p : pieces.split->pieces) {
    ParsedPiece piece = parser.Take();
    if (!piece.ok) {
      // Only a marker: with any error the spec is parsed again whole, for TOML's own account.
      Err(SourceLoc{pieces.file, piece.line + p.line - 1, piece.column}, "TOML syntax: " + piece.error);
      continue;
    }
    line_offset_ = p.line - 1;
    ReadResourceTables(piece.table, candidates);
    line_offset_ = 0;
  }
}

void Loader::ReadHeader(toml::table& root) {
  SourceLoc top{sources_->Find(spec_->path), 1, 1};
  if (auto* v = root.get("version")) {
    if (!v->is_integer()) {
      Err(Loc(*v), "'version' must be an integer, not " + std::string(TomlTypeName(*v)));
    } else {
      spec_->version = v->as_integer()->get();
      if (spec_->version != 1)
        Err(Loc(*v),
            "unsupported spec version " + std::to_string(spec_->version) + "; this reconcile reads version = 1");
    }
  } else {
    Err(top, "the spec has no 'version'; add version = 1 at the top");
  }
  if (auto* v = root.get("name")) {
    if (ReadString(*v, "'name'", &spec_->name) && !ValidName(spec_->name))
      Err(Loc(*v), "'name' may hold letters, digits, '-' and '_' only (it names the journal)");
  } else {
    Err(top, "the spec has no 'name'; add name = \"my-cutover\" (it names the journal)");
  }
  if (auto* v = root.get("on_failure")) ReadOnFailure(*v, "'on_failure'", &spec_->on_failure);
  if (spec_->on_failure.empty()) spec_->on_failure = "stop";
  if (auto* v = root.get("stages")) {
    ReadStages(*v);
  } else {
    spec_->stages.push_back({"main", "", top});
    spec_->stage_index.emplace("main", 0);
  }
}

void Loader::ReadStages(const toml::node& node) {
  const toml::array* arr = node.as_array();
  if (!arr || arr->empty()) {
    Err(Loc(node), "'stages' must be a non-empty list of stage names, e.g. [\"prepare\", \"switch\"]");
    return;
  }
  for (const toml::node& e : *arr) {
    std::string name;
    if (!e.is_string()) {
      Err(Loc(e), "a stage name must be a string, not " + std::string(TomlTypeName(e)));
      continue;
    }
    name = e.as_string()->get();
    if (!ValidName(name)) {
      Err(Loc(e), "stage name '" + name + "' may hold letters, digits, '-' and '_' only");
    } else if (spec_->FindStage(name)) {
      Err(Loc(e), "stage '" + name + "' is listed twice");
    } else {
      spec_->stage_index.emplace(name, spec_->stages.size());
      spec_->stages.push_back({name, "", Loc(e)});
    }
  }
}

void Loader::ReadStageOptions(const toml::table& table) {
  for (auto& [key, node] : table) {
    std::string name(key.str());
    auto index = spec_->FindStage(name);
    if (!index) {
      Err(Loc(key), "[stage." + name + "] names no stage in 'stages'" + DidYouMean(name, spec_->StageNames()));
      continue;
    }
    const toml::table* t = node.as_table();
    if (!t) {
      Err(Loc(node), "[stage." + name + "] must be a table");
      continue;
    }
    StageSpec& stage = spec_->stages[*index];
    for (auto& [k, v] : *t) {
      std::string what = "'" + std::string(k.str()) + "' of [stage." + name + "]";
      if (k.str() == "confirm") {
        ReadString(v, "'confirm' of stage " + name, &stage.confirm);
      } else if (k.str() == "watch") {
        std::string text;
        if (!ReadString(v, what, &text)) continue;
        if (std::string why = DurationError(text); !why.empty()) Err(Loc(v), what + why);
        else stage.watch = *ParseDuration(text);
      } else if (k.str() == "watch_checks") {
        const toml::array* arr = v.as_array();
        if (!arr) {
          Err(Loc(v), what + " must be a list of checks, e.g. [\"check.smoke\"]");
          continue;
        }
        if (!t->contains("watch"))
          Err(Loc(k), "[stage." + name + "] has watch_checks but no watch; add watch = \"15m\" (how long to watch)");
        for (const toml::node& e : *arr) {
          std::string address;
          if (ReadString(e, what, &address)) pending_watch_.push_back({name, address, Loc(e)});
        }
      } else if (k.str() == "on_failure") {
        if (ReadOnFailure(v, what, &stage.on_failure)) stage.on_failure_loc = Loc(v);
      } else if (k.str() == "downtime") {
        if (!ReadString(v, what, &stage.downtime)) continue;
        if (stage.downtime != "starts" && stage.downtime != "ends")
          Err(Loc(v), what +
                          " must be \"starts\" or \"ends\" (the stages where users lose and get back the "
                          "service), not \"" +
                          stage.downtime + "\"");
      } else {
        UnknownKey(k, "[stage." + name + "]", kStageKeys);
      }
    }
  }
}

bool Loader::ReadOnFailure(const toml::node& node, const std::string& what, std::string* out) {
  if (!ReadString(node, what, out)) return false;
  if (*out == "stop" || *out == "rollback") return true;
  Err(Loc(node), what +
                     " must be \"stop\" (the default: stop and say the two ways on) or \"rollback\" (roll "
                     "back to the end of the stage before by itself), not \"" +
                     *out + "\"");
  out->clear();
  return false;
}

void Loader::ResolveStageOptions() {
  for (const PendingWatch& w : pending_watch_) {
    std::size_t stage = *spec_->FindStage(w.stage);
    const Resource* r = spec_->Find(w.address);
    if (!r || !r->is_check()) {
      std::vector<std::string> checks;
      for (const Resource& c : spec_->resources)
        if (c.is_check()) checks.push_back(c.address);
      Err(w.loc, "'watch_checks' of [stage." + w.stage + "] names '" + w.address + "', which is " +
                     (r ? "not a check (" + r->type + ")" : std::string("not declared")) +
                     DidYouMean(w.address, checks));
    } else if (r->stage > stage) {
      Err(w.loc, "'watch_checks' of [stage." + w.stage + "] names " + w.address + " of stage '" +
                     spec_->stages[r->stage].name + "', which comes later; watch checks of this stage or earlier");
    } else {
      spec_->stages[stage].watch_checks.push_back(spec_->Index(w.address).value());
    }
  }
  std::optional<std::size_t> starts, ends;
  for (std::size_t i = 0; i < spec_->stages.size(); ++i) {
    const StageSpec& st = spec_->stages[i];
    if (i == 0 && st.on_failure == "rollback")
      Err(st.on_failure_loc, "'on_failure' of [stage." + st.name +
                                 "]: it is the first stage, so there is no stage before it to roll back to; use "
                                 "\"stop\" (a rollback goes to the end of the stage before the one that failed)");
    if (st.downtime == "starts") {
      if (starts)
        Err(st.loc,
            "downtime = \"starts\" is on more than one stage; mark the first stage users lose the "
            "service in");
      starts = i;
    }
    if (st.downtime == "ends") {
      if (ends)
        Err(st.loc,
            "downtime = \"ends\" is on more than one stage; mark the stage after which users have "
            "the service back");
      ends = i;
    }
  }
  if (starts && ends && *ends < *starts)
    Err(spec_->stages[*ends].loc, "downtime \"ends\" on stage '" + spec_->stages[*ends].name +
                                      "', before the stage it \"starts\" on ('" + spec_->stages[*starts].name + "')");
}

void Loader::ReadState(const toml::table& table) {
  auto secret = [&](const toml::node& v, const std::string& what, bool must_be_secret) -> std::optional<SpecValue> {
    AttrSchema a{what, AttrType::kString};
    a.secret_ok = true;
    SpecValue sv;
    if (!ReadValue(v, a, what, "", &sv)) return std::nullopt;
    if (must_be_secret && !sv.secret) {
      ErrHidingLine(sv.loc, what + " must be a secret reference, env:NAME or file:PATH, never the secret itself");
      return std::nullopt;
    }
    return sv;
  };
  for (auto& [k, v] : table) {
    if (k.str() == "path") {
      ReadString(v, "'path' of [state]", &spec_->state_path);
      if (table.contains("url"))
        Err(Loc(v), "[state] has both 'path' and 'url'; a journal lives in one place",
            "keep url for the shared PostgreSQL journal, or path for a file");
    } else if (k.str() == "key") {
      spec_->state_key = secret(v, "'key' of [state]", true);
    } else if (k.str() == "url") {
      spec_->state_url = secret(v, "'url' of [state]", false);
      if (!spec_->state_url || spec_->state_url->secret) continue;
      const std::string& url = std::get<std::string>(spec_->state_url->value);
      if (url.rfind("postgres://", 0) != 0 && url.rfind("postgresql://", 0) != 0) {
        Err(spec_->state_url->loc, "'url' of [state] must be a postgres:// URL, not \"" + url + "\"");
        spec_->state_url.reset();
      } else if (RedactUrl(url) != url) {
        ErrHidingLine(
            spec_->state_url->loc, "'url' of [state] holds a password, which would be shown and kept in the spec",
            "write the password as password = \"env:NAME\" under [state], or the whole URL as url = \"env:NAME\"");
        spec_->state_url.reset();
      }
    } else if (k.str() == "password") {
      spec_->state_password = secret(v, "'password' of [state]", true);
    } else {
      UnknownKey(k, "[state]", {"path", "key", "url", "password"});
    }
  }
}

void Loader::ReadVars(const toml::table& table, const toml::table& root) {
  for (auto& [k, v] : table) {
    const std::string key(k.str());
    // In TOML a key belongs to the table above it: `on_failure = "rollback"` written below
    // [vars] is a variable, and the spec runs without the setting.
    const bool setting = (key == "on_failure" || key == "stages") && !root.contains(key) && WrittenAsIs(Loc(k), key);
    const std::string move = "to set the spec's " + key + ", move it above the first [table]";
    SpecValue sv;
    sv.loc = Loc(v);
    if (v.is_string()) sv.value = v.as_string()->get();
    else if (v.is_integer()) sv.value = v.as_integer()->get();
    else if (v.is_boolean()) sv.value = v.as_boolean()->get();
    else {
      Err(Loc(v), "variable '" + key + "' must be a string, integer or boolean, not " + TomlTypeName(v),
          setting ? "'" + key + "' is a setting of the whole spec: written below [vars], it is a variable; " + move
                  : "");
      continue;
    }
    if (setting)
      diags_->Warning(
          Loc(k),
          "'" + key + "' written below [vars] is a variable, not the spec's setting, and the spec has no " + key,
          move + "; a variable of that name is better named otherwise");
    spec_->vars.emplace(key, std::move(sv));
  }
}

// Variables may be built from variables (transfer_dir = "${vars.root}/transfer"), so an
// overlay or a --var changes one and the rest follow. Each ends as plain text, worked out
// once, in whatever order they refer to each other; a cycle is an error at the variable.
void Loader::ResolveVars() {
  std::map<std::string, int> state;  // 1 = being worked out, 2 = done
  // Each level of variables built from variables is a level of recursion here; a chain of
  // 100,000 overflowed the stack. No spec needs more than a few.
  constexpr int kMaxDepth = 100;
  std::function<bool(const std::string&, int)> resolve = [&](const std::string& name, int depth) -> bool {
    SpecValue& sv = spec_->vars.at(name);
    auto* text = std::get_if<std::string>(&sv.value);
    if (state[name] == 2 || !text || !MayInterpolate(*text)) return state[name] = 2, true;
    if (state[name] == 1) return false;
    std::string what = "variable '" + name + "'";
    if (depth > kMaxDepth) {
      Err(sv.loc, what + " is built from variables nested more than " + std::to_string(kMaxDepth) + " deep",
          "give it a plain value");
      sv.value = std::string();
      state[name] = 2;
      return true;
    }
    state[name] = 1;
    auto pieces = SplitRefs(*text);
    if (!pieces) {
      Err(UnclosedRefLoc(*text, sv.loc), what + ": " + pieces.error().message);
      return state[name] = 2, true;
    }
    std::string out;
    for (const Piece& piece : *pieces) {
      SourceLoc at = sv.loc;
      at.column += static_cast<std::uint32_t>(piece.offset) + 1;
      if (!piece.is_ref) {
        out += piece.text;
        continue;
      }
      std::string var = piece.text.rfind("vars.", 0) == 0 ? piece.text.substr(5) : "";
      auto it = spec_->vars.find(var);
      if (var.empty() || it == spec_->vars.end()) {
        std::vector<std::string> names;
        for (const auto& [n, _] : spec_->vars) names.push_back(n);
        Err(at,
            var.empty() ? "'${" + piece.text + "}' in " + what + ": a variable may refer to variables only"
                        : "unknown variable '" + var + "' in " + what + DidYouMean(var, names),
            var.empty() ? "write ${vars.NAME}, or the value itself" : "");
        continue;
      }
      if (!resolve(var, depth + 1)) {
        Err(at, what + " refers to '" + var + "', which refers back to '" + name + "'",
            "give one of them a plain value");
        state[name] = 2;
        return true;
      }
      const Value& v = it->second.value;
      if (auto* str = std::get_if<std::string>(&v)) {
        // Variables built from variables double with each level; stop before memory does.
        if (out.size() + str->size() > kMaxValueBytes) {
          Err(sv.loc, what + " is longer than " + SizeText(kMaxValueBytes) + " once its variables are substituted",
              "a value may hold at most " + SizeText(kMaxValueBytes) +
                  "; read large content from a file (source = ...)");
          sv.value = std::string();
          state[name] = 2;
          return true;
        }
        out += *str;
      } else if (auto* i = std::get_if<std::int64_t>(&v)) {
        out += std::to_string(*i);
      } else if (auto* b = std::get_if<bool>(&v)) {
        out += *b ? "true" : "false";
      }
    }
    sv.value = out;
    state[name] = 2;
    return true;
  };
  std::vector<std::string> names;
  for (const auto& [n, _] : spec_->vars) names.push_back(n);
  for (const std::string& n : names) resolve(n, 0);
}

const std::vector<AttrSchema>& HostKeys() {
  static const std::vector<AttrSchema> keys = {
      // clang-format off
      {.name = "address", .type = AttrType::kString, .required = true,
       .doc = "host name or IP address reached over SSH"},
      {.name = "port", .type = AttrType::kInt, .default_value = std::to_string(kSshPort), .doc = "SSH port"},
      {.name = "user", .type = AttrType::kString, .doc = "who logs in (default: $USER)"},
      {.name = "identity", .type = AttrType::kString,
       .doc = "private key, ed25519 or ECDSA (default: the keys of ssh-agent when SSH_AUTH_SOCK is set, "
              "else ~/.ssh/id_ed25519)"},
      {.name = "identity_passphrase", .type = AttrType::kString, .sensitive = true, .secret_ok = true,
       .doc = "unlocks a passphrase-protected identity: env:NAME or file:PATH, never written in the spec"},
      {.name = "host_key_fingerprint", .type = AttrType::kString,
       .doc = "\"SHA256:…\" as ssh-keygen -lf prints it: a host key accepted besides known_hosts' entry "
              "(a server rebuilt in the cutover)"},
      {.name = "known_hosts", .type = AttrType::kString,
       .default_value = kSshKnownHosts,
       .doc = "the file the host key is checked against; unknown or changed = refused"},
      {.name = "ssh_config", .type = AttrType::kString,
       .doc = "true (~/.ssh/config) or a path: what the spec leaves out (the address's HostName, User, Port, "
              "IdentityFile, ProxyJump, UserKnownHostsFile) is taken as `ssh ADDRESS` would; the spec's values win"},
      {.name = "jump", .type = AttrType::kString,
       .doc = "another [host.NAME] (a bastion) this one is reached through, as ssh -J: one connection to it "
              "serves every host behind it; it may have a jump of its own"},
      {.name = "sudo", .type = AttrType::kBool, .doc = "run commands and writes through `sudo -n`"},
      {.name = "trust_on_first_use", .type = AttrType::kBool,
       .doc = "accept and record a host key not yet known (a changed one is still refused)"},
      // clang-format on
  };
  return keys;
}

const AttrSchema* Loader::FindHostSetting(const std::string& key) const {
  for (const AttrSchema& a : registry_.HostSettings())
    if (a.name == key) return &a;
  return nullptr;
}

void Loader::ReadHosts(const toml::table& table) {
  for (auto& [key, node] : table) {
    std::string name(key.str());
    std::string where = "[host." + name + "]";
    if (name == "local") {
      Err(Loc(key), "'local' is this machine and needs no [host.local] table; pick another name");
      continue;
    }
    const toml::table* t = node.as_table();
    if (!t) {
      Err(Loc(node), where + " must be a table");
      continue;
    }
    HostConfig h = ReadHost(name, where, *t, false);
    if (h.address.empty()) Err(Loc(key), where + " has no 'address'; add address = \"HOST_OR_IP\"");
    spec_->hosts.emplace(name, std::move(h));
  }
}

HostConfig Loader::ReadHost(const std::string& name, const std::string& where, const toml::table& t, bool group) {
  std::vector<std::string> names;
  for (const AttrSchema& a : HostKeys())
    if (!group || a.name != "address") names.push_back(a.name);
  for (const AttrSchema& a : registry_.HostSettings()) names.push_back(a.name);
  if (group) names.push_back("addresses");
  HostConfig h;
  h.name = name;
  for (auto& [k, v] : t) {
    std::string attr(k.str());
    if (group && attr == "addresses") continue;
    if (group && attr == "address") {
      Err(Loc(k), "a group's members are its addresses: write them in 'addresses' of " + where);
      continue;
    }
    std::string what = "'" + attr + "' of " + where;
    if (attr == "port") {
      if (v.is_integer() && v.as_integer()->get() > 0 && v.as_integer()->get() < 65536) {
        h.port = static_cast<int>(v.as_integer()->get());
        h.port_written = true;
      } else {
        Err(Loc(v), what + " must be a port number from 1 to 65535");
      }
    } else if (attr == "ssh_config") {
      if (v.is_boolean()) {
        h.ssh_config = v.as_boolean()->get() ? "~/.ssh/config" : "";
      } else if (std::string raw; v.is_string() && ReadString(v, what, &raw) && !raw.empty()) {
        Interpolate(raw, Loc(v), what, "", &h.ssh_config);
        if (h.ssh_config[0] != '/' && h.ssh_config[0] != '~')
          h.ssh_config = (std::filesystem::path(spec_->dir) / h.ssh_config).string();
      } else {
        Err(Loc(v), what + " must be true, false or the path of an ssh config file");
      }
    } else if (attr == "sudo" || attr == "trust_on_first_use") {
      if (!v.is_boolean()) {
        Err(Loc(v), what + " must be true or false, not " + TomlTypeName(v));
        continue;
      }
      (attr == "sudo" ? h.sudo : h.trust_on_first_use) = v.as_boolean()->get();
    } else if (const AttrSchema* setting = FindHostSetting(attr)) {
      // A provider's key: read and checked like a resource attribute, kept for it to read.
      SpecValue sv;
      if (ReadValue(v, *setting, What::Key(attr, where), "", &sv)) h.settings[attr] = std::move(sv.value);
    } else if (attr == "jump") {
      if (!ReadString(v, what, &h.jump)) continue;
      jump_locs_[name] = Loc(v);
    } else if (attr == "identity_passphrase") {
      std::string raw;
      if (!ReadString(v, what, &raw)) continue;
      if (!IsSecretRef(raw)) {
        ErrHidingLine(Loc(v), what + " must be env:NAME or file:PATH, so the passphrase is never in the spec",
                      "export it (identity_passphrase = \"env:DEPLOY_KEY_PASSPHRASE\") or keep it in a file "
                      "readable by you only");
        continue;
      }
      // A relative file: is the spec's folder's, wherever reconcile runs from.
      if (raw.rfind("file:", 0) == 0 && !raw.substr(5).empty() && raw[5] != '/' && raw[5] != '~')
        raw = "file:" + (std::filesystem::path(spec_->dir) / raw.substr(5)).string();
      h.identity_passphrase = raw;
    } else if (attr == "host_key_fingerprint") {
      std::string raw;
      if (!ReadString(v, what, &raw)) continue;
      if (raw.rfind("SHA256:", 0) != 0 || raw.size() != 50) {
        Err(Loc(v), what + " must be a SHA256 fingerprint as ssh-keygen -lf prints it (SHA256: and 43 characters)",
            "on the server: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub");
        continue;
      }
      h.host_key_fingerprint = raw;
    } else if (attr == "address" || attr == "user" || attr == "identity" || attr == "known_hosts") {
      // ${vars.x} too, so a lab overlay can point a host at paths given with --var.
      std::string raw;
      if (!ReadString(v, what, &raw)) continue;
      std::string& field = attr == "address"    ? h.address
                           : attr == "user"     ? h.user
                           : attr == "identity" ? h.identity
                                                : h.known_hosts;
      Interpolate(raw, Loc(v), what, "", &field);
    } else {
      UnknownKey(k, where, names);
    }
  }
  return h;
}

// [hosts.NAME] addresses = [...] with any [host.NAME] keys (each address a host of its own,
// named by it), or hosts.NAME = ["h1", "h2"] naming [host.NAME]s: a group resources name as
// host = "group:NAME", one resource per member.
void Loader::ReadHostGroups(const toml::table& table) {
  for (auto& [key, node] : table) {
    std::string name(key.str());
    std::string where = "[hosts." + name + "]";
    std::vector<std::string>& members = spec_->host_groups[name];
    auto read_list = [&](const toml::node& list, const std::string& what, std::vector<std::string>* out) {
      const toml::array* a = list.as_array();
      if (!a || a->empty()) {
        Err(Loc(list), what + " must be a non-empty list of names");
        return;
      }
      for (const toml::node& e : *a) {
        std::string item;
        if (!ReadString(e, What::Key("an item", what), &item)) continue;
        // A member names hosts, addresses (service.django[web1]) and, through them, files.
        if (item.empty() ||
            item.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:") !=
                std::string::npos ||
            item.find("..") != std::string::npos) {
          Err(Loc(e), "'" + item + "' in " + what + " is not a host name or address",
              "write names such as web1, web1.example.com or 10.0.0.5");
          continue;
        }
        if (std::find(out->begin(), out->end(), item) != out->end()) {
          Err(Loc(e), "'" + item + "' is in " + what + " twice");
          continue;
        }
        out->push_back(item);
      }
    };
    const toml::table* t = node.as_table();
    // [hosts.NAME] hosts = [...] (or hosts.NAME = [...]): members that are [host.NAME]s.
    const toml::node* named = node.is_array() ? &node : t && t->contains("hosts") ? t->get("hosts") : nullptr;
    if (named) {
      if (t && t->size() > 1) {
        Err(Loc(node), where + " names [host.NAME]s with 'hosts', which take their own keys: nothing else goes here",
            "or list addresses = [...] with the keys the members share");
        continue;
      }
      read_list(*named, "hosts of " + where, &members);
      for (const std::string& m : members)
        if (!spec_->hosts.count(m)) {
          std::vector<std::string> names;
          for (const auto& [n, _] : spec_->hosts) names.push_back(n);
          Err(Loc(*named), where + " names '" + m + "', which is not a [host.NAME]" + DidYouMean(m, names));
        }
      continue;
    }
    if (!t || !t->contains("addresses")) {
      Err(Loc(node), where +
                         " must list its members: addresses = [\"web1\", \"web2\"], with any [host.NAME] keys "
                         "they share, or hosts = [\"a\", \"b\"] naming [host.NAME]s");
      continue;
    }
    read_list(*t->get("addresses"), "'addresses' of " + where, &members);
    // The keys read once (their errors said once, at their place), then a [host.ADDRESS] of
    // them for each member.
    HostConfig shared = ReadHost(name, where, *t, true);
    std::optional<SourceLoc> jump_at;
    if (auto it = jump_locs_.find(name); it != jump_locs_.end()) {
      jump_at = it->second;
      jump_locs_.erase(it);
    }
    for (const std::string& m : members) {
      if (spec_->hosts.count(m)) {
        Err(Loc(*t->get("addresses")),
            "'" + m + "' of " + where + " is also a [host." + m + "]; a host is declared once");
        continue;
      }
      HostConfig one = shared;
      one.name = m;
      one.address = m;
      if (jump_at) jump_locs_[m] = *jump_at;
      spec_->hosts.emplace(m, std::move(one));
    }
  }
}

// Each host's jump, itself with its own: resolved from the first hop outwards, so every
// `via` holds the whole way. A loop or a jump to nowhere is an error at its `jump`.
void Loader::ResolveJumps(const std::map<std::string, SourceLoc>& locs) {
  std::vector<std::string> names;
  for (const auto& [n, _] : spec_->hosts) names.push_back(n);
  std::map<std::string, std::shared_ptr<const HostConfig>> done;
  std::function<std::shared_ptr<const HostConfig>(const std::string&, std::vector<std::string>&)> resolve =
      [&](const std::string& name, std::vector<std::string>& path) -> std::shared_ptr<const HostConfig> {
    if (auto it = done.find(name); it != done.end()) return it->second;
    HostConfig& h = spec_->hosts.at(name);
    if (!h.jump.empty() && locs.count(name)) {  // the rest were resolved as they were read
      SourceLoc at = locs.at(name);
      if (h.jump == "local") {
        Err(at, "'jump' of [host." + name + "] names this machine; leave jump out to connect directly");
      } else if (!spec_->hosts.count(h.jump)) {
        Err(at, "'jump' of [host." + name + "] names '" + h.jump + "', which is not a [host.NAME]" +
                    DidYouMean(h.jump, names));
      } else if (std::find(path.begin(), path.end(), h.jump) != path.end() || h.jump == name) {
        std::string loop;
        for (const std::string& p : path) loop += p + " → ";
        Err(at, "the jumps of [host." + name + "] go round in a loop: " + loop + name + " → " + h.jump,
            "the first hop must be a host reached directly");
      } else {
        path.push_back(name);
        h.via = resolve(h.jump, path);
        path.pop_back();
      }
    }
    return done[name] = std::make_shared<const HostConfig>(h);
  };
  for (const auto& [n, _] : locs) {
    std::vector<std::string> path;
    resolve(n, path);
  }
}

void Loader::ReadProviders(const toml::table& table) {
  for (auto& [kind_key, kind_node] : table) {
    std::string kind(kind_key.str());
    const ProviderKindSchema* schema = registry_.FindKind(kind);
    if (!schema) {
      Err(Loc(kind_key), "unknown provider kind '" + kind + "'" + DidYouMean(kind, registry_.KindNames()));
      continue;
    }
    const toml::table* instances = kind_node.as_table();
    if (!instances) {
      Err(Loc(kind_node), "'provider." + kind + "' must be tables [provider." + kind + ".NAME]");
      continue;
    }
    for (auto& [name_key, node] : *instances) {
      std::string name = kind + "." + std::string(name_key.str());
      std::string where = "[provider." + name + "]";
      const toml::table* t = node.as_table();
      if (!t) {
        Err(Loc(node), where + " must be a table");
        continue;
      }
      ProviderInstance p;
      p.kind = kind;
      p.name = name;
      p.loc = Loc(name_key);
      p.schema = schema;
      std::vector<std::string> names;
      for (const AttrSchema& a : schema->attrs) names.push_back(a.name);
      for (auto& [k, v] : *t) {
        std::string attr(k.str());
        auto it = std::find_if(schema->attrs.begin(), schema->attrs.end(),
                               [&](const AttrSchema& a) { return a.name == attr; });
        if (it == schema->attrs.end()) {
          UnknownKey(k, where, names);
          continue;
        }
        SpecValue sv;
        if (ReadValue(v, *it, "'" + attr + "' of " + where, "", &sv)) p.attrs[attr] = std::move(sv);
      }
      for (const AttrSchema& a : schema->attrs) {
        if (a.required && !t->contains(a.name))  // one written wrong was reported already
          Err(p.loc, where + " is missing '" + a.name + "' (" + AttrTypeName(a.type) +
                         (a.doc.empty() ? "" : ": " + a.doc) + ")");
      }
      spec_->providers.emplace(name, std::move(p));
    }
  }
  // A key naming another instance (a DNS provider's AWS account): it must be one of this spec,
  // of the kind the key says; any table order.
  for (const auto& [name, p] : spec_->providers)
    for (const auto& [attr, sv] : p.attrs) {
      const AttrSchema* a = FindAttr(p.schema->attrs, attr);
      const auto* s = std::get_if<std::string>(&sv.value);
      if (!a || a->names_provider.empty() || !s || sv.secret || !NamedInstance(*spec_, a->names_provider, *s).empty())
        continue;
      std::vector<std::string> same;
      for (const auto& [n, other] : spec_->providers)
        if (other.kind == a->names_provider) same.push_back(n.substr(other.kind.size() + 1));
      Err(sv.loc, "unknown provider '" + *s + "' in '" + attr + "' of [provider." + name + "]" + DidYouMean(*s, same),
          "write " + attr + " = \"NAME\" with a [provider." + a->names_provider + ".NAME] of this spec");
    }
}

namespace {

// toml++ reports syntax errors by exception; they stop here, at the edge.
bool ParseToml(const std::string* file, std::string_view body, Diagnostics* diags, toml::table* out) {
  try {
    *out = toml::parse(body, *file);
    return true;
  } catch (const toml::parse_error& e) {
    std::string description(e.description());
    SourceLoc at{file, e.source().begin.line, e.source().begin.column};
    if (description.find("cannot redefine existing") != std::string::npos) {
      if (std::string said = TableWrittenTwice(body, at.line); !said.empty()) {
        description = said;
      } else if (auto key = KeyWrittenTwice(body, at.line)) {
        description = key->message;
        at.column = key->column;
      }
    }
    diags->Error(at, "TOML syntax: " + description);
    return false;
  }
}

bool Precheck(const SourceSet& sources, const std::string* file, Diagnostics* diags,
              std::vector<TomlHeader>* headers = nullptr) {
  auto bad = PrecheckToml(sources.Text(file), headers);
  if (bad) diags->Error(SourceLoc{file, bad->line, bad->column}, "TOML syntax: " + bad->message);
  return !bad;
}

// One reading of the spec in `file`: parsed whole, or with `split` its resources a piece at a
// time. The spec, or nothing and the errors in result->diags; `whole` when the pieces could
// not tell what the whole means, and it must be read whole.
std::unique_ptr<Spec> ReadSpec(const std::string& path, const std::string* file, const TomlSplit* split,
                               const LoadOptions& options, const Registry& registry, LoadResult* result, bool* whole) {
  auto spec = std::make_unique<Spec>();
  spec->sources = result->sources;
  spec->options = options;
  spec->path = path;
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  spec->dir = dir.empty() ? "." : dir.string();

  std::string_view text = result->sources->Text(file);
  Sha256 hash;
  hash.Update(text);
  toml::table root;
  if (!ParseToml(file, split ? text.substr(0, split->head_end) : text, &result->diags, &root)) return nullptr;
  // A resource among the settings (root-level dotted keys, an inline table) may meet its
  // tables in the pieces in ways only the whole document tells.
  if (split && std::any_of(root.begin(), root.end(), [](const auto& kv) { return !IsSetting(kv.first.str()); })) {
    *whole = true;
    return nullptr;
  }

  // It names the overlay's file and the journal's: a name, never a path.
  if (!options.env.empty() && !ValidName(options.env)) {
    result->diags.Error(SourceLoc{}, "--env '" + options.env +
                                         "' may hold letters, digits, '-' and '_' only (it names the overlay file "
                                         "SPEC.ENV.toml and the journal)");
    return nullptr;
  }
  if (!options.env.empty()) {
    std::filesystem::path p(path);
    std::string overlay = (p.parent_path() / (p.stem().string() + "." + options.env + ".toml")).string();
    std::string overlay_text;
    if (!ReadFile(overlay, &overlay_text)) {
      result->diags.Error(SourceLoc{}, "--env " + options.env + " needs the overlay file '" + overlay +
                                           "', which cannot be read: " + ErrnoText(errno));
      return nullptr;
    }
    hash.Update(std::string_view("\0overlay\0", 9));
    hash.Update(overlay_text);
    const std::string* over_file = result->sources->Add(overlay, std::move(overlay_text));
    toml::table over_table;
    if (!Precheck(*result->sources, over_file, &result->diags) ||
        !ParseToml(over_file, result->sources->Text(over_file), &result->diags, &over_table))
      return nullptr;
    Merge(root, over_table);
  }
  for (const auto& [k, v] : options.vars) {
    hash.Update(std::string_view("\0var\0", 5));
    hash.Update(k + "=" + v);
  }
  spec->sha256 = hash.HexDigest();

  Loader loader(registry, result->sources.get(), &result->diags, spec.get(), options);
  SpecPieces pieces{text, file, split};
  loader.Load(root, split ? &pieces : nullptr);
  *whole = split && loader.repeated_address();
  if (!result->diags.empty()) return nullptr;
  IndexSensitive(spec.get());
  return spec;
}

LoadResult LoadTexts(const std::string& path, std::string text, const LoadOptions& options, const Registry& registry) {
  LoadResult result;
  const std::string* file = result.sources->Add(path, std::move(text));
  // A spec too large to hold as a TOML tree beside what it becomes is read in pieces. An
  // overlay merges into the whole tree: a spec with one is parsed whole.
  bool large = options.env.empty() && result.sources->Text(file).size() > options.piece_bytes;
  std::vector<TomlHeader> headers;
  if (!Precheck(*result.sources, file, &result.diags, large ? &headers : nullptr)) return result;
  std::optional<TomlSplit> split;
  if (large) split = SplitToml(result.sources->Text(file), headers, options.piece_bytes, kTopLevelKeys);
  std::vector<TomlHeader>().swap(headers);

  bool whole = false;
  result.spec = ReadSpec(path, file, split ? &*split : nullptr, options, registry, &result, &whole);
  if (split && (!result.spec || whole)) {
    // Read again whole, as TOML reads it: for its own account of any error, and for a
    // resource whose tables stand apart in the text (valid TOML, or a table written twice).
    result.spec.reset();
    result.diags = Diagnostics{};
    result.spec = ReadSpec(path, file, nullptr, options, registry, &result, &whole);
  } else if (split) {
    result.parses = 1 + split->pieces.size();
  }
  result.diags.SortByLocation();
  return result;
}

}  // namespace

LoadResult LoadSpec(const std::string& path, const LoadOptions& options, const Registry& registry) {
  std::string text;
  if (!ReadFile(path, &text)) {
    LoadResult result;
    result.diags.Error(SourceLoc{}, "cannot read spec '" + path + "': " + ErrnoText(errno));
    return result;
  }
  return LoadTexts(path, std::move(text), options, registry);
}

LoadResult LoadSpecText(const std::string& path, std::string text, const LoadOptions& options,
                        const Registry& registry) {
  return LoadTexts(path, std::move(text), options, registry);
}

std::optional<std::size_t> Spec::FindStage(const std::string& name) const {
  auto it = stage_index.find(name);
  if (it == stage_index.end()) return std::nullopt;
  return it->second;
}

std::string SizeText(std::size_t bytes) {
  if (bytes >= (1 << 20) && bytes % (1 << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= (1 << 10) && bytes % (1 << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

const Resource* Spec::Find(std::string_view address) const {
  auto i = Index(address);
  return i ? &resources[*i] : nullptr;
}

namespace {
std::uint64_t AddressHash(std::string_view address) { return std::hash<std::string_view>{}(address); }
}  // namespace

bool AddressIndex::Build(const std::vector<Resource>& resources) {
  std::size_t size = 16;
  while (size < 2 * resources.size()) size *= 2;
  slots_.assign(size, Slot{});
  bool distinct = true;
  for (std::size_t i = 0; i < resources.size(); ++i) {
    if (Find(resources, resources[i].address)) {
      distinct = false;
      continue;  // the first of a name, as a map's emplace
    }
    std::uint64_t h = AddressHash(resources[i].address);
    std::size_t at = h & (size - 1);
    while (slots_[at].index_plus_one) at = (at + 1) & (size - 1);
    slots_[at] = Slot{static_cast<std::uint32_t>(i + 1), static_cast<std::uint32_t>(h >> 32)};
  }
  return distinct;
}

std::optional<std::size_t> AddressIndex::Find(const std::vector<Resource>& resources, std::string_view address) const {
  if (slots_.empty()) return std::nullopt;
  std::uint64_t h = AddressHash(address);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t at = h & mask; slots_[at].index_plus_one; at = (at + 1) & mask) {
    const Slot& s = slots_[at];
    if (s.hash == static_cast<std::uint32_t>(h >> 32) && resources[s.index_plus_one - 1].address == address)
      return s.index_plus_one - 1;
  }
  return std::nullopt;
}

std::vector<std::string> Spec::StageNames() const {
  std::vector<std::string> out;
  for (const StageSpec& s : stages) out.push_back(s.name);
  return out;
}

bool Resource::IsOnce() const {
  if (!schema->one_shot) return false;
  if (schema->run_attr.empty()) return true;
  auto it = attrs.find(schema->run_attr);
  const std::string* run = it == attrs.end() ? nullptr : AsString(it->second.value);
  return !run || *run != "converge";
}

const Overlay* Resource::OverlayAt(std::size_t s) const {
  for (const Overlay& o : overlays)
    if (o.stage == s) return &o;
  return nullptr;
}

}  // namespace reconcile
