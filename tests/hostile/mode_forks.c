// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* forks: 50 children (some exec) while parent threads keep creating. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "host_hostile.h"

static _Atomic int stop_flag;

static long creator_pace_us;
static unsigned long fork_limit_ms;

static void *creator_main(void *arg)
{
	long n = 0;
	uint32_t anchor = *(uint32_t *)arg;
	while (!atomic_load(&stop_flag)) {
		if (creator_pace_us)
			usleep((useconds_t)creator_pace_us);
		int fd = (n & 1) ? make_map("hl_p") : bpf_map_get_fd_by_id(anchor);
		CHECK(fd >= 0, "parent creator: %s", strerror(errno));
		if (fd >= 0)
			CHECK(close(fd) == 0, "parent creator close: %s", strerror(errno));
		n++;
	}
	return (void *)n;
}

/* The program an exec'd child becomes: two maps, one left open. */
static int mode_execchild(int idx, int inherited_fd, uint32_t inherited_id)
{
	char name[16];
	snprintf(name, sizeof(name), "hl_x%d", idx);
	int a = make_map(name), b = make_map(name);
	if (a < 0 || b < 0)
		die("execchild map");
	/* The parent's non-CLOEXEC dup must have survived exec. */
	uint32_t got = map_id_of(inherited_fd);
	CHECK(got == inherited_id, "execchild: inherited fd %d holds %u, expected %u", inherited_fd,
	      got, inherited_id);
	out("child %d %d exec %u %u inherited %d", idx, (int)getpid(), map_id_of(a), map_id_of(b),
	    inherited_fd);
	close(b);
	return atomic_load(&errors) ? 1 : 0;
}

static int mode_forks(int nchildren, int nthreads, const char *self_exe)
{
	raise_nofile(4096);
	int anchor = make_map("hl_anchor");
	if (anchor < 0)
		die("anchor map");
	uint32_t anchor_id = map_id_of(anchor);
	/* A copy without O_CLOEXEC: exec'd children inherit it. */
	int keep = dup(anchor);
	if (keep < 0)
		die("dup");
	out("parent %d anchor %d %u keep %d", (int)getpid(), anchor, anchor_id, keep);

	pthread_t th[16];
	if (nthreads > 16)
		nthreads = 16;
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, creator_main, &anchor_id))
			die("pthread_create");
	/* Let the creators get going so forks land in the middle of their hooks. */
	usleep(20000);

	pid_t pids[256];
	if (nchildren > 256)
		nchildren = 256;
	uint64_t t0 = mono_ns();
	uint64_t fork_max = 0, fork_sum = 0;
	for (int i = 0; i < nchildren; i++) {
		uint64_t f0 = mono_ns();
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid > 0) {
			uint64_t dt = mono_ns() - f0;
			fork_sum += dt;
			if (dt > fork_max)
				fork_max = dt;
		}
		/* A fork that waits seconds is a starved host: stop, report, fail. */
		if (pid > 0 && fork_limit_ms && fork_max > fork_limit_ms * 1000000ull) {
			pids[i] = pid;
			nchildren = i + 1;
			CHECK(0, "fork #%d took %llu ms (limit %lu ms); stopped forking", i,
			      (unsigned long long)(fork_max / 1000000), fork_limit_ms);
			break;
		}
		if (pid == 0) {
			char idx[16], kfd[16], kid[16];
			snprintf(idx, sizeof(idx), "%d", i);
			if (i % 3 == 0) {
				snprintf(kfd, sizeof(kfd), "%d", keep);
				snprintf(kid, sizeof(kid), "%u", anchor_id);
				execl(self_exe, "host_hostile", "execchild", idx, kfd, kid, (char *)NULL);
				say("exec %s: %s", self_exe, strerror(errno));
				_exit(3);
			}
			char name[16];
			snprintf(name, sizeof(name), "hl_c%d", i);
			int m = make_map(name);
			if (m < 0) {
				say("child map: %s", strerror(errno));
				_exit(3);
			}
			int d = dup(m);
			out("child %d %d fork %u", i, (int)getpid(), map_id_of(m));
			close(d);
			/* Half leave through exit() (destructor, snapshot), half through _exit(). */
			if (i % 2)
				_exit(0);
			exit(0);
		}
		pids[i] = pid;
		if (i % 5 == 4)
			usleep(2000);
	}
	int bad = 0;
	for (int i = 0; i < nchildren; i++) {
		int st;
		if (waitpid(pids[i], &st, 0) < 0)
			die("waitpid");
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			say("child %d (pid %d) ended with status %#x", i, (int)pids[i], st);
			bad++;
		}
	}
	uint64_t t1 = mono_ns();
	atomic_store(&stop_flag, 1);
	long made = 0;
	for (int i = 0; i < nthreads; i++) {
		void *rv;
		pthread_join(th[i], &rv);
		made += (long)rv;
	}
	CHECK(bad == 0, "%d children failed", bad);
	struct belief b[2] = { { anchor, anchor_id }, { keep, anchor_id } };
	report_open(b, 2);
	out("parent_creates %ld", made);
	out("children %d", nchildren);
	out("children_ms %llu", (unsigned long long)((t1 - t0) / 1000000));
	out("fork_max_ms %llu", (unsigned long long)(fork_max / 1000000));
	out("fork_avg_us %llu", (unsigned long long)(fork_sum / 1000 / (uint64_t)(nchildren ? nchildren : 1)));
	out("errors %ld", atomic_load(&errors));
	return atomic_load(&errors) ? 1 : 0;
}

static int run_forks(int argc, char **argv)
{
	creator_pace_us = argc > 2 ? atol(argv[2]) : 0;
	fork_limit_ms = argc > 3 ? strtoul(argv[3], NULL, 10) : 0;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		die("readlink /proc/self/exe");
	self[n] = '\0';
	return mode_forks(atoi(argv[0]), atoi(argv[1]), self);
}

static int run_execchild(int argc, char **argv)
{
	(void)argc;
	return mode_execchild(atoi(argv[0]), atoi(argv[1]), (uint32_t)strtoul(argv[2], NULL, 10));
}

const struct hostile_mode forks_mode = {
	"forks", 2, "NCHILDREN NTHREADS [PACE_US [FORK_LIMIT_MS]]", run_forks
};
/* What forks' children exec. */
const struct hostile_mode execchild_mode = { "execchild", 3, "IDX FD ID", run_execchild };
