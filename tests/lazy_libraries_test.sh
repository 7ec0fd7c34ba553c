#!/usr/bin/env bash
# libcurl and libpq are opened by the first command that needs them, not by every command
# (engine/dynamic_library.h): a spec of local files maps neither; an http check opens libcurl
# and works through it; with either library gone, the command that needs it says which package
# to install and ends as any failed command does (a spec with an http check while it is read,
# before anything changes), while the others still run.
# Usage: lazy_libraries_test.sh PATH_TO_RECONCILE SOURCE_DIR   (root: a mount namespace hides
# a library from reconcile alone)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" lazy_libraries
cd "$work" || exit 1
mkdir root
for s in files http gate pg aws; do testdata $s >$s.toml; done
# The sonames this reconcile opens, as its build found them (libcurl.so.4 on Debian 12).
curl_so=$(grep -aoE 'libcurl[a-z-]*\.so\.[0-9]+' "$bin" | head -1)
pq_so=$(grep -aoE 'libpq\.so\.[0-9]+' "$bin" | head -1)
[ -n "$curl_so" ] && [ -n "$pq_so" ] && ok || bad "the binary names the sonames it opens: '$curl_so' '$pq_so'"
# Every stub's target is in the list checked when its library is opened (kNames): a stub left
# out of it would fail the first time it is called, not when the library is opened.
for stubs in "providers/http/libcurl.cc RECONCILE_CURL" "engine/libpq.cc RECONCILE_PQ"; do
  set -- $stubs
  listed=$(sed -n '/kNames\[\] = {/,/};/p' "$src/$1" | grep -o '"[A-Za-z_0-9]*"' | tr -d '"' | sort -u)
  called=$(grep -o "^ *$2([A-Za-z_0-9]*)" "$src/$1" | sed 's/.*(\(.*\))/\1/' | sort -u)
  [ -n "$called" ] && [ "$called" = "$listed" ] && ok ||
    bad "$1: the stubs forward to [$(echo $called)], kNames lists [$(echo $listed)]"
done

# What the dynamic loader opened, by soname (LD_DEBUG=files names each as it is mapped).
opened() { grep -o 'file=lib[a-z0-9_-]*\.so[.0-9]*' debug | sed 's/file=//' | sort -u; }

LD_DEBUG=files "$bin" apply files.toml --yes >out 2>debug && ok || bad "apply of files: $(grep -v '^ *[0-9]*:' debug)"
[ "$(cat root/a)" = a ] && ok || bad "the file was written"
libs=$(opened)
grep -q '^libssh2' <<<"$libs" && ok || bad "LD_DEBUG=files names what is loaded (libssh2 is linked): $libs"
grep -qE '^lib(curl|pq)\.' <<<"$libs" && bad "an apply of local files opened libcurl or libpq: $libs" || ok
grep -qE '^lib(gnutls|krb5|ldap)' <<<"$libs" && bad "… or what they need: $libs" || ok
LD_DEBUG=files "$bin" --version >out 2>debug && ! opened | grep -qE '^lib(curl|pq)\.' && ok || bad "--version opened them"

# An http check opens libcurl and speaks through it: a refusal is said as libcurl's errno.
LD_DEBUG=files "$bin" check http.toml >out 2>debug && bad "a check of a closed port held" || ok
opened | grep -q '^libcurl\.so' && ok || bad "the http check opened libcurl: $(opened)"
grep -q "connection refused" out && ok || bad "the check says the port refused: $(cat out)"

# The libraries made unreadable in a mount namespace of this test's own: dlopen fails there as
# it would on a machine without the package.
hidden() { # hidden SONAME COMMAND...: runs reconcile with the library gone
  local so=$1
  shift
  local file
  file=$(ldconfig -p | awk -v so="$so" '$1 == so && /x86-64|64bit/ { print $NF; exit }')
  [ -n "$file" ] || file=$(ldconfig -p | awk -v so="$so" '$1 == so { print $NF; exit }')
  [ -n "$file" ] || { echo "no $so on this machine (ldconfig -p)"; return 99; }
  unshare --mount --propagation private -- sh -c 'mount --bind /dev/null "$(readlink -f "$1")" && shift && exec "$@"' \
    hide "$file" "$@"
}
hidden "$curl_so" "$bin" check http.toml >out 2>&1
rc=$?
[ $rc -eq 1 ] && ok || bad "without libcurl the check fails with 1 (not $rc: a crash, or unshare refused): $(cat out)"
grep -qF "needs $curl_so, which could not be loaded" out && grep -q "install the libcurl[a-z0-9-]* package" out && ok ||
  bad "the failure says what to install: $(cat out)"
# ... and before a stage changes anything: the gate could only fail once its changes were made.
rm -f root/a
hidden "$curl_so" "$bin" apply gate.toml --yes >out 2>&1 && bad "an apply gated on an http check ran without libcurl" || ok
grep -qE "gate.toml:[0-9]+:[0-9]+: .*needs $curl_so" out && [ ! -e root/a ] && [ ! -e gate.journal ] && ok ||
  bad "refused at the spec's url, nothing changed: $(cat out; ls root)"
hidden "$curl_so" "$bin" validate gate.toml >out 2>&1 && bad "validate passed a check that cannot run here" || ok
# Another library where libcurl should be (a copy from elsewhere, another version): said as
# such when opened, not an abort at the first function it lacks.
swapped() { # swapped SONAME COMMAND...: runs reconcile with libz.so.1 in the library's place
  local file zlib
  file=$(readlink -f "$(ldconfig -p | awk -v so="$1" '$1 == so { print $NF; exit }')")
  zlib=$(readlink -f "$(ldconfig -p | awk '$1 == "libz.so.1" { print $NF; exit }')")
  shift
  unshare --mount --propagation private -- sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' swap "$zlib" "$file" "$@"
}
swapped "$curl_so" "$bin" check http.toml >out 2>&1
rc=$?
[ $rc -eq 1 ] && grep -qF "needs $curl_so, but the one found has no curl_" out && grep -q "install the libcurl" out && ok ||
  bad "a libcurl of another build is said, exit 1 (not $rc): $(cat out)"
swapped "$pq_so" "$bin" plan pg.toml >out 2>&1
rc=$?
[ $rc -eq 1 ] && grep -qF "needs $pq_so, but the one found has no PQ" out && ok ||
  bad "a libpq of another build is said, exit 1 (not $rc): $(cat out)"
rm -rf root/a files.journal
hidden "$curl_so" "$bin" apply files.toml --yes >out 2>&1 && [ "$(cat root/a)" = a ] && ok ||
  bad "without libcurl an apply of files still runs: $(cat out)"
# An AWS request libcurl never sent is said as such, not as an endpoint that did not answer.
export LAZY_AWS_KEY=AKIDLAZY LAZY_AWS_SECRET=lazy-secret
hidden "$curl_so" "$bin" plan aws.toml >out 2>&1 && bad "an AWS plan ran without libcurl" || ok
grep -qF "nothing was sent: " out && grep -q "install the libcurl[a-z0-9-]* package" out && ! grep -q "no answer" out &&
  ok || bad "the AWS failure says the request was never sent, and what to install: $(cat out)"
"$bin" plan aws.toml >out 2>&1 && bad "an AWS plan against a closed port passed" || ok
grep -q "no answer from http://127.0.0.1:1" out && ok || bad "with libcurl, the closed port is what is said: $(cat out)"

hidden "$pq_so" "$bin" plan pg.toml >out 2>&1
rc=$?
[ $rc -eq 1 ] && ok || bad "without libpq a journal in PostgreSQL cannot be read: exit 1, not $rc: $(cat out)"
grep -q "cannot reach the journal .*needs $pq_so, which could not be loaded" out &&
  grep -q "install the libpq[0-9]* package" out && ok || bad "the failure says what to install: $(cat out)"
# With libpq there, the same spec gets as far as the server (none listens on port 1).
"$bin" plan pg.toml >out 2>&1 && bad "a journal on a closed port was read" || ok
grep -q "cannot reach the journal" out && ! grep -q "could not be loaded" out && ok || bad "libpq was opened: $(cat out)"
finish
