// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The bounded queue between hooks (many producers) and the writer (one
 * consumer at a time): a ring of cells, each with a sequence number, in the
 * style of Dmitry Vyukov's bounded MPMC queue.  A producer claims a cell
 * with one CAS and never waits; when the ring is full the event is counted
 * as dropped, so the host is never blocked by a slow journal.
 */
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include "shim.h"

/*
 * A cell's sequence number is stored minus the cell's index, so a fresh
 * cell (seq == index) reads as 0: the ring is an untouched zero mapping
 * until events fill it, and costs no memory on a quiet host.
 */
struct cell {
	_Atomic uint64_t seq_rel;
	struct shim_event ev;
};

static uint64_t load_seq(struct cell *c, uint64_t index)
{
	return atomic_load_explicit(&c->seq_rel, memory_order_acquire) + index;
}

static void store_seq(struct cell *c, uint64_t index, uint64_t seq)
{
	atomic_store_explicit(&c->seq_rel, seq - index, memory_order_release);
}

static struct cell *ring;
static size_t mask;
static _Atomic uint64_t head;     /* next position producers claim */
static _Atomic uint64_t tail;     /* next position the consumer reads */
static _Atomic uint64_t drops;
static _Atomic uint64_t first_drop_ns;   /* when the current run of drops began */

static void count_drops(uint64_t n)
{
	if (atomic_fetch_add_explicit(&drops, n, memory_order_relaxed) == 0)
		atomic_store_explicit(&first_drop_ns, shim_now_ns(), memory_order_relaxed);
}

bool queue_init(size_t capacity)
{
	if (ring)
		return true;
	size_t cap = 1;
	while (cap < capacity)
		cap <<= 1;
	void *p = mmap(NULL, cap * sizeof(struct cell), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return false;
	ring = p;
	mask = cap - 1;
	atomic_init(&head, 0);
	atomic_init(&tail, 0);
	return true;
}

bool queue_push(const struct shim_event *ev)
{
	if (!ring) {
		count_drops(1);
		return false;
	}
	uint64_t pos = atomic_load_explicit(&head, memory_order_relaxed);
	struct cell *c;
	for (;;) {
		c = &ring[pos & mask];
		uint64_t seq = load_seq(c, pos & mask);
		int64_t dif = (int64_t)(seq - pos);
		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(&head, &pos, pos + 1,
								  memory_order_relaxed,
								  memory_order_relaxed))
				break;
		} else if (dif < 0) {
			count_drops(1);
			return false;
		} else {
			pos = atomic_load_explicit(&head, memory_order_relaxed);
		}
	}
	c->ev = *ev;
	store_seq(c, pos & mask, pos + 1);
	return true;
}

/* Single consumer: callers hold the writer's db lock. */
bool queue_pop(struct shim_event *ev)
{
	if (!ring)
		return false;
	uint64_t pos = atomic_load_explicit(&tail, memory_order_relaxed);
	struct cell *c = &ring[pos & mask];
	uint64_t seq = load_seq(c, pos & mask);
	if (seq != pos + 1)
		return false;   /* empty, or the producer has not finished the cell */
	*ev = c->ev;
	store_seq(c, pos & mask, pos + mask + 1);
	atomic_store_explicit(&tail, pos + 1, memory_order_relaxed);
	return true;
}

size_t queue_depth(void)
{
	uint64_t h = atomic_load_explicit(&head, memory_order_relaxed);
	uint64_t t = atomic_load_explicit(&tail, memory_order_relaxed);
	return h > t ? (size_t)(h - t) : 0;
}

uint64_t queue_head(void)
{
	return atomic_load_explicit(&head, memory_order_acquire);
}

uint64_t queue_tail(void)
{
	return atomic_load_explicit(&tail, memory_order_acquire);
}

size_t queue_capacity(void)
{
	return ring ? mask + 1 : 0;
}

void queue_add_drops(uint64_t n)
{
	if (n)
		count_drops(n);
}

uint64_t queue_take_drops(uint64_t *since_ns)
{
	uint64_t n = atomic_exchange_explicit(&drops, 0, memory_order_relaxed);
	if (since_ns)
		*since_ns = atomic_load_explicit(&first_drop_ns, memory_order_relaxed);
	return n;
}

/*
 * The parent's unwritten events are the parent's to write; a producer that
 * was mid-push at fork left a half-claimed cell.  Start the child empty.
 */
void queue_after_fork_child(void)
{
	if (!ring)
		return;
	/* Back to zero pages: a fresh, empty ring that the child pays for only as it fills. */
	madvise(ring, (mask + 1) * sizeof(struct cell), MADV_DONTNEED);
	atomic_store(&head, 0);
	atomic_store(&tail, 0);
	atomic_store(&drops, 0);
	atomic_store(&first_drop_ns, 0);
}
