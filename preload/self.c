// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Who this process is: pid (cached: glibc no longer caches getpid), parent,
 * when it started or forked, and what its `process` row says.  An image
 * that came from exec is told from a fresh process by its kernel start
 * time (journal.c looks for an earlier row with the same pid and ticks).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <bpfleak/snapshot.h>
#include "journal_writer.h"
#include "shim.h"

struct self self = { .origin = "start" };
__thread pid_t shim_cached_tid __attribute__((tls_model("initial-exec")));

pid_t shim_tid(void)
{
	if (!shim_cached_tid)
		shim_cached_tid = gettid();
	return shim_cached_tid;
}

uint64_t shim_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * In the constructor of every process: plain system calls rather than
 * libc's wrappers and the vDSO, whose pages a short-lived host (/bin/true)
 * would otherwise not touch (docs/overhead.md, figure 8).
 */
void self_init(void)
{
	self.pid = (pid_t)raw_syscall(SYS_getpid, 0, 0, 0, 0, 0, 0);
	self.ppid = (pid_t)raw_syscall(SYS_getppid, 0, 0, 0, 0, 0, 0);
	struct timespec ts = { 0, 0 };
	raw_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts, 0, 0, 0, 0);
	self.started_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	self.origin = "start";
}

void self_after_fork_child(void)
{
	pid_t parent = self.pid;
	shim_cached_tid = 0;
	self.pid = getpid();
	self.ppid = parent;
	self.fork_ns = self.started_ns = shim_now_ns();
	self.origin = "fork";
	self.from_fork = true;
}

/* Field `field` (1-based, as proc(5) numbers them) of /proc/self/stat; 0 unknown. */
static uint64_t stat_field(int field)
{
	size_t len = 0;
	char *stat = bpfleak_read_file("/proc/self/stat", &len);
	uint64_t v = 0;
	if (stat) {
		/* The fields after comm's ")" are space separated. */
		char *p = strrchr(stat, ')');
		for (int f = 2; p && f < field; f++)
			p = strchr(p + 1, ' ');
		if (p)
			v = strtoull(p + 1, NULL, 10);
		free(stat);
	}
	return v;
}

static uint64_t start_ticks(void)
{
	return stat_field(22);
}

int self_thread_count(void)
{
	return (int)stat_field(20);
}

static char *cmdline(void)
{
	size_t len = 0;
	char *c = bpfleak_read_file("/proc/self/cmdline", &len);
	if (!c)
		return NULL;
	for (size_t i = 0; i + 1 < len; i++)
		if (c[i] == '\0')
			c[i] = ' ';
	return c;
}

void self_row(struct jw_process *p, char **exe, char **cmd, char *boot_id, size_t cap)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	*exe = strdup(buf);
	*cmd = cmdline();
	bpfleak_boot_id(boot_id, cap);
	struct timespec mono, wall;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &wall);
	*p = (struct jw_process){
		.pid = self.pid,
		.ppid = self.ppid,
		.exe = *exe,
		.cmdline = *cmd ? *cmd : "",
		.boot_id = boot_id,
		.origin = self.origin,
		.recorder = "preload",
		.start_ticks = start_ticks(),
		.started_ns = self.started_ns,
		.realtime_base_ns = ((int64_t)wall.tv_sec - mono.tv_sec) * 1000000000ll +
				    (wall.tv_nsec - mono.tv_nsec),
	};
}
