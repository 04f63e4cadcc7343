#!/bin/sh
# bpfleak attach to a process that already holds bpf FDs (kr_attach: one
# map and two duplicates of it, made before anyone traced it):
#   1. the held FDs are journaled as held before attach (inherited,
#      detail "attach"), the duplicate among them is still reported, and
#      what the process does afterwards (a leak at ATT:after, a close of a
#      held FD) is recorded; bpfleak prints "attached to pid PID" once live
#      and exits 0 when the process exits, with an exit snapshot;
#   2. SIGINT stops tracing: a live snapshot, exit 0, the process untouched.
# Exit 77 (skip) where the kernel recorder cannot run.
. "$(dirname "$0")/lib.sh"
kr_sandbox
HOST=$KB/kr_attach
SRC=$ROOT/tests/kernel/kr_attach.c
F=kr_attach.c
[ -x "$HOST" ] || fail "$HOST is missing (run make check)"

# start_host N: kr_attach in the background; sets HOST_PID and FDS (map before1 before2).
start_host() {
	rm -f "$T/ready$1"
	"$HOST" "$T/ready$1" &
	HOST_PID=$!
	KILL_PIDS="$KILL_PIDS $HOST_PID"
	for _ in $(seq 100); do
		[ -s "$T/ready$1" ] && break
		kill -0 "$HOST_PID" 2>/dev/null || { wait "$HOST_PID"; [ $? = 77 ] && skip "bpf() is not permitted here"; fail "kr_attach died"; }
		sleep 0.05
	done
	[ -s "$T/ready$1" ] || fail "kr_attach did not get ready"
	set -- $(cat "$T/ready$1")
	[ "$1" = "$HOST_PID" ] || fail "kr_attach wrote pid $1, expected $HOST_PID"
	FDS="$2 $3 $4"
}

# start_attach N: bpfleak attach in the background, until it says it is live.
start_attach() {
	"$BPFLEAK" attach -o "$T/a$1.db" "$HOST_PID" 2>"$T/attach$1.err" &
	ATTACH_PID=$!
	KILL_PIDS="$KILL_PIDS $ATTACH_PID"
	for _ in $(seq 200); do
		grep -q "attached to pid $HOST_PID" "$T/attach$1.err" && return 0
		kill -0 "$ATTACH_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$T/attach$1.err"
	fail "bpfleak attach did not say 'attached to pid $HOST_PID'"
}

# wait_exit PID SECONDS: its exit status, or fail when it does not end in time.
wait_exit() {
	for _ in $(seq $(($2 * 20))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$1" 2>/dev/null && fail "pid $1 did not exit within $2 s"
	wait "$1"
}

note "1: attach, the process goes on, then exits"
start_host 1
set -- $FDS
map_fd=$1 before1=$2 before2=$3
start_attach 1
kill -USR1 "$HOST_PID"
sleep 0.3
kill -USR2 "$HOST_PID"
wait_exit "$ATTACH_PID" 10
rc=$?
cat "$T/attach1.err"
[ "$rc" = 0 ] || fail "bpfleak attach exited $rc when the process exited, expected 0"
[ "$(grep -c "attached to pid $HOST_PID" "$T/attach1.err")" = 1 ] || fail "'attached to pid' not said exactly once"
J=$T/a1.db
ev() { q "$J" "SELECT count(*) FROM event_v WHERE pid = $HOST_PID AND $1"; }
for fd in $map_fd $before1 $before2; do
	[ "$(ev "op = 'inherited' AND detail = 'attach' AND fd = $fd AND obj_name = 'att_map'")" = 1 ] ||
		fail "fd $fd held before attach is not journaled as inherited (attach)"
done
after=$(line "$SRC" ATT:after)
[ "$(ev "op = 'create' AND cmd = 'BPF_MAP_GET_FD_BY_ID' AND stack_id IS NOT NULL")" = 1 ] ||
	fail "the create after attach is not journaled"
[ "$(ev "op = 'close' AND fd = $before1 AND result = 0")" = 1 ] || fail "the close of a held FD is not journaled"
[ "$(q "$J" "SELECT origin || ' ' || recorder FROM process WHERE pid = $HOST_PID")" = "attach kernel" ] ||
	fail "the process row is not origin attach, recorder kernel"
[ "$(q "$J" "SELECT count(*) FROM snapshot WHERE pid = $HOST_PID AND reason = 'exit'")" = 1 ] ||
	fail "no exit snapshot"
report_json "$J" "$T/a1.json"
got=$(findings "$T/a1.json" "$F")
echo "$got"
echo "$got" | grep -qx "duplicate $F:$after 1 leak" || fail "the leak after attach (line $after) is not reported"
# The duplicate held since before attach: no site, but still a duplicate.
[ "$(sqlite3 :memory: "SELECT count(*) FROM json_each(readfile('$T/a1.json'), '\$.findings') f,
	json_each(f.value, '\$.fds') d WHERE json_extract(f.value, '\$.class') = 'duplicate'
	AND json_extract(d.value, '\$.fd') = $before2")" = 1 ] ||
	fail "the duplicate held before attach (fd $before2) is not reported"
# ... and says it was held before attach, not inherited at start.
[ "$(sqlite3 :memory: "SELECT count(*) FROM json_each(readfile('$T/a1.json'), '\$.findings') f,
	json_each(f.value, '\$.fds') d WHERE json_extract(d.value, '\$.fd') = $before2
	AND json_extract(d.value, '\$.origin') = 'held_before_attach'
	AND json_extract(f.value, '\$.no_stack') LIKE '%held before attach%'")" -ge 1 ] ||
	fail "fd $before2 is not reported as held before attach"

note "2: attach, then SIGINT: a live snapshot, the process goes on"
start_host 2
start_attach 2
kill -INT "$ATTACH_PID"
wait_exit "$ATTACH_PID" 10
rc=$?
cat "$T/attach2.err"
[ "$rc" = 0 ] || fail "bpfleak attach exited $rc on SIGINT, expected 0"
kill -0 "$HOST_PID" 2>/dev/null || fail "the traced process did not survive the end of tracing"
[ "$(q "$T/a2.db" "SELECT count(*) FROM snapshot WHERE pid = $HOST_PID AND reason = 'live'")" = 1 ] ||
	fail "no live snapshot after SIGINT"
[ "$(q "$T/a2.db" "SELECT count(*) FROM snapshot_fd")" = 3 ] || fail "the live snapshot does not hold the 3 FDs"
kill -USR1 "$HOST_PID"
kill -USR2 "$HOST_PID"
wait "$HOST_PID"
echo "attach: all checks passed"
