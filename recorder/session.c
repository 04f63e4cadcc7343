// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * One recording session: the loaded BPF side, the journal, and the loop
 * step that moves ring buffer records into the journal, a transaction per
 * step (every ~10 ms), with drops written as `drop` events.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpfleak/journal.h>
#include "session.h"
#include "unwind.h"

#ifndef BPFLEAK_UNWINDER
#define BPFLEAK_UNWINDER "unknown"
#endif

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int session_ring_record(void *ctx, const void *rec, size_t size)
{
	return records_handle(ctx, rec, size);
}

int session_open(struct session *s, const struct recorder_opts *o, char *err, size_t errcap)
{
	memset(s, 0, sizeof(*s));
	s->opts = *o;
	s->self = getpid();
	bpfleak_boot_id(s->boot_id, sizeof(s->boot_id));
	/* The files of every traced image stay open for the unwinder. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	struct kernel_opts ko = {
		.close_stacks = o->close_stacks,
		.depth = o->depth,
		.ring_bytes = o->ring_bytes,
		.dwarf_min_frames = 4,
		.stack_copy_bytes = REC_STACK_BYTES,
	};
	return kernel_open(&ko, session_ring_record, s, &s->k, err, errcap);
}

int session_open_journal(struct session *s, const char *path, char *err, size_t errcap)
{
	snprintf(s->journal_path, sizeof(s->journal_path), "%s", path);
	if (jw_open(&s->j, path, JW_CREATE | JW_APPEND, err, errcap))
		return -1;
	s->journal_open = true;
	jw_meta(&s->j, "kernel_recorder", BPFLEAK_VERSION);
	jw_meta(&s->j, "kernel_unwinder", BPFLEAK_UNWINDER);
	return 0;
}

void session_write_failed(struct session *s, const char *what)
{
	if (s->failed)
		return;
	s->failed = true;
	fprintf(stderr, "%s: journal %s: writing the %s failed: %s; recording stops\n", s->opts.prog,
		s->journal_path, what, jw_errstr(jw_errcode(&s->j)));
}

bool session_batch(struct session *s)
{
	if (!s->journal_open || s->failed)
		return false;
	if (s->in_batch)
		return true;
	if (jw_begin(&s->j) != 0) {
		session_write_failed(s, "transaction");
		return false;
	}
	s->in_batch = true;
	return true;
}

/*
 * A process whose exit is written is forgotten (a long attach to a daemon
 * that runs many short children must not grow without end); its pid, if
 * reused, starts a new entry.
 */
static void prune(struct session *s)
{
	size_t kept = 0;
	for (size_t i = 0; i < s->n_procs; i++) {
		struct kproc *p = s->procs[i];
		if (p->finished && p->exited)
			procs_free(p);
		else
			s->procs[kept++] = p;
	}
	s->n_procs = kept;
}

/*
 * Old create/close pairs become counts (common/journal_fold.c), as the
 * shim does it (preload/writer.c): a pass every quarter of the fold age,
 * at most a minute apart, or at once while one found more to read.  A
 * failed pass loses nothing; it is said once.
 */
static void fold_now_and_then(struct session *s)
{
	uint64_t age = s->opts.fold_age_ns, now = now_ns();
	if (!s->fold_last)
		s->fold_last = now;   /* the first pass a period after recording began */
	if (!age || s->failed || (!s->fold_more && now - s->fold_last < jw_fold_every_ns(age)))
		return;
	s->fold_last = now;
	struct jw_fold_result res = { .more = false };
	if (jw_begin(&s->j) == 0 && jw_fold(&s->j, now, age, JW_FOLD_PASS_ROWS, &res) == 0 &&
	    jw_commit(&s->j) == 0) {
		s->fold_more = res.more;
		s->folded += res.folded;
		return;
	}
	s->fold_more = false;
	if (!s->fold_warned && !s->opts.quiet)
		fprintf(stderr, "%s: journal %s: folding old events failed (%s); they stay as rows\n",
			s->opts.prog, s->journal_path, jw_errstr(jw_errcode(&s->j)));
	s->fold_warned = true;
	jw_rollback(&s->j);
}

void session_commit(struct session *s)
{
	if (!s->in_batch)
		return;
	/* Everything read so far is in this transaction. */
	uint64_t now = now_ns();
	for (size_t i = 0; i < s->n_procs && !s->failed; i++) {
		struct kproc *p = s->procs[i];
		if (p->row && !p->exited && jw_process_flushed(&s->j, p->row, now) != 0)
			session_write_failed(s, "flush mark");
	}
	s->in_batch = false;
	if (s->failed) {
		jw_rollback(&s->j);
		return;
	}
	if (jw_commit(&s->j) != 0) {
		session_write_failed(s, "commit");
		jw_rollback(&s->j);
	}
	prune(s);
	fold_now_and_then(s);
}

static void write_drop(struct session *s, pid_t pid, uint64_t count, uint64_t first,
		       uint64_t last, const char *why)
{
	/* A drop belongs to a process the journal knows (its first record may be what was lost). */
	struct kproc *p = procs_find(s, pid);
	if (p && p->awaiting_start)
		records_proc(s, pid, first);
	emit(s, &(struct jw_event){
		.ts_ns = first, .pid = pid, .tid = pid, .op = BPFLEAK_OP_DROP, .has_fd2 = true,
		.fd2 = count > 0x7fffffff ? 0x7fffffff : (int)count, .cmd = -1,
		.end_ns = last > first ? last : 0, .detail = why });
	s->drops_written += count;
}

/*
 * Lost records become `drop` events of the process they were for.  The
 * kernel also counts every loss in one total; a loss no process accounts
 * for (its table was full), once the two have stayed apart for a whole
 * step (the kernel counts the total first), is charged to every process
 * still traced: a loss is never silent.
 */
static void write_drops(struct session *s)
{
	struct kernel_drops d[64];
	size_t n;
	while ((n = kernel_take_drops(s->k, d, 64)) > 0) {
		for (size_t i = 0; i < n; i++) {
			s->drops_attributed += d[i].count;
			write_drop(s, d[i].pid, d[i].count, d[i].first_ns, d[i].last_ns, "ring buffer full");
		}
		if (n < 64)
			break;
	}
	uint64_t total = kernel_lost_total(s->k);
	uint64_t gap = total > s->drops_attributed + s->lost_charged
		       ? total - s->drops_attributed - s->lost_charged : 0;
	if (gap && gap == s->lost_gap) {
		uint64_t now = now_ns();
		for (size_t i = 0; i < s->n_procs; i++)
			if (!s->procs[i]->finished && !s->procs[i]->awaiting_start)
				write_drop(s, s->procs[i]->pid, gap, now, now,
					   "ring buffer full (process unknown)");
		s->lost_charged += gap;
		gap = 0;
	}
	s->lost_gap = gap;
}

int session_step(struct session *s, int timeout_ms)
{
	int n = kernel_poll(s->k, timeout_ms);
	if (n < 0 && n != -EINTR)
		return n;
	write_drops(s);
	session_commit(s);
	return n < 0 ? 0 : n;
}

void session_stop_all(struct session *s)
{
	/* Read what is pending first: the snapshot is compared with it. */
	session_step(s, 0);
	for (size_t i = 0; i < s->n_procs; i++) {
		struct kproc *p = s->procs[i];
		if (p->finished || p->awaiting_start)
			continue;
		if (kill(p->pid, 0) == 0 || errno == EPERM)
			snapshots_live(s, p);
		kernel_untrace(s->k, p->pid);
	}
	session_step(s, 0);
	for (size_t i = 0; i < s->n_procs; i++)
		s->procs[i]->finished = true;
}

void session_finish(struct session *s)
{
	session_commit(s);
	if (s->journal_open) {
		/* Fold the WAL into the file, so the .db alone is the journal. */
		jw_finish(&s->j, 100);
		jw_close(&s->j);
		s->journal_open = false;
	}
}

void session_close(struct session *s)
{
	session_finish(s);
	kernel_close(s->k);
	s->k = NULL;
	for (size_t i = 0; i < s->n_procs; i++)
		procs_free(s->procs[i]);
	free(s->procs);
	free(s->stacks);
	free(s->objects);
	finalizer_cache_free(s);
	memset(s, 0, sizeof(*s));
}
