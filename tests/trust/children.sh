#!/bin/sh
# Children, the ways daemons make them (issue 9 items 3, 8, 10, 11; issue 15
# items 3, 8, 9):
#  - vfork, clone(CLONE_VM|CLONE_VFORK), posix_spawn: the child's writes to
#    shared memory are seen (exit status as without the shim), nothing is
#    recorded under the child's pid, and the parent's FD table is untouched
#    by the child's close;
#  - helpers run with system(), posix_spawn, fork+exec, execveat, with
#    close_range(CLOEXEC) before exec: no helper in the journal, no leak
#    even with --min-age 0;
#  - a shell that forks and execs programs that never use bpf: no journal;
#  - a fork child that only dups and closes inherited FDs is journaled
#    while it runs (a live report of it names no unknown FD) and is still
#    there after SIGKILL;
#  - a supervisor's workers: each worker's JSON "ppid" is the supervisor;
#  - fork() from one thread while two others create (at once, while they
#    set up, 20 runs; and 200 children that exec or make a map, 6 runs):
#    never a hang, no false stale.
. "$(dirname "$0")/lib.sh"
trust_setup

note "vfork, clone(CLONE_VM|CLONE_VFORK), posix_spawn"
for mode in "vfork-write" "vfork-write exec" "clone-vfork"; do
	"$TRUST" $mode >"$T/plain" 2>&1
	want=$?
	j=$T/vfork.db
	rm -f "$j"*
	shim "$j" timeout -k 1 10 "$TRUST" $mode >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc -eq $want ] || problem "$mode: exit $rc under the shim, $want without"
	grep -q '^written [47]' "$T/out" || problem "$mode: the child's write was lost: $(cat "$T/out")"
	others=$(sqlite3 "file:$j?mode=ro" "SELECT count(*) FROM event WHERE pid != (SELECT min(pid) FROM process)" 2>&1)
	[ "$others" = 0 ] || problem "$mode: $others events under another pid than the parent"
done

note "helpers that never use bpf"
j=$T/spawn.db
shim "$j" timeout -k 1 20 "$TRUST" spawn-helper >"$T/out" 2>"$T/err" || problem "spawn-helper: exit $?"
rows=$(sqlite3 "file:$j?mode=ro" "SELECT count(*) FROM process" 2>&1)
[ "$rows" = 1 ] || problem "spawn-helper: $rows process rows, want the parent's only: $(sqlite3 "file:$j?mode=ro" "SELECT pid, origin, exe FROM process" | tr '\n' ' ')"
"$REPORT" --format json --min-age 0 "$j" >"$T/spawn.json" 2>"$T/spawn.err"
rc=$?
[ $rc -eq 0 ] || problem "spawn-helper: report exit $rc with --min-age 0 (leaks: $(leak_classes "$T/spawn.json"))"

note "a shell forking and exec'ing programs that never use bpf"
mkdir -p "$T/cwd"
(cd "$T/cwd" && LD_PRELOAD=$SHIM bash -c 'true; /bin/true; (exit 0); ls >/dev/null; sh -c "true"') ||
	problem "the shell failed under the shim"
[ -z "$(ls -A "$T/cwd")" ] || problem "files left by processes that never used bpf: $(ls -A "$T/cwd")"

note "a fork child that dups and closes what it inherited"
j=$T/child.db
BPFLEAK_JOURNAL="$j" LD_PRELOAD=$PRELOAD "$TRUST" child-dups >"$T/child.out" 2>"$T/err" &
p=$!
KILL_PIDS="$KILL_PIDS $p"
wait_for "$T/child.out" '^child ' 5 || problem "child-dups: the child never said it was ready"
child=$(awk '/^child/ { print $2 }' "$T/child.out")
sleep 0.2
"$REPORT" --format json --pid "$child" "$j" >"$T/live.json" 2>"$T/live.err"
unknown=$(json_query "$T/live.json" "sum(f['count'] for f in d['findings'] if f['class'] == 'unknown_origin')")
[ "$unknown" = 0 ] || problem "child-dups: a live report of the child names $unknown FDs unknown_origin"
kill -KILL "$child"
wait $p
n=$(sqlite3 "file:$j?mode=ro" "SELECT count(*) FROM event WHERE pid = $child AND op IN (2, 3)" 2>&1)
[ "$n" -ge 7 ] 2>/dev/null || problem "child-dups: $n dup/close events of the killed child in the journal, want 7"
n=$(sqlite3 "file:$j?mode=ro" "SELECT count(*) FROM event WHERE pid = $child AND op = 7" 2>&1)
[ "$n" = 1 ] || problem "child-dups: $n fork events for the child"

note "a supervisor's workers"
j=$T/super.db
shim "$j" "$TRUST" supervisor 3 >"$T/super.out" 2>"$T/err" || problem "supervisor: exit $?"
report_json "$j" "$T/super.json"
sup=$(awk '/^supervisor/ { print $2 }' "$T/super.out")
for w in $(awk '/^worker/ { print $2 }' "$T/super.out"); do
	ppid=$(json_query "$T/super.json" "[p['ppid'] for p in d['processes'] if p['pid'] == $w]")
	[ "$ppid" = "[$sup]" ] || problem "worker $w: ppid $ppid in the JSON report, want [$sup]"
done

note "fork() right away, while two threads make their first maps (20 runs x 20 children)"
for i in $(seq 1 20); do
	BPFLEAK_QUIET=1 shim "$T/ft0.db" timeout -k 1 20 "$TRUST" fork-threads 20 >"$T/out" 2>"$T/err" ||
		problem "early fork run $i: exit $? (124: hung)"
	rm -f "$T/ft0.db"*
done

note "fork() from one thread while two others create (6 runs x 200 children)"
for i in $(seq 1 6); do
	j=$T/ft.$i.db
	start=$(date +%s%N)
	BPFLEAK_QUIET=1 shim "$j" timeout -k 1 60 "$TRUST" fork-threads 200 >"$T/out" 2>"$T/err"
	rc=$? ms=$(ms_since "$start")
	[ $rc -eq 0 ] || { problem "fork-threads run $i: exit $rc after $ms ms (124: hung)"; continue; }
	report_json "$j" "$T/ft.json"
	case " $(classes "$T/ft.json") " in
	*" stale "*) problem "fork-threads run $i: stale findings (inherited FDs not checked in the child)" ;;
	esac
done
exit $status
