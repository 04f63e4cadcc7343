// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* The JSON writer (common/jsonw.c): commas, nesting, escaping, numbers. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include "jsonw.h"

struct out {
	char *text;
	size_t len;
	FILE *f;
	struct jsonw w;
};

static void start(struct out *o)
{
	o->text = NULL;
	o->f = open_memstream(&o->text, &o->len);
	assert_non_null(o->f);
	jsonw_init(&o->w, o->f);
}

static void expect(struct out *o, const char *want)
{
	assert_int_equal(fclose(o->f), 0);
	assert_string_equal(o->text, want);
	free(o->text);
}

static void test_members_and_nesting(void **state)
{
	(void)state;
	struct out o;
	start(&o);
	jsonw_begin_object(&o.w, NULL);
	jsonw_int(&o.w, "n", -3);
	jsonw_string(&o.w, "s", "x");
	jsonw_null(&o.w, "z");
	jsonw_begin_object(&o.w, "inner");
	jsonw_bool(&o.w, "t", true);
	jsonw_end_object(&o.w);
	jsonw_begin_array(&o.w, "empty");
	jsonw_end_array(&o.w);
	jsonw_bool(&o.w, "f", false);
	jsonw_end_object(&o.w);
	expect(&o, "{\"n\": -3, \"s\": \"x\", \"z\": null, \"inner\": {\"t\": true}, "
		   "\"empty\": [], \"f\": false}");
}

static void test_records_and_arrays(void **state)
{
	(void)state;
	struct out o;
	start(&o);
	o.w.record_sep = ",\n  ";
	jsonw_begin_object(&o.w, NULL);
	jsonw_begin_array(&o.w, "rows");
	for (int i = 0; i < 3; i++) {
		jsonw_begin_object(&o.w, NULL);
		jsonw_int(&o.w, "i", i);
		jsonw_end_object(&o.w);
	}
	jsonw_end_array(&o.w);
	const double v[] = { 1.5, NAN, 1e6 };
	jsonw_number_array(&o.w, "v", v, 3);
	const int k[] = { 0, 7 };
	jsonw_int_array(&o.w, "k", k, 2);
	jsonw_number(&o.w, "inf", INFINITY);
	jsonw_end_object(&o.w);
	expect(&o, "{\"rows\": [{\"i\": 0},\n  {\"i\": 1},\n  {\"i\": 2}], "
		   "\"v\": [1.5, null, 1e+06], \"k\": [0, 7], \"inf\": null}");
}

static void test_escaping(void **state)
{
	(void)state;
	struct out o;
	start(&o);
	jsonw_string(&o.w, NULL, "a\"b\\c\nd\re\tf\x01g\x7f\xc3\xa9");
	jsonw_quote(o.f, NULL);
	expect(&o, "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\x7f\xc3\xa9\"null");
}

/* JSON is UTF-8: each byte of a stray byte, a truncated or an overlong
 * sequence becomes U+FFFD, as in the report's JSON; valid ones pass whole. */
static void test_invalid_utf8(void **state)
{
	(void)state;
	struct out o;
	start(&o);
	jsonw_quote(o.f, "a\xff" "b\xe2\x82" "c\xc0\xaf" "d\xf0\x9f\x98\x80");
	expect(&o, "\"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffdd\xf0\x9f\x98\x80\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_members_and_nesting),
		cmocka_unit_test(test_records_and_arrays),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_invalid_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
