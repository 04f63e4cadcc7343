#!/bin/sh
# Folding in the kernel recorder (issue 11 goal 4), as tests/trust/fold.sh
# for the shim: a stats exporter with a slow leak recorded by
# `bpfleak run --tracer=kernel --fold-age 1s`.  Most of its churn must
# become lifetime_fold counts, the leaked FDs' creates stay rows, and the
# report still names the slow leak as growth at reopen_config.
# Exit 77 (skip) where the kernel recorder cannot run.
. "$(dirname "$0")/lib.sh"
kr_sandbox
HOST=$B/tests/trust/host_trust
[ -x "$HOST" ] || fail "$HOST is missing (run make check)"

"$BPFLEAK" run --tracer=kernel -q --fold-age 1s -o "$T/k.db" -- "$HOST" slow-leak 6 >"$T/run.out" 2>&1
rc=$?
[ "$rc" = 0 ] || { cat "$T/run.out"; fail "slow-leak under the kernel recorder exited $rc"; }
J=$T/k.db
churn=$(sed -n 's/^churn //p' "$T/run.out")
leaked=$(sed -n 's/^leaked //p' "$T/run.out")
folded=$(q "$J" "SELECT coalesce(sum(count), 0) FROM lifetime_fold")
[ "$folded" -ge $((churn / 2)) ] || fail "only $folded of $churn create/close pairs were folded"
n=$(q "$J" "SELECT count(*) FROM event WHERE op = 1 AND cmd = 14")
[ "$n" = "$leaked" ] || fail "$n GET_FD_BY_ID creates left of $leaked leaked"
report_json "$J" "$T/k.json"
v=$(sqlite3 :memory: "SELECT group_concat(DISTINCT json_extract(f.value, '\$.class')) FROM json_each(json(readfile('$T/k.json')), '\$.findings') f WHERE json_extract(f.value, '\$.leak') AND f.value LIKE '%reopen_config%'")
case ",$v," in
*,growth,*) ;;
*) fail "the slow leak is not growth at reopen_config: '$v'" ;;
esac
[ "$(sqlite3 :memory: "SELECT json_extract(readfile('$T/k.json'), '\$.journal.folded_pairs')")" = "$folded" ] ||
	fail "the report does not count the folded pairs"
"$BPFLEAK" run --tracer=kernel -q --fold-age soon -- /bin/true >"$T/bad.out" 2>&1
[ $? = 125 ] && grep -q "fold-age wants a duration" "$T/bad.out" || fail "a bad --fold-age: $(cat "$T/bad.out")"
echo "kernel fold: $folded of $churn pairs folded, the slow leak is growth ($v)"
