#!/bin/sh
# Golden reports: each journal tests/golden/mkgolden writes is reported as
# text and as JSON, and the output must equal NAME.txt.exp / NAME.json.exp
# byte for byte (valgrind's .exp habit): a change to the report's words is
# a visible diff.  NAME.args, when present, holds extra options.  Only the
# version on the text report's first line is masked; the journal is named
# by a relative path, and its times, boot id and modules are fixed.  The
# exit status of both runs must be the one the JSON states.
#
#   sh tests/golden/golden.sh            compare
#   sh tests/golden/golden.sh --update   rewrite the .exp files (review the diff)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${BPFLEAK_BUILD_DIR:-$ROOT/build}
GOLDEN=$ROOT/tests/golden
MK=$B/tests/golden/mkgolden
REPORT=$B/bpfleak-report
update=0
[ "${1:-}" = "--update" ] && update=1

[ -x "$MK" ] || { echo "FAIL: $MK is not built"; exit 1; }
[ -x "$REPORT" ] || { echo "FAIL: $REPORT is not built"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/bpfleak-golden.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP
# Wall-clock times in blind spots are local time.
TZ=UTC LC_ALL=C
export TZ LC_ALL

failed=0
for name in $("$MK" --list); do
	if ! "$MK" "$name" "$T/$name.db"; then
		echo "FAIL: $name: the journal could not be written"
		failed=1
		continue
	fi
	args=
	[ -f "$GOLDEN/$name.args" ] && args=$(cat "$GOLDEN/$name.args")
	for ext in txt json; do
		fmt=text
		[ $ext = json ] && fmt=json
		# shellcheck disable=SC2086
		(cd "$T" && "$REPORT" -f $fmt $args "$name.db") >"$T/raw" 2>"$T/$name.$ext.err"
		echo $? >"$T/$name.$ext.rc"
		sed '1s/^bpfleak-report [^ ]*: /bpfleak-report VERSION: /' "$T/raw" >"$T/$name.$ext"
		if [ $update = 1 ]; then
			cp "$T/$name.$ext" "$GOLDEN/$name.$ext.exp"
		elif ! diff -u "$GOLDEN/$name.$ext.exp" "$T/$name.$ext"; then
			echo "FAIL: $name: the $fmt report differs from $name.$ext.exp"
			failed=1
		fi
	done
	want=$(sed -n 's/.*"exit_status": \([0-9]*\).*/\1/p' "$T/$name.json")
	for ext in txt json; do
		got=$(cat "$T/$name.$ext.rc")
		if [ "$got" != "$want" ]; then
			echo "FAIL: $name: the $ext run exited $got, its JSON says $want"
			sed 's/^/   /' "$T/$name.$ext.err"
			failed=1
		fi
	done
	[ $failed = 0 ] && echo "ok: $name (exit $want)"
done
exit $failed
