#!/bin/sh
# FD tables and closes the shim cannot see (issue 15 items 6, 10; issue 9
# item 12):
#  - one thread unshares its FD table (unshare(CLONE_FILES), or
#    close_range(CLOSE_RANGE_UNSHARE)), closes and creates there: no false
#    stale, leak or unknown FD, and the journal notes it;
#  - a map closed by io_uring (IORING_OP_CLOSE) is not a leak, and the
#    report says io_uring is why it cannot tell;
#  - maps made by raw syscall instructions: the report cannot vouch for the
#    process (exit 3) and says why.
. "$(dirname "$0")/lib.sh"
trust_setup

for how in unshare close_range; do
	j=$T/unshare.$how.db
	shim "$j" "$TRUST" unshare $([ $how = close_range ] && echo close_range) >"$T/out" 2>"$T/err" ||
		problem "unshare ($how): exit $?"
	grep -q '^shared_open 1' "$T/out" || problem "unshare ($how): the shared map was closed: $(cat "$T/out")"
	report_json "$j" "$T/unshare.json"
	c=$(classes "$T/unshare.json")
	case " $c " in
	*" stale "* | *" double_close "* | *" unknown_origin "*) problem "unshare ($how): $c" ;;
	esac
	[ "$(leak_classes "$T/unshare.json")" = "" ] || problem "unshare ($how): leaks $(leak_classes "$T/unshare.json")"
	n=$(sqlite3 "file:$j?mode=ro" "SELECT count(*) FROM event WHERE op = 11 AND detail = 'unshare'" 2>&1)
	[ "$n" = 1 ] || problem "unshare ($how): $n unshare notes"
	grep -qi unshare "$T/unshare.json" || problem "unshare ($how): the report does not say a thread's table was its own"
done

j=$T/uring.db
shim "$j" "$TRUST" io-uring-close >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 77 ] && skip "io_uring not available: $(cat "$T/out")"
[ $rc -eq 0 ] || problem "io-uring-close: exit $?"
grep -q '^open_after 0' "$T/out" || problem "io_uring did not close the map: $(cat "$T/out")"
"$REPORT" --format json "$j" >"$T/uring.json" 2>"$T/uring.err"
rc=$?
[ "$(leak_classes "$T/uring.json")" = "" ] || problem "io_uring close reported as a leak: $(leak_classes "$T/uring.json") (exit $rc)"
grep -q io_uring "$T/uring.json" || problem "the report does not name io_uring"

j=$T/raw.db
shim "$j" "$TRUST" raw-create >"$T/out" 2>"$T/err" || problem "raw-create: exit $?"
"$REPORT" --format json "$j" >"$T/raw.json" 2>"$T/raw.err"
rc=$?
[ $rc -eq 3 ] || problem "bpf FDs the shim never saw made: report exit $rc, want 3 (cannot vouch)"
"$REPORT" "$j" >"$T/raw.txt" 2>&1
head -5 "$T/raw.txt" | grep -qi "could not\|cannot\|not see\|blind" ||
	problem "the report's first lines do not say what it could not see: $(head -5 "$T/raw.txt")"

# The same with one of them at FD 700: a dormant shim's look at exit finds
# FDs past the first 64 too (preload/heldscan.c sizes the FD table).
j=$T/rawhigh.db
shim "$j" "$TRUST" raw-create high >"$T/out" 2>"$T/err" || problem "raw-create high: exit $?"
held=$(sqlite3 "file:$j?mode=ro" "SELECT group_concat(e.fd) FROM (SELECT e.fd FROM event e
	JOIN op_name n ON n.op = e.op WHERE n.name = 'inherited' AND e.detail = 'exit' ORDER BY e.fd) e" 2>&1)
want=$(awk '/^raw_fd/ { print $2 }' "$T/out" | sort -n | paste -sd, -)
[ "$held" = "$want" ] ||
	problem "raw-create high: held at exit $held, want $want (the FDs the host made)"
exit $status
