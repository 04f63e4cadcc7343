// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * A week of staging, simulated (`make bench`, figure 9; tests/analyzer/
 * fold-week.sh):
 *
 *   gen_week OUT.db DAYS EVENTS_PER_S [--fold-age AGE|off]
 *
 * One stats exporter, written through the journal writer as the shim
 * writes it: every second it opens EVENTS_PER_S / 2 maps by ID and closes
 * each a few milliseconds later (poll_stats), and once an hour it re-opens
 * its config map from the pin and forgets it (reload_config: the slow
 * leak, 1 FD an hour).  Time is simulated, so a week takes seconds.  Every
 * simulated minute the writer folds what is older than AGE (default 1h),
 * pass after pass, as the shim's writer thread does (preload/writer.c).
 * At the end: the exit snapshot of the leaked FDs.
 *
 * Prints one line of figures: events, pairs folded, file bytes, seconds
 * spent writing and folding.  Exit status 0 done, 2 usage, 3 failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpfleak/buildid.h>
#include <bpfleak/duration.h>
#include <bpfleak/journal.h>
#include <bpfleak/objinfo.h>
#include <bpfleak/snapshot.h>
#include "gen_modules.h"
#include "journal_writer.h"

#define NS_PER_S 1000000000ull
#define STATS_MAPS 10
#define CONFIG_MAP_ID 500
#define MAX_LEAKS 100000

#define OUT_OF_LINE __attribute__((noinline))

static struct jw journal;

static void check(int rc, const char *what)
{
	if (rc) {
		fprintf(stderr, "gen_week: %s: %s\n", what, jw_errstr(jw_errcode(&journal)));
		exit(3);
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The return address of its caller's call: a real line of this file. */
OUT_OF_LINE static uint64_t return_address(void)
{
	return (uint64_t)__builtin_return_address(0);
}

/*
 * The call sites the journal's two stacks name (the report prints these
 * lines).  The asm keeps the calls from becoming tail calls, whose return
 * address would be main's, and the two functions from being merged as one.
 */
OUT_OF_LINE static uint64_t poll_stats(void)
{
	uint64_t ip = return_address();   /* churn: opened by ID, closed right after */
	__asm__ volatile("# poll_stats" : "+r"(ip));
	return ip;
}

OUT_OF_LINE static uint64_t reload_config(void)
{
	uint64_t ip = return_address();   /* LEAK-SITE: re-opened from the pin, never closed */
	__asm__ volatile("# reload_config" : "+r"(ip));
	return ip;
}

static int64_t stack_of(uint64_t site, uint64_t caller)
{
	uint64_t ips[2] = { site, caller };
	int64_t id = jw_stack(&journal, site ^ (caller << 1), ips, 2);
	if (id < 0)
		check(-1, "stack");
	return id;
}

static void map_row(uint32_t id, const char *name, uint64_t ts)
{
	struct bpfleak_obj_info o = { .kind = BPFLEAK_KIND_MAP, .id = id,
				      .type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
				      .value_size = 8, .max_entries = 64 };
	snprintf(o.name, sizeof(o.name), "%s", name);
	check(jw_object(&journal, &o, ts), "object");
}

static void event(int pid, uint64_t ts, int op, int fd, int cmd, uint32_t obj, int64_t stack)
{
	struct jw_event ev = {
		.ts_ns = ts, .pid = pid, .tid = pid, .op = op, .has_fd = true, .fd = fd,
		.cmd = cmd, .kind = BPFLEAK_KIND_MAP, .obj_id = obj, .stack_id = stack,
		.result = op == BPFLEAK_OP_CREATE ? fd : 0,
		.flags = op == BPFLEAK_OP_CREATE ? BPFLEAK_EF_CLOEXEC : 0,
	};
	check(jw_event(&journal, &ev), "event");
}

static void exit_snapshot(int pid, uint64_t ts, const int *fds, long n)
{
	struct bpfleak_snap_fd *v = calloc((size_t)n + 1, sizeof(*v));
	if (!v)
		check(-1, "out of memory");
	for (long i = 0; i < n; i++) {
		v[i] = (struct bpfleak_snap_fd){ .fd = fds[i], .kind = BPFLEAK_KIND_MAP,
						 .obj_id = CONFIG_MAP_ID, .cloexec = 1 };
		snprintf(v[i].target, sizeof(v[i].target), "anon_inode:bpf-map");
	}
	struct bpfleak_snapshot snap = { .pid = pid, .fds = v, .n_fds = (size_t)n, .n_mounts = 1 };
	struct jw_snapshot_info info = { .ts_ns = ts, .end_ns = ts + 1000, .reason = BPFLEAK_SNAP_EXIT,
					 .pins_walked = true };
	check(jw_snapshot(&journal, &snap, &info), "snapshot");
	free(v);
}

static double fold_seconds;
static uint64_t folded;

static void fold(uint64_t now, uint64_t age)
{
	double t = now_s();
	struct jw_fold_result r = { .more = true };
	while (age && r.more) {
		check(jw_begin(&journal), "begin");
		check(jw_fold(&journal, now, age, JW_FOLD_PASS_ROWS, &r), "fold");
		check(jw_commit(&journal), "commit");
		folded += r.folded;
	}
	fold_seconds += now_s() - t;
}

int main(int argc, char **argv)
{
	int64_t age = 3600 * (int64_t)NS_PER_S;
	if (argc == 6 && !strcmp(argv[4], "--fold-age"))
		age = bpfleak_parse_fold_age_ns(argv[5]);
	long days = argc >= 4 ? strtol(argv[2], NULL, 10) : 0;
	long rate = argc >= 4 ? strtol(argv[3], NULL, 10) : 0;
	if ((argc != 4 && argc != 6) || days < 1 || days > 60 || rate < 2 || rate > 2000 ||
	    rate % 2 || age < 0) {
		fprintf(stderr, "usage: gen_week OUT.db DAYS EVENTS_PER_S [--fold-age AGE|off]\n"
			"  (DAYS 1-60, EVENTS_PER_S even, 2-2000)\n");
		return 2;
	}
	const char *out = argv[1];
	if (gen_modules_scan() || !gen_module_find(NULL)) {
		fprintf(stderr, "gen_week: cannot find my own mappings\n");
		return 3;
	}
	if (gen_journal_create(&journal, out, "gen_week"))
		return 3;

	/* Monotonic time starts at boot; the simulated week starts a second after one. */
	uint64_t t0 = NS_PER_S, t_end = t0 + (uint64_t)days * 86400 * NS_PER_S;
	int pid = (int)getpid();
	char boot_id[64];
	bpfleak_boot_id(boot_id, sizeof(boot_id));
	check(jw_begin(&journal), "begin");
	check(jw_meta(&journal, "synthetic", "bench/gen_week"), "meta");
	struct jw_process proc = {
		.pid = pid, .ppid = getppid(), .exe = gen_exe_path(),
		.cmdline = "stats-exporter --interval 1s", .boot_id = boot_id, .origin = "start",
		.start_ticks = 4242, .started_ns = t0, .realtime_base_ns = 1700000000ll * (int64_t)NS_PER_S,
		.recorder = "preload",
	};
	int64_t proc_row = jw_process(&journal, &proc);
	check(proc_row < 0, "process");
	check(gen_modules_write(&journal, pid, t0), "module");
	uint64_t caller = return_address();
	int64_t churn_stack = stack_of(poll_stats(), caller);
	int64_t leak_stack = stack_of(reload_config(), caller);
	for (uint32_t k = 1; k <= STATS_MAPS; k++) {
		char name[16];
		snprintf(name, sizeof(name), "stats_%u", k);
		map_row(k, name, t0);
	}
	map_row(CONFIG_MAP_ID, "config", t0);
	check(jw_commit(&journal), "commit");

	static int leaked[MAX_LEAKS];
	long n_leaked = 0, events = 0;
	long pairs_per_s = rate / 2;
	double t_start = now_s();
	for (uint64_t minute = t0; minute < t_end; minute += 60 * NS_PER_S) {
		check(jw_begin(&journal), "begin");
		for (uint64_t s = minute; s < minute + 60 * NS_PER_S && s < t_end; s += NS_PER_S) {
			/* Half past every hour: the reload that leaks. */
			if ((s - t0) % (3600 * NS_PER_S) == 1800 * NS_PER_S && n_leaked < MAX_LEAKS) {
				int fd = 3 + (int)n_leaked;
				event(pid, s, BPFLEAK_OP_CREATE, fd, BPF_OBJ_GET, CONFIG_MAP_ID, leak_stack);
				leaked[n_leaked++] = fd;
				events++;
			}
			int fd = 3 + (int)n_leaked;   /* the lowest free number */
			for (long k = 0; k < pairs_per_s; k++) {
				uint64_t at = s + (uint64_t)k * (NS_PER_S / (uint64_t)pairs_per_s) + 1000;
				uint32_t id = 1 + (uint32_t)(k % STATS_MAPS);
				event(pid, at, BPFLEAK_OP_CREATE, fd, BPF_MAP_GET_FD_BY_ID, id, churn_stack);
				event(pid, at + 2000000, BPFLEAK_OP_CLOSE, fd, -1, id, 0);
				events += 2;
			}
		}
		check(jw_process_flushed(&journal, proc_row, minute + 60 * NS_PER_S), "flush");
		check(jw_commit(&journal), "commit");
		fold(minute + 60 * NS_PER_S, (uint64_t)age);
	}
	check(jw_begin(&journal), "begin");
	exit_snapshot(pid, t_end, leaked, n_leaked);
	check(jw_process_exited(&journal, proc_row, t_end + 2000, true, 0), "exit");
	check(jw_commit(&journal), "commit");
	jw_finish(&journal, 0);
	jw_close(&journal);
	double total = now_s() - t_start;
	struct stat st;
	if (stat(out, &st))
		check(-1, "stat");
	printf("events=%ld folded_pairs=%llu leaked=%ld bytes=%lld write_s=%.2f fold_s=%.2f\n", events,
	       (unsigned long long)folded, n_leaked, (long long)st.st_size, total - fold_seconds,
	       fold_seconds);
	return 0;
}
