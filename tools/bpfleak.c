// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * bpfleak: the front end.
 *
 *   bpfleak run [-o JOURNAL] [--depth N] [--close-stacks] [--quiet]
 *               [--append] [--tracer=auto|preload|kernel] [--report FILE]
 *               [--] CMD ARGS...
 *   bpfleak attach [-o JOURNAL] PID (the kernel recorder, recorder/)
 *   bpfleak report [-o FILE] ARGS...  (runs bpfleak-report)
 *
 * `run` finds libbpfleak.so, puts it in LD_PRELOAD (after whatever is there
 * already), points the shim at an absolute journal path, runs CMD as its
 * child, forwards the usual termination and control signals to it, and
 * returns its exit status (128+N if it was killed by signal N).  It is a
 * thin, single-threaded wrapper: everything is recorded by the shim inside
 * CMD; bpfleak itself makes no bpf() call.  With the kernel recorder
 * (--tracer=kernel, chosen by auto for static and Go binaries, and
 * `attach`) the recording is done here instead, by recorder/.
 *
 * Exit statuses of bpfleak's own failures follow timeout(1) and env(1):
 * 125 bpfleak failed (bad usage, no shim, unusable journal path), 126 CMD
 * was found but could not be run, 127 CMD was not found.
 *
 * `report` and `run --report FILE` are in report_cmd.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "journal_path.h"
#include "kernel_recorder.h"
#include "front.h"

#ifndef BPFLEAK_VERSION
#define BPFLEAK_VERSION "0"
#endif
/* $(PREFIX)/lib/bpfleak, given by tools/build.mk. */
#ifndef BPFLEAK_LIBDIR
#define BPFLEAK_LIBDIR "/usr/local/lib/bpfleak"
#endif

/* The shim caps BPFLEAK_DEPTH at 128 frames (SHIM_MAX_DEPTH). */
#define DEPTH_MAX 128

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
static volatile pid_t child_pid;
const char *prog = "bpfleak";

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s run [OPTION]... [--] CMD [ARG]...\n"
"       %s attach [OPTION]... PID\n"
"       %s report [REPORT-OPTION]... JOURNAL\n"
"Find leaked eBPF file descriptors and the code that made them.\n"
"\n"
"run: record every bpf FD that CMD creates, duplicates and closes, with the\n"
"call stack, into a journal (LD_PRELOAD=" SHIM_NAME ").\n"
"  -o, --output JOURNAL  journal path (default: ./bpfleak.NAME.PID.db, NAME and\n"
"                        PID being CMD's); an existing file becomes JOURNAL.old\n"
"  -a, --append          append to an existing JOURNAL instead\n"
"  -d, --depth N         frames kept per stack, 1-128 (BPFLEAK_DEPTH; default 32)\n"
"  -c, --close-stacks    also keep the stack of every close (BPFLEAK_CLOSE_STACKS)\n"
"  -q, --quiet           no summary lines from bpfleak or the shim (BPFLEAK_QUIET)\n"
"  -t, --tracer WHICH    auto (default): the kernel recorder for static and Go\n"
"                        binaries, the shim otherwise; preload; kernel (root)\n"
"      --ring-size BYTES kernel recorder: its ring buffer (default 64M)\n"
"      --fold-age AGE    fold create/close pairs closed more than AGE ago into\n"
"                        per-minute counts (BPFLEAK_FOLD_AGE; default 1h; off)\n"
"      --report FILE     when CMD exits, write the report of its journal to FILE,\n"
"                        in the format its extension names (as report -o)\n"
"\n"
"attach: record process PID from the kernel until it exits; see\n"
"%s attach --help.\n"
"\n"
"report: run " REPORT_NAME " (found beside bpfleak, else on PATH) with the same\n"
"arguments; see " REPORT_NAME " --help.\n"
"  -o, --output FILE     write the report to FILE (mode 0600, complete or not at\n"
"                        all), in the format its extension names: .md markdown,\n"
"                        .html, .json, .folded; text otherwise (a format\n"
"                        option among ARGS wins)\n"
"\n"
"  -h, --help            show this help and exit\n"
"  -V, --version         show the version and exit\n"
"\n"
"SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to bpfleak are\n"
"forwarded to CMD.  Exit status: CMD's, or 128+N if a signal N killed it;\n"
"125 if bpfleak failed, 126 if CMD could not run, 127 if it was not found.\n"
"The shim is looked up beside bpfleak, in ../lib/bpfleak/ from it, then in\n"
BPFLEAK_LIBDIR "/.\n",
		prog, prog, prog, prog);
}

void die(int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* Directory of this executable, from /proc/self/exe ("" if unknown). */
void self_dir(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	char *slash;

	if (n <= 0) {
		buf[0] = '\0';
		return;
	}
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
	else
		buf[0] = '\0';
}

bool is_file(const char *path, int mode)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, mode) == 0;
}

/* The shim: in-tree (build/ holds both), a relocated install, the install. */
static int find_shim(char *out, size_t len)
{
	char dir[PATH_MAX - 64], cand[PATH_MAX], tried[3 * PATH_MAX + 16];
	const char *fmt[] = { "%s/" SHIM_NAME, "%s/../lib/bpfleak/" SHIM_NAME };
	size_t used = 0;

	tried[0] = '\0';
	self_dir(dir, sizeof(dir));
	for (size_t i = 0; i <= 2; i++) {
		if (i < 2) {
			if (!dir[0])
				continue;
			snprintf(cand, sizeof(cand), fmt[i], dir);
		} else {
			snprintf(cand, sizeof(cand), "%s", BPFLEAK_LIBDIR "/" SHIM_NAME);
		}
		if (is_file(cand, R_OK)) {
			if (!realpath(cand, out))
				snprintf(out, len, "%s", cand);
			return 0;
		}
		used += (size_t)snprintf(tried + used, sizeof(tried) - used, "%s%s",
					 used ? ", " : "", cand);
		if (used >= sizeof(tried))
			used = sizeof(tried) - 1;
	}
	fprintf(stderr, "%s: cannot find %s (looked at %s)\n", prog, SHIM_NAME, tried);
	return -1;
}

static int setenv_append_preload(const char *shim)
{
	const char *cur = getenv("LD_PRELOAD");
	char *val;
	int rc;

	if (!cur || !*cur)
		return setenv("LD_PRELOAD", shim, 1);
	/* Already there (a nested bpfleak run): loading it twice would record
	 * nothing more. */
	{
		size_t n = strlen(shim);
		const char *p = cur;

		while ((p = strstr(p, shim))) {
			if ((p == cur || p[-1] == ':' || p[-1] == ' ') &&
			    (p[n] == '\0' || p[n] == ':' || p[n] == ' '))
				return 0;
			p += n;
		}
	}
	if (asprintf(&val, "%s:%s", cur, shim) < 0)
		return -1;
	rc = setenv("LD_PRELOAD", val, 1);
	free(val);
	return rc;
}

static void forward(int sig, siginfo_t *si, void *uc)
{
	pid_t pid = child_pid;
	int saved = errno;

	(void)uc;
	if (pid <= 0)
		return;
	/* A signal the terminal sent to the whole foreground process group
	 * (^C, ^\) has reached the child already: do not deliver it twice. */
	if (si && si->si_code == SI_KERNEL && getpgid(pid) == getpgrp())
		goto out;
	kill(pid, sig);
out:
	errno = saved;
}

/* Single-quote S for a shell if it needs it. */
static void print_quoted(FILE *f, const char *s)
{
	if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789/._-+,:@=%") == strlen(s)) {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

static int cmd_run(int argc, char **argv, const char *argv0)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "append", no_argument, NULL, 'a' },
		{ "depth", required_argument, NULL, 'd' },
		{ "close-stacks", no_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "tracer", required_argument, NULL, 't' },
		{ "ring-size", required_argument, NULL, 'R' },
		{ "fold-age", required_argument, NULL, 'F' },
		{ "report", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct recorder_opts kopts;
	enum tracer tracer = TRACER_AUTO;
	char shim[PATH_MAX], journal[PATH_MAX], cwd[PATH_MAX - 64];
	const char *output = NULL, *depth = NULL, *report = NULL, *fold_age = NULL;
	bool append = false, close_stacks = false, quiet = false;
	struct sigaction sa;
	sigset_t block, old;
	int c, errpipe[2], child_errno, status;
	ssize_t n;
	pid_t pid;

	recorder_opts_init(&kopts, prog);
	optind = 1;
	/* '+': stop at CMD, so CMD's own options are left alone. */
	while ((c = getopt_long(argc, argv, "+o:ad:cqt:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'a':
			append = true;
			break;
		case 'd': {
			char *end;
			long v;

			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 1 || v > DEPTH_MAX)
				die(EXIT_FAIL, "--depth wants a number from 1 to %d, not '%s'",
				    DEPTH_MAX, optarg);
			depth = optarg;
			break;
		}
		case 'c':
			close_stacks = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 't':
			if (tracer_parse(optarg, &tracer))
				die(EXIT_FAIL, "--tracer wants auto, preload or kernel, not '%s'", optarg);
			break;
		case 'R':
			if (recorder_parse_ring_size(optarg, &kopts.ring_bytes))
				die(EXIT_FAIL, "--ring-size wants a size in bytes (K, M), not '%s'", optarg);
			break;
		case 'F':
			if (recorder_parse_fold_age(optarg, &kopts.fold_age_ns))
				die(EXIT_FAIL, "--fold-age wants a duration like 1h, 30m or off, not '%s'",
				    optarg);
			fold_age = optarg;
			break;
		case 'r':
			if (!*optarg)
				die(EXIT_FAIL, "--report wants a file name");
			report = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("bpfleak %s\n", BPFLEAK_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try '%s --help'.\n", prog);
			return EXIT_FAIL;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s run: no command given\nTry '%s --help'.\n", prog, prog);
		return EXIT_FAIL;
	}
	argv += optind;

	if (tracer == TRACER_AUTO) {
		char why[128];
		tracer = tracer_choose(argv[0], why, sizeof(why));
		if (!quiet)
			fprintf(stderr, "%s: tracer: %s (%s)\n", prog,
				tracer == TRACER_KERNEL ? "kernel" : "preload", why);
	}
	if (tracer != TRACER_KERNEL && find_shim(shim, sizeof(shim)))
		return EXIT_FAIL;
	if (!getcwd(cwd, sizeof(cwd)))
		die(EXIT_FAIL, "getcwd: %s", strerror(errno));
	if (tracer == TRACER_KERNEL) {
		kopts.journal = output;
		kopts.cwd = cwd;
		kopts.append = append;
		kopts.quiet = quiet;
		kopts.close_stacks = close_stacks;
		kopts.depth = depth ? atoi(depth) : 32;
		kopts.journal_used = journal;
		kopts.journal_used_cap = sizeof(journal);
		journal[0] = '\0';
		int rc = recorder_run(&kopts, argv);
		if (report && journal[0])
			report_after_run(journal, report, quiet);
		return rc;
	}
	if (output) {
		char why[PATH_MAX + 64];
		if (journal_absolute(output, journal, sizeof(journal), why, sizeof(why)))
			die(EXIT_FAIL, "%s", why);
		if (!append && journal_rotate(journal, quiet, prog))
			die(EXIT_FAIL, "cannot move %s aside: %s", journal,
			    errno == EEXIST ? "it is not a regular file" : strerror(errno));
	}

	if (setenv_append_preload(shim) ||
	    (depth && setenv("BPFLEAK_DEPTH", depth, 1)) ||
	    (close_stacks && setenv("BPFLEAK_CLOSE_STACKS", "1", 1)) ||
	    (fold_age && setenv("BPFLEAK_FOLD_AGE", fold_age, 1)) ||
	    /* bpfleak announces the journal itself: the shim's own line would repeat it. */
	    setenv("BPFLEAK_QUIET", "1", 1) ||
	    (output && setenv("BPFLEAK_JOURNAL", journal, 1)))
		die(EXIT_FAIL, "setenv: %s", strerror(errno));

	/* Forwarding handlers go in before the fork, with the signals blocked
	 * until child_pid is known; the child restores everything. */
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&block, forwarded[i]);
	sigprocmask(SIG_BLOCK, &block, &old);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = forward;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &sa, NULL);

	if (pipe2(errpipe, O_CLOEXEC))
		die(EXIT_FAIL, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die(EXIT_FAIL, "fork: %s", strerror(errno));
	if (pid == 0) {
		int e;

		close(errpipe[0]);
		sa.sa_handler = SIG_DFL;
		sa.sa_flags = 0;
		sigemptyset(&sa.sa_mask);
		for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
			sigaction(forwarded[i], &sa, NULL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (!output) {
			journal_default_path(cwd, argv[0], getpid(), journal, sizeof(journal));
			if ((!append && journal_rotate(journal, true, prog)) ||
			    setenv("BPFLEAK_JOURNAL", journal, 1))
				e = errno;
			else
				e = 0;
			if (e) {
				(void)!write(errpipe[1], &e, sizeof(e));
				_exit(EXIT_FAIL);
			}
		}
		execvp(argv[0], argv);
		e = errno;
		(void)!write(errpipe[1], &e, sizeof(e));
		_exit(e == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN);
	}
	child_pid = pid;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(errpipe[1]);
	if (!output)
		journal_default_path(cwd, argv[0], pid, journal, sizeof(journal));

	do
		n = read(errpipe[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	close(errpipe[0]);

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			die(EXIT_FAIL, "waitpid: %s", strerror(errno));
	}
	child_pid = 0;

	if (n == (ssize_t)sizeof(child_errno)) {
		/* exec (or the journal set-up before it) failed: nothing ran. */
		fprintf(stderr, "%s: cannot run %s: %s\n", prog, argv[0], strerror(child_errno));
		return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_FAIL;
	}

	if (!quiet) {
		struct stat st;

		if (WIFSIGNALED(status))
			fprintf(stderr, "%s: %s (pid %d) was killed by signal %d (%s)%s\n", prog,
				argv[0], (int)pid, WTERMSIG(status), strsignal(WTERMSIG(status)),
				WCOREDUMP(status) ? ", core dumped" : "");
		if (stat(journal, &st) == 0) {
			fprintf(stderr, "%s: journal: %s\n%s: read it with: ", prog, journal, prog);
			print_quoted(stderr, strchr(argv0, '/') ? argv0 : "bpfleak");
			fputs(" report ", stderr);
			print_quoted(stderr, journal);
			fputc('\n', stderr);
		} else {
			fprintf(stderr,
				"%s: no journal at %s: the program made no bpf FD the shim could"
				" see (static binaries and programs that bypass libc, such as Go,"
				" escape it)\n", prog, journal);
		}
	}
	if (report)
		report_after_run(journal, report, quiet);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_FAIL;
}

int main(int argc, char **argv)
{
	const char *argv0 = argv[0] ? argv[0] : "bpfleak";
	const char *slash = strrchr(argv0, '/');

	prog = slash ? slash + 1 : argv0;
	if (argc < 2) {
		usage(stderr);
		return EXIT_FAIL;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1, argv0);
	if (!strcmp(argv[1], "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(argv[1], "attach"))
		return recorder_attach_main(argc - 1, argv + 1, prog);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("bpfleak %s\n", BPFLEAK_VERSION);
		return 0;
	}
	fprintf(stderr, "%s: unknown command '%s' (run, attach or report)\nTry '%s --help'.\n", prog,
		argv[1], prog);
	return EXIT_FAIL;
}
