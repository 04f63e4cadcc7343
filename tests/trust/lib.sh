# Shared by tests/trust/*.sh (sourced): the hostile tests' helpers (setup,
# skip/fail, mounts cleaned up on exit, shim J CMD, report_json) plus the
# trust host programs.
. "$(dirname "$0")/../hostile/lib.sh"
TRUST=$B/tests/trust/host_trust
GETENV_HOST=$B/tests/trust/host_getenv
RUN=${BPFLEAK_RUN:-$B/bpfleak}

# trust_setup: root, a temp dir, bpf permitted (else skip), the hosts built.
trust_setup() {
	setup
	for f in "$TRUST" "$GETENV_HOST" "$RUN" "$REPORT"; do
		[ -x "$f" ] || fail "$f is missing (run make)"
	done
}

# ms_since START_NS: milliseconds elapsed.
ms_since() {
	echo $((($(date +%s%N) - $1) / 1000000))
}

# json_query REPORT.json PYTHON-EXPRESSION: evaluate with d = the report.
json_query() {
	$PY -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

# classes REPORT.json: the classes of its findings, sorted, space-separated.
classes() {
	json_query "$1" "' '.join(sorted({f['class'] for f in d['findings']}))"
}

# leak_classes REPORT.json: the classes of its findings that are leaks.
leak_classes() {
	json_query "$1" "' '.join(sorted({f['class'] for f in d['findings'] if f['leak']}))"
}

# wait_for FILE PATTERN [SECONDS]: until a line of FILE matches.
wait_for() {
	n=$(( ${3:-10} * 100 ))
	while [ $n -gt 0 ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.01
		n=$((n - 1))
	done
	return 1
}

status=0
problem() {
	echo "FAIL: $*"
	status=1
}
