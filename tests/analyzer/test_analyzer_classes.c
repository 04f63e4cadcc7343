// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Each leak class function on its own (the journal is loaded, replayed and
 * reconciled, then only that classify_* runs), and the exit-code policy
 * through the whole report.
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
#define PROG BPFLEAK_KIND_PROG
#define LINK BPFLEAK_KIND_LINK
#define BTF BPFLEAK_KIND_BTF
#define SEC 1000000000ll

static struct opts default_opts(void)
{
	struct opts o;
	memset(&o, 0, sizeof(o));
	o.min_age_ns = -1;
	o.growth_min = 3;
	o.class_mask = (1u << CLS_MAX) - 1;
	return o;
}

/* The findings one classifier produced, as sorted "stack:count" lines. */
static char *run_class(struct jb *j, int cls, const struct opts *o, int pid, struct model *m)
{
	char buf[1024] = "";
	jb_model(j, m);
	struct proc *p = model_proc(m, pid, 0);
	assert_non_null(p);
	classify_one(m, p, cls, o);
	/* Stable order for comparison: by stack id. */
	for (size_t i = 0; i < m->n_findings; i++)
		for (size_t k = i + 1; k < m->n_findings; k++)
			if (m->findings[k].stack_id < m->findings[i].stack_id) {
				struct finding t = m->findings[i];
				m->findings[i] = m->findings[k];
				m->findings[k] = t;
			}
	for (size_t i = 0; i < m->n_findings; i++) {
		const struct finding *f = &m->findings[i];
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s s%lld:%zu",
			 i ? "\n" : "", cls_name(f->cls), (long long)f->stack_id, f->n);
	}
	return strdup(buf);
}

static void expect(char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		fail_msg("got:\n%s\nexpected:\n%s", got, want);
	free(got);
}

static void test_duplicate(void **state)
{
	(void)state;
	struct jb j;
	struct model m;
	struct opts o = default_opts();
	jb_init(&j);
	int64_t a = jb_stack1(&j, 0xa000), b = jb_stack1(&j, 0xb000), c = jb_stack1(&j, 0xc000);
	jb_create(&j, 100, 3, MAP, 1, a);              /* the holder */
	jb_create(&j, 100, 4, MAP, 1, b);              /* OBJ_GET of it */
	jb_create(&j, 100, 5, MAP, 1, c);              /* GET_FD_BY_ID x2 */
	jb_create(&j, 100, 6, MAP, 1, c);
	jb_create(&j, 100, 7, MAP, 2, a);              /* another map: alone */
	jb_create(&j, 100, 8, PROG, 1, a);             /* same id, other kind */
	jb_create(&j, 100, 9, BPFLEAK_KIND_ITER, 0, b); /* no identity */
	jb_create(&j, 100, 10, BPFLEAK_KIND_ITER, 0, b);
	jb_create(&j, 100, 11, MAP, 3, c);
	jb_close(&j, 100, 11, MAP, 3, 0, 0);
	jb_create(&j, 100, 11, MAP, 2, c);             /* duplicate of fd 7 */
	expect(run_class(&j, CLS_DUPLICATE, &o, 100, &m), "duplicate s2:1\nduplicate s3:3");
	/* The oldest FD is the holder; the extra ones point at it. */
	struct proc *p = model_proc(&m, 100, 0);
	for (size_t i = 0; i < m.n_findings; i++)
		for (size_t k = 0; k < m.findings[i].n; k++) {
			const struct fdrec *r = &p->recs[m.findings[i].recs[k]];
			assert_int_equal(r->same_as_fd, r->obj_id == 1 ? 3 : 7);
		}
	jb_model_free(&m);
	jb_cleanup(&j);
}

static void test_unpinned(void **state)
{
	(void)state;
	struct jb j;
	struct model m;
	struct opts o = default_opts();
	jb_init(&j);
	int64_t a = jb_stack1(&j, 0xa000), b = jb_stack1(&j, 0xb000);
	jb_object(&j, LINK, 4, 1, "lnk", 3);
	jb_create(&j, 100, 3, MAP, 1, a);      /* pinned */
	jb_create(&j, 100, 4, PROG, 2, b);     /* not reached */
	jb_create(&j, 100, 5, PROG, 3, b);     /* reached through pinned link 4 */
	jb_create(&j, 100, 6, BTF, 5, b);      /* cannot be pinned */
	jb_create(&j, 100, 7, MAP, 6, a);      /* pinned, but the pin is gone at exit */
	jb_ev(&j, 100, BPFLEAK_OP_PIN, 7, 0, 6, MAP, 6, a, 0, 0, "/sys/fs/bpf/gone");
	int64_t s = jb_snapshot(&j, 100);
	jb_snap_fd(&j, s, 3, MAP, 1);
	jb_snap_fd(&j, s, 4, PROG, 2);
	jb_snap_fd(&j, s, 5, PROG, 3);
	jb_snap_fd(&j, s, 6, BTF, 5);
	jb_snap_fd(&j, s, 7, MAP, 6);
	jb_snap_pin(&j, s, "/sys/fs/bpf/m", MAP, 1);
	jb_snap_pin(&j, s, "/sys/fs/bpf/l", LINK, 4);
	expect(run_class(&j, CLS_UNPINNED, &o, 100, &m), "unpinned s1:1\nunpinned s2:1");
	jb_model_free(&m);

	/* Information by default, a leak with --expect-pinned. */
	struct run r;
	jb_report(&j, &r, "--class", "unpinned", NULL);
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "info unpinned"));
	run_free(&r);
	jb_report(&j, &r, "--class", "unpinned", "--expect-pinned", NULL);
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.out, "LEAK unpinned"));
	run_free(&r);
	jb_cleanup(&j);
}

static void test_outstanding(void **state)
{
	(void)state;
	struct jb j;
	struct model m;
	struct opts o = default_opts();
	jb_init(&j);
	int64_t a = jb_stack1(&j, 0xa000), b = jb_stack1(&j, 0xb000);
	j.ts = 1 * SEC;
	jb_create(&j, 100, 3, MAP, 1, a);
	j.ts = 2 * SEC;
	jb_create(&j, 100, 4, MAP, 2, a);
	j.ts = 3 * SEC;
	jb_create(&j, 100, 5, MAP, 3, a);
	jb_create(&j, 100, 6, MAP, 4, b);
	jb_close(&j, 100, 6, MAP, 4, 0, 0);
	j.ts = 10 * SEC;
	int64_t s = jb_snapshot(&j, 100);
	for (int fd = 3; fd <= 5; fd++) {
		jb_snap_fd(&j, s, fd, MAP, (uint32_t)fd - 2);
		jb_snap_pin(&j, s, fd == 3 ? "/sys/fs/bpf/a" : fd == 4 ? "/sys/fs/bpf/b" : "/sys/fs/bpf/c",
			    MAP, (uint32_t)fd - 2);
	}
	expect(run_class(&j, CLS_OUTSTANDING, &o, 100, &m), "outstanding s1:3");
	assert_int_equal(m.findings[0].oldest_age, 9 * SEC);
	assert_int_equal(m.findings[0].newest_age, 7 * SEC);
	jb_model_free(&m);

	o.min_age_ns = 8 * SEC;
	expect(run_class(&j, CLS_OUTSTANDING, &o, 100, &m), "outstanding s1:2");
	assert_int_equal(m.findings[0].newest_age, 8 * SEC);
	jb_model_free(&m);

	/* Information only, unless --min-age makes old FDs leaks.  (Three FDs
	 * opened a second apart and never closed are also growth: --class.) */
	struct run r;
	jb_report(&j, &r, "--class", "outstanding", NULL);
	if (r.rc != 0)
		fail_msg("%s", r.out);
	run_free(&r);
	jb_report(&j, &r, "--class", "outstanding", "--min-age", "8s", "--format", "json", NULL);
	assert_int_equal(r.rc, 1);
	assert_int_equal(jq_long(r.out, "SELECT json_extract(?1, '$.summary.leaked_fds')"), 2);
	run_free(&r);
	jb_report(&j, &r, "--class", "outstanding", "--min-age", "10s", NULL);
	assert_int_equal(r.rc, 0);
	run_free(&r);
	jb_cleanup(&j);
}

static void test_growth(void **state)
{
	(void)state;
	struct jb j;
	struct model m;
	struct opts o = default_opts();
	jb_init(&j);
	int64_t g = jb_stack1(&j, 0x1000);   /* s1: one more FD every second */
	int64_t burst = jb_stack1(&j, 0x2000); /* s2: ten at once at start */
	int64_t closed = jb_stack1(&j, 0x3000); /* s3: climbs, but one closed */
	int64_t two = jb_stack1(&j, 0x4000);  /* s4: only two FDs */
	int64_t reload = jb_stack1(&j, 0x5000); /* s5: 3 reloads of 4 FDs each */
	j.step = 1000;
	int fd = 10;
	for (int i = 0; i < 10; i++)
		jb_create(&j, 100, fd++, MAP, 100 + (uint32_t)i, burst);
	for (int i = 0; i < 10; i++) {
		j.ts = (i + 1) * SEC;
		jb_create(&j, 100, fd++, MAP, 1, g);
		jb_create(&j, 100, fd++, MAP, 2, closed);
		if (i == 5)
			jb_close(&j, 100, fd - 1, MAP, 2, 0, 0);
		if (i == 3 || i == 7)
			jb_create(&j, 100, fd++, MAP, 3, two);
		if (i == 2 || i == 5 || i == 8)
			for (int k = 0; k < 4; k++)
				jb_create(&j, 100, fd++, MAP, 50 + (uint32_t)k, reload);
	}
	j.ts = 12 * SEC;
	jb_snapshot(&j, 100);
	/* No snapshot FDs are given: compare the journal only. */
	jb_sql(&j, "DELETE FROM snapshot");
	expect(run_class(&j, CLS_GROWTH, &o, 100, &m), "growth s1:10\ngrowth s5:12");
	assert_true(m.findings[0].rate_per_s > 0.99 && m.findings[0].rate_per_s < 1.01);
	jb_model_free(&m);

	o.growth_min = 11;
	expect(run_class(&j, CLS_GROWTH, &o, 100, &m), "growth s5:12");
	jb_model_free(&m);
	(void)g;
	(void)burst;
	(void)closed;
	(void)two;
	(void)reload;
	jb_cleanup(&j);
}

static void test_unknown_origin(void **state)
{
	(void)state;
	struct jb j;
	struct model m;
	struct opts o = default_opts();
	jb_init(&j);
	int64_t a = jb_stack1(&j, 0xa000);
	jb_create(&j, 100, 3, MAP, 1, a);
	int64_t s = jb_snapshot(&j, 100);
	jb_snap_fd(&j, s, 3, MAP, 1);
	jb_snap_fd(&j, s, 9, MAP, 77);   /* a raw syscall the shim never saw */
	jb_snap_fd(&j, s, 10, PROG, 78);
	expect(run_class(&j, CLS_UNKNOWN_ORIGIN, &o, 100, &m), "unknown_origin s0:2");
	jb_model_free(&m);
	struct run r;
	jb_report(&j, &r, "--class", "unknown_origin", "--format", "json", NULL);
	assert_int_equal(r.rc, 3);   /* information, but a blind spot: no all-clear */
	char *t = jq(r.out, "SELECT group_concat(json_extract(value, '$.target'), ',') FROM"
		     " json_each(?1, '$.findings[0].fds')");
	assert_string_equal(t, "anon_inode:bpf-map,anon_inode:bpf-prog");
	free(t);
	run_free(&r);
	jb_cleanup(&j);
}

static void test_double_close(void **state)
{
	(void)state;
	struct jb j;
	struct model m;
	struct opts o = default_opts();
	jb_init(&j);
	int64_t a = jb_stack1(&j, 0xa000), cl = jb_stack1(&j, 0xc100);
	jb_create(&j, 100, 3, MAP, 1, a);
	jb_close(&j, 100, 3, MAP, 1, 0, cl);
	jb_close(&j, 100, 3, MAP, 1, -9, cl);      /* with a close stack */
	jb_create(&j, 100, 4, MAP, 2, a);
	jb_close(&j, 100, 4, MAP, 2, 0, 0);
	jb_close(&j, 100, 4, MAP, 2, -9, 0);       /* without: charged to a, flag 1 */
	jb_close(&j, 100, 5, MAP, 0, -9, 0);       /* nothing known about fd 5 */
	jb_close(&j, 100, 6, MAP, 0, -4, 0);       /* EINTR is not a double close */
	jb_create(&j, 100, 7, MAP, 3, a);
	jb_close(&j, 100, 7, MAP, 3, 0, 0);
	jb_close(&j, 100, 7, MAP, 3, -9, 0);       /* ... nor a close-everything sweep: */
	jb_sql(&j, "UPDATE event SET flags = 16 WHERE seq = (SELECT max(seq) FROM event)");
	expect(run_class(&j, CLS_DOUBLE_CLOSE, &o, 100, &m),
	       "double_close s0:1\ndouble_close s1:1\ndouble_close s2:1");
	for (size_t i = 0; i < m.n_findings; i++)
		assert_int_equal(m.findings[i].flag, m.findings[i].stack_id == cl ? 0 : 1);
	jb_model_free(&m);
	struct run r;
	jb_report(&j, &r, "--class", "double_close", NULL);
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.out, "close stacks were not recorded"));
	run_free(&r);
	jb_cleanup(&j);
}

static void test_stale(void **state)
{
	(void)state;
	struct jb j;
	struct model m;
	struct opts o = default_opts();
	jb_init(&j);
	int64_t a = jb_stack1(&j, 0xa000), b = jb_stack1(&j, 0xb000), c = jb_stack1(&j, 0xc000);
	jb_create(&j, 100, 3, MAP, 1, a);   /* the snapshot shows fd 3 closed */
	jb_create(&j, 100, 4, MAP, 2, b);   /* the snapshot shows map 9 on fd 4 */
	jb_create(&j, 100, 5, MAP, 3, c);   /* a close of it returns EBADF */
	jb_close(&j, 100, 5, MAP, 3, -9, 0);
	int64_t s = jb_snapshot(&j, 100);
	jb_snap_fd(&j, s, 4, MAP, 9);
	expect(run_class(&j, CLS_STALE, &o, 100, &m), "stale s1:1\nstale s2:1\nstale s3:1");
	struct proc *p = model_proc(&m, 100, 0);
	assert_int_equal(p->recs[0].stale, STALE_SNAP_CLOSED);
	assert_int_equal(p->recs[1].stale, STALE_SNAP_OTHER);
	assert_int_equal(p->recs[1].other_id, 9);
	assert_int_equal(p->recs[2].stale, STALE_EBADF);
	/* Nothing stale is open; map 9 is the kernel's alone. */
	assert_int_equal(p->n_final, 1);
	assert_int_equal(p->recs[p->final[0]].origin, OR_SNAPSHOT);
	jb_model_free(&m);
	jb_cleanup(&j);
}

/* The exit code follows the policy in analyzer/findings.c. */
static void test_exit_code_policy(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	char supp[400];
	jb_init(&j);
	int64_t a = jb_stack1(&j, 0xa000), b = jb_stack1(&j, 0xb000);
	jb_create(&j, 100, 3, MAP, 1, a);
	jb_create(&j, 100, 4, MAP, 2, a);
	int64_t s = jb_snapshot(&j, 100);
	jb_snap_fd(&j, s, 3, MAP, 1);
	jb_snap_fd(&j, s, 4, MAP, 2);
	jb_snap_fd(&j, s, 9, MAP, 77);
	jb_snap_pin(&j, s, "/p/1", MAP, 1);
	jb_snap_pin(&j, s, "/p/2", MAP, 2);
	/* outstanding, unknown_origin, unpinned (fd 9): all information, but
	 * fd 9 is a blind spot: no leak, and no all-clear either (3). */
	jb_report(&j, &r, NULL);
	assert_int_equal(r.rc, 3);
	if (!strstr(r.out, "3 findings, 0 leaks"))
		fail_msg("%s", r.out);
	run_free(&r);
	jb_cleanup(&j);

	jb_init(&j);
	a = jb_stack1(&j, 0xa000);
	b = jb_stack1(&j, 0xb000);
	jb_create(&j, 100, 3, MAP, 1, a);
	jb_create(&j, 100, 4, MAP, 1, b);
	s = jb_snapshot(&j, 100);
	jb_snap_fd(&j, s, 3, MAP, 1);
	jb_snap_fd(&j, s, 4, MAP, 1);
	jb_snap_pin(&j, s, "/p/1", MAP, 1);
	jb_report(&j, &r, NULL);
	assert_int_equal(r.rc, 1);          /* a duplicate */
	run_free(&r);
	jb_report(&j, &r, "--class", "outstanding", NULL);
	assert_int_equal(r.rc, 0);          /* filtered out: does not count */
	run_free(&r);
	jb_report(&j, &r, "--quiet", NULL);
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "");
	run_free(&r);
	snprintf(supp, sizeof(supp), "%s/s.supp", j.dir);
	FILE *f = fopen(supp, "w");
	fputs("# intended\n{\n  second_handle\n  class:duplicate\n  obj:*\n}\n", f);
	fclose(f);
	jb_report(&j, &r, "--suppressions", supp, NULL);
	/* obj:* needs a module; these frames have none, so nothing is hidden. */
	assert_int_equal(r.rc, 1);
	run_free(&r);
	f = fopen(supp, "w");
	fputs("{\n  second_handle\n  class:duplicate\n  ...\n}\n", f);
	fclose(f);
	jb_report(&j, &r, "--suppressions", supp, NULL);
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "1 suppressed"));
	run_free(&r);
	jb_cleanup(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_unpinned),
		cmocka_unit_test(test_outstanding),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_unknown_origin),
		cmocka_unit_test(test_double_close),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_exit_code_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
