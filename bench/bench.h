/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * make bench: what the harness (harness.c) gives the figures (figure_*.c),
 * and the figures bench.c runs.
 */
#ifndef BPFLEAK_BENCH_H
#define BPFLEAK_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include "jsonw.h"

#define MAX_REPS 101
#define N_FIGURES 9
#define MIB (1024.0 * 1024.0)

struct bench_options {
	bool is_short;
	int reps;
	const char *build;
	const char *json;
	const char *only;
	const char *cpus;
	const char *label;
	const char *before;      /* --before DIR: another build's shim, run beside ours */
	bool peers;
};
extern struct bench_options opt;

/* The programs measured, and the temp dir for journals and the children's stderr. */
struct bench_paths {
	char build[4096];
	char shim[4200], loops[4200], gen[4200], report[4200];
	char before_shim[4200];  /* "" without --before */
	char tmpdir[32];
	char errlog[4200];
};
extern struct bench_paths paths;

/* results.json, and the count of runs that failed for the harness's reasons. */
extern struct jsonw json;
extern int harness_errors;

/* Is this figure among --only's? */
bool want(int figure);

/* The table on stdout; progress on a terminal's stderr only. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void progress_done(void);
void print_rule(void);

bool executable(const char *path);
/* The path of NAME on $PATH, in out; NULL when it is not there. */
const char *which(const char *name, char *out, size_t cap);

/*
 * Waiting for an idle machine before each timed run.  begin_figure says
 * whose runs are about to start, for the count of runs that found it busy.
 */
void begin_figure(int figure);
void settle(void);
struct settle_stats {
	double seconds;          /* spent waiting */
	int busy;                /* runs started on a busy machine */
	int busy_by_figure[N_FIGURES + 1];   /* the same per figure, 1..N_FIGURES */
};
extern struct settle_stats settled;

/* One child run: what it printed and what it cost. */
struct run {
	bool ok;                 /* exited 0 (or an accepted status) and printed what we expect */
	int status;              /* wait status */
	double ns_op, cpu_ns_op; /* bench_loops' own timing of its loop */
	double thr_ns_op;        /* CPU time of the looping threads per op */
	bool busy;               /* started before the machine went idle */
	double base_ns_op, delta_ns;   /* hook* modes */
	double wall_s;           /* fork to reap */
	long maxrss_kb;          /* ru_maxrss of the child */
	long rss_kb, hwm_kb, base_rss_kb;
	char out[1024];
};

/* What runs in front of the program. */
enum with { W_NONE, W_SHIM, W_VALGRIND, W_STRACE, W_BEFORE };
extern const char *const with_names[];
extern char valgrind_path[4096], strace_path[4096];

/*
 * Run argv (argv[0] a path) with the tool `w` in front, the shim's
 * environment when w == W_SHIM or W_BEFORE (journal at `journal`), stdout captured into
 * r->out (or thrown away when capture is false), stderr appended to the
 * error log.
 */
void run_child(char *const argv[], enum with w, const char *journal, bool capture,
	       struct run *r);
/* A run failed: say why (with the children's last stderr lines) and count it. */
void describe_failure(const char *what, const struct run *r);

/* Journals in the temp dir: their files, size and contents. */
void remove_journal(const char *j);
long long journal_bytes(const char *j);
struct jstats {
	long long events, stacks, dropped, bytes;
	long long event_bytes, stack_bytes;   /* pages of the table and its indexes (dbstat) */
};
bool journal_stats(const char *path, struct jstats *s);

double median(const double *v, int n);
double minimum(const double *v, int n);
double maximum(const double *v, int n);

/* The loops bench_loops runs, timed by figures 1-3 and 7. */
struct loop {
	int figure;
	const char *mode;
	const char *title;
	long iters;              /* full mode, per process (divided among threads) */
	long short_iters;
	double budget;           /* ratio; 0 = none */
	bool inproc;             /* in-process A/B (bench_loops hook* modes): 1 thread, no peers */
};
extern const struct loop all_loops[];
extern const size_t n_loops;
long iters_of(const struct loop *l);

/* The figures; each prints its rows and writes its part of results.json. */
void figures_loops(void);    /* 1-3: timed loops, A/B */
void figure_journal(void);   /* 4: journal bytes per event */
void figure_analyzer(void);  /* 5: bpfleak-report on synthetic journals */
void figure_rss(void);       /* 6: memory with 100,000 tracked FDs */
void figure_peers(void);     /* 7: valgrind and strace on the same loops */
void figure_startup(void);   /* 8: start-up of a process that makes no bpf FD */
void figure_week(void);      /* 9: a simulated week, folded */

#endif
