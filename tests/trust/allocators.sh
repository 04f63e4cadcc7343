#!/bin/sh
# A preloaded allocator beside the shim, in both orders (issue 15 item 1):
# jemalloc hung a program that creates two maps.  Each run must finish as
# without the shim (same exit, same output) and be recorded.
. "$(dirname "$0")/lib.sh"
trust_setup

lib=/usr/lib/$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
jemalloc=$lib/libjemalloc.so.2
tcmalloc=$lib/libtcmalloc_minimal.so.4
[ -e "$jemalloc" ] || skip "no $jemalloc (Debian package libjemalloc2)"
[ -e "$tcmalloc" ] || skip "no $tcmalloc (Debian package libtcmalloc-minimal4)"

for alloc in "$jemalloc" "$tcmalloc"; do
	name=$(basename "$alloc")
	for order in first last; do
		for mode in "supervisor 2" "fork-threads 20" "spawn-helper"; do
			LD_PRELOAD=$alloc "$TRUST" $mode >"$T/plain" 2>&1
			want=$?
			if [ $order = first ]; then pre="$alloc $SHIM"; else pre="$SHIM $alloc"; fi
			j=$T/alloc.db
			rm -f "$j"*
			start=$(date +%s%N)
			BPFLEAK_JOURNAL=$j LD_PRELOAD=$pre timeout -k 1 20 "$TRUST" $mode >"$T/out" 2>"$T/err"
			rc=$? ms=$(ms_since "$start")
			label="$name $order, $mode"
			[ $rc -eq $want ] || problem "$label: exit $rc after $ms ms (without the shim $want; 124: hung)"
			grep -v '^bpfleak\[' "$T/err" | grep -q . && problem "$label: stderr: $(head -3 "$T/err")"
			n=$(sqlite3 "file:$j?mode=ro" "SELECT count(*) FROM event WHERE op = 1" 2>&1)
			[ "$n" -ge 1 ] 2>/dev/null || problem "$label: $n creates recorded"
			note "   $label: rc $rc in $ms ms, $n creates"
		done
	done
done
exit $status
