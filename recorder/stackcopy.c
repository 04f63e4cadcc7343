// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * How much user stack the kernel copies into a create record of a C
 * process, for the DWARF unwinder.  Copying 8 KiB (and moving it through
 * the ring buffer) for a call chain that lives in the first 1 KiB was half
 * of what tracing cost the traced thread (make bench, K1).  So each process
 * starts with the whole 8 KiB, its first STACK_LEARN complete walks are
 * measured (the highest stack word the unwinder read), and then the copy is
 * cut to the smallest record size (2 or 4 KiB) that holds the deepest of
 * them with STACK_MARGIN to spare.  A walk that later runs off the end of a
 * cut copy (UNWIND_STOP_STACK: its stack is reported cut short) puts the
 * process back to 8 KiB for good.  An exec starts over (a new program).
 */
#include "session.h"
#include "unwind.h"

#define STACK_LEARN 32
#define STACK_MARGIN 512

static uint32_t tier_for(uint32_t need)
{
	if (need <= 2048)
		return 2048;
	if (need <= 4096)
		return 4096;
	return REC_STACK_BYTES;
}

void stackcopy_learn(struct session *s, struct kproc *p, int why, size_t used, size_t copied)
{
	struct stack_need *n = &p->need;
	if (n->full)
		return;
	if (why == UNWIND_STOP_STACK) {
		/* Cut short: whatever was measured, this process needs more. */
		if (copied < REC_STACK_BYTES) {
			n->full = true;
			n->bytes = 0;
			kernel_set_stack(s->k, p->pid, p->stack_mode, 0);
		}
		return;
	}
	/* A walk that reached the outermost frame, or the depth asked for,
	 * read all the stack that chain needs. */
	if (why != UNWIND_STOP_END && why != UNWIND_STOP_MAX)
		return;
	if (used > n->max_used)
		n->max_used = (uint32_t)used;
	if (++n->seen != STACK_LEARN || n->bytes)
		return;
	uint32_t tier = tier_for(n->max_used + STACK_MARGIN);
	if (tier < REC_STACK_BYTES && kernel_set_stack(s->k, p->pid, p->stack_mode, tier) == 0)
		n->bytes = tier;
}
