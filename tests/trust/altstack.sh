#!/bin/sh
# bpf creates from a signal handler on an alternate stack (issue 15 item 2):
# the first bpf FD of the process, then one once recording runs.  On this
# kind of CPU the kernel's signal frame alone is 3.4 KiB (AVX-512) and plain
# libbpf needs about 6.1 KiB for its first map from a handler, so altstacks
# from 7 KiB (malloc'd: an overflow corrupts the heap below) and 6-8 KiB
# with a guard page (an overflow faults) must behave as without the shim:
# same exit status, the creates recorded (without stacks).
. "$(dirname "$0")/lib.sh"
trust_setup

for size in 7168 8192 16384; do
	for kind in "" guard; do
		"$TRUST" altstack $size $kind >"$T/plain" 2>&1
		want=$?
		j=$T/alt.db
		rm -f "$j"*
		shim "$j" timeout -k 1 10 "$TRUST" altstack $size $kind >"$T/out" 2>"$T/err"
		rc=$?
		label="altstack $size ${kind:-malloc}"
		[ $rc -eq $want ] || problem "$label: exit $rc under the shim, $want without: $(head -2 "$T/err")"
		n=$(sqlite3 "file:$j?mode=ro" "SELECT count(*) FROM event e JOIN object o ON o.kind = 1
			AND o.id = e.obj_id WHERE e.op = 1 AND o.name = 'tr_altstack'" 2>&1)
		nostack=$(sqlite3 "file:$j?mode=ro" "SELECT count(*) FROM event WHERE op = 1
			AND coalesce(flags, 0) & 128" 2>&1)
		notes=$(sqlite3 "file:$j?mode=ro" "SELECT coalesce(sum(fd2), 0) FROM event WHERE op = 11
			AND detail = 'small_stack'" 2>&1)
		# Each handler create is recorded (with or without its identity) or counted.
		[ $((n + notes)) -ge 2 ] 2>/dev/null ||
			problem "$label: $n handler creates recorded, $notes counted as not recordable"
		note "   $label: rc $rc, $n recorded ($nostack without a stack), $notes not recordable"
	done
done
for kind in guard; do
	"$TRUST" altstack 6144 $kind >/dev/null 2>&1
	want=$?
	shim "$T/alt6.db" timeout -k 1 10 "$TRUST" altstack 6144 $kind >/dev/null 2>"$T/err"
	rc=$?
	[ $rc -eq $want ] || problem "altstack 6144 $kind: exit $rc under the shim, $want without"
done
exit $status
