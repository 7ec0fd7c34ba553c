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
export PDNS_API_KEY=$POWERDNS_API_KEY CMR_DB_PASSWORD_NEW="day2-$RANDOM$RANDOM" CORALNET_DB_PASSWORD="beta-$RANDOM$RANDOM" \
  CORALNET_DB_MASTER_PASSWORD="master-$RANDOM$RANDOM"
. "$src/tests/systemd_host.sh" new-server
. "$src/tests/specs_world.sh"
trap 'world_remove; sd_cleanup' EXIT
chmod o+x "$work"  # the new server's nginx workers (nobody) read below it
mkdir -p "$LAB_DIR/www"
cp "$src"/specs/*.toml "$work/"
cd "$work" || exit 1
world_up || { finish; exit 1; }
# shellcheck disable=SC2046 # aws_vars: --var arguments, one word each
run() { "$bin" "$@" --env lab --var lab="$LAB_DIR" --var user="$SSH_USER" --var host_dir="$host_dir" $(aws_vars) >out 2>err; }
app() { curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18090/; }
code() { curl -s --cacert "$host_dir/tls/ca.pem" -o /dev/null -w '%{http_code}' "$@"; }
# soon CODE URL: the URL answers CODE within 5 s (an nginx reload's old worker may answer once more).
soon() { for _ in $(seq 50); do [ "$(code "$2")" = "$1" ] && return 0; sleep 0.1; done; return 1; }
count() { psql_lab -d "$1" -At -c "$2"; }
cname() { dig +short @127.0.0.1 -p 15353 cmr-www.example.test CNAME; }
reaches() { timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; }
# cmr_login PASSWORD: cmr_app gets in over TCP with it.
cmr_login() { PGPASSWORD=$1 psql -X -h 127.0.0.1 -p "$PG_PORT" -U cmr_app -d cmr -Atc "SELECT 1" >/dev/null 2>&1; }
# The AWS side, read with the AWS CLI on the lab's moto.
cmr_public() { awscli rds describe-db-instances --db-instance-identifier cmr-db --query 'DBInstances[0].PubliclyAccessible'; }
cmr_open() { awscli ec2 describe-security-groups --group-ids "$CMR_DB_SG" \
  --query 'SecurityGroups[0].IpPermissions[?FromPort==`5432`].IpRanges[].CidrIp' --output text; }
cmr_user() { awscli iam get-user --user-name heroku-media-sync >/dev/null 2>&1; }
cmr_snapshots() { awscli rds describe-db-snapshots --db-instance-identifier cmr-db --snapshot-type manual \
  --query 'length(DBSnapshots)'; }
eip_on() { awscli ec2 describe-addresses --public-ips "$CORALNET_EIP" --query 'Addresses[0].InstanceId' --output text; }
web_open() {  # PORT: the CIDRs the web group lets in on it
  awscli ec2 describe-security-groups --group-ids "$CORALNET_WEB_SG" \
    --query "SecurityGroups[0].IpPermissions[?FromPort==\`$1\`].IpRanges[].CidrIp" --output text
}
cmr_redirect() {  # the old domain's apex alias (moto answers Route 53 reads by the CLI only unsigned)
  local zone
  curl -s -X POST "$AWS_ENDPOINT/moto-api/reset-auth" -H 'Content-Type: text/plain' --data inf >/dev/null
  zone=$(awscli route53 list-hosted-zones-by-name --dns-name "$CMR_OLD_DOMAIN" --query 'HostedZones[0].Id' --output text)
  awscli route53 list-resource-record-sets --hosted-zone-id "$zone" \
    --query "ResourceRecordSets[?Type=='A' && Name=='$CMR_OLD_DOMAIN'].AliasTarget.DNSName" --output text
  curl -s -X POST "$AWS_ENDPOINT/moto-api/reset-auth" -H 'Content-Type: text/plain' --data 0 >/dev/null
}

# SPECS="a.toml b.toml" runs only those (for working on one).
for file in $(ls "$src"/specs/*.toml | grep -v '\.lab\.toml$'); do
  [ -z "${SPECS:-}" ] || [[ " $SPECS " == *" $(basename "$file") "* ]] || continue
  spec=$(basename "$file")
  "$bin" validate "$spec" >out 2>err && ok || bad "$spec: validate as written: $(cat err)"
  run plan "$spec" && ok || bad "$spec: plan on the lab: $(cat err)"
  run apply "$spec" --yes && ok || bad "$spec: apply on the lab: $(cat err)"
  case "$spec" in
    coralnet-beta.toml)
      soon 200 https://198.51.100.2/health/ && ok || bad "coralnet: the new site over HTTPS"
      [ "$(code http://198.51.100.2:8080/health/)" = 200 ] && ok || bad "coralnet: staging proxies to the old server"
      [ "$(dig +short @127.0.0.1 -p 15354 coralnet.example.test A)" = 198.51.100.2 ] && ok || bad "coralnet: DNS switched"
      [ "$(count coralnet "SELECT count(*) FROM images")" = 120 ] && ok || bad "coralnet: the database moved"
      [ "$(in_sd systemctl is-enabled coralnet)" = enabled ] && ok || bad "coralnet: the app enabled"
      in_sd bash -c 'exec 3<>/dev/tcp/198.51.100.2/443' 2>/dev/null && ok || bad "coralnet: 443 open to everyone"
      [ "$(ls "$LAB_DIR/s3/data/coralnet-staging" 2>/dev/null | wc -l)" -ge 2 ] && ok || bad "coralnet: staging bucket filled"
      [ "$(eip_on)" = "$CORALNET_PROD" ] && ok || bad "coralnet: the Elastic IP on production: $(eip_on)"
      grep -qx "DATABASE_HOST=$(awscli rds describe-db-instances --db-instance-identifier coralnet-db \
        --query 'DBInstances[0].Endpoint.Address' --output text)" "$host_dir/database.env" && ok ||
        bad "coralnet: the app's settings hold the RDS endpoint: $(cat "$host_dir/database.env" 2>&1)"
      [ "$(web_open 80) $(web_open 443)" = "0.0.0.0/0 0.0.0.0/0" ] && ok || bad "coralnet: the group open to all"
      [ "$(awscli rds describe-db-instances --db-instance-identifier coralnet-db \
        --query 'DBInstances[0].[Engine,PubliclyAccessible]' --output text)" = "postgres	False" ] && ok ||
        bad "coralnet: the RDS instance made" ;;
    commcare-go-live.toml)
      soon 200 https://127.0.0.1:18443/a/demo-project/phone/heartbeat/ && ok || bad "go-live: phones sync over HTTPS"
      [ "$(code http://127.0.0.1:18098/x)" = 301 ] && ok || bad "go-live: HTTP redirects"
      [ -s "$host_dir/backups/go-live-check.dump" ] && ok || bad "go-live: the backup taken" ;;
    clearmyrecord-launch.toml)
      [ "$(cname)" = d1x7ab3example.cloudfront.net. ] && ok || bad "cmr: www on Lambda: $(cname)"
      [ "$(in_sd systemctl is-active clock)" = inactive ] && ok || bad "cmr: the clock stopped"
      ! reaches 198.51.100.2 5432 && ok || bad "cmr: the database port closed"
      in_sd ss -ltn | grep -q '198.51.100.2:5432 ' && ok || bad "cmr: the port closed by the firewall, its listener still there"
      cmr_login "$CMR_DB_PASSWORD_NEW" && ! cmr_login launch-old && ok || bad "cmr: the password changed"
      [ "$(cmr_public)" = false ] && ok || bad "cmr: the RDS instance not public: $(cmr_public)"
      [ -z "$(cmr_open)" ] && ok || bad "cmr: 5432 revoked in the group: $(cmr_open)"
      ! cmr_user && ok || bad "cmr: the IAM user removed"
      [ "$(cmr_snapshots)" = 1 ] && ok || bad "cmr: one RDS snapshot: $(cmr_snapshots)"
      [ "$(cmr_redirect)" = d2r3d1r3ct0example.cloudfront.net. ] && ok || bad "cmr: the redirect alias: $(cmr_redirect)"
      [ "$(ls "$LAB_DIR/s3/data/cmr-media" 2>/dev/null | wc -l)" -ge 2 ] && ok || bad "cmr: media synced"
      # The database host's sshd is reachable only from its own loopback: its logins came
      # through the bastion, with the agent's key (the spec names no key file).
      grep -q "Accepted publickey for reconcile-deploy from 127.0.0.1" "$work/sd-sshd-db.log" && ok ||
        bad "cmr: the database host reached through its bastion: $(cat "$work/sd-sshd-db.log")"
      # Without the agent (and no ~/.ssh/id_ed25519): the bastion hop says why.
      (unset SSH_AUTH_SOCK; HOME=$work/nobody run plan "$spec") && bad "cmr: reached the database host with no agent" || ok
      grep -q "host db (reconcile-deploy@127.0.0.1:2222 via" err && grep -q "SSH_AUTH_SOCK is not set" err && ok ||
        bad "cmr: the error without the agent: $(cat err)" ;;
    commcare-project-transfer.toml)
      [ "$(count cchq_new "SELECT count(*) FROM forms WHERE domain = 'demo-project'")" = 150 ] && ok ||
        bad "transfer: 150 forms in the new environment"
      [ "$(count cchq_new "SELECT count(*) FROM forms WHERE domain <> 'demo-project'")" = 0 ] && ok ||
        bad "transfer: no other project's forms"
      [ -e "$host_dir/old-env/frozen_domains/demo-project" ] && ok || bad "transfer: the project stays frozen on the old side"
      soon 000 http://127.0.0.1:18096/ && ok || bad "transfer: the alias left the old proxy"
      [ "$(code http://127.0.0.1:18097/a/demo-project/phone/heartbeat/)" = 200 ] && ok || bad "transfer: phones sync to the new" ;;
  esac
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
      coralnet-beta.toml:switch)
        ! in_sd bash -c 'exec 3<>/dev/tcp/198.51.100.2/443' 2>/dev/null && ok || bad "coralnet/switch: 443 for developers only again"
        reaches 198.51.100.2 443 && ok || bad "coralnet/switch: developers still get in"
        [ "$(web_open 80) $(web_open 443)" = "198.51.100.1/32 198.51.100.1/32" ] && ok ||
          bad "coralnet/switch: the group open to developers only: $(web_open 80) $(web_open 443)" ;;
      coralnet-beta.toml:migrate)
        [ "$(dig +short @127.0.0.1 -p 15354 coralnet.example.test A)" = 192.0.2.10 ] && ok || bad "coralnet/migrate: DNS on the old server"
        [ "$(eip_on)" = "$CORALNET_STAGING" ] && ok || bad "coralnet/migrate: the Elastic IP back on staging: $(eip_on)"
        soon 503 http://127.0.0.1:18099/ && ok || bad "coralnet/migrate: the old site still in maintenance" ;;
      coralnet-beta.toml:freeze)
        [ "$(count coralnet "SELECT to_regclass('public.images') IS NULL")" = t ] && ok || bad "coralnet/freeze: the moved tables gone" ;;
      coralnet-beta.toml:prepare)
        soon 200 http://127.0.0.1:18099/health/ && ok || bad "coralnet/prepare: the old site serves again" ;;
      commcare-go-live.toml:migrate)
        soon 503 https://127.0.0.1:18443/ && ok || bad "go-live/migrate: the site is closed again" ;;
      commcare-go-live.toml:certificate)
        [ -s "$host_dir/backups/go-live-check.dump" ] && ok || bad "go-live/certificate: a rollback keeps the backup"
        [ "$(count postgres "SELECT count(*) FROM pg_database WHERE datname = 'restore_check'")" = 0 ] && ok ||
          bad "go-live: the backup-restore check left no scratch database" ;;
      commcare-go-live.toml:dns)
        soon 000 https://127.0.0.1:18443/ && ok || bad "go-live/dns: the HTTPS site is gone"
        soon 000 http://127.0.0.1:18098/ && ok || bad "go-live/dns: the HTTP site is gone" ;;
      clearmyrecord-launch.toml:switch)
        reaches 198.51.100.2 5432 && ok || bad "cmr/switch: the database port open again"
        cmr_login launch-old && ok || bad "cmr/switch: the old password works again"
        ! cmr_login "$CMR_DB_PASSWORD_NEW" && ok || bad "cmr/switch: the new one does not"
        [ "$(cmr_public)" = true ] && ok || bad "cmr/switch: the RDS instance public again: $(cmr_public)"
        [ "$(cmr_open)" = 0.0.0.0/0 ] && ok || bad "cmr/switch: 5432 open in the group again: $(cmr_open)"
        cmr_user && ok || bad "cmr/switch: the IAM user made again" ;;
      clearmyrecord-launch.toml:cutover)
        [ "$(cname)" = cmr-prod.herokudns.com. ] && ok || bad "cmr/cutover: www back on Heroku: $(cname)"
        [ -z "$(cmr_redirect)" ] && ok || bad "cmr/cutover: the redirect alias gone: $(cmr_redirect)" ;;
      clearmyrecord-launch.toml:media)
        [ "$(in_sd systemctl is-active clock)" = active ] && ok || bad "cmr/media: the clock runs again"
        [ "$(cmr_snapshots)" = 1 ] && ok || bad "cmr/media: the RDS snapshot is kept: $(cmr_snapshots)" ;;
      clearmyrecord-launch.toml:ttl)
        [ ! -e "$LAB_DIR/s3/data/cmr-media" ] && ok || bad "cmr/ttl: the media bucket gone" ;;
      commcare-project-transfer.toml:switch)
        soon 503 http://127.0.0.1:18096/ && ok || bad "transfer/switch: the alias is back on the old proxy, still held" ;;
      commcare-project-transfer.toml:transfer)
        soon 000 http://127.0.0.1:18097/ && ok || bad "transfer/transfer: the new proxy no longer answers"
        [ "$(app)" = 000 ] && ok || bad "transfer/transfer: the old workers are stopped again: $(app)"
        [ "$(count cchq_new "SELECT count(*) FROM forms WHERE domain = 'demo-project'")" = 150 ] && ok ||
          bad "transfer/transfer: the loaded forms stay" ;;
      commcare-project-transfer.toml:block)
        [ "$(count cchq_new "SELECT count(*) FROM forms")" = 0 ] && ok || bad "transfer/block: the load undone"
        [ ! -e "$host_dir/transfer/demo-project.dump-counts" ] && ok || bad "transfer/block: the dump removed"
        soon 503 http://127.0.0.1:18096/ && ok || bad "transfer/block: phones still held off" ;;
      commcare-project-transfer.toml:alias)
        [ ! -e "$host_dir/old-env/frozen_domains/demo-project" ] && ok || bad "transfer/alias: the project unfrozen"
        [ "$(app)" = 200 ] && ok || bad "transfer/alias: the old workers run: $(app)"
        soon 200 http://127.0.0.1:18096/ && ok || bad "transfer/alias: the alias serves: $(code http://127.0.0.1:18096/)" ;;
    esac
  done
  run apply "$spec" --yes && ok || bad "$spec: apply again: $(cat err)"
  run plan "$spec" --detailed-exitcode && ok || bad "$spec: plan after applying again: $(cat out err)"
done
[ "$(app)" = 200 ] && ok || bad "the lab's app runs at the end: $(app)"
finish
