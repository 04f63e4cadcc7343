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

struct cell {
	_Atomic uint64_t seq;
	struct shim_event ev;
};

static struct cell *ring;
static size_t mask;
static _Atomic uint64_t head;     /* next position producers claim */
static _Atomic uint64_t tail;     /* next position the consumer reads */
static _Atomic uint64_t drops;

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
	for (size_t i = 0; i < cap; i++)
		atomic_init(&ring[i].seq, i);
	atomic_init(&head, 0);
	atomic_init(&tail, 0);
	return true;
}

bool queue_push(const struct shim_event *ev)
{
	if (!ring) {
		atomic_fetch_add_explicit(&drops, 1, memory_order_relaxed);
		return false;
	}
	uint64_t pos = atomic_load_explicit(&head, memory_order_relaxed);
	struct cell *c;
	for (;;) {
		c = &ring[pos & mask];
		uint64_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
		int64_t dif = (int64_t)(seq - pos);
		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(&head, &pos, pos + 1,
								  memory_order_relaxed,
								  memory_order_relaxed))
				break;
		} else if (dif < 0) {
			atomic_fetch_add_explicit(&drops, 1, memory_order_relaxed);
			return false;
		} else {
			pos = atomic_load_explicit(&head, memory_order_relaxed);
		}
	}
	c->ev = *ev;
	atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
	return true;
}

/* Single consumer: callers hold the writer's db lock. */
bool queue_pop(struct shim_event *ev)
{
	if (!ring)
		return false;
	uint64_t pos = atomic_load_explicit(&tail, memory_order_relaxed);
	struct cell *c = &ring[pos & mask];
	uint64_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
	if (seq != pos + 1)
		return false;   /* empty, or the producer has not finished the cell */
	*ev = c->ev;
	atomic_store_explicit(&c->seq, pos + mask + 1, memory_order_release);
	atomic_store_explicit(&tail, pos + 1, memory_order_relaxed);
	return true;
}

size_t queue_depth(void)
{
	uint64_t h = atomic_load_explicit(&head, memory_order_relaxed);
	uint64_t t = atomic_load_explicit(&tail, memory_order_relaxed);
	return h > t ? (size_t)(h - t) : 0;
}

size_t queue_capacity(void)
{
	return ring ? mask + 1 : 0;
}

void queue_add_drops(uint64_t n)
{
	atomic_fetch_add_explicit(&drops, n, memory_order_relaxed);
}

uint64_t queue_take_drops(void)
{
	return atomic_exchange_explicit(&drops, 0, memory_order_relaxed);
}

/*
 * The parent's unwritten events are the parent's to write; a producer that
 * was mid-push at fork left a half-claimed cell.  Start the child empty.
 */
void queue_after_fork_child(void)
{
	if (!ring)
		return;
	for (size_t i = 0; i <= mask; i++)
		atomic_store_explicit(&ring[i].seq, i, memory_order_relaxed);
	atomic_store(&head, 0);
	atomic_store(&tail, 0);
	atomic_store(&drops, 0);
}
