// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The kernel's side of the story as the recorder stored it: the latest
 * snapshot of every pid (the exit one when the process ended), read into
 * the same struct bpfleak_snapshot a live read fills (snapshot_live.c).
 */
#include <stdlib.h>
#include <string.h>
#include "analyzer.h"

static struct pinset *pins_of(const struct snap *s)
{
	struct pinset *ps = xcalloc(1, sizeof(*ps));
	for (size_t i = 0; i < s->found.n_pins; i++) {
		const struct bpfleak_snap_pin *pn = &s->found.pins[i];
		if (!pn->error && pn->obj_id)
			pinset_add(ps, pn->kind, pn->obj_id, pn->path);
	}
	return ps;
}

void snapshot_attach(struct proc *p, struct snap *s)
{
	snap_free(p->snap);
	if (p->pins) {
		pinset_free(p->pins);
		free(p->pins);
	}
	p->snap = s;
	p->snap_note = NULL;
	p->pins = pins_of(s);
}

struct snap_row {
	int64_t id, ts, end_ns;
	int pid, pins_walked;
	char *reason;
};

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static int read_fds(struct model *m, struct bpfleak_snapshot *bs, int64_t id)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc = sqlite3_prepare_v2(m->db, "SELECT fd, kind, obj_id, target, cloexec, fdinfo"
				    " FROM snapshot_fd WHERE snapshot_id = ? ORDER BY fd", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		GROW(bs->fds, cap, bs->n_fds + 1);
		struct bpfleak_snap_fd *f = &bs->fds[bs->n_fds++];
		f->fd = sqlite3_column_int(st, 0);
		f->kind = sqlite3_column_int(st, 1);
		f->obj_id = (uint32_t)sqlite3_column_int64(st, 2);
		snprintf(f->target, sizeof(f->target), "%s", col_text(st, 3) ? col_text(st, 3) : "");
		f->cloexec = sqlite3_column_int(st, 4);
		const char *info = col_text(st, 5);
		if (info) {
			f->fdinfo = xstrdup(info);
			int k = bpfleak_fdinfo_parse(info, strlen(info), &f->info);
			/* fdinfo keys are the kernel's word; the column is the shim's. */
			if (!f->kind)
				f->kind = k;
			if (!f->obj_id)
				f->obj_id = f->info.obj_id;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int read_pins(struct model *m, struct bpfleak_snapshot *bs, int64_t id)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc = sqlite3_prepare_v2(m->db, "SELECT path, kind, obj_id, name, error FROM snapshot_pin"
				    " WHERE snapshot_id = ? ORDER BY path", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		GROW(bs->pins, cap, bs->n_pins + 1);
		struct bpfleak_snap_pin *pn = &bs->pins[bs->n_pins++];
		pn->path = xstrdup(col_text(st, 0) ? col_text(st, 0) : "?");
		pn->kind = sqlite3_column_int(st, 1);
		pn->obj_id = (uint32_t)sqlite3_column_int64(st, 2);
		snprintf(pn->name, sizeof(pn->name), "%s", col_text(st, 3) ? col_text(st, 3) : "");
		pn->error = sqlite3_column_int(st, 4);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int load_one(struct model *m, struct proc *p, const struct snap_row *row, char *err,
		    size_t errlen)
{
	struct snap *s = xcalloc(1, sizeof(*s));
	s->id = row->id;
	s->ts = row->ts;
	s->end_ns = row->end_ns;
	s->pins_walked = row->pins_walked;
	s->source = "exit";
	s->reason = xstrdup(row->reason ? row->reason : "exit");
	s->found.pid = row->pid;
	if (read_fds(m, &s->found, row->id) != SQLITE_OK ||
	    read_pins(m, &s->found, row->id) != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot read snapshot %lld: %s", m->path,
			 (long long)row->id, sqlite3_errmsg(m->db));
		snap_free(s);
		return -1;
	}
	snapshot_attach(p, s);
	return 0;
}

int snapshot_load_stored(struct model *m, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	struct hmap latest = { 0 };
	char sql[160];
	int rc = sqlite3_prepare_v2(m->db, "SELECT end_ns, pins_walked FROM snapshot LIMIT 0", -1,
				    &st, NULL);
	bool v2 = rc == SQLITE_OK;
	sqlite3_finalize(st);
	snprintf(sql, sizeof(sql), "SELECT id, pid, ts_ns, reason, %s FROM snapshot ORDER BY ts_ns, id",
		 v2 ? "end_ns, pins_walked" : "NULL, NULL");
	rc = sqlite3_prepare_v2(m->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: not a complete bpfleak journal (%s)", m->path,
			 sqlite3_errmsg(m->db));
		return -1;
	}
	struct snap_row *rows = NULL;
	size_t n = 0, cap = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int pid = sqlite3_column_int(st, 1);
		bool fresh;
		uint64_t *slot = hmap_slot(&latest, (uint64_t)(uint32_t)pid, n, &fresh);
		if (fresh) {
			GROW(rows, cap, n + 1);
			n++;
		} else {
			free(rows[*slot].reason);
		}
		rows[*slot] = (struct snap_row){
			.id = sqlite3_column_int64(st, 0), .ts = sqlite3_column_int64(st, 2),
			.end_ns = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1
				  : sqlite3_column_int64(st, 4),
			/* A journal older than pins_walked walked bpffs at every exit. */
			.pins_walked = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1
				       : sqlite3_column_int(st, 5) != 0,
			.pid = pid, .reason = xstrdup(col_text(st, 3)) };
	}
	sqlite3_finalize(st);
	int ret = 0;
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s: journal is damaged or truncated (%s)", m->path,
			 sqlite3_errmsg(m->db));
		ret = -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!ret) {
			struct proc *p = model_proc(m, rows[i].pid, 1);
			ret = load_one(m, p, &rows[i], err, errlen);
		}
		free(rows[i].reason);
	}
	free(rows);
	hmap_free(&latest);
	return ret;
}
