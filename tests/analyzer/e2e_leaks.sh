#!/bin/sh
# End to end on the real kernel: e2e_leaks (one leak of each kind at lines
# marked E2E:name) runs under LD_PRELOAD=libbpfleak.so with its own bpffs;
# bpfleak-report --format json --expect-pinned must name exactly these
# (class, file:line, count) findings and nothing else:
#
#   duplicate    obj_get 1, get_by_id 8      growth      get_by_id 8
#   double_close double_close 1              unpinned    prog 1
#   outstanding  held 1, obj_get 1, get_by_id 8, prog 1   (information)
#
# Then the journal is symbolized (--symbolize) and the binary deleted: the
# report must name the same lines from the stored frames alone.
# Exit 77 (skip) where bpffs cannot be mounted or bpf() is not permitted.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${BPFLEAK_BUILD_DIR:-$ROOT/build}
SRC=$ROOT/tests/analyzer/e2e_leaks.c

skip() { echo "skip: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[ -x "$B/bpfleak-report" ] || fail "$B/bpfleak-report is not built"
[ -x "$B/tests/analyzer/e2e_leaks" ] || fail "$B/tests/analyzer/e2e_leaks is not built"
[ -f "$B/libbpfleak.so" ] || skip "$B/libbpfleak.so is not built"
command -v sqlite3 >/dev/null 2>&1 || skip "the sqlite3 shell is missing (scripts/deps.sh installs it)"
[ "$(id -u)" = 0 ] || skip "mounting a bpffs needs root"

T=$(mktemp -d "${TMPDIR:-/tmp}/bpfleak-e2e.XXXXXX") || fail "mktemp"
BPFFS=$T/bpffs
cleanup() {
	if mountpoint -q "$BPFFS" 2>/dev/null; then umount "$BPFFS" || umount -l "$BPFFS"; fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
mkdir "$BPFFS" || fail "mkdir"
mount -t bpf bpf "$BPFFS" 2>"$T/mount.err" || skip "cannot mount bpffs: $(cat "$T/mount.err")"

# A copy of the program, so the binary can be deleted later.
cp "$B/tests/analyzer/e2e_leaks" "$T/e2e_leaks" || fail "cp"
BPFLEAK_JOURNAL=$T/j.db BPFLEAK_CLOSE_STACKS=1 LD_PRELOAD=$B/libbpfleak.so \
	"$T/e2e_leaks" "$BPFFS" >"$T/run.out" 2>&1
rc=$?
cat "$T/run.out"
[ "$rc" = 77 ] && skip "bpf() is not permitted here"
[ "$rc" = 0 ] || fail "e2e_leaks exited $rc"
[ -s "$T/j.db" ] || fail "no journal written"

line() { # MARKER -> line number in e2e_leaks.c
	n=$(grep -n "E2E:$1 " "$SRC" | cut -d: -f1)
	[ -n "$n" ] || fail "marker E2E:$1 not found in $SRC"
	echo "$n"
}
F=e2e_leaks.c
held=$(line held) obj_get=$(line obj_get) get_by_id=$(line get_by_id)
prog=$(line prog) dclose=$(line double_close)
expected=$(sort <<EOF2
duplicate $F:$obj_get 1 leak
duplicate $F:$get_by_id 8 leak
growth $F:$get_by_id 8 leak
double_close $F:$dclose 1 leak
unpinned $F:$prog 1 leak
outstanding $F:$held 1 info
outstanding $F:$obj_get 1 info
outstanding $F:$get_by_id 8 info
outstanding $F:$prog 1 info
EOF2
)

# "class file:line count leak|info" per finding; the site is the first
# frame in e2e_leaks.c (libbpf's frames come first).
findings() { # REPORT.json
	sqlite3 :memory: "
	SELECT json_extract(f.value, '$.class') || ' ' ||
	  coalesce((SELECT '$F:' || json_extract(s.value, '$.line')
		    FROM json_each(f.value, '$.stack') s
		    WHERE json_extract(s.value, '$.file') LIKE '%/$F'
		       OR json_extract(s.value, '$.file') = '$F'
		    ORDER BY s.key LIMIT 1), 'nowhere') || ' ' ||
	  json_extract(f.value, '$.count') || ' ' ||
	  CASE json_extract(f.value, '$.leak') WHEN 1 THEN 'leak' ELSE 'info' END
	FROM json_each(readfile('$1'), '$.findings') f;" | sort
}

check_report() { # NAME
	"$B/bpfleak-report" --format json --expect-pinned "$T/$1" >"$T/$1.json" 2>"$T/$1.err"
	rc=$?
	cat "$T/$1.err"
	[ "$rc" = 1 ] || { cat "$T/$1.json"; fail "$1: bpfleak-report exited $rc, expected 1"; }
	sqlite3 :memory: "SELECT json_valid(readfile('$T/$1.json'))" | grep -qx 1 ||
		fail "$1: the report is not valid JSON"
	got=$(findings "$T/$1.json")
	if [ "$got" != "$expected" ]; then
		echo "expected:"; echo "$expected"; echo "got:"; echo "$got"
		fail "$1: the report does not name exactly the planted leaks"
	fi
	# Object details travel with each finding.
	sqlite3 :memory: "SELECT count(*) FROM json_each(readfile('$T/$1.json'), '$.findings') f,
		json_each(f.value, '$.fds') d
		WHERE json_extract(f.value, '$.class') = 'duplicate'
		  AND json_extract(d.value, '$.name') = 'leaky_map'
		  AND json_extract(d.value, '$.type') = 'hash'
		  AND json_extract(d.value, '$.pins[0]') = '$BPFFS/leaky_map'" | grep -qx 9 ||
		fail "$1: duplicate FDs lack the map's name, type or pin"
	echo "$1: ok"
}

check_report j.db

# Without --expect-pinned the prog FD is information only.
"$B/bpfleak-report" --format json "$T/j.db" >"$T/plain.json"
[ $? = 1 ] || fail "plain report: expected exit 1"
findings "$T/plain.json" | grep -qx "unpinned $F:$prog 1 info" ||
	fail "without --expect-pinned, unpinned must be information"

# The text report names the sites too.
"$B/bpfleak-report" "$T/j.db" >"$T/text.out"
grep -q "$F:$get_by_id" "$T/text.out" || fail "text report lacks $F:$get_by_id"
grep -q "snapshot: exit" "$T/text.out" || fail "text report does not name its snapshot"

# Symbolize, delete the binary, report again from the stored frames.
cp "$T/j.db" "$T/sym.db"
"$B/bpfleak-report" --symbolize --quiet "$T/sym.db"
[ $? = 1 ] || fail "--symbolize --quiet: expected exit 1 (leaks)"
[ "$(sqlite3 "$T/sym.db" "SELECT count(*) FROM frame WHERE file LIKE '%$F'")" -gt 0 ] ||
	fail "--symbolize stored no frame of $F"
rm -f "$T/e2e_leaks"
check_report sym.db
# The unsymbolized copy now falls back to module+offset, still exit 1.
"$B/bpfleak-report" --format json "$T/j.db" >"$T/gone.json"
[ $? = 1 ] || fail "binary gone: expected exit 1"
findings "$T/gone.json" | grep -q "nowhere" || fail "binary gone: expected unresolved frames"
echo "e2e_leaks: all checks passed"
