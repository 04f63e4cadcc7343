// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The journal writer: events, stacks and objects reach sqlite once each,
 * drops are counted, a fork child writes with its own connection, the exit
 * snapshot lands, and foreign or newer files are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sqlite3.h>
#include <bpf/bpf.h>
#include <bpfleak/journal.h>
#include "shim.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/bpfleak-writer-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(shim_cfg.journal, sizeof(shim_cfg.journal), "%s/j.db", dir);
	shim_cfg.depth = 16;
	shim_cfg.quiet = true;
	self_init();
	assert_true(queue_init(16384));
	struct shim_event ev;
	while (queue_pop(&ev))
		;
	queue_take_drops(NULL);
	atomic_store(&shim_state, SHIM_ACTIVE);
	writer_forget_written();
	journal_forget_file();
	char why[512];
	assert_true(journal_open(why, sizeof(why)));
	journal_close();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static long long query(const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open_v2(shim_cfg.journal, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	long long v = -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void push_create(int fd, const struct stack_node *stack, const struct obj_node *obj)
{
	struct shim_event ev;
	event_init(&ev, BPFLEAK_OP_CREATE, shim_now_ns());
	ev.fd = fd;
	ev.cmd = 14;
	ev.kind = BPFLEAK_KIND_MAP;
	ev.obj_id = obj ? obj->info.id : 0;
	ev.obj = obj;
	ev.stack = stack;
	ev.result = fd;
	assert_true(queue_push(&ev));
}

static void test_events_stacks_objects_once(void **state)
{
	(void)state;
	uintptr_t ips[3] = { 0x401000, 0x402000, 0x403000 };
	const struct stack_node *stack = stack_intern(ips, 3);
	struct bpfleak_obj_info info = { .kind = BPFLEAK_KIND_MAP, .id = 4242, .type = 1,
					 .key_size = 4, .value_size = 8, .max_entries = 16 };
	snprintf(info.name, sizeof(info.name), "global_ep");
	const struct obj_node *obj = objcache_add(&info);
	for (int i = 0; i < 1000; i++)
		push_create(10 + i, stack, obj);
	writer_drain_now();

	assert_int_equal(query("SELECT count(*) FROM event WHERE op = 1"), 1000);
	assert_int_equal(query("SELECT count(*) FROM stack"), 1);
	assert_int_equal(query("SELECT depth FROM stack"), 3);
	assert_int_equal(query("SELECT count(*) FROM object WHERE id = 4242 AND name = 'global_ep'"
			       " AND value_size = 8"), 1);
	assert_int_equal(query("SELECT count(DISTINCT stack_id) FROM event"), 1);
	/* Insertion order follows queue order, which follows the timestamps here. */
	assert_int_equal(query("SELECT count(*) FROM event a JOIN event b ON b.seq = a.seq + 1"
			       " WHERE b.ts_ns < a.ts_ns"), 0);
	assert_int_equal(query("SELECT count(*) FROM process WHERE pid = " "(SELECT pid FROM event LIMIT 1)"), 1);
	assert_int_equal(query("PRAGMA user_version"), BPFLEAK_SCHEMA_VERSION);
	assert_int_equal(query("PRAGMA application_id"), BPFLEAK_APPLICATION_ID);

	/* A second drain writes new events, not the stack or object again. */
	push_create(5000, stack, obj);
	writer_drain_now();
	assert_int_equal(query("SELECT count(*) FROM event"), 1001);
	assert_int_equal(query("SELECT count(*) FROM stack"), 1);
	assert_int_equal(query("SELECT count(*) FROM object"), 1);
	assert_int_equal(query("SELECT count(*) FROM process"), 1);
}

static void test_large_drain_in_batches(void **state)
{
	(void)state;
	/* More than one BATCH_MAX (8192): every event arrives, each batch commits. */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 12000; i++)
			push_create(i, NULL, NULL);
		writer_drain_now();
	}
	assert_int_equal(query("SELECT count(*) FROM event"), 24000);
	assert_int_equal(query("SELECT count(*) FROM event WHERE stack_id IS NOT NULL"), 0);
}

static void test_drops_are_counted_and_recorded(void **state)
{
	(void)state;
	size_t cap = queue_capacity();
	int refused = 0;
	for (size_t i = 0; i < cap + 250; i++) {
		struct shim_event ev;
		event_init(&ev, BPFLEAK_OP_CLOSE, shim_now_ns());
		ev.fd = (int)i;
		refused += !queue_push(&ev);
	}
	assert_int_equal(refused, 250);
	writer_drain_now();
	assert_int_equal(query("SELECT count(*) FROM event WHERE op = 3"), (long long)cap);
	assert_int_equal(query("SELECT fd2 FROM event WHERE op = 8"), 250);
	/* The drop marker comes after the events that made it in. */
	assert_int_equal(query("SELECT max(seq) = (SELECT seq FROM event WHERE op = 8) FROM event"), 1);
}

static void test_fork_child_writes_with_own_connection(void **state)
{
	(void)state;
	push_create(3, NULL, NULL);
	writer_drain_now();

	writer_fork_prepare();
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		self_after_fork_child();
		self.from_fork = false;
		queue_after_fork_child();
		writer_fork_child();
		push_create(4, NULL, NULL);
		writer_drain_now();
		_exit(query("SELECT count(*) FROM event WHERE fd = 4") == 1 ? 0 : 1);
	}
	writer_fork_parent();
	push_create(5, NULL, NULL);
	writer_drain_now();
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	char sql[160];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM event WHERE fd = 4 AND pid = %d", child);
	assert_int_equal(query(sql), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM process WHERE pid = %d AND origin = 'fork'"
		 " AND ppid = %d", child, getpid());
	assert_int_equal(query(sql), 1);
	assert_int_equal(query("SELECT count(*) FROM event WHERE fd IN (3, 5)"), 2);
	sqlite3 *db;
	sqlite3_open(shim_cfg.journal, &db);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_exit_snapshot(void **state)
{
	(void)state;
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "snap_test", 4, 4, 1, NULL);
	if (fd < 0)
		skip();   /* no bpf here: the snapshot would have nothing to show */
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	push_create(fd, NULL, NULL);
	writer_exit_inline(false);
	close(fd);

	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM snapshot s JOIN snapshot_fd f ON f.snapshot_id = s.id"
		 " WHERE s.pid = %d AND s.reason = 'exit' AND f.fd = %d AND f.kind = 1 AND f.obj_id = %u",
		 getpid(), fd, info.id);
	assert_int_equal(query(sql), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM process WHERE pid = %d AND exited_ns IS NOT NULL",
		 getpid());
	assert_int_equal(query(sql), 1);
}

/*
 * Log rotation moves the journal away while the program runs: the writer
 * starts a new file at the path that stands alone (process row, the FDs
 * open now, a note that earlier events are elsewhere), mode 0600.
 */
static void test_moved_journal_restarts(void **state)
{
	(void)state;
	fdtable_reset();
	fdtable_install(7, BPFLEAK_KIND_MAP, 777, true);
	push_create(7, NULL, NULL);
	writer_drain_now();
	char moved[128];
	snprintf(moved, sizeof(moved), "%s/rotated.db", dir);
	assert_int_equal(rename(shim_cfg.journal, moved), 0);
	push_create(9, NULL, NULL);
	writer_drain_now();

	assert_int_equal(query("SELECT count(*) FROM process"), 1);
	assert_int_equal(query("SELECT count(*) FROM event_v WHERE op = 'note'"
			       " AND detail = 'journal_restart'"), 1);
	assert_int_equal(query("SELECT count(*) FROM event_v WHERE op = 'inherited'"
			       " AND detail = 'restart' AND fd = 7 AND obj_id = 777"), 1);
	assert_int_equal(query("SELECT count(*) FROM event WHERE op = 1 AND fd = 9"), 1);
	assert_int_equal(query("SELECT count(*) FROM event WHERE op = 1 AND fd = 7"), 0);
	struct stat st;
	assert_int_equal(stat(shim_cfg.journal, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	fdtable_reset();
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* The journal as the writer would open it, at another path. */
static bool opens(const char *path)
{
	char saved[sizeof(shim_cfg.journal)], why[512];
	snprintf(saved, sizeof(saved), "%s", shim_cfg.journal);
	snprintf(shim_cfg.journal, sizeof(shim_cfg.journal), "%s", path);
	journal_forget_file();
	bool ok = journal_open(why, sizeof(why));
	journal_close();
	snprintf(shim_cfg.journal, sizeof(shim_cfg.journal), "%s", saved);
	return ok;
}

static void test_refuses_foreign_and_newer_files(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof(path), "%s/garbage.db", dir);
	write_file(path, "this is not a database, not at all, no.....", 44);
	assert_false(opens(path));

	snprintf(path, sizeof(path), "%s/other.db", dir);
	sqlite3 *db;
	sqlite3_open(path, &db);
	sqlite3_exec(db, "CREATE TABLE t(x); PRAGMA user_version = 3", NULL, NULL, NULL);
	sqlite3_close(db);
	assert_false(opens(path));

	snprintf(path, sizeof(path), "%s/future.db", dir);
	sqlite3_open(path, &db);
	char sql[128];
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %d",
		 BPFLEAK_APPLICATION_ID, BPFLEAK_SCHEMA_VERSION + 1);
	sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	assert_false(opens(path));

	snprintf(path, sizeof(path), "%s/link.db", dir);
	assert_int_equal(symlink(shim_cfg.journal, path), 0);
	assert_false(opens(path));   /* never through a symlink */

	struct stat st;
	assert_int_equal(stat(shim_cfg.journal, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_events_stacks_objects_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_drain_in_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drops_are_counted_and_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_child_writes_with_own_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_foreign_and_newer_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_moved_journal_restarts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
