// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "jbuild.h"

static void die(struct jb *j, const char *what)
{
	fprintf(stderr, "jbuild: %s: %s\n", what, jw_errstr(jw_errcode(&j->jw)));
	abort();
}

static void check(struct jb *j, int rc, const char *what)
{
	if (rc != 0)
		die(j, what);
}

void jb_sql(struct jb *j, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(j->jw.db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "jbuild: %s: %s\n", sql, msg);
		abort();
	}
}

void jb_init(struct jb *j)
{
	char err[256];
	memset(j, 0, sizeof(*j));
	snprintf(j->dir, sizeof(j->dir), "%s/bpfleak-test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(j->dir))
		abort();
	snprintf(j->path, sizeof(j->path), "%s/journal.db", j->dir);
	if (jw_open(&j->jw, j->path, JW_CREATE, err, sizeof(err)) != 0) {
		fprintf(stderr, "jbuild: %s\n", err);
		abort();
	}
	j->open = true;
	check(j, jw_begin(&j->jw), "begin");
	j->ts = 1000000000;   /* 1 s */
	j->step = 1000000;    /* 1 ms */
}

void jb_done(struct jb *j)
{
	if (!j->open)
		return;
	check(j, jw_commit(&j->jw), "commit");
	jw_close(&j->jw);
	j->open = false;
}

void jb_cleanup(struct jb *j)
{
	jb_done(j);
	for (size_t i = 0; i < j->n_rows; i++)
		free(j->rows[i].path);
	free(j->rows);
	j->rows = NULL;
	j->n_rows = 0;
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", j->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "jbuild: could not remove %s\n", j->dir);
}

static void remember(struct jb *j, int pid, const char *path, int64_t row)
{
	j->rows = realloc(j->rows, (j->n_rows + 1) * sizeof(*j->rows));
	if (!j->rows)
		abort();
	j->rows[j->n_rows++] = (struct jb_row){ pid, path ? strdup(path) : NULL, row };
}

/* The latest row remembered for pid (and path: a module; NULL: a process). */
static int64_t recall(struct jb *j, int pid, const char *path)
{
	for (size_t i = j->n_rows; i-- > 0;)
		if (j->rows[i].pid == pid && !j->rows[i].path == !path &&
		    (!path || strcmp(j->rows[i].path, path) == 0))
			return j->rows[i].row;
	fprintf(stderr, "jbuild: no row for pid %d %s\n", pid, path ? path : "");
	abort();
}

void jb_process(struct jb *j, int pid, int ppid, const char *exe, const char *origin, int exited)
{
	struct jw_process p = { .pid = pid, .ppid = ppid, .exe = exe, .cmdline = exe,
				.origin = origin, .started_ns = (uint64_t)j->ts };
	int64_t row = jw_process(&j->jw, &p);
	if (row < 0)
		die(j, "process");
	remember(j, pid, NULL, row);
	if (exited)
		check(j, jw_process_exited(&j->jw, row, (uint64_t)j->ts + 1000000000000ull, false, 0),
		      "process exited");
}

void jb_process_flushed(struct jb *j, int pid, int64_t ts)
{
	check(j, jw_process_flushed(&j->jw, recall(j, pid, NULL), (uint64_t)ts), "flushed");
}

int64_t jb_stack(struct jb *j, const uint64_t *ips, int n)
{
	static uint64_t hash = 1;
	int64_t id = jw_stack(&j->jw, hash++, ips, (uint32_t)n);
	if (id < 0)
		die(j, "stack");
	return id;
}

int64_t jb_stack1(struct jb *j, uint64_t ip)
{
	return jb_stack(j, &ip, 1);
}

void jb_module(struct jb *j, int pid, int64_t ts, const char *path, const char *build_id,
	       uint64_t base, uint64_t size)
{
	struct jw_module m = { .pid = pid, .ts_ns = (uint64_t)ts, .path = path, .build_id = build_id,
			       .base = base, .size = size, .file_size = -1, .mtime_ns = -1 };
	int64_t row = jw_module(&j->jw, &m);
	if (row < 0)
		die(j, "module");
	remember(j, pid, path, row);
}

void jb_module_unload(struct jb *j, int pid, const char *path, int64_t ts)
{
	check(j, jw_module_unloaded(&j->jw, recall(j, pid, path), (uint64_t)ts), "unload");
}

void jb_object(struct jb *j, int kind, uint32_t id, int type, const char *name, uint32_t prog_id)
{
	struct bpfleak_obj_info o = { .kind = kind, .id = id, .type = (uint32_t)type,
				      .key_size = 4, .value_size = 8, .max_entries = 16,
				      .prog_id = prog_id };
	snprintf(o.name, sizeof(o.name), "%s", name ? name : "");
	check(j, jw_object(&j->jw, &o, (uint64_t)j->ts), "object");
}

void jb_ev(struct jb *j, int pid, int op, int fd, int fd2, int cmd, int kind, uint32_t id,
	   int64_t stack, int result, int flags, const char *detail)
{
	struct jw_event e = {
		.ts_ns = (uint64_t)j->ts, .pid = pid, .tid = pid, .op = op, .has_fd = fd >= 0,
		.fd = fd, .has_fd2 = true, .fd2 = fd2, .cmd = cmd, .kind = kind, .obj_id = id,
		.stack_id = stack, .result = result, .flags = flags, .detail = detail,
	};
	check(j, jw_event(&j->jw, &e), "event");
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

int64_t jb_snapshot_ex(struct jb *j, int pid, int64_t ts, int64_t end_ns, bool pins_walked)
{
	struct jw_snapshot_info info = { .ts_ns = (uint64_t)ts, .end_ns = (uint64_t)end_ns,
					 .reason = BPFLEAK_SNAP_EXIT, .pins_walked = pins_walked };
	int64_t id = jw_snapshot_begin(&j->jw, pid, 1, &info);
	if (id < 0)
		die(j, "snapshot");
	return id;
}

int64_t jb_snapshot(struct jb *j, int pid)
{
	int64_t id = jb_snapshot_ex(j, pid, j->ts, j->ts, true);
	j->ts += j->step;
	return id;
}

void jb_note(struct jb *j, int pid, const char *note, int fd2)
{
	jb_ev(j, pid, BPFLEAK_OP_NOTE, -1, fd2, -1, 0, 0, 0, 0, 0, note);
}

void jb_drop(struct jb *j, int pid, int lost, int64_t start, int64_t end, const char *why)
{
	struct jw_event e = { .ts_ns = (uint64_t)start, .pid = pid, .tid = pid,
			      .op = BPFLEAK_OP_DROP, .has_fd2 = true, .fd2 = lost, .cmd = -1,
			      .detail = why, .end_ns = end > 0 ? (uint64_t)end : 0 };
	check(j, jw_event(&j->jw, &e), "drop");
}

void jb_snap_fd(struct jb *j, int64_t snap, int fd, int kind, uint32_t id)
{
	char info[256];
	static const char *const key[] = { "x_id", "map_id", "prog_id", "link_id", "btf_id" };
	snprintf(info, sizeof(info), "pos:\t0\nflags:\t02000002\n%s%s:\t%u\n",
		 kind == BPFLEAK_KIND_MAP ? "map_type:\t1\nkey_size:\t4\nvalue_size:\t8\n"
					    "max_entries:\t16\nmap_flags:\t0x0\n" : "",
		 kind >= 1 && kind <= 4 ? key[kind] : "x_id", id);
	struct bpfleak_snap_fd f = { .fd = fd, .kind = kind, .obj_id = id, .cloexec = 1,
				     .fdinfo = info };
	snprintf(f.target, sizeof(f.target), "%s",
		 kind == BPFLEAK_KIND_MAP ? "anon_inode:bpf-map" : "anon_inode:bpf-prog");
	check(j, jw_snapshot_fd(&j->jw, snap, &f), "snapshot fd");
}

void jb_snap_pin(struct jb *j, int64_t snap, const char *path, int kind, uint32_t id)
{
	struct bpfleak_snap_pin p = { .path = (char *)path, .kind = kind, .obj_id = id,
				      .name = "pinned" };
	check(j, jw_snapshot_pin(&j->jw, snap, &p), "snapshot pin");
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

static void sql_die(const char *what, sqlite3 *db)
{
	fprintf(stderr, "jbuild: %s: %s\n", what, sqlite3_errmsg(db));
	abort();
}

char *jq(const char *json, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *res = NULL;
	sqlite3_open(":memory:", &db);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		sql_die(sql, db);
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
	reconcile_all(m);
}

void jb_model_free(struct model *m)
{
	journal_close(m);
	model_free(m);
}
