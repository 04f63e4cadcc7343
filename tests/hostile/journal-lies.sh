#!/bin/sh
# bpfleak-report against journals that lie.  A real journal (host_hostile
# leak: a map, a duplicate FD made by MAP_GET_FD_BY_ID from a known line,
# a map created and closed), run from a copy of the host binary, is copied
# and changed one way per case:
#   a close stamped before its create; a close of an FD never created;
#   duplicate sequence numbers (event table without its primary key); an
#   unknown op; a stack id that does not exist; stack blobs shorter than
#   their depth; FD numbers 2^31-1 and negative; the module path replaced by
#   a different binary (with the recorded build-id, and with it erased); a
#   module path that is a FIFO; a truncated, an empty and a non-sqlite file;
#   and, not a lie but a hostile size, 100,000 leaked FDs of distinct maps
#   from one call site (every output format within 10 s).
#
# Asserts: never a crash or a hang (each report within 30 s, no sanitizer
# output), exit 2 only with a one-line reason; each lie shows as a finding
# or warning naming it (see hostile.py cmd_lies); no frame of the replaced
# binary carries a function/file/line the recorded binary does not give;
# and, as the control, the real journal attributes the duplicate to
# hostile_leak_site at the mode_leak.c line the host printed.
. "$(dirname "$0")/lib.sh"
setup
require_report
[ -x "$HOST_ALT" ] || fail "$HOST_ALT is missing (run make)"

mkdir -p "$T/bin"
cp "$HOST" "$T/bin/host_hostile"
BPFLEAK_QUIET=1 shim "$T/real.db" "$T/bin/host_hostile" leak >"$T/out" 2>"$T/err"
rc=$?
cat "$T/err"
[ $rc -eq 0 ] || fail "host_hostile leak exited $rc"
$PY "$HOSTILE_PY" journal "$T/real.db" "$T/out" || fail "the real journal is not right to begin with"
$PY "$HOSTILE_PY" lies "$T" "$T/real.db" "$T/out" "$REPORT" "$T/bin/host_hostile" "$HOST_ALT"
