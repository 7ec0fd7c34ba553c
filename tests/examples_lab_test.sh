#!/usr/bin/env bash
# examples/site-move.toml (a shop moved to a new server), run the way issue #9 asks of every real
# spec: plan, apply through every stage, the plan is then empty, roll back to each earlier
# stage (the world checked where it shows), and apply forward again to an empty plan.
# Usage: examples_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set; root)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" examples
set -a
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"
set +a
. "$src/examples/lab-secrets.sh"
# port-closing's database server: a host of its own, with a listener on 5432.
. "$src/tests/systemd_host.sh" db
cat >"$sd_units/db-port.service" <<UNIT
[Unit]
DefaultDependencies=no
[Service]
ExecStart=/usr/bin/python3 -m http.server 5432 --bind 198.51.100.2
UNIT
sd_up && in_sd systemctl start db-port || { bad "port-closing's database server"; finish; exit 1; }
cp -r "$src"/examples/*.toml "$src/examples/files" "$work/"
cd "$work" || exit 1
run() {
  "$bin" "$@" --env lab --var lab="$LAB_DIR" --var user="$SSH_USER" --var host_known_hosts="$work/sd-known_hosts" >out 2>err
}
reaches() { timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; }
dns() { dig @127.0.0.1 -p 15354 +short shop.example.test A; }
site() { curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18087/; }
site_is() { [ "$(site)" = "$1" ]; }  # (through eventually: a reload takes effect ~100 ms late)
db_login() { PGPASSWORD=$1 "$PG_BIN/psql" -h "$PG_HOST" -p "$PG_PORT" -U shop_app -d shop -tAc 'select 1' 2>&1; }
empty_plan() {  # empty_plan WHEN [SPEC]
  run plan "${2:-site-move.toml}" --detailed-exitcode && ok || bad "$1: plan not empty: $(cat out err)"
}

run validate site-move.toml && ok || bad "validate: $(cat err)"
run plan site-move.toml && ok || bad "plan: $(cat err)"
run apply site-move.toml --yes && ok || bad "apply: $(cat err)"
[ "$(dns)" = 192.0.2.20 ] && ok || bad "DNS switched: $(dns)"
eventually site_is 200 && ok || bad "site proxies to the app: $(site)"
[ "$(db_login "$APP_DB_PASSWORD_NEW")" = 1 ] && ok || bad "day2 password: $(db_login "$APP_DB_PASSWORD_NEW")"
[ -s "$LAB_DIR/backups/shop-before-switch.dump" ] && ok || bad "the snapshot was taken"
grep -qF -e "$APP_DB_PASSWORD" -e "$PG_PASSWORD" -e "$BIND_TSIG_SECRET" .reconcile/* out err && bad "a secret was written" || ok
empty_plan "after apply"

run rollback site-move.toml --to switch --yes && ok || bad "rollback to switch: $(cat err)"
[ "$(db_login "$APP_DB_PASSWORD")" = 1 ] && ok || bad "old password back: $(db_login "$APP_DB_PASSWORD")"
run rollback site-move.toml --to freeze --yes && ok || bad "rollback to freeze: $(cat err)"
[ "$(dns)" = 192.0.2.10 ] && ok || bad "DNS back: $(dns)"
eventually site_is 503 && ok || bad "maintenance page back: $(site)"
run rollback site-move.toml --to prepare --yes && ok || bad "rollback to prepare: $(cat err)"
eventually site_is 000 && ok || bad "the site is gone after rolling back past freeze: $(site)"
[ -s "$LAB_DIR/backups/shop-before-switch.dump" ] && ok || bad "the snapshot is kept"
run apply site-move.toml --yes && ok || bad "apply again: $(cat err)"
[ "$(dns)" = 192.0.2.20 ] && eventually site_is 200 && ok || bad "forward again: $(dns) $(site)"
empty_plan "after applying again"
# The one-idea examples: each valid as written (for production), and on the lab: applied, an
# empty plan, rolled back to its first stage, applied again.
for spec in ttl-lowering maintenance-page bucket-sync check-gate port-closing; do
  "$bin" validate "$spec.toml" >out 2>err && ok || bad "$spec: validate as written: $(cat err)"
  run apply "$spec.toml" --yes && ok || bad "$spec: apply on the lab: $(cat err)"
  empty_plan "$spec after apply" "$spec.toml"
  first=$(sed -n 's/^stages = \["\([a-z]*\)".*/\1/p' "$spec.toml")
  [ "$spec" != port-closing ] || { ! reaches 198.51.100.2 5432 && ok || bad "port-closing: 5432 closed"; }
  run rollback "$spec.toml" --to "$first" --yes && ok || bad "$spec: rollback to $first: $(cat err)"
  [ "$spec" != port-closing ] || { reaches 198.51.100.2 5432 && ok || bad "port-closing: 5432 open again"; }
  run apply "$spec.toml" --yes && ok || bad "$spec: apply again: $(cat err)"
  empty_plan "$spec after applying again" "$spec.toml"
done
[ "$(dig @127.0.0.1 -p 15354 +noall +answer app.example.test A | awk '{print $2, $5}')" = "2 198.51.100.20" ] && ok ||
  bad "ttl-lowering: the record switched with its lowered TTL"
[ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18088/)" = 200 ] && ok || bad "maintenance-page: back up"
grep -q "server 127.0.0.1:443" "$LAB_DIR/upstream.conf" && ok || bad "check-gate: the switch wrote its file"

# rollback-trigger: with its new backend up, the switch is watched through and completes.
"$bin" validate rollback-trigger.toml >out 2>err && ok || bad "rollback-trigger: validate as written: $(cat err)"
mkdir -p backend && echo '<h1>the new shop</h1>' >backend/index.html
(cd backend && exec python3 -m http.server 18096 --bind 127.0.0.1 >/dev/null 2>&1) &
backend=$!
for _ in $(seq 1 50); do curl -s http://127.0.0.1:18096/ >/dev/null && break; sleep 0.1; done
run apply rollback-trigger.toml --yes && grep -q "every check held for the 6s it was watched" err && ok ||
  bad "rollback-trigger: a healthy switch is watched through: $(cat err)"
empty_plan "rollback-trigger after apply" rollback-trigger.toml
run rollback rollback-trigger.toml --to prepare --yes && ok || bad "rollback-trigger: rollback: $(cat err)"
kill "$backend"
wait "$backend" 2>/dev/null

# Leave the shared lab's nginx and app as the other tests expect them.
run rollback site-move.toml --to prepare --yes && ok || bad "rollback to prepare at the end: $(cat err)"
finish
