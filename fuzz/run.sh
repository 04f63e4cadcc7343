#!/bin/sh
# make fuzz: run each libFuzzer harness for SECONDS, print its exec count.
#
#   sh fuzz/run.sh FUZZ_DIR SECONDS TARGET...
#
# Corpora grow in FUZZ_DIR/corpus/NAME across runs; the seeds come from
# fuzz/corpus/NAME (text inputs) or from mkseeds (journals), plus a real
# journal written by the shim when bpf() is allowed here.  A crash leaves
# its input in FUZZ_DIR/artifacts/ and fails the run.
set -u
dir=$1
secs=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
B=$(dirname "$dir")
mkdir -p "$dir/seeds/journal" "$dir/seeds/journal_sql" "$dir/artifacts"
"$dir/mkseeds" "$dir/seeds/journal" "$dir/seeds/journal_sql" "$dir/small_elf" || exit 1

# A real journal, rewritten with 512-byte pages so libFuzzer can mutate it.
if [ -x "$B/tests/hostile/host_hostile" ] && [ -e "$B/libbpfleak.so" ] && command -v sqlite3 >/dev/null; then
	t=$(mktemp -d)
	if BPFLEAK_QUIET=1 BPFLEAK_JOURNAL=$t/real.db LD_PRELOAD=$B/libbpfleak.so \
		"$B/tests/hostile/host_hostile" leak >/dev/null 2>&1; then
		rm -f "$dir/seeds/journal/real.db"
		{ echo "PRAGMA page_size=512;"; sqlite3 "$t/real.db" .dump
		  echo "PRAGMA application_id=$(sqlite3 "$t/real.db" 'PRAGMA application_id');"
		  echo "PRAGMA user_version=$(sqlite3 "$t/real.db" 'PRAGMA user_version');"
		} | sqlite3 "$dir/seeds/journal/real.db"
	fi
	rm -rf "$t"
fi

status=0
summary=""
# The harnesses' scratch files go here (a crash skips their own cleanup).
scratch_base=${TMPDIR:-/tmp}
[ -w /dev/shm ] && scratch_base=/dev/shm
BPFLEAK_FUZZ_TMP=$(mktemp -d "$scratch_base/bpfleak-fuzz-run.XXXXXX") || exit 1
export BPFLEAK_FUZZ_TMP
trap 'rm -rf "$BPFLEAK_FUZZ_TMP"' EXIT
for name in "$@"; do
	bin=$dir/fuzz_$name
	corpus=$dir/corpus/$name
	mkdir -p "$corpus"
	seeds=$root/fuzz/corpus/$name
	[ -d "$dir/seeds/$name" ] && seeds=$dir/seeds/$name
	case $name in
	journal) maxlen=-max_len=65536 ;;
	*) maxlen=-max_len=4096 ;;
	esac
	log=$dir/$name.log
	echo "== fuzz_$name for ${secs}s"
	# -timeout: an input that takes 10 s is a hang worth keeping.
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		$maxlen ${FUZZ_ARGS:-} -artifact_prefix="$dir/artifacts/$name-" "$corpus" "$seeds" \
		>"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	# -fork mode prints no final stats: take the last progress line's count.
	[ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -1)
	crashes=$(ls "$dir/artifacts" 2>/dev/null | grep -c "^$name-\(crash\|leak\|timeout\|oom\)")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	units=$(ls "$corpus" | wc -l)
	line="fuzz_$name: ${execs:-?} execs (budget ${secs}s), $cov, corpus $units, artifacts $crashes"
	if [ $rc -ne 0 ]; then
		status=1
		line="$line: FAILED (exit $rc; see $log)"
		grep -E 'ERROR|SUMMARY|Test unit written|==[0-9]+==' "$log" | head -20
	fi
	echo "$line"
	summary="$summary$line
"
done
echo "---- fuzz summary"
printf '%s' "$summary"
exit $status
