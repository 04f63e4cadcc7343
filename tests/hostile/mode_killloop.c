// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* killloop: create until SIGKILL, logging each create. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "host_hostile.h"

static int mode_killloop(const char *progress, long pace_us)
{
	int log = open(progress, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log < 0)
		die("open progress");
	int keep[8];
	for (long i = 0;; i++) {
		int fd = make_map("hl_k");
		if (fd < 0)
			die("map");
		uint32_t id = map_id_of(fd);
		char line[64];
		int n = snprintf(line, sizeof(line), "%u %llu\n", id, (unsigned long long)mono_ns());
		if (write(log, line, (size_t)n) != n)
			die("write progress");
		/* Keep a few open, close the rest: both kinds of event in flight. */
		if (i % 7 == 0) {
			if (i / 7 >= 8)
				close(keep[(i / 7) % 8]);
			keep[(i / 7) % 8] = fd;
		} else {
			close(fd);
		}
		if (pace_us)
			usleep((useconds_t)pace_us);
	}
}

static int run(int argc, char **argv)
{
	(void)argc;
	return mode_killloop(argv[0], atol(argv[1]));
}

const struct hostile_mode killloop_mode = { "killloop", 2, "PROGRESS_FILE PACE_US", run };
