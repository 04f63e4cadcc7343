# Shared by the scripts in tests/hostile/ (sourced, not a test itself).
#
# Exit statuses (tests/run-tests.sh): 0 passed, 77 skipped (the reason is
# the last line printed), anything else failed.  Every test works in a
# mktemp directory; what it mounts there (a bpffs, small tmpfs) is
# unmounted by the EXIT trap, whether the test passed, failed or was
# interrupted.  Nothing under /sys/fs/bpf is touched.

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${BPFLEAK_BUILD:-$ROOT/build}
HOST=$B/tests/hostile/host_hostile
HOST_ALT=$B/tests/hostile/host_hostile_alt
SHIM=${BPFLEAK_SHIM:-$B/libbpfleak.so}
REPORT=${BPFLEAK_REPORT:-$B/bpfleak-report}
# Sanitizer runs (make sanitize) preload the sanitizer runtime first.
PRELOAD="${BPFLEAK_PRELOAD_FIRST:+$BPFLEAK_PRELOAD_FIRST }$SHIM"
HOSTILE_PY=$ROOT/tests/hostile/hostile.py
# The Debian interpreter, not a per-user shim: CI runs with a bare PATH.
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi

T=
MOUNTS=
KILL_PIDS=

skip() {
	echo "SKIP: $*"
	exit 77
}

fail() {
	echo "FAIL: $*"
	exit 1
}

note() {
	echo "-- $*"
}

cleanup() {
	for p in $KILL_PIDS; do
		kill -9 "$p" 2>/dev/null
	done
	# Unmount in reverse order of mounting.
	for m in $MOUNTS; do
		echo "$m"
	done | sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	if [ -n "$T" ] && [ -d "$T" ]; then
		rm -rf "$T"
	fi
}

# setup: root, a temp dir, the programs, and bpf() permitted (else skip).
setup() {
	[ "$(id -u)" = 0 ] || skip "needs root (bpf(), mounts)"
	for f in "$HOST" "$SHIM"; do
		[ -e "$f" ] || fail "$f is missing (run make)"
	done
	T=$(mktemp -d /tmp/bpfleak-hostile.XXXXXX) || fail "mktemp"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	# The probe: a few maps without the shim.  Status 7 = it worked.
	"$HOST" plain 1 >"$T/probe.out" 2>"$T/probe.err"
	rc=$?
	if [ $rc -ne 7 ]; then
		if grep -qi "operation not permitted\|permission denied" "$T/probe.err"; then
			skip "bpf() not permitted here: $(head -1 "$T/probe.err")"
		fi
		cat "$T/probe.err"
		fail "host_hostile plain 1 exited $rc without the shim"
	fi
}

# mount_bpffs DIR: a bpffs of our own (skip when not possible).
mount_bpffs() {
	mkdir -p "$1"
	if ! out=$(mount -t bpf bpf "$1" 2>&1); then
		skip "cannot mount a bpffs: $out"
	fi
	MOUNTS="$MOUNTS $1"
}

# mount_tmpfs DIR OPTIONS: a small tmpfs (skip when not possible).
mount_tmpfs() {
	mkdir -p "$1"
	if ! out=$(mount -t tmpfs -o "$2" tmpfs "$1" 2>&1); then
		skip "cannot mount a tmpfs: $out"
	fi
	MOUNTS="$MOUNTS $1"
}

# shim JOURNAL CMD...: run CMD under the shim, journal at JOURNAL.
shim() {
	j=$1
	shift
	BPFLEAK_JOURNAL=$j LD_PRELOAD=$PRELOAD "$@"
}

require_report() {
	[ -x "$REPORT" ] || fail "$REPORT is missing (run make)"
}

# report JOURNAL OUT.json: bpfleak-report --format json; fails on a crash
# or on "bad input" (exit 2) for a journal the shim wrote.  3 (no leak,
# but a blind spot the report names) is a verdict like 0 and 1.
report_json() {
	require_report
	"$REPORT" --format json "$1" >"$2" 2>"$2.err"
	rc=$?
	case $rc in
	0 | 1 | 3) ;;
	*)
		cat "$2.err"
		fail "bpfleak-report exited $rc on $1"
		;;
	esac
	if grep -q "ERROR: AddressSanitizer\|runtime error:" "$2.err"; then
		cat "$2.err"
		fail "bpfleak-report: sanitizer report"
	fi
	return 0
}
