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
 * Which pairs fold is journal_fold_pairs.c's part; this file runs the
 * pass: reads the rows and the moments around them, deletes what folds and
 * adds it to the summaries, and keeps its place in meta.
 *
 * meta fold_from is the last seq a pass does not need to read again;
 * creates a pass could not decide (the scan ended before their close or
 * before the number was reused) are read once more by the next pass, then
 * left as rows: a long-lived FD costs one extra read, not one per pass.
 * Those not settled yet are read again until they are, as long as passes
 * move on: a full pass widens to 8 times max_rows while its rows span less
 * than twice the slack, and moves on by a quarter of its rows at least, so
 * churn folds up to ~16,000 events a second (65,536 rows spanning 4 s) and
 * some of it stays as rows above that.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <bpfleak/journal.h>
#include <bpfleak/sqlquery.h>
#include "journal_writer.h"
#include "journal_writer_sql.h"
#include "journal_fold.h"

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

/*
 * Rows after seq `from`, in seq order, appended to p->ev until it holds
 * `rows` (then *more) or a row is younger than the cutoff.
 */
static int read_events(struct jw *j, struct pass *p, int64_t from, uint64_t cutoff,
		       size_t rows, bool *more)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(j->db,
		"SELECT seq, ts_ns, pid, op, coalesce(fd, -1), coalesce(fd2, -1), coalesce(cmd, -1),"
		" coalesce(obj_kind, 0), coalesce(stack_id, 0), coalesce(result, 0),"
		" coalesce(flags, 0), coalesce(end_ns, ts_ns), coalesce(obj_id, 0), detail IS NOT NULL"
		" FROM event WHERE seq > ? ORDER BY seq LIMIT ?", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	struct fold_ev *ev = realloc(p->ev, rows * sizeof(*p->ev));
	if (!ev) {
		sqlite3_finalize(st);
		return SQLITE_NOMEM;
	}
	p->ev = ev;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, (int64_t)(rows - p->n_ev));
	*more = false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t ts = sqlite3_column_int64(st, 1);
		/* The first row too young ends the pass: later seqs are younger. */
		if (ts >= 0 && (uint64_t)ts >= cutoff)
			break;
		p->ev[p->n_ev++] = (struct fold_ev){
			.seq = sqlite3_column_int64(st, 0), .ts = ts,
			.pid = sqlite3_column_int(st, 2), .op = sqlite3_column_int(st, 3),
			.fd = sqlite3_column_int(st, 4), .fd2 = sqlite3_column_int(st, 5),
			.cmd = sqlite3_column_int(st, 6), .kind = sqlite3_column_int(st, 7),
			.stack_id = sqlite3_column_int64(st, 8), .result = sqlite3_column_int(st, 9),
			.flags = sqlite3_column_int(st, 10), .end = sqlite3_column_int64(st, 11),
			.obj_id = (uint32_t)sqlite3_column_int64(st, 12),
			.detail = sqlite3_column_int(st, 13) != 0,
		};
		if (p->n_ev == rows)
			*more = true;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* A query's rows as barriers: (pid, start, end) per row. */
static int query_barriers(struct jw *j, struct pass *p, const char *sql, int64_t lo, int64_t hi)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(j->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, lo);
	sqlite3_bind_int64(st, 2, hi);
	sqlite3_bind_int64(st, 3, IMAGE_SETTLE_NS);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (fold_add_barrier(p, sqlite3_column_int(st, 0), sqlite3_column_int64(st, 1),
				sqlite3_column_int64(st, 2)) != SQLITE_OK) {
			rc = SQLITE_NOMEM;
			break;
		}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * The moments around the pass the replay compares or connects things at:
 * snapshots of the kernel's view; a child's start (a spawned child writes
 * no fork event, and finds its parent's FD through the parent's record
 * open then); a new image's start, the minute before it included (the
 * exec that made it was pending that long at most).
 */
static int read_moments(struct jw *j, struct pass *p, int64_t lo, int64_t hi)
{
	int rc = query_barriers(j, p, "SELECT pid, ts_ns, coalesce(end_ns, ts_ns) FROM snapshot"
				" WHERE coalesce(end_ns, ts_ns) >= ?1 AND ts_ns <= ?2", lo, hi);
	if (!rc)
		rc = query_barriers(j, p, "SELECT ppid, started_ns, started_ns FROM process"
				    " WHERE ppid > 0 AND started_ns BETWEEN ?1 AND ?2", lo, hi);
	if (!rc)
		rc = query_barriers(j, p, "SELECT pid, started_ns - ?3, started_ns FROM process"
				    " WHERE started_ns BETWEEN ?1 AND ?2 + ?3", lo, hi);
	return rc;
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
	long long total = 0;
	int rc = bpfleak_sql_int64(j->db, "SELECT value FROM meta WHERE key = 'folded_pairs'", &total);
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
	memset(res, 0, sizeof(*res));
	if (now_ns <= age_ns || !max_rows)
		return SQLITE_OK;
	long long from = 0, seen = 0;
	int rc = bpfleak_sql_int64(j->db, "SELECT value FROM meta WHERE key = 'fold_from'", &from);
	if (!rc)
		rc = bpfleak_sql_int64(j->db, "SELECT value FROM meta WHERE key = 'fold_seen'", &seen);
	if (!rc)
		rc = read_events(j, &p, from, now_ns - age_ns, max_rows, &res->more);
	int64_t slack = age_ns / 2 < FOLD_SLACK_NS ? (int64_t)(age_ns / 2) : FOLD_SLACK_NS;
	/*
	 * A full pass whose rows span less than twice the slack settles little
	 * of them (a busy process): read on, up to WIDEST_PASS times the rows,
	 * rather than crawl through the same rows pass after pass.
	 */
	for (size_t rows = max_rows * 2; !rc && res->more && rows <= max_rows * WIDEST_PASS &&
	     p.ev[p.n_ev - 1].ts - p.ev[0].ts < 2 * slack; rows *= 2)
		rc = read_events(j, &p, p.ev[p.n_ev - 1].seq, now_ns - age_ns, rows, &res->more);
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
		rc = fold_classify(&p, &p.ev[i]);
	}
	int64_t last_seq = p.ev[p.n_ev - 1].seq, exec_from = last_seq;
	if (!rc)
		rc = read_moments(j, &p, oldest, newest);
	if (!rc)
		rc = fold_settle_execs(&p, seen, &exec_from);
	if (!rc)
		rc = fold_prepare_barriers(&p);
	if (rc)
		goto out;
	int64_t settled = (res->more ? newest : (int64_t)(now_ns - age_ns)) - slack;
	int64_t next_from = fold_find_pairs(j, &p, from, settled, seen, exec_from);
	/*
	 * A full pass is followed by another at once: it must move on by a
	 * quarter of what it read at least, or passes would spin (all of it
	 * unsettled) or crawl over the same rows.
	 */
	if (res->more && next_from < p.ev[p.n_ev / 4].seq)
		next_from = p.ev[p.n_ev / 4].seq;
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
