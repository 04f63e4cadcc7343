// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Call stacks: raw return addresses from libunwind's unw_backtrace, with the
 * shim's own frames cut off, interned in a lock-free open-addressing table
 * so each distinct stack exists once in memory and is written once to the
 * journal.  Symbolization happens later, offline, in bpfleak-report.
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include "shim.h"

#define TABLE_SLOTS (1u << 16)

typedef _Atomic(struct stack_node *) stack_slot;
static _Atomic(stack_slot *) table;
static atomic_flag table_init_lock = ATOMIC_FLAG_INIT;
/* Written by whoever refreshes the module map, read by every hook. */
static _Atomic uintptr_t self_lo, self_hi;
static _Atomic int disabled;

void stack_disable(const char *why)
{
	if (!atomic_exchange(&disabled, 1))
		shim_warn("call stacks are no longer recorded: %s", why);
}

void stack_set_self_range(uintptr_t lo, uintptr_t hi)
{
	if (atomic_load_explicit(&self_lo, memory_order_relaxed) != lo)
		atomic_store_explicit(&self_lo, lo, memory_order_relaxed);
	if (atomic_load_explicit(&self_hi, memory_order_relaxed) != hi)
		atomic_store_explicit(&self_hi, hi, memory_order_relaxed);
}

uint64_t stack_hash(const uintptr_t *ips, uint32_t depth)
{
	/* FNV-1a over the words: cheap, and stacks differ in many bits. */
	uint64_t h = 1469598103934665603ull ^ depth;
	for (uint32_t i = 0; i < depth; i++) {
		h ^= ips[i];
		h *= 1099511628211ull;
		h ^= h >> 29;
	}
	return h ? h : 1;
}

static stack_slot *get_table(void)
{
	stack_slot *t = atomic_load_explicit(&table, memory_order_acquire);
	if (t)
		return t;
	while (atomic_flag_test_and_set_explicit(&table_init_lock, memory_order_acquire))
		;
	t = atomic_load_explicit(&table, memory_order_acquire);
	if (!t) {
		void *p = mmap(NULL, TABLE_SLOTS * sizeof(*t), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED) {
			t = p;
			atomic_store_explicit(&table, t, memory_order_release);
		}
	}
	atomic_flag_clear_explicit(&table_init_lock, memory_order_release);
	return t;
}

static bool same(const struct stack_node *n, uint64_t h, const uintptr_t *ips, uint32_t depth)
{
	return n->hash == h && n->depth == depth && memcmp(n->ips, ips, depth * sizeof(*ips)) == 0;
}

static struct stack_node *new_node(uint64_t h, const uintptr_t *ips, uint32_t depth)
{
	struct stack_node *n = arena_alloc(sizeof(*n) + depth * sizeof(uintptr_t));
	if (n) {
		n->hash = h;
		n->depth = depth;
		atomic_init(&n->db_id, 0);
		memcpy(n->ips, ips, depth * sizeof(*ips));
	}
	return n;
}

const struct stack_node *stack_intern(const uintptr_t *ips, uint32_t depth)
{
	stack_slot *t = get_table();
	if (!t)
		return NULL;
	uint64_t h = stack_hash(ips, depth);
	struct stack_node *fresh = NULL;

	for (uint32_t probe = 0; probe < 64; probe++) {
		stack_slot *slot = &t[(h + probe) & (TABLE_SLOTS - 1)];
		struct stack_node *n = atomic_load_explicit(slot, memory_order_acquire);
		if (n) {
			if (same(n, h, ips, depth))
				return n;
			continue;
		}
		if (!fresh && !(fresh = new_node(h, ips, depth)))
			return NULL;
		struct stack_node *expected = NULL;
		if (atomic_compare_exchange_strong(slot, &expected, fresh))
			return fresh;
		if (same(expected, h, ips, depth))
			return expected;   /* another thread interned it first */
	}
	/* The table is crowded: keep the stack without dedup rather than lose it. */
	return fresh ? fresh : new_node(h, ips, depth);
}

const struct stack_node *stack_capture(void)
{
	if (atomic_load_explicit(&disabled, memory_order_relaxed))
		return NULL;
	void *raw[SHIM_MAX_DEPTH + 8];
	int want = shim_cfg.depth + 8;
	if (want > (int)(sizeof(raw) / sizeof(raw[0])))
		want = (int)(sizeof(raw) / sizeof(raw[0]));
	int n = unw_backtrace(raw, want);
	if (n <= 0)
		return NULL;
	int skip = 0;
	uintptr_t lo = atomic_load_explicit(&self_lo, memory_order_relaxed);
	uintptr_t hi = atomic_load_explicit(&self_hi, memory_order_relaxed);
	while (skip < n && (uintptr_t)raw[skip] >= lo && (uintptr_t)raw[skip] < hi)
		skip++;
	int depth = n - skip;
	if (depth > shim_cfg.depth)
		depth = shim_cfg.depth;
	return stack_intern((const uintptr_t *)&raw[skip], (uint32_t)depth);
}

/* A rolled-back batch, or a new journal: every stack must be written again. */
void stack_forget_db_ids(void)
{
	stack_slot *t = atomic_load(&table);
	if (!t)
		return;
	for (uint32_t i = 0; i < TABLE_SLOTS; i++) {
		struct stack_node *n = atomic_load(&t[i]);
		if (n)
			atomic_store(&n->db_id, 0);
	}
}
