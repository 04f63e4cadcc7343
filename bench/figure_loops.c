// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Figures 1-3: the loops of bench_loops without the shim (A) and with it
 * (B), interleaved A B A B ..., on 1 thread (figures 1 and 2) and 4
 * (figure 3); pass-through rows also measured in-process.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

const struct loop all_loops[] = {
	{ 1, "close", "close() of a non-bpf FD (dup+close)", 200000, 2000, 1.02, false },
	{ 1, "hookclose", "  same, in-process A/B (ns added)", 500000, 5000, 1.02, true },
	{ 1, "lookup", "BPF_MAP_LOOKUP_ELEM (libbpf)", 200000, 2000, 1.02, false },
	{ 1, "hooklookup", "  same, in-process A/B (ns added)", 300000, 3000, 1.02, true },
	{ 2, "getfd", "BPF_MAP_GET_FD_BY_ID + close", 100000, 1000, 1.2, false },
	{ 2, "mapcreate", "BPF_MAP_CREATE + close", 20000, 200, 1.2, false },
	{ 2, "progload", "BPF_PROG_LOAD (XDP, 2 insns) + close", 5000, 50, 0, false },
};
const size_t n_loops = sizeof(all_loops) / sizeof(all_loops[0]);

long iters_of(const struct loop *l)
{
	return opt.is_short ? l->short_iters : l->iters;
}

struct ab {
	double a[MAX_REPS], b[MAX_REPS], ratio[MAX_REPS];
	double ca[MAX_REPS], cb[MAX_REPS];   /* process CPU ns/op */
	double ta[MAX_REPS], tb[MAX_REPS];   /* looping threads' CPU ns/op */
	int busy;                            /* runs started on a busy machine */
	double delta[MAX_REPS], null_delta[MAX_REPS];   /* in-process: hooked - direct */
	double c[MAX_REPS], cc[MAX_REPS], tc[MAX_REPS], delta_c[MAX_REPS];   /* --before's shim */
	int n;
	long long events, dropped;   /* what the shim's journals held, all reps */
	bool failed;
};

/*
 * One A (without) and one B (with the shim) run of a loop; appends to ab.
 * In-process loops measure both paths inside each run: B's direct and
 * hooked blocks are the figure, A (no shim: both paths are libc's) is the
 * null test of the method.
 */
static void ab_once(const struct loop *l, long iters, int threads, struct ab *ab)
{
	char it[32], th[16], j[256];
	snprintf(it, sizeof(it), "%ld", iters);
	snprintf(th, sizeof(th), "%d", threads);
	char *argv[] = { paths.loops, (char *)l->mode, it, th, NULL };
	struct run a, b, c = { .ok = true };
	snprintf(j, sizeof(j), "%s/ab-%s-%d.db", paths.tmpdir, l->mode, threads);
	remove_journal(j);
	bool before = paths.before_shim[0] != 0;
	if (before) {
		settle();
		run_child(argv, W_BEFORE, j, true, &c);
		remove_journal(j);
	}
	settle();
	run_child(argv, W_NONE, NULL, true, &a);
	settle();
	run_child(argv, W_SHIM, j, true, &b);
	if (!c.ok) {
		describe_failure("the --before build's shim", &c);
		ab->failed = true;
		remove_journal(j);
		return;
	}
	if (!a.ok || !b.ok) {
		char what[128];
		snprintf(what, sizeof(what), "%s %s x%d threads", l->mode,
			 a.ok ? "with the shim" : "without the shim", threads);
		describe_failure(what, a.ok ? &b : &a);
		ab->failed = true;
		remove_journal(j);
		return;
	}
	struct jstats s;
	if (journal_stats(j, &s)) {
		ab->events += s.events;
		ab->dropped += s.dropped;
	}
	remove_journal(j);
	int i = ab->n++;
	ab->busy += a.busy + b.busy;
	ab->c[i] = before ? c.ns_op : NAN;
	ab->cc[i] = before ? c.cpu_ns_op : NAN;
	ab->tc[i] = before ? c.thr_ns_op : NAN;
	ab->delta_c[i] = before ? c.delta_ns : NAN;
	if (l->inproc) {
		ab->a[i] = b.base_ns_op;
		ab->b[i] = b.ns_op;
		ab->delta[i] = b.delta_ns;
		ab->null_delta[i] = a.delta_ns;
		ab->ratio[i] = 1 + b.delta_ns / b.base_ns_op;
		ab->ca[i] = ab->cb[i] = ab->ta[i] = ab->tb[i] = NAN;
	} else {
		ab->a[i] = a.ns_op;
		ab->b[i] = b.ns_op;
		ab->ca[i] = a.cpu_ns_op;
		ab->cb[i] = b.cpu_ns_op;
		ab->ta[i] = a.thr_ns_op;
		ab->tb[i] = b.thr_ns_op;
		ab->ratio[i] = b.ns_op / a.ns_op;
	}
}


void figures_loops(void)
{
	static const int thread_counts[] = { 1, 4 };
	bool header = false;
	for (size_t ti = 0; ti < 2; ti++) {
		int threads = thread_counts[ti];
		for (size_t i = 0; i < n_loops; i++) {
			const struct loop *l = &all_loops[i];
			int figure = threads == 1 ? l->figure : 3;
			if (!want(figure) || (l->inproc && threads > 1))
				continue;
			if (!header) {
				say("\nFigures 1-3: ns per op, medians of %d interleaved runs (A = without, "
				    "B = with the shim)\n", opt.reps);
				say("  %-3s %-38s %3s %8s %10s %10s %7s %-15s %7s %s\n", "fig", "loop", "thr",
				    "ops", "A ns/op", "B ns/op", "ratio", "(range)", "budget", "verdict");
				print_rule();
				header = true;
			}
			begin_figure(figure);
			long iters = iters_of(l) / threads;
			if (iters < 1)
				iters = 1;
			struct ab ab;
			memset(&ab, 0, sizeof(ab));
			for (int r = 0; r < opt.reps; r++) {
				progress("%s x%d: repetition %d/%d", l->mode, threads, r + 1, opt.reps);
				ab_once(l, iters, threads, &ab);
			}
			progress_done();
			double ma = median(ab.a, ab.n), mb = median(ab.b, ab.n);
			double ratio = l->inproc ? 1 + median(ab.delta, ab.n) / ma : mb / ma;
			double cpu_ratio = median(ab.cb, ab.n) / median(ab.ca, ab.n);
			double thr_ratio = median(ab.tb, ab.n) / median(ab.ta, ab.n);
			bool pass = l->budget <= 0 || ratio <= l->budget;
			char range[40], budget[16], verdict[64];
			snprintf(range, sizeof(range), "(%.3f-%.3f)", minimum(ab.ratio, ab.n),
				 maximum(ab.ratio, ab.n));
			if (l->budget > 0)
				snprintf(budget, sizeof(budget), "<=%.2f", l->budget);
			else
				snprintf(budget, sizeof(budget), "-");
			snprintf(verdict, sizeof(verdict), "%s", !ab.n ? "FAILED to run"
				 : l->budget <= 0 || opt.is_short ? "" : pass ? "ok" : "OVER");
			if (ab.dropped > 0) {
				size_t vl = strlen(verdict);
				snprintf(verdict + vl, sizeof(verdict) - vl, "%s%lld events dropped",
					 vl ? ", " : "", ab.dropped);
			}
			if (ab.busy > 0) {
				size_t vl = strlen(verdict);
				snprintf(verdict + vl, sizeof(verdict) - vl, "%sbusy %d/%d", vl ? ", " : "",
					 ab.busy, 2 * ab.n);
			}
			say("  %-3d %-38s %3d %8ld %10.1f %10.1f %7.3f %-15s %7s %s\n", figure, l->title,
			    threads, iters * threads, ma, mb, ratio, range, budget, verdict);
			bool before = paths.before_shim[0] != 0;
			if (l->inproc)
				say("  %-3s %-38s %3s %8s %+10.1f ns added per op; null test (no shim): "
				    "%+.1f ns\n", "", "", "", "", median(ab.delta, ab.n),
				    median(ab.null_delta, ab.n));
			if (before && l->inproc)
				say("  %-3s %-38s %3s %8s %+10.1f ns added per op by the --before build\n", "",
				    "", "", "", median(ab.delta_c, ab.n));
			else if (before)
				say("  %-3s %-38s %3s %8s %10s %10.1f %7.3f   C: the --before build (elapsed; "
				    "thread CPU %.3f, process CPU %.3f)\n", "", "", "", "", "",
				    median(ab.c, ab.n), median(ab.c, ab.n) / ma,
				    median(ab.tc, ab.n) / median(ab.ta, ab.n),
				    median(ab.cc, ab.n) / median(ab.ca, ab.n));
			else if (!l->inproc) {   /* an in-process row has no CPU of its own */
				say("  %-3s %-38s %3s %8s %10.1f %10.1f %7.3f   CPU of the calling thread(s)\n",
				    "", "", "", "", median(ab.ta, ab.n), median(ab.tb, ab.n), thr_ratio);
				say("  %-3s %-38s %3s %8s %10.1f %10.1f %7.3f   CPU of the whole process\n",
				    "", "", "", "", median(ab.ca, ab.n), median(ab.cb, ab.n), cpu_ratio);
			}

			jsonw_begin_object(&json, NULL);
			jsonw_number(&json, "figure", figure);
			jsonw_string(&json, "loop", l->mode);
			char title[96];
			/* An in-process row measures the loop of the row above it. */
			snprintf(title, sizeof(title), "%s%s", l->inproc && i ? all_loops[i - 1].title : l->title,
				 l->inproc ? ", in-process A/B" : "");
			jsonw_string(&json, "title", title);
			jsonw_string(&json, "method", l->inproc ? "in-process" : "process");
			jsonw_number(&json, "threads", threads);
			jsonw_number(&json, "ops", (double)iters * threads);
			jsonw_number(&json, "reps", ab.n);
			jsonw_number(&json, "without_ns_op", ma);
			jsonw_number(&json, "with_ns_op", mb);
			jsonw_number(&json, "ratio", ratio);
			jsonw_number(&json, "ratio_min", minimum(ab.ratio, ab.n));
			jsonw_number(&json, "ratio_max", maximum(ab.ratio, ab.n));
			if (before) {
				jsonw_number(&json, "before_ns_op", median(ab.c, ab.n));
				jsonw_number(&json, "before_ratio", l->inproc ? 1 + median(ab.delta_c, ab.n) / ma
					     : median(ab.c, ab.n) / ma);
				if (!l->inproc) {
					jsonw_number(&json, "before_thread_cpu_ratio",
						     median(ab.tc, ab.n) / median(ab.ta, ab.n));
					jsonw_number(&json, "before_cpu_ratio",
						     median(ab.cc, ab.n) / median(ab.ca, ab.n));
				}
			}
			if (l->inproc) {
				jsonw_number(&json, "added_ns_op", median(ab.delta, ab.n));
				jsonw_number(&json, "null_test_ns_op", median(ab.null_delta, ab.n));
			} else {
				jsonw_number(&json, "without_thread_cpu_ns_op", median(ab.ta, ab.n));
				jsonw_number(&json, "with_thread_cpu_ns_op", median(ab.tb, ab.n));
				jsonw_number(&json, "thread_cpu_ratio", thr_ratio);
				jsonw_number(&json, "without_cpu_ns_op", median(ab.ca, ab.n));
				jsonw_number(&json, "with_cpu_ns_op", median(ab.cb, ab.n));
				jsonw_number(&json, "cpu_ratio", cpu_ratio);
			}
			jsonw_number(&json, "budget", l->budget > 0 ? l->budget : NAN);
			if (l->budget > 0 && ab.n)
				jsonw_bool(&json, "within_budget", pass);
			jsonw_number(&json, "runs_started_busy", ab.busy);
			jsonw_number(&json, "journal_events", (double)ab.events);
			jsonw_number(&json, "journal_dropped", (double)ab.dropped);
			jsonw_number_array(&json, "without_samples", ab.a, (size_t)ab.n);
			jsonw_number_array(&json, "with_samples", ab.b, (size_t)ab.n);
			jsonw_end_object(&json);
		}
	}
	if (header)
		say("  ratio = B/A of the medians of elapsed time; (range) = lowest and highest B/A of\n"
		    "  the paired runs.  Under each row the same for CPU time: of the looping threads\n"
		    "  (what the caller pays; time preempted by other loads is not counted) and of the\n"
		    "  whole process (adds the shim's writer thread).  busy N/M: N runs started while\n"
		    "  the machine was not idle (another load): trust the CPU rows over elapsed time.\n"
		    "  in-process rows: one process with the shim alternates 1,000-op blocks through\n"
		    "  libc's own symbols (A) and through the shim's (B); ratio = 1 + added/A.\n"
		    "  ops are split among the threads; with 4 threads ns/op is elapsed time / all ops.\n");
}
