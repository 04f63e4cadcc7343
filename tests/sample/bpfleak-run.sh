#!/bin/sh
# `bpfleak run` and `bpfleak report` as a user meets them, with the real
# shim but no bpf: children here are plain shell commands.
#
#  - the environment the child gets: LD_PRELOAD appended after an existing
#    value (shim by absolute path, once), BPFLEAK_JOURNAL absolute (-o
#    relative to the cwd; default ./bpfleak.COMM.PID.db with the child's
#    pid), BPFLEAK_DEPTH, BPFLEAK_CLOSE_STACKS=1, BPFLEAK_QUIET=1;
#  - options after CMD belong to CMD; `--` is optional;
#  - exit statuses: CMD's, 128+N when signal N killed it, 126/127 when it
#    cannot run or is not found, 125 for bpfleak's own errors;
#  - SIGHUP/INT/QUIT/USR1/USR2/TERM sent to bpfleak reach the child;
#  - stderr names the journal and the command that reads it (and --quiet
#    silences both bpfleak and the shim);
#  - an existing -o journal (and its -wal) is moved to .old, or kept with
#    --append;
#  - the shim is found beside bpfleak and in ../lib/bpfleak/ (a relocated
#    install); `bpfleak report` runs the bpfleak-report beside it, else the
#    one on PATH, with the same arguments;
#  - `bpfleak report -o FILE` asks for the format FILE's extension names
#    (unless --format is given) and writes FILE mode 0600 only when the
#    report completed (exit 0, 1, 3), keeping an earlier FILE otherwise;
#    `bpfleak run --report FILE` writes it from the journal when CMD exits.
set -u
. "$(dirname "$0")/lib.sh"

require_built bpfleak libbpfleak.so bpfleak-report tests/report/mkjournal
BL=$B/bpfleak
SHIM=$(realpath "$B/libbpfleak.so")
T=$(mktemp -d "${TMPDIR:-/tmp}/bpfleak-run.XXXXXX") || fail mktemp
trap 'rm -rf "$T"' EXIT
cd "$T" || fail "cd $T"

expect_rc() { # WANT GOT WHAT
	[ "$2" = "$1" ] || { cat "$T/err" 2>/dev/null; fail "$3: exit $2, expected $1"; }
}
getenv() { # NAME FILE
	sed -n "s/^$1=//p" "$2"
}

note "environment"
cc -shared -fPIC -x c -o "$T/libdummy.so" - <<'EOC' || fail "cannot build a dummy preload"
int bpfleak_test_dummy;
EOC
mkdir sub
LD_PRELOAD=$T/libdummy.so "$BL" run -o sub/j.db --depth 7 --close-stacks --quiet -- \
	sh -c 'echo "PID=$$"; env; exit 3' >env.out 2>err
expect_rc 3 $? "run sh -c 'exit 3'"
[ "$(getenv LD_PRELOAD env.out)" = "$T/libdummy.so:$SHIM" ] ||
	fail "LD_PRELOAD is '$(getenv LD_PRELOAD env.out)', expected '$T/libdummy.so:$SHIM'"
[ "$(getenv BPFLEAK_JOURNAL env.out)" = "$T/sub/j.db" ] ||
	fail "BPFLEAK_JOURNAL is '$(getenv BPFLEAK_JOURNAL env.out)', expected $T/sub/j.db"
[ "$(getenv BPFLEAK_DEPTH env.out)" = 7 ] || fail "BPFLEAK_DEPTH is not 7"
[ "$(getenv BPFLEAK_CLOSE_STACKS env.out)" = 1 ] || fail "BPFLEAK_CLOSE_STACKS is not 1"
[ "$(getenv BPFLEAK_QUIET env.out)" = 1 ] || fail "BPFLEAK_QUIET is not 1"
[ ! -s err ] || { cat err; fail "--quiet: something was printed on stderr"; }

# Nested: the shim is not added twice.  Unasked options stay unset, but
# the shim is always quiet: bpfleak names the journal itself.
env -u BPFLEAK_DEPTH -u BPFLEAK_CLOSE_STACKS -u BPFLEAK_QUIET LD_PRELOAD="$SHIM" \
	"$BL" run -o j2.db sh -c env >env2.out 2>err
expect_rc 0 $? "nested run"
[ "$(getenv LD_PRELOAD env2.out)" = "$SHIM" ] ||
	fail "nested: LD_PRELOAD is '$(getenv LD_PRELOAD env2.out)', expected '$SHIM' once"
for v in BPFLEAK_DEPTH BPFLEAK_CLOSE_STACKS; do
	! grep -q "^$v=" env2.out || fail "$v set although not asked for"
done
[ "$(getenv BPFLEAK_QUIET env2.out)" = 1 ] || fail "the shim's own journal line is not silenced"
[ "$(grep -c 'journal' err)" -le 1 ] || { cat err; fail "the journal is announced more than once"; }

note "default journal name: ./bpfleak.COMM.PID.db, PID being the child's"
env -u LD_PRELOAD "$BL" run -- sh -c 'echo "PID=$$"; env' >env3.out 2>err
expect_rc 0 $? "default journal run"
pid=$(getenv PID env3.out)
want=$T/bpfleak.sh.$pid.db
[ "$(getenv BPFLEAK_JOURNAL env3.out)" = "$want" ] ||
	fail "default journal is '$(getenv BPFLEAK_JOURNAL env3.out)', expected $want"
[ "$(getenv LD_PRELOAD env3.out)" = "$SHIM" ] || fail "LD_PRELOAD is not the shim alone"
# sh never makes a bpf FD: no journal is written, and bpfleak says so.
[ ! -e "$want" ] || fail "a journal was written for a program that made no bpf FD"
grep -q "^bpfleak: no journal at $want: the program made no bpf FD" err ||
	{ cat err; fail "stderr does not say why there is no journal at $want"; }
# COMM is the basename of argv[0], whole (the shim's program_invocation_short_name).
ln -s /bin/sh ./a-rather-long-command-name
"$BL" run -q ./a-rather-long-command-name -c 'echo "PID=$$"; env' >env4.out 2>err
expect_rc 0 $? "long name"
pid=$(getenv PID env4.out)
[ "$(getenv BPFLEAK_JOURNAL env4.out)" = "$T/bpfleak.a-rather-long-command-name.$pid.db" ] ||
	fail "long name: journal is '$(getenv BPFLEAK_JOURNAL env4.out)'"

note "options after CMD are CMD's"
"$BL" run -q -o j5.db sh -c 'echo "$1 $2"' x --depth -o >args.out 2>err
expect_rc 0 $? "run with CMD options"
[ "$(cat args.out)" = "--depth -o" ] || fail "CMD's arguments were changed: $(cat args.out)"

note "exit statuses"
"$BL" run -q -o j6.db -- sh -c 'kill -USR1 $$' 2>err
expect_rc 138 $? "child killed by SIGUSR1"
"$BL" run -o j6.db -- sh -c 'kill -TERM $$' 2>err
expect_rc 143 $? "child killed by SIGTERM"
grep -q 'killed by signal 15' err || { cat err; fail "no word of the child's death by signal"; }
"$BL" run -o j7.db -- ./no-such-command 2>err
expect_rc 127 $? "missing command"
grep -q 'cannot run ./no-such-command' err || { cat err; fail "missing command not reported"; }
printf 'x\n' >not-executable
"$BL" run -o j7.db -- ./not-executable 2>err
expect_rc 126 $? "non-executable command"
for bad in "run" "run --depth 0 true" "run --depth 129 true" "run --depth x true" "run --bogus true" "frobnicate" ""; do
	# shellcheck disable=SC2086
	"$BL" $bad >/dev/null 2>err
	expect_rc 125 $? "bpfleak $bad"
done

note "signals are forwarded"
"$BL" run -q -o j8.db -- sh -c '
	for s in HUP INT QUIT USR1 USR2; do trap "echo $s >>sigs" $s; done
	trap "echo TERM >>sigs; exit 42" TERM
	echo ready >ready
	while :; do sleep 0.05; done' 2>err &
bpid=$!
i=0
until [ -s ready ]; do
	i=$((i + 1)); [ $i -le 100 ] || fail "the child did not start"; sleep 0.1
done
n=0
for s in HUP INT QUIT USR1 USR2 TERM; do
	kill -s $s $bpid
	n=$((n + 1))
	i=0
	until [ "$(cat sigs 2>/dev/null | wc -l)" -ge $n ]; do
		i=$((i + 1)); [ $i -le 100 ] || fail "SIG$s did not reach the child"; sleep 0.1
	done
done
wait $bpid
expect_rc 42 $? "child exiting 42 on SIGTERM"
[ "$(tr '\n' ' ' <sigs)" = "HUP INT QUIT USR1 USR2 TERM " ] || fail "signals seen: $(cat sigs)"

note "an existing journal is moved aside, or appended to"
echo old >rot.db
echo oldwal >rot.db-wal
"$BL" run -o rot.db -- "$B/tests/integration/host_shim" map >/dev/null 2>err
expect_rc 0 $? "run over an existing journal"
[ -s rot.db ] || fail "a program that made a bpf FD left no journal"
[ "$(cat rot.db.old)" = old ] && [ "$(cat rot.db.old-wal)" = oldwal ] ||
	fail "rot.db / rot.db-wal were not moved to rot.db.old / rot.db.old-wal"
grep -q "rot.db existed: renamed to $T/rot.db.old" err || { cat err; fail "the move was not told"; }
cp rot.db keep.db
"$BL" run -q -a -o rot.db -- true 2>err
expect_rc 0 $? "run --append"
[ ! -e rot.db.old.old ] && [ "$(cat rot.db.old)" = old ] || fail "--append moved the journal"

# Only regular files are moved aside: never a directory or a symlink.
mkdir adir
ln -s adir alink
for o in adir alink; do
	"$BL" run -o $o -- true 2>err
	expect_rc 125 $? "run -o $o"
	grep -q "cannot move $T/$o aside: it is not a regular file" err || { cat err; fail "-o $o: wrong message"; }
	[ ! -e $o.old ] || fail "-o $o was moved aside"
done
[ -d adir ] && [ -L alink ] || fail "-o moved a directory or a symlink"

# A journal whose directory is a file, does not exist, or with no file name.
: >afile
for o in afile/j.db:"journal directory afile is not a directory" \
	 nodir/j.db:"journal directory nodir: No such file or directory" adir/:"journal must name a file"; do
	"$BL" run -o "${o%%:*}" -- true 2>err
	expect_rc 125 $? "run -o ${o%%:*}"
	grep -q "${o#*:}" err || { cat err; fail "-o ${o%%:*}: the error does not say '${o#*:}'"; }
done

note "where the shim is found"
mkdir -p inst/bin inst/lib/bpfleak bare
cp "$BL" inst/bin/bpfleak
cp "$B/libbpfleak.so" inst/lib/bpfleak/
inst/bin/bpfleak run -q -o j9.db -- sh -c 'echo "$LD_PRELOAD"' >pre.out 2>err
expect_rc 0 $? "relocated install"
[ "$(cat pre.out)" = "$T/inst/lib/bpfleak/libbpfleak.so" ] ||
	fail "relocated install preloads '$(cat pre.out)'"
cp "$BL" bare/bpfleak
bare/bpfleak run -q -o j9.db -- sh -c 'echo "$LD_PRELOAD"' >pre.out 2>err
rc=$?
case $rc in
125) grep -q 'cannot find libbpfleak.so' err || { cat err; fail "no shim: wrong message"; } ;;
0) case $(cat pre.out) in
   "$T"/*) fail "bare copy preloads '$(cat pre.out)'" ;;
   */lib/bpfleak/libbpfleak.so) note "bare copy uses the installed shim $(cat pre.out)" ;;
   *) fail "bare copy preloads '$(cat pre.out)'" ;;
   esac ;;
*) fail "bare copy: exit $rc" ;;
esac

note "bpfleak report"
mkdir fakebin
cat >fakebin/bpfleak-report <<'EOC'
#!/bin/sh
echo "fake report: $*"
exit 7
EOC
chmod +x fakebin/bpfleak-report
PATH=$T/fakebin:$PATH bare/bpfleak report --format json 'a b.db' >rep.out 2>err
expect_rc 7 $? "report through PATH"
[ "$(cat rep.out)" = "fake report: --format json a b.db" ] || fail "report got: $(cat rep.out)"
PATH=/nonexistent bare/bpfleak report x.db 2>err
expect_rc 127 $? "report with no bpfleak-report anywhere"

note "bpfleak report -o FILE"
mkdir fake2
cat >fake2/bpfleak-report <<'EOC'
#!/bin/sh
echo "fake report: $*"
exit ${FAKE_RC:-1}
EOC
chmod +x fake2/bpfleak-report
for c in r.md:markdown r.HTML:html r.htm:html r.json:json r.folded:folded r.txt:text r:text; do
	f=${c%%:*}
	PATH=$T/fake2:$PATH bare/bpfleak report -c duplicate -o "$f" x.db >rep.out 2>err
	expect_rc 1 $? "report -o $f"
	[ ! -s rep.out ] || fail "report -o $f also printed: $(cat rep.out)"
	[ "$(cat "$f")" = "fake report: --format ${c#*:} -c duplicate x.db" ] ||
		fail "report -o $f wrote: $(cat "$f")"
	[ "$(stat -c %a "$f")" = 600 ] || fail "report -o $f: mode $(stat -c %a "$f"), not 600"
done
PATH=$T/fake2:$PATH bare/bpfleak report --output=o.md --format json -n 3 x.db 2>err
expect_rc 1 $? "report --output= --format"
[ "$(cat o.md)" = "fake report: --format json -n 3 x.db" ] || fail "--format did not win: $(cat o.md)"
echo old >kept.md
for rc in 2 7; do
	FAKE_RC=$rc PATH=$T/fake2:$PATH bare/bpfleak report -o kept.md x.db 2>err
	expect_rc $rc $? "report -o with a report that exits $rc"
	[ "$(cat kept.md)" = old ] || fail "a report that exited $rc replaced the earlier one"
done
FAKE_RC=3 PATH=$T/fake2:$PATH bare/bpfleak report -o kept.md x.db 2>err
expect_rc 3 $? "report -o, exit 3"
[ "$(cat kept.md)" = "fake report: --format markdown x.db" ] || fail "exit 3: not written"
[ -z "$(ls kept.md.* 2>/dev/null)" ] || fail "temporary files left: $(ls kept.md.*)"
PATH=$T/fake2:$PATH bare/bpfleak report -o nodir/r.md x.db 2>err
expect_rc 2 $? "report -o into a missing directory"
grep -q 'cannot write nodir/r.md' err || { cat err; fail "no reason given"; }

note "bpfleak run --report FILE"
"$B/tests/report/mkjournal" multi m.db || fail mkjournal
"$BL" run --append -o m.db --report m.md -- sh -c 'exit 4' 2>err
expect_rc 4 $? "run --report: CMD's exit status"
head -1 m.md | grep -qx '### bpfleak: 1 leaking call site, 11 FDs' ||
	{ head -3 m.md; fail "run --report m.md wrote no markdown report"; }
grep -q "bpfleak: report: m.md (leaks found)" err || { cat err; fail "run --report did not say so"; }
"$BL" run -q -o none.db --report none.html -- true 2>err
expect_rc 0 $? "run --report without a journal"
[ ! -e none.html ] || fail "a report without a journal"
[ ! -s err ] || { cat err; fail "--quiet: something was printed"; }
: >empty.db
"$BL" run --append -o empty.db --report e.md -- true 2>err
expect_rc 0 $? "run --report with an unreadable journal"
[ ! -e e.md ] || fail "a failed report was written"
grep -q 'the report of .*empty.db failed (exit status 2): e.md not written' err ||
	{ cat err; fail "the failed report is not reported"; }
if [ -x "$B/bpfleak-report" ]; then
	# In-tree: the one beside bpfleak wins over PATH.
	PATH=$T/fakebin:$PATH "$BL" report --version >rep.out 2>&1
	rc=$?
	"$B/bpfleak-report" --version >rep.want 2>&1
	expect_rc $? $rc "bpfleak report --version"
	cmp -s rep.out rep.want || fail "bpfleak report did not run $B/bpfleak-report"
else
	fail "$B/bpfleak-report is missing (run make)"
fi
echo "ok: bpfleak run/report behave as documented"
