// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * outstanding: every FD the journal explains that is still open at the end
 * (the snapshot's instant, else the last event), grouped by creation site
 * with count and age range, memleak style.  FDs inherited at start form
 * their own stack-less group.  --min-age keeps only FDs at least that old.
 */
#include "analyzer.h"

void classify_outstanding(struct finding_sink *s, const struct opts *o)
{
	struct proc *p = s->p;
	for (size_t i = 0; i < p->n_final; i++) {
		const struct fdrec *r = &p->recs[p->final[i]];
		if (r->origin == OR_SNAPSHOT)
			continue;
		int64_t age = ns_between(r->created_ns, p->end_ns);
		if (o->min_age_ns >= 0 && age < o->min_age_ns)
			continue;
		struct finding *f = sink_group(s, r, 0);
		finding_add_rec(f, p->final[i]);
		if (f->oldest_age < 0 || age > f->oldest_age)
			f->oldest_age = age;
		if (f->newest_age < 0 || age < f->newest_age)
			f->newest_age = age;
	}
}
