#!/bin/sh
# The parts of bpfleak a user reads and installs, checked against each
# other so they cannot drift apart:
#
#  - gateway, bpfleak and bpfleak-report answer --help and --version
#    (exit 0, the Makefile's VERSION);
#  - every long option a binary's --help lists is documented in its man
#    page, and every option the man page documents is in --help;
#  - the three man pages render without a groff warning;
#  - the sample and bpfleak compile -Werror clean with both gcc and clang;
#  - `make install DESTDIR=...` installs the binaries, the shim, the sample
#    and the man pages (with the version and paths filled in), and the
#    installed bpfleak finds the installed shim.
set -u
. "$(dirname "$0")/lib.sh"

require_built bpfleak bpfleak-report samples/gateway libbpfleak.so
VERSION=$(sed -n 's/^VERSION *:= *//p' "$ROOT/Makefile")
[ -n "$VERSION" ] || fail "no VERSION in the Makefile"
T=$(mktemp -d "${TMPDIR:-/tmp}/bpfleak-cli.XXXXXX") || fail mktemp
trap 'rm -rf "$T"' EXIT

# make from inside `make check`: none of the outer make's jobserver state.
submake() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES make -s -C "$ROOT" "$@"
}

note "--help and --version"
for b in samples/gateway bpfleak bpfleak-report; do
	"$B/$b" --help >"$T/help" 2>&1 || fail "$b --help exited $?"
	grep -qi 'usage' "$T/help" || fail "$b --help prints no usage"
	"$B/$b" --version >"$T/version" 2>&1 || fail "$b --version exited $?"
	grep -q "$VERSION" "$T/version" || fail "$b --version does not say $VERSION: $(cat "$T/version")"
done
"$B/bpfleak" run --help >/dev/null || fail "bpfleak run --help exited $?"

# Long options of a --help text, one a line.
help_opts() {
	"$@" --help | grep -o -- '--[a-z][a-z-]*' | sort -u
}
# Long options a man page documents in its OPTIONS section (.TP items).
man_opts() {
	sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$1" | grep -A1 '^\.TP' |
		grep -o -- '\\-\\-[a-z][a-z\\-]*' | sed 's/\\//g' | sort -u
}
check_opts() { # MANPAGE COMMAND...
	page=$1
	shift
	help_opts "$@" >"$T/h"
	man_opts "$ROOT/man/$page" >"$T/m"
	[ -s "$T/h" ] || fail "no options found in $* --help"
	if ! cmp -s "$T/h" "$T/m"; then
		echo "--help of $* vs man/$page:"
		diff "$T/h" "$T/m"
		fail "man/$page and $* --help document different options"
	fi
}
note "man pages document what --help lists"
check_opts bpfleak.1 "$B/bpfleak"
check_opts bpfleak-report.1 "$B/bpfleak-report"

note "man pages render cleanly"
command -v groff >/dev/null 2>&1 || fail "groff is not installed (man-db needs it)"
for p in bpfleak.1 bpfleak-report.1 libbpfleak.7; do
	out=$(groff -man -Tutf8 -ww -z "$ROOT/man/$p" 2>&1)
	[ -z "$out" ] || { echo "$out"; fail "groff warns about man/$p"; }
done

note "-Werror clean with gcc and clang"
for cc in gcc clang; do
	submake B="$T/b-$cc" CC=$cc "$T/b-$cc/bpfleak" "$T/b-$cc/samples/gateway" \
		>"$T/build-$cc.log" 2>&1 || { cat "$T/build-$cc.log"; fail "build with $cc failed"; }
done

note "make install"
D=$T/dest
submake install DESTDIR="$D" >"$T/install.log" 2>&1 || { cat "$T/install.log"; fail "make install failed"; }
P=$D/usr/local
for f in bin/bpfleak lib/bpfleak/libbpfleak.so lib/bpfleak/samples/gateway \
	lib/bpfleak/samples/gateway.bpf.o share/man/man1/bpfleak.1 \
	share/man/man1/bpfleak-report.1 share/man/man7/libbpfleak.7; do
	[ -f "$P/$f" ] || fail "make install did not install $P/$f"
done
[ -x "$P/bin/bpfleak" ] && [ -x "$P/lib/bpfleak/samples/gateway" ] || fail "binaries installed without x bit"
grep -q '@VERSION@\|@LIBDIR@\|@PREFIX@' "$P"/share/man/man*/* && fail "unsubstituted @...@ in the installed man pages"
grep -q "bpfleak $VERSION" "$P/share/man/man1/bpfleak.1" || fail "installed bpfleak.1 does not carry $VERSION"
grep -q "/usr/local/lib/bpfleak" "$P/share/man/man7/libbpfleak.7" || fail "installed libbpfleak.7 lacks the library path"
MANWIDTH=80 man -l "$P/share/man/man7/libbpfleak.7" 2>/dev/null | grep -q 'BPFLEAK_DEPTH' ||
	fail "installed libbpfleak.7 does not render"
out=$("$P/bin/bpfleak" run -q -o "$T/i.db" -- sh -c 'echo "$LD_PRELOAD"') || fail "installed bpfleak run failed"
[ "$out" = "$P/lib/bpfleak/libbpfleak.so" ] || fail "installed bpfleak preloads '$out'"
"$P/lib/bpfleak/samples/gateway" --version | grep -q "$VERSION" || fail "installed gateway does not run"
echo "ok: help, versions, man pages, gcc/clang builds and install agree"
