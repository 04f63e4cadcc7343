// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The journal's rows into the model.  Events are read with a single scan
 * in rowid (seq) order and bucketed per pid in C: `event` has no pid
 * index, so "WHERE pid = ?" per process would rescan the table once per
 * pid, and a read-only reader may not add one.  Each pid's list is then
 * put in (ts_ns, seq) order, which it almost always is already.  Stacks
 * and stored frames are read on demand: only findings need them.
 */
#include <stdlib.h>
#include <string.h>
#include "analyzer.h"

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* A load in progress: the model, and the process the last event went to. */
struct load {
	struct model *m;
	struct proc *last;
};

typedef int (*row_fn)(struct load *ld, sqlite3_stmt *st);

/* Columns added after a journal was written read as NULL, not as an error. */
static bool has_column(struct model *m, const char *table, const char *column)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT %s FROM %s LIMIT 0", column, table);
	sqlite3_stmt *st;
	bool ok = sqlite3_prepare_v2(m->db, sql, -1, &st, NULL) == SQLITE_OK;
	sqlite3_finalize(st);
	return ok;
}

static int each_row(struct load *ld, const char *sql, row_fn fn, char *err, size_t errlen)
{
	struct model *m = ld->m;
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(m->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		if (rc == SQLITE_ERROR)
			snprintf(err, errlen, "%s: not a complete bpfleak journal (%s)", m->path,
				 sqlite3_errmsg(m->db));
		else
			journal_sql_error(m, rc, err, errlen);
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (fn(ld, st) < 0) {
			rc = SQLITE_ERROR;
			break;
		}
	if (rc != SQLITE_DONE) {
		journal_sql_error(m, rc, err, errlen);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

static int meta_row(struct load *ld, sqlite3_stmt *st)
{
	struct model *m = ld->m;
	const char *k = col_text(st, 0);
	if (k && strcmp(k, "boot_id") == 0) {
		free(m->boot_id);
		m->boot_id = xstrdup(col_text(st, 1));
	} else if (k && strcmp(k, "fold_age_ns") == 0) {
		m->fold_age_ns = sqlite3_column_int64(st, 1);
	}
	return 0;
}

static int64_t col_i64_or(sqlite3_stmt *st, int i, int64_t dflt)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? dflt : sqlite3_column_int64(st, i);
}

static int process_row(struct load *ld, sqlite3_stmt *st)
{
	struct model *m = ld->m;
	struct proc *p = model_proc(m, sqlite3_column_int(st, 0), 1);
	p->in_journal = 1;
	/* The recorded parent of the latest image that names one. */
	if (sqlite3_column_int(st, 1) > 0)
		p->ppid = sqlite3_column_int(st, 1);
	/* Rows come in id order: the last image names the process. */
	if (col_text(st, 2)) {
		free(p->exe);
		p->exe = xstrdup(col_text(st, 2));
	}
	if (col_text(st, 3)) {
		free(p->cmdline);
		p->cmdline = xstrdup(col_text(st, 3));
	}
	p->exited = sqlite3_column_type(st, 4) != SQLITE_NULL;
	if (!m->boot_id && col_text(st, 5))
		m->boot_id = xstrdup(col_text(st, 5));
	int64_t exited = col_i64_or(st, 4, -1), flushed = col_i64_or(st, 8, -1);
	if (exited > p->exited_ns)
		p->exited_ns = exited;
	if (flushed > p->flushed_ns)
		p->flushed_ns = flushed;
	if (col_i64_or(st, 9, 0))
		p->realtime_base = sqlite3_column_int64(st, 9);
	GROW(p->images, p->cap_images, p->n_images + 1);
	struct pimage *im = &p->images[p->n_images++];
	im->started_ns = col_i64_or(st, 7, -1);
	snprintf(im->origin, sizeof(im->origin), "%s", col_text(st, 6) ? col_text(st, 6) : "");
	return 0;
}

static void add_note(struct proc *p, const struct ev *e)
{
	for (int k = 0; k < BPFLEAK_NOTE_MAX; k++) {
		if (!e->detail || strcmp(e->detail, bpfleak_note_name(k)) != 0)
			continue;
		/* The same note again (every activation scan may repeat io_uring) adds nothing. */
		if ((p->note_mask & (1u << k)) && k != BPFLEAK_NOTE_UNSHARE &&
		    k != BPFLEAK_NOTE_RESTART)
			return;
		p->note_mask |= 1u << k;
		GROW(p->notes, p->cap_notes, p->n_notes + 1);
		p->notes[p->n_notes++] = (struct note){ k, e->ts, e->fd2 };
		return;
	}
	proc_warn(p, "note \"%s\" is not understood by this bpfleak-report",
		  e->detail ? e->detail : "");
}

static int event_row(struct load *ld, sqlite3_stmt *st)
{
	struct model *m = ld->m;
	int pid = sqlite3_column_int(st, 2);
	struct proc *p = ld->last;
	if (!p || p->pid != pid)
		p = ld->last = model_proc(m, pid, 1);
	p->in_journal = 1;
	if (p->n_ev == p->cap_ev)
		GROW_RAW(p->evs, p->cap_ev, p->n_ev + 1);
	struct ev *e = &p->evs[p->n_ev++];
	e->seq = sqlite3_column_int64(st, 0);
	e->ts = sqlite3_column_int64(st, 1);
	e->op = (uint8_t)sqlite3_column_int(st, 3);
	e->fd = sqlite3_column_int(st, 4);   /* ifnull(fd, -1) */
	e->fd2 = sqlite3_column_int(st, 5);
	e->cmd = sqlite3_column_int(st, 6);
	e->kind = (uint8_t)sqlite3_column_int(st, 7);
	e->obj_id = (uint32_t)sqlite3_column_int64(st, 8);
	e->stack_id = sqlite3_column_int64(st, 9);
	e->result = sqlite3_column_int(st, 10);
	e->flags = (uint16_t)sqlite3_column_int(st, 11);
	e->detail = xstrdup(col_text(st, 12));   /* NULL stays NULL */
	if (e->op == BPFLEAK_OP_DROP) {
		m->dropped += (uint64_t)(e->fd2 > 0 ? e->fd2 : 0);
		GROW(p->drops, p->cap_drops, p->n_drops + 1);
		struct drop *d = &p->drops[p->n_drops++];
		d->start_ns = e->ts;
		d->end_ns = col_i64_or(st, 13, -1);
		d->lost = (uint64_t)(e->fd2 > 0 ? e->fd2 : 0);
		d->why = xstrdup(e->detail);
	} else if (e->op == BPFLEAK_OP_NOTE) {
		add_note(p, e);
	}
	if (!m->n_events || e->ts < m->first_ns)
		m->first_ns = e->ts;
	if (!m->n_events || e->ts > m->last_ns)
		m->last_ns = e->ts;
	m->n_events++;
	return 0;
}

/* A lifetime_fold row; one that cannot be true (a file that lies) is skipped. */
static int fold_row(struct load *ld, sqlite3_stmt *st)
{
	struct fold f = {
		.stack_id = sqlite3_column_int64(st, 1), .cmd = sqlite3_column_int(st, 2),
		.kind = sqlite3_column_int(st, 3), .interval_ns = sqlite3_column_int64(st, 4),
		.count = sqlite3_column_int64(st, 5), .min_life_ns = sqlite3_column_int64(st, 6),
		.max_life_ns = sqlite3_column_int64(st, 7), .first_ns = sqlite3_column_int64(st, 8),
		.last_ns = sqlite3_column_int64(st, 9),
	};
	if (f.count < 1 || f.count > INT64_MAX / 4 || f.min_life_ns < 0 ||
	    f.max_life_ns < f.min_life_ns || f.first_ns < 0 || f.last_ns < f.first_ns ||
	    f.kind < 0 || f.kind >= BPFLEAK_KIND_MAX) {
		model_warn(ld->m, "a lifetime_fold row that cannot be true was skipped");
		return 0;
	}
	struct proc *p = model_proc(ld->m, sqlite3_column_int(st, 0), 1);
	p->in_journal = 1;
	GROW(p->folds, p->cap_folds, p->n_folds + 1);
	p->folds[p->n_folds++] = f;
	if (p->folded <= INT64_MAX / 2 - f.count)
		p->folded += f.count;
	return 0;
}

/* Folded creates are part of the spans: a week's first hour is mostly folded. */
static void span_folds(struct model *m, struct proc *p)
{
	for (size_t k = 0; k < p->n_folds; k++) {
		const struct fold *f = &p->folds[k];
		if ((!p->n_ev && !k) || f->first_ns < p->first_ns)
			p->first_ns = f->first_ns;
		if ((!p->n_ev && !k) || f->last_ns > p->last_ns)
			p->last_ns = f->last_ns;
		if ((!m->n_events && !m->folded_pairs) || f->first_ns < m->first_ns)
			m->first_ns = f->first_ns;
		if ((!m->n_events && !m->folded_pairs) || f->last_ns > m->last_ns)
			m->last_ns = f->last_ns;
		if (m->folded_pairs <= INT64_MAX / 2 - f->count)
			m->folded_pairs += f->count;
	}
}

static int object_row(struct load *ld, sqlite3_stmt *st)
{
	struct object_info *o = model_add_object(ld->m, sqlite3_column_int(st, 0),
						 (uint32_t)sqlite3_column_int64(st, 1));
	o->has_row = 1;
	o->type = sqlite3_column_int(st, 2);
	o->name = xstrdup(col_text(st, 3));
	o->key_size = (uint32_t)sqlite3_column_int64(st, 4);
	o->value_size = (uint32_t)sqlite3_column_int64(st, 5);
	o->max_entries = (uint32_t)sqlite3_column_int64(st, 6);
	o->flags = (uint32_t)sqlite3_column_int64(st, 7);
	o->tag = xstrdup(col_text(st, 8));
	o->prog_id = (uint32_t)sqlite3_column_int64(st, 9);
	return 0;
}

static int module_row(struct load *ld, sqlite3_stmt *st)
{
	struct model *m = ld->m;
	GROW(m->mods, m->cap_mods, m->n_mods + 1);
	struct module *md = &m->mods[m->n_mods];
	md->id = sqlite3_column_int64(st, 0);
	md->pid = sqlite3_column_int(st, 1);
	md->ts = sqlite3_column_int64(st, 2);
	md->path = xstrdup(col_text(st, 3));
	md->build_id = xstrdup(col_text(st, 4));
	md->base = (uint64_t)sqlite3_column_int64(st, 5);
	md->size = (uint64_t)sqlite3_column_int64(st, 6);
	md->file_size = sqlite3_column_type(st, 7) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 7);
	md->mtime_ns = sqlite3_column_type(st, 8) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 8);
	md->unloaded_ns = col_i64_or(st, 9, NS_OPEN);
	bool fresh;
	hmap_slot(&m->mod_idx, (uint64_t)(uint32_t)md->pid, m->n_mods + 1, &fresh);
	m->n_mods++;
	return 0;
}

static int ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* column, or NULL when an older journal lacks it */
static const char *opt_col(struct model *m, const char *table, const char *column)
{
	return has_column(m, table, column) ? column : "NULL";
}

int journal_load(struct model *m, char *err, size_t errlen)
{
	char proc_sql[256], ev_sql[256], mod_sql[256];
	struct load ld = { m, NULL };
	/* One read transaction: a consistent view even while the shim writes. */
	int rc = sqlite3_exec(m->db, "BEGIN", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		journal_sql_error(m, rc, err, errlen);
		return -1;
	}
	snprintf(proc_sql, sizeof(proc_sql),
		 "SELECT pid, ppid, exe, cmdline, exited_ns, boot_id, %s, %s, %s, %s"
		 " FROM process ORDER BY id", opt_col(m, "process", "origin"),
		 opt_col(m, "process", "started_ns"), opt_col(m, "process", "flushed_ns"),
		 opt_col(m, "process", "realtime_base_ns"));
	snprintf(ev_sql, sizeof(ev_sql),
		 "SELECT seq, ts_ns, pid, op, ifnull(fd, -1), fd2, cmd, obj_kind, obj_id, stack_id,"
		 " result, flags, detail, %s FROM event ORDER BY seq", opt_col(m, "event", "end_ns"));
	snprintf(mod_sql, sizeof(mod_sql),
		 "SELECT id, pid, ts_ns, path, build_id, base, size, %s, %s, %s"
		 " FROM module ORDER BY pid, ts_ns, id", opt_col(m, "module", "file_size"),
		 opt_col(m, "module", "mtime_ns"), opt_col(m, "module", "unloaded_ns"));
	if (each_row(&ld, "SELECT key, value FROM meta", meta_row, err, errlen) < 0 ||
	    each_row(&ld, proc_sql, process_row, err, errlen) < 0 ||
	    each_row(&ld, ev_sql, event_row, err, errlen) < 0 ||
	    each_row(&ld, "SELECT kind, id, type, name, key_size, value_size, max_entries, flags,"
			" tag, prog_id FROM object", object_row, err, errlen) < 0 ||
	    each_row(&ld, mod_sql, module_row, err, errlen) < 0)
		return -1;
	if (has_column(m, "lifetime_fold", "count") &&
	    each_row(&ld, "SELECT pid, stack_id, cmd, obj_kind, interval_ns, count, min_life_ns,"
			" max_life_ns, first_ns, last_ns FROM lifetime_fold", fold_row, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < m->n_procs; i++) {
		struct proc *p = m->procs[i];
		for (size_t k = 1; k < p->n_ev; k++)
			if (ev_cmp(&p->evs[k - 1], &p->evs[k]) > 0) {
				qsort(p->evs, p->n_ev, sizeof(*p->evs), ev_cmp);
				break;
			}
		if (p->n_ev) {
			p->first_ns = p->evs[0].ts;
			p->last_ns = p->evs[p->n_ev - 1].ts;
		}
		span_folds(m, p);
	}
	rc = sqlite3_prepare_v2(m->db, "SELECT depth, ips FROM stack WHERE id = ?", -1,
				&m->st_stack, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(m->db, "SELECT inline_depth, function, file, line FROM frame"
					" WHERE module_key = ? AND offset = ? ORDER BY inline_depth",
					-1, &m->st_frame, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: not a complete bpfleak journal (%s)", m->path,
			 sqlite3_errmsg(m->db));
		return -1;
	}
	return 0;
}

const uint64_t *journal_stack(struct model *m, int64_t stack_id, uint32_t *depth)
{
	uint64_t v;
	*depth = 0;
	if (stack_id <= 0)
		return NULL;
	if (!hmap_get(&m->stacks, (uint64_t)stack_id, &v)) {
		uint64_t *s = NULL;
		sqlite3_stmt *st = m->st_stack;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, stack_id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			int nb = sqlite3_column_bytes(st, 1);
			const void *blob = sqlite3_column_blob(st, 1);
			uint32_t n = (uint32_t)(nb / 8);
			s = xmalloc((n + 1) * sizeof(*s));
			s[0] = n;
			if (n)
				memcpy(s + 1, blob, (size_t)n * 8);
		}
		sqlite3_reset(st);
		v = (uintptr_t)s;
		hmap_put(&m->stacks, (uint64_t)stack_id, v);
	}
	const uint64_t *s = (const uint64_t *)(uintptr_t)v;
	if (!s)
		return NULL;
	*depth = (uint32_t)s[0];
	return s + 1;
}

void journal_frames(struct model *m, const char *module_key, uint64_t offset,
		    void (*fn)(void *ctx, const char *function, const char *file, int line),
		    void *ctx)
{
	sqlite3_stmt *st = m->st_frame;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, module_key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)offset);
	while (sqlite3_step(st) == SQLITE_ROW)
		fn(ctx, col_text(st, 1), col_text(st, 2), sqlite3_column_int(st, 3));
	sqlite3_reset(st);
}
