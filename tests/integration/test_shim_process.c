// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The shim across process boundaries on the real kernel: a forked child,
 * an exec into a new image that keeps a non-CLOEXEC bpf FD, and the
 * fail-open path when the journal cannot be created.
 */
#include "harness.h"
#include <linux/bpf.h>

#define PIDQ "pid = %lld"

/* ---- 6. fork ---- */

static void test_fork_child(void **state)
{
	(void)state;
	h_require_bpf();
	char j[PATH_MAX];
	h_path(j, sizeof(j), "fork.db");
	struct h_proc p;
	h_run(&p, j, "fork");
	h_expect_ok(&p);
	const char *o = p.out;
	long long parent = h_kv(o, "parent_pid"), child = h_kv(o, "child_pid");
	long long a = h_kv(o, "a_fd"), a2 = h_kv(o, "a2_fd"), a_id = h_kv(o, "a_id");
	long long b = h_kv(o, "child_b_fd"), b_id = h_kv(o, "child_b_id");
	assert_int_equal(h_kv(o, "pid"), parent);
	assert_int_equal(h_kv(o, "child_ppid"), parent);
	assert_int_not_equal(child, parent);
	sqlite3 *db = h_db(j);

	long long n = h_qi(db, "SELECT count(*) FROM process WHERE pid = %lld AND origin = 'start'",
			   parent);
	H_CHECK(db, parent, n == 1, "want 1 process row (origin start) for the parent %lld, got %lld",
		parent, n);
	n = h_qi(db, "SELECT count(*) FROM process WHERE pid = %lld AND origin = 'fork'"
		     " AND ppid = %lld", child, parent);
	H_CHECK(db, child, n == 1, "want 1 process row (origin fork, ppid %lld) for child %lld",
		parent, child);

	n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 7 AND fd2 = %lld", child,
		 parent);
	H_CHECK(db, child, n == 1, "want a fork event for %lld with fd2 = %lld", child, parent);

	/* Exactly the two tracked FDs the parent held at fork. */
	char *rows = h_rows(db, "SELECT fd, obj_kind, obj_id FROM event WHERE " PIDQ " AND op = 5"
				" AND detail = 'fork' ORDER BY fd", child);
	char want[128];
	snprintf(want, sizeof(want), "%lld|1|%lld\n%lld|1|%lld\n", a < a2 ? a : a2, a_id,
		 a < a2 ? a2 : a, a_id);
	H_CHECK(db, child, !strcmp(rows, want), "child's inherited (fork) events (fd|kind|id):\n%s"
		"want:\n%s", rows, want);
	free(rows);

	n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 1 AND cmd = %d"
		     " AND obj_id = %lld AND fd = %lld", child, BPF_MAP_CREATE, b_id, b);
	H_CHECK(db, child, n == 1, "want the child's create of map %lld under pid %lld", b_id, child);
	n = h_qi(db, "SELECT count(*) FROM event WHERE obj_id = %lld AND obj_kind = 1 AND pid != %lld",
		 b_id, child);
	H_CHECK(db, parent, n == 0, "map %lld (the child's) shows up under another pid", b_id);
	n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 1 AND obj_id = %lld"
		     " AND fd = %lld", parent, a_id, a);
	H_CHECK(db, parent, n == 1, "want the parent's create of map %lld under pid %lld", a_id,
		parent);
	n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 1 AND obj_id = %lld", child,
		 a_id);
	H_CHECK(db, child, n == 0, "the parent's create shows up under the child's pid");

	/* The child left all three open at exit. */
	long long snap = h_exit_snapshot(db, child);
	n = h_qi(db, "SELECT count(*) FROM snapshot_fd WHERE snapshot_id = %lld AND"
		     " ((fd IN (%lld, %lld) AND obj_id = %lld) OR (fd = %lld AND obj_id = %lld))",
		 snap, a, a2, a_id, b, b_id);
	H_CHECK(db, child, n == 3, "child's exit snapshot: %lld of its 3 FDs", n);
	sqlite3_close(db);
	h_proc_free(&p);
}

/* ---- 7. exec ---- */

static void test_exec_keeps_fd(void **state)
{
	(void)state;
	h_require_bpf();
	char j[PATH_MAX];
	h_path(j, sizeof(j), "exec.db");
	struct h_proc p;
	h_run(&p, j, "exec");
	h_expect_ok(&p);
	const char *o = p.out;
	long long pid = h_kv(o, "pid1");
	assert_int_equal(h_kv(o, "pid2"), pid);
	long long a = h_kv(o, "a_fd"), a_id = h_kv(o, "a_id"), d = h_kv(o, "d_fd");
	long long b = h_kv(o, "b_fd"), b_id = h_kv(o, "b_id");
	assert_int_equal(h_kv(o, "d_alive"), 1);
	assert_int_equal(h_kv(o, "d_id2"), a_id);
	sqlite3 *db = h_db(j);

	long long exec_seq = h_qi(db, "SELECT coalesce(max(seq), 0) FROM event WHERE " PIDQ
				      " AND op = 6", pid);
	H_CHECK(db, pid, exec_seq > 0, "no exec event for pid %lld", pid);
	long long n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 6", pid);
	H_CHECK(db, pid, n == 1, "%lld exec events for pid %lld, want 1", n, pid);
	char exe[PATH_MAX];
	h_qs(db, exe, sizeof(exe), "SELECT coalesce(detail, '') FROM event WHERE seq = %lld",
	     exec_seq);
	H_CHECK(db, pid, !strcmp(exe, H_HOST), "exec event detail '%s', want %s", exe, H_HOST);

	/* The first image's events come before the exec. */
	n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 1 AND obj_id = %lld"
		     " AND fd = %lld AND seq < %lld", pid, a_id, a, exec_seq);
	H_CHECK(db, pid, n == 1, "want the first image's create of map %lld before the exec", a_id);
	n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 2 AND fd = %lld"
		     " AND fd2 = %lld AND coalesce(flags, 0) & 1 = 0 AND seq < %lld",
		 pid, d, a, exec_seq);
	H_CHECK(db, pid, n == 1, "want the non-cloexec dup %lld <- %lld before the exec", d, a);

	/* Only the dup survives: one inherited event, detail 'exec'. */
	char *rows = h_rows(db, "SELECT fd, obj_kind, obj_id, coalesce(flags, 0) & 1 FROM event"
				" WHERE " PIDQ " AND op = 5 AND seq > %lld ORDER BY seq",
			    pid, exec_seq);
	char want[128];
	snprintf(want, sizeof(want), "%lld|1|%lld|0\n", d, a_id);
	H_CHECK(db, pid, !strcmp(rows, want), "inherited events after exec (fd|kind|id|cloexec):\n%s"
		"want:\n%s", rows, want);
	free(rows);
	n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 5 AND detail = 'exec'"
		     " AND fd = %lld", pid, d);
	H_CHECK(db, pid, n == 1, "the inherited event of fd %lld lacks detail 'exec'", d);

	/* The second image's create, after the exec. */
	n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 1 AND cmd = %d"
		     " AND obj_id = %lld AND fd = %lld AND seq > %lld",
		 pid, BPF_MAP_CREATE, b_id, b, exec_seq);
	H_CHECK(db, pid, n == 1, "want the second image's create of map %lld after the exec", b_id);

	n = h_qi(db, "SELECT count(*) FROM process WHERE " PIDQ, pid);
	long long nexec = h_qi(db, "SELECT count(*) FROM process WHERE " PIDQ " AND origin = 'exec'",
			       pid);
	H_CHECK(db, pid, n == 2 && nexec == 1, "process rows for %lld: %lld (%lld exec), want 2 (1)",
		pid, n, nexec);

	long long snap = h_exit_snapshot(db, pid);
	rows = h_rows(db, "SELECT fd, obj_id FROM snapshot_fd WHERE snapshot_id = %lld ORDER BY fd",
		      snap);
	snprintf(want, sizeof(want), "%lld|%lld\n%lld|%lld\n", d < b ? d : b, d < b ? a_id : b_id,
		 d < b ? b : d, d < b ? b_id : a_id);
	H_CHECK(db, pid, !strcmp(rows, want), "exit snapshot (fd|id):\n%swant:\n%s", rows, want);
	free(rows);
	sqlite3_close(db);
	h_proc_free(&p);
}

/* ---- 11. fail open ---- */

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Run failopen with journal; compare with the run without the shim. */
static void check_fail_open(const char *journal, const struct h_proc *ref, const char *what)
{
	struct h_proc p;
	h_run(&p, journal, "failopen");
	if (p.status != ref->status || strcmp(p.out, ref->out))
		fail_msg("%s: the host ran differently under the shim:\n"
			 "without: status %#x, stdout:\n%s\nwith: status %#x, stdout:\n%s\nstderr:\n%s",
			 what, ref->status, ref->out, p.status, p.out, p.err);
	if (count_lines(p.err) != 1 || strncmp(p.err, "bpfleak", 7))
		fail_msg("%s: want exactly one stderr line starting with \"bpfleak\", got:\n%s", what,
			 p.err);
	print_message("%s: %s", what, p.err);
	struct stat st;
	if (lstat(journal, &st) == 0)
		fail_msg("%s: a journal appeared at %s", what, journal);
	h_proc_free(&p);
}

static void test_fail_open(void **state)
{
	(void)state;
	h_require_bpf();
	struct h_proc ref;
	h_run(&ref, NULL, "failopen");
	if (!WIFEXITED(ref.status) || WEXITSTATUS(ref.status) != 5 || ref.err[0])
		fail_msg("host without the shim: status %#x\n%s\n%s", ref.status, ref.out, ref.err);

	/* A directory that does not exist. */
	char j[PATH_MAX];
	h_path(j, sizeof(j), "missing/dir/journal.db");
	check_fail_open(j, &ref, "missing directory");

	/* A read-only file system (root ignores directory modes: mount one). */
	char ro[PATH_MAX];
	h_path(ro, sizeof(ro), "ro");
	if (mkdir(ro, 0700))
		fail_msg("mkdir %s: %s", ro, strerror(errno));
	if (h_mount_fs(ro, "tmpfs", MS_RDONLY, "size=64k")) {
		print_message("cannot mount a read-only tmpfs (%s): read-only case not run\n",
			      strerror(errno));
	} else {
		h_path(j, sizeof(j), "ro/journal.db");
		check_fail_open(j, &ref, "read-only directory");
		h_umount(ro);
	}
	h_proc_free(&ref);
}

/*
 * ---- the shim's own FDs stay out of the host's way ----
 *
 * Not one of the twelve required tests: the repro of a shim bug found
 * while writing test_fail_open.  A host makes a bpf FD, then (daemon
 * style) closes every FD above 2, opens seven files of its own read-write
 * at 3..9, and makes more bpf FDs on a new thread.  Whatever the shim uses internally must
 * not read from or write to the host's files: each must still be at
 * offset 0 and hold what the test wrote.
 */
static void test_host_fds_untouched(void **state)
{
	(void)state;
	h_require_bpf();
	char prefix[PATH_MAX], path[PATH_MAX + 16], j[PATH_MAX];
	h_path(prefix, sizeof(prefix), "hostfds");
	h_path(j, sizeof(j), "hostfds.db");
	const char data[] = "0123456789abcdef";

	for (int shim = 0; shim < 2; shim++) {
		for (int i = 3; i <= 9; i++) {
			snprintf(path, sizeof(path), "%s.%d", prefix, i);
			int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
			assert_true(fd >= 0);
			assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
			close(fd);
		}
		struct h_proc p;
		h_run(&p, shim ? j : NULL, "hostfds", prefix);
		h_expect_ok(&p);
		char bad[1024] = "";
		size_t len = 0;
		for (int i = 3; i <= 9; i++) {
			char key[8], got[128], want[128];
			snprintf(key, sizeof(key), "fd%d", i);
			snprintf(want, sizeof(want), "0 %s", data);
			if (!h_kv_str(p.out, key, got, sizeof(got)))
				fail_msg("host printed no %s line:\n%s", key, p.out);
			if (strcmp(got, want) && len < sizeof(bad) - 100)
				len += (size_t)snprintf(bad + len, sizeof(bad) - len,
							"  fd %d: offset and content '%s', want '%s'\n",
							i, got, want);
		}
		if (len)
			fail_msg("%s the shim, something other than the host read or wrote the"
				 " host's files:\n%s", shim ? "with" : "without", bad);
		h_proc_free(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork_child),
		cmocka_unit_test(test_exec_keeps_fd),
		cmocka_unit_test(test_fail_open),
		cmocka_unit_test(test_host_fds_untouched),
	};
	return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
