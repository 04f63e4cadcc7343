// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Folding a long run's balanced churn (the lifetime_fold table of
 * include/bpfleak/journal.h).  A stats exporter that opens and closes ten
 * maps by ID every second writes 1.7M events a day, every one of them a
 * create whose close follows; kept row by row, a week of staging is half a
 * gigabyte.  A pass takes the oldest events not yet looked at, finds the
 * create/close pairs among them and replaces each pair by one more count
 * in a per-site, per-interval summary row.
 *
 * A pair is folded only when nothing could ever need it as a row:
 *  - the create is a plain success (no flag but CLOEXEC/NO_STACK), the
 *    close a plain close that succeeded (no flag at all), both older than
 *    the cutoff and settled: rows reach the file up to a batch late, so a
 *    row the pass did not read may be older than the last one it did by a
 *    slack (2 s, or half the age when that is shorter); the pair must be
 *    older than that, counted from the newest row read when the pass
 *    stopped at max_rows, else from the cutoff (rows still to be written
 *    are younger than now minus the slack);
 *  - they are consecutive in the history of that FD number of that process
 *    (nothing dup'd, pinned or marked it in between) and the number was
 *    used again afterwards, so a later EBADF close of it is attributed to
 *    that later FD, as it was before folding;
 *  - no exec, fork, drop, note or snapshot of the process falls between
 *    them: whatever the replay needs around those moments stays.
 * An FD still open is never folded, nor is its stack or object row.
 *
 * meta fold_from is the last seq a pass does not need to read again;
 * creates a pass could not decide (the scan ended before their close or
 * before the number was reused) are read once more by the next pass, then
 * left as rows: a long-lived FD costs one extra read, not one per pass.
 * Those not settled yet are read again until they are, as long as passes
 * move on: a pass of max_rows that is all slack (above ~4,000 events a
 * second) leaves them as rows.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <bpfleak/journal.h>
#include "journal_writer.h"
#include "journal_writer_sql.h"

#define FOLD_SLACK_NS (2 * 1000000000ll)

struct fold_ev {
	int64_t seq, ts, end, stack_id;
	int32_t pid, fd, fd2, cmd, result, flags, op, kind;
};

enum step_role {
	STEP_CREATE,   /* a create that may fold */
	STEP_CLOSE,    /* a plain, successful close */
	STEP_OPENS,    /* anything else that puts an FD at this number */
	STEP_OTHER,    /* anything else that touches it */
};

/* One event in the history of one FD number of one process. */
struct step {
	int64_t ts, seq;
	int32_t pid, fd;
	uint32_t ev;
	uint8_t role;
};

/* A stretch of a process's time no pair may span. */
struct barrier {
	int32_t pid;             /* 0: every process */
	int64_t start, end;
};

struct folded {
	int32_t pid, cmd, kind;
	int64_t stack_id, interval, life, ts;
};

struct pass {
	struct fold_ev *ev;
	size_t n_ev;
	struct step *steps;
	size_t n_steps;
	struct barrier *bar;
	size_t n_bar, cap_bar;
	int64_t *bar_max_end;    /* running max of end over bar[0..i] */
	struct folded *fold;
	size_t n_fold;
	bool *dead;              /* by index in ev: the row folds */
};

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

static int cmp_folded(const void *a, const void *b)
{
	const struct folded *x = a, *y = b;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->stack_id != y->stack_id)
		return x->stack_id < y->stack_id ? -1 : 1;
	if (x->cmd != y->cmd)
		return x->cmd < y->cmd ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return (x->interval > y->interval) - (x->interval < y->interval);
}

static int meta_get(sqlite3 *db, const char *key, int64_t *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* jw_meta keeps a key's first value; the fold's keys move on. */
static int meta_set(struct jw *j, const char *key, int64_t v)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(j->db, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", -1,
				    &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v);
	rc = jw_sql_run(st);
	sqlite3_finalize(st);
	return rc;
}

static int add_barrier(struct pass *p, int32_t pid, int64_t start, int64_t end)
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
static int classify(struct pass *p, const struct fold_ev *e)
{
	const int create_ok = BPFLEAK_EF_CLOEXEC | BPFLEAK_EF_NO_STACK;
	switch (e->op) {
	case BPFLEAK_OP_CREATE:
		add_step(p, e, e->fd, e->result >= 0 && !(e->flags & ~create_ok) ? STEP_CREATE
										 : STEP_OPENS);
		return SQLITE_OK;
	case BPFLEAK_OP_CLOSE:
		add_step(p, e, e->fd, e->result == 0 && !e->flags ? STEP_CLOSE : STEP_OTHER);
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
		int rc = add_barrier(p, e->pid, e->ts, e->ts);
		return rc ? rc : add_barrier(p, e->fd2 > 0 ? e->fd2 : 0, e->ts, e->ts);
	}
	default:   /* exec, drop, note, and codes from a newer writer */
		return add_barrier(p, e->pid > 0 ? e->pid : 0, e->ts, e->end);
	}
}

static int read_events(struct jw *j, struct pass *p, int64_t from, uint64_t cutoff,
		       size_t max_rows, bool *more)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(j->db,
		"SELECT seq, ts_ns, pid, op, coalesce(fd, -1), coalesce(fd2, -1), coalesce(cmd, -1),"
		" coalesce(obj_kind, 0), coalesce(stack_id, 0), coalesce(result, 0),"
		" coalesce(flags, 0), coalesce(end_ns, ts_ns) FROM event WHERE seq > ?"
		" ORDER BY seq LIMIT ?", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	p->ev = malloc(max_rows * sizeof(*p->ev));
	if (!p->ev) {
		sqlite3_finalize(st);
		return SQLITE_NOMEM;
	}
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, (int64_t)max_rows);
	*more = false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t ts = sqlite3_column_int64(st, 1);
		/* The first row too young ends the pass: later seqs are younger. */
		if (ts < 0 || (uint64_t)ts >= cutoff)
			break;
		p->ev[p->n_ev++] = (struct fold_ev){
			.seq = sqlite3_column_int64(st, 0), .ts = ts,
			.pid = sqlite3_column_int(st, 2), .op = sqlite3_column_int(st, 3),
			.fd = sqlite3_column_int(st, 4), .fd2 = sqlite3_column_int(st, 5),
			.cmd = sqlite3_column_int(st, 6), .kind = sqlite3_column_int(st, 7),
			.stack_id = sqlite3_column_int64(st, 8), .result = sqlite3_column_int(st, 9),
			.flags = sqlite3_column_int(st, 10), .end = sqlite3_column_int64(st, 11),
		};
		if (p->n_ev == max_rows)
			*more = true;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Snapshots bracket moments the replay compares with the kernel's view. */
static int read_snapshots(struct jw *j, struct pass *p, int64_t lo, int64_t hi)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(j->db, "SELECT pid, ts_ns, coalesce(end_ns, ts_ns) FROM snapshot"
				    " WHERE coalesce(end_ns, ts_ns) >= ? AND ts_ns <= ?", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, lo);
	sqlite3_bind_int64(st, 2, hi);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (add_barrier(p, sqlite3_column_int(st, 0), sqlite3_column_int64(st, 1),
				sqlite3_column_int64(st, 2)) != SQLITE_OK) {
			rc = SQLITE_NOMEM;
			break;
		}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
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

static int prepare_barriers(struct pass *p)
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

static bool same_fd(const struct step *a, const struct step *b)
{
	return a->pid == b->pid && a->fd == b->fd;
}

/*
 * Pairs to fold, and the seq the next pass starts after: before any create
 * this pass could not decide, unless an earlier pass already had its look.
 */
static int64_t find_pairs(struct pass *p, int64_t settled, int64_t seen_before, int64_t next_from)
{
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct step *c = &p->steps[i];
		if (c->role != STEP_CREATE)
			continue;
		const struct step *x = i + 1 < p->n_steps && same_fd(c, c + 1) ? c + 1 : NULL;
		const struct step *reuse = x && i + 2 < p->n_steps && same_fd(c, c + 2) ? c + 2 : NULL;
		bool unsettled = c->ts >= settled || (x && x->ts >= settled);
		if (!x || (x->role == STEP_CLOSE && !reuse) || unsettled) {
			if ((c->seq > seen_before || unsettled) && c->seq > INT64_MIN &&
			    c->seq - 1 < next_from)
				next_from = c->seq - 1;
			continue;
		}
		if (x->role != STEP_CLOSE || x->ts < c->ts ||
		    (reuse->role != STEP_CREATE && reuse->role != STEP_OPENS) ||
		    crosses_barrier(p, c->pid, c->ts, x->ts))
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
	return next_from;
}

/*
 * The pass read every row of its seq range, so scanned rows next to each
 * other that both fold are a range with nothing else in it: churn goes in
 * a few range deletes rather than a delete per row.
 */
static int delete_rows(struct jw *j, const struct pass *p)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(j->db, "DELETE FROM event WHERE seq BETWEEN ? AND ?", -1, &st,
				    NULL);
	for (size_t i = 0; rc == SQLITE_OK && i < p->n_ev;) {
		if (!p->dead[i]) {
			i++;
			continue;
		}
		size_t k = i;
		while (k + 1 < p->n_ev && p->dead[k + 1])
			k++;
		sqlite3_bind_int64(st, 1, p->ev[i].seq);
		sqlite3_bind_int64(st, 2, p->ev[k].seq);
		rc = jw_sql_run(st);
		i = k + 1;
	}
	sqlite3_finalize(st);
	return rc;
}

static int write_summaries(struct jw *j, struct pass *p)
{
	qsort(p->fold, p->n_fold, sizeof(*p->fold), cmp_folded);
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(j->db,
		"INSERT INTO lifetime_fold(pid, stack_id, cmd, obj_kind, interval_ns, count,"
		" min_life_ns, max_life_ns, first_ns, last_ns) VALUES (?,?,?,?,?,?,?,?,?,?)"
		" ON CONFLICT DO UPDATE SET count = count + excluded.count,"
		" min_life_ns = min(min_life_ns, excluded.min_life_ns),"
		" max_life_ns = max(max_life_ns, excluded.max_life_ns),"
		" first_ns = min(first_ns, excluded.first_ns), last_ns = max(last_ns, excluded.last_ns)",
		-1, &st, NULL);
	for (size_t i = 0; rc == SQLITE_OK && i < p->n_fold;) {
		const struct folded *f = &p->fold[i];
		int64_t count = 0, lo = INT64_MAX, hi = 0, first = INT64_MAX, last = INT64_MIN;
		size_t k = i;
		for (; k < p->n_fold && !cmp_folded(f, &p->fold[k]); k++) {
			const struct folded *g = &p->fold[k];
			count++;
			lo = g->life < lo ? g->life : lo;
			hi = g->life > hi ? g->life : hi;
			first = g->ts < first ? g->ts : first;
			last = g->ts > last ? g->ts : last;
		}
		int64_t v[] = { f->pid, f->stack_id, f->cmd, f->kind, f->interval, count, lo, hi,
				first, last };
		for (int c = 0; c < 10; c++)
			sqlite3_bind_int64(st, c + 1, v[c]);
		rc = jw_sql_run(st);
		i = k;
	}
	sqlite3_finalize(st);
	return rc;
}

static int record_pass(struct jw *j, int64_t next_from, int64_t seen, size_t folded,
		       uint64_t age_ns)
{
	int64_t total = 0;
	int rc = meta_get(j->db, "folded_pairs", &total);
	if (!rc)
		rc = meta_set(j, "fold_from", next_from);
	if (!rc)
		rc = meta_set(j, "fold_seen", seen);
	if (!rc)
		rc = meta_set(j, "folded_pairs", total + (int64_t)folded);
	if (!rc)
		rc = meta_set(j, "fold_age_ns", (int64_t)age_ns);
	if (!rc)
		rc = meta_set(j, "fold_interval_ns", JW_FOLD_INTERVAL_NS);
	return rc;
}

static void pass_free(struct pass *p)
{
	free(p->ev);
	free(p->steps);
	free(p->bar);
	free(p->bar_max_end);
	free(p->fold);
	free(p->dead);
}

int jw_fold(struct jw *j, uint64_t now_ns, uint64_t age_ns, size_t max_rows,
	    struct jw_fold_result *res)
{
	struct pass p = { 0 };
	int64_t from = 0, seen = 0;
	memset(res, 0, sizeof(*res));
	if (now_ns <= age_ns || !max_rows)
		return SQLITE_OK;
	int rc = meta_get(j->db, "fold_from", &from);
	if (!rc)
		rc = meta_get(j->db, "fold_seen", &seen);
	if (!rc)
		rc = read_events(j, &p, from, now_ns - age_ns, max_rows, &res->more);
	if (rc || !p.n_ev)
		goto out;
	p.steps = malloc(2 * p.n_ev * sizeof(*p.steps));
	p.fold = malloc(p.n_ev * sizeof(*p.fold));
	p.dead = calloc(p.n_ev, sizeof(*p.dead));
	if (!p.steps || !p.fold || !p.dead) {
		rc = SQLITE_NOMEM;
		goto out;
	}
	int64_t oldest = INT64_MAX, newest = INT64_MIN;
	for (size_t i = 0; i < p.n_ev && !rc; i++) {
		oldest = p.ev[i].ts < oldest ? p.ev[i].ts : oldest;
		newest = p.ev[i].ts > newest ? p.ev[i].ts : newest;
		rc = classify(&p, &p.ev[i]);
	}
	if (!rc)
		rc = read_snapshots(j, &p, oldest, newest);
	if (!rc)
		rc = prepare_barriers(&p);
	if (rc)
		goto out;
	qsort(p.steps, p.n_steps, sizeof(*p.steps), cmp_step);
	int64_t last_seq = p.ev[p.n_ev - 1].seq;
	int64_t slack = age_ns / 2 < FOLD_SLACK_NS ? (int64_t)(age_ns / 2) : FOLD_SLACK_NS;
	int64_t settled = (res->more ? newest : (int64_t)(now_ns - age_ns)) - slack;
	int64_t next_from = find_pairs(&p, settled, seen, last_seq);
	/* A full pass that settled nothing is read again at once: move on, or passes would spin. */
	if (res->more && next_from <= from)
		next_from = last_seq;
	rc = delete_rows(j, &p);
	if (!rc)
		rc = write_summaries(j, &p);
	if (!rc)
		rc = record_pass(j, next_from, last_seq, p.n_fold, age_ns);
	res->scanned = p.n_ev;
	res->folded = p.n_fold;
out:
	pass_free(&p);
	return rc;
}
