// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The libc functions the shim wraps, found with dlsym(RTLD_NEXT) in the
 * constructor.  Until then each pointer holds a raw system call of the same
 * meaning.  That matters when an allocator preloaded beside us (jemalloc)
 * initialises itself: its start-up calls syscall()/close(), and calling
 * dlsym from there would re-enter the allocator's own, non-recursive,
 * initialisation lock.  The hooks therefore never call dlsym.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include "shim.h"

NO_TSAN long raw_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	long ret;
#if defined(__x86_64__)
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a1;
	register long x1 __asm__("x1") = a2;
	register long x2 __asm__("x2") = a3;
	register long x3 __asm__("x3") = a4;
	register long x4 __asm__("x4") = a5;
	register long x5 __asm__("x5") = a6;
	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	ret = x0;
#else
#error "raw_syscall: add this architecture"
#endif
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

#define RAW(nr, a, b, c) raw_syscall(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static long fb_syscall(long nr, ...)
{
	va_list ap;
	va_start(ap, nr);
	long a[6];
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	return raw_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static int fb_close(int fd) { return (int)RAW(SYS_close, fd, 0, 0); }
static int fb_close_range(unsigned int f, unsigned int l, int fl) { return (int)RAW(SYS_close_range, f, l, fl); }
static void fb_closefrom(int fd) { RAW(SYS_close_range, fd, ~0u, 0); }
static int fb_dup(int fd) { return (int)RAW(SYS_dup, fd, 0, 0); }
static int fb_dup3(int o, int n, int fl) { return (int)RAW(SYS_dup3, o, n, fl); }
static int fb_bpf(int cmd, void *attr, unsigned int size) { return (int)RAW(SYS_bpf, cmd, attr, size); }
static int fb_unshare(int flags) { return (int)RAW(SYS_unshare, flags, 0, 0); }
NO_TSAN static int fb_sigaltstack(const void *ss, void *old) { return (int)RAW(SYS_sigaltstack, ss, old, 0); }

static int fb_dup2(int o, int n)
{
#ifdef SYS_dup2
	return (int)RAW(SYS_dup2, o, n, 0);
#else
	if (o == n)
		return (int)RAW(SYS_fcntl, o, 1 /* F_GETFD */, 0) < 0 ? -1 : n;
	return fb_dup3(o, n, 0);
#endif
}

static int fb_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	return (int)RAW(SYS_fcntl, fd, cmd, arg);
}

static int fb_execve(const char *p, char *const a[], char *const e[]) { return (int)RAW(SYS_execve, p, a, e); }

static int fb_execveat(int dirfd, const char *p, char *const a[], char *const e[], int fl)
{
	return (int)raw_syscall(SYS_execveat, dirfd, (long)p, (long)a, (long)e, fl, 0);
}

static int fb_fexecve(int fd, char *const a[], char *const e[])
{
	return fb_execveat(fd, "", a, e, 0x1000 /* AT_EMPTY_PATH */);
}

static void fb_exit(int status)
{
	for (;;)
		RAW(SYS_exit_group, status, 0, 0);
}

struct real_fns real = {
	.syscall = fb_syscall,
	.close = fb_close,
	.close_range = fb_close_range,
	.closefrom = fb_closefrom,
	.dup = fb_dup,
	.dup2 = fb_dup2,
	.dup3 = fb_dup3,
	.fcntl = fb_fcntl,
	.fcntl64 = fb_fcntl,
	.bpf = fb_bpf,
	.execve = fb_execve,
	.execveat = fb_execveat,
	.fexecve = fb_fexecve,
	._exit = fb_exit,
	.sigaltstack = fb_sigaltstack,
	.unshare = fb_unshare,
	/* bpf() is never looked up: glibc has none, and a failed dlsym
	 * allocates, which an allocator still initialising cannot take.
	 * execvpe, posix_spawn*, pthread_exit, dlclose and clone have no system-call
	 * twin; they are only ever called by a running program, long after
	 * the constructor resolved them. */
};

static _Atomic int resolved;

/* Replace a fallback only with a function dlsym found. */
#define RESOLVE(name)                                                     \
	do {                                                              \
		void *p_ = dlsym(RTLD_NEXT, #name);                       \
		if (p_)                                                   \
			real.name = (__typeof__(real.name))p_;            \
	} while (0)

void real_resolve(void)
{
	int expected = 0;
	if (!atomic_compare_exchange_strong(&resolved, &expected, 1))
		return;
	RESOLVE(syscall);
	RESOLVE(close);
	RESOLVE(close_range);
	RESOLVE(closefrom);
	RESOLVE(dup);
	RESOLVE(dup2);
	RESOLVE(dup3);
	RESOLVE(fcntl);
	RESOLVE(fcntl64);
	RESOLVE(execve);
	RESOLVE(execveat);
	RESOLVE(fexecve);
	RESOLVE(execvpe);
	RESOLVE(posix_spawn);
	RESOLVE(posix_spawnp);
	RESOLVE(_exit);
	RESOLVE(pthread_exit);
	RESOLVE(dlclose);
	RESOLVE(sigaltstack);
	RESOLVE(unshare);
	RESOLVE(clone);
	/* A name some libc lacks would have left its error for the host's dlerror(). */
	dlerror();
}
