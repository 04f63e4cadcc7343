// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Replay: walk one process's events in (ts, seq) order and rebuild the life
 * of every FD (struct fdrec: born where, closed when and how), then
 * reconcile the FDs open at the snapshot's instant with what the kernel
 * reported.  Every disagreement is kept: stale records, snapshot-only FDs,
 * and warnings for journal-internal oddities, so nothing is dropped
 * silently.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "analyzer.h"

/* Same message twice is counted, not repeated: a journal can be huge. */
static void warn_into(struct warning **w, size_t *n, size_t *cap, const char *text)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*w)[i].text, text) == 0) {
			(*w)[i].count++;
			return;
		}
	GROW(*w, *cap, *n + 1);
	(*w)[*n].text = xstrdup(text);
	(*w)[*n].count = 1;
	(*n)++;
}

void proc_warn(struct proc *p, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	warn_into(&p->warns, &p->n_warns, &p->cap_warns, buf);
}

void model_warn(struct model *m, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	warn_into(&m->warns, &m->n_warns, &m->cap_warns, buf);
}

int rec_open_at(const struct fdrec *r, int64_t t)
{
	return r->origin != OR_CLOSE_EVENT && r->created_ns <= t && r->closed_ns > t;
}

static void fdslot(int32_t **arr, size_t *cap, int fd)
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

static struct fdrec *open_rec(struct proc *p, int fd)
{
	if (fd < 0 || (size_t)fd >= p->open_cap || !p->open[fd])
		return NULL;
	return &p->recs[p->open[fd] - 1];
}

static struct fdrec *new_rec(struct proc *p, int fd, int64_t ts)
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

static void close_rec(struct proc *p, struct fdrec *r, int64_t ts, int how)
{
	r->closed_ns = ts;
	r->how = how;
	r->exec_pending = 0;
	if (r->fd >= 0 && (size_t)r->fd < p->open_cap && p->open[r->fd] &&
	    &p->recs[p->open[r->fd] - 1] == r)
		p->open[r->fd] = 0;
}

/* The journal believed r open, yet the kernel reused or refused its number. */
static void vanish(struct proc *p, struct fdrec *r, int64_t ts, int why)
{
	close_rec(p, r, ts, H_VANISHED);
	r->stale = why;
	r->stale_ns = ts;
	r->after_drop = p->first_drop_ns != 0 && p->first_drop_ns <= ts;
}

/* Find the parent's FD that a fork child's inherited fd is a copy of. */
static const struct fdrec *parent_rec(struct model *m, struct proc *p, const struct ev *e)
{
	struct proc *pp = p->ppid ? model_proc(m, p->ppid, 0) : NULL;
	if (!pp || pp == p)
		return NULL;
	replay_proc(m, pp);
	int64_t at = p->fork_ts ? p->fork_ts : e->ts;
	if (e->fd < 0 || (size_t)e->fd >= pp->last_cap)
		return NULL;
	/* Walk that FD number's history back from its last holder. */
	for (int64_t i = pp->last[e->fd] - 1; i >= 0; i = pp->recs[i].prev_at_fd) {
		const struct fdrec *r = &pp->recs[i];
		if (r->created_ns > at || (e->obj_id && r->obj_id != e->obj_id))
			continue;
		return r;   /* open at the fork, or the latest before it (clock ties) */
	}
	return NULL;
}

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
	int how = e->flags & BPFLEAK_EF_IMPLICIT ? H_IMPLICIT
		: e->flags & BPFLEAK_EF_RANGE ? H_RANGE : H_CLOSE;
	close_rec(p, r, e->ts, how);
	r->close_stack = e->stack_id;
}

/*
 * A process whose first image was started by a journaled parent (a fork
 * child that exec'd before it touched bpf) holds copies of the parent's
 * FDs, maybe on other numbers: the parent's FD on the same object, open
 * when the child started (else the latest made before), was made where
 * the child's was.
 */
static const struct fdrec *parent_rec_by_object(struct model *m, struct proc *p,
						 const struct ev *e)
{
	struct proc *pp = p->ppid ? model_proc(m, p->ppid, 0) : NULL;
	if (!pp || pp == p || !e->obj_id)
		return NULL;
	replay_proc(m, pp);
	/* The child's first image start is the nearest known time to the fork. */
	int64_t at = e->ts;
	for (size_t i = 0; i < p->n_images; i++)
		if (p->images[i].started_ns >= 0 && p->images[i].started_ns <= at)
			at = p->images[i].started_ns;
	const struct fdrec *best = NULL;
	for (size_t i = 0; i < pp->n_recs; i++) {
		const struct fdrec *r = &pp->recs[i];
		if (r->origin == OR_CLOSE_EVENT || r->obj_id != e->obj_id ||
		    (e->kind && r->kind && r->kind != e->kind) || r->created_ns > at)
			continue;
		int open = rec_open_at(r, at), best_open = best && rec_open_at(best, at);
		if (!best || (open && !best_open) ||
		    (open == best_open && (r->fd == e->fd) > (best->fd == e->fd)) ||
		    (open == best_open && (r->fd == e->fd) == (best->fd == e->fd) &&
		     r->created_ns >= best->created_ns))
			best = r;
	}
	return best;
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
		const struct fdrec *pr = parent_rec(m, p, e);
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
		const struct fdrec *pr = parent_rec_by_object(m, p, e);
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
	if (p->replay_state == 2)
		return;
	if (p->replay_state == 1) {
		/* A fork loop can only come from pid reuse; break it here. */
		proc_warn(p, "pid %d appears as its own ancestor (pid reuse)", p->pid);
		return;
	}
	p->replay_state = 1;
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
	p->replay_state = 2;
}

void replay_all(struct model *m)
{
	for (size_t i = 0; i < m->n_procs; i++)
		replay_proc(m, m->procs[i]);
}

static int same_object(const struct fdrec *r, const struct snap_fd *f)
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
static void explain_uncertain(struct proc *p, const struct snap_fd *f)
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

static void add_snapshot_only(struct proc *p, const struct snap_fd *f, int in_flight)
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

static void mark_stale(struct proc *p, struct fdrec *r, int why, int64_t t, int in_flight)
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
	for (size_t k = 0; k < p->snap->n_fds; k++) {
		const struct snap_fd *f = &p->snap->fds[k];
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
void reconcile_proc(struct model *m, struct proc *p)
{
	(void)m;
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
