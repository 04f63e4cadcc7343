// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Object type and name per kernel id, so that a GET_FD_BY_ID of an object
 * seen before costs no extra bpf_obj_get_info_by_fd syscall.
 * Lock-free open addressing; entries are never removed (ids are not reused
 * within a boot for a long time, and a stale name is only cosmetic).
 */
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include "shim.h"

#define CACHE_SLOTS (1u << 14)
/* A full table must not cost a create more than a few probes. */
#define MAX_PROBES 8

typedef _Atomic(struct obj_node *) obj_slot;
static _Atomic(obj_slot *) cache;

static uint64_t key_of(int kind, uint32_t id)
{
	return (uint64_t)kind << 32 | id;
}

static uint32_t slot_of(uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 50) & (CACHE_SLOTS - 1);
}

static obj_slot *get_cache(void)
{
	obj_slot *c = atomic_load_explicit(&cache, memory_order_acquire);
	if (c)
		return c;
	/*
	 * Published by compare-and-swap, never under a lock: a fork while
	 * another thread set this up would leave a child spinning on a lock
	 * whose holder does not exist there.  The loser unmaps its copy.
	 */
	void *p = mmap(NULL, CACHE_SLOTS * sizeof(*c), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	obj_slot *expected = NULL;
	if (atomic_compare_exchange_strong(&cache, &expected, (obj_slot *)p))
		return p;
	munmap(p, CACHE_SLOTS * sizeof(*c));
	return expected;
}

const struct obj_node *objcache_find(int kind, uint32_t id)
{
	obj_slot *c = atomic_load_explicit(&cache, memory_order_acquire);
	if (!c || !id)
		return NULL;
	uint64_t key = key_of(kind, id);
	for (uint32_t probe = 0, s = slot_of(key); probe < MAX_PROBES; probe++, s = (s + 1) & (CACHE_SLOTS - 1)) {
		struct obj_node *n = atomic_load_explicit(&c[s], memory_order_acquire);
		if (!n)
			return NULL;
		if (n->key == key)
			return n;
	}
	return NULL;
}

const struct obj_node *objcache_add(const struct bpfleak_obj_info *info)
{
	struct obj_node *fresh = arena_alloc(sizeof(*fresh));
	if (!fresh)
		return NULL;
	fresh->key = key_of(info->kind, info->id);
	atomic_init(&fresh->written, 0);
	fresh->first_seen_ns = shim_now_ns();
	fresh->info = *info;
	obj_slot *c = get_cache();
	if (!c || !info->id)
		return fresh;
	for (uint32_t probe = 0, s = slot_of(fresh->key); probe < MAX_PROBES; probe++, s = (s + 1) & (CACHE_SLOTS - 1)) {
		struct obj_node *expected = NULL;
		if (atomic_compare_exchange_strong(&c[s], &expected, fresh))
			return fresh;
		if (expected->key == fresh->key)
			return expected;
	}
	return fresh;   /* crowded: uncached, still recorded */
}

void objcache_forget_written(void)
{
	obj_slot *c = atomic_load(&cache);
	if (!c)
		return;
	for (uint32_t i = 0; i < CACHE_SLOTS; i++) {
		struct obj_node *n = atomic_load(&c[i]);
		if (n)
			atomic_store(&n->written, 0);
	}
}

/* Nodes are only written to through these, by the writer. */
bool objcache_is_written(const struct obj_node *n)
{
	return atomic_load(&((struct obj_node *)n)->written) != 0;
}

bool objcache_mark_written(const struct obj_node *n)
{
	return atomic_exchange(&((struct obj_node *)n)->written, 1) == 0;
}
