#!/bin/sh
# Folding under the shim (issue 11 goal 4): a stats exporter that makes and
# closes a map every 5 ms and leaks a re-opened map every 200 ms, recorded
# with BPFLEAK_FOLD_AGE=1s.  The journal must hold most of the churn as
# lifetime_fold counts, not rows, and its report must say the same as the
# report of the same run recorded without folding: the slow leak, as
# growth, at reopen_config, and nothing at the churn's line.
. "$(dirname "$0")/lib.sh"
trust_setup

# run AGE NAME: the exporter for 6 s; "churn leaked" on stdout.
run() {
	BPFLEAK_QUIET=1 BPFLEAK_FOLD_AGE=$1 shim "$T/$2.db" "$TRUST" slow-leak 6 >"$T/$2.out" 2>"$T/$2.err" ||
		problem "slow-leak ($2): exit $?"
	[ -s "$T/$2.err" ] && problem "slow-leak ($2) wrote to stderr: $(head -3 "$T/$2.err")"
	report_json "$T/$2.db" "$T/$2.json"
}
q() {
	sqlite3 "file:$1?mode=ro" "$2"
}
# verdict NAME: leak classes, leaked FDs beyond those the run says it
# leaked, and the functions of the leak sites.
verdict() {
	json_query "$T/$1.json" "'%s / %d / %s' % (' '.join(sorted({f['class'] for f in d['findings'] if f['leak']})), d['summary']['leaked_fds'] - $(sed -n 's/^leaked //p' "$T/$1.out"), ' '.join(sorted({fr.get('function') or '?' for f in d['findings'] if f['leak'] for fr in f['stack'][:3]})))"
}

run 1s folded
run off plain
churn=$(sed -n 's/^churn //p' "$T/folded.out")
leaked=$(sed -n 's/^leaked //p' "$T/folded.out")
[ "${churn:-0}" -ge 200 ] || problem "the exporter made only ${churn:-0} maps"
[ "${leaked:-0}" -ge 10 ] || problem "the exporter leaked only ${leaked:-0} maps"

folded=$(q "$T/folded.db" "SELECT coalesce(sum(count), 0) FROM lifetime_fold")
rows=$(q "$T/folded.db" "SELECT count(*) FROM event WHERE op IN (1, 3)")
plain_rows=$(q "$T/plain.db" "SELECT count(*) FROM event WHERE op IN (1, 3)")
# Pairs closed in the last 1.5 s (the age and its slack) stay rows.
[ "$folded" -ge $((churn / 2)) ] || problem "only $folded of $churn create/close pairs were folded"
[ "$rows" -lt $((plain_rows * 2 / 3)) ] || problem "$rows create/close rows folded vs $plain_rows not"
[ "$(q "$T/plain.db" "SELECT count(*) FROM lifetime_fold")" = 0 ] ||
	problem "BPFLEAK_FOLD_AGE=off folded pairs"
# The leaks are never folded: every leaked FD's create is still a row.
n=$(q "$T/folded.db" "SELECT count(*) FROM event WHERE op = 1 AND cmd = 14")
[ "$n" = "$leaked" ] || problem "$n GET_FD_BY_ID creates left of $leaked leaked"

vf=$(verdict folded)
vp=$(verdict plain)
[ "$vf" = "$vp" ] || problem "folding changed the verdict: '$vf' vs '$vp' without"
case "$vf" in
*growth*reopen_config*) ;;
*) problem "the slow leak is not growth at reopen_config: $vf" ;;
esac
case "$vf" in
*slow_leak_mode*trust_map* | *trust_map*) problem "the churn is called a leak: $vf" ;;
esac
n=$(json_query "$T/folded.json" "d['journal']['folded_pairs']")
[ "$n" = "$folded" ] || problem "the report counts $n folded pairs, the journal $folded"
"$REPORT" "$T/folded.db" >"$T/folded.txt" 2>&1
grep -q "create/close pairs closed over 1.00s before they were folded" "$T/folded.txt" ||
	problem "the text report does not say pairs were folded: $(sed -n 2p "$T/folded.txt")"

# A bad setting: one warning, the default age, the program runs as without it.
BPFLEAK_QUIET=1 BPFLEAK_FOLD_AGE=soon shim "$T/bad.db" "$TRUST" slow-leak 1 >"$T/bad.out" 2>"$T/bad.err" ||
	problem "slow-leak (bad BPFLEAK_FOLD_AGE): exit $?"
[ "$(grep -c 'BPFLEAK_FOLD_AGE' "$T/bad.err")" = 1 ] ||
	problem "a bad BPFLEAK_FOLD_AGE is not said once: $(cat "$T/bad.err")"
echo "fold: $folded of $churn pairs folded; $rows create/close rows vs $plain_rows; verdict $vf"
exit $status
