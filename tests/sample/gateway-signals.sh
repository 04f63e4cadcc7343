#!/bin/sh
# The gateway's signal paths on the real kernel, and bpfleak run's signal
# forwarding:
#
#  1. Under `bpfleak run`: two SIGHUPs sent to bpfleak reach the gateway,
#     which reloads twice; each reload leaves 4 more map FDs open in the
#     gateway (counted in /proc/PID/fd, independently of the shim); then
#     SIGTERM sent to bpfleak makes the gateway detach, unpin and exit 0,
#     and bpfleak exits 0.  The report names only the reload site: 2 x 4
#     FDs open at exit, the second reload's 4 as duplicate leaks (the tick
#     interval is an hour, so no lookup ever ran).
#  2. Without the shim: SIGINT makes the gateway detach, unpin and exit 0.
set -u
. "$(dirname "$0")/lib.sh"

require_built bpfleak libbpfleak.so bpfleak-report samples/gateway
reload_line=$(leak_line reload) || exit 1
sandbox

wait_for() { # FILE PATTERN WHAT
	i=0
	until grep -q "$2" "$1"; do
		i=$((i + 1))
		[ $i -le 100 ] || { cat "$1"; fail "timed out waiting for $3"; }
		sleep 0.1
	done
}

gateway_pid() { # the gateway among the namespace's processes
	for p in $(ip netns pids "$NS"); do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = gateway ] && { echo "$p"; return 0; }
	done
	fail "no gateway process in $NS"
}

map_fds() { # PID: how many bpf map FDs it holds
	n=0
	for l in /proc/$1/fd/*; do
		[ "$(readlink "$l" 2>/dev/null)" = "anon_inode:bpf-map" ] && n=$((n + 1))
	done
	echo $n
}

note "1. SIGHUP x2 and SIGTERM through bpfleak run"
# Not through in_ns: $! must be bpfleak's pid, not a subshell's.
ip netns exec "$NS" "$B/bpfleak" run -o "$T/sig.db" -- "$B/samples/gateway" --ifname lo \
	--pin-dir "$BPFFS/gw" --interval 3600000 >"$T/sig.out" 2>&1 &
bpid=$!
wait_for "$T/sig.out" '^gateway: ready' "the gateway to start"
gpid=$(gateway_pid) || exit 1
[ "$gpid" != "$bpid" ] || fail "bpfleak did not run the gateway as a child"
for f in global_ep acl_progs delay delay_cidr progs/xdp_gateway progs/xdp_acl_pass progs/xdp_acl_drop; do
	[ -e "$BPFFS/gw/$f" ] || fail "no pin $BPFFS/gw/$f while running"
done
ip -n "$NS" link show dev lo | grep -q xdpgeneric || fail "no generic XDP program on lo while running"
base=$(map_fds "$gpid")
note "gateway pid $gpid holds $base map FDs before any reload"
kill -HUP "$bpid"
wait_for "$T/sig.out" '^gateway: reload 1 (SIGHUP)' "the first reload"
kill -HUP "$bpid"
wait_for "$T/sig.out" '^gateway: reload 2 (SIGHUP)' "the second reload"
after=$(map_fds "$gpid")
[ "$after" = $((base + 8)) ] ||
	fail "after 2 reloads the gateway holds $after map FDs, expected $base + 8"
kill -TERM "$bpid"
wait "$bpid"
rc=$?
cat "$T/sig.out"
[ "$rc" = 0 ] || fail "bpfleak run exited $rc after SIGTERM, expected 0"
grep -q '^gateway: Terminated: shutting down' "$T/sig.out" ||
	fail "the gateway did not get SIGTERM"
grep -q '^gateway: detached from lo, pins removed; 0 tick(s), 2 reload(s)' "$T/sig.out" ||
	fail "the gateway did not clean up"
assert_cleaned_up
"$B/bpfleak-report" --format json "$T/sig.db" >"$T/sig.json"
rc=$?
[ "$rc" = 1 ] || fail "bpfleak-report exited $rc, expected 1"
$PY "$ROOT/tests/sample/check_report.py" "$T/sig.json" \
	"$reload_line:8:global_ep=2,acl_progs=2,delay=2,delay_cidr=2:4" ||
	fail "the report does not name the reload leak x8"

note "2. SIGINT, no shim"
ip netns exec "$NS" "$B/samples/gateway" --ifname lo --pin-dir "$BPFFS/gw" --interval 3600000 \
	>"$T/int.out" 2>&1 &
gpid=$!
wait_for "$T/int.out" '^gateway: ready' "the gateway to start"
kill -INT "$gpid"
wait "$gpid"
rc=$?
cat "$T/int.out"
[ "$rc" = 0 ] || fail "the gateway exited $rc after SIGINT, expected 0"
grep -q '^gateway: Interrupt: shutting down' "$T/int.out" || fail "the gateway did not get SIGINT"
assert_cleaned_up
echo "ok: SIGHUP reloads (+4 map FDs each), SIGTERM/SIGINT clean up and exit 0, forwarded by bpfleak run"
