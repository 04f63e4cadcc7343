#!/bin/sh
# The HTML report of the sample gateway's run, as `make demo` makes it, in
# headless Chromium (scripts/render-html.sh): the page is under 1 MB and
# loads nothing, its timeline has one series per call site (both leaking,
# check_html.py), and the screenshot is not blank and shows the leaking
# series.  Skipped where Chromium is not installed.
set -u
. "$(dirname "$0")/lib.sh"

require_built bpfleak libbpfleak.so bpfleak-report samples/gateway
T0=$(mktemp -d "${TMPDIR:-/tmp}/bpfleak-browser.XXXXXX") || fail mktemp
printf '<!DOCTYPE html><title>probe</title><p>probe\n' >"$T0/probe.html"
sh "$ROOT/scripts/render-html.sh" png "$T0/probe.html" "$T0/probe.png" 200 100 >"$T0/probe.out" 2>&1
rc=$?
reason=$(tail -1 "$T0/probe.out")
rm -rf "$T0"
case $rc in
0) ;;
77) skip "$reason" ;;
*) fail "Chromium is installed but cannot render a page: $reason" ;;
esac
sandbox

in_ns "$B/bpfleak" run -q -o "$T/gw.db" --report "$T/gw.html" -- "$B/samples/gateway" --ifname lo \
	--pin-dir "$BPFFS/gw" --reloads 3 --ticks 5 --interval 100 >"$T/run.out" 2>&1
rc=$?
[ "$rc" = 0 ] || { cat "$T/run.out"; fail "bpfleak run exited $rc"; }
assert_cleaned_up
[ -s "$T/gw.html" ] || fail "run --report wrote no $T/gw.html"
"$B/bpfleak-report" --format json "$T/gw.db" >"$T/gw.json"
[ $? = 1 ] || fail "the JSON report did not exit 1"
$PY "$ROOT/tests/report/check_html.py" page "$T/gw.html" "$T/gw.json" || fail "the page"
sh "$ROOT/scripts/render-html.sh" png "$T/gw.html" "$T/gw.png" 1100 1240 || fail "Chromium did not render it"
$PY "$ROOT/tests/report/check_html.py" png "$T/gw.png" --leak-area || fail "the screenshot"
sh "$ROOT/scripts/render-html.sh" dom "$T/gw.html" "$T/gw.dom" || fail "Chromium did not load it"
$PY "$ROOT/tests/report/check_html.py" dom "$T/gw.dom" || fail "the DOM"
echo "ok: the gateway's HTML report ($(wc -c <"$T/gw.html") bytes) renders in Chromium with one series per call site"
