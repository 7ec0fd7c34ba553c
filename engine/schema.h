// What a provider declares about each resource type it serves: the attributes a spec may
// set, their types, which are required, secret, identifying, or cannot be undone once
// changed. The spec loader validates against these; plans and docs are rendered from them.
#pragma once

#include <string>
#include <vector>

#include "engine/value.h"

namespace reconcile {

enum class AttrType {
  kBool,
  kInt,
  kString,
  kStringList,
  kArgv,       // a list of arguments, or one string when the resource sets shell = true
  kDuration,   // "90s", "10m", "1h"; kept as written, parsed by whoever waits
  kStringMap,  // a table of names to strings ({ NAME = "value" }), each value may be a secret
               // where secret_ok; held as a list of "NAME=value", sorted by name
};

const char* AttrTypeName(AttrType t);  // as an operator reads it: "a string", "a list of strings"

struct AttrSchema {
  std::string name;
  AttrType type = AttrType::kString;
  bool required = false;
  bool sensitive = false;           // always shown as (sensitive); never journaled in clear
  bool secret_ok = false;           // may be written as env:NAME or file:PATH, resolved only when needed
  bool secret_bytes = false;        // a file:PATH secret keeps every byte (a file's content); others
                                    // lose one trailing newline, as password files end with one
  bool identity = false;            // names the thing in the world; cannot change between stages
  bool setting = false;             // how to reach or handle it, not its state (the nginx command, a
                                    // supervisor config): never diffed, carried into every target,
                                    // rollback's included; cannot change between stages
  bool irreversible = false;        // a change to it cannot be undone
  bool unordered = false;           // a list compared as a set (DNS values, sources)
  bool scoped = false;              // a list of which the resource owns only the items it names at
                                    // some stage (a rule's CIDRs): the provider is handed them all
                                    // (Target::named), to read and change those and no others
  bool write_only = false;          // the world never tells it (a master password): its current value
                                    // is taken as what reconcile last wrote (the journal, sealed; the
                                    // spec's at that stage when not kept), and a change to one it
                                    // never wrote cannot be undone
  bool computed = false;            // read from the world, never written (a database's endpoint): the
                                    // probe reports it, a spec may not set it, no diff compares it;
                                    // others refer to it as ${TYPE.NAME.attr}, a value known in the
                                    // plan once the resource exists and only after apply before that
  std::vector<std::string> one_of;  // allowed values of a string, when it is an enumeration
  std::vector<std::string> kinds;   // for types with a variant_attr: the variants it belongs to
  std::string pattern;              // a regular expression a string must match, and
  std::string pattern_hint;         //   what to tell the operator when it does not
  std::string file_for;             // a local path whose file's text stands for this attribute
  bool names_host = false;          // "HOST:…": HOST must be "local" or a [host.NAME] (loader-checked);
                                    //   the target carries every host (Target::hosts)
  std::string names_provider;       // "postgres": the value, up to a ':', may name a [provider.postgres.X]
                                    //   (loader-checked), handed resolved in Target::providers. A key of
                                    //   a [provider.KIND.NAME] names one whole ("X" or "postgres.X"), which
                                    //   must exist; its resources' targets carry it the same way
  // For a value written into another program's language (an nginx directive, a zone-file
  // record): "" when a string (each item of a list) can be written there as it is, else what
  // is wrong with it and what is allowed. `resource` holds the resource's values at that
  // stage (a record's type, say). The loader runs it on the value as written (an integer as
  // its decimal text, for a range), and again on what references become; the provider
  // refuses it too, before it writes.
  std::string (*check)(const std::string& value, const AttrMap& resource) = nullptr;
  // The value taken when the spec leaves the attribute out, as if written ("" = none); docs
  // show it. Written as the attribute's text: "30", "true", "5m", a list's items separated by
  // spaces. Desired() fills it into a resource's attributes, ResolveProvider() into a
  // [provider.KIND.NAME]'s; a provider reads a [host.NAME] key's from its own HostSettings().
  std::string default_value;
  // When the spec leaves this attribute out: its value worked out from the resource's others
  // at that stage ("" = none), taken as if the spec had written it (a wait check's timeout
  // follows its duration). Desired() fills it in; when it gives a value, that value wins over
  // default_value.
  std::string (*default_from)(const AttrMap& resource) = nullptr;
  // What it means, for the operator: docs and `reconcile schema` show it. Last, so a schema
  // declaration reads as a table: a line of the attribute's traits, then its description.
  std::string doc;
};

struct TypeSchema {
  std::string name;  // "file", "dns_record"
  std::string doc;
  std::vector<AttrSchema> attrs;
  std::string provider_kind;  // "s3" → resources name a [provider.s3.X]; "" = none
  // Other kinds they may name instead ("aws": one account serves every AWS type); the
  // provider tells which one a resource names by ProviderConfig::kind.
  std::vector<std::string> also_provider_kinds;
  bool uses_host = false;               // resources take host = "local" or a [host.NAME]
  bool host_optional = false;           //   and may leave it out (checks: then from here)
  bool is_check = false;                // a probe with no action: planned as `?`
  bool delete_irreversible = false;     // deleting loses what cannot be put back
  bool one_shot = false;                // an event, not a state (a command, a snapshot): runs once,
                                        // in its stage; a `run` attribute of "converge" opts out
  bool probe_when_run = false;          // its state follows others' (a sync's source): when a step
                                        // it depends on ran in the same stage, it is probed again
  std::string cached_ttl_attr;          // "ttl": others may cache the old state this many seconds
                                        // after a change; later stages wait it out (ttl_wait.h)
  std::string cached_ttl_opt_out_attr;  // a bool that, false, lets later stages not wait it out

  // What the engine needs to know of some attributes, named here so it names none itself.
  std::string variant_attr;     // "kind": its value says which attributes apply (AttrSchema::kinds)
  std::string shell_attr;       // a bool that, true, lets argv attributes be one shell line
  std::string run_attr;         // of a one_shot type: its value "converge" makes a resource a state
  std::string undo_attr;        // of a one_shot type: what undoes it (without it, a rollback leaves
                                // it as it is and says so)
  std::string done_check_attr;  // of a one_shot type whose probe cannot tell by itself whether it
                                // ran: what can; without it, a step cut off is not re-run blindly
  std::string location_attr;    // where on its host it lives (a path): what lies inside a folder
  bool is_folder = false;       //   comes after the folder (and so is removed before it)
  // A check's polling: the duration attributes for how long to keep trying and how long
  // between tries; their defaults are the attributes' own (default_from, default_value).
  // Without a timeout a check is asked once.
  std::string poll_timeout_attr;
  std::string poll_interval_attr;
  // One line saying what a check looks at, for plans (sensitive attributes already left out).
  std::string (*summary)(const AttrMap& attrs) = nullptr;

  const AttrSchema* Find(const std::string& attr) const;
  // provider_kind, then also_provider_kinds; empty when it takes no provider.
  std::vector<std::string> ProviderKinds() const;
  bool TakesProviderKind(const std::string& kind) const;
  // "[provider.s3.NAME] or [provider.aws.NAME]", for messages and docs.
  std::string ProviderTables() const;
};

// The keys of a [provider.KIND.NAME] table.
struct ProviderKindSchema {
  std::string kind;
  std::string doc;
  std::vector<AttrSchema> attrs;
};

// `a`'s default_value as a value of its type (an integer, a bool, a list of its
// space-separated items), or none when it has none.
Value DefaultValue(const AttrSchema& a);

// `name` among `attrs`, or null.
const AttrSchema* FindAttr(const std::vector<AttrSchema>& attrs, const std::string& name);

// The defaults of what `attrs` lacks, filled in as if written: of a resource's attributes
// (Desired()), for each in schema order, default_from's value when it gives one, else
// default_value — never one of a variant other than the resource's (AttrSchema::kinds).
void FillDefaults(const TypeSchema& type, AttrMap* attrs);
// Of a [provider.KIND.NAME]'s keys (ResolveProvider()): their default_values.
void FillDefaults(const std::vector<AttrSchema>& schema, AttrMap* attrs);

}  // namespace reconcile
