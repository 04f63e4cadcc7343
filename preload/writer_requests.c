// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Requests to the writer thread from the host's threads: flush, exit,
 * _exit, "main() is gone".  A request is a ticket; the asking thread waits
 * on a futex until the writer has written up to it, with a time limit, so
 * this is safe from a signal handler and can never hang the host.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include "shim.h"
#include "writer_requests.h"

static _Atomic uint32_t kick_word;
/* Requests are tickets: done_seq reaches a ticket once its drain is written. */
static _Atomic uint32_t req_seq, done_seq;
static _Atomic int exit_req;          /* 0, 1 exit, 2 _exit */
static _Atomic int exit_status_known;
static _Atomic int exit_status;
static _Atomic int main_exited;
/* Moves while the writer gets somewhere (a batch, a wait for another
 * process's lock): exit paths wait for a writer that makes progress. */
static _Atomic uint32_t progress;
/* bpfleak-report --pid asks for a flush by touching JOURNAL-flush. */
static struct timespec flush_req_seen;

static long futex(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *ts)
{
	return raw_syscall(SYS_futex, (long)word, op, val, (long)ts, 0, 0);
}

void writer_kick(void)
{
	uint32_t expected = 0;
	if (atomic_compare_exchange_strong(&kick_word, &expected, 1))
		futex(&kick_word, FUTEX_WAKE_PRIVATE, 1, NULL);
}

void requests_wait(long ns)
{
	struct timespec ts = { 0, ns };
	futex(&kick_word, FUTEX_WAIT_PRIVATE, 0, &ts);
	atomic_store(&kick_word, 0);
}

void writer_progress(void)
{
	atomic_fetch_add_explicit(&progress, 1, memory_order_relaxed);
}

uint32_t requests_taken(void)
{
	return atomic_load(&req_seq);
}

void requests_done(uint32_t tickets)
{
	atomic_store(&done_seq, tickets);
	futex(&done_seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
}

int requests_exit_kind(void)
{
	return atomic_load(&exit_req);
}

bool requests_exit_status(int *status)
{
	*status = atomic_load(&exit_status);
	return atomic_load(&exit_status_known) != 0;
}

bool requests_main_exited(void)
{
	return atomic_load(&main_exited) != 0;
}

bool requests_flush_file_touched(void)
{
	char path[sizeof(shim_cfg.journal) + 8];
	snprintf(path, sizeof(path), "%s-flush", shim_cfg.journal);
	struct stat st;
	if (stat(path, &st) != 0)
		return false;
	if (st.st_mtim.tv_sec == flush_req_seen.tv_sec && st.st_mtim.tv_nsec == flush_req_seen.tv_nsec)
		return false;
	flush_req_seen = st.st_mtim;
	return true;
}

void requests_after_fork_child(void)
{
	atomic_store(&kick_word, 0);
	atomic_store(&req_seq, 0);
	atomic_store(&done_seq, 0);
	atomic_store(&exit_req, 0);
	atomic_store(&exit_status_known, 0);
	atomic_store(&main_exited, 0);
	flush_req_seen = (struct timespec){ 0, 0 };
}

/*
 * Ask, then wait until the writer has done it.  timeout_ns is how long a
 * writer may show no progress at all (a deadlock, say, on a lock the
 * interrupted host thread holds); a writer that is busy -- waiting its turn
 * on a journal other processes share, or for a CPU -- is given up to
 * REQUEST_MAX_NS.
 */
#define REQUEST_MAX_NS (10 * 1000000000l)
#define REQUEST_SLICE_NS (10 * 1000000l)

static long since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000000000l + (now.tv_nsec - t0->tv_nsec);
}

/*
 * Is the writer thread waiting to run (state R)?  Then it is not stuck,
 * only starved of CPU by the host's own threads.  Read with plain system
 * calls into a stack buffer: this runs in exit paths, maybe in a handler.
 */
static bool writer_runnable(void)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)writer_tid());
	int fd = (int)raw_syscall(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_CLOEXEC, 0, 0, 0);
	if (fd < 0)
		return false;
	long n = raw_syscall(SYS_read, fd, (long)buf, sizeof(buf) - 1, 0, 0, 0);
	raw_syscall(SYS_close, fd, 0, 0, 0, 0, 0);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'R';
}

static bool request(int exit_kind, long timeout_ns)
{
	if (!writer_running() || writer_is_self())
		return false;
	uint32_t ticket = atomic_fetch_add(&req_seq, 1) + 1;
	if (exit_kind)
		atomic_store(&exit_req, exit_kind);
	writer_kick();
	struct timespec start, quiet_since;
	clock_gettime(CLOCK_MONOTONIC, &start);
	quiet_since = start;
	uint32_t seen = atomic_load(&progress);
	for (;;) {
		uint32_t done = atomic_load(&done_seq);
		if ((int32_t)(done - ticket) >= 0)
			return true;
		uint32_t now_progress = atomic_load(&progress);
		/* Waiting for the tree's turn at the journal, or for a CPU, is not stuck. */
		if (now_progress != seen ||
		    (since(&quiet_since) >= timeout_ns && (journal_turn_waiting() || writer_runnable()))) {
			seen = now_progress;
			clock_gettime(CLOCK_MONOTONIC, &quiet_since);
		}
		if (since(&quiet_since) >= timeout_ns || since(&start) >= REQUEST_MAX_NS)
			return false;
		struct timespec ts = { 0, REQUEST_SLICE_NS };
		futex(&done_seq, FUTEX_WAIT_PRIVATE, done, &ts);
	}
}

bool writer_flush(long timeout_ns)
{
	return request(0, timeout_ns);
}

void writer_set_exit_status(int status)
{
	atomic_store(&exit_status, status);
	atomic_store(&exit_status_known, 1);
}

bool writer_exit(long timeout_ns, bool underscore_exit)
{
	return request(underscore_exit ? 2 : 1, timeout_ns);
}

void writer_main_exited(void)
{
	atomic_store(&main_exited, 1);
	writer_kick();
}
