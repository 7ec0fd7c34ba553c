// `reconcile schema --markdown`: every resource type, attribute and provider setting, read
// from the providers' own schemas — docs/spec.md is this command's output, and a test fails
// when the two differ, so the reference cannot drift from the code.
#include <iostream>
#include <sstream>

#include "engine/cli/commands.h"
#include "engine/spec/spec.h"

namespace reconcile {

namespace {

std::string Type(const AttrSchema& a) {
  switch (a.type) {
    case AttrType::kBool:
      return "bool";
    case AttrType::kInt:
      return "integer";
    case AttrType::kString:
      break;
    case AttrType::kStringList:
      return "list of strings";
    case AttrType::kArgv:
      return "argv list (or a shell line)";
    case AttrType::kStringMap:
      return "table of strings";
    case AttrType::kDuration:
      return "duration (\"30s\", \"10m\")";
  }
  if (a.one_of.empty()) return "string";
  std::string s = "one of ";
  for (std::size_t i = 0; i < a.one_of.size(); ++i) s += (i ? ", `" : "`") + a.one_of[i] + "`";
  return s;
}

std::string Notes(const AttrSchema& a) {
  std::vector<std::string> n;
  if (a.required) n.push_back("required");
  // As the spec would write it: "default `30`", "default `\"127.0.0.1\"`".
  if (Value d = DefaultValue(a); !IsNull(d)) n.push_back("default `" + FormatValue(d) + "`");
  if (a.identity) n.push_back("identity (fixed across stages)");
  if (a.setting) n.push_back("setting (not diffed)");
  if (a.secret_ok)
    n.push_back(a.secret_bytes ? "`env:`/`file:` secret (`file:` keeps every byte)" : "`env:`/`file:` secret");
  if (a.sensitive) n.push_back("shown as (sensitive)");
  if (a.unordered) n.push_back("compared as a set");
  if (a.irreversible) n.push_back("irreversible");
  if (a.computed) n.push_back("read from the world (not set; refer to it)");
  if (!a.kinds.empty()) {
    std::string k = "kinds:";
    for (const std::string& kind : a.kinds) k += " `" + kind + "`";
    n.push_back(k);
  }
  std::string s;
  for (const std::string& x : n) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// Table cells hold no pipes or line breaks.
std::string Cell(std::string s) {
  for (std::size_t i = 0; (i = s.find('|', i)) != std::string::npos; i += 2) s.replace(i, 1, "\\|");
  for (char& c : s)
    if (c == '\n') c = ' ';
  return s;
}

void Attrs(std::ostream& out, const std::vector<AttrSchema>& attrs) {
  out << "| attribute | type | | what it is |\n|---|---|---|---|\n";
  for (const AttrSchema& a : attrs)
    out << "| `" << a.name << "` | " << Cell(Type(a)) << " | " << Cell(Notes(a)) << " | " << Cell(a.doc) << " |\n";
}

}  // namespace

// How apply walks a spec, which no schema says: steps that happen once, planning as a stage
// begins, edges.
const char* kHowStagesRun = R"(## How stages run

**Each stage is planned as it begins.** `plan` shows every stage, predicting each from the one
before; `apply` plans each stage again from the world as that stage begins (so it sees what
earlier stages did, such as a command that removed a file this stage declares), says on stderr
what differs from the plan you reviewed, and holds the new steps to the same rules: an
irreversible one needs `--allow-irreversible`, a safety limit `--force`, and an apply of a saved
plan (`plan --out`) stops at a stage that now has a step the saved plan did not.

**Every edge holds.** A step runs after everything it is `after`, checks included (a resource
after a check starts once the check holds); a stage's checks wait for its changes. A `command`'s
`check` (like a sync's listing) is asked just before it runs, after what it follows.

**Steps that happen once.** Much of a runbook is an event, not a state: stop the workers, dump,
copy, restore, flip a flag. A `command` is such a step unless it says `run = "converge"`: it runs
once, in its stage (its `check`, if it has one, asked first: passing, it is skipped), is journaled
as done, and later stages neither re-check nor re-run it, so a plan after apply is empty. A
rollback past its stage runs its `revert`; one without a `revert` is shown up front as staying
(`= command.NAME  stays: …`) and the rollback goes on. Applying that stage again runs it again.
A one-shot step cut off mid-run that has no `check` is not run again blindly: apply stops and
asks for `--rerun ADDRESS` once you have found out it did not happen (`plan` and `status` say
so ahead). Its revert likewise: a rollback cut off while a revert ran stops before running it
again (`rollback --rerun ADDRESS`), and so does an apply run instead, before changing anything:
the step is then neither done nor undone, so it says to finish the rollback first. A rollback past
the stage of a step an apply was cut off in goes back from it too: its `revert` runs (write
reverts that may run on what half happened, such as `rm -f`), or the plan says it stays and may
have partly happened.

**Rollback goes back in reverse.** Apply runs stages one after another; a rollback undoes them
the other way: the revert of a one-shot step waits for what undoes later stages, and for the
reverts of the steps that follow it (`a → b → c` reverts `c` before `a`, even when `b` has no
revert), besides the order of the dependency graph.

**Values the world gives.** Some attributes are read, never set: an `rds_instance`'s `address`
and `port`. Other resources refer to them (`${rds_instance.db.address}`): once the instance
exists, the plan shows the value; before, it shows `(known after apply)` where the value goes
(`--json`: `"known_after_apply": true`). Apply works the value out when the step that takes it
runs, after what it refers to has run (the reference is an edge), and journals and hands over
only the value; if it is still not known then (the instance removed by hand), that step fails,
saying so, and nothing is written.

**Taken again under a new name.** A step of a stage that a rollback undid runs again when apply
passes that stage again. A snapshot or dump must then not land on (or be adopted from) the old
file, which lacks what was written since: write `${run}` in its name. `${run}` is 1 until a
rollback goes back before the resource's stage, then 2, and so on (rollbacks one after another
with no apply between, such as one resumed after a crash, count once); the plan shows the new name,
steps that refer to it (`${postgres_snapshot.before.path}`) follow, and the old file stays.
Refer to it so, not by writing `${run}` again in a later stage: each stage counts its own
rollbacks, and a rollback to a stage after the snapshot's keeps the snapshot but not the later
steps.

```toml
[postgres_snapshot.before]
stage = "freeze"
host = "db"
database = "shop"
path = "/var/backups/shop-${run}.dump"     # shop-1.dump; after a rollback past "freeze", shop-2.dump
```

```toml
stages = ["freeze", "migrate", "switch"]

[command.stop_workers]            # an event of "freeze": once
stage = "freeze"
host = "app"
apply = ["systemctl", "stop", "celery"]
revert = ["systemctl", "start", "celery"]

[command.rebuild_index]           # no revert: a rollback leaves it as it is, and says so
stage = "migrate"
host = "app"
after = ["command.stop_workers"]
apply = ["manage.py", "rebuild_index", "--noinput"]

[command.vhost_enabled]           # a state its check tells: made true in any stage where it is not
stage = "switch"
host = "web"
run = "converge"
check = ["test", "-L", "/etc/nginx/sites-enabled/shop"]
apply = ["ln", "-s", "/etc/nginx/sites-available/shop", "/etc/nginx/sites-enabled/shop"]
revert = ["rm", "/etc/nginx/sites-enabled/shop"]
```

**Handlers.** `notify = ["command.reload_nginx"]` on a resource (Ansible's handlers): a step
named in any `notify` runs only when notified — once, at the end of a stage (or a rollback) in
which any of its notifiers changed, after all of them; never when nothing that notifies it
changed. A rollback that puts a notifier back runs it again (the vhost restored, nginx
reloaded). A handler notified but not run (it failed, or the run was cut off between) is still
due: the next apply runs it, and the plan says `notified: by a change of an earlier run`. Its
`check`, if it has one, is asked after it ran, not before: a handler always runs when notified,
and one cut off mid-run runs again (so it must be safe to run twice, as a reload is).
`notify` names steps that run (a `command`); a handler does not notify in turn.

```toml
[file.vhost]
stage = "switch"
host = "web"
path = "/etc/nginx/sites-enabled/shop.conf"
source = "files/shop.conf"
notify = ["command.reload_nginx"]

[command.reload_nginx]
host = "web"
apply = ["nginx", "-s", "reload"]
```

**Stage options.** `[stage.NAME]` tables say how a stage runs:

| key | what it does |
|---|---|
| `confirm` | a sentence; apply asks before the stage starts (`--yes` answers) |
| `watch` | a duration: after the stage's steps and checks pass, its checks (and `watch_checks`) keep being asked for this long before it counts as complete (every 10 s, or a tenth of a shorter window); a check that stops holding and does not hold again within its own `timeout` fails the stage |
| `watch_checks` | checks of this stage or an earlier one, also asked while the stage is watched |
| `on_failure` | `"stop"` (the default) or `"rollback"`: when a step or a check of the stage fails, watched or not, roll back to the end of the stage before by itself (the same journaled rollback as `rollback --to`, shown, not asked), then exit 1 saying so. Also spec-wide, at the top of the spec; never for the first stage (nothing comes before it). An interrupt, a refusal (a safety limit, an irreversible step) or a journal error stops without rolling back |
| `downtime` | `"starts"` or `"ends"`: the stage where users lose the service and the one after which they have it back, for the downtime window of rehearsal timings |

A rollback that on_failure started and that cannot finish (someone changed a resource since, a
step fails) stops like any rollback and says what is left; `rollback --to` the stage it named
finishes it. An apply killed while a stage is watched watches it again when run again.

```toml
on_failure = "rollback"            # every stage after the first

[stage.switch]
watch = "15m"
watch_checks = ["check.db_reachable"]
```

)";

std::string SchemaMarkdown(const Registry& registry) {
  std::ostringstream out;
  out << "# Resource types and provider settings\n\n"
      << "<!-- Generated by `reconcile schema --markdown` from the providers' schemas. Do not edit: "
         "tests/spec_doc_test.sh fails when this file and the code disagree. -->\n\n"
      << "Every resource is a table `[TYPE.NAME]` and also takes `stage` (the stage it first acts in), "
         "`after` (addresses it waits for), `notify` (handlers to run once after it changed: see below), "
         "`ensure` (`\"present\"`/`\"absent\"`) and "
         "`[TYPE.NAME.at.STAGE]` tables that change its attributes from that stage on. Types that act on "
         "a machine take `host` (`\"local\"` or a `[host.NAME]`); types served by a provider take "
         "`provider` (a `[provider.KIND.NAME]`, implied when the spec has just one of that kind). Any "
         "string may refer to `${vars.NAME}` or another resource's `${TYPE.NAME.attr}` (which orders "
         "the two); `${run}` is the run of the resource's stage (1, then one more each time a rollback "
         "went back before that stage); `$${` writes a literal `${` (a shell line's `$${HOME}` reaches "
         "the shell as `${HOME}`).\n\n"
      << "An attribute marked `env:`/`file:` secret may be written `\"env:NAME\"` (from reconcile's "
         "environment) or `\"file:PATH\"` (relative to the spec): read only when needed, never shown, "
         "journaled only sealed. A `file:` secret loses one trailing newline (`\\n` or `\\r\\n`: password "
         "and key files end with one), except where it keeps every byte (a file's `content`, like "
         "`source`). In a table of strings (a command's `env`) each value may be a secret of its own.\n\n"
      << kHowStagesRun;
  for (const std::string& name : registry.TypeNames()) {
    const TypeSchema& t = *registry.FindType(name);
    out << "## `" << t.name << "`\n\n" << t.doc << "\n\n";
    std::vector<std::string> facts;
    if (t.uses_host) facts.push_back(t.host_optional ? "`host` optional" : "`host` required");
    if (!t.provider_kind.empty()) {
      std::string kinds;
      for (const std::string& kind : t.ProviderKinds())
        kinds += (kinds.empty() ? "" : " or ") + ("`[provider." + kind + ".NAME]`");
      facts.push_back("provider: " + kinds);
    }
    if (t.is_check) facts.push_back("a check: probed until it holds, never applied");
    if (t.delete_irreversible) facts.push_back("deleting it cannot be undone");
    if (!facts.empty()) {
      out << "- ";
      for (std::size_t i = 0; i < facts.size(); ++i) out << (i ? "; " : "") << facts[i];
      out << "\n\n";
    }
    Attrs(out, t.attrs);
    out << "\n";
  }
  out << "## `[host.NAME]`\n\nA machine reached over SSH, named by resources' `host`; `\"local\"` is this "
         "machine and needs no table. The host key is always verified.\n\n";
  std::vector<AttrSchema> host_keys = HostKeys();
  for (const AttrSchema& a : registry.HostSettings()) host_keys.push_back(a);
  Attrs(out, host_keys);
  out << "\n## `[hosts.NAME]`: host groups\n\n"
         "A fleet: `[hosts.web] addresses = [\"web1\", \"web2\"]` with any of the `[host.NAME]` keys above, "
         "which its members share (each address becomes a host of that name), or `hosts = [\"a\", \"b\"]` "
         "naming `[host.NAME]`s. A resource with `host = \"group:web\"` is one resource per member, "
         "addressed `TYPE.NAME[MEMBER]` (`service.django[web1]`): its own step in the plan, journal records "
         "and rollback. `after` and `notify` naming it name every member; between two resources of one group, "
         "each member names its own (a file on web1 notifies the reload on web1). Its values cannot be "
         "referred to (`${...}`): it has one per member.\n";
  out << "\n## `[notify]`\n\n"
         "Where a run's milestones are posted as they happen, for the people around a cutover: a Slack or "
         "Mattermost incoming webhook, or any receiver of JSON. Each message is one POST, sent from a "
         "thread of its own (3 s to connect, 5 s in all); at the end of a run the last ones get 3 s more. "
         "A receiver that fails, answers slowly or is not there is said once on stderr, by scheme and "
         "host only, and changes neither the run nor its exit status. Messages carry what the console "
         "shows (addresses, stage names, counts, providers' errors), never a value: `*launch*: stage switch "
         "FAILED: dns_record.www: …`, `*launch*: check.smoke not holding for 2m: HTTP 503 from …`, `*launch*: "
         "apply complete through stage cleanup: 3 created, 1 updated, in 4m2s`.\n\n";
  Attrs(out, NotifyKeys());
  out << "\n```toml\n[notify]\nwebhook = \"env:SLACK_WEBHOOK\"     # https://hooks.slack.com/services/…\n"
         "events = [\"apply_started\", \"stage_complete\", \"stage_failed\", \"confirm_waiting\", \"apply_complete\", "
         "\"apply_failed\"]\n```\n";
  out << "\n## Provider kinds\n\n";
  for (const std::string& kind : registry.KindNames()) {
    const ProviderKindSchema& k = *registry.FindKind(kind);
    out << "### `[provider." << k.kind << ".NAME]`\n\n" << k.doc << "\n\n";
    Attrs(out, k.attrs);
    out << "\n";
  }
  return out.str();
}

int RunSchema(const Registry& registry, bool markdown) {
  if (!markdown) {
    for (const std::string& name : registry.TypeNames()) std::cout << name << "\n";
    return 0;
  }
  std::cout << SchemaMarkdown(registry);
  return 0;
}

}  // namespace reconcile
