#!/bin/sh
# Lost records are journaled, never silent: with an 8 KiB ring buffer no
# create record that carries a stack copy (9.5 KiB) fits, so kr_raw's
# creates are lost.  The journal must hold `drop` events that count them
# (for kr_raw's pid), the report must say events were dropped, bpfleak's
# closing line must say how many, and the process row, the closes and the
# exit snapshot (small records) must still be there.
# Exit 77 (skip) where the kernel recorder cannot run.
. "$(dirname "$0")/lib.sh"
kr_sandbox
HOST=$KB/kr_raw
[ -x "$HOST" ] || fail "$HOST is missing (run make check)"

"$BPFLEAK" run --tracer=kernel --ring-size 8192 -o "$T/d.db" -- "$HOST" "$BPFFS" >"$T/run.out" 2>&1
rc=$?
cat "$T/run.out"
[ "$rc" = 77 ] && skip "bpf() is not permitted here"
[ "$rc" = 0 ] || fail "kr_raw under bpfleak exited $rc"
J=$T/d.db
pid=$(q "$J" "SELECT pid FROM process WHERE origin = 'start' AND exe LIKE '%/kr_raw'")
[ -n "$pid" ] || fail "no process row for kr_raw"
lost=$(q "$J" "SELECT coalesce(sum(fd2), 0) FROM event WHERE op = 8 AND pid = $pid")
# 10 creates and 4 dups, each with a stack copy: all too big for the buffer.
[ "$lost" -ge 14 ] || fail "expected at least 14 events counted as dropped, got $lost"
[ "$(q "$J" "SELECT count(*) FROM event WHERE op = 8 AND detail LIKE 'ring buffer full%'")" -ge 1 ] ||
	fail "drop events do not say why"
[ "$(q "$J" "SELECT count(*) FROM event WHERE op = 1")" = 0 ] ||
	fail "a create record fitted in an 8 KiB ring buffer?"
[ "$(q "$J" "SELECT count(*) FROM event WHERE op = 3")" -ge 4 ] || fail "the closes (small records) are missing"
[ "$(q "$J" "SELECT count(*) FROM snapshot WHERE pid = $pid AND reason = 'exit'")" = 1 ] ||
	fail "no exit snapshot"
grep -q "lost" "$T/run.out" || fail "bpfleak's closing line does not say events were lost"
report_json "$J" "$T/d.json"
dropped=$(sqlite3 :memory: "SELECT json_extract(readfile('$T/d.json'), '\$.journal.dropped')")
[ "$dropped" = "$lost" ] || fail "the report counts $dropped dropped events, the journal $lost"
"$REPORT" "$J" >"$T/d.txt" 2>&1
grep -qi "dropped" "$T/d.txt" || fail "the text report does not say events were dropped"
echo "drops: all checks passed ($lost lost, journaled)"
