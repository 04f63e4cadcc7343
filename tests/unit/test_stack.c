// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* Stack capture and interning. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include "shim.h"

static void test_same_ips_same_node(void **state)
{
	(void)state;
	uintptr_t a[3] = { 0x1000, 0x2000, 0x3000 };
	uintptr_t b[3] = { 0x1000, 0x2000, 0x3000 };
	uintptr_t c[3] = { 0x1000, 0x2000, 0x3001 };
	const struct stack_node *na = stack_intern(a, 3), *nb = stack_intern(b, 3);
	const struct stack_node *nc = stack_intern(c, 3), *nd = stack_intern(a, 2);
	assert_non_null(na);
	assert_ptr_equal(na, nb);
	assert_ptr_not_equal(na, nc);
	assert_ptr_not_equal(na, nd);   /* a prefix is another stack */
	assert_int_equal(na->depth, 3);
	assert_int_equal(na->ips[2], 0x3000);
	assert_int_equal(na->hash, stack_hash(a, 3));
}

#define THREADS 8
static const struct stack_node *results[THREADS][1000];

static void *intern_many(void *arg)
{
	int t = (int)(intptr_t)arg;
	for (int i = 0; i < 1000; i++) {
		uintptr_t ips[4] = { 0xdead0000u + (uintptr_t)i, 0xbeef, 0xf00d, (uintptr_t)i * 7 };
		results[t][i] = stack_intern(ips, 4);
	}
	return NULL;
}

static void test_concurrent_intern_dedups(void **state)
{
	(void)state;
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, intern_many, (void *)(intptr_t)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 1000; i++) {
		assert_non_null(results[0][i]);
		for (int k = 1; k < THREADS; k++)
			assert_ptr_equal(results[0][i], results[k][i]);
	}
}

/* noinline: its return address must be a frame of its own. */
const struct stack_node *capture_here(void);
__attribute__((noinline)) const struct stack_node *capture_here(void)
{
	const struct stack_node *n = stack_capture();
	__asm__ volatile("" ::: "memory");
	return n;
}

static bool ip_in_function(uintptr_t ip, void *fn)
{
	Dl_info info;
	const ElfW(Sym) *sym = NULL;
	/* Return addresses point after the call: look up ip - 1. */
	if (!dladdr1((void *)(ip - 1), &info, (void **)&sym, RTLD_DL_SYMENT) || !info.dli_saddr)
		return false;
	return info.dli_saddr == fn;
}

void outer_caller(const struct stack_node **out);
__attribute__((noinline)) void outer_caller(const struct stack_node **out)
{
	*out = capture_here();
	__asm__ volatile("" ::: "memory");
}

static void test_capture_names_callers_and_dedups(void **state)
{
	(void)state;
	shim_cfg.depth = 32;
	const struct stack_node *a = NULL, *b = NULL;
	/* volatile: one call site, not an unrolled pair of them */
	for (volatile int i = 0; i < 2; i++)
		outer_caller(i ? &b : &a);
	assert_non_null(a);
	assert_ptr_equal(a, b);   /* same call path, one interned stack */
	bool found_capture = false, found_outer = false;
	for (uint32_t i = 0; i < a->depth; i++) {
		found_capture |= ip_in_function(a->ips[i], (void *)capture_here);
		found_outer |= ip_in_function(a->ips[i], (void *)outer_caller);
	}
	assert_true(found_capture);
	assert_true(found_outer);
}

static void test_depth_limit(void **state)
{
	(void)state;
	shim_cfg.depth = 2;
	const struct stack_node *n = capture_here();
	assert_non_null(n);
	assert_true(n->depth <= 2);
	shim_cfg.depth = 32;
}

int main(void)
{
	/* What activation does: libunwind is loaded then, not with the shim. */
	ownfds_start_unwinder();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_ips_same_node),
		cmocka_unit_test(test_concurrent_intern_dedups),
		cmocka_unit_test(test_capture_names_callers_and_dedups),
		cmocka_unit_test(test_depth_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
