/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * out(): one line of facts on stdout for the test that runs a host program
 * under the shim.  write(2), not stdio: hosts fork and exec, and a buffered
 * line must neither be lost nor printed twice.
 */
#ifndef BPFLEAK_TEST_HOST_OUT_H
#define BPFLEAK_TEST_HOST_OUT_H

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static void out(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	ssize_t w = write(STDOUT_FILENO, buf, (size_t)n);
	(void)w;
}

#endif
