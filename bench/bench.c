// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * `make bench`: what the shim costs, measured side by side in one run
 * (bench --help for the options).  Every timed figure runs bench_loops
 * without the shim and with it, interleaved; docs/overhead.md explains the
 * method and its noise, and shows the figures.  This file is the driver:
 * options, the temp dir, the table's heading and results.json's outer
 * object; harness.c runs the children, figure_*.c the figures.
 *
 * A benchmark, not a test: timing never makes it fail.  Exit status 0 ran,
 * 77 bpf() not permitted here (nothing measured), 1 the harness itself
 * broke (a child crashed, a file could not be written).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

struct bench_options opt = { .reps = 7, .json = "bench/results.json", .peers = true };
struct bench_paths paths = { .tmpdir = "/tmp/bpfleak-bench.XXXXXX" };
struct jsonw json;
int harness_errors;
static char cmdline[2048];

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: bench [--short] [--reps N] [--build DIR] [--json FILE] [--only 1,2,...]\n"
		"             [--cpus LIST] [--no-peers] [--label TEXT] [--before DIR]\n"
		"\n"
		"  --short       1 repetition of small counts (make check); no verdicts\n"
		"  --reps N      A/B repetitions of each timed loop (default 7)\n"
		"  --build DIR   where libbpfleak.so, bpfleak-report and bench/ are\n"
		"                (default: the build directory this program is in)\n"
		"  --json FILE   write the figures there (default bench/results.json)\n"
		"  --only LIST   only these figures: 1 pass-through, 2 creates, 3 threads,\n"
		"                4 journal, 5 analyzer, 6 memory, 7 peers, 8 start-up,\n"
		"                9 a week of staging\n"
		"  --cpus LIST   pin the children to these CPUs (e.g. 1 or 0-1)\n"
		"  --no-peers    skip valgrind and strace\n"
		"  --label TEXT  stored with the results (make bench: git describe)\n"
		"  --before DIR  also run DIR/libbpfleak.so (another build) in figures 1-3\n"
		"                and 8, interleaved with ours: before and after in one run\n");
	exit(status);
}

/* The temp dir holds plain files only (journals, the stderr log). */
static void cleanup_tmp(void)
{
	if (strchr(paths.tmpdir, 'X'))
		return;   /* never created */
	DIR *d = opendir(paths.tmpdir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	rmdir(paths.tmpdir);
}

static void on_signal(int sig)
{
	cleanup_tmp();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void cpu_model(char *out, size_t cap)
{
	snprintf(out, cap, "?");
	FILE *f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "model name", 10)) {
			char *c = strchr(line, ':');
			if (c) {
				c += 1 + (c[1] == ' ');
				c[strcspn(c, "\n")] = '\0';
				snprintf(out, cap, "%s", c);
			}
			break;
		}
	fclose(f);
}

int main(int argc, char **argv)
{
	size_t cl = 0;
	for (int i = 0; i < argc && cl < sizeof(cmdline) - 1; i++)
		cl += (size_t)snprintf(cmdline + cl, sizeof(cmdline) - cl, "%s%s", i ? " " : "", argv[i]);
	bool reps_given = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--short"))
			opt.is_short = true;
		else if (!strcmp(a, "--no-peers"))
			opt.peers = false;
		else if (!strcmp(a, "--reps") && next) {
			opt.reps = atoi(next);
			reps_given = true;
			i++;
		} else if (!strcmp(a, "--build") && next)
			opt.build = argv[++i];
		else if (!strcmp(a, "--json") && next)
			opt.json = argv[++i];
		else if (!strcmp(a, "--only") && next)
			opt.only = argv[++i];
		else if (!strcmp(a, "--cpus") && next)
			opt.cpus = argv[++i];
		else if (!strcmp(a, "--label") && next)
			opt.label = argv[++i];
		else if (!strcmp(a, "--before") && next)
			opt.before = argv[++i];
		else if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			usage(0);
		else
			usage(2);
	}
	if (opt.is_short && !reps_given)
		opt.reps = 1;
	if (opt.reps < 1 || opt.reps > MAX_REPS)
		usage(2);

	/* The build directory: --build, else the one this binary sits in (B/bench/bench). */
	if (opt.build) {
		if (!realpath(opt.build, paths.build)) {
			fprintf(stderr, "bench: %s: %s\n", opt.build, strerror(errno));
			return 1;
		}
	} else {
		ssize_t n = readlink("/proc/self/exe", paths.build, sizeof(paths.build) - 1);
		paths.build[n > 0 ? n : 0] = '\0';
		for (int k = 0; k < 2; k++) {
			char *slash = strrchr(paths.build, '/');
			if (slash)
				*slash = '\0';
		}
	}
	snprintf(paths.shim, sizeof(paths.shim), "%s/libbpfleak.so", paths.build);
	snprintf(paths.loops, sizeof(paths.loops), "%s/bench/bench_loops", paths.build);
	snprintf(paths.gen, sizeof(paths.gen), "%s/bench/gen_journal", paths.build);
	snprintf(paths.report, sizeof(paths.report), "%s/bpfleak-report", paths.build);
	if (opt.before) {
		snprintf(paths.before_shim, sizeof(paths.before_shim), "%s/libbpfleak.so", opt.before);
		if (access(paths.before_shim, R_OK)) {
			fprintf(stderr, "bench: --before: %s: %s\n", paths.before_shim, strerror(errno));
			return 1;
		}
	}
	if (!executable(paths.loops) || !executable(paths.gen) || access(paths.shim, R_OK)) {
		fprintf(stderr, "bench: %s, %s or %s is missing (run make)\n", paths.shim,
			paths.loops, paths.gen);
		return 1;
	}
	if (!mkdtemp(paths.tmpdir)) {
		perror("bench: mkdtemp");
		return 1;
	}
	atexit(cleanup_tmp);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, on_signal);   /* e.g. `make bench | head` */
	snprintf(paths.errlog, sizeof(paths.errlog), "%s/stderr.log", paths.tmpdir);

	/* bpf() permitted here?  Without it there is nothing to measure. */
	struct run probe;
	char *pargv[] = { paths.loops, "probe", "1", NULL };
	run_child(pargv, W_NONE, NULL, false, &probe);
	if (!WIFEXITED(probe.status) || WEXITSTATUS(probe.status) != 0) {
		printf("SKIP: bpf() is not permitted here (BPF_MAP_CREATE failed); nothing measured\n");
		return 77;
	}

	FILE *js = fopen(opt.json, "we");   /* not inherited by the children */
	if (!js) {
		fprintf(stderr, "bench: %s: %s\n", opt.json, strerror(errno));
		return 1;
	}
	struct utsname u;
	uname(&u);
	char model[256], date[64];
	cpu_model(model, sizeof(model));
	time_t now = time(NULL);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	say("bpfleak bench%s: %s, kernel %s, %ld CPUs (%s)%s%s\n", opt.is_short ? " (short mode)" : "",
	    date, u.release, cpus, model, opt.label ? ", " : "", opt.label ? opt.label : "");
	say("  %s\n", cmdline);
	if (opt.cpus)
		say("  children pinned to CPUs %s\n", opt.cpus);
	if (opt.is_short)
		say("  short mode: 1 repetition of small counts, to check that the harness runs;\n"
		    "  the counts are too small for the budgets, so no verdicts are given.\n");

	jsonw_init(&json, js);
	json.record_sep = ",\n  ";   /* one row of a figure a line */
	jsonw_begin_object(&json, NULL);
	jsonw_number(&json, "bpfleak_bench", 1);
	jsonw_string(&json, "date", date);
	jsonw_string(&json, "command", cmdline);
	jsonw_string(&json, "label", opt.label);
	jsonw_bool(&json, "short", opt.is_short);
	jsonw_number(&json, "reps", opt.reps);
	jsonw_begin_object(&json, "host");
	jsonw_string(&json, "kernel", u.release);
	jsonw_string(&json, "machine", u.machine);
	jsonw_string(&json, "cpu", model);
	jsonw_number(&json, "cpus", (double)cpus);
	jsonw_string(&json, "pinned_cpus", opt.cpus);
	jsonw_end_object(&json);
	jsonw_string(&json, "shim", paths.shim);
	jsonw_string(&json, "before_shim", opt.before ? paths.before_shim : NULL);

	jsonw_begin_array(&json, "loops");
	if (want(1) || want(2) || want(3))
		figures_loops();
	jsonw_end_array(&json);
	jsonw_begin_array(&json, "journal");
	if (want(4))
		figure_journal();
	jsonw_end_array(&json);
	if (want(5))
		figure_analyzer();
	else
		jsonw_null(&json, "analyzer");
	if (want(6))
		figure_rss();
	else
		jsonw_null(&json, "rss");
	if (want(7) && opt.peers)
		figure_peers();
	else
		jsonw_null(&json, "peers");
	jsonw_begin_array(&json, "startup");
	if (want(8))
		figure_startup();
	jsonw_end_array(&json);
	if (want(9))
		figure_week();
	else
		jsonw_null(&json, "week");
	jsonw_number(&json, "settle_s", settled.seconds);
	jsonw_number(&json, "runs_started_busy", settled.busy);
	jsonw_int_array(&json, "runs_started_busy_by_figure", settled.busy_by_figure + 1, N_FIGURES);
	jsonw_number(&json, "harness_errors", harness_errors);
	if (settled.busy) {
		say("\nnote: %d run(s) started before the machine went idle (another load was "
		    "running), in figure", settled.busy);
		for (int f = 1; f <= N_FIGURES; f++)
			if (settled.busy_by_figure[f])
				say(" %d (%d)", f, settled.busy_by_figure[f]);
		say(": their elapsed times are noisier than usual, CPU times less so.\n");
	}
	jsonw_end_object(&json);
	fputc('\n', js);
	if (fclose(js)) {
		fprintf(stderr, "bench: %s: %s\n", opt.json, strerror(errno));
		return 1;
	}
	say("\nJSON: %s\n", opt.json);
	if (harness_errors) {
		fprintf(stderr, "bench: %d run(s) failed; see above\n", harness_errors);
		return 1;
	}
	return 0;
}
