// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* Escaping of untrusted text for every report format (escape.h says which). */
#include <stdlib.h>
#include <string.h>
#include "escape.h"
#include "util.h"

/* Code points a reader must see as an escape rather than have acted upon. */
static int hidden(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c ||
	       cp == 0x200e || cp == 0x200f || cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * Walk s: each piece that needs no escape goes to plain(), each escape
 * ("\x1b", "\\", ...) to plain() as well but already spelt out; the format's
 * own quoting is plain()'s job.
 */
static void walk(FILE *out, const char *s, void (*plain)(FILE *, const char *, size_t))
{
	const unsigned char *p = (const unsigned char *)s;
	char buf[16];
	if (!s)
		return;
	while (*p) {
		uint32_t cp;
		size_t n = utf8_next(p, &cp);
		if (n == 0) {
			snprintf(buf, sizeof(buf), "\\x%02x", *p);
			plain(out, buf, strlen(buf));
			p++;
			continue;
		}
		if (cp == '\\') {
			plain(out, "\\\\", 2);
		} else if (cp == '\n') {
			plain(out, "\\n", 2);
		} else if (cp == '\r') {
			plain(out, "\\r", 2);
		} else if (cp == '\t') {
			plain(out, "\\t", 2);
		} else if (hidden(cp)) {
			snprintf(buf, sizeof(buf), cp < 0x80 ? "\\x%02x" : "\\u%04x", (unsigned)cp);
			plain(out, buf, strlen(buf));
		} else {
			plain(out, (const char *)p, n);
		}
		p += n;
	}
}

static void put_raw(FILE *out, const char *s, size_t n)
{
	fwrite(s, 1, n, out);
}

void esc_text(FILE *out, const char *s)
{
	walk(out, s, put_raw);
}

char *esc_text_dup(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return xstrdup(s ? s : "");
	esc_text(f, s);
	fclose(f);
	return buf;
}

static void put_html(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(s[i], out);
		}
	}
}

void esc_html(FILE *out, const char *s)
{
	walk(out, s, put_html);
}

static size_t longest_run(const char *s, char c)
{
	size_t best = 0, run = 0;
	for (; s && *s; s++) {
		run = *s == c ? run + 1 : 0;
		if (run > best)
			best = run;
	}
	return best;
}

static void put_md_cell_code(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '|')
			fputc('\\', out);
		fputc(s[i], out);
	}
}

void esc_md_code(FILE *out, const char *s, int in_table)
{
	char *t = esc_text_dup(s ? s : "");
	if (!*t) {
		fputs("` `", out);   /* "``" would open a fence, not an empty span */
		free(t);
		return;
	}
	size_t fence = longest_run(t, '`') + 1, len = strlen(t);
	/* One space each side is stripped by the reader when both are there. */
	int pad = (t[0] == '`' || t[len - 1] == '`' || t[0] == ' ' || t[len - 1] == ' ');
	for (size_t i = 0; i < fence; i++)
		fputc('`', out);
	if (pad)
		fputc(' ', out);
	if (in_table)
		put_md_cell_code(out, t, len);
	else
		fputs(t, out);
	if (pad)
		fputc(' ', out);
	for (size_t i = 0; i < fence; i++)
		fputc('`', out);
	free(t);
}

size_t md_fence_len(const char *text)
{
	size_t n = longest_run(text, '`') + 1;
	return n < 3 ? 3 : n;
}
