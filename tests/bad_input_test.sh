#!/usr/bin/env bash
# Inputs that once crashed the binary (exit 134, an uncaught exception, bad_alloc) or made it
# print gigabytes: each must end in a clear error and exit 1. The spec-level cases are in
# tests/spec_limits_test.cc; these go through the commands that read them.
# Usage: bad_input_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" bad-input

expect_rc() { # expect_rc WANT GOT WHAT
  if [ "$1" = "$2" ]; then ok; else bad "$3: exit $2, wanted $1"; sed 's/^/    /' "$work/err" | head -20; fi
}
expect_in() { # expect_in FILE TEXT WHAT
  if grep -qF -- "$2" "$1"; then ok; else bad "$3: '$2' not in $1:"; head -c 3000 "$1" | sed 's/^/    /'; fi
}

header() { printf 'version = 1\nname = "bad-input"\n[state]\npath = "%s/journal"\n' "$work"; }

# A saved plan reconcile did not write: refused by name, whatever part is wrong.
cp "$src/examples/local-files.toml" "$work/spec.toml"
cp -r "$src/examples/files" "$work/files"
n=0
for doc in '{"format_version":1,"spec":"x"}' '{"format_version":1,"spec":{"file":7}}' \
    '{"format_version":1,"spec":{"file":"'"$work"'/spec.toml","sha256":"00"},"journal_seq":0,"stages":"all"}' \
    '{"format_version":1,"spec":{"file":"'"$work"'/spec.toml","sha256":"00","vars":[]},"journal_seq":0,"stages":[]}' \
    '{"format_version":1,"spec":{"file":"'"$work"'/spec.toml","sha256":"00"},"journal_seq":-1,"stages":[]}' \
    '{"format_version":1,"spec":{"file":"'"$work"'/spec.toml","sha256":"00"},"journal_seq":0,"stages":[{"name":3}]}' \
    '{}' '{"format_version":"1"}'; do
  n=$((n + 1))
  printf '%s\n' "$doc" >"$work/plan$n.json"
  "$bin" apply "$work/plan$n.json" --yes >"$work/out" 2>"$work/err"
  expect_rc 1 $? "saved plan $n"
  expect_in "$work/err" "reconcile: error: $work/plan$n.json is not a saved plan reconcile can read: " "saved plan $n"
done
expect_in "$work/err" "format_version is \"1\", not 1" "the part that is wrong is named"

# A TTL past DNS's range (RFC 2181) would overflow the wait later stages take: refused at its place.
{ header; printf '[provider.dns.d]\nkind = "powerdns"\napi_url = "http://127.0.0.1:1"\napi_key = "k"\n'
  printf '[dns_record.www]\nzone = "example.test."\nname = "www"\ntype = "A"\nvalues = ["192.0.2.1"]\nttl = 9223372036854775807\n'; } >"$work/ttl.toml"
"$bin" validate "$work/ttl.toml" >"$work/out" 2>"$work/err"
expect_rc 1 $? "a TTL of 2^63-1"
expect_in "$work/err" "ttl.toml:14:7: error: attribute 'ttl' of dns_record.www: is out of range; a TTL is 0 to 2147483647" "the TTL refused at its place"

# Durations past a year: refused at their place by validate, never reached by apply.
{ header; printf '[check.up]\nkind = "tcp"\naddress = "127.0.0.1"\nport = 1\ntimeout = "99999999999999999999999s"\n'; } >"$work/d.toml"
"$bin" validate "$work/d.toml" >"$work/out" 2>"$work/err"
expect_rc 1 $? "duration too long"
expect_in "$work/err" "d.toml:9:11: error: attribute 'timeout' of check.up is longer than 8784h (a year)" "duration error"

# A source or a secret that never ends: a clear error, no bad_alloc.
{ header; printf '[file.f]\nhost = "local"\npath = "%s/f"\nsource = "/dev/zero"\n' "$work"; } >"$work/z.toml"
"$bin" plan "$work/z.toml" >"$work/out" 2>"$work/err"
expect_rc 1 $? "source /dev/zero"
expect_in "$work/err" "z.toml:8:10: 'source' of file.f: the source file /dev/zero cannot be read: it is not a regular file" \
  "source error"
{ header; printf 'key = "file:/dev/zero"\n[file.f]\nhost = "local"\npath = "%s/f"\ncontent = "x"\n' "$work"; } >"$work/k.toml"
"$bin" plan "$work/k.toml" >"$work/out" 2>"$work/err"
expect_rc 1 $? "secret /dev/zero"
expect_in "$work/err" "the secret file /dev/zero cannot be read: it is not a regular file" "secret error"
"$bin" validate /dev/zero >"$work/out" 2>"$work/err"
expect_rc 1 $? "a spec that never ends"

# toml++ 3.3.0's assert and undefined behaviour (upstream #190, #295): errors at the place.
printf 'version = 1 \xc3\xa9\n' >"$work/t1.toml"
"$bin" validate "$work/t1.toml" >"$work/out" 2>"$work/err"
expect_rc 1 $? "non-ASCII after a value"
expect_in "$work/err" "t1.toml:1:13: error: TOML syntax: a non-ASCII character outside a string or comment" "toml #190"
printf 'version = 1\n[.x]\n' >"$work/t2.toml"
"$bin" validate "$work/t2.toml" >"$work/out" 2>"$work/err"
expect_rc 1 $? "table header with a dot"
expect_in "$work/err" "t2.toml:2:2: error: TOML syntax: a table name must start with" "toml #295"

# Scale: 40,000 stages validate in linear time (31 s when it was quadratic; seconds now).
python3 - "$work" >"$work/big.toml" <<'PY'
import sys
n = 40000
print('version = 1\nname = "big"\nstages = [' + ", ".join('"s%d"' % i for i in range(n)) + ']')
for i in range(n):
    print('[file.f%d]\nstage = "s%d"\nhost = "local"\npath = "%s/f%d"\ncontent = "x"' % (i, i, sys.argv[1], i))
PY
start=$(date +%s)
timeout 120 "$bin" validate "$work/big.toml" >"$work/out" 2>"$work/err"
expect_rc 0 $? "40,000 stages validate"
echo "validate of 40,000 stages: $(($(date +%s) - start)) s"
expect_in "$work/out" "valid: 40000 stages, 40000 resources" "40,000 stages"

# 10,001 errors on one 150 kB line: 20 shown, the line cut around the column, the rest counted.
python3 - >"$work/self.toml" <<'PY'
print('version = 1\nname = "self"\n[file.a]\nhost = "local"\npath = "/tmp/x"\ncontent = "x"')
print('after = [' + ", ".join(['"file.a"'] * 10001) + ']')
PY
"$bin" validate "$work/self.toml" >"$work/out" 2>"$work/err"
expect_rc 1 $? "10,001 self-references"
size=$(wc -c <"$work/err")
[ "$size" -lt 20000 ] && ok || bad "10,001 errors printed $size bytes"
expect_in "$work/err" "... and 9981 more errors" "the rest are counted"
expect_in "$work/err" "reconcile: 10001 errors in the spec" "the total is said"

finish
