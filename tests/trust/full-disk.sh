#!/bin/sh
# A journal on a disk that fills up at every point of recording: before
# the schema, between the schema and the process row, before the first
# batch, in the middle of the run.  Whatever the shim could write, the
# host runs unchanged, and a run that printed a write failure never gets
# a clean verdict: the report says it cannot vouch (exit 3) or that the
# file is no journal (exit 2), never "0 leaks" with exit 0.
. "$(dirname "$0")/lib.sh"
trust_setup
mount_tmpfs "$T/d" size=1m

"$HOST" plain 100 >"$T/base.out" 2>"$T/base.err"
base_rc=$?
blind=0
for kb in 0 8 16 32 48 64 72 80 88 96 104 112 120 128 136 144 160 176 200 240; do
	rm -f "$T"/d/*
	dd if=/dev/zero of="$T/d/filler" bs=1k count=$((1024 - kb)) 2>/dev/null
	shim "$T/d/j.db" "$HOST" plain 100 >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc -eq $base_rc ] || problem "${kb}K free: the host exited $rc, without the shim $base_rc"
	cmp -s "$T/out" "$T/base.out" || problem "${kb}K free: stdout changed"
	failed=$(grep -c '^bpfleak\[.*\(failed\|not recording\)' "$T/err")
	if [ -e "$T/d/j.db" ]; then
		"$REPORT" "$T/d/j.db" >"$T/report" 2>&1
		rrc=$?
	else
		rrc=none
	fi
	[ "$rrc" = 3 ] && blind=$((blind + 1))
	if [ "$failed" -gt 0 ] && [ "$rrc" = 0 ]; then
		problem "${kb}K free: the shim said '$(grep '^bpfleak\[' "$T/err" | head -1)' but the report is clean: $(tail -1 "$T/report")"
	fi
	grep -q "AddressSanitizer\|Segmentation\|core dumped" "$T/report" 2>/dev/null &&
		problem "${kb}K free: the report crashed"
	echo "   ${kb}K free: host $rc, write failures $failed, report $rrc"
done
# The sweep must have reached the cases between "no journal" and "all fits".
[ $blind -gt 0 ] || problem "no free-space size gave a partly written journal (exit 3): the sweep missed the window"
exit $status
