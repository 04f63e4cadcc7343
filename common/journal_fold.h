/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* A folding pass as its two files share it (journal_fold.c, journal_fold_pairs.c only). */
#ifndef BPFLEAK_JOURNAL_FOLD_H
#define BPFLEAK_JOURNAL_FOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jw;

#define FOLD_SLACK_NS (2 * 1000000000ll)

struct fold_ev {
	int64_t seq, ts, end, stack_id;
	int32_t pid, fd, fd2, cmd, result, flags, op, kind;
	uint32_t obj_id;
	bool detail;             /* a create with a pin path */
};

/* A new image's start was pending this long at most after the exec that made it. */
#define IMAGE_SETTLE_NS (60 * 1000000000ll)
/* A note's moment, a child's start being one, lasts this long. */
#define NOTE_SETTLE_NS 1000000000ll
/* Execs a pass looks after one by one (more: nothing after them folds). */
#define MAX_EXECS_PER_PASS 64
/* A busy process's pass reads up to this many times max_rows (see jw_fold). */
#define WIDEST_PASS 8
/* How far back a pass looks for the event before its first create on a number. */
#define PREV_LOOKBACK_ROWS 65536

enum step_role {
	STEP_CREATE,   /* a create that may fold */
	STEP_CLOSE,    /* a plain, successful close */
	STEP_FREES,    /* any other close: the number is free after it */
	STEP_OPENS,    /* anything else that puts an FD at this number */
	STEP_OTHER,    /* anything else that touches it */
};

/* One event in the history of one FD number of one process. */
struct step {
	int64_t ts, seq;
	int32_t pid, fd;
	uint32_t ev;
	uint8_t role;
};

/* A stretch of a process's time no pair may span. */
struct barrier {
	int32_t pid;             /* 0: every process */
	int64_t start, end;
};

struct folded {
	int32_t pid, cmd, kind;
	int64_t stack_id, interval, life, ts;
};

struct pass {
	struct fold_ev *ev;
	size_t n_ev;
	struct step *steps;
	size_t n_steps;
	struct barrier *bar;
	size_t n_bar, cap_bar;
	int64_t *bar_max_end;    /* running max of end over bar[0..i] */
	struct folded *fold;
	size_t n_fold;
	bool *dead;              /* by index in ev: the row folds */
	uint32_t execs[MAX_EXECS_PER_PASS];   /* by index in ev */
	size_t n_execs;
};

/* A stretch of pid's time (0: every process's) no pair may span. */
int fold_add_barrier(struct pass *p, int32_t pid, int64_t start, int64_t end);
/* What one event read means for the FD numbers it names, or a barrier. */
int fold_classify(struct pass *p, const struct fold_ev *e);
/* Barriers from each exec to the event that settles it; next_from lowered for one not settled. */
int fold_settle_execs(struct pass *p, int64_t seen_before, int64_t *next_from);
/* Once every barrier is in. */
int fold_prepare_barriers(struct pass *p);
/*
 * Marks the pairs that fold (p->fold, p->dead); returns the seq the next
 * pass starts after: before any create this pass could not decide, unless
 * an earlier pass already had its look.
 */
int64_t fold_find_pairs(struct jw *j, struct pass *p, int64_t from, int64_t settled,
			int64_t seen_before, int64_t next_from);

#endif
