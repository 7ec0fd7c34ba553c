#!/usr/bin/env bash
# Plan 1,000 `file` resources on 10 SSH hosts (10 sshd of the lab), converged and with 10%
# changed, against `ansible-playbook --check --diff` (forks 10, pipelining) doing the same
# comparison of the same files on the same hosts. Prints both times and the ratio.
# Usage: bench/ssh_plan/run.sh [FILES_PER_HOST] [CASES]   (needs root, like the lab)
#   CASES: "converged changed" (default), or one of them — Ansible takes minutes for each.
set -euo pipefail
cd "$(dirname "$0")/../.."
per=${1:-100}
tests/install-deps.sh
command -v ansible-playbook >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ansible >/dev/null
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DRECONCILE_TESTS=OFF -DRECONCILE_BENCH=ON >/dev/null
cmake --build build-bench -j2 --target reconcile >/dev/null
bin=$PWD/build-bench/reconcile
lab=$PWD/build-bench/lab-ssh
work=$(mktemp -d /tmp/reconcile-ssh-bench-XXXXXX)
trap 'tests/lab/lab.sh down "$lab"; rm -rf "$work"' EXIT
tests/lab/lab.sh up "$lab" sshd:10
. "$lab/lab.env"

# The same files for both tools: host i owns $work/hI/fJ.
hosts=($SSH_PORTS)
spec=$work/spec.toml
{
  echo 'version = 1'
  echo 'name = "ssh-bench"'
  for i in "${!hosts[@]}"; do
    printf '[host.h%s]\naddress = "127.0.0.1"\nport = %s\nuser = "%s"\nidentity = "%s"\nknown_hosts = "%s"\n' \
      "$i" "${hosts[$i]}" "$SSH_USER" "$SSH_IDENTITY" "$SSH_KNOWN_HOSTS"
  done
  for i in "${!hosts[@]}"; do
    for j in $(seq 1 "$per"); do
      printf '[file.h%s_f%s]\nhost = "h%s"\npath = "%s/h%s/f%s"\ncontent = "file %s on host %s\\n"\nmode = "0644"\n' \
        "$i" "$j" "$i" "$work" "$i" "$j" "$j" "$i"
    done
  done
} >"$spec"
mkdir -p "$work/ansible"
{
  echo '[bench]'
  for i in "${!hosts[@]}"; do
    echo "h$i ansible_host=127.0.0.1 ansible_port=${hosts[$i]} ansible_user=$SSH_USER ansible_ssh_private_key_file=$SSH_IDENTITY"
  done
} >"$work/ansible/inventory"
cat >"$work/ansible/play.yml" <<PLAY
- hosts: bench
  gather_facts: false
  tasks:
    - name: files
      ansible.builtin.copy:
        dest: "$work/{{ inventory_hostname }}/f{{ item }}"
        content: "file {{ item }} on host {{ inventory_hostname[1:] }}\n"
        mode: "0644"
      loop: "{{ range(1, $per + 1) | list }}"
PLAY
printf "[defaults]\n" >"$work/ansible/ansible.cfg"
export ANSIBLE_PIPELINING=1 ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_FORKS=10 ANSIBLE_NOCOLOR=1 \
  ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=$SSH_KNOWN_HOSTS -o IdentitiesOnly=yes" \
  ANSIBLE_CONFIG=$work/ansible/ansible.cfg ANSIBLE_LOCAL_TEMP=$work/ansible/tmp
write_files() { # write_files CHANGED_EVERY_N
  for i in "${!hosts[@]}"; do
    mkdir -p "$work/h$i"
    for j in $(seq 1 "$per"); do
      if [ $((j % $1)) -eq 0 ]; then printf 'drifted\n' >"$work/h$i/f$j"; else printf 'file %s on host %s\n' "$j" "$i" >"$work/h$i/f$j"; fi
      chmod 644 "$work/h$i/f$j"
    done
  done
}
seconds() { local s e; s=$(date +%s.%N); "$@" >"$work/last.out" 2>&1 || true; e=$(date +%s.%N); echo "$e - $s" | bc -l; }

printf '%-30s %12s %12s %8s\n' "$((per * ${#hosts[@]})) files on ${#hosts[@]} hosts" reconcile_s ansible_s ratio
for case in ${2:-converged changed}; do
  if [ $case = converged ]; then write_files 100000; else write_files 10; fi
  r=$(seconds "$bin" plan "$spec")
  grep -q "Plan:\|No changes" "$work/last.out" || { echo "reconcile failed:"; cat "$work/last.out"; exit 1; }
  rsum=$(grep -E "^(Plan:|No changes)" "$work/last.out")
  a=$(seconds ansible-playbook -i "$work/ansible/inventory" --check --diff -f 10 "$work/ansible/play.yml")
  grep -q "PLAY RECAP" "$work/last.out" || { echo "ansible failed:"; tail -20 "$work/last.out"; exit 1; }
  asum=$(grep -E "^h0 " "$work/last.out" | tr -s ' ')
  printf '%-30s %12.2f %12.2f %7.3fx\n' "plan, $case" "$r" "$a" "$(echo "$r / $a" | bc -l)"
  echo "    reconcile: $rsum"
  echo "    ansible h0: $asum"
done
echo "target: reconcile <= 0.1x ansible"
