#!/usr/bin/env bash
# A fleet: HOSTS SSH hosts (the lab's sshd instances on loopback), each with FILES `file`
# resources and one runit service.
#  1. Side by side, same run, on the first ANSIBLE_HOSTS of them: reconcile against Ansible
#     doing the same (`ansible-playbook --check --diff`, forks 20, pipelining, ControlPersist;
#     copy and community.general.runit) — plan converged, plan with 10% changed (a tenth of
#     the files drifted, a tenth of the services stopped), apply of those changes, and plan
#     with the hosts behind one bastion (jump = "bastion"; Ansible through ProxyJump).
#  2. reconcile's plan at 10 hosts and at HOSTS, how it grows, and the floor under it here:
#     every sshd runs on this machine's cores, so the servers' own CPU for the logins and
#     probes (the machine's CPU time during the plan, from /proc/stat, less reconcile's own)
#     divided by the cores is a time no client can beat.
#  3. Connections one plan opens: one per host, plus one for a bastion (20 hosts behind one).
# Targets (the issue's): plan <= 0.05x Ansible; plan at HOSTS <= 2x plan at 10 hosts.
# Usage: bench/fleet/run.sh [HOSTS] [FILES]   (defaults 100 100; root, like the lab)
#   RUNS=N reconcile's runs per figure, the median printed (default 3); Ansible runs once.
#   ANSIBLE_HOSTS=N the hosts of part 1 (default 10: Ansible takes ~6 min a run there, and
#   time grows with hosts x files; 100 takes hours on 2 cores).
#   PARTS="side scale" (default) or one of them: part 1 (with Ansible), or parts 2 and 3.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-100}
per=${2:-100}
runs=${RUNS:-3}
na=${ANSIBLE_HOSTS:-10}
[ "$n" -ge 21 ] && [ "$na" -ge 1 ] && [ "$na" -lt "$n" ] ||
  { echo "bench/fleet: HOSTS at least 21 (20 behind a bastion and the bastion), ANSIBLE_HOSTS below it" >&2; exit 2; }
unset LAB_ENV  # its own lab: HOSTS sshd instances
command -v ansible-playbook >/dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ansible >/dev/null
. bench/lib.sh fleet "sshd:$n"
hosts=($SSH_PORTS)
bastion=${hosts[$((n - 1))]}  # the last lab sshd; the hosts behind it are the first ones
runsvdir_pid=
stop() {
  set +e  # every part of the clean-up runs, whatever one of them says
  local s
  # Ansible's persistent connections (ControlPersist), each closed through its socket.
  for s in "$work"/ansible/cp-*/*; do [ -S "$s" ] && ssh -O exit -o ControlPath="$s" x >/dev/null 2>&1; done
  if [ -n "$runsvdir_pid" ]; then
    kill -HUP "$runsvdir_pid"  # runsvdir stops each runsv (and its service) and exits
    wait "$runsvdir_pid" 2>/dev/null
    for _ in $(seq 50); do pgrep -f "^runsv fleet-h" >/dev/null || break; sleep 0.1; done
  fi
  tests/lab/lab.sh down "$bench_lab"
  rm -rf "$work"
}
trap stop EXIT
fail() { echo "bench/fleet: $*" >&2; exit 1; }

# The services: one runsvdir of the bench's own watching $work/service; host i's is fleet-hI.
mkdir -p "$work/sv" "$work/service"
for i in "${!hosts[@]}"; do
  mkdir -p "$work/sv/fleet-h$i" "$work/h$i"
  printf '#!/bin/sh\nexec sleep 100000\n' >"$work/sv/fleet-h$i/run"
  chmod +x "$work/sv/fleet-h$i/run"
done
runsvdir -P "$work/service" >/dev/null 2>&1 &
runsvdir_pid=$!

# spec COUNT [jumped]: the first COUNT hosts, direct or each behind the bastion.
spec() {
  echo 'version = 1'
  echo 'name = "fleet-bench"'
  [ -z "${2:-}" ] || printf '[host.bastion]\naddress = "127.0.0.1"\nport = %s\nuser = "%s"\nidentity = "%s"\nknown_hosts = "%s"\n' \
    "$bastion" "$SSH_USER" "$SSH_IDENTITY" "$SSH_KNOWN_HOSTS"
  for i in $(seq 0 $(($1 - 1))); do
    printf '[host.h%s]\naddress = "127.0.0.1"\nport = %s\nuser = "%s"\nidentity = "%s"\nknown_hosts = "%s"\n' \
      "$i" "${hosts[$i]}" "$SSH_USER" "$SSH_IDENTITY" "$SSH_KNOWN_HOSTS"
    [ -z "${2:-}" ] || echo 'jump = "bastion"'
    printf '[service.h%s]\nhost = "h%s"\nname = "fleet-h%s"\nmanager = "runit"\nstate = "running"\nenabled = true\n' "$i" "$i" "$i"
    printf 'runit_service_dir = "%s/service"\nrunit_sv_dir = "%s/sv"\n' "$work" "$work"
    for j in $(seq 1 "$per"); do
      printf '[file.h%s_f%s]\nhost = "h%s"\npath = "%s/h%s/f%s"\ncontent = "file %s on host %s\\n"\nmode = "0644"\n' \
        "$i" "$j" "$i" "$work" "$i" "$j" "$j" "$i"
    done
  done
}
spec "$n" >"$work/fleet.toml"
spec 10 >"$work/fleet10.toml"
spec "$na" >"$work/side.toml"
spec "$na" jumped >"$work/side-jumped.toml"
spec 20 jumped >"$work/jumped20.toml"

mkdir -p "$work/ansible"
inventory() {  # inventory COUNT [jumped]
  echo '[fleet]'
  for i in $(seq 0 $(($1 - 1))); do
    echo "h$i ansible_host=127.0.0.1 ansible_port=${hosts[$i]} ansible_user=$SSH_USER ansible_ssh_private_key_file=$SSH_IDENTITY"
  done
  [ -z "${2:-}" ] || printf '[fleet:vars]\nansible_ssh_common_args="-o ProxyJump=%s@127.0.0.1:%s"\n' "$SSH_USER" "$bastion"
}
inventory "$na" >"$work/ansible/side"
inventory "$na" jumped >"$work/ansible/side-jumped"
cat >"$work/ansible/play.yml" <<PLAY
- hosts: fleet
  gather_facts: false
  tasks:
    - name: files
      ansible.builtin.copy:
        dest: "$work/{{ inventory_hostname }}/f{{ item }}"
        content: "file {{ item }} on host {{ inventory_hostname[1:] }}\n"
        mode: "0644"
      loop: "{{ range(1, $per + 1) | list }}"
    - name: service
      community.general.runit:
        name: "fleet-{{ inventory_hostname }}"
        state: started
        enabled: true
        service_dir: "$work/service"
        service_src: "$work/sv"
PLAY
printf "[defaults]\n" >"$work/ansible/ansible.cfg"
# ssh's options for the bastion hop too (ProxyJump runs ssh again, which reads only -F files).
printf 'Host *\n  UserKnownHostsFile %s\n  IdentityFile %s\n  IdentitiesOnly yes\n  User %s\n' \
  "$SSH_KNOWN_HOSTS" "$SSH_IDENTITY" "$SSH_USER" >"$work/ansible/ssh_config"
# Everything Ansible keeps (its home, temp files on both sides) in the bench's folder.
export ANSIBLE_PIPELINING=1 ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_FORKS=20 ANSIBLE_NOCOLOR=1 \
  ANSIBLE_SSH_ARGS="-F $work/ansible/ssh_config -o ControlMaster=auto -o ControlPersist=60s" \
  ANSIBLE_CONFIG=$work/ansible/ansible.cfg ANSIBLE_HOME=$work/ansible/home ANSIBLE_LOCAL_TEMP=$work/ansible/tmp \
  ANSIBLE_REMOTE_TEMP=$work/ansible/rtmp

# world DRIFT_EVERY_N: the files as the spec has them but every Nth drifted, and every Nth
# host's service stopped (none drifted when N is larger than the fleet).
world() {
  for i in "${!hosts[@]}"; do
    for j in $(seq 1 "$per"); do
      if [ $((j % $1)) -eq 0 ]; then printf 'drifted\n' >"$work/h$i/f$j"; else printf 'file %s on host %s\n' "$j" "$i" >"$work/h$i/f$j"; fi
    done
    chmod 644 "$work/h$i"/f*
    ln -sfn "$work/sv/fleet-h$i" "$work/service/fleet-h$i"
  done
  # runsvdir looks for new services every 5 s.
  for i in "${!hosts[@]}"; do
    for _ in $(seq 150); do sv status "$work/service/fleet-h$i" 2>/dev/null | grep -q '^run:' && break; sleep 0.1; done
    sv up "$work/service/fleet-h$i" >/dev/null
  done
  for i in "${!hosts[@]}"; do [ $(((i + 1) % $1)) -ne 0 ] || sv -w 10 down "$work/service/fleet-h$i" >/dev/null; done
}
logins() { cat "$bench_lab"/sshd/sshd_*.log | grep -c "Accepted publickey" || true; }
# The machine's CPU seconds so far, every process's (user, nice, system, irq, softirq).
machine_cpu() { awk '/^cpu /{print ($2 + $3 + $4 + $7 + $8) / '"$(getconf CLK_TCK)"'; exit}' /proc/stat; }
seconds() {  # seconds CMD…: wall time; CMD's output in $work/last.out
  local s e
  s=$(date +%s.%N)
  "$@" >"$work/last.out" 2>&1 || true
  e=$(date +%s.%N)
  echo "$e - $s" | bc -l
}
# login_floor COUNT: the servers' CPU / cores for COUNT logins that only run `true` (OpenSSH's
# ssh, all at once, as many as the plan opens): the part of the floor no probe can save.
login_floor() {
  local c0 i script=""
  for i in $(seq 0 $(($1 - 1))); do
    script+="ssh -F $work/ansible/ssh_config -o BatchMode=yes -p ${hosts[$i]} 127.0.0.1 true & "
  done
  c0=$(machine_cpu)
  /usr/bin/time -f "%U %S" -o "$work/own" bash -c "${script}wait"
  sleep 0.3
  echo "($(machine_cpu) - $c0 - $(tr ' ' '+' <"$work/own")) / $cores" | bc -l
}
# median_plan SPEC EXPECT: reconcile plan's median wall time of $runs, each output checked;
# the servers' CPU for one plan (the machine's, less reconcile's own) in $work/plan.cpu.
median_plan() {
  local t=() i c0 own=0
  c0=$(machine_cpu)
  for i in $(seq "$runs"); do
    t+=("$(seconds /usr/bin/time -f "%U %S" -o "$work/own" "$bin" plan "$1")")
    grep -q "$2" "$work/last.out" || fail "reconcile plan of $1: $(tail -20 "$work/last.out")"
    own=$(echo "$own + $(tr ' ' '+' <"$work/own")" | bc -l)
  done
  sleep 0.3  # the sessions' last processes (shells, sshd's own) finish
  echo "($(machine_cpu) - $c0 - $own) / $runs" | bc -l >"$work/plan.cpu"
  printf '%s\n' "${t[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p"
}
ansible_run() {  # ansible_run INVENTORY [ARGS…]: cold, as reconcile is: connections of its own
  ANSIBLE_SSH_CONTROL_PATH_DIR=$(mktemp -d "$work/ansible/cp-XXXX")
  export ANSIBLE_SSH_CONTROL_PATH_DIR
  seconds ansible-playbook -i "$1" "${@:2}" "$work/ansible/play.yml" >"$work/ansible.time"
  grep -q "PLAY RECAP" "$work/last.out" && ! grep -qE "(unreachable|failed)=[1-9]" "$work/last.out" ||
    fail "ansible: $(tail -30 "$work/last.out")"
  cat "$work/ansible.time"
}
row() { printf '%-44s %10.2f %10.2f %8.3fx\n' "$1" "$2" "$3" "$(echo "$2 / $3" | bc -l)"; }
cores=$(nproc)

echo "fleet: $per files + 1 runit service per host; $cores cores; reconcile median of $runs, Ansible once"
parts=${PARTS:-side scale}
if [[ " $parts " == *" side "* ]]; then
  echo
  printf '%-44s %10s %10s %9s\n' "side by side, $na hosts ($((na * (per + 1))) resources)" reconcile_s ansible_s ratio
  world 1000000
  r=$(median_plan "$work/side.toml" "No changes")
  a=$(ansible_run "$work/ansible/side" --check --diff)
  grep -qE "^h0 .*changed=0" "$work/last.out" || fail "ansible saw changes in a converged fleet: $(grep "^h0 " "$work/last.out")"
  row "plan, converged" "$r" "$a"
  ratio_converged=$(echo "$r / $a" | bc -l) a_converged=$a

  world 10
  r=$(median_plan "$work/side.toml" "Plan:")
  summary=$(grep "^Plan:" "$work/last.out")
  a=$(ansible_run "$work/ansible/side" --check --diff)
  row "plan, 10% changed" "$r" "$a"
  echo "    reconcile: $summary"
  echo "    ansible h9: $(grep -E "^h9 " "$work/last.out" | tr -s ' ')"

  r=$(seconds "$bin" apply "$work/side.toml" --yes)
  grep -q "Apply complete" "$work/last.out" || fail "reconcile apply: $(tail -20 "$work/last.out")"
  "$bin" plan "$work/side.toml" --detailed-exitcode >/dev/null 2>&1 || fail "reconcile: changes left after apply"
  world 10
  a=$(ansible_run "$work/ansible/side")
  row "apply of those changes" "$r" "$a"

  world 1000000
  r=$(median_plan "$work/side-jumped.toml" "No changes")
  a=$(ansible_run "$work/ansible/side-jumped" --check --diff)
  row "plan, converged, behind one bastion" "$r" "$a"

fi
if [[ " $parts " == *" scale "* ]]; then
  world 1000000
  echo
  printf '%-44s %10s %10s %9s %10s\n' "reconcile at scale: plan, converged" plan_s "floor_s" "over" logins_s
  r10=$(median_plan "$work/fleet10.toml" "No changes")
  f10=$(echo "$(cat "$work/plan.cpu") / $cores" | bc -l)
  printf '%-44s %10.2f %10.2f %8.3fx %10.2f\n' "10 hosts ($((10 * (per + 1))) resources)" "$r10" "$f10" "$(echo "$r10 / $f10" | bc -l)" \
    "$(login_floor 10)"
  before=$(logins)
  rn=$(median_plan "$work/fleet.toml" "No changes")
  conns=$(($(logins) - before))
  fn=$(echo "$(cat "$work/plan.cpu") / $cores" | bc -l)
  printf '%-44s %10.2f %10.2f %8.3fx %10.2f\n' "$n hosts ($((n * (per + 1))) resources)" "$rn" "$fn" "$(echo "$rn / $fn" | bc -l)" \
    "$(login_floor "$n")"
  printf 'growth 10 -> %s hosts: %.2fx (target <= 2x); the floor grows %.2fx\n' "$n" "$(echo "$rn / $r10" | bc -l)" \
    "$(echo "$fn / $f10" | bc -l)"
  echo "  floor: the servers' CPU for the plan's logins and probes (the machine's, less reconcile's own) / $cores cores;"
  echo "  every server runs here, so it grows with the hosts; on a fleet each host pays its own. logins: the"
  echo "  same for as many logins that only run \`true\` (OpenSSH's ssh): the part no probe can save."
  before=$(logins)
  median_plan "$work/jumped20.toml" "No changes" >/dev/null
  jconns=$(($(logins) - before))
  echo
  echo "connections opened by $runs plans: $n hosts: $conns (target $((runs * n))); 20 hosts behind one bastion: $jconns (target $((runs * 21)))"
fi
if [[ " $parts " == *" side "* ]]; then
  printf 'target: plan <= 0.05x Ansible: %.3fx (converged, %s hosts side by side)\n' "$ratio_converged" "$na"
  [ -z "${rn:-}" ] ||
    printf '  and reconcile on all %s hosts against Ansible on %s: %.3fx (Ansible on all %s does the same work for more hosts)\n' \
      "$n" "$na" "$(echo "$rn / $a_converged" | bc -l)" "$n"
fi
