#!/bin/sh
# The recorder in a service that runs as a non-root user with CAP_BPF only
# (docs/deploy.md says what it can and cannot record in one line; this is
# that line, checked):
#
#  - host_capbpf runs as nobody with CAP_BPF as its only capability
#    (setpriv --ambient-caps, what AmbientCapabilities=CAP_BPF does) under
#    LD_PRELOAD=libbpfleak.so, on a bpffs nobody owns;
#  - the journal is created mode 0600, owned by nobody, and holds the map
#    and program creations with their objects, the pin, the BPF_OBJ_GET
#    that leaks, the close, an error event for BPF_MAP_GET_FD_BY_ID (the
#    kernel wants CAP_SYS_ADMIN for it) and the exit snapshot with the pin;
#  - bpfleak-report, run as nobody, names the leaking line;
#  - with the capability given by setcap instead (file capabilities), ld.so
#    ignores LD_PRELOAD: the program works, no journal is written.
#
# Exit 77 without root, setpriv, a bpffs, or a kernel that honours CAP_BPF.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${BPFLEAK_BUILD:-$ROOT/build}

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

for f in libbpfleak.so libbpfleak-journal.so bpfleak-report tests/package/host_capbpf; do
	[ -e "$B/$f" ] || fail "$B/$f is not built (make check builds it)"
done
[ "$(id -u)" = 0 ] || skip "needs root (to become nobody with CAP_BPF, and to mount a bpffs)"
command -v setpriv >/dev/null 2>&1 || skip "setpriv (util-linux) is missing"
command -v sqlite3 >/dev/null 2>&1 || skip "the sqlite3 shell is missing (scripts/deps.sh installs it)"
id nobody >/dev/null 2>&1 || skip "no user nobody"
NOGROUP=$(id -gn nobody)

T=$(mktemp -d "${TMPDIR:-/tmp}/bpfleak-capbpf.XXXXXX") || fail mktemp
cleanup() {
	if mountpoint -q "$T/bpffs" 2>/dev/null; then umount "$T/bpffs" || umount -l "$T/bpffs"; fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE
chmod 0755 "$T"
mkdir "$T/bpffs" "$T/state"
mount -t bpf bpf "$T/bpffs" 2>"$T/mount.err" || skip "cannot mount a bpffs: $(cat "$T/mount.err")"
chown nobody "$T/bpffs" "$T/state"
# Copies nobody can read wherever the build tree is.
# libbpfleak-journal.so goes beside libbpfleak.so: the shim loads it from there.
cp "$B/libbpfleak.so" "$B/libbpfleak-journal.so" "$B/bpfleak-report" "$B/tests/package/host_capbpf" "$T/"
as_nobody() { setpriv --reuid=nobody --regid="$NOGROUP" --clear-groups "$@"; }

J=$T/state/svc.db
(cd "$T" && as_nobody --inh-caps=+bpf --ambient-caps=+bpf \
	env BPFLEAK_JOURNAL="$J" LD_PRELOAD="$T/libbpfleak.so" ./host_capbpf "$T/bpffs") \
	>"$T/run.out" 2>&1
rc=$?
cat "$T/run.out"
[ "$rc" = 77 ] && skip "bpf() is refused to nobody with CAP_BPF (kernel without CAP_BPF?)"
[ "$rc" = 0 ] || fail "host_capbpf as nobody with CAP_BPF exited $rc"
grep -q '^get_fd_by_id Operation not permitted' "$T/run.out" ||
	fail "BPF_MAP_GET_FD_BY_ID was not refused: is this really without CAP_SYS_ADMIN?"
map_id=$(sed -n 's/^map_id \([0-9]*\) .*/\1/p' "$T/run.out")

[ -f "$J" ] || fail "no journal at $J"
[ "$(stat -c '%a %U' "$J")" = "600 nobody" ] || fail "journal is $(stat -c '%a %U' "$J"), not 600 nobody"
ok "journal created by nobody, mode 0600"

q() { sqlite3 "$J" "$1"; }
has_event() { # WHAT SQL-CONDITION
	[ "$(q "SELECT COUNT(*) FROM event_v WHERE $2")" -ge 1 ] || {
		q "SELECT seq, op, fd, cmd, kind, obj_id, obj_name, result FROM event_v"
		fail "no $1 event in the journal"
	}
}
has_event "map create" "op = 'create' AND cmd = 'BPF_MAP_CREATE' AND obj_id = $map_id AND obj_name = 'capbpf_map' AND stack_id IS NOT NULL"
has_event "pin" "op = 'pin' AND obj_id = $map_id"
has_event "obj_get create" "op = 'create' AND cmd = 'BPF_OBJ_GET' AND obj_id = $map_id"
has_event "prog create" "op = 'create' AND cmd = 'BPF_PROG_LOAD' AND obj_name = 'capbpf_prog'"
has_event "close" "op = 'close'"
has_event "GET_FD_BY_ID error" "op = 'error' AND cmd = 'BPF_MAP_GET_FD_BY_ID'"
q "SELECT reason FROM snapshot" | grep -qx exit || fail "no exit snapshot"
[ "$(q "SELECT COUNT(*) FROM snapshot_fd")" -ge 2 ] || fail "the snapshot lacks the 2 open map FDs"
q "SELECT path FROM snapshot_pin" | grep -q 'capbpf_map$' || fail "the snapshot lacks the pin"
ok "journal: creates (map, prog) with stacks and objects, pin, obj_get, close, the refused GET_FD_BY_ID, exit snapshot with FDs and pin"

line=$(grep -n '/\* CAPBPF:leak \*/' "$ROOT/tests/package/host_capbpf.c" | cut -d: -f1)
(cd "$T" && as_nobody ./bpfleak-report "$J") >"$T/report.txt" 2>&1
rc=$?
cat "$T/report.txt"
[ "$rc" = 1 ] || fail "bpfleak-report as nobody exited $rc, expected 1 (a leak)"
grep -q "^\[[0-9]*\] LEAK host_capbpf.c:$line " "$T/report.txt" ||
	fail "the report does not name the leaking call site host_capbpf.c:$line"
grep -q "^    leak (duplicate" "$T/report.txt" || fail "no duplicate leak in the report"
ok "bpfleak-report as nobody: the duplicate leak at host_capbpf.c:$line"

# File capabilities: secure execution, LD_PRELOAD ignored.
if command -v setcap >/dev/null 2>&1 && cp "$T/host_capbpf" "$T/host_fcap" &&
	setcap cap_bpf+ep "$T/host_fcap" 2>/dev/null; then
	umount "$T/bpffs" && mount -t bpf bpf "$T/bpffs" && chown nobody "$T/bpffs" || fail "bpffs remount"
	J2=$T/state/fcap.db
	(cd "$T" && as_nobody env BPFLEAK_JOURNAL="$J2" LD_PRELOAD="$T/libbpfleak.so" \
		./host_fcap "$T/bpffs") >"$T/fcap.out" 2>&1
	rc=$?
	cat "$T/fcap.out"
	[ "$rc" = 0 ] || fail "host_fcap (setcap cap_bpf+ep) as nobody exited $rc"
	[ ! -e "$J2" ] || fail "a journal was written under file capabilities: has ld.so changed?"
	ok "with setcap cap_bpf+ep instead: the program runs, LD_PRELOAD is ignored, no journal"
else
	echo "note: setcap is missing or this filesystem takes no file capabilities: that case is not checked"
fi
