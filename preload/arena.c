// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * A bump allocator over mmap'd chunks, never freed.  Hooks may run in any
 * context the host calls close() or bpf() from, so they never call malloc;
 * interned stacks, object infos and pin paths live here instead.
 */
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include "shim.h"

#define CHUNK (1u << 20)

static atomic_flag lock = ATOMIC_FLAG_INIT;
static char *cur;
static size_t used, cap;

void *arena_alloc(size_t size)
{
	size = (size + 15) & ~(size_t)15;
	if (size > CHUNK / 2)
		return NULL;
	while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire))
		;
	if (!cur || used + size > cap) {
		void *p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			atomic_flag_clear_explicit(&lock, memory_order_release);
			return NULL;
		}
		cur = p;
		used = 0;
		cap = CHUNK;
	}
	void *r = cur + used;
	used += size;
	atomic_flag_clear_explicit(&lock, memory_order_release);
	return r;
}

const char *arena_strdup(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	char *p = arena_alloc(n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* Another thread may have held the lock at fork; only this thread survives. */
void arena_after_fork_child(void)
{
	atomic_flag_clear(&lock);
}
