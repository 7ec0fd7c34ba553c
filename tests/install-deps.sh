#!/usr/bin/env bash
# Installs every Debian package reconcile needs to build and test (the lab's servers too). Quick when they are all
# there already; otherwise `apt-get update` first, as on a fresh machine. Needs root.
set -euo pipefail
packages=(
  g++ cmake make pkg-config
  clang-format  # tests/format_test.sh: the code follows .clang-format
  clang libclang-rt-14-dev  # the spec fuzzer (tests/fuzz/run.sh): clang++ with libFuzzer and the sanitizers
  libboost-graph-dev libtomlplusplus-dev libssh2-1-dev libcurl4-openssl-dev libssl-dev
  doctest-dev nlohmann-json3-dev libcli11-dev
  libldns-dev
  libjemalloc-dev  # the binary's allocator (CMakeLists.txt)
  openssh-server openssh-client nginx supervisor procps python3 curl openssl sudo
  bind9 bind9-utils bind9-dnsutils pdns-server pdns-backend-sqlite3 sqlite3
  libpugixml-dev rclone awscli
  libpq-dev postgresql postgresql-client
  nftables iproute2 coreutils util-linux bash graphviz
  dpkg-dev man-db groff-base binutils  # the .deb (cpack runs dpkg-shlibdeps) and reconcile(1): tests/install_test.sh
  systemd  # booted as PID 1 of a test host of its own (tests/systemd_host.sh), never of this machine
  runit  # runsvdir, runsv and sv only (tests/runit_test.sh); without runit-init it never becomes PID 1
  chromium  # headless, draws history --format html to a PNG that tests/history_test.sh checks and keeps to look at
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "reconcile: these packages are missing: ${missing[*]}" >&2
    echo "reconcile: run this script as root (or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The lab's unprivileged login for `sudo = true` hosts: no password (and not locked, which
# sshd without PAM would refuse), root through sudo without one.
lab_user=reconcile-deploy
if ! id "$lab_user" >/dev/null 2>&1 || [ ! -f /etc/sudoers.d/reconcile-lab ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "reconcile: the lab needs a user $lab_user with sudo: run this script as root" >&2
    exit 1
  fi
  id "$lab_user" >/dev/null 2>&1 || useradd -m -s /bin/sh "$lab_user"
  usermod -p '*' "$lab_user"
  echo "$lab_user ALL=(root) NOPASSWD: ALL" >/etc/sudoers.d/reconcile-lab
  chmod 0440 /etc/sudoers.d/reconcile-lab
fi

# The lab's S3 server comes from npm (LAB.md 1a'): @20minutes/s3rver 4.0.4 needs node >= 20,
# which this machine kind has; Debian's nodejs is older.
s3_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/lab/s3" && pwd)
if [ ! -d "$s3_dir/node_modules/@20minutes/s3rver" ]; then
  if ! command -v npm >/dev/null; then
    echo "reconcile: the lab's S3 server needs node >= 20 and npm; install them, then run this again" >&2
    exit 1
  fi
  (cd "$s3_dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
