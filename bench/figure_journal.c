// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* Figure 4: journal bytes per event, with one call site and with 1,000. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

void figure_journal(void)
{
	begin_figure(4);
	long pairs = opt.is_short ? 1000 : 100000;
	say("\nFigure 4: journal size after %ld BPF_MAP_GET_FD_BY_ID + close pairs "
	    "(10-frame call paths)\n", pairs);
	say("  %-22s %9s %8s %8s %12s %10s %10s %10s %8s\n", "case", "events", "dropped",
	    "stacks", "file bytes", "B/event", "event tbl", "stack tbl", "budget");
	print_rule();
	static const char *const modes[] = { "journal1", "journal1000" };
	static const char *const titles[] = { "one call site", "1,000 call sites" };
	for (int i = 0; i < 2; i++) {
		char it[32], j[256];
		/* bench_loops runs ITERS/10 warm-up ops first: ask for `pairs` in all. */
		snprintf(it, sizeof(it), "%ld", pairs * 10 / 11);
		snprintf(j, sizeof(j), "%s/%s.db", paths.tmpdir, modes[i]);
		remove_journal(j);
		char *argv[] = { paths.loops, (char *)modes[i], it, "1", NULL };
		struct run r;
		progress("journal: %s", modes[i]);
		settle();
		run_child(argv, W_SHIM, j, true, &r);
		progress_done();
		struct jstats s;
		if (!r.ok || !journal_stats(j, &s)) {
			describe_failure(modes[i], &r);
			remove_journal(j);
			continue;
		}
		double per = s.events ? (double)s.bytes / (double)s.events : NAN;
		double per_ev = s.events ? (double)s.event_bytes / (double)s.events : NAN;
		double per_st = s.events ? (double)s.stack_bytes / (double)s.events : NAN;
		bool pass = i == 1 || per <= 64;
		say("  %-22s %9lld %8lld %8lld %12lld %10.1f %10.1f %10.1f %8s %s\n", titles[i], s.events,
		    s.dropped, s.stacks, s.bytes, per, per_ev, per_st, i == 0 ? "<=64" : "-",
		    i == 0 && !opt.is_short ? (pass ? "ok" : "OVER") : "");
		jsonw_begin_object(&json, NULL);
		jsonw_string(&json, "case", modes[i]);
		jsonw_number(&json, "pairs", (double)pairs);
		jsonw_number(&json, "events", (double)s.events);
		jsonw_number(&json, "dropped", (double)s.dropped);
		jsonw_number(&json, "stacks", (double)s.stacks);
		jsonw_number(&json, "file_bytes", (double)s.bytes);
		jsonw_number(&json, "bytes_per_event", per);
		jsonw_number(&json, "event_table_bytes_per_event", per_ev);
		jsonw_number(&json, "stack_table_bytes_per_event", per_st);
		jsonw_number(&json, "with_ns_per_pair", r.ns_op);
		jsonw_number(&json, "budget", i == 0 ? 64 : NAN);
		if (i == 0)
			jsonw_bool(&json, "within_budget", pass);
		jsonw_end_object(&json);
		remove_journal(j);
	}
	say("  B/event = whole file (db + wal) / event rows; the table columns are the pages of the\n"
	    "  event table and of the stack table + its index, per event (sqlite dbstat).\n");
}
