// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The sqlite side of the journal: opening (and creating) the file, and the
 * prepared statements that write rows.  Only the writer (under its lock)
 * calls into this file.  The sqlite copy is linked statically with hidden
 * symbols, so a host with its own sqlite is neither used nor disturbed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>
#include <bpfleak/journal.h>
#include <bpfleak/snapshot.h>
#include <bpfleak/sqlquery.h>
#include "journal_db.h"
#include "shim.h"

static int exec_sql(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int put_meta(sqlite3 *db, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", -1,
				    &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int write_meta(sqlite3 *db)
{
	char buf[256];
	struct utsname u;
	int rc = SQLITE_OK;

	snprintf(buf, sizeof(buf), "%d", BPFLEAK_SCHEMA_VERSION);
	rc |= put_meta(db, "schema_version", buf);
	bpfleak_boot_id(buf, sizeof(buf));
	rc |= put_meta(db, "boot_id", buf);
	if (uname(&u) == 0) {
		rc |= put_meta(db, "hostname", u.nodename);
		rc |= put_meta(db, "kernel", u.release);
		rc |= put_meta(db, "machine", u.machine);
	}
	rc |= put_meta(db, "shim_version", BPFLEAK_VERSION);
	rc |= put_meta(db, "sqlite_version", sqlite3_libversion());
	struct timespec mono, real_ts;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real_ts);
	long long base = ((long long)real_ts.tv_sec - mono.tv_sec) * 1000000000ll +
			 (real_ts.tv_nsec - mono.tv_nsec);
	snprintf(buf, sizeof(buf), "%lld", base);
	rc |= put_meta(db, "realtime_base_ns", buf);
	rc |= put_meta(db, "clock", "CLOCK_MONOTONIC ns; wall = ts_ns + realtime_base_ns");
	return rc;
}

/*
 * First writer of a new file creates the schema; everyone checks that the
 * file is ours and not from a newer bpfleak.
 */
static int ensure_schema(sqlite3 *db, char *err, size_t errcap)
{
	long long app = 0, version = 0;
	if (bpfleak_sql_int64(db, "PRAGMA application_id", &app) != SQLITE_OK ||
	    bpfleak_sql_int64(db, "PRAGMA user_version", &version) != SQLITE_OK) {
		snprintf(err, errcap, "not an sqlite database: %s", sqlite3_errmsg(db));
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
		snprintf(err, errcap, "journal schema %lld is newer than this shim's %d", version,
			 BPFLEAK_SCHEMA_VERSION);
		return -1;
	}
	/* WAL must be chosen outside a transaction; it sticks to the file. */
	exec_sql(db, "PRAGMA journal_mode=WAL");
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
		if (exec_sql(db, BPFLEAK_SCHEMA_SQL) != SQLITE_OK || write_meta(db) != SQLITE_OK ||
		    exec_sql(db, pragmas) != SQLITE_OK) {
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

static const char *const statement_sql[JDB_N_STMTS] = {
	[JDB_INS_EVENT] = "INSERT INTO event(ts_ns, pid, tid, op, fd, fd2, cmd, obj_kind, obj_id,"
			  " stack_id, result, flags, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[JDB_INS_STACK] = "INSERT OR IGNORE INTO stack(hash, depth, ips) VALUES (?,?,?)",
	[JDB_GET_STACK] = "SELECT id FROM stack WHERE hash = ?",
	[JDB_INS_OBJECT] = "INSERT OR IGNORE INTO object(kind, id, type, name, key_size, value_size,"
			   " max_entries, flags, tag, prog_id, first_seen_ns)"
			   " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
	[JDB_INS_MODULE] = "INSERT INTO module(pid, ts_ns, path, build_id, base, size,"
			   " file_size, mtime_ns) VALUES (?,?,?,?,?,?,?,?)",
};

/*
 * Our sqlite is a private static copy, and every use of it is serialized by
 * the writer's mutex (one connection, open only during a drain), so its own
 * mutexes are pure cost on the writer's path: switch them off before it
 * initialises.  A no-op if it is already initialised.
 */
/*
 * sqlite's unix VFS opens and closes files through a table of system calls
 * that can be replaced.  Ours mark each journal FD as owned by the shim for
 * as long as sqlite holds it, so a host closing "every FD" cannot pull it
 * from under sqlite (hooks_fd.c close_owned).
 */
static int high_fd_base = 3;

static int journal_open(const char *path, int flags, int mode)
{
	int fd = open(path, flags | O_CLOEXEC, mode);
	/* Out of the host's way: it sees its own FD numbers as without the shim. */
	if (fd >= 0 && fd < high_fd_base) {
		int high = fcntl(fd, F_DUPFD_CLOEXEC, high_fd_base);
		if (high >= 0) {
			close(fd);   /* the global symbol: a sanitizer's interceptor sees it */
			fd = high;
		}
	}
	if (fd >= 0)
		fdtable_mark_owned(fd, OWNER_JOURNAL);
	return fd;
}

static int journal_close(int fd)
{
	fdtable_unmark_owned(fd);
	/* Through the global symbol (our hook passes an unmarked FD straight on),
	 * so that a sanitizer's close interceptor sees the FD's end. */
	return close(fd);
}

static void configure_sqlite_once(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 256)
		high_fd_base = (rl.rlim_cur < 1024 ? (int)rl.rlim_cur : 1024) - 64;
	sqlite3_vfs *unix_vfs = sqlite3_vfs_find("unix");
	if (unix_vfs && unix_vfs->iVersion >= 3 && unix_vfs->xSetSystemCall) {
		unix_vfs->xSetSystemCall(unix_vfs, "open", (sqlite3_syscall_ptr)journal_open);
		unix_vfs->xSetSystemCall(unix_vfs, "close", (sqlite3_syscall_ptr)journal_close);
	}
}

int jdb_open(struct jdb *j, const char *path, char *err, size_t errcap)
{
	configure_sqlite_once();
	memset(j, 0, sizeof(*j));
	int rc = sqlite3_open_v2(path, &j->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW,
				 NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errcap, "cannot open %s: %s", path,
			 j->db ? sqlite3_errmsg(j->db) : sqlite3_errstr(rc));
		jdb_close(j);
		return -1;
	}
	/* Several processes append: wait for each other rather than fail. */
	sqlite3_busy_timeout(j->db, 5000);
	/* The journal is open only during a batch; keep the WAL between them. */
	sqlite3_db_config(j->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	int persist = 1;
	sqlite3_file_control(j->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	if (ensure_schema(j->db, err, errcap)) {
		jdb_close(j);
		return -1;
	}
	exec_sql(j->db, "PRAGMA synchronous=NORMAL");
	for (int i = 0; i < JDB_N_STMTS; i++) {
		if (sqlite3_prepare_v2(j->db, statement_sql[i], -1, &j->st[i], NULL) != SQLITE_OK) {
			snprintf(err, errcap, "journal schema mismatch: %s", sqlite3_errmsg(j->db));
			jdb_close(j);
			return -1;
		}
	}
	return 0;
}

void jdb_close(struct jdb *j)
{
	for (int i = 0; i < JDB_N_STMTS; i++)
		sqlite3_finalize(j->st[i]);
	if (j->db)
		sqlite3_close_v2(j->db);
	memset(j, 0, sizeof(*j));
}

int jdb_exec(struct jdb *j, const char *sql)
{
	return exec_sql(j->db, sql);
}

const char *jdb_errmsg(struct jdb *j)
{
	return j->db ? sqlite3_errmsg(j->db) : "no journal";
}

/* Run a prepared statement to completion and reset it. */
static int run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static void bind_opt_int(sqlite3_stmt *st, int idx, bool present, int64_t v)
{
	if (present)
		sqlite3_bind_int64(st, idx, v);
	else
		sqlite3_bind_null(st, idx);
}

int64_t jdb_stack_id(struct jdb *j, uint64_t hash, const uintptr_t *ips, uint32_t depth)
{
	sqlite3_stmt *ins = j->st[JDB_INS_STACK], *get = j->st[JDB_GET_STACK];
	sqlite3_bind_int64(ins, 1, (int64_t)hash);
	sqlite3_bind_int(ins, 2, (int)depth);
	sqlite3_bind_blob(ins, 3, ips, (int)(depth * sizeof(*ips)), SQLITE_STATIC);
	if (run(ins) != SQLITE_OK)
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

int jdb_object(struct jdb *j, const struct bpfleak_obj_info *o, uint64_t first_seen_ns)
{
	sqlite3_stmt *st = j->st[JDB_INS_OBJECT];
	sqlite3_bind_int(st, 1, o->kind);
	sqlite3_bind_int64(st, 2, o->id);
	sqlite3_bind_int64(st, 3, o->type);
	if (o->name[0])
		sqlite3_bind_text(st, 4, o->name, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 4);
	bool is_map = o->kind == BPFLEAK_KIND_MAP;
	bind_opt_int(st, 5, is_map, o->key_size);
	bind_opt_int(st, 6, is_map, o->value_size);
	bind_opt_int(st, 7, is_map, o->max_entries);
	bind_opt_int(st, 8, is_map, o->flags);
	if (o->tag[0])
		sqlite3_bind_text(st, 9, o->tag, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 9);
	bind_opt_int(st, 10, o->kind == BPFLEAK_KIND_LINK, o->prog_id);
	sqlite3_bind_int64(st, 11, (int64_t)first_seen_ns);
	return run(st);
}

int jdb_module(struct jdb *j, pid_t pid, const struct module_info *m)
{
	sqlite3_stmt *st = j->st[JDB_INS_MODULE];
	sqlite3_bind_int(st, 1, pid);
	sqlite3_bind_int64(st, 2, (int64_t)m->ts);
	sqlite3_bind_text(st, 3, m->path, -1, SQLITE_STATIC);
	if (m->build_id && m->build_id[0])
		sqlite3_bind_text(st, 4, m->build_id, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_int64(st, 5, (int64_t)m->base);
	sqlite3_bind_int64(st, 6, (int64_t)m->size);
	bind_opt_int(st, 7, m->file_size >= 0, m->file_size);
	bind_opt_int(st, 8, m->mtime_ns >= 0, m->mtime_ns);
	return run(st);
}

int jdb_event(struct jdb *j, const struct jdb_event *e)
{
	sqlite3_stmt *st = j->st[JDB_INS_EVENT];
	sqlite3_bind_int64(st, 1, (int64_t)e->ts_ns);
	sqlite3_bind_int(st, 2, e->pid);
	sqlite3_bind_int(st, 3, e->tid);
	sqlite3_bind_int(st, 4, e->op);
	bind_opt_int(st, 5, e->has_fd, e->fd);
	bind_opt_int(st, 6, e->has_fd2, e->fd2);
	bind_opt_int(st, 7, e->cmd >= 0, e->cmd);
	bind_opt_int(st, 8, e->kind != 0 || e->has_fd, e->kind);
	bind_opt_int(st, 9, e->obj_id != 0, e->obj_id);
	bind_opt_int(st, 10, e->stack_id > 0, e->stack_id);
	sqlite3_bind_int(st, 11, e->result);
	bind_opt_int(st, 12, e->flags != 0, e->flags);
	if (e->detail)
		sqlite3_bind_text(st, 13, e->detail, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 13);
	return run(st);
}

int64_t jdb_process_insert(struct jdb *j, const struct jdb_process *p)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(j->db,
				    "INSERT INTO process(pid, ppid, exe, cmdline, boot_id, start_ticks,"
				    " origin, started_ns, realtime_base_ns) VALUES (?,?,?,?,?,?,?,?,?)",
				    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, p->pid);
	bind_opt_int(st, 2, p->ppid > 0, p->ppid);
	sqlite3_bind_text(st, 3, p->exe, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, p->cmdline, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, p->boot_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (int64_t)p->start_ticks);
	sqlite3_bind_text(st, 7, p->origin, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, (int64_t)p->started_ns);
	sqlite3_bind_int64(st, 9, p->realtime_base_ns);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? sqlite3_last_insert_rowid(j->db) : -1;
}

/* The row of an earlier image of this same process, if it exec'd into us. */
int64_t jdb_process_find_exec(struct jdb *j, pid_t pid, uint64_t start_ticks, const char *boot_id)
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

int jdb_process_exited(struct jdb *j, int64_t row, uint64_t ts, bool have_status, int status)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(j->db, "UPDATE process SET exited_ns = ?, exit_status = ? WHERE id = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)ts);
	bind_opt_int(st, 2, have_status, status);
	sqlite3_bind_int64(st, 3, row);
	int rc = run(st);
	sqlite3_finalize(st);
	return rc;
}

int jdb_snapshot(struct jdb *j, const struct bpfleak_snapshot *s, uint64_t ts, const char *reason)
{
	sqlite3_stmt *snap = NULL, *fd = NULL, *pin = NULL;
	int rc = sqlite3_prepare_v2(j->db, "INSERT INTO snapshot(pid, ts_ns, reason) VALUES (?,?,?)",
				    -1, &snap, NULL);
	rc |= sqlite3_prepare_v2(j->db,
				 "INSERT OR REPLACE INTO snapshot_fd(snapshot_id, fd, kind, obj_id, target,"
				 " cloexec, fdinfo) VALUES (?,?,?,?,?,?,?)",
				 -1, &fd, NULL);
	rc |= sqlite3_prepare_v2(j->db,
				 "INSERT INTO snapshot_pin(snapshot_id, path, kind, obj_id, name, error)"
				 " VALUES (?,?,?,?,?,?)",
				 -1, &pin, NULL);
	if (rc != SQLITE_OK)
		goto out;
	sqlite3_bind_int(snap, 1, s->pid);
	sqlite3_bind_int64(snap, 2, (int64_t)ts);
	sqlite3_bind_text(snap, 3, reason, -1, SQLITE_STATIC);
	if ((rc = run(snap)) != SQLITE_OK)
		goto out;
	int64_t id = sqlite3_last_insert_rowid(j->db);
	for (size_t i = 0; i < s->n_fds && rc == SQLITE_OK; i++) {
		const struct bpfleak_snap_fd *f = &s->fds[i];
		sqlite3_bind_int64(fd, 1, id);
		sqlite3_bind_int(fd, 2, f->fd);
		sqlite3_bind_int(fd, 3, f->kind);
		bind_opt_int(fd, 4, f->obj_id != 0, f->obj_id);
		sqlite3_bind_text(fd, 5, f->target, -1, SQLITE_STATIC);
		sqlite3_bind_int(fd, 6, f->cloexec);
		sqlite3_bind_text(fd, 7, f->fdinfo, -1, SQLITE_STATIC);
		rc = run(fd);
	}
	for (size_t i = 0; i < s->n_pins && rc == SQLITE_OK; i++) {
		const struct bpfleak_snap_pin *p = &s->pins[i];
		sqlite3_bind_int64(pin, 1, id);
		sqlite3_bind_text(pin, 2, p->path, -1, SQLITE_STATIC);
		bind_opt_int(pin, 3, p->error == 0, p->kind);
		bind_opt_int(pin, 4, p->error == 0, p->obj_id);
		if (p->name[0])
			sqlite3_bind_text(pin, 5, p->name, (int)strnlen(p->name, sizeof(p->name)),
					  SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(pin, 5);
		bind_opt_int(pin, 6, p->error != 0, p->error);
		rc = run(pin);
	}
out:
	sqlite3_finalize(snap);
	sqlite3_finalize(fd);
	sqlite3_finalize(pin);
	return rc;
}
