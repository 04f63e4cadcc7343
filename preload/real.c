// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The libc functions the shim wraps, found with dlsym(RTLD_NEXT).  None of
 * these interposed names is malloc, so dlsym's own allocations cannot recurse
 * into us.  Resolution runs in the constructor, and again lazily when a hook
 * fires before it (another library's constructor calling close()).
 */
#include <dlfcn.h>
#include <stdatomic.h>
#include "shim.h"

struct real_fns real;
static _Atomic int resolved;

#define RESOLVE(name) real.name = (__typeof__(real.name))dlsym(RTLD_NEXT, #name)

void real_resolve(void)
{
	if (atomic_load_explicit(&resolved, memory_order_acquire))
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
	RESOLVE(bpf);
	RESOLVE(execve);
	RESOLVE(execv);
	RESOLVE(execvp);
	RESOLVE(execvpe);
	RESOLVE(fexecve);
	RESOLVE(_exit);
	if (!real.fcntl64)
		real.fcntl64 = real.fcntl;
	atomic_store_explicit(&resolved, 1, memory_order_release);
}
