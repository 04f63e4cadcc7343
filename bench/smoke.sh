#!/bin/sh
# make check: run the whole benchmark once in --short mode (1 repetition,
# small counts, every figure) so it cannot rot.  Timing is never judged:
# exit 0 when the harness ran, 77 (skipped) when bpf() is not permitted
# here, 1 when the harness itself broke (a loop failed or crashed under the
# shim or a peer, the JSON is missing or malformed).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${BPFLEAK_BUILD:-$ROOT/build}
T=$(mktemp -d "${TMPDIR:-/tmp}/bpfleak-bench-smoke.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

for f in libbpfleak.so bench/bench bench/bench_loops bench/gen_journal bench/gen_week; do
	[ -x "$B/$f" ] || [ -r "$B/$f" ] || { echo "FAIL: $B/$f is missing (run make)"; exit 1; }
done

"$B/bench/bench" --short --build "$B" --json "$T/results.json"
rc=$?
case $rc in
0) ;;
77) exit 77 ;;   # bench printed "SKIP: ..." as its last line
*) echo "FAIL: bench --short exited $rc"; exit 1 ;;
esac

# Every section is in the JSON, and it parses (sqlite's json() is on the
# machine anyway: the shim links sqlite).
for key in '"loops"' '"journal"' '"analyzer"' '"rss"' '"peers"' '"week"' '"harness_errors": 0'; do
	grep -q "$key" "$T/results.json" || { echo "FAIL: $key not in results.json"; exit 1; }
done
if command -v sqlite3 >/dev/null 2>&1; then
	ok=$(sqlite3 :memory: "SELECT json_valid(readfile('$T/results.json'))" 2>/dev/null)
	[ "$ok" = 1 ] || { echo "FAIL: results.json is not valid JSON"; cat "$T/results.json"; exit 1; }
fi
echo "bench --short ran"
exit 0
