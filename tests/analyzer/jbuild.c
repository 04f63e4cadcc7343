// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "jbuild.h"

static void die(const char *what, sqlite3 *db)
{
	fprintf(stderr, "jbuild: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
	abort();
}

void jb_sql(struct jb *j, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(j->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "jbuild: %s: %s\n", sql, msg);
		abort();
	}
}

void jb_init(struct jb *j)
{
	memset(j, 0, sizeof(*j));
	snprintf(j->dir, sizeof(j->dir), "%s/bpfleak-test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(j->dir))
		abort();
	snprintf(j->path, sizeof(j->path), "%s/journal.db", j->dir);
	if (sqlite3_open(j->path, &j->db) != SQLITE_OK)
		die("open", j->db);
	jb_sql(j, BPFLEAK_SCHEMA_SQL);
	char buf[128];
	snprintf(buf, sizeof(buf), "PRAGMA application_id = %d; PRAGMA user_version = %d;",
		 BPFLEAK_APPLICATION_ID, BPFLEAK_SCHEMA_VERSION);
	jb_sql(j, buf);
	jb_sql(j, "BEGIN");
	j->ts = 1000000000;   /* 1 s */
	j->step = 1000000;    /* 1 ms */
}

void jb_done(struct jb *j)
{
	if (!j->db)
		return;
	jb_sql(j, "COMMIT");
	sqlite3_close(j->db);
	j->db = NULL;
}

void jb_cleanup(struct jb *j)
{
	jb_done(j);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", j->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "jbuild: could not remove %s\n", j->dir);
}

static sqlite3_stmt *prep(struct jb *j, const char *sql)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(j->db, sql, -1, &st, NULL) != SQLITE_OK)
		die(sql, j->db);
	return st;
}

static void step_done(struct jb *j, sqlite3_stmt *st)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		die("insert", j->db);
	sqlite3_finalize(st);
}

void jb_process(struct jb *j, int pid, int ppid, const char *exe, const char *origin, int exited)
{
	sqlite3_stmt *st = prep(j, "INSERT INTO process(pid, ppid, exe, cmdline, origin, started_ns,"
				" exited_ns) VALUES (?,?,?,?,?,?,?)");
	sqlite3_bind_int(st, 1, pid);
	sqlite3_bind_int(st, 2, ppid);
	sqlite3_bind_text(st, 3, exe, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, exe, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, origin, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 6, j->ts);
	if (exited)
		sqlite3_bind_int64(st, 7, j->ts + 1000000000000ll);
	step_done(j, st);
}

int64_t jb_stack(struct jb *j, const uint64_t *ips, int n)
{
	static int64_t hash = 1;
	sqlite3_stmt *st = prep(j, "INSERT INTO stack(hash, depth, ips) VALUES (?,?,?)");
	sqlite3_bind_int64(st, 1, hash++);
	sqlite3_bind_int(st, 2, n);
	sqlite3_bind_blob(st, 3, ips, n * 8, SQLITE_TRANSIENT);
	step_done(j, st);
	return sqlite3_last_insert_rowid(j->db);
}

int64_t jb_stack1(struct jb *j, uint64_t ip)
{
	return jb_stack(j, &ip, 1);
}

void jb_module(struct jb *j, int pid, int64_t ts, const char *path, const char *build_id,
	       uint64_t base, uint64_t size)
{
	sqlite3_stmt *st = prep(j, "INSERT INTO module(pid, ts_ns, path, build_id, base, size)"
				" VALUES (?,?,?,?,?,?)");
	sqlite3_bind_int(st, 1, pid);
	sqlite3_bind_int64(st, 2, ts);
	sqlite3_bind_text(st, 3, path, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, build_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, (int64_t)base);
	sqlite3_bind_int64(st, 6, (int64_t)size);
	step_done(j, st);
}

void jb_object(struct jb *j, int kind, uint32_t id, int type, const char *name, uint32_t prog_id)
{
	sqlite3_stmt *st = prep(j, "INSERT INTO object(kind, id, type, name, key_size, value_size,"
				" max_entries, flags, prog_id) VALUES (?,?,?,?,4,8,16,0,?)");
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_int(st, 3, type);
	sqlite3_bind_text(st, 4, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, prog_id);
	step_done(j, st);
}

void jb_ev(struct jb *j, int pid, int op, int fd, int fd2, int cmd, int kind, uint32_t id,
	   int64_t stack, int result, int flags, const char *detail)
{
	sqlite3_stmt *st = prep(j, "INSERT INTO event(ts_ns, pid, tid, op, fd, fd2, cmd, obj_kind,"
				" obj_id, stack_id, result, flags, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
	sqlite3_bind_int64(st, 1, j->ts);
	sqlite3_bind_int(st, 2, pid);
	sqlite3_bind_int(st, 3, pid);
	sqlite3_bind_int(st, 4, op);
	sqlite3_bind_int(st, 5, fd);
	sqlite3_bind_int(st, 6, fd2);
	sqlite3_bind_int(st, 7, cmd);
	sqlite3_bind_int(st, 8, kind);
	sqlite3_bind_int64(st, 9, id);
	if (stack > 0)
		sqlite3_bind_int64(st, 10, stack);
	sqlite3_bind_int(st, 11, result);
	sqlite3_bind_int(st, 12, flags);
	if (detail)
		sqlite3_bind_text(st, 13, detail, -1, SQLITE_TRANSIENT);
	step_done(j, st);
	j->ts += j->step;
}

void jb_create(struct jb *j, int pid, int fd, int kind, uint32_t id, int64_t stack)
{
	jb_ev(j, pid, BPFLEAK_OP_CREATE, fd, 0, kind == BPFLEAK_KIND_PROG ? 5 : 0, kind, id, stack,
	      fd, BPFLEAK_EF_CLOEXEC, NULL);
}

void jb_dup(struct jb *j, int pid, int fd, int src, int kind, uint32_t id, int64_t stack)
{
	jb_ev(j, pid, BPFLEAK_OP_DUP, fd, src, 0, kind, id, stack, fd, 0, NULL);
}

void jb_close(struct jb *j, int pid, int fd, int kind, uint32_t id, int result, int64_t stack)
{
	jb_ev(j, pid, BPFLEAK_OP_CLOSE, fd, 0, 0, kind, id, stack, result, 0, NULL);
}

void jb_inherited(struct jb *j, int pid, int fd, int kind, uint32_t id, const char *why)
{
	jb_ev(j, pid, BPFLEAK_OP_INHERITED, fd, 0, 0, kind, id, 0, 0, 0, why);
}

int64_t jb_snapshot(struct jb *j, int pid)
{
	sqlite3_stmt *st = prep(j, "INSERT INTO snapshot(pid, ts_ns, reason) VALUES (?,?,'exit')");
	sqlite3_bind_int(st, 1, pid);
	sqlite3_bind_int64(st, 2, j->ts);
	step_done(j, st);
	j->ts += j->step;
	return sqlite3_last_insert_rowid(j->db);
}

int64_t jb_snapshot_ex(struct jb *j, int pid, int64_t ts, int64_t end_ns, int pins_walked)
{
	sqlite3_stmt *st = prep(j, "INSERT INTO snapshot(pid, ts_ns, end_ns, pins_walked, reason)"
				" VALUES (?,?,?,?,'exit')");
	sqlite3_bind_int(st, 1, pid);
	sqlite3_bind_int64(st, 2, ts);
	sqlite3_bind_int64(st, 3, end_ns);
	if (pins_walked >= 0)
		sqlite3_bind_int(st, 4, pins_walked);
	step_done(j, st);
	return sqlite3_last_insert_rowid(j->db);
}

void jb_note(struct jb *j, int pid, const char *note, int fd2)
{
	jb_ev(j, pid, BPFLEAK_OP_NOTE, -1, fd2, -1, 0, 0, 0, 0, 0, note);
}

void jb_drop(struct jb *j, int pid, int lost, int64_t start, int64_t end, const char *why)
{
	sqlite3_stmt *st = prep(j, "INSERT INTO event(ts_ns, pid, tid, op, fd2, detail, end_ns)"
				" VALUES (?,?,?,?,?,?,?)");
	sqlite3_bind_int64(st, 1, start);
	sqlite3_bind_int(st, 2, pid);
	sqlite3_bind_int(st, 3, pid);
	sqlite3_bind_int(st, 4, BPFLEAK_OP_DROP);
	sqlite3_bind_int(st, 5, lost);
	if (why)
		sqlite3_bind_text(st, 6, why, -1, SQLITE_TRANSIENT);
	if (end >= 0)
		sqlite3_bind_int64(st, 7, end);
	step_done(j, st);
}

void jb_process_times(struct jb *j, int pid, int64_t started, int64_t exited, int64_t flushed)
{
	static const char *const col[] = { "started_ns", "exited_ns", "flushed_ns" };
	int64_t v[] = { started, exited, flushed };
	char sql[200];
	for (int i = 0; i < 3; i++) {
		if (v[i] < 0)
			continue;
		snprintf(sql, sizeof(sql), "UPDATE process SET %s = %lld WHERE id = (SELECT max(id)"
			 " FROM process WHERE pid = %d)", col[i], (long long)v[i], pid);
		jb_sql(j, sql);
	}
}

void jb_module_unload(struct jb *j, int pid, const char *path, int64_t ts)
{
	sqlite3_stmt *st = prep(j, "UPDATE module SET unloaded_ns = ? WHERE pid = ? AND path = ?");
	sqlite3_bind_int64(st, 1, ts);
	sqlite3_bind_int(st, 2, pid);
	sqlite3_bind_text(st, 3, path, -1, SQLITE_TRANSIENT);
	step_done(j, st);
}

void jb_snap_fd(struct jb *j, int64_t snap, int fd, int kind, uint32_t id)
{
	char info[256];
	static const char *const key[] = { "x_id", "map_id", "prog_id", "link_id", "btf_id" };
	snprintf(info, sizeof(info), "pos:\t0\nflags:\t02000002\n%s%s:\t%u\n",
		 kind == BPFLEAK_KIND_MAP ? "map_type:\t1\nkey_size:\t4\nvalue_size:\t8\n"
					    "max_entries:\t16\nmap_flags:\t0x0\n" : "",
		 kind >= 1 && kind <= 4 ? key[kind] : "x_id", id);
	sqlite3_stmt *st = prep(j, "INSERT INTO snapshot_fd(snapshot_id, fd, kind, obj_id, target,"
				" cloexec, fdinfo) VALUES (?,?,?,?,?,1,?)");
	sqlite3_bind_int64(st, 1, snap);
	sqlite3_bind_int(st, 2, fd);
	sqlite3_bind_int(st, 3, kind);
	sqlite3_bind_int64(st, 4, id);
	sqlite3_bind_text(st, 5, kind == BPFLEAK_KIND_MAP ? "anon_inode:bpf-map" : "anon_inode:bpf-prog",
			  -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, info, -1, SQLITE_TRANSIENT);
	step_done(j, st);
}

void jb_snap_pin(struct jb *j, int64_t snap, const char *path, int kind, uint32_t id)
{
	sqlite3_stmt *st = prep(j, "INSERT INTO snapshot_pin(snapshot_id, path, kind, obj_id, name,"
				" error) VALUES (?,?,?,?,'pinned',0)");
	sqlite3_bind_int64(st, 1, snap);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, kind);
	sqlite3_bind_int64(st, 4, id);
	step_done(j, st);
}

void jb_report(struct jb *j, struct run *r, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	size_t no, ne;
	jb_done(j);
	argv[argc++] = "bpfleak-report";
	va_start(ap, r);
	for (char *a; (a = va_arg(ap, char *)) && argc < 30;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc++] = j->path;
	argv[argc] = NULL;
	FILE *out = open_memstream(&r->out, &no);
	FILE *err = open_memstream(&r->err, &ne);
	r->rc = report_main(argc, argv, out, err);
	fclose(out);
	fclose(err);
}

void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

char *jq(const char *json, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *res = NULL;
	sqlite3_open(":memory:", &db);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		die(sql, db);
	sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		res = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return res;
}

long jq_long(const char *json, const char *sql)
{
	char *s = jq(json, sql);
	long v = s ? strtol(s, NULL, 0) : -999;
	free(s);
	return v;
}

char *jb_sites(const char *json)
{
	char *s = jq(json,
		"SELECT group_concat(x, char(10)) FROM (SELECT json_extract(f.value, '$.class') || '@' ||"
		" coalesce(json_extract(f.value, '$.stack[0].ip'), '-') || ':' ||"
		" json_extract(f.value, '$.count') AS x FROM json_each(?1, '$.findings') f ORDER BY x)");
	return s ? s : strdup("");
}

int count_lines(const char *s)
{
	int n = 0;
	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

void jb_model(struct jb *j, struct model *m)
{
	char err[512];
	jb_done(j);
	memset(m, 0, sizeof(*m));
	if (journal_open(m, j->path, 0, err, sizeof(err)) < 0 ||
	    journal_load(m, err, sizeof(err)) < 0 || snapshot_load_stored(m, err, sizeof(err)) < 0) {
		fprintf(stderr, "jb_model: %s\n", err);
		abort();
	}
	replay_all(m);
	for (size_t i = 0; i < m->n_procs; i++) {
		struct proc *p = m->procs[i];
		if (!p->pins)
			p->pins = &m->journal_pins;
		reconcile_proc(m, p);
	}
}
