#!/usr/bin/env bash
# Through the reconcile binary: host_copy between two SSH hosts — the lab's sshd and a second
# sshd this test starts on another port (its own PID, stopped on exit) — and from this machine.
# A file and a folder arrive with content, mode, owner and mtime kept, their SHA-256 journaled;
# a second plan is empty; a copy over a different file is irreversible; a missing source is
# named; rollback leaves the copies (one-shot steps without a revert stay).
# Usage: host_copy_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" host-copy
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"

# The second host: the lab's keys, a port of its own.
port2=$((12400 + RANDOM % 500))
known2=$(test_sshd_conf "$work/sshd2.conf" 127.0.0.1 "$port2")
echo "PermitRootLogin prohibit-password" >>"$work/sshd2.conf"
/usr/sbin/sshd -D -e -f "$work/sshd2.conf" >"$work/sshd2.log" 2>&1 &
sshd2=$!
trap 'kill $sshd2 2>/dev/null; [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
cp "$SSH_KNOWN_HOSTS" "$work/known_hosts"
echo "$known2" >>"$work/known_hosts"
for _ in $(seq 100); do nc -z 127.0.0.1 "$port2" 2>/dev/null && break; sleep 0.05; done

mkdir -p "$work/old/media/thumbs" "$work/new" "$work/here"
head -c $((24 * 1024 * 1024 + 7)) /dev/urandom >"$work/old/app.dump"
chmod 0640 "$work/old/app.dump"
chown nobody:nogroup "$work/old/app.dump"
touch -d "2024-02-03 04:05:06" "$work/old/app.dump"
printf 'a\n' >"$work/old/media/a.txt"
printf 'secret\n' >"$work/old/media/thumbs/b.bin"
chmod 0600 "$work/old/media/thumbs/b.bin"
chmod 0750 "$work/old/media/thumbs"
ln -s a.txt "$work/old/media/link"
touch -d "2023-01-01 00:00:00" "$work/old/media/a.txt"
printf 'from here\n' >"$work/here/conf.txt"
printf 'old content\n' >"$work/new/conf.txt"

host() { # host NAME PORT
  printf '[host.%s]\naddress = "127.0.0.1"\nport = %s\nuser = "%s"\nidentity = "%s"\nknown_hosts = "%s"\n\n' \
    "$1" "$2" "$SSH_USER" "$SSH_IDENTITY" "$work/known_hosts"
}
{
  printf 'version = 1\nname = "copy"\nstages = ["prepare", "move"]\n\n'
  host old "$SSH_PORT"
  host new "$port2"
  cat <<SPEC
[file.marker]
stage = "prepare"
host = "local"
path = "$work/marker"
content = "x"

[host_copy.dump]
stage = "move"
source = "old:$work/old/app.dump"
target = "new:$work/new/app.dump"

[host_copy.media]
stage = "move"
source = "old:$work/old/media/"
target = "new:$work/new/media"

# Both ends on one host: two channels of one connection.
[host_copy.beside]
stage = "move"
source = "old:$work/old/app.dump"
target = "old:$work/old/app.dump.copy"
SPEC
} >"$work/copy.toml"
cd "$work" || exit 1

"$bin" plan copy.toml >out 2>err && ok || bad "plan: $(cat err)"
grep -q "+ host_copy.dump" out && grep -q "+ host_copy.media" out && ok || bad "plan creates both copies: $(cat out)"
sum=$(sha256sum <old/app.dump | cut -d' ' -f1)
grep -q "file, .*sha256 ${sum:0:12}" out && ok || bad "the plan names the file's size and checksum: $(cat out)"
grep -q "folder, 2 files" out && ok || bad "the plan counts the folder's files: $(cat out)"
grep -q "0 irreversible" out && ok || bad "copies to new names can be undone: $(cat out)"

"$bin" apply copy.toml --yes >out 2>err && ok || bad "apply: $(cat err)"
cmp -s old/app.dump new/app.dump && ok || bad "the dump arrived whole"
cmp -s old/app.dump old/app.dump.copy && ok || bad "the copy on the same host is whole"
[ "$(stat -c '%a %U %G %Y' new/app.dump)" = "$(stat -c '%a %U %G %Y' old/app.dump)" ] && ok ||
  bad "mode, owner and mtime kept: $(stat -c '%a %U %G %Y' old/app.dump new/app.dump)"
diff -r old/media new/media >/dev/null && ok || bad "the folder arrived whole: $(diff -r old/media new/media)"
[ "$(stat -c %a new/media/thumbs new/media/thumbs/b.bin)" = "$(printf '750\n600')" ] && ok || bad "modes inside the folder kept"
[ "$(readlink new/media/link)" = a.txt ] && ok || bad "a symbolic link stays one"
[ "$(stat -c %Y new/media/a.txt)" = "$(stat -c %Y old/media/a.txt)" ] && ok || bad "mtime inside the folder kept"
ls -a new | grep -q reconcile && bad "temporary names left beside the targets: $(ls -a new)" || ok
grep -q "\"source_sha256\":\"$sum\"" .reconcile/*.journal && ok || bad "the checksum is journaled"
"$bin" plan copy.toml >out 2>err && ok || bad "plan after apply: $(cat err)"
grep -q "host_copy" out && bad "plan is not empty after apply: $(cat out)" || ok

# A copy is a one-shot step: done, it is not checked or run again by later plans.
printf 'b\n' >new/media/a.txt
"$bin" plan copy.toml >out 2>err && ok || bad "plan after a change: $(cat err)"
grep -q "host_copy" out && bad "a copy done was planned again: $(cat out)" || ok

# Rollback past the copies: without a `revert` a one-shot step stays, said up front. (The
# provider can remove a target it created, but the engine's rollback does not ask it to for
# one-shot steps yet.)
"$bin" rollback copy.toml --to prepare --yes >out 2>err && ok || bad "rollback: $(cat err) $(cat out)"
grep -q "host_copy.dump.*stays" out && ok || bad "the copy is said to stay: $(cat out)"
[ -e new/app.dump ] && [ -e old/app.dump.copy ] && ok || bad "the copies stay: $(ls -a new)"
[ -e old/app.dump ] && [ -d old/media ] && [ -e marker ] && ok || bad "the sources and the earlier stage are untouched"

# From this machine to a host, over an existing file that differs; and a missing source.
testdata copy >>copy.toml
"$bin" plan copy.toml >out 2>err && ok || bad "plan with an existing target: $(cat err)"
grep -q "new/conf.txt exists and holds something else" out && ok || bad "overwriting is irreversible: $(cat out)"
testdata copy-2 >>copy.toml
"$bin" apply copy.toml --yes --allow-irreversible >out 2>err && bad "a copy of a missing source succeeded" || ok
grep -q "the source old:$work/old/none does not exist" err && ok || bad "the missing source is named: $(cat err)"
sed -i '/^\[host_copy.missing\]/,$d' copy.toml
"$bin" apply copy.toml --yes --allow-irreversible >out 2>err && ok || bad "apply from local: $(cat err)"
[ "$(cat new/conf.txt)" = "from here" ] && ok || bad "the local file arrived"
"$bin" rollback copy.toml --to prepare --yes >out 2>err && ok || bad "rollback: $(cat err)"
[ "$(cat new/conf.txt)" = "from here" ] && ok || bad "the replaced file's copy stays"

# Spec errors: an unknown host, and a relative path.
sed -e 's|target = "new:\(.*\)/new/conf.txt"|target = "nwe:\1/new/conf.txt"|' copy.toml >bad.toml
"$bin" validate bad.toml >out 2>err && bad "an unknown host passed validation" || ok
grep -q "unknown host 'nwe'.*did you mean 'new'" err && ok || bad "the unknown host is named: $(cat err)"
sed -e 's|source = "local:.*conf.txt"|source = "local:here/conf.txt"|' copy.toml >bad.toml
"$bin" validate bad.toml >out 2>err && bad "a relative path passed validation" || ok
grep -q "must be absolute" err && ok || bad "the relative path is refused: $(cat err)"

finish
