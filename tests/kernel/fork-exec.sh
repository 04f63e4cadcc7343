#!/bin/sh
# Fork and exec children are followed: kr_forkexec forks a child that
# leaks, copies an FD without O_CLOEXEC and execs itself; the new image
# leaks again and exits at once (before the recorder can read its maps: the
# module rows come from the exec record's auxiliary vector).  The journal
# must hold the three images (start, fork, exec), the fork and exec events
# and the FDs each inherited, as the shim writes them; the report names the
# exec'd image's leak and charges the FD that survived the exec to the line
# that made it before.  Exit 77 (skip) where the kernel recorder cannot run.
. "$(dirname "$0")/lib.sh"
kr_sandbox
HOST=$KB/kr_forkexec
SRC=$ROOT/tests/kernel/kr_forkexec.c
F=kr_forkexec.c
[ -x "$HOST" ] || fail "$HOST is missing (run make check)"

"$BPFLEAK" run --tracer=kernel -o "$T/k.db" -- "$HOST" >"$T/run.out" 2>&1
rc=$?
cat "$T/run.out"
[ "$rc" = 77 ] && skip "bpf() is not permitted here"
[ "$rc" = 0 ] || fail "kr_forkexec under bpfleak exited $rc"
set -- $(sed -n 's/^kr_forkexec: parent \([0-9]*\) child \([0-9]*\)$/\1 \2/p' "$T/run.out")
parent=$1 child=$2
[ -n "$child" ] || fail "kr_forkexec did not print its pids"

J=$T/k.db
got=$(q "$J" "SELECT group_concat(origin || ':' || pid, ' ') FROM (SELECT * FROM process ORDER BY id)")
[ "$got" = "start:$parent fork:$child exec:$child" ] ||
	fail "process rows: expected start:$parent fork:$child exec:$child, got $got"
[ "$(q "$J" "SELECT count(*) FROM process WHERE pid = $child AND ppid = $parent")" = 2 ] ||
	fail "the child's rows do not name its parent"
ev() { q "$J" "SELECT count(*) FROM event_v WHERE $1"; }
[ "$(ev "op = 'fork' AND pid = $child AND fd2 = $parent")" = 1 ] || fail "no fork event"
[ "$(ev "op = 'inherited' AND pid = $child AND detail = 'fork' AND kind = 'map'")" = 1 ] ||
	fail "the child's copy of the parent's map FD is not journaled as inherited (fork)"
[ "$(ev "op = 'exec' AND pid = $child AND detail LIKE '%/kr_forkexec'")" = 1 ] || fail "no exec event"
[ "$(ev "op = 'inherited' AND pid = $child AND detail = 'exec'")" = 1 ] ||
	fail "the FD without O_CLOEXEC is not journaled as surviving the exec"
[ "$(q "$J" "SELECT count(*) FROM snapshot WHERE reason = 'exit'")" = 2 ] ||
	fail "expected an exit snapshot per process"
[ "$(q "$J" "SELECT count(*) FROM module WHERE pid = $child AND path LIKE '%/kr_forkexec'")" -ge 2 ] ||
	fail "the child's images lack module rows for the program"

exec_leak=$(line "$SRC" FX:exec_leak) child_dup=$(line "$SRC" FX:child_dup)
report_json "$J" "$T/k.json"
got=$(findings "$T/k.json" "$F")
echo "$got"
echo "$got" | grep -qx "duplicate $F:$exec_leak 1 leak" ||
	fail "the exec'd image's leak (line $exec_leak) is not reported"
echo "$got" | grep -qx "outstanding $F:$child_dup 1 info" ||
	fail "the FD that survived exec is not charged to line $child_dup"
echo "$got" | grep -q nowhere && fail "a finding without a site in $F"
echo "fork-exec: all checks passed"
