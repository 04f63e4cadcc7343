// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* Open FDs over time per call site, for the HTML report's chart (timeline.h). */
#include <stdlib.h>
#include <string.h>
#include "timeline.h"

/* Where an FD was made, as sink_group() (findings.c) tells sites apart within a process. */
static uint64_t rec_key(int64_t stack_id, int origin, int alt)
{
	if (stack_id > 0)
		return (uint64_t)stack_id;
	return 1ull << 62 | (uint64_t)(alt != 0) << 24 | (uint64_t)(unsigned)origin << 8;
}

struct tl_event {
	int64_t t;
	int delta;
	size_t series;
};

static int cmp_event(const void *a, const void *b)
{
	const struct tl_event *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->delta - y->delta;   /* a close before a create at the same instant */
}

static size_t add_series(struct timeline *tl, int kind, size_t site)
{
	struct tl_series *s;
	tl->s = xrealloc(tl->s, (tl->n + 1) * sizeof(*tl->s));
	s = &tl->s[tl->n];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->site = site;
	s->vals = xcalloc(tl->cols, sizeof(*s->vals));
	return tl->n++;
}

static size_t column(const struct timeline *tl, int64_t t)
{
	double x = ((double)t - (double)tl->t0) / ((double)tl->t1 - (double)tl->t0) * (double)tl->cols;
	if (!(x > 0))
		return 0;
	return x >= (double)tl->cols ? tl->cols - 1 : (size_t)x;
}

/* The series of each site with FDs in p: leaking sites come first in ss. */
static void site_series(const struct model *m, const struct siteset *ss, const struct proc *p,
			struct timeline *tl, struct hmap *by_key)
{
	size_t more = SIZE_MAX;
	for (size_t i = 0; i < ss->n; i++) {
		const struct site *s = &ss->v[i];
		size_t series = SIZE_MAX;
		for (size_t k = 0; k < s->n_findings; k++) {
			const struct finding *f = &m->findings[s->findings[k]];
			if (f->p != p)
				continue;
			if (series == SIZE_MAX) {
				if (i < ss->shown && tl->n < TIMELINE_MAX_SITES) {
					series = add_series(tl, TL_SITE, i);
				} else {
					if (more == SIZE_MAX)
						more = add_series(tl, TL_MORE_SITES, 0);
					series = more;
					tl->s[more].n_sites++;
				}
			}
			bool fresh;
			hmap_slot(by_key, rec_key(f->stack_id, f->origin, f->no_stack_alt), series, &fresh);
		}
	}
}

int timeline_build(const struct model *m, const struct siteset *ss, const struct proc *p,
		   size_t cols, struct timeline *tl)
{
	struct hmap by_key = { 0 };
	memset(tl, 0, sizeof(*tl));
	tl->p = p;
	tl->cols = cols ? cols : 1;
	tl->t0 = p->first_ns;
	tl->t1 = proc_span_end(p);
	if (tl->t1 <= tl->t0)
		tl->t1 = tl->t0 + 1000000;
	site_series(m, ss, p, tl, &by_key);
	int sites = tl->n > 0;
	size_t other = SIZE_MAX;
	struct tl_event *ev = xcalloc(2 * p->n_recs + 1, sizeof(*ev));
	size_t n_ev = 0;
	for (size_t i = 0; i < p->n_recs; i++) {
		const struct fdrec *r = &p->recs[i];
		uint64_t series;
		if (r->origin == OR_CLOSE_EVENT)
			continue;
		if (!hmap_get(&by_key, rec_key(r->stack_id, r->origin, r->no_stack_alt), &series)) {
			if (other == SIZE_MAX)
				other = add_series(tl, TL_OTHER, 0);
			series = other;
		}
		int64_t born = r->created_ns >= 0 && r->created_ns > tl->t0 ? r->created_ns : tl->t0;
		int64_t gone = r->closed_ns != NS_OPEN ? r->closed_ns
			       : r->stale && r->stale_ns > 0 ? r->stale_ns : NS_OPEN;
		ev[n_ev++] = (struct tl_event){ born, 1, series };
		if (gone != NS_OPEN)
			ev[n_ev++] = (struct tl_event){ gone > born ? gone : born, -1, series };
	}
	qsort(ev, n_ev, sizeof(*ev), cmp_event);
	int *cur = xcalloc(tl->n, sizeof(*cur));
	size_t c = 0;
	for (size_t i = 0; i < n_ev; i++) {
		size_t to = column(tl, ev[i].t);
		for (; c < to; c++)
			for (size_t k = 0; k < tl->n; k++)
				tl->s[k].vals[c + 1] = cur[k];
		struct tl_series *s = &tl->s[ev[i].series];
		cur[ev[i].series] += ev[i].delta;
		if (cur[ev[i].series] > s->vals[c])
			s->vals[c] = cur[ev[i].series];
	}
	for (; c + 1 < tl->cols; c++)
		for (size_t k = 0; k < tl->n; k++)
			tl->s[k].vals[c + 1] = cur[k];
	for (size_t k = 0; k < tl->n; k++) {
		tl->s[k].last = cur[k];
		for (size_t x = 0; x < tl->cols; x++)
			if (tl->s[k].vals[x] > tl->s[k].peak)
				tl->s[k].peak = tl->s[k].vals[x];
	}
	for (size_t x = 0; x < tl->cols; x++) {
		int sum = 0;
		for (size_t k = 0; k < tl->n; k++)
			sum += tl->s[k].vals[x];
		if (sum > tl->ymax)
			tl->ymax = sum;
	}
	free(cur);
	free(ev);
	hmap_free(&by_key);
	return sites;
}

void timeline_free(struct timeline *tl)
{
	for (size_t k = 0; k < tl->n; k++)
		free(tl->s[k].vals);
	free(tl->s);
	memset(tl, 0, sizeof(*tl));
}
