#!/usr/bin/env bash
# PostgreSQL reached through an SSH tunnel of the host transport: a server that listens only
# on 127.0.0.1 inside a network namespace of its own (192.0.2.2, with an sshd), managed by
# reconcile running in another namespace (192.0.2.1) that cannot reach it directly. A role
# and a database are made, a snapshot is taken on that host, the password is rotated and
# rolled back — all through the one SSH connection; then again with that host behind a
# bastion (jump = "bastion"), its sshd on the server's loopback only.
# Usage: postgres_tunnel_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set; root)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" pg-tunnel
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"
. "$src/tests/netns.sh" pgt
netns_up

# The server's PostgreSQL, as the postgres user, on 127.0.0.1:5432 of its namespace only.
chmod 0755 "$work"
pg=$work/pg
install -d -o postgres -g postgres -m 0700 "$pg"
export SUPER_PW="super-$RANDOM-$$" APP_OLD="old-$RANDOM" APP_NEW="new-$RANDOM"
echo "$SUPER_PW" >"$pg/pw" && chown postgres "$pg/pw"
su postgres -s /bin/sh -c "$PG_BIN/initdb -D '$pg/data' -U postgres -A scram-sha-256 --pwfile='$pg/pw' -E UTF8 \
  --locale=C.UTF-8" >"$work/initdb.log" 2>&1 || bad "initdb: $(cat "$work/initdb.log")"
in_server su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D '$pg/data' -l '$pg/server.log' -w -t 10 \
  -o '-p 5432 -c listen_addresses=127.0.0.1 -c unix_socket_directories=$pg' start" >/dev/null 2>&1 ||
  bad "PostgreSQL did not start in the server namespace: $(cat "$pg/server.log")"
netns_pids+=("$(head -1 "$pg/data/postmaster.pid")")
wait_reaches "$client" 192.0.2.2 2222 sshd || { finish; exit; }
# psql inside the server namespace, as a role with a password.
as() { PGPASSWORD=$2 in_server "$PG_BIN/psql" -h 127.0.0.1 -p 5432 -U "$1" -d postgres -tAc "${3:-select 1}" 2>&1; }

testdata db >"$work/db.toml"
cd "$work" || exit 1

reaches "$client" 192.0.2.2 5432 && bad "the database is reachable without the tunnel; the test proves nothing" || ok
in_client "$bin" apply db.toml --yes >out 2>err && ok || bad "apply through the tunnel: $(cat err)"
[ "$(as app "$APP_NEW")" = 1 ] && ok || bad "app logs in with the rotated password: $(as app "$APP_NEW")"
[ "$(as postgres "$SUPER_PW" "select pg_get_userbyid(datdba) from pg_database where datname = 'appdb'")" = app ] &&
  ok || bad "appdb owned by app"
[ -s "$pg/appdb.dump" ] && ok || bad "the snapshot was written on the server"
in_client "$bin" plan db.toml >out 2>err && ok || bad "plan: $(cat err)"
grep -q "postgres_" out && bad "plan not empty after apply: $(cat out)" || ok
in_client "$bin" rollback db.toml --to prepare --yes >out 2>err && ok || bad "rollback through the tunnel: $(cat err)"
[ "$(as app "$APP_OLD")" = 1 ] && ok || bad "the old password works again: $(as app "$APP_OLD")"

# The same through a bastion: the database host's sshd is on the server's loopback only, so
# the tunnel to PostgreSQL opens through a channel of the bastion's connection.
test_sshd_conf "$work/db-sshd.conf" 127.0.0.1 2223 >>"$work/known_hosts"
server_bg /usr/sbin/sshd -D -e -f "$work/db-sshd.conf" 2>"$work/db-sshd.log"
for _ in $(seq 100); do in_server bash -c 'exec 3<>/dev/tcp/127.0.0.1/2223' 2>/dev/null && break; sleep 0.1; done
in_server bash -c 'exec 3<>/dev/tcp/127.0.0.1/2223' 2>/dev/null && ok ||
  bad "the database host's sshd is not listening on 127.0.0.1:2223: $(cat "$work/db-sshd.log")"
testdata jumped >jumped.toml
in_client "$bin" apply jumped.toml --yes >out 2>err && ok || bad "apply through the bastion's tunnel: $(cat err)"
[ "$(as jumped "$APP_NEW")" = 1 ] && ok || bad "jumped logs in with the rotated password: $(as jumped "$APP_NEW")"
[ -s "$pg/jumped.dump" ] && ok || bad "the snapshot was written on the host behind the bastion"
grep -q "Accepted publickey for $SSH_USER from 127.0.0.1" "$work/db-sshd.log" && ok ||
  bad "the database host was reached from the bastion: $(cat "$work/db-sshd.log")"
in_client "$bin" plan jumped.toml --detailed-exitcode >out 2>err && ok || bad "plan through the bastion after apply: $(cat out err)"
in_client "$bin" rollback jumped.toml --to prepare --yes >out 2>err && ok || bad "rollback through the bastion: $(cat err)"
[ "$(as jumped "$APP_OLD")" = 1 ] && ok || bad "jumped's old password works again: $(as jumped "$APP_OLD")"
grep -qF "$SUPER_PW" out err && bad "the superuser password in the output" || ok

# Without the host, the same address is this machine's, where nothing listens.
sed -e '/^\[postgres_snapshot/,$d' -e '/^host = "db"/d' db.toml >direct.toml
in_client "$bin" plan direct.toml >out 2>err && bad "reached the database without the tunnel" || ok
grep -q "cannot connect" err && ok || bad "says it cannot connect: $(cat err)"
# A port nothing listens on at the far end: the tunnel says why.
sed 's/^port = 5432/port = 5999/' db.toml >wrong.toml
in_client "$bin" plan wrong.toml >out 2>err && bad "a dead port through the tunnel was accepted" || ok
grep -q "through db" err && grep -q "would not connect on to 127.0.0.1:5999" err && ok ||
  bad "names the tunnel and the far port: $(cat err)"
grep -qF "$SUPER_PW" out err && bad "the superuser password in the output" || ok

in_server su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D '$pg/data' -m fast -w stop" >/dev/null 2>&1
finish
