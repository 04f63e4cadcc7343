// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Start-up, configuration, fork handling and exit of the shim.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <bpfleak/journal.h>
#include "shim.h"

_Atomic int shim_state;
struct shim_config shim_cfg = { .depth = SHIM_DEFAULT_DEPTH };
__thread int shim_guard __attribute__((tls_model("initial-exec")));

static pid_t cached_pid;
static __thread pid_t cached_tid __attribute__((tls_model("initial-exec")));

pid_t shim_pid(void)
{
	pid_t p = __atomic_load_n(&cached_pid, __ATOMIC_RELAXED);
	if (!p) {
		p = getpid();
		__atomic_store_n(&cached_pid, p, __ATOMIC_RELAXED);
	}
	return p;
}

pid_t shim_tid(void)
{
	if (!cached_tid)
		cached_tid = gettid();
	return cached_tid;
}

uint64_t shim_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void shim_warn(const char *fmt, ...)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "bpfleak[%d]: ", (int)getpid());
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	buf[len++] = '\n';
	shim_guard++;
	ssize_t w = write(STDERR_FILENO, buf, len);
	(void)w;
	shim_guard--;
}

void shim_fail(const char *why)
{
	int expected = SHIM_ACTIVE;
	if (atomic_compare_exchange_strong(&shim_state, &expected, SHIM_DISABLED) ||
	    expected == SHIM_UNINIT) {
		atomic_store(&shim_state, SHIM_DISABLED);
		shim_warn("not recording (%s); the program runs unaffected", why);
	}
}

void event_init(struct shim_event *ev, int op, uint64_t ts_ns)
{
	memset(ev, 0, sizeof(*ev));
	ev->op = (uint8_t)op;
	ev->ts_ns = ts_ns;
	ev->pid = shim_pid();
	ev->tid = shim_tid();
	ev->cmd = -1;
}

void event_submit(const struct shim_event *ev)
{
	queue_push(ev);
	/* Creates start the writer; a queue past half full wakes it early. */
	if (ev->op == BPFLEAK_OP_CREATE || ev->op == BPFLEAK_OP_PIN)
		writer_start_if_needed();
	if (queue_depth() > queue_capacity() / 2)
		writer_kick();
}

static void default_journal(char *out, size_t cap)
{
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), ".");
	if (snprintf(out, cap, "%s/bpfleak.%s.%d.db", cwd, program_invocation_short_name,
		     (int)getpid()) >= (int)cap)
		snprintf(out, cap, "/tmp/bpfleak.%d.db", (int)getpid());
}

static void load_config(void)
{
	const char *j = getenv("BPFLEAK_JOURNAL");
	if (j && j[0] == '/') {
		snprintf(shim_cfg.journal, sizeof(shim_cfg.journal), "%s", j);
	} else if (j && j[0]) {
		/* Relative: anchor it now so a later chdir does not split the journal. */
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd)))
			snprintf(cwd, sizeof(cwd), ".");
		if (snprintf(shim_cfg.journal, sizeof(shim_cfg.journal), "%s/%s", cwd, j) >=
		    (int)sizeof(shim_cfg.journal))
			shim_cfg.journal[0] = '\0';   /* too long: refused in journal_check_path */
	} else {
		default_journal(shim_cfg.journal, sizeof(shim_cfg.journal));
	}
	/* Children and exec'd images append to the same journal. */
	setenv("BPFLEAK_JOURNAL", shim_cfg.journal, 1);

	const char *d = getenv("BPFLEAK_DEPTH");
	if (d && *d) {
		long v = strtol(d, NULL, 10);
		shim_cfg.depth = v < 1 ? 1 : v > SHIM_MAX_DEPTH ? SHIM_MAX_DEPTH : (int)v;
	}
	const char *c = getenv("BPFLEAK_CLOSE_STACKS");
	shim_cfg.close_stacks = c && *c && strcmp(c, "0") != 0;
	const char *q = getenv("BPFLEAK_QUIET");
	shim_cfg.quiet = q && *q && strcmp(q, "0") != 0;
}

static void on_fork_prepare(void)
{
	if (atomic_load(&shim_state) == SHIM_ACTIVE)
		writer_fork_prepare();
}

static void on_fork_parent(void)
{
	if (atomic_load(&shim_state) == SHIM_ACTIVE)
		writer_fork_parent();
}

static void on_fork_child(void)
{
	pid_t parent = cached_pid;
	cached_pid = 0;
	cached_tid = 0;
	arena_after_fork_child();
	if (atomic_load(&shim_state) != SHIM_ACTIVE)
		return;
	queue_after_fork_child();
	modules_after_fork_child();
	writer_fork_child();
	hooks_record_fork_child(parent);
}

__attribute__((constructor)) static void shim_init(void)
{
	real_resolve();
	if (!real.syscall || !real.close || !real.dup) {
		shim_fail("cannot find libc's functions");
		return;
	}
	shim_guard++;
	load_config();
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	if (!queue_init(16384)) {
		shim_guard--;
		shim_fail("out of memory for the event queue");
		return;
	}
	if (!journal_check_path(shim_cfg.journal)) {
		shim_guard--;
		atomic_store(&shim_state, SHIM_DISABLED);
		return;   /* journal_check_path said why */
	}
	pthread_atfork(on_fork_prepare, on_fork_parent, on_fork_child);
	modules_refresh();
	atomic_store(&shim_state, SHIM_ACTIVE);
	shim_guard--;
	hooks_record_inherited("start");
}

__attribute__((destructor)) static void shim_fini(void)
{
	if (atomic_load(&shim_state) != SHIM_ACTIVE || getpid() != shim_pid())
		return;
	shim_guard++;
	journal_finish(0, false);
	atomic_store(&shim_state, SHIM_DONE);
	shim_guard--;
}
