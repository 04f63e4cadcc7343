// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* leak: a duplicate FD from a known line, for symbolization checks. */
#include <bpf/bpf.h>
#include "host_hostile.h"

__attribute__((noinline)) int hostile_leak_site(int fd)
{
	int d = bpf_map_get_fd_by_id(map_id_of(fd)); out("leak_line %d", __LINE__);
	return d;
}

static int mode_leak(void)
{
	int m = make_map("hl_leak");
	if (m < 0)
		die("map");
	int d = hostile_leak_site(m);
	if (d < 0)
		die("get_fd_by_id");
	int c = make_map("hl_closed");
	out("closed_fd %d", c);
	close(c);
	struct belief b[2] = { { m, map_id_of(m) }, { d, map_id_of(d) } };
	report_open(b, 2);
	out("errors %ld", atomic_load(&errors));
	return atomic_load(&errors) ? 1 : 0;
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return mode_leak();
}

const struct hostile_mode leak_mode = { "leak", 0, "", run };
