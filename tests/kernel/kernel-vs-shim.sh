#!/bin/sh
# The same C program (tests/analyzer/e2e_leaks.c: one leak of each kind,
# through Debian's libbpf and libc, built without frame pointers in those
# libraries) under the preload shim and under --tracer=kernel must give
# the same findings: class, file:line and count, leak or information.
# The kernel's stacks of such a program come from the DWARF unwinder
# (recorder/unwind.c); a build with only the frame-pointer stand-in
# cannot name these lines, and the test says so and skips.
# Exit 77 (skip) where the kernel recorder or the shim cannot run.
. "$(dirname "$0")/lib.sh"
kr_sandbox
HOST=$B/tests/analyzer/e2e_leaks
SRC=$ROOT/tests/analyzer/e2e_leaks.c
F=e2e_leaks.c
[ -x "$HOST" ] || fail "$HOST is missing (run make check)"
[ -f "$B/libbpfleak.so" ] || fail "$B/libbpfleak.so is missing (run make)"

run_with() { # TRACER JOURNAL
	rm -f "$BPFFS/leaky_map"
	"$BPFLEAK" run --tracer="$1" --close-stacks -q -o "$2" -- "$HOST" "$BPFFS" >"$2.out" 2>&1
	rc=$?
	cat "$2.out"
	[ "$rc" = 77 ] && skip "bpf() is not permitted here"
	[ "$rc" = 0 ] || fail "e2e_leaks under --tracer=$1 exited $rc"
}
run_with kernel "$T/k.db"
unwinder=$(q "$T/k.db" "SELECT value FROM meta WHERE key = 'kernel_unwinder'")
[ "$unwinder" = frame-pointer ] &&
	skip "bpfleak is built with the frame-pointer stand-in, not the DWARF unwinder (recorder/unwind.c): C stacks through libbpf cannot be compared"
run_with preload "$T/p.db"

report_json "$T/k.db" "$T/k.json" --expect-pinned
report_json "$T/p.db" "$T/p.json" --expect-pinned
kernel=$(findings "$T/k.json" "$F")
shim=$(findings "$T/p.json" "$F")
echo "shim:"; echo "$shim"
if [ "$kernel" != "$shim" ]; then
	echo "kernel:"; echo "$kernel"
	fail "the kernel recorder's findings differ from the shim's"
fi
# And they are the planted ones (the same list as tests/analyzer/e2e_leaks.sh).
l() { line "$SRC" "E2E:$1"; }
expected=$(sort <<EOF2
duplicate $F:$(l obj_get) 1 leak
duplicate $F:$(l get_by_id) 8 leak
growth $F:$(l get_by_id) 8 leak
double_close $F:$(l double_close) 1 leak
unpinned $F:$(l prog) 1 leak
outstanding $F:$(l held) 1 info
outstanding $F:$(l obj_get) 1 info
outstanding $F:$(l get_by_id) 8 info
outstanding $F:$(l prog) 1 info
EOF2
)
[ "$kernel" = "$expected" ] || { echo "expected:"; echo "$expected"; fail "not the planted leaks"; }
echo "kernel-vs-shim: all checks passed"
