#!/usr/bin/env bash
# engine/ names no provider, and production code carries no test hook: no resource type, check kind or provider attribute appears as a
# string in its code (comments aside). What the engine must know of a type it reads from the
# schema (TypeSchema: variant_attr, shell_attr, poll_*_attr, …) and host settings providers
# declare (Provider::HostSettings). Words the engine owns that a type happens to share are
# allowed where they are the engine's: the action "check", the saved plan's "file" field, and
# the ${run} variable.
# Usage: engine_names_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" engine-names
types=$("$bin" schema) && [ -n "$types" ] && ok || bad "reconcile schema lists no types"
names="$types http tcp tls dns wait s3_manifest kind timeout interval duration wait_old_ttl ttl shell revert
  run revert_check manager service_manager supervisor_config systemd supervisor runit sudo_path"
found=$(cd "$src" && for w in $names; do
  grep -rn --include=*.cc --include=*.h "\"$w\"" engine | sed 's#//.*##' | grep "\"$w\"" | sed "s/^/$w: /"
done | grep -v '^check: ' |
  grep -v '^file: engine/plan/render_json.cc:.*{"file", std::filesystem::absolute(spec.path)' |
  grep -v '^file: engine/cli/apply.cc:.*spec\["file"\]' |
  grep -v '^run: engine/spec/\(desired\|loader\).cc:.*== "run"' |
  grep -v '^kind: engine/journal/')
if [ -z "$found" ]; then ok; else bad "engine/ names what belongs to providers:"; echo "$found" | sed 's/^/    /'; fi
# No test hook in production code: faults come from outside (tests/support/crash_after_record.cc).
hooks=$(cd "$src" && grep -rn --include=*.cc --include=*.h 'RECONCILE_CRASH\|getenv("RECONCILE_TEST' engine providers)
[ -z "$hooks" ] && ok || bad "a test hook in production code: $hooks"
# One way to talk HTTP: only the seam includes curl.
curl=$(cd "$src" && grep -rln --include=*.cc --include=*.h '#include <curl/' engine providers | grep -v '^providers/http/')
[ -z "$curl" ] && ok || bad "curl included outside providers/http: $curl"
# The engine core does not speak PostgreSQL: only its journal backend and the stubs that open
# libpq (targets of their own) do.
pq=$(cd "$src" && grep -rln --include=*.cc --include=*.h '#include <libpq' engine |
  grep -v '^engine/journal/pg_journal.cc$' | grep -v '^engine/libpq.cc$')
[ -z "$pq" ] && ok || bad "libpq included in the engine core: $pq"
# The test would see a name if there were one.
grep -q '"kind"' "$src/providers/check/check_provider.cc" && ok || bad "the pattern finds nothing even where it should"
finish
