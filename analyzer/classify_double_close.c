// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * double_close: a close the kernel answered with EBADF, i.e. of an FD that
 * was not open.  The call site is the close's own stack when the shim kept
 * close stacks (BPFLEAK_CLOSE_STACKS=1); otherwise the creation site of the
 * FD that last held that number, grouped apart (flag 1) so the report can
 * say which of the two it shows.  In a process with an io_uring the first
 * close may have gone through it, unseen: information (DC_FLAG_IO_URING).
 */
#include "analyzer.h"

void classify_double_close(struct finding_sink *s, const struct opts *o)
{
	struct proc *p = s->p;
	(void)o;
	for (size_t i = 0; i < p->n_recs; i++) {
		const struct fdrec *r = &p->recs[i];
		if (r->origin != OR_CLOSE_EVENT)
			continue;
		struct fdrec site = *r;
		int flag = 0;
		if (r->close_stack > 0) {
			site.stack_id = r->close_stack;
			site.stack_pid = p->pid;
			site.stack_ts = r->created_ns;
		} else if (r->last_rec >= 0) {
			site = p->recs[r->last_rec];
			flag = 1;
		} else {
			site.stack_id = 0;
			flag = 1;
		}
		if (p->note_mask & (1u << BPFLEAK_NOTE_IO_URING)) {
			flag |= DC_FLAG_IO_URING;
			p->n_downgraded++;
		}
		struct finding *f = sink_group(s, &site, flag);
		finding_add_rec(f, i);
	}
}
