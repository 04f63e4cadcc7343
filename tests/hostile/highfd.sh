#!/bin/sh
# RLIMIT_NOFILE of 1,048,576 and FD numbers above 500,000: dup2 and
# F_DUPFD to 500001, 600000, 700000, 999999 and 1048575, close_range over
# [600000, 700000] and CLOSE_RANGE_CLOEXEC over [900000, ~0U], an untracked
# FD dup2'd over a tracked one, a deliberate double close, and 100 maps
# each moved to its own page of the shim's FD table (half left open).
#
# Asserts: the host's results are unchanged; the journal replay and exit
# snapshot equal the FDs it left open; the report's outstanding FDs are
# exactly those, its double_close names the FD closed twice.
#
# Raising the hard limit needs CAP_SYS_RESOURCE.  Without it the same
# sequence runs scaled to the current hard limit, and the test then skips
# (saying whether the scaled run passed): the 1,048,576 case was not run.
. "$(dirname "$0")/lib.sh"
setup
require_report

run_at() {
	j=$T/high.$1.db
	BPFLEAK_QUIET=1 shim "$j" "$HOST" highfd "$1" >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc -eq 77 ] && return 77
	cat "$T/err"
	[ $rc -eq 0 ] || fail "limit $1: host exited $rc"
	$PY "$HOSTILE_PY" journal "$j" "$T/out" || fail "limit $1: journal"
	report_json "$j" "$T/report.json"
	$PY "$HOSTILE_PY" report "$T/report.json" "$T/out" || fail "limit $1: report"
	return 0
}

run_at 1048576
[ $? -eq 0 ] && exit 0
hard=$(sh -c 'ulimit -Hn')
note "$(cat "$T/err")"
[ "$hard" = unlimited ] && hard=1048576
[ "$hard" -ge 4096 ] || skip "RLIMIT_NOFILE hard limit $hard: too low even for the scaled run"
run_at "$hard"
skip "cannot raise RLIMIT_NOFILE to 1048576 (no CAP_SYS_RESOURCE); the scaled run at $hard passed"
