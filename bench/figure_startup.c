// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Figure 8: what a process pays for having the shim preloaded, from fork to
 * exit, when it never makes a bpf FD (the shim stays dormant) and when its
 * first bpf FD starts recording.  Each program is started in blocks of
 * SPAWNS_PER_BLOCK without the shim, with it (and with the --before build's
 * shim), the order turning every block, after the machine went idle; the
 * figure is the median of every start.  The peers run the same programs.
 *
 * Every start runs in an empty directory with BPFLEAK_JOURNAL pointing
 * into it: a dormant shim must leave it empty ("files left").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

#define SPAWNS_PER_BLOCK 20
#define MAX_BLOCKS 40
#define MAX_STARTS (MAX_BLOCKS * SPAWNS_PER_BLOCK)

extern char **environ;

struct program {
	const char *title;
	const char *argv[6];     /* argv[0] "LOOPS": bench_loops */
	bool activates;          /* makes a bpf FD: no budget, a journal is expected */
};

static const struct program programs[] = {
	{ "/bin/true", { "/bin/true" }, false },
	{ "sh -c :", { "/bin/sh", "-c", ":" }, false },
	{ "sh -c '/bin/true; /bin/true'", { "/bin/sh", "-c", "/bin/true; /bin/true" }, false },
	{ "bpf tool, no bpf FD made", { "LOOPS", "idle", "1" }, false },
	{ "bpf tool, one map made (activates)", { "LOOPS", "probe", "1" }, true },
};
#define N_PROGRAMS (sizeof(programs) / sizeof(programs[0]))

/* Budget of a dormant start: both must hold. */
#define BUDGET_RATIO 1.10
#define BUDGET_ADDED_MS 0.10

enum variant { V_NONE, V_SHIM, V_BEFORE, V_VALGRIND, V_STRACE, N_VARIANTS };

struct samples {
	double wall_us[MAX_STARTS], cpu_us[MAX_STARTS];
	double block_us[MAX_BLOCKS];
	int n, blocks;
};

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* The environment of a start: ours without the shim's variables, plus them for the shim. */
static char **child_env(enum variant v, const char *journal)
{
	static char *env[512];
	static char preload[4300], jvar[4300];
	int n = 0;
	for (char **e = environ; *e && n < 500; e++)
		if (strncmp(*e, "LD_PRELOAD=", 11) && strncmp(*e, "BPFLEAK_", 8))
			env[n++] = *e;
	if (v == V_SHIM || v == V_BEFORE) {
		snprintf(preload, sizeof(preload), "LD_PRELOAD=%s",
			 v == V_SHIM ? paths.shim : paths.before_shim);
		snprintf(jvar, sizeof(jvar), "BPFLEAK_JOURNAL=%s", journal);
		env[n++] = preload;
		env[n++] = jvar;
		env[n++] = "BPFLEAK_QUIET=1";
	}
	env[n] = NULL;
	return env;
}

static int child_argv(const struct program *p, enum variant v, char **out)
{
	int n = 0;
	if (v == V_VALGRIND) {
		out[n++] = valgrind_path;
		out[n++] = "--quiet";
		out[n++] = "--track-fds=yes";
		out[n++] = "--log-file=/dev/null";
	} else if (v == V_STRACE) {
		out[n++] = strace_path;
		out[n++] = "-f";
		out[n++] = "-qq";
		out[n++] = "-e";
		out[n++] = "trace=bpf,close";
		out[n++] = "-o";
		out[n++] = "/dev/null";
	}
	for (int i = 0; p->argv[i]; i++)
		out[n++] = !strcmp(p->argv[i], "LOOPS") ? paths.loops : (char *)p->argv[i];
	out[n] = NULL;
	return n;
}

/* One start: fork+exec+wait, in dir; false when it did not exit 0. */
static bool start_once(const struct program *p, enum variant v, const char *dir,
		       const char *journal, double *wall_us, double *cpu_us)
{
	char *argv[20];
	child_argv(p, v, argv);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addchdir_np(&fa, dir);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, paths.errlog,
					 O_WRONLY | O_APPEND | O_CREAT, 0600);
	pid_t pid;
	double t0 = now_us();
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, child_env(v, journal));
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return false;
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	*wall_us = now_us() - t0;
	*cpu_us = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
		  (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Entries left in dir (then emptied). */
static int files_left(const char *dir)
{
	int n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			n++;
			unlinkat(dirfd(d), de->d_name, 0);
		}
	closedir(d);
	return n;
}

static void run_block(const struct program *p, enum variant v, int starts, const char *dir,
		      struct samples *s, int *failures, int *left)
{
	char journal[300];
	snprintf(journal, sizeof(journal), "%s/j.db", dir);
	double block[SPAWNS_PER_BLOCK];
	int k = 0;
	for (int i = 0; i < starts && s->n < MAX_STARTS; i++) {
		double w, c;
		if (!start_once(p, v, dir, journal, &w, &c)) {
			(*failures)++;
			continue;
		}
		s->wall_us[s->n] = w;
		s->cpu_us[s->n] = c;
		s->n++;
		if (k < SPAWNS_PER_BLOCK)
			block[k++] = w;
		/* A start that activated leaves its journal: not the next start's. */
		if (p->activates)
			files_left(dir);
	}
	if (k && s->blocks < MAX_BLOCKS)
		s->block_us[s->blocks++] = median(block, k);
	if (!p->activates && (v == V_SHIM || v == V_BEFORE))
		*left += files_left(dir);
	else
		files_left(dir);
}

static double ratio_range(const struct samples *a, const struct samples *b, bool hi)
{
	double r[MAX_BLOCKS];
	int n = a->blocks < b->blocks ? a->blocks : b->blocks;
	for (int i = 0; i < n; i++)
		r[i] = b->block_us[i] / a->block_us[i];
	return hi ? maximum(r, n) : minimum(r, n);
}

void figure_startup(void)
{
	begin_figure(8);
	bool have_vg = opt.peers && which("valgrind", valgrind_path, sizeof(valgrind_path));
	bool have_st = opt.peers && which("strace", strace_path, sizeof(strace_path));
	bool before = paths.before_shim[0] != 0;
	int blocks = opt.is_short ? 1 : opt.reps * 2 > MAX_BLOCKS ? MAX_BLOCKS : opt.reps * 2;
	int per_block = opt.is_short ? 3 : SPAWNS_PER_BLOCK;
	int peer_runs = opt.is_short ? 1 : 3;
	char dir[300];
	snprintf(dir, sizeof(dir), "%s/startup", paths.tmpdir);
	mkdir(dir, 0700);

	say("\nFigure 8: start-up, fork+exec+exit of one process, microseconds: medians of %d starts\n"
	    "  (%d blocks of %d, A without / B with the shim%s, the order turning every block)\n",
	    blocks * per_block, blocks, per_block, before ? " / C the --before build's" : "");
	say("  %-36s %9s %9s %7s %-15s %8s %12s %s\n", "program", "A us", "B us", "ratio",
	    "(range)", "added ms", "budget", "verdict");
	print_rule();
	static struct samples s[N_VARIANTS];
	for (size_t pi = 0; pi < N_PROGRAMS; pi++) {
		const struct program *p = &programs[pi];
		memset(s, 0, sizeof(s));
		int failures = 0, left = 0, busy0 = settled.busy;
		enum variant order[3] = { V_NONE, V_SHIM, V_BEFORE };
		int n_order = before ? 3 : 2;
		for (int b = 0; b < blocks; b++) {
			progress("start-up: %s, block %d/%d", p->title, b + 1, blocks);
			settle();
			for (int i = 0; i < n_order; i++) {
				enum variant v = order[(b + i) % n_order];
				run_block(p, v, per_block, dir, &s[v], &failures, &left);
			}
		}
		for (int r = 0; r < peer_runs; r++) {
			if (have_vg)
				run_block(p, V_VALGRIND, 1, dir, &s[V_VALGRIND], &failures, &left);
			if (have_st)
				run_block(p, V_STRACE, 1, dir, &s[V_STRACE], &failures, &left);
		}
		progress_done();
		double med[N_VARIANTS], cpu[N_VARIANTS];
		for (int v = 0; v < N_VARIANTS; v++) {
			med[v] = s[v].n ? median(s[v].wall_us, s[v].n) : NAN;
			cpu[v] = s[v].n ? median(s[v].cpu_us, s[v].n) : NAN;
		}
		double ratio = med[V_SHIM] / med[V_NONE], added_ms = (med[V_SHIM] - med[V_NONE]) / 1e3;
		bool budgeted = !p->activates;
		bool pass = ratio <= BUDGET_RATIO && added_ms <= BUDGET_ADDED_MS && left == 0;
		char range[40], verdict[96] = "";
		snprintf(range, sizeof(range), "(%.3f-%.3f)", ratio_range(&s[V_NONE], &s[V_SHIM], false),
			 ratio_range(&s[V_NONE], &s[V_SHIM], true));
		if (!s[V_NONE].n || !s[V_SHIM].n)
			snprintf(verdict, sizeof(verdict), "FAILED to run");
		else if (budgeted && !opt.is_short)
			snprintf(verdict, sizeof(verdict), "%s", pass ? "ok" : "OVER");
		if (left) {
			size_t vl = strlen(verdict);
			snprintf(verdict + vl, sizeof(verdict) - vl, "%s%d files left", vl ? ", " : "", left);
		}
		int busy = settled.busy - busy0;
		if (busy) {
			size_t vl = strlen(verdict);
			snprintf(verdict + vl, sizeof(verdict) - vl, "%sbusy %d/%d", vl ? ", " : "", busy,
				 blocks);
		}
		if (failures) {
			size_t vl = strlen(verdict);
			snprintf(verdict + vl, sizeof(verdict) - vl, "%s%d starts failed", vl ? ", " : "",
				 failures);
			harness_errors++;
		}
		say("  %-36s %9.0f %9.0f %7.3f %-15s %+8.3f %12s %s\n", p->title, med[V_NONE],
		    med[V_SHIM], ratio, range, added_ms, budgeted ? "<=1.10, +0.1ms" : "-", verdict);
		say("  %-36s %9.0f %9.0f %7.3f %-15s %+8.3f   CPU of the process (user + system)\n", "",
		    cpu[V_NONE], cpu[V_SHIM], cpu[V_SHIM] / cpu[V_NONE], "",
		    (cpu[V_SHIM] - cpu[V_NONE]) / 1e3);
		if (before)
			say("  %-36s %9s %9.0f %7.3f %-15s %+8.3f   C: the --before build's shim\n", "", "",
			    med[V_BEFORE], med[V_BEFORE] / med[V_NONE], "",
			    (med[V_BEFORE] - med[V_NONE]) / 1e3);
		if (have_vg || have_st) {
			char vg[40] = "skipped", st[40] = "skipped";
			if (s[V_VALGRIND].n)
				snprintf(vg, sizeof(vg), "%.0f (%.1fx)", med[V_VALGRIND],
					 med[V_VALGRIND] / med[V_NONE]);
			if (s[V_STRACE].n)
				snprintf(st, sizeof(st), "%.0f (%.1fx)", med[V_STRACE],
					 med[V_STRACE] / med[V_NONE]);
			say("  %-36s peers: valgrind --track-fds %s, strace -f %s\n", "", vg, st);
		}
		jsonw_begin_object(&json, NULL);
		jsonw_string(&json, "program", p->title);
		jsonw_bool(&json, "activates", p->activates);
		jsonw_number(&json, "starts", s[V_SHIM].n);
		jsonw_number(&json, "without_us", med[V_NONE]);
		jsonw_number(&json, "with_us", med[V_SHIM]);
		jsonw_number(&json, "ratio", ratio);
		jsonw_number(&json, "ratio_min", ratio_range(&s[V_NONE], &s[V_SHIM], false));
		jsonw_number(&json, "ratio_max", ratio_range(&s[V_NONE], &s[V_SHIM], true));
		jsonw_number(&json, "added_ms", added_ms);
		jsonw_number(&json, "without_cpu_us", cpu[V_NONE]);
		jsonw_number(&json, "with_cpu_us", cpu[V_SHIM]);
		jsonw_number(&json, "before_us", before ? med[V_BEFORE] : NAN);
		jsonw_number(&json, "valgrind_us", med[V_VALGRIND]);
		jsonw_number(&json, "strace_us", med[V_STRACE]);
		jsonw_number(&json, "files_left", left);
		jsonw_number(&json, "blocks_started_busy", busy);
		if (budgeted) {
			jsonw_number(&json, "budget_ratio", BUDGET_RATIO);
			jsonw_number(&json, "budget_added_ms", BUDGET_ADDED_MS);
			if (s[V_NONE].n && s[V_SHIM].n)
				jsonw_bool(&json, "within_budget", pass);
		}
		jsonw_end_object(&json);
	}
	rmdir(dir);
	say("  one start = posix_spawn to wait4, stdout to /dev/null; ratio = B/A of the medians,\n"
	    "  (range) = lowest and highest B/A of the block medians; added = B - A.  A dormant\n"
	    "  start must leave its directory empty (\"files left\" otherwise).\n");
}
