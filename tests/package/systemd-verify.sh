#!/bin/sh
# systemd-analyze verify on the systemd examples (dist/systemd/, as built in
# build/dist/systemd/): the drop-in on a dummy service, and the companion
# template instantiated for that service.  verify exits 0 on most unit
# file mistakes (unknown keys, bad specifiers) and only prints a warning,
# so any output is a failure too.  A copy of the drop-in with a bad line
# added must make verify complain: the check is not vacuous.
#
# The dummy has a name of its own, so no unit or drop-in of the host is
# merged into it; SYSTEMD_UNIT_PATH ends with ":" so the host's targets
# (sysinit.target, ...) are found.  Exit 77 where systemd-analyze is missing.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${BPFLEAK_BUILD:-$ROOT/build}
EX=$B/dist/systemd

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

command -v systemd-analyze >/dev/null 2>&1 ||
	skip "systemd-analyze is missing (the systemd package: sh scripts/deps.sh deb)"
for f in bpfleak-preload.conf bpfleak-attach@.service; do
	[ -f "$EX/$f" ] || fail "$EX/$f is not built (make all builds it)"
done

T=$(mktemp -d "${TMPDIR:-/tmp}/bpfleak-verify.XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP PIPE

SVC=bpfleak-verify-gw$$
mkdir "$T/$SVC.service.d"
cat >"$T/$SVC.service" <<EOF
[Unit]
Description=A stand-in for the service bpfleak records

[Service]
ExecStart=/bin/sleep infinity

[Install]
WantedBy=multi-user.target
EOF
cp "$EX/bpfleak-preload.conf" "$T/$SVC.service.d/bpfleak.conf"
cp "$EX/bpfleak-attach@.service" "$T/"

# verify UNIT: exit 0 and silent.
verify() {
	rc=0
	(cd "$T" && SYSTEMD_UNIT_PATH="$T:" systemd-analyze verify --man=no "$1") \
		>"$T/out" 2>&1 || rc=$?
	cat "$T/out"
	[ "$rc" = 0 ] || fail "systemd-analyze verify $1 exited $rc"
	[ ! -s "$T/out" ] || fail "systemd-analyze verify $1 printed warnings"
	echo "ok: systemd-analyze verify $1"
}

verify "$SVC.service"
verify "bpfleak-attach@$SVC.service"

# The negative control: verify reads the drop-in and says what is wrong.
echo 'Environment=BPFLEAK_JOURNAL=/var/lib/bpfleak/%Z.db' >>"$T/$SVC.service.d/bpfleak.conf"
(cd "$T" && SYSTEMD_UNIT_PATH="$T:" systemd-analyze verify --man=no "$SVC.service") \
	>"$T/out" 2>&1 || true
grep -q 'bpfleak.conf' "$T/out" ||
	fail "a bad line in the drop-in went unnoticed: is it read at all? ($(cat "$T/out"))"
echo "ok: a bad drop-in line is reported ($(head -1 "$T/out"))"
