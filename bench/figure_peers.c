// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* Figure 7: valgrind --track-fds and strace on the same loops, for scale. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

void figure_peers(void)
{
	begin_figure(7);
	bool have_vg = which("valgrind", valgrind_path, sizeof(valgrind_path)) != NULL;
	bool have_st = which("strace", strace_path, sizeof(strace_path)) != NULL;
	int reps = opt.is_short ? 1 : 3;
	say("\nFigure 7: peers on the same loops, 1 thread, ns per op (ratio to without), "
	    "medians of %d interleaved runs\n", reps);
	if (!have_vg)
		say("  valgrind is not installed: skipped\n");
	if (!have_st)
		say("  strace is not installed: skipped\n");
	say("  %-38s %7s %10s %16s %20s %24s\n", "loop", "ops", "without", "bpfleak",
	    "valgrind --track-fds", "strace -f -e bpf,close");
	print_rule();
	const int tools[] = { W_NONE, W_SHIM, W_VALGRIND, W_STRACE };
	jsonw_begin_array(&json, "peers");
	for (size_t i = 0; i < n_loops; i++) {
		const struct loop *l = &all_loops[i];
		if (l->inproc)
			continue;
		long iters = iters_of(l) / (opt.is_short ? 4 : 20);
		if (iters < 10)
			iters = 10;
		char it[32], j[256];
		snprintf(it, sizeof(it), "%ld", iters);
		snprintf(j, sizeof(j), "%s/peer.db", paths.tmpdir);
		char *argv[] = { paths.loops, (char *)l->mode, it, "1", NULL };
		double v[4][MAX_REPS];
		int n[4] = { 0 };
		for (int r = 0; r < reps; r++)
			for (int t = 0; t < 4; t++) {
				if ((tools[t] == W_VALGRIND && !have_vg) || (tools[t] == W_STRACE && !have_st))
					continue;
				progress("peers: %s under %s, run %d/%d", l->mode, with_names[t], r + 1, reps);
				struct run x;
				remove_journal(j);
				settle();
				run_child(argv, (enum with)tools[t], j, true, &x);
				remove_journal(j);
				if (!x.ok) {
					char what[96];
					snprintf(what, sizeof(what), "%s under %s", l->mode, with_names[t]);
					describe_failure(what, &x);
					/* A peer that cannot run a loop is a fact about the peer. */
					if (tools[t] == W_VALGRIND || tools[t] == W_STRACE)
						harness_errors--;
					continue;
				}
				v[t][n[t]++] = x.ns_op;
			}
		progress_done();
		double base = median(v[0], n[0]);
		char cell[4][40];
		for (int t = 1; t < 4; t++) {
			double m = median(v[t], n[t]);
			if (!n[t])
				snprintf(cell[t], sizeof(cell[t]), "%s",
					 (t == 2 && !have_vg) || (t == 3 && !have_st) ? "skipped" : "failed");
			else
				snprintf(cell[t], sizeof(cell[t]), "%.0f (%.2fx)", m, m / base);
		}
		say("  %-38s %7ld %10.0f %16s %20s %24s\n", l->title, iters, base, cell[1], cell[2],
		    cell[3]);
		jsonw_begin_object(&json, NULL);
		jsonw_string(&json, "loop", l->mode);
		jsonw_number(&json, "ops", (double)iters);
		jsonw_number(&json, "reps", reps);
		for (int t = 0; t < 4; t++) {
			char k[48];
			snprintf(k, sizeof(k), "%s_ns_op", with_names[t]);
			jsonw_number(&json, k, n[t] ? median(v[t], n[t]) : NAN);
			if (t) {
				snprintf(k, sizeof(k), "%s_ratio", with_names[t]);
				jsonw_number(&json, k, n[t] ? median(v[t], n[t]) / base : NAN);
			}
		}
		jsonw_end_object(&json);
	}
	jsonw_end_array(&json);
	say("  each tool's own start-up is not counted: bench_loops times its loop itself.\n");
}
