// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Bad input and bad usage: every one must end with exit 2 and exactly one
 * line on stderr naming the problem, and never with a report.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "jbuild.h"

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
}

/* The report on j.path must fail with exit 2 and one line containing want. */
static void expect_input_error(struct jb *j, const char *want)
{
	struct run r;
	jb_report(j, &r, NULL);
	assert_int_equal(r.rc, 2);
	assert_string_equal(r.out, "");
	assert_int_equal(count_lines(r.err), 1);
	if (!strstr(r.err, want))
		fail_msg("stderr \"%s\" lacks \"%s\"", r.err, want);
	assert_non_null(strstr(r.err, j->path));
	run_free(&r);
}

static void test_empty_file(void **state)
{
	(void)state;
	struct jb j;
	jb_init(&j);
	jb_done(&j);
	write_file(j.path, "", 0);
	expect_input_error(&j, "empty file");
	jb_cleanup(&j);
}

static void test_random_bytes(void **state)
{
	(void)state;
	struct jb j;
	unsigned char buf[8192];
	jb_init(&j);
	jb_done(&j);
	srand(42);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)rand();
	write_file(j.path, buf, sizeof(buf));
	expect_input_error(&j, "not an SQLite database");
	jb_cleanup(&j);
}

static void test_missing_file(void **state)
{
	(void)state;
	struct jb j;
	jb_init(&j);
	jb_done(&j);
	unlink(j.path);
	expect_input_error(&j, "No such file");
	jb_cleanup(&j);
}

static void test_foreign_sqlite(void **state)
{
	(void)state;
	struct jb j;
	sqlite3 *db;
	jb_init(&j);
	jb_done(&j);
	unlink(j.path);
	assert_int_equal(sqlite3_open(j.path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE event(a, b); INSERT INTO event VALUES (1, 2);",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	expect_input_error(&j, "not a bpfleak journal (sqlite application_id 0x0)");
	jb_cleanup(&j);
}

static void test_future_version(void **state)
{
	(void)state;
	struct jb j;
	char sql[64];
	jb_init(&j);
	jb_sql(&j, "COMMIT");
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", BPFLEAK_SCHEMA_VERSION + 1);
	jb_sql(&j, sql);
	jb_sql(&j, "BEGIN");
	expect_input_error(&j, "is newer than this bpfleak-report");
	jb_cleanup(&j);
}

/* Right application_id, but the tables are not there. */
static void test_incomplete_schema(void **state)
{
	(void)state;
	struct jb j;
	sqlite3 *db;
	char sql[96];
	jb_init(&j);
	jb_done(&j);
	unlink(j.path);
	assert_int_equal(sqlite3_open(j.path, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; CREATE TABLE meta(key, value);",
		 BPFLEAK_APPLICATION_ID);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	expect_input_error(&j, "not a complete bpfleak journal");
	jb_cleanup(&j);
}

static void test_truncated(void **state)
{
	(void)state;
	struct jb j;
	struct stat st;
	jb_init(&j);
	int64_t s = jb_stack1(&j, 0xa000);
	for (int i = 0; i < 5000; i++)
		jb_create(&j, 100, 3 + i, BPFLEAK_KIND_MAP, (uint32_t)i + 1, s);
	jb_done(&j);
	assert_int_equal(stat(j.path, &st), 0);
	assert_true(st.st_size > 64 * 1024);
	assert_int_equal(truncate(j.path, st.st_size / 2), 0);
	expect_input_error(&j, "truncated");
	/* Cut inside the header too. */
	assert_int_equal(truncate(j.path, 60), 0);
	expect_input_error(&j, "truncated");
	jb_cleanup(&j);
}

/* A journal that is fine: no input error, and the file is left untouched. */
static void test_read_only(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	struct stat a, b;
	jb_init(&j);
	jb_process(&j, 100, 1, "/bin/x", "start", 1);
	jb_create(&j, 100, 3, BPFLEAK_KIND_MAP, 1, jb_stack1(&j, 0xa000));
	jb_done(&j);
	assert_int_equal(chmod(j.path, 0444), 0);
	assert_int_equal(stat(j.path, &a), 0);
	jb_report(&j, &r, NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, "");
	assert_int_equal(stat(j.path, &b), 0);
	assert_int_equal(a.st_size, b.st_size);
	assert_int_equal(a.st_mtim.tv_sec, b.st_mtim.tv_sec);
	assert_int_equal(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
	run_free(&r);
	jb_cleanup(&j);
}

static void expect_usage_error(struct jb *j, const char *want, ...)
{
	struct run r;
	char *argv[8];
	int n = 0;
	va_list ap;
	va_start(ap, want);
	for (char *a; (a = va_arg(ap, char *)) && n < 7;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	jb_report(j, &r, argv[0], argv[1], argv[2], argv[3], NULL);
	assert_int_equal(r.rc, 2);
	assert_int_equal(count_lines(r.err), 1);
	if (!strstr(r.err, want))
		fail_msg("stderr \"%s\" lacks \"%s\"", r.err, want);
	run_free(&r);
}

static void test_usage_errors(void **state)
{
	(void)state;
	struct jb j;
	jb_init(&j);
	expect_usage_error(&j, "unknown format", "--format", "xml", NULL);
	expect_usage_error(&j, "--min-age needs a duration", "--min-age", "soon", NULL);
	expect_usage_error(&j, "--top needs a positive number", "--top", "0", NULL);
	expect_usage_error(&j, "unknown class", "--class", "duplicate,leaky", NULL);
	expect_usage_error(&j, "one journal at a time", "/tmp/other.db", NULL);
	expect_usage_error(&j, "unknown", "--frobnicate", NULL);
	expect_usage_error(&j, "--pid needs a process id", "--pid", "x", NULL);

	/* No journal at all. */
	char *argv[] = { "bpfleak-report", NULL };
	char *out, *err;
	size_t no, ne;
	FILE *fo = open_memstream(&out, &no), *fe = open_memstream(&err, &ne);
	assert_int_equal(report_main(1, argv, fo, fe), 2);
	fclose(fo);
	fclose(fe);
	assert_non_null(strstr(err, "no journal given"));
	free(out);
	free(err);
	jb_cleanup(&j);
}

static void test_help_version(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	jb_init(&j);
	jb_report(&j, &r, "--help", NULL);
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "usage: bpfleak-report"));
	assert_non_null(strstr(r.out, "--suppressions"));
	run_free(&r);
	jb_report(&j, &r, "--version", NULL);
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, BPFLEAK_VERSION));
	run_free(&r);
	jb_cleanup(&j);
}

static void test_bad_suppressions(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	char path[400];
	jb_init(&j);
	snprintf(path, sizeof(path), "%s/bad.supp", j.dir);
	write_file(path, "{\n  name\n  fun:x\n", 17);
	jb_report(&j, &r, "--suppressions", path, NULL);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "not closed"));
	run_free(&r);
	write_file(path, "{\n  name\n  frame:x\n}\n", 20);
	jb_report(&j, &r, "--suppressions", path, NULL);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "bad.supp:3: not a suppression line"));
	run_free(&r);
	jb_cleanup(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_foreign_sqlite),
		cmocka_unit_test(test_future_version),
		cmocka_unit_test(test_incomplete_schema),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_help_version),
		cmocka_unit_test(test_bad_suppressions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
