# Sourced by samples/demo.sh and tests/sample/lib.sh: the EXIT handler that
# takes down what a gateway run set up.  The caller sets T (a temp dir), BPFFS
# (a bpffs it mounted) and NS (a network namespace it made), each only once
# it exists.  Whatever happened, it kills what still runs in the namespace,
# detaches XDP, removes our pins (the kernel's *.debug files stay), unmounts,
# deletes the namespace and the temp dir, and exits with the script's status.
sandbox_cleanup() {
	rc=$?
	set +e
	if [ -n "$NS" ]; then
		for p in $(ip netns pids "$NS" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		ip -n "$NS" link set dev lo xdpgeneric off 2>/dev/null
		ip -n "$NS" link set dev lo xdpdrv off 2>/dev/null
		ip netns del "$NS" 2>/dev/null
	fi
	if [ -n "$BPFFS" ] && mountpoint -q "$BPFFS" 2>/dev/null; then
		find "$BPFFS" -mindepth 1 -depth ! -name maps.debug ! -name progs.debug \
			-exec rm -rf {} + 2>/dev/null
		umount "$BPFFS" 2>/dev/null || umount -l "$BPFFS" 2>/dev/null
	fi
	[ -n "$T" ] && rm -rf "$T"
	exit "$rc"
}

# The EXIT handler, and signals turned into exits so that it runs (PIPE
# too: `make demo | head` must not leave a namespace and a mount behind).
sandbox_traps() {
	trap sandbox_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	trap 'exit 141' PIPE
}
