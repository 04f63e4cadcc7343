// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * duplicate: two or more open FDs of one process on the same kernel object.
 * The oldest FD is taken as the legitimate holder; every younger one is
 * charged to the site that made it (its create, OBJ_GET, GET_FD_BY_ID or
 * dup call).  Kinds without an object id (iter, stats, token) have no
 * identity to compare and are skipped.  An FD only an unconfirmed live
 * snapshot shows may be one whose create is not flushed yet: it is "in
 * flight", never charged as a duplicate.
 */
#include "analyzer.h"

static int has_identity(const struct fdrec *r)
{
	return r->obj_id && (r->kind == BPFLEAK_KIND_MAP || r->kind == BPFLEAK_KIND_PROG ||
			     r->kind == BPFLEAK_KIND_LINK || r->kind == BPFLEAK_KIND_BTF);
}

/*
 * An FD only the snapshot knows has no birth time; the journal's FDs are
 * taken as the holders and the unexplained one as the extra copy.
 */
static int older(const struct fdrec *a, const struct fdrec *b)
{
	if ((a->created_ns < 0) != (b->created_ns < 0))
		return b->created_ns < 0;
	if (a->created_ns != b->created_ns)
		return a->created_ns < b->created_ns;
	return a->fd < b->fd;
}

void classify_duplicate(struct finding_sink *s, const struct opts *o)
{
	struct proc *p = s->p;
	struct hmap oldest = { 0 };
	(void)o;
	for (size_t i = 0; i < p->n_final; i++) {
		const struct fdrec *r = &p->recs[p->final[i]];
		if (!has_identity(r))
			continue;
		bool fresh;
		uint64_t *slot = hmap_slot(&oldest, (uint64_t)r->kind << 32 | r->obj_id,
					   p->final[i], &fresh);
		if (!fresh && older(r, &p->recs[*slot]))
			*slot = p->final[i];
	}
	for (size_t i = 0; i < p->n_final; i++) {
		struct fdrec *r = &p->recs[p->final[i]];
		uint64_t first;
		if (!has_identity(r) || r->in_flight ||
		    !hmap_get(&oldest, (uint64_t)r->kind << 32 | r->obj_id, &first) ||
		    first == p->final[i])
			continue;
		r->same_as_fd = p->recs[first].fd;
		struct finding *f = sink_group(s, r, 0);
		finding_add_rec(f, p->final[i]);
	}
	hmap_free(&oldest);
}
