#!/bin/sh
# The sample gateway's two leaks, in every report format: run on the real
# kernel under `bpfleak run --report` (the markdown report written when the
# gateway exits), then reported from its journal as text, JSON, markdown,
# HTML and folded.  Each must say "2 leaking call sites, 17 FDs" and name
# one site per leak, at the lines marked "LEAK: reload" (3 reloads x 4
# maps) and "LEAK: lookup" (5 ticks), and nothing else:
#  - text: the headline, then [1] LEAK gateway.c:RELOAD and [2] LEAK
#    gateway.c:LOOKUP, 12 and 5 FDs, growth and duplicate as evidence;
#  - JSON: two sites (leak, line, count, classes), each holding its
#    findings, whose shape check_report.py still checks;
#  - markdown: the headline first, one table row per site;
#  - HTML: the headline, a timeline for the gateway with one series per
#    site (check_html.py), under 1 MB;
#  - folded: one line per site, each FD counted once (12 and 5).
set -u
. "$(dirname "$0")/lib.sh"

RELOADS=3
TICKS=5
require_built bpfleak libbpfleak.so bpfleak-report samples/gateway
reload_line=$(leak_line reload) || exit 1
lookup_line=$(leak_line lookup) || exit 1
note "LEAK markers: reload at gateway.c:$reload_line, lookup at gateway.c:$lookup_line"
sandbox

in_ns "$B/bpfleak" run -o "$T/gw.db" --report "$T/run.md" -- "$B/samples/gateway" --ifname lo \
	--pin-dir "$BPFFS/gw" --reloads $RELOADS --ticks $TICKS --interval 100 >"$T/run.out" 2>&1
rc=$?
cat "$T/run.out"
[ "$rc" = 0 ] || fail "bpfleak run exited $rc"
assert_cleaned_up
grep -q "^bpfleak: report: $T/run.md (leaks found)" "$T/run.out" || fail "run --report did not write $T/run.md"
HEADLINE="2 leaking call sites, $((RELOADS * 4 + TICKS)) FDs"

for f in text json markdown html folded; do
	"$B/bpfleak-report" --format $f "$T/gw.db" >"$T/r.$f" 2>"$T/r.$f.err"
	rc=$?
	[ "$rc" = 1 ] || { cat "$T/r.$f.err"; fail "--format $f exited $rc, expected 1"; }
done

note "text"
grep -qx "$HEADLINE; 17 bpf FDs open; 8 findings, 4 leaks" "$T/r.text" ||
	{ cat "$T/r.text"; fail "text: no headline '$HEADLINE'"; }
grep '^\[[0-9]*\] ' "$T/r.text" >"$T/sites"
cat >"$T/want" <<EOT
[1] LEAK gateway.c:$reload_line acl_reload: $((RELOADS * 4)) FDs, pid PID
[2] LEAK gateway.c:$lookup_line stats_poll: $TICKS FDs, pid PID
EOT
sed 's/pid [0-9]*$/pid PID/' "$T/sites" | cmp -s - "$T/want" ||
	{ cat "$T/sites"; fail "text: the sites are not the two leaks"; }
[ "$(grep -c '^    leak (duplicate, growth): ' "$T/r.text")" = 2 ] ||
	fail "text: not both sites have duplicate and growth as evidence"

note "JSON"
$PY - "$T/r.json" "$reload_line" "$lookup_line" "$HEADLINE" <<'EOP' || fail "JSON: the sites are not the two leaks"
import json, sys
doc = json.load(open(sys.argv[1]))
lines = [int(sys.argv[2]), int(sys.argv[3])]
got = [(s["leak"], s["line"], s["count"], s["leak_classes"], len(s["findings"])) for s in doc["sites"]]
want = [(True, lines[0], 12, ["duplicate", "growth"], 4), (True, lines[1], 5, ["duplicate", "growth"], 4)]
print("sites:", got)
assert got == want, want
assert doc["summary"]["headline"] == sys.argv[4], doc["summary"]
assert doc["summary"]["leaking_sites"] == 2, doc["summary"]
for s in doc["sites"]:
    for i in s["findings"]:
        f = doc["findings"][i]
        assert any(fr.get("line") == s["line"] for fr in f["stack"]), (s["line"], f)
EOP
$PY "$ROOT/tests/sample/check_report.py" "$T/r.json" \
	"$reload_line:$((RELOADS * 4)):global_ep=$RELOADS,acl_progs=$RELOADS,delay=$RELOADS,delay_cidr=$RELOADS:$(((RELOADS - 1) * 4))" \
	"$lookup_line:$TICKS:delay=$TICKS:$TICKS" || fail "JSON: the findings do not name the two leaks"

note "markdown"
for md in "$T/r.markdown" "$T/run.md"; do
	head -1 "$md" | grep -qx "### bpfleak: $HEADLINE" || { head -3 "$md"; fail "$md: no headline"; }
	grep -q "^| 1 | \*\*LEAK\*\* \`acl_reload\` | \`gateway.c:$reload_line\` | $((RELOADS * 4)) " "$md" ||
		fail "$md: no table row for gateway.c:$reload_line"
	grep -q "^| 2 | \*\*LEAK\*\* \`stats_poll\` | \`gateway.c:$lookup_line\` | $TICKS " "$md" ||
		fail "$md: no table row for gateway.c:$lookup_line"
	[ "$(grep -c '^| [0-9]' "$md")" = 2 ] || fail "$md: other than 2 table rows"
done

note "HTML"
grep -q "<h1 class=\"leak\">$HEADLINE</h1>" "$T/r.html" || fail "HTML: no headline"
$PY "$ROOT/tests/report/check_html.py" page "$T/r.html" "$T/r.json" || fail "HTML: the page"

note "folded"
sed 's/;.*;\(acl_reload\|stats_poll\) (\(gateway.c:[0-9]*\)).* \([0-9]*\)$/ \1 \2 \3/' "$T/r.folded" >"$T/folded"
cat >"$T/want" <<EOT
[leak: duplicate,growth] acl_reload gateway.c:$reload_line $((RELOADS * 4))
[leak: duplicate,growth] stats_poll gateway.c:$lookup_line $TICKS
EOT
cmp -s "$T/folded" "$T/want" || { cat "$T/r.folded"; fail "folded: not one line per leaking site"; }
echo "ok: text, JSON, markdown, HTML and folded each name 2 leaking call sites (gateway.c:$reload_line, gateway.c:$lookup_line), 17 FDs"
