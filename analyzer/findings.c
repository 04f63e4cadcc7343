// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The sink the classifiers write to: one finding per (class, process, call
 * site), so N FDs made at one place are one finding of N.  A site is the
 * stack that made the FD, or for FDs without one, how they came (the
 * origin, and whether they were made on an alternate signal stack); a
 * class's flag keeps groups apart that the report words differently.
 */
#include <string.h>
#include "analyzer.h"

void sink_open(struct finding_sink *s, struct model *m, struct proc *p, int cls)
{
	memset(s, 0, sizeof(*s));
	s->m = m;
	s->p = p;
	s->cls = cls;
}

void sink_close(struct finding_sink *s)
{
	hmap_free(&s->groups);
}

struct finding *sink_group(struct finding_sink *s, const struct fdrec *site, int flag)
{
	struct model *m = s->m;
	int64_t sid = site ? site->stack_id : 0;
	enum origin origin = site ? site->origin : OR_SNAPSHOT;
	int alt = site && sid <= 0 && site->no_stack_alt;
	uint64_t key = sid > 0 ? (uint64_t)sid << 8 | (uint64_t)flag
			       : (1ull << 62) | (uint64_t)alt << 24 | (uint64_t)origin << 8 |
				 (uint64_t)flag;
	bool fresh;
	uint64_t *slot = hmap_slot(&s->groups, key, m->n_findings, &fresh);
	if (!fresh)
		return &m->findings[*slot];
	GROW(m->findings, m->cap_findings, m->n_findings + 1);
	struct finding *f = &m->findings[m->n_findings++];
	memset(f, 0, sizeof(*f));
	f->cls = s->cls;
	f->p = s->p;
	f->flag = flag;
	f->origin = origin;
	f->no_stack_alt = alt;
	f->stack_id = sid;
	f->stack_pid = site ? site->stack_pid : s->p->pid;
	f->stack_ts = site ? site->stack_ts : 0;
	f->oldest_age = -1;
	f->newest_age = -1;
	return f;
}

void finding_add_rec(struct finding *f, size_t rec)
{
	GROW(f->recs, f->cap, f->n + 1);
	f->recs[f->n++] = rec;
}
