// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The exported symbols: the only functions of libbpfleak.so the host sees.
 * Each resolves the real libc function lazily (a hook can fire before our
 * constructor) and hands over to a hook.  libbpf reaches the kernel through
 * syscall(__NR_bpf, ...) and also calls syscall(__NR_dup3, ...) and friends,
 * so syscall() routes those numbers to the same hooks as the libc calls.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "shim.h"

#define EXPORT __attribute__((visibility("default")))
#define ENSURE(fn) do { if (__builtin_expect(!real.fn, 0)) real_resolve(); } while (0)

EXPORT long syscall(long nr, ...)
{
	va_list ap;
	va_start(ap, nr);
	long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
	long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
	va_end(ap);
	ENSURE(syscall);

	switch (nr) {
	case SYS_bpf:
		return hook_bpf((int)a1, (void *)a2, (unsigned int)a3, false);
	case SYS_close:
		return hook_close((int)a1);
	case SYS_dup:
		return hook_dup((int)a1);
	case SYS_dup2:
		return hook_dup3((int)a1, (int)a2, 0, true);
	case SYS_dup3:
		return hook_dup3((int)a1, (int)a2, (int)a3, false);
	case SYS_fcntl:
		if (a2 == F_DUPFD || a2 == F_DUPFD_CLOEXEC)
			return hook_fcntl_dup((int)a1, (int)a2, a3, real.fcntl);
		break;
	case SYS_close_range:
		return hook_close_range((unsigned int)a1, (unsigned int)a2, (int)a3);
	default:
		break;
	}
	return real.syscall(nr, a1, a2, a3, a4, a5, a6);
}

/* glibc 2.36 has no bpf(); other libcs and some programs' libraries do. */
EXPORT int bpf(int cmd, void *attr, unsigned int size)
{
	ENSURE(syscall);
	return (int)hook_bpf(cmd, attr, size, true);
}

EXPORT int close(int fd)
{
	ENSURE(close);
	return hook_close(fd);
}

EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	ENSURE(close_range);
	if (!real.close_range)
		return (int)real.syscall(SYS_close_range, first, last, flags);
	return hook_close_range(first, last, flags);
}

EXPORT void closefrom(int lowfd)
{
	ENSURE(closefrom);
	hook_closefrom(lowfd);
}

EXPORT int dup(int oldfd)
{
	ENSURE(dup);
	return hook_dup(oldfd);
}

EXPORT int dup2(int oldfd, int newfd)
{
	ENSURE(dup2);
	return hook_dup3(oldfd, newfd, 0, true);
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	ENSURE(dup3);
	return hook_dup3(oldfd, newfd, flags, false);
}

static int fcntl_common(int fd, int cmd, long arg, int (*real_fcntl)(int, int, ...))
{
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return hook_fcntl_dup(fd, cmd, arg, real_fcntl);
	return real_fcntl(fd, cmd, arg);
}

/* glibc reads the third argument as a pointer-sized word whatever cmd is. */
EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	ENSURE(fcntl);
	return fcntl_common(fd, cmd, arg, real.fcntl);
}

/* libbpf 1.1 imports fcntl64, not fcntl. */
EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	ENSURE(fcntl64);
	return fcntl_common(fd, cmd, arg, real.fcntl64);
}

/* ---- exec: write what is queued before the image (and queue) goes away ---- */

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	ENSURE(execve);
	hooks_before_exec();
	return real.execve(path, argv, envp);
}

EXPORT int execv(const char *path, char *const argv[])
{
	ENSURE(execv);
	hooks_before_exec();
	return real.execv(path, argv);
}

EXPORT int execvp(const char *file, char *const argv[])
{
	ENSURE(execvp);
	hooks_before_exec();
	return real.execvp(file, argv);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	ENSURE(execvpe);
	hooks_before_exec();
	return real.execvpe(file, argv, envp);
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	ENSURE(fexecve);
	hooks_before_exec();
	return real.fexecve(fd, argv, envp);
}

/* The execl family is variadic: gather argv, then take the execv* path. */
#define GATHER_ARGV(first, ap, argv, extra)                                      \
	size_t argc_ = 1;                                                        \
	va_start(ap, first);                                                     \
	while (va_arg(ap, char *))                                               \
		argc_++;                                                         \
	va_end(ap);                                                              \
	char *argv[argc_ + 1];                                                   \
	va_start(ap, first);                                                     \
	argv[0] = (char *)(first);                                               \
	for (size_t i_ = 1; i_ <= argc_; i_++)                                   \
		argv[i_] = va_arg(ap, char *);                                   \
	extra;                                                                   \
	va_end(ap)

EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	GATHER_ARGV(arg, ap, argv, (void)0);
	return execv(path, argv);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	GATHER_ARGV(arg, ap, argv, (void)0);
	return execvp(file, argv);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	char **envp;
	GATHER_ARGV(arg, ap, argv, envp = va_arg(ap, char **));
	return execve(path, argv, envp);
}

/* vfork's child shares our memory: run it as a fork so hooks stay correct. */
EXPORT pid_t vfork(void)
{
	return fork();
}

EXPORT void _exit(int status)
{
	ENSURE(_exit);
	/* A clone()d child that skipped fork() shares our queue: leave it be. */
	if (getpid() == shim_pid())
		hooks_before_exec();
	real._exit(status);
	__builtin_unreachable();
}

EXPORT void _Exit(int status)
{
	_exit(status);
}

/*
 * dlopen/dlclose are deliberately not wrapped: glibc resolves a relative
 * dlopen against the caller's RUNPATH, and a wrapper would become the caller.
 * The writer re-reads the module map with dl_iterate_phdr before each batch
 * instead (modules.c).
 */
