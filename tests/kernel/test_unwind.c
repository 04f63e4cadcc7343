// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The recorder's offline unwinder (recorder/unwind.c) on a real C process.
 *
 * A child (tests/kernel/unwind_host, built without frame pointers) is
 * stopped with ptrace at the entry of its bpf() call, deep inside libbpf and
 * libc, and its registers and 8 KiB of stack are captured as the BPF side
 * captures them.  The unwound IPs are named by an independent symbolizer
 * and must be the whole chain, syscall() in libc to _start; the same from
 * ip/sp/bp alone, after the process exited, and from modules handed over;
 * a prefix, and a reason, from a copy cut short.  And the cost of an
 * unwind, printed (make bench-unwind runs that test alone, longer).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "unwind_testlib.h"

static void test_c_through_libbpf_and_libc(void **state)
{
	(void)state;
	REQUIRE_SAMPLE();
	uint64_t ips[MAX_IPS];
	struct named_frame f[MAX_IPS];
	enum unwind_stop why;
	struct unwinder *u = unwinder_new();

	assert_non_null(u);
	int n = unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack, c_sample.stack_len,
				ips, MAX_IPS, &why);
	symbolize(c_sample.pid, ips, n, f);
	print_stack("C host (no frame pointers) at bpf()", ips, n, f, why);
	assert_int_equal(ips[0], c_sample.regs.ip);
	assert_c_chain(f, n, HOST_C);
	assert_int_equal(why, UNWIND_STOP_END);

	/* The fixed entry points give the same. */
	uint64_t ips2[MAX_IPS];
	int n2 = unwind_user_stack(c_sample.pid, &c_sample.regs, c_sample.stack, c_sample.stack_len,
				   ips2, MAX_IPS);
	assert_int_equal(n2, n);
	assert_memory_equal(ips2, ips, (size_t)n * sizeof(ips[0]));
	why = UNWIND_STOP_FAILED;
	n2 = unwind_user_stack_why(c_sample.pid, &c_sample.regs, c_sample.stack, 256, ips2,
				   MAX_IPS, &why);
	assert_true(n2 < n);
	assert_int_equal(why, UNWIND_STOP_STACK);

	/* What bpf_get_stack would give: follow rbp.  Not the chain. */
	int fp_frames = 1;
	for (uint64_t bp = c_sample.regs.bp; fp_frames < MAX_IPS; fp_frames++) {
		uint64_t w[2];

		if (bp < c_sample.regs.sp || bp - c_sample.regs.sp + 16 > c_sample.stack_len)
			break;
		memcpy(w, c_sample.stack + (bp - c_sample.regs.sp), sizeof(w));
		if (w[1] != ips[fp_frames])
			break;
		bp = w[0];
	}
	printf("a frame-pointer walk of the same capture agrees on %d frame(s) of %d\n", fp_frames, n);
	unwinder_free(u);
}

/* regs[] all zero, only ip/sp/bp: what a minimal capture gives. */
static void test_ip_sp_bp_only(void **state)
{
	(void)state;
	REQUIRE_SAMPLE();
	struct unwind_regs r = { .ip = c_sample.regs.ip, .sp = c_sample.regs.sp, .bp = c_sample.regs.bp };
	uint64_t full[MAX_IPS], part[MAX_IPS];
	struct unwinder *u = unwinder_new();
	int nf = unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack, c_sample.stack_len,
				 full, MAX_IPS, NULL);
	int np = unwinder_unwind(u, c_sample.pid, &r, c_sample.stack, c_sample.stack_len, part,
				 MAX_IPS, NULL);

	assert_int_equal(np, nf);
	assert_memory_equal(part, full, (size_t)nf * sizeof(full[0]));
	unwinder_free(u);
}

/* A copy shorter than the stack: a prefix of the chain, and we are told. */
static void test_stack_cut_short(void **state)
{
	(void)state;
	REQUIRE_SAMPLE();
	uint64_t full[MAX_IPS], part[MAX_IPS];
	enum unwind_stop why;
	struct unwinder *u = unwinder_new();
	int nf = unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack, c_sample.stack_len,
				 full, MAX_IPS, NULL);
	int np = unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack, 256, part,
				 MAX_IPS, &why);

	printf("with 256 of %zu stack bytes: %d of %d frames\n", c_sample.stack_len, np, nf);
	assert_true(np >= 2 && np < nf);
	assert_memory_equal(part, full, (size_t)np * sizeof(full[0]));
	assert_int_equal(why, UNWIND_STOP_STACK);

	/* max_ips caps it, and says so. */
	np = unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack, c_sample.stack_len,
			     part, 3, &why);
	assert_int_equal(np, 3);
	assert_int_equal(why, UNWIND_STOP_MAX);
	assert_memory_equal(part, full, 3 * sizeof(full[0]));
	assert_int_equal(unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack,
					 c_sample.stack_len, part, 0, NULL), 0);
	/* No stack at all: the PC, and perhaps what registers alone give. */
	np = unwinder_unwind(u, c_sample.pid, &c_sample.regs, NULL, 0, part, MAX_IPS, &why);
	assert_true(np >= 1 && np < nf);
	assert_int_equal(part[0], c_sample.regs.ip);
	unwinder_free(u);
}

/* Modules loaded while the process lived still unwind after it exited;
 * a process never seen alive gives its PC only. */
static void test_after_exit(void **state)
{
	(void)state;
	REQUIRE_SAMPLE();
	struct capture_sample *s = malloc(sizeof(*s));
	uint64_t live[MAX_IPS], dead[MAX_IPS];
	struct named_frame f[MAX_IPS];
	enum unwind_stop why;
	struct unwinder *u = unwinder_new();

	assert_non_null(s);
	assert_int_equal(capture_host(HOST_C, NULL, s), 0);
	assert_true(unwinder_load_pid(u, s->pid) >= 3);   /* host, libbpf, libc, ... */
	int nl = unwinder_unwind(u, s->pid, &s->regs, s->stack, s->stack_len, live, MAX_IPS, NULL);
	symbolize(s->pid, live, nl, f);
	assert_c_chain(f, nl, HOST_C);
	capture_kill(s->pid);
	assert_int_equal(kill(s->pid, 0), -1);

	int nd = unwinder_unwind(u, s->pid, &s->regs, s->stack, s->stack_len, dead, MAX_IPS, &why);
	assert_int_equal(nd, nl);
	assert_memory_equal(dead, live, (size_t)nl * sizeof(live[0]));
	assert_int_equal(why, UNWIND_STOP_END);

	unwinder_forget(u, s->pid);
	nd = unwinder_unwind(u, s->pid, &s->regs, s->stack, s->stack_len, dead, MAX_IPS, &why);
	assert_int_equal(nd, 1);
	assert_int_equal(dead[0], s->regs.ip);
	assert_int_equal(why, UNWIND_STOP_NO_MODULE);
	assert_int_equal(unwinder_load_pid(u, s->pid), -ENOENT);

	struct unwind_stats st;
	unwinder_stats(u, &st);
	assert_int_equal(st.unwinds, 3);
	assert_int_equal(st.stopped[UNWIND_STOP_END], 2);
	unwinder_free(u);
	free(s);
}

/* Modules handed over by the caller (procmaps_read_open), as the recorder
 * does when it writes module rows anyway. */
static void test_add_modules(void **state)
{
	(void)state;
	REQUIRE_SAMPLE();
	struct procmap_module *mods;
	size_t n;
	uint64_t a[MAX_IPS], b[MAX_IPS];
	struct unwinder *u = unwinder_new(), *v = unwinder_new();

	assert_int_equal(procmaps_read_open(c_sample.pid, &mods, &n), 0);
	assert_true(n >= 3);
	assert_int_equal(unwinder_add_modules(u, c_sample.pid, mods, n), (int)n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(mods[i].fd, -1);   /* taken over */
	/* Again: nothing new, nothing reported twice. */
	assert_int_equal(unwinder_add_modules(u, c_sample.pid, mods, n), (int)n);
	procmaps_free(mods, n);
	/* Without FDs: opened through /proc. */
	assert_int_equal(procmaps_read(c_sample.pid, &mods, &n), 0);
	assert_int_equal(unwinder_add_modules(v, c_sample.pid, mods, n), (int)n);
	procmaps_free(mods, n);

	int na = unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack,
				 c_sample.stack_len, a, MAX_IPS, NULL);
	int nb = unwinder_unwind(v, c_sample.pid, &c_sample.regs, c_sample.stack,
				 c_sample.stack_len, b, MAX_IPS, NULL);
	assert_true(na >= 8);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, (size_t)na * sizeof(a[0]));
	unwinder_free(u);
	unwinder_free(v);
}


/* More pids than the table holds: the oldest give way, memory stays bounded. */
static void test_pid_table_bounded(void **state)
{
	(void)state;
	REQUIRE_SAMPLE();
	struct unwinder *u = unwinder_new();
	uint64_t ips[4];
	struct unwind_stats st;

	for (int i = 0; i < UNWIND_MAX_PIDS + 10; i++)
		unwinder_unwind(u, 0x3fff0000 + i, &c_sample.regs, NULL, 0, ips, 4, NULL);
	unwinder_stats(u, &st);
	assert_int_equal(st.evictions, 10);
	/* A live pid still works after all that. */
	assert_true(unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack,
				    c_sample.stack_len, ips, 4, NULL) == 4);
	unwinder_free(u);
}

/* --------------------------------------------------------------- cost */

static double elapsed_us(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e6 + (double)(b->tv_nsec - a->tv_nsec) / 1e3;
}

/*
 * The fast path (cached CFI rules, unwind_fast.c) walks the sample's stack,
 * whole and cut at every length, exactly as libdwfl's own walk does: same
 * frames, same reason to stop.
 */
static void test_fast_path_agrees(void **state)
{
	(void)state;
	REQUIRE_SAMPLE();
	uint64_t ips[MAX_IPS];
	struct unwind_stats st;
	struct unwinder *u = unwinder_new();

	unwinder_verify(u, true);
	for (size_t len = 0; len <= c_sample.stack_len; len += 8)
		unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack, len, ips, MAX_IPS,
				NULL);
	for (int max = 1; max <= 12; max++)
		unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack, c_sample.stack_len,
				ips, max, NULL);
	unwinder_stats(u, &st);
	printf("fast path: %llu of %llu unwinds, %llu unlike libdwfl's\n",
	       (unsigned long long)st.fast, (unsigned long long)st.unwinds,
	       (unsigned long long)st.mismatches);
	assert_int_equal(st.mismatches, 0);
	/* The whole stack, at least, takes it. */
	assert_true(st.fast >= 12);
	unwinder_free(u);
}

static void test_cost_per_unwind(void **state)
{
	(void)state;
	REQUIRE_SAMPLE();
	const char *env = getenv("BPFLEAK_UNWIND_BENCH_ITERS");
	int iters = env ? atoi(env) : 20000;
	uint64_t ips[MAX_IPS];
	struct timespec t0, t1, t2;
	struct unwinder *u = unwinder_new();
	int n = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_true(unwinder_load_pid(u, c_sample.pid) > 0);
	n = unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack, c_sample.stack_len,
			    ips, MAX_IPS, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (int i = 0; i < iters; i++)
		unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack, c_sample.stack_len,
				ips, MAX_IPS, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	double per = elapsed_us(&t1, &t2) / iters;
	printf("unwind cost: %.2f us per unwind of %d frames (%.2f us/frame, %d iterations); "
	       "first unwind of a pid incl. reading its maps and CFI: %.0f us\n",
	       per, n, per / n, iters, elapsed_us(&t0, &t1));
	unwinder_free(u);
	/* Relative, so that it holds under valgrind too: an unwind that
	 * re-read the maps or re-parsed CFI would cost what the first did. */
	assert_true(per * 4 < elapsed_us(&t0, &t1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_c_through_libbpf_and_libc),
		cmocka_unit_test(test_ip_sp_bp_only),
		cmocka_unit_test(test_stack_cut_short),
		cmocka_unit_test(test_after_exit),
		cmocka_unit_test(test_add_modules),
		cmocka_unit_test(test_pid_table_bounded),
		cmocka_unit_test(test_fast_path_agrees),
		cmocka_unit_test(test_cost_per_unwind),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("BPFLEAK_TEST_FILTER"))
		cmocka_set_test_filter(getenv("BPFLEAK_TEST_FILTER"));
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
