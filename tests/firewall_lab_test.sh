#!/usr/bin/env bash
# firewall_port against real nftables, inside two network namespaces this test makes: a
# client (192.0.2.1, where reconcile runs) and a database server (192.0.2.2, reached over
# SSH with sudo, listening on 5432 and 6432). A port closed is refused from the client; one
# open only to the client is refused from the server itself (a tcp check run from that host
# says so: from the client it would be open); a rollback reopens both and takes reconcile's
# table away; an empty table left by an interrupted removal is removed by the next run; a
# table of someone else's is the same at the end as at the start.
# Usage: firewall_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set; root)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" firewall
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"

. "$src/tests/netns.sh" fw
netns_up
for port in 5432 6432 9999; do server_bg python3 -m http.server "$port" --bind 192.0.2.2 >/dev/null 2>&1; done
in_server nft -f - <<'NFT'
table inet theirs {
  chain input {
    type filter hook input priority 10; policy accept;
    tcp dport 9999 counter drop comment "not reconcile's"
  }
}
NFT
# Their rules as written (the counter counts what the checks send it).
theirs() { in_server nft list table inet theirs | sed 's/counter packets [0-9]* bytes [0-9]*/counter/'; }
theirs_before=$(theirs)
wait_reaches "$client" 192.0.2.2 2222 sshd && wait_reaches "$client" 192.0.2.2 5432 "a listener" &&
  wait_reaches "$client" 192.0.2.2 6432 "a listener" && ok
# 9999 cannot be reached through their drop rule, so wait for it from inside: the three
# servers start together, and on a loaded machine this one may come up last.
listens_9999() { in_server ss -ltn | grep -q "192.0.2.2:9999"; }
for _ in $(seq 100); do listens_9999 && break; sleep 0.1; done
listens_9999 && ok || bad "a listener on 9999 behind their drop rule"

spec() {  # spec SUDO → db.toml
  testdata db "$@" >"$work/db.toml"
}
cd "$work" || exit 1
spec true

in_client "$bin" plan db.toml >out 2>err && ok || bad "plan: $(cat err)"
grep -q "+ firewall_port.pg" out && grep -q "+ firewall_port.admin" out && ok || bad "plan opens and closes: $(cat out)"

in_client "$bin" apply db.toml --yes >out 2>err && ok || bad "apply: $(cat err)"
reaches "$client" 192.0.2.2 5432 && bad "5432 still reachable after closing it" || ok
grep -q "refused" "$work/why" && ok || bad "5432 is refused, not left hanging: $(cat "$work/why")"
reaches "$client" 192.0.2.2 6432 && ok || bad "6432 is open to the client: $(cat "$work/why")"
reaches "$server" 192.0.2.2 6432 && bad "6432 is open to the server itself" || ok
[ "$(theirs)" = "$theirs_before" ] && ok || bad "their table changed after apply"
in_server nft list table inet theirs | grep -q "counter packets [1-9]" && ok ||
  bad "the check from db was dropped by their rule: $(in_server nft list table inet theirs)"
in_client "$bin" plan db.toml >out 2>err && ok || bad "plan after apply: $(cat err)"
grep -q "firewall_port" out && bad "plan not empty after apply: $(cat out)" || ok

# A rule added by hand to reconcile's table: the probe stops and says how to remove it.
in_server nft add rule inet reconcile tcp_5432 ip saddr 192.0.2.9 counter accept
in_client "$bin" plan db.toml >out 2>err && bad "a foreign rule in reconcile's chain was ignored" || ok
grep -q "did not write" err && grep -q "nft delete rule inet reconcile tcp_5432 handle" err && ok ||
  bad "the foreign rule is named: $(cat err)"
handle=$(in_server nft -a list chain inet reconcile tcp_5432 | sed -n 's/.*192.0.2.9.*handle \([0-9]*\).*/\1/p')
in_server nft delete rule inet reconcile tcp_5432 handle "$handle"

# A changed port (open to all) comes back to closed on apply; the rules of others stay.
in_server nft flush chain inet reconcile tcp_5432
in_client "$bin" plan db.toml >out 2>err && ok || bad "plan after a hand change: $(cat err)"
grep -q 'state: "open" → "closed"' out && ok || bad "the hand change shows as drift: $(cat out)"
in_client "$bin" apply db.toml --yes >out 2>err && ok || bad "apply again: $(cat err)"
reaches "$client" 192.0.2.2 5432 && bad "5432 reachable after the second apply" || ok

in_client "$bin" rollback db.toml --to before --yes >out 2>err && ok || bad "rollback: $(cat err)"
reaches "$client" 192.0.2.2 5432 && ok || bad "5432 reopened by the rollback: $(cat "$work/why")"
reaches "$server" 192.0.2.2 6432 && ok || bad "6432 open to all again: $(cat "$work/why")"
in_server nft list table inet reconcile >/dev/null 2>&1 && bad "reconcile's table is still there" || ok
[ "$(theirs)" = "$theirs_before" ] && ok || bad "their table changed after rollback"

# An empty table, as an older reconcile left it when killed between the two nft runs of a
# removal (its input hook still there): the next run that wants a port gone sees it and
# removes it, and a run after that has nothing to do.
leftover() {
  in_server nft -f - <<'NFT'
add table inet reconcile
add chain inet reconcile input { type filter hook input priority 0 ; policy accept ; }
add map inet reconcile ports { type inet_proto . inet_service : verdict ; }
add rule inet reconcile input meta l4proto . th dport vmap @ports
NFT
}
leftover
in_client "$bin" rollback db.toml --to before --yes >out 2>err && ok || bad "rollback over a leftover table: $(cat err)"
in_server nft list table inet reconcile >/dev/null 2>&1 && bad "the rollback left the empty table: $(cat out)" || ok
leftover
testdata gone >gone.toml
in_client "$bin" plan gone.toml >out 2>err && ok || bad "plan over a leftover table: $(cat err)"
grep -q -- "- firewall_port.pg" out && grep -q "no port in it" out && ok || bad "the plan removes the leftover table: $(cat out)"
in_client "$bin" apply gone.toml --yes >out 2>err && ok || bad "apply over a leftover table: $(cat err)"
in_server nft list table inet reconcile >/dev/null 2>&1 && bad "apply left the empty table" || ok
in_client "$bin" plan gone.toml --detailed-exitcode >out 2>err && ok || bad "plan empty once it is gone: $(cat out err)"
[ "$(theirs)" = "$theirs_before" ] && ok || bad "their table changed with reconcile's leftover"

# Without sudo, nft is refused, and the error says what to do.
spec false
in_client "$bin" plan db.toml >out 2>err && bad "nft without root was accepted" || ok
grep -q "set sudo = true" err && ok || bad "says to set sudo: $(cat err)"

# A network with host bits set: refused before nft is run, with the network meant.
spec true
sed -i 's|"192.0.2.1/32"|"192.0.2.1/24"|' db.toml
in_client "$bin" apply db.toml --yes >out 2>err && bad "192.0.2.1/24 was accepted" || ok
grep -q "did you mean 192.0.2.0/24" err && ok || bad "names the network: $(cat err)"
# Not an address at all: a spec error at its line and column.
sed -i 's|"192.0.2.1/24"|"db.internal"|' db.toml
in_client "$bin" plan db.toml >out 2>err && bad "a name as a source was accepted" || ok
grep -q "db.toml:[0-9]*:[0-9]*: .*IPv4 or IPv6 address or network" err && ok || bad "spec error with position: $(cat err)"

finish
