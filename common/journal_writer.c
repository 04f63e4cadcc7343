// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Opening (and creating) a journal and writing its rows.  See
 * journal_writer.h for who uses it; the format is include/bpfleak/journal.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>
#include <bpfleak/journal.h>
#include <bpfleak/snapshot.h>
#include <bpfleak/sqlquery.h>
#include "journal_writer.h"
#include "journal_writer_sql.h"

static int exec_sql(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Run a prepared statement to completion and reset it. */
int jw_sql_run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

void jw_sql_bind_opt_int(sqlite3_stmt *st, int idx, bool present, int64_t v)
{
	if (present)
		sqlite3_bind_int64(st, idx, v);
	else
		sqlite3_bind_null(st, idx);
}

void jw_sql_bind_opt_text(sqlite3_stmt *st, int idx, const char *s)
{
	if (s && s[0])
		sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, idx);
}

/* One-shot statement: prepare, bind through fn, run, finalize. */
int jw_sql_once(sqlite3 *db, const char *sql, void (*bind)(sqlite3_stmt *, const void *),
		const void *arg)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	bind(st, arg);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

struct kv {
	const char *key, *value;
	int64_t code;
};

static void bind_kv(sqlite3_stmt *st, const void *arg)
{
	const struct kv *kv = arg;
	sqlite3_bind_text(st, 1, kv->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kv->value, -1, SQLITE_TRANSIENT);
}

static void bind_code_name(sqlite3_stmt *st, const void *arg)
{
	const struct kv *kv = arg;
	sqlite3_bind_int64(st, 1, kv->code);
	sqlite3_bind_text(st, 2, kv->value, -1, SQLITE_STATIC);
}

int jw_meta(struct jw *j, const char *key, const char *value)
{
	struct kv kv = { key, value, 0 };
	return jw_sql_once(j->db, "INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", bind_kv, &kv);
}

static int name_row(sqlite3 *db, const char *sql, int64_t code, const char *name)
{
	struct kv kv = { NULL, name, code };
	return jw_sql_once(db, sql, bind_code_name, &kv);
}

/* The name tables, from the lists in journal.h. */
static int write_names(sqlite3 *db)
{
	int rc = SQLITE_OK;
#define OP_ROW(code, id, name) \
	rc |= name_row(db, "INSERT OR IGNORE INTO op_name VALUES (?, ?)", code, name);
	BPFLEAK_OPS(OP_ROW)
#undef OP_ROW
#define KIND_ROW(code, id, name) \
	rc |= name_row(db, "INSERT OR IGNORE INTO kind_name VALUES (?, ?)", code, name);
	BPFLEAK_KINDS(KIND_ROW)
#undef KIND_ROW
	for (int c = 0; c < BPFLEAK_CMD_MAX; c++)
		if (bpfleak_cmds[c].name)
			rc |= name_row(db, "INSERT OR IGNORE INTO cmd_name VALUES (?, ?)", c,
				       bpfleak_cmds[c].name);
	return rc;
}

static int write_meta(struct jw *j)
{
	char buf[256];
	struct utsname u;
	int rc = SQLITE_OK;

	snprintf(buf, sizeof(buf), "%d", BPFLEAK_SCHEMA_VERSION);
	rc |= jw_meta(j, "schema_version", buf);
	bpfleak_boot_id(buf, sizeof(buf));
	rc |= jw_meta(j, "boot_id", buf);
	if (uname(&u) == 0) {
		rc |= jw_meta(j, "hostname", u.nodename);
		rc |= jw_meta(j, "kernel", u.release);
		rc |= jw_meta(j, "machine", u.machine);
	}
	rc |= jw_meta(j, "bpfleak_version", BPFLEAK_VERSION);
	rc |= jw_meta(j, "sqlite_version", sqlite3_libversion());
	struct timespec mono, real_ts;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real_ts);
	long long base = ((long long)real_ts.tv_sec - mono.tv_sec) * 1000000000ll +
			 (real_ts.tv_nsec - mono.tv_nsec);
	snprintf(buf, sizeof(buf), "%lld", base);
	rc |= jw_meta(j, "realtime_base_ns", buf);
	rc |= jw_meta(j, "clock", "CLOCK_MONOTONIC ns; wall = ts_ns + realtime_base_ns");
	return rc;
}

/*
 * The first writer of a new file creates the schema; everyone checks that
 * the file is ours and not from a newer bpfleak.
 */
static int ensure_schema(struct jw *j, char *err, size_t errcap)
{
	sqlite3 *db = j->db;
	long long app = 0, version = 0;
	if (bpfleak_sql_int64(db, "PRAGMA application_id", &app) != SQLITE_OK ||
	    bpfleak_sql_int64(db, "PRAGMA user_version", &version) != SQLITE_OK) {
		/* Only NOTADB means a foreign file: a full disk or a read error
		 * fails here too and must be named as what it is. */
		snprintf(err, errcap, "%s: %s",
			 sqlite3_extended_errcode(db) == SQLITE_NOTADB ? "not an sqlite database"
								    : "unreadable",
			 sqlite3_errmsg(db));
		return -1;
	}
	if (app == BPFLEAK_APPLICATION_ID && version == BPFLEAK_SCHEMA_VERSION)
		return 0;
	long long tables = 0;
	bpfleak_sql_int64(db, "SELECT count(*) FROM sqlite_schema", &tables);
	if (app != BPFLEAK_APPLICATION_ID && (app != 0 || tables != 0)) {
		snprintf(err, errcap, "file exists and is not a bpfleak journal");
		return -1;
	}
	if (version > BPFLEAK_SCHEMA_VERSION) {
		snprintf(err, errcap, "journal schema %lld is newer than this bpfleak's %d", version,
			 BPFLEAK_SCHEMA_VERSION);
		return -1;
	}
	if (app == BPFLEAK_APPLICATION_ID) {
		/* An older journal: appending rows of another shape would mix formats. */
		snprintf(err, errcap, "journal schema %lld is older than this bpfleak's %d; "
			 "record into a new file", version, BPFLEAK_SCHEMA_VERSION);
		return -1;
	}
	if (exec_sql(db, "BEGIN IMMEDIATE") != SQLITE_OK) {
		snprintf(err, errcap, "cannot lock journal: %s", sqlite3_errmsg(db));
		return -1;
	}
	/* Re-check under the lock: another process may have just created it. */
	bpfleak_sql_int64(db, "PRAGMA application_id", &app);
	if (app == 0) {
		long long count = 0;
		bpfleak_sql_int64(db, "SELECT count(*) FROM sqlite_schema", &count);
		if (count != 0) {
			exec_sql(db, "ROLLBACK");
			snprintf(err, errcap, "file exists and is not a bpfleak journal");
			return -1;
		}
		char pragmas[128];
		snprintf(pragmas, sizeof(pragmas), "PRAGMA application_id=%d; PRAGMA user_version=%d;",
			 BPFLEAK_APPLICATION_ID, BPFLEAK_SCHEMA_VERSION);
		if (exec_sql(db, BPFLEAK_SCHEMA_SQL) != SQLITE_OK || write_names(db) != SQLITE_OK ||
		    write_meta(j) != SQLITE_OK || exec_sql(db, pragmas) != SQLITE_OK) {
			snprintf(err, errcap, "cannot create journal schema: %s", sqlite3_errmsg(db));
			exec_sql(db, "ROLLBACK");
			return -1;
		}
	}
	if (exec_sql(db, "COMMIT") != SQLITE_OK) {
		snprintf(err, errcap, "cannot create journal schema: %s", sqlite3_errmsg(db));
		exec_sql(db, "ROLLBACK");
		return -1;
	}
	return 0;
}

#define EVENT_COLUMNS 14
#define INSERT_EVENT "INSERT INTO event(ts_ns, pid, tid, op, fd, fd2, cmd, obj_kind, obj_id," \
		     " stack_id, result, flags, detail, end_ns) VALUES "
#define EVENT_ROW "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)"

/*
 * What each event INSERT holds bound since its last run: sqlite3_reset
 * keeps a statement's bindings, and row r of one batch mostly repeats row
 * r of the one before (same pid, tid, op, command, kind, flags; the same
 * NULLs), so a value already in place is not bound again.  Binding was a
 * quarter of the writer's instructions per row (docs/overhead.md).  Text
 * is always bound again: its bytes may change under the same pointer.
 */
enum { BOUND_UNKNOWN, BOUND_NULL, BOUND_INT };
#define EVENT_PARAMS (32 * EVENT_COLUMNS)
struct bound_stmt {
	int64_t v[EVENT_PARAMS];
	uint8_t kind[EVENT_PARAMS];
};
struct jw_bound {
	struct bound_stmt of[3];   /* JW_INS_EVENT, JW_INS_EVENTS_8, JW_INS_EVENTS_32 */
};

static const char *const statement_sql[JW_N_STMTS] = {
	[JW_INS_EVENT] = INSERT_EVENT EVENT_ROW,
	/* JW_INS_EVENTS_*: built by events_sql() */
	[JW_INS_STACK] = "INSERT OR IGNORE INTO stack(hash, depth, ips) VALUES (?,?,?)",
	[JW_GET_STACK] = "SELECT id FROM stack WHERE hash = ?",
	[JW_INS_OBJECT] = "INSERT OR IGNORE INTO object(kind, id, type, name, key_size, value_size,"
			  " max_entries, flags, tag, prog_id, first_seen_ns)"
			  " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
	/* Parenthesized: clang's -Wstring-concatenation takes a two-part last element for a missing comma. */
	[JW_INS_MODULE] = ("INSERT INTO module(pid, ts_ns, path, build_id, base, size,"
			   " file_size, mtime_ns) VALUES (?,?,?,?,?,?,?,?)"),
};

/*
 * Create the file ourselves, so it is 0600 whoever's umask is in force and
 * a symlink at the path is refused rather than followed.
 */
static int precreate(const char *path, char *err, size_t errcap)
{
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
		return 0;   /* there already: sqlite opens it (never through a symlink) */
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errcap, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	/* The global close: a host's sanitizer sees this FD's end. */
	close(fd);
	if (!regular) {
		snprintf(err, errcap, "%s is not a regular file", path);
		return -1;
	}
	return 0;
}

/* "INSERT ... VALUES (?,...),(?,...),..." with `rows` rows. */
static char *events_sql(int rows)
{
	size_t row = sizeof(EVENT_ROW), len = sizeof(INSERT_EVENT) + (size_t)rows * row;
	char *sql = sqlite3_malloc64(len);
	if (!sql)
		return NULL;
	char *p = sql + snprintf(sql, len, "%s", INSERT_EVENT);
	for (int r = 0; r < rows; r++)
		p += snprintf(p, len - (size_t)(p - sql), "%s" EVENT_ROW, r ? "," : "");
	return sql;
}

static int prepare_statements(struct jw *j)
{
	static const int multi_rows[JW_N_STMTS] = { [JW_INS_EVENTS_8] = 8, [JW_INS_EVENTS_32] = 32 };
	for (int i = 0; i < JW_N_STMTS; i++) {
		char *built = multi_rows[i] ? events_sql(multi_rows[i]) : NULL;
		const char *sql = multi_rows[i] ? built : statement_sql[i];
		int rc = sql ? sqlite3_prepare_v3(j->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &j->st[i], NULL)
			     : SQLITE_NOMEM;
		sqlite3_free(built);
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

int jw_open(struct jw *j, const char *path, int flags, char *err, size_t errcap)
{
	memset(j, 0, sizeof(*j));
	if ((flags & JW_CREATE) && precreate(path, err, errcap))
		return -1;
	int rc = sqlite3_open_v2(path, &j->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errcap, "cannot open %s: %s", path,
			 j->db ? sqlite3_errmsg(j->db) : sqlite3_errstr(rc));
		jw_close(j);
		return -1;
	}
	if (flags & JW_APPEND) {
		/* Several processes append: wait for each other rather than fail. */
		sqlite3_busy_timeout(j->db, 5000);
		/*
		 * Appenders open the file for a batch at a time.  The last one to
		 * close must not checkpoint and delete the WAL and its index while
		 * another process is about to open them: that race ends in
		 * "database is locked" without the busy handler being asked.
		 */
		sqlite3_db_config(j->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
		int persist = 1;
		sqlite3_file_control(j->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	}
	if (ensure_schema(j, err, errcap)) {
		jw_close(j);
		return -1;
	}
	/* WAL: appenders never block each other's readers.  It sticks to the file. */
	if (flags & JW_APPEND)
		exec_sql(j->db, "PRAGMA journal_mode=WAL");
	exec_sql(j->db, "PRAGMA synchronous=NORMAL");
	if (prepare_statements(j) != SQLITE_OK) {
		snprintf(err, errcap, "journal schema mismatch: %s", sqlite3_errmsg(j->db));
		jw_close(j);
		return -1;
	}
	/* Without it every value is bound every time, as sqlite expects anyway. */
	j->bound = sqlite3_malloc64(sizeof(*j->bound));
	if (j->bound)
		memset(j->bound, 0, sizeof(*j->bound));
	return 0;
}

void jw_private_sqlite(int (*open_fn)(const char *path, int flags, int mode),
		       int (*close_fn)(int fd))
{
	sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	/* The unix VFS's table of system calls is the seam for its files. */
	sqlite3_vfs *unix_vfs = sqlite3_vfs_find("unix");
	if (unix_vfs && unix_vfs->iVersion >= 3 && unix_vfs->xSetSystemCall) {
		unix_vfs->xSetSystemCall(unix_vfs, "open", (sqlite3_syscall_ptr)open_fn);
		unix_vfs->xSetSystemCall(unix_vfs, "close", (sqlite3_syscall_ptr)close_fn);
	}
}

void jw_busy_handler(struct jw *j, int (*fn)(void *ctx, int attempts), void *ctx)
{
	sqlite3_busy_handler(j->db, fn, ctx);
}

void jw_close(struct jw *j)
{
	for (int i = 0; i < JW_N_STMTS; i++)
		sqlite3_finalize(j->st[i]);
	sqlite3_free(j->bound);
	if (j->db)
		sqlite3_close_v2(j->db);
	memset(j, 0, sizeof(*j));
}

int jw_exec(struct jw *j, const char *sql)
{
	return exec_sql(j->db, sql);
}

int jw_begin(struct jw *j)
{
	return exec_sql(j->db, "BEGIN IMMEDIATE");
}

int jw_commit(struct jw *j)
{
	return exec_sql(j->db, "COMMIT");
}

void jw_rollback(struct jw *j)
{
	exec_sql(j->db, "ROLLBACK");
}

int jw_errcode(struct jw *j)
{
	int code = j->db ? sqlite3_extended_errcode(j->db) : SQLITE_CANTOPEN;
	return code ? code : SQLITE_ERROR;
}

const char *jw_errstr(int code)
{
	return sqlite3_errstr(code);
}

void jw_finish(struct jw *j, int wait_ms)
{
	sqlite3_busy_timeout(j->db, wait_ms);
	exec_sql(j->db, "PRAGMA wal_checkpoint(TRUNCATE)");
}

int64_t jw_stack(struct jw *j, uint64_t hash, const uint64_t *ips, uint32_t depth)
{
	sqlite3_stmt *ins = j->st[JW_INS_STACK], *get = j->st[JW_GET_STACK];
	sqlite3_bind_int64(ins, 1, (int64_t)hash);
	sqlite3_bind_int(ins, 2, (int)depth);
	sqlite3_bind_blob(ins, 3, ips, (int)(depth * sizeof(*ips)), SQLITE_STATIC);
	if (jw_sql_run(ins) != SQLITE_OK)
		return -1;
	if (sqlite3_changes(j->db) == 1)
		return sqlite3_last_insert_rowid(j->db);
	/* Another process (or a forked sibling) wrote the same stack first. */
	sqlite3_bind_int64(get, 1, (int64_t)hash);
	int64_t id = -1;
	if (sqlite3_step(get) == SQLITE_ROW)
		id = sqlite3_column_int64(get, 0);
	sqlite3_reset(get);
	return id;
}

int jw_object(struct jw *j, const struct bpfleak_obj_info *o, uint64_t first_seen_ns)
{
	sqlite3_stmt *st = j->st[JW_INS_OBJECT];
	sqlite3_bind_int(st, 1, o->kind);
	sqlite3_bind_int64(st, 2, o->id);
	sqlite3_bind_int64(st, 3, o->type);
	jw_sql_bind_opt_text(st, 4, o->name);
	bool is_map = o->kind == BPFLEAK_KIND_MAP;
	jw_sql_bind_opt_int(st, 5, is_map, o->key_size);
	jw_sql_bind_opt_int(st, 6, is_map, o->value_size);
	jw_sql_bind_opt_int(st, 7, is_map, o->max_entries);
	jw_sql_bind_opt_int(st, 8, is_map, o->flags);
	jw_sql_bind_opt_text(st, 9, o->tag);
	jw_sql_bind_opt_int(st, 10, o->kind == BPFLEAK_KIND_LINK, o->prog_id);
	sqlite3_bind_int64(st, 11, (int64_t)first_seen_ns);
	return jw_sql_run(st);
}

int64_t jw_module(struct jw *j, const struct jw_module *m)
{
	sqlite3_stmt *st = j->st[JW_INS_MODULE];
	sqlite3_bind_int(st, 1, m->pid);
	sqlite3_bind_int64(st, 2, (int64_t)m->ts_ns);
	sqlite3_bind_text(st, 3, m->path, -1, SQLITE_STATIC);
	jw_sql_bind_opt_text(st, 4, m->build_id);
	sqlite3_bind_int64(st, 5, (int64_t)m->base);
	sqlite3_bind_int64(st, 6, (int64_t)m->size);
	jw_sql_bind_opt_int(st, 7, m->file_size >= 0, m->file_size);
	jw_sql_bind_opt_int(st, 8, m->mtime_ns >= 0, m->mtime_ns);
	return jw_sql_run(st) == SQLITE_OK ? sqlite3_last_insert_rowid(j->db) : -1;
}

struct row_ts {
	int64_t row;
	uint64_t ts;
	bool have_status;
	int status;
};

static void bind_row_ts(sqlite3_stmt *st, const void *arg)
{
	const struct row_ts *r = arg;
	sqlite3_bind_int64(st, 1, (int64_t)r->ts);
	sqlite3_bind_int64(st, 2, r->row);
}

int jw_module_unloaded(struct jw *j, int64_t row, uint64_t ts_ns)
{
	struct row_ts r = { row, ts_ns, false, 0 };
	return jw_sql_once(j->db, "UPDATE module SET unloaded_ns = ? WHERE id = ?", bind_row_ts, &r);
}

static struct bound_stmt *bound_of(struct jw *j, int stmt)
{
	if (!j->bound)
		return NULL;
	return &j->bound->of[stmt == JW_INS_EVENT ? 0 : stmt == JW_INS_EVENTS_8 ? 1 : 2];
}

static void keep_int(sqlite3_stmt *st, struct bound_stmt *b, int idx, int64_t v)
{
	if (b && b->kind[idx - 1] == BOUND_INT && b->v[idx - 1] == v)
		return;
	int rc = sqlite3_bind_int64(st, idx, v);
	if (b) {
		b->kind[idx - 1] = rc == SQLITE_OK ? BOUND_INT : BOUND_UNKNOWN;
		b->v[idx - 1] = v;
	}
}

static void keep_null(sqlite3_stmt *st, struct bound_stmt *b, int idx)
{
	if (b && b->kind[idx - 1] == BOUND_NULL)
		return;
	int rc = sqlite3_bind_null(st, idx);
	if (b)
		b->kind[idx - 1] = rc == SQLITE_OK ? BOUND_NULL : BOUND_UNKNOWN;
}

static void keep_opt_int(sqlite3_stmt *st, struct bound_stmt *b, int idx, bool present, int64_t v)
{
	if (present)
		keep_int(st, b, idx, v);
	else
		keep_null(st, b, idx);
}

/* One event's columns, from parameter base + 1 on. */
static void bind_event(sqlite3_stmt *st, struct bound_stmt *b, int base, const struct jw_event *e)
{
	keep_int(st, b, base + 1, (int64_t)e->ts_ns);
	keep_int(st, b, base + 2, e->pid);
	keep_int(st, b, base + 3, e->tid);
	keep_int(st, b, base + 4, e->op);
	keep_opt_int(st, b, base + 5, e->has_fd, e->fd);
	keep_opt_int(st, b, base + 6, e->has_fd2, e->fd2);
	keep_opt_int(st, b, base + 7, e->cmd >= 0, e->cmd);
	keep_opt_int(st, b, base + 8, e->kind != 0 || e->has_fd, e->kind);
	keep_opt_int(st, b, base + 9, e->obj_id != 0, e->obj_id);
	keep_opt_int(st, b, base + 10, e->stack_id > 0, e->stack_id);
	keep_int(st, b, base + 11, e->result);
	keep_opt_int(st, b, base + 12, e->flags != 0, e->flags);
	if (e->detail) {
		sqlite3_bind_text(st, base + 13, e->detail, -1, SQLITE_STATIC);
		if (b)
			b->kind[base + 12] = BOUND_UNKNOWN;
	} else {
		keep_null(st, b, base + 13);
	}
	keep_opt_int(st, b, base + 14, e->end_ns != 0, (int64_t)e->end_ns);
}

int jw_event(struct jw *j, const struct jw_event *e)
{
	sqlite3_stmt *st = j->st[JW_INS_EVENT];
	bind_event(st, bound_of(j, JW_INS_EVENT), 0, e);
	return jw_sql_run(st);
}

int jw_events(struct jw *j, const struct jw_event *e, size_t n)
{
	static const struct {
		int stmt;
		size_t rows;
	} sizes[] = { { JW_INS_EVENTS_32, 32 }, { JW_INS_EVENTS_8, 8 }, { JW_INS_EVENT, 1 } };
	size_t done = 0;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		sqlite3_stmt *st = j->st[sizes[s].stmt];
		struct bound_stmt *b = bound_of(j, sizes[s].stmt);
		for (; n - done >= sizes[s].rows; done += sizes[s].rows) {
			for (size_t r = 0; r < sizes[s].rows; r++)
				bind_event(st, b, (int)r * EVENT_COLUMNS, &e[done + r]);
			int rc = jw_sql_run(st);
			if (rc != SQLITE_OK)
				return rc;
		}
	}
	return SQLITE_OK;
}

bool jw_last_event_of(struct jw *j, pid_t pid, int *op, int *flags)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(j->db, "SELECT op, coalesce(flags, 0) FROM event WHERE pid = ?"
			       " ORDER BY seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_int(st, 1, pid);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	if (found) {
		*op = sqlite3_column_int(st, 0);
		*flags = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	return found;
}

static void bind_process(sqlite3_stmt *st, const void *arg)
{
	const struct jw_process *p = arg;
	sqlite3_bind_int(st, 1, p->pid);
	jw_sql_bind_opt_int(st, 2, p->ppid > 0, p->ppid);
	jw_sql_bind_opt_text(st, 3, p->exe);
	sqlite3_bind_text(st, 4, p->cmdline ? p->cmdline : "", -1, SQLITE_TRANSIENT);
	jw_sql_bind_opt_text(st, 5, p->boot_id);
	sqlite3_bind_int64(st, 6, (int64_t)p->start_ticks);
	jw_sql_bind_opt_text(st, 7, p->origin);
	sqlite3_bind_int64(st, 8, (int64_t)p->started_ns);
	sqlite3_bind_int64(st, 9, p->realtime_base_ns);
	jw_sql_bind_opt_text(st, 10, p->recorder);
	jw_sql_bind_opt_int(st, 11, p->ns_pid > 0, p->ns_pid);
}

int64_t jw_process(struct jw *j, const struct jw_process *p)
{
	int rc = jw_sql_once(j->db, "INSERT INTO process(pid, ppid, exe, cmdline, boot_id, start_ticks,"
			     " origin, started_ns, realtime_base_ns, recorder, ns_pid)"
			     " VALUES (?,?,?,?,?,?,?,?,?,?,?)", bind_process, p);
	return rc == SQLITE_OK ? sqlite3_last_insert_rowid(j->db) : -1;
}

struct find_exec {
	pid_t pid;
	uint64_t start_ticks;
	const char *boot_id;
};

int64_t jw_process_find_exec(struct jw *j, pid_t pid, uint64_t start_ticks, const char *boot_id)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(j->db,
			       "SELECT id FROM process WHERE pid = ? AND start_ticks = ? AND boot_id = ?"
			       " ORDER BY id DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, pid);
	sqlite3_bind_int64(st, 2, (int64_t)start_ticks);
	sqlite3_bind_text(st, 3, boot_id, -1, SQLITE_STATIC);
	int64_t id = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

static void bind_exited(sqlite3_stmt *st, const void *arg)
{
	const struct row_ts *r = arg;
	sqlite3_bind_int64(st, 1, (int64_t)r->ts);
	jw_sql_bind_opt_int(st, 2, r->have_status, r->status);
	sqlite3_bind_int64(st, 3, r->row);
}

int jw_process_exited(struct jw *j, int64_t row, uint64_t ts_ns, bool have_status, int status)
{
	struct row_ts r = { row, ts_ns, have_status, status };
	return jw_sql_once(j->db, "UPDATE process SET exited_ns = ?, exit_status = ?, flushed_ns = ?1"
			   " WHERE id = ?3", bind_exited, &r);
}

int jw_process_flushed(struct jw *j, int64_t row, uint64_t ts_ns)
{
	struct row_ts r = { row, ts_ns, false, 0 };
	return jw_sql_once(j->db, "UPDATE process SET flushed_ns = max(coalesce(flushed_ns, 0), ?)"
			   " WHERE id = ?", bind_row_ts, &r);
}

