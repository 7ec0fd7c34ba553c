#!/usr/bin/env bash
# What the operator sees on a real terminal (a pseudo-terminal, through util-linux `script`):
# apply and rollback ask once, and only "yes" goes on; the live line is redrawn in place with the
# step's time and cleared before the summary; colour unless NO_COLOR; TERM=dumb and a log get a
# line per event; --json gives one JSON object a line on stderr.
bin=$1
src=$2
. "$src/tests/lib.sh" tty
cd "$work" || exit 1
testdata slow >slow.toml
command -v script >/dev/null || { bad "util-linux script is not installed (tests/install-deps.sh)"; finish; exit 1; }

# on_tty ANSWER OUT CMD...: CMD on a pseudo-terminal (TERM=xterm unless set), ANSWER typed once
# it has had time to ask; everything the terminal showed goes to OUT.
on_tty() {
  local answer=$1 out=$2
  shift 2
  local cmd
  printf -v cmd '%q ' "$@"
  (sleep 1; printf '%s\n' "$answer"; sleep 1) | TERM=${TERM_FOR_TEST:-xterm} script -qefc "$cmd" /dev/null >"$out"
}
has() { grep -qaF -- "$2" "$1"; }

# Only "yes" approves.
on_tty y out "$bin" apply slow.toml --through one
[ $? -eq 1 ] && ok || bad "'y' must not approve: $(cat -v out)"
has out "Apply these changes? Only 'yes' is accepted." && ok || bad "the question: $(cat -v out)"
has out "apply was not approved: only 'yes' approves, not 'y'; nothing was changed" && ok || bad "the refusal: $(cat -v out)"
[ ! -e slow ] && [ ! -e quick ] && ok || bad "nothing ran after 'y'"

on_tty yes out "$bin" apply slow.toml --through one && ok || bad "apply approved with yes: $(cat -v out)"
[ -e slow ] && [ -e quick ] && ok || bad "stage one ran after 'yes'"
# The live line: redrawn in place with the slow step's elapsed time, finished steps scrolled
# above it after clearing it, gone before the summary.
has out $'\r[1/2] one 1s: + command.slow 1s\e[K' && ok || bad "the live line counts the slow step's time: $(cat -v out)"
has out $'\r\e[K[2/2] \e[32m+\e[0m command.slow done (2s)' && ok || bad "the finished step, coloured, after a clear: $(cat -v out)"
has out $'\e[K\r\nApply complete through stage' || has out $'\r\e[KApply complete through stage' && ok ||
  bad "the live line is cleared before the summary: $(cat -v out)"
has out "command.slow ..." && bad "no start lines on a terminal: $(cat -v out)" || ok

# NO_COLOR: the same without colour; TERM=dumb: a line per event, nothing redrawn.
NO_COLOR=1 on_tty yes out "$bin" apply slow.toml && ok || bad "apply with NO_COLOR: $(cat -v out)"
has out $'\e[3' && bad "NO_COLOR still coloured: $(cat -v out)" || ok
has out $'\r[0/1] two 0s' && ok || bad "NO_COLOR keeps the live line: $(cat -v out)"
on_tty yes out "$bin" rollback slow.toml --to one </dev/null
has out "Roll slow back to the end of stage 'one'? Only 'yes' is accepted." && ok || bad "rollback asks: $(cat -v out)"
[ ! -e later ] && ok || bad "rollback to one removed stage two's file"
TERM_FOR_TEST=dumb on_tty yes out "$bin" apply slow.toml && ok || bad "apply on a dumb terminal: $(cat -v out)"
has out "[0/1] + command.later ..." && ok || bad "a dumb terminal gets a line per event: $(cat -v out)"
has out $'\e[K' && bad "a dumb terminal gets no escapes: $(cat -v out)" || ok

# A log: no terminal, --yes.
"$bin" rollback slow.toml --to one --yes >out 2>err && ok || bad "rollback --yes: $(cat err)"
grep -q $'\r' err && bad "a log gets no carriage returns: $(cat -v err)" || ok
grep -qx "\[1/1\] - command.later done ([0-9]*ms)" err && ok || bad "the log's finished line: $(cat err)"

# --json: every line on stderr is an event; the run's end has its counts.
"$bin" apply slow.toml --yes --json >out 2>err && ok || bad "apply --json: $(cat err)"
python3 - err <<'PY' && ok || bad "--json events: $(cat err)"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
kinds = [e["event"] for e in events]
assert kinds[0] == "run_started" and kinds[-1] == "run_finished", kinds
assert all(list(e)[:2] == ["event", "time"] for e in events), events[0]
done = [e for e in events if e["event"] == "step_finished"]
assert [(e["address"], e["action"], e["ok"]) for e in done] == [("command.later", "create", True)], done
end = events[-1]
assert end["result"] == "ok" and end["counts"]["created"] == 1 and end["stages"][0]["state"] == "complete", end
PY
grep -q "Apply complete through stage 'two'" out && ok || bad "the summary stays on stdout: $(cat out)"
"$bin" rollback slow.toml --to one --json </dev/null >out 2>err
[ $? -eq 1 ] && ok || bad "rollback --json without --yes and no terminal refuses"
python3 -c 'import json,sys; e=[json.loads(l) for l in open(sys.argv[1])]; assert e[-1]["event"]=="error" and "--yes" in e[-1]["message"], e' err &&
  ok || bad "the refusal is an error event: $(cat err)"

finish
