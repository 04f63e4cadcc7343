/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * A small JSON writer: the caller says what comes next (a member, an
 * element, an object or array opening or closing) and the writer puts the
 * commas in.  Strings are escaped the way the analyzer's report escapes
 * them, so both can use it.  Internal: not installed.
 */
#ifndef BPFLEAK_JSONW_H
#define BPFLEAK_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define JSONW_MAX_DEPTH 32

struct jsonw {
	FILE *f;
	/* Between two objects that are elements of an array: ", " unless the
	 * caller wants, say, one object a line (",\n  "). */
	const char *record_sep;
	int depth;
	bool started[JSONW_MAX_DEPTH];   /* something is written at this level */
};

void jsonw_init(struct jsonw *w, FILE *f);

/*
 * key: the member's name inside an object, NULL for an element of an
 * array (or the outermost value).
 */
void jsonw_begin_object(struct jsonw *w, const char *key);
void jsonw_end_object(struct jsonw *w);
void jsonw_begin_array(struct jsonw *w, const char *key);
void jsonw_end_array(struct jsonw *w);

void jsonw_string(struct jsonw *w, const char *key, const char *s);   /* NULL: null */
void jsonw_number(struct jsonw *w, const char *key, double v);       /* %.6g; NaN, inf: null */
void jsonw_int(struct jsonw *w, const char *key, long long v);
void jsonw_bool(struct jsonw *w, const char *key, bool v);
void jsonw_null(struct jsonw *w, const char *key);
/* An array of numbers on one line. */
void jsonw_number_array(struct jsonw *w, const char *key, const double *v, size_t n);
void jsonw_int_array(struct jsonw *w, const char *key, const int *v, size_t n);

/* s quoted and escaped (NULL: null), for callers that lay out their own. */
void jsonw_quote(FILE *f, const char *s);

#endif
