#!/bin/sh
# A week of staging in a few seconds (issue 11 goal 4): bench/gen_week
# writes a stats exporter's 7 days (2 events/s of balanced churn, a slow
# leak of 1 FD an hour) through the journal writer, folding as the shim
# does.  The journal must stay small (unfolded it is ~43 MB) and its
# report must name the slow leak as growth at reload_config's line, with
# all 168 FDs, and nothing else as a leak.  `make bench` (figure 9) runs
# the same at 20 events/s.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${BPFLEAK_BUILD_DIR:-$ROOT/build}
GEN=$B/bench/gen_week
REPORT=$B/bpfleak-report
for f in "$GEN" "$REPORT"; do
	[ -x "$f" ] || { echo "FAIL: $f is missing (run make)"; exit 1; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/bpfleak-fold-week.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
status=0
problem() {
	echo "FAIL: $*"
	status=1
}

"$GEN" "$T/week.db" 7 2 >"$T/gen.out" 2>&1 || { cat "$T/gen.out"; echo "FAIL: gen_week exited $?"; exit 1; }
cat "$T/gen.out"
bytes=$(stat -c %s "$T/week.db")
[ "$bytes" -lt $((4 * 1024 * 1024)) ] || problem "a folded week is $bytes bytes (budget 4 MiB at 2 events/s)"
sqlite3 -version >/dev/null 2>&1 || { echo "FAIL: the sqlite3 shell is missing"; exit 1; }
folded=$(sqlite3 "file:$T/week.db?mode=ro" "SELECT sum(count) FROM lifetime_fold")
[ "${folded:-0}" -gt 590000 ] || problem "only ${folded:-0} of 604800 pairs folded"

"$REPORT" "$T/week.db" >"$T/r.txt" 2>&1
rc=$?
[ $rc = 1 ] || problem "the report exited $rc, not 1 (leaks)"
line=$(grep -n 'LEAK-SITE' "$ROOT/bench/gen_week.c" | cut -d: -f1)
grep -q "^\[1\] LEAK gen_week.c:$line reload_config: 168 FDs" "$T/r.txt" ||
	problem "the slow leak is not the leak at gen_week.c:$line: $(grep LEAK "$T/r.txt")"
grep -q "leak (duplicate, growth)" "$T/r.txt" || problem "the slow leak is not growth: $(grep 'leak (' "$T/r.txt")"
[ "$(grep -c '^\[[0-9]*\] LEAK' "$T/r.txt")" = 1 ] || problem "more than one leaking site: $(grep LEAK "$T/r.txt")"
grep -q "and $folded create/close pairs closed over 1.0h before they were folded" "$T/r.txt" ||
	problem "the report does not say $folded pairs were folded: $(sed -n 2p "$T/r.txt")"
exit $status
