// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The shim's copy of sqlite: configured once, before its first use, so that
 * the FDs it opens for the journal are the shim's own -- kept at high
 * numbers out of the host's way, and marked owned so a host closing "every
 * FD" cannot pull them from under sqlite (hooks_fd.c close_owned).
 *
 * sqlite's unix VFS opens and closes files through a table of system calls
 * that can be replaced; that is the seam used here.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <unistd.h>
#include <sqlite3.h>
#include "shim.h"

static int high_fd_base = 3;

static int open_journal_file(const char *path, int flags, int mode)
{
	int fd = open(path, flags | O_CLOEXEC, mode);
	/* Out of the host's way: it sees its own FD numbers as without the shim. */
	if (fd >= 0 && fd < high_fd_base) {
		int high = fcntl(fd, F_DUPFD_CLOEXEC, high_fd_base);
		if (high >= 0) {
			close(fd);   /* the global symbol: a sanitizer's interceptor sees it */
			fd = high;
		}
	}
	if (fd >= 0)
		fdtable_mark_owned(fd, OWNER_JOURNAL);
	return fd;
}

static int close_journal_file(int fd)
{
	fdtable_unmark_owned(fd);
	/* Through the global symbol (our hook passes an unmarked FD straight on),
	 * so that a sanitizer's close interceptor sees the FD's end. */
	return close(fd);
}

/*
 * Our sqlite is a private static copy, and every use of it is serialized by
 * the writer's mutex, so its own mutexes are pure cost on the writer's path:
 * switch them off before it initialises.
 */
void journal_fds_setup(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 256)
		high_fd_base = (rl.rlim_cur < 1024 ? (int)rl.rlim_cur : 1024) - 64;
	sqlite3_vfs *unix_vfs = sqlite3_vfs_find("unix");
	if (unix_vfs && unix_vfs->iVersion >= 3 && unix_vfs->xSetSystemCall) {
		unix_vfs->xSetSystemCall(unix_vfs, "open", (sqlite3_syscall_ptr)open_journal_file);
		unix_vfs->xSetSystemCall(unix_vfs, "close", (sqlite3_syscall_ptr)close_journal_file);
	}
}
