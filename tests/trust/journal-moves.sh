#!/bin/sh
# The journal under the program's feet (issue 15 items 4, 5):
#  - moved away (log rotation) and deleted while the program runs: a new
#    journal at the path, mode 0600, with the process, its open FDs and a
#    note that earlier events are elsewhere; the report says so;
#  - its file system fills up and then has room again: recording goes on,
#    and the gap is journaled with its span ("lost between T1 and T2").
. "$(dirname "$0")/lib.sh"
trust_setup

for how in moved deleted; do
	j=$T/move.$how.db
	BPFLEAK_JOURNAL="$j" LD_PRELOAD=$PRELOAD "$TRUST" pulse 5 >"$T/$how.out" 2>"$T/err" &
	p=$!
	KILL_PIDS="$KILL_PIDS $p"
	wait_for "$T/$how.out" '^ready' 5 || problem "$how: pulse never got ready"
	sleep 0.6   # the writer folds its WAL into the file every 250 ms
	if [ $how = moved ]; then mv "$j" "$T/rotated.db"; else rm -f "$j"; fi
	sleep 0.3
	kill -TERM $p
	wait $p || problem "$how: pulse exit $?"
	[ -f "$j" ] || { problem "$how: no journal at the path afterwards"; continue; }
	[ "$(stat -c %a "$j")" = 600 ] || problem "$how: the new journal has mode $(stat -c %a "$j")"
	q() { sqlite3 "file:$j?mode=ro" "$1" 2>&1; }
	[ "$(q "SELECT count(*) FROM process")" = 1 ] || problem "$how: $(q "SELECT count(*) FROM process") process rows"
	[ "$(q "SELECT count(*) FROM event WHERE op = 11 AND detail = 'journal_restart'")" = 1 ] ||
		problem "$how: no journal_restart note"
	held=$(q "SELECT count(*) FROM event e JOIN object o ON o.kind = 1 AND o.id = e.obj_id
		WHERE e.op = 5 AND e.detail = 'restart' AND o.name = 'tr_held'")
	[ "$held" = 1 ] || problem "$how: the held map is not listed in the new journal ($held)"
	[ "$(q "SELECT count(*) FROM module")" -gt 1 ] 2>/dev/null || problem "$how: no module rows in the new journal"
	report_json "$j" "$T/move.json"
	grep -q "journal_restart\|moved or deleted" "$T/move.json" || problem "$how: the report does not say the journal was restarted"
	if [ $how = moved ]; then
		old=$(sqlite3 "file:$T/rotated.db?mode=ro" "SELECT count(*) FROM event WHERE op = 1" 2>&1)
		[ "$old" -ge 1 ] 2>/dev/null || problem "moved: the rotated journal lost its events ($old)"
	fi
done

note "a full disk, then room again"
mount_tmpfs "$T/small" size=2m
j=$T/small/gap.db
BPFLEAK_JOURNAL="$j" LD_PRELOAD=$PRELOAD "$TRUST" pulse 2 >"$T/gap.out" 2>"$T/err" &
p=$!
KILL_PIDS="$KILL_PIDS $p"
wait_for "$T/gap.out" '^ready' 5 || problem "gap: pulse never got ready"
sleep 0.3
dd if=/dev/zero of="$T/small/filler" bs=4k 2>/dev/null
full_at=$(date +%s%N)
sleep 0.5
rm -f "$T/small/filler"
sleep 0.5
kill -TERM $p
wait $p || problem "gap: pulse exit $?"
grep -c '^bpfleak\[.*journal write failed' "$T/err" | grep -qx 1 || problem "gap: not exactly one warning: $(cat "$T/err")"
gap=$(sqlite3 "file:$j?mode=ro" "SELECT fd2, end_ns - ts_ns, detail FROM event WHERE op = 8" 2>&1)
case $gap in
*"journal write failed"*) ;;
*) problem "gap: no drop event for the full disk: '$gap'" ;;
esac
span=$(echo "$gap" | head -1 | cut -d'|' -f2)
[ "${span:-0}" -gt 100000000 ] 2>/dev/null || problem "gap: the gap's span is $span ns, the disk was full for 500 ms"
after=$(sqlite3 "file:$j?mode=ro" "SELECT count(*) FROM event WHERE op = 1 AND ts_ns > (SELECT max(end_ns) FROM event WHERE op = 8)" 2>&1)
[ "$after" -ge 10 ] 2>/dev/null || problem "gap: $after creates recorded after space came back"
report_json "$j" "$T/gap.json"
grep -q "lost" "$T/gap.json" || problem "gap: the report does not say events were lost"
exit $status
