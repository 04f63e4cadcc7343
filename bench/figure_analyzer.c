// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Figure 5: bpfleak-report on synthetic journals (bench/gen_journal).
 *
 * Budgets (issue 11): at most 0.5 us per event over a 1M-event journal and
 * at most 10 s for 10M events, peak memory stated.  The 10M row takes a
 * 660 MB journal and about a minute to generate, so it runs only with
 * BENCH_REPORT_10M=1; its journal is kept in BIG_DIR and generated again
 * only when the generator is newer (its module rows point at the generator).
 * BENCH_REPORT_BEFORE=PATH times another build's bpfleak-report on the same
 * journals, interleaved run by run, and prints the ratio.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "bench.h"

#define BIG_DIR "/tmp/bpfleak-bench-cache"
#define BIG_EVENTS 10000000L
#define PER_EVENT_BUDGET_US 0.5
#define BIG_BUDGET_S 10.0

struct synth {
	long events, sites;
};

/* One build's timings on one journal. */
struct timed {
	double wall[MAX_REPS], rss[MAX_REPS];
	int n, bad_status;
};

static bool env_on(const char *name)
{
	const char *v = getenv(name);
	return v && *v && strcmp(v, "0") != 0;
}

/* The cached big journal is still good: there, and newer than its generator. */
static bool cached_fresh(const char *j)
{
	struct stat js, gs;
	return stat(j, &js) == 0 && stat(paths.gen, &gs) == 0 && js.st_size > 0 &&
	       js.st_mtime >= gs.st_mtime;
}

static bool time_once(const char *report, const char *j, struct timed *t)
{
	char *rargv[] = { (char *)report, (char *)j, NULL };
	struct run rr;
	settle();
	run_child(rargv, W_NONE, NULL, false, &rr);
	/* 0 = no leak, 1 = leaks found (expected here); 2 = it refused the input. */
	int code = WIFEXITED(rr.status) ? WEXITSTATUS(rr.status) : -1;
	if (code != 0 && code != 1) {
		t->bad_status = code;
		describe_failure(report, &rr);
		return false;
	}
	t->wall[t->n] = rr.wall_s;
	t->rss[t->n] = (double)rr.maxrss_kb / 1024.0;
	t->n++;
	return true;
}

static void json_timed(const char *prefix, const struct timed *t)
{
	char k[64];
	snprintf(k, sizeof(k), "%s_wall_s", prefix);
	jsonw_number(&json, k, t->n ? median(t->wall, t->n) : NAN);
	snprintf(k, sizeof(k), "%s_peak_rss_mib", prefix);
	jsonw_number(&json, k, t->n ? median(t->rss, t->n) : NAN);
	snprintf(k, sizeof(k), "%s_wall_samples", prefix);
	jsonw_number_array(&json, k, t->wall, (size_t)t->n);
}

void figure_analyzer(void)
{
	begin_figure(5);
	/* The growth line uses the rows with the main site count; the 10-site row is a stress case. */
	static const struct synth full_sizes[] = {
		{ 100000, 1000 }, { 300000, 1000 }, { 1000000, 1000 }, { 1000000, 10 },
		{ BIG_EVENTS, 1000 },
	};
	static const struct synth short_sizes[] = { { 10000, 100 } };
	const struct synth *sizes = opt.is_short ? short_sizes : full_sizes;
	bool big = !opt.is_short && env_on("BENCH_REPORT_10M");
	int n_sizes = opt.is_short ? 1 : big ? 5 : 4;
	long main_sites = sizes[0].sites;
	int reps = opt.is_short ? 1 : 3;
	bool have_report = executable(paths.report);
	const char *before = getenv("BENCH_REPORT_BEFORE");
	if (before && (!*before || !executable(before))) {
		if (*before)
			say("  BENCH_REPORT_BEFORE=%s is not an executable: ignored\n", before);
		before = NULL;
	}

	say("\nFigure 5: bpfleak-report on synthetic journals (10%% of FDs open at exit, exit snapshot,\n"
	    "  real modules; median of %d runs, 1 at %ld events)\n", reps, BIG_EVENTS);
	if (!have_report)
		say("  PENDING: %s is not built yet; generator and harness ran, nothing timed.\n",
		    paths.report);
	if (!big && !opt.is_short)
		say("  (%ld events: with BENCH_REPORT_10M=1, journal kept in %s)\n", BIG_EVENTS, BIG_DIR);
	if (before)
		say("  before = %s, timed interleaved with this build on the same journals\n", before);
	say("  %-9s %5s %7s %10s %6s %8s %6s %8s %8s%s %s\n", "events", "sites", "open",
	    "journal MB", "gen s", "report s", "us/ev", "peak MiB", "budget",
	    before ? "  before s   ratio before MiB" : "", "verdict");
	print_rule();
	jsonw_begin_object(&json, "analyzer");
	jsonw_string(&json, "report", paths.report);
	if (before)
		jsonw_string(&json, "before", before);
	jsonw_string(&json, "status", have_report ? "timed" : "pending");
	jsonw_begin_array(&json, "runs");
	double t_first = NAN, t_last = NAN;
	long n_first = 0, n_last = 0;
	for (int i = 0; i < n_sizes; i++) {
		long events = sizes[i].events, sites = sizes[i].sites, open_fds = events / 10;
		bool is_big = events == BIG_EVENTS;
		char j[256], ev[32], of[32], st[32];
		if (is_big) {
			mkdir(BIG_DIR, 0700);
			snprintf(j, sizeof(j), "%s/synthetic-%ld-%ld.db", BIG_DIR, events, sites);
		} else {
			snprintf(j, sizeof(j), "%s/synthetic-%ld-%ld.db", paths.tmpdir, events, sites);
		}
		snprintf(ev, sizeof(ev), "%ld", events);
		snprintf(of, sizeof(of), "%ld", open_fds);
		snprintf(st, sizeof(st), "%ld", sites);
		char *gargv[] = { paths.gen, j, ev, of, st, NULL };
		struct run g = { .ok = true, .wall_s = NAN };
		if (!is_big || !cached_fresh(j)) {
			remove_journal(j);
			progress("analyzer: generating %ld events", events);
			run_child(gargv, W_NONE, NULL, true, &g);
		}
		if (!g.ok) {
			describe_failure("gen_journal", &g);
			continue;
		}
		struct timed now = { .bad_status = -1 }, was = { .bad_status = -1 };
		int r_max = is_big ? 1 : reps;
		for (int r = 0; have_report && r < r_max; r++) {
			progress("analyzer: %ld events, run %d/%d", events, r + 1, r_max);
			/* Which build goes first alternates, so neither always meets a warm cache. */
			if (before && r % 2 == 1 && !time_once(before, j, &was))
				before = NULL;
			if (!time_once(paths.report, j, &now))
				break;
			if (before && r % 2 == 0 && !time_once(before, j, &was))
				before = NULL;
		}
		progress_done();
		double w = median(now.wall, now.n), m = median(now.rss, now.n);
		double us_ev = w / (double)events * 1e6;
		bool timed = now.n > 0;
		bool per_event_budget = events == 1000000 && sites == main_sites;
		bool budgeted = per_event_budget || is_big;
		bool pass = timed && (per_event_budget ? us_ev <= PER_EVENT_BUDGET_US
				      : is_big ? w <= BIG_BUDGET_S : true);
		const char *verdict = !have_report ? "pending"
				      : !timed ? "FAILED to run"
				      : budgeted && !opt.is_short ? (pass ? "ok" : "OVER") : "";
		char ws[32] = "-", us[32] = "-", ms[32] = "-", gs[32] = "cached", bs[48] = "";
		if (timed) {
			snprintf(ws, sizeof(ws), "%.2f", w);
			snprintf(us, sizeof(us), "%.3f", us_ev);
			snprintf(ms, sizeof(ms), "%.1f", m);
		}
		if (!isnan(g.wall_s))
			snprintf(gs, sizeof(gs), "%.2f", g.wall_s);
		if (before && was.n > 0 && timed) {
			double bw = median(was.wall, was.n);
			snprintf(bs, sizeof(bs), " %9.2f %7.2fx %10.1f", bw, bw / w,
				 median(was.rss, was.n));
		} else if (before) {
			snprintf(bs, sizeof(bs), " %9s %8s %10s", "-", "-", "-");
		}
		say("  %-9ld %5ld %7ld %10.1f %6s %8s %6s %8s %8s%s %s\n", events, sites,
		    open_fds, (double)journal_bytes(j) / MIB, gs, ws, us, ms,
		    per_event_budget ? "<=0.5us" : is_big ? "<=10 s" : "-", bs, verdict);
		jsonw_begin_object(&json, NULL);
		jsonw_number(&json, "events", (double)events);
		jsonw_number(&json, "open_fds", (double)open_fds);
		jsonw_number(&json, "call_sites", (double)sites);
		jsonw_number(&json, "journal_bytes", (double)journal_bytes(j));
		jsonw_number(&json, "generate_s", g.wall_s);
		jsonw_bool(&json, "journal_cached", isnan(g.wall_s));
		jsonw_string(&json, "status", !have_report ? "pending" : timed ? "timed" : "failed");
		if (now.bad_status >= 0)
			jsonw_number(&json, "report_exit", now.bad_status);
		json_timed("report", &now);
		jsonw_number(&json, "report_us_per_event", timed ? us_ev : NAN);
		if (was.n > 0)
			json_timed("before", &was);
		if (per_event_budget) {
			jsonw_number(&json, "budget_us_per_event", PER_EVENT_BUDGET_US);
			if (timed)
				jsonw_bool(&json, "within_budget", pass);
		} else if (is_big) {
			jsonw_number(&json, "budget_s", BIG_BUDGET_S);
			if (timed)
				jsonw_bool(&json, "within_budget", pass);
		}
		jsonw_end_object(&json);
		if (timed && sites == main_sites && !is_big) {
			if (isnan(t_first)) {
				t_first = w;
				n_first = events;
			}
			t_last = w;
			n_last = events;
		}
		if (!is_big)
			remove_journal(j);
	}
	jsonw_end_array(&json);
	if (n_last > n_first && t_first > 0) {
		double k = log(t_last / t_first) / log((double)n_last / (double)n_first);
		double per_event = (t_last - t_first) / (double)(n_last - n_first);
		double fixed = t_first - per_event * (double)n_first;
		say("  growth at %ld call sites: %ldx the events took %.2fx the time (time ~ events^%.2f),\n"
		    "  i.e. about %.2f s that does not depend on the events + %.2f us per event\n",
		    main_sites, n_last / n_first, t_last / t_first, k, fixed, per_event * 1e6);
		jsonw_begin_object(&json, "growth");
		jsonw_number(&json, "sites", (double)main_sites);
		jsonw_number(&json, "from_events", (double)n_first);
		jsonw_number(&json, "to_events", (double)n_last);
		jsonw_number(&json, "time_factor", t_last / t_first);
		jsonw_number(&json, "exponent", k);
		jsonw_number(&json, "fixed_s", fixed);
		jsonw_number(&json, "per_event_us", per_event * 1e6);
		jsonw_end_object(&json);
	}
	jsonw_end_object(&json);
	say("  command: bpfleak-report JOURNAL (text), stdout to /dev/null; median of %d runs;\n"
	    "  us/ev = report s / events; peak = the report's ru_maxrss.\n", reps);
}
