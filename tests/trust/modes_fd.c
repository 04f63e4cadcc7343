// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* FD tables and closes the shim cannot see: a thread with an unshared
 * table, io_uring's close, bpf() by raw system call; and steady programs
 * for live reports, moved journals and full disks. */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <linux/close_range.h>
#include "host_trust.h"

static bool use_close_range;

static void *private_table(void *arg)
{
	int shared = (int)(intptr_t)arg;
	int r = use_close_range ? close_range(1000000, 1000001, CLOSE_RANGE_UNSHARE)
				: unshare(CLONE_FILES);
	if (r)
		trust_die("unshare");
	close(shared);                    /* only this thread's copy */
	int mine = trust_map("tr_private");   /* only in this thread's table */
	out("private %d", mine);
	return NULL;
}

/* One thread takes its own FD table, closes and creates there. */
static int unshare_mode(int argc, char **argv)
{
	use_close_range = argc > 0 && !strcmp(argv[0], "close_range");
	int m = trust_map("tr_shared");
	if (m < 0)
		trust_die("map");
	pthread_t t;
	if (pthread_create(&t, NULL, private_table, (void *)(intptr_t)m))
		trust_die("pthread_create");
	pthread_join(t, NULL);
	out("shared_open %d", fcntl(m, F_GETFD) >= 0);
	close(trust_map("tr_after"));
	exit(0);
}

/* A map closed by IORING_OP_CLOSE: a real close no close() shows. */
static int io_uring_close_mode(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	int m = trust_map("tr_uring");
	if (m < 0)
		trust_die("map");
	struct io_uring ring;
	int rc = io_uring_queue_init(4, &ring, 0);
	if (rc < 0) {
		out("no_io_uring %d", -rc);
		return 77;
	}
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	io_uring_prep_close(sqe, m);
	io_uring_submit(&ring);
	struct io_uring_cqe *cqe;
	if (io_uring_wait_cqe(&ring, &cqe) < 0)
		trust_die("io_uring_wait_cqe");
	out("closed %d", cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	out("open_after %d", fcntl(m, F_GETFD) >= 0);
	exit(0);   /* the ring is still open: the exit snapshot sees it */
}

static long raw(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

/* bpf() by the syscall instruction, as Go and static binaries do. */
static int raw_create_mode(int argc, char **argv)
{
	bool exit_group = argc > 0 && !strcmp(argv[0], "exit_group");
	/* high: the first map moves to FD 700, so the FD table has grown past
	 * its first 64 entries when the shim looks at exit. */
	bool high = argc > 0 && !strcmp(argv[0], "high");
	for (int i = 0; i < 2; i++) {
		union bpf_attr attr;
		memset(&attr, 0, sizeof(attr));
		attr.map_type = BPF_MAP_TYPE_ARRAY;
		attr.key_size = 4;
		attr.value_size = 8;
		attr.max_entries = 4;
		snprintf(attr.map_name, sizeof(attr.map_name), "tr_raw%d", i);
		long fd = raw(__NR_bpf, BPF_MAP_CREATE, (long)&attr, sizeof(attr));
		if (fd < 0)
			return 3;
		if (high && i == 0) {
			if (raw(__NR_dup3, fd, 700, O_CLOEXEC) != 700)
				return 3;
			raw(__NR_close, fd, 0, 0);
			fd = 700;
		}
		out("raw_fd %ld", fd);
	}
	if (exit_group)
		raw(__NR_exit_group, 0, 0, 0);
	exit(0);
}

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

/* A steady daemon: one map held, one created and closed every MS until SIGTERM. */
static int pulse_mode(int argc, char **argv)
{
	long ms = argc > 0 ? atol(argv[0]) : 10;
	struct sigaction sa = { .sa_handler = on_stop };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	int held = trust_map("tr_held");
	if (held < 0)
		trust_die("map");
	out("ready %d", (int)getpid());
	long n = 0;
	while (!stop) {
		int fd = trust_map("tr_pulse");
		if (fd >= 0) {
			close(fd);
			n++;
		}
		trust_sleep_ms(ms);
	}
	out("pulses %ld", n);
	return 0;
}

/* Busy: create and close as fast as possible (a live --pid target). */
static int churn_mode(int argc, char **argv)
{
	long seconds = argc > 0 ? atol(argv[0]) : 5;
	int held = trust_map("tr_held");
	if (held < 0)
		trust_die("map");
	out("ready %d", (int)getpid());
	time_t end = time(NULL) + seconds;
	while (time(NULL) < end) {
		int fd = trust_map("tr_churn");
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

/* The slow leak: re-opened by ID every 200 ms and kept (tests/trust/fold.sh). */
static int reopen_config(unsigned int id)
{
	return bpf_map_get_fd_by_id(id);
}

/*
 * A stats exporter with a slow leak, for folding: a map made and closed
 * every 5 ms (balanced churn), and the held map re-opened by ID and
 * forgotten every 200 ms, for SECONDS.
 */
static int slow_leak_mode(int argc, char **argv)
{
	long seconds = argc > 0 ? atol(argv[0]) : 4;
	int held = trust_map("tr_config");
	if (held < 0)
		trust_die("map");
	unsigned int id = trust_map_id(held);
	long churn = 0, leaked = 0;
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long tick = 0;; tick++) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= seconds)
			break;
		int fd = trust_map("tr_stats");
		if (fd >= 0) {
			close(fd);
			churn++;
		}
		if (tick % 40 == 39 && reopen_config(id) >= 0)
			leaked++;
		trust_sleep_ms(5);
	}
	out("churn %ld", churn);
	out("leaked %ld", leaked);
	return 0;
}

const struct trust_mode trust_fd_modes[] = {
	{ "unshare", "[close_range]", unshare_mode },
	{ "io-uring-close", "", io_uring_close_mode },
	{ "raw-create", "[exit_group|high]", raw_create_mode },
	{ "pulse", "[MS]", pulse_mode },
	{ "churn", "[SECONDS]", churn_mode },
	{ "slow-leak", "[SECONDS]", slow_leak_mode },
	{ NULL, NULL, NULL },
};
