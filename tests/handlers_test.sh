#!/usr/bin/env bash
# Handlers through the binary, on local files and commands (Ansible's notify): a file that
# changes notifies a command, which runs once at the end of the stage's changes, however many
# notify it, and not at all when nothing changed; a rollback that puts the file back runs it
# again; a handler cut off before it ran is run by the next apply; bad notify is refused with
# file:line:col.
# Usage: handlers_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" handlers
root=$work/root
mkdir -p "$root"
cd "$work" || exit 1
run() { "$bin" "$@" --var root="$root" >out 2>err; }
reloads() { [ -f "$root/reloads" ] && wc -l <"$root/reloads" | tr -d ' ' || echo 0; }

testdata_verbatim site >site.toml

# 1. Two notifiers change in stage config: the handler runs once, after both; the plan says so.
run plan site.toml && ok || bad "plan: $(cat err)"
grep -q "+ command.reload" out && grep -q "notified: by file.upstream, file.vhost" out && ok ||
  bad "the plan shows the handler once, with what notifies it: $(cat out)"
[ "$(grep -c 'command.reload' out)" -ge 1 ] && ok || bad "plan lists the handler"
run apply site.toml --through config --yes && ok || bad "apply config: $(cat err)"
[ "$(reloads)" = 1 ] && ok || bad "one reload for two notifiers, got $(reloads)"
[ "$(cat "$root/reloads")" = "server old" ] && ok || bad "the reload ran after the vhost was written: $(cat "$root/reloads")"

# 2. Nothing changed: no reload, and the plan is empty.
run apply site.toml --through config --yes && grep -q "Nothing to do" out && ok || bad "apply again: $(cat out) $(cat err)"
[ "$(reloads)" = 1 ] && ok || bad "no reload when nothing notified, got $(reloads)"

# 3. Stage switch changes the vhost: one more reload, with the new content.
run apply site.toml --yes && ok || bad "apply switch: $(cat err)"
[ "$(reloads)" = 2 ] && [ "$(tail -1 "$root/reloads")" = "server new" ] && ok ||
  bad "the switch reloads once with the new vhost: $(cat "$root/reloads")"
run plan site.toml --detailed-exitcode && ok || bad "the plan after is empty: $(cat out)"

# 4. Rollback to config puts the vhost back and reloads, once, after it.
run rollback site.toml --to config --yes && ok || bad "rollback: $(cat err)"
grep -q "+ command.reload" out && ok || bad "the rollback plan shows the reload: $(cat out)"
[ "$(reloads)" = 3 ] && [ "$(tail -1 "$root/reloads")" = "server old" ] && ok ||
  bad "the rollback reloads after the vhost is back: $(cat "$root/reloads")"
run rollback site.toml --to config --yes && grep -q "Nothing to roll back" out && ok ||
  bad "a second rollback has nothing to do: $(cat out) $(cat err)"

# 5. A handler that fails leaves the stage incomplete; the next apply runs it though its
# notifier no longer changes.
rm -rf "$root"/* .reconcile
sed -i 's|apply = \["sh", "-c", "cat|apply = ["sh", "-c", "test ! -e ${vars.root}/broken \&\& cat|' site.toml
touch "$root/broken"
run apply site.toml --through config --yes; [ $? = 1 ] && grep -q "command.reload" err && ok ||
  bad "a failed reload fails the stage: $(cat err)"
rm "$root/broken"
run plan site.toml && grep -q "+ command.reload" out && grep -q "notified: by a change of an earlier run; it has not run since" out && ok ||
  bad "the reload is still due: $(cat out)"
run apply site.toml --through config --yes && [ "$(reloads)" = 1 ] && ok || bad "the due reload runs: $(cat err)"
run plan site.toml --stage config --detailed-exitcode && ok || bad "then nothing is due: $(cat out)"

# 6. Bad notify: an address the spec lacks, a resource that is state, a handler that notifies.
testdata_verbatim bad >bad.toml
run validate bad.toml; [ $? = 1 ] && ok || bad "bad notify is refused"
grep -q "bad.toml:8:11: error: 'notify' of file.a names 'command.relaod', which the spec does not declare, did you mean 'command.reload'?" err && ok ||
  bad "unknown handler: $(cat err)"
grep -q "bad.toml:8:29: error: 'notify' of file.a names file.b, a file, which is state, not a step that runs" err && ok ||
  bad "state as handler: $(cat err)"
grep -q "command.reload is notified by other resources, so it cannot notify in turn" err && ok ||
  bad "a handler that notifies: $(cat err)"

# 7. A handler runs at the end of its stage: after every change of it, not only its notifiers.
testdata_verbatim late >late.toml
run apply late.toml --yes && [ "$(cat "$root/late-reload")" = enabled ] && ok ||
  bad "late: the handler ran after every change of its stage: $(cat "$root/late-reload" 2>&1) $(cat err)"

finish
