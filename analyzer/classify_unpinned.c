// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * unpinned: an open FD whose object no bpffs pin reaches.  Reached means
 * pinned itself, or (for a program) attached through a pinned link.  A map
 * used by a pinned program is not followed: the journal does not record a
 * program's map ids.  Only maps, programs and links can be pinned, so other
 * kinds are never "unpinned".  Pins come from the snapshot (every bpffs the
 * process saw); without one, from the journal's pin events.
 */
#include "analyzer.h"

static uint32_t link_prog(const struct model *m, const struct proc *p, uint32_t link_id)
{
	const struct object_info *oi = model_object(m, BPFLEAK_KIND_LINK, link_id);
	if (oi && oi->prog_id)
		return oi->prog_id;
	if (p->snap)
		for (size_t i = 0; i < p->snap->found.n_fds; i++)
			if (p->snap->found.fds[i].kind == BPFLEAK_KIND_LINK &&
			    p->snap->found.fds[i].obj_id == link_id)
				return p->snap->found.fds[i].info.prog_id;
	return 0;
}

void classify_unpinned(struct finding_sink *s, const struct opts *o)
{
	struct proc *p = s->p;
	struct hmap via_link = { 0 };
	const struct pinset *ps = p->pins;
	(void)o;
	if (ps)
		for (size_t i = 0; i < ps->idx.cap; i++) {
			if (!ps->idx.used[i] || (int)(ps->idx.keys[i] >> 32) != BPFLEAK_KIND_LINK)
				continue;
			uint32_t prog = link_prog(s->m, p, (uint32_t)ps->idx.keys[i]);
			if (prog)
				hmap_put(&via_link, prog, 1);
		}
	for (size_t i = 0; i < p->n_final; i++) {
		const struct fdrec *r = &p->recs[p->final[i]];
		if (!r->obj_id || (r->kind != BPFLEAK_KIND_MAP && r->kind != BPFLEAK_KIND_PROG &&
				   r->kind != BPFLEAK_KIND_LINK))
			continue;
		if (pinset_get(ps, r->kind, r->obj_id))
			continue;
		if (r->kind == BPFLEAK_KIND_PROG && hmap_get(&via_link, r->obj_id, NULL))
			continue;
		struct finding *f = sink_group(s, r, 0);
		finding_add_rec(f, p->final[i]);
	}
	hmap_free(&via_link);
}
