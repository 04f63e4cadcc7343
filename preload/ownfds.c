// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The FDs the shim's own libraries hold: libunwind's memory-validation
 * pipe (open for the life of the process once unwinding starts) and
 * sqlite's journal files (open while the writer writes a batch).
 *
 * Two rules keep them out of the host's way:
 *  - they live at high FD numbers, so the host's own numbering (open()
 *    returning 3, then 4, ...) is what it would be without the shim;
 *  - they are marked owned in the FD table, so a host that closes "every
 *    FD" (close_range(3, ~0U), a close loop, closefrom) cannot take them:
 *    if it did and the number were reused for one of the host's files,
 *    libunwind or sqlite would write into that file.  Such a close is
 *    reported done and the FD stays.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "shim.h"
#include "unwinder.h"

/* A handful at most; kept in a small array as well as in the table, so a
 * range close can step around them without scanning the table. */
static _Atomic int owned[MAX_OWNED_FDS] = { -1, -1, -1, -1, -1, -1, -1, -1,
					    -1, -1, -1, -1, -1, -1, -1, -1 };

void ownfds_mark(int fd, uint32_t owner)
{
	_Atomic uint64_t *s = fdtable_slot(fd);
	if (!s)
		return;
	for (int i = 0; i < MAX_OWNED_FDS; i++) {
		int expected = -1;
		if (atomic_compare_exchange_strong(&owned[i], &expected, fd)) {
			atomic_store(s, SLOT_OWNED | owner);
			return;
		}
	}
}

void ownfds_unmark(int fd)
{
	for (int i = 0; i < MAX_OWNED_FDS; i++) {
		int expected = fd;
		atomic_compare_exchange_strong(&owned[i], &expected, -1);
	}
	_Atomic uint64_t *s = fdtable_peek(fd);
	uint64_t v = s ? atomic_load(s) : 0;
	if (v & SLOT_OWNED)
		atomic_compare_exchange_strong(s, &v, 0);
}

int ownfds_in(unsigned int first, unsigned int last, int *out, int cap)
{
	int n = 0;
	for (int i = 0; i < MAX_OWNED_FDS && n < cap; i++) {
		int fd = atomic_load(&owned[i]);
		if (fd >= 0 && (unsigned)fd >= first && (unsigned)fd <= last)
			out[n++] = fd;
	}
	for (int i = 1; i < n; i++)   /* insertion sort: n is tiny */
		for (int k = i; k > 0 && out[k - 1] > out[k]; k--) {
			int t = out[k];
			out[k] = out[k - 1];
			out[k - 1] = t;
		}
	return n;
}

/*
 * Only libunwind itself (guard up) really closes its pipe; sqlite closes
 * through its own system-call table (below), never through the close hook.
 */
int ownfds_host_close(int fd)
{
	if (shim_guard) {
		ownfds_unmark(fd);
		return real.close(fd);
	}
	return 0;
}

/* ---- libunwind's pipe ---- */

static int list_pipes(int *fds, int cap)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < cap) {
		char path[300], target[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%.255s", de->d_name);
		ssize_t len = readlink(path, target, sizeof(target) - 1);
		if (len > 5 && !strncmp(target, "pipe:", 5))
			fds[n++] = atoi(de->d_name);
	}
	closedir(d);
	return n;
}

/*
 * Fill every free FD number below `top` with a placeholder, so that the next
 * FDs anyone opens land at top - 1 and above.  Which numbers are ours is kept
 * in `mine`, so releasing them never touches an FD of the host's.
 */
static void reserve_low_fds(int top, uint64_t *mine)
{
	int fd;
	while ((fd = (int)real.syscall(SYS_fcntl, 0, F_DUPFD_CLOEXEC, 0)) >= 0 ||
	       (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0) {
		if (fd >= top - 1) {
			real.close(fd);   /* leave top-1 and up free */
			break;
		}
		mine[fd / 64] |= 1ull << (fd % 64);
	}
}

static void release_low_fds(int top, const uint64_t *mine)
{
	for (int fd = 0; fd < top; fd++)
		if (mine[fd / 64] & (1ull << (fd % 64)))
			real.close(fd);
}

/*
 * libunwind opens its pipe when it initialises (unw_set_caching_policy makes
 * that happen here).  This runs once, when recording starts: a program that
 * never makes a bpf FD never pays for it, nor maps libunwind.
 */
void ownfds_start_unwinder(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	shim_guard++;
	shim_internal++;
	int before[64], after[64];
	int nb = list_pipes(before, 64);
	struct rlimit rl;
	int top = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1024 ? (int)rl.rlim_cur : 1024;
	uint64_t mine[1024 / 64] = { 0 };
	if (top > 64)
		reserve_low_fds(top - 1, mine);
	char why[300];
	bool loaded = unwinder_load(why, sizeof(why));
	if (loaded) {
		const struct unwinder *u = unwinder_get();
		u->set_caching_policy(*u->local_addr_space, UNW_CACHE_PER_THREAD);
	}
	release_low_fds(top, mine);
	if (!loaded) {
		/* Every event then says it has no stack (BPFLEAK_EF_NO_STACK). */
		shim_warn("call stacks are not recorded: %s", why);
		shim_internal--;
		shim_guard--;
		return;
	}
	int na = list_pipes(after, 64);
	for (int i = 0; i < na; i++) {
		bool old = false;
		for (int k = 0; k < nb && !old; k++)
			old = after[i] == before[k];
		if (!old)
			ownfds_mark(after[i], OWNER_UNWINDER);
	}
	shim_internal--;
	shim_guard--;
}

/* ---- sqlite's journal files ---- */

static int high_fd_base = 3;

/*
 * Between open() handing us a low number and that number being moved high
 * and marked owned, a host closing "every FD" from another thread could
 * take it and reopen it for a file of its own, which sqlite would then
 * write.  While an open is in that window, host closes and dup2s of
 * untracked numbers wait for it (ownfds_wait_opening).
 */
static _Atomic int opening;

void ownfds_wait_opening(void)
{
	if (shim_internal)
		return;   /* the opener itself */
	while (atomic_load(&opening))
		sched_yield();
}

int ownfds_open_journal(const char *path, int flags, int mode)
{
	atomic_fetch_add(&opening, 1);
	int fd = open(path, flags | O_CLOEXEC, mode);
	if (fd >= 0 && fd < high_fd_base) {
		int high = fcntl(fd, F_DUPFD_CLOEXEC, high_fd_base);
		if (high >= 0) {
			close(fd);   /* the global symbol: a sanitizer's interceptor sees it */
			fd = high;
		}
	}
	if (fd >= 0)
		ownfds_mark(fd, OWNER_JOURNAL);
	atomic_fetch_sub(&opening, 1);
	return fd;
}

bool ownfds_opening(void)
{
	return atomic_load_explicit(&opening, memory_order_relaxed) != 0;
}

int ownfds_close_journal(int fd)
{
	/* The same window the other way: unmarked but not yet closed. */
	atomic_fetch_add(&opening, 1);
	ownfds_unmark(fd);
	/* Through the global symbol (our hook passes an unmarked FD straight on),
	 * so that a sanitizer's close interceptor sees the FD's end. */
	int r = close(fd);
	atomic_fetch_sub(&opening, 1);
	return r;
}

/* Where the journal's FDs go: the top 64 numbers below min(RLIMIT_NOFILE, 1024). */
void ownfds_setup_sqlite(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 256)
		high_fd_base = (rl.rlim_cur < 1024 ? (int)rl.rlim_cur : 1024) - 64;
}
