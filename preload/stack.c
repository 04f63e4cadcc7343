// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Call stacks: raw return addresses from libunwind's unw_backtrace (loaded by
 * unwinder.c when recording starts), with the
 * shim's own frames cut off, interned in a lock-free open-addressing table
 * so each distinct stack exists once in memory and is written once to the
 * journal.  Symbolization happens later, offline, in bpfleak-report.
 */
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <bpfleak/journal.h>
#include "shim.h"
#include "unwinder.h"

#define TABLE_SLOTS (1u << 16)

typedef _Atomic(struct stack_node *) stack_slot;
static _Atomic(stack_slot *) table;
/* Written by whoever refreshes the module map, read by every hook. */
static _Atomic uintptr_t self_lo, self_hi;
static _Atomic int disabled;

void stack_disable(const char *why)
{
	if (!atomic_exchange(&disabled, 1)) {
		shim_warn("call stacks are no longer recorded: %s", why);
		record_note(BPFLEAK_NOTE_NO_STACKS, 0);
	}
}

bool stack_disabled(void)
{
	return atomic_load_explicit(&disabled, memory_order_relaxed);
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
	/*
	 * Published by compare-and-swap, never under a lock: a fork while
	 * another thread set this up would leave a child spinning on a lock
	 * whose holder does not exist there.  The loser unmaps its copy.
	 */
	void *p = mmap(NULL, TABLE_SLOTS * sizeof(*t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	stack_slot *expected = NULL;
	if (atomic_compare_exchange_strong(&table, &expected, (stack_slot *)p))
		return p;
	munmap(p, TABLE_SLOTS * sizeof(*t));
	return expected;
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
	/*
	 * The same addresses in another module map are another stack: two
	 * plugins loaded one after the other at one base have identical IPs,
	 * and each must be symbolized against its own module.
	 */
	uint64_t h = stack_hash(ips, depth) ^ (uint64_t)modules_generation() * 0x9e3779b97f4a7c15ull;
	if (!h)
		h = 1;
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

static bool is_self(uintptr_t ip, uintptr_t lo, uintptr_t hi)
{
	return ip >= lo && ip < hi;
}

/*
 * A stack deeper than the depth kept: walk all of it (up to a bound) for
 * its outermost frames -- main() and the thread's entry say more than the
 * thousandth frame of a recursion -- and how many frames lie between.
 * Returns how many outer frames were written to `outer` (outermost last),
 * and the total number of frames outside the shim in *total (0: unknown).
 */
#define DEEP_WALK_MAX 4096
static int outer_frames(const struct unwinder *u, uintptr_t *outer, int keep, int *total)
{
	unw_context_t uc;
	unw_cursor_t cur;
	uintptr_t ring[8];
	int n = 0;
	*total = 0;
	if (u->getcontext(&uc) != 0 || u->init_local(&cur, &uc) != 0)
		return 0;
	uintptr_t lo = atomic_load_explicit(&self_lo, memory_order_relaxed);
	uintptr_t hi = atomic_load_explicit(&self_hi, memory_order_relaxed);
	int steps = 0;
	bool past_self = false;
	do {
		unw_word_t ip;
		if (u->get_reg(&cur, UNW_REG_IP, &ip) != 0 || ip == 0)
			break;
		if (!past_self && is_self((uintptr_t)ip, lo, hi))
			continue;
		past_self = true;
		ring[n % 8] = (uintptr_t)ip;
		n++;
	} while (++steps < DEEP_WALK_MAX && u->step(&cur) > 0);
	if (steps < DEEP_WALK_MAX)
		*total = n;
	int k = n < keep ? n : keep;
	for (int i = 0; i < k; i++)
		outer[i] = ring[(n - k + i) % 8];
	return k;
}

/* Bytes of stack the unwinder may need below a hook (see sigstack.c). */
#define UNWIND_STACK_NEED (16 * 1024)

static const struct stack_node *capture(void);

/*
 * The check is a frame of its own: capture()'s arrays (2 KiB) must not be
 * on the stack of a handler whose alternate stack has no room for them.
 */
/*
 * No thread may be inside libunwind when another forks: Debian's libunwind
 * has no per-thread cache, so unw_step takes one global mutex (and the
 * loader's lock, through dl_iterate_phdr), and a child that inherited them
 * held would block on its first unwind.  fork's prepare handler closes the
 * gate and waits for the threads inside; meanwhile captures record no stack.
 */
static _Atomic int unwinding;
static _Atomic int fork_pending;

void stack_fork_prepare(void)
{
	atomic_store(&fork_pending, 1);
	for (int spins = 0; atomic_load(&unwinding) && spins < 100000; spins++)
		sched_yield();
}

void stack_fork_done(bool child)
{
	if (child)
		atomic_store(&unwinding, 0);
	atomic_store(&fork_pending, 0);
}

const struct stack_node *stack_capture(void)
{
	if (atomic_load_explicit(&disabled, memory_order_relaxed) || !sigstack_room(UNWIND_STACK_NEED))
		return NULL;
	atomic_fetch_add(&unwinding, 1);
	const struct stack_node *n = atomic_load(&fork_pending) ? NULL : capture();
	atomic_fetch_sub(&unwinding, 1);
	return n;
}

__attribute__((noinline)) static const struct stack_node *capture(void)
{
	const struct unwinder *u = unwinder_get();
	if (!u)
		return NULL;   /* recording started on a small signal stack: not loaded yet */
	void *raw[SHIM_MAX_DEPTH + 9];
	int depth = shim_cfg.depth;
	int want = depth + 9;   /* the shim's own frames, and one to tell "more" */
	if (want > (int)(sizeof(raw) / sizeof(raw[0])))
		want = (int)(sizeof(raw) / sizeof(raw[0]));
	int n = u->backtrace(raw, want);
	if (n <= 0)
		return NULL;
	int skip = 0;
	uintptr_t lo = atomic_load_explicit(&self_lo, memory_order_relaxed);
	uintptr_t hi = atomic_load_explicit(&self_hi, memory_order_relaxed);
	while (skip < n && is_self((uintptr_t)raw[skip], lo, hi))
		skip++;
	int have = n - skip;
	uintptr_t *ips = (uintptr_t *)&raw[skip];
	if (have <= depth || depth < 3)
		return stack_intern(ips, (uint32_t)(have < depth ? have : depth));
	/* Cut: innermost frames, the gap marker and count, outermost frames. */
	int keep_outer = depth >= 16 ? 4 : depth >= 8 ? 2 : 0;
	uintptr_t outer[4];
	int total = 0;
	int got = keep_outer ? outer_frames(u, outer, keep_outer, &total) : 0;
	int inner = depth - 2 - got;
	uintptr_t cut[SHIM_MAX_DEPTH];
	memcpy(cut, ips, (size_t)inner * sizeof(*cut));
	cut[inner] = BPFLEAK_STACK_GAP;
	cut[inner + 1] = total > inner + got ? (uintptr_t)(total - inner - got) : 0;
	memcpy(cut + inner + 2, outer, (size_t)got * sizeof(*cut));
	return stack_intern(cut, (uint32_t)depth);
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

/* The journal row of a stack, 0 until written; only the writer sets it. */
int64_t stack_db_id(const struct stack_node *n)
{
	return atomic_load(&n->db_id);
}

void stack_set_db_id(const struct stack_node *n, int64_t id)
{
	atomic_store(&((struct stack_node *)n)->db_id, id);
}
