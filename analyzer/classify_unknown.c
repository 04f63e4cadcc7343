// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * unknown_origin: bpf FDs in the snapshot that no journal event explains --
 * made by a raw syscall the shim cannot see, received over a socket, or
 * sitting on a number where the journal has another object.  There is no
 * call site to show, so they form one group per process.
 */
#include "analyzer.h"

void classify_unknown_origin(struct finding_sink *s, const struct opts *o)
{
	struct proc *p = s->p;
	(void)o;
	for (size_t i = 0; i < p->n_final; i++) {
		const struct fdrec *r = &p->recs[p->final[i]];
		if (r->origin != OR_SNAPSHOT)
			continue;
		struct finding *f = sink_group(s, NULL, 0);
		finding_add_rec(f, p->final[i]);
	}
}
