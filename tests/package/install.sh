#!/bin/sh
# The Debian package on this machine: dpkg -i, the installed bpfleak, the
# sample gateway under the installed `bpfleak run` and its report, the
# shipped systemd drop-in's commands, then dpkg -r and nothing left behind.
#
# It installs and removes a package, so it runs only when asked:
#   BPFLEAK_TEST_INSTALL=1 sh tests/package/install.sh     (.ci/run does)
# Otherwise, or without root, it exits 77 (skipped).  A bpfleak package
# already installed is removed first.  Whatever happens, the package this
# test installed is removed, and the gateway's namespace, bpffs and temp
# dir go (samples/sandbox.sh).
#
# No systemd runs as PID 1 here, so the drop-in is not started by systemd:
# its Environment= lines are given to the gateway and its ExecStopPost=
# command is run as systemd would run it (specifiers and $$ expanded), with
# /var/lib/bpfleak moved to a temp dir.
set -u
. "$(dirname "$0")/../sample/lib.sh"

[ "${BPFLEAK_TEST_INSTALL:-}" = 1 ] ||
	skip "installs a package: run with BPFLEAK_TEST_INSTALL=1 (as .ci/run does)"
[ "$(id -u)" = 0 ] || skip "dpkg -i needs root"
command -v dpkg >/dev/null 2>&1 || skip "not a Debian system"

VERSION=$(sed -n 's/^VERSION *:= *//p' "$ROOT/Makefile")
ARCH=$(dpkg --print-architecture)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -dumpmachine)
DEB=$ROOT/build/deb/bpfleak_${VERSION}_${ARCH}.deb
LIB=/usr/lib/$MA/bpfleak
EX=/usr/share/doc/bpfleak/examples
[ -f "$DEB" ] || fail "$DEB is missing: run make deb first"
reload_line=$(leak_line reload) || exit 1
lookup_line=$(leak_line lookup) || exit 1

installed() { dpkg-query -W -f='${Status}' bpfleak 2>/dev/null | grep -q 'ok installed'; }
if installed; then
	note "bpfleak $(dpkg-query -W -f='${Version}' bpfleak) is installed already: dpkg -r bpfleak"
	dpkg -r bpfleak >/dev/null || fail "cannot remove the bpfleak installed before the test"
fi

sandbox
INSTALLED=
install_cleanup() {
	rc=$?
	if [ -n "$INSTALLED" ] && installed; then
		dpkg -r bpfleak >/dev/null 2>&1 || echo "could not dpkg -r bpfleak" >&2
	fi
	(exit "$rc")
	sandbox_cleanup
}
trap install_cleanup EXIT

# What the filesystem holds outside the package database, before and after.
fs_state() {
	find /usr /etc /opt /var/lib -xdev \( -path /var/lib/dpkg -o -path /var/lib/apt \
		-o -path /var/lib/systemd -o -path /var/lib/ucf \) -prune -o -print 2>/dev/null | sort
}
fs_state >"$T/before"

note "dpkg -i $DEB"
dpkg -i "$DEB" >"$T/dpkg-i.out" 2>&1 || { cat "$T/dpkg-i.out"; fail "dpkg -i failed"; }
INSTALLED=1
installed || fail "dpkg-query does not say bpfleak is installed"
[ "$(dpkg-query -W -f='${Version}' bpfleak)" = "$VERSION" ] || fail "installed version is not $VERSION"
for f in /usr/bin/bpfleak /usr/bin/bpfleak-report "$LIB/libbpfleak.so" "$LIB/samples/gateway" \
	/usr/include/bpfleak/journal.h "$EX/bpfleak-preload.conf" "$EX/bpfleak-attach@.service"; do
	[ -e "$f" ] || fail "$f is not installed"
done
echo "ok: dpkg -i: bpfleak $VERSION installed"

# The installed programs, from a PATH without the build tree.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
out=$(bpfleak --version 2>&1) || fail "bpfleak --version exited $?: $out"
echo "$out" | grep -q "$VERSION" || fail "bpfleak --version says: $out"
out2=$(bpfleak-report --version 2>&1) || fail "bpfleak-report --version exited $?: $out2"
echo "$out2" | grep -q "$VERSION" || fail "bpfleak-report --version says: $out2"
man -w bpfleak >/dev/null 2>&1 || ! command -v man >/dev/null 2>&1 || fail "man bpfleak: no page"
echo "ok: $(command -v bpfleak) --version: $out"

# The examples as installed pass systemd-analyze verify (the test that
# make check runs on build/dist/systemd/).
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$T/installed/dist/systemd"
	cp "$EX/bpfleak-preload.conf" "$EX/bpfleak-attach@.service" "$T/installed/dist/systemd/"
	BPFLEAK_BUILD=$T/installed sh "$ROOT/tests/package/systemd-verify.sh" ||
		fail "systemd-analyze verify fails on the installed examples"
fi

# ---- the sample gateway under the installed bpfleak run ------------------
note "bpfleak run -- $LIB/samples/gateway (network namespace $NS, bpffs $BPFFS)"
in_ns /usr/bin/bpfleak run -o "$T/gw.db" -- "$LIB/samples/gateway" --ifname lo \
	--pin-dir "$BPFFS/gw" --reloads 3 --ticks 5 --interval 20 >"$T/run.out" 2>&1
rc=$?
cat "$T/run.out"
[ "$rc" = 0 ] || fail "bpfleak run exited $rc"
[ -s "$T/gw.db" ] || fail "no journal"
assert_cleaned_up
# It was the installed shim that recorded.
sqlite3 "$T/gw.db" "SELECT DISTINCT path FROM module" 2>/dev/null | grep -qx "$LIB/libbpfleak.so" ||
	[ ! -x /usr/bin/sqlite3 ] || fail "the journal does not list $LIB/libbpfleak.so among the modules"

bpfleak report "$T/gw.db" >"$T/report.txt" 2>&1
rc=$?
cat "$T/report.txt"
[ "$rc" = 1 ] || fail "bpfleak report exited $rc, expected 1 (leaks found)"
grep -q "samples/gateway.c:$reload_line" "$T/report.txt" ||
	fail "the text report does not name gateway.c:$reload_line (the sample's debug info?)"
bpfleak report --format json "$T/gw.db" >"$T/report.json" 2>"$T/report.err"
rc=$?
[ "$rc" = 1 ] || { cat "$T/report.err"; fail "bpfleak report --format json exited $rc"; }
$PY "$ROOT/tests/sample/check_report.py" "$T/report.json" \
	"$reload_line:12:global_ep=3,acl_progs=3,delay=3,delay_cidr=3:8" \
	"$lookup_line:5:delay=5:5" || fail "the report does not name the sample's two leaks"
echo "ok: the installed bpfleak run + report name the reload leak (gateway.c:$reload_line x12) and the lookup leak (gateway.c:$lookup_line x5)"

# ---- the shipped drop-in, run by hand as systemd would -------------------
UNIT=bpfleak-pkgtest
STATE=$T/state
mkdir -m 0755 "$STATE"
# A value of the drop-in with its specifiers expanded for UNIT and
# /var/lib/bpfleak moved to $STATE.
dropin() { # KEY
	sed -n "s/^$1=//p" "$EX/bpfleak-preload.conf" |
		sed -e "s/%N/$UNIT/g" -e 's/\$\$/$/g' -e "s|/var/lib/bpfleak|$STATE|g"
}
grep -qx 'StateDirectory=bpfleak' "$EX/bpfleak-preload.conf" || fail "the drop-in has no StateDirectory=bpfleak"
envs=$(dropin Environment)
preload=$(echo "$envs" | sed -n 's/^LD_PRELOAD=//p')
journal=$(echo "$envs" | sed -n 's/^BPFLEAK_JOURNAL=//p')
[ "$preload" = "$LIB/libbpfleak.so" ] || fail "the drop-in preloads '$preload'"
[ "$journal" = "$STATE/$UNIT.db" ] || fail "the drop-in's journal is '$journal'"
[ -f "$preload" ] || fail "$preload does not exist"

note "the gateway with the drop-in's environment"
find "$BPFFS" -mindepth 1 -maxdepth 1 ! -name maps.debug ! -name progs.debug -exec rm -rf {} +
in_ns env LD_PRELOAD="$preload" BPFLEAK_JOURNAL="$journal" "$LIB/samples/gateway" --ifname lo \
	--pin-dir "$BPFFS/gw" --reloads 2 --ticks 3 --interval 20 >"$T/svc.out" 2>&1
rc=$?
[ "$rc" = 0 ] || { cat "$T/svc.out"; fail "the gateway under the drop-in's environment exited $rc"; }
[ -s "$journal" ] || fail "no journal at $journal"
[ "$(stat -c %a "$journal")" = 600 ] || fail "the journal's mode is $(stat -c %a "$journal"), not 600"

note "the drop-in's ExecStopPost= lines (markdown, then JSON)"
# systemd runs them with the unit's environment, the preload included.
dropin ExecStopPost >"$T/posts"
[ "$(wc -l <"$T/posts")" -ge 2 ] || fail "the drop-in has $(wc -l <"$T/posts") ExecStopPost= lines, want the markdown and the JSON report"
while read -r post; do
	case $post in -/*) post=${post#-} ;; *) fail "ExecStopPost= lacks the '-' prefix: $post" ;; esac
	rc=0
	(export LD_PRELOAD="$preload" BPFLEAK_JOURNAL="$journal"; eval "$post") >"$T/post.out" 2>&1 || rc=$?
	cat "$T/post.out"
	[ "$rc" = 1 ] || fail "ExecStopPost= exited $rc, expected 1 (the report found leaks): $post"
done <"$T/posts"
for R in "$STATE/$UNIT.report.md" "$STATE/$UNIT.report.json"; do
	[ -s "$R" ] || fail "no report at $R"
	[ "$(stat -c %a "$R")" = 600 ] || fail "the report's mode is $(stat -c %a "$R"), not 600"
	[ -z "$(find "$STATE" -name "$(basename "$R").*")" ] || fail "a temporary file of $R was left behind"
done
R=$STATE/$UNIT.report.json
$PY -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["summary"]["leaks"] >= 2, d["summary"]' "$R" ||
	fail "$R is not a report with the gateway's leaks"
grep -q "gateway.c" "$STATE/$UNIT.report.md" || fail "the markdown report names no line of gateway.c"
# The report itself was not recorded: one process in the journal.
n=$(sqlite3 "$journal" "SELECT COUNT(*) FROM process" 2>/dev/null || echo 1)
[ "$n" = 1 ] || fail "the journal holds $n processes: the report run was recorded too"
echo "ok: drop-in: journal $UNIT.db (0600), reports $UNIT.report.md and .json (0600, $($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"])' "$R"))"

# ---- dpkg -r leaves nothing behind -------------------------------------
note "dpkg -r bpfleak"
dpkg -r bpfleak >"$T/dpkg-r.out" 2>&1 || { cat "$T/dpkg-r.out"; fail "dpkg -r failed"; }
INSTALLED=
! installed || fail "bpfleak is still installed"
st=$(dpkg-query -W -f='${db:Status-Abbrev}' bpfleak 2>/dev/null || true)
case $st in "" | "un "* | "n"*) ;; *) fail "dpkg still knows bpfleak as '$st' (config files?)" ;; esac
for f in /usr/bin/bpfleak /usr/bin/bpfleak-report "$LIB" /usr/include/bpfleak /usr/share/doc/bpfleak; do
	[ ! -e "$f" ] || fail "$f is left after dpkg -r"
done
fs_state >"$T/after"
if ! cmp -s "$T/before" "$T/after"; then
	diff "$T/before" "$T/after" | head -20
	fail "the filesystem differs after dpkg -i + dpkg -r"
fi
echo "ok: dpkg -r: nothing of bpfleak left under /usr /etc /opt /var/lib"
