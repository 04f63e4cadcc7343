/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Synthetic journals for the report tests: written with the real DDL
 * (tests/analyzer/jbuild.c), named by symbols in the journal's frame table
 * so no binary is needed.  mkjournal writes them to files for the browser
 * test; test_report_formats reads them in-process.
 */
#ifndef BPFLEAK_REPORT_SCENARIOS_H
#define BPFLEAK_REPORT_SCENARIOS_H

#include "jbuild.h"

/*
 * Three processes.  pid 100 (/opt/agent/bin/agent) sets up 3 maps, then
 * re-opens 2 of them at every one of 4 reloads, 100 ms apart, and never
 * closes them (agent.c:120 reload_acl: growth and duplicate), and polls
 * every 50 ms with an FD it closes (no finding).  pid 101, the same
 * program, leaks at the same line 3 times.  pid 102 (/usr/bin/helper)
 * holds one FD it made (helper.c:10) and one no event explains.  So: 4
 * call sites, one of them leaking (4 x 2 FDs in pid 100, 3 in pid 101);
 * the setup site spans pids 100 and 101.
 */
#define MULTI_RELOADS 4
#define MULTI_RELOAD_MAPS 2
#define MULTI_CHILD_RELOADS 3
#define MULTI_RELOAD_NS 100000000ll
#define MULTI_T0 1000000000ll
void scenario_multi(struct jb *j);

/*
 * One process whose command line, exe, module path, pin path, map name,
 * function and file names and host and kernel names carry <script>, HTML
 * attributes, markdown control characters (| * ` [] () leading #),
 * newlines, terminal escapes (ESC[31m, ESC]0;...BEL), a right-to-left
 * override and a byte that is not UTF-8.  It leaks one duplicate.
 */
extern const char hostile_cmdline[];
extern const char hostile_function[];
void scenario_hostile(struct jb *j);

/* One process, n creations at one leaking site spread over a second, n closes of another site's. */
void scenario_busy(struct jb *j, int n);

#endif
