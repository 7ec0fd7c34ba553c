#!/usr/bin/env bash
# The bash completion (contrib/completion/reconcile.bash) as bash runs it: sourced into a plain
# bash, COMP_WORDS and COMP_CWORD set for a line, _reconcile called, COMPREPLY compared. It
# offers what the binary's help lists, the stage names of the spec on the line, and spec files.
# Usage: completion_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")  # the completions run in $src
src=$2
. "$src/tests/lib.sh" completion
script=$src/contrib/completion/reconcile.bash

# completions WORD...: what completing the last WORD offers, sorted, on one line. Run in a
# bash of its own, in $src, as an interactive shell would (no -e or -u there).
completions() {
  (cd "$src" && bash --norc --noprofile -c '
    source "$1"
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    _reconcile
    printf "%s\n" "${COMPREPLY[@]}"' _ "$script" "$@") | sort | tr '\n' ' ' | sed 's/ $//'
}
expect() { # expect WANT WORD...
  local want=$1 got
  shift
  got=$(completions "$@")
  if [ "$got" = "$want" ]; then ok; else bad "completing '$*': got '$got', wanted '$want'"; fi
}
sorted() { tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//'; }

# Subcommands and flags are the help's own.
subcommands=$("$bin" --help | awk '/^[A-Za-z][A-Za-z ]*:$/ { in_subs = (tolower($0) == "subcommands:"); next }
  in_subs && /^  [^ ]/ { print $1 }' | sorted)
[[ " $subcommands " == *" apply "* && " $subcommands " == *" rollback "* ]] && ok ||
  bad "the help's subcommands are not read: '$subcommands'"
expect "$subcommands" "$bin" ""
expect "apply" "$bin" ap
expect "--help --version" "$bin" --
apply_flags=$("$bin" apply --help | awk '/^  -/ { print $1 }' | tr ',' ' ' | sorted)
[[ " $apply_flags " == *" --through "* && " $apply_flags " == *" --yes "* ]] && ok ||
  bad "apply's flags are not read: '$apply_flags'"
expect "$apply_flags" "$bin" apply examples/local-files.toml -
expect "--allow-irreversible" "$bin" apply --all
expect "--markdown" "$bin" schema --m

# Stage names of the spec on the line, in every way it can be written.
expect "cleanup prepare switch" "$bin" apply examples/local-files.toml --through ""
expect "switch" "$bin" apply examples/local-files.toml --yes --through sw
expect "" "$bin" apply --through ""  # no spec on the line yet
expect "cleanup prepare switch" "$bin" apply --var root=/tmp --yes examples/local-files.toml --through ""
expect "cleanup prepare switch" "$bin" apply --var root = /tmp examples/local-files.toml --through = ""
expect "cleanup prepare switch" "$bin" apply examples/local-files.toml --through =
expect "cutover day2 media switch ttl" "$bin" rollback specs/clearmyrecord-launch.toml --env lab --to ""
expect "day2 freeze prepare switch" "$bin" plan examples/site-move.toml --stage ""
expect "day2 freeze prepare switch" "$bin" check examples/site-move.toml --stage ""

# A spec's stages over several lines, with comments, quotes of both kinds, and a [table]
# after them whose keys must not be taken for stages; and an --env overlay that lists its own.
mkdir -p "$work/specs/sub"
cat >"$work/specs/cut.toml" <<'TOML'
# stages = ["not", "these"]
version = 1
name = "cut"
stages = [
  "first",   # the "quoted" comment
  'second',
  "third-one", # ]
]
[stage.second]
stages = ["nope"]
TOML
cat >"$work/specs/cut.alt.toml" <<'TOML'
stages = ["alpha", "beta"]
TOML
: >"$work/specs/saved.json"
: >"$work/specs/notes.txt"
expect "first second third-one" "$bin" apply "$work/specs/cut.toml" --through ""
expect "alpha beta" "$bin" apply "$work/specs/cut.toml" --env alt --through ""
expect "alt" "$bin" plan "$work/specs/cut.toml" --env ""

# Option values: a --format's choices, files for --out.
expect "html json markdown text" "$bin" plan examples/local-files.toml --format ""
expect "$work/specs/saved.json" "$bin" plan examples/local-files.toml --out "$work/specs/sa"

# The spec argument: TOML specs and folders; saved plans too where apply takes one.
expect "$work/specs/cut.alt.toml $work/specs/cut.toml $work/specs/sub" "$bin" plan "$work/specs/"
expect "$work/specs/cut.alt.toml $work/specs/cut.toml $work/specs/saved.json $work/specs/sub" \
  "$bin" apply "$work/specs/"
expect "" "$bin" plan examples/local-files.toml ""

# A saved plan names its spec: --through completes to that spec's stages.
(cd "$src" && "$bin" plan examples/local-files.toml --var root="$work/root" --out "$work/plan.json") >/dev/null \
  2>"$work/err" && ok || bad "plan --out: $(cat "$work/err")"
expect "cleanup prepare switch" "$bin" apply "$work/plan.json" --through ""
finish
