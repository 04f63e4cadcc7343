// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Replay: walk one process's events in (ts, seq) order and rebuild the life
 * of every FD (struct fdrec: born where, closed when and how; fdtable.c
 * keeps them).  Every disagreement is kept: stale records and warnings for
 * journal-internal oddities, so nothing is dropped silently.  A child's
 * inherited FDs need its parent replayed first (replay_parent.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "analyzer.h"

/* An image of this process (a process row) started at or after t. */
static int image_started_since(const struct proc *p, int64_t t)
{
	for (size_t i = 0; i < p->n_images; i++)
		if (p->images[i].started_ns >= t && strcmp(p->images[i].origin, "fork") != 0)
			return 1;
	return 0;
}

/* Did the image exec'd into record anything (so it listed what it kept)? */
static int exec_traced(const struct proc *p)
{
	return p->exec_listed || p->exec_confirmed || image_started_since(p, p->exec_ts);
}

/*
 * After an exec, FDs the new image did not list again died by O_CLOEXEC
 * (or were closed while it was not recording, which amounts to the same).
 * An image that recorded nothing kept the FDs without O_CLOEXEC.
 */
static void settle_exec(struct proc *p, int traced_after)
{
	if (!p->exec_pending)
		return;
	p->exec_pending = 0;
	if (p->exec_path && !p->exec_confirmed) {
		free(p->exe);
		p->exe = xstrdup(p->exec_path);
	}
	for (size_t i = 0; i < p->n_recs; i++) {
		struct fdrec *r = &p->recs[i];
		if (!r->exec_pending)
			continue;
		r->exec_pending = 0;
		if (traced_after || r->cloexec)
			close_rec(p, r, p->exec_ts, H_EXEC);
	}
	p->exec_untraced = !traced_after;
}

/*
 * The exec written before the call did not happen when the same image
 * goes on changing FDs with no new image in between: execvp trying
 * PATH entries, a missing file.  Only journals with process rows can tell.
 */
static int exec_failed(const struct proc *p)
{
	return p->exec_before && !exec_traced(p) && p->n_images > 0;
}

/* An FD-changing event: a pending exec is decided now. */
static void settle_before(struct proc *p)
{
	if (!p->exec_pending)
		return;
	if (exec_failed(p)) {
		for (size_t i = 0; i < p->n_recs; i++)
			p->recs[i].exec_pending = 0;
		p->exec_pending = 0;
		proc_warn(p, "exec of %s failed: the same image went on",
			  p->exec_path ? p->exec_path : "?");
		return;
	}
	settle_exec(p, 1);
}

static int same_obj(const struct fdrec *r, int kind, uint32_t id)
{
	return (!r->kind || !kind || r->kind == kind) && (!r->obj_id || !id || r->obj_id == id);
}

/*
 * A create whose FD the activation scan already listed as held: another
 * thread's create raced the scan.  The create is that FD's birth.
 */
static int take_over_listed(struct fdrec *old, const struct ev *e)
{
	if (!(e->flags & BPFLEAK_EF_LISTED) || !same_obj(old, e->kind, e->obj_id) ||
	    old->origin != OR_INHERIT_START)
		return 0;
	old->origin = OR_CREATE;
	old->cmd = e->cmd;
	old->stack_id = e->stack_id;
	old->stack_ts = e->ts;
	old->no_stack_alt = (e->flags & BPFLEAK_EF_NO_STACK) && !e->stack_id;
	if (!old->kind)
		old->kind = e->kind;
	if (!old->obj_id)
		old->obj_id = e->obj_id;
	return 1;
}

static void do_create(struct proc *p, const struct ev *e)
{
	struct fdrec *old = open_rec(p, e->fd);
	if (old && take_over_listed(old, e))
		return;
	if (old)
		vanish(p, old, e->ts, STALE_REUSED);
	struct fdrec *r = new_rec(p, e->fd, e->ts);
	r->kind = e->kind;
	r->obj_id = e->obj_id;
	r->origin = OR_CREATE;
	r->cmd = e->cmd;
	r->stack_id = e->stack_id;
	r->cloexec = e->flags & BPFLEAK_EF_CLOEXEC;
	r->no_stack_alt = (e->flags & BPFLEAK_EF_NO_STACK) && !e->stack_id;
}

static void do_dup(struct proc *p, const struct ev *e)
{
	struct fdrec *src = open_rec(p, e->fd2);
	struct fdrec *old = open_rec(p, e->fd);
	/* dup2 over a tracked FD without the shim's implicit close first. */
	if (old && old != src)
		close_rec(p, old, e->ts, H_IMPLICIT);
	else if (old == src && src)
		return;  /* dup2(fd, fd) is a no-op */
	if (!src)
		proc_warn(p, "dup of fd %d that the journal does not show open%s", e->fd2,
			  p->first_drop_ns ? " (events were dropped)" : "");
	/* new_rec may move p->recs: take what we need of src first. */
	int src_cmd = src ? src->cmd : -1;
	int src_kind = src ? src->kind : 0;
	uint32_t src_id = src ? src->obj_id : 0;
	struct fdrec *r = new_rec(p, e->fd, e->ts);
	r->kind = e->kind;
	r->obj_id = e->obj_id;
	if (!r->kind && src_kind) {
		r->kind = src_kind;
		r->obj_id = src_id;
	}
	r->origin = OR_DUP;
	r->cmd = src_cmd;
	r->stack_id = e->stack_id;
	r->src_fd = e->fd2;
	r->cloexec = e->flags & BPFLEAK_EF_CLOEXEC;
	r->no_stack_alt = (e->flags & BPFLEAK_EF_NO_STACK) && !e->stack_id;
}

static void do_close(struct proc *p, const struct ev *e)
{
	struct fdrec *r = open_rec(p, e->fd);
	if (e->result == -EBADF) {
		int64_t last = -1;
		if (r) {
			/* The kernel says it was not open: something closed it unseen. */
			vanish(p, r, e->ts, STALE_EBADF);
			last = r - p->recs;
		} else if (e->fd >= 0 && (size_t)e->fd < p->last_cap && p->last[e->fd]) {
			last = p->last[e->fd] - 1;
		}
		/* A close-everything sweep hits closed numbers on purpose. */
		if (e->flags & BPFLEAK_EF_SWEEP)
			return;
		struct fdrec *d = new_rec(p, -1, e->ts);
		d->fd = e->fd;
		d->origin = OR_CLOSE_EVENT;
		d->kind = e->kind;
		d->obj_id = e->obj_id;
		d->closed_ns = e->ts;
		d->how = H_CLOSE;
		d->close_stack = e->stack_id;
		d->last_rec = last;
		if (!d->kind && last >= 0) {
			d->kind = p->recs[last].kind;
			d->obj_id = p->recs[last].obj_id;
		}
		return;
	}
	if (!r) {
		proc_warn(p, "close of fd %d that the journal does not show open%s", e->fd,
			  p->first_drop_ns ? " (events were dropped)" : "");
		return;
	}
	if (e->obj_id && r->obj_id && e->obj_id != r->obj_id)
		proc_warn(p, "close of fd %d: the shim saw %s %u, the replay %s %u", e->fd,
			  bpfleak_kind_name(e->kind), e->obj_id, bpfleak_kind_name(r->kind),
			  r->obj_id);
	enum close_how how = e->flags & BPFLEAK_EF_IMPLICIT ? H_IMPLICIT
		: e->flags & BPFLEAK_EF_RANGE ? H_RANGE : H_CLOSE;
	close_rec(p, r, e->ts, how);
	r->close_stack = e->stack_id;
}

/* The child's copy was made where the parent's FD was made. */
static void borrow_site(struct fdrec *r, const struct fdrec *pr, int parent)
{
	r->stack_id = pr->stack_id;
	r->stack_pid = pr->stack_pid;
	r->stack_ts = pr->stack_ts;
	r->cmd = pr->cmd;
	r->parent_pid = parent;
	r->no_stack_alt = pr->no_stack_alt;
	if (!r->kind) {
		r->kind = pr->kind;
		r->obj_id = pr->obj_id;
	}
}

/* The parent of p, replayed first so that its records are complete; NULL: none. */
static struct proc *replayed_parent(struct model *m, struct proc *p)
{
	struct proc *pp = p->ppid ? model_proc(m, p->ppid, 0) : NULL;
	if (!pp || pp == p)
		return NULL;
	replay_proc(m, pp);
	return pp;
}

static void do_inherited(struct model *m, struct proc *p, const struct ev *e)
{
	const char *why = e->detail ? e->detail : "start";
	struct fdrec *cur = open_rec(p, e->fd);

	/* However the new image lists it (exec, or start when it began
	 * recording later): it survived the exec and keeps its birth site. */
	if (p->exec_pending)
		p->exec_listed = 1;
	if (cur && cur->exec_pending && same_obj(cur, e->kind, e->obj_id)) {
		cur->exec_pending = 0;
		return;
	}
	if (cur && cur->kind == e->kind && cur->obj_id == e->obj_id && strcmp(why, "exec") != 0)
		return;  /* listed twice */
	/* Another object on the number of an FD from before the exec: that
	 * one died at exec (O_CLOEXEC) and the new image reused its number. */
	if (cur && cur->exec_pending)
		close_rec(p, cur, p->exec_ts, H_EXEC);
	else if (cur)
		vanish(p, cur, e->ts, STALE_REUSED);
	struct fdrec *r = new_rec(p, e->fd, e->ts);
	r->kind = e->kind;
	r->obj_id = e->obj_id;
	r->cloexec = e->flags & BPFLEAK_EF_CLOEXEC;
	r->cmd = -1;
	if (strcmp(why, "fork") == 0) {
		r->origin = OR_INHERIT_FORK;
		r->parent_pid = p->ppid;
		r->src_fd = e->fd;
		const struct proc *pp = replayed_parent(m, p);
		const struct fdrec *pr = pp ? parent_rec(pp, p, e) : NULL;
		if (pr) {
			borrow_site(r, pr, p->ppid);
		} else {
			proc_warn(p, "fd %d inherited from parent %d, which the journal does not "
				  "show holding it", e->fd, p->ppid);
		}
	} else if (strcmp(why, "exec") == 0) {
		r->origin = OR_INHERIT_EXEC;
		proc_warn(p, "fd %d survived an exec but was unknown before it", e->fd);
	} else if (strcmp(why, "restart") == 0) {
		r->origin = OR_INHERIT_RESTART;
	} else if (strcmp(why, "exit") == 0) {
		/* Found held only at exit: made where the recorder could not see
		 * (raw syscalls), as unexplained as an FD only the snapshot shows. */
		r->origin = OR_SNAPSHOT;
	} else if (strcmp(why, "attach") == 0) {
		r->origin = OR_INHERIT_ATTACH;
	} else {
		r->origin = OR_INHERIT_START;
		const struct proc *pp = e->obj_id ? replayed_parent(m, p) : NULL;
		const struct fdrec *pr = pp ? parent_rec_by_object(pp, p, e) : NULL;
		if (pr) {
			borrow_site(r, pr, p->ppid);
			r->src_fd = pr->fd;
		}
	}
}

static void do_fork(struct proc *p, const struct ev *e)
{
	size_t n = 0;
	settle_exec(p, exec_traced(p));
	for (size_t i = 0; i < p->n_recs; i++)
		if (p->recs[i].closed_ns == NS_OPEN && p->recs[i].origin != OR_CLOSE_EVENT) {
			close_rec(p, &p->recs[i], e->ts, H_EXIT);
			n++;
		}
	if (n)
		proc_warn(p, "pid %d was reused: %zu FDs of the earlier process ended with it",
			  p->pid, n);
	p->ppid = e->fd2;
	p->fork_ts = e->ts;
}

/*
 * The image that calls exec writes it before the call (BEFORE_EXEC); the
 * new image writes one too when it did not find that one.  With no FD
 * change in between they are the same exec: settled once, when the next
 * FD-changing event (or the end) says what survived.
 */
static void do_exec(struct proc *p, const struct ev *e)
{
	int before = (e->flags & BPFLEAK_EF_BEFORE_EXEC) != 0;
	if (e->detail) {
		free(p->exec_path);
		p->exec_path = xstrdup(e->detail);
	}
	/* Written before the call, the exec may still fail: the process is
	 * named by its new image once the exec is settled. */
	if (e->detail && !before) {
		free(p->exe);
		p->exe = xstrdup(e->detail);
	}
	if (p->exec_pending) {
		if (!before)
			p->exec_confirmed = 1;
		return;
	}
	p->exec_pending = 1;
	p->exec_ts = e->ts;
	p->exec_before = before;
	p->exec_confirmed = !before;
	p->exec_listed = 0;
	p->exec_untraced = 0;
	for (size_t i = 0; i < p->n_recs; i++)
		if (p->recs[i].closed_ns == NS_OPEN && p->recs[i].origin != OR_CLOSE_EVENT)
			p->recs[i].exec_pending = 1;
}

/* Events that change the FD table decide a pending exec; notes and the like do not. */
static int changes_fds(int op)
{
	return op == BPFLEAK_OP_CREATE || op == BPFLEAK_OP_DUP || op == BPFLEAK_OP_CLOSE ||
	       op == BPFLEAK_OP_CLOEXEC;
}

void replay_proc(struct model *m, struct proc *p)
{
	if (p->replay_state == REPLAY_DONE)
		return;
	if (p->replay_state == REPLAY_RUNNING) {
		/* A fork loop can only come from pid reuse; break it here. */
		proc_warn(p, "pid %d appears as its own ancestor (pid reuse)", p->pid);
		return;
	}
	p->replay_state = REPLAY_RUNNING;
	for (size_t i = 0; i < p->n_ev; i++) {
		const struct ev *e = &p->evs[i];
		if (e->fd >= MAX_FD || (e->op == BPFLEAK_OP_DUP && e->fd2 >= MAX_FD)) {
			proc_warn(p, "event %lld: fd %d is out of range; ignored", (long long)e->seq,
				  e->fd >= MAX_FD ? e->fd : e->fd2);
			continue;
		}
		if (p->exec_pending && changes_fds(e->op))
			settle_before(p);
		switch (e->op) {
		case BPFLEAK_OP_CREATE:
			if (e->fd >= 0)
				do_create(p, e);
			break;
		case BPFLEAK_OP_DUP:
			if (e->fd >= 0)
				do_dup(p, e);
			break;
		case BPFLEAK_OP_CLOSE:
			do_close(p, e);
			break;
		case BPFLEAK_OP_PIN:
			if (e->detail && e->obj_id)
				pinset_add(&m->journal_pins, e->kind, e->obj_id, e->detail);
			break;
		case BPFLEAK_OP_INHERITED:
			if (e->fd >= 0)
				do_inherited(m, p, e);
			break;
		case BPFLEAK_OP_EXEC:
			do_exec(p, e);
			break;
		case BPFLEAK_OP_FORK:
			do_fork(p, e);
			break;
		case BPFLEAK_OP_DROP:
			p->dropped += (uint64_t)(e->fd2 > 0 ? e->fd2 : 0);
			if (!p->first_drop_ns)
				p->first_drop_ns = e->ts ? e->ts : 1;
			break;
		case BPFLEAK_OP_ERROR:
			p->failed_creates++;
			break;
		case BPFLEAK_OP_CLOEXEC: {
			struct fdrec *r = open_rec(p, e->fd);
			if (r)
				r->cloexec = 1;
			break;
		}
		case BPFLEAK_OP_NOTE:
			break;   /* collected when loaded (p->notes) */
		default:
			proc_warn(p, "event op %d is not understood by this bpfleak-report", e->op);
		}
	}
	/*
	 * An exec with no FD change after it: if the new image recorded
	 * anything (a listing, a process row) it listed what it kept;
	 * otherwise it was not traced, and the FDs' own O_CLOEXEC flags
	 * decide, which is what the kernel did.
	 */
	if (p->exec_pending && exec_failed(p) && p->snap && p->snap->ts > p->exec_ts)
		settle_before(p);   /* the same image wrote the exit snapshot */
	else
		settle_exec(p, exec_traced(p));
	if (p->exec_untraced)
		proc_warn(p, "pid %d exec'd %s, which the shim did not trace: FDs without "
			  "O_CLOEXEC are assumed to survive", p->pid, p->exec_path ? p->exec_path : "an image");
	p->replay_state = REPLAY_DONE;
}

void replay_all(struct model *m)
{
	for (size_t i = 0; i < m->n_procs; i++)
		replay_proc(m, m->procs[i]);
}
