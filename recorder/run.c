// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * `bpfleak run --tracer=kernel -- CMD...`: CMD traced from its first
 * instruction.  The child is forked and held on a pipe until its pid is in
 * the kernel's traced set; only then does it exec, so nothing CMD does
 * escapes the recorder.  Signals are forwarded as `bpfleak run` does for the
 * shim; the run ends when CMD exits (its descendants still running then get
 * a live snapshot).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "journal_path.h"
#include "session.h"

#define EXIT_FAIL 125
#define EXIT_CANNOT_RUN 126
#define EXIT_NOT_FOUND 127

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
#define N_FORWARDED (sizeof(forwarded) / sizeof(forwarded[0]))
static volatile pid_t child_pid;

static void forward(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int saved = errno;
	pid_t pid = child_pid;
	/* A signal the terminal sent to the foreground group reached the child already. */
	if (pid > 0 && !(si && si->si_code == SI_KERNEL && getpgid(pid) == getpgrp()))
		kill(pid, sig);
	errno = saved;
}

static void set_handlers(bool forwarding)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	if (forwarding) {
		sa.sa_sigaction = forward;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		sigfillset(&sa.sa_mask);
	} else {
		sa.sa_handler = SIG_DFL;
	}
	for (size_t i = 0; i < N_FORWARDED; i++)
		sigaction(forwarded[i], &sa, NULL);
}

/* The child: wait for the go-ahead, then become CMD. */
static void __attribute__((noreturn)) child_main(int gate, int errfd, const sigset_t *old,
						 char *const argv[])
{
	set_handlers(false);
	sigprocmask(SIG_SETMASK, old, NULL);
	char go = 0;
	ssize_t n;
	do
		n = read(gate, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1 || go != 'g')
		_exit(EXIT_FAIL);   /* the recorder gave up */
	close(gate);
	execvp(argv[0], argv);
	int e = errno;
	(void)!write(errfd, &e, sizeof(e));
	_exit(e == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN);
}

static void summary(const struct session *s, const char *cmd, pid_t pid, int status)
{
	const char *prog = s->opts.prog;
	if (WIFSIGNALED(status))
		fprintf(stderr, "%s: %s (pid %d) was killed by signal %d (%s)\n", prog, cmd, (int)pid,
			WTERMSIG(status), strsignal(WTERMSIG(status)));
	fprintf(stderr, "%s: %llu events (kernel recorder", prog, (unsigned long long)s->events);
	if (s->drops_written)
		fprintf(stderr, ", %llu lost", (unsigned long long)s->drops_written);
	if (s->unwind_failed)
		fprintf(stderr, ", %llu stacks by frame pointers only",
			(unsigned long long)s->unwind_failed);
	if (s->finalized)
		fprintf(stderr, ", %llu closes by Go GC finalizers", (unsigned long long)s->finalized);
	fprintf(stderr, ")\n%s: journal: %s\n%s: read it with: %s report %s\n", prog,
		s->journal_path, prog, prog, s->journal_path);
}

int recorder_run(const struct recorder_opts *o, char *const argv[])
{
	struct session s;
	char err[512];
	if (session_open(&s, o, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", o->prog, err);
		session_close(&s);
		return RECORDER_EXIT_UNSUPPORTED;
	}
	char journal[4096];
	if (o->journal && journal_absolute(o->journal, journal, sizeof(journal), err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", o->prog, err);
		session_close(&s);
		return EXIT_FAIL;
	}
	if (o->journal && !o->append && journal_rotate(journal, o->quiet, o->prog)) {
		fprintf(stderr, "%s: cannot move %s aside: %s\n", o->prog, journal,
			errno == EEXIST ? "it is not a regular file" : strerror(errno));
		session_close(&s);
		return EXIT_FAIL;
	}
	sigset_t block, old;
	sigemptyset(&block);
	for (size_t i = 0; i < N_FORWARDED; i++)
		sigaddset(&block, forwarded[i]);
	sigprocmask(SIG_BLOCK, &block, &old);
	set_handlers(true);

	int gate[2], errpipe[2];
	if (pipe2(gate, O_CLOEXEC) || pipe2(errpipe, O_CLOEXEC)) {
		fprintf(stderr, "%s: pipe: %s\n", o->prog, strerror(errno));
		session_close(&s);
		return EXIT_FAIL;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", o->prog, strerror(errno));
		session_close(&s);
		return EXIT_FAIL;
	}
	if (pid == 0) {
		close(gate[1]);
		close(errpipe[0]);
		child_main(gate[0], errpipe[1], &old, argv);
	}
	close(gate[0]);
	close(errpipe[1]);
	child_pid = pid;
	sigprocmask(SIG_SETMASK, &old, NULL);

	if (!o->journal) {
		journal_default_path(o->cwd ? o->cwd : ".", argv[0], pid, journal, sizeof(journal));
		if (!o->append)
			journal_rotate(journal, o->quiet, o->prog);
	}
	if (o->journal_used)
		snprintf(o->journal_used, o->journal_used_cap, "%s", journal);
	struct kproc *p = NULL;
	if (session_open_journal(&s, journal, err, sizeof(err)) == 0 && (p = procs_add(&s, pid))) {
		p->awaiting_start = true;
		p->ppid = getpid();
		/* Settled at its exec record (Go: frame pointers only). */
		p->stack_mode = STACK_ALWAYS_COPY;
	}
	if (!p || kernel_trace(s.k, pid, p->stack_mode) != 0) {
		if (p)
			snprintf(err, sizeof(err), "cannot trace pid %d", (int)pid);
		fprintf(stderr, "%s: %s\n", o->prog, err);
		close(gate[1]);   /* the child sees EOF and leaves */
		waitpid(pid, NULL, 0);
		session_close(&s);
		return EXIT_FAIL;
	}
	(void)!write(gate[1], "g", 1);
	close(gate[1]);

	int child_errno = 0, status = 0;
	ssize_t n;
	do
		n = read(errpipe[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	close(errpipe[0]);
	if (n == (ssize_t)sizeof(child_errno)) {
		waitpid(pid, &status, 0);
		child_pid = 0;
		fprintf(stderr, "%s: cannot run %s: %s\n", o->prog, argv[0], strerror(child_errno));
		session_close(&s);
		return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_FAIL;
	}

	for (;;) {
		if (session_step(&s, 10) < 0)
			break;
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid || (w < 0 && errno == ECHILD)) {
			/* Its exit record is in the ring buffer already: read it. */
			session_step(&s, 0);
			break;
		}
	}
	child_pid = 0;
	set_handlers(false);
	session_stop_all(&s);
	session_finish(&s);
	if (!o->quiet)
		summary(&s, argv[0], pid, status);
	session_close(&s);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_FAIL;
}

void recorder_opts_init(struct recorder_opts *o, const char *prog)
{
	memset(o, 0, sizeof(*o));
	o->depth = 32;
	o->ring_bytes = 64u << 20;
	o->fold_age_ns = RECORDER_DEFAULT_FOLD_AGE_NS;
	o->prog = prog;
}
