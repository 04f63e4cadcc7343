// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Is this hook running on an alternate signal stack, and how much of it is
 * left?  Daemons handle SIGSEGV/SIGTERM on altstacks of a few KiB
 * (MINSIGSTKSZ 2 KiB, SIGSTKSZ 8 KiB); unwinding alone needs more than
 * that, and overflowing a malloc'd altstack corrupts the heap below it.
 *
 * The bounds come from the host's own sigaltstack() calls (interposed) or,
 * once per thread, from asking the kernel: no system call on the hot path.
 */
#include <signal.h>
#include "shim.h"

static __thread uintptr_t alt_lo __attribute__((tls_model("initial-exec")));
static __thread uintptr_t alt_hi __attribute__((tls_model("initial-exec")));
static __thread int alt_known __attribute__((tls_model("initial-exec")));

NO_TSAN static void set_bounds(const stack_t *ss)
{
	if (ss->ss_flags & SS_DISABLE || !ss->ss_sp || !ss->ss_size) {
		alt_lo = alt_hi = 0;
	} else {
		alt_lo = (uintptr_t)ss->ss_sp;
		alt_hi = alt_lo + ss->ss_size;
	}
	alt_known = 1;
}

NO_TSAN void sigstack_note(const void *new_ss, int rc)
{
	if (rc == 0 && new_ss)
		set_bounds(new_ss);
}

static void learn(void)
{
	stack_t cur;
	if (real.sigaltstack(NULL, &cur) == 0)
		set_bounds(&cur);
	else
		alt_known = 1;
}

bool sigstack_on_alt(void)
{
	if (!alt_known)
		learn();
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	return alt_lo && sp >= alt_lo && sp < alt_hi;
}

bool sigstack_room(size_t need)
{
	if (!sigstack_on_alt())
		return true;
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	return sp - alt_lo >= need;
}
