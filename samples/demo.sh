#!/bin/sh
# make demo: run the sample XDP gateway under bpfleak, then print its report.
#
# The gateway attaches to `lo` in a private network namespace and pins its
# maps and programs in a bpffs mounted in a mktemp directory, so the demo
# touches neither the host's interfaces nor /sys/fs/bpf.  Whatever happens,
# the EXIT trap kills what still runs in the namespace, detaches XDP,
# removes the pins, unmounts the bpffs and deletes the namespace.
#
# Exit status: 0 when the report found leaks (its exit status 1: the
# gateway leaks on purpose); 1 when anything else happened, including a
# report that found nothing.  The journal is kept in $B/demo/gateway.db,
# its report for a ticket in $B/demo/gateway.md and $B/demo/gateway.html.
set -eu

B=${B:-build}
TICKS=${BPFLEAK_DEMO_TICKS:-5}
RELOADS=3
T=
NS=
BPFFS=

say() { printf '%s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

. "$(dirname "$0")/sandbox.sh"

[ "$(id -u)" = 0 ] ||
	die "needs root: bpf(), a bpffs mount and a network namespace (try: sudo make demo)"
for f in bpfleak libbpfleak.so bpfleak-report samples/gateway; do
	[ -e "$B/$f" ] || die "$B/$f is missing (run make)"
done

T=$(mktemp -d "${TMPDIR:-/tmp}/bpfleak-demo.XXXXXX")
sandbox_traps
mkdir "$T/bpffs"
mount -t bpf bpf "$T/bpffs" || die "cannot mount a bpffs on $T/bpffs"
BPFFS=$T/bpffs
NS=bpfleak-demo-$$
ip netns add "$NS" || { NS=; die "cannot create a network namespace"; }
ip -n "$NS" link set dev lo up

mkdir -p "$B/demo"
J=$B/demo/gateway.db
rm -f "$J" "$J-wal" "$J-shm" "$J.old" "$J.old-wal" "$J.old-shm"

say "== The sample gateway, under bpfleak: $RELOADS ACL reloads, $TICKS stats ticks"
say "   (attached to lo in network namespace $NS; bpffs on $BPFFS)"
say "\$ $B/bpfleak run -o $J -- $B/samples/gateway --ifname lo --pin-dir $BPFFS/gateway --reloads $RELOADS --ticks $TICKS --interval 100"
rc=0
ip netns exec "$NS" "$B/bpfleak" run -o "$J" -- "$B/samples/gateway" --ifname lo \
	--pin-dir "$BPFFS/gateway" --reloads "$RELOADS" --ticks "$TICKS" --interval 100 2>&1 || rc=$?
[ "$rc" = 0 ] || die "the gateway run failed (exit $rc)"
[ -s "$J" ] || die "no journal was written to $J"

say ""
say "== What leaked, and where"
say "\$ $B/bpfleak report $J"
rc=0
"$B/bpfleak" report "$J" || rc=$?
case $rc in
1) ;;
0) die "the report found no leak, but the gateway leaks on purpose: something is broken" ;;
*) die "bpfleak report failed (exit $rc)" ;;
esac
# The same report made for a ticket: markdown to paste, a page to attach.
for f in "$B/demo/gateway.md" "$B/demo/gateway.html"; do
	rc=0
	"$B/bpfleak" report -o "$f" "$J" || rc=$?
	[ "$rc" = 1 ] || die "bpfleak report -o $f failed (exit $rc)"
done
say ""
say "The journal stays in $J; for a ticket, the same report in markdown"
say "and as a page with a timeline of the open FDs: $B/demo/gateway.md, $B/demo/gateway.html.  See also"
say "  $B/bpfleak report --format json $J"
say "  sqlite3 $J 'SELECT * FROM event_v'"
