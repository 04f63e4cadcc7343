// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* host_trust MODE ARGS...: see host_trust.h and the mode files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include "host_trust.h"

int trust_map(const char *name)
{
	return bpf_map_create(BPF_MAP_TYPE_ARRAY, name, 4, 8, 4, NULL);
}

unsigned int trust_map_id(int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

void trust_die(const char *what)
{
	dprintf(2, "host_trust: %s: %s\n", what, strerror(errno));
	exit(3);
}

void trust_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static const struct trust_mode *const lists[] = {
	trust_exit_modes, trust_spawn_modes, trust_fd_modes, trust_stack_modes,
};

int main(int argc, char **argv)
{
	for (size_t l = 0; argc > 1 && l < sizeof(lists) / sizeof(lists[0]); l++)
		for (const struct trust_mode *m = lists[l]; m->name; m++)
			if (!strcmp(m->name, argv[1]))
				return m->run(argc - 2, argv + 2);
	dprintf(2, "usage: host_trust MODE ARGS...; modes:\n");
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
		for (const struct trust_mode *m = lists[l]; m->name; m++)
			dprintf(2, "  %s %s\n", m->name, m->usage);
	return 2;
}
