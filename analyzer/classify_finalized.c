// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * finalized: FDs that the program never closed itself but a garbage
 * collector's finalizer did.  cilium/ebpf (and Go's os.File) set a
 * finalizer on every FD they wrap, so a Go program that drops a *ebpf.Map
 * without Close() "leaks" only until the next collection happens to find
 * it: a leak in the code that the GC happened to clean, and that comes back
 * as a real one as soon as the handle stays reachable (a cache, a slice)
 * or the GC runs late.  The kernel recorder marks a close made from the Go
 * runtime's finalizer goroutine (runtime.runfinq on the close's stack) with
 * BPFLEAK_EF_FINALIZER; such FDs are charged to their creation site, as an
 * open leak would be.
 *
 * The replay keeps only how an FD was closed, not the close's flags, so the
 * close events are matched to FD records here, by FD number and time (a
 * close's time is the record's closed_ns).  ages: how long each FD lived
 * before the finalizer closed it.
 */
#include "analyzer.h"

static uint64_t close_key(int fd, int64_t ts)
{
	return hmap_mix((uint64_t)ts ^ (uint64_t)(uint32_t)fd << 40);
}

void classify_finalized(struct finding_sink *s, const struct opts *o)
{
	struct proc *p = s->p;
	struct hmap closes = { 0 };
	(void)o;
	for (size_t i = 0; i < p->n_ev; i++) {
		const struct ev *e = &p->evs[i];
		if (e->op == BPFLEAK_OP_CLOSE && e->result == 0 && (e->flags & BPFLEAK_EF_FINALIZER))
			hmap_put(&closes, close_key(e->fd, e->ts), 1);
	}
	if (!closes.len)
		return;
	for (size_t i = 0; i < p->n_recs; i++) {
		const struct fdrec *r = &p->recs[i];
		if (r->how != H_CLOSE || r->origin == OR_CLOSE_EVENT ||
		    !hmap_get(&closes, close_key(r->fd, r->closed_ns), &(uint64_t){ 0 }))
			continue;
		struct finding *f = sink_group(s, r, 0);
		finding_add_rec(f, i);
		int64_t lived = ns_between(r->created_ns, r->closed_ns);
		if (r->created_ns < 0)
			continue;
		if (f->oldest_age < 0 || lived > f->oldest_age)
			f->oldest_age = lived;
		if (f->newest_age < 0 || lived < f->newest_age)
			f->newest_age = lived;
	}
	hmap_free(&closes);
}
