// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The syscall tracepoints exist only once tracefs is mounted (Debian does
 * not mount it at boot), and libbpf attaches them through tracefs: mount it
 * where the kernel documents it when it is not there.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include "tracefs.h"

#define TRACEFS_MAGIC 0x74726163
#define TRACEFS_DIR "/sys/kernel/tracing"
#define DEBUGFS_TRACING "/sys/kernel/debug/tracing"

static bool is_tracefs(const char *dir)
{
	struct statfs fs;
	return statfs(dir, &fs) == 0 && (unsigned long)fs.f_type == TRACEFS_MAGIC;
}

int tracefs_ensure(char *err, size_t errcap)
{
	if (is_tracefs(TRACEFS_DIR) || is_tracefs(DEBUGFS_TRACING))
		return 0;
	if (mount("nodev", TRACEFS_DIR, "tracefs", 0, NULL) == 0 || errno == EBUSY)
		return 0;
	snprintf(err, errcap, "cannot mount tracefs at " TRACEFS_DIR ": %s", strerror(errno));
	return -1;
}
