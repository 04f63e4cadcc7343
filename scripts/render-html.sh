#!/bin/sh
# Render a report page in headless Chromium, as a reader's browser would.
#
#   render-html.sh png HTML PNG [WIDTH HEIGHT]   screenshot of the page's top
#   render-html.sh dom HTML OUT                  the DOM Chromium built from it
#
# Used by the tests (tests/report/html-chromium.sh, tests/sample/
# report-formats.sh) and for the README's picture (make report-screenshot),
# so the picture is what the tests look at.  Exit status 77 when no
# Chromium is installed (the tests then skip), 1 when it fails.  Each run
# gets a throw-away profile; as root Chromium needs --no-sandbox.
set -u
mode=${1:-} html=${2:-} out=${3:-} width=${4:-1100} height=${5:-1400}
case $mode in png|dom) ;; *) echo "usage: $0 png|dom HTML OUT [WIDTH HEIGHT]" >&2; exit 2 ;; esac
[ -f "$html" ] && [ -n "$out" ] || { echo "usage: $0 png|dom HTML OUT [WIDTH HEIGHT]" >&2; exit 2; }

browser=
for b in chromium chromium-browser google-chrome; do
	if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
done
if [ -z "$browser" ]; then
	echo "no Chromium installed (Debian: apt-get install chromium)"
	exit 77
fi

profile=$(mktemp -d "${TMPDIR:-/tmp}/bpfleak-chromium.XXXXXX") || exit 1
trap 'rm -rf "$profile"' EXIT INT TERM
case $html in /*) url=file://$html ;; *) url=file://$(pwd)/$html ;; esac
set -- --headless --disable-gpu --hide-scrollbars --no-first-run --disable-extensions \
	--disable-sync --disable-background-networking --disable-component-update \
	--disable-default-apps --disable-dev-shm-usage --user-data-dir="$profile"
[ "$(id -u)" = 0 ] && set -- "$@" --no-sandbox

if [ "$mode" = png ]; then
	rm -f "$out"
	timeout 120 "$browser" "$@" --window-size="$width,$height" --screenshot="$out" "$url" \
		>"$profile/log" 2>&1
	rc=$?
	[ "$rc" = 0 ] && [ -s "$out" ] && exit 0
	echo "chromium --screenshot failed (exit $rc):"
	tail -20 "$profile/log"
	exit 1
fi
timeout 120 "$browser" "$@" --dump-dom "$url" >"$out" 2>"$profile/log"
rc=$?
[ "$rc" = 0 ] && [ -s "$out" ] && exit 0
echo "chromium --dump-dom failed (exit $rc):"
tail -20 "$profile/log"
exit 1
