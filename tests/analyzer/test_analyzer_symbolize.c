// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Symbolization against this very test binary: return addresses captured
 * at known lines are recorded as stacks with the binary's real module row
 * (path, build-id, load bias), and the report must name the function, file
 * and line, inlined frames included; then the binary "goes away" (module
 * path changed), its build-id changes, or the journal carries --symbolize
 * frames.  Built -O0 (see analyzer/build.mk).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "jbuild.h"

#define MAP BPFLEAK_KIND_MAP
#define SELF "test_analyzer_symbolize.c"

static uint64_t captured;
static int direct_line, inl_line, outer_line, tail_line;

__attribute__((noinline)) static void capture(void)
{
	captured = (uint64_t)(uintptr_t)__builtin_return_address(0);
}

__attribute__((noinline)) static void site_direct(void)
{
	capture(); direct_line = __LINE__;
}

static inline __attribute__((always_inline)) void inl_helper(void)
{
	capture(); inl_line = __LINE__;
}

__attribute__((noinline)) static void site_outer(void)
{
	inl_helper(); outer_line = __LINE__;
}

/* The call is the last instruction of its line: ip-1 must be used. */
__attribute__((noinline)) static void site_tail(void)
{
	tail_line = __LINE__; capture();
	direct_line += 0;
}

struct self {
	char path[4096];
	char build_id[130];
	uint64_t base, size;
};

static int on_phdr(struct dl_phdr_info *info, size_t size, void *ctx)
{
	struct self *s = ctx;
	(void)size;
	if (info->dlpi_name && info->dlpi_name[0])
		return 0;   /* the main program has an empty name */
	s->base = info->dlpi_addr;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && ph->p_vaddr + ph->p_memsz > s->size)
			s->size = ph->p_vaddr + ph->p_memsz;
		if (ph->p_type != PT_NOTE)
			continue;
		const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const void *)p;
			const char *name = p + sizeof(*nh);
			const unsigned char *desc = (const unsigned char *)name + ((nh->n_namesz + 3) & ~3u);
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(name, "GNU", 4)) {
				for (unsigned k = 0; k < nh->n_descsz && k < 64; k++)
					sprintf(s->build_id + 2 * k, "%02x", desc[k]);
			}
			p = (const char *)desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
	return 1;
}

static struct self self;

static int setup(void **state)
{
	(void)state;
	ssize_t n = readlink("/proc/self/exe", self.path, sizeof(self.path) - 1);
	if (n <= 0)
		return -1;
	self.path[n] = '\0';
	dl_iterate_phdr(on_phdr, &self);
	return self.build_id[0] && self.size ? 0 : -1;
}

/* A journal with one duplicate whose second FD was made at stack ips. */
static void journal_with(struct jb *j, const uint64_t *ips, int n, const char *path,
			 const char *build_id)
{
	jb_init(j);
	jb_module(j, 100, 0, path, build_id, self.base, self.size);
	jb_module(j, 100, 0, "/nonexistent/lib/libbpfleak.so", "", 0x10000, 0x10000);
	jb_module(j, 100, 0, "/nonexistent/lib/libc.so.6", "", 0x30000, 0x10000);
	int64_t a = jb_stack1(j, 0x10), b = jb_stack(j, ips, n);
	jb_create(j, 100, 3, MAP, 1, a);
	jb_create(j, 100, 4, MAP, 1, b);
}

static char *finding_stack(const char *json)
{
	char *s = jq(json, "SELECT group_concat(coalesce(json_extract(s.value, '$.function'), '?') || '@' ||"
		     " coalesce(replace(json_extract(s.value, '$.file'), rtrim(json_extract(s.value, '$.file'),"
		     " replace(json_extract(s.value, '$.file'), '/', '')), ''), '?') || ':' ||"
		     " coalesce(json_extract(s.value, '$.line'), 0) ||"
		     " CASE json_extract(s.value, '$.inlined') WHEN 1 THEN '(inl)' ELSE '' END, ' ')"
		     " FROM json_each(?1, '$.findings') f, json_each(f.value, '$.stack') s"
		     " WHERE json_extract(f.value, '$.class') = 'duplicate'");
	return s ? s : strdup("");
}

static void expect_stack(char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		fail_msg("stack \"%s\", expected \"%s\"", got, want);
	free(got);
}

static void test_function_file_line(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	char want[256];
	site_direct();
	/* Innermost: a shim PC and libc's syscall wrapper, cut from the call site. */
	uint64_t ips[] = { 0x10100, 0x30200, captured };
	journal_with(&j, ips, 3, self.path, self.build_id);
	jb_report(&j, &r, "--format", "json", NULL);
	assert_int_equal(r.rc, 1);
	snprintf(want, sizeof(want), "site_direct@" SELF ":%d", direct_line);
	expect_stack(finding_stack(r.out), want);
	assert_int_equal(jq_long(r.out, "SELECT json_array_length(?1, '$.journal.warnings')"), 0);
	run_free(&r);
	jb_cleanup(&j);
}

static void test_inlined_frames(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	char want[256];
	site_outer();
	uint64_t ips[] = { captured };
	journal_with(&j, ips, 1, self.path, self.build_id);
	jb_report(&j, &r, "--format", "json", NULL);
	assert_int_equal(r.rc, 1);
	snprintf(want, sizeof(want), "inl_helper@" SELF ":%d(inl) site_outer@" SELF ":%d",
		 inl_line, outer_line);
	expect_stack(finding_stack(r.out), want);
	run_free(&r);
	jb_cleanup(&j);
}

static void test_return_address_minus_one(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	char want[256];
	site_tail();
	uint64_t ips[] = { captured };
	journal_with(&j, ips, 1, self.path, self.build_id);
	jb_report(&j, &r, "--format", "json", NULL);
	snprintf(want, sizeof(want), "site_tail@" SELF ":%d", tail_line);
	expect_stack(finding_stack(r.out), want);
	run_free(&r);
	jb_cleanup(&j);
}

/* The binary is gone: module+offset, a warning, and still exit 1. */
static void test_binary_gone(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	char want[64];
	site_direct();
	uint64_t ips[] = { captured };
	journal_with(&j, ips, 1, "/nonexistent/gone/app", self.build_id);
	jb_report(&j, &r, "--format", "json", NULL);
	assert_int_equal(r.rc, 1);
	char *mod = jq(r.out, "SELECT json_extract(?1, '$.findings[0].stack[0].module')");
	assert_string_equal(mod, "/nonexistent/gone/app");
	free(mod);
	char *off = jq(r.out, "SELECT json_extract(?1, '$.findings[0].stack[0].offset')");
	snprintf(want, sizeof(want), "0x%llx", (unsigned long long)(captured - self.base));
	assert_string_equal(off, want);
	free(off);
	char *fn = jq(r.out, "SELECT coalesce(json_extract(?1, '$.findings[0].stack[0].function'), 'null')");
	assert_string_equal(fn, "null");
	free(fn);
	char *w = jq(r.out, "SELECT json_extract(?1, '$.journal.warnings')");
	assert_non_null(strstr(w, "/nonexistent/gone/app is not readable here"));
	free(w);
	run_free(&r);
	jb_report(&j, &r, "--format", "folded", NULL);
	snprintf(want, sizeof(want), "app+0x%llx 1\n", (unsigned long long)(captured - self.base));
	assert_non_null(strstr(r.out, want));
	run_free(&r);
	jb_cleanup(&j);
}

/* The file at the path is another build: reported, never used. */
static void test_build_id_mismatch(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	site_direct();
	uint64_t ips[] = { captured };
	journal_with(&j, ips, 1, self.path, "00112233445566778899aabbccddeeff00112233");
	jb_report(&j, &r, "--format", "json", NULL);
	assert_int_equal(r.rc, 1);
	char *w = jq(r.out, "SELECT json_extract(?1, '$.journal.warnings')");
	assert_non_null(strstr(w, "build-id mismatch"));
	assert_non_null(strstr(w, self.build_id));
	free(w);
	char *fn = jq(r.out, "SELECT coalesce(json_extract(?1, '$.findings[0].stack[0].function'), 'null')");
	assert_string_equal(fn, "null");
	free(fn);
	run_free(&r);
	jb_cleanup(&j);
}

/* --symbolize stores frames; the journal then reports them without the binary. */
static void test_symbolize_store(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	char want[256], sql[512];
	sqlite3 *db;
	site_outer();
	uint64_t ips[] = { captured };
	journal_with(&j, ips, 1, self.path, self.build_id);
	jb_report(&j, &r, "--symbolize", "--quiet", NULL);
	assert_int_equal(r.rc, 1);
	run_free(&r);

	assert_int_equal(sqlite3_open(j.path, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "SELECT group_concat(inline_depth || ':' || function || ':' || line, ' ')"
		 " FROM (SELECT * FROM frame WHERE module_key = '%s' AND offset = %llu ORDER BY inline_depth)",
		 self.build_id, (unsigned long long)(captured - self.base));
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(want, sizeof(want), "0:inl_helper:%d 1:site_outer:%d", inl_line, outer_line);
	const char *got = (const char *)sqlite3_column_text(st, 0);
	if (!got || strcmp(got, want) != 0)
		fail_msg("frame rows \"%s\", expected \"%s\"", got ? got : "(none)", want);
	sqlite3_finalize(st);
	/* The binary is gone on the machine that reads the ticket. */
	assert_int_equal(sqlite3_exec(db, "UPDATE module SET path = '/nonexistent/app' WHERE path NOT"
				      " LIKE '/nonexistent/%'", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	jb_report(&j, &r, "--format", "json", NULL);
	assert_int_equal(r.rc, 1);
	snprintf(want, sizeof(want), "inl_helper@" SELF ":%d(inl) site_outer@" SELF ":%d",
		 inl_line, outer_line);
	expect_stack(finding_stack(r.out), want);
	run_free(&r);
	jb_cleanup(&j);
}

/* A read-only report never writes frames. */
static void test_report_does_not_store(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	sqlite3 *db;
	site_direct();
	uint64_t ips[] = { captured };
	journal_with(&j, ips, 1, self.path, self.build_id);
	jb_report(&j, &r, NULL);
	run_free(&r);
	assert_int_equal(sqlite3_open(j.path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM frame", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	jb_cleanup(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_function_file_line),
		cmocka_unit_test(test_inlined_frames),
		cmocka_unit_test(test_return_address_minus_one),
		cmocka_unit_test(test_binary_gone),
		cmocka_unit_test(test_build_id_mismatch),
		cmocka_unit_test(test_symbolize_store),
		cmocka_unit_test(test_report_does_not_store),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
