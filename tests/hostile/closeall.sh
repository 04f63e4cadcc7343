#!/bin/sh
# A host that closes the shim's own journal FDs by mistake, three ways:
#   range  close_range(3, ~0U, 0)
#   from   closefrom(3)
#   loop   for (fd = 3; fd < 1024; fd++) close(fd), 200 times while the
#          writer is busy, each time followed by opening, writing and
#          reading back four files of its own (which get the numbers just
#          freed -- possibly ones sqlite was still using).  The race is
#          decided once per run (the shim stops at the first hit), so the
#          loop variant runs HOSTILE_LOOP_RUNS times (default 4).
#
# Asserts: the host runs unchanged (errors 0: its own files keep what it
# wrote, its FDs behave) and in bounded time (each run within 5 s; alone it
# takes well under 1 s); the shim either keeps recording -- the journal
# passes integrity_check, holds every create made after the mass close,
# and its replay and exit snapshot equal what the host left open -- or says
# exactly once that it stopped.
. "$(dirname "$0")/lib.sh"
setup

status=0
runs=${HOSTILE_LOOP_RUNS:-4}
loops=$(seq 1 "$runs" | sed 's/^/loop/')
for label in range from $loops; do
	how=${label%%[0-9]*}
	j=$T/closeall.$label.db
	mkdir -p "$T/scratch.$how"
	start=$(date +%s%N)
	shim "$j" timeout -k 5 60 "$HOST" closeall "$how" "$T/scratch.$how" >"$T/out" 2>"$T/err"
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	warn=$(grep -c '^bpfleak\[.*not recording' "$T/err")
	echo "   $label: rc $rc in ${ms} ms, $(grep -c '^bpfleak\[' "$T/err") shim lines ($warn 'not recording')"
	if [ "$ms" -gt 5000 ]; then
		echo "FAIL: $label: the host took ${ms} ms (its exit waits for the shim's writer)"
		status=1
	fi
	grep -v '^bpfleak\[.*events in' "$T/err"
	if [ $rc -ne 0 ] || ! grep -q '^errors 0$' "$T/out"; then
		echo "FAIL: $label: the host's results changed (exit $rc)"
		status=1
	fi
	$PY "$HOSTILE_PY" integrity "$j" || status=1
	if [ "$warn" -eq 0 ]; then
		after=$(sqlite3 "file:$j?mode=ro" "SELECT count(*) FROM event e JOIN object o
			ON o.kind = (SELECT kind FROM kind_name WHERE name = 'map') AND o.id = e.obj_id
			WHERE e.op = (SELECT op FROM op_name WHERE name = 'create')
			AND o.name IN ('hl_churn2', 'hl_after')")
		if [ "$after" != 302 ]; then
			echo "FAIL: $label: $after of the 302 creates after the mass close recorded, and no warning"
			status=1
		fi
		# The loop closes numbers whose bpf FDs the churn closed: those are
		# double closes by the design, which the host cannot list itself.
		$PY "$HOSTILE_PY" journal "$j" "$T/out" --any-double-close || status=1
	elif [ "$warn" -ne 1 ] || [ "$(grep -c '^bpfleak\[' "$T/err")" -ne 1 ]; then
		echo "FAIL: $label: the shim stopped but did not say so exactly once"
		status=1
	fi
done
exit $status
