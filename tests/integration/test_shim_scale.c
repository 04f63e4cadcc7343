// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The shim under load on the real kernel: eight threads racing on FD
 * numbers, a SIGKILL in the middle of a create/close loop, and the size of
 * the journal per event (at most 64 bytes: docs/overhead.md, "Budgets").
 */
#include "harness.h"
#include <sys/mman.h>
#include <linux/bpf.h>

#define PIDQ "pid = %lld"

/* Events lost to a full queue, as the journal's drop events count them. */
static long long dropped(sqlite3 *db, long long pid)
{
	return h_qi(db, "SELECT coalesce(sum(fd2), 0) FROM event WHERE " PIDQ " AND op = %d", pid,
		    BPFLEAK_OP_DROP);
}

/* ---- 8. threads racing on FD numbers ---- */

/*
 * Replay create/dup/inherited/close per FD in (ts_ns, seq) order; open[fd]
 * is the object id that occupies fd (0: closed).  Counts what does not fit:
 * an FD opened over one still open (a close is missing), and a close of an
 * FD already closed (a close too many); why* say where each first happened.
 */
struct replay_bad {
	long long reopen, reclose;
	char why_reopen[128], why_reclose[128];
};

static void replay(sqlite3 *db, long long pid, uint32_t *open_ids, int max_fd,
		   struct replay_bad *bad)
{
	sqlite3_stmt *st;
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT seq, op, fd, coalesce(obj_id, 0), result FROM event"
				   " WHERE pid = %lld AND op IN (1, 2, 3, 5) ORDER BY ts_ns, seq", pid);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare: %s", sqlite3_errmsg(db));
	memset(bad, 0, sizeof(*bad));
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long seq = sqlite3_column_int64(st, 0);
		int op = sqlite3_column_int(st, 1), fd = sqlite3_column_int(st, 2);
		uint32_t id = (uint32_t)sqlite3_column_int64(st, 3);
		int result = sqlite3_column_int(st, 4);
		if (fd < 0 || fd >= max_fd)
			fail_msg("event seq %lld: fd %d out of range", seq, fd);
		if (op == BPFLEAK_OP_CLOSE) {
			if (result != 0)
				continue;   /* -EBADF: a close of something not open */
			if (!open_ids[fd] && !bad->reclose++)
				snprintf(bad->why_reclose, sizeof(bad->why_reclose),
					 "seq %lld closes fd %d, not open", seq, fd);
			open_ids[fd] = 0;
		} else {
			if (open_ids[fd] && !bad->reopen++)
				snprintf(bad->why_reopen, sizeof(bad->why_reopen),
					 "seq %lld (op %d) opens fd %d, still open", seq, op, fd);
			open_ids[fd] = id ? id : UINT32_MAX;
		}
	}
	sqlite3_finalize(st);
}

static void run_threads(int per_thread)
{
	h_require_bpf();
	char j[PATH_MAX], name[64], iters[16];
	snprintf(name, sizeof(name), "threads-%d.db", per_thread);
	snprintf(iters, sizeof(iters), "%d", per_thread);
	h_path(j, sizeof(j), name);
	struct h_proc p;
	h_run(&p, j, "threads", iters);
	h_expect_ok(&p);
	long long pid = h_kv(p.out, "pid"), id = h_kv(p.out, "map_id");
	long long expect = h_kv(p.out, "expected_open"), creates = h_kv(p.out, "creates");
	sqlite3 *db = h_db(j);

	long long lost = dropped(db, pid);
	long long ncreate = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 1"
				     " AND obj_id = %lld", pid, id);
	long long snap = h_exit_snapshot(db, pid);
	long long nsnap = h_qi(db, "SELECT count(*) FROM snapshot_fd WHERE snapshot_id = %lld"
				   " AND obj_id = %lld", snap, id);
	long long nsnap_all = h_qi(db, "SELECT count(*) FROM snapshot_fd WHERE snapshot_id = %lld",
				   snap);
	print_message("threads x %d: %lld creates recorded of %lld made, %lld events dropped,"
		      " exit snapshot %lld FDs of map %lld (want %lld)\n",
		      per_thread, ncreate, creates, lost, nsnap, id, expect);

	/* The kernel's view first: it does not depend on the journal keeping up. */
	if (nsnap != expect || nsnap_all != expect)
		fail_msg("exit snapshot holds %lld FDs of map %lld (%lld in all), want %lld", nsnap, id,
			 nsnap_all, expect);

	/* Then the journal: a replay must end where the kernel says it does. */
	int max_fd = 1 << 16;
	uint32_t *open_ids = calloc((size_t)max_fd, sizeof(*open_ids));
	struct replay_bad bad;
	replay(db, pid, open_ids, max_fd, &bad);
	long long nopen = 0, mismatch = 0;
	for (int fd = 0; fd < max_fd; fd++) {
		if (!open_ids[fd])
			continue;
		nopen++;
		long long n = h_qi(db, "SELECT count(*) FROM snapshot_fd WHERE snapshot_id = %lld"
				       " AND fd = %d AND obj_id = %u", snap, fd, open_ids[fd]);
		mismatch += n != 1;
	}
	free(open_ids);
	long long missing = h_qi(db, "SELECT count(*) FROM snapshot_fd WHERE snapshot_id = %lld",
				 snap) - (nopen - mismatch);
	/*
	 * A close of an FD the replay has closed already leaves the open set
	 * as it is; it is the spurious close test_close_race_attribution
	 * fails on (a shim bug), so here it is only reported.
	 */
	if (bad.reclose)
		print_message("replay: %lld closes of FDs already closed (first: %s); see"
			      " test_close_race_attribution\n", bad.reclose, bad.why_reclose);
	if (lost || bad.reopen || mismatch || missing || nopen != expect || ncreate != creates)
		fail_msg("journal replay disagrees with the kernel: %lld FDs open after replay"
			 " (want %lld), %lld not in the snapshot, %lld snapshot FDs not in the replay,"
			 " %lld FDs opened while still open%s%s; %lld of %lld creates recorded;"
			 " %lld EVENTS DROPPED (queue full: the writer did not keep up)",
			 nopen, expect, mismatch, missing, bad.reopen, bad.reopen ? ", first: " : "",
			 bad.why_reopen, ncreate, creates, lost);
	sqlite3_close(db);
	h_proc_free(&p);
}

/* The brief's load: 8 x 10,000, about 160,000 events in a fraction of a second. */
static void test_threads(void **state)
{
	(void)state;
	run_threads(10000);
}

/*
 * The same race with fewer events (8 x 900 + 1 creates, 7,164 closes) than
 * the shim's queue holds (16,384), so no event can be dropped however slow
 * the writer: a failure here is in the FD table, not in the throughput.
 */
static void test_threads_within_queue(void **state)
{
	(void)state;
	run_threads(900);
}

/*
 * ---- who closed it ----
 *
 * Not one of the twelve required tests: the repro of a shim bug found by
 * test_threads_within_queue.  One thread makes and closes bpf FDs, another
 * opens and closes /dev/null, so both keep getting the same FD number.
 * When the first is preempted between its real close and the CAS that
 * retires the slot, the second's close of /dev/null finds the slot still
 * tracked and is journaled as a close of the map (and the real close as
 * RACED).  8,000 pairs stay under the queue's 16,384 events: nothing is
 * dropped.  The race needs an unlucky preemption, so up to three runs.
 */
static void test_close_race_attribution(void **state)
{
	(void)state;
	h_require_bpf();
	for (int run = 1; run <= 3; run++) {
		char j[PATH_MAX], name[32];
		snprintf(name, sizeof(name), "closerace%d.db", run);
		h_path(j, sizeof(j), name);
		struct h_proc p;
		h_run(&p, j, "closerace", "8000");
		h_expect_ok(&p);
		long long pid = h_kv(p.out, "pid"), id = h_kv(p.out, "map_id");
		long long bpf_tid = h_kv(p.out, "bpf_tid"), main_tid = h_kv(p.out, "main_tid");
		long long plain_tid = h_kv(p.out, "plain_tid");
		sqlite3 *db = h_db(j);
		long long lost = dropped(db, pid);
		long long creates = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 1"
					     " AND obj_id = %lld", pid, id);
		long long closes = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 3"
					    " AND obj_id = %lld", pid, id);
		long long by_plain = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 3"
					      " AND tid = %lld", pid, plain_tid);
		long long by_other = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 3"
					      " AND tid NOT IN (%lld, %lld, %lld)",
					  pid, bpf_tid, main_tid, plain_tid);
		long long raced = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 3"
					   " AND flags & 8 = 8", pid);
		sqlite3_close(db);
		h_proc_free(&p);
		if (lost)
			fail_msg("run %d: %lld events dropped (the test expects none)", run, lost);
		if (by_plain || by_other || closes != creates)
			fail_msg("run %d: %lld creates but %lld closes of map %lld: %lld closes recorded"
				 " for the thread that only closed /dev/null (tid %lld), %lld for"
				 " threads that never held a bpf FD (the shim's writer), %lld real"
				 " closes marked RACED",
				 run, creates, closes, id, by_plain, plain_tid, by_other, raced);
	}
}

/* ---- 9. SIGKILL in the middle of a create/close loop ---- */

/*
 * 5,000 creates + closes are fewer events than the shim's queue holds, so
 * none of the creates counted can have been dropped for a full queue: the
 * check below is about durability, not throughput (test_threads is that).
 */
#define KILL_AFTER 5000

static void test_sigkill(void **state)
{
	(void)state;
	h_require_bpf();
	char j[PATH_MAX], prog[PATH_MAX];
	h_path(j, sizeof(j), "kill.db");
	h_path(prog, sizeof(prog), "kill.progress");
	int pf = open(prog, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (pf < 0 || ftruncate(pf, sizeof(uint64_t)))
		fail_msg("progress file %s: %s", prog, strerror(errno));
	volatile uint64_t *count = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED,
					pf, 0);
	close(pf);
	if (count == MAP_FAILED)
		fail_msg("mmap: %s", strerror(errno));

	struct h_proc p;
	const char *const args[] = { "loop", prog, NULL };
	h_spawn(&p, j, NULL, args);
	struct timespec t0, now, tick = { 0, 1000 * 1000 };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t seen = 0;
	for (;;) {
		seen = __atomic_load_n(count, __ATOMIC_ACQUIRE);
		if (seen >= KILL_AFTER)
			break;
		int st;
		if (waitpid(p.pid, &st, WNOHANG) == p.pid) {
			p.pid = h_live = 0;
			char *e = h_slurp(p.err_path);
			fail_msg("host exited (status %#x) after %llu creates: %s", st,
				 (unsigned long long)seen, e);
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > 15) {
			h_kill(&p, SIGKILL);
			waitpid(p.pid, &st, 0);
			h_live = 0;
			fail_msg("host made only %llu creates in 15 s", (unsigned long long)seen);
		}
		nanosleep(&tick, NULL);
	}
	/* 200 ms: about ten of the writer's 20 ms batches. */
	struct timespec wait = { 0, 200 * 1000 * 1000 };
	nanosleep(&wait, NULL);
	h_kill(&p, SIGKILL);
	h_wait(&p, 5000);
	uint64_t at_kill = __atomic_load_n(count, __ATOMIC_ACQUIRE);
	munmap((void *)count, sizeof(uint64_t));
	assert_true(WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGKILL);
	long long pid = h_kv(p.out, "pid"), id = h_kv(p.out, "map_id");

	sqlite3 *db = h_db(j);
	char ok[256];
	h_qs(db, ok, sizeof(ok), "PRAGMA integrity_check");
	if (strcmp(ok, "ok"))
		fail_msg("journal of the killed host: integrity_check says '%s'", ok);
	long long n = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 1 AND cmd = %d"
			       " AND obj_id = %lld", pid, BPF_MAP_GET_FD_BY_ID, id);
	long long lost = dropped(db, pid);
	print_message("sigkill: %llu creates done 200 ms before the kill (%llu at the kill),"
		      " %lld in the journal, %lld dropped\n",
		      (unsigned long long)seen, (unsigned long long)at_kill, n, lost);
	if (n < (long long)seen)
		fail_msg("journal holds %lld creates, the host had made %llu 200 ms before SIGKILL"
			 " (%lld events dropped)", n, (unsigned long long)seen, lost);
	sqlite3_close(db);
	h_proc_free(&p);
}

/* ---- 12. journal bytes per event ---- */

#define PAIRS 50000

static void test_bytes_per_event(void **state)
{
	(void)state;
	h_require_bpf();
	char j[PATH_MAX], pairs[16];
	h_path(j, sizeof(j), "bytes.db");
	snprintf(pairs, sizeof(pairs), "%d", PAIRS);
	struct h_proc p;
	h_run(&p, j, "bytes", pairs);
	h_expect_ok(&p);
	long long pid = h_kv(p.out, "pid");

	struct stat st, wal;
	char walpath[PATH_MAX + 8];
	snprintf(walpath, sizeof(walpath), "%s-wal", j);
	assert_int_equal(stat(j, &st), 0);
	if (stat(walpath, &wal))
		wal.st_size = 0;
	sqlite3 *db = h_db(j);
	long long events = h_qi(db, "SELECT count(*) FROM event");
	long long pairs_seen = h_qi(db, "SELECT count(*) FROM event WHERE " PIDQ " AND op = 1"
					" AND cmd = %d", pid, BPF_MAP_GET_FD_BY_ID);
	long long pages = h_qi(db, "PRAGMA page_count"), page = h_qi(db, "PRAGMA page_size");
	long long stacks = h_qi(db, "SELECT count(*) FROM stack");
	double per = (double)(pages * page) / (double)(events ? events : 1);
	print_message("bytes per event: %.1f (%lld pages x %lld = %lld bytes, %lld events, %lld"
		      " stacks; file %lld bytes, WAL %lld bytes)\n",
		      per, pages, page, pages * page, events, stacks, (long long)st.st_size,
		      (long long)wal.st_size);
	/*
	 * A tight loop can outrun the writer (test_threads is the check for
	 * that): say how many events were lost, but measure what was written
	 * as long as it is enough for the fixed schema pages not to count.
	 */
	long long lost = dropped(db, pid);
	if (lost || pairs_seen != PAIRS)
		print_message("bytes: %lld of %d creates recorded, %lld events dropped (queue full)\n",
			      pairs_seen, PAIRS, lost);
	H_CHECK(db, pid, events >= PAIRS / 2, "only %lld events recorded (%lld dropped)", events,
		lost);
	H_CHECK(db, pid, stacks <= 3, "%lld distinct stacks for one call site", stacks);
	if (per > 64.0)
		fail_msg("journal: %.1f bytes per event, over the 64-byte budget", per);
	sqlite3_close(db);
	h_proc_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_threads_within_queue),
		cmocka_unit_test(test_close_race_attribution),
		cmocka_unit_test(test_sigkill),
		cmocka_unit_test(test_bytes_per_event),
	};
	return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
