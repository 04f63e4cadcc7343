#!/bin/sh
# A static program that makes its bpf calls with raw `syscall` instructions
# (kr_raw.c): `bpfleak run` must pick the kernel recorder by itself, and the
# report must name exactly the planted leaks (lines marked RAW:name), with
# the dup, F_DUPFD_CLOEXEC, dup3, close_range and pin events the shim would
# have written.  The shim, asked to record it anyway, sees nothing.
# Exit 77 (skip) where the kernel recorder cannot run.
. "$(dirname "$0")/lib.sh"
kr_sandbox
HOST=$KB/kr_raw
SRC=$ROOT/tests/kernel/kr_raw.c
F=kr_raw.c
[ -x "$HOST" ] || fail "$HOST is missing (run make check)"

"$BPFLEAK" run --close-stacks -o "$T/k.db" -- "$HOST" "$BPFFS" >"$T/run.out" 2>&1
rc=$?
cat "$T/run.out"
[ "$rc" = 77 ] && skip "bpf() is not permitted here"
[ "$rc" = 0 ] || fail "kr_raw under bpfleak exited $rc"
grep -q "tracer: kernel" "$T/run.out" || fail "--tracer=auto did not pick the kernel recorder for a static binary"

held=$(line "$SRC" RAW:held) obj_get=$(line "$SRC" RAW:obj_get)
by_id=$(line "$SRC" RAW:get_by_id) dup=$(line "$SRC" RAW:dup) dclose=$(line "$SRC" RAW:double_close)
expected=$(sort <<EOF2
double_close $F:$dclose 1 leak
duplicate $F:$obj_get 1 leak
duplicate $F:$by_id 6 leak
duplicate $F:$dup 1 leak
growth $F:$by_id 6 leak
outstanding $F:$held 1 info
outstanding $F:$obj_get 1 info
outstanding $F:$by_id 6 info
outstanding $F:$dup 1 info
EOF2
)
report_json "$T/k.db" "$T/k.json"
got=$(findings "$T/k.json" "$F")
if [ "$got" != "$expected" ]; then
	echo "expected:"; echo "$expected"; echo "got:"; echo "$got"
	fail "the report does not name exactly the planted leaks"
fi
note "findings: ok"

# The events, as the shim writes them for the same calls.
set -- $(sed -n 's/^kr_raw: map \([0-9]*\) again [0-9]* copy \([0-9]*\)$/\1 \2/p' "$T/run.out")
map_fd=$1 copy_fd=$2
[ -n "$copy_fd" ] || fail "kr_raw did not print its FD numbers"
ev() { q "$T/k.db" "SELECT count(*) FROM event_v WHERE $1"; }
[ "$(ev "op = 'pin' AND detail = '$BPFFS/raw_map' AND obj_name = 'raw_map'")" = 1 ] ||
	fail "no pin event naming $BPFFS/raw_map"
[ "$(ev "op = 'dup' AND fd = $copy_fd AND fd2 = $map_fd AND (flags IS NULL OR flags & 1 = 0)")" = 1 ] ||
	fail "dup($map_fd) -> $copy_fd without O_CLOEXEC is not journaled"
[ "$(ev "op = 'dup' AND fd = 100 AND fd2 = $map_fd AND flags & 1 = 1")" = 1 ] ||
	fail "fcntl(F_DUPFD_CLOEXEC, 100) is not journaled as a close-on-exec dup"
[ "$(ev "op = 'dup' AND fd IN (201, 202) AND obj_name = 'ranged'")" = 2 ] ||
	fail "the two dup3 copies are not journaled"
[ "$(ev "op = 'close' AND fd IN (201, 202) AND flags & 4 = 4 AND result = 0")" = 2 ] ||
	fail "close_range's closes are not journaled with EF_RANGE"
[ "$(ev "op = 'close' AND result = -9 AND obj_name = 'closed_twice' AND stack_id IS NOT NULL")" = 1 ] ||
	fail "the double close is not journaled with its stack"
[ "$(ev "op = 'create' AND stack_id IS NULL")" = 0 ] || fail "creates without a stack"
[ "$(q "$T/k.db" "SELECT count(*) FROM process WHERE recorder = 'kernel' AND origin = 'start'
	AND exe LIKE '%/kr_raw' AND exited_ns IS NOT NULL AND exit_status = 0")" = 1 ] ||
	fail "the process row is not the kernel recorder's"
[ "$(q "$T/k.db" "SELECT count(*) FROM snapshot WHERE reason = 'exit' AND pins_walked = 1")" = 1 ] ||
	fail "no exit snapshot with the pins walked"
[ "$(q "$T/k.db" "SELECT count(*) FROM snapshot_fd WHERE fdinfo LIKE '%map_id:%'")" -ge 9 ] ||
	fail "the exit snapshot lacks the FDs still open"
note "events: ok"

# The shim cannot see any of it: no dynamic loader, no libc bpf() calls.
rm -f "$BPFFS/raw_map"
"$BPFLEAK" run --tracer=preload -q -o "$T/p.db" -- "$HOST" "$BPFFS" >/dev/null 2>&1
if [ -e "$T/p.db" ]; then
	[ "$(q "$T/p.db" "SELECT count(*) FROM event WHERE op = 1")" = 0 ] ||
		fail "the shim saw raw system calls of a static binary?"
fi
echo "raw-syscalls: all checks passed"
