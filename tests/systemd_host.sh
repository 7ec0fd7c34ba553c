# A host of its own with systemd as PID 1, for the systemd backend and for steps that must not
# touch this machine (firewall rules): its own PID, mount, UTS, IPC, cgroup and network
# namespaces; 198.51.100.2 on a veth from 198.51.100.1 here; /run and /etc/systemd/system on
# tmpfs, so what it enables or writes there stays in it; an sshd that its systemd runs, on
# port 22 with the lab's keys. Stopped by killing its PID 1 (the kernel ends every process
# of the namespace with it); its namespace, veth and cgroups are removed on exit.
# Units it is to know are written to $sd_units before sd_up; give them DefaultDependencies=no.
# Its systemd shares this machine's files, so what would act on them is kept from it: /tmp and
# /var/tmp are tmpfs of its own ($work, under /tmp, bound in again); sysinit.target (whose
# `systemd-tmpfiles --remove --boot` once emptied this machine's /tmp), every unit this machine
# has (its nginx, PostgreSQL, journald, tmpfiles…) and every generator (Debian's postgresql one
# makes units by itself) are masked. A unit with default dependencies then fails to start,
# naming sysinit.target, instead of booting this machine a second time.
# Usage: . tests/systemd_host.sh NAME   (after tests/lib.sh and the lab's env; root)
sd_name=$1
sd_ns=rc-sd-$1-$$
sd_units=$work/sd-units
sd_cgroup=reconcile-sd-$$
sd_init=  # its PID 1, as this machine numbers it
sd_cgroups=()  # its cgroup in each hierarchy its systemd writes to
# cgroup v2 alone, or v1 beside it (systemd's "hybrid" layout, as on the machines here).
[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && sd_layout=unified || sd_layout=hybrid
mkdir -p "$sd_units"

sd_cleanup() {
  if [ -n "$sd_init" ]; then
    kill -KILL "$sd_init" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$sd_init" 2>/dev/null || break; sleep 0.1; done
  fi
  ip netns del "$sd_ns" 2>/dev/null
  for d in "${sd_cgroups[@]}"; do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap sd_cleanup EXIT

# in_sd CMD…: CMD inside the host, talking to its systemd.
in_sd() { nsenter -t "$sd_init" -m -p -u -i -n -C "$@"; }

sd_up() {
  cat >"$sd_units/reconcile-host.target" <<UNIT
[Unit]
Description=a test host of reconcile's
DefaultDependencies=no
Wants=sshd-lab.service
UNIT
  cat >"$sd_units/sshd-lab.service" <<UNIT
[Unit]
DefaultDependencies=no
[Service]
ExecStart=/usr/sbin/sshd -D -e -f $work/sd-sshd.conf
UNIT
  test_sshd_conf "$work/sd-sshd.conf" 198.51.100.2 22 >"$work/sd-known_hosts"
  # What the host is given from this machine's /tmp and /var/tmp (the test's folder, and the
  # lab's when it lives there, as the demo's does: its sshd reads the lab's host key) is bound
  # in again at the same path over the host's own /tmp and /var/tmp.
  local carry_bind="" carry_move="" d n=0
  for d in "$work" ${LAB_DIR:+"$LAB_DIR"}; do
    case "$d" in
      /tmp/* | /var/tmp/*)
        n=$((n + 1))
        carry_bind+="mkdir -p /run/reconcile-carry$n && mount --bind '$d' /run/reconcile-carry$n"$'\n'
        carry_move+="mkdir -p '$d' && mount --move /run/reconcile-carry$n '$d' && rmdir /run/reconcile-carry$n"$'\n'
        ;;
    esac
  done
  # Inside the new namespaces: cgroupfs mounted afresh shows only this host's own subtree,
  # as a container's does, so its systemd makes its slices there and nowhere else.
  cat >"$work/sd-boot.sh" <<BOOT
#!/bin/bash
set -e
mount --make-rprivate /
if [ "$sd_layout" = unified ]; then
  mount -t cgroup2 cgroup2 /sys/fs/cgroup
else
  mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
  mkdir /sys/fs/cgroup/systemd /sys/fs/cgroup/unified
  mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
  mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
fi
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/sshd
# A /tmp and /var/tmp of its own, with the test's folder (sshd's config, the units, what the
# test gives the host) and the lab's at the same paths in them.
$carry_bind
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /var/tmp
$carry_move
mount -t tmpfs -o mode=755 tmpfs /etc/systemd/system
cp "$sd_units"/* /etc/systemd/system/
# Masks: a link to /dev/null in a directory read before the unit's own (a test's unit of the
# same name, copied above, wins).
for u in sysinit.target /lib/systemd/system/* /usr/local/lib/systemd/system/*; do
  u=\${u##*/}
  case \$u in *.slice | *.scope | *.wants | *.requires | *.d) continue ;; esac
  if [ ! -e "/etc/systemd/system/\$u" ] && [ ! -L "/etc/systemd/system/\$u" ]; then
    ln -s /dev/null "/etc/systemd/system/\$u"
  fi
done
# Generators are masked the same way, in the first directory systemd looks in for them.
mkdir -p /run/systemd/system-generators
for g in /lib/systemd/system-generators/* /usr/local/lib/systemd/system-generators/* /etc/systemd/system-generators/*; do
  if [ -e "\$g" ]; then ln -sf /dev/null "/run/systemd/system-generators/\${g##*/}"; fi
done
exec /lib/systemd/systemd --system --unit=reconcile-host.target --log-target=console
BOOT
  chmod +x "$work/sd-boot.sh"
  ip netns add "$sd_ns" || return 1
  ip link add "sd$$" type veth peer name "sdh$$" || return 1
  ip link set "sdh$$" netns "$sd_ns"
  ip addr add 198.51.100.1/24 dev "sd$$"
  ip link set "sd$$" up
  ip -n "$sd_ns" addr add 198.51.100.2/24 dev "sdh$$"
  ip -n "$sd_ns" link set lo up
  ip -n "$sd_ns" link set "sdh$$" up
  # A cgroup of its own, below this shell's, in each hierarchy its systemd writes to
  # (/proc/self/cgroup lines are ID:CONTROLLER:PATH; "" is the unified one).
  local id ctrl path mnt
  while IFS=: read -r id ctrl path; do
    case $ctrl in
      name=systemd) mnt=systemd ;;
      "") [ "$sd_layout" = unified ] && mnt= || mnt=unified ;;
      memory | pids | devices) mnt=$ctrl ;;
      *) continue ;;
    esac
    mnt=/sys/fs/cgroup/${mnt:+$mnt/}${path#/}
    mkdir -p "${mnt%/}/$sd_cgroup" && sd_cgroups+=("${mnt%/}/$sd_cgroup")
  done </proc/self/cgroup
  # The shell joins them first, so `unshare --cgroup` makes them the host's root (and before
  # `ip netns exec`, which mounts a /sys of its own without the cgroup hierarchies).
  bash -c "
    for d in ${sd_cgroups[*]}; do echo \$\$ >\$d/cgroup.procs; done
    exec ip netns exec '$sd_ns' unshare --cgroup --pid --fork --mount --mount-proc --uts --ipc '$work/sd-boot.sh'" \
    >"$work/sd-console.log" 2>&1 </dev/null &
  local outer=$!
  for _ in $(seq 100); do
    sd_init=$(pgrep -P "$outer" -x systemd)
    [ -n "$sd_init" ] && break
    sleep 0.05
  done
  if [ -z "$sd_init" ]; then
    bad "systemd did not start as the test host's PID 1; its console: $(cat "$work/sd-console.log")"
    return 1
  fi
  local state=
  for _ in $(seq 100); do
    state=$(in_sd systemctl is-system-running 2>/dev/null)
    [ "$state" = running ] && timeout 1 bash -c 'exec 3<>/dev/tcp/198.51.100.2/22' 2>/dev/null && return 0
    sleep 0.1
  done
  bad "the test host's systemd is '$state' and its sshd is not listening on 198.51.100.2:22; its console:
$(cat "$work/sd-console.log")
$(in_sd systemctl --no-pager status sshd-lab.service 2>&1)"
  return 1
}
