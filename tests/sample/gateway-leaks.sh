#!/bin/sh
# The whole chain on the real kernel: the sample gateway, attached to lo in a
# private network namespace and pinned in a private bpffs, runs under
# `bpfleak run`; `bpfleak-report --format json` must then name exactly the
# two leaks at the lines marked LEAK in samples/gateway.c, with exact counts:
#
#   reload: 3 reloads x 4 ACL maps re-opened with bpf_obj_get = 12 FDs,
#           3 each of global_ep, acl_progs, delay, delay_cidr
#   lookup: 5 ticks x 1 bpf_map_get_fd_by_id of the delay map = 5 FDs
#
# and nothing else (every other FD was closed before exit).  Classes, as
# docs/report.md ("Classes") defines them: all 17 FDs are `outstanding`; as `duplicate`
# leaks, the reload site gets the 8 FDs beyond the first reload's (which
# became the oldest holders once the gateway closed its own FDs), the
# lookup site all 5 (the delay map was already held by a reload FD: the
# first reload precedes the first lookup); `growth`, when the analyzer's
# time windows see it, must cover the whole site.  The same run
# with --no-leak must report nothing and exit 0.  Both runs must also show
# the datapath working (the ACL dropped the drop probes, passed the others)
# and leave no pin and no XDP program behind.
set -u
. "$(dirname "$0")/lib.sh"

RELOADS=3
TICKS=5
require_built bpfleak libbpfleak.so bpfleak-report samples/gateway
reload_line=$(leak_line reload) || exit 1
lookup_line=$(leak_line lookup) || exit 1
note "LEAK markers: reload at gateway.c:$reload_line, lookup at gateway.c:$lookup_line"
sandbox

run_gateway() { # NAME [GATEWAY-OPTION...]
	name=$1
	shift
	note "run $name"
	in_ns "$B/bpfleak" run -o "$T/$name.db" -- "$B/samples/gateway" --ifname lo \
		--pin-dir "$BPFFS/gw" --reloads $RELOADS --ticks $TICKS --interval 20 "$@" \
		>"$T/$name.out" 2>&1
	rc=$?
	cat "$T/$name.out"
	[ "$rc" = 0 ] || fail "$name: bpfleak run exited $rc"
	grep -q "probes: $TICKS sent, $TICKS delivered on pass, $TICKS dropped on drop, 0 lost" \
		"$T/$name.out" || fail "$name: the XDP ACL did not pass/drop the probes"
	[ "$(grep -c '^gateway: reload [0-9]* (timed)' "$T/$name.out")" = $RELOADS ] ||
		fail "$name: expected $RELOADS reloads"
	grep -q "bpfleak: journal: $T/$name.db" "$T/$name.out" ||
		fail "$name: bpfleak run did not say where the journal is"
	[ -s "$T/$name.db" ] || fail "$name: no journal written"
	assert_cleaned_up
}

report() { # NAME EXPECTED-EXIT
	"$B/bpfleak-report" --format json "$T/$1.db" >"$T/$1.json" 2>"$T/$1.err"
	rc=$?
	cat "$T/$1.err"
	[ "$rc" = "$2" ] || { cat "$T/$1.json"; fail "$1: bpfleak-report exited $rc, expected $2"; }
}

run_gateway leak
report leak 1
$PY "$ROOT/tests/sample/check_report.py" "$T/leak.json" \
	"$reload_line:$((RELOADS * 4)):global_ep=$RELOADS,acl_progs=$RELOADS,delay=$RELOADS,delay_cidr=$RELOADS:$(((RELOADS - 1) * 4))" \
	"$lookup_line:$TICKS:delay=$TICKS:$TICKS" || fail "the report does not name the two leaks"

run_gateway noleak --no-leak
report noleak 0
$PY "$ROOT/tests/sample/check_report.py" "$T/noleak.json" --none ||
	fail "the report finds leaks in --no-leak mode"
echo "ok: reload leak at gateway.c:$reload_line x$((RELOADS * 4)), lookup leak at gateway.c:$lookup_line x$TICKS; none with --no-leak"
