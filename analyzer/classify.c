// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The finding classes: their names, the classifier of each (classify_*.c,
 * run in this table's order for each process), and which are leaks.
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
#include <string.h>
#include "analyzer.h"

static const struct {
	const char *name;
	void (*classify)(struct finding_sink *s, const struct opts *o);
} classes[CLS_MAX] = {
	[CLS_DUPLICATE] = { "duplicate", classify_duplicate },
	[CLS_GROWTH] = { "growth", classify_growth },
	[CLS_STALE] = { "stale", classify_stale },
	[CLS_DOUBLE_CLOSE] = { "double_close", classify_double_close },
	[CLS_UNPINNED] = { "unpinned", classify_unpinned },
	[CLS_OUTSTANDING] = { "outstanding", classify_outstanding },
	[CLS_UNKNOWN_ORIGIN] = { "unknown_origin", classify_unknown_origin },
	[CLS_FINALIZED] = { "finalized", classify_finalized },
};

const char *cls_name(int cls)
{
	return cls >= 0 && cls < CLS_MAX ? classes[cls].name : "?";
}

int cls_from_name(const char *name)
{
	for (int i = 0; i < CLS_MAX; i++)
		if (strcmp(classes[i].name, name) == 0)
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

void classify_one(struct model *m, struct proc *p, int cls, const struct opts *o)
{
	struct finding_sink s;
	sink_open(&s, m, p, cls);
	classes[cls].classify(&s, o);
	sink_close(&s);
}

void classify_all(struct model *m, const struct opts *o)
{
	for (size_t i = 0; i < m->n_procs; i++) {
		struct proc *p = m->procs[i];
		if (o->pid && p->pid != o->pid)
			continue;
		for (int c = 0; c < CLS_MAX; c++)
			classify_one(m, p, c, o);
	}
}
