// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Journals that lie, made from bytes (see jgen.h).  The file and its
 * schema come from the journal writer (common/journal_writer.h), like any
 * recorder's; the rows are raw SQL, because the input decides them and they
 * are meant to be wrong: any column may get the wrong type, sequence
 * numbers collide, tables are dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include "journal_writer.h"
#include "jgen.h"

struct rd {
	const uint8_t *p;
	size_t n, i;
};

static unsigned u8(struct rd *r)
{
	return r->i < r->n ? r->p[r->i++] : 0;
}

static unsigned u16(struct rd *r)
{
	unsigned lo = u8(r);
	return lo | u8(r) << 8;
}

static int more(const struct rd *r)
{
	return r->i < r->n;
}

#define PICK(r, table) (table[u8(r) % (sizeof(table) / sizeof(table[0]))])

/* Integer values with a meaning; the rest come from the input. */
static const int64_t pids[] = { 1000, 1000, 1000, 1001, 1002, 1, 0, -1, 2147483647 };
static const int64_t fds[] = { 3, 3, 4, 4, 5, 6, 7, 8, 0, -1, 1048575, 2147483647,
			       -2147483647 - 1, 100000, 1000 };
static const int64_t obj_ids[] = { 1, 1, 2, 3, 4, 0, 4294967295ll, 4294967296ll, -5 };
static const int64_t stack_ids[] = { 1, 1, 2, 3, 4, 0, 99999, -1 };
static const int64_t cmds[] = { 0, 1, 5, 14, 13, 17, 18, 28, 36, 99, -3 };
static const int64_t results[] = { 0, 0, -9, -1, 3, 4, -22 };
static const int64_t bases[] = { 0x400000, 0x555555554000ll, 0x7f0000000000ll, 0, 0x1000 };
static const int64_t sizes[] = { 0x100000, 0x1000, 0, -1, 0x7fffffffffffffffll };
static const char *const details[] = { NULL, "start", "fork", "exec", "/bin/true", "",
				       "/sys/fs/bpf/pin", "\xff\xfe" };
static const char *const origins[] = { "start", "fork", "exec", NULL, "bogus" };
static const char *const reasons[] = { "exit", "exit", "live", NULL, "" };
static const char *const targets[] = { "anon_inode:bpf-map", "anon_inode:bpf-prog",
				       "anon_inode:bpf_link", "anon_inode:bpf-link",
				       "anon_inode:btf", "/bpf-token (deleted)", NULL, "socket:[1]" };
static const char *const fdinfos[] = {
	"pos:\t0\nflags:\t02000002\nmap_type:\t1\nkey_size:\t4\nvalue_size:\t8\n"
	"max_entries:\t16\nmap_flags:\t0x0\nmap_id:\t1\n",
	"pos:\t0\nflags:\t02000002\nprog_type:\t17\nprog_tag:\t614b434cd8324ecc\nprog_id:\t2\n",
	"link_type:\traw_tracepoint\nlink_id:\t3\nprog_id:\t2\ntp_name:\tsys_enter\n",
	"btf_id:\t4\n", "", NULL, "map_id:\t99999999999999\nprog_id:\t-1\n",
};
static const char *const names[] = { NULL, "m", "global_ep", "", "0123456789abcdefXYZ",
				     "na\nme" };
static const char *const build_ids[] = { NULL, "", "deadbeef", "zz", "0123456789abcdef0123",
					 "../../../../etc/passwd" };
static const char *const functions[] = { NULL, "acl_reload", "", "main" };
static const char *const files[] = { NULL, "acl.c", "/src/acl.c", "" };
static const int64_t lines[] = { 214, 0, -5, 2147483647, 1 };

static const char *const raw_sql[] = {
	"DELETE FROM process",
	"DELETE FROM meta",
	"DROP TABLE stack",
	"DROP TABLE module",
	"DROP TABLE frame",
	"DROP TABLE snapshot_fd",
	"DROP VIEW event_v",
	"UPDATE event SET ts_ns = -ts_ns",
	"UPDATE event SET ts_ns = 0",
	"UPDATE event SET seq = seq + 1000000 WHERE seq % 2 = 0",
	"UPDATE event SET fd = 'seven'",
	"UPDATE event SET pid = 1000",
	"UPDATE event SET op = op + 1",
	"UPDATE stack SET ips = x'00'",
	"UPDATE stack SET depth = 100000",
	"UPDATE module SET base = base + 4096",
	"UPDATE object SET id = id + 1",
	"PRAGMA user_version=0",
	"PRAGMA user_version=2",
	"PRAGMA application_id=0",
	"ALTER TABLE event ADD COLUMN extra TEXT",
	/* An event table without a primary key: duplicate sequence numbers. */
	"CREATE TABLE ev2 AS SELECT * FROM event; DROP VIEW IF EXISTS event_v; DROP TABLE event;"
	" CREATE TABLE event(seq INTEGER, ts_ns INTEGER NOT NULL, pid INTEGER NOT NULL,"
	" tid INTEGER, op INTEGER NOT NULL, fd INTEGER, fd2 INTEGER, cmd INTEGER,"
	" obj_kind INTEGER, obj_id INTEGER, stack_id INTEGER, result INTEGER, flags INTEGER,"
	" detail TEXT); INSERT INTO event SELECT * FROM ev2; INSERT INTO event SELECT * FROM ev2"
	" WHERE (SELECT count(*) FROM ev2) < 1000; DROP TABLE ev2",   /* no 2^n explosion */
};

/* Bind column idx: the intended value, or now and then the wrong type. */
static void bind_i(sqlite3_stmt *st, int idx, struct rd *r, int64_t v, int nullable)
{
	unsigned t = u8(r);
	if (t < 232 || !nullable)
		sqlite3_bind_int64(st, idx, v);
	else if (t < 240)
		sqlite3_bind_null(st, idx);
	else if (t < 246)
		sqlite3_bind_text(st, idx, "12abc", -1, SQLITE_STATIC);
	else if (t < 251)
		sqlite3_bind_double(st, idx, (double)v + 0.5);
	else
		sqlite3_bind_blob(st, idx, "\x01\x02\x03", 3, SQLITE_STATIC);
}

static void bind_s(sqlite3_stmt *st, int idx, const char *s)
{
	if (s)
		sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, idx);
}

static int64_t clock_step(struct rd *r, int64_t *now)
{
	unsigned c = u8(r);
	if (c < 200)
		*now += (int64_t)(c + 1) * 1000;
	else if (c < 230)
		*now -= (int64_t)(c - 199) * 1000;           /* out of order */
	else if (c < 240)
		; /* same instant */
	else if (c < 250)
		*now += (int64_t)u16(r) * 1000000;           /* a long pause */
	else
		return c & 1 ? -1 : 0x7fffffffffffffffll;     /* nonsense */
	return *now;
}

static int run_stmt(sqlite3 *db, const char *sql, void (*bind)(sqlite3_stmt *, struct rd *, void *),
		    struct rd *r, void *ctx)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;   /* a table dropped by an earlier op: fine */
	bind(st, r, ctx);
	sqlite3_step(st);   /* constraint violations are part of the game */
	sqlite3_finalize(st);
	return 0;
}

struct gen {
	int64_t now;
	const char *elf_path;
	int64_t snap_id;
};

static void bind_process(sqlite3_stmt *st, struct rd *r, void *ctx)
{
	struct gen *g = ctx;
	static const char *const exes[] = { "/usr/bin/gateway", NULL, "", "/bin/sh" };
	bind_i(st, 1, r, PICK(r, pids), 0);
	bind_i(st, 2, r, PICK(r, pids), 1);
	bind_s(st, 3, PICK(r, exes));
	bind_s(st, 4, u8(r) & 1 ? "gateway --listen 0.0.0.0" : NULL);
	bind_s(st, 5, u8(r) & 1 ? "b96abe5a-4ba8-43e6-95dd-59e2d7941208" : "other-boot");
	bind_i(st, 6, r, (int64_t)u16(r), 1);
	bind_s(st, 7, PICK(r, origins));
	bind_i(st, 8, r, clock_step(r, &g->now), 1);
	bind_i(st, 9, r, 1700000000000000000ll, 1);
	if (u8(r) & 1) {
		bind_i(st, 10, r, clock_step(r, &g->now), 1);
		bind_i(st, 11, r, (int64_t)(u8(r) % 3), 1);
	}
}

static void bind_event(sqlite3_stmt *st, struct rd *r, void *ctx)
{
	struct gen *g = ctx;
	unsigned opb = u8(r);
	int64_t op = opb < 240 ? 1 + opb % 10 : opb < 250 ? (int64_t)(opb % 3 == 0 ? 0 : 11) : 255;
	if (u8(r) >= 240)
		bind_i(st, 1, r, (int64_t)(u8(r) % 8), 1);   /* an explicit seq: may collide */
	bind_i(st, 2, r, clock_step(r, &g->now), 0);
	bind_i(st, 3, r, PICK(r, pids), 0);
	bind_i(st, 4, r, PICK(r, pids), 1);
	bind_i(st, 5, r, op, 0);
	bind_i(st, 6, r, PICK(r, fds), 1);
	bind_i(st, 7, r, PICK(r, fds), 1);
	bind_i(st, 8, r, PICK(r, cmds), 1);
	unsigned kb = u8(r);
	bind_i(st, 9, r, kb >= 248 ? 200 : (int64_t)(kb % 8), 1);
	bind_i(st, 10, r, PICK(r, obj_ids), 1);
	bind_i(st, 11, r, PICK(r, stack_ids), 1);
	bind_i(st, 12, r, PICK(r, results), 0);
	bind_i(st, 13, r, (int64_t)(u8(r) & 0x1f), 1);
	bind_s(st, 14, PICK(r, details));
}

static void bind_stack(sqlite3_stmt *st, struct rd *r, void *ctx)
{
	(void)ctx;
	uint64_t ips[12];
	unsigned n = u8(r) % 12;
	for (unsigned i = 0; i < n; i++) {
		uint64_t base = (uint64_t)PICK(r, bases);
		ips[i] = base + (uint64_t)u16(r) * 4 + 0x1100;
	}
	if (u8(r) < 200)
		bind_i(st, 1, r, PICK(r, stack_ids), 0);
	int64_t hash = (int64_t)u16(r) << 16;
	hash |= u16(r);
	bind_i(st, 2, r, hash, 0);
	unsigned db = u8(r);
	bind_i(st, 3, r, db < 220 ? n : (int64_t)u16(r), 0);
	int bytes = (int)(n * 8) - (u8(r) >= 240 ? 3 : 0);
	sqlite3_bind_blob(st, 4, ips, bytes < 0 ? 0 : bytes, SQLITE_TRANSIENT);
}

static void bind_module(sqlite3_stmt *st, struct rd *r, void *ctx)
{
	struct gen *g = ctx;
	const char *paths[] = { g->elf_path, g->elf_path, "/nonexistent/lib.so", "/dev/null", "/",
				"", NULL, "/etc/hostname", "relative/lib.so" };
	bind_i(st, 1, r, PICK(r, pids), 0);
	unsigned tb = u8(r);
	bind_i(st, 2, r, tb & 1 ? 0 : clock_step(r, &g->now), 1);
	bind_s(st, 3, PICK(r, paths));
	bind_s(st, 4, PICK(r, build_ids));
	bind_i(st, 5, r, PICK(r, bases), 1);
	bind_i(st, 6, r, PICK(r, sizes), 1);
}

static void bind_object(sqlite3_stmt *st, struct rd *r, void *ctx)
{
	(void)ctx;
	bind_i(st, 1, r, (int64_t)(u8(r) % 9), 0);
	bind_i(st, 2, r, PICK(r, obj_ids), 0);
	bind_i(st, 3, r, (int64_t)(u8(r) % 40), 1);
	bind_s(st, 4, PICK(r, names));
	bind_i(st, 5, r, 4, 1);
	bind_i(st, 6, r, 8, 1);
	bind_i(st, 7, r, (int64_t)u16(r), 1);
	bind_i(st, 8, r, 0, 1);
	bind_s(st, 9, u8(r) & 1 ? "614b434cd8324ecc" : NULL);
	bind_i(st, 10, r, PICK(r, obj_ids), 1);
}

static void bind_snapshot(sqlite3_stmt *st, struct rd *r, void *ctx)
{
	struct gen *g = ctx;
	bind_i(st, 1, r, PICK(r, pids), 0);
	bind_i(st, 2, r, clock_step(r, &g->now), 1);
	bind_s(st, 3, PICK(r, reasons));
}

static void bind_snap_fd(sqlite3_stmt *st, struct rd *r, void *ctx)
{
	struct gen *g = ctx;
	unsigned sb = u8(r);
	bind_i(st, 1, r, sb < 230 ? g->snap_id : (int64_t)(sb % 4), 0);
	bind_i(st, 2, r, PICK(r, fds), 0);
	bind_i(st, 3, r, (int64_t)(u8(r) % 9), 1);
	bind_i(st, 4, r, PICK(r, obj_ids), 1);
	bind_s(st, 5, PICK(r, targets));
	bind_i(st, 6, r, (int64_t)(u8(r) & 1), 1);
	bind_s(st, 7, PICK(r, fdinfos));
}

static void bind_snap_pin(sqlite3_stmt *st, struct rd *r, void *ctx)
{
	struct gen *g = ctx;
	static const char *const pins[] = { "/sys/fs/bpf/global_ep", "/sys/fs/bpf/a/b", "", NULL };
	bind_i(st, 1, r, g->snap_id, 0);
	bind_s(st, 2, PICK(r, pins));
	bind_i(st, 3, r, (int64_t)(u8(r) % 9), 1);
	bind_i(st, 4, r, PICK(r, obj_ids), 1);
	bind_s(st, 5, PICK(r, names));
	if (u8(r) >= 220)
		bind_i(st, 6, r, 2, 1);
}

static void bind_frame(sqlite3_stmt *st, struct rd *r, void *ctx)
{
	struct gen *g = ctx;
	const char *keys[] = { g->elf_path, "deadbeef", "/nonexistent/lib.so", "" };
	bind_s(st, 1, PICK(r, keys));
	bind_i(st, 2, r, (int64_t)u16(r) * 4 + 0x1100 - 1, 0);
	bind_i(st, 3, r, (int64_t)(u8(r) % 4) - 1, 0);
	bind_s(st, 4, PICK(r, functions));
	bind_s(st, 5, PICK(r, files));
	bind_i(st, 6, r, PICK(r, lines), 1);
}

/* A lifetime_fold row, lying or not (the loader must skip what cannot be true). */
static void bind_fold(sqlite3_stmt *st, struct rd *r, void *ctx)
{
	struct gen *g = ctx;
	static const int64_t counts[] = { 1, 3, 0, -2, INT64_MAX, 1000000 };
	static const int64_t lives[] = { 0, 1000, -5, INT64_MAX, 2000000000 };
	bind_i(st, 1, r, PICK(r, pids), 0);
	bind_i(st, 2, r, PICK(r, stack_ids), 0);
	bind_i(st, 3, r, PICK(r, cmds), 0);
	bind_i(st, 4, r, (int64_t)(u8(r) % 9), 0);
	bind_i(st, 5, r, clock_step(r, &g->now), 0);
	bind_i(st, 6, r, PICK(r, counts), 0);
	bind_i(st, 7, r, PICK(r, lives), 0);
	bind_i(st, 8, r, PICK(r, lives), 0);
	bind_i(st, 9, r, clock_step(r, &g->now), 0);
	bind_i(st, 10, r, clock_step(r, &g->now), 0);
}

/* A folding pass over whatever the journal holds so far: it must not trip on lies either. */
static void fold_pass(struct jw *j, struct rd *r, const struct gen *g)
{
	static const uint64_t ages[] = { 1000000000ull, 1ull, 3600000000000ull };
	struct jw_fold_result res;
	uint64_t age = PICK(r, ages);
	jw_fold(j, (uint64_t)g->now + age + (uint64_t)u16(r) * 1000000ull, age, 1 + u8(r) % 64, &res);
}

static void bind_meta(sqlite3_stmt *st, struct rd *r, void *ctx)
{
	(void)ctx;
	static const char *const keys[] = { "boot_id", "schema_version", "hostname", "x" };
	static const char *const vals[] = { "b96abe5a-4ba8-43e6-95dd-59e2d7941208", "1", "99", NULL };
	bind_s(st, 1, PICK(r, keys));
	bind_s(st, 2, PICK(r, vals));
}

/*
 * 512-byte pages keep the journals, and the fuzz_journal corpus made of
 * them, small.  The page size is fixed by a file's first write, so it is
 * set in the empty file before jw_open writes the schema.
 */
static int small_pages(const char *path)
{
	sqlite3 *db;
	int rc = sqlite3_open(path, &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "PRAGMA page_size=512; PRAGMA user_version=0", NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

int jgen_build(const char *path, const uint8_t *data, size_t size, const char *elf_path)
{
	struct rd r = { data, size, 0 };
	struct gen g = { .now = 1000000000, .elf_path = elf_path ? elf_path : "/nonexistent/elf" };
	struct jw j;
	char err[256];

	unlink(path);
	if (small_pages(path) || jw_open(&j, path, JW_CREATE, err, sizeof(err)))
		return -1;
	sqlite3 *db = j.db;
	sqlite3_exec(db, "PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF", NULL, NULL, NULL);
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		jw_close(&j);
		return -1;
	}
	/* The same bytes make the same journal on any machine, so a reproducer
	 * in fuzz/regress replays anywhere: the boot the process rows name,
	 * not this machine's. */
	sqlite3_exec(db, "INSERT OR REPLACE INTO meta VALUES"
			 " ('boot_id', 'b96abe5a-4ba8-43e6-95dd-59e2d7941208')", NULL, NULL, NULL);
	int wal = 0;
	while (more(&r)) {
		switch (u8(&r) % 16) {
		case 0:
			run_stmt(db, "INSERT INTO process(pid, ppid, exe, cmdline, boot_id, start_ticks,"
				 " origin, started_ns, realtime_base_ns, exited_ns, exit_status)"
				 " VALUES (?,?,?,?,?,?,?,?,?,?,?)", bind_process, &r, &g);
			break;
		case 1: case 2: case 3: case 4: case 5:
			run_stmt(db, "INSERT INTO event(seq, ts_ns, pid, tid, op, fd, fd2, cmd, obj_kind,"
				 " obj_id, stack_id, result, flags, detail)"
				 " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", bind_event, &r, &g);
			break;
		case 6: case 7:
			run_stmt(db, "INSERT INTO stack(id, hash, depth, ips) VALUES (?,?,?,?)",
				 bind_stack, &r, &g);
			break;
		case 8:
			run_stmt(db, "INSERT INTO module(pid, ts_ns, path, build_id, base, size)"
				 " VALUES (?,?,?,?,?,?)", bind_module, &r, &g);
			break;
		case 9:
			run_stmt(db, "INSERT INTO object(kind, id, type, name, key_size, value_size,"
				 " max_entries, flags, tag, prog_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
				 bind_object, &r, &g);
			break;
		case 10:
			run_stmt(db, "INSERT INTO snapshot(pid, ts_ns, reason) VALUES (?,?,?)",
				 bind_snapshot, &r, &g);
			g.snap_id = sqlite3_last_insert_rowid(db);
			break;
		case 11:
			run_stmt(db, "INSERT INTO snapshot_fd(snapshot_id, fd, kind, obj_id, target,"
				 " cloexec, fdinfo) VALUES (?,?,?,?,?,?,?)", bind_snap_fd, &r, &g);
			break;
		case 12:
			run_stmt(db, "INSERT INTO snapshot_pin(snapshot_id, path, kind, obj_id, name,"
				 " error) VALUES (?,?,?,?,?,?)", bind_snap_pin, &r, &g);
			break;
		case 13:
			run_stmt(db, "INSERT INTO frame(module_key, offset, inline_depth, function,"
				 " file, line) VALUES (?,?,?,?,?,?)", bind_frame, &r, &g);
			break;
		case 14:
			run_stmt(db, "INSERT OR REPLACE INTO meta(key, value) VALUES (?,?)", bind_meta,
				 &r, &g);
			break;
		case 15: {
			unsigned k = u8(&r);
			if (k == 255)
				wal = 1;
			else if (k == 254)
				run_stmt(db, "INSERT OR REPLACE INTO lifetime_fold(pid, stack_id, cmd, obj_kind,"
					 " interval_ns, count, min_life_ns, max_life_ns, first_ns, last_ns)"
					 " VALUES (?,?,?,?,?,?,?,?,?,?)", bind_fold, &r, &g);
			else if (k == 253)
				fold_pass(&j, &r, &g);
			else
				sqlite3_exec(db, PICK(&r, raw_sql), NULL, NULL, NULL);
			break;
		}
		}
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (wal)
		sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
	jw_close(&j);
	return 0;
}
