// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Shared run-time state of the shim and the small helpers every hook uses:
 * cached pid/tid, the monotonic clock, warnings, event construction.
 */
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpfleak/journal.h>
#include "shim.h"

_Atomic int shim_state;
struct shim_config shim_cfg = { .depth = SHIM_DEFAULT_DEPTH };
__thread int shim_guard __attribute__((tls_model("initial-exec")));
__thread int shim_internal __attribute__((tls_model("initial-exec")));

pid_t shim_cached_pid;
__thread pid_t shim_cached_tid __attribute__((tls_model("initial-exec")));

pid_t shim_pid(void)
{
	pid_t p = __atomic_load_n(&shim_cached_pid, __ATOMIC_RELAXED);
	if (!p) {
		p = getpid();
		__atomic_store_n(&shim_cached_pid, p, __ATOMIC_RELAXED);
	}
	return p;
}

pid_t shim_tid(void)
{
	if (!shim_cached_tid)
		shim_cached_tid = gettid();
	return shim_cached_tid;
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
	/* Creates start the writer; a queue a quarter full wakes it early. */
	if (ev->op == BPFLEAK_OP_CREATE || ev->op == BPFLEAK_OP_PIN)
		writer_start_if_needed();
	size_t depth = queue_depth(), cap = queue_capacity();
	if (depth > cap / 4) {
		writer_kick();
		/*
		 * Nearly full: give the CPU to the writer for a moment rather
		 * than drop events.  A yield never blocks; on an idle core it
		 * returns at once.
		 */
		if (depth > cap - cap / 4)
			sched_yield();
	}
}

