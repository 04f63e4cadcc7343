// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The replay's FD table: a process's records (struct fdrec), which one
 * holds each FD number now (p->open) and which held it last (p->last, each
 * record linking to the one before it on that number).
 */
#include <stdlib.h>
#include <string.h>
#include "analyzer.h"

/* Grow an array indexed by FD number so that fd fits; new slots are 0. */
void fdslot(int32_t **arr, size_t *cap, int fd)
{
	if ((size_t)fd >= *cap) {
		size_t n = *cap ? *cap : 64;
		while (n <= (size_t)fd)
			n *= 2;
		*arr = xrealloc(*arr, n * sizeof(**arr));
		memset(*arr + *cap, 0, (n - *cap) * sizeof(**arr));
		*cap = n;
	}
}

struct fdrec *open_rec(struct proc *p, int fd)
{
	if (fd < 0 || (size_t)fd >= p->open_cap || !p->open[fd])
		return NULL;
	return &p->recs[p->open[fd] - 1];
}

struct fdrec *new_rec(struct proc *p, int fd, int64_t ts)
{
	GROW(p->recs, p->cap_recs, p->n_recs + 1);
	struct fdrec *r = &p->recs[p->n_recs++];
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->created_ns = ts;
	r->closed_ns = NS_OPEN;
	r->stack_pid = p->pid;
	r->stack_ts = ts;
	r->src_fd = -1;
	r->last_rec = -1;
	r->same_as_fd = -1;
	r->prev_at_fd = -1;
	r->after_drop = p->first_drop_ns != 0;
	if (fd >= 0) {
		fdslot(&p->open, &p->open_cap, fd);
		fdslot(&p->last, &p->last_cap, fd);
		r->prev_at_fd = p->last[fd] - 1;
		p->open[fd] = (int32_t)p->n_recs;
		p->last[fd] = (int32_t)p->n_recs;
	}
	return r;
}

void close_rec(struct proc *p, struct fdrec *r, int64_t ts, enum close_how how)
{
	r->closed_ns = ts;
	r->how = how;
	r->exec_pending = 0;
	if (r->fd >= 0 && (size_t)r->fd < p->open_cap && p->open[r->fd] &&
	    &p->recs[p->open[r->fd] - 1] == r)
		p->open[r->fd] = 0;
}

/* The journal believed r open, yet the kernel reused or refused its number. */
void vanish(struct proc *p, struct fdrec *r, int64_t ts, enum stale_why why)
{
	close_rec(p, r, ts, H_VANISHED);
	r->stale = why;
	r->stale_ns = ts;
	r->after_drop = p->first_drop_ns != 0 && p->first_drop_ns <= ts;
}
