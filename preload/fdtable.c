// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * FD number -> (generation, kind, object id).  Two levels: a fixed directory
 * of page pointers (zero pages in BSS cost no memory until touched) and
 * 4096-slot pages mmap'd on first use and never freed, so a lookup is two
 * loads with no lock.  Slots change only by compare-and-swap (docs/architecture.md).
 */
#include <limits.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include "shim.h"

#define PAGE_BITS 12
#define PAGE_SLOTS (1u << PAGE_BITS)
/* Linux caps FD numbers at fs.nr_open, at most 2^30. */
#define DIR_SLOTS (1u << (30 - PAGE_BITS))

typedef _Atomic uint64_t slot_t;
static _Atomic(slot_t *) dir[DIR_SLOTS];
static _Atomic uint64_t next_gen = 1;
static _Atomic long tracked;

_Atomic uint64_t *fdtable_peek(int fd)
{
	if (fd < 0 || (unsigned)fd >= DIR_SLOTS * PAGE_SLOTS)
		return NULL;
	slot_t *page = atomic_load_explicit(&dir[(unsigned)fd >> PAGE_BITS], memory_order_acquire);
	return page ? &page[fd & (PAGE_SLOTS - 1)] : NULL;
}

_Atomic uint64_t *fdtable_slot(int fd)
{
	if (fd < 0 || (unsigned)fd >= DIR_SLOTS * PAGE_SLOTS)
		return NULL;
	_Atomic(slot_t *) *entry = &dir[(unsigned)fd >> PAGE_BITS];
	slot_t *page = atomic_load_explicit(entry, memory_order_acquire);
	if (!page) {
		void *p = mmap(NULL, PAGE_SLOTS * sizeof(slot_t), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		slot_t *expected = NULL;
		if (atomic_compare_exchange_strong(entry, &expected, (slot_t *)p)) {
			page = p;
		} else {
			munmap(p, PAGE_SLOTS * sizeof(slot_t));
			page = expected;
		}
	}
	return &page[fd & (PAGE_SLOTS - 1)];
}

uint64_t fdtable_make(int kind, uint32_t id, bool cloexec)
{
	uint64_t gen = atomic_fetch_add_explicit(&next_gen, 1, memory_order_relaxed) & 0xffffff;
	if (!gen)
		gen = 1;
	return gen << 40 | (uint64_t)(kind & 0xf) << 32 | id | (cloexec ? SLOT_CLOEXEC : 0);
}

uint64_t fdtable_closed_marker(uint64_t tracked_slot)
{
	return tracked_slot | SLOT_CLOSED;
}

uint64_t fdtable_install(int fd, int kind, uint32_t id, bool cloexec)
{
	slot_t *s = fdtable_slot(fd);
	if (!s)
		return 0;
	/*
	 * The kernel just handed us fd, so no other thread can be installing
	 * it; whatever is there is a stale closed marker or a slot whose close
	 * we did not see.  A plain exchange is enough.
	 */
	uint64_t old = atomic_exchange(s, fdtable_make(kind, id, cloexec));
	if (!SLOT_TRACKED(old))
		atomic_fetch_add_explicit(&tracked, 1, memory_order_relaxed);
	return old;
}

void fdtable_forget(int fd)
{
	slot_t *s = fdtable_peek(fd);
	uint64_t old = s ? atomic_load(s) : 0;
	if (SLOT_TRACKED(old) && atomic_compare_exchange_strong(s, &old, 0))
		fdtable_note_untracked();
}

/* Called by whoever turned a tracked slot into a closed or empty one. */
void fdtable_note_untracked(void)
{
	atomic_fetch_sub_explicit(&tracked, 1, memory_order_relaxed);
}

void fdtable_note_tracked(void)
{
	atomic_fetch_add_explicit(&tracked, 1, memory_order_relaxed);
}

size_t fdtable_tracked_count(void)
{
	long n = atomic_load_explicit(&tracked, memory_order_relaxed);
	return n > 0 ? (size_t)n : 0;
}

void fdtable_each(unsigned int first, unsigned int last,
		  int (*fn)(int fd, uint64_t slot, void *ctx), void *ctx)
{
	if (last >= DIR_SLOTS * PAGE_SLOTS)
		last = DIR_SLOTS * PAGE_SLOTS - 1;
	for (unsigned int p = first >> PAGE_BITS; p <= last >> PAGE_BITS; p++) {
		slot_t *page = atomic_load_explicit(&dir[p], memory_order_acquire);
		if (!page)
			continue;
		unsigned int lo = p == first >> PAGE_BITS ? first & (PAGE_SLOTS - 1) : 0;
		unsigned int hi = p == last >> PAGE_BITS ? last & (PAGE_SLOTS - 1) : PAGE_SLOTS - 1;
		for (unsigned int i = lo; i <= hi; i++) {
			uint64_t s = atomic_load_explicit(&page[i], memory_order_acquire);
			if (SLOT_TRACKED(s) && fn((int)(p << PAGE_BITS | i), s, ctx))
				return;
		}
	}
}

void fdtable_reset(void)
{
	for (unsigned int p = 0; p < DIR_SLOTS; p++) {
		slot_t *page = atomic_load(&dir[p]);
		if (page)
			for (unsigned int i = 0; i < PAGE_SLOTS; i++)
				atomic_store(&page[i], 0);
	}
	atomic_store(&tracked, 0);
}
