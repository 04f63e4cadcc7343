#!/bin/sh
# SIGKILL at random moments during a creation loop, 20 times (some within
# the shim's first 30 ms: start-up and the first schema write; the rest up
# to 400 ms in; half flat out, half paced).  The host logs each create
# (map id, CLOCK_MONOTONIC) with write(2) before going on.
#
# Asserts, for every kill: the journal opens and passes PRAGMA
# integrity_check; its creates are a prefix of the host's log (no hole, no
# reordering; it may hold one create more: the one the kill caught between
# the shim recording it and the host logging it); every create made more
# than 250 ms before the kill is there (the writer commits every 20 ms:
# only the last batch may be lost); and bpfleak-report reads it (exit 0/1)
# and says the process has no snapshot.
# The worst loss seen is printed.
. "$(dirname "$0")/lib.sh"
setup
require_report
kills=${HOSTILE_KILLS:-20}
seed=${HOSTILE_KILL_SEED:-$(date +%s)}
echo "-- seed $seed"
$PY "$HOSTILE_PY" killrun "$T" "$HOST" "$SHIM" "$REPORT" "$kills" 250 "$seed"
