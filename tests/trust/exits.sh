#!/bin/sh
# How daemons end, under the shim (issue 9 items 1, 2, 6, 9):
#  - main() calls pthread_exit while workers run: the process still exits
#    (the shim's writer never keeps it alive), with its exit snapshot;
#  - SIGTERM's handler calls _exit while main is deep in malloc: never a
#    hang (12 runs), and what was made before is in the journal;
#  - exit() while another thread creates and closes flat out: no false
#    "stale" (8 runs);
#  - SIGKILL after a start-up burst of 3 maps: no "growth".
. "$(dirname "$0")/lib.sh"
trust_setup

note "pthread_exit from main (3 runs)"
for i in 1 2 3; do
	j=$T/pexit.$i.db
	start=$(date +%s%N)
	shim "$j" timeout -k 1 10 "$TRUST" pthread-exit >"$T/out" 2>"$T/err"
	rc=$? ms=$(ms_since "$start")
	[ $rc -eq 0 ] || problem "pthread_exit run $i: exit $rc (124: the process did not end)"
	[ "$ms" -lt 3000 ] || problem "pthread_exit run $i: took $ms ms (the workers sleep 200 ms)"
	snaps=$(sqlite3 "file:$j?mode=ro" "SELECT count(*) FROM snapshot s JOIN process p
		ON p.pid = s.pid WHERE s.reason = 'exit' AND p.exited_ns IS NOT NULL" 2>&1)
	[ "$snaps" = 1 ] || problem "pthread_exit run $i: $snaps exit snapshots"
	fds=$(sqlite3 "file:$j?mode=ro" "SELECT count(*) FROM snapshot_fd" 2>&1)
	[ "$fds" -ge 3 ] 2>/dev/null || problem "pthread_exit run $i: $fds FDs in the exit snapshot, want 3"
done

note "_exit from a SIGTERM handler while main mallocs (12 runs)"
hung=0
for i in $(seq 1 12); do
	j=$T/term.$i.db
	# Emptied first: the background job's own redirection may come after
	# wait_for has read the last run's "ready".
	: >"$T/term.out"
	BPFLEAK_JOURNAL="$j" LD_PRELOAD=$PRELOAD timeout -k 1 10 "$TRUST" sigterm-exit >"$T/term.out" 2>"$T/err" &
	p=$!
	KILL_PIDS="$KILL_PIDS $p"
	wait_for "$T/term.out" '^ready' 5 || problem "sigterm run $i: the host never got ready"
	pid=$(awk '/^ready/ { print $2 }' "$T/term.out")
	sleep "0.0$(( (i * 7) % 9 + 1 ))"
	start=$(date +%s%N)
	kill -TERM "$pid"
	wait $p
	rc=$? ms=$(ms_since "$start")
	if [ $rc -ne 0 ]; then
		hung=$((hung + 1))
		problem "sigterm run $i: exit $rc after $ms ms (124: hung)"
	elif [ "$ms" -gt 2000 ]; then
		problem "sigterm run $i: _exit took $ms ms"
	fi
	creates=$(sqlite3 "file:$j?mode=ro" "SELECT count(*) FROM event WHERE op = 1" 2>&1)
	[ "$creates" -ge 1 ] 2>/dev/null || problem "sigterm run $i: $creates creates in the journal"
done
note "   $hung of 12 hung or failed"

note "exit() while a thread churns (8 runs)"
for i in $(seq 1 8); do
	j=$T/churn.$i.db
	shim "$j" timeout -k 1 20 "$TRUST" exit-churn $((20 + 5 * i)) >"$T/out" 2>"$T/err" ||
		problem "exit-churn run $i: exit $?"
	report_json "$j" "$T/churn.json"
	c=$(classes "$T/churn.json")
	case " $c " in
	*" stale "* | *" double_close "* | *" unknown_origin "*) problem "exit-churn run $i: $c" ;;
	esac
	[ "$(leak_classes "$T/churn.json")" = "" ] || problem "exit-churn run $i: leaks $(leak_classes "$T/churn.json")"
done

note "SIGKILL after a start-up burst"
j=$T/burst.db
BPFLEAK_JOURNAL="$j" LD_PRELOAD=$PRELOAD "$TRUST" burst-idle >"$T/burst.out" 2>"$T/err" &
p=$!
KILL_PIDS="$KILL_PIDS $p"
wait_for "$T/burst.out" '^ready' 5 || problem "burst-idle never got ready"
sleep 0.3
kill -KILL $p
wait $p 2>/dev/null
report_json "$j" "$T/burst.json"
case " $(classes "$T/burst.json") " in
*" growth "*) problem "a start-up burst reported as growth: $(json_query "$T/burst.json" "[f['detail'] for f in d['findings'] if f['class'] == 'growth']")" ;;
esac
exit $status
