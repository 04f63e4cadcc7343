// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Reconcile each replayed process with its snapshot: the FDs the journal
 * has open at the snapshot's instant against what the kernel reported, by
 * FD number and object.  Every disagreement becomes a stale record or an
 * FD only the kernel knows; then the final open set, what the classes
 * judge.
 */
#include <stdlib.h>
#include <string.h>
#include "analyzer.h"

static int same_object(const struct fdrec *r, const struct bpfleak_snap_fd *f)
{
	if (r->kind && f->kind && r->kind != f->kind)
		return 0;
	return !r->obj_id || !f->obj_id || r->obj_id == f->obj_id;
}

static size_t add_final(struct proc *p, size_t cap, size_t idx)
{
	GROW(p->final, cap, p->n_final + 1);
	p->final[p->n_final++] = idx;
	return cap;
}

/*
 * How close to a live scan a journaled event must be for its effect to be
 * in doubt: creates are stamped after their system call, closes before,
 * and a scan reads the table one FD at a time.
 */
#define LIVE_SLACK_NS (5 * 1000000ll)

static void mark_fd(int32_t **set, size_t *cap, int fd)
{
	if (fd < 0 || fd >= MAX_FD)
		return;
	fdslot(set, cap, fd);
	(*set)[fd] = 1;
}

/*
 * FD numbers whose state at the snapshot is in doubt: an exit snapshot
 * knows them exactly (events the shim flagged as running during its
 * scan); a live one by time, around the scan.
 */
static int32_t *uncertain_fds(const struct proc *p, size_t *cap)
{
	int32_t *set = NULL;
	const struct snap *s = p->snap;
	int live = strcmp(s->source, "live") == 0;
	int64_t lo = ns_add(s->ts, -LIVE_SLACK_NS);
	int64_t hi = ns_add(s->end_ns >= s->ts ? s->end_ns : s->ts, LIVE_SLACK_NS);
	*cap = 0;
	for (size_t i = 0; i < p->n_ev; i++) {
		const struct ev *e = &p->evs[i];
		if (e->op != BPFLEAK_OP_CREATE && e->op != BPFLEAK_OP_DUP && e->op != BPFLEAK_OP_CLOSE)
			continue;
		if (live ? e->ts < lo || e->ts > hi : !(e->flags & BPFLEAK_EF_IN_SNAPSHOT))
			continue;
		mark_fd(&set, cap, e->fd);
		if (e->op == BPFLEAK_OP_DUP)
			mark_fd(&set, cap, e->fd2);
	}
	return set;
}

/*
 * The snapshot's FD on a number in doubt: whichever record of that number
 * still open holds its object is what the snapshot saw.  Nothing is
 * contradicted either way.
 */
static void explain_uncertain(struct proc *p, const struct bpfleak_snap_fd *f)
{
	if ((size_t)f->fd >= p->last_cap)
		return;
	for (int64_t i = p->last[f->fd] - 1; i >= 0; i = p->recs[i].prev_at_fd) {
		struct fdrec *r = &p->recs[i];
		if (r->closed_ns == NS_OPEN && !r->stale && same_object(r, f)) {
			r->sfd = f;
			return;
		}
	}
}

static void add_snapshot_only(struct proc *p, const struct bpfleak_snap_fd *f, int in_flight)
{
	/* new_rec would claim the FD slot: keep the replay's table intact. */
	GROW(p->recs, p->cap_recs, p->n_recs + 1);
	struct fdrec *u = &p->recs[p->n_recs++];
	memset(u, 0, sizeof(*u));
	u->fd = f->fd;
	u->kind = f->kind;
	u->obj_id = f->obj_id;
	u->origin = OR_SNAPSHOT;
	u->cmd = -1;   /* no bpf() call is known to have made it */
	u->created_ns = -1;
	u->closed_ns = NS_OPEN;
	u->src_fd = -1;
	u->same_as_fd = -1;
	u->prev_at_fd = -1;
	u->last_rec = (size_t)f->fd < p->last_cap && p->last[f->fd] ? p->last[f->fd] - 1 : -1;
	u->cloexec = f->cloexec;
	u->sfd = f;
	u->stack_pid = p->pid;
	u->in_flight = in_flight;
}

static void mark_stale(struct proc *p, struct fdrec *r, enum stale_why why, int64_t t, int in_flight)
{
	r->stale = why;
	r->stale_ns = t;
	r->after_drop = p->first_drop_ns != 0;
	r->in_flight = in_flight;
}

/*
 * Compare the journal's FDs open when the scan began with what it found,
 * by FD number and object id.  Numbers in doubt (see uncertain_fds) and a
 * process whose main thread has an FD table of its own are not judged; a
 * live snapshot the journal may lag makes every disagreement "in flight".
 */
static void compare_snapshot(struct proc *p)
{
	int64_t t = p->snap->ts;
	int32_t *at = NULL;
	size_t at_cap = 0, unc_cap = 0, n_before = p->n_recs;
	int32_t *unc = uncertain_fds(p, &unc_cap);
	int trusted = !(p->note_mask & (1u << BPFLEAK_NOTE_PRIVATE_MAIN));
	int in_flight = p->live_unconfirmed;
	p->n_uncertain = 0;
	for (size_t fd = 0; fd < unc_cap; fd++)
		p->n_uncertain += unc[fd] != 0;

	for (size_t i = 0; i < n_before; i++) {
		struct fdrec *r = &p->recs[i];
		if (!rec_open_at(r, t) || r->fd < 0)
			continue;
		fdslot(&at, &at_cap, r->fd);
		at[r->fd] = (int32_t)i + 1;
	}
	for (size_t k = 0; k < p->snap->found.n_fds; k++) {
		const struct bpfleak_snap_fd *f = &p->snap->found.fds[k];
		if (f->fd < 0 || f->fd >= MAX_FD)
			continue;
		struct fdrec *r = (size_t)f->fd < at_cap && at[f->fd] ? &p->recs[at[f->fd] - 1] : NULL;
		if (r && same_object(r, f)) {
			r->sfd = f;
			if (!r->kind)
				r->kind = f->kind;
			if (!r->obj_id)
				r->obj_id = f->obj_id;
			r->cloexec = f->cloexec;
			at[f->fd] = 0;
			continue;
		}
		if (!trusted || ((size_t)f->fd < unc_cap && unc[f->fd])) {
			explain_uncertain(p, f);
			if (r)
				at[f->fd] = 0;
			continue;
		}
		if (r) {
			mark_stale(p, r, STALE_SNAP_OTHER, t, in_flight);
			r->other_kind = f->kind;
			r->other_id = f->obj_id;
			at[f->fd] = 0;
		}
		add_snapshot_only(p, f, in_flight);
	}
	for (size_t fd = 0; fd < at_cap; fd++) {
		if (!at[fd] || !trusted || (fd < unc_cap && unc[fd]))
			continue;
		mark_stale(p, &p->recs[at[fd] - 1], STALE_SNAP_CLOSED, t, in_flight);
	}
	free(at);
	free(unc);
}

/*
 * Reconcile with the snapshot (if any), then the final open set: what the
 * journal still has open at its end (minus what the kernel contradicted)
 * plus what only the kernel knows.
 */
void reconcile_proc(struct proc *p)
{
	size_t cap = 0;
	free(p->final);
	p->final = NULL;
	p->n_final = 0;
	p->end_ns = p->snap ? p->snap->ts : p->last_ns;
	if (p->snap)
		compare_snapshot(p);
	for (size_t i = 0; i < p->n_recs; i++) {
		const struct fdrec *r = &p->recs[i];
		if (r->origin == OR_CLOSE_EVENT || r->closed_ns != NS_OPEN || r->stale)
			continue;
		cap = add_final(p, cap, i);
	}
	if (!p->snap && p->n_ev && p->end_ns < 0)
		p->end_ns = p->last_ns;
}

/* Why a process has no snapshot, in the header and the JSON. */
static void note_missing_snapshot(struct proc *p)
{
	if (p->snap || p->snap_note)
		return;
	if (p->exec_untraced && !p->n_final) {
		p->exec_note = xasprintf("exec'd %s (not traced)", p->exec_path ? p->exec_path : "an image");
		p->snap_note = p->exec_note;
	} else {
		p->snap_note = p->exited ? "the shim stored no exit snapshot"
					 : "no clean exit recorded (killed, or still running: try --pid)";
	}
}

/* A process without a snapshot has the journal's pin events for pins. */
void reconcile_all(struct model *m)
{
	for (size_t i = 0; i < m->n_procs; i++) {
		struct proc *p = m->procs[i];
		if (!p->pins) {
			p->pins = &m->journal_pins;
			p->pins_from_journal = 1;
		}
		reconcile_proc(p);
		note_missing_snapshot(p);
	}
}
