// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * docs/overhead.md (figure 5): a 1,000,000-event journal must be reported
 * in at most 3 s.  The journal: 499,750 create/close pairs over 1000 FD numbers
 * and 50 call sites, plus one site that leaks an FD every 1000 requests,
 * with an exit snapshot.  The report must also be right: exactly that
 * site grows, with 500 FDs.  Skipped in the sanitizer build (timing).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "jbuild.h"

#define PAIRS 499750
#define LEAK_EVERY 1000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_million_events(void **state)
{
	(void)state;
#ifdef BPFLEAK_ASAN
	skip();
#endif
	struct jb j;
	int64_t stacks[51];
	jb_init(&j);
	for (int i = 0; i < 51; i++) {
		uint64_t ips[8];
		for (int k = 0; k < 8; k++)
			ips[k] = 0x400000 + (uint64_t)i * 0x100 + (uint64_t)k;
		stacks[i] = jb_stack(&j, ips, 8);
	}
	j.ts = 1000000000 + 1000;
	j.step = 1000;
	long n = 0, leaked = 0;
	for (int i = 0; i < PAIRS; i++) {
		int fd = 3 + i % 1000;
		uint32_t id = 1 + (uint32_t)(i % 7);
		jb_ev(&j, 100, BPFLEAK_OP_CREATE, fd, 0, BPF_MAP_GET_FD_BY_ID, BPFLEAK_KIND_MAP, id,
		      stacks[i % 50], fd, BPFLEAK_EF_CLOEXEC, NULL);
		jb_ev(&j, 100, BPFLEAK_OP_CLOSE, fd, 0, BPF_MAP_GET_FD_BY_ID, BPFLEAK_KIND_MAP, id, 0,
		      0, BPFLEAK_EF_CLOEXEC, NULL);
		n += 2;
		if (i % LEAK_EVERY == 0) {
			jb_ev(&j, 100, BPFLEAK_OP_CREATE, 2000 + (int)leaked, 0, BPF_MAP_GET_FD_BY_ID,
			      BPFLEAK_KIND_MAP, 1000 + (uint32_t)leaked, stacks[50], 2000 + (int)leaked,
			      BPFLEAK_EF_CLOEXEC, NULL);
			leaked++;
			n++;
		}
	}
	int64_t s = jb_snapshot(&j, 100);
	for (long k = 0; k < leaked; k++)
		jb_snap_fd(&j, s, 2000 + (int)k, BPFLEAK_KIND_MAP, 1000 + (uint32_t)k);
	jb_done(&j);
	assert_int_equal(n, 1000000);

	char *argv[] = { "bpfleak-report", "--format", "json", j.path, NULL };
	char *out;
	size_t len;
	FILE *f = open_memstream(&out, &len);
	FILE *devnull = fopen("/dev/null", "w");
	double t0 = now_s();
	int rc = report_main(4, argv, f, devnull);
	double dt = now_s() - t0;
	fclose(f);
	fclose(devnull);
	print_message("1,000,000 events reported in %.2f s\n", dt);
	assert_int_equal(rc, 1);
	char *sites = jq(out, "SELECT group_concat(json_extract(value, '$.class') || ':' ||"
			 " json_extract(value, '$.count'), ' ') FROM json_each(?1, '$.findings')"
			 " WHERE json_extract(value, '$.leak')");
	assert_string_equal(sites, "growth:500");
	free(sites);
	assert_int_equal(jq_long(out, "SELECT json_extract(?1, '$.journal.events')"), 1000000);
	free(out);
	if (dt > 3.0)
		fail_msg("took %.2f s, the budget is 3 s", dt);
	jb_cleanup(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_million_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
