// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The three output formats and the options that shape them.  Stacks get
 * names through `frame` rows (what --symbolize stores), so no binary is
 * needed: module "feedface" at 0x400000, 0x401000 = acl_reload (acl.c:214),
 * 0x402000 = main (main.c:80), 0x403000 = load_maps (loader.c:33).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "jbuild.h"

#define MAP BPFLEAK_KIND_MAP

static void named_journal(struct jb *j)
{
	jb_init(j);
	jb_module(j, 100, 0, "/nonexistent/app", "feedface", 0x400000, 0x100000);
	jb_module(j, 200, 0, "/nonexistent/app", "feedface", 0x400000, 0x100000);
	jb_sql(j, "INSERT INTO frame VALUES ('feedface', 4096, 0, 'acl_reload', '/src/acl.c', 214),"
		  " ('feedface', 8192, 0, 'main', '/src/main.c', 80),"
		  " ('feedface', 12288, 0, 'load_maps', '/src/loader.c', 33)");
	jb_process(j, 100, 1, "/usr/bin/gateway", "start", 1);
	jb_object(j, MAP, 1, BPF_MAP_TYPE_HASH, "global_ep", 0);
	uint64_t acl[] = { 0x401000, 0x402000 }, load[] = { 0x403000, 0x402000 };
	int64_t a = jb_stack(j, load, 2), b = jb_stack(j, acl, 2);
	jb_create(j, 100, 3, MAP, 1, a);
	jb_create(j, 100, 11, MAP, 1, b);
	jb_create(j, 100, 12, MAP, 1, b);
	jb_create(j, 200, 5, MAP, 1, b);
	jb_create(j, 200, 6, MAP, 1, b);
	int64_t s = jb_snapshot(j, 100);
	jb_snap_fd(j, s, 3, MAP, 1);
	jb_snap_fd(j, s, 11, MAP, 1);
	jb_snap_fd(j, s, 12, MAP, 1);
	jb_snap_pin(j, s, "/sys/fs/bpf/global_ep", MAP, 1);
}

static long type_is(const char *json, const char *path, const char *type)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT json_type(?1, '%s') = '%s'", path, type);
	long v = jq_long(json, sql);
	if (v != 1)
		fail_msg("%s is not %s", path, type);
	return v;
}

static void test_json_shape(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	named_journal(&j);
	jb_report(&j, &r, "--format", "json", NULL);
	assert_int_equal(r.rc, 1);
	assert_int_equal(jq_long(r.out, "SELECT json_valid(?1)"), 1);
	assert_int_equal(jq_long(r.out, "SELECT json_extract(?1, '$.bpfleak_report')"), 1);
	static const char *const spec[][2] = {
		{ "$.journal", "object" }, { "$.journal.path", "text" },
		{ "$.journal.events", "integer" }, { "$.journal.first_ns", "integer" },
		{ "$.journal.last_ns", "integer" }, { "$.journal.dropped", "integer" },
		{ "$.processes", "array" }, { "$.processes[0].pid", "integer" },
		{ "$.processes[0].exe", "text" }, { "$.processes[0].cmdline", "text" },
		{ "$.processes[0].snapshot", "text" }, { "$.findings", "array" },
		{ "$.findings[0].class", "text" }, { "$.findings[0].pid", "integer" },
		{ "$.findings[0].count", "integer" }, { "$.findings[0].stack", "array" },
		{ "$.findings[0].stack[0].function", "text" }, { "$.findings[0].stack[0].file", "text" },
		{ "$.findings[0].stack[0].line", "integer" }, { "$.findings[0].stack[0].module", "text" },
		{ "$.findings[0].stack[0].ip", "text" }, { "$.findings[0].fds", "array" },
		{ "$.findings[0].fds[0].fd", "integer" }, { "$.findings[0].fds[0].kind", "text" },
		{ "$.findings[0].fds[0].id", "integer" }, { "$.findings[0].fds[0].name", "text" },
		{ "$.findings[0].fds[0].type", "text" }, { "$.findings[0].fds[0].created_ns", "integer" },
		{ "$.findings[0].fds[0].pins", "array" }, { "$.summary", "object" },
		{ "$.summary.open_bpf_fds", "integer" }, { "$.summary.leaked_fds", "integer" },
		{ "$.summary.findings", "integer" },
	};
	for (size_t i = 0; i < sizeof(spec) / sizeof(spec[0]); i++)
		type_is(r.out, spec[i][0], spec[i][1]);
	/* The biggest leak first: duplicate of pid 200 (2) / pid 100 (2) before info. */
	char *first = jq(r.out, "SELECT json_extract(?1, '$.findings[0].class') || ' ' ||"
			 " json_extract(?1, '$.findings[0].stack[0].function') || ' ' ||"
			 " json_extract(?1, '$.findings[0].stack[0].ip') || ' ' ||"
			 " json_extract(?1, '$.findings[0].fds[0].type') || ' ' ||"
			 " json_extract(?1, '$.findings[0].fds[0].name') || ' ' ||"
			 " json_extract(?1, '$.findings[0].fds[0].pins[0]') || ' ' ||"
			 " json_extract(?1, '$.findings[0].fds[0].max_entries')");
	assert_string_equal(first, "duplicate acl_reload 0x401000 hash global_ep /sys/fs/bpf/global_ep 16");
	free(first);
	char *snaps = jq(r.out, "SELECT group_concat(json_extract(value, '$.pid') || '=' ||"
			 " json_extract(value, '$.snapshot'), ' ') FROM json_each(?1, '$.processes')");
	assert_string_equal(snaps, "100=exit 200=none");
	free(snaps);
	/* pid 100: 3 open, 2 leaked; pid 200: 2 open, 1 duplicate. */
	assert_int_equal(jq_long(r.out, "SELECT json_extract(?1, '$.summary.open_bpf_fds')"), 5);
	assert_int_equal(jq_long(r.out, "SELECT json_extract(?1, '$.summary.leaked_fds')"), 3);
	run_free(&r);
	jb_cleanup(&j);
}

static void test_folded(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	named_journal(&j);
	jb_report(&j, &r, "--format", "folded", "--class", "outstanding", "--pid", "100", NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "main (main.c:80);acl_reload (acl.c:214) 2\n"
				   "main (main.c:80);load_maps (loader.c:33) 1\n");
	run_free(&r);
	jb_cleanup(&j);
}

static void test_text(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	named_journal(&j);
	jb_report(&j, &r, NULL);
	assert_int_equal(r.rc, 1);
	static const char *const want[] = {
		"journal: 5 events",
		"process 100 /usr/bin/gateway",
		"snapshot: exit (exit), 3 bpf FDs, 1 pins",
		"process 200 (exe unknown)",
		"snapshot: none -- no clean exit recorded",
		"journal only, stale and unknown_origin not checked",
		"[1] LEAK duplicate: pid ",
		"#0  acl_reload                   /src/acl.c:214",
		"#1  main                         /src/main.c:80",
		"map 1 \"global_ep\" hash key 4 value 8 max_entries 16 flags 0x0 pinned at /sys/fs/bpf/global_ep",
		"fd 11 12; same object as fd 3",
		"info outstanding: pid 100, 2 FDs",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(r.out, want[i]))
			fail_msg("text lacks \"%s\":\n%s", want[i], r.out);
	/*
	 * Each stack is printed once per process (acl_reload's: pid 100 and
	 * pid 200), however many findings share it; the others point back.
	 */
	int printed = 0;
	for (const char *at = r.out; (at = strstr(at, "acl_reload")); at++)
		printed++;
	if (printed != 2)
		fail_msg("the acl_reload stack is printed %d times, want 2:\n%s", printed, r.out);
	if (!strstr(r.out, "the same as [1]") && !strstr(r.out, "the same stack as [1]"))
		fail_msg("no finding points back to [1]:\n%s", r.out);
	run_free(&r);
	jb_cleanup(&j);
}

static void test_top_class_pid(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	named_journal(&j);
	jb_report(&j, &r, "--format", "json", "--top", "1", NULL);
	assert_int_equal(jq_long(r.out, "SELECT json_array_length(?1, '$.findings')"), 1);
	assert_true(jq_long(r.out, "SELECT json_extract(?1, '$.summary.findings')") > 1);
	run_free(&r);
	jb_report(&j, &r, "--format", "json", "--class", "duplicate", NULL);
	char *c = jb_sites(r.out);
	assert_string_equal(c, "duplicate@0x401000:1\nduplicate@0x401000:2");
	free(c);
	run_free(&r);
	jb_report(&j, &r, "--format", "json", "--pid", "200", "--class", "duplicate,outstanding", NULL);
	c = jb_sites(r.out);
	assert_string_equal(c, "duplicate@0x401000:1\noutstanding@0x401000:2");
	free(c);
	assert_int_equal(jq_long(r.out, "SELECT json_array_length(?1, '$.processes')"), 1);
	run_free(&r);
	jb_cleanup(&j);
}

static void suppress(struct jb *j, const char *text, int want_rc, const char *want_sites)
{
	char path[400];
	struct run r;
	snprintf(path, sizeof(path), "%s/s.supp", j->dir);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	jb_report(j, &r, "--format", "json", "--class", "duplicate,outstanding", "--suppressions", path, NULL);
	if (r.rc != want_rc)
		fail_msg("exit %d, expected %d with:\n%s\n%s", r.rc, want_rc, text, r.err);
	char *s = jb_sites(r.out);
	if (strcmp(s, want_sites) != 0)
		fail_msg("with:\n%s\ngot:\n%s\nexpected:\n%s", text, s, want_sites);
	free(s);
	run_free(&r);
}

static void test_suppressions(void **state)
{
	(void)state;
	struct jb j;
	named_journal(&j);
	const char *all = "duplicate@0x401000:1\nduplicate@0x401000:2\noutstanding@0x401000:2\n"
			  "outstanding@0x401000:2\noutstanding@0x403000:1";
	const char *no_acl = "outstanding@0x403000:1";
	/* No leak left: 3, not 0, since pid 200 was killed holding FDs (a blind spot). */
	suppress(&j, "# nothing\n", 1, all);
	suppress(&j, "{\n acl\n fun:acl_reload\n}\n", 3, no_acl);
	suppress(&j, "{\n acl\n fun:acl_*\n fun:main\n}\n", 3, no_acl);
	suppress(&j, "{\n acl\n fun:acl_reload\n fun:nope\n}\n", 1, all);
	suppress(&j, "{\n by-src\n src:acl.c:214\n}\n", 3, no_acl);
	suppress(&j, "{\n by-src\n src:*/src/acl.c\n}\n", 3, no_acl);
	suppress(&j, "{\n by-src\n src:acl.c:215\n}\n", 1, all);
	suppress(&j, "{\n deep\n ...\n fun:main\n}\n", 3, "");
	suppress(&j, "{\n deep\n ...\n src:main.c:80\n ...\n}\n", 3, "");
	/* One pattern per frame, from the top: obj:app is frame 0, so load_maps cannot be frame 1. */
	suppress(&j, "{\n by-obj\n obj:app\n fun:load_maps\n}\n", 1, all);
	suppress(&j, "{\n by-obj\n obj:app\n fun:main\n}\n", 3, "");
	suppress(&j, "{\n by-obj\n obj:libbpf.so*\n}\n", 1, all);
	suppress(&j, "{\n only-info\n class:outstanding\n fun:acl_reload\n}\n", 1,
		 "duplicate@0x401000:1\nduplicate@0x401000:2\noutstanding@0x403000:1");
	suppress(&j, "{\n a\n fun:x\n}\n# two blocks\n{\n b\n class:duplicate\n fun:acl_reload\n}\n", 3,
		 "outstanding@0x401000:2\noutstanding@0x401000:2\noutstanding@0x403000:1");
	jb_cleanup(&j);
}

/* --pid of a running process: its FDs read from /proc now. */
static void test_live_pid(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	char pid[16], sql[256];
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 1;
	int fd = (int)syscall(__NR_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
	if (fd < 0)
		skip();
	struct bpf_map_info info;
	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (unsigned)fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (uint64_t)(uintptr_t)&info;
	assert_int_equal(syscall(__NR_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)), 0);
	int fd2 = dup(fd);   /* a second FD the journal does not know */

	jb_init(&j);
	int me = getpid();
	/* The journal says it is flushed past the live snapshot: no waiting. */
	jb_process(&j, me, 1, "/proc/self/exe", "start", 0);
	jb_process_flushed(&j, me, INT64_MAX / 2);
	jb_create(&j, me, fd, MAP, info.id, jb_stack1(&j, 0xa000));
	jb_create(&j, me, 900, MAP, 999999, jb_stack1(&j, 0xb000));   /* closed unseen */
	snprintf(pid, sizeof(pid), "%d", me);
	jb_report(&j, &r, "--format", "json", "--pid", pid, NULL);
	assert_int_equal(r.rc, 1);   /* stale fd 900 */
	char *s = jq(r.out, "SELECT json_extract(?1, '$.processes[0].snapshot')");
	assert_string_equal(s, "live");
	free(s);
	char *sites = jb_sites(r.out);
	/* The dup the shim did not see is the extra FD on the map, with no site. */
	assert_string_equal(sites, "duplicate@-:1\noutstanding@0xa000:1\nstale@0xb000:1\n"
				   "unknown_origin@-:1\nunpinned@-:1\nunpinned@0xa000:1");
	free(sites);
	snprintf(sql, sizeof(sql), "SELECT json_extract(value, '$.fds[0].fd') FROM json_each(?1, '$.findings')"
		 " WHERE json_extract(value, '$.class') = 'unknown_origin'");
	assert_int_equal(jq_long(r.out, sql), fd2);
	run_free(&r);
	jb_cleanup(&j);

	/* A journal from another boot cannot be compared with /proc now. */
	jb_init(&j);
	jb_sql(&j, "INSERT OR REPLACE INTO meta VALUES ('boot_id', '00000000-0000-0000-0000-000000000000')");
	jb_create(&j, me, fd, MAP, info.id, jb_stack1(&j, 0xa000));
	jb_report(&j, &r, "--pid", pid, NULL);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "another boot"));
	run_free(&r);
	jb_cleanup(&j);
	close(fd2);
	close(fd);
}

static void test_pid_not_found(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	jb_init(&j);
	jb_create(&j, 100, 3, MAP, 1, jb_stack1(&j, 0xa000));
	jb_report(&j, &r, "--pid", "2147483646", NULL);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "neither in the journal nor running"));
	run_free(&r);
	jb_cleanup(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_shape),
		cmocka_unit_test(test_folded),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_top_class_pid),
		cmocka_unit_test(test_suppressions),
		cmocka_unit_test(test_live_pid),
		cmocka_unit_test(test_pid_not_found),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
