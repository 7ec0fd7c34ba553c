#!/usr/bin/env bash
# A journal of its own for each --env: a rehearsal never marks production's stages complete,
# and a journal from before 0.2 (whole-second records, shared by runs with and without --env)
# stops apply and rollback under --env with how to move it, changing nothing.
# Usage: journal_env_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" journal_env
cd "$work" || exit 1
mkdir root
testdata site >site.toml
: >site.lab.toml
run() { "$bin" "$@" >out 2>err; }

run apply site.toml --env lab --yes && ok || bad "lab apply: $(cat err)"
[ -f .reconcile/site.lab.journal ] && [ ! -e .reconcile/site.journal ] && ok || bad "the lab run has its own journal: $(ls .reconcile)"
grep -q '"env":"lab"' .reconcile/site.lab.journal && ok || bad "begin records the run's --env"
grep -qE '"at":"[0-9-]+T[0-9:]+\.[0-9]{3}Z"' .reconcile/site.lab.journal && ok || bad "records carry milliseconds"
rm -f root/a root/b
run plan site.toml --detailed-exitcode
[ $? -eq 2 ] && grep -q "stage one" out && ok || bad "production still has every stage to do: $(cat out)"

# A journal as 0.1 wrote it: whole seconds, no env, shared by every --env.
rm -rf .reconcile root && mkdir root
run apply site.toml --through one --yes || bad "production apply: $(cat err)"
python3 - .reconcile/site.journal <<'PY' || bad "rewriting the journal as 0.1 wrote it"
import hashlib, json, re, sys
path = sys.argv[1]
lines = open(path).read().splitlines()
out = [lines[0]]
for line in lines[1:]:
    r = json.loads(line)
    r["at"] = re.sub(r"\.\d+Z$", "Z", r["at"])
    r["data"].pop("env", None)
    body = {"at": r["at"], "data": r["data"], "kind": r["kind"], "seq": r["seq"]}
    r["sum"] = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()[:16]
    out.append(json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
open(path, "w").write("\n".join(out) + "\n")
PY
run status site.toml && grep -q "complete  one" out && ok || bad "the rewritten journal reads: $(cat out err)"
before=$(sha256sum .reconcile/site.journal)
run apply site.toml --env lab --yes
[ $? -eq 1 ] && ok || bad "apply --env lab beside a 0.1 journal must stop"
grep -qF "site.journal holds runs from before 0.2, when runs with --env lab shared it with those without" err &&
  grep -qF "mv " err && ok || bad "the refusal says how to move it: $(cat err)"
move=$(grep -o "mv [^ ]* [^ ]*\.journal" err)
[ "$(sha256sum .reconcile/site.journal)" = "$before" ] && [ ! -e .reconcile/site.lab.journal ] && [ ! -e root/b ] && ok ||
  bad "nothing was changed by the refused apply"
run rollback site.toml --env lab --to one --yes
[ $? -eq 1 ] && grep -qF "holds runs from before 0.2" err && ok || bad "rollback --env lab is refused too: $(cat err)"
run plan site.toml --env lab
grep -qF "note: runs with --env lab keep their journal in" err && ok || bad "plan says it once: $(cat err)"
# Done as it says: those were lab runs.
[ -n "$move" ] && eval "$move" && ok || bad "the mv it names runs: '$move'"
run apply site.toml --env lab --yes && grep -q "Apply complete" out && ! grep -q "file.a" out && ok ||
  bad "after the move, the lab journal has stage one complete: $(cat out err)"
finish
