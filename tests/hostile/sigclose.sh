#!/bin/sh
# close() from a signal handler while the main thread is inside a recorded
# create: a second thread sends SIGUSR1 to the main thread every few
# microseconds while it makes at least 20,000 bpf FDs (map creates and
# MAP_GET_FD_BY_ID), and on until 300 handler closes have landed inside a
# create; the handler closes FDs the main thread made earlier.
#
# Asserts: the host's results are unchanged (every close in the handler
# returns 0, errors 0); the scenario happened (at least 300 handler closes
# landed while main was inside the create call); the journal records every
# close -- its replay and exit snapshot equal the FDs the host left open;
# bpfleak-report shows exactly those as outstanding and no stale or
# double_close finding.
. "$(dirname "$0")/lib.sh"
setup
require_report

n=${HOSTILE_SIG_CREATES:-20000}
j=$T/sig.db
BPFLEAK_QUIET=1 shim "$j" timeout -k 5 60 "$HOST" sigclose "$n" "${HOSTILE_SIG_MIN:-300}" >"$T/out" 2>"$T/err"
rc=$?
cat "$T/err"
[ $rc -eq 124 ] && fail "the host did not finish in 60s (deadlock in a handler?)"
[ $rc -eq 0 ] || fail "host exited $rc under the shim"
grep '^creates\|^signals\|^handler_\|^main_closes' "$T/out" | tr '\n' ' '
echo
grep -q '^errors 0$' "$T/out" || fail "the host's own checks failed"
in_create=$(awk '$1 == "handler_closes_in_create" { print $2 }' "$T/out")
[ "${in_create:-0}" -ge "${HOSTILE_SIG_MIN:-300}" ] ||
	fail "only ${in_create:-0} closes landed inside a create; the test proved nothing"
status=0
$PY "$HOSTILE_PY" journal "$j" "$T/out" || status=1
report_json "$j" "$T/report.json"
$PY "$HOSTILE_PY" report "$T/report.json" "$T/out" || status=1
exit $status
