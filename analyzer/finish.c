// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * After classification: symbolize each finding's stack, apply --class and
 * the suppressions, decide leak or not, and order them.  Findings that are
 * filtered out are freed here so the reports only see what they print.
 */
#include <stdlib.h>
#include "analyzer.h"

static int finding_cmp(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;
	/* Leaks first, then the biggest; the rest only makes the order stable. */
	if (x->leak != y->leak)
		return y->leak - x->leak;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	if (x->cls != y->cls)
		return x->cls - y->cls;
	if (x->p->pid != y->p->pid)
		return x->p->pid < y->p->pid ? -1 : 1;
	return x->stack_id < y->stack_id ? -1 : x->stack_id > y->stack_id;
}

void findings_finish(struct model *m, const struct opts *o, const struct suppressions *supp,
		     struct symbolizer *sym)
{
	size_t out = 0;
	for (size_t i = 0; i < m->n_findings; i++) {
		struct finding *f = &m->findings[i];
		if (!(o->class_mask & (1u << f->cls)) || !f->n) {
			finding_free(f);
			continue;
		}
		if (f->stack_id > 0 && sym)
			symbolize_stack(sym, f->stack_id, f->stack_pid, f->stack_ts, &f->rs);
		const char *by = supp ? suppressions_match(supp, f->cls, &f->rs) : NULL;
		if (by) {
			m->n_suppressed++;
			finding_free(f);
			continue;
		}
		f->leak = finding_is_leak(f, o);
		m->findings[out++] = *f;
	}
	m->n_findings = out;
	if (m->n_findings > 1)
		qsort(m->findings, m->n_findings, sizeof(*m->findings), finding_cmp);
}
