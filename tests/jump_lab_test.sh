#!/usr/bin/env bash
# Hosts reached through a bastion (jump = "bastion", as ssh -J): two hosts that listen only on
# 127.0.0.1 inside a network namespace (192.0.2.2), behind that namespace's own sshd, the
# bastion, managed by reconcile running in another namespace (192.0.2.1) that cannot reach
# them. Files are made, changed and rolled back through one connection to the bastion; a
# target that is down, a bastion that is down, and a changed host key behind the bastion each
# say which hop failed.
# Usage: jump_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set; root)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" jump
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"
. "$src/tests/netns.sh" jmp
netns_up
chmod 0755 "$work"

# The targets' sshd, on the server namespace's loopback only.
test_sshd_conf "$work/target.conf" 127.0.0.1 2223 >>"$work/known_hosts"
echo "[localhost]:2223 $(cut -d' ' -f1,2 "$LAB_DIR/sshd/host_ed25519.pub")" >>"$work/known_hosts"
server_bg /usr/sbin/sshd -D -e -f "$work/target.conf" 2>"$work/target.log"
target_pid=${netns_pids[-1]}
wait_reaches "$client" 192.0.2.2 2222 "the bastion's sshd" || { finish; exit; }
for _ in $(seq 100); do in_server bash -c 'exec 3<>/dev/tcp/127.0.0.1/2223' 2>/dev/null && break; sleep 0.1; done
testdata jump >"$work/jump.toml"
cd "$work" || exit 1
run() { in_client "$bin" "$@" >out 2>err; }
logins() { grep -c "Accepted publickey" "$work/sshd.log"; }

reaches "$client" 127.0.0.1 2223 && bad "the targets are reachable without the bastion; the test proves nothing" || ok
run plan jump.toml && grep -q "+ file.app_settings" out && grep -q "+ file.worker_settings" out && ok ||
  bad "plan through the bastion: $(cat out err)"
[ "$(logins)" = 1 ] && ok || bad "one connection to the bastion serves both hosts: $(logins) logins"
run apply jump.toml --yes && ok || bad "apply through the bastion: $(cat err)"
[ "$(cat app.env)" = "changed through the bastion" ] && [ "$(cat worker.env)" = worker ] && ok ||
  bad "the files: $(cat app.env worker.env 2>&1)"
[ "$(cat where 2>/dev/null)" = 1 ] && ok || bad "the command ran behind the bastion: $(cat where 2>&1)"
[ "$(cat deep.env 2>/dev/null)" = "two hops" ] && ok || bad "a host two hops away: $(cat deep.env 2>&1)"
run plan jump.toml && grep -q "no changes" out && ok || bad "plan after apply: $(cat out err)"
run rollback jump.toml --to one --yes && [ "$(cat app.env)" = "through the bastion" ] && [ ! -e where ] && ok ||
  bad "rollback through the bastion: $(cat err)"

# The same host as the operator's ssh config names it, bastion included: ssh itself goes
# there with that config, and so does reconcile.
cat >ssh_config <<CONF
Host app-alias
  HostName 127.0.0.1
  Port 2223
  ProxyJump root@192.0.2.2:2222
Host *
  User root
  IdentityFile $LAB_DIR/sshd/client_ed25519
  UserKnownHostsFile $work/known_hosts
  StrictHostKeyChecking yes
CONF
in_client ssh -F ssh_config -o BatchMode=yes app-alias true 2>ssh.err && ok || bad "ssh with that config: $(cat ssh.err)"
testdata configured >configured.toml
run apply configured.toml --yes && [ "$(cat configured.env)" = "as ssh would" ] && ok ||
  bad "apply through ssh_config: $(cat err)"

# A group: one step per member in the plan, each run and journaled, each reverted.
testdata group >group.toml
run plan group.toml && grep -q "+ command.note\[127.0.0.1\]" out && grep -q "+ command.note\[localhost\]" out && ok ||
  bad "plan of a group: $(cat out err)"
run apply group.toml --yes && [ "$(grep -c '^ran$' notes)" = 2 ] && ok || bad "apply on a group: $(cat err; cat notes)"
grep -q '"address":"command.note\[localhost\]"' .reconcile/group.journal && ok || bad "journaled per member"
run rollback group.toml --to one --yes && [ "$(grep -c '^reverted$' notes)" = 2 ] && ok ||
  bad "rollback on a group: $(cat err; cat notes)"

# A changed host key behind the bastion: the target's, said once per host.
cp known_hosts known_hosts.good
ssh-keygen -q -t ed25519 -N '' -f other_key
sed -i "s|^\[127.0.0.1\]:2223 .*|[127.0.0.1]:2223 $(cut -d' ' -f1,2 other_key.pub)|" known_hosts
run plan jump.toml && bad "a changed host key behind the bastion was accepted" || ok
grep -q "host app (root@127.0.0.1:2223 via bastion): the host key CHANGED" err && ok || bad "names the target: $(cat err)"
# Both keys' fingerprints: the one known_hosts holds and the one the server shows.
grep -qF "($(ssh-keygen -l -E sha256 -f other_key.pub | cut -d' ' -f2)); the server now shows $SSH_HOST_FINGERPRINT" err &&
  ok || bad "both fingerprints: $(cat err)"
# Said once for app's resources, and once for deep's, which is reached through app.
[ "$(grep -c "the host key CHANGED" err)" = 2 ] && grep -q "through its jump host: host app" err && ok ||
  bad "said once a host: $(cat err)"
cp known_hosts.good known_hosts

# The target down: the bastion says it cannot reach it.
kill "$target_pid"
sleep 0.3
run plan jump.toml && bad "a target that is down was planned" || ok
grep -q "the jump host bastion could not reach 127.0.0.1:2223" err && ok || bad "names the far hop: $(cat err)"

# The bastion down: its own connection fails, and the error says it was the jump host.
for p in "${netns_pids[@]}"; do kill "$p" 2>/dev/null; done
sleep 0.3
run plan jump.toml && bad "a bastion that is down was planned" || ok
grep -q "through its jump host: host bastion (root@192.0.2.2:2222): cannot connect to 192.0.2.2:2222" err && ok ||
  bad "names the bastion: $(cat err)"
finish
