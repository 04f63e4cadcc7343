/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * What the kernel recorder's BPF program captures at a bpf() system call
 * (the user registers and the first bytes of the user stack from sp up),
 * captured instead with ptrace from a child stopped at the entry of that
 * call: PTRACE_GETREGS gives the same pt_regs, process_vm_readv the stack.
 * For the unwinder's tests and benchmark.
 */
#ifndef BPFLEAK_TESTS_PTRACE_CAPTURE_H
#define BPFLEAK_TESTS_PTRACE_CAPTURE_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/ptrace.h>

#include "unwind.h"

#define CAPTURE_STACK_BYTES 8192

struct capture_sample {
	pid_t pid;                   /* stopped at the bpf() entry */
	struct unwind_regs regs;
	unsigned char stack[CAPTURE_STACK_BYTES];
	size_t stack_len;
};

static inline void capture_regs_from_ptrace(const struct user_regs_struct *r,
					    struct unwind_regs *out)
{
	const uint64_t dwarf_order[17] = {
		r->rax, r->rdx, r->rcx, r->rbx, r->rsi, r->rdi, r->rbp, r->rsp,
		r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15, r->rip,
	};

	memcpy(out->regs, dwarf_order, sizeof(dwarf_order));
	out->ip = r->rip;
	out->sp = r->rsp;
	out->bp = r->rbp;
}

/* Up to len bytes from addr, stopping at the first page that cannot be
 * read (the top of the stack): process_vm_readv transfers whole iovecs
 * only, so one iovec per page gives the longest readable prefix. */
static inline size_t capture_read_stack(pid_t pid, uint64_t addr, unsigned char *buf, size_t len)
{
	struct iovec local[CAPTURE_STACK_BYTES / 4096 + 2], remote[CAPTURE_STACK_BYTES / 4096 + 2];
	size_t n = 0, done = 0;
	ssize_t got;

	if (len > CAPTURE_STACK_BYTES)
		len = CAPTURE_STACK_BYTES;
	while (done < len) {
		uint64_t a = addr + done;
		size_t chunk = 4096 - (size_t)(a & 4095);

		if (chunk > len - done)
			chunk = len - done;
		local[n] = (struct iovec){ buf + done, chunk };
		remote[n] = (struct iovec){ (void *)(uintptr_t)a, chunk };
		n++;
		done += chunk;
	}
	got = process_vm_readv(pid, local, n, remote, n, 0);
	return got < 0 ? 0 : (size_t)got;
}

/*
 * pid is a child that called PTRACE_TRACEME and exec'd (its first stop).
 * Run it, system call by system call, until it enters bpf() with command
 * bpf_cmd; leave it stopped there and fill *out.  Signals it gets on the
 * way are delivered.  Returns 0, or -1 if it exited first.
 */
static inline int capture_at_bpf(pid_t pid, long bpf_cmd, struct capture_sample *out)
{
	int status, sig = 0;

	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
		return -1;
	if (ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL))
		return -1;
	for (;;) {
		struct ptrace_syscall_info info;
		struct user_regs_struct r;

		if (ptrace(PTRACE_SYSCALL, pid, 0, sig) || waitpid(pid, &status, 0) != pid)
			return -1;
		if (!WIFSTOPPED(status))
			return -1;
		sig = 0;
		if (WSTOPSIG(status) != (SIGTRAP | 0x80)) {
			if (WSTOPSIG(status) != SIGTRAP)
				sig = WSTOPSIG(status);
			continue;
		}
		/* Zeroed: valgrind does not know this request fills it. */
		memset(&info, 0, sizeof(info));
		if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info), &info) <= 0 ||
		    info.op != PTRACE_SYSCALL_INFO_ENTRY || info.entry.nr != __NR_bpf ||
		    (long)info.entry.args[0] != bpf_cmd)
			continue;
		if (ptrace(PTRACE_GETREGS, pid, 0, &r))
			return -1;
		out->pid = pid;
		capture_regs_from_ptrace(&r, &out->regs);
		out->stack_len = capture_read_stack(pid, r.rsp, out->stack, sizeof(out->stack));
		return 0;
	}
}

/*
 * The same for a multi-threaded child (Go: any thread may make the call):
 * follow every thread (PTRACE_O_TRACECLONE) and, at each system call entry
 * that want() accepts, capture the stopped thread into *out and call got();
 * it returns nonzero to stop following (the thread stays stopped, the
 * others run on or block at their next system call).  Returns got()'s
 * value, or -1 if the process exited first.
 */
static inline int capture_follow(pid_t pid,
				 bool (*want)(pid_t tid, const struct ptrace_syscall_info *, void *),
				 int (*got)(struct capture_sample *, void *), void *ctx,
				 struct capture_sample *out)
{
	int status;
	pid_t tid;

	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
		return -1;
	if (ptrace(PTRACE_SETOPTIONS, pid, 0,
		   PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE) ||
	    ptrace(PTRACE_SYSCALL, pid, 0, 0))
		return -1;
	for (;;) {
		struct ptrace_syscall_info info;
		struct user_regs_struct r;
		int sig = 0, rc;

		tid = waitpid(-1, &status, __WALL);
		if (tid < 0)
			return -1;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			if (tid == pid)
				return -1;
			continue;
		}
		if (!WIFSTOPPED(status))
			continue;
		if (WSTOPSIG(status) != (SIGTRAP | 0x80)) {
			/* Clone events and a new thread's first SIGSTOP are ours;
			 * any other signal is the program's. */
			if (WSTOPSIG(status) != SIGTRAP && WSTOPSIG(status) != SIGSTOP)
				sig = WSTOPSIG(status);
			ptrace(PTRACE_SYSCALL, tid, 0, sig);
			continue;
		}
		memset(&info, 0, sizeof(info));
		if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(info), &info) <= 0 ||
		    info.op != PTRACE_SYSCALL_INFO_ENTRY || !want(tid, &info, ctx) ||
		    ptrace(PTRACE_GETREGS, tid, 0, &r)) {
			ptrace(PTRACE_SYSCALL, tid, 0, 0);
			continue;
		}
		out->pid = pid;
		capture_regs_from_ptrace(&r, &out->regs);
		out->stack_len = capture_read_stack(tid, r.rsp, out->stack, sizeof(out->stack));
		rc = got(out, ctx);
		if (rc)
			return rc;
		ptrace(PTRACE_SYSCALL, tid, 0, 0);
	}
}

/* Kill and reap a traced child (PTRACE_O_EXITKILL also kills it if we
 * die).  Its other threads first: while traced, each one's exit must be
 * waited for before the leader's exit is reported. */
static inline void capture_kill(pid_t pid)
{
	char path[64];
	DIR *d;

	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (d) {
		struct dirent *e;

		while ((e = readdir(d))) {
			pid_t tid = (pid_t)atoi(e->d_name);

			if (tid > 0 && tid != pid)
				while (waitpid(tid, NULL, __WALL) < 0 && errno == EINTR)
					;
		}
		closedir(d);
	}
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
}

#endif
