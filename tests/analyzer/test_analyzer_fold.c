// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Folding (common/journal_fold.c) and the report over a folded journal:
 * which pairs fold and which never do, and that folding changes no
 * finding: random histories (creates, closes, dups, pins, double closes,
 * forks, notes, drops, rows written out of order) reported before and
 * after folding give the same findings, warnings and exit code.
 * FOLD_SEEDS=N runs N random histories instead of 60 (3,000 pass);
 * FOLD_DEBUG=1 prints what each history folded and any difference.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include "jbuild.h"

#define MAP BPFLEAK_KIND_MAP
#define SEC 1000000000ll
#define HOUR (3600 * SEC)

/* Fold everything older than age, as the writer would at `now`, pass after pass. */
static size_t fold_all(struct jb *j, int64_t now, int64_t age)
{
	struct jw_fold_result r = { .more = true };
	size_t folded = 0, passes = 0;
	while (r.more || passes < 2) {
		assert_int_equal(jw_fold(&j->jw, (uint64_t)now, (uint64_t)age, 16, &r), 0);
		folded += r.folded;
		passes++;
		assert_true(passes < 100000);
		if (!r.more && !r.scanned)
			break;
	}
	return folded;
}

static long long count(struct jb *j, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;
	assert_int_equal(sqlite3_prepare_v2(j->jw.db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void pair(struct jb *j, int fd, uint32_t id, int64_t stack)
{
	jb_create(j, 100, fd, MAP, id, stack);
	jb_close(j, 100, fd, MAP, id, 0, 0);
}

/* What folds: old pairs whose number was reused; what never does. */
static void test_what_folds(void **state)
{
	(void)state;
	struct jb j;
	jb_init(&j);
	j.step = SEC;
	jb_process(&j, 100, 1, "/usr/bin/exporter", "start", 0);
	int64_t s = jb_stack1(&j, 0xa000), d = jb_stack1(&j, 0xd000);
	for (int i = 0; i < 10; i++)
		pair(&j, 3, 1, s);                          /* 8 fold: not the first life of fd 3
							       (nothing says the number was free),
							       nor its last */
	jb_create(&j, 100, 4, MAP, 2, s);               /* open: never */
	jb_create(&j, 100, 5, MAP, 3, s);               /* dup'd: never */
	jb_dup(&j, 100, 6, 5, MAP, 3, d);
	jb_close(&j, 100, 5, MAP, 3, 0, 0);
	jb_close(&j, 100, 6, MAP, 3, 0, 0);
	jb_create(&j, 100, 5, MAP, 3, s);               /* ... though this reuse of 5 is a pair */
	jb_close(&j, 100, 5, MAP, 3, 0, 0);
	jb_create(&j, 100, 7, MAP, 9, s);               /* closed twice: the EBADF stays charged */
	jb_close(&j, 100, 7, MAP, 9, 0, 0);
	jb_close(&j, 100, 7, MAP, 9, -9, 0);
	jb_create(&j, 100, 7, MAP, 9, s);
	jb_close(&j, 100, 7, MAP, 9, 0, 0);
	jb_create(&j, 100, 8, MAP, 4, s);               /* across a fork: never */
	jb_ev(&j, 101, BPFLEAK_OP_FORK, -1, 100, 0, 0, 0, 0, 0, 0, NULL);
	jb_close(&j, 100, 8, MAP, 4, 0, 0);
	jb_create(&j, 100, 8, MAP, 4, s);
	jb_close(&j, 100, 8, MAP, 4, 0, 0);
	int64_t end = j.ts;
	for (int i = 0; i < 5; i++)
		pair(&j, 3, 1, s);                          /* young: not yet */
	long long before = count(&j, "SELECT count(*) FROM event");
	size_t folded = fold_all(&j, end + HOUR - 1, HOUR);
	assert_int_equal(folded, 8);
	assert_int_equal(count(&j, "SELECT count(*) FROM event"), before - 16);
	assert_int_equal(count(&j, "SELECT sum(count) FROM lifetime_fold"), 8);
	assert_int_equal(count(&j, "SELECT min_life_ns FROM lifetime_fold LIMIT 1"), SEC);
	assert_int_equal(count(&j, "SELECT count(*) FROM lifetime_fold WHERE stack_id != 1"), 0);
	/*
	 * Later, the young pairs are old: they fold but the last life of fd 3.
	 * The pair that was fd 3's last life at the first look stays a row:
	 * undecided creates get one more look, not one per pass.
	 */
	folded = fold_all(&j, j.ts + 2 * HOUR, HOUR);
	assert_int_equal(folded, 4);
	assert_int_equal(count(&j, "SELECT count(*) FROM event WHERE fd = 3"), 6);
	assert_int_equal(count(&j, "SELECT count(*) FROM event WHERE fd IN (4, 6, 7, 8)"), 12);
	assert_int_equal(count(&j, "SELECT count(*) FROM event WHERE fd = 5"), 4);
	jb_done(&j);
	jb_cleanup(&j);
}

/*
 * A site whose earlier FDs were made and closed, then folded, did close
 * FDs: the FDs it holds now are not "growth, none closed".
 */
static void test_growth_sees_folded_closes(void **state)
{
	(void)state;
	for (int fold = 0; fold < 2; fold++) {
		struct jb j;
		struct run r;
		jb_init(&j);
		j.step = 10 * SEC;
		jb_process(&j, 100, 1, "/usr/bin/exporter", "start", 1);
		int64_t s = jb_stack1(&j, 0xa000);
		for (int i = 0; i < 200; i++)
			pair(&j, 3, 1, s);
		for (int i = 0; i < 6; i++) {
			jb_create(&j, 100, 3 + i, MAP, 10 + i, s);
			j.ts += HOUR;
		}
		if (fold)
			assert_int_equal(fold_all(&j, j.ts, HOUR), 199);
		jb_report(&j, &r, "--format", "json", "--class", "growth", NULL);
		if (jq_long(r.out, "SELECT json_array_length(?1, '$.findings')") != 0)
			fail_msg("fold %d: %s\n%s", fold, r.out, r.err);
		/* Unfolded, the closes are rows; folded, they are counts: no growth either way. */
		assert_int_equal(jq_long(r.out, "SELECT json_array_length(?1, '$.findings')"), 0);
		assert_int_equal(jq_long(r.out, "SELECT json_extract(?1, '$.journal.folded_pairs')"),
				 fold ? 199 : 0);
		run_free(&r);
		jb_cleanup(&j);
	}
}

/* splitmix64: the histories are random but the same on every run. */
static uint64_t rnd(uint64_t *s)
{
	uint64_t x = (*s += 0x9e3779b97f4a7c15ull);
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

#define NFD 8

/* One random history of pid 100 (and fork children), the same for the same seed. */
static void history(struct jb *j, uint64_t seed)
{
	uint64_t s = seed;
	uint32_t open[NFD + 3] = { 0 };   /* fd -> object id + 1 */
	int64_t stacks[3];
	int child = 200;
	j->step = SEC;
	jb_process(j, 100, 1, "/usr/bin/gateway", "start", 1);
	for (int k = 0; k < 3; k++)
		stacks[k] = jb_stack1(j, 0xa000 + 0x100 * (uint64_t)k);
	for (int n = 0; n < 400; n++) {
		int fd = 3;
		while (fd < NFD + 3 && open[fd])
			fd++;
		int any = 3 + (int)(rnd(&s) % NFD);
		uint32_t id = 1 + (uint32_t)(rnd(&s) % 5);
		switch (rnd(&s) % 26) {
		case 0: case 1: case 2: case 3: case 4: case 5: case 6:
			if (fd < NFD + 3) {
				jb_create(j, 100, fd, MAP, id, stacks[rnd(&s) % 3]);
				open[fd] = id + 1;
			}
			break;
		case 7: case 8: case 9: case 10: case 11: case 12:
			if (open[any]) {
				jb_close(j, 100, any, MAP, open[any] - 1, 0, 0);
				open[any] = 0;
			}
			break;
		case 13:   /* a close the kernel refused: double close */
			if (!open[any])
				jb_close(j, 100, any, MAP, 0, -9, 0);
			break;
		case 14:
			if (open[any] && fd < NFD + 3) {
				jb_dup(j, 100, fd, any, MAP, open[any] - 1, stacks[2]);
				open[fd] = open[any];
			}
			break;
		case 15:
			if (open[any])
				jb_ev(j, 100, BPFLEAK_OP_PIN, any, 0, 6, MAP, open[any] - 1, 0, 0, 0,
				      "/sys/fs/bpf/x");
			break;
		case 16:   /* a close written after the create that reused its number */
			if (open[any]) {
				int64_t t = j->ts;
				j->ts = t + 1;
				jb_create(j, 100, any, MAP, id, stacks[0]);
				j->ts = t;
				jb_close(j, 100, any, MAP, open[any] - 1, 0, 0);
				j->ts = t + SEC;
				open[any] = id + 1;
			}
			break;
		case 17:
			if (rnd(&s) % 4 == 0) {
				jb_ev(j, child, BPFLEAK_OP_FORK, -1, 100, 0, 0, 0, 0, 0, 0, NULL);
				child++;
			}
			break;
		case 18:
			if (rnd(&s) % 8 == 0)
				jb_drop(j, 100, 3, j->ts, j->ts + 2 * SEC, "queue full");
			break;
		case 19:   /* closed by a raw syscall: no event */
			open[any] = 0;
			break;
		case 20:   /* the close names another object */
			if (open[any]) {
				jb_close(j, 100, any, MAP, open[any] + 10, 0, 0);
				open[any] = 0;
			}
			break;
		case 21:   /* opened from a pin */
			if (fd < NFD + 3) {
				jb_ev(j, 100, BPFLEAK_OP_CREATE, fd, 0, BPF_OBJ_GET, MAP, id, stacks[1], fd,
				      BPFLEAK_EF_CLOEXEC, rnd(&s) % 2 ? "/sys/fs/bpf/a" : "/sys/fs/bpf/b");
				open[fd] = id + 1;
			}
			break;
		case 22:   /* a helper spawned: the shim's note, the helper's row (if it is journaled) */
			if (rnd(&s) % 2)
				jb_note(j, 100, "child", 0);
			if (rnd(&s) % 2)
				jb_process(j, child++, 100, "/usr/bin/helper", "start", 1);
			break;
		case 23:   /* an exec written before the call that failed */
			if (rnd(&s) % 6 == 0)
				jb_ev(j, 100, BPFLEAK_OP_EXEC, -1, 0, -1, 0, 0, 0, 0, BPFLEAK_EF_BEFORE_EXEC,
				      "/usr/bin/missing");
			break;
		default:
			j->ts += 30 * SEC;   /* a quiet spell */
			break;
		}
	}
	if (seed % 2) {
		int64_t snap = jb_snapshot(j, 100);
		for (int fd = 3; fd < NFD + 3; fd++)
			if (open[fd])
				jb_snap_fd(j, snap, fd, MAP, open[fd] - 1);
	}
}

static char *verdict(struct jb *j, int *rc)
{
	struct run r;
	jb_report(j, &r, "--format", "json", NULL);
	*rc = r.rc;
	char *sites = jb_sites(r.out);
	char *warn = jq(r.out, "SELECT group_concat(w.value, char(10)) FROM json_each(?1, '$.processes') p,"
			       " json_each(p.value, '$.warnings') w");
	char *out;
	if (asprintf(&out, "%s\n--\n%s", sites, warn ? warn : "") < 0)
		abort();
	free(sites);
	free(warn);
	run_free(&r);
	return out;
}

static void test_folding_changes_no_finding(void **state)
{
	(void)state;
	size_t folded_total = 0;
	uint64_t seeds = getenv("FOLD_SEEDS") ? strtoull(getenv("FOLD_SEEDS"), NULL, 10) : 60;
	for (uint64_t seed = 1; seed <= seeds; seed++) {
		struct jb plain, folded;
		int rc_plain, rc_folded;
		jb_init(&plain);
		jb_init(&folded);
		history(&plain, seed);
		history(&folded, seed);
		size_t n = fold_all(&folded, folded.ts + 60 * SEC, 60 * SEC);
		folded_total += n;
		char *a = verdict(&plain, &rc_plain), *b = verdict(&folded, &rc_folded);
		if ((strcmp(a, b) || rc_plain != rc_folded) && getenv("FOLD_DEBUG"))
			fprintf(stderr, "UNFOLDED\n%s\nFOLDED\n%s\n", a, b);
		if (strcmp(a, b) || rc_plain != rc_folded)
			fail_msg("seed %llu, %zu pairs folded: exit %d vs %d\nunfolded:\n%s\nfolded:\n%s",
				 (unsigned long long)seed, n, rc_plain, rc_folded, a, b);
		free(a);
		free(b);
		jb_cleanup(&plain);
		jb_cleanup(&folded);
	}
	/* The property means something only if folding happened. */
	if (getenv("FOLD_DEBUG"))
		fprintf(stderr, "%zu pairs folded in all\n", folded_total);
	assert_true(folded_total > seeds * 8);
}

/*
 * Histories where a careless fold changes the report, each reported
 * folded and not: the same findings (class, site, process, FDs), the same
 * warnings, the same pins, the same exit code.
 */
static char *everything(struct jb *j, int *rc)
{
	struct run r;
	jb_report(j, &r, "--format", "json", NULL);
	*rc = r.rc;
	char *v = jq(r.out,
		"SELECT coalesce((SELECT group_concat(x, char(10)) FROM (SELECT json_extract(f.value,"
		" '$.class') || ' pid ' || json_extract(f.value, '$.pid') || ' at ' ||"
		" coalesce(json_extract(f.value, '$.stack[0].ip'), '-') || ' fds ' ||"
		" json_extract(f.value, '$.fds') AS x FROM json_each(?1, '$.findings') f ORDER BY x)), '')"
		" || char(10) || '--' || char(10) || coalesce((SELECT group_concat(w.value, char(10))"
		" FROM json_each(?1, '$.processes') p, json_each(p.value, '$.warnings') w), '')"
		" || char(10) || '--' || char(10) || coalesce((SELECT group_concat(p.value ->> '$.pins',"
		" char(10)) FROM json_each(?1, '$.processes') p), '')");
	run_free(&r);
	return v ? v : strdup("(no report)");
}

typedef void (*history_fn)(struct jb *j, bool fold);

static void same_report(const char *what, history_fn fn)
{
	char *v[2];
	int rc[2];
	for (int fold = 0; fold < 2; fold++) {
		struct jb j;
		jb_init(&j);
		j.step = SEC;
		jb_process(&j, 100, 1, "/usr/bin/gateway", "start", 1);
		fn(&j, fold);
		if (getenv("FOLD_DEBUG"))
			fprintf(stderr, "%s fold=%d: %lld folded\n", what, fold,
				count(&j, "SELECT coalesce(sum(count), 0) FROM lifetime_fold"));
		v[fold] = everything(&j, &rc[fold]);
		if (getenv("FOLD_DEBUG"))
			fprintf(stderr, "%s\n", v[fold]);
		jb_cleanup(&j);
	}
	if (strcmp(v[0], v[1]) || rc[0] != rc[1])
		fail_msg("%s: exit %d unfolded, %d folded\nunfolded:\n%s\nfolded:\n%s", what, rc[0],
			 rc[1], v[0], v[1]);
	free(v[0]);
	free(v[1]);
}

/* Earlier lives of fd 3 (so the number is known free), then a map A on it. */
static int64_t churn_then_a(struct jb *j)
{
	int64_t s0 = jb_stack1(j, 0xa000), s9 = jb_stack1(j, 0x9000);
	for (int i = 0; i < 3; i++)
		pair(j, 3, 9, s9);
	jb_ev(j, 100, BPFLEAK_OP_CREATE, 3, 0, 0, MAP, 1, s0, 3, 0, NULL);   /* no CLOEXEC */
	return jb_stack1(j, 0xb000);
}

/*
 * A fork child that touches bpf only at its exit, hours later: its rows
 * come late.  The shim's `child` note, just before fork(), is all the
 * journal has of the moment; another thread made map A between the note
 * and the kernel's copy of the FD table.
 */
static void late_fork_child(struct jb *j, bool fold)
{
	int64_t s0 = jb_stack1(j, 0xa000), s1 = jb_stack1(j, 0xb000), s9 = jb_stack1(j, 0x9000);
	for (int i = 0; i < 3; i++)
		pair(j, 3, 9, s9);
	jb_note(j, 100, "child", 0);
	j->ts -= SEC - SEC / 10;
	jb_ev(j, 100, BPFLEAK_OP_CREATE, 3, 0, 0, MAP, 1, s0, 3, 0, NULL);   /* no CLOEXEC */
	int64_t fork_ts = j->ts;
	j->ts += SEC;
	jb_close(j, 100, 3, MAP, 1, 0, 0);
	for (int i = 0; i < 3; i++)
		pair(j, 3, 2, s1);
	int64_t later = j->ts + 2 * HOUR;
	if (fold)
		fold_all(j, later, HOUR);
	j->ts = fork_ts + 1000;
	jb_process(j, 200, 100, "/usr/bin/gateway", "fork", 1);
	jb_ev(j, 200, BPFLEAK_OP_FORK, -1, 100, 0, 0, 0, 0, 0, 0, NULL);
	j->ts = fork_ts + 1000;
	jb_inherited(j, 200, 3, MAP, 1, "fork");
	int64_t snap = jb_snapshot_ex(j, 200, later, later, true);
	jb_snap_fd(j, snap, 3, MAP, 1);
}

/* A spawned helper, as the kernel recorder writes it: no note, no fork event, a process row naming its parent. */
static void spawned_helper(struct jb *j, bool fold)
{
	int64_t s1 = churn_then_a(j);
	jb_process(j, 200, 100, "/usr/bin/helper", "start", 1);
	j->ts += SEC;
	jb_close(j, 100, 3, MAP, 1, 0, 0);
	for (int i = 0; i < 3; i++)
		pair(j, 3, 2, s1);
	jb_inherited(j, 200, 3, MAP, 1, "start");
	int64_t snap = jb_snapshot(j, 200);
	jb_snap_fd(j, snap, 3, MAP, 1);
	if (fold)
		fold_all(j, j->ts + 2 * HOUR, HOUR);
}

/*
 * Churn on fd 5 (stack returned), map 7 on fd 4 without CLOEXEC, then an
 * exec written before its call.
 */
static int64_t churn_then_exec(struct jb *j)
{
	int64_t s0 = jb_stack1(j, 0xa000), s1 = jb_stack1(j, 0xb000);
	for (int i = 0; i < 3; i++)
		pair(j, 5, 7, s1);
	j->ts += 10 * 60 * SEC;   /* the first pairs long before the new image's start */
	pair(j, 5, 7, s1);
	jb_ev(j, 100, BPFLEAK_OP_CREATE, 4, 0, 0, MAP, 7, s0, 4, 0, NULL);
	jb_ev(j, 100, BPFLEAK_OP_EXEC, -1, 0, -1, 0, 0, 0, 0, BPFLEAK_EF_BEFORE_EXEC, "/usr/bin/new");
	return s1;
}

/* Another thread churns while the exec runs; the new image lists fd 4. */
static void exec_while_churning(struct jb *j, bool fold)
{
	int64_t s1 = churn_then_exec(j);
	pair(j, 5, 8, s1);
	jb_process(j, 100, 1, "/usr/bin/new", "exec", 1);
	jb_inherited(j, 100, 4, MAP, 7, "exec");
	pair(j, 5, 9, s1);
	pair(j, 5, 9, s1);
	int64_t snap = jb_snapshot(j, 100);
	jb_snap_fd(j, snap, 4, MAP, 7);
	if (fold)
		fold_all(j, j->ts + 2 * HOUR, HOUR);
}

/*
 * The same, but the new image touches bpf (and so is journaled: its
 * process row, what it holds) only after a pass has run.
 */
static void exec_image_journaled_late(struct jb *j, bool fold)
{
	int64_t s1 = churn_then_exec(j);
	int64_t exec_ts = j->ts;
	pair(j, 5, 8, s1);
	pair(j, 5, 8, s1);
	int64_t later = j->ts + 2 * HOUR;
	if (fold)
		fold_all(j, later, HOUR);
	j->ts = exec_ts + SEC / 2;
	jb_process(j, 100, 1, "/usr/bin/new", "exec", 1);
	j->ts = later;
	jb_inherited(j, 100, 4, MAP, 7, "exec");
	int64_t snap = jb_snapshot(j, 100);
	jb_snap_fd(j, snap, 4, MAP, 7);
}

/* Two execs that failed, a pair between them: the replay counts two failures. */
static void two_failed_execs(struct jb *j, bool fold)
{
	int64_t s1 = jb_stack1(j, 0xb000);
	for (int i = 0; i < 3; i++)
		pair(j, 5, 7, s1);
	jb_ev(j, 100, BPFLEAK_OP_EXEC, -1, 0, -1, 0, 0, 0, 0, BPFLEAK_EF_BEFORE_EXEC, "/usr/bin/gone");
	pair(j, 5, 7, s1);
	jb_ev(j, 100, BPFLEAK_OP_EXEC, -1, 0, -1, 0, 0, 0, 0, BPFLEAK_EF_BEFORE_EXEC, "/usr/bin/gone");
	pair(j, 5, 7, s1);
	pair(j, 5, 7, s1);
	jb_snapshot(j, 100);
	if (fold)
		fold_all(j, j->ts + 2 * HOUR, HOUR);
}

/*
 * A map closed unseen (raw syscall); its number reused by a pair (the
 * replay finds the unseen close there); maybe a drop before the next reuse.
 */
static void unseen_close_with(struct jb *j, bool fold, bool drop)
{
	int64_t s0 = jb_stack1(j, 0xa000), s1 = jb_stack1(j, 0xb000);
	for (int i = 0; i < 3; i++)
		pair(j, 3, 9, s1);
	jb_create(j, 100, 3, MAP, 1, s0);
	pair(j, 3, 2, s1);
	if (drop)
		jb_drop(j, 100, 3, j->ts, j->ts + 1, "queue full");
	j->ts += 2 * SEC;
	pair(j, 3, 3, s1);
	pair(j, 3, 3, s1);
	jb_snapshot(j, 100);
	if (fold)
		fold_all(j, j->ts + 2 * HOUR, HOUR);
}

static void unseen_close_then_drop(struct jb *j, bool fold)
{
	unseen_close_with(j, fold, true);
}

static void unseen_close(struct jb *j, bool fold)
{
	unseen_close_with(j, fold, false);
}

/* The close saw another object than the create made. */
static void close_of_another_object(struct jb *j, bool fold)
{
	int64_t s1 = jb_stack1(j, 0xb000);
	for (int i = 0; i < 3; i++)
		pair(j, 3, 9, s1);
	jb_create(j, 100, 3, MAP, 2, s1);
	jb_close(j, 100, 3, MAP, 5, 0, 0);
	pair(j, 3, 3, s1);
	pair(j, 3, 3, s1);
	jb_snapshot(j, 100);
	if (fold)
		fold_all(j, j->ts + 2 * HOUR, HOUR);
}

/* A double close stamped before the create that reused the number, written after it. */
static void ebadf_written_late(struct jb *j, bool fold)
{
	int64_t s0 = jb_stack1(j, 0xa000), s2 = jb_stack1(j, 0xc000), s9 = jb_stack1(j, 0x9000);
	for (int i = 0; i < 3; i++)
		pair(j, 3, 9, s9);
	pair(j, 3, 2, s0);
	j->ts += 10 * SEC;
	int64_t t = j->ts;
	j->ts = t + 1000;
	jb_create(j, 100, 3, MAP, 3, s2);
	j->ts = t;
	jb_close(j, 100, 3, MAP, 0, -9, 0);
	j->ts = t + SEC;
	jb_close(j, 100, 3, MAP, 3, 0, 0);
	for (int i = 0; i < 5; i++)
		jb_create(j, 100, 10 + i, MAP, 20 + i, s2);
	if (fold) {
		/* A pass of 9 rows ends right at the create written before the EBADF close. */
		struct jw_fold_result r;
		assert_int_equal(jw_fold(&j->jw, (uint64_t)(j->ts + 2 * HOUR), HOUR, 9, &r), 0);
		assert_true(r.more);
		fold_all(j, j->ts + 2 * HOUR, HOUR);
	}
}

/* Maps opened from a pin: the process's pin list names the path. */
static void opened_from_pin(struct jb *j, bool fold)
{
	int64_t s1 = jb_stack1(j, 0xb000);
	static const char *const paths[] = { "/sys/fs/bpf/gw/a", "/sys/fs/bpf/gw/b", "/sys/fs/bpf/gw/c" };
	pair(j, 3, 2, s1);
	for (int i = 0; i < 3; i++) {
		jb_ev(j, 100, BPFLEAK_OP_CREATE, 3, 0, BPF_OBJ_GET, MAP, 1 + (uint32_t)i, s1, 3,
		      BPFLEAK_EF_CLOEXEC, paths[i]);
		jb_close(j, 100, 3, MAP, 1 + (uint32_t)i, 0, 0);
	}
	pair(j, 3, 2, s1);
	int64_t snap = jb_snapshot(j, 100);
	for (int i = 0; i < 3; i++)
		jb_snap_pin(j, snap, paths[i], MAP, 1 + (uint32_t)i);
	if (fold)
		fold_all(j, j->ts + 2 * HOUR, HOUR);
}

static void test_histories_that_tempt_folding(void **state)
{
	(void)state;
	same_report("a fork child journaled late", late_fork_child);
	same_report("a spawned helper", spawned_helper);
	same_report("an exec while another thread churns", exec_while_churning);
	same_report("an exec whose image is journaled late", exec_image_journaled_late);
	same_report("two failed execs", two_failed_execs);
	same_report("an unseen close, then a drop", unseen_close_then_drop);
	same_report("an unseen close", unseen_close);
	same_report("a close of another object", close_of_another_object);
	same_report("a double close written late", ebadf_written_late);
	same_report("maps opened from a pin", opened_from_pin);
}

/*
 * Passes keep up with a busy process: at 3,000 and 10,000 events/s a pass
 * of 8,192 rows spans less than the twice the 2 s slack it needs.
 */
static void keeps_up(int64_t events_per_s)
{
	struct jb j;
	jb_init(&j);
	j.step = 2 * SEC / events_per_s;
	jb_process(&j, 100, 1, "/usr/bin/exporter", "start", 1);
	int64_t s = jb_stack1(&j, 0xa000);
	for (int i = 0; i < 50000; i++)
		pair(&j, 3, 1, s);
	struct jw_fold_result r = { .more = true };
	size_t passes = 0, read = 0, folded = 0;
	while (r.more) {
		assert_int_equal(jw_fold(&j.jw, (uint64_t)(j.ts + 2 * HOUR), HOUR, JW_FOLD_PASS_ROWS, &r),
				 0);
		passes++;
		read += r.scanned;
		folded += r.folded;
	}
	if (passes > 40 || read > 4 * 100000 || folded < 49000)
		fail_msg("%lld events/s: %zu passes read %zu rows to fold %zu of 50000 pairs",
			 (long long)events_per_s, passes, read, folded);
	jb_done(&j);
	jb_cleanup(&j);
}

static void test_passes_keep_up(void **state)
{
	(void)state;
	keeps_up(3000);
	keeps_up(10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_what_folds),
		cmocka_unit_test(test_growth_sees_folded_closes),
		cmocka_unit_test(test_folding_changes_no_finding),
		cmocka_unit_test(test_histories_that_tempt_folding),
		cmocka_unit_test(test_passes_keep_up),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
