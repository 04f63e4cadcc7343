// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Which create/close pairs a folding pass folds (journal_fold.c runs the
 * pass).  Folding must change nothing a report says (test_analyzer_fold.c
 * checks it on thousands of random histories), so a pair is folded only
 * when nothing could ever need it as a row:
 *  - the create is a plain success (no flag but CLOEXEC/NO_STACK), the
 *    close a plain close that succeeded (no flag at all), both older than
 *    the cutoff and settled: rows reach the file up to a batch late, so a
 *    row the pass did not read may be older than the last one it did by a
 *    slack (2 s, or half the age when that is shorter); the pair must be
 *    older than that, counted from the newest row read when the pass
 *    stopped at max_rows, else from the cutoff (rows still to be written
 *    are younger than now minus the slack);
 *  - the close names the create's object (or none), and the create names
 *    no pin path (the report lists the pins a process opened);
 *  - they are consecutive in the history of that FD number of that process
 *    (nothing dup'd, pinned or marked it in between), the event before the
 *    create was a close (the number was free: otherwise the replay finds
 *    the FD it thought open replaced, right there), and the number was
 *    used again afterwards, so a later EBADF close of it is attributed to
 *    that later FD, as it was before folding;
 *  - from the create to the close, no exec, fork, drop, note (nor the
 *    second after one: a `child` note is written just before a fork or
 *    spawn, whose child may be journaled only hours later), snapshot,
 *    start of a child, or start of a new image of the process (nor the
 *    minute before it) falls, nor does it lie between an exec written
 *    before its call and the event that settles it: whatever the replay
 *    needs around those moments stays.
 * An FD still open is never folded, nor is its stack or object row.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <sqlite3.h>
#include <bpfleak/journal.h>
#include "journal_writer.h"
#include "journal_fold.h"

static int cmp_step(const void *a, const void *b)
{
	const struct step *x = a, *y = b;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->fd != y->fd)
		return x->fd < y->fd ? -1 : 1;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static int cmp_barrier(const void *a, const void *b)
{
	const struct barrier *x = a, *y = b;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return (x->start > y->start) - (x->start < y->start);
}

int fold_add_barrier(struct pass *p, int32_t pid, int64_t start, int64_t end)
{
	if (p->n_bar == p->cap_bar) {
		size_t cap = p->cap_bar ? p->cap_bar * 2 : 64;
		struct barrier *v = realloc(p->bar, cap * sizeof(*v));
		if (!v)
			return SQLITE_NOMEM;
		p->bar = v;
		p->cap_bar = cap;
	}
	p->bar[p->n_bar++] = (struct barrier){ .pid = pid, .start = start,
					      .end = end > start ? end : start };
	return SQLITE_OK;
}

static void add_step(struct pass *p, const struct fold_ev *e, int32_t fd, enum step_role role)
{
	if (fd < 0)
		return;
	p->steps[p->n_steps++] = (struct step){ .ts = e->ts, .seq = e->seq, .pid = e->pid,
						.fd = fd, .ev = (uint32_t)(e - p->ev),
						.role = (uint8_t)role };
}

/* What one event means for the FD numbers it names, or a barrier. */
int fold_classify(struct pass *p, const struct fold_ev *e)
{
	const int create_ok = BPFLEAK_EF_CLOEXEC | BPFLEAK_EF_NO_STACK;
	if (e->ts < 0)   /* a row that lies about its time: nothing of its process folds across it */
		return fold_add_barrier(p, e->pid > 0 ? e->pid : 0, 0, INT64_MAX);
	switch (e->op) {
	case BPFLEAK_OP_CREATE:
		add_step(p, e, e->fd, e->result >= 0 && !(e->flags & ~create_ok) && !e->detail
				      ? STEP_CREATE : STEP_OPENS);
		return SQLITE_OK;
	case BPFLEAK_OP_CLOSE:
		add_step(p, e, e->fd, e->result == 0 && !e->flags ? STEP_CLOSE : STEP_FREES);
		return SQLITE_OK;
	case BPFLEAK_OP_DUP:
		add_step(p, e, e->fd, STEP_OPENS);
		add_step(p, e, e->fd2, STEP_OTHER);
		return SQLITE_OK;
	case BPFLEAK_OP_INHERITED:
		add_step(p, e, e->fd, STEP_OPENS);
		return SQLITE_OK;
	case BPFLEAK_OP_PIN:
	case BPFLEAK_OP_CLOEXEC:
		add_step(p, e, e->fd, STEP_OTHER);
		return SQLITE_OK;
	case BPFLEAK_OP_ERROR:
		return SQLITE_OK;
	case BPFLEAK_OP_FORK: {
		int rc = fold_add_barrier(p, e->pid, e->ts, e->ts);
		return rc ? rc : fold_add_barrier(p, e->fd2 > 0 ? e->fd2 : 0, e->ts, e->ts);
	}
	case BPFLEAK_OP_EXEC:
		if (p->n_execs < MAX_EXECS_PER_PASS)
			p->execs[p->n_execs++] = (uint32_t)(e - p->ev);
		else
			return fold_add_barrier(p, e->pid, e->ts, INT64_MAX);
		return SQLITE_OK;
	case BPFLEAK_OP_NOTE:   /* a child's start included: the fork itself is after it */
		return fold_add_barrier(p, e->pid > 0 ? e->pid : 0, e->ts,
				   e->end > e->ts + NOTE_SETTLE_NS ? e->end : e->ts + NOTE_SETTLE_NS);
	default:   /* exec, drop, and codes from a newer writer */
		return fold_add_barrier(p, e->pid > 0 ? e->pid : 0, e->ts, e->end);
	}
}

/* Barriers of pid (or of every process) overlapping [a, b]. */
static bool crosses_barrier(const struct pass *p, int32_t pid, int64_t a, int64_t b)
{
	for (int32_t who = 0;; who = pid) {
		/* bar is sorted by (pid, start): the last of who's starting at or before b. */
		size_t lo = 0, hi = p->n_bar;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			const struct barrier *m = &p->bar[mid];
			if (m->pid < who || (m->pid == who && m->start <= b))
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo > 0 && p->bar[lo - 1].pid == who && p->bar_max_end[lo - 1] >= a)
			return true;
		if (who == pid)
			return false;
	}
}

int fold_prepare_barriers(struct pass *p)
{
	if (p->n_bar)
		qsort(p->bar, p->n_bar, sizeof(*p->bar), cmp_barrier);
	p->bar_max_end = malloc((p->n_bar + 1) * sizeof(*p->bar_max_end));
	if (!p->bar_max_end)
		return SQLITE_NOMEM;
	for (size_t i = 0; i < p->n_bar; i++) {
		int64_t end = p->bar[i].end;
		if (i && p->bar[i - 1].pid == p->bar[i].pid && p->bar_max_end[i - 1] > end)
			end = p->bar_max_end[i - 1];
		p->bar_max_end[i] = end;
	}
	return SQLITE_OK;
}

/* The replay settles an exec written before its call at the next event that changes FDs. */
static bool changes_fds(int op)
{
	return op == BPFLEAK_OP_CREATE || op == BPFLEAK_OP_DUP || op == BPFLEAK_OP_CLOSE ||
	       op == BPFLEAK_OP_CLOEXEC;
}

/*
 * An exec is pending from its event to the event that settles it: nothing
 * of its process folds in between (a pair there would move where the
 * replay settles it, or merge two failed execs into one).  An exec this
 * pass cannot see settled is read again by the next pass, once.
 */
int fold_settle_execs(struct pass *p, int64_t seen_before, int64_t *next_from)
{
	for (size_t k = 0; k < p->n_execs; k++) {
		const struct fold_ev *x = &p->ev[p->execs[k]];
		int64_t until = INT64_MAX;
		for (size_t i = 0; i < p->n_ev; i++) {
			const struct fold_ev *e = &p->ev[i];
			if (e->pid == x->pid && changes_fds(e->op) && e->ts < until &&
			    (e->ts > x->ts || (e->ts == x->ts && e->seq > x->seq)))
				until = e->ts;
		}
		if (until == INT64_MAX && x->seq > seen_before && x->seq - 1 < *next_from)
			*next_from = x->seq - 1;
		int rc = fold_add_barrier(p, x->pid, x->ts, until);
		if (rc)
			return rc;
	}
	return SQLITE_OK;
}

static bool same_fd(const struct step *a, const struct step *b)
{
	return a->pid == b->pid && a->fd == b->fd;
}

/*
 * The last event on c's number among the rows before the pass (a create
 * that is its number's first in the pass): was it a close?  "Last" in the
 * replay's (ts_ns, seq) order, among the few last written: rows reach the
 * file a little out of order (a close stamped before the create that
 * reused its number may be written after it).  A bounded look back; not
 * found means not known free.
 */
static bool free_before_pass(struct jw *j, sqlite3_stmt **st, const struct step *c, int64_t from)
{
	if (!*st && sqlite3_prepare_v2(j->db,
			"SELECT op, ts_ns, seq FROM event WHERE seq <= ?1 AND seq > ?1 - ?2 AND pid = ?3"
			" AND (fd = ?4 OR (op = 2 AND fd2 = ?4)) ORDER BY seq DESC LIMIT 8",
			-1, st, NULL) != SQLITE_OK)
		return false;
	sqlite3_reset(*st);
	sqlite3_bind_int64(*st, 1, from);
	sqlite3_bind_int64(*st, 2, PREV_LOOKBACK_ROWS);
	sqlite3_bind_int(*st, 3, c->pid);
	sqlite3_bind_int(*st, 4, c->fd);
	int op = -1;
	int64_t best_ts = INT64_MIN, best_seq = INT64_MIN;
	while (sqlite3_step(*st) == SQLITE_ROW) {
		int64_t ts = sqlite3_column_int64(*st, 1), seq = sqlite3_column_int64(*st, 2);
		if (ts > c->ts || (ts == c->ts && seq > c->seq))
			return false;   /* written before c, made after it: the pass cannot tell */
		if (ts > best_ts || (ts == best_ts && seq > best_seq)) {
			best_ts = ts;
			best_seq = seq;
			op = sqlite3_column_int(*st, 0);
		}
	}
	return op == BPFLEAK_OP_CLOSE;
}

/* Was the number free when c was made, as the replay will see it? */
static bool made_on_free_number(struct jw *j, const struct pass *p, size_t i, sqlite3_stmt **st,
				int64_t from)
{
	const struct step *c = &p->steps[i];
	if (i > 0 && same_fd(c - 1, c))
		return c[-1].role == STEP_CLOSE || c[-1].role == STEP_FREES;
	return free_before_pass(j, st, c, from);
}

static bool same_object(const struct fold_ev *made, const struct fold_ev *closed)
{
	return (!closed->obj_id || closed->obj_id == made->obj_id) &&
	       (!closed->kind || closed->kind == made->kind);
}

/*
 * Pairs to fold, and the seq the next pass starts after: before any create
 * this pass could not decide, unless an earlier pass already had its look.
 */
int64_t fold_find_pairs(struct jw *j, struct pass *p, int64_t from, int64_t settled,
			int64_t seen_before, int64_t next_from)
{
	sqlite3_stmt *st = NULL;
	qsort(p->steps, p->n_steps, sizeof(*p->steps), cmp_step);
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct step *c = &p->steps[i];
		if (c->role != STEP_CREATE)
			continue;
		const struct step *x = i + 1 < p->n_steps && same_fd(c, c + 1) ? c + 1 : NULL;
		const struct step *reuse = x && i + 2 < p->n_steps && same_fd(c, c + 2) ? c + 2 : NULL;
		bool unsettled = c->ts >= settled || (x && x->ts >= settled) ||
				 (reuse && reuse->ts >= settled);
		if (!x || (x->role == STEP_CLOSE && !reuse) || unsettled) {
			if ((c->seq > seen_before || unsettled) && c->seq > INT64_MIN &&
			    c->seq - 1 < next_from)
				next_from = c->seq - 1;
			continue;
		}
		if (x->role != STEP_CLOSE || x->ts < c->ts ||
		    (reuse->role != STEP_CREATE && reuse->role != STEP_OPENS) ||
		    !same_object(&p->ev[c->ev], &p->ev[x->ev]) ||
		    crosses_barrier(p, c->pid, c->ts, x->ts) ||
		    !made_on_free_number(j, p, i, &st, from))
			continue;
		const struct fold_ev *e = &p->ev[c->ev];
		int64_t interval = e->ts - e->ts % JW_FOLD_INTERVAL_NS;
		p->fold[p->n_fold++] = (struct folded){
			.pid = e->pid, .cmd = e->cmd, .kind = e->kind, .stack_id = e->stack_id,
			.interval = interval, .life = x->ts - c->ts, .ts = c->ts,
		};
		p->dead[c->ev] = true;
		p->dead[x->ev] = true;
	}
	sqlite3_finalize(st);
	return next_from;
}
