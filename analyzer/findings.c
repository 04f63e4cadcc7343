// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Findings: one class, one process, one call site, N FDs.  This file owns
 * the grouping, the ordering and the exit-code policy.
 *
 * Exit-code policy (which classes are leaks):
 *   duplicate     leak: a second FD on an object the process already holds
 *                 is the classic re-open-and-forget (the seed tool's
 *                 "possible leak").  Suppress intended ones.
 *   growth        leak: a site whose open count only rises is a per-request
 *                 leak even if each FD is unique.
 *   double_close  bug:  closing a closed FD can close someone else's FD.
 *   stale         bug:  the FD was closed or replaced behind the program's
 *                 back; counted unless events were dropped before it, in
 *                 which case the loss explains it and it is informational.
 *   unpinned      leak only with --expect-pinned (programs that pin
 *                 everything they keep); otherwise informational.
 *   outstanding   informational: a program may legitimately hold its FDs
 *                 until exit (the kernel closes them).  With --min-age it
 *                 becomes a leak report of FDs older than that age, the
 *                 memleak "--older" convention.
 *   unknown_origin informational: FDs the journal cannot explain (raw
 *                 syscalls, SCM_RIGHTS, created before the shim) are a
 *                 blind spot to show, not proof of a leak.
 *   finalized     leak: the program never closed the FD, a GC finalizer
 *                 did (Go); the same code leaks for real when the handle
 *                 stays reachable or the GC runs late.
 * Findings removed by --class, --pid or --suppressions do not count;
 * --top only shortens the listing.
 */
#include <stdlib.h>
#include <string.h>
#include "analyzer.h"

static const char *const names[CLS_MAX] = {
	[CLS_DUPLICATE] = "duplicate",
	[CLS_GROWTH] = "growth",
	[CLS_STALE] = "stale",
	[CLS_DOUBLE_CLOSE] = "double_close",
	[CLS_UNPINNED] = "unpinned",
	[CLS_OUTSTANDING] = "outstanding",
	[CLS_UNKNOWN_ORIGIN] = "unknown_origin",
	[CLS_FINALIZED] = "finalized",
};

const char *cls_name(int cls)
{
	return cls >= 0 && cls < CLS_MAX ? names[cls] : "?";
}

int cls_from_name(const char *name)
{
	for (int i = 0; i < CLS_MAX; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	if (strcmp(name, "unknown") == 0)
		return CLS_UNKNOWN_ORIGIN;
	if (strcmp(name, "double-close") == 0)
		return CLS_DOUBLE_CLOSE;
	if (strcmp(name, "unknown-origin") == 0)
		return CLS_UNKNOWN_ORIGIN;
	return -1;
}

int finding_is_leak(const struct finding *f, const struct opts *o)
{
	switch (f->cls) {
	case CLS_DUPLICATE:
	case CLS_GROWTH:
	case CLS_FINALIZED:
		return 1;
	case CLS_DOUBLE_CLOSE:
		return !(f->flag & DC_FLAG_IO_URING);
	case CLS_STALE:
		return !f->flag;   /* flag: explained by drops, io_uring, or lag */
	case CLS_UNPINNED:
		return o->expect_pinned;
	case CLS_OUTSTANDING:
		return o->min_age_ns >= 0;
	default:
		return 0;
	}
}

struct finding *finding_for(struct model *m, struct hmap *groups, int cls, struct proc *p,
			    const struct fdrec *site, int flag)
{
	int64_t sid = site ? site->stack_id : 0;
	int origin = site ? site->origin : OR_SNAPSHOT;
	int alt = site && sid <= 0 && site->no_stack_alt;
	uint64_t key = sid > 0 ? (uint64_t)sid << 8 | (uint64_t)flag
			       : (1ull << 62) | (uint64_t)alt << 24 | (uint64_t)origin << 8 |
				 (uint64_t)flag;
	bool fresh;
	uint64_t *slot = hmap_slot(groups, key, m->n_findings, &fresh);
	if (!fresh)
		return &m->findings[*slot];
	GROW(m->findings, m->cap_findings, m->n_findings + 1);
	struct finding *f = &m->findings[m->n_findings++];
	memset(f, 0, sizeof(*f));
	f->cls = cls;
	f->p = p;
	f->flag = flag;
	f->origin = origin;
	f->no_stack_alt = alt;
	f->stack_id = sid;
	f->stack_pid = site ? site->stack_pid : p->pid;
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

void classify_all(struct model *m, const struct opts *o)
{
	for (size_t i = 0; i < m->n_procs; i++) {
		struct proc *p = m->procs[i];
		if (o->pid && p->pid != o->pid)
			continue;
		classify_duplicate(m, p, o);
		classify_growth(m, p, o);
		classify_stale(m, p, o);
		classify_double_close(m, p, o);
		classify_unpinned(m, p, o);
		classify_outstanding(m, p, o);
		classify_unknown_origin(m, p, o);
		classify_finalized(m, p, o);
	}
}

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

static void drop_finding(struct finding *f)
{
	free(f->recs);
	free(f->detail);
	rstack_free(&f->rs);
}

/*
 * Symbolize, apply --class and suppressions, decide leak or not, order.
 * Findings that are filtered out are freed here so the reports only see
 * what they print.
 */
void findings_finish(struct model *m, const struct opts *o, const struct suppressions *supp)
{
	size_t out = 0;
	for (size_t i = 0; i < m->n_findings; i++) {
		struct finding *f = &m->findings[i];
		if (!(o->class_mask & (1u << f->cls)) || !f->n) {
			drop_finding(f);
			continue;
		}
		if (f->stack_id > 0 && m->sym)
			symbolize_stack(m->sym, f->stack_id, f->stack_pid, f->stack_ts, &f->rs);
		const char *by = supp ? suppressions_match(supp, f->cls, &f->rs) : NULL;
		if (by) {
			m->n_suppressed++;
			drop_finding(f);
			continue;
		}
		f->leak = finding_is_leak(f, o);
		m->findings[out++] = *f;
	}
	m->n_findings = out;
	if (m->n_findings > 1)
		qsort(m->findings, m->n_findings, sizeof(*m->findings), finding_cmp);
}
