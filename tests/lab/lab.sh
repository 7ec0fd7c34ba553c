#!/usr/bin/env bash
# The lab: real servers on loopback high ports, all state in one folder, each stopped by its
# own PID. Integration tests and the demo use it; ../shared/LAB.md has how each was made to run.
#
#   tests/lab/lab.sh up DIR [sshd[:N]] [nginx] [supervisor] [bind] [powerdns] [s3] [postgres] [aws]
#                                     start (default: all of them, one sshd)
#   tests/lab/lab.sh down DIR                                 stop everything started in DIR
#
# `up` waits until each server answers, writes DIR/lab.env (ports, keys, paths) for tests to
# source, and fails loudly with the server's log if one does not start. Adding a server is a
# start_NAME function and a line in the case below.
set -euo pipefail

cmd=${1:?usage: lab.sh up|down DIR [components]}
dir=${2:?usage: lab.sh up|down DIR [components]}
shift 2
mkdir -p "$dir/pids"
dir=$(cd "$dir" && pwd)
env_file=$dir/lab.env

wait_tcp() { # wait_tcp PORT NAME LOG
  for _ in $(seq 1 250); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.02
  done
  echo "lab: $2 did not start listening on 127.0.0.1:$1 within 5 s; its log:" >&2
  sed 's/^/    /' "$3" >&2 || true
  return 1
}

record() { echo "$1=$2" >>"$env_file"; }

# sshd: N instances on ports 12222.. (one per "host"), key auth only, an ed25519 client key
# (libssh2 1.10 cannot sign with RSA SHA-2), a known_hosts naming each [127.0.0.1]:PORT.
start_sshd() {
  local n=${1:-1} d=$dir/sshd
  mkdir -p "$d"
  install -d -m 0755 /run/sshd
  [ -f "$d/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$d/host_ed25519"
  [ -f "$d/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$d/client_ed25519"
  cp "$d/client_ed25519.pub" "$d/authorized_keys"
  : >"$d/known_hosts"
  local ports=""
  for i in $(seq 0 $((n - 1))); do
    local port=$((12222 + i))
    cat >"$d/sshd_$port.conf" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $d/host_ed25519
PidFile $d/sshd_$port.pid
AuthorizedKeysFile none
AuthorizedKeysCommand /bin/cat $d/authorized_keys
AuthorizedKeysCommandUser root
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
MaxSessions 64
MaxStartups 64:30:128
Subsystem sftp internal-sftp
CONF
    /usr/sbin/sshd -t -f "$d/sshd_$port.conf"
    /usr/sbin/sshd -D -e -f "$d/sshd_$port.conf" >"$d/sshd_$port.log" 2>&1 &
    echo $! >"$dir/pids/sshd_$port.pid"
    echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$d/host_ed25519.pub")" >>"$d/known_hosts"
    ports="$ports $port"
  done
  for port in $ports; do wait_tcp "$port" "sshd" "$d/sshd_$port.log"; done
  record SSH_PORTS "\"${ports# }\""
  record SSH_PORT "$(echo $ports | cut -d' ' -f1)"
  record SSH_USER "$(id -un)"
  # tests/install-deps.sh makes it; tests of sudo = true log in as it.
  id reconcile-deploy >/dev/null 2>&1 && record SSH_SUDO_USER reconcile-deploy
  record SSH_IDENTITY "$d/client_ed25519"
  record SSH_KNOWN_HOSTS "$d/known_hosts"
  record SSH_HOST_FINGERPRINT "\"$(ssh-keygen -l -E sha256 -f "$d/host_ed25519.pub" | cut -d' ' -f2)\""
}

# nginx: one master on 18080 serving $dir/nginx/conf.d/*.conf; reconcile's sites go there.
start_nginx() {
  local d=$dir/nginx
  mkdir -p "$d"/{conf,conf.d,logs,tmp,html}
  cat >"$d/conf/nginx.conf" <<CONF
worker_processes 1;
pid $d/logs/nginx.pid;
error_log $d/logs/error.log;
events { worker_connections 64; }
http {
  access_log $d/logs/access.log;
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fastcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
  server { listen 127.0.0.1:18080 default_server; location / { return 404; } }
  include $d/conf.d/*.conf;
}
CONF
  nginx -t -q -p "$d" -e stderr -c "$d/conf/nginx.conf"
  nginx -p "$d" -e stderr -c "$d/conf/nginx.conf" -g 'daemon off;' >"$d/logs/stderr.log" 2>&1 &
  echo $! >"$dir/pids/nginx.pid"
  wait_tcp 18080 nginx "$d/logs/stderr.log"
  record NGINX_PORT 18080
  record NGINX_PREFIX "$d"
  record NGINX_CONF "$d/conf/nginx.conf"
  record NGINX_SITES "$d/conf.d"
}

# supervisord: RPC on 19001, programs from $dir/supervisor/conf.d; one program `web` to start
# and stop (a Python HTTP server on 18090).
start_supervisor() {
  local d=$dir/supervisor
  mkdir -p "$d"/{logs,conf.d}
  cat >"$d/conf.d/web.conf" <<CONF
[program:web]
command=python3 -m http.server 18090 --bind 127.0.0.1
autostart=true
autorestart=true
startsecs=1
stopwaitsecs=5
CONF
  cat >"$d/supervisord.conf" <<CONF
[unix_http_server]
file=$d/supervisor.sock
[inet_http_server]
port=127.0.0.1:19001
username=admin
password=lab-secret
[supervisord]
logfile=$d/logs/supervisord.log
pidfile=$d/supervisord.pid
childlogdir=$d/logs
nodaemon=true
user=root
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://$d/supervisor.sock
[include]
files = $d/conf.d/*.conf
CONF
  supervisord -c "$d/supervisord.conf" >"$d/logs/stderr.log" 2>&1 &
  echo $! >"$dir/pids/supervisord.pid"
  wait_tcp 19001 supervisord "$d/logs/stderr.log"
  wait_tcp 18090 "supervisor's program web" "$d/logs/supervisord.log"
  record SUPERVISOR_CONF "$d/supervisord.conf"
  record SUPERVISOR_PORT 19001
}

# A zone file with the lab's base records: SOA, NS (ns1, in-zone glue) and a few names.
write_zone() { # write_zone ZONE FILE
  cat >"$2" <<ZONE
\$TTL 300
$1. 300 IN SOA ns1.$1. hostmaster.$1. 1 3600 600 86400 60
$1. 300 IN NS ns1.$1.
ns1.$1. 300 IN A 127.0.0.1
base.$1. 300 IN A 192.0.2.1
ZONE
}

# A TSIG secret: 32 random bytes, base64.
tsig_secret() { head -c 32 /dev/urandom | base64; }

# BIND 9 on 15354: zones example.test and bulk.test, updates and transfers only with the
# lab's TSIG key (hmac-sha256).
start_bind() {
  local d=$dir/bind secret secret512
  mkdir -p "$d"
  secret=$(tsig_secret)
  secret512=$(head -c 64 /dev/urandom | base64 -w0)
  printf 'key "lab-key" {\n  algorithm hmac-sha256;\n  secret "%s";\n};\n' "$secret" >"$d/lab-key.conf"
  printf 'key "lab-key-512" {\n  algorithm hmac-sha512;\n  secret "%s";\n};\n' "$secret512" >>"$d/lab-key.conf"
  {
    printf 'options { directory "%s"; listen-on port 15354 { 127.0.0.1; }; listen-on-v6 { none; };\n' "$d"
    printf '  pid-file "%s/named.pid"; session-keyfile "%s/session.key"; managed-keys-directory "%s";\n' "$d" "$d" "$d"
    printf '  recursion no; dnssec-validation no; allow-query { 127.0.0.1; }; notify no; };\n'
    printf 'controls { };\ninclude "%s/lab-key.conf";\n' "$d"
    for z in example.test bulk.test; do
      write_zone "$z" "$d/$z.db"
      printf 'zone "%s" { type primary; file "%s/%s.db"; allow-update { key "lab-key"; key "lab-key-512"; }; allow-transfer { key "lab-key"; key "lab-key-512"; }; };\n' \
        "$z" "$d" "$z"
    done
  } >"$d/named.conf"
  named-checkconf "$d/named.conf"
  named -g -c "$d/named.conf" >"$d/named.log" 2>&1 &
  echo $! >"$dir/pids/named.pid"
  wait_tcp 15354 named "$d/named.log"
  record BIND_SERVER "127.0.0.1:15354"
  record BIND_TSIG_NAME lab-key
  record BIND_TSIG_SECRET "$secret"
  record BIND_TSIG_FILE "$d/lab-key.conf"
  record BIND_TSIG512_NAME lab-key-512
  record BIND_TSIG512_SECRET "$secret512"
}

# PowerDNS Authoritative (gsqlite3) with DNS on 15353 and the HTTP API on 18081: zone
# example.test, created through the API; RFC 2136 updates allowed with the lab's TSIG key.
start_powerdns() {
  local d=$dir/powerdns secret api=http://127.0.0.1:18081/api/v1/servers/localhost key=lab-api-key
  mkdir -p "$d"
  sqlite3 "$d/pdns.sqlite3" </usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql
  cat >"$d/pdns.conf" <<CONF
launch=gsqlite3
gsqlite3-database=$d/pdns.sqlite3
local-address=127.0.0.1
local-port=15353
socket-dir=$d
daemon=no
guardian=no
disable-syslog=yes
security-poll-suffix=
api=yes
api-key=$key
webserver=yes
webserver-address=127.0.0.1
webserver-port=18081
webserver-allow-from=127.0.0.0/8
dnsupdate=yes
allow-dnsupdate-from=127.0.0.0/8
allow-axfr-ips=127.0.0.0/8
CONF
  pdns_server --config-dir="$d" >"$d/pdns.log" 2>&1 &
  echo $! >"$dir/pids/pdns.pid"
  wait_tcp 18081 "PowerDNS API" "$d/pdns.log"
  wait_tcp 15353 "PowerDNS" "$d/pdns.log"
  secret=$(tsig_secret)
  local call="curl -sS -f -o /dev/null -H X-API-Key:$key -H Content-Type:application/json"
  $call -X POST "$api/zones" -d '{"name":"example.test.","kind":"Native","soa_edit_api":"DEFAULT","rrsets":[
    {"name":"example.test.","type":"SOA","ttl":300,"records":[{"content":"ns1.example.test. hostmaster.example.test. 1 3600 600 86400 60","disabled":false}]},
    {"name":"example.test.","type":"NS","ttl":300,"records":[{"content":"ns1.example.test.","disabled":false}]},
    {"name":"ns1.example.test.","type":"A","ttl":300,"records":[{"content":"127.0.0.1","disabled":false}]},
    {"name":"base.example.test.","type":"A","ttl":300,"records":[{"content":"192.0.2.1","disabled":false}]}]}'
  $call -X POST "$api/tsigkeys" -d '{"name":"lab-key","algorithm":"hmac-sha256","key":"'"$secret"'"}'
  $call -X PUT "$api/zones/example.test./metadata/TSIG-ALLOW-DNSUPDATE" -d '{"metadata":["lab-key"]}'
  pdnsutil --config-dir="$d" set-meta example.test TSIG-ALLOW-AXFR lab-key >/dev/null
  record POWERDNS_SERVER "127.0.0.1:15353"
  record POWERDNS_API_URL "http://127.0.0.1:18081"
  record POWERDNS_API_KEY "$key"
  record POWERDNS_TSIG_NAME lab-key
  record POWERDNS_TSIG_SECRET "$secret"
}

# S3: @20minutes/s3rver 4.0.4 (npm, installed by tests/install-deps.sh into tests/lab/s3) on
# 14569, the one S3 server here that verifies SigV4. It needs the legacy OpenSSL provider for
# its continuation tokens (LAB.md 1a'), and implements no versioning, encryption or policy.
start_s3() {
  local d=$dir/s3 src
  src=$(cd "$(dirname "${BASH_SOURCE[0]}")/s3" && pwd)
  if [ ! -d "$src/node_modules/@20minutes/s3rver" ]; then
    echo "lab: s3rver is not installed in $src; run tests/install-deps.sh" >&2
    return 1
  fi
  mkdir -p "$d/data"
  NODE_OPTIONS=--openssl-legacy-provider node "$src/start.js" "$d/data" 14569 >"$d/s3rver.log" 2>&1 &
  echo $! >"$dir/pids/s3rver.pid"
  wait_tcp 14569 "s3rver" "$d/s3rver.log"
  record S3_ENDPOINT "http://127.0.0.1:14569"
  record S3_REGION us-east-1
  record S3_ACCESS_KEY S3RVER
  record S3_SECRET_KEY S3RVER
}

# AWS: moto 5.2.1's server (installed with the machine's Python 3.11; LAB.md 10) on 14566:
# every service behind one endpoint, told apart by the SigV4 scope each request is signed for.
# Its signature checking starts at the fourth call: the first three make the lab's IAM user,
# its allow-all policy and its key, so every later request is verified against that key and
# a wrongly signed one is refused.
start_aws() {
  local d=$dir/aws moto key secret
  moto=$(command -v moto_server || ls "$HOME"/.pyenv/versions/*/bin/moto_server 2>/dev/null | head -1 || true)
  if [ -z "$moto" ] || [ ! -x "$moto" ]; then
    echo "lab: moto_server is not installed (looked on PATH and in ~/.pyenv/versions/*/bin)" >&2
    return 1
  fi
  mkdir -p "$d"
  INITIAL_NO_AUTH_ACTION_COUNT=3 "$moto" -H 127.0.0.1 -p 14566 >"$d/moto.log" 2>&1 &
  echo $! >"$dir/pids/moto.pid"
  wait_tcp 14566 "moto" "$d/moto.log"
  iam() { # iam FORM: one IAM call signed with a throw-away key (not yet checked)
    curl -sS --fail-with-body -X POST http://127.0.0.1:14566/ --aws-sigv4 "aws:amz:us-east-1:iam" \
      --user "LABBOOTSTRAP:bootstrap" -H "Content-Type: application/x-www-form-urlencoded" \
      --data "Version=2010-05-08&$1"
  }
  local policy='%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D'
  if ! { iam "Action=CreateUser&UserName=lab" >"$d/bootstrap.log" &&
    iam "Action=PutUserPolicy&UserName=lab&PolicyName=all&PolicyDocument=$policy" >>"$d/bootstrap.log" &&
    iam "Action=CreateAccessKey&UserName=lab" >"$d/key.xml"; }; then
    echo "lab: moto did not make the lab's IAM key; its answers and log:" >&2
    sed 's/^/    /' "$d/bootstrap.log" "$d/key.xml" "$d/moto.log" >&2 || true
    return 1
  fi
  key=$(sed -n 's:.*<AccessKeyId>\([^<]*\)</AccessKeyId>.*:\1:p' "$d/key.xml")
  secret=$(sed -n 's:.*<SecretAccessKey>\([^<]*\)</SecretAccessKey>.*:\1:p' "$d/key.xml")
  if [ -z "$key" ] || [ -z "$secret" ]; then
    echo "lab: moto's CreateAccessKey answer holds no key; it was:" >&2
    sed 's/^/    /' "$d/key.xml" >&2
    return 1
  fi
  record AWS_ENDPOINT "http://127.0.0.1:14566"
  record AWS_REGION us-east-1
  record AWS_LAB_ACCESS_KEY "$key"
  record AWS_LAB_SECRET_KEY "$secret"
}

# PostgreSQL 15 on 15432 (LAB.md 7): initdb as the postgres user (it refuses root), SCRAM for
# TCP, trust on its own socket folder; a random superuser password for each lab.
start_postgres() {
  local d=$dir/postgres bin=/usr/lib/postgresql/15/bin pw
  if [ ! -x "$bin/initdb" ]; then
    echo "lab: PostgreSQL 15 is not installed ($bin/initdb); run tests/install-deps.sh" >&2
    return 1
  fi
  chmod a+x "$dir"  # the postgres user must reach its folder (mktemp -d makes 0700 ones)
  install -d -o postgres -g postgres -m 0700 "$d"
  pw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
  echo "$pw" >"$d/pw"
  chown postgres "$d/pw"
  if ! su postgres -s /bin/sh -c "$bin/initdb -D '$d/data' -U postgres -A scram-sha-256 --auth-local=trust \
      --pwfile='$d/pw' -E UTF8 --locale=C.UTF-8" >"$d/initdb.log" 2>&1; then
    echo "lab: initdb failed; its log:" >&2
    sed 's/^/    /' "$d/initdb.log" >&2
    return 1
  fi
  rm -f "$d/pw"
  if ! su postgres -s /bin/sh -c "$bin/pg_ctl -D '$d/data' -l '$d/server.log' -w -t 10 \
      -o '-p 15432 -c listen_addresses=127.0.0.1 -c unix_socket_directories=$d' start" >/dev/null 2>&1; then
    echo "lab: PostgreSQL did not start; its log:" >&2
    sed 's/^/    /' "$d/server.log" >&2
    return 1
  fi
  head -1 "$d/data/postmaster.pid" >"$dir/pids/postgres.pid"
  wait_tcp 15432 "PostgreSQL" "$d/server.log"
  record PG_HOST 127.0.0.1
  record PG_PORT 15432
  record PG_USER postgres
  record PG_PASSWORD "$pw"
  record PG_BIN "$bin"
}

stop_all() {
  shopt -s nullglob
  local pids=()
  for f in "$dir"/pids/*.pid; do
    local pid
    pid=$(cat "$f")
    kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
    rm -f "$f"
  done
  # PID 1 here reaps slowly: wait for the processes to leave the table or become zombies.
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 150); do
      [ -e "/proc/$pid" ] || break
      grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && break
      sleep 0.02
    done
  done
}

case $cmd in
  up)
    stop_all
    # Every run starts from nothing: no site, program or key left by an earlier one.
    rm -rf "$dir/sshd" "$dir/nginx" "$dir/supervisor" "$dir/bind" "$dir/powerdns" "$dir/s3" "$dir/postgres" "$dir/aws"
    : >"$env_file"
    record LAB_DIR "$dir"
    [ $# -gt 0 ] || set -- sshd nginx supervisor bind powerdns s3 postgres aws
    for c in "$@"; do
      case $c in
        sshd) start_sshd 1 ;;
        sshd:*) start_sshd "${c#sshd:}" ;;
        nginx) start_nginx ;;
        supervisor) start_supervisor ;;
        bind) start_bind ;;
        powerdns) start_powerdns ;;
        s3) start_s3 ;;
        postgres) start_postgres ;;
        aws) start_aws ;;
        *) echo "lab: unknown component '$c' (sshd[:N], nginx, supervisor, bind, powerdns, s3, postgres, aws)" >&2; stop_all; exit 1 ;;
      esac
    done
    ;;
  down) stop_all ;;
  *) echo "usage: lab.sh up|down DIR [components]" >&2; exit 1 ;;
esac
