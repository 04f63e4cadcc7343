#!/bin/sh
# `make demo`, run the way the README tells users to run it, from the
# repository root.  It must exit 0 and print the report: its header, the
# headline "2 leaking call sites, 17 FDs" and the two leaks, each a LEAK
# call site whose stack goes through the line of samples/gateway.c marked
# "LEAK: reload" / "LEAK: lookup"; and leave the same report as markdown
# and HTML in build/demo/.  Afterwards no demo namespace, bpffs mount or
# pin may be left.
#
# Then samples/demo.sh must fail, and still clean up, when the chain
# breaks: a gateway that exits 3, and a gateway that leaks nothing (a
# report with no leak means the demo shows nothing).
set -u
. "$(dirname "$0")/lib.sh"

require_built bpfleak libbpfleak.so bpfleak-report samples/gateway
VERSION=$(sed -n 's/^VERSION *:= *//p' "$ROOT/Makefile")
reload_line=$(leak_line reload) || exit 1
lookup_line=$(leak_line lookup) || exit 1
# Only for the permission probe (skip, not fail, where bpf/XDP is refused);
# the demo makes its own namespace and bpffs.
sandbox

leftovers() {
	{
		ip netns list | grep -o 'bpfleak-demo-[0-9]*'
		awk '$5 ~ /\/bpfleak-demo\./ { print "mount " $5 }' /proc/self/mountinfo
		ls -d "${TMPDIR:-/tmp}"/bpfleak-demo.* 2>/dev/null
	} | sort
}
leftovers >"$T/before"

note "make demo"
(cd "$ROOT" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES make -s demo) \
	>"$T/demo.out" 2>&1
rc=$?
cat "$T/demo.out"
[ "$rc" = 0 ] || fail "make demo exited $rc"
grep -q "^bpfleak-report $VERSION: " "$T/demo.out" || fail "no report header in the demo's output"
grep -q '^2 leaking call sites, 17 FDs; 17 bpf FDs open; ' "$T/demo.out" ||
	fail "the demo's report does not say 2 leaking call sites, 17 FDs, 17 bpf FDs open"
[ "$(grep -c '^\[[0-9]*\] LEAK ' "$T/demo.out")" = 2 ] || fail "the demo's report lists other than 2 leaking sites"
head -1 "$ROOT/build/demo/gateway.md" | grep -qx '### bpfleak: 2 leaking call sites, 17 FDs' ||
	fail "make demo did not leave the markdown report in build/demo/gateway.md"
grep -q '<h1 class="leak">2 leaking call sites, 17 FDs</h1>' "$ROOT/build/demo/gateway.html" ||
	fail "make demo did not leave the HTML report in build/demo/gateway.html"
# Lines of samples/gateway.c that appear in the stacks of LEAK findings.
awk '/^\[[0-9]+\] /{leak = ($2 == "LEAK")} leak && /samples\/gateway\.c:[0-9]+/ {
	for (i = 1; i <= NF; i++) if ($i ~ /gateway\.c:[0-9]+$/) { sub(/.*:/, "", $i); print $i } }' \
	"$T/demo.out" | sort -un >"$T/lines"
printf '%s\n' "$reload_line" "$lookup_line" | sort -un >"$T/want"
grep -qx "$reload_line" "$T/lines" || fail "no LEAK finding at gateway.c:$reload_line (LEAK: reload)"
grep -qx "$lookup_line" "$T/lines" || fail "no LEAK finding at gateway.c:$lookup_line (LEAK: lookup)"
leftovers >"$T/after"
cmp -s "$T/before" "$T/after" || { diff "$T/before" "$T/after"; fail "make demo left a namespace, mount or directory behind"; }

note "demo.sh fails, and cleans up, when the chain breaks"
mkdir -p "$T/fake/samples"
for f in bpfleak libbpfleak.so bpfleak-report; do ln -s "$B/$f" "$T/fake/$f"; done
printf '#!/bin/sh\necho "broken gateway"\nexit 3\n' >"$T/fake/samples/gateway"
chmod +x "$T/fake/samples/gateway"
(cd "$ROOT" && B="$T/fake" sh samples/demo.sh) >"$T/broken.out" 2>&1
rc=$?
[ "$rc" != 0 ] || { cat "$T/broken.out"; fail "demo.sh passed with a gateway that exits 3"; }
grep -q 'the gateway run failed (exit 3)' "$T/broken.out" || { cat "$T/broken.out"; fail "demo.sh did not say why it failed"; }
printf '#!/bin/sh\nexec %s "$@" --no-leak\n' "$B/samples/gateway" >"$T/fake/samples/gateway"
(cd "$ROOT" && B="$T/fake" sh samples/demo.sh) >"$T/noleak.out" 2>&1
rc=$?
[ "$rc" != 0 ] || { cat "$T/noleak.out"; fail "demo.sh passed with a gateway that leaks nothing"; }
grep -q 'the report found no leak' "$T/noleak.out" || { cat "$T/noleak.out"; fail "demo.sh did not say the report was empty"; }
leftovers >"$T/after"
cmp -s "$T/before" "$T/after" || { diff "$T/before" "$T/after"; fail "a failed demo left a namespace, mount or directory behind"; }
echo "ok: make demo shows both leaks (gateway.c:$reload_line, gateway.c:$lookup_line) and cleans up, even when it fails"
