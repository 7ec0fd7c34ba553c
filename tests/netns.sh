# Two network namespaces for tests of what crosses a network: a client (192.0.2.1) and a
# server (192.0.2.2) on a veth pair, the server with an sshd of its own (the lab's keys, port
# 2222). Everything started here is stopped by PID and both namespaces are deleted on exit.
# Usage: . tests/netns.sh NAME   (after tests/lib.sh and the lab's env; root)
client=rc-$1-c-$$
server=rc-$1-s-$$
netns_pids=()
netns_cleanup() {
  for p in "${netns_pids[@]}"; do kill "$p" 2>/dev/null; done
  ip netns del "$client" 2>/dev/null
  ip netns del "$server" 2>/dev/null
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap netns_cleanup EXIT
in_client() { ip netns exec "$client" "$@"; }
in_server() { ip netns exec "$server" "$@"; }
# server_bg CMD…: runs CMD in the server namespace in the background, stopped at exit.
# (`ip netns exec` becomes CMD, so its PID is CMD's.)
server_bg() {
  ip netns exec "$server" "$@" &
  netns_pids+=($!)
}
# reaches NS ADDRESS PORT: 0 when a TCP connection opens; why not in $work/why.
reaches() { ip netns exec "$1" timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$2" "$3" 2>"$work/why"; }

netns_up() {
  set -e
  ip netns add "$client"
  ip netns add "$server"
  ip link add "c$$" type veth peer name "s$$"
  ip link set "c$$" netns "$client"
  ip link set "s$$" netns "$server"
  ip -n "$client" addr add 192.0.2.1/24 dev "c$$"
  ip -n "$server" addr add 192.0.2.2/24 dev "s$$"
  for ns in "$client" "$server"; do ip -n "$ns" link set lo up; done
  ip -n "$client" link set "c$$" up
  ip -n "$server" link set "s$$" up
  set +e
  test_sshd_conf "$work/sshd.conf" 192.0.2.2 2222 >"$work/known_hosts"
  server_bg /usr/sbin/sshd -D -e -f "$work/sshd.conf" 2>"$work/sshd.log"
}

# wait_reaches NS ADDRESS PORT WHAT: up to 10 s for a listener (a loaded CI machine starts
# servers slowly); fails the test loudly otherwise.
wait_reaches() {
  for _ in $(seq 100); do
    reaches "$1" "$2" "$3" && return 0
    sleep 0.1
  done
  bad "$4 is not listening on $2:$3: $(cat "$work/why")"
  return 1
}
