#!/bin/sh
# Journals that cannot be written: a read-only directory (a read-only
# tmpfs: root ignores directory modes), a missing directory, a path that is
# a directory, /dev/null, a symlink to an existing file, a dangling
# symlink, an existing text file, an existing sqlite database of someone
# else, -wal and -shm files planted as symlinks, a disk too full to create
# the schema (16 KiB tmpfs) and a disk that fills up during the run
# (200 KiB tmpfs), and a full disk under an existing journal whose lock
# file lost its block (the shim maps that file: an unbacked page of a
# shared mapping raises SIGBUS on a full disk).
#
# Asserts for each: the host runs unchanged (same stdout, same exit status
# 7, nothing else on stderr), the shim says so in exactly one line
# ("not recording ..."), no file the journal path points through is
# created or changed, and what is left of a journal on a full disk passes
# integrity_check.  A control run in a writable directory proves the shim
# was active (no warning, events recorded).
. "$(dirname "$0")/lib.sh"
setup

status=0
problem() {
	echo "FAIL: $*"
	status=1
}

"$HOST" plain 3000 >"$T/base.out" 2>"$T/base.err"
base_rc=$?
[ $base_rc -eq 7 ] || fail "baseline run exited $base_rc"

# check LABEL JOURNAL [WANT]: run the host with the journal there.  WANT is
# 1 (default: one "not recording" line), 0 (no warning) or gap (one line
# saying writes failed and events are counted as lost: recording goes on).
check() {
	label=$1 j=$2 want=${3:-1}
	BPFLEAK_JOURNAL=$j LD_PRELOAD=$SHIM "$HOST" plain 3000 >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc -eq $base_rc ] || problem "$label: exit status $rc, without the shim $base_rc"
	cmp -s "$T/out" "$T/base.out" || problem "$label: stdout differs from the run without the shim"
	grep -v '^bpfleak\[' "$T/err" >"$T/err.host"
	cmp -s "$T/err.host" "$T/base.err" || problem "$label: the host's stderr changed: $(head -2 "$T/err.host")"
	n=$(grep -c '^bpfleak\[' "$T/err")
	warn=$(grep -c '^bpfleak\[.*not recording' "$T/err")
	if [ "$want" = gap ]; then
		# Recording goes on: the closing line may follow, and must count the loss.
		gap=$(grep -c '^bpfleak\[.*journal write failed.*counted as lost' "$T/err")
		closing=$(grep -c '^bpfleak\[.*events in .* lost while it could not be written' "$T/err")
		[ "$gap" -eq 1 ] && [ "$n" -eq $((1 + closing)) ] ||
			problem "$label: expected one 'journal write failed' line (and the closing line), got $n bpfleak lines: $(tr '\n' '|' <"$T/err")"
	elif [ "$want" -eq 0 ]; then
		[ "$warn" -eq 0 ] || problem "$label: unexpected warning: $(cat "$T/err")"
	elif [ "$n" -ne 1 ] || [ "$warn" -ne 1 ]; then
		problem "$label: expected exactly one 'not recording' line, got $n bpfleak lines ($warn warnings): $(tr '\n' '|' <"$T/err")"
	fi
	echo "   $label: rc $rc, $(head -1 "$T/err")"
}

# Control: a writable directory records.
check writable "$T/ok.db" 0
events=$(sqlite3 "file:$T/ok.db?mode=ro" "SELECT count(*) FROM event" 2>&1)
[ "${events:-0}" -gt 1000 ] 2>/dev/null || problem "control: journal has '$events' events"

mount_tmpfs "$T/ro" ro,size=1m
check read-only-dir "$T/ro/j.db"

check missing-dir "$T/nonexistent/j.db"
[ -e "$T/nonexistent" ] && problem "missing-dir: the directory was created"

mkdir "$T/adir"
check path-is-a-directory "$T/adir"

check dev-null /dev/null
[ -c /dev/null ] || problem "/dev/null is no longer a character device"

echo precious >"$T/target"
ln -s "$T/target" "$T/link.db"
check symlink "$T/link.db"
[ "$(cat "$T/target")" = precious ] || problem "symlink: the target was written"
[ -L "$T/link.db" ] || problem "symlink: the link was replaced"

ln -s "$T/dangling-target" "$T/dangling.db"
check dangling-symlink "$T/dangling.db"
[ -e "$T/dangling-target" ] && problem "dangling-symlink: the target was created"

printf 'not a journal\n' >"$T/text.db"
check text-file "$T/text.db"
[ "$(cat "$T/text.db")" = "not a journal" ] || problem "text-file: the file was changed"

sqlite3 "$T/foreign.db" "CREATE TABLE t(x); INSERT INTO t VALUES (42);"
sum_before=$(cksum <"$T/foreign.db")
check foreign-sqlite "$T/foreign.db"
[ "$(cksum <"$T/foreign.db")" = "$sum_before" ] || problem "foreign-sqlite: the database was changed"
[ -e "$T/foreign.db-wal" ] && problem "foreign-sqlite: a -wal file was created beside it"

# The shim copied alone, without libbpfleak-journal.so beside it: it
# cannot record, says so once, and leaves no file (not even the lock).
mkdir -p "$T/solo"
cp "$SHIM" "$T/solo/libbpfleak.so"
SHIM_KEPT=$SHIM SHIM=$T/solo/libbpfleak.so
check module-missing "$T/solo/j.db"
SHIM=$SHIM_KEPT
grep -q 'libbpfleak-journal.so' "$T/err" || problem "module-missing: the warning does not name the journal module: $(cat "$T/err")"
left=$(ls "$T/solo" | grep -v '^libbpfleak.so$' | tr '\n' ' ')
[ -z "$left" ] || problem "module-missing: files left behind: $left"
# -wal / -shm planted as symlinks: sqlite may refuse or replace them, but
# must never write through them.
printf 'victim\n' >"$T/victim"
ln -s "$T/victim" "$T/w.db-wal"
BPFLEAK_JOURNAL=$T/w.db LD_PRELOAD=$SHIM "$HOST" plain 3000 >"$T/out" 2>"$T/err"
cmp -s "$T/out" "$T/base.out" || problem "wal-symlink: stdout changed"
[ "$(grep -c '^bpfleak\[' "$T/err")" -le 1 ] || problem "wal-symlink: more than one line: $(cat "$T/err")"
[ "$(cat "$T/victim")" = victim ] || problem "wal-symlink: the symlink target was written"
echo "   wal-symlink: $(head -1 "$T/err")"
rm -f "$T"/w.db*
ln -s "$T/victim" "$T/w.db-shm"
BPFLEAK_JOURNAL=$T/w.db LD_PRELOAD=$SHIM "$HOST" plain 3000 >"$T/out" 2>"$T/err"
cmp -s "$T/out" "$T/base.out" || problem "shm-symlink: stdout changed"
[ "$(grep -c '^bpfleak\[' "$T/err")" -le 1 ] || problem "shm-symlink: more than one line: $(cat "$T/err")"
[ "$(cat "$T/victim")" = victim ] || problem "shm-symlink: the symlink target was written"
echo "   shm-symlink: $(head -1 "$T/err")"

# Full before the schema fits, and full in the middle of the run.
mount_tmpfs "$T/tiny" size=16k
check full-at-start "$T/tiny/j.db"
mount_tmpfs "$T/small" size=200k
check full-during-run "$T/small/j.db" gap
grep -qi 'full\|space' "$T/err" ||
	problem "full-during-run: the warning does not say the disk is full: $(cat "$T/err")"
if [ -s "$T/small/j.db" ]; then
	$PY "$HOSTILE_PY" integrity "$T/small/j.db" || problem "full-during-run: journal damaged"
fi

# An existing journal on a disk that is then filled to the last block, its
# lock file emptied: recording must fail as a gap, never a crash.
mount_tmpfs "$T/full" size=400k
BPFLEAK_JOURNAL=$T/full/j.db LD_PRELOAD=$SHIM "$HOST" plain 300 >/dev/null 2>&1
[ -s "$T/full/j.db" ] || problem "full-existing: the first run left no journal"
: >"$T/full/j.db-lock"
dd if=/dev/zero of="$T/full/filler" bs=4k 2>/dev/null
check full-existing "$T/full/j.db" gap
exit $status
