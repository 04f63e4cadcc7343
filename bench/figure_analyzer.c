// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* Figure 5: bpfleak-report on synthetic journals (bench/gen_journal). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "bench.h"

struct synth {
	long events, sites;
};

void figure_analyzer(void)
{
	begin_figure(5);
	/* The growth line uses the rows with the main site count; the last full row is a stress case. */
	static const struct synth full_sizes[] = {
		{ 100000, 1000 }, { 300000, 1000 }, { 1000000, 1000 }, { 1000000, 10 },
	};
	static const struct synth short_sizes[] = { { 10000, 100 } };
	const struct synth *sizes = opt.is_short ? short_sizes : full_sizes;
	int n_sizes = opt.is_short ? 1 : 4;
	long main_sites = sizes[0].sites;
	int reps = opt.is_short ? 1 : 3;
	bool have_report = executable(paths.report);

	say("\nFigure 5: bpfleak-report on synthetic journals (10%% of FDs open at exit, exit snapshot,\n"
	    "  real modules; median of %d runs)\n", reps);
	if (!have_report)
		say("  PENDING: %s is not built yet; generator and harness ran, nothing timed.\n",
		    paths.report);
	say("  %-10s %6s %8s %12s %8s %10s %10s %8s %s\n", "events", "sites", "open", "journal MB",
	    "gen s", "report s", "peak MiB", "budget", "verdict");
	print_rule();
	jsonw_begin_object(&json, "analyzer");
	jsonw_string(&json, "report", paths.report);
	jsonw_string(&json, "status", have_report ? "timed" : "pending");
	jsonw_begin_array(&json, "runs");
	double t_first = NAN, t_last = NAN;
	long n_first = 0, n_last = 0;
	for (int i = 0; i < n_sizes; i++) {
		long events = sizes[i].events, sites = sizes[i].sites, open_fds = events / 10;
		char j[256], ev[32], of[32], st[32];
		snprintf(j, sizeof(j), "%s/synthetic-%ld-%ld.db", paths.tmpdir, events, sites);
		snprintf(ev, sizeof(ev), "%ld", events);
		snprintf(of, sizeof(of), "%ld", open_fds);
		snprintf(st, sizeof(st), "%ld", sites);
		char *gargv[] = { paths.gen, j, ev, of, st, NULL };
		struct run g;
		progress("analyzer: generating %ld events", events);
		run_child(gargv, W_NONE, NULL, true, &g);
		if (!g.ok) {
			describe_failure("gen_journal", &g);
			continue;
		}
		double wall[MAX_REPS], rss[MAX_REPS];
		int n = 0, bad_status = -1;
		for (int r = 0; have_report && r < reps; r++) {
			progress("analyzer: %ld events, run %d/%d", events, r + 1, reps);
			char *rargv[] = { paths.report, j, NULL };
			struct run rr;
			settle();
			run_child(rargv, W_NONE, NULL, false, &rr);
			/* 0 = no leak, 1 = leaks found (expected here); 2 = it refused the input. */
			int code = WIFEXITED(rr.status) ? WEXITSTATUS(rr.status) : -1;
			if (code != 0 && code != 1) {
				bad_status = code;
				describe_failure("bpfleak-report", &rr);
				break;
			}
			wall[n] = rr.wall_s;
			rss[n] = (double)rr.maxrss_kb / 1024.0;
			n++;
		}
		progress_done();
		double w = median(wall, n), m = median(rss, n);
		bool timed = n > 0;
		bool budgeted = events >= 1000000 && sites == main_sites;
		bool pass = timed && (!budgeted || w <= 3.0);
		const char *verdict = !have_report ? "pending"
				      : !timed ? "FAILED to run"
				      : budgeted && !opt.is_short ? (pass ? "ok" : "OVER") : "";
		char ws[32] = "-", ms[32] = "-";
		if (timed) {
			snprintf(ws, sizeof(ws), "%.2f", w);
			snprintf(ms, sizeof(ms), "%.1f", m);
		}
		say("  %-10ld %6ld %8ld %12.1f %8.2f %10s %10s %8s %s\n", events, sites, open_fds,
		    (double)journal_bytes(j) / MIB, g.wall_s, ws, ms, budgeted ? "<=3 s" : "-",
		    verdict);
		jsonw_begin_object(&json, NULL);
		jsonw_number(&json, "events", (double)events);
		jsonw_number(&json, "open_fds", (double)open_fds);
		jsonw_number(&json, "call_sites", (double)sites);
		jsonw_number(&json, "journal_bytes", (double)journal_bytes(j));
		jsonw_number(&json, "generate_s", g.wall_s);
		jsonw_string(&json, "status", !have_report ? "pending" : timed ? "timed" : "failed");
		if (bad_status >= 0)
			jsonw_number(&json, "report_exit", bad_status);
		jsonw_number(&json, "report_wall_s", timed ? w : NAN);
		jsonw_number(&json, "report_peak_rss_mib", timed ? m : NAN);
		jsonw_number_array(&json, "report_wall_samples", wall, (size_t)n);
		if (budgeted) {
			jsonw_number(&json, "budget_s", 3.0);
			if (timed)
				jsonw_bool(&json, "within_budget", pass);
		}
		jsonw_end_object(&json);
		if (timed && sites == main_sites) {
			if (isnan(t_first)) {
				t_first = w;
				n_first = events;
			}
			t_last = w;
			n_last = events;
		}
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
	    "  peak = the report's ru_maxrss.\n", reps);
}
