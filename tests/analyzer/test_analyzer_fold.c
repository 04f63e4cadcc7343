// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Folding (common/journal_fold.c) and the report over a folded journal:
 * which pairs fold and which never do, and that folding changes no
 * finding: random histories (creates, closes, dups, pins, double closes,
 * forks, notes, drops, rows written out of order) reported before and
 * after folding give the same findings, warnings and exit code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
		pair(&j, 3, 1, s);                          /* 9 fold; the last life of fd 3 stays */
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
	assert_int_equal(folded, 9);
	assert_int_equal(count(&j, "SELECT count(*) FROM event"), before - 18);
	assert_int_equal(count(&j, "SELECT sum(count) FROM lifetime_fold"), 9);
	assert_int_equal(count(&j, "SELECT min_life_ns FROM lifetime_fold LIMIT 1"), SEC);
	assert_int_equal(count(&j, "SELECT count(*) FROM lifetime_fold WHERE stack_id != 1"), 0);
	/*
	 * Later, the young pairs are old: they fold but the last life of fd 3.
	 * The pair that was fd 3's last life at the first look stays a row:
	 * undecided creates get one more look, not one per pass.
	 */
	folded = fold_all(&j, j.ts + 2 * HOUR, HOUR);
	assert_int_equal(folded, 4);
	assert_int_equal(count(&j, "SELECT count(*) FROM event WHERE fd = 3"), 4);
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
			assert_int_equal(fold_all(&j, j.ts, HOUR), 200);
		jb_report(&j, &r, "--format", "json", "--class", "growth", NULL);
		if (jq_long(r.out, "SELECT json_array_length(?1, '$.findings')") != 0)
			fail_msg("fold %d: %s\n%s", fold, r.out, r.err);
		/* Unfolded, the closes are rows; folded, they are counts: no growth either way. */
		assert_int_equal(jq_long(r.out, "SELECT json_array_length(?1, '$.findings')"), 0);
		assert_int_equal(jq_long(r.out, "SELECT json_extract(?1, '$.journal.folded_pairs')"),
				 fold ? 200 : 0);
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
		switch (rnd(&s) % 20) {
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
	for (uint64_t seed = 1; seed <= 60; seed++) {
		struct jb plain, folded;
		int rc_plain, rc_folded;
		jb_init(&plain);
		jb_init(&folded);
		history(&plain, seed);
		history(&folded, seed);
		size_t n = fold_all(&folded, folded.ts + 60 * SEC, 60 * SEC);
		folded_total += n;
		char *a = verdict(&plain, &rc_plain), *b = verdict(&folded, &rc_folded);
		if (strcmp(a, b) || rc_plain != rc_folded)
			fail_msg("seed %llu, %zu pairs folded: exit %d vs %d\nunfolded:\n%s\nfolded:\n%s",
				 (unsigned long long)seed, n, rc_plain, rc_folded, a, b);
		free(a);
		free(b);
		jb_cleanup(&plain);
		jb_cleanup(&folded);
	}
	/* The property means something only if folding happened. */
	assert_true(folded_total > 60 * 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_what_folds),
		cmocka_unit_test(test_growth_sees_folded_closes),
		cmocka_unit_test(test_folding_changes_no_finding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
