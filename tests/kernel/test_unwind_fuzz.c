// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The unwinder on garbage: random registers, PCs in real code with random
 * or corrupted stacks, stack pointers at the ends of the address space, a
 * pid without modules.  It must return 1..max frames and never crash or
 * hang.  BPFLEAK_FUZZ_SEED and BPFLEAK_FUZZ_ROUNDS make longer runs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unwind_testlib.h"

/* --------------------------------------------------------------- fuzz */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible from the seed printed below */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

/* Garbage in every shape: random registers, a PC in real code with a
 * random or corrupted stack, stack pointers near the ends of the address
 * space.  It must return 1..max frames, never crash or hang. */
static void fuzz_pid(struct unwinder *u, pid_t pid, const struct procmap_module *mods, size_t n,
		     int rounds)
{
	static unsigned char stack[CAPTURE_STACK_BYTES];
	uint64_t ips[MAX_IPS];

	for (int r = 0; r < rounds; r++) {
		struct unwind_regs regs;
		size_t len = (size_t)(rnd() % (sizeof(stack) + 1));
		int max = 1 + (int)(rnd() % MAX_IPS);
		enum unwind_stop why;

		for (int i = 0; i < 17; i++)
			regs.regs[i] = rnd();
		regs.bp = rnd();
		switch (rnd() % 4) {
		case 0:
			regs.ip = rnd();
			regs.sp = rnd();
			break;
		case 1:   /* a PC in a module's code */
		case 2: {
			const struct procmap_module *m = &mods[rnd() % n];

			regs.ip = m->text_start + rnd() % (m->text_end - m->text_start);
			regs.sp = c_sample.regs.sp + (rnd() % 64) * 8;
			break;
		}
		default:  /* the real capture, corrupted */
			regs = c_sample.regs;
			if (rnd() % 2)
				regs.regs[rnd() % 17] ^= rnd();
			break;
		}
		if (rnd() % 8 == 0)
			regs.sp = rnd() % 2 ? UINT64_MAX - rnd() % 64 : rnd() % 64;
		if (rnd() % 2 && c_sample_ok) {
			memcpy(stack, c_sample.stack, c_sample.stack_len);
			for (int k = (int)(rnd() % 16); k >= 0; k--)
				stack[rnd() % sizeof(stack)] = (unsigned char)rnd();
		} else {
			for (size_t i = 0; i < len; i += 8) {
				uint64_t w = rnd();

				memcpy(stack + i, &w, len - i < 8 ? len - i : 8);
			}
		}
		int got = unwinder_unwind(u, pid, &regs, stack, len, ips, max, &why);
		assert_true(got >= 1 && got <= max);
		assert_int_equal(ips[0], regs.ip);
		assert_true(why <= UNWIND_STOP_FAILED);
	}
}

static void test_fuzz_random_stacks(void **state)
{
	(void)state;
	const char *env = getenv("BPFLEAK_FUZZ_SEED");
	const char *env_rounds = getenv("BPFLEAK_FUZZ_ROUNDS");
	int rounds = env_rounds ? atoi(env_rounds) : 20000;
	struct procmap_module *mods;
	size_t n;
	struct unwinder *u = unwinder_new();
	unwinder_verify(u, true);

	rng_state = env ? strtoull(env, NULL, 0) : 0x5eed5eedull;
	if (!rng_state)
		rng_state = 1;
	printf("fuzz: seed 0x%llx, %d rounds per process (BPFLEAK_FUZZ_SEED, BPFLEAK_FUZZ_ROUNDS)\n",
	       (unsigned long long)rng_state, rounds);
	assert_int_equal(procmaps_read(getpid(), &mods, &n), 0);
	assert_true(n > 0);
	fuzz_pid(u, getpid(), mods, n, rounds);
	procmaps_free(mods, n);
	if (c_sample_ok) {
		assert_int_equal(procmaps_read(c_sample.pid, &mods, &n), 0);
		fuzz_pid(u, c_sample.pid, mods, n, rounds);
		procmaps_free(mods, n);
	}
	/* A pid with no modules at all. */
	fuzz_pid(u, 0x3ffffff0, (struct procmap_module[]){ { .text_start = 0x1000, .text_end = 0x2000 } },
		 1, 200);
	struct unwind_stats st;
	unwinder_stats(u, &st);
	printf("fuzz: %llu unwinds, %llu frames; stopped: end %llu, max %llu, stack %llu, "
	       "no module %llu, failed %llu; %llu reloads; %llu by the fast path, %llu of them "
	       "unlike libdwfl's walk\n",
	       (unsigned long long)st.unwinds, (unsigned long long)st.frames,
	       (unsigned long long)st.stopped[0], (unsigned long long)st.stopped[1],
	       (unsigned long long)st.stopped[2], (unsigned long long)st.stopped[3],
	       (unsigned long long)st.stopped[4], (unsigned long long)st.reloads,
	       (unsigned long long)st.fast, (unsigned long long)st.mismatches);
	unwinder_free(u);
	/* The fast path may take a garbage stack, but only ever as libdwfl would. */
	assert_true(st.fast > 0);
	assert_int_equal(st.mismatches, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz_random_stacks),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("BPFLEAK_TEST_FILTER"))
		cmocka_set_test_filter(getenv("BPFLEAK_TEST_FILTER"));
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
