// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The writer: one thread per recording process that drains the queue into
 * the journal, a batch per transaction, at most every 20 ms (sooner when
 * the queue fills), and does the exit work (snapshot, last batch) when
 * asked.  Only this thread uses sqlite while the process runs; exit, _exit
 * and exec ask it and wait with a time limit (writer_requests.c); the exit
 * snapshot is exitsnap.c's.  The FD hooks reach it through consumer.h.
 *
 * Its thread must never keep the process alive: when main() has called
 * pthread_exit and every other thread is gone, the writer does the exit
 * work and returns, and glibc ends the process as it would have.
 *
 * Write failures (a full disk, a file system gone read-only) are a gap,
 * not the end: events are counted while writes fail and the gap is
 * journaled, with its time span, as soon as a write succeeds again.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <bpfleak/journal.h>
#include <bpfleak/snapshot.h>
#include "journal_writer.h"
#include "consumer.h"
#include "jwapi.h"
#include "shim.h"
#include "writer_requests.h"

#define BATCH_MAX 4096
#define IDLE_WAIT_NS (20 * 1000 * 1000)
#define BUSY_WAIT_NS (2 * 1000 * 1000)

/*
 * FLUSH differs from NORMAL only in that it runs even with nothing queued:
 * the batch then just moves process.flushed_ns, which a live report waits for.
 */
enum drain_mode { DRAIN_NORMAL, DRAIN_FLUSH, DRAIN_EXIT };

static pthread_mutex_t writer_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_t thread;
static _Atomic int running;
static _Atomic pid_t thread_tid;
static _Atomic int exit_done;

static int64_t proc_row;              /* our row in the current file, 0 none */
static bool ever_opened;              /* the journal was written at least once */
static uint64_t events_written;

/* A run of failed writes. */
static uint64_t gap_since_ns, gap_lost, lost_total;
static char gap_why[160];
static bool gap_warned;

bool writer_running(void)
{
	return atomic_load(&running) != 0;
}

bool writer_is_self(void)
{
	return atomic_load(&running) && atomic_load(&thread_tid) == shim_tid();
}

pid_t writer_tid(void)
{
	return atomic_load(&thread_tid);
}

/* ---- the journal's rows ---- */

void writer_forget_written(void)
{
	stack_forget_db_ids();
	objcache_forget_written();
	modules_mark_unwritten();
	proc_row = 0;
}

static int write_event(const struct shim_event *ev, uint64_t end_ns)
{
	const char *detail = ev->detail;
	/* Listed by an image that came from exec: it inherited them over exec. */
	if (ev->op == BPFLEAK_OP_INHERITED && detail && !strcmp(detail, "start") &&
	    !strcmp(self.origin, "exec"))
		detail = "exec";
	return journal_event(ev, detail, end_ns);
}

struct restart {
	uint64_t ts;
	int rc;
};

static int list_restart(int fd, uint64_t slot, void *ctx)
{
	struct restart *r = ctx;
	struct shim_event ev;
	event_init(&ev, BPFLEAK_OP_INHERITED, r->ts);
	ev.fd = fd;
	ev.kind = (uint8_t)SLOT_KIND(slot);
	ev.obj_id = SLOT_ID(slot);
	ev.obj = objcache_find(ev.kind, ev.obj_id);
	ev.flags = (slot & SLOT_CLOEXEC) ? BPFLEAK_EF_CLOEXEC : 0;
	ev.detail = "restart";
	r->rc = write_event(&ev, 0);
	return r->rc;
}

/* A new file at the path: say so, and list what is open, so it stands alone. */
static int write_restart(void)
{
	struct restart r = { shim_now_ns(), 0 };
	struct shim_event ev;
	event_init(&ev, BPFLEAK_OP_NOTE, r.ts);
	ev.detail = bpfleak_note_name(BPFLEAK_NOTE_RESTART);
	r.rc = write_event(&ev, 0);
	if (!r.rc)
		fdtable_each(0, ~0u, list_restart, &r);
	return r.rc;
}

static int write_gap(const char *why, uint64_t since, uint64_t lost)
{
	struct shim_event ev;
	event_init(&ev, BPFLEAK_OP_DROP, since);
	ev.fd2 = (int32_t)(lost > INT32_MAX ? INT32_MAX : lost);
	ev.detail = why;
	return write_event(&ev, shim_now_ns());
}

/* Events that could not be written: the gap they make is journaled later. */
static void lose(uint64_t n, const char *why)
{
	if (!gap_lost && !gap_since_ns) {
		gap_since_ns = shim_now_ns();
		snprintf(gap_why, sizeof(gap_why), "journal write failed: %s", why);
		/* Once per process, however often the disk fills and frees. */
		if (!gap_warned)
			shim_warn("%s; events are counted as lost until writes succeed again", gap_why);
		gap_warned = true;
	}
	gap_lost += n;
	lost_total += n;
}

/* Empty the queue: what it holds cannot be written now, and memory is bounded. */
static uint64_t discard_queue(void)
{
	struct shim_event ev;
	uint64_t n = 0;
	while (queue_pop(&ev))
		n++;
	return n + queue_take_drops(NULL);
}

struct batch {
	bool restarted;
	const struct bpfleak_snapshot *snap;
	const struct jw_snapshot_info *info;
	bool snap_written;
};

/* One transaction.  0, or the sqlite error code (the batch is then lost). */
static int write_batch(struct batch *b, bool *more)
{
	*more = false;
	int rc = journal_begin();
	if (rc)
		return rc;
	bool new_row = proc_row == 0;
	if (!proc_row)
		rc = journal_process_row(&proc_row, self.origin);
	if (!rc && b->restarted)
		rc = write_restart();
	if (!rc)
		rc = journal_modules();
	uint32_t unrecorded = rc ? 0 : record_take_unrecorded();
	if (unrecorded) {
		struct shim_event note;
		event_init(&note, BPFLEAK_OP_NOTE, shim_now_ns());
		note.fd2 = (int32_t)unrecorded;
		note.detail = bpfleak_note_name(BPFLEAK_NOTE_SMALL_STACK);
		rc = write_event(&note, 0);
	}
	bool gap_in_batch = !rc && gap_lost;
	if (gap_in_batch)
		rc = write_gap(gap_why, gap_since_ns, gap_lost);
	struct shim_event ev;
	int n = 0;
	while (!rc && n < BATCH_MAX && queue_pop(&ev)) {
		rc = write_event(&ev, 0);
		n++;
	}
	bool all = n < BATCH_MAX;
	uint64_t since = 0, dropped = !rc && all ? queue_take_drops(&since) : 0;
	if (dropped)
		rc = write_gap("queue full", since, dropped);
	uint64_t now = shim_now_ns();
	if (!rc && all && b->snap && !b->snap_written) {
		int status = 0;
		bool status_known = requests_exit_status(&status);
		rc = journal_snapshot(b->snap, b->info);
		if (!rc)
			rc = journal_process_exited(proc_row, now, status_known, status);
		b->snap_written = !rc;
	} else if (!rc && all) {
		/* Everything seen up to now is written: what a live report waits for. */
		rc = journal_process_flushed(proc_row, now);
	}
	if (!rc)
		rc = journal_commit();
	if (rc) {
		journal_rollback();
		/* Ids handed out in this batch are not in the file: write them again. */
		int64_t row = proc_row;
		writer_forget_written();
		if (!new_row)
			proc_row = row;
		b->snap_written = false;
		lose((uint64_t)n + dropped, journal_errstr(rc));
		return rc;
	}
	if (gap_in_batch) {
		gap_lost = 0;
		gap_since_ns = 0;
	}
	b->restarted = false;
	events_written += (uint64_t)n;
	writer_progress();
	*more = !all;
	return 0;
}

/*
 * Fold the WAL into the journal file now and then: a file moved away by log
 * rotation (its -wal stays behind) or copied off a running host then holds
 * all but the last fraction of a second.  Not after every batch: each
 * checkpoint costs two fsyncs.
 */
#define CHECKPOINT_EVERY_NS (250 * 1000000ull)

static void checkpoint_now_and_then(void)
{
	static uint64_t last;
	uint64_t now = shim_now_ns();
	if (now - last < CHECKPOINT_EVERY_NS || journal_turn_contended())
		return;
	last = now;
	journal_checkpoint();
}

/*
 * Fold old create/close pairs (common/journal_fold.c) now and then: a week
 * of balanced churn stays a few megabytes.  A pass every quarter of the
 * fold age (at most a minute), or at once while one found more to read,
 * and only after a batch was written: a journal that cannot be written is
 * said once, by the write.  A failed pass loses nothing (the rows stay);
 * one that failed for another reason than the file is said once.
 */
static void fold_now_and_then(void)
{
	static uint64_t last;
	static bool more, said_setting, said_failure;
	uint64_t age = shim_cfg.fold_age_ns;
	if (!age)
		return;
	if (shim_cfg.fold_age_bad && !said_setting) {
		said_setting = true;
		shim_warn("BPFLEAK_FOLD_AGE is not a duration (like 1h, 30m or off); folding after 1h");
	}
	uint64_t now = shim_now_ns();
	if (!last)
		last = now;   /* the first pass a period after recording began, not with its first batch */
	if ((!more && now - last < jw_fold_every_ns(age)) || journal_turn_contended())
		return;
	last = now;
	int err;
	more = journal_fold(now, age, &err);
	if (err && !journal_err_is_io(err) && !said_failure) {
		said_failure = true;
		shim_warn("folding old events into summaries failed (%s); they stay as rows",
			  journal_errstr(err));
	}
}

/*
 * Write what is queued (and, in exit mode, the exit snapshot).  Called by
 * the writer thread, or by the exiting thread itself when there is none.
 *
 * One batch per hold of the writer's mutex: a fork waits for at most one
 * batch (then closes the connection, writer_fork_prepare), and between
 * batches other processes of the tree get their turn at the journal.
 */
static void drain(enum drain_mode mode)
{
	int state = shim_state_now();
	if (state != SHIM_ACTIVE && state != SHIM_DONE)
		return;
	/* Nothing to write, and no failed write to retry: no file is opened. */
	if (mode == DRAIN_NORMAL && !queue_depth() && !gap_lost)
		return;
	shim_internal++;
	struct bpfleak_snapshot snap;
	struct jw_snapshot_info info;
	struct batch b = { .restarted = false };
	if (mode == DRAIN_EXIT) {
		exitsnap_take(&snap, &info);
		b.snap = &snap;
		b.info = &info;
	}
	modules_refresh();   /* dlopen'd libraries since the last batch */
	bool turn = false;
	for (bool more = true; more;) {
		more = false;
		if (!turn)
			journal_turn_take();
		turn = true;
		pthread_mutex_lock(&writer_mutex);
		if (ever_opened && journal_replaced()) {
			writer_forget_written();
			b.restarted = true;
			shim_warn("the journal %s was moved or deleted; a new one is started there",
				  shim_cfg.journal);
		}
		char why[400];
		if (!journal_open(why, sizeof(why))) {
			pthread_mutex_unlock(&writer_mutex);
			journal_turn_give();
			turn = false;
			if (!ever_opened) {
				/* The first open: fail open, the host runs as without us. */
				shim_fail(why);
				discard_queue();
			} else {
				lose(discard_queue(), why);
			}
			break;
		}
		ever_opened = true;
		/* Batch after batch on one connection, until someone else needs
		 * the journal (another process) or the mutex (a fork). */
		int rc;
		do
			rc = write_batch(&b, &more);
		while (!rc && more && !journal_turn_contended() && !journal_yield_requested());
		if (rc == JOURNAL_BUSY) {
			/* Not written, not lost: the events wait for the next drain. */
			more = false;
		} else if (rc) {
			lose(discard_queue(), journal_errstr(rc));
			more = false;
		}
		if (!more && mode == DRAIN_EXIT) {
			journal_finish();
			journal_close();
		} else if (!more) {
			if (!rc)
				fold_now_and_then();
			checkpoint_now_and_then();
		}
		/* After a failed write the next drain starts on a new connection. */
		if (rc && rc != JOURNAL_BUSY)
			journal_close();
		pthread_mutex_unlock(&writer_mutex);
		/* Another process of the tree waits: it gets the next turn. */
		if (!more || journal_turn_contended()) {
			journal_turn_give();
			turn = false;
			if (more)
				sched_yield();
		}
	}
	shim_internal--;
	if (mode == DRAIN_EXIT)
		bpfleak_snapshot_free(&snap);
}

/*
 * Recording starts: create the journal now, on the activating thread, so a
 * program killed a moment later still leaves a complete (if short) file,
 * and an unusable path fails open before the host goes on.
 */
bool writer_prepare_journal(void)
{
	char why[400];
	/* Before the turn's lock file: a shim without its journal module
	 * leaves no file behind. */
	if (!journal_writer_load(why, sizeof(why))) {
		shim_fail(why);
		return false;
	}
	shim_internal++;
	journal_turn_take();
	pthread_mutex_lock(&writer_mutex);
	bool ok = journal_open(why, sizeof(why));
	if (ok) {
		ever_opened = true;
		/* The process row goes in with the file: a journal whose first
		 * batch never lands (a full disk, a kill) still names who was
		 * recorded, and the report can say that it saw nothing of it. */
		if (journal_begin() == 0) {
			if (journal_process_row(&proc_row, self.origin) || journal_commit()) {
				journal_rollback();
				proc_row = 0;
			}
		}
	}
	pthread_mutex_unlock(&writer_mutex);
	journal_turn_give();
	shim_internal--;
	if (!ok)
		shim_fail(why);
	return ok;
}

/* ---- the thread ---- */

/* main() called pthread_exit and we are all that is left of the process. */
static bool only_writer_left(void)
{
	if (!requests_main_exited())
		return false;
	/* The main thread stays a zombie, counted, until the process ends. */
	int threads = self_thread_count();
	return threads > 0 && threads <= 2;
}

static void exit_work(void)
{
	drain(DRAIN_EXIT);
	atomic_store(&exit_done, 1);
	atomic_store(&shim_state, SHIM_DONE);
	if (!shim_cfg.quiet && events_written > 0) {
		if (lost_total)
			shim_warn("%llu events in %s (%llu lost while it could not be written); "
				  "read them with: bpfleak-report %s",
				  (unsigned long long)events_written, shim_cfg.journal,
				  (unsigned long long)lost_total, shim_cfg.journal);
		else
			shim_warn("%llu events in %s; read them with: bpfleak-report %s",
				  (unsigned long long)events_written, shim_cfg.journal,
				  shim_cfg.journal);
	}
}

static void *writer_main(void *arg)
{
	(void)arg;
	shim_guard = 1;
	shim_internal = 1;
	atomic_store(&thread_tid, shim_tid());
	prctl(PR_SET_NAME, "bpfleak-writer", 0, 0, 0);
	/*
	 * A host whose threads keep every core busy creating FDs would starve
	 * the writer and overflow the queue.  A higher weight for this thread
	 * (it sleeps when there is nothing to write) keeps the journal
	 * complete; without the privilege to raise it, drops are counted.
	 */
	setpriority(PRIO_PROCESS, (id_t)shim_tid(), -10);
	/* The first batch goes out at once: a program killed right after its
	 * first bpf FDs still leaves them in the journal. */
	long wait = 0;
	for (;;) {
		if (wait)
			requests_wait(wait);
		uint32_t tickets = requests_taken();
		bool last = only_writer_left();
		uint64_t before = events_written;
		if ((requests_exit_kind() || last) && !atomic_load(&exit_done))
			exit_work();
		else if (shim_state_now() == SHIM_ACTIVE || queue_depth())
			drain(requests_flush_file_touched() ? DRAIN_FLUSH : DRAIN_NORMAL);
		requests_done(tickets);
		if (last)
			return NULL;   /* the last thread: glibc now calls exit(0) */
		if (shim_state_now() == SHIM_DISABLED)
			return NULL;
		wait = events_written != before ? BUSY_WAIT_NS : IDLE_WAIT_NS;
	}
}

void writer_start(void)
{
	int expected = 0;
	if (atomic_load_explicit(&running, memory_order_relaxed) ||
	    !atomic_compare_exchange_strong(&running, &expected, 1))
		return;
	/* Born with every signal blocked, so host handlers never run on our thread. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	shim_guard++;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	/* Nobody joins it: the process may end while it sleeps. */
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&thread, &attr, writer_main, NULL);
	pthread_attr_destroy(&attr);
	shim_guard--;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		atomic_store(&running, 0);   /* the exit path writes inline instead */
}

void writer_exit_inline(bool underscore_exit)
{
	(void)underscore_exit;
	if (!atomic_load(&exit_done))
		exit_work();
}

/* Write everything queued, from the calling thread (tests). */
void writer_drain_now(void)
{
	drain(DRAIN_NORMAL);
}

/* ---- the FD hooks' seam (consumer.h): the writer's mutex holds the journal's files ---- */

void consumer_hold_files(void)
{
	pthread_mutex_lock(&writer_mutex);
}

void consumer_release_files(void)
{
	pthread_mutex_unlock(&writer_mutex);
}

void consumer_give_up_fd(int fd)
{
	journal_give_up_fd(fd);
}

/* ---- fork: no connection is open across it, and the child starts afresh ---- */

void writer_fork_prepare(void)
{
	/* A writer waiting on another process's lock gives way (journal.c). */
	journal_yield(true);
	pthread_mutex_lock(&writer_mutex);
	journal_yield(false);
	/*
	 * No connection crosses a fork: sqlite's state in the child would be
	 * a copy of one in use (sqlite forbids that, and a child that closed
	 * its copy was seen waiting forever on a lock nobody held).  The
	 * parent's next batch opens it again.  The shim's own closes: hook_close
	 * must not wait for them (ownfds.c).
	 */
	shim_internal++;
	journal_close();
	shim_internal--;
}

void writer_fork_parent(void)
{
	pthread_mutex_unlock(&writer_mutex);
}

void writer_fork_child(void)
{
	pthread_mutex_init(&writer_mutex, NULL);
	journal_turn_after_fork_child();
	atomic_store(&running, 0);
	atomic_store(&thread_tid, 0);
	atomic_store(&exit_done, 0);
	requests_after_fork_child();
	proc_row = 0;
	events_written = 0;
	gap_since_ns = gap_lost = lost_total = 0;
	gap_warned = false;
}
