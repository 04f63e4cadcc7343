// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * growth: call sites whose open-FD count only climbs over the process's
 * journal span -- the shape of a per-request leak.
 *
 * "Only climbs" means no FD made at the site was ever closed (an FD whose
 * create and close the recorder folded was closed).  That alone
 * would also flag a start-up burst (libbpf creating all maps of an object
 * from one stack), so the climb must also be spread over time, in at least
 * GROWTH_MIN_SPREAD moments by either measure:
 *  - windows: the process's span cut into GROWTH_WINDOWS equal parts, the
 *    number of parts with a creation at the site (catches a steady stream
 *    of requests, however dense);
 *  - episodes: creations separated by a pause of at least 1/GROWTH_GAP_DIV
 *    of the span (catches a few reloads, each opening several FDs).
 * A burst lands in one window and one episode.  A site must hold at least
 * opts.growth_min FDs (default 3).  The rate is FDs per second between the
 * site's first and last creation.
 *
 * Both measures need real time: a process killed right after a start-up
 * burst has a span of a few milliseconds, in which three creations a
 * millisecond apart would fill three windows.  So the span runs to the
 * last sign of life (the snapshot, the recorded exit, the last batch the
 * shim wrote), a pause must also last GROWTH_MIN_GAP_NS, and windows count
 * only when each is at least GROWTH_MIN_WINDOW_NS long.
 */
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include "analyzer.h"

#define GROWTH_WINDOWS 8
#define GROWTH_GAP_DIV 64
#define GROWTH_MIN_SPREAD 3
#define GROWTH_MIN_GAP_NS (10 * 1000000ll)
#define GROWTH_MIN_WINDOW_NS (10 * 1000000ll)

struct site {
	size_t n, closed;
	int64_t first, last;
	unsigned windows;
	int spread;
	int64_t *times;
	size_t n_times, cap_times;
};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int spread(struct site *s, int64_t span)
{
	int windows = span / GROWTH_WINDOWS >= GROWTH_MIN_WINDOW_NS ? __builtin_popcount(s->windows) : 0;
	int episodes = 1;
	qsort(s->times, s->n_times, sizeof(*s->times), cmp_i64);
	for (size_t i = 1; i < s->n_times; i++) {
		double gap = (double)s->times[i] - (double)s->times[i - 1];
		if (gap * GROWTH_GAP_DIV >= (double)span && gap >= (double)GROWTH_MIN_GAP_NS)
			episodes++;
	}
	return windows > episodes ? windows : episodes;
}

void classify_growth(struct finding_sink *sink, const struct opts *o)
{
	struct proc *p = sink->p;
	struct hmap idx = { 0 };
	struct site *sites = NULL;
	size_t n_sites = 0, cap = 0;
	int64_t start = p->first_ns, end = proc_span_end(p);
	/* Timestamps come from a file that may lie: no signed overflow here. */
	if (end <= start || (start < 0 && end > INT64_MAX + start))
		return;
	int64_t span = end - start;
	for (size_t i = 0; i < p->n_recs; i++) {
		const struct fdrec *r = &p->recs[i];
		if (r->stack_id <= 0 || r->origin == OR_CLOSE_EVENT || r->origin == OR_SNAPSHOT)
			continue;
		bool fresh;
		uint64_t *slot = hmap_slot(&idx, (uint64_t)r->stack_id, n_sites, &fresh);
		if (fresh) {
			GROW(sites, cap, n_sites + 1);
			memset(&sites[n_sites], 0, sizeof(*sites));
			sites[n_sites].first = sites[n_sites].last = r->created_ns;
			n_sites++;
		}
		struct site *s = &sites[*slot];
		s->n++;
		if (r->closed_ns != NS_OPEN || r->stale)
			s->closed++;
		if (r->created_ns < s->first)
			s->first = r->created_ns;
		if (r->created_ns > s->last)
			s->last = r->created_ns;
		/* In floating point: lying timestamps must not overflow the product. */
		double pos = ((double)r->created_ns - (double)start) * GROWTH_WINDOWS / (double)span;
		int64_t w = pos < 0 ? 0 : pos >= GROWTH_WINDOWS ? GROWTH_WINDOWS - 1 : (int64_t)pos;
		s->windows |= 1u << w;
		GROW(s->times, s->cap_times, s->n_times + 1);
		s->times[s->n_times++] = r->created_ns;
	}
	/* Folded pairs were made and closed at their site: it did not only climb. */
	for (size_t i = 0; i < p->n_folds; i++) {
		const struct fold *fo = &p->folds[i];
		bool fresh;
		if (fo->stack_id <= 0)
			continue;
		uint64_t *slot = hmap_slot(&idx, (uint64_t)fo->stack_id, n_sites, &fresh);
		if (fresh) {
			GROW(sites, cap, n_sites + 1);
			memset(&sites[n_sites], 0, sizeof(*sites));
			sites[n_sites].first = fo->first_ns;
			sites[n_sites].last = fo->last_ns;
			n_sites++;
		}
		sites[*slot].n += (size_t)fo->count;
		sites[*slot].closed += (size_t)fo->count;
	}
	for (size_t i = 0; i < n_sites; i++) {
		struct site *s = &sites[i];
		s->spread = s->closed || s->n < (size_t)o->growth_min ? 0 : spread(s, span);
	}
	for (size_t i = 0; i < p->n_final; i++) {
		const struct fdrec *r = &p->recs[p->final[i]];
		uint64_t k;
		if (r->stack_id <= 0 || r->origin == OR_SNAPSHOT ||
		    !hmap_get(&idx, (uint64_t)r->stack_id, &k))
			continue;
		const struct site *s = &sites[k];
		if (s->spread < GROWTH_MIN_SPREAD)
			continue;
		struct finding *f = sink_group(sink, r, 0);
		finding_add_rec(f, p->final[i]);
		f->first_ns = s->first;
		f->last_ns = s->last;
		f->rate_per_s = s->last > s->first ? (double)(s->n - 1) * 1e9 / (double)ns_between(s->first, s->last)
						    : 0;
	}
	for (size_t i = 0; i < n_sites; i++)
		free(sites[i].times);
	free(sites);
	hmap_free(&idx);
}
