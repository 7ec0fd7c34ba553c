#!/usr/bin/env bash
# A local `command` dies with its reconcile: apply is SIGKILLed while the command runs (and a
# child it started waits); both are gone at once, what the command would have done next is
# never done, and the re-run, which probes again, does it exactly once.
# Usage: command_kill_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" command-kill
cd "$work" || exit 1

testdata kill >kill.toml

# Alive and not a zombie waiting for whoever inherited it to reap it.
alive() { case $(ps -o stat= -p "$1" 2>/dev/null) in "" | Z*) return 1 ;; *) return 0 ;; esac; }

"$bin" apply kill.toml --yes >out 2>err &
apply=$!
for _ in $(seq 100); do [ -s sleep.pid ] && break; sleep 0.05; done
if [ -s sh.pid ] && [ -s sleep.pid ]; then ok; else
  bad "the command started: $(cat err)"
  kill -KILL "$apply"
  finish
  exit 1
fi
kill -KILL "$apply"
wait "$apply" 2>/dev/null
sh_pid=$(cat sh.pid)
sleep_pid=$(cat sleep.pid)
for _ in $(seq 40); do alive "$sh_pid" || alive "$sleep_pid" || break; sleep 0.05; done
alive "$sh_pid" && bad "the command ($sh_pid) outlived its reconcile" || ok
alive "$sleep_pid" && bad "the command's child ($sleep_pid) outlived its reconcile" || ok
# Past the moment the command would have gone on: it did not.
sleep 3.5
[ ! -e marker ] && [ ! -e count ] && ok || bad "the killed command went on: $(cat count 2>/dev/null)"
for p in $sh_pid $sleep_pid; do alive "$p" && kill -KILL "$p"; done

touch fast
"$bin" apply kill.toml --yes >out 2>err && ok || bad "the re-run: $(cat err)"
[ -e marker ] && [ "$(cat count 2>/dev/null)" = ran ] && ok || bad "the command ran once in all: $(cat count 2>/dev/null)"
"$bin" plan kill.toml --detailed-exitcode >out 2>&1 && ok || bad "plan empty after: $(cat out)"

finish
