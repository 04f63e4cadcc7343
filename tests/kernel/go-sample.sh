#!/bin/sh
# The Go sample gateway (samples/gateway-go/) alone, without bpfleak, on the
# real kernel, in a private network namespace and a bpffs of its own
# (tests/sample/lib.sh's sandbox: nothing under /sys/fs/bpf, no host
# interface).  For each build, static (gateway-go) and cgo (gateway-go-cgo):
#
#  1. leaky: XDP attached to lo and every pin there while it runs; each
#     SIGHUP reloads and leaves 4 more map FDs open (counted in /proc, not
#     by asking the gateway); each tick leaves one more; SIGTERM detaches,
#     unpins and exits 0.
#  2. --no-leak: reloads and ticks leave the map FD count flat.
#  3. --finalize: the handles are dropped and the forced GC's finalizers
#     close them: the count comes back down without a close in our code.
#  4. a timed run (--reloads 2 --ticks 3): the ACL passes and drops the
#     probes, and the gateway exits 0 on its own; SIGINT exits 0 too.
#
# Skips (77) where Go, cilium/ebpf, root, bpffs, namespaces or XDP are not
# available; builds the gateway if `make` has not.
set -u
. "$(dirname "$0")/../sample/lib.sh"

GO=${GO:-go}
command -v "$GO" >/dev/null 2>&1 ||
	skip "no Go toolchain (apt-get install golang-go golang-github-cilium-ebpf-dev)"
[ -d /usr/share/gocode/src/github.com/cilium/ebpf ] ||
	skip "cilium/ebpf is not installed (apt-get install golang-github-cilium-ebpf-dev)"
GW=$B/samples/gateway-go
if [ ! -x "$GW/gateway-go" ] || [ ! -x "$GW/gateway-go-cgo" ]; then
	note "building the Go gateway"
	make -s -C "$ROOT" B="$B" "$GW/gateway-go" "$GW/gateway-go-cgo" ||
		fail "cannot build the Go gateway"
fi
sandbox

wait_for() { # FILE PATTERN WHAT
	i=0
	until grep -q "$2" "$1"; do
		i=$((i + 1))
		[ $i -le 100 ] || { cat "$1"; fail "timed out waiting for $3"; }
		sleep 0.1
	done
}

map_fds() { # PID: how many bpf map FDs it holds
	n=0
	for l in /proc/$1/fd/*; do
		[ "$(readlink "$l" 2>/dev/null)" = "anon_inode:bpf-map" ] && n=$((n + 1))
	done
	echo $n
}

last_tick() { # FILE: the number of the last tick reported
	sed -n 's/^gateway-go: tick \([0-9]*\):.*/\1/p' "$1" | tail -1
}

# start NAME ARGS...: the gateway in the namespace, in the background; sets
# pid (ip netns exec execs the gateway: $! is its pid) and out.
start() {
	name=$1
	shift
	out=$T/$name.out
	ip netns exec "$NS" "$bin" --ifname lo --pin-dir "$BPFFS/gw" "$@" >"$out" 2>&1 &
	pid=$!
	wait_for "$out" '^gateway-go: ready' "the gateway to start ($name)"
}

# stop SIGNAL WORD: send it, expect "WORD: shutting down", exit 0, clean up.
stop() {
	kill -"$1" "$pid"
	wait "$pid"
	rc=$?
	cat "$out"
	[ "$rc" = 0 ] || fail "$variant exited $rc after SIG$1, expected 0"
	grep -q "^gateway-go: $2: shutting down" "$out" || fail "$variant did not get SIG$1"
	grep -q '^gateway-go: detached from lo, pins removed' "$out" ||
		fail "$variant did not say it cleaned up"
	assert_cleaned_up
}

# until_fds N WHAT: wait (up to 10 s) until the gateway holds at most N map
# FDs.  "At most": a tick's own lookup is open until the GC after it has
# run its finalizer, which on a loaded machine can be any moment we look.
until_fds() {
	i=0
	while [ "$(map_fds "$pid")" -gt "$1" ]; do
		i=$((i + 1))
		[ $i -le 100 ] || fail "$variant: $2: holds $(map_fds "$pid") map FDs, expected at most $1"
		sleep 0.1
	done
}

for variant in gateway-go gateway-go-cgo; do
	bin=$GW/$variant
	note "$variant: 1. leaky: SIGHUP x2, ticks, SIGTERM"
	start leaky-$variant --interval 3600000
	for f in global_ep acl_progs delay delay_cidr progs/xdp_gateway progs/xdp_acl_pass \
		progs/xdp_acl_drop; do
		[ -e "$BPFFS/gw/$f" ] || fail "$variant: no pin $BPFFS/gw/$f while running"
	done
	ip -n "$NS" link show dev lo | grep -q xdpgeneric ||
		fail "$variant: no generic XDP program on lo while running"
	base=$(map_fds "$pid")
	[ "$base" -ge 4 ] || fail "$variant holds $base map FDs, expected at least its 4 maps"
	note "$variant (pid $pid) holds $base map FDs before any reload"
	kill -HUP "$pid"
	wait_for "$out" '^gateway-go: reload 1 (SIGHUP)' "the first reload"
	kill -HUP "$pid"
	wait_for "$out" '^gateway-go: reload 2 (SIGHUP)' "the second reload"
	after=$(map_fds "$pid")
	[ "$after" = $((base + 8)) ] ||
		fail "$variant: after 2 reloads it holds $after map FDs, expected $base + 8"
	stop TERM Terminated
	grep -q '^gateway-go: detached from lo, pins removed; 0 tick(s), 2 reload(s)' "$out" ||
		fail "$variant: wrong tick or reload count at exit"

	# One more FD per tick.  A stopped gateway may be between opening the
	# tick's map and printing its line: one FD more than ticks printed.
	start ticks-$variant --interval 100
	wait_for "$out" '^gateway-go: tick 3:' "three ticks"
	kill -STOP "$pid"
	n=$(last_tick "$out")
	fds=$(map_fds "$pid")
	kill -CONT "$pid"
	[ "$fds" = $((base + n)) ] || [ "$fds" = $((base + n + 1)) ] ||
		fail "$variant: after $n ticks it holds $fds map FDs, expected $base + $n"
	note "$variant: $n ticks, $fds map FDs"
	stop TERM Terminated

	note "$variant: 2. --no-leak"
	start noleak-$variant --interval 100 --no-leak
	kill -HUP "$pid"
	wait_for "$out" '^gateway-go: reload 1 (SIGHUP)' "a reload"
	wait_for "$out" '^gateway-go: tick 3:' "three ticks"
	kill -STOP "$pid"
	fds=$(map_fds "$pid")
	kill -CONT "$pid"
	[ "$fds" = "$base" ] || fail "$variant --no-leak holds $fds map FDs, expected $base"
	stop TERM Terminated

	note "$variant: 3. --finalize"
	start finalize-$variant --interval 100 --finalize
	grep -q 'finalizer mode' "$out" || fail "$variant did not say it runs in finalizer mode"
	kill -HUP "$pid"
	wait_for "$out" '^gateway-go: reload 1 (SIGHUP)' "a reload"
	wait_for "$out" '^gateway-go: tick 3:' "three ticks"
	# The reload dropped 4 maps and each tick one: without the finalizers
	# that is base + 4 + 3 or more by now; with them, at most the tick's own.
	until_fds $((base + 1)) "the finalizers did not close the dropped handles"
	stop TERM Terminated

	note "$variant: 4. a timed run, then SIGINT"
	ip netns exec "$NS" "$bin" --ifname lo --pin-dir "$BPFFS/gw" --reloads 2 --ticks 3 \
		--interval 100 >"$T/timed.out" 2>&1
	rc=$?
	cat "$T/timed.out"
	[ "$rc" = 0 ] || fail "$variant: the timed run exited $rc"
	grep -q '^gateway-go: probes: 3 sent, 3 delivered on pass, 3 dropped on drop, 0 lost' \
		"$T/timed.out" || fail "$variant: the datapath did not pass and drop the probes"
	grep -q '^gateway-go: detached from lo, pins removed; 3 tick(s), 2 reload(s)' \
		"$T/timed.out" || fail "$variant: the timed run did not finish cleanly"
	assert_cleaned_up
	start int-$variant --interval 3600000
	stop INT Interrupt

	"$bin" --mode bogus >/dev/null 2>&1
	[ $? = 2 ] || fail "$variant: bad usage does not exit 2"
	"$bin" --help | grep -q -- '--finalize' || fail "$variant: --help does not describe --finalize"
done
echo "ok: the Go gateway (static and cgo) attaches, reloads on SIGHUP (+4 map FDs), leaks a map FD per tick, closes them with --no-leak, lets finalizers close them with --finalize, and cleans up on exit, SIGTERM and SIGINT"
