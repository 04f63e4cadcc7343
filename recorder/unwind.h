/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Unwinding a user stack the kernel recorder captured, offline: the BPF
 * side copies the user registers and the first few KiB of the user stack
 * (from the stack pointer up) into the record, and the recorder turns them
 * into return addresses here, the way `perf --call-graph dwarf` does.  C
 * through Debian's libbpf and libc (built without frame pointers) gets its
 * whole stack this way; a frame-pointer walk gets 1-2 frames there.
 *
 * The libdw implementation is recorder/unwind.c (another branch); until it
 * is built in, recorder/unwind_fp.c stands in and returns 0, which tells the
 * recorder to keep the kernel's frame-pointer stack.
 */
#ifndef BPFLEAK_RECORDER_UNWIND_H
#define BPFLEAK_RECORDER_UNWIND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "procmaps.h"

/* User registers at the event; regs[] in DWARF x86_64 order (rax rdx rcx
 * rbx rsi rdi rbp rsp r8..r15 rip).  The stack copy starts at sp. */
struct unwind_regs {
	uint64_t ip, sp, bp, regs[17]; /* DWARF x86_64 register order 0..16 */
};

/*
 * Return addresses into ips[], innermost first (ips[0] = regs->ip), at most
 * max_ips.  Returns how many, or 0 when it cannot unwind (the caller keeps
 * the frame-pointer stack).
 */
int unwind_user_stack(pid_t pid, const struct unwind_regs *regs, const void *stack,
		      size_t stack_len, uint64_t *ips, int max_ips);

/* PID's modules, as the recorder read them with procmaps_read_open(): takes
 * over the FD of each module it uses (sets mods[i].fd to -1); the caller
 * still frees the array.  A fork child gets its parent's this way, since by
 * the time its records are read it may have exec'd something else. */
int unwind_add_modules(pid_t pid, struct procmap_module *mods, size_t n);

/* PID's image is gone (exec, exit): forget what was learnt about it. */
void unwind_forget(pid_t pid);

#endif
