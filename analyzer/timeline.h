/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Open bpf FDs of one process over time, one series per call site: the
 * step function the replay's FD lives (created_ns .. closed_ns) draw,
 * sampled into columns so that a journal of a million FDs still makes a
 * small picture.  Each column holds the most FDs open at any moment in
 * it, so a reload that opens and closes within one column still shows.
 */
#ifndef BPFLEAK_TIMELINE_H
#define BPFLEAK_TIMELINE_H

#include "sites.h"

/* Sites a process's timeline draws one by one; the rest are one series. */
#define TIMELINE_MAX_SITES 12

enum tl_kind { TL_SITE, TL_MORE_SITES, TL_OTHER };

struct tl_series {
	int kind;                /* enum tl_kind */
	size_t site;             /* TL_SITE: index in the siteset */
	size_t n_sites;          /* TL_MORE_SITES: how many sites it merges */
	int *vals;               /* per column: the most FDs open in it */
	int peak;                /* the largest value */
	int last;                /* open at the end */
};

struct timeline {
	const struct proc *p;
	int64_t t0, t1;          /* the columns cover [t0, t1] */
	size_t cols;
	struct tl_series *s;     /* leaking sites, other sites, then FDs of no site */
	size_t n;
	int ymax;                /* the largest stacked total */
};

/* 0 when the process holds no FD of any site (then there is nothing to draw). */
int timeline_build(const struct model *m, const struct siteset *ss, const struct proc *p,
		   size_t cols, struct timeline *tl);
void timeline_free(struct timeline *tl);

/*
 * svg_timeline.c: p's timeline as an inline SVG (stacked steps, one
 * series per site, leaking sites' lines marked and labelled) and an HTML
 * legend, inside a <figure>.  Returns 0, printing nothing, when p holds
 * no FD of a site.
 */
int svg_timeline(FILE *out, const struct model *m, const struct siteset *ss, const struct proc *p);

#endif
