// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Opening and loading a journal.  Everything that can be wrong with the
 * input file is diagnosed here, in one line, before any analysis starts.
 *
 * Events are read with a single scan in rowid (seq) order and bucketed per
 * pid in C: `event` has no pid index, so "WHERE pid = ?" per process would
 * rescan the table once per pid, and a read-only reader may not add one.
 * Each pid's list is then put in (ts_ns, seq) order, which it almost always
 * is already.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpfleak/sqlquery.h>
#include "analyzer.h"

#define SQLITE_MAGIC "SQLite format 3"

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* What the file itself says, before sqlite sees it. */
static int check_header(const char *path, char *err, size_t errlen)
{
	unsigned char h[100];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	ssize_t n = st.st_size ? read(fd, h, sizeof(h)) : 0;
	close(fd);
	if (st.st_size == 0) {
		snprintf(err, errlen, "%s: empty file, not a bpfleak journal", path);
		return -1;
	}
	if (n < 16 || memcmp(h, SQLITE_MAGIC, 16) != 0) {
		snprintf(err, errlen, "%s: not a bpfleak journal (not an SQLite database)", path);
		return -1;
	}
	if (n < (ssize_t)sizeof(h)) {
		snprintf(err, errlen, "%s: truncated journal (%zd bytes)", path, n);
		return -1;
	}
	uint32_t page = (uint32_t)h[16] << 8 | h[17];
	if (page == 1)
		page = 65536;
	uint32_t pages = be32(h + 28);
	/*
	 * The in-header size is only authoritative when these two agree, and
	 * when no WAL holds newer pages: a writer killed in the middle of a
	 * checkpoint leaves the main file shorter than its header says, and the
	 * WAL makes it whole.
	 */
	char wal[PATH_MAX];
	struct stat wst;
	bool wal_has_pages = snprintf(wal, sizeof(wal), "%s-wal", path) < (int)sizeof(wal) &&
			     stat(wal, &wst) == 0 && wst.st_size > 0;
	if (pages && !wal_has_pages && be32(h + 24) == be32(h + 92) &&
	    (uint64_t)page * pages > (uint64_t)st.st_size) {
		snprintf(err, errlen, "%s: truncated journal (%lld of %llu bytes)", path,
			 (long long)st.st_size, (unsigned long long)page * pages);
		return -1;
	}
	return 0;
}

static void sql_error(struct model *m, int rc, char *err, size_t errlen)
{
	if (rc == SQLITE_NOTADB)
		snprintf(err, errlen, "%s: not a bpfleak journal (not an SQLite database)", m->path);
	else if (rc == SQLITE_CORRUPT || rc == SQLITE_IOERR_SHORT_READ || (rc & 0xff) == SQLITE_CORRUPT)
		snprintf(err, errlen, "%s: journal is damaged or truncated (%s)", m->path,
			 sqlite3_errmsg(m->db));
	else
		snprintf(err, errlen, "%s: cannot read journal: %s", m->path, sqlite3_errmsg(m->db));
}

/* "file:PATH?immutable=1", PATH escaped as a URI path. */
static char *immutable_uri(const char *path)
{
	size_t n = strlen(path);
	char *uri = xmalloc(n * 3 + 32), *o = uri;
	o += sprintf(o, "file:");
	for (const char *c = path; *c; c++) {
		unsigned char ch = (unsigned char)*c;
		if (ch == '%' || ch == '?' || ch == '#' || ch < 0x21 || ch >= 0x7f)
			o += sprintf(o, "%%%02X", ch);
		else
			*o++ = (char)ch;
	}
	strcpy(o, "?immutable=1");
	return uri;
}

static int open_db(struct model *m, const char *name, int flags, char *err, size_t errlen)
{
	int rc = sqlite3_open_v2(name, &m->db, flags, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot open journal: %s", m->path,
			 m->db ? sqlite3_errmsg(m->db) : sqlite3_errstr(rc));
		return -1;
	}
	/* A live target may be committing a batch: wait rather than fail. */
	sqlite3_busy_timeout(m->db, 5000);
	return 0;
}

/*
 * A read-only open of a WAL journal still needs to create PATH-shm, which
 * fails on read-only media and for a user who cannot write the directory.
 * A finished journal can then be read as immutable; a WAL left beside it
 * (a writer that never checkpointed) is not read that way, so say so.
 */
static int reopen_immutable(struct model *m, char *err, size_t errlen)
{
	char wal[PATH_MAX];
	struct stat st;
	sqlite3_close(m->db);
	m->db = NULL;
	char *uri = immutable_uri(m->path);
	int rc = open_db(m, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, err, errlen);
	free(uri);
	if (rc < 0)
		return -1;
	if (snprintf(wal, sizeof(wal), "%s-wal", m->path) < (int)sizeof(wal) &&
	    stat(wal, &st) == 0 && st.st_size > 0) {
		m->wal_unread = 1;
		model_warn(m, "%s could not be read (the journal is read-only here and its "
			   "writer did not finish): the last batches may be missing", wal);
	}
	return 0;
}

int journal_open(struct model *m, const char *path, int writable, char *err, size_t errlen)
{
	long long appid = 0, version = 0;
	int rc;

	m->path = path;
	m->writable = writable;
	if (check_header(path, err, errlen) < 0)
		return -1;
	if (open_db(m, path, writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, err,
		    errlen) < 0)
		return -1;
	rc = bpfleak_sql_int64(m->db, "PRAGMA application_id", &appid);
	if (rc != SQLITE_OK && !writable && rc != SQLITE_NOTADB && (rc & 0xff) != SQLITE_CORRUPT &&
	    (rc & 0xff) != SQLITE_BUSY) {
		if (reopen_immutable(m, err, errlen) < 0)
			return -1;
		rc = bpfleak_sql_int64(m->db, "PRAGMA application_id", &appid);
	}
	if (rc != SQLITE_OK) {
		sql_error(m, rc, err, errlen);
		return -1;
	}
	if (appid != BPFLEAK_APPLICATION_ID) {
		snprintf(err, errlen, "%s: not a bpfleak journal (sqlite application_id 0x%llx)",
			 path, appid);
		return -1;
	}
	if ((rc = bpfleak_sql_int64(m->db, "PRAGMA user_version", &version)) != SQLITE_OK) {
		sql_error(m, rc, err, errlen);
		return -1;
	}
	if (version > BPFLEAK_SCHEMA_VERSION) {
		snprintf(err, errlen,
			 "%s: journal schema version %lld is newer than this bpfleak-report (%d); "
			 "use a newer bpfleak-report", path, version, BPFLEAK_SCHEMA_VERSION);
		return -1;
	}
	m->schema_version = (int)version;
	return 0;
}

/*
 * Outside any transaction, so each call sees the latest commit: --pid
 * polls this until the target says it has written everything up to the
 * live snapshot.
 */
int64_t journal_flushed_ns(struct model *m, int pid)
{
	sqlite3_stmt *st;
	int64_t v = -1;
	if (sqlite3_prepare_v2(m->db, "SELECT flushed_ns FROM process WHERE pid = ?"
			       " ORDER BY id DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, pid);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

struct proc *model_proc(struct model *m, int pid, int create)
{
	uint64_t v;
	if (hmap_get(&m->pid_idx, (uint64_t)(uint32_t)pid, &v))
		return m->procs[v];
	if (!create)
		return NULL;
	struct proc *p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->end_ns = -1;
	p->exited_ns = -1;
	p->flushed_ns = -1;
	GROW(m->procs, m->cap_procs, m->n_procs + 1);
	hmap_put(&m->pid_idx, (uint64_t)(uint32_t)pid, m->n_procs);
	m->procs[m->n_procs++] = p;
	return p;
}

typedef int (*row_fn)(struct model *m, sqlite3_stmt *st);

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

static int each_row(struct model *m, const char *sql, row_fn fn, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(m->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		if (rc == SQLITE_ERROR)
			snprintf(err, errlen, "%s: not a complete bpfleak journal (%s)", m->path,
				 sqlite3_errmsg(m->db));
		else
			sql_error(m, rc, err, errlen);
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (fn(m, st) < 0) {
			rc = SQLITE_ERROR;
			break;
		}
	if (rc != SQLITE_DONE) {
		sql_error(m, rc, err, errlen);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

static int meta_row(struct model *m, sqlite3_stmt *st)
{
	const char *k = col_text(st, 0);
	if (k && strcmp(k, "boot_id") == 0) {
		free(m->boot_id);
		m->boot_id = xstrdup(col_text(st, 1));
	}
	return 0;
}

static int64_t col_i64_or(sqlite3_stmt *st, int i, int64_t dflt)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? dflt : sqlite3_column_int64(st, i);
}

static int process_row(struct model *m, sqlite3_stmt *st)
{
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

static int event_row(struct model *m, sqlite3_stmt *st)
{
	int pid = sqlite3_column_int(st, 2);
	struct proc *p = m->load_last;
	if (!p || p->pid != pid)
		p = m->load_last = model_proc(m, pid, 1);
	p->in_journal = 1;
	if (p->n_ev == p->cap_ev)
		GROW(p->evs, p->cap_ev, p->n_ev + 1);
	struct ev *e = &p->evs[p->n_ev++];
	e->seq = sqlite3_column_int64(st, 0);
	e->ts = sqlite3_column_int64(st, 1);
	e->op = (uint8_t)sqlite3_column_int(st, 3);
	e->fd = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 4);
	e->fd2 = sqlite3_column_int(st, 5);
	e->cmd = sqlite3_column_int(st, 6);
	e->kind = (uint8_t)sqlite3_column_int(st, 7);
	e->obj_id = (uint32_t)sqlite3_column_int64(st, 8);
	e->stack_id = sqlite3_column_int64(st, 9);
	e->result = sqlite3_column_int(st, 10);
	e->flags = (uint16_t)sqlite3_column_int(st, 11);
	e->detail = NULL;
	if (sqlite3_column_type(st, 12) != SQLITE_NULL)
		e->detail = xstrdup(col_text(st, 12));
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

static int object_row(struct model *m, sqlite3_stmt *st)
{
	int kind = sqlite3_column_int(st, 0);
	uint32_t id = (uint32_t)sqlite3_column_int64(st, 1);
	GROW(m->objs, m->cap_objs, m->n_objs + 1);
	struct object_info *o = &m->objs[m->n_objs];
	o->kind = kind;
	o->id = id;
	o->has_row = 1;
	o->type = sqlite3_column_int(st, 2);
	o->name = xstrdup(col_text(st, 3));
	o->key_size = (uint32_t)sqlite3_column_int64(st, 4);
	o->value_size = (uint32_t)sqlite3_column_int64(st, 5);
	o->max_entries = (uint32_t)sqlite3_column_int64(st, 6);
	o->flags = (uint32_t)sqlite3_column_int64(st, 7);
	o->tag = xstrdup(col_text(st, 8));
	o->prog_id = (uint32_t)sqlite3_column_int64(st, 9);
	hmap_put(&m->objects, (uint64_t)kind << 32 | id, ++m->n_objs);
	return 0;
}

static int module_row(struct model *m, sqlite3_stmt *st)
{
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
	m->load_last = NULL;
	m->cap_mods = 0;
	/* One read transaction: a consistent view even while the shim writes. */
	int rc = sqlite3_exec(m->db, "BEGIN", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		sql_error(m, rc, err, errlen);
		return -1;
	}
	snprintf(proc_sql, sizeof(proc_sql),
		 "SELECT pid, ppid, exe, cmdline, exited_ns, boot_id, %s, %s, %s, %s"
		 " FROM process ORDER BY id", opt_col(m, "process", "origin"),
		 opt_col(m, "process", "started_ns"), opt_col(m, "process", "flushed_ns"),
		 opt_col(m, "process", "realtime_base_ns"));
	snprintf(ev_sql, sizeof(ev_sql),
		 "SELECT seq, ts_ns, pid, op, fd, fd2, cmd, obj_kind, obj_id, stack_id,"
		 " result, flags, detail, %s FROM event ORDER BY seq", opt_col(m, "event", "end_ns"));
	snprintf(mod_sql, sizeof(mod_sql),
		 "SELECT id, pid, ts_ns, path, build_id, base, size, %s, %s, %s"
		 " FROM module ORDER BY pid, ts_ns, id", opt_col(m, "module", "file_size"),
		 opt_col(m, "module", "mtime_ns"), opt_col(m, "module", "unloaded_ns"));
	if (each_row(m, "SELECT key, value FROM meta", meta_row, err, errlen) < 0 ||
	    each_row(m, proc_sql, process_row, err, errlen) < 0 ||
	    each_row(m, ev_sql, event_row, err, errlen) < 0 ||
	    each_row(m, "SELECT kind, id, type, name, key_size, value_size, max_entries, flags,"
			" tag, prog_id FROM object", object_row, err, errlen) < 0 ||
	    each_row(m, mod_sql, module_row, err, errlen) < 0)
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

const struct object_info *model_object(const struct model *m, int kind, uint32_t id)
{
	uint64_t v;
	if (!hmap_get(&m->objects, (uint64_t)kind << 32 | id, &v))
		return NULL;
	return &m->objs[v - 1];
}

/* Stacks are read on demand: only findings (or --symbolize) need them. */
const uint64_t *model_stack(struct model *m, int64_t stack_id, uint32_t *depth)
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

static void free_warns(struct warning *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(w[i].text);
	free(w);
}

void model_free(struct model *m)
{
	for (size_t i = 0; i < m->n_findings; i++) {
		free(m->findings[i].recs);
		free(m->findings[i].detail);
		rstack_free(&m->findings[i].rs);
	}
	free(m->findings);
	for (size_t i = 0; i < m->n_procs; i++) {
		struct proc *p = m->procs[i];
		for (size_t k = 0; k < p->n_ev; k++)
			free(p->evs[k].detail);
		free(p->evs);
		free(p->recs);
		free(p->open);
		free(p->last);
		free(p->final);
		free(p->exe);
		free(p->cmdline);
		free(p->images);
		for (size_t k = 0; k < p->n_drops; k++)
			free(p->drops[k].why);
		free(p->drops);
		free(p->notes);
		free(p->exec_path);
		free(p->exec_note);
		blind_free(p->blinds, p->n_blinds);
		if (p->snap) {
			snap_free(p->snap);
			free(p->snap);
		}
		if (p->pins && p->pins != &m->journal_pins) {
			pinset_free(p->pins);
			free(p->pins);
		}
		free_warns(p->warns, p->n_warns);
		free(p);
	}
	free(m->procs);
	hmap_free(&m->pid_idx);
	for (size_t i = 0; i < m->n_objs; i++) {
		free(m->objs[i].name);
		free(m->objs[i].tag);
	}
	free(m->objs);
	hmap_free(&m->objects);
	for (size_t i = 0; i < m->n_mods; i++) {
		free(m->mods[i].path);
		free(m->mods[i].build_id);
	}
	free(m->mods);
	hmap_free(&m->mod_idx);
	for (size_t i = 0; i < m->stacks.cap; i++)
		if (m->stacks.used[i])
			free((void *)(uintptr_t)m->stacks.vals[i]);
	hmap_free(&m->stacks);
	pinset_free(&m->journal_pins);
	free_warns(m->warns, m->n_warns);
	blind_free(m->blinds, m->n_blinds);
	free(m->boot_id);
	if (m->sym)
		symbolizer_free(m->sym);
	sqlite3_finalize(m->st_stack);
	sqlite3_finalize(m->st_frame);
	if (m->db)
		sqlite3_close(m->db);
	memset(m, 0, sizeof(*m));
}
