// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The exported symbols: the only functions of libbpfleak.so the host sees.
 * Each hands over to a hook (hooks_*.c) or to the lifecycle (lifecycle.c)
 * and calls libc's own function (real.c); nothing else happens here.
 *
 * libbpf reaches the kernel through syscall(__NR_bpf, ...) and also calls
 * syscall(__NR_dup3, ...) and friends, so syscall() routes those numbers to
 * the same hooks as the libc calls.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/close_range.h>
#include "shim.h"

#define EXPORT __attribute__((visibility("default")))

/*
 * syscall() is variadic, but on the x86-64 and arm64 calling conventions
 * its six arguments arrive in the same registers as a plain function's:
 * taking them as fixed parameters saves the 176-byte register save area
 * va_start would need, which matters on a signal handler's alternate stack.
 */
EXPORT long shim_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
	__asm__("syscall");
EXPORT long shim_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
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
	return (int)hook_bpf(cmd, attr, size, true);
}

EXPORT int close(int fd)
{
	return hook_close(fd);
}

EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	return hook_close_range(first, last, flags);
}

EXPORT void closefrom(int lowfd)
{
	hook_closefrom(lowfd);
}

EXPORT int dup(int oldfd)
{
	return hook_dup(oldfd);
}

EXPORT int dup2(int oldfd, int newfd)
{
	return hook_dup3(oldfd, newfd, 0, true);
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
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
	return fcntl_common(fd, cmd, arg, real.fcntl);
}

/* libbpf 1.1 imports fcntl64, not fcntl. */
EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	return fcntl_common(fd, cmd, arg, real.fcntl64);
}

EXPORT int unshare(int flags)
{
	int r = real.unshare(flags);
	int err = errno;
	if (r == 0 && (flags & CLONE_FILES))
		lifecycle_unshare_files();
	errno = err;
	return r;
}

/* The host's altstacks tell the hooks how much stack a signal handler has. */
EXPORT NO_TSAN int sigaltstack(const stack_t *ss, stack_t *old)
{
	int r = real.sigaltstack(ss, old);
	int err = errno;
	sigstack_note(ss, r);
	errno = err;
	return r;
}

/* Module rows are versioned by load time: note what a dlclose unmaps. */
EXPORT int dlclose(void *handle)
{
	modules_before_dlclose();
	int r = real.dlclose(handle);
	modules_after_dlclose();
	return r;
}

EXPORT void pthread_exit(void *retval)
{
	lifecycle_main_thread_exit();
	real.pthread_exit(retval);
	__builtin_unreachable();
}

/* ---- exit: the writer writes what is queued, with a time limit ---- */

EXPORT void _exit(int status)
{
	lifecycle_exit_now(status);
	real._exit(status);
	__builtin_unreachable();
}

EXPORT void _Exit(int status)
{
	_exit(status);
}

/* ---- exec: journaled by the image that calls it; children share the journal ---- */

/*
 * The environment for a child image: the caller's, plus BPFLEAK_JOURNAL when
 * the shim is preloaded there and no journal is named, so the whole tree of
 * processes writes one journal (config.c never calls setenv).
 */
static size_t env_count(char *const envp[], bool *needs)
{
	size_t n = 0;
	bool preload = false, named = false;
	for (; envp && envp[n]; n++) {
		preload |= !strncmp(envp[n], "LD_PRELOAD=", 11) && strstr(envp[n], "libbpfleak");
		named |= !strncmp(envp[n], "BPFLEAK_JOURNAL=", 16);
	}
	*needs = preload && !named && shim_cfg.journal[0] && !shim_cfg.journal_given;
	return n;
}

static char journal_env[sizeof(shim_cfg.journal) + 20];

static char *const *child_env(char *const envp[], char **out, size_t n)
{
	memcpy(out, envp, n * sizeof(*out));
	snprintf(journal_env, sizeof(journal_env), "BPFLEAK_JOURNAL=%s", shim_cfg.journal);
	out[n] = journal_env;
	out[n + 1] = NULL;
	return out;
}

/* Runs `call` with envp, extended for the child where needed. */
#define WITH_CHILD_ENV(envp, call_with)                                        \
	do {                                                                   \
		bool needs_;                                                   \
		size_t n_ = env_count(envp, &needs_);                          \
		if (!needs_) {                                                 \
			char *const *env_ = (envp);                            \
			return call_with;                                      \
		}                                                              \
		char *buf_[n_ + 2];                                            \
		char *const *env_ = child_env(envp, buf_, n_);                 \
		return call_with;                                              \
	} while (0)

extern char **environ;

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	lifecycle_before_exec(path);
	WITH_CHILD_ENV(envp, real.execve(path, argv, env_));
}

EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
		    int flags)
{
	lifecycle_before_exec(path);
	WITH_CHILD_ENV(envp, real.execveat(dirfd, path, argv, env_, flags));
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	lifecycle_before_exec(NULL);
	WITH_CHILD_ENV(envp, real.fexecve(fd, argv, env_));
}

EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	lifecycle_before_exec(file);
	WITH_CHILD_ENV(envp, real.execvpe(file, argv, env_));
}

EXPORT int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
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
	return execve(path, argv, environ);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	GATHER_ARGV(arg, ap, argv, (void)0);
	return execvpe(file, argv, environ);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	char **envp;
	GATHER_ARGV(arg, ap, argv, envp = va_arg(ap, char **));
	return execve(path, argv, envp);
}

/*
 * posix_spawn's child runs inside libc on a stack of its own and execs
 * without passing through any of our symbols; only the environment needs
 * the journal's name, and the journal the moment it started.
 */
EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
		       const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	lifecycle_child_coming();
	WITH_CHILD_ENV(envp, real.posix_spawn(pid, path, fa, attr, argv, env_));
}

EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	lifecycle_child_coming();
	WITH_CHILD_ENV(envp, real.posix_spawnp(pid, file, fa, attr, argv, env_));
}

/* ---- vfork and clone(): children that did not come through fork() ---- */

/*
 * vfork's child runs on our stack and in our memory until it execs or
 * exits, so it must run none of the shim's machinery: it would record
 * under the parent's pid into the parent's queue.  The only way to mark it
 * is before the system call, in this thread's TLS (which the child
 * shares), and to clear the mark when the parent resumes.  That cannot be
 * written in C: the return address is popped before the call and pushed
 * again after it, as glibc's own vfork does, because the child's return
 * overwrites the stack slot the parent would return through.
 */
#if defined(__x86_64__)
__attribute__((visibility("hidden"), used)) int shim_vfork_failed(int err)
{
	errno = err;
	return -1;
}

__asm__(".text\n"
	".globl vfork\n"
	".type vfork, @function\n"
	"vfork:\n"
	"	movq shim_foreign@gottpoff(%rip), %rax\n"
	"	incl %fs:(%rax)\n"
	"	popq %rdi\n"
	"	movl $58, %eax\n"     /* SYS_vfork */
	"	syscall\n"
	"	pushq %rdi\n"
	"	testq %rax, %rax\n"
	"	jz 1f\n"              /* the child: stays marked until exec or exit */
	"	movq shim_foreign@gottpoff(%rip), %rdx\n"
	"	decl %fs:(%rdx)\n"
	"	cmpq $-4095, %rax\n"
	"	jae 2f\n"
	"1:	ret\n"
	"2:	negl %eax\n"
	"	movl %eax, %edi\n"
	"	jmp shim_vfork_failed\n"
	".size vfork, .-vfork\n");
#endif

struct clone_start {
	int (*fn)(void *);
	void *arg;
};

/* A child with memory of its own: what the fork handlers do, then its function. */
static int forked_start(void *p)
{
	struct clone_start *cs = p;
	lifecycle_fork_child();
	return cs->fn(cs->arg);
}

EXPORT int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	pid_t *ptid = va_arg(ap, pid_t *);
	void *tls = va_arg(ap, void *);
	pid_t *ctid = va_arg(ap, pid_t *);
	va_end(ap);
	struct clone_start cs = { fn, arg };
	bool vm = flags & CLONE_VM, vfork = flags & CLONE_VFORK;
	if (flags & CLONE_THREAD || (vm && !vfork))
		return real.clone(fn, stack, flags, arg, ptid, tls, ctid);
	if (vm) {
		/*
		 * The child shares our memory, and this thread's TLS, until it
		 * execs or exits; meanwhile this thread is suspended.  The mark
		 * makes every hook pass through in the child.
		 */
		lifecycle_child_coming();
		shim_foreign++;
		int r = real.clone(fn, stack, flags, arg, ptid, tls, ctid);
		int err = errno;
		shim_foreign--;
		errno = err;
		return r;
	}
	int active = shim_state_now() == SHIM_ACTIVE;
	if (active) {
		lifecycle_child_coming();
		writer_fork_prepare();
		modules_fork_prepare();
		stack_fork_prepare();
	}
	int r = real.clone(forked_start, stack, flags, &cs, ptid, tls, ctid);
	int err = errno;
	if (active) {
		stack_fork_done(false);
		modules_fork_parent();
		writer_fork_parent();
	}
	errno = err;
	return r;
}
