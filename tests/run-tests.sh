#!/bin/sh
# Run every test program given on the command line and print one closing
# line for the whole suite: "check: N passed, N failed, N skipped".
#
# cmocka programs report per test; their [ PASSED ] / [ FAILED ] /
# [ SKIPPED ] lines are counted.  Shell tests count as one test each:
# exit 0 = passed, 77 = skipped (the automake convention), else failed.
set -u
passed=0 failed=0 skipped=0
failed_names=""
logdir=${BPFLEAK_TEST_LOGS:-build/test-logs}
mkdir -p "$logdir"

for t in "$@"; do
	# Name tests by their path below build/, so the ASan build of a test
	# (build/asan/...) is told apart from the plain one.
	name=${t#build/}
	name=${name#./}
	log="$logdir/$(printf '%s' "$name" | tr '/' '_').log"
	case "$t" in
	*.sh) sh "$t" >"$log" 2>&1; rc=$? ;;
	*) CMOCKA_MESSAGE_OUTPUT=stdout "$t" >"$log" 2>&1; rc=$? ;;
	esac
	if grep -q '^\[==========\]' "$log"; then
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
		# cmocka names a failed or skipped test twice (as it happens, and
		# in the summary): count distinct names.
		f=$(grep '^\[  FAILED  \] [A-Za-z_0-9]*$' "$log" | sort -u | wc -l)
		s=$(grep '^\[  SKIPPED \] [A-Za-z_0-9]*$' "$log" | sort -u | wc -l)
		p=${p:-0}
		# A crash after the header leaves no summary: count it as a failure.
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
		passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
		status="$p passed, $f failed, $s skipped"
		[ "$f" -ne 0 ] && failed_names="$failed_names $name"
	else
		case $rc in
		0) passed=$((passed + 1)); status=passed ;;
		77) skipped=$((skipped + 1)); status="skipped: $(tail -1 "$log")" ;;
		*) failed=$((failed + 1)); status="FAILED (exit $rc)"; failed_names="$failed_names $name" ;;
		esac
	fi
	printf '%-44s %s\n' "$name" "$status"
done

for n in $failed_names; do
	log="$logdir/$(printf '%s' "$n" | tr '/' '_').log"
	echo "---- $n ($log, last 40 lines) ----"
	tail -40 "$log"
done
echo "check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
