// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* The FD table: generations, closed markers, ranges, and CAS under threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <bpfleak/journal.h>
#include "shim.h"

static int reset(void **state)
{
	(void)state;
	fdtable_reset();
	return 0;
}

static void test_install_and_peek(void **state)
{
	(void)state;
	assert_null(fdtable_peek(700000));   /* page never touched */
	assert_int_equal(fdtable_install(7, BPFLEAK_KIND_MAP, 42, true), 0);   /* was empty */
	_Atomic uint64_t *s = fdtable_peek(7);
	assert_non_null(s);
	uint64_t v = atomic_load(s);
	assert_true(SLOT_TRACKED(v));
	assert_int_equal(SLOT_KIND(v), BPFLEAK_KIND_MAP);
	assert_int_equal(SLOT_ID(v), 42);
	assert_true(v & SLOT_CLOEXEC);
	assert_int_equal(fdtable_tracked_count(), 1);
	/* A neighbour on the same page exists but is empty. */
	assert_int_equal(atomic_load(fdtable_peek(8)), 0);
	assert_null(fdtable_peek(-1));
}

static void test_generations_differ(void **state)
{
	(void)state;
	fdtable_install(3, BPFLEAK_KIND_PROG, 9, false);
	uint64_t first = atomic_load(fdtable_peek(3));
	fdtable_install(3, BPFLEAK_KIND_PROG, 9, false);
	uint64_t second = atomic_load(fdtable_peek(3));
	assert_int_not_equal(first, second);   /* same fd, kind, id: new generation */
	/* A close that read the first generation must not clear the second. */
	uint64_t expected = first;
	assert_false(atomic_compare_exchange_strong(fdtable_peek(3), &expected, 0));
	assert_int_equal(fdtable_tracked_count(), 1);
}

static void test_closed_marker(void **state)
{
	(void)state;
	fdtable_install(5, BPFLEAK_KIND_LINK, 77, true);
	uint64_t g = atomic_load(fdtable_peek(5));
	uint64_t m = fdtable_closed_marker(g);
	assert_false(SLOT_TRACKED(m));
	assert_int_not_equal(m, 0);
	assert_int_equal(SLOT_ID(m), 77);
	assert_int_equal(SLOT_KIND(m), BPFLEAK_KIND_LINK);
}

struct seen {
	int fds[16];
	int n;
};

static int collect(int fd, uint64_t slot, void *ctx)
{
	(void)slot;
	struct seen *s = ctx;
	s->fds[s->n++] = fd;
	return 0;
}

static void test_each_covers_range_and_pages(void **state)
{
	(void)state;
	fdtable_install(2, BPFLEAK_KIND_MAP, 1, true);
	fdtable_install(4095, BPFLEAK_KIND_MAP, 2, true);
	fdtable_install(4096, BPFLEAK_KIND_MAP, 3, true);
	fdtable_install(600000, BPFLEAK_KIND_MAP, 4, true);
	fdtable_install(10, BPFLEAK_KIND_MAP, 5, true);
	atomic_store(fdtable_peek(10), fdtable_closed_marker(atomic_load(fdtable_peek(10))));

	struct seen s = { .n = 0 };
	fdtable_each(3, 500000, collect, &s);
	assert_int_equal(s.n, 2);   /* the closed marker at 10 is not tracked */
	assert_int_equal(s.fds[0], 4095);
	assert_int_equal(s.fds[1], 4096);

	s.n = 0;
	fdtable_each(0, ~0u, collect, &s);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.fds[3], 600000);
}

/*
 * Threads share a small set of FD numbers: each install takes a slot, and
 * a close CASes from exactly what it installed.  With the CAS rule no close
 * can remove a slot another thread installed after it, so every thread's
 * own final state survives.
 */
#define THREADS 8
#define ROUNDS 100000

static void *churn(void *arg)
{
	int base = (int)(intptr_t)arg * 64;
	for (int i = 0; i < ROUNDS; i++) {
		int fd = base + (i % 64);
		fdtable_install(fd, BPFLEAK_KIND_MAP, (uint32_t)i, true);
		_Atomic uint64_t *s = fdtable_peek(fd);
		uint64_t g = atomic_load(s);
		if (i % 3 != 0) {
			uint64_t expected = g;
			if (atomic_compare_exchange_strong(s, &expected, fdtable_closed_marker(g)))
				fdtable_note_untracked();
		}
	}
	return NULL;
}

static void test_concurrent_install_close(void **state)
{
	(void)state;
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, churn, (void *)(intptr_t)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	/* Each thread ends with slot (ROUNDS-1-k) states: count tracked slots. */
	size_t expect = 0;
	for (int fd = 0; fd < 64; fd++) {
		int last = -1;
		for (int i = ROUNDS - 1; i >= 0; i--)
			if (i % 64 == fd) {
				last = i;
				break;
			}
		if (last % 3 == 0)
			expect++;
	}
	expect *= THREADS;
	size_t n = 0;
	for (int fd = 0; fd < THREADS * 64; fd++)
		n += SLOT_TRACKED(atomic_load(fdtable_peek(fd)));
	assert_int_equal(n, expect);
	assert_int_equal(fdtable_tracked_count(), expect);
}

/* Two threads race for one slot: exactly one close CAS may win per install. */
static _Atomic int wins;
static _Atomic uint64_t shared_gen;

static void *race_close(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200000; i++) {
		uint64_t g = atomic_load(&shared_gen);
		uint64_t expected = g;
		if (g && atomic_compare_exchange_strong(fdtable_peek(9), &expected, 0)) {
			atomic_fetch_add(&wins, 1);
			atomic_store(&shared_gen, 0);
		}
	}
	return NULL;
}

static void test_close_cas_single_winner(void **state)
{
	(void)state;
	fdtable_install(9, BPFLEAK_KIND_MAP, 1, true);
	atomic_store(&shared_gen, atomic_load(fdtable_peek(9)));
	pthread_t a, b;
	pthread_create(&a, NULL, race_close, NULL);
	pthread_create(&b, NULL, race_close, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	assert_int_equal(atomic_load(&wins), 1);
	assert_int_equal(atomic_load(fdtable_peek(9)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_install_and_peek, reset),
		cmocka_unit_test_setup(test_generations_differ, reset),
		cmocka_unit_test_setup(test_closed_marker, reset),
		cmocka_unit_test_setup(test_each_covers_range_and_pages, reset),
		cmocka_unit_test_setup(test_concurrent_install_close, reset),
		cmocka_unit_test_setup(test_close_cas_single_winner, reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
