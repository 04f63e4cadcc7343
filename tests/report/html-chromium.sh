#!/bin/sh
# The HTML report in a real browser: synthetic journals (tests/report/
# scenarios.c: several processes; hostile strings; a busy process) are
# reported as HTML and JSON, and rendered by headless Chromium
# (scripts/render-html.sh).  For each page (check_html.py):
#  - it loads nothing and runs nothing, is under 1 MB, and has one
#    timeline per process holding FDs of a call site, one series per site
#    with FDs in that process (the JSON report's sites), leaks marked;
#  - the screenshot is not blank, and shows the leaking series' area;
#  - the DOM Chromium built holds no script or img element, even from the
#    journal whose command line, paths and names carry <script> and <img>.
# Skipped (exit 77) where Chromium is not installed.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${BPFLEAK_BUILD:-$ROOT/build}
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
CHECK=$ROOT/tests/report/check_html.py
RENDER=$ROOT/scripts/render-html.sh

fail() { echo "FAIL: $*"; exit 1; }
for f in bpfleak-report tests/report/mkjournal; do
	[ -x "$B/$f" ] || fail "$B/$f is missing (run make)"
done
T=$(mktemp -d "${TMPDIR:-/tmp}/bpfleak-html.XXXXXX") || fail mktemp
trap 'rm -rf "$T"' EXIT INT TERM

# Chromium first: without it there is nothing to test here.
printf '<!DOCTYPE html><title>probe</title><p>probe\n' >"$T/probe.html"
sh "$RENDER" png "$T/probe.html" "$T/probe.png" 200 100 >"$T/probe.out" 2>&1
case $? in
0) ;;
77) echo "SKIP: $(tail -1 "$T/probe.out")"; exit 77 ;;
*) cat "$T/probe.out"; fail "Chromium is installed but cannot render a page" ;;
esac

for s in multi hostile busy; do
	echo "-- $s"
	"$B/tests/report/mkjournal" "$s" "$T/$s.db" || fail "mkjournal $s"
	"$B/bpfleak-report" --format html "$T/$s.db" >"$T/$s.html" 2>"$T/$s.err"
	rc=$?
	[ "$rc" = 1 ] || { cat "$T/$s.err"; fail "$s: bpfleak-report --format html exited $rc, not 1"; }
	"$B/bpfleak-report" --format json "$T/$s.db" >"$T/$s.json" 2>/dev/null
	[ $? = 1 ] || fail "$s: bpfleak-report --format json did not exit 1"
	$PY "$CHECK" page "$T/$s.html" "$T/$s.json" || fail "$s: the page"
	sh "$RENDER" png "$T/$s.html" "$T/$s.png" 1000 1000 || fail "$s: Chromium did not render it"
	$PY "$CHECK" png "$T/$s.png" --leak-area || fail "$s: the screenshot"
	sh "$RENDER" dom "$T/$s.html" "$T/$s.dom" || fail "$s: Chromium did not load it"
	$PY "$CHECK" dom "$T/$s.dom" || fail "$s: the DOM"
done
grep -q '&lt;script&gt;' "$T/hostile.dom" || fail "the hostile strings are not in the page as text"
echo "ok: HTML reports of 3 journals render in Chromium, one series per call site, nothing run or loaded"
