// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The unit tests link the shim without lifecycle.c (no constructor, no
 * destructor in the test process); these stand in for what the other parts
 * call of it.
 */
#include "shim.h"

bool lifecycle_activate(bool at_exit, int new_fd)
{
	(void)at_exit;
	(void)new_fd;
	atomic_store(&shim_state, SHIM_ACTIVE);
	return true;
}

void lifecycle_finish_setup(int new_fd)
{
	(void)new_fd;
}

void lifecycle_unshare_files(void)
{
}
