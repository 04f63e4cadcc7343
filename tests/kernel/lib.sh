# Shared by the kernel recorder's tests in tests/kernel/ (sourced, not a
# test itself).
#
# Exit statuses (tests/run-tests.sh): 0 passed, 77 skipped (the reason is
# the last line printed), anything else failed.  Each test works in a
# mktemp directory with a bpffs of its own mounted there; it mounts tracefs
# at /sys/kernel/tracing when missing (and unmounts it again); the EXIT
# trap kills what the test started, removes its pins and unmounts what it
# mounted, whether it passed, failed or was interrupted.  Nothing under
# /sys/fs/bpf is touched.

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${BPFLEAK_BUILD:-$ROOT/build}
BPFLEAK=$B/bpfleak
REPORT=$B/bpfleak-report
KB=$B/tests/kernel

T=
BPFFS=
TRACEFS_MOUNTED=
KILL_PIDS=

# The reason must be the last line printed, on one line.
skip() {
	printf 'SKIP: %s\n' "$(printf '%s' "$*" | tr '\n' ' ')"
	exit 77
}

fail() {
	echo "FAIL: $*"
	exit 1
}

note() {
	echo "-- $*"
}

kr_cleanup() {
	for p in $KILL_PIDS; do
		kill -KILL "$p" 2>/dev/null
	done
	for p in $KILL_PIDS; do
		wait "$p" 2>/dev/null
	done
	if [ -n "$BPFFS" ] && mountpoint -q "$BPFFS" 2>/dev/null; then
		find "$BPFFS" -mindepth 1 -maxdepth 3 ! -name maps.debug ! -name progs.debug \
			-exec rm -rf {} + 2>/dev/null
		umount "$BPFFS" 2>/dev/null || umount -l "$BPFFS"
	fi
	if [ -n "$TRACEFS_MOUNTED" ]; then
		umount /sys/kernel/tracing 2>/dev/null || umount -l /sys/kernel/tracing 2>/dev/null
	fi
	[ -n "$T" ] && rm -rf "$T"
}

# kr_sandbox: $T, $BPFFS, tracefs, and a recorder that loads here; else skip.
kr_sandbox() {
	for f in "$BPFLEAK" "$REPORT"; do
		[ -x "$f" ] || fail "$f is missing (run make)"
	done
	command -v sqlite3 >/dev/null 2>&1 || skip "the sqlite3 shell is missing (scripts/deps.sh installs it)"
	[ "$(id -u)" = 0 ] || skip "needs root (bpf(), tracepoints, bpffs mounts)"
	T=$(mktemp -d "${TMPDIR:-/tmp}/bpfleak-kernel.XXXXXX") || fail "mktemp"
	trap kr_cleanup EXIT
	trap 'exit 1' INT TERM HUP
	mkdir "$T/bpffs"
	out=$(mount -t bpf bpf "$T/bpffs" 2>&1) || skip "cannot mount a bpffs: $out"
	BPFFS=$T/bpffs
	if ! mountpoint -q /sys/kernel/tracing 2>/dev/null; then
		out=$(mount -t tracefs nodev /sys/kernel/tracing 2>&1) ||
			skip "cannot mount tracefs: $out"
		TRACEFS_MOUNTED=1
	fi
	# Does the recorder load and attach here?  Exit 2 is its "not here".
	"$BPFLEAK" run --tracer=kernel -q -o "$T/probe.db" -- /bin/true >"$T/probe.out" 2>&1
	rc=$?
	[ "$rc" = 2 ] && skip "the kernel recorder cannot run here: $(tail -1 "$T/probe.out")"
	[ "$rc" = 0 ] || { cat "$T/probe.out"; fail "probe run exited $rc"; }
}

# line FILE MARKER: the line of the one "MARKER" comment in FILE.
line() {
	n=$(grep -c "$2\\b" "$1")
	[ "$n" = 1 ] || fail "expected one '$2' marker in $1, found $n"
	grep -n "$2\\b" "$1" | cut -d: -f1
}

# findings REPORT.json FILE: "class FILE:line count leak|info" per finding,
# the site being the first frame in FILE (library frames come first).
findings() {
	sqlite3 :memory: "
	SELECT json_extract(f.value, '\$.class') || ' ' ||
	  coalesce((SELECT '$2:' || json_extract(s.value, '\$.line')
		    FROM json_each(f.value, '\$.stack') s
		    WHERE json_extract(s.value, '\$.file') LIKE '%/$2'
		       OR json_extract(s.value, '\$.file') = '$2'
		    ORDER BY s.key LIMIT 1), 'nowhere') || ' ' ||
	  json_extract(f.value, '\$.count') || ' ' ||
	  CASE json_extract(f.value, '\$.leak') WHEN 1 THEN 'leak' ELSE 'info' END
	FROM json_each(readfile('$1'), '\$.findings') f;" | sort
}

# q JOURNAL SQL: one query.
q() {
	sqlite3 "$1" "$2"
}

# report JOURNAL OUT.json [OPTIONS]: the JSON report; exit 1 (leaks) expected.
report_json() {
	j=$1 out=$2
	shift 2
	"$REPORT" --format json "$@" "$j" >"$out" 2>"$out.err"
	rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 1 ] || { cat "$out.err"; fail "bpfleak-report $j exited $rc"; }
	return 0
}
