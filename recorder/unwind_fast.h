/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The unwinder's fast path (unwind_fast.c), used inside the unwinder only
 * (unwind.c walks with it, unwind_session.c owns its caches): a walk
 * of a captured stack with the CFI rules of each PC cached, for the frames
 * whose rules are the plain ones compilers emit at call sites.  Anything
 * else sends the whole stack to libdwfl's own walk.
 */
#ifndef BPFLEAK_RECORDER_UNWIND_FAST_H
#define BPFLEAK_RECORDER_UNWIND_FAST_H

#include <elfutils/libdwfl.h>
#include <stddef.h>
#include <stdint.h>
#include "unwind.h"

struct cfi_cache;

struct cfi_cache *cfi_cache_new(void);
void cfi_cache_free(struct cfi_cache *c);
/* Forget every rule (the modules behind them changed). */
void cfi_cache_clear(struct cfi_cache *c);

/*
 * Walk regs/stack as libdwfl would, with dwfl's modules and CFI.  Returns
 * the number of frames stored in ips (with *why and *used as
 * unwinder_unwind_used gives them), or -1 when some frame needs more than
 * the fast path does (an expression, a signal frame, a PC without CFI or
 * module, a read off the copy): then nothing is decided, walk with libdwfl.
 */
int fast_unwind(Dwfl *dwfl, struct cfi_cache *c, const struct unwind_regs *regs,
		const unsigned char *stack, size_t len, uint64_t *ips, int max,
		enum unwind_stop *why, size_t *used);

#endif
