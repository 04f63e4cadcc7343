#!/bin/sh
# The gateway's ACL is what the datapath enforces, on the real kernel (no
# shim needed):
#
#  1. an ACL file that swaps the built-in policies (9009 drop, 9007 pass)
#     makes every pass probe vanish: the file reached the maps, and the
#     tail-called policy programs are the ones that decide;
#  2. SIGHUP re-reads the file: a running gateway that started with the
#     normal policy loses its probes after the file is swapped and reloaded;
#  3. a malformed ACL stops the gateway at start with the file and line, and
#     the error path still detaches and unpins.
set -u
. "$(dirname "$0")/lib.sh"

require_built samples/gateway
sandbox
GW=$B/samples/gateway

normal() { printf '%s\n' '# the built-in policy' 'ep 127.0.0.1 udp 9009 pass' \
	'ep 127.0.0.1 udp 9007 drop' 'delay 127.0.0.0/8 500' >"$1"; }
swapped() { printf '%s\n' 'ep 127.0.0.1 udp 9009 drop  # swapped' \
	'ep 127.0.0.1 udp 9007 pass' 'delay 127.0.0.1/32' >"$1"; }

wait_for() { # FILE PATTERN WHAT
	i=0
	until grep -q "$2" "$1"; do
		i=$((i + 1))
		[ $i -le 100 ] || { cat "$1"; fail "timed out waiting for $3"; }
		sleep 0.1
	done
}

note "1. swapped policies from --acl"
swapped "$T/swapped.acl"
in_ns "$GW" --pin-dir "$BPFFS/gw" --acl "$T/swapped.acl" --ticks 3 --interval 20 --no-leak \
	>"$T/1.out" 2>&1
rc=$?
cat "$T/1.out"
[ "$rc" = 0 ] || fail "gateway exited $rc"
grep -q "^gateway: ACL: 2 endpoint(s), 1 delay prefix(es) from $T/swapped.acl" "$T/1.out" ||
	fail "the ACL file was not loaded"
grep -q '^gateway: probes: 3 sent, 0 delivered on pass, 0 dropped on drop, 3 lost' "$T/1.out" ||
	fail "with 9009 dropped, no probe should have been delivered"
assert_cleaned_up

note "2. SIGHUP re-reads the ACL"
normal "$T/live.acl"
ip netns exec "$NS" "$GW" --pin-dir "$BPFFS/gw" --acl "$T/live.acl" --interval 150 --no-leak \
	>"$T/2.out" 2>&1 &
gpid=$!
wait_for "$T/2.out" '^gateway: tick 2: .*probes: 2/2 delivered on pass, 2/2 dropped on drop' \
	"two ticks with the normal policy"
swapped "$T/live.acl"
kill -HUP "$gpid"
wait_for "$T/2.out" '^gateway: reload 1 (SIGHUP): 2 endpoint(s), 1 delay prefix(es)' "the reload"
n=$(sed -n 's/^gateway: tick \([0-9]*\): .*/\1/p' "$T/2.out" | tail -1)
wait_for "$T/2.out" "^gateway: tick $((n + 2)): " "two ticks after the reload"
kill -TERM "$gpid"
wait "$gpid"
rc=$?
cat "$T/2.out"
[ "$rc" = 0 ] || fail "gateway exited $rc after SIGTERM"
# The tick after the reload delivered nothing more on the pass port.
last=$(sed -n 's/^gateway: tick [0-9]*: .*probes: \([0-9]*\)\/\([0-9]*\) delivered.*/\1 \2/p' "$T/2.out" | tail -1)
set -- $last
[ "$1" -lt "$2" ] || fail "after the swap and SIGHUP, pass probes were still delivered ($1/$2)"
assert_cleaned_up

note "3. a malformed ACL"
printf 'ep 127.0.0.1 udp 9009 pass\nep 127.0.0.1 udp 99999 pass\n' >"$T/bad.acl"
in_ns "$GW" --pin-dir "$BPFFS/gw" --acl "$T/bad.acl" --ticks 1 >"$T/3.out" 2>&1
rc=$?
cat "$T/3.out"
[ "$rc" = 1 ] || fail "gateway exited $rc with a bad ACL, expected 1"
grep -q "$T/bad.acl:2: bad port '99999'" "$T/3.out" || fail "the error does not name the file and line"
assert_cleaned_up
echo "ok: the ACL file decides what the datapath passes, SIGHUP re-reads it, errors clean up"
