#!/usr/bin/env bash
# [notify]: apply and rollback post their milestones to a webhook, here a real HTTP server on
# loopback (tests/testdata/notify/webhook_server.py) that records every request. Slack bodies
# are {"text": …}, json bodies the --json event objects; only the events asked for are sent; a
# check failing for longer than check_failing_after is said once; a failed step sends
# stage_failed. A receiver that answers 500, hangs or is not there changes neither the run's
# exit status nor (by more than the few seconds given to drain) its time, and is said once. The
# URL, a secret, never shows: not on stdout or stderr, in the journal or in a message.
bin=$1
src=$2
. "$src/tests/lib.sh" notify
cd "$work"

servers=()
trap 'for p in "${servers[@]}"; do kill "$p" 2>/dev/null; done; [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
# start_server MODE: a receiver answering as MODE says (ok, fail, hang); sets $port and $log.
start_server() {
  log=$work/requests.$1
  rm -f "$work/port.$1" "$log"
  python3 "$testdata_dir/webhook_server.py" "$work/port.$1" "$log" "$1" &
  servers+=($!)
  for _ in $(seq 100); do [ -s "$work/port.$1" ] && break; sleep 0.05; done
  port=$(cat "$work/port.$1")
  touch "$log"
}
# A port nothing listens on: the kernel's pick, closed again.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }
# bodies LOG: every message's body, one a line.
bodies() { python3 -c 'import json, sys; [print(json.loads(l)["body"]) for l in open(sys.argv[1])]' "$1"; }
# texts LOG: the "text" of every message, one a line.
texts() { python3 -c 'import json, sys; [print(json.loads(json.loads(l)["body"])["text"]) for l in open(sys.argv[1])]' "$1"; }
# no_token WHAT FILES...: the webhook's token is in none of FILES.
no_token() {
  local what=$1
  shift
  local f
  for f in "$@"; do [ -e "$f" ] || bad "no $f to look for the token in"; done
  if grep -rqF -- "$token" "$@"; then bad "the webhook's token shows in $what: $(grep -rlF -- "$token" "$@")"; else ok; fi
}
warnings() { grep -c "^reconcile: warning: the webhook" "$1"; }

token="T0KEN-$$-s3cr3t"
for spec in basic json failing check confirm literal bad no_webhook; do testdata "$spec" >"$spec.toml"; done

# Slack format, the default events: stage_started is not among them.
start_server ok
export NOTIFY_WEBHOOK="http://127.0.0.1:$port/services/T0/B0/$token"
"$bin" apply basic.toml --yes >out 2>err && ok || bad "apply with a webhook: $(cat err)"
texts "$log" >texts || bad "a body is not JSON with \"text\": $(cat "$log")"
user="$(id -un)@$(hostname)"
expected="*notify-basic*: apply started (through stage two) by $user
*notify-basic*: stage one complete in ?
*notify-basic*: stage two complete in ?
*notify-basic*: apply complete through stage two: 2 created, in ?"
[ "$(sed 's/ in [0-9]*m\?s$/ in ?/' texts)" = "$expected" ] && ok || bad "the slack messages: $(cat texts)"
python3 - "$log" "$token" <<'PY' && ok || bad "the requests: $(cat "$log")"
import json, sys
requests = [json.loads(line) for line in open(sys.argv[1])]
for r in requests:
    assert r["method"] == "POST" and r["path"] == "/services/T0/B0/" + sys.argv[2], r
    assert r["headers"]["Content-Type"] == "application/json", r["headers"]
    assert list(json.loads(r["body"])) == ["text"], r["body"]
PY
"$bin" rollback basic.toml --to one --yes >>out 2>>err && ok || bad "rollback with a webhook: $(cat err)"
texts "$log" | tail -n 2 | sed 's/ in [0-9]*m\?s$/ in ?/' >texts
[ "$(cat texts)" = "*notify-basic*: rollback to one started by $user
*notify-basic*: rollback to one complete: 1 deleted, in ?" ] && ok || bad "the rollback's messages: $(cat texts)"
[ "$(warnings err)" = 0 ] && ok || bad "a warning with a receiver that answers: $(cat err)"
no_token "stdout, stderr, the journal or a message" out err .reconcile
bodies "$log" >bodies
no_token "a message" bodies

# json format: the --json objects, and only the events listed.
"$bin" apply json.toml --yes >out 2>err && ok || bad "apply with format = json: $(cat err)"
python3 - "$log" <<'PY' && ok || bad "the json messages: $(tail -n 3 "$log")"
import json, sys
bodies = [json.loads(json.loads(line)["body"]) for line in open(sys.argv[1])]
bodies = [b for b in bodies if b.get("spec_name") == "notify-json"]
assert [(b["notify"], b["event"]) for b in bodies] == [
    ("stage_started", "stage_started"), ("stage_complete", "stage_finished"),
    ("stage_started", "stage_started"), ("stage_complete", "stage_finished"),
    ("apply_complete", "run_finished")], bodies
assert all(list(b)[:2] == ["event", "time"] for b in bodies), bodies
assert bodies[0]["stage"] == "one" and bodies[0]["steps"] == 1 and bodies[0]["text"] == "*notify-json*: stage one started: 1 step", bodies[0]
assert bodies[1]["complete"] is True and bodies[1]["failed"] == 0, bodies[1]
end = bodies[-1]
assert end["op"] == "apply" and end["result"] == "ok" and end["counts"]["created"] == 2, end
PY

# A failed step: stage_failed with its first line, then apply_failed; the exit status is the run's.
"$bin" apply failing.toml --yes >out 2>err
[ $? -eq 1 ] && ok || bad "a failing apply exits 1: $(cat err)"
texts "$log" | sed -n '/notify-failing/,$p' | sed 's/ in [0-9]*m\?s)$/ in ?)/' >texts
[ "$(cat texts)" = "*notify-failing*: apply started (through stage one) by $user
*notify-failing*: stage one FAILED: command.breaks: \`apply\` exited 3 on local:
first line
second line
*notify-failing*: apply FAILED: stage 'one' failed (done before it stopped: 1 failed, in ?)" ] && ok ||
  bad "the failure's messages: $(cat texts)"

# A check not holding for longer than check_failing_after: said once, though it goes on failing.
"$bin" apply check.toml --yes >out 2>err && ok || bad "apply with a slow check: $(cat err)"
texts "$log" | grep notify-check >texts
[ "$(grep -c 'not holding' texts)" = 1 ] && ok || bad "check_failing once: $(cat texts)"
grep -qx '\*notify-check\*: check.ready not holding for [12]s: exit 1: not ready yet (try [23])' texts && ok ||
  bad "check_failing's message: $(cat texts)"
grep -q "stage one complete" texts && ok || bad "the check held in the end: $(cat texts)"

# confirm_waiting, sent before the prompt (on a terminal; answered no, so the run stops there).
if command -v script >/dev/null; then
  (sleep 1; printf 'yes\n'; sleep 2; printf 'n\n'; sleep 1) |
    TERM=dumb script -qefc "$(printf '%q ' "$bin" apply confirm.toml)" /dev/null >tty.out
  texts "$log" | grep notify-confirm >texts
  grep -qx "\*notify-confirm\*: waiting for confirmation to start stage two: DNS moves" texts && ok ||
    bad "confirm_waiting: $(cat texts) / $(cat -v tty.out)"
  grep -q "notify-confirm\*: apply stopped: stage 'two' asks for confirmation (DNS moves); not confirmed" texts && ok ||
    bad "the stop after no: $(cat texts)"
else
  bad "util-linux script is not installed (tests/install-deps.sh)"
fi
kill "${servers[0]}"

# A receiver that answers 500: one warning, naming it by scheme and host only; exit 0.
start_server fail
testdata literal "$port" >literal.toml
"$bin" apply literal.toml --yes >out 2>err && ok || bad "apply with a failing webhook exits 0: $(cat err)"
[ "$(warnings err)" = 1 ] && ok || bad "one warning for a failing webhook: $(cat err)"
grep -qxF "reconcile: warning: the webhook (http://127.0.0.1:$port) failed: HTTP 500; the cutover goes on without it; later failures are not said" err &&
  ok || bad "the warning's words: $(cat err)"
[ "$(wc -l <"$log")" -ge 3 ] && ok || bad "later messages were still sent: $(cat "$log")"
no_token "the output of a literal webhook" out err .reconcile
[ -e lit_b ] && ok || bad "the cutover went on"

# A receiver that never answers: the run waits at most a few seconds for it at the end.
t0=$(now_ms)
NOTIFY_WEBHOOK= "$bin" apply basic.toml --yes >/dev/null 2>err
base=$(($(now_ms) - t0))
grep -q "warning: the webhook (env:NOTIFY_WEBHOOK) does not hold an https:// or http:// URL; the run goes on without it" err &&
  ok || bad "an empty webhook variable is said: $(cat err)"
"$bin" rollback basic.toml --to one --yes >/dev/null 2>&1
start_server hang
export NOTIFY_WEBHOOK="http://127.0.0.1:$port/services/T0/B0/$token"
t0=$(now_ms)
"$bin" apply basic.toml --yes >out 2>err && ok || bad "apply with a hanging webhook exits 0: $(cat err)"
took=$(($(now_ms) - t0))
[ $((took - base)) -le 4000 ] && ok || bad "a hanging webhook slowed apply by $((took - base)) ms (of $took)"
[ "$(warnings err)" = 1 ] && ok || bad "one warning for a hanging webhook: $(cat err)"
grep -qE "^reconcile: warning: the webhook \(http://127.0.0.1:$port\) failed: no answer before the run ended; [0-9]+ messages not sent; later failures are not said$" err &&
  ok || bad "the hanging webhook's warning: $(cat err)"
no_token "the output with a hanging webhook" out err .reconcile
"$bin" rollback basic.toml --to one --yes >/dev/null 2>&1

# Nothing listening: refused, said once, exit 0.
port=$(free_port)
export NOTIFY_WEBHOOK="http://127.0.0.1:$port/services/T0/B0/$token"
"$bin" apply basic.toml --yes >out 2>err && ok || bad "apply with no receiver exits 0: $(cat err)"
[ "$(warnings err)" = 1 ] && ok || bad "one warning with no receiver: $(cat err)"
grep -qxF "reconcile: warning: the webhook (http://127.0.0.1:$port) failed: connection refused; the cutover goes on without it; later failures are not said" err &&
  ok || bad "the refusal's warning: $(cat err)"
no_token "the output with no receiver" out err .reconcile

# An unset variable: said, and the run goes on.
unset NOTIFY_WEBHOOK
"$bin" rollback basic.toml --to one --yes >out 2>err && ok || bad "rollback without the variable exits 0: $(cat err)"
grep -qxF "reconcile: warning: the webhook (env:NOTIFY_WEBHOOK) cannot be read: the environment variable NOTIFY_WEBHOOK is not set (export it, or use file:PATH); the run goes on without it" err &&
  ok || bad "an unset webhook variable is said: $(cat err)"

# Bad values: each at its file:line:col, with the fix; the URL's line is never shown.
"$bin" validate bad.toml >out 2>err
[ $? -eq 1 ] && ok || bad "validate refuses a bad [notify]"
for want in \
  "bad.toml:6:11: error: 'webhook' of [notify] must be an https:// (or http://) URL, or env:NAME or file:PATH holding one" \
  "  write webhook = \"env:SLACK_WEBHOOK\" and export the URL there: it is a secret" \
  "bad.toml:7:10: error: 'format' of [notify] must be \"slack\" (Slack and Mattermost incoming webhooks) or \"json\" (the --json event objects), not \"slak\", did you mean 'slack'?" \
  "bad.toml:8:11: error: unknown event 'stage_fail' in 'events' of [notify], did you mean 'stage_failed'?" \
  "bad.toml:9:23: error: 'check_failing_after' of [notify] must be a duration such as \"30s\", \"10m\" or \"1h30m\", not \"2 minutes\"" \
  "bad.toml:10:1: error: unknown key 'webhok' in [notify], did you mean 'webhook'?"; do
  grep -qxF -- "$want" err && ok || bad "validate says: $want
$(cat err)"
done
no_token "validate's errors" out err
"$bin" validate no_webhook.toml >out 2>err
[ $? -eq 1 ] && ok || bad "validate refuses [notify] without a webhook"
grep -qxF "no_webhook.toml:5:1: error: [notify] has no 'webhook'" err && ok || bad "no webhook: $(cat err)"

finish
