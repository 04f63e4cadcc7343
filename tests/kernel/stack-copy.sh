#!/bin/sh
# The kernel recorder copies as much user stack as a process's stacks need
# (recorder/stackcopy.c): kr_deep makes 40 creates from a shallow chain
# (then the copy is cut to 2 KiB), then creates from a chain ~6 KiB deep.
#   - every shallow create's stack reaches main (whole);
#   - the first deep create runs off the 2 KiB copy: its stack is cut short
#     (it does not reach main), which shows the copy was cut;
#   - after it, the process is back to the whole 8 KiB: the later deep
#     creates' stacks reach main through every level.
# Exit 77 (skip) where the kernel recorder cannot run.
. "$(dirname "$0")/lib.sh"
kr_sandbox
HOST=$KB/kr_deep
SRC=$ROOT/tests/kernel/kr_deep.c
F=kr_deep.c
[ -x "$HOST" ] || fail "$HOST is missing (run make check)"

"$BPFLEAK" run --tracer=kernel -q -o "$T/d.db" -- "$HOST" >"$T/d.out" 2>&1
rc=$?
cat "$T/d.out"
[ "$rc" = 77 ] && skip "bpf() is not permitted here"
[ "$rc" = 0 ] || fail "kr_deep exited $rc"
report_json "$T/d.db" "$T/d.json"

# frames LINE: per create at LINE, "main-line frames" of its stack (the
# line in main, or "none", and how many frames in kr_deep.c).
frames() {
	sqlite3 :memory: "
	SELECT coalesce((SELECT json_extract(s.value, '\$.line') FROM json_each(f.value, '\$.stack') s
			 WHERE json_extract(s.value, '\$.function') = 'main'), 'none') || ' ' ||
	       (SELECT count(*) FROM json_each(f.value, '\$.stack') s
		WHERE json_extract(s.value, '\$.file') LIKE '%/$F') || ' ' ||
	       json_extract(f.value, '\$.count')
	FROM json_each(readfile('$T/d.json'), '\$.findings') f
	WHERE json_extract(f.value, '\$.class') = 'outstanding'
	  AND EXISTS (SELECT 1 FROM json_each(f.value, '\$.stack') s
		      WHERE json_extract(s.value, '\$.line') = $1
			AND json_extract(s.value, '\$.file') LIKE '%/$F');"
}
shallow=$(frames "$(line "$SRC" DEEP:shallow)")
echo "shallow: $shallow"
main_line=$(grep -n 'if (shallow() < 0)' "$SRC" | cut -d: -f1)
[ "$shallow" = "$main_line 2 40" ] || fail "the 40 shallow creates are not one whole stack (main:$main_line): $shallow"
bottom=$(frames "$(line "$SRC" DEEP:bottom)")
echo "deep: $bottom"
again=$(line "$SRC" DEEP:again)
# deep() 7 times (levels 6..0), then main: 8 frames in kr_deep.c.
echo "$bottom" | grep -qx "$again 8 3" || fail "the deep creates after the first are not whole (main:$again, 8 frames, 3 FDs)"
# The first deep create ran into the 2 KiB copy the shallow ones had led to:
# proof the copy was cut (and the price of cutting it, paid once).
echo "$bottom" | grep -q "^none [0-9]* 1\$" ||
	fail "the first deep create's stack is whole: the copy was never cut to what the shallow creates needed"
[ "$(q "$T/d.db" "SELECT count(*) FROM event WHERE op = 8")" = 0 ] || fail "records were lost"
echo "stack-copy: all checks passed"
