#!/bin/sh
# A Go program under the shim: the Go runtime makes its system calls
# itself, so the shim sees none of its bpf FDs.  It must say so once on
# stderr, change nothing else, and leave a journal whose report cannot
# vouch (exit 3, blind spot "go") instead of a silent "0 leaks".  Uses the
# cgo build of the sample Go gateway (dynamic, libc: LD_PRELOAD loads).
. "$(dirname "$0")/lib.sh"
trust_setup
GO_GW=$B/samples/gateway-go/gateway-go-cgo
[ -x "$GO_GW" ] || skip "$GO_GW not built (needs golang-go and golang-github-cilium-ebpf-dev)"

# Nothing but one warning line changes, even for a run that makes no FD.
"$GO_GW" --help >"$T/plain.out" 2>"$T/plain.err"
plain_rc=$?
shim "$T/help.db" "$GO_GW" --help >"$T/shim.out" 2>"$T/shim.err"
rc=$?
[ $rc -eq $plain_rc ] || problem "--help: exit $rc under the shim, $plain_rc without"
cmp -s "$T/plain.out" "$T/shim.out" || problem "--help: stdout differs under the shim"
n=$(grep -c '^bpfleak\[' "$T/shim.err")
[ "$n" -eq 1 ] && grep -q '^bpfleak\[.*Go program' "$T/shim.err" ||
	problem "expected one 'Go program' warning, got $n bpfleak lines: $(tr '\n' '|' <"$T/shim.err")"

# A real run that leaks: the report names the blind spot and exits 3.
mount_bpffs "$T/bpffs"
shim "$T/j.db" "$GO_GW" -p "$T/bpffs/gw" -r 2 -t 3 -I 20 --no-probe >"$T/gw.out" 2>"$T/gw.err"
rc=$?
[ $rc -eq 0 ] || { cat "$T/gw.err"; fail "the Go gateway exited $rc under the shim"; }
"$REPORT" --format json "$T/j.db" >"$T/r.json" 2>"$T/r.err"
rc=$?
case $rc in
3) ;;
0 | 1) problem "report exit $rc, expected 3 (cannot vouch)" ;;
*) fail "report exit $rc, expected 3 (cannot vouch): $(cat "$T/r.err")" ;;
esac
spoils=$(json_query "$T/r.json" "[b['spoils'] for b in d['blind_spots'] if b['kind'] == 'go']")
[ "$spoils" = "[True]" ] || problem "blind spot 'go': $spoils in $(json_query "$T/r.json" "d['blind_spots']")"
vouched=$(json_query "$T/r.json" "d['summary']['vouched']")
[ "$vouched" = False ] || problem "summary.vouched is $vouched"
exit $status
