// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The writer: one thread that drains the queue into the journal, a batch
 * per transaction, at most every 20 ms (sooner when the queue fills).
 *
 * The journal is opened at the start of a drain and closed at its end, all
 * under writer_mutex.  Outside a drain the process holds no sqlite state, so
 * a fork never carries a live connection into the child (sqlite forbids
 * that), and a host's close_range(3, ~0U) cannot pull the journal's FDs out
 * from under sqlite: both wait for the mutex.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
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
#include <sqlite3.h>
#include <bpfleak/journal.h>
#include <bpfleak/snapshot.h>
#include "journal_writer.h"
#include "shim.h"

#define BATCH_MAX 8192
#define IDLE_WAIT_NS (20 * 1000 * 1000)
#define BUSY_WAIT_NS (2 * 1000 * 1000)

static pthread_mutex_t writer_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_t writer_thread;
static _Atomic int writer_running;
static _Atomic int writer_stop;
static _Atomic uint32_t kick_word;
static uint64_t events_written;

/* Who this image is; written once per journal as a `process` row. */
static struct {
	int64_t row;            /* 0 until written */
	const char *origin;     /* "start", "fork" or "exec" (decided on write) */
	pid_t ppid;
	uint64_t started_ns;
} self = { .origin = "start" };

/* ---- locking, used by hooks that must not race a drain ---- */

void writer_lock(void)
{
	pthread_mutex_lock(&writer_mutex);
}

void writer_unlock(void)
{
	pthread_mutex_unlock(&writer_mutex);
}

void writer_kick(void)
{
	uint32_t expected = 0;
	if (atomic_compare_exchange_strong(&kick_word, &expected, 1))
		syscall(SYS_futex, &kick_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void wait_for_kick(long ns)
{
	struct timespec ts = { 0, ns };
	syscall(SYS_futex, &kick_word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
	atomic_store(&kick_word, 0);
}

/* ---- journal path checks (at start, before any thread exists) ---- */

static bool check_path(const char *path);

bool journal_check_path(const char *path)
{
	shim_internal++;
	bool ok = check_path(path);
	shim_internal--;
	return ok;
}

static bool check_path(const char *path)
{
	self.started_ns = shim_now_ns();
	/* O_NOFOLLOW: a journal path that is a symlink is refused, never followed. */
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		char why[128];
		snprintf(why, sizeof(why), "cannot open journal %.80s: %s", path, strerror(errno));
		shim_fail(why);
		return false;
	}
	struct stat st;
	bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	close(fd);
	if (!regular) {
		shim_fail("journal path is not a regular file");
		return false;
	}
	journal_fds_setup();
	struct jw j;
	char err[256];
	if (jw_open(&j, path, JW_CREATE | JW_APPEND, err, sizeof(err))) {
		char why[400];
		snprintf(why, sizeof(why), "journal %.80s: %.255s", path, err);
		shim_fail(why);
		return false;
	}
	jw_close(&j);
	return true;
}

/* ---- process identity ---- */

static uint64_t read_start_ticks(void)
{
	size_t len = 0;
	char *stat = bpfleak_read_file("/proc/self/stat", &len);
	uint64_t ticks = 0;
	if (stat) {
		/* Field 22; fields after the ")" of comm are space separated. */
		char *p = strrchr(stat, ')');
		for (int field = 2; p && field < 22; field++)
			p = strchr(p + 1, ' ');
		if (p)
			ticks = strtoull(p + 1, NULL, 10);
		free(stat);
	}
	return ticks;
}

static char *read_cmdline(void)
{
	size_t len = 0;
	char *c = bpfleak_read_file("/proc/self/cmdline", &len);
	if (!c)
		return NULL;
	for (size_t i = 0; i + 1 < len; i++)
		if (c[i] == '\0')
			c[i] = ' ';
	return c;
}

static int write_process_row(struct jw *j)
{
	if (self.row)
		return 0;
	char boot_id[64], exe[4096];
	bpfleak_boot_id(boot_id, sizeof(boot_id));
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	uint64_t ticks = read_start_ticks();
	char *cmdline = read_cmdline();

	/* Same pid and kernel start time as an earlier row: this image came from exec. */
	int64_t earlier = strcmp(self.origin, "fork") ? jw_process_find_exec(j, getpid(), ticks, boot_id) : 0;
	if (earlier > 0)
		self.origin = "exec";
	if (!self.started_ns)
		self.started_ns = shim_now_ns();
	struct timespec mono, wall;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &wall);
	struct jw_process p = {
		.pid = getpid(),
		.ppid = self.ppid ? self.ppid : getppid(),
		.exe = exe,
		.cmdline = cmdline ? cmdline : "",
		.boot_id = boot_id,
		.origin = self.origin,
		.start_ticks = ticks,
		.started_ns = self.started_ns,
		.realtime_base_ns = ((int64_t)wall.tv_sec - mono.tv_sec) * 1000000000ll +
				    (wall.tv_nsec - mono.tv_nsec),
	};
	self.row = jw_process(j, &p);
	int rc = self.row > 0 ? 0 : -1;
	if (rc == 0 && earlier > 0) {
		struct jw_event e = { .ts_ns = self.started_ns, .pid = p.pid, .tid = p.pid,
				       .op = BPFLEAK_OP_EXEC, .cmd = -1, .detail = exe };
		rc = jw_event(j, &e);
	}
	free(cmdline);
	if (rc)
		self.row = 0;
	return rc;
}

/* ---- one drain ---- */

struct module_ctx {
	struct jw *j;
	int rc;
};

static void write_module(const struct module_info *info, void *ctx)
{
	struct module_ctx *m = ctx;
	if (m->rc == 0)
		m->rc = jw_module(m->j, &(struct jw_module){
			.pid = getpid(), .ts_ns = info->ts, .path = info->path,
			.build_id = info->build_id, .base = info->base, .size = info->size,
			.file_size = info->file_size, .mtime_ns = info->mtime_ns }) < 0;
}

static int write_one(struct jw *j, const struct shim_event *ev)
{
	int64_t stack_id = 0;
	if (ev->stack) {
		struct stack_node *s = (struct stack_node *)ev->stack;
		stack_id = atomic_load(&s->db_id);
		if (!stack_id) {
			stack_id = jw_stack(j, s->hash, s->ips, s->depth);
			if (stack_id < 0)
				return -1;
			atomic_store(&s->db_id, stack_id);
		}
	}
	if (ev->obj && ev->obj->info.id) {
		struct obj_node *o = (struct obj_node *)ev->obj;
		if (!atomic_load(&o->written)) {
			if (jw_object(j, &o->info, o->first_seen_ns))
				return -1;
			atomic_store(&o->written, 1);
		}
	}
	const char *detail = ev->detail;
	if (ev->op == BPFLEAK_OP_INHERITED && detail && !strcmp(detail, "start") &&
	    !strcmp(self.origin, "exec"))
		detail = "exec";
	bool has_fd2 = ev->op == BPFLEAK_OP_DUP || ev->op == BPFLEAK_OP_FORK ||
		       ev->op == BPFLEAK_OP_DROP;
	bool has_fd = ev->op != BPFLEAK_OP_FORK && ev->op != BPFLEAK_OP_DROP &&
		      ev->op != BPFLEAK_OP_ERROR && ev->op != BPFLEAK_OP_EXEC;
	struct jw_event e = {
		.ts_ns = ev->ts_ns, .pid = ev->pid, .tid = ev->tid, .op = ev->op,
		.has_fd = has_fd, .has_fd2 = has_fd2, .fd = ev->fd, .fd2 = ev->fd2,
		.cmd = ev->cmd, .kind = ev->kind, .obj_id = ev->obj_id, .stack_id = stack_id,
		.result = ev->result, .flags = ev->flags, .detail = detail,
	};
	return jw_event(j, &e);
}

/* A batch that did not commit: ids it handed out are not in the file. */
static void forget_batch(bool process_row_in_batch)
{
	int64_t row = self.row;
	journal_forget_written();
	/* A row committed by an earlier batch is still there. */
	if (!process_row_in_batch)
		self.row = row;
}

/* Nothing this process wrote is known to be in the journal any more. */
void journal_forget_written(void)
{
	stack_forget_db_ids();
	objcache_forget_written();
	modules_mark_unwritten();
	self.row = 0;
}

static bool fatal_sqlite(int code)
{
	code &= 0xff;
	return code == SQLITE_FULL || code == SQLITE_IOERR || code == SQLITE_READONLY ||
	       code == SQLITE_CORRUPT || code == SQLITE_NOTADB || code == SQLITE_CANTOPEN ||
	       code == SQLITE_PERM;
}

static void give_up(int code, const char *what)
{
	char why[256];
	snprintf(why, sizeof(why), "journal %s failed: %s", what, jw_errstr(code));
	shim_fail(why);
	/* Recording stops; what is queued will never be written. */
	struct shim_event ev;
	while (queue_pop(&ev))
		;
}

/* Returns 0, or the sqlite error code (read before the rollback resets it). */
static int write_batch(struct jw *j, bool *more)
{
	if (jw_exec(j, "BEGIN IMMEDIATE") != SQLITE_OK)
		return jw_errcode(j);
	bool new_row = self.row == 0;
	int rc = write_process_row(j);
	struct module_ctx mctx = { j, 0 };
	if (!rc) {
		modules_each_unwritten(write_module, &mctx);
		rc = mctx.rc;
	}
	struct shim_event ev;
	int n = 0;
	while (!rc && n < BATCH_MAX && queue_pop(&ev)) {
		rc = write_one(j, &ev);
		n++;
	}
	/* Drops happened while the queue was full, i.e. after what it held. */
	uint64_t dropped = !rc && n < BATCH_MAX ? queue_take_drops() : 0;
	if (dropped) {
		struct jw_event e = { .ts_ns = shim_now_ns(), .pid = getpid(), .tid = shim_tid(),
				       .op = BPFLEAK_OP_DROP, .has_fd2 = true, .fd2 = (int)dropped,
				       .cmd = -1 };
		rc = jw_event(j, &e);
	}
	if (!rc)
		rc = jw_exec(j, "COMMIT") == SQLITE_OK ? 0 : -1;
	if (rc) {
		int code = jw_errcode(j);
		jw_exec(j, "ROLLBACK");
		forget_batch(new_row);
		/* The batch's events are gone: say so with a drop record later. */
		queue_add_drops((uint64_t)n + dropped);
		return code ? code : SQLITE_ERROR;
	}
	events_written += (uint64_t)n;
	*more = n == BATCH_MAX;
	return 0;
}

/*
 * Write what is queued (and, at exit, the snapshot).  Called by the writer
 * thread and, for exec/_exit/exit, by the host thread itself.
 */
static void drain_locked(const struct bpfleak_snapshot *snap, bool exiting);

static void drain(const struct bpfleak_snapshot *snap, bool exiting)
{
	if (atomic_load(&shim_state) != SHIM_ACTIVE)
		return;
	if (!queue_depth() && !snap && !exiting)
		return;
	shim_internal++;
	drain_locked(snap, exiting);
	shim_internal--;
}

static void drain_locked(const struct bpfleak_snapshot *snap, bool exiting)
{
	journal_fds_setup();
	modules_refresh();   /* catches dlopen'd libraries since the last batch */
	writer_lock();
	struct jw j;
	char err[256];
	if (jw_open(&j, shim_cfg.journal, JW_CREATE | JW_APPEND, err, sizeof(err))) {
		writer_unlock();
		char why[300];
		snprintf(why, sizeof(why), "journal reopen: %.255s", err);
		shim_fail(why);
		return;
	}
	bool more = true;
	int failures = 0;
	while (more) {
		more = false;
		int code = write_batch(&j, &more);
		if (code) {
			if (fatal_sqlite(code) || ++failures >= 3) {
				give_up(code, "write");
				break;
			}
			more = true;   /* busy: another process held the lock too long */
		}
	}
	if (snap && atomic_load(&shim_state) == SHIM_ACTIVE) {
		int rc = jw_exec(&j, "BEGIN IMMEDIATE");
		if (rc == SQLITE_OK && !self.row)
			rc = write_process_row(&j);
		uint64_t now = shim_now_ns();
		if (rc == SQLITE_OK)
			rc = jw_snapshot(&j, snap, &(struct jw_snapshot_info){
				.ts_ns = now, .reason = BPFLEAK_SNAP_EXIT, .pins_walked = snap->n_mounts > 0 });
		if (rc == SQLITE_OK)
			rc = jw_process_exited(&j, self.row, now, false, 0);
		if (rc == SQLITE_OK)
			rc = jw_exec(&j, "COMMIT");
		if (rc != SQLITE_OK) {
			int code = jw_errcode(&j);
			jw_exec(&j, "ROLLBACK");
			give_up(code, "exit snapshot");
		}
	}
	/*
	 * Fold the WAL into the main file at exit, so the .db alone (the file
	 * people attach to tickets) holds everything, and empty the WAL file.
	 * Waits at most 100 ms for other processes still appending; if they
	 * are, the last of them to exit does it.
	 */
	if (exiting) {
		jw_finish(&j, 100);
	}
	jw_close(&j);
	writer_unlock();
}

void journal_drain_now(void)
{
	drain(NULL, false);
}

static void *writer_main(void *arg)
{
	(void)arg;
	shim_guard = 1;
	shim_internal = 1;
	prctl(PR_SET_NAME, "bpfleak-writer", 0, 0, 0);
	/*
	 * A host whose threads keep every core busy creating FDs would starve
	 * the writer and overflow the queue.  A higher weight for this thread
	 * (it sleeps when there is nothing to write) keeps the journal
	 * complete; without the privilege to raise it, drops are counted.
	 */
	setpriority(PRIO_PROCESS, (id_t)gettid(), -10);
	/* Busy periods come in bursts: look again soon after a drain that found work. */
	long wait = IDLE_WAIT_NS;
	while (!atomic_load(&writer_stop)) {
		wait_for_kick(wait);
		uint64_t before = events_written;
		drain(NULL, false);
		wait = events_written != before ? BUSY_WAIT_NS : IDLE_WAIT_NS;
	}
	return NULL;
}

void writer_start_if_needed(void)
{
	if (atomic_load_explicit(&writer_running, memory_order_relaxed) ||
	    atomic_load_explicit(&writer_stop, memory_order_relaxed))
		return;
	int expected = 0;
	if (!atomic_compare_exchange_strong(&writer_running, &expected, 1))
		return;
	/* Born with every signal blocked, so host handlers never run on our thread. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	shim_guard++;
	int rc = pthread_create(&writer_thread, NULL, writer_main, NULL);
	shim_guard--;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		atomic_store(&writer_running, 0);   /* drained at exit/exec instead */
}

/*
 * The exit status is not known here (a return from main reaches exit()
 * inside libc, past any interposer), so process.exit_status stays NULL.
 */
void journal_finish(void)
{
	/* From here on no thread may start a writer: exit writes the rest. */
	atomic_store(&writer_stop, 1);
	if (atomic_load(&writer_running)) {
		writer_kick();
		pthread_join(writer_thread, NULL);
		atomic_store(&writer_running, 0);
	}
	shim_internal++;
	struct bpfleak_snapshot snap;
	memset(&snap, 0, sizeof(snap));
	snap.pid = getpid();
	bpfleak_snapshot_fds(snap.pid, NULL, &snap);
	/* A process that never touched bpf leaves no trace in the journal. */
	bool relevant = snap.n_fds > 0 || self.row || queue_depth() > 0;
	if (relevant) {
		if (snap.n_fds > 0)
			bpfleak_snapshot_pins(snap.pid, &snap);
		drain(&snap, true);
		if (!shim_cfg.quiet && events_written > 0 && atomic_load(&shim_state) == SHIM_ACTIVE)
			shim_warn("%llu events in %s; read them with: bpfleak-report %s",
				  (unsigned long long)events_written, shim_cfg.journal,
				  shim_cfg.journal);
	}
	bpfleak_snapshot_free(&snap);
	shim_internal--;
}

/* ---- fork ---- */

void writer_fork_prepare(void)
{
	writer_lock();
}

void writer_fork_parent(void)
{
	writer_unlock();
}

void writer_fork_child(void)
{
	pthread_mutex_init(&writer_mutex, NULL);
	atomic_store(&writer_running, 0);
	atomic_store(&writer_stop, 0);
	atomic_store(&kick_word, 0);
	self.ppid = getppid();
	self.row = 0;
	self.origin = "fork";
	self.started_ns = shim_now_ns();
	events_written = 0;
}
