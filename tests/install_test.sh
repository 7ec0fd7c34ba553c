#!/usr/bin/env bash
# reconcile installed like a tool. `cmake --install` into a folder of the test's own, and
# `cpack -G DEB` into another: the binary, reconcile(1), the bash completion and the docs in
# their places, the package's Depends the Debian packages of the libraries the binary uses.
# Then the .deb is installed on this machine for real (dpkg -i), `reconcile --version`,
# `man -w reconcile` and the completion are run as a user would, and it is purged again (a trap
# purges it on any failure too). A reconcile this test did not install is never touched: one
# already there fails the test. Needs root.
# Usage: install_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
. "$src/tests/lib.sh" install
build=$(cd "$(dirname "$bin")" && pwd)
fatal() { bad "$*"; finish || exit 1; }

[ "$(id -u)" -eq 0 ] || fatal "needs root: it installs the .deb with dpkg -i (run it as root, as CI does)"
[ -f "$build/CPackConfig.cmake" ] || fatal "no $build/CPackConfig.cmake: configure the build with cmake first"
version=$(sed -n 's/^project(reconcile VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
deb_name=reconcile_${version}_$(dpkg --print-architecture).deb
# Where each kind of file goes, under the prefix (/usr for the package).
shipped=(bin/reconcile share/man/man1/reconcile.1.gz share/bash-completion/completions/reconcile
  share/doc/reconcile/README.md)
for doc in "$src"/docs/*.md; do shipped+=("share/doc/reconcile/docs/$(basename "$doc")"); done

# cmake --install into a folder of our own: everything in place, the same binary.
cmake --install "$build" --prefix "$work/prefix" >"$work/cmake-install.log" 2>&1 ||
  fatal "cmake --install failed: $(tail -5 "$work/cmake-install.log")"
for f in "${shipped[@]}"; do [ -f "$work/prefix/$f" ] && ok || bad "cmake --install put no $f"; done
cmp -s "$work/prefix/share/doc/reconcile/README.md" "$src/README.md" && ok || bad "installed README.md differs"
[ "$("$work/prefix/bin/reconcile" --version)" = "$("$bin" --version)" ] && ok ||
  bad "the binary cmake --install put in place says another version"

# cpack -G DEB into a folder of our own.
(cd "$work" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/pkg") >"$work/cpack.log" 2>&1 ||
  fatal "cpack failed: $(tail -20 "$work/cpack.log")"
deb=$work/pkg/$deb_name
[ -f "$deb" ] || fatal "cpack made no $deb_name: $(ls "$work/pkg")"

dpkg-deb -f "$deb" Package Version Section Maintainer >"$work/fields"
grep -qx "Package: reconcile" "$work/fields" && ok || bad "Package: $(cat "$work/fields")"
grep -qx "Version: $version" "$work/fields" && ok || bad "Version is not $version: $(cat "$work/fields")"
grep -qx "Section: utils" "$work/fields" && ok || bad "Section is not utils: $(cat "$work/fields")"
grep -q "^Maintainer: ..*<.*@.*>" "$work/fields" && ok || bad "no Maintainer: $(cat "$work/fields")"

# Depends: the Debian package of every library the binary links (its NEEDED entries, found
# where the loader finds them), and by name the ones the issue lists: libcurl4 and libpq5 among
# them, which the binary opens at first use rather than links (engine/dynamic_library.h).
depends=$(dpkg-deb -f "$deb" Depends)
depends_names=" $(sed -e 's/([^)]*)//g' -e 's/[,|]/ /g' <<<"$depends" | tr -s ' ') "
owner_of() { # owner_of PATH: the package that ships PATH; /lib and /usr/lib are one folder here
  local p=$1 alt
  case "$p" in /usr/*) alt=${p#/usr} ;; *) alt=/usr$p ;; esac
  { dpkg -S "$p" 2>/dev/null || dpkg -S "$alt" 2>/dev/null || true; } | sed -n '1s/:.*//p'
}
needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ "$(wc -w <<<"$needed")" -ge 5 ] && ok || bad "readelf finds too few NEEDED libraries: $needed"
for so in $needed; do
  path=$(ldd "$bin" | awk -v so="$so" '$1 == so { print $3 }')
  pkg=$(owner_of "$(readlink -f "$path")")
  [ -n "$pkg" ] || pkg=$(owner_of "$path")
  if [ -z "$pkg" ]; then bad "$so ($path) belongs to no Debian package"; continue; fi
  [[ $depends_names == *" $pkg "* ]] && ok || bad "Depends lacks $pkg (for $so): $depends"
done
for pkg in libssh2-1 libldns3 libpq5 libcurl4 libssl3 libc6 libstdc++6; do
  [[ $depends_names == *" $pkg "* ]] && ok || bad "Depends lacks $pkg: $depends"
done

# The files, as dpkg will put them.
dpkg-deb -c "$deb" | awk '{ print $NF }' >"$work/contents"
for f in "${shipped[@]}"; do grep -qx "./usr/$f" "$work/contents" && ok || bad "the package has no /usr/$f"; done
[ "$(dpkg-deb -c "$deb" | awk '$6 == "./usr/bin/reconcile" { print $3 }')" -lt 50000000 ] && ok ||
  bad "/usr/bin/reconcile in the package is not stripped (over 50 MB)"

# Installing for real. This machine is shared: never replace or remove a reconcile we did not
# put there, and say so if dpkg is told to leave man pages or docs out.
exec 9<"$0"
flock -w 100 9 || fatal "another install_test has held its lock for 100 s"
# dpkg's state of a package named reconcile: "ii" installed, "rc" its config left, "" or "un"
# not there at all.
dpkg_state() { dpkg-query -W -f='${db:Status-Abbrev}' reconcile 2>/dev/null | tr -d ' ' || true; }
state=$(dpkg_state)
case "$state" in "" | ?n) ;; *)
  fatal "a package named reconcile is already known to dpkg ($state): remove it yourself (dpkg --purge reconcile); the test will not" ;;
esac
for f in "${shipped[@]}"; do
  [ ! -e "/usr/$f" ] || fatal "/usr/$f exists already: move it away; the test will not install over it, or remove it"
done
for f in /etc/dpkg/dpkg.cfg.d/*; do
  [ -f "$f" ] || continue
  if grep -qE '^[[:space:]]*path-exclude[ =]*/usr/share/(man|doc)' "$f"; then
    fatal "$f has a path-exclude rule for /usr/share/man or /usr/share/doc: dpkg would leave reconcile(1) or its docs out (as Docker's slim images do); remove the rule to run this test"
  fi
done

installed=0
purge() {
  [ "$installed" -eq 1 ] || return 0
  installed=0
  dpkg --purge reconcile >"$work/purge.log" 2>&1 || { echo "FAIL: dpkg --purge reconcile: $(cat "$work/purge.log")"; return 1; }
}
trap 'purge; [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP
installed=1  # from here a half-done install is purged too
dpkg -i "$deb" >"$work/dpkg-i.log" 2>&1 || fatal "dpkg -i $deb_name: $(cat "$work/dpkg-i.log")"

[ "$(/usr/bin/reconcile --version)" = "$("$bin" --version)" ] && ok ||
  bad "/usr/bin/reconcile --version says '$(/usr/bin/reconcile --version)', the build's says '$("$bin" --version)'"
man_path=$(env -u MANPATH man -w reconcile 2>"$work/man-err") || true
[ "$man_path" = /usr/share/man/man1/reconcile.1.gz ] && ok ||
  bad "man -w reconcile says '$man_path' $(cat "$work/man-err")"
env -u MANPATH MANWIDTH=100 man reconcile >"$work/man.txt" 2>&1 || true
grep -q "^ *reconcile - plan, apply and roll back" "$work/man.txt" && ok ||
  bad "man reconcile does not show the page's NAME: $(head -5 "$work/man.txt")"
cmp -s /usr/share/doc/reconcile/docs/spec.md "$src/docs/spec.md" && ok || bad "/usr/share/doc/reconcile/docs/spec.md differs"
# The completion as bash loads it from there, with reconcile found on PATH.
completed=$(cd "$src" && PATH=/usr/bin:/bin bash --norc --noprofile -c '
  source /usr/share/bash-completion/completions/reconcile
  COMP_WORDS=(reconcile ap); COMP_CWORD=1; _reconcile; echo "${COMPREPLY[*]}"
  COMP_WORDS=(reconcile apply examples/local-files.toml --through ""); COMP_CWORD=4; _reconcile; echo "${COMPREPLY[*]}"' 2>&1)
[ "$completed" = $'apply\nprepare switch cleanup' ] && ok || bad "the installed completion offers: $completed"

purge || bad "could not purge the package"
for f in "${shipped[@]}"; do [ ! -e "/usr/$f" ] && ok || bad "/usr/$f is still there after dpkg --purge"; done
state=$(dpkg_state)
case "$state" in "" | ?n) ok ;; *) bad "dpkg still has reconcile as '$state' after --purge" ;; esac
finish
