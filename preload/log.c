// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The shim's few warnings.  They go to BPFLEAK_LOG when it is set, else to
 * fd 2 -- but only while fd 2 is still the file it was when the program
 * started: a daemon that closes stderr and opens a data file (which then
 * gets number 2) must not find our lines in its data.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "shim.h"

static dev_t stderr_dev;
static ino_t stderr_ino;
static bool stderr_known;

void log_init(void)
{
	struct stat st;
	/* A plain system call: see self_init(). */
	stderr_known = raw_syscall(SYS_fstat, STDERR_FILENO, (long)&st, 0, 0, 0, 0) == 0;
	if (stderr_known) {
		stderr_dev = st.st_dev;
		stderr_ino = st.st_ino;
	}
}

static bool stderr_is_original(void)
{
	struct stat st;
	return stderr_known && fstat(STDERR_FILENO, &st) == 0 && st.st_dev == stderr_dev &&
	       st.st_ino == stderr_ino;
}

void shim_warn(const char *fmt, ...)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "bpfleak[%d]: ", (int)getpid());
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	buf[len++] = '\n';
	shim_guard++;
	if (shim_cfg.log[0]) {
		int fd = open(shim_cfg.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0) {
			ssize_t w = write(fd, buf, len);
			(void)w;
			real.close(fd);
		}
	} else if (stderr_is_original()) {
		ssize_t w = write(STDERR_FILENO, buf, len);
		(void)w;
	}
	shim_guard--;
}
