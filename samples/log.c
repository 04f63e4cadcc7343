// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* The gateway's messages, and libbpf's. */
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "loader.h"

static bool verbose;

void msg(const char *fmt, ...)
{
	va_list ap;

	fputs("gateway: ", stdout);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

void err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("gateway: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void log_libbpf(bool on)
{
	verbose = on;
	libbpf_set_print(libbpf_print);
}
