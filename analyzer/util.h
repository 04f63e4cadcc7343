/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
#ifndef BPFLEAK_ANALYZER_UTIL_H
#define BPFLEAK_ANALYZER_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);          /* NULL stays NULL */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grow *arr (element size sz) so that index need-1 fits; new elements are zero. */
void grow_array(void *arr, size_t *cap, size_t need, size_t sz);
#define GROW(arr, cap, need) grow_array(&(arr), &(cap), (need), sizeof(*(arr)))
/* The same without zeroing, for the arrays of millions whose elements are set whole. */
void grow_array_raw(void *arr, size_t *cap, size_t need, size_t sz);
#define GROW_RAW(arr, cap, need) grow_array_raw(&(arr), &(cap), (need), sizeof(*(arr)))

/* "1.25s", "340ms", "12us" into buf. */
const char *fmt_duration(int64_t ns, char *buf, size_t len);
/*
 * later - earlier for timestamps read from a journal, which may lie:
 * saturates instead of overflowing, and is never negative.
 */
static inline int64_t ns_between(int64_t earlier, int64_t later)
{
	int64_t d;
	if (later <= earlier)
		return 0;
	return __builtin_sub_overflow(later, earlier, &d) ? INT64_MAX : d;
}

/* a + b for journal timestamps, saturated instead of overflowing. */
static inline int64_t ns_add(int64_t a, int64_t b)
{
	int64_t r;
	if (!__builtin_add_overflow(a, b, &r))
		return r;
	return b > 0 ? INT64_MAX : INT64_MIN;
}

const char *path_base(const char *path);

int64_t now_monotonic_ns(void);

#endif
