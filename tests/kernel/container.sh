#!/bin/sh
# A process in a mount namespace of its own, running a binary from a path
# that exists only inside it (kr_raw copied into a tmpfs mounted there):
# the module row must name that path, with the binary's build-id and a
# load bias, read through /proc/PID (map_files, root) since the recorder
# cannot see the file at that path; its pid in its own namespace is
# recorded beside the host pid (it runs in a pid namespace too), and its
# exit snapshot walks the bpffs of its namespace.
# Exit 77 (skip) where the kernel recorder or namespaces are not available.
. "$(dirname "$0")/lib.sh"
kr_sandbox
command -v unshare >/dev/null 2>&1 || skip "unshare (util-linux) is missing"
HOST=$KB/kr_raw
[ -x "$HOST" ] || fail "$HOST is missing (run make check)"
mkdir "$T/ctr" || fail "mkdir"
unshare -m -p -f --propagation private true 2>/dev/null || skip "cannot create mount and pid namespaces"

"$BPFLEAK" run --tracer=kernel -o "$T/c.db" -- unshare -m -p -f --propagation private sh -c \
	"mount -t tmpfs none '$T/ctr' && cp '$HOST' '$T/ctr/prog' && exec '$T/ctr/prog' '$BPFFS'" \
	>"$T/run.out" 2>&1
rc=$?
cat "$T/run.out"
[ "$rc" = 77 ] && skip "bpf() is not permitted here"
[ "$rc" = 0 ] || fail "the namespaced run exited $rc"
[ -e "$T/ctr/prog" ] && fail "the binary is visible outside the namespace: the test proves nothing"
want=$(readelf -n "$HOST" | sed -n 's/.*Build ID: \([0-9a-f]*\).*/\1/p')
[ -n "$want" ] || fail "kr_raw has no build-id"
got=$(q "$T/c.db" "SELECT build_id FROM module WHERE path = '$T/ctr/prog'")
[ "$got" = "$want" ] || fail "module row for $T/ctr/prog: build-id '$got', expected '$want'"
[ "$(q "$T/c.db" "SELECT count(*) FROM process WHERE exe = '$T/ctr/prog' AND ns_pid > 0 AND ns_pid != pid")" -ge 1 ] ||
	fail "the process row does not name the namespaced binary with its namespace pid"
[ "$(q "$T/c.db" "SELECT count(*) FROM event WHERE op = 1 AND stack_id IS NOT NULL")" -ge 9 ] ||
	fail "the creates of the namespaced program are not all journaled with stacks"
# Its pins, walked after it exited through the root and mount table kept from its namespace.
prog=$(q "$T/c.db" "SELECT pid FROM process WHERE exe = '$T/ctr/prog'")
[ "$(q "$T/c.db" "SELECT count(*) FROM snapshot s JOIN snapshot_pin n ON n.snapshot_id = s.id
	WHERE s.pid = $prog AND s.reason = 'exit' AND s.pins_walked = 1
	AND n.path = '$BPFFS/raw_map' AND n.obj_id > 0 AND n.error IS NULL")" = 1 ] ||
	fail "the exit snapshot of the namespaced process lacks its pin $BPFFS/raw_map"
echo "container: all checks passed"
