// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * stale: an FD the journal believes open that the kernel shows closed or
 * holding another object: closed behind the shim's back (a raw close
 * syscall it cannot see, io_uring), or events lost.  Found during replay (a
 * create landing on a number we thought taken, a close answered EBADF) and
 * during reconciliation with the snapshot.  Grouped by the FD's creation
 * site, and apart (a STALE_FLAG_*) when something else explains it: a live
 * snapshot the journal may lag, a process with an io_uring (closes through
 * it are invisible), dropped events.  Those are information, not leaks.
 */
#include "analyzer.h"

void classify_stale(struct finding_sink *s, const struct opts *o)
{
	struct proc *p = s->p;
	(void)o;
	for (size_t i = 0; i < p->n_recs; i++) {
		const struct fdrec *r = &p->recs[i];
		if (!r->stale || r->origin == OR_CLOSE_EVENT)
			continue;
		int flag = r->in_flight ? STALE_FLAG_IN_FLIGHT
			   : p->note_mask & (1u << BPFLEAK_NOTE_IO_URING) ? STALE_FLAG_IO_URING
			   : r->after_drop ? STALE_FLAG_DROP : 0;
		struct finding *f = sink_group(s, r, flag);
		finding_add_rec(f, i);
		if (flag == STALE_FLAG_IO_URING)
			p->n_downgraded++;
	}
}
