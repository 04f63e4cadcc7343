// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The kernel's side of the story: the exit snapshot the shim stored in the
 * journal, or a live one taken now with the common snapshot reader.  Both
 * end up as a struct snap attached to the process.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpfleak/objinfo.h>
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

struct snap_row {
	int64_t id, ts, end_ns;
	int pid, pins_walked;
	char *reason;
};

static int load_one(struct model *m, struct proc *p, const struct snap_row *row, char *err,
		    size_t errlen)
{
	sqlite3_stmt *st = NULL;
	struct snap *s = xcalloc(1, sizeof(*s));
	size_t cap = 0;
	int rc;
	int64_t id = row->id;

	s->id = id;
	s->ts = row->ts;
	s->end_ns = row->end_ns;
	s->pins_walked = row->pins_walked;
	s->source = "exit";
	s->reason = xstrdup(row->reason ? row->reason : "exit");
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
			.pid = pid, .reason = xstrdup((const char *)sqlite3_column_text(st, 3)) };
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

/* The live snapshot's copy of what common/snapshot.c read. */
static struct snap *snap_from(const struct bpfleak_snapshot *bs, int64_t ts, int64_t end_ns)
{
	struct snap *s = xcalloc(1, sizeof(*s));
	s->ts = ts;
	s->end_ns = end_ns;
	s->pins_walked = 1;
	s->source = "live";
	s->reason = xstrdup("live");
	s->fd_error = bs->fd_error;
	s->fds = xcalloc(bs->n_fds ? bs->n_fds : 1, sizeof(*s->fds));
	for (size_t i = 0; i < bs->n_fds; i++) {
		struct snap_fd *f = &s->fds[s->n_fds++];
		f->fd = bs->fds[i].fd;
		f->kind = bs->fds[i].kind;
		f->obj_id = bs->fds[i].obj_id;
		f->cloexec = bs->fds[i].cloexec;
		f->target = xstrdup(bs->fds[i].target);
		f->info = bs->fds[i].info;
		f->has_info = bs->fds[i].fdinfo != NULL;
	}
	s->pins = xcalloc(bs->n_pins ? bs->n_pins : 1, sizeof(*s->pins));
	for (size_t i = 0; i < bs->n_pins; i++) {
		struct snap_pin *pn = &s->pins[s->n_pins++];
		pn->path = xstrdup(bs->pins[i].path ? bs->pins[i].path : "?");
		pn->kind = bs->pins[i].kind;
		pn->obj_id = bs->pins[i].obj_id;
		pn->name = xstrdup(bs->pins[i].name);
		pn->error = bs->pins[i].error;
	}
	return s;
}

/*
 * --pid: the kernel's view now, read before the journal so that every
 * event the target flushes after this instant can be waited for.  ts is
 * the start of the FD-table scan, end_ns its end (pins are walked after).
 */
int snapshot_read_live(int pid, struct snap **out, char *err, size_t errlen)
{
	struct bpfleak_snapshot bs;
	memset(&bs, 0, sizeof(bs));
	*out = NULL;
	bs.pid = pid;
	int64_t ts = now_monotonic_ns();
	int rc = bpfleak_snapshot_fds(pid, &bs);
	int64_t end = now_monotonic_ns();
	if (rc == -ESRCH || rc == -ENOENT) {
		bpfleak_snapshot_free(&bs);
		return 0;
	}
	if (rc < 0 && rc != -ENOMEM) {
		snprintf(err, errlen, "cannot read process %d: %s", pid, strerror(-rc));
		bpfleak_snapshot_free(&bs);
		return -1;
	}
	if (rc)
		bs.fd_error = -rc;
	bpfleak_snapshot_pins(pid, &bs);
	*out = snap_from(&bs, ts, end);
	bpfleak_snapshot_free(&bs);
	return 0;
}

/* "a b c" from /proc/PID/cmdline's NUL-separated arguments. */
static char *live_cmdline(int pid)
{
	char path[64];
	size_t len = 0;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	char *s = bpfleak_read_file(path, &len);
	if (!s)
		return NULL;
	while (len && s[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\0')
			s[i] = ' ';
	s[len] = '\0';
	char *r = xstrdup(s);
	free(s);
	return r;
}

/* A live process the journal has no row for is still named by the kernel. */
static void live_identity(struct proc *p)
{
	char path[64], exe[PATH_MAX];
	if (!p->exe) {
		snprintf(path, sizeof(path), "/proc/%d/exe", p->pid);
		ssize_t n = readlink(path, exe, sizeof(exe) - 1);
		if (n > 0) {
			exe[n] = '\0';
			p->exe = xstrdup(exe);
		}
	}
	if (!p->cmdline)
		p->cmdline = live_cmdline(p->pid);
}

static void snap_discard(struct snap *s)
{
	if (s) {
		snap_free(s);
		free(s);
	}
}

/*
 * Attach the live snapshot (or say why not).  Only meaningful when the
 * journal is from this boot and the pid is still the journal's process.
 * Takes ownership of live.
 */
int snapshot_take_live(struct model *m, struct proc *p, struct snap *live, char *err,
		       size_t errlen)
{
	char boot[64];
	bpfleak_boot_id(boot, sizeof(boot));
	if (*boot && m->boot_id && *m->boot_id && strcmp(boot, m->boot_id) != 0) {
		snprintf(err, errlen, "%s: journal is from another boot (boot_id %s); "
			 "--pid %d cannot be compared with it", m->path, m->boot_id, p->pid);
		snap_discard(live);
		return -1;
	}
	if (p->exited && p->snap) {
		p->snap_note = "the journal's process exited; pid not read live";
		snap_discard(live);
		return 0;
	}
	if (!live) {
		p->snap_note = p->snap ? "process not running; exit snapshot used"
				       : "process not running; no snapshot";
		return 0;
	}
	if (live->fd_error)
		proc_warn(p, "live snapshot could not read /proc/%d/fd: %s", p->pid,
			  strerror(live->fd_error));
	attach(p, live, NULL);
	live_identity(p);
	return 0;
}

/* Open the object by id in this process: needs the rights bpftool needs. */
static int fd_by_id(int kind, uint32_t id)
{
	switch (kind) {
	case BPFLEAK_KIND_MAP:
		return bpf_map_get_fd_by_id(id);
	case BPFLEAK_KIND_PROG:
		return bpf_prog_get_fd_by_id(id);
	case BPFLEAK_KIND_LINK:
		return bpf_link_get_fd_by_id(id);
	case BPFLEAK_KIND_BTF:
		return bpf_btf_get_fd_by_id(id);
	}
	return -1;
}

static void add_object(struct model *m, const struct bpfleak_obj_info *in)
{
	GROW(m->objs, m->cap_objs, m->n_objs + 1);
	struct object_info *o = &m->objs[m->n_objs];
	memset(o, 0, sizeof(*o));
	o->kind = in->kind;
	o->id = in->id;
	o->type = (int)in->type;
	o->name = xstrdup(in->name);
	o->key_size = in->key_size;
	o->value_size = in->value_size;
	o->max_entries = in->max_entries;
	o->flags = in->flags;
	o->tag = xstrdup(in->tag);
	o->prog_id = in->prog_id;
	hmap_put(&m->objects, (uint64_t)in->kind << 32 | in->id, ++m->n_objs);
}

/*
 * FDs only the live snapshot knows have no object row: ask the kernel for
 * their name and type, as bpftool would (by id, then the object's info).
 */
void snapshot_fill_objects(struct model *m, const struct snap *s)
{
	for (size_t i = 0; s && i < s->n_fds; i++) {
		const struct snap_fd *f = &s->fds[i];
		if (!f->obj_id || model_object(m, f->kind, f->obj_id))
			continue;
		int fd = fd_by_id(f->kind, f->obj_id);
		if (fd < 0)
			continue;
		struct bpfleak_obj_info info;
		if (bpfleak_obj_info_get(fd, f->kind, &info) == 0 && info.id == f->obj_id)
			add_object(m, &info);
		close(fd);
	}
}
