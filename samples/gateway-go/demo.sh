#!/bin/sh
# make demo-go: run the Go sample gateway under bpfleak, then print its report.
#
# The Go gateway makes its bpf() calls as raw system calls (cilium/ebpf
# never goes through libc), and the default build is static: only bpfleak's
# kernel-side recorder sees it (`bpfleak run` picks it for Go binaries;
# BPFLEAK_TRACER=kernel forces it with --tracer=kernel).
#
# As in `make demo`, the gateway attaches to `lo` in a private network
# namespace and pins in a bpffs mounted in a mktemp directory, so the demo
# touches neither the host's interfaces nor /sys/fs/bpf; the EXIT trap
# (samples/sandbox.sh) takes all of it down whatever happens.
#
#   GATEWAY_GO_VARIANT=cgo   the CGO_ENABLED=1 build instead of the static one
#   BPFLEAK_DEMO_TICKS=N     stats ticks (default 5; 3 reloads)
#   BPFLEAK_DEMO_FINALIZE=1  --finalize: drop the leaked handles and let the
#                            GC's finalizers close them (class `finalized`)
#
# Exit status: 0 when the report found leaks (its exit status 1: the
# gateway leaks on purpose); 1 when anything else happened.  The journal is
# kept in $B/demo-go/gateway.db.
set -eu

B=${B:-build}
TICKS=${BPFLEAK_DEMO_TICKS:-5}
RELOADS=3
T=
NS=
BPFFS=

say() { printf '%s\n' "$*"; }
die() { printf 'demo-go: %s\n' "$*" >&2; exit 1; }

. "$(dirname "$0")/../sandbox.sh"

case ${GATEWAY_GO_VARIANT:-} in
"" | static) GW=$B/samples/gateway-go/gateway-go ;;
cgo) GW=$B/samples/gateway-go/gateway-go-cgo ;;
*) die "GATEWAY_GO_VARIANT is static or cgo, not '$GATEWAY_GO_VARIANT'" ;;
esac
[ "$(id -u)" = 0 ] ||
	die "needs root: bpf(), a bpffs mount and a network namespace (try: sudo make demo-go)"
[ -x "$GW" ] ||
	die "$GW is missing: it needs Go and cilium/ebpf (apt-get install golang-go golang-github-cilium-ebpf-dev), then make"
for f in bpfleak bpfleak-report; do
	[ -e "$B/$f" ] || die "$B/$f is missing (run make)"
done

T=$(mktemp -d "${TMPDIR:-/tmp}/bpfleak-demo-go.XXXXXX")
sandbox_traps
mkdir "$T/bpffs"
mount -t bpf bpf "$T/bpffs" || die "cannot mount a bpffs on $T/bpffs"
BPFFS=$T/bpffs
NS=bpfleak-demo-go-$$
ip netns add "$NS" || { NS=; die "cannot create a network namespace"; }
ip -n "$NS" link set dev lo up

mkdir -p "$B/demo-go"
J=$B/demo-go/gateway.db
rm -f "$J" "$J-wal" "$J-shm" "$J.old" "$J.old-wal" "$J.old-shm"

set -- "$GW" --ifname lo --pin-dir "$BPFFS/gateway" --reloads "$RELOADS" --ticks "$TICKS" \
	--interval 100
[ "${BPFLEAK_DEMO_FINALIZE:-0}" = 1 ] && set -- "$@" --finalize
tracer=
[ -n "${BPFLEAK_TRACER:-}" ] && tracer=" --tracer=$BPFLEAK_TRACER"

say "== The Go sample gateway (cilium/ebpf), under bpfleak: $RELOADS ACL reloads, $TICKS stats ticks"
say "   (attached to lo in network namespace $NS; bpffs on $BPFFS)"
say "\$ $B/bpfleak run$tracer -o $J -- $*"
rc=0
# shellcheck disable=SC2086
ip netns exec "$NS" "$B/bpfleak" run $tracer -o "$J" -- "$@" 2>&1 || rc=$?
[ "$rc" = 0 ] || die "the gateway run failed (exit $rc)"
[ -s "$J" ] || die "no journal was written to $J (a Go binary needs bpfleak's kernel recorder: bpfleak run --tracer=kernel)"

say ""
say "== What leaked, and where"
say "\$ $B/bpfleak-report $J"
rc=0
"$B/bpfleak-report" "$J" || rc=$?
case $rc in
1) ;;
0) die "the report found no leak, but the gateway leaks on purpose: something is broken" ;;
*) die "bpfleak-report failed (exit $rc)" ;;
esac
say ""
say "The journal stays in $J; see also"
say "  $B/bpfleak-report --format json $J"
say "  sqlite3 $J 'SELECT * FROM event_v'"
