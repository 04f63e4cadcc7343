#!/bin/sh
# The kernel recorder's bench (bench/bench_kernel.c) once in --short mode,
# so the harness cannot rot between `make bench` runs.  It checks that the
# harness works and that K4 lost nothing, not timings.
# Exit 77 (skip) where the kernel recorder cannot run.
. "$(dirname "$0")/lib.sh"
kr_sandbox
BK=$B/bench/bench_kernel
[ -x "$BK" ] || fail "$BK is missing (run make check)"
"$BK" --build "$B" --short --json "$T/k.json" >"$T/out" 2>&1
rc=$?
cat "$T/out"
[ "$rc" = 0 ] || fail "bench_kernel --short exited $rc"
grep -q "skipped" "$T/out" && skip "$(grep skipped "$T/out")"
for k in K1 K2 K3 K4; do
	grep -q "^$k " "$T/out" || fail "figure $k is missing"
done
[ "$(sqlite3 :memory: "SELECT json_extract(readfile('$T/k.json'), '\$.rate.lost')")" = 0 ] ||
	fail "K4 lost events at 50,000 creates/s"
echo "bench-smoke: ok"
