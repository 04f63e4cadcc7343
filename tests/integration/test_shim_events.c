// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The shim on the real kernel, one process: what a create, a close, a dup,
 * a pin and an OBJ_GET put in the journal, and the stacks they carry.
 * Each test runs host_shim in one mode under the shim and checks the
 * journal against what the host printed (ids, fds, function addresses).
 */
#include "harness.h"
#include <linux/bpf.h>

#define PIDQ "pid = %lld"

/* ---- 1. map create / close ---- */

static void test_map_create_close(void **state)
{
	(void)state;
	h_require_bpf();
	char j[PATH_MAX];
	h_path(j, sizeof(j), "map.db");
	struct h_proc p;
	h_run(&p, j, "map");
	h_expect_ok(&p);
	long long pid = h_kv(p.out, "pid"), fd = h_kv(p.out, "map_fd"), id = h_kv(p.out, "map_id");
	sqlite3 *db = h_db(j);

	long long n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 1 AND cmd = %d"
			       " AND obj_kind = 1 AND obj_id = %lld AND fd = %lld AND result = %lld",
			   pid, BPF_MAP_CREATE, id, fd, fd);
	H_CHECK(db, pid, n == 1, "want 1 create (cmd 0, kind map, id %lld, fd %lld), got %lld", id,
		fd, n);
	char buf[128];
	h_qs(db, buf, sizeof(buf), "SELECT name FROM object WHERE kind = 1 AND id = %lld", id);
	H_CHECK(db, pid, !strcmp(buf, "bl_raw_map"), "object name of map %lld: '%s'", id, buf);
	n = h_qi(db, "SELECT count(*) FROM object WHERE kind = 1 AND id = %lld AND type = %d"
		     " AND key_size = 4 AND value_size = 8 AND max_entries = 4",
		 id, BPF_MAP_TYPE_ARRAY);
	H_CHECK(db, pid, n == 1, "object row of map %lld lacks type/key/value/max_entries", id);

	long long cseq = h_qi(db, "SELECT seq FROM event WHERE " PIDQ " AND op = 1 AND obj_id = %lld",
			      pid, id);
	n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 3 AND fd = %lld"
		     " AND obj_kind = 1 AND obj_id = %lld AND result = 0 AND seq > %lld",
		 pid, fd, id, cseq);
	H_CHECK(db, pid, n == 1, "want 1 close of fd %lld after its create, got %lld", fd, n);

	long long snap = h_exit_snapshot(db, pid);
	n = h_qi(db, "SELECT count(*) FROM snapshot_fd WHERE snapshot_id = %lld", snap);
	H_CHECK(db, pid, n == 0, "exit snapshot holds %lld bpf FDs, want none", n);
	n = h_qi(db, "SELECT count(*) FROM process WHERE " PIDQ " AND exited_ns IS NOT NULL", pid);
	H_CHECK(db, pid, n == 1, "no process row with exited_ns for pid %lld", pid);
	sqlite3_close(db);
	h_proc_free(&p);
}

/* ---- 2. prog load ---- */

static void test_prog_load(void **state)
{
	(void)state;
	h_require_bpf();
	char j[PATH_MAX];
	h_path(j, sizeof(j), "prog.db");
	struct h_proc p;
	h_run(&p, j, "prog");
	h_expect_ok(&p);
	long long pid = h_kv(p.out, "pid"), fd = h_kv(p.out, "prog_fd"), id = h_kv(p.out, "prog_id");
	sqlite3 *db = h_db(j);

	long long n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 1 AND cmd = %d"
			       " AND obj_kind = 2 AND obj_id = %lld AND fd = %lld",
			   pid, BPF_PROG_LOAD, id, fd);
	H_CHECK(db, pid, n == 1, "want 1 create (cmd 5, kind prog, id %lld, fd %lld), got %lld", id,
		fd, n);
	char buf[128];
	h_qs(db, buf, sizeof(buf), "SELECT name || ':' || type FROM object WHERE kind = 2 AND id = %lld",
	     id);
	char want[64];
	snprintf(want, sizeof(want), "bl_xdp:%d", BPF_PROG_TYPE_XDP);
	H_CHECK(db, pid, !strcmp(buf, want), "object of prog %lld: '%s', want '%s'", id, buf, want);
	n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 3 AND fd = %lld"
		     " AND obj_kind = 2 AND obj_id = %lld AND result = 0",
		 pid, fd, id);
	H_CHECK(db, pid, n == 1, "want 1 close of prog fd %lld, got %lld", fd, n);
	sqlite3_close(db);
	h_proc_free(&p);
}

/* ---- 3. libbpf's own syscall path ---- */

static void test_libbpf_calls(void **state)
{
	(void)state;
	h_require_bpf();
	char j[PATH_MAX], fs[PATH_MAX];
	h_path(j, sizeof(j), "libbpf.db");
	h_mount_bpffs(fs, sizeof(fs), "bpffs-libbpf");
	struct h_proc p;
	h_run(&p, j, "libbpf", fs);
	h_expect_ok(&p);
	const char *o = p.out;
	long long pid = h_kv(o, "pid");
	long long map_id = h_kv(o, "map_id"), prog_id = h_kv(o, "prog_id");
	struct {
		const char *what;
		int cmd, kind;
		long long fd, id;
	} want[] = {
		{ "bpf_map_create", BPF_MAP_CREATE, 1, h_kv(o, "map_fd"), map_id },
		{ "bpf_prog_load", BPF_PROG_LOAD, 2, h_kv(o, "prog_fd"), prog_id },
		{ "bpf_map_get_fd_by_id", BPF_MAP_GET_FD_BY_ID, 1, h_kv(o, "get_fd"), map_id },
		{ "bpf_obj_get", BPF_OBJ_GET, 2, h_kv(o, "obj_get_fd"), h_kv(o, "obj_get_id") },
	};
	sqlite3 *db = h_db(j);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		long long n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 1"
				       " AND cmd = %d AND obj_kind = %d AND obj_id = %lld AND fd = %lld",
				   pid, want[i].cmd, want[i].kind, want[i].id, want[i].fd);
		H_CHECK(db, pid, n == 1,
			"%s: want 1 create (cmd %d, kind %d, id %lld, fd %lld), got %lld", want[i].what,
			want[i].cmd, want[i].kind, want[i].id, want[i].fd, n);
	}
	H_CHECK(db, pid, want[3].id == prog_id, "host: OBJ_GET gave id %lld, pinned prog %lld",
		want[3].id, prog_id);
	long long dfd = h_kv(o, "dup_fd");
	long long n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 2 AND fd = %lld"
			       " AND fd2 = %lld AND obj_kind = 2 AND obj_id = %lld",
			   pid, dfd, want[3].fd, prog_id);
	H_CHECK(db, pid, n == 1, "want a dup event fd %lld <- %lld", dfd, want[3].fd);

	/* All five stay open; libbpf's own probe FDs do not. */
	long long snap = h_exit_snapshot(db, pid);
	n = h_qi(db, "SELECT count(*) FROM snapshot_fd WHERE snapshot_id = %lld", snap);
	H_CHECK(db, pid, n == 5, "exit snapshot holds %lld bpf FDs, want 5", n);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		n = h_qi(db, "SELECT count(*) FROM snapshot_fd WHERE snapshot_id = %lld AND fd = %lld"
			     " AND kind = %d AND obj_id = %lld",
			 snap, want[i].fd, want[i].kind, want[i].id);
		H_CHECK(db, pid, n == 1, "exit snapshot lacks fd %lld (%s)", want[i].fd, want[i].what);
	}
	sqlite3_close(db);
	h_umount(fs);
	h_proc_free(&p);
}

/*
 * ---- 3b. libbpf moving a new FD out of 0..2 ----
 * With stdin closed the kernel hands out fd 0; libbpf's ensure_good_fd
 * copies it with fcntl64(F_DUPFD_CLOEXEC, 3) (libbpf 1.1 imports fcntl64,
 * not fcntl) and closes 0.  The journal must end with exactly that copy.
 */
static void test_libbpf_low_fd(void **state)
{
	(void)state;
	h_require_bpf();
	char j[PATH_MAX];
	h_path(j, sizeof(j), "lowfd.db");
	struct h_proc p;
	h_run(&p, j, "lowfd");
	h_expect_ok(&p);
	long long pid = h_kv(p.out, "pid"), fd = h_kv(p.out, "map_fd"), id = h_kv(p.out, "map_id");
	assert_true(fd >= 3);
	assert_int_equal(h_kv(p.out, "fd0_open"), 0);
	sqlite3 *db = h_db(j);
	char *rows = h_rows(db, "SELECT op, fd, coalesce(fd2, ''), coalesce(flags, 0) & 1, result"
				" FROM event WHERE " PIDQ " AND obj_kind = 1 AND obj_id = %lld"
				" ORDER BY seq", pid, id);
	char want[128];
	snprintf(want, sizeof(want), "1|0||1|0\n2|%lld|0|1|%lld\n3|0||0|0\n", fd, fd);
	H_CHECK(db, pid, !strcmp(rows, want), "map %lld's events (op|fd|fd2|cloexec|result):\n%s"
		"want create at 0, dup to %lld, close of 0:\n%s", id, rows, fd, want);
	free(rows);
	long long snap = h_exit_snapshot(db, pid);
	rows = h_rows(db, "SELECT fd, obj_id FROM snapshot_fd WHERE snapshot_id = %lld", snap);
	snprintf(want, sizeof(want), "%lld|%lld\n", fd, id);
	H_CHECK(db, pid, !strcmp(rows, want), "exit snapshot (fd|id):\n%swant:\n%s", rows, want);
	free(rows);
	sqlite3_close(db);
	h_proc_free(&p);
}

/* ---- 4. dup, dup2 over a tracked FD, dup3, F_DUPFD_CLOEXEC, close_range ---- */

static void test_dup_family(void **state)
{
	(void)state;
	h_require_bpf();
	char j[PATH_MAX];
	h_path(j, sizeof(j), "dup.db");
	struct h_proc p;
	h_run(&p, j, "dup");
	h_expect_ok(&p);
	const char *o = p.out;
	long long pid = h_kv(o, "pid");
	long long m = h_kv(o, "m_fd"), m_id = h_kv(o, "m_id");
	long long x = h_kv(o, "x_fd"), x_id = h_kv(o, "x_id");
	long long y_id = h_kv(o, "y_id");
	long long d1 = h_kv(o, "dup_fd"), d3 = h_kv(o, "dup3_fd"), d4 = h_kv(o, "dupfd_fd");
	assert_int_equal(h_kv(o, "range_left_open"), 0);
	sqlite3 *db = h_db(j);

	/* dup(m): no CLOEXEC */
	long long n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 2 AND fd = %lld"
			       " AND fd2 = %lld AND obj_kind = 1 AND obj_id = %lld"
			       " AND coalesce(flags, 0) & 1 = 0",
			   pid, d1, m, m_id);
	H_CHECK(db, pid, n == 1, "dup: want a dup event fd %lld <- %lld without cloexec", d1, m);

	/* dup2(m, x): implicit close of x's old map, then the dup */
	long long close_seq = h_qi(db, "SELECT coalesce(max(seq), 0) FROM event WHERE " PIDQ
				       " AND op = 3 AND fd = %lld AND obj_id = %lld AND flags & 2 = 2"
				       " AND result = 0",
				   pid, x, x_id);
	H_CHECK(db, pid, close_seq > 0,
		"dup2 over fd %lld: no implicit close (flags & 2) of map %lld", x, x_id);
	long long dup_seq = h_qi(db, "SELECT coalesce(max(seq), 0) FROM event WHERE " PIDQ
				     " AND op = 2 AND fd = %lld AND fd2 = %lld AND obj_id = %lld",
				 pid, x, m, m_id);
	H_CHECK(db, pid, dup_seq > close_seq,
		"dup2 over fd %lld: dup event (seq %lld) must follow the implicit close (seq %lld)", x,
		dup_seq, close_seq);
	long long ts_c = h_qi(db, "SELECT ts_ns FROM event WHERE seq = %lld", close_seq);
	long long ts_d = h_qi(db, "SELECT ts_ns FROM event WHERE seq = %lld", dup_seq);
	H_CHECK(db, pid, ts_c <= ts_d, "implicit close ts %lld after the dup's %lld", ts_c, ts_d);
	n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 3 AND fd = %lld", pid, x);
	H_CHECK(db, pid, n == 1, "fd %lld: %lld close events, want exactly the implicit one", x, n);

	/* dup3(m, 50, O_CLOEXEC) and fcntl(m, F_DUPFD_CLOEXEC, 60) */
	long long cl[2] = { d3, d4 };
	for (int i = 0; i < 2; i++) {
		n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 2 AND fd = %lld"
			     " AND fd2 = %lld AND obj_id = %lld AND flags & 1 = 1",
			 pid, cl[i], m, m_id);
		H_CHECK(db, pid, n == 1, "%s: want a cloexec dup event fd %lld <- %lld",
			i ? "F_DUPFD_CLOEXEC" : "dup3", cl[i], m);
	}

	/* close_range(70, 79): the three tracked FDs and nothing else */
	char *rows = h_rows(db, "SELECT fd, obj_id FROM event WHERE " PIDQ " AND op = 3"
				" AND flags & 4 = 4 AND result = 0 ORDER BY fd", pid);
	char want[128];
	snprintf(want, sizeof(want), "72|%lld\n75|%lld\n78|%lld\n", m_id, m_id, y_id);
	H_CHECK(db, pid, !strcmp(rows, want), "close_range closes (fd|id):\n%swant:\n%s", rows, want);
	free(rows);
	n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 3 AND fd BETWEEN 70 AND 79"
		     " AND coalesce(flags, 0) & 4 = 0", pid);
	H_CHECK(db, pid, n == 0, "%lld closes in 70..79 not marked as close_range", n);

	/* The exit snapshot is exactly what the host left open. */
	long long snap = h_exit_snapshot(db, pid);
	rows = h_rows(db, "SELECT fd, obj_id FROM snapshot_fd WHERE snapshot_id = %lld ORDER BY fd",
		      snap);
	long long left[5] = { m, d1, x, d3, d4 };
	for (int a = 0; a < 5; a++)
		for (int b = a + 1; b < 5; b++)
			if (left[b] < left[a]) {
				long long t = left[a];
				left[a] = left[b];
				left[b] = t;
			}
	char wantfds[256];
	size_t len = 0;
	for (int i = 0; i < 5; i++)
		len += (size_t)snprintf(wantfds + len, sizeof(wantfds) - len, "%lld|%lld\n", left[i],
					m_id);
	H_CHECK(db, pid, !strcmp(rows, wantfds), "exit snapshot (fd|id):\n%swant:\n%s", rows,
		wantfds);
	free(rows);
	sqlite3_close(db);
	h_proc_free(&p);
}

/* ---- 5. pin and OBJ_GET in a bpffs of our own ---- */

static void test_pin_obj_get(void **state)
{
	(void)state;
	h_require_bpf();
	char j[PATH_MAX], fs[PATH_MAX], pin[PATH_MAX + 32];
	h_path(j, sizeof(j), "pin.db");
	h_mount_bpffs(fs, sizeof(fs), "bpffs-pin");
	snprintf(pin, sizeof(pin), "%s/bl_pin_map", fs);
	struct h_proc p;
	h_run(&p, j, "pin", fs);
	/* The host left its pin; ours to remove, whatever the checks say. */
	struct stat st;
	int pin_was_there = stat(pin, &st) == 0;
	unlink(pin);
	h_expect_ok(&p);
	long long pid = h_kv(p.out, "pid"), id = h_kv(p.out, "map_id");
	long long fd = h_kv(p.out, "map_fd"), gfd = h_kv(p.out, "get_fd");
	assert_int_equal(h_kv(p.out, "get_id"), id);
	assert_true(pin_was_there);
	sqlite3 *db = h_db(j);

	long long n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 4 AND fd = %lld"
			       " AND obj_kind = 1 AND obj_id = %lld AND result = 0 AND detail = '%s'",
			   pid, fd, id, pin);
	H_CHECK(db, pid, n == 1, "want a pin event of map %lld at %s", id, pin);
	n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 1 AND cmd = %d"
		     " AND obj_kind = 1 AND obj_id = %lld AND fd = %lld",
		 pid, BPF_OBJ_GET, id, gfd);
	H_CHECK(db, pid, n == 1, "want an OBJ_GET create (cmd 7) of map %lld as fd %lld", id, gfd);

	long long snap = h_exit_snapshot(db, pid);
	n = h_qi(db, "SELECT count(*) FROM snapshot_pin WHERE snapshot_id = %lld AND path = '%s'"
		     " AND kind = 1 AND obj_id = %lld AND error IS NULL",
		 snap, pin, id);
	if (n != 1) {
		char *rows = h_rows(db, "SELECT path, kind, obj_id, error FROM snapshot_pin"
					" WHERE snapshot_id = %lld", snap);
		print_message("snapshot_pin rows:\n%s", rows);
		free(rows);
	}
	H_CHECK(db, pid, n == 1, "snapshot_pin lacks %s -> map %lld", pin, id);
	n = h_qi(db, "SELECT count(*) FROM snapshot_fd WHERE snapshot_id = %lld AND fd = %lld"
		     " AND obj_id = %lld", snap, gfd, id);
	H_CHECK(db, pid, n == 1, "exit snapshot lacks the OBJ_GET fd %lld", gfd);
	sqlite3_close(db);
	h_umount(fs);
	h_proc_free(&p);
}

/* ---- 10. stacks go through the host function that made the call ---- */

struct fn_range {
	char name[64];
	unsigned long long lo, size;
};

/* Does stack `sid` hold an IP in [lo, lo + size)?  -1: no such stack. */
static int stack_has(sqlite3 *db, long long sid, unsigned long long lo, unsigned long long size)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT depth, ips FROM stack WHERE id = ?", -1, &st, NULL))
		fail_msg("prepare: %s", sqlite3_errmsg(db));
	sqlite3_bind_int64(st, 1, sid);
	int r = -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		int depth = sqlite3_column_int(st, 0);
		int bytes = sqlite3_column_bytes(st, 1);
		const uint64_t *ips = sqlite3_column_blob(st, 1);
		if (bytes != depth * 8 || depth <= 0)
			fail_msg("stack %lld: depth %d but %d bytes of IPs", sid, depth, bytes);
		r = 0;
		for (int i = 0; i < depth; i++) {
			uint64_t ip;
			memcpy(&ip, (const char *)ips + 8 * i, 8);
			if (ip >= lo && ip < lo + size)
				r = 1;
		}
	}
	sqlite3_finalize(st);
	return r;
}

static void test_create_stacks(void **state)
{
	(void)state;
	h_require_bpf();
	char j[PATH_MAX], fs[PATH_MAX];
	h_path(j, sizeof(j), "stacks.db");
	h_mount_bpffs(fs, sizeof(fs), "bpffs-stacks");
	struct h_proc p;
	h_run(&p, j, "stacks", fs);
	h_expect_ok(&p);
	long long pid = h_kv(p.out, "pid");
	sqlite3 *db = h_db(j);

	/* Walk the output: "fn NAME LO SIZE" then the "made KIND ID FD" it did. */
	struct fn_range fns[32];
	int nfn = 0, made = 0;
	for (char *l = p.out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		struct fn_range f;
		long long kind, id, fd;
		if (sscanf(l, "fn %63s %llx %llu", f.name, &f.lo, &f.size) == 3) {
			assert_true(nfn < 32);
			assert_true(f.size > 0);
			fns[nfn++] = f;
			continue;
		}
		if (sscanf(l, "made %lld %lld %lld", &kind, &id, &fd) != 3)
			continue;
		assert_true(nfn > 0);
		const struct fn_range *by = &fns[nfn - 1];
		long long sid = h_qi(db, "SELECT coalesce(max(stack_id), 0) FROM event WHERE " PIDQ
					 " AND op = 1 AND obj_kind = %lld AND obj_id = %lld AND fd = %lld",
				     pid, kind, id, fd);
		H_CHECK(db, pid, sid > 0, "create of kind %lld id %lld (fd %lld, by %s) has no stack",
			kind, id, fd, by->name);
		int has = stack_has(db, sid, by->lo, by->size);
		H_CHECK(db, pid, has == 1,
			"stack %lld of the create of kind %lld id %lld does not go through %s"
			" [%#llx, %#llx)",
			sid, kind, id, by->name, by->lo, by->lo + by->size);
		made++;
	}
	assert_int_equal(made, 6);

	/* Every create (libbpf's feature probes too) goes through a host function. */
	sqlite3_stmt *st;
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT seq, coalesce(stack_id, 0) FROM event WHERE pid = %lld"
				   " AND op IN (1, 2, 4) ORDER BY seq", pid);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	int checked = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long seq = sqlite3_column_int64(st, 0), sid = sqlite3_column_int64(st, 1);
		int ok = 0;
		for (int i = 0; i < nfn && sid > 0 && !ok; i++)
			ok = stack_has(db, sid, fns[i].lo, fns[i].size) == 1;
		if (!ok) {
			sqlite3_finalize(st);
			H_CHECK(db, pid, ok, "event seq %lld (stack %lld) goes through no host function",
				seq, sid);
		}
		checked++;
	}
	sqlite3_finalize(st);
	assert_true(checked >= 8);   /* 6 creates, a dup, a pin */

	/* The dup and the pin carry their callers too. */
	for (int i = 0; i < nfn; i++) {
		int op = !strcmp(fns[i].name, "lib_dup") ? 2 : !strcmp(fns[i].name, "lib_pin") ? 4 : 0;
		if (!op)
			continue;
		long long sid = h_qi(db, "SELECT coalesce(max(stack_id), 0) FROM event WHERE " PIDQ
					 " AND op = %d", pid, op);
		H_CHECK(db, pid, stack_has(db, sid, fns[i].lo, fns[i].size) == 1,
			"the %s event's stack does not go through %s", op == 2 ? "dup" : "pin",
			fns[i].name);
	}
	sqlite3_close(db);
	h_umount(fs);
	h_proc_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_create_close),
		cmocka_unit_test(test_prog_load),
		cmocka_unit_test(test_libbpf_calls),
		cmocka_unit_test(test_libbpf_low_fd),
		cmocka_unit_test(test_dup_family),
		cmocka_unit_test(test_pin_obj_get),
		cmocka_unit_test(test_create_stacks),
	};
	return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
