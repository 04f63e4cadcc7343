#!/bin/sh
# The fuzz harnesses in make check: every seed corpus and every crash
# reproducer in fuzz/regress/NAME/ runs once through each harness, built
# with $(CC) and ASan+UBSan (no libFuzzer needed).  Fails on any crash or
# sanitizer report.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${BPFLEAK_BUILD:-$ROOT/build}
D=$B/fuzz
for f in mkseeds small_elf; do
	[ -x "$D/$f" ] || { echo "FAIL: $D/$f is missing (run make check)"; exit 1; }
done
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/scratch"
export BPFLEAK_FUZZ_TMP=$T/scratch
mkdir -p "$T/journal" "$T/journal_sql"
"$D/mkseeds" "$T/journal" "$T/journal_sql" "$D/small_elf" || { echo "FAIL: mkseeds"; exit 1; }
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
# summary LOG: the sanitizer's verdict and the first frames, not the shadow map.
summary() {
	grep -E 'ERROR: AddressSanitizer|runtime error:|SUMMARY:|^ +#[0-9] ' "$1" | head -12
}
for name in fdinfo mountinfo suppressions journal journal_sql; do
	bin=$D/replay/fuzz_$name
	[ -x "$bin" ] || { echo "FAIL: $bin is missing"; status=1; continue; }
	dirs=""
	for d in "$ROOT/fuzz/corpus/$name" "$T/$name"; do
		[ -d "$d" ] && dirs="$dirs $d"
	done
	# shellcheck disable=SC2086
	if ! timeout 120 "$bin" $dirs >"$T/log" 2>&1; then
		summary "$T/log"
		echo "FAIL: fuzz_$name crashed on its seed corpus"
		status=1
	else
		tail -1 "$T/log"
	fi
	# Each reproducer on its own, so every one still failing is named.
	for f in "$ROOT/fuzz/regress/$name"/*; do
		[ -f "$f" ] || continue
		if ! timeout 120 "$bin" "$f" >"$T/log" 2>&1; then
			summary "$T/log"
			echo "FAIL: fuzz_$name: fuzz/regress/$name/$(basename "$f") still crashes"
			status=1
		else
			echo "fuzz_$name: fuzz/regress/$name/$(basename "$f") fixed"
		fi
	done
done
exit $status
