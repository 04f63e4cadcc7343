#!/bin/sh
# make sanitize: the thread test (tests/hostile/threads.sh: 16 threads,
# 100,000 operations) against a shim and host built with a sanitizer.
#
#   sh tests/hostile/sanitize.sh asan|tsan SAN_BUILD_DIR MAIN_BUILD_DIR CC
#
# What works (worked out on Debian 12, gcc 12):
#  - ASan+UBSan: shim and host both built with -fsanitize=address,undefined;
#    gcc links libasan.so into the shared shim.  The ASan runtime must come
#    first in the initial library list, and LD_PRELOAD libraries come before
#    the host's own, so LD_PRELOAD="$(gcc -print-file-name=libasan.so)
#    libbpfleak.so".  LeakSanitizer runs at exit.
#  - TSan: the same with -fsanitize=thread and libtsan.so first.  The host's
#    worker threads park instead of exiting (HOSTILE_PARK_THREADS=1):
#    libunwind's per-thread cache destructor (UNW_CACHE_PER_THREAD in the
#    shim) takes a mutex after TSan has finalized the thread and TSan
#    segfaults there -- a TSan/uninstrumented-library limitation, not a
#    shim bug.  tests/hostile/tsan.supp hides TSan's FD-lifetime reports
#    about the journal's FDs (closed past TSan's interceptor; see there).
#  - clang as CC needs -shared-libasan and the libclang_rt runtimes; the
#    Makefile uses SAN_CC=gcc by default.
# The report is the main build's (MAIN_BUILD_DIR/bpfleak-report): the
# analyzer's own ASan build is tested by its unit tests.
kind=$1 sb=$2 mb=$3 cc=$4
case $kind in
asan)
	rt=$($cc -print-file-name=libasan.so)
	export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	;;
tsan)
	rt=$($cc -print-file-name=libtsan.so)
	export TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 suppressions=$(cd "$(dirname "$0")" && pwd)/tsan.supp"
	export HOSTILE_PARK_THREADS=1
	;;
*)
	echo "usage: sanitize.sh asan|tsan SAN_BUILD_DIR MAIN_BUILD_DIR CC"
	exit 2
	;;
esac
[ -e "$rt" ] || { echo "FAIL: $kind runtime $rt not found"; exit 1; }
echo "== $kind: thread test, shim and host from $sb, runtime $rt"
BPFLEAK_BUILD=$(cd "$sb" && pwd) BPFLEAK_REPORT=$(cd "$mb" && pwd)/bpfleak-report \
BPFLEAK_PRELOAD_FIRST=$rt HOSTILE_TIMEOUT=600 sh "$(dirname "$0")/threads.sh"
rc=$?
if [ $rc -eq 0 ]; then
	echo "sanitize $kind: clean"
elif [ $rc -eq 77 ]; then
	echo "sanitize $kind: skipped"
else
	echo "sanitize $kind: FAILED"
fi
exit $rc
