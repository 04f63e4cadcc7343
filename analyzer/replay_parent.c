// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * A child's inherited FD is a copy of one of its parent's: which record of
 * the (already replayed) parent it copies, so the child's FD is charged to
 * the call site that made the parent's.
 */
#include "analyzer.h"

/* A fork child's inherited fd: the parent's record on the same number at the fork. */
const struct fdrec *parent_rec(const struct proc *pp, const struct proc *child,
			       const struct ev *e)
{
	int64_t at = child->fork_ts ? child->fork_ts : e->ts;
	if (e->fd < 0 || (size_t)e->fd >= pp->last_cap)
		return NULL;
	/* Walk that FD number's history back from its last holder. */
	for (int64_t i = pp->last[e->fd] - 1; i >= 0; i = pp->recs[i].prev_at_fd) {
		const struct fdrec *r = &pp->recs[i];
		if (r->created_ns > at || (e->obj_id && r->obj_id != e->obj_id))
			continue;
		return r;   /* open at the fork, or the latest before it (clock ties) */
	}
	return NULL;
}

/*
 * A process whose first image was started by a journaled parent (a fork
 * child that exec'd before it touched bpf) holds copies of the parent's
 * FDs, maybe on other numbers: the parent's FD on the same object, open
 * when the child started (else the latest made before), was made where
 * the child's was.
 */
const struct fdrec *parent_rec_by_object(const struct proc *pp, const struct proc *child,
					 const struct ev *e)
{
	/* The child's first image start is the nearest known time to the fork. */
	int64_t at = e->ts;
	for (size_t i = 0; i < child->n_images; i++)
		if (child->images[i].started_ns >= 0 && child->images[i].started_ns <= at)
			at = child->images[i].started_ns;
	const struct fdrec *best = NULL;
	for (size_t i = 0; i < pp->n_recs; i++) {
		const struct fdrec *r = &pp->recs[i];
		if (r->origin == OR_CLOSE_EVENT || r->obj_id != e->obj_id ||
		    (e->kind && r->kind && r->kind != e->kind) || r->created_ns > at)
			continue;
		int open = rec_open_at(r, at), best_open = best && rec_open_at(best, at);
		if (!best || (open && !best_open) ||
		    (open == best_open && (r->fd == e->fd) > (best->fd == e->fd)) ||
		    (open == best_open && (r->fd == e->fd) == (best->fd == e->fd) &&
		     r->created_ns >= best->created_ns))
			best = r;
	}
	return best;
}
