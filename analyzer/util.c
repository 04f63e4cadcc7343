// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "escape.h"
#include "util.h"

/* The analyzer is a batch tool: out of memory has no useful recovery. */
static void oom(void)
{
	fputs("bpfleak-report: out of memory\n", stderr);
	exit(2);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		oom();
	return d;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	return s;
}

void grow_array_raw(void *arr, size_t *cap, size_t need, size_t sz)
{
	void **a = arr;
	if (need <= *cap)
		return;
	size_t n = *cap ? *cap : 8;
	while (n < need)
		n *= 2;
	*a = xrealloc(*a, n * sz);
	*cap = n;
}

void grow_array(void *arr, size_t *cap, size_t need, size_t sz)
{
	size_t old = *cap;
	grow_array_raw(arr, cap, need, sz);
	if (*cap > old)
		memset((char *)*(void **)arr + old * sz, 0, (*cap - old) * sz);
}

const char *fmt_duration(int64_t ns, char *buf, size_t len)
{
	if (ns < 0)
		snprintf(buf, len, "?");
	else if (ns >= 3600000000000ll)
		snprintf(buf, len, "%.1fh", ns / 3600e9);
	else if (ns >= 60000000000ll)
		snprintf(buf, len, "%.1fm", ns / 60e9);
	else if (ns >= 1000000000ll)
		snprintf(buf, len, "%.2fs", ns / 1e9);
	else if (ns >= 1000000)
		snprintf(buf, len, "%.1fms", ns / 1e6);
	else if (ns >= 1000)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else
		snprintf(buf, len, "%lldns", (long long)ns);
	return buf;
}

const char *path_base(const char *path)
{
	if (!path)
		return "";
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

int64_t now_monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}
