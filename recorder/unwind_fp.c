// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Stand-in for the libdw unwinder (recorder/unwind.c, built on another
 * branch): unwinds nothing, so the recorder keeps the kernel's
 * frame-pointer stack.  Replace this file, do not grow it.
 */
#include "unwind.h"

int unwind_user_stack(pid_t pid, const struct unwind_regs *regs, const void *stack,
		      size_t stack_len, uint64_t *ips, int max_ips)
{
	(void)pid;
	(void)regs;
	(void)stack;
	(void)stack_len;
	(void)ips;
	(void)max_ips;
	return 0;
}

int unwind_add_modules(pid_t pid, struct procmap_module *mods, size_t n)
{
	(void)pid;
	(void)mods;
	return (int)n;   /* the caller keeps (and closes) the FDs */
}

void unwind_forget(pid_t pid)
{
	(void)pid;
}
