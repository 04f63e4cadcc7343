// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* The JSON writer (see jsonw.h). */
#include <math.h>
#include "jsonw.h"
#include "utf8.h"

void jsonw_quote(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20) {
				fprintf(f, "\\u%04x", *p);
			} else if (*p >= 0x80) {
				/* JSON is UTF-8: a byte that is not stands for itself as U+FFFD. */
				uint32_t cp;
				size_t n = utf8_next(p, &cp);
				if (n)
					fwrite(p, 1, n, f);
				else
					fputs("\\ufffd", f);
				p += n ? n - 1 : 0;
			} else {
				fputc(*p, f);
			}
		}
	}
	fputc('"', f);
}

void jsonw_init(struct jsonw *w, FILE *f)
{
	w->f = f;
	w->record_sep = ", ";
	w->depth = 0;
	w->started[0] = false;
}

/* The comma before the next value at this level, and its key. */
static void next_value(struct jsonw *w, const char *key, bool is_record)
{
	bool *started = &w->started[w->depth];
	if (*started)
		fputs(is_record && !key ? w->record_sep : ", ", w->f);
	*started = true;
	if (key) {
		jsonw_quote(w->f, key);
		fputs(": ", w->f);
	}
}

static void open_level(struct jsonw *w, const char *key, char bracket)
{
	next_value(w, key, bracket == '{');
	fputc(bracket, w->f);
	if (w->depth < JSONW_MAX_DEPTH - 1)
		w->depth++;
	w->started[w->depth] = false;
}

static void close_level(struct jsonw *w, char bracket)
{
	fputc(bracket, w->f);
	if (w->depth > 0)
		w->depth--;
}

void jsonw_begin_object(struct jsonw *w, const char *key)
{
	open_level(w, key, '{');
}

void jsonw_end_object(struct jsonw *w)
{
	close_level(w, '}');
}

void jsonw_begin_array(struct jsonw *w, const char *key)
{
	open_level(w, key, '[');
}

void jsonw_end_array(struct jsonw *w)
{
	close_level(w, ']');
}

void jsonw_string(struct jsonw *w, const char *key, const char *s)
{
	next_value(w, key, false);
	jsonw_quote(w->f, s);
}

static void number(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.6g", v);
	else
		fputs("null", f);
}

void jsonw_number(struct jsonw *w, const char *key, double v)
{
	next_value(w, key, false);
	number(w->f, v);
}

void jsonw_int(struct jsonw *w, const char *key, long long v)
{
	next_value(w, key, false);
	fprintf(w->f, "%lld", v);
}

void jsonw_bool(struct jsonw *w, const char *key, bool v)
{
	next_value(w, key, false);
	fputs(v ? "true" : "false", w->f);
}

void jsonw_null(struct jsonw *w, const char *key)
{
	next_value(w, key, false);
	fputs("null", w->f);
}

void jsonw_number_array(struct jsonw *w, const char *key, const double *v, size_t n)
{
	next_value(w, key, false);
	fputc('[', w->f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(", ", w->f);
		number(w->f, v[i]);
	}
	fputc(']', w->f);
}

void jsonw_int_array(struct jsonw *w, const char *key, const int *v, size_t n)
{
	next_value(w, key, false);
	fputc('[', w->f);
	for (size_t i = 0; i < n; i++)
		fprintf(w->f, "%s%d", i ? ", " : "", v[i]);
	fputc(']', w->f);
}
