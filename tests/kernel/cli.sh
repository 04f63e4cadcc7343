#!/bin/sh
# The kernel recorder's command line: --tracer=auto picks the kernel
# recorder for a static binary and the shim for a dynamic one (and says so
# once); without root both `run --tracer=kernel` and `attach` print one line
# and exit 2; bad input to attach is one line and a non-zero exit.
# Exit 77 (skip) where the kernel recorder cannot run.
. "$(dirname "$0")/lib.sh"
kr_sandbox

# auto: a dynamic C program gets the shim.
"$BPFLEAK" run -o "$T/dyn.db" -- /bin/true >"$T/dyn.out" 2>&1 || fail "bpfleak run /bin/true failed"
[ "$(grep -c 'tracer:' "$T/dyn.out")" = 1 ] || fail "the tracer choice is not said exactly once"
grep -q "tracer: preload" "$T/dyn.out" || { cat "$T/dyn.out"; fail "auto did not pick the shim for /bin/true"; }
# auto: a static program gets the kernel recorder.
"$BPFLEAK" run -o "$T/static.db" -- "$KB/kr_raw" "$BPFFS" >"$T/static.out" 2>&1
rc=$?
[ "$rc" = 77 ] && skip "bpf() is not permitted here"
[ "$rc" = 0 ] || { cat "$T/static.out"; fail "bpfleak run kr_raw exited $rc"; }
grep -q "tracer: kernel" "$T/static.out" || fail "auto did not pick the kernel recorder for a static binary"
[ "$(q "$T/static.db" "SELECT recorder FROM process")" = kernel ] || fail "not recorded by the kernel recorder"
rm -f "$BPFFS/raw_map"
# --quiet says nothing of the choice.
"$BPFLEAK" run -q -o "$T/q.db" -- /bin/true >"$T/q.out" 2>&1
[ -s "$T/q.out" ] && { cat "$T/q.out"; fail "--quiet still printed"; }

# Without privileges: one line, exit 2.
if command -v setpriv >/dev/null 2>&1; then
	cp "$BPFLEAK" "$T/bpfleak" && chmod 755 "$T" "$T/bpfleak"
	for args in "run --tracer=kernel -o /tmp/bpfleak-np-$$.db -- /bin/true" "attach $$"; do
		(cd /tmp && setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
			"$T/bpfleak" $args) >"$T/np.out" 2>&1
		rc=$?
		[ "$rc" = 2 ] || { cat "$T/np.out"; fail "bpfleak $args as nobody exited $rc, expected 2"; }
		[ "$(wc -l <"$T/np.out")" = 1 ] || { cat "$T/np.out"; fail "bpfleak $args as nobody: not one line"; }
		grep -q "root" "$T/np.out" || fail "bpfleak $args as nobody does not say it needs root"
	done
	[ -e /tmp/bpfleak-np-$$.db ] && fail "a journal was created without privileges"
else
	note "setpriv missing: the unprivileged case is not checked"
fi

# Bad input: one line, non-zero.
for args in "attach" "attach x12" "attach 1 2" "attach 4194000" "attach --depth 0 1"; do
	"$BPFLEAK" $args >"$T/bad.out" 2>&1
	rc=$?
	[ "$rc" != 0 ] || fail "bpfleak $args succeeded"
	[ "$(grep -vc '^Try' "$T/bad.out")" = 1 ] || { cat "$T/bad.out"; fail "bpfleak $args: not one line"; }
done
"$BPFLEAK" run --tracer=bogus -- /bin/true >"$T/bad.out" 2>&1 && fail "--tracer=bogus accepted"
grep -q "auto, preload or kernel" "$T/bad.out" || fail "--tracer=bogus: no useful message"
echo "cli: all checks passed"
