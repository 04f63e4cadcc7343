// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * close, close_range, closefrom, dup, dup2, dup3 and fcntl(F_DUPFD*).
 *
 * The common case, an FD the shim never tracked, costs one table lookup
 * (two loads) and no lock, allocation or syscall of our own.  For a tracked
 * FD the order is: timestamp, real call, compare-and-swap of the slot, event.
 * The timestamp is taken before a close and after a create, so a close of fd
 * N always sorts before the create that reused N, whatever the queue order.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/close_range.h>
#include <bpfleak/journal.h>
#include "shim.h"

static void submit_close(int fd, uint64_t slot, uint64_t ts, int result, uint16_t flags)
{
	struct shim_event ev;
	event_init(&ev, BPFLEAK_OP_CLOSE, ts);
	ev.fd = fd;
	ev.kind = (uint8_t)SLOT_KIND(slot);
	ev.obj_id = SLOT_ID(slot);
	ev.result = result;
	ev.flags = flags;
	/*
	 * With the guard up, this close comes from a signal handler that
	 * interrupted the shim on this thread: the unwinder and the stack
	 * table may be mid-update, so the close goes without a stack.
	 */
	if (shim_cfg.close_stacks && shim_guard == 1)
		ev.stack = stack_capture();
	event_submit(&ev);
}

/*
 * After the real close of fd (whose slot read g before the call) returned
 * r/err: update the slot and say what happened.
 */
static void after_close(int fd, _Atomic uint64_t *slot, uint64_t g, uint64_t ts,
			int r, int err, uint16_t flags)
{
	bool closed = r == 0 || err == EINTR;   /* Linux frees the FD even on EINTR */
	if (SLOT_TRACKED(g)) {
		uint64_t expected = g;
		if (closed) {
			if (atomic_compare_exchange_strong(slot, &expected, fdtable_closed_marker(g)))
				fdtable_note_untracked();
			else
				flags |= BPFLEAK_EF_RACED;   /* N was reused already: leave it */
			submit_close(fd, g, ts, 0, flags);
		} else if (err == EBADF) {
			/* Closed behind our back (raw syscall, fclose): the journal was stale. */
			if (atomic_compare_exchange_strong(slot, &expected, 0))
				fdtable_note_untracked();
			submit_close(fd, g, ts, -EBADF, flags);
		}
		return;
	}
	/* g is a closed marker: a second close of an FD we saw closed. */
	uint64_t expected = g;
	atomic_compare_exchange_strong(slot, &expected, 0);
	if (!closed && err == EBADF)
		submit_close(fd, g, ts, -EBADF, flags);
	/* A success means N was reused by a non-bpf file: a normal close. */
}

/*
 * The guard is not consulted here: the shim's own code never closes a
 * tracked FD, so a tracked close with the guard up is the host's, from a
 * signal handler that interrupted a hook.  Everything on this path (CAS,
 * lock-free queue, vDSO clock) is async-signal-safe.
 */
int hook_close(int fd)
{
	_Atomic uint64_t *slot = fdtable_peek(fd);
	uint64_t g = slot ? atomic_load_explicit(slot, memory_order_acquire) : 0;
	if (!g || atomic_load_explicit(&shim_state, memory_order_relaxed) != SHIM_ACTIVE)
		return real.close(fd);
	shim_guard++;
	uint64_t ts = shim_now_ns();
	int r = real.close(fd);
	int err = r ? errno : 0;
	after_close(fd, slot, g, ts, r, err, 0);
	shim_guard--;
	errno = err;
	return r;
}

static void record_dup(int newfd, int oldfd, uint64_t src, bool cloexec, uint64_t ts)
{
	fdtable_install(newfd, SLOT_KIND(src), SLOT_ID(src), cloexec);
	struct shim_event ev;
	event_init(&ev, BPFLEAK_OP_DUP, ts);
	ev.fd = newfd;
	ev.fd2 = oldfd;
	ev.kind = (uint8_t)SLOT_KIND(src);
	ev.obj_id = SLOT_ID(src);
	ev.result = newfd;
	ev.flags = cloexec ? BPFLEAK_EF_CLOEXEC : 0;
	ev.stack = stack_capture();
	event_submit(&ev);
}

static uint64_t peek(int fd)
{
	_Atomic uint64_t *slot = fdtable_peek(fd);
	return slot ? atomic_load_explicit(slot, memory_order_acquire) : 0;
}

int hook_dup(int oldfd)
{
	uint64_t src = peek(oldfd);
	if (!SLOT_TRACKED(src) || !shim_recording())
		return real.dup(oldfd);
	shim_guard++;
	int r = real.dup(oldfd);
	int err = errno;
	if (r >= 0)
		record_dup(r, oldfd, src, false, shim_now_ns());
	shim_guard--;
	errno = err;
	return r;
}

int hook_dup3(int oldfd, int newfd, int flags, bool is_dup2)
{
	uint64_t src = peek(oldfd);
	_Atomic uint64_t *target = fdtable_peek(newfd);
	uint64_t dst = target ? atomic_load_explicit(target, memory_order_acquire) : 0;
	bool interesting = SLOT_TRACKED(src) || dst != 0;
	if (!interesting || oldfd == newfd || !shim_recording())
		return is_dup2 ? real.dup2(oldfd, newfd) : real.dup3(oldfd, newfd, flags);

	shim_guard++;
	uint64_t ts_before = shim_now_ns();
	int r = is_dup2 ? real.dup2(oldfd, newfd) : real.dup3(oldfd, newfd, flags);
	int err = errno;
	if (r >= 0) {
		/* dup2 over an open FD closes it first, atomically. */
		if (SLOT_TRACKED(dst)) {
			uint64_t expected = dst;
			if (atomic_compare_exchange_strong(target, &expected, 0))
				fdtable_note_untracked();
			submit_close(newfd, dst, ts_before, 0, BPFLEAK_EF_IMPLICIT);
		} else if (dst) {
			uint64_t expected = dst;
			atomic_compare_exchange_strong(target, &expected, 0);
		}
		if (SLOT_TRACKED(src))
			record_dup(newfd, oldfd, src, (flags & O_CLOEXEC) != 0, shim_now_ns());
	}
	shim_guard--;
	errno = err;
	return r;
}

int hook_fcntl_dup(int fd, int cmd, long arg, int (*real_fcntl)(int, int, ...))
{
	uint64_t src = peek(fd);
	if (!SLOT_TRACKED(src) || !shim_recording())
		return real_fcntl(fd, cmd, arg);
	shim_guard++;
	int r = real_fcntl(fd, cmd, arg);
	int err = errno;
	if (r >= 0)
		record_dup(r, fd, src, cmd == F_DUPFD_CLOEXEC, shim_now_ns());
	shim_guard--;
	errno = err;
	return r;
}

/* ---- ranges ---- */

struct range_entry {
	int fd;
	uint64_t slot;
};

struct range_list {
	struct range_entry local[64];
	struct range_entry *items;
	size_t n, cap;
	size_t mapped;   /* bytes mmap'd for items, 0 when local */
};

static int count_one(int fd, uint64_t slot, void *ctx)
{
	(void)fd;
	(void)slot;
	(*(size_t *)ctx)++;
	return 0;
}

static int collect_one(int fd, uint64_t slot, void *ctx)
{
	struct range_list *l = ctx;
	if (l->n == l->cap)
		return 1;
	l->items[l->n++] = (struct range_entry){ fd, slot };
	return 0;
}

/* No malloc here: close_range is called right before exec in fork children. */
static void range_collect(unsigned int first, unsigned int last, struct range_list *l)
{
	size_t count = 0;
	fdtable_each(first, last, count_one, &count);
	l->items = l->local;
	l->cap = sizeof(l->local) / sizeof(l->local[0]);
	l->n = 0;
	l->mapped = 0;
	if (count > l->cap) {
		size_t bytes = count * sizeof(struct range_entry);
		void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED) {
			l->items = p;
			l->cap = count;
			l->mapped = bytes;
		}
	}
	fdtable_each(first, last, collect_one, l);
}

static void range_apply(struct range_list *l, uint64_t ts, bool cloexec_only)
{
	for (size_t i = 0; i < l->n; i++) {
		int fd = l->items[i].fd;
		uint64_t g = l->items[i].slot;
		_Atomic uint64_t *slot = fdtable_peek(fd);
		if (!slot)
			continue;
		if (cloexec_only) {
			uint64_t expected = g;
			atomic_compare_exchange_strong(slot, &expected, g | SLOT_CLOEXEC);
			struct shim_event ev;
			event_init(&ev, BPFLEAK_OP_CLOEXEC, ts);
			ev.fd = fd;
			ev.kind = (uint8_t)SLOT_KIND(g);
			ev.obj_id = SLOT_ID(g);
			event_submit(&ev);
		} else {
			after_close(fd, slot, g, ts, 0, 0, BPFLEAK_EF_RANGE);
		}
	}
	if (l->mapped)
		munmap(l->items, l->mapped);
}

/*
 * A host that closes "everything above 2" would also close the journal FDs
 * of a batch in flight; waiting for the batch (the journal is open only
 * during one) keeps sqlite from writing into whatever file reuses them.
 */
static int guarded_close_range(unsigned int first, unsigned int last, int flags)
{
	shim_guard++;
	writer_lock();
	int r = real.close_range(first, last, flags);
	int err = errno;
	writer_unlock();
	shim_guard--;
	errno = err;
	return r;
}

int hook_close_range(unsigned int first, unsigned int last, int flags)
{
	if (!shim_recording())
		return real.close_range(first, last, flags);
	if (fdtable_tracked_count() == 0 || first > last)
		return guarded_close_range(first, last, flags);
	shim_guard++;
	struct range_list l;
	range_collect(first, last, &l);
	uint64_t ts = shim_now_ns();
	writer_lock();
	int r = real.close_range(first, last, flags);
	int err = errno;
	writer_unlock();
	if (r == 0)
		range_apply(&l, ts, (flags & CLOSE_RANGE_CLOEXEC) != 0);
	else if (l.mapped)
		munmap(l.items, l.mapped);
	shim_guard--;
	errno = err;
	return r;
}

void hook_closefrom(int lowfd)
{
	if (!shim_recording() || lowfd < 0) {
		real.closefrom(lowfd);
		return;
	}
	shim_guard++;
	struct range_list l;
	range_collect((unsigned int)lowfd, ~0u, &l);
	uint64_t ts = shim_now_ns();
	writer_lock();
	real.closefrom(lowfd);
	writer_unlock();
	range_apply(&l, ts, false);
	shim_guard--;
}
