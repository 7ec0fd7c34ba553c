# The world the specs in specs/ find on the lab before they run, and its removal afterwards:
# what production has already when an operator starts a cutover (an old database with data,
# an old bucket with objects, an app answering), plus the one piece the lab does not have, a
# server of their own whose firewall and systemd they may change (tests/systemd_host.sh).
#   198.51.100.2  "the new server": systemd as PID 1, its own nginx (nginx-host.service, sites
#                 in $host_dir/nginx/conf.d), the app it runs (coralnet.service on
#                 127.0.0.1:8000), a stand-in listener on :5432 for a database port, and a
#                 clock process (clock.service) standing for a platform's scheduled tasks
#   198.51.100.1:18095  "the app servers" the proxies pass to (this side of the veth)
#   PostgreSQL    cchq_old / cchq_new (a project's forms and cases, and empty tables),
#                 commcarehq (a go-live's data), coralnet_old (the database to be moved),
#                 cmr (owned by cmr_app, password launch-old)
#   PowerDNS      cmr-www.example.test. CNAME cmr-prod.herokudns.com. (TTL 4)
#   lab nginx     CoralNet's old site on 18099, hand-written: 503 while $host_dir/old-maintenance.on is there
#   S3            cmr-heroku-media and coralnet-serve-1, the buckets media comes from
#   $host_dir/tls a CA and a certificate for the sites' names and 127.0.0.1, 198.51.100.2
#   the operator  ClearMyRecord's database host as its operators reach it: an sshd on that
#                 host's own loopback (127.0.0.1:2222, log in $work/sd-sshd-db.log) that only
#                 its bastion (the host's sshd on 198.51.100.2:22) reaches; an ssh config naming
#                 both ($work/ssh_config: cmr-db, ProxyJump cmr-bastion); and a real ssh-agent
#                 ($SSH_AUTH_SOCK) holding the login key, passphrase-protected, added by ssh-add
#   moto (AWS)    ClearMyRecord's RDS instance cmr-db (public) in a group open on 5432 to the
#                 internet ($CMR_DB_SG), the IAM user of its media copy, its old domain's zone
#                 (Route 53, $CMR_OLD_DOMAIN: a new name each run); CoralNet's web group ($CORALNET_WEB_SG), its staging and new
#                 production instances ($CORALNET_STAGING, $CORALNET_PROD) and its Elastic IP
#                 ($CORALNET_EIP). `aws_vars` gives the ids as --var arguments.
# Usage: . tests/specs_world.sh   (after tests/lib.sh, the lab's env and tests/systemd_host.sh)
host_dir=$work/host
world_pids=()
psql_lab() { psql -X -q -v ON_ERROR_STOP=1 -h "$LAB_DIR/postgres" -p "$PG_PORT" -U postgres "$@"; }
s3_put() {  # s3_put BUCKET[/KEY] [FILE]: a PUT signed by curl's own SigV4, as the provider's
  local sha
  sha=$(sha256sum "${2:-/dev/null}" | cut -d' ' -f1)
  curl -sf --aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
    -H "x-amz-content-sha256: $sha" -X PUT --data-binary "@${2:-/dev/null}" "$S3_ENDPOINT/$1" >/dev/null
}
world_names="cchq_old cchq_new commcarehq coralnet_old coralnet cmr"
world_buckets="cmr-heroku-media cmr-media coralnet-serve-1 coralnet-production coralnet-staging"

pdns_www() {  # pdns_www CHANGETYPE [FIELDS]
  curl -sf -X PATCH -H "X-API-Key: $POWERDNS_API_KEY" "$POWERDNS_API_URL/api/v1/servers/localhost/zones/example.test." \
    -d '{"rrsets":[{"name":"cmr-www.example.test.","type":"CNAME","changetype":"'"$1"'"'"${2:+,$2}"'}]}' >/dev/null
}

# The AWS world on the lab's moto (the AWS CLI as the lab's IAM user; tests/lib.sh awscli).
aws_world_up() {
  CMR_DB_SG=$(awscli ec2 create-security-group --group-name "cmr-db-$$-$RANDOM" --description "cmr database" \
    --query GroupId --output text) &&
    awscli ec2 authorize-security-group-ingress --group-id "$CMR_DB_SG" --protocol tcp --port 5432 \
      --cidr 0.0.0.0/0 >/dev/null &&
    awscli rds create-db-instance --db-instance-identifier cmr-db --engine postgres --db-instance-class db.t3.micro \
      --allocated-storage 20 --master-username cmr --master-user-password launch-old-master --publicly-accessible \
      --vpc-security-group-ids "$CMR_DB_SG" >/dev/null &&
    awscli iam create-user --user-name heroku-media-sync >/dev/null &&
    CMR_OLD_DOMAIN=cmr-old-$$-$RANDOM.test. &&
    awscli route53 create-hosted-zone --name "$CMR_OLD_DOMAIN" --caller-reference "$CMR_OLD_DOMAIN" >/dev/null || {
    bad "ClearMyRecord's AWS side on moto"
    return 1
  }
  CORALNET_WEB_SG=$(awscli ec2 create-security-group --group-name "coralnet-web-$$-$RANDOM" --description "web" \
    --query GroupId --output text) &&
    read -r CORALNET_STAGING CORALNET_PROD < <(awscli ec2 run-instances --image-id ami-12345678 --count 2 \
      --instance-type t3.small --query 'Instances[].InstanceId' --output text) &&
    CORALNET_EIP=$(awscli ec2 allocate-address --domain vpc --query PublicIp --output text) &&
    [ -n "$CORALNET_PROD" ] || {
    bad "CoralNet's AWS side on moto"
    return 1
  }
}
aws_vars() {
  echo --var db_security_group="$CMR_DB_SG" --var old_domain="$CMR_OLD_DOMAIN" --var web_security_group="$CORALNET_WEB_SG" \
    --var staging_instance="$CORALNET_STAGING" --var production_instance="$CORALNET_PROD" --var public_ip="$CORALNET_EIP"
}
# What an earlier run on the same lab left in moto under the names the specs use.
aws_world_remove() {
  local db snap
  for snap in $(awscli rds describe-db-snapshots --db-instance-identifier cmr-db --snapshot-type manual \
    --query 'DBSnapshots[].DBSnapshotIdentifier' --output text 2>/dev/null); do
    awscli rds delete-db-snapshot --db-snapshot-identifier "$snap" >/dev/null 2>&1 || :
  done
  for db in cmr-db coralnet-db; do
    awscli rds delete-db-instance --db-instance-identifier "$db" --skip-final-snapshot >/dev/null 2>&1 || :
  done
  awscli iam delete-user --user-name heroku-media-sync >/dev/null 2>&1 || :
}

world_remove() {
  [ -z "${AWS_ENDPOINT:-}" ] || aws_world_remove
  for p in "${world_pids[@]}"; do kill "$p" 2>/dev/null; done
  for db in $world_names; do psql_lab -c "DROP DATABASE IF EXISTS $db" 2>/dev/null; done
  for role in coralnet cmr_app cchq; do psql_lab -c "DROP ROLE IF EXISTS $role" 2>/dev/null; done
  for b in $world_buckets; do rm -rf "${LAB_DIR:?}/s3/data/$b"; done
  # The sites and records the specs leave applied on the shared lab's nginx and BIND.
  pdns_www DELETE 2>/dev/null
  rm -f "$NGINX_SITES"/reconcile-*.conf "$NGINX_SITES/coralnet-old.conf"
  nginx -p "$NGINX_PREFIX" -e stderr -c "$NGINX_CONF" -s reload 2>/dev/null
  nsupdate -y "hmac-sha256:$BIND_TSIG_NAME:$BIND_TSIG_SECRET" <<NSU 2>/dev/null
server 127.0.0.1 15354
zone example.test.
update delete demo-mobile.example.test.
update delete hq.example.test.
update delete clearmyrecord.example.test.
update delete coralnet.example.test.
update delete staging.coralnet.example.test.
send
NSU
}

# The operator's set-up for ClearMyRecord's database host: ssh config and ssh-agent.
operator_up() {
  cat >"$work/ssh_config" <<CONF
Host cmr-db
  HostName 127.0.0.1
  Port 2222
  ProxyJump cmr-bastion
Host cmr-bastion
  HostName 198.51.100.2
Host cmr-*
  User reconcile-deploy
  UserKnownHostsFile $work/sd-known_hosts
CONF
  cp "$LAB_DIR/sshd/client_ed25519" "$work/operator_ed25519"
  ssh-keygen -q -p -P '' -N "operator-$$" -f "$work/operator_ed25519" >/dev/null || { bad "protect the operator's key"; return 1; }
  printf '#!/bin/sh\necho operator-%s\n' "$$" >"$work/askpass" && chmod 700 "$work/askpass"
  ssh-agent -D -a "$work/agent.sock" >/dev/null 2>&1 &
  world_pids+=($!)
  export SSH_AUTH_SOCK=$work/agent.sock
  for _ in $(seq 100); do [ -S "$SSH_AUTH_SOCK" ] && break; sleep 0.05; done
  SSH_ASKPASS=$work/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=none ssh-add "$work/operator_ed25519" </dev/null >/dev/null 2>&1 &&
    ssh-add -l >/dev/null || { bad "ssh-agent with the operator's key (SSH_AUTH_SOCK=$SSH_AUTH_SOCK)"; return 1; }
  # What an operator checks first: ssh itself gets there with that config and agent.
  local said
  said=$(ssh -F "$work/ssh_config" -o BatchMode=yes -o IdentitiesOnly=no cmr-db true 2>&1) ||
    { bad "ssh cmr-db through its bastion: $said"; return 1; }
  : >"$work/sd-sshd-db.log"  # what the tests read there is reconcile's logins only
}

world_up() {
  world_remove  # what an earlier run may have left
  mkdir -p "$host_dir"/{nginx/conf,nginx/conf.d,nginx/logs,nginx/tmp,coralnet/health,tls,old-env/frozen_domains,backups} "$work/app"
  # The app servers: every path the specs' checks ask for.
  for p in health admin/login a/demo-project/phone/heartbeat; do
    mkdir -p "$work/app/$p"
    echo "ok: $p" >"$work/app/$p/index.html"
  done
  echo "success" >"$work/app/serverup.txt"
  echo "coralnet ok" >"$host_dir/coralnet/health/index.html"

  local tls=$host_dir/tls
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$tls/ca.key" \
    -out "$tls/ca.pem" -days 30 -subj "/CN=Lab CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$tls/site.key" \
      -out "$tls/site.csr" -subj "/CN=lab sites" 2>/dev/null &&
    printf 'subjectAltName=DNS:hq.example.test,DNS:coralnet.example.test,IP:127.0.0.1,IP:198.51.100.2\n' >"$tls/ext" &&
    openssl x509 -req -in "$tls/site.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
      -out "$tls/site.pem" -days 90 -extfile "$tls/ext" 2>/dev/null || { bad "the lab's certificates"; return 1; }

  cat >"$host_dir/nginx/conf/nginx.conf" <<CONF
worker_processes 1;
pid $host_dir/nginx/logs/nginx.pid;
error_log $host_dir/nginx/logs/error.log;
events { worker_connections 64; }
http {
  access_log $host_dir/nginx/logs/access.log;
  client_body_temp_path $host_dir/nginx/tmp/body;
  proxy_temp_path $host_dir/nginx/tmp/proxy;
  fastcgi_temp_path $host_dir/nginx/tmp/fastcgi;
  uwsgi_temp_path $host_dir/nginx/tmp/uwsgi;
  scgi_temp_path $host_dir/nginx/tmp/scgi;
  server { listen 127.0.0.1:8080 default_server; location / { return 404; } }
  include $host_dir/nginx/conf.d/*.conf;
}
CONF
  local unit
  for unit in "nginx-host:/usr/sbin/nginx -p $host_dir/nginx -e stderr -c $host_dir/nginx/conf/nginx.conf -g 'daemon off;'" \
    "coralnet:/usr/bin/python3 -m http.server 8000 --bind 127.0.0.1 --directory $host_dir/coralnet" \
    "db-port:/usr/bin/python3 -m http.server 5432 --bind 198.51.100.2" \
    "clock:/bin/bash -c 'while :; do sleep 1; done' clearmyrecord-clock" \
    "db-sshd:/usr/sbin/sshd -D -E $work/sd-sshd-db.log -f $work/sd-sshd-db.conf"; do
    cat >"$sd_units/${unit%%:*}.service" <<UNIT
[Unit]
DefaultDependencies=no
[Service]
ExecStart=${unit#*:}
[Install]
WantedBy=multi-user.target
UNIT
  done
  local db_known
  db_known=$(test_sshd_conf "$work/sd-sshd-db.conf" 127.0.0.1 2222)
  sd_up || return 1
  # The app servers, on the address sd_up made (before it, their bind failed unless an earlier
  # run's veth still held it), answering before any spec's check asks them: a check that
  # finds them down waits out its whole timeout.
  python3 -m http.server 18095 --bind 198.51.100.1 --directory "$work/app" >"$work/app.log" 2>&1 &
  world_pids+=($!)
  local _
  for _ in $(seq 1 100); do curl -s -o /dev/null http://198.51.100.1:18095/serverup.txt && break; sleep 0.05; done
  curl -s http://198.51.100.1:18095/serverup.txt | grep -q success ||
    { bad "the app servers do not answer on 198.51.100.1:18095: $(cat "$work/app.log")"; return 1; }
  echo "$db_known" >>"$work/sd-known_hosts"
  in_sd systemctl start nginx-host db-port clock db-sshd || { bad "the new server's units"; return 1; }
  for _ in $(seq 100); do in_sd bash -c 'exec 3<>/dev/tcp/127.0.0.1/2222' 2>/dev/null && break; sleep 0.1; done
  in_sd bash -c 'exec 3<>/dev/tcp/127.0.0.1/2222' 2>/dev/null ||
    { bad "the database host's sshd is not listening on 127.0.0.1:2222: $(cat "$work/sd-sshd-db.log")"; return 1; }
  operator_up || return 1

  psql_lab -c "CREATE DATABASE cchq_old" -c "CREATE DATABASE cchq_new" -c "CREATE DATABASE commcarehq" \
    -c "CREATE DATABASE coralnet_old" || { bad "the lab's databases"; return 1; }
  local db
  for db in cchq_old cchq_new commcarehq; do
    psql_lab -d "$db" -c "CREATE TABLE forms (domain text, id serial, xml text)" \
      -c "CREATE TABLE cases (domain text, id serial, name text)" || return 1
  done
  psql_lab -d cchq_old -c "INSERT INTO forms (domain, xml) SELECT 'demo-project', 'form ' || g FROM generate_series(1, 150) g" \
    -c "INSERT INTO forms (domain, xml) SELECT 'other-project', 'form ' || g FROM generate_series(1, 30) g" \
    -c "INSERT INTO cases (domain, name) SELECT 'demo-project', 'case ' || g FROM generate_series(1, 40) g" || return 1
  psql_lab -d commcarehq -c "INSERT INTO forms (domain, xml) SELECT 'go-live', 'form ' || g FROM generate_series(1, 150) g" || return 1
  psql_lab -c "CREATE ROLE cmr_app LOGIN PASSWORD 'launch-old'" -c "CREATE DATABASE cmr OWNER cmr_app" || return 1
  psql_lab -d cmr -c "CREATE TABLE expungements (id serial, county text)" \
    -c "INSERT INTO expungements (county) SELECT 'county ' || g FROM generate_series(1, 75) g" || return 1
  # ClearMyRecord's www, as Heroku has it before the launch (PowerDNS, through its API).
  pdns_www REPLACE '"ttl":4,"records":[{"content":"cmr-prod.herokudns.com.","disabled":false}]' || {
    bad "the www record on PowerDNS"
    return 1
  }
  psql_lab -d coralnet_old -c "CREATE TABLE images (id serial, name text)" \
    -c "INSERT INTO images (name) SELECT 'image ' || g FROM generate_series(1, 120) g" || return 1

  # CoralNet's old site, written by hand as it is on the old server: a 503 while the flag is there.
  cat >"$NGINX_SITES/coralnet-old.conf" <<CONF
server {
  listen 127.0.0.1:18099;
  location / {
    if (-f $host_dir/old-maintenance.on) { return 503; }
    proxy_pass http://198.51.100.1:18095;
  }
}
CONF
  local said
  said=$(nginx -p "$NGINX_PREFIX" -e stderr -c "$NGINX_CONF" -s reload 2>&1) || { bad "the old CoralNet site: $said"; return 1; }

  local b k
  for b in cmr-heroku-media coralnet-serve-1; do
    s3_put "$b" || { bad "the old bucket $b"; return 1; }
    for k in a/1.jpg a/2.jpg b/3.png; do
      echo "$b $k" >"$work/obj"
      s3_put "$b/$k" "$work/obj" || { bad "an object in $b"; return 1; }
    done
  done
  aws_world_up
}
