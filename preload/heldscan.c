// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * At the exit of a process that never made a bpf FD: does it hold one it
 * never saw made (inherited over exec, received, made by a raw syscall)?
 * Every dormant process asks this once, so it is done with plain system
 * calls into stack buffers: no malloc, no stdio, no libc pages the host
 * would not have touched (docs/overhead.md, figure 8).
 *
 * Which FDs are open: poll() with no events marks every number that is not
 * one POLLNVAL, 256 numbers a call, and asks nothing of the files.  Where
 * RLIMIT_NOFILE allows more numbers than that is worth, the FD directory
 * in /proc is listed instead (costlier: procfs makes an inode per entry).
 * Only an open FD that can be an anonymous inode is read back with
 * readlink.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <bpfleak/journal.h>
#include <bpfleak/procfs.h>
#include "shim.h"

#define POLL_CHUNK 256
/* Above this many numbers, listing /proc is cheaper than polling them all. */
#define POLL_MAX_FDS 2048

static long sys(long nr, long a1, long a2, long a3, long a4)
{
	return raw_syscall(nr, a1, a2, a3, a4, 0, 0);
}

static bool is_bpf_fd(int fd)
{
	struct stat st;
	if (sys(SYS_fstat, fd, (long)&st, 0, 0) != 0)
		return false;
	/* An anonymous inode has no file type (or, on a kernel that gives it
	 * one, a regular file's): nothing else can be a bpf FD. */
	unsigned int type = st.st_mode & S_IFMT;
	if (type != 0 && type != S_IFREG)
		return false;
	char path[48] = "/proc/thread-self/fd/", target[64];
	size_t at = strlen(path);
	char digits[12];
	int n = 0;
	do
		digits[n++] = (char)('0' + fd % 10);
	while ((fd /= 10) && n < (int)sizeof(digits));
	while (n)
		path[at++] = digits[--n];
	path[at] = '\0';
	long len = sys(SYS_readlinkat, AT_FDCWD, (long)path, (long)target, sizeof(target) - 1);
	if (len <= 0)
		return false;
	target[len] = '\0';
	/* Every bpf kind, as the exit snapshot tells them (btf, bpf_link, tokens too). */
	return bpfleak_kind_from_target(target) != BPFLEAK_KIND_UNKNOWN;
}

static bool poll_scan(int limit)
{
	struct pollfd p[POLL_CHUNK];
	int chunk = sigstack_room(sizeof(p) + 1024) ? POLL_CHUNK : 16;
	for (int first = 0; first < limit; first += chunk) {
		int n = limit - first < chunk ? limit - first : chunk;
		for (int i = 0; i < n; i++)
			p[i] = (struct pollfd){ .fd = first + i, .events = 0 };
		if (sys(SYS_poll, (long)p, n, 0, 0) < 0)
			return false;
		for (int i = 0; i < n; i++)
			if (!(p[i].revents & POLLNVAL) && is_bpf_fd(first + i))
				return true;
	}
	return false;
}

struct dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static bool proc_scan(void)
{
	/* After main() left through pthread_exit, /proc/self/fd shows nothing. */
	bool main_thread = sys(SYS_gettid, 0, 0, 0, 0) == self.pid;
	int dirfd = (int)sys(SYS_openat, AT_FDCWD,
			     (long)(main_thread ? "/proc/self/fd" : "/proc/thread-self/fd"),
			     O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (dirfd < 0)
		return false;
	_Alignas(8) char buf[2048];
	bool found = false;
	long n;
	while (!found && (n = sys(SYS_getdents64, dirfd, (long)buf, sizeof(buf), 0)) > 0)
		for (long off = 0; off < n && !found;) {
			const struct dirent64 *de = (const struct dirent64 *)(buf + off);
			off += de->d_reclen;
			int fd = 0;
			const char *c = de->d_name;
			for (; *c >= '0' && *c <= '9'; c++)
				fd = fd * 10 + (*c - '0');
			found = c != de->d_name && !*c && fd != dirfd && is_bpf_fd(fd);
		}
	sys(SYS_close, dirfd, 0, 0, 0);
	return found;
}

bool heldscan_any_bpf_fd(void)
{
	struct rlimit rl;
	if (sys(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, (long)&rl) == 0 && rl.rlim_cur <= POLL_MAX_FDS)
		return poll_scan((int)rl.rlim_cur);
	return proc_scan();
}
