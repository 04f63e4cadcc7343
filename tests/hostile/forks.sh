#!/bin/sh
# A host forks 50 children while 3 threads in the parent keep creating and
# closing maps; every third child execs a second program (host_hostile
# execchild) that makes bpf FDs of its own and inherits a non-CLOEXEC dup.
#
# Asserts, in two runs (parent threads paced at 50 us per operation, then
# flat out):
#  - no deadlock: the host finishes within the time limit, and no fork()
#    takes longer than 1 s (without the shim the worst is a few ms);
#  - every child's creates are in the journal under the child's pid, and
#    none of the parent's under any other pid (maps are named per process);
#  - each child has one fork event naming the parent and a process row of
#    origin fork (plus one of origin exec, with the new exe, and one exec
#    event, for those that exec'd); children that left through exit() have
#    an exit snapshot holding their map;
#  - no events of any pid but the parent and its children; no child event
#    dropped (the paced run: none of the parent's either);
#  - bpfleak-report reads the multi-process journal (exit 0/1) and lists
#    every child.
. "$(dirname "$0")/lib.sh"
setup
require_report

children=${HOSTILE_CHILDREN:-50}
limit=${HOSTILE_TIMEOUT:-60}
status=0

run() {
	label=$1 pace=$2 extra=$3
	j=$T/forks.$label.db
	note "$label: $children children, 3 parent threads, pace ${pace}us"
	start=$(date +%s)
	BPFLEAK_QUIET=1 shim "$j" timeout -k 5 "$limit" "$HOST" forks "$children" 3 "$pace" 1000 \
		>"$T/out.$label" 2>"$T/err.$label"
	rc=$?
	echo "   $(($(date +%s) - start))s: $(grep '^children\|^fork_\|^parent_creates' "$T/out.$label" | tr '\n' ' ')"
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		cat "$T/err.$label"
		echo "FAIL: $label: the host did not finish in ${limit}s (deadlock?)"
		status=1
		return
	fi
	grep -v '^bpfleak\[' "$T/err.$label"
	if [ $rc -ne 0 ]; then
		echo "FAIL: $label: host exited $rc (its own checks or a child failed)"
		status=1
	fi
	$PY "$HOSTILE_PY" forks "$j" "$T/out.$label" "$HOST" $extra || status=1
	report_json "$j" "$T/report.$label.json"
	for pid in $(awk '$1 == "child" { print $3 }' "$T/out.$label"); do
		grep -q "\"pid\": *$pid[,}]" "$T/report.$label.json" ||
			{ echo "FAIL: $label: child $pid missing from the report"; status=1; }
	done
}

run paced 50 ""
run flat 0 --allow-parent-drops
exit $status
