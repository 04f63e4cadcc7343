#!/bin/sh
# A finished journal opens from read-only media and for a user who cannot
# write its directory (issue 9 item 14).  A WAL journal's read-only open
# needs to create JOURNAL-shm; bpfleak-report then opens it immutable, and
# says so when a -wal beside it could not be read.
#
#  1. on a read-only bind mount: the same exit status and findings as on
#     the original;
#  2. with a non-empty -wal beside it there: a warning, and exit 3;
#  3. as user nobody, on a copy it can read in a directory it cannot write.
#
# Mounts are undone on any exit.  Exit 77 (skip) where bpf() is not
# permitted, or mounting or changing user is not possible.
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
[ "$(id -u)" = 0 ] || skip "a bind mount and another user need root"

T=$(mktemp -d "${TMPDIR:-/tmp}/bpfleak-ro.XXXXXX") || fail "mktemp"
chmod 755 "$T"
RO=$T/ro
cleanup() {
	if mountpoint -q "$RO" 2>/dev/null; then umount "$RO" || umount -l "$RO"; fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

BPFLEAK_JOURNAL=$T/j.db BPFLEAK_QUIET=1 LD_PRELOAD=$B/libbpfleak.so "$HOST" once >"$T/once.out" 2>&1
rc=$?
[ "$rc" = 77 ] && skip "bpf() is not permitted here"
[ "$rc" = 0 ] || fail "live_host once exited $rc: $(cat "$T/once.out")"
[ -s "$T/j.db" ] || fail "no journal written"

mkdir "$T/src" "$RO" || fail "mkdir"
cp "$T/j.db" "$T/src/j.db" || fail "cp"
# A WAL journal, the way a writer leaves it: a read-only open needs -shm.
[ "$(sqlite3 "$T/src/j.db" 'PRAGMA journal_mode=WAL')" = wal ] || fail "cannot switch the copy to WAL"
rm -f "$T/src/j.db-wal" "$T/src/j.db-shm"

"$REPORT" --format json "$T/src/j.db" >"$T/want.json" 2>"$T/want.err"
want=$?
rm -f "$T/src/j.db-wal" "$T/src/j.db-shm"
case $want in 0|1|3) ;; *) cat "$T/want.err"; fail "the writable copy: exit $want" ;; esac
sites() { sqlite3 :memory: "SELECT group_concat(json_extract(value, '\$.class') || ':' || json_extract(value, '\$.count'), ' ') FROM json_each(readfile('$1'), '\$.findings')"; }

# ---- 1. read-only bind mount ------------------------------------------------
mount --bind "$T/src" "$RO" 2>"$T/mount.err" || skip "cannot bind-mount: $(cat "$T/mount.err")"
mount -o remount,bind,ro "$RO" 2>"$T/mount.err" || skip "cannot remount read-only: $(cat "$T/mount.err")"
touch "$RO/x" 2>/dev/null && fail "the bind mount is writable"
"$REPORT" --format json "$RO/j.db" >"$T/ro.json" 2>"$T/ro.err"
rc=$?
[ "$rc" = "$want" ] || { cat "$T/ro.err"; fail "read-only mount: exit $rc, want $want"; }
[ -s "$T/ro.err" ] && { cat "$T/ro.err"; fail "read-only mount: unexpected stderr"; }
[ "$(sites "$T/ro.json")" = "$(sites "$T/want.json")" ] || fail "read-only mount: other findings"
echo "read-only mount: exit $rc, same findings"
umount "$RO" || fail "umount"

# ---- 2. a -wal left beside it -----------------------------------------------
head -c 4096 /dev/urandom >"$T/src/j.db-wal"
mount --bind "$T/src" "$RO" && mount -o remount,bind,ro "$RO" || fail "mount again"
"$REPORT" --format json "$RO/j.db" >"$T/wal.json" 2>"$T/wal.err"
rc=$?
[ "$rc" = 3 ] || [ "$want" = 1 -a "$rc" = 1 ] || { cat "$T/wal.err"; fail "with a -wal: exit $rc, want 3"; }
grep -q "j.db-wal could not be read" "$T/wal.json" || { cat "$T/wal.json"; fail "no warning about the -wal"; }
echo "read-only mount with a -wal: warned, exit $rc"
umount "$RO" || fail "umount"
rm -f "$T/src/j.db-wal"

# ---- 3. another user --------------------------------------------------------
id nobody >/dev/null 2>&1 || skip "no user nobody"
mkdir "$T/nb" && cp "$T/src/j.db" "$T/nb/j.db" && chmod 755 "$T/nb" && chmod 644 "$T/nb/j.db" || fail "copy for nobody"
if command -v setpriv >/dev/null 2>&1; then
	as_nobody() { setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups -- "$@"; }
else
	as_nobody() { runuser -u nobody -- "$@"; }
fi
as_nobody "$REPORT" --format json "$T/nb/j.db" >"$T/nb.json" 2>"$T/nb.err"
rc=$?
[ "$rc" = "$want" ] || { cat "$T/nb.err"; fail "as nobody: exit $rc, want $want"; }
[ "$(sites "$T/nb.json")" = "$(sites "$T/want.json")" ] || fail "as nobody: other findings"
echo "as nobody: exit $rc, same findings"
echo "PASS"
