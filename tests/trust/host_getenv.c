// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * A program that exports its own getenv and setenv, as bash does: before
 * main() they know no variables and change none.  The shim must still read
 * BPFLEAK_* (it reads environ in its constructor) and never call setenv.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "../lib/host_out.h"

static int ready;

char *getenv(const char *name)
{
	(void)name;
	return NULL;
}

int setenv(const char *name, const char *value, int overwrite)
{
	(void)name;
	(void)value;
	(void)overwrite;
	if (!ready)
		_exit(99);   /* called before main: what broke bash */
	return 0;
}

int main(void)
{
	ready = 1;
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "tr_getenv", 4, 8, 4, NULL);
	out("fd %d", fd);
	return fd >= 0 ? 0 : 1;
}
