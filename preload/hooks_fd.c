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
#include "consumer.h"
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
	record_submit(&ev);
}

static uint16_t overlap_flag(uint64_t mark)
{
	return record_overlap(mark) ? BPFLEAK_EF_IN_SNAPSHOT : 0;
}

/*
 * The close protocol.  A thread that sees a tracked slot g first claims it
 * (CAS g -> g|CLOSING), then calls the real close, then settles the slot.
 * Only the claimer records the close; a second thread closing the same
 * number meanwhile sees CLOSING and knows the number was already released,
 * so its close is of some other file and passes through unrecorded.
 */
static bool claim_close(_Atomic uint64_t *slot, uint64_t g)
{
	uint64_t expected = g;
	if (!atomic_compare_exchange_strong(slot, &expected, g | SLOT_CLOSING))
		return false;
	fdtable_note_untracked();
	return true;
}

/* Settle a claimed slot after the real close returned r/err. */
static void finish_close(int fd, _Atomic uint64_t *slot, uint64_t g, uint64_t ts,
			 int r, int err, uint16_t flags)
{
	uint64_t claimed = g | SLOT_CLOSING;
	/* A create that reused the number meanwhile replaced the slot: keep it. */
	if (r == 0 || err == EINTR) {   /* Linux frees the FD even on EINTR */
		atomic_compare_exchange_strong(slot, &claimed, fdtable_closed_marker(g));
		submit_close(fd, g, ts, 0, flags);
	} else if (err == EBADF) {
		/* Closed behind our back (raw syscall, fclose): the journal was stale. */
		atomic_compare_exchange_strong(slot, &claimed, 0);
		submit_close(fd, g, ts, -EBADF, flags);
	} else if (atomic_compare_exchange_strong(slot, &claimed, g)) {
		fdtable_note_tracked();   /* the FD is still open */
	}
}

/*
 * The last two FD numbers this thread closed, packed in one word so the
 * pass-through close pays one TLS load and store.  Daemons close every
 * number in a loop, and an EBADF in such a sweep is not a bug: a sweep is
 * a close of N right after N-2 and N-1, with N-1 not open either -- a
 * pattern a real double close almost never has.  (The first numbers of a
 * sweep still count as double closes.)
 */
static __thread uint64_t close_history __attribute__((tls_model("initial-exec")));

/*
 * A fork child that has not started recording: only what it does with a
 * bpf FD on purpose (a create, a dup, a close) starts it.  The mass closes
 * of spawn code before exec pass through.
 */
static bool dormant_child(void)
{
	return shim_state_now() == SHIM_DORMANT && self.from_fork;
}

static int forget_one(int fd, uint64_t slot, void *ctx)
{
	(void)slot;
	(void)ctx;
	fdtable_forget(fd);
	return 0;
}

static bool in_sweep(uint64_t history, int fd)
{
	return fd >= 2 && (uint32_t)history == (uint32_t)(fd - 1) &&
	       (uint32_t)(history >> 32) == (uint32_t)(fd - 2) &&
	       real.fcntl(fd - 1, F_GETFD) < 0 && errno == EBADF;
}

/* A close of a number whose bpf FD we saw closed: a double close on EBADF. */
static int close_after_marker(int fd, _Atomic uint64_t *slot, uint64_t marker, bool sweep)
{
	shim_guard++;
	uint64_t mark = record_mark();
	uint64_t ts = shim_now_ns();
	int r = real.close(fd);
	int err = r ? errno : 0;
	uint64_t expected = marker;
	atomic_compare_exchange_strong(slot, &expected, 0);
	/* A success means N was reused by a non-bpf file: a normal close. */
	if (r && err == EBADF)
		submit_close(fd, marker, ts, -EBADF,
			     (sweep ? BPFLEAK_EF_SWEEP : 0) | overlap_flag(mark));
	record_release();
	shim_guard--;
	errno = err;
	return r;
}

/*
 * The guard is not consulted here: a tracked close with the guard up is the
 * host's, from a signal handler that interrupted a hook, and everything on
 * this path (CAS, lock-free queue, vDSO clock) is async-signal-safe.  The
 * shim's own machinery (shim_internal) never closes a host's bpf FD.
 */
int hook_close(int fd)
{
	uint64_t history = close_history;
	close_history = history << 32 | (uint32_t)fd;
	_Atomic uint64_t *slot = fdtable_peek(fd);
	uint64_t g = slot ? atomic_load_explicit(slot, memory_order_acquire) : 0;
	if (!g) {
		if (__builtin_expect(ownfds_opening(), 0)) {
			ownfds_wait_opening();
			g = slot ? atomic_load_explicit(slot, memory_order_acquire) : 0;
			if (g & SLOT_OWNED)
				return ownfds_host_close(fd);
		}
		return real.close(fd);
	}
	if (g & SLOT_OWNED)
		return ownfds_host_close(fd);
	if (shim_internal || (g & SLOT_CLOSING))
		return real.close(fd);
	/* A fork child sweeping its FDs before exec is not using them. */
	if (dormant_child() && in_sweep(history, fd)) {
		fdtable_forget(fd);
		return real.close(fd);
	}
	if (!record_begin(-1))
		return real.close(fd);
	/* Starting to record may have listed this FD anew: its slot changed. */
	g = atomic_load_explicit(slot, memory_order_acquire);
	if (g & (SLOT_CLOSING | SLOT_OWNED) || !g)
		return real.close(fd);
	if (!SLOT_TRACKED(g)) {
		shim_guard++;
		bool sweep = in_sweep(history, fd);
		shim_guard--;
		return close_after_marker(fd, slot, g, sweep);
	}
	if (!claim_close(slot, g))
		return real.close(fd);   /* another thread is closing or reusing it */

	shim_guard++;
	uint64_t mark = record_mark();
	uint64_t ts = shim_now_ns();
	int r = real.close(fd);
	int err = r ? errno : 0;
	finish_close(fd, slot, g, ts, r, err, overlap_flag(mark));
	record_release();
	shim_guard--;
	errno = err;
	return r;
}

static void record_dup(int newfd, int oldfd, uint64_t src, bool cloexec, uint64_t ts,
		       uint64_t mark)
{
	fdtable_install(newfd, SLOT_KIND(src), SLOT_ID(src), cloexec);
	struct shim_event ev;
	event_init(&ev, BPFLEAK_OP_DUP, ts);
	ev.fd = newfd;
	ev.fd2 = oldfd;
	ev.kind = (uint8_t)SLOT_KIND(src);
	ev.obj_id = SLOT_ID(src);
	ev.result = newfd;
	ev.flags = (cloexec ? BPFLEAK_EF_CLOEXEC : 0) | overlap_flag(mark);
	ev.stack = stack_capture();
	if (!ev.stack && !stack_disabled())
		ev.flags |= BPFLEAK_EF_NO_STACK;
	record_submit(&ev);
}

static uint64_t peek(int fd)
{
	_Atomic uint64_t *slot = fdtable_peek(fd);
	return slot ? atomic_load_explicit(slot, memory_order_acquire) : 0;
}

/* A tracked source or target: recording must be on (a fork child starts it here). */
static bool recordable(uint64_t *src, int oldfd)
{
	if (shim_guard || shim_foreign || !record_begin(-1))
		return false;
	*src = peek(oldfd);
	return true;
}

int hook_dup(int oldfd)
{
	uint64_t src = peek(oldfd);
	if (!SLOT_TRACKED(src) || !recordable(&src, oldfd) || !SLOT_TRACKED(src))
		return real.dup(oldfd);
	shim_guard++;
	uint64_t mark = record_mark();
	int r = real.dup(oldfd);
	int err = errno;
	if (r >= 0)
		record_dup(r, oldfd, src, false, shim_now_ns(), mark);
	record_release();
	shim_guard--;
	errno = err;
	return r;
}

int hook_dup3(int oldfd, int newfd, int flags, bool is_dup2)
{
	uint64_t src = peek(oldfd);
	if (__builtin_expect(ownfds_opening(), 0))
		ownfds_wait_opening();
	_Atomic uint64_t *target = fdtable_peek(newfd);
	uint64_t dst = target ? atomic_load_explicit(target, memory_order_acquire) : 0;
	bool interesting = SLOT_TRACKED(src) || dst != 0;
	if (!interesting || oldfd == newfd || !recordable(&src, oldfd))
		return is_dup2 ? real.dup2(oldfd, newfd) : real.dup3(oldfd, newfd, flags);
	dst = target ? atomic_load_explicit(target, memory_order_acquire) : 0;
	uint64_t mark = record_mark();
	if ((dst & SLOT_OWNED) && SLOT_ID(dst) == OWNER_JOURNAL) {
		/* The journal's: between two batches (the writer's mutex) the
		 * shim lets go of it, and the host's dup2 takes the number. */
		shim_guard++;
		consumer_hold_files();
		consumer_give_up_fd(newfd);
		int r = is_dup2 ? real.dup2(oldfd, newfd) : real.dup3(oldfd, newfd, flags);
		int err = errno;
		consumer_release_files();
		if (r >= 0 && SLOT_TRACKED(src))
			record_dup(newfd, oldfd, src, (flags & O_CLOEXEC) != 0, shim_now_ns(), mark);
		record_release();
		shim_guard--;
		errno = err;
		return r;
	}
	if (dst & SLOT_OWNED) {
		/* The host wants this very number: give it up, and stop unwinding
		 * before libunwind writes into the host's file. */
		stack_disable("the program reused libunwind's file descriptor");
		ownfds_unmark(newfd);
		dst = 0;
	}

	shim_guard++;
	/* dup2 over an open FD closes it first, atomically: claim that close. */
	bool closes_tracked = SLOT_TRACKED(dst) && claim_close(target, dst);
	uint64_t ts_before = shim_now_ns();
	int r = is_dup2 ? real.dup2(oldfd, newfd) : real.dup3(oldfd, newfd, flags);
	int err = errno;
	if (closes_tracked && r >= 0) {
		finish_close(newfd, target, dst, ts_before, 0, 0,
			     BPFLEAK_EF_IMPLICIT | overlap_flag(mark));
		/* The number holds the dup now, not a closed bpf FD: no marker. */
		uint64_t marker = fdtable_closed_marker(dst);
		atomic_compare_exchange_strong(target, &marker, 0);
	} else if (closes_tracked) {
		uint64_t claimed = dst | SLOT_CLOSING;   /* failed: the target stays open */
		if (atomic_compare_exchange_strong(target, &claimed, dst))
			fdtable_note_tracked();
	}
	if (r >= 0) {
		if (dst && !SLOT_TRACKED(dst)) {
			uint64_t expected = dst;   /* a stale closed marker */
			atomic_compare_exchange_strong(target, &expected, 0);
		}
		if (SLOT_TRACKED(src))
			record_dup(newfd, oldfd, src, (flags & O_CLOEXEC) != 0, shim_now_ns(), mark);
	}
	record_release();
	shim_guard--;
	errno = err;
	return r;
}

int hook_fcntl_dup(int fd, int cmd, long arg, int (*real_fcntl)(int, int, ...))
{
	uint64_t src = peek(fd);
	if (!SLOT_TRACKED(src) || !recordable(&src, fd) || !SLOT_TRACKED(src))
		return real_fcntl(fd, cmd, arg);
	shim_guard++;
	uint64_t mark = record_mark();
	int r = real_fcntl(fd, cmd, arg);
	int err = errno;
	if (r >= 0)
		record_dup(r, fd, src, cmd == F_DUPFD_CLOEXEC, shim_now_ns(), mark);
	record_release();
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

/* Claim every collected close before the real call; drop what we lose. */
static void range_claim(struct range_list *l)
{
	size_t kept = 0;
	for (size_t i = 0; i < l->n; i++) {
		_Atomic uint64_t *slot = fdtable_peek(l->items[i].fd);
		if (slot && claim_close(slot, l->items[i].slot))
			l->items[kept++] = l->items[i];
	}
	l->n = kept;
}

static void range_finish(struct range_list *l, uint64_t ts, int r, uint64_t mark)
{
	uint16_t flags = BPFLEAK_EF_RANGE | overlap_flag(mark);
	for (size_t i = 0; i < l->n; i++) {
		_Atomic uint64_t *slot = fdtable_peek(l->items[i].fd);
		if (r == 0) {
			finish_close(l->items[i].fd, slot, l->items[i].slot, ts, 0, 0, flags);
		} else {
			uint64_t claimed = l->items[i].slot | SLOT_CLOSING;
			if (atomic_compare_exchange_strong(slot, &claimed, l->items[i].slot))
				fdtable_note_tracked();
		}
	}
}

static void range_mark_cloexec(struct range_list *l, uint64_t ts)
{
	for (size_t i = 0; i < l->n; i++) {
		int fd = l->items[i].fd;
		uint64_t g = l->items[i].slot;
		uint64_t expected = g;
		atomic_compare_exchange_strong(fdtable_peek(fd), &expected, g | SLOT_CLOEXEC);
		struct shim_event ev;
		event_init(&ev, BPFLEAK_OP_CLOEXEC, ts);
		ev.fd = fd;
		ev.kind = (uint8_t)SLOT_KIND(g);
		ev.obj_id = SLOT_ID(g);
		record_submit(&ev);
	}
}

static void range_release(struct range_list *l)
{
	if (l->mapped)
		munmap(l->items, l->mapped);
}

/* close_range over [first, last] minus the shim's owned FDs. */
static int close_range_around_owned(unsigned int first, unsigned int last, int flags)
{
	int owned[MAX_OWNED_FDS];
	int n = (flags & CLOSE_RANGE_CLOEXEC) ? 0 : ownfds_in(first, last, owned, MAX_OWNED_FDS);
	unsigned int lo = first;
	for (int i = 0; i < n; i++) {
		unsigned int o = (unsigned int)owned[i];
		if (o > lo) {
			int r = real.close_range(lo, o - 1, flags);
			if (r)
				return r;
		}
		lo = o + 1;
	}
	return lo <= last && !(n && (unsigned int)owned[n - 1] == last)
		       ? real.close_range(lo, last, flags)
		       : 0;
}

static int guarded_close_range(unsigned int first, unsigned int last, int flags)
{
	shim_guard++;
	consumer_hold_files();
	int r = close_range_around_owned(first, last, flags);
	int err = errno;
	consumer_release_files();
	shim_guard--;
	errno = err;
	return r;
}

/* The caller gets a table of its own: the shim's stops describing this thread. */
static int unshare_and_close(unsigned int first, unsigned int last, int flags)
{
	int r = guarded_close_range(first, last, flags);
	int err = errno;
	if (r == 0)
		lifecycle_unshare_files();
	errno = err;
	return r;
}

int hook_close_range(unsigned int first, unsigned int last, int flags)
{
	if (shim_foreign || shim_state_now() == SHIM_OFF)
		return real.close_range(first, last, flags);
	if (flags & CLOSE_RANGE_UNSHARE)
		return unshare_and_close(first, last, flags);
	if (dormant_child() && first <= last) {
		if (!(flags & CLOSE_RANGE_CLOEXEC))
			fdtable_each(first, last, forget_one, NULL);
		return guarded_close_range(first, last, flags);
	}
	if (fdtable_tracked_count() == 0 || first > last || shim_guard || !record_begin(-1))
		return guarded_close_range(first, last, flags);
	shim_guard++;
	struct range_list l;
	range_collect(first, last, &l);
	bool cloexec_only = (flags & CLOSE_RANGE_CLOEXEC) != 0;
	if (!cloexec_only)
		range_claim(&l);
	uint64_t mark = record_mark();
	uint64_t ts = shim_now_ns();
	consumer_hold_files();
	int r = close_range_around_owned(first, last, flags);
	int err = errno;
	consumer_release_files();
	if (cloexec_only && r == 0)
		range_mark_cloexec(&l, ts);
	else if (!cloexec_only)
		range_finish(&l, ts, r, mark);
	range_release(&l);
	record_release();
	shim_guard--;
	errno = err;
	return r;
}

void hook_closefrom(int lowfd)
{
	if (shim_foreign || shim_state_now() == SHIM_OFF || lowfd < 0) {
		real.closefrom(lowfd);
		return;
	}
	if (dormant_child())
		fdtable_each((unsigned int)lowfd, ~0u, forget_one, NULL);
	bool record = fdtable_tracked_count() > 0 && !shim_guard && record_begin(-1);
	shim_guard++;
	struct range_list l;
	range_collect((unsigned int)lowfd, ~0u, &l);
	if (!record)
		l.n = 0;
	range_claim(&l);
	uint64_t mark = record_mark();
	uint64_t ts = shim_now_ns();
	consumer_hold_files();
	/* closefrom is close_range(lowfd, ~0U) where the kernel has it (5.9+). */
	if (close_range_around_owned((unsigned int)lowfd, ~0u, 0) != 0)
		real.closefrom(lowfd);
	consumer_release_files();
	range_finish(&l, ts, 0, mark);
	range_release(&l);
	record_release();
	shim_guard--;
}
