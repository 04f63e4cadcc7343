/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* libunwind's functions, once unwinder.c has loaded it (stack.c, ownfds.c). */
#ifndef BPFLEAK_UNWINDER_H
#define BPFLEAK_UNWINDER_H

#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <stdbool.h>
#include <stddef.h>

struct unwinder {
	__typeof__(unw_backtrace) *backtrace;
	__typeof__(unw_tdep_getcontext) *getcontext;
	__typeof__(unw_init_local) *init_local;
	__typeof__(unw_get_reg) *get_reg;
	__typeof__(unw_step) *step;
	__typeof__(unw_set_caching_policy) *set_caching_policy;
	unw_addr_space_t *local_addr_space;
};

/* Load libunwind (once); false with a reason. */
bool unwinder_load(char *why, size_t cap);
/* The functions, or NULL before (or without) a successful load. */
const struct unwinder *unwinder_get(void);

#endif
