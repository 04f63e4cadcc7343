#!/bin/sh
# A process that never touches bpf pays (almost) nothing and leaves no trace
# (issue 9 item 16, issue 11 goal 1): no file anywhere, no thread, no FD of
# the shim's, no line on stderr, and none of what recording needs mapped
# (libunwind, the journal writer with sqlite: loaded on the first bpf FD).
. "$(dirname "$0")/lib.sh"
trust_setup

mkdir -p "$T/cwd"
(cd "$T/cwd" && LD_PRELOAD=$SHIM /bin/true 2>"$T/err") || problem "/bin/true failed under the shim"
[ -z "$(ls -A "$T/cwd")" ] || problem "/bin/true left files: $(ls -A "$T/cwd")"
[ -s "$T/err" ] && problem "/bin/true under the shim wrote to stderr: $(cat "$T/err")"

# fdlist [PRELOAD]: the FDs and threads of `sleep` run with that preload.
fdlist() {
	(cd "$T/cwd" && LD_PRELOAD=$1 exec sleep 1) &
	p=$!
	sleep 0.3
	echo "threads $(ls /proc/$p/task | wc -l)"
	ls /proc/$p/fd | sort -n | tr '\n' ' '
	echo
	grep -o 'libunwind[^ ]*\|libbpfleak-journal[^ ]*\|libsqlite[^ ]*\|liblzma[^ ]*' /proc/$p/maps | sort -u
	wait $p
}
fdlist "" >"$T/plain.fds"
fdlist "$SHIM" >"$T/shim.fds"
cmp -s "$T/plain.fds" "$T/shim.fds" ||
	problem "a process that never used bpf differs under the shim (threads, FDs, libraries mapped): $(tr '\n' ' ' <"$T/shim.fds") vs $(tr '\n' ' ' <"$T/plain.fds")"
[ -z "$(ls -A "$T/cwd")" ] || problem "sleep left files: $(ls -A "$T/cwd")"
exit $status
