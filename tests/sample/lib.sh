# Shared by the tests in tests/sample/ (sourced, not a test itself).
#
# Every test that touches the kernel works in a sandbox of its own: a bpffs
# mounted in a mktemp directory and a private network namespace whose `lo`
# the gateway attaches to.  Nothing under /sys/fs/bpf and no host interface
# is touched.  The EXIT trap kills what runs in the namespace, detaches XDP
# from its lo, removes the pins, unmounts the bpffs and deletes the
# namespace and the temp dir, whether the test passed, failed or was
# interrupted.
#
# Exit statuses (tests/run-tests.sh): 0 passed, 77 skipped (the reason is
# the last line printed), anything else failed.

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${BPFLEAK_BUILD:-$ROOT/build}
GATEWAY_SRC=$ROOT/samples/gateway.c
# The Debian interpreter, not a per-user shim: CI runs with a bare PATH.
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi

T=
NS=
BPFFS=

# The reason must be the last line printed, on one line.
skip() {
	printf 'SKIP: %s\n' "$(printf '%s' "$*" | tr '\n' ' ')"
	exit 77
}

fail() {
	echo "FAIL: $*"
	exit 1
}

note() {
	echo "-- $*"
}

# require_built NAME...: files the test needs in build/ (a missing one is a
# failure: `make check` builds them, so their absence is a build bug).
require_built() {
	for f in "$@"; do
		[ -e "$B/$f" ] || fail "$B/$f is missing (run make)"
	done
}

# The line of the single "LEAK: WHAT" marker in the gateway's source.
leak_line() {
	n=$(grep -c "LEAK: $1 \*/" "$GATEWAY_SRC")
	[ "$n" = 1 ] || fail "expected one 'LEAK: $1' marker in $GATEWAY_SRC, found $n"
	grep -n "LEAK: $1 \*/" "$GATEWAY_SRC" | cut -d: -f1
}

. "$ROOT/samples/sandbox.sh"

# sandbox: make $T, $BPFFS and $NS, or skip with the reason when the kernel
# or our rights do not allow bpf, bpffs, namespaces or XDP.
sandbox() {
	[ "$(id -u)" = 0 ] || skip "needs root (bpf(), bpffs mounts, network namespaces)"
	command -v ip >/dev/null 2>&1 || skip "iproute2 (ip) is not installed"
	T=$(mktemp -d "${TMPDIR:-/tmp}/bpfleak-sample.XXXXXX") || fail "mktemp"
	sandbox_traps
	mkdir "$T/bpffs"
	if ! out=$(mount -t bpf bpf "$T/bpffs" 2>&1); then
		skip "cannot mount a bpffs: $out"
	fi
	BPFFS=$T/bpffs
	NS=bpfleak-t$$
	if ! out=$(ip netns add "$NS" 2>&1); then
		NS=
		skip "cannot create a network namespace: $out"
	fi
	if ! out=$(ip -n "$NS" link set dev lo up 2>&1); then
		skip "cannot configure lo in a network namespace: $out"
	fi
	# Can we load and attach an XDP program at all?  A three-line program,
	# not the gateway, so that a gateway the verifier rejects fails the
	# test instead of skipping it.
	cat >"$T/probe.c" <<'EOC'
__attribute__((section("xdp"), used)) int probe(void *ctx) { (void)ctx; return 2; }
char _license[] __attribute__((section("license"), used)) = "GPL";
EOC
	${CLANG:-clang} -target bpf -O2 -c "$T/probe.c" -o "$T/probe.o" ||
		fail "clang cannot build a BPF object"
	if ! out=$(ip -n "$NS" link set dev lo xdpgeneric obj "$T/probe.o" sec xdp 2>&1); then
		skip "cannot load or attach an XDP program (bpf/XDP not permitted): $(echo "$out" | tail -1)"
	fi
	ip -n "$NS" link set dev lo xdpgeneric off || fail "cannot detach the probe program"
	# iproute2's loader made its own directories (ip/, tc/, xdp/) in the
	# first bpffs it found, ours: start the test with an empty one.
	find "$BPFFS" -mindepth 1 -maxdepth 1 ! -name maps.debug ! -name progs.debug \
		-exec rm -rf {} +
}

in_ns() {
	ip netns exec "$NS" "$@"
}

# No pin left in our bpffs, and nothing attached to the namespace's lo.
assert_cleaned_up() {
	left=$(find "$BPFFS" -mindepth 1 ! -name maps.debug ! -name progs.debug)
	[ -z "$left" ] || fail "the gateway left pins behind: $left"
	if ip -n "$NS" link show dev lo | grep -q 'xdp'; then
		ip -n "$NS" link show dev lo
		fail "the gateway left an XDP program attached to lo"
	fi
}
