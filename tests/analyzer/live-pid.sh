#!/bin/sh
# bpfleak-report --pid on real processes (issue 9 items 7 and 15):
#
#  1. A busy target that closes every map it makes (live_host churn, under
#     the shim): the report takes its live snapshot, asks the target to
#     flush (JOURNAL-flush), waits for flushed_ns to pass the snapshot,
#     then reads the journal.  Six reports in a row: never a stale leak,
#     never exit 1; the flush is confirmed at least once; the request file
#     the report created is gone afterwards.
#  2. A process the journal knows nothing about (live_host hold, without
#     the shim): its map is named from the kernel, its cmd is null (not an
#     invented BPF_MAP_CREATE), exe and cmdline come from /proc.
#
# Exit 77 (skip) where bpf() is not permitted.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${BPFLEAK_BUILD_DIR:-$ROOT/build}
HOST=$B/tests/analyzer/live_host
REPORT=$B/bpfleak-report

skip() { echo "skip: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[ -x "$REPORT" ] || fail "$REPORT is not built"
[ -x "$HOST" ] || fail "$HOST is not built"
[ -f "$B/libbpfleak.so" ] || skip "$B/libbpfleak.so is not built"
command -v sqlite3 >/dev/null 2>&1 || skip "the sqlite3 shell is missing (scripts/deps.sh installs it)"

T=$(mktemp -d "${TMPDIR:-/tmp}/bpfleak-live.XXXXXX") || fail "mktemp"
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# q JSONFILE SQL: one value of SQL over the report (?1 is its text).
q() { sqlite3 :memory: "SELECT $(echo "$2" | sed "s|?1|readfile('$1')|g")"; }

wait_ready() { # FILE: wait up to 5 s for "ready"
	i=0
	while ! grep -q ready "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 500 ] && return 1
		sleep 0.01
	done
}

# ---- 1. a busy target, flush confirmed -------------------------------------
BPFLEAK_JOURNAL=$T/j.db BPFLEAK_QUIET=1 LD_PRELOAD=$B/libbpfleak.so "$HOST" churn 30 >"$T/churn.out" 2>&1 &
CHURN=$!
PIDS="$PIDS $CHURN"
if ! wait_ready "$T/churn.out"; then
	wait "$CHURN"; rc=$?
	[ "$rc" = 77 ] && skip "bpf() is not permitted here"
	fail "live_host churn did not start (exit $rc): $(cat "$T/churn.out")"
fi
# Its first batch (the process row) is written within the writer's period.
i=0
until [ -s "$T/j.db" ] && [ "$(sqlite3 "$T/j.db" "SELECT count(*) FROM process WHERE pid = $CHURN" 2>/dev/null)" = 1 ]; do
	i=$((i + 1)); [ $i -gt 300 ] && fail "no process row for $CHURN in the journal"
	sleep 0.01
done
confirmed=0
for run in 1 2 3 4 5 6; do
	"$REPORT" --format json --pid "$CHURN" "$T/j.db" >"$T/r$run.json" 2>"$T/r$run.err"
	rc=$?
	case $rc in 0|3) ;; *) cat "$T/r$run.err" "$T/r$run.json"; fail "run $run: exit $rc" ;; esac
	stale=$(q "$T/r$run.json" "count(*) FROM json_each(?1, '\$.findings') WHERE json_extract(value, '\$.class') = 'stale' AND json_extract(value, '\$.leak')")
	[ "$stale" = 0 ] || { cat "$T/r$run.json"; fail "run $run: a stale leak on a target that closes everything"; }
	unconf=$(q "$T/r$run.json" "count(*) FROM json_each(?1, '\$.blind_spots') WHERE json_extract(value, '\$.kind') = 'live_unconfirmed'")
	[ "$unconf" = 0 ] && confirmed=$((confirmed + 1))
	[ -e "$T/j.db-flush" ] && fail "run $run: the flush request file was left behind"
done
[ "$confirmed" -gt 0 ] || fail "the target never confirmed a flush up to the live snapshot"
echo "busy target: 6 reports, no stale leak, $confirmed confirmed"
kill "$CHURN"; wait "$CHURN" 2>/dev/null

# ---- 2. a process only the kernel knows -------------------------------------
"$HOST" hold lp_name 30 >"$T/hold.out" 2>&1 &
HOLD=$!
PIDS="$PIDS $HOLD"
wait_ready "$T/hold.out" || fail "live_host hold did not start: $(cat "$T/hold.out")"
"$REPORT" --format json --pid "$HOLD" --flush-wait 100ms "$T/j.db" >"$T/h.json" 2>"$T/h.err"
rc=$?
[ "$rc" = 3 ] || { cat "$T/h.err" "$T/h.json"; fail "a process with unexplained FDs: exit $rc, want 3"; }
got=$(q "$T/h.json" "json_extract(value, '\$.fds[0].name') || ' ' || json_type(value, '\$.fds[0].cmd') || ' ' || json_extract(value, '\$.fds[0].type') FROM json_each(?1, '\$.findings') WHERE json_extract(value, '\$.class') = 'unknown_origin'")
[ "$got" = "lp_name null array" ] || { cat "$T/h.json"; fail "snapshot-only FD: got '$got', want 'lp_name null array'"; }
exe=$(q "$T/h.json" "json_extract(?1, '\$.processes[0].exe')")
[ "$exe" = "$(readlink -f "$HOST")" ] || fail "exe '$exe', want $(readlink -f "$HOST")"
cmd=$(q "$T/h.json" "json_extract(?1, '\$.processes[0].cmdline')")
case $cmd in *"hold lp_name 30") ;; *) fail "cmdline '$cmd'" ;; esac
echo "snapshot-only FD: name from the kernel, cmd null, exe and cmdline from /proc"
echo "PASS"
