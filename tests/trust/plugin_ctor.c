// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * A plugin that makes a map in its constructor, that is with the loader's
 * lock held by the thread in dlopen (host_trust ctor-race).  It first says
 * so on the FD in TRUST_CTOR_FD and gives another thread time to make the
 * process's first bpf FD meanwhile.
 */
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>

__attribute__((constructor)) static void plugin_ctor_make_map(void)
{
	const char *fd = getenv("TRUST_CTOR_FD");
	if (fd && write(atoi(fd), "c", 1) != 1)
		return;
	usleep(300 * 1000);
	bpf_map_create(BPF_MAP_TYPE_ARRAY, "tr_ctor", 4, 8, 4, NULL);   /* LEAK: ctor */
}
