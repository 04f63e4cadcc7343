// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * A small host for the analyzer's real-process tests (live-pid.sh,
 * readonly.sh):
 *
 *   live_host churn SECONDS    create a map, hold it 5 ms, close it, again
 *   live_host hold NAME SECONDS  hold one map named NAME
 *   live_host once             create a map, keep it, exit
 *
 * "ready" on stdout once the first map exists.  Exit 77 when bpf() is not
 * permitted here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

static int make_map(const char *name)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, 4, 4, 1, NULL);
	if (fd < 0) {
		fprintf(stderr, "bpf_map_create: %s\n", strerror(errno));
		exit(errno == EPERM || errno == EACCES || errno == ENOSYS ? 77 : 1);
	}
	return fd;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "churn") == 0) {
		double end = now_s() + atof(argv[2]);
		close(make_map("churn"));
		printf("ready\n");
		fflush(stdout);
		/* Held long enough that a report often sees it open, and a
		 * journal behind by a batch often still has it open. */
		while (now_s() < end) {
			int fd = make_map("churn");
			usleep(5000);
			close(fd);
			usleep(500);
		}
		return 0;
	}
	if (argc >= 4 && strcmp(argv[1], "hold") == 0) {
		int fd = make_map(argv[2]);
		printf("ready\n");
		fflush(stdout);
		sleep((unsigned)atoi(argv[3]));
		close(fd);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "once") == 0) {
		make_map("once");
		printf("ready\n");
		return 0;
	}
	fprintf(stderr, "usage: live_host churn SECONDS | hold NAME SECONDS | once\n");
	return 2;
}
