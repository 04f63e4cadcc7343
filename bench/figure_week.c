// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Figure 9: a week of staging (issue 11 goal 4).  bench/gen_week writes a
 * stats exporter's journal (10 maps opened by ID and closed every second,
 * one config map re-opened from its pin and kept every hour) through the
 * journal writer, folding as the shim's writer does; the same exporter for
 * one day without folding gives the size folding saves.  Then the report
 * over the folded week must name the slow leak as growth at reload_config.
 */
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

extern char **environ;

#define WEEK_BUDGET_MB 50.0

struct week {
	long long events, folded, leaked, bytes;
	double write_s, fold_s;
};

static bool generate(const char *db, const char *days, const char *rate, bool fold, struct week *w)
{
	char gen[4300];
	snprintf(gen, sizeof(gen), "%s/bench/gen_week", paths.build);
	char *argv[] = { gen, (char *)db, (char *)days, (char *)rate, "--fold-age", "off", NULL };
	if (fold)
		argv[4] = NULL;
	struct run r;
	remove_journal(db);
	run_child(argv, W_NONE, NULL, true, &r);
	const char *p = strstr(r.out, "events=");
	if (!r.ok || !p ||
	    sscanf(p, "events=%lld folded_pairs=%lld leaked=%lld bytes=%lld write_s=%lf fold_s=%lf",
		   &w->events, &w->folded, &w->leaked, &w->bytes, &w->write_s, &w->fold_s) != 6) {
		describe_failure("gen_week", &r);
		return false;
	}
	return true;
}

/* bpfleak-report --class growth over db: seconds, and whether reload_config is in it. */
static double report_growth(const char *db, bool *named)
{
	char out[4300];
	snprintf(out, sizeof(out), "%s/week-report.txt", paths.tmpdir);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char *argv[] = { paths.report, "--class", "growth", (char *)db, NULL };
	struct timespec a, b;
	pid_t pid;
	int status = -1;
	*named = false;
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (posix_spawn(&pid, paths.report, &fa, NULL, argv, environ) == 0)
		waitpid(pid, &status, 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	posix_spawn_file_actions_destroy(&fa);
	FILE *f = fopen(out, "r");
	char line[512];
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "growth") || strstr(line, "reload_config"))
			*named |= strstr(line, "gen_week.c:") && strstr(line, "reload_config");
	if (f)
		fclose(f);
	unlink(out);
	/* Exit 1: leaks found, as they should be. */
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
		*named = false;
	return (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
}

void figure_week(void)
{
	begin_figure(9);
	const char *days = opt.is_short ? "1" : "7", *rate = opt.is_short ? "2" : "20";
	say("\nFigure 9: a week of staging, simulated: a stats exporter at %s events/s of balanced\n"
	    "  churn and a slow leak of 1 FD/hour for %s day(s), written and folded (age 1h) as the\n"
	    "  shim does; the same exporter unfolded for 1 day, times the days\n", rate, days);
	say("  %-10s %10s %10s %8s %11s %11s %8s %8s %9s %8s %8s %s\n", "case", "events", "folded",
	    "leaked", "journal MB", "unfolded MB", "write s", "fold s", "report s", "growth", "budget",
	    "verdict");
	print_rule();
	char db[4300], plain[4300];
	snprintf(db, sizeof(db), "%s/week.db", paths.tmpdir);
	snprintf(plain, sizeof(plain), "%s/day-unfolded.db", paths.tmpdir);
	struct week w = { 0 }, d = { 0 };
	progress("week: generating %s day(s), folded", days);
	bool ok = generate(db, days, rate, true, &w);
	progress("week: one day unfolded");
	ok = generate(plain, "1", rate, false, &d) && ok;
	progress_done();
	jsonw_begin_object(&json, "week");
	if (!ok) {
		jsonw_string(&json, "status", "failed");
		jsonw_end_object(&json);
		return;
	}
	bool named = false;
	double report_s = report_growth(db, &named);
	double mb = (double)w.bytes / MIB, unfolded_mb = (double)d.bytes / MIB * atof(days);
	bool pass = named && mb < WEEK_BUDGET_MB;
	say("  %-10s %10lld %10lld %8lld %11.1f %11.1f %8.2f %8.2f %9.3f %8s %8s %s\n",
	    opt.is_short ? "1 day" : "7 days", w.events, w.folded, w.leaked, mb, unfolded_mb,
	    w.write_s, w.fold_s, report_s, named ? "named" : "MISSED", "<50 MB",
	    opt.is_short ? "" : pass ? "ok" : "OVER");
	say("  folding costs %.2f us per event it folds (writing one: %.2f us); the report names\n"
	    "  the leak as growth at gen_week.c reload_config: %s\n",
	    w.folded ? w.fold_s / (double)(2 * w.folded) * 1e6 : NAN,
	    w.events ? w.write_s / (double)w.events * 1e6 : NAN, named ? "yes" : "NO");
	jsonw_string(&json, "status", "done");
	jsonw_number(&json, "days", atof(days));
	jsonw_number(&json, "events_per_s", atof(rate));
	jsonw_number(&json, "events", (double)w.events);
	jsonw_number(&json, "folded_pairs", (double)w.folded);
	jsonw_number(&json, "leaked", (double)w.leaked);
	jsonw_number(&json, "journal_bytes", (double)w.bytes);
	jsonw_number(&json, "unfolded_bytes_estimate", (double)d.bytes * atof(days));
	jsonw_number(&json, "write_s", w.write_s);
	jsonw_number(&json, "fold_s", w.fold_s);
	jsonw_number(&json, "report_s", report_s);
	jsonw_bool(&json, "growth_named", named);
	jsonw_number(&json, "budget_mb", WEEK_BUDGET_MB);
	jsonw_bool(&json, "within_budget", pass);
	jsonw_end_object(&json);
	remove_journal(db);
	remove_journal(plain);
}
