// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * `bpfleak attach [-o JOURNAL] PID`: record a process that is already
 * running (a gateway that has leaked for three days cannot be restarted
 * under LD_PRELOAD without losing the state that shows the leak), and its
 * future children, until it exits (exit 0) or bpfleak gets SIGINT/SIGTERM
 * (a live snapshot, then exit 0).  The bpf FDs it holds at attach are
 * journaled as held-before-attach ("inherited", detail "attach").
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpfleak/duration.h>
#include "journal_path.h"
#include "session.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
"Usage: %s attach [OPTION]... PID\n"
"Record the bpf FDs process PID (and its future children) creates, copies and\n"
"closes, from the kernel, until it exits or %s gets SIGINT or SIGTERM.\n"
"The FDs it holds already are journaled as held before attach.\n"
"  -o, --output JOURNAL  journal path (default: ./bpfleak.NAME.PID.db); an\n"
"                        existing file becomes JOURNAL.old\n"
"  -a, --append          append to an existing JOURNAL instead\n"
"  -d, --depth N         frames kept per stack, 1-128 (default 32)\n"
"  -c, --close-stacks    also keep the stack of every close\n"
"  -q, --quiet           no summary lines\n"
"      --ring-size BYTES the kernel ring buffer (default 64 MiB)\n"
"      --fold-age AGE    fold create/close pairs closed more than AGE ago into\n"
"                        per-minute counts (default 1h; off: never)\n"
"  -h, --help            show this help and exit\n"
"Needs root (CAP_BPF and CAP_PERFMON).  Exit status: 0 when PID exited or\n"
"tracing was stopped, 2 when PID cannot be traced here.\n",
		prog, prog);
}

static int parse_pid(const char *s, pid_t *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s || v <= 0 || v > (1 << 22))
		return -1;
	*out = (pid_t)v;
	return 0;
}

static int parse_size(const char *s, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -1;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (*end || v == 0 || v > (1ull << 30))
		return -1;
	*out = (size_t)v;
	return 0;
}

int recorder_parse_fold_age(const char *s, uint64_t *out)
{
	int64_t ns = bpfleak_parse_fold_age_ns(s);
	if (ns < 0)
		return -1;
	*out = (uint64_t)ns;
	return 0;
}

int recorder_parse_ring_size(const char *s, size_t *out)
{
	return parse_size(s, out);
}

/* Start tracing pid: row, modules, held FDs. */
static int attach_to(struct session *s, pid_t pid)
{
	struct kproc *p = procs_add(s, pid);
	if (!p)
		return -ENOMEM;
	p->origin = "attach";
	procs_read_identity(p);
	p->stack_mode = procs_stack_mode_for(s, pid);
	int rc = kernel_trace(s->k, pid, p->stack_mode);
	if (rc)
		return rc;
	uint64_t ts = now_ns();
	procs_write_row(s, p, ts);
	procs_refresh_modules(s, p, ts, false);
	snapshots_attach_scan(s, p);
	session_commit(s);
	return 0;
}

static bool target_gone(int pidfd, pid_t pid)
{
	if (pidfd >= 0) {
		struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
		return poll(&pfd, 1, 0) == 1;
	}
	return kill(pid, 0) != 0 && errno == ESRCH;
}

int recorder_attach_main(int argc, char **argv, const char *prog)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "append", no_argument, NULL, 'a' },
		{ "depth", required_argument, NULL, 'd' },
		{ "close-stacks", no_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "ring-size", required_argument, NULL, 'R' },
		{ "fold-age", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct recorder_opts o;
	recorder_opts_init(&o, prog);
	const char *output = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:ad:cqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'a':
			o.append = true;
			break;
		case 'd': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 1 || v > 128) {
				fprintf(stderr, "%s attach: --depth wants a number from 1 to 128, not '%s'\n",
					prog, optarg);
				return 2;
			}
			o.depth = (int)v;
			break;
		}
		case 'c':
			o.close_stacks = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'R':
			if (parse_size(optarg, &o.ring_bytes)) {
				fprintf(stderr, "%s attach: --ring-size wants a size in bytes (K, M), not '%s'\n",
					prog, optarg);
				return 2;
			}
			break;
		case 'F':
			if (recorder_parse_fold_age(optarg, &o.fold_age_ns)) {
				fprintf(stderr, "%s attach: --fold-age wants a duration like 1h, 30m or off, "
					"not '%s'\n", prog, optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout, prog);
			return 0;
		default:
			fprintf(stderr, "Try '%s attach --help'.\n", prog);
			return 2;
		}
	}
	pid_t pid;
	if (optind != argc - 1 || parse_pid(argv[optind], &pid)) {
		fprintf(stderr, "%s attach: %s\nTry '%s attach --help'.\n", prog,
			optind >= argc ? "no process id given"
			: optind < argc - 1 ? "one process id, please"
			: "not a process id", prog);
		return 2;
	}
	if (pid == getpid() || (kill(pid, 0) != 0 && errno == ESRCH)) {
		fprintf(stderr, "%s attach: no process %d\n", prog, (int)pid);
		return 2;
	}
	char journal[4096], err[512], cwd[3800];
	struct session s;
	if (session_open(&s, &o, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", prog, err);
		session_close(&s);
		return RECORDER_EXIT_UNSUPPORTED;
	}
	if (output) {
		if (journal_absolute(output, journal, sizeof(journal), err, sizeof(err))) {
			fprintf(stderr, "%s attach: %s\n", prog, err);
			session_close(&s);
			return 2;
		}
	} else {
		char name[256];
		journal_process_name(pid, name, sizeof(name));
		journal_default_path(getcwd(cwd, sizeof(cwd)) ? cwd : ".", name, pid, journal,
				     sizeof(journal));
	}
	if (!o.append && journal_rotate(journal, o.quiet, prog)) {
		fprintf(stderr, "%s attach: cannot move %s aside: %s\n", prog, journal, strerror(errno));
		session_close(&s);
		return 2;
	}

	if (session_open_journal(&s, journal, err, sizeof(err))) {
		fprintf(stderr, "%s attach: %s\n", prog, err);
		session_close(&s);
		return 2;
	}
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	int rc = attach_to(&s, pid);
	if (rc) {
		fprintf(stderr, "%s attach: cannot trace pid %d: %s\n", prog, (int)pid, strerror(-rc));
		session_close(&s);
		return 2;
	}
	fprintf(stderr, "%s: attached to pid %d; journal: %s\n", prog, (int)pid, journal);

	bool gone = false;
	while (!stop_signal && !gone) {
		if (session_step(&s, 10) < 0)
			break;
		gone = target_gone(pidfd, pid);
	}
	/* Its exit record (and the exit snapshot) may still be in the ring buffer. */
	session_step(&s, 0);
	session_stop_all(&s);
	session_finish(&s);
	if (!o.quiet)
		fprintf(stderr, "%s: %s; %llu events%s; journal: %s\n", prog,
			gone ? "the process exited" : "stopped", (unsigned long long)s.events,
			s.drops_written ? " (some lost)" : "", journal);
	if (pidfd >= 0)
		close(pidfd);
	session_close(&s);
	return 0;
}
