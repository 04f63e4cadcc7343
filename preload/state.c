// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* The shim's state and the per-thread flags every part consults. */
#include "shim.h"

_Atomic int shim_state;
_Atomic int shim_setup_pending;
__thread int shim_guard __attribute__((tls_model("initial-exec")));
__thread int shim_internal __attribute__((tls_model("initial-exec")));
__thread int shim_foreign __attribute__((tls_model("initial-exec")));

void shim_fail(const char *why)
{
	if (atomic_exchange(&shim_state, SHIM_DISABLED) == SHIM_DISABLED)
		return;
	shim_warn("not recording (%s); the program runs unaffected", why);
}
