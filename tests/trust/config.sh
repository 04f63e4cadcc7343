#!/bin/sh
# Settings and warnings (issue 9 items 4, 5):
#  - a daemon that closes stderr and opens a data file (it gets fd 2) finds
#    none of the shim's lines in it; with BPFLEAK_LOG they go to that file;
#  - a host that exports its own getenv/setenv (as bash does) still has
#    BPFLEAK_QUIET and BPFLEAK_DEPTH honoured, and its setenv is never
#    called before main;
#  - bpfleak run -q with bash in the middle prints nothing of its own.
. "$(dirname "$0")/lib.sh"
trust_setup

note "stderr reopened as a data file"
j=$T/stderr.db
shim "$j" "$TRUST" stderr-reuse "$T/data" >"$T/out" 2>"$T/err" || problem "stderr-reuse: exit $?"
[ "$(cat "$T/data")" = data ] || problem "the data file on fd 2 got more than the host wrote: $(head -c 300 "$T/data")"
sqlite3 "file:$j?mode=ro" "SELECT count(*) FROM event" >/dev/null 2>&1 || problem "stderr-reuse: no journal"
BPFLEAK_LOG=$T/shim.log shim "$T/log.db" "$TRUST" stderr-reuse "$T/data2" >"$T/out" 2>"$T/err" ||
	problem "stderr-reuse with BPFLEAK_LOG: exit $?"
[ "$(cat "$T/data2")" = data ] || problem "BPFLEAK_LOG: the data file changed"
grep -q "events in $T/log.db" "$T/shim.log" || problem "BPFLEAK_LOG has no closing line: $(cat "$T/shim.log" 2>&1)"
[ "$(stat -c %a "$T/shim.log")" = 600 ] || problem "BPFLEAK_LOG created with mode $(stat -c %a "$T/shim.log")"

note "a host with its own getenv and setenv"
j=$T/getenv.db
BPFLEAK_QUIET=1 BPFLEAK_DEPTH=2 shim "$j" "$GETENV_HOST" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] || problem "host_getenv: exit $rc (99: the shim called its setenv before main)"
grep -q '^bpfleak\[' "$T/err" && problem "BPFLEAK_QUIET ignored: $(cat "$T/err")"
depth=$(sqlite3 "file:$j?mode=ro" "SELECT max(depth) FROM stack" 2>&1)
[ "$depth" = 2 ] || problem "BPFLEAK_DEPTH=2 ignored: stacks of depth $depth"

note "bpfleak run -q with bash in the middle"
"$RUN" run -q -o "$T/bash.db" -- bash -c "(exit 0); true; '$TRUST' supervisor 1 >/dev/null" 2>"$T/err" ||
	problem "bpfleak run bash: exit $?"
[ -s "$T/err" ] && problem "bpfleak run -q printed: $(cat "$T/err")"
exit $status
