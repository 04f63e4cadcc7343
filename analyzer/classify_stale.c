// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * stale: an FD the journal believes open that the kernel shows closed or
 * holding another object: closed behind the shim's back (a raw close
 * syscall it cannot see, io_uring), or events lost.  Found during replay (a
 * create landing on a number we thought taken, a close answered EBADF) and
 * during reconciliation with the snapshot.  Grouped by the FD's creation
 * site; those that follow dropped events are grouped apart (flag 1) since
 * the loss may explain them.
 */
#include "analyzer.h"

void classify_stale(struct model *m, struct proc *p, const struct opts *o)
{
	struct hmap groups = { 0 };
	(void)o;
	for (size_t i = 0; i < p->n_recs; i++) {
		const struct fdrec *r = &p->recs[i];
		if (!r->stale || r->origin == OR_CLOSE_EVENT)
			continue;
		struct finding *f = finding_for(m, &groups, CLS_STALE, p, r, r->after_drop ? 1 : 0);
		finding_add_rec(f, i);
	}
	hmap_free(&groups);
}
