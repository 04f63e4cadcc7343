// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Replay and reconciliation: synthetic journals whose event sequences are
 * the hard cases (FD numbers reused, dup chains, dup2 over a tracked FD,
 * fork, exec, lost events, no snapshot), checked through the JSON report.
 * Sites are told apart by the single fake IP of each creation stack.
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

static void expect_sites(const char *json, const char *want)
{
	char *got = jb_sites(json);
	if (strcmp(got, want) != 0)
		fail_msg("findings:\n%s\nexpected:\n%s", got, want);
	free(got);
}

static void run_json(struct jb *j, struct run *r, int want_rc)
{
	jb_report(j, r, "--format", "json", NULL);
	if (r->rc != want_rc)
		fail_msg("exit %d, expected %d; stderr: %s\n%s", r->rc, want_rc, r->err, r->out);
	assert_int_equal(jq_long(r->out, "SELECT json_valid(?1)"), 1);
}

/* fd 7 closed, then reused for another object: only the new one is open. */
static void test_fd_reuse(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	jb_init(&j);
	int64_t a = jb_stack1(&j, 0xa000), b = jb_stack1(&j, 0xb000);
	jb_create(&j, 100, 7, MAP, 1, a);
	jb_close(&j, 100, 7, MAP, 1, 0, 0);
	jb_create(&j, 100, 7, MAP, 2, b);
	int64_t s = jb_snapshot(&j, 100);
	jb_snap_fd(&j, s, 7, MAP, 2);
	run_json(&j, &r, 0);
	expect_sites(r.out, "outstanding@0xb000:1\nunpinned@0xb000:1");
	assert_int_equal(jq_long(r.out, "SELECT json_extract(?1, '$.findings[0].fds[0].id')"), 2);
	assert_int_equal(jq_long(r.out, "SELECT json_extract(?1, '$.summary.open_bpf_fds')"), 1);
	run_free(&r);
	jb_cleanup(&j);
}

/* fd 3 -> dup 4 -> dup 5, close 3: 4 and 5 share the map, 5 is the extra. */
static void test_dup_chain(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	jb_init(&j);
	int64_t a = jb_stack1(&j, 0xa000), b = jb_stack1(&j, 0xb000), c = jb_stack1(&j, 0xc000);
	jb_create(&j, 100, 3, MAP, 1, a);
	jb_dup(&j, 100, 4, 3, MAP, 1, b);
	jb_dup(&j, 100, 5, 4, MAP, 1, c);
	jb_close(&j, 100, 3, MAP, 1, 0, 0);
	int64_t s = jb_snapshot(&j, 100);
	jb_snap_fd(&j, s, 4, MAP, 1);
	jb_snap_fd(&j, s, 5, MAP, 1);
	jb_snap_pin(&j, s, "/sys/fs/bpf/m", MAP, 1);
	run_json(&j, &r, 1);
	expect_sites(r.out, "duplicate@0xc000:1\noutstanding@0xb000:1\noutstanding@0xc000:1");
	char *dup = jq(r.out, "SELECT json_extract(value, '$.fds[0].fd') || ' dup_of ' ||"
		       " json_extract(value, '$.fds[0].dup_of') || ' same_as ' ||"
		       " json_extract(value, '$.fds[0].same_as_fd') || ' pin ' ||"
		       " json_extract(value, '$.fds[0].pins[0]')"
		       " FROM json_each(?1, '$.findings') WHERE json_extract(value, '$.class') = 'duplicate'");
	assert_string_equal(dup, "5 dup_of 4 same_as 4 pin /sys/fs/bpf/m");
	free(dup);
	run_free(&r);
	jb_cleanup(&j);
}

/* dup2(3, 4) over tracked fd 4: the shim's implicit close, then the dup. */
static void dup2_over(int with_implicit_close)
{
	struct jb j;
	struct run r;
	jb_init(&j);
	int64_t a = jb_stack1(&j, 0xa000), b = jb_stack1(&j, 0xb000), c = jb_stack1(&j, 0xc000);
	jb_create(&j, 100, 3, MAP, 1, a);
	jb_create(&j, 100, 4, MAP, 2, b);
	if (with_implicit_close)
		jb_ev(&j, 100, BPFLEAK_OP_CLOSE, 4, 0, 0, MAP, 2, 0, 0, BPFLEAK_EF_IMPLICIT, NULL);
	jb_dup(&j, 100, 4, 3, MAP, 1, c);
	int64_t s = jb_snapshot(&j, 100);
	jb_snap_fd(&j, s, 3, MAP, 1);
	jb_snap_fd(&j, s, 4, MAP, 1);
	jb_snap_pin(&j, s, "/sys/fs/bpf/m", MAP, 1);
	run_json(&j, &r, 1);
	/* Map 2 (site b) is gone; no stale, no unknown_origin. */
	expect_sites(r.out, "duplicate@0xc000:1\noutstanding@0xa000:1\noutstanding@0xc000:1");
	run_free(&r);
	jb_cleanup(&j);
}

static void test_dup2_over_tracked(void **state)
{
	(void)state;
	dup2_over(1);
}

static void test_dup2_without_implicit_close(void **state)
{
	(void)state;
	dup2_over(0);
}

/*
 * A fork child's inherited FD is charged to the parent's creation site, and
 * symbolized with the parent's modules.
 */
static void test_fork_child(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	jb_init(&j);
	int64_t a = jb_stack1(&j, 0xa000), b = jb_stack1(&j, 0xb000);
	jb_module(&j, 100, 0, "/nonexistent/parent-bin", "", 0x9000, 0x4000);
	jb_process(&j, 100, 1, "/nonexistent/parent-bin", "start", 0);
	jb_create(&j, 100, 3, MAP, 1, a);
	jb_create(&j, 100, 4, MAP, 2, b);
	jb_close(&j, 100, 4, MAP, 2, 0, 0);
	jb_ev(&j, 101, BPFLEAK_OP_FORK, -1, 100, 0, 0, 0, 0, 0, 0, NULL);
	jb_inherited(&j, 101, 3, MAP, 1, "fork");
	jb_close(&j, 100, 3, MAP, 1, 0, 0);   /* the parent closes its copy */
	int64_t c = jb_stack1(&j, 0xc000);
	jb_create(&j, 101, 7, MAP, 3, c);      /* the child's own; it has no module rows */
	jb_close(&j, 101, 7, MAP, 3, 0, 0);
	jb_close(&j, 101, 7, MAP, 3, -9, c);
	int64_t s = jb_snapshot(&j, 101);
	jb_snap_fd(&j, s, 3, MAP, 1);
	jb_snap_pin(&j, s, "/sys/fs/bpf/m", MAP, 1);
	run_json(&j, &r, 1);
	expect_sites(r.out, "double_close@0xc000:1\noutstanding@0xa000:1");
	char *cm = jq(r.out, "SELECT json_extract(value, '$.stack[0].module') FROM json_each(?1, '$.findings')"
		      " WHERE json_extract(value, '$.class') = 'double_close'");
	assert_string_equal(cm, "/nonexistent/parent-bin");
	free(cm);
	assert_int_equal(jq_long(r.out, "SELECT min(json_extract(value, '$.pid')) FROM json_each(?1, '$.findings')"), 101);
	char *f = jq(r.out, "SELECT json_extract(value, '$.fds[0].origin') || ' ' ||"
		     " json_extract(value, '$.fds[0].parent_pid') || ' ' ||"
		     " json_extract(value, '$.stack[0].module') || ' ' ||"
		     " json_extract(value, '$.stack[0].offset') FROM json_each(?1, '$.findings')"
		     " WHERE json_extract(value, '$.class') = 'outstanding'");
	assert_string_equal(f, "fork 100 /nonexistent/parent-bin 0x1000");
	free(f);
	assert_int_equal(jq_long(r.out, "SELECT json_extract(value, '$.ppid') FROM"
			 " json_each(?1, '$.processes') WHERE json_extract(value, '$.pid') = 101"), 100);
	run_free(&r);
	jb_cleanup(&j);
}

/*
 * exec: fd 3 (O_CLOEXEC) dies, fd 4 (a dup without it) survives with its
 * birth site; the new image lists only fd 4.
 */
static void test_exec(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	jb_init(&j);
	int64_t a = jb_stack1(&j, 0xa000), b = jb_stack1(&j, 0xb000);
	jb_create(&j, 200, 3, MAP, 1, a);
	jb_dup(&j, 200, 4, 3, MAP, 1, b);
	jb_ev(&j, 200, BPFLEAK_OP_EXEC, -1, 0, 0, 0, 0, 0, 0, 0, "/usr/bin/next");
	jb_inherited(&j, 200, 4, MAP, 1, "exec");
	int64_t s = jb_snapshot(&j, 200);
	jb_snap_fd(&j, s, 4, MAP, 1);
	jb_snap_pin(&j, s, "/sys/fs/bpf/m", MAP, 1);
	run_json(&j, &r, 0);
	expect_sites(r.out, "outstanding@0xb000:1");
	char *exe = jq(r.out, "SELECT json_extract(?1, '$.processes[0].exe')");
	assert_string_equal(exe, "/usr/bin/next");
	free(exe);
	run_free(&r);
	jb_cleanup(&j);
}

/* An exec with nothing after it: the FDs' own O_CLOEXEC flags decide. */
static void test_exec_untraced_image(void **state)
{
	(void)state;
	struct jb j;
	struct model m;
	jb_init(&j);
	int64_t a = jb_stack1(&j, 0xa000), b = jb_stack1(&j, 0xb000);
	jb_create(&j, 200, 3, MAP, 1, a);
	jb_dup(&j, 200, 4, 3, MAP, 1, b);
	/* Written before the call by the image that exec'd; nothing after it. */
	jb_ev(&j, 200, BPFLEAK_OP_EXEC, -1, 0, 0, 0, 0, 0, 0, BPFLEAK_EF_BEFORE_EXEC, "/usr/bin/static");
	jb_model(&j, &m);
	struct proc *p = model_proc(&m, 200, 0);
	assert_non_null(p);
	assert_int_equal(p->n_final, 1);
	assert_int_equal(p->recs[p->final[0]].fd, 4);
	assert_int_equal(p->recs[0].how, H_EXEC);
	assert_int_equal(p->n_warns, 1);
	assert_non_null(strstr(p->warns[0].text, "did not trace"));
	jb_model_free(&m);
	jb_cleanup(&j);
}

/*
 * Events lost: fd 3 reappears without its close.  The old record is stale
 * but explained by the drop (information), dropped is reported.
 */
static void test_events_after_drop(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	jb_init(&j);
	int64_t a = jb_stack1(&j, 0xa000), b = jb_stack1(&j, 0xb000);
	jb_create(&j, 100, 3, MAP, 1, a);
	jb_ev(&j, 100, BPFLEAK_OP_DROP, -1, 17, 0, 0, 0, 0, 0, 0, NULL);
	jb_create(&j, 100, 3, MAP, 2, b);
	int64_t s = jb_snapshot(&j, 100);
	jb_snap_fd(&j, s, 3, MAP, 2);
	jb_snap_pin(&j, s, "/sys/fs/bpf/m", MAP, 2);
	run_json(&j, &r, 3);   /* no leak, but a blind spot */
	expect_sites(r.out, "outstanding@0xb000:1\nstale@0xa000:1");
	assert_int_equal(jq_long(r.out, "SELECT json_extract(?1, '$.journal.dropped')"), 17);
	char *st = jq(r.out, "SELECT json_extract(value, '$.leak') || ' ' || json_extract(value, '$.fds[0].stale')"
		      " FROM json_each(?1, '$.findings') WHERE json_extract(value, '$.class') = 'stale'");
	assert_string_equal(st, "0 reused");
	free(st);
	assert_non_null(strstr(r.err, "17 events were dropped"));
	run_free(&r);
	jb_report(&j, &r, NULL);
	assert_non_null(strstr(r.out, "17 DROPPED"));
	run_free(&r);

	/* The same disagreement with no drop is a bug: exit 1. */
	jb_cleanup(&j);
	jb_init(&j);
	a = jb_stack1(&j, 0xa000);
	b = jb_stack1(&j, 0xb000);
	jb_create(&j, 100, 3, MAP, 1, a);
	jb_create(&j, 100, 3, MAP, 2, b);
	s = jb_snapshot(&j, 100);
	jb_snap_fd(&j, s, 3, MAP, 2);
	jb_snap_pin(&j, s, "/sys/fs/bpf/m", MAP, 2);
	run_json(&j, &r, 1);
	expect_sites(r.out, "outstanding@0xb000:1\nstale@0xa000:1");
	run_free(&r);
	jb_cleanup(&j);
}

/* No snapshot: journal alone, said so; no stale/unknown_origin possible. */
static void test_no_snapshot(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	jb_init(&j);
	int64_t a = jb_stack1(&j, 0xa000), b = jb_stack1(&j, 0xb000);
	jb_create(&j, 100, 3, MAP, 1, a);
	jb_ev(&j, 100, BPFLEAK_OP_PIN, 3, 0, 6, MAP, 1, a, 0, 0, "/sys/fs/bpf/j");
	jb_create(&j, 100, 4, PROG, 9, b);
	run_json(&j, &r, 3);   /* no leak, but a blind spot */
	expect_sites(r.out, "outstanding@0xa000:1\noutstanding@0xb000:1\nunpinned@0xb000:1");
	char *snap = jq(r.out, "SELECT json_extract(?1, '$.processes[0].snapshot')");
	assert_string_equal(snap, "none");
	free(snap);
	char *pin = jq(r.out, "SELECT json_extract(value, '$.fds[0].pins[0]') FROM json_each(?1, '$.findings')"
		       " WHERE json_extract(value, '$.stack[0].ip') = '0xa000'");
	assert_string_equal(pin, "/sys/fs/bpf/j");
	free(pin);
	run_free(&r);
	jb_report(&j, &r, NULL);
	assert_non_null(strstr(r.out, "snapshot: none"));
	assert_non_null(strstr(r.out, "journal only"));
	run_free(&r);
	jb_cleanup(&j);
}

/* Inherited at start (no stack), then closes of FDs never seen: warned. */
static void test_inherited_and_unknown_close(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	jb_init(&j);
	jb_inherited(&j, 100, 5, MAP, 4, "start");
	jb_close(&j, 100, 9, MAP, 8, 0, 0);
	jb_close(&j, 100, 9, MAP, 8, 0, 0);
	int64_t s = jb_snapshot(&j, 100);
	jb_snap_fd(&j, s, 5, MAP, 4);
	jb_snap_pin(&j, s, "/sys/fs/bpf/m", MAP, 4);
	run_json(&j, &r, 0);
	expect_sites(r.out, "outstanding@-:1");
	char *ns = jq(r.out, "SELECT json_extract(?1, '$.findings[0].no_stack')");
	assert_non_null(strstr(ns, "inherited when the process started"));
	free(ns);
	char *w = jq(r.out, "SELECT json_extract(?1, '$.processes[0].warnings[0]')");
	assert_string_equal(w, "close of fd 9 that the journal does not show open (2 times)");
	free(w);
	run_free(&r);
	jb_cleanup(&j);
}

/* Events stored out of time order (two writers) are replayed in ts order. */
static void test_out_of_order_rows(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	jb_init(&j);
	int64_t a = jb_stack1(&j, 0xa000);
	int64_t t0 = j.ts;
	j.ts = t0 + 5000000;
	jb_close(&j, 100, 3, MAP, 1, 0, 0);    /* later in time, earlier row */
	j.ts = t0;
	jb_create(&j, 100, 3, MAP, 1, a);
	j.ts = t0 + 9000000;
	jb_snapshot(&j, 100);
	run_json(&j, &r, 0);
	expect_sites(r.out, "");
	assert_int_equal(jq_long(r.out, "SELECT json_array_length(?1, '$.processes[0].warnings')"), 0);
	run_free(&r);
	jb_cleanup(&j);
}

/* A corrupt FD number is reported and skipped, not allocated for. */
static void test_corrupt_fd_number(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	jb_init(&j);
	int64_t a = jb_stack1(&j, 0xa000);
	jb_create(&j, 100, 2000000000, MAP, 1, a);
	jb_dup(&j, 100, 4, 2000000001, MAP, 1, a);
	jb_create(&j, 100, 3, MAP, 2, a);
	run_json(&j, &r, 3);   /* no leak, but a blind spot */
	expect_sites(r.out, "outstanding@0xa000:1\nunpinned@0xa000:1");
	assert_int_equal(jq_long(r.out, "SELECT json_array_length(?1, '$.processes[0].warnings')"), 2);
	run_free(&r);
	jb_cleanup(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_reuse),
		cmocka_unit_test(test_dup_chain),
		cmocka_unit_test(test_dup2_over_tracked),
		cmocka_unit_test(test_dup2_without_implicit_close),
		cmocka_unit_test(test_fork_child),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_exec_untraced_image),
		cmocka_unit_test(test_events_after_drop),
		cmocka_unit_test(test_no_snapshot),
		cmocka_unit_test(test_inherited_and_unknown_close),
		cmocka_unit_test(test_out_of_order_rows),
		cmocka_unit_test(test_corrupt_fd_number),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
