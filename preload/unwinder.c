// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libunwind, loaded when recording starts rather than with the shim: every
 * process the shim is preloaded into would otherwise map it (and liblzma)
 * at its start, bpf or not (docs/overhead.md, figure 8).  The functions
 * are found by the names libunwind.h gives them (UNW_LOCAL_ONLY's), and
 * published with one atomic store, so a hook sees either no unwinder (and
 * records no stack) or a complete one.
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <dlfcn.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include "shim.h"
#include "unwinder.h"

#ifndef BPFLEAK_UNWIND_SONAME
#define BPFLEAK_UNWIND_SONAME "libunwind.so.8"
#endif

/* The symbol a libunwind.h name stands for, as a string. */
#define SYMBOL_OF(name) SYMBOL_TEXT(name)
#define SYMBOL_TEXT(name) #name

static struct unwinder fns;
static _Atomic int claimed;
static _Atomic(const struct unwinder *) published;

const struct unwinder *unwinder_get(void)
{
	return atomic_load_explicit(&published, memory_order_acquire);
}

#define FIND(field, name)                                                  \
	do {                                                               \
		u.field = (__typeof__(u.field))dlsym(h, SYMBOL_OF(name)); \
		if (!u.field)                                              \
			missing = SYMBOL_OF(name);                         \
	} while (0)

/*
 * Without a lock of our own: a thread in dlopen holds the loader's lock and
 * may be on its way here (a bpf FD made in a library's constructor).  Two
 * threads may load at once; one copies what it found into place.
 */
bool unwinder_load(char *why, size_t cap)
{
	if (unwinder_get())
		return true;
	struct unwinder u;
	void *h = dlopen(BPFLEAK_UNWIND_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		snprintf(why, cap, "cannot load %s", e ? e : BPFLEAK_UNWIND_SONAME);
		return false;
	}
	const char *missing = NULL;
	FIND(backtrace, unw_backtrace);
	FIND(getcontext, unw_tdep_getcontext);
	FIND(init_local, unw_init_local);
	FIND(get_reg, unw_get_reg);
	FIND(step, unw_step);
	FIND(set_caching_policy, unw_set_caching_policy);
	FIND(local_addr_space, unw_local_addr_space);
	if (missing) {
		snprintf(why, cap, "%s has no %s", BPFLEAK_UNWIND_SONAME, missing);
		return false;   /* the library stays: dlclose from here is not worth its risks */
	}
	int expected = 0;
	if (atomic_compare_exchange_strong(&claimed, &expected, 1)) {
		fns = u;
		atomic_store_explicit(&published, &fns, memory_order_release);
	}
	/* The other thread copies and publishes with nothing in between. */
	while (!unwinder_get())
		sched_yield();
	return true;
}
