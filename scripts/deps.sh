#!/bin/sh
# Install (as root) or name (otherwise) the Debian packages bpfleak needs.
# Used by `make` before building, by `make demo` and by .ci/run, so a fresh
# Debian 12 machine needs nothing done by hand.  `deps.sh deb` (make deb)
# checks the packaging tools instead: debhelper, lintian, systemd-analyze.
# `deps.sh test` (.ci/run) adds what only tests use: Chromium, in which the
# HTML report is rendered (those tests skip where it is missing).
set -eu

BUILD_PKGS="build-essential pkg-config clang llvm libbpf-dev libelf-dev libdw-dev liburing-dev \
libunwind-dev libsqlite3-dev libcmocka-dev linux-libc-dev libclang-rt-14-dev"
TOOL_PKGS="bpftool iproute2 sqlite3 xdp-tools python3 valgrind strace \
libjemalloc2 libtcmalloc-minimal4 golang-go golang-github-cilium-ebpf-dev"
if [ "${1:-}" = deb ]; then
	BUILD_PKGS="debhelper dpkg-dev fakeroot lintian systemd"
	TOOL_PKGS=""
elif [ "${1:-}" = test ]; then
	TOOL_PKGS="$TOOL_PKGS chromium"
fi

missing=""
for p in $BUILD_PKGS $TOOL_PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "bpfleak: missing packages:$missing" >&2
	echo "bpfleak: run: sudo apt-get update && sudo apt-get install -y$missing" >&2
	exit 1
fi

echo "bpfleak: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
