// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* closeall: the host closes every FD above 2, the shim's included. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/close_range.h>
#include "host_hostile.h"

static void churn(long n, const char *name)
{
	for (long i = 0; i < n; i++) {
		int fd = make_map(name);
		CHECK(fd >= 0, "churn: %s", strerror(errno));
		if (fd >= 0)
			CHECK(close(fd) == 0, "churn close: %s", strerror(errno));
	}
}

/*
 * how: "range" = close_range(3, ~0U, 0), "from" = closefrom(3),
 * "loop" = close(fd) for every fd 3..1023, many times while the writer is
 * busy, each time followed by a file of the host's own that must keep its
 * contents.
 */
static int mode_closeall(const char *how, const char *scratch)
{
	int before = make_map("hl_before");
	if (before < 0)
		die("map");
	churn(300, "hl_churn1");
	usleep(60000);   /* a batch or two has gone to the journal */
	int rounds = strcmp(how, "loop") == 0 ? 200 : 1;
	long file_errors = 0;
	for (int round = 0; round < rounds; round++) {
		if (strcmp(how, "range") == 0) {
			CHECK(close_range(3, ~0U, 0) == 0, "close_range: %s", strerror(errno));
		} else if (strcmp(how, "from") == 0) {
			closefrom(3);
		} else {
			for (int fd = 3; fd < 1024; fd++)
				close(fd);
			/*
			 * Files of our own now get the numbers just freed; if
			 * the journal writer still used one of them, its pages
			 * would land in our file, or its close would close it.
			 */
			char buf[4096], back[4096];
			int f[4];
			memset(buf, 'A' + round % 26, sizeof(buf));
			for (int k = 0; k < 4; k++) {
				char path[PATH_MAX];
				snprintf(path, sizeof(path), "%s/own.%d", scratch, k);
				f[k] = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
				if (f[k] < 0)
					die("open own file");
				CHECK(pwrite(f[k], buf, sizeof(buf), 0) == (ssize_t)sizeof(buf),
				      "pwrite own file fd %d: %s", f[k], strerror(errno));
			}
			churn(40, "hl_loop");     /* keep the writer busy */
			for (int k = 0; k < 4; k++) {
				off_t size = lseek(f[k], 0, SEEK_END);
				ssize_t got = pread(f[k], back, sizeof(back), 0);
				if (size != (off_t)sizeof(buf) || got != (ssize_t)sizeof(back) ||
				    memcmp(buf, back, sizeof(buf)) != 0) {
					size_t at_ = 0;
					while (got > 0 && at_ < (size_t)got && buf[at_] == back[at_])
						at_++;
					char hex[64] = "";
					for (size_t h = 0; h < 16 && got > 0 && at_ + h < (size_t)got; h++)
						snprintf(hex + 3 * h, sizeof(hex) - 3 * h, "%02x ",
							 (unsigned char)back[at_ + h]);
					file_errors++;
					say("round %d: own file fd %d changed under us (size %lld, read %zd: %s;"
					    " first difference at %zu: %s)", round, f[k], (long long)size, got,
					    got < 0 ? strerror(errno) : "ok", at_, hex);
				}
				close(f[k]);
			}
		}
	}
	CHECK(file_errors == 0, "%ld own files were written by someone else", file_errors);
	CHECK(!fd_is_open(before), "fd %d survived the mass close", before);
	/* After the mass close: the shim must still record (or have said once it stopped). */
	churn(300, "hl_churn2");
	struct belief b[2];
	for (int i = 0; i < 2; i++) {
		int fd = make_map("hl_after");
		if (fd < 0)
			die("map after");
		b[i] = (struct belief){ fd, map_id_of(fd) };
	}
	report_open(b, 2);
	out("errors %ld", atomic_load(&errors));
	return atomic_load(&errors) ? 1 : 0;
}

static int run(int argc, char **argv)
{
	(void)argc;
	return mode_closeall(argv[0], argv[1]);
}

const struct hostile_mode closeall_mode = { "closeall", 2, "range|from|loop SCRATCH_DIR", run };
