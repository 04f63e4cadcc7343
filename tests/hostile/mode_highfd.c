// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* highfd: FD numbers above 500,000 with RLIMIT_NOFILE = 1,048,576. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/close_range.h>
#include "host_hostile.h"

/*
 * The FD numbers are those of a 1,048,576 limit, scaled down when the test
 * runs the same sequence under a smaller limit (no CAP_SYS_RESOURCE).
 */
static long hf_limit = 1048576;

static int at(long n)
{
	if (n == 1048575)
		return (int)hf_limit - 1;
	return (int)(n * hf_limit / 1048576);
}

static int mode_highfd(long limit)
{
	hf_limit = limit;
	struct rlimit rl = { (rlim_t)limit, (rlim_t)limit };
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		say("cannot set RLIMIT_NOFILE to %ld: %s", limit, strerror(errno));
		return 77;
	}
	struct belief b[256];
	int nb = 0;
	int a = make_map("hl_high_a");
	if (a < 0)
		die("map");
	uint32_t aid = map_id_of(a);
	b[nb++] = (struct belief){ a, aid };
	int ev = eventfd(0, EFD_CLOEXEC);
	if (ev < 0)
		die("eventfd");

	/* dup2 to numbers far apart: separate pages of the shim's table. */
	CHECK(dup2(a, at(500001)) == at(500001), "dup2 %d: %s", at(500001), strerror(errno));
	CHECK(dup2(a, at(1048575)) == at(1048575), "dup2 %d: %s", at(1048575), strerror(errno));
	CHECK(fcntl(a, F_DUPFD_CLOEXEC, at(700000)) == at(700000), "F_DUPFD %d: %s", at(700000),
	      strerror(errno));
	int g = bpf_map_get_fd_by_id(aid);
	CHECK(g >= 0, "get_fd_by_id: %s", strerror(errno));
	CHECK(dup3(g, at(600000), O_CLOEXEC) == at(600000), "dup3 %d: %s", at(600000),
	      strerror(errno));
	CHECK(close(g) == 0, "close g");
	CHECK(close(at(500001)) == 0, "close %d: %s", at(500001), strerror(errno));
	/* A deliberate double close: the report must name it. */
	errno = 0;
	CHECK(close(at(500001)) == -1 && errno == EBADF, "second close of %d did not say EBADF",
	      at(500001));
	out("double_close %d", at(500001));
	/* A range over two tracked FDs and a lot of nothing. */
	CHECK(close_range((unsigned)at(600000), (unsigned)at(700000), 0) == 0, "close_range: %s",
	      strerror(errno));
	CHECK(!fd_is_open(at(600000)) && !fd_is_open(at(700000)), "close_range left FDs open");
	/* dup2 an untracked FD over a tracked one: an implicit close. */
	CHECK(dup2(a, at(999999)) == at(999999), "dup2 %d", at(999999));
	CHECK(dup2(ev, at(999999)) == at(999999), "dup2 ev over %d", at(999999));
	CHECK(close(at(999999)) == 0, "close %d", at(999999));
	/* A tracked FD marked close-on-exec by a range. */
	CHECK(close_range((unsigned)at(900000), ~0U, CLOSE_RANGE_CLOEXEC) == 0,
	      "close_range cloexec: %s", strerror(errno));
	CHECK((fcntl(at(1048575), F_GETFD) & FD_CLOEXEC) != 0, "%d not cloexec", at(1048575));
	b[nb++] = (struct belief){ at(1048575), aid };
	/* 100 new maps, each moved above the middle; half closed again. */
	for (int i = 0; i < 100; i++) {
		int m = make_map("hl_high");
		if (m < 0)
			die("map");
		uint32_t id = map_id_of(m);
		int target = at(500100 + i * 4099);   /* a new table page every time at 1M */
		CHECK(dup2(m, target) == target, "dup2 %d: %s", target, strerror(errno));
		CHECK(close(m) == 0, "close m");
		if (i % 2)
			CHECK(close(target) == 0, "close %d", target);
		else
			b[nb++] = (struct belief){ target, id };
	}
	close(ev);
	report_open(b, (size_t)nb);
	out("highest %d", at(1048575));
	out("errors %ld", atomic_load(&errors));
	return atomic_load(&errors) ? 1 : 0;
}

static int run(int argc, char **argv)
{
	return mode_highfd(argc > 0 ? atol(argv[0]) : 1048576);
}

const struct hostile_mode highfd_mode = { "highfd", 0, "[LIMIT]", run };
