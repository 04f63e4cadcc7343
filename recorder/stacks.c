// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * From a record's stack to a journal stack id.  The kernel's frame-pointer
 * walk is kept when the record carries nothing else (Go, or a process whose
 * FP walk was long enough); otherwise the registers and the stack copy go
 * to the DWARF unwinder.  Stacks are interned by hash, one row each.
 *
 * An address outside every module known for the process means a library
 * was mapped since the maps were read (ld.so's own libraries after exec, a
 * dlopen): the maps are read again, so the module row exists for the
 * analyzer to symbolize it.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "session.h"
#include "unwind.h"

/* The shim's hash (preload/stack.c): an identical stack gets the same row. */
static uint64_t stack_hash(const uint64_t *ips, uint32_t depth)
{
	uint64_t h = 1469598103934665603ull ^ depth;
	for (uint32_t i = 0; i < depth; i++) {
		h ^= ips[i];
		h *= 1099511628211ull;
		h ^= h >> 29;
	}
	return h ? h : 1;
}

static int64_t *slot_of(struct session *s, uint64_t hash, bool *fresh)
{
	if (s->n_stacks * 2 >= s->stack_cap) {
		size_t cap = s->stack_cap ? s->stack_cap * 2 : 4096;
		struct stack_entry *t = calloc(cap, sizeof(*t));
		if (!t)
			return NULL;
		for (size_t i = 0; i < s->stack_cap; i++) {
			if (!s->stacks[i].hash)
				continue;
			size_t k = s->stacks[i].hash & (cap - 1);
			while (t[k].hash)
				k = (k + 1) & (cap - 1);
			t[k] = s->stacks[i];
		}
		free(s->stacks);
		s->stacks = t;
		s->stack_cap = cap;
	}
	size_t k = hash & (s->stack_cap - 1);
	while (s->stacks[k].hash && s->stacks[k].hash != hash)
		k = (k + 1) & (s->stack_cap - 1);
	*fresh = !s->stacks[k].hash;
	if (*fresh) {
		s->stacks[k].hash = hash;
		s->n_stacks++;
	}
	return &s->stacks[k].id;
}

static int64_t intern(struct session *s, const uint64_t *ips, uint32_t depth)
{
	uint64_t h = stack_hash(ips, depth);
	bool fresh;
	int64_t *id = slot_of(s, h, &fresh);
	if (!id)
		return 0;
	if (*id > 0)
		return *id;
	if (!session_batch(s))
		return 0;
	int64_t row = jw_stack(&s->j, h, ips, depth);
	if (row < 0) {
		session_write_failed(s, "stack row");
		return 0;
	}
	*id = row;
	return row;
}

static void check_modules(struct session *s, struct kproc *p, const uint64_t *ips, uint32_t n,
			  uint64_t ts)
{
	for (uint32_t i = 0; i < n; i++) {
		if (procs_ip_known(s, p, ips[i]))
			continue;
		if (procs_maps_stale(p))
			procs_refresh_modules(s, p, ts, false);
		return;
	}
}

/*
 * The frame-pointer walk of the stack copy, as the kernel would have done
 * it: the records of a process whose stack is copied carry no kernel walk,
 * and this is what stands in when the DWARF unwinder knows no better.
 */
static uint32_t fp_walk_copy(const struct rec_event_regs *r, uint64_t *ips, uint32_t max)
{
	uint32_t n = 0;
	uint64_t sp = r->regs.sp, bp = r->regs.bp, len = r->stack_len;
	if (max == 0)
		return 0;
	ips[n++] = r->regs.ip;
	while (n < max && bp >= sp && bp - sp + 16 <= len && !(bp & 7)) {
		uint64_t next, ret;
		memcpy(&next, r->stack + (bp - sp), sizeof(next));
		memcpy(&ret, r->stack + (bp - sp) + 8, sizeof(ret));
		if (!ret)
			break;
		ips[n++] = ret;
		if (next <= bp)
			break;
		bp = next;
	}
	return n;
}

int64_t stacks_for_event(struct session *s, struct kproc *p, const void *rec, size_t size,
			 bool *no_stack, struct stack_ips *got)
{
	*no_stack = false;
	if (got)
		got->n = 0;
	if (size < sizeof(struct rec_event))
		return 0;
	const struct rec_event *ev = rec;
	uint64_t ips[REC_MAX_IPS];
	uint32_t n = ev->e.n_ips < REC_MAX_IPS ? ev->e.n_ips : REC_MAX_IPS;
	memcpy(ips, ev->ips, n * sizeof(ips[0]));
	int depth = s->opts.depth < 1 ? 1 : s->opts.depth > REC_MAX_IPS ? REC_MAX_IPS : s->opts.depth;

	/* A record with a stack copy is as long as the copy's room (stackcopy.c). */
	size_t head = offsetof(struct rec_event_regs, stack);
	if (size >= head) {
		const struct rec_event_regs *r = rec;
		if (r->stack_len > 0 && r->stack_len <= size - head) {
			struct unwind_regs regs;
			memset(&regs, 0, sizeof(regs));
			regs.ip = r->regs.ip;
			regs.sp = r->regs.sp;
			regs.bp = r->regs.bp;
			memcpy(regs.regs, r->regs.regs, sizeof(regs.regs));
			/* The unwinder needs the modules: learn new ones first. */
			if (!procs_ip_known(s, p, regs.ip) && procs_maps_stale(p))
				procs_refresh_modules(s, p, ev->e.h.ts_ns, false);
			uint64_t out[REC_MAX_IPS];
			enum unwind_stop why;
			size_t used;
			int m = unwind_user_stack_used(p->pid, &regs, r->stack, r->stack_len, out, depth,
						       &why, &used);
			stackcopy_learn(s, p, why, used, r->stack_len);
			/* The PC alone is a failed unwind: the FP walk may know better. */
			if (m > 1 || (m == 1 && n <= 1)) {
				s->unwound++;
				memcpy(ips, out, (size_t)m * sizeof(ips[0]));
				n = (uint32_t)m;
			} else {
				s->unwind_failed++;
			}
			if (n <= 1)
				n = fp_walk_copy(r, ips, (uint32_t)depth);
		}
	}
	if (n > (uint32_t)depth)
		n = (uint32_t)depth;
	if (n == 0) {
		*no_stack = true;
		return 0;
	}
	check_modules(s, p, ips, n, ev->e.h.ts_ns);
	if (got) {
		memcpy(got->ips, ips, n * sizeof(ips[0]));
		got->n = n;
	}
	return intern(s, ips, n);
}
