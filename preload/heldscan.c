// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * At the exit of a process that never made a bpf FD: does it hold one it
 * never saw made (inherited over exec, received, made by a raw syscall)?
 * Every dormant process asks this once, so it is done with plain system
 * calls into stack buffers: no malloc, no stdio, no libc pages the host
 * would not have touched (docs/overhead.md, figure 8).
 *
 * Which FDs are open: poll() with no events marks every number that is not
 * one POLLNVAL, 256 numbers a call, and asks nothing of the files.  Only
 * the numbers below the size of the process's FD table need asking, and
 * select() tells that size without a look at /proc (table_size()).  Where
 * the table is larger than polling is worth, the FD directory in /proc is
 * listed instead (costlier: opening it was most of what a dormant /bin/true
 * paid for the shim).  Only an open FD that can be an anonymous inode (or a
 * bpffs token) is read back with readlink.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
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

/* The FD table starts with room for this many, and grows in doublings of it. */
#define TABLE_FIRST 64

/*
 * A number every open FD is below, or -1 when that is more than
 * POLL_MAX_FDS.  The kernel sizes the set select() reads to its FD table:
 * a bit for a number past the table is ignored, a bit below it for a
 * closed FD fails with EBADF.  So with fd n closed, select() on bit n alone
 * returns 0 exactly when the table ends at or below n.  No file is asked
 * anything, and nothing changes.
 */
static int table_size(int limit)
{
	int n = TABLE_FIRST;
	while (n < limit) {
		if (n >= POLL_MAX_FDS)
			return -1;
		struct pollfd p = { .fd = n, .events = 0 };
		if (sys(SYS_poll, (long)&p, 1, 0, 0) != 1 || !(p.revents & POLLNVAL)) {
			n *= 2;   /* open (or unsure): the table goes further */
			continue;
		}
		uint64_t bits[POLL_MAX_FDS / 64 + 1] = { 0 };
		bits[n / 64] = 1ull << (n % 64);
		struct timespec zero = { 0, 0 };
		int saved = errno;
		long r = raw_syscall(SYS_pselect6, n + 1, (long)bits, 0, 0, (long)&zero, 0);
		bool bad_fd = r < 0 && errno == EBADF;
		errno = saved;
		if (r == 0)
			return n;
		if (!bad_fd)
			return -1;
		n *= 2;
	}
	return limit;
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
	if (sys(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, (long)&rl) != 0)
		return proc_scan();
	int limit = rl.rlim_cur > INT32_MAX ? INT32_MAX : (int)rl.rlim_cur;
	int size = table_size(limit);
	return size >= 0 ? poll_scan(size) : proc_scan();
}
