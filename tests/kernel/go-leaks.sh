#!/bin/sh
# The Go sample gateway (samples/gateway-go/, cilium/ebpf: raw bpf()
# system calls the preload shim never sees) under the kernel recorder, end
# to end, for the static build (gateway-go) and the cgo one (gateway-go-cgo),
# in a private network namespace and a bpffs of the test's own:
#
#  1. `bpfleak run` (--tracer=auto must pick the kernel recorder and say
#     so), 3 timed reloads and 5 ticks: the report names exactly the two
#     lines marked "// LEAK:" (acl_apply.go's reload: 4 FDs a reload, the
#     first reload's held, the rest duplicates; stats.go's lookup: one FD a
#     tick, each a duplicate of the reload's "delay" map), growth at both,
#     and nothing else as a leak.
#  2. `bpfleak run` with --finalize: the dropped handles are closed by
#     cilium/ebpf's finalizers after a forced runtime.GC(); the report calls
#     them `finalized` at the same two lines (a leak the GC cleaned), not
#     open leaks, and only the finalizer goroutine's closes are so marked;
#     the same closes are told apart in a stripped copy of the static build
#     (from Go's own function table, .gopclntab).
#  3. The gateway started without bpfleak, a reload and some ticks, then
#     `bpfleak attach PID` ("attached to pid PID" on stderr once live), three
#     more reloads and ticks, SIGTERM: attach exits 0; the bpf FDs held at
#     attach (counted in /proc while the gateway was stopped) are journaled
#     as held before attach and reported so; the FDs made after attach are
#     charged to the same two lines, and with the held ones add up to the
#     gateway's own tick and reload counts.
#
# The leak lines are found by their markers, never by number.  Skips (77)
# where Go, cilium/ebpf, root, bpffs, namespaces, tracepoints or bpf are
# not available.
. "$(dirname "$0")/lib.sh"

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
command -v ip >/dev/null 2>&1 || skip "iproute2 (ip) is not installed"
kr_sandbox

NS=
go_cleanup() {
	rc=$?
	if [ -n "$NS" ]; then
		for p in $(ip netns pids "$NS" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		ip -n "$NS" link set dev lo xdpgeneric off 2>/dev/null
		ip netns del "$NS" 2>/dev/null
	fi
	kr_cleanup
	exit "$rc"
}
trap go_cleanup EXIT
NS=bpfleak-go-$$
out=$(ip netns add "$NS" 2>&1) || { NS=; skip "cannot create a network namespace: $out"; }
ip -n "$NS" link set dev lo up || fail "cannot bring lo up in $NS"

SRC=$ROOT/samples/gateway-go
RELOAD=$(line "$SRC/acl_apply.go" "LEAK: reload")
LOOKUP=$(line "$SRC/stats.go" "LEAK: lookup")
R=acl_apply.go:$RELOAD
L=stats.go:$LOOKUP
note "leak lines: $R (reload), $L (lookup)"

# go_findings REPORT.json: "class FILE:LINE count leak|info" per finding, the
# site being the first frame in the gateway's own sources ("nowhere" when
# the finding has no stack).
go_findings() {
	sqlite3 :memory: "
	SELECT json_extract(f.value, '\$.class') || ' ' ||
	  coalesce((SELECT replace(json_extract(s.value, '\$.file'),
			rtrim(json_extract(s.value, '\$.file'),
			      replace(json_extract(s.value, '\$.file'), '/', '')), '')
			|| ':' || json_extract(s.value, '\$.line')
		    FROM json_each(f.value, '\$.stack') s
		    WHERE json_extract(s.value, '\$.file') LIKE '%/samples/gateway-go/%'
		    ORDER BY s.key LIMIT 1), 'nowhere') || ' ' ||
	  json_extract(f.value, '\$.count') || ' ' ||
	  CASE json_extract(f.value, '\$.leak') WHEN 1 THEN 'leak' ELSE 'info' END
	FROM json_each(readfile('$1'), '\$.findings') f;" | sort
}

# run_gw NAME BINARY ARGS...: the gateway under `bpfleak run` (auto), timed.
run_gw() {
	name=$1 bin=$2
	shift 2
	J=$T/$name.db
	ip netns exec "$NS" "$BPFLEAK" run -o "$J" -- "$bin" --ifname lo --pin-dir "$BPFFS/gw" \
		--reloads 3 --ticks 5 --interval 100 "$@" >"$T/$name.out" 2>&1
	rc=$?
	cat "$T/$name.out"
	[ "$rc" = 0 ] || fail "$name: bpfleak run exited $rc"
	grep -q '^bpfleak: tracer: kernel' "$T/$name.out" ||
		fail "$name: --tracer=auto did not pick (or say) the kernel recorder"
	grep -q '^gateway-go: detached from lo, pins removed; 5 tick(s), 3 reload(s)' "$T/$name.out" ||
		fail "$name: the gateway did not run its 3 reloads and 5 ticks"
	report_json "$J" "$T/$name.json"
	got=$(go_findings "$T/$name.json")
	echo "$got"
}

expect() { # WHAT EXPECTED GOT
	[ "$2" = "$3" ] && return 0
	echo "expected:"; echo "$2"; echo "got:"; echo "$3"
	fail "$1"
}

map_fds() { # PID: its bpf map FDs
	n=0
	for l in /proc/$1/fd/*; do
		[ "$(readlink "$l" 2>/dev/null)" = "anon_inode:bpf-map" ] && n=$((n + 1))
	done
	echo $n
}

bpf_fds() { # PID: all its bpf FDs (maps, programs, links, BTF)
	n=0
	for l in /proc/$1/fd/*; do
		case $(readlink "$l" 2>/dev/null) in anon_inode:bpf*|anon_inode:btf) n=$((n + 1)) ;; esac
	done
	echo $n
}

wait_for() { # FILE PATTERN WHAT
	i=0
	until grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 100 ] || { cat "$1"; fail "timed out waiting for $3"; }
		sleep 0.1
	done
}

last_tick() { # FILE
	sed -n 's/^gateway-go: tick \([0-9]*\):.*/\1/p' "$1" | tail -1
}

for variant in gateway-go gateway-go-cgo; do
	bin=$GW/$variant

	note "$variant: 1. bpfleak run: 3 reloads, 5 ticks"
	run_gw "run-$variant" "$bin"
	expect "$variant: the leaks are not exactly the two marked lines" "$(sort <<EOF
duplicate $R 8 leak
duplicate $L 5 leak
growth $R 12 leak
growth $L 5 leak
EOF
)" "$(echo "$got" | grep ' leak$')"
	echo "$got" | grep -qx "outstanding $R 12 info" || fail "$variant: not 12 reload FDs open at exit"
	echo "$got" | grep -qx "outstanding $L 5 info" || fail "$variant: not 5 lookup FDs open at exit"
	[ "$(q "$J" "SELECT count(*) FROM event WHERE flags & 512")" = 0 ] ||
		fail "$variant: closes marked as made by a finalizer in the leaky run"

	note "$variant: 2. bpfleak run --finalize: finalizers close the dropped handles"
	run_gw "fin-$variant" "$bin" --finalize
	grep -q 'closes by Go GC finalizers' "$T/fin-$variant.out" ||
		fail "$variant: bpfleak run does not count the finalizers' closes"
	# Each finalizer runs after a forced GC, but not every dropped handle is
	# found by it: cilium/ebpf's FD object is 8 pointer-free bytes, which
	# Go's tiny allocator may pack beside a live object, and a finalizer
	# runs only when the whole 16-byte block is unreachable; the last
	# tick's handle is dropped just before exit.  So most, not all, of the
	# FDs are finalized; the rest are simply open at exit.
	for site in "$R 12" "$L 5"; do
		set -- $site
		fin=$(echo "$got" | sed -n "s/^finalized $1 \([0-9]*\) leak\$/\1/p")
		open=$(echo "$got" | sed -n "s/^outstanding $1 \([0-9]*\) info\$/\1/p")
		[ -n "$fin" ] && [ "$fin" -ge $(($2 - 2)) ] ||
			fail "$variant --finalize: ${fin:-no} FDs finalized at $1, expected (nearly) $2"
		[ $((fin + ${open:-0})) = "$2" ] ||
			fail "$variant --finalize: $fin finalized + ${open:-0} open at $1, expected $2"
	done
	echo "$got" | grep ' leak$' | grep -v " $R \| $L " &&
		fail "$variant --finalize: a leak elsewhere than the two lines"
	n=0
	for k in $(echo "$got" | sed -n 's/^finalized [^ ]* \([0-9]*\) leak$/\1/p'); do
		n=$((n + k))
	done
	# Only the finalizer goroutine's closes are marked: the gateway's own
	# (feature probes, the collection at teardown) are not.
	[ "$(q "$J" "SELECT count(*) FROM event WHERE op = 3 AND flags & 512")" = "$n" ] ||
		fail "$variant --finalize: $(q "$J" "SELECT count(*) FROM event WHERE op = 3 AND flags & 512") closes marked as a finalizer's, expected $n"
	[ "$(q "$J" "SELECT count(*) FROM event WHERE op = 3 AND stack_id IS NOT NULL")" = \
	  "$(q "$J" "SELECT count(*) FROM event WHERE op = 3")" ] ||
		fail "$variant --finalize: a Go close without a stack"

	if [ $variant = gateway-go ]; then
		note "$variant: 2b. stripped (no symbol table, no DWARF): finalizers still told apart"
		strip -o "$T/gateway-go-stripped" "$bin" || fail "cannot strip $bin"
		ip netns exec "$NS" "$BPFLEAK" run -o "$T/strip.db" -- "$T/gateway-go-stripped" --ifname lo \
			--pin-dir "$BPFFS/gw" --reloads 3 --ticks 5 --interval 100 --finalize >"$T/strip.out" 2>&1 ||
			{ cat "$T/strip.out"; fail "the stripped gateway under bpfleak run failed"; }
		grep -q 'cannot be told' "$T/strip.out" && { cat "$T/strip.out"; fail "runtime.runfinq not found in the stripped gateway"; }
		[ "$(q "$T/strip.db" "SELECT count(*) FROM event WHERE op = 3 AND flags & 512")" -ge 13 ] ||
			fail "stripped: $(q "$T/strip.db" "SELECT count(*) FROM event WHERE op = 3 AND flags & 512") closes marked as a finalizer's, expected 13-17"
	fi

	note "$variant: 3. bpfleak attach to a gateway that runs already"
	gout=$T/att-$variant.out
	ip netns exec "$NS" "$bin" --ifname lo --pin-dir "$BPFFS/gw" --interval 100 >"$gout" 2>&1 &
	gpid=$!
	KILL_PIDS="$KILL_PIDS $gpid"
	wait_for "$gout" '^gateway-go: ready' "the gateway to start"
	kill -HUP "$gpid"
	wait_for "$gout" '^gateway-go: reload 1 (SIGHUP)' "the first reload"
	wait_for "$gout" '^gateway-go: tick 2:' "two ticks"
	# Stopped, the gateway's FD table holds still while bpfleak lists it.
	kill -STOP "$gpid"
	held=$(bpf_fds "$gpid")
	J=$T/att-$variant.db
	"$BPFLEAK" attach -o "$J" "$gpid" 2>"$T/attach-$variant.err" &
	apid=$!
	KILL_PIDS="$KILL_PIDS $apid"
	wait_for "$T/attach-$variant.err" "attached to pid $gpid" "bpfleak attach to be live"
	kill -CONT "$gpid"
	# Three reloads a tick apart: growth needs the FDs made at 3 moments.
	for k in 2 3 4; do
		kill -HUP "$gpid"
		wait_for "$gout" "^gateway-go: reload $k (SIGHUP)" "reload $k"
		t=$(last_tick "$gout")
		wait_for "$gout" "^gateway-go: tick $((t + 1)):" "a tick after reload $k"
	done
	kill -TERM "$gpid"
	wait "$gpid"
	rc=$?
	cat "$gout"
	[ "$rc" = 0 ] || fail "$variant exited $rc after SIGTERM"
	i=0
	while kill -0 "$apid" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 100 ] || fail "bpfleak attach did not exit within 10 s of the gateway"
		sleep 0.1
	done
	wait "$apid"
	rc=$?
	cat "$T/attach-$variant.err"
	[ "$rc" = 0 ] || fail "$variant: bpfleak attach exited $rc when the gateway exited, expected 0"
	[ "$(grep -c "attached to pid $gpid" "$T/attach-$variant.err")" = 1 ] ||
		fail "$variant: 'attached to pid $gpid' not said exactly once"
	ticks=$(sed -n 's/^gateway-go: detached from lo, pins removed; \([0-9]*\) tick(s), 4 reload(s)$/\1/p' "$gout")
	[ -n "$ticks" ] || fail "$variant: the gateway did not say how many ticks it ran"

	[ "$(q "$J" "SELECT count(*) FROM event_v WHERE pid = $gpid AND op = 'inherited' AND detail = 'attach'")" = "$held" ] ||
		fail "$variant: $(q "$J" "SELECT count(*) FROM event_v WHERE pid = $gpid AND op = 'inherited' AND detail = 'attach'") FDs journaled as held before attach, /proc showed $held"
	[ "$(q "$J" "SELECT count(*) FROM snapshot_fd f JOIN snapshot s ON s.id = f.snapshot_id
		WHERE s.pid = $gpid AND s.reason = 'exit' AND f.kind = 1")" = $((16 + ticks)) ] ||
		fail "$variant: the exit snapshot does not hold the 16 reload and $ticks lookup FDs"
	report_json "$J" "$T/att-$variant.json"
	got=$(go_findings "$T/att-$variant.json")
	echo "$got"
	leaks=$(echo "$got" | grep ' leak$')
	# After attach: 3 reloads (12 FDs, each a duplicate of the first
	# reload's) and some ticks at the lookup line.
	echo "$leaks" | grep -qx "growth $R 12 leak" || fail "$variant: the 3 reloads after attach are not growth at $R"
	echo "$leaks" | grep -qx "duplicate $R 12 leak" || fail "$variant: the 3 reloads after attach are not duplicates at $R"
	after=$(echo "$leaks" | sed -n "s/^growth $L \([0-9]*\) leak\$/\1/p")
	[ -n "$after" ] && [ "$after" -ge 2 ] || fail "$variant: the ticks after attach are not growth at $L"
	echo "$leaks" | grep -qx "duplicate $L $after leak" || fail "$variant: the ticks after attach are not duplicates at $L"
	# Before attach: the first reload and the first ticks, all on the
	# delay map but one: held before attach, without a stack, duplicates.
	before=$(echo "$leaks" | sed -n 's/^duplicate nowhere \([0-9]*\) leak$/\1/p')
	[ -n "$before" ] || fail "$variant: no duplicates among the FDs held before attach"
	[ $((before + after)) = "$ticks" ] ||
		fail "$variant: $before lookups held before attach + $after after != the gateway's $ticks ticks"
	[ "$(echo "$leaks" | wc -l)" = 5 ] || fail "$variant: other leaks than the two lines and the held duplicates"
	[ "$(sqlite3 :memory: "SELECT count(*) FROM json_each(readfile('$T/att-$variant.json'), '\$.findings') f
		WHERE json_extract(f.value, '\$.no_stack') LIKE '%held before attach%'
		AND NOT EXISTS (SELECT 1 FROM json_each(f.value, '\$.fds') d
				WHERE json_extract(d.value, '\$.origin') != 'held_before_attach')")" -ge 1 ] ||
		fail "$variant: the FDs held before attach are not reported as held before attach"
	"$REPORT" "$J" | grep -q 'no stack: held before attach' ||
		fail "$variant: the text report does not say 'held before attach'"
done
echo "go-leaks: all checks passed"
