// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* plain: a small deterministic program whose output must not change. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "host_hostile.h"

static int mode_plain(long n)
{
	long sum = 0, ok = 0;
	int keep = -1;
	for (long i = 0; i < n; i++) {
		int fd = make_map("hl_plain");
		if (fd < 0)
			die("map");
		__u32 key = 0;
		__u64 val = (__u64)i * 3, got = 0;
		if (bpf_map_update_elem(fd, &key, &val, BPF_ANY) == 0 &&
		    bpf_map_lookup_elem(fd, &key, &got) == 0 && got == val)
			ok++;
		sum += (long)got;
		int d = dup(fd);
		close(d);
		if (keep < 0)
			keep = fd;
		else
			close(fd);
	}
	errno = 0;
	int r = close(-1);
	out("plain ok %ld of %ld sum %ld close(-1) %d errno %d", ok, n, sum, r, errno);
	/* A distinctive status: the shim must pass it through. */
	return 7;
}

static int run(int argc, char **argv)
{
	(void)argc;
	return mode_plain(atol(argv[0]));
}

const struct hostile_mode plain_mode = { "plain", 1, "N", run };
