#!/usr/bin/env bash
# The real cutovers in specs/, each as an operator would run it, on the lab through its
# `--env lab` overlay: valid as written, then plan, apply through every stage, an empty plan,
# a rollback to each earlier stage (latest first), and apply again to an empty plan.
# Usage: specs_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set; root)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" specs
set -a
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"
set +a
. "$src/examples/lab-secrets.sh"
mkdir -p "$LAB_DIR/www"
cp "$src"/specs/*.toml "$work/"
cd "$work" || exit 1
run() { "$bin" "$@" --env lab --var lab="$LAB_DIR" --var user="$SSH_USER" >out 2>err; }
app() { curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18090/; }

for file in $(ls "$src"/specs/*.toml | grep -v '\.lab\.toml$'); do
  spec=$(basename "$file")
  "$bin" validate "$spec" >out 2>err && ok || bad "$spec: validate as written: $(cat err)"
  run plan "$spec" && ok || bad "$spec: plan on the lab: $(cat err)"
  run apply "$spec" --yes && ok || bad "$spec: apply on the lab: $(cat err)"
  run plan "$spec" --detailed-exitcode && ok || bad "$spec: plan after apply: $(cat out err)"
  stages=$(sed -n 's/^stages = \[\(.*\)\]/\1/p' "$spec" | tr -d '",' )
  for stage in $(echo "$stages" | tr ' ' '\n' | tac | tail -n +2); do
    run rollback "$spec" --to "$stage" --yes && ok || bad "$spec: rollback to $stage: $(cat err)"
    case "$spec:$stage" in
      commcare-deploy.toml:deploy)
        grep -q 2026-11-23_1200 "$LAB_DIR/www/current_release" && ok || bad "deploy: the new release stays"
        [ "$(app)" = 000 ] && ok || bad "deploy: django is down again: $(app)" ;;
      commcare-deploy.toml:downtime)
        grep -q 2026-11-09_1100 "$LAB_DIR/www/current_release" && ok || bad "downtime: the old release is back"
        grep -q 'RELEASE = "2026-11-09_1100"' "$LAB_DIR/www/localsettings.py" && ok || bad "downtime: old settings" ;;
    esac
  done
  run apply "$spec" --yes && ok || bad "$spec: apply again: $(cat err)"
  run plan "$spec" --detailed-exitcode && ok || bad "$spec: plan after applying again: $(cat out err)"
done
[ "$(app)" = 200 ] && ok || bad "the lab's app runs at the end: $(app)"
finish
