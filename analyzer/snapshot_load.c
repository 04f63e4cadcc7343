// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The kernel's side of the story: the exit snapshot the shim stored in the
 * journal, or a live one taken now with the common snapshot reader.  Both
 * end up as a struct snap attached to the process.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "analyzer.h"

void pinset_add(struct pinset *ps, int kind, uint32_t id, const char *path)
{
	bool fresh;
	uint64_t *slot = hmap_slot(&ps->idx, (uint64_t)kind << 32 | id, ps->n, &fresh);
	if (fresh) {
		GROW(ps->paths, ps->cap, ps->n + 1);
		ps->paths[ps->n++] = xcalloc(1, sizeof(char *));
	}
	char ***list = &ps->paths[*slot];
	size_t n = 0;
	while ((*list)[n]) {
		if (strcmp((*list)[n], path) == 0)
			return;
		n++;
	}
	*list = xrealloc(*list, (n + 2) * sizeof(char *));
	(*list)[n] = xstrdup(path);
	(*list)[n + 1] = NULL;
}

char *const *pinset_get(const struct pinset *ps, int kind, uint32_t id)
{
	uint64_t v;
	if (!ps || !hmap_get(&ps->idx, (uint64_t)kind << 32 | id, &v))
		return NULL;
	return ps->paths[v];
}

void pinset_free(struct pinset *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		for (char **s = ps->paths[i]; *s; s++)
			free(*s);
		free(ps->paths[i]);
	}
	free(ps->paths);
	hmap_free(&ps->idx);
	memset(ps, 0, sizeof(*ps));
}

void snap_free(struct snap *s)
{
	for (size_t i = 0; i < s->n_fds; i++)
		free(s->fds[i].target);
	for (size_t i = 0; i < s->n_pins; i++) {
		free(s->pins[i].path);
		free(s->pins[i].name);
	}
	free(s->fds);
	free(s->pins);
	free(s->reason);
	memset(s, 0, sizeof(*s));
}

static struct pinset *pins_of(const struct snap *s)
{
	struct pinset *ps = xcalloc(1, sizeof(*ps));
	for (size_t i = 0; i < s->n_pins; i++)
		if (!s->pins[i].error && s->pins[i].obj_id)
			pinset_add(ps, s->pins[i].kind, s->pins[i].obj_id, s->pins[i].path);
	return ps;
}

static void attach(struct proc *p, struct snap *s, const char *note)
{
	if (p->snap) {
		snap_free(p->snap);
		free(p->snap);
	}
	if (p->pins) {
		pinset_free(p->pins);
		free(p->pins);
	}
	p->snap = s;
	p->snap_note = note;
	p->pins = pins_of(s);
}

static int load_one(struct model *m, struct proc *p, int64_t id, int64_t ts, const char *reason,
		    char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	struct snap *s = xcalloc(1, sizeof(*s));
	size_t cap = 0;
	int rc;

	s->id = id;
	s->ts = ts;
	s->source = "exit";
	s->reason = xstrdup(reason);
	rc = sqlite3_prepare_v2(m->db, "SELECT fd, kind, obj_id, target, cloexec, fdinfo"
				" FROM snapshot_fd WHERE snapshot_id = ? ORDER BY fd", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		GROW(s->fds, cap, s->n_fds + 1);
		struct snap_fd *f = &s->fds[s->n_fds++];
		f->fd = sqlite3_column_int(st, 0);
		f->kind = sqlite3_column_int(st, 1);
		f->obj_id = (uint32_t)sqlite3_column_int64(st, 2);
		f->target = xstrdup((const char *)sqlite3_column_text(st, 3));
		f->cloexec = sqlite3_column_int(st, 4);
		const char *info = (const char *)sqlite3_column_text(st, 5);
		if (info) {
			int k = bpfleak_fdinfo_parse(info, strlen(info), &f->info);
			f->has_info = 1;
			/* fdinfo keys are the kernel's word; the column is the shim's. */
			if (!f->kind)
				f->kind = k;
			if (!f->obj_id)
				f->obj_id = f->info.obj_id;
		}
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	cap = 0;
	rc = sqlite3_prepare_v2(m->db, "SELECT path, kind, obj_id, name, error FROM snapshot_pin"
				" WHERE snapshot_id = ? ORDER BY path", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		GROW(s->pins, cap, s->n_pins + 1);
		struct snap_pin *pn = &s->pins[s->n_pins++];
		pn->path = xstrdup((const char *)sqlite3_column_text(st, 0));
		if (!pn->path)
			pn->path = xstrdup("?");
		pn->kind = sqlite3_column_int(st, 1);
		pn->obj_id = (uint32_t)sqlite3_column_int64(st, 2);
		pn->name = xstrdup((const char *)sqlite3_column_text(st, 3));
		pn->error = sqlite3_column_int(st, 4);
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	attach(p, s, NULL);
	return 0;
fail:
	snprintf(err, errlen, "%s: cannot read snapshot %lld: %s", m->path, (long long)id,
		 sqlite3_errmsg(m->db));
	sqlite3_finalize(st);
	snap_free(s);
	free(s);
	return -1;
}

/* The latest snapshot of every pid: the exit one when the process ended. */
int snapshot_load_stored(struct model *m, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	struct hmap latest = { 0 };
	int rc = sqlite3_prepare_v2(m->db, "SELECT id, pid, ts_ns, reason FROM snapshot"
				    " ORDER BY ts_ns, id", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: not a complete bpfleak journal (%s)", m->path,
			 sqlite3_errmsg(m->db));
		return -1;
	}
	struct row { int64_t id, ts; int pid; char *reason; } *rows = NULL;
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
		rows[*slot] = (struct row){ sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 2),
					    pid, xstrdup((const char *)sqlite3_column_text(st, 3)) };
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
			ret = load_one(m, p, rows[i].id, rows[i].ts, rows[i].reason ? rows[i].reason : "exit",
				       err, errlen);
		}
		free(rows[i].reason);
	}
	free(rows);
	hmap_free(&latest);
	return ret;
}

/*
 * --pid: the kernel's view now.  Only meaningful when the journal is from
 * this boot and the pid is still the journal's process.
 */
int snapshot_take_live(struct model *m, struct proc *p, char *err, size_t errlen)
{
	char boot[64];
	bpfleak_boot_id(boot, sizeof(boot));
	if (*boot && m->boot_id && *m->boot_id && strcmp(boot, m->boot_id) != 0) {
		snprintf(err, errlen, "%s: journal is from another boot (boot_id %s); "
			 "--pid %d cannot be compared with it", m->path, m->boot_id, p->pid);
		return -1;
	}
	if (p->exited && p->snap) {
		p->snap_note = "the journal's process exited; pid not read live";
		return 0;
	}
	struct bpfleak_snapshot bs;
	memset(&bs, 0, sizeof(bs));
	int rc = bpfleak_snapshot_take(p->pid, NULL, &bs);
	if (rc == -ESRCH || rc == -ENOENT) {
		p->snap_note = p->snap ? "process not running; exit snapshot used"
				       : "process not running; no snapshot";
		bpfleak_snapshot_free(&bs);
		return 0;
	}
	if (rc < 0) {
		snprintf(err, errlen, "cannot read process %d: %s", p->pid, strerror(-rc));
		bpfleak_snapshot_free(&bs);
		return -1;
	}
	struct snap *s = xcalloc(1, sizeof(*s));
	s->ts = now_monotonic_ns();
	s->source = "live";
	s->reason = xstrdup("live");
	s->fds = xcalloc(bs.n_fds, sizeof(*s->fds));
	for (size_t i = 0; i < bs.n_fds; i++) {
		struct snap_fd *f = &s->fds[s->n_fds++];
		f->fd = bs.fds[i].fd;
		f->kind = bs.fds[i].kind;
		f->obj_id = bs.fds[i].obj_id;
		f->cloexec = bs.fds[i].cloexec;
		f->target = xstrdup(bs.fds[i].target);
		f->info = bs.fds[i].info;
		f->has_info = bs.fds[i].fdinfo != NULL;
	}
	s->pins = xcalloc(bs.n_pins, sizeof(*s->pins));
	for (size_t i = 0; i < bs.n_pins; i++) {
		struct snap_pin *pn = &s->pins[s->n_pins++];
		pn->path = xstrdup(bs.pins[i].path ? bs.pins[i].path : "?");
		pn->kind = bs.pins[i].kind;
		pn->obj_id = bs.pins[i].obj_id;
		pn->name = xstrdup(bs.pins[i].name);
		pn->error = bs.pins[i].error;
	}
	if (bs.fd_error)
		proc_warn(p, "live snapshot could not read /proc/%d/fd: %s", p->pid,
			  strerror(bs.fd_error));
	bpfleak_snapshot_free(&bs);
	attach(p, s, NULL);
	return 0;
}
