// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* The bounded event queue: order, drops when full, many producers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>
#include <bpfleak/journal.h>
#include "shim.h"

#define CAP 1024

static void drain_all(void)
{
	struct shim_event ev;
	while (queue_pop(&ev))
		;
	queue_take_drops(NULL);
}

static int setup(void **state)
{
	(void)state;
	assert_true(queue_init(CAP));
	drain_all();
	return 0;
}

static struct shim_event make(int fd)
{
	struct shim_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.op = BPFLEAK_OP_CREATE;
	ev.fd = fd;
	ev.ts_ns = (uint64_t)fd;
	return ev;
}

static void test_fifo_order(void **state)
{
	(void)state;
	for (int i = 0; i < 100; i++) {
		struct shim_event ev = make(i);
		assert_true(queue_push(&ev));
	}
	assert_int_equal(queue_depth(), 100);
	struct shim_event out;
	for (int i = 0; i < 100; i++) {
		assert_true(queue_pop(&out));
		assert_int_equal(out.fd, i);
	}
	assert_false(queue_pop(&out));
	assert_int_equal(queue_depth(), 0);
}

static void test_full_queue_counts_drops(void **state)
{
	(void)state;
	assert_int_equal(queue_capacity(), CAP);
	for (int i = 0; i < CAP + 37; i++) {
		struct shim_event ev = make(i);
		bool ok = queue_push(&ev);
		assert_int_equal(ok, i < CAP);
	}
	assert_int_equal(queue_take_drops(NULL), 37);
	assert_int_equal(queue_take_drops(NULL), 0);   /* taking resets the count */
	/* The ring wraps: after draining, it accepts a full load again. */
	drain_all();
	for (int i = 0; i < CAP; i++) {
		struct shim_event ev = make(i);
		assert_true(queue_push(&ev));
	}
	assert_int_equal(queue_take_drops(NULL), 0);
	drain_all();
}

#define PRODUCERS 4
#define PER_PRODUCER 50000
static _Atomic int producers_done;

static void *produce(void *arg)
{
	int base = (int)(intptr_t)arg * PER_PRODUCER;
	for (int i = 0; i < PER_PRODUCER; i++) {
		struct shim_event ev = make(base + i);
		while (!queue_push(&ev))
			;   /* the test wants every event; the shim itself would drop */
	}
	atomic_fetch_add(&producers_done, 1);
	return NULL;
}

static void test_many_producers_one_consumer(void **state)
{
	(void)state;
	static unsigned char seen[PRODUCERS * PER_PRODUCER];
	memset(seen, 0, sizeof(seen));
	int last[PRODUCERS];
	for (int i = 0; i < PRODUCERS; i++)
		last[i] = -1;
	pthread_t t[PRODUCERS];
	atomic_store(&producers_done, 0);
	for (int i = 0; i < PRODUCERS; i++)
		pthread_create(&t[i], NULL, produce, (void *)(intptr_t)i);
	int got = 0;
	struct shim_event ev;
	while (got < PRODUCERS * PER_PRODUCER) {
		if (!queue_pop(&ev))
			continue;
		assert_in_range(ev.fd, 0, PRODUCERS * PER_PRODUCER - 1);
		assert_int_equal(seen[ev.fd], 0);   /* exactly once */
		seen[ev.fd] = 1;
		/* Per producer, events come out in the order they went in. */
		int p = ev.fd / PER_PRODUCER;
		assert_true(ev.fd > last[p]);
		last[p] = ev.fd;
		got++;
	}
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(t[i], NULL);
	assert_false(queue_pop(&ev));
	queue_take_drops(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_fifo_order, setup),
		cmocka_unit_test_setup(test_full_queue_counts_drops, setup),
		cmocka_unit_test_setup(test_many_producers_one_consumer, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
