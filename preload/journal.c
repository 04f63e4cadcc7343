// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The shim's side of the journal: the only file of the shim that talks to
 * sqlite (through common/journal_writer.c, in libbpfleak-journal.so: see
 * jwapi.h).  Only the writer calls it, with the writer's mutex held.
 *
 * The connection stays open from one drain to the next: a new one would
 * rebuild the WAL's index from the whole WAL (sqlite does that for the
 * first connection of a process to a WAL file) and start with a cold page
 * cache, which cost more than the rows themselves.  Its files are owned
 * FDs (ownfds.c), so a host's close_range(3, ~0U) steps around them; a
 * host that dup2s onto one of them gets the number (journal_give_up_fd),
 * and it is closed before a fork (writer_fork_prepare): sqlite forbids a
 * child to touch a connection it inherited, even to close it.
 *
 * It also notices when the file at the configured path is no longer the one
 * written so far (log rotation, a cleanup job, an operator's rm): the
 * writer then starts the new file with everything the report needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>   /* result codes only: the library is the module's */
#include <bpfleak/journal.h>
#include <bpfleak/snapshot.h>
#include "journal_writer.h"
#include "jwapi.h"
#include "consumer.h"
#include "shim.h"

static struct jw jw;
static bool is_open;

/*
 * Event rows wait here, in order, until the batch commits (or this fills):
 * jw_events() writes them 32 to an INSERT.  Their detail strings are
 * static, arena-held or the writer's, all alive until then.
 */
#define PENDING_MAX 512
static struct jw_event pending[PENDING_MAX];
static size_t n_pending;
static dev_t file_dev;
static ino_t file_ino;
static bool file_known;

/* The side files of a journal that is gone belong to it, not to a new one. */
static void drop_orphan_side_files(void)
{
	char side[sizeof(shim_cfg.journal) + 8];
	snprintf(side, sizeof(side), "%s-wal", shim_cfg.journal);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", shim_cfg.journal);
	unlink(side);
}

/* Tests: the next file opened is a new journal, not a replacement. */
void journal_forget_file(void)
{
	journal_close();
	file_known = false;
}

bool journal_replaced(void)
{
	if (!file_known)
		return false;
	struct stat st;
	if (stat(shim_cfg.journal, &st) != 0)
		return true;
	return st.st_dev != file_dev || st.st_ino != file_ino;
}

/*
 * Another process of the tree holds the journal's lock: wait for it (about
 * 20 s in all, polling often enough to catch the gap a busy writer leaves
 * between its batches), and let exit paths waiting on the writer see it is
 * busy, not stuck.
 */
static _Atomic int yield_requested;

void journal_yield(bool on)
{
	atomic_store(&yield_requested, on);
}

bool journal_yield_requested(void)
{
	return atomic_load(&yield_requested) != 0;
}

static int busy(void *ctx, int count)
{
	(void)ctx;
	if (count >= 20000 || atomic_load(&yield_requested))
		return 0;
	struct timespec ts = { 0, 1000 * 1000 };
	nanosleep(&ts, NULL);
	writer_progress();
	return 1;
}

static int turn_fd = -1;
static _Atomic int turn_waiting;
/* Shared by every process of the tree through the lock file: who waits. */
struct turn_page {
	_Atomic uint32_t waiting;
};
static struct turn_page *turn_page;

/*
 * A POSIX record lock on JOURNAL-lock: the kernel wakes waiters as it is
 * released, and a fork child never inherits it (flock's lock would follow
 * the open file into the child and hold the whole tree up).  A file of its
 * own, because closing any FD of a file drops all of a process's POSIX
 * locks on it, sqlite's included.  The FD stays open, owned and high; it
 * is opened under the writer's mutex, like sqlite's, so a host's range
 * close never finds it half set up.
 */
static void open_turn(void)
{
	char path[sizeof(shim_cfg.journal) + 8];
	snprintf(path, sizeof(path), "%s-lock", shim_cfg.journal);
	ownfds_setup_sqlite();   /* where the shim's journal FDs go */
	consumer_hold_files();
	int fd = ownfds_open_journal(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size < (off_t)sizeof(struct turn_page) &&
	    ftruncate(fd, sizeof(struct turn_page)) != 0) {
		ownfds_close_journal(fd);
		fd = -1;
	}
	/* A page of a shared file mapping is backed by the disk: touching one
	 * whose block was never allocated raises SIGBUS when the disk is full
	 * (tmpfs too, even for a read).  fallocate allocates the block or
	 * fails, and leaves a waiter count other processes have written alone;
	 * without the page the turns still work, just without the hint. */
	if (fd >= 0 && fallocate(fd, 0, 0, sizeof(struct turn_page)) == 0) {
		void *p = mmap(NULL, sizeof(struct turn_page), PROT_READ | PROT_WRITE, MAP_SHARED,
			       fd, 0);
		turn_page = p == MAP_FAILED ? NULL : p;
	}
	turn_fd = fd;
	consumer_release_files();
}

void journal_turn_take(void)
{
	if (turn_fd < 0)
		open_turn();
	if (turn_fd < 0)
		return;   /* no turns: sqlite's own waiting still keeps it correct */
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	if (fcntl(turn_fd, F_SETLK, &lk) == 0)
		return;
	atomic_store(&turn_waiting, 1);
	if (turn_page)
		atomic_fetch_add(&turn_page->waiting, 1);
	while (fcntl(turn_fd, F_SETLKW, &lk) != 0 && errno == EINTR)
		;
	if (turn_page)
		atomic_fetch_sub(&turn_page->waiting, 1);
	atomic_store(&turn_waiting, 0);
}

void journal_turn_give(void)
{
	if (turn_fd < 0)
		return;
	struct flock lk = { .l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	fcntl(turn_fd, F_SETLK, &lk);
}

bool journal_turn_contended(void)
{
	return turn_page && atomic_load(&turn_page->waiting) > 0;
}

bool journal_turn_waiting(void)
{
	return atomic_load(&turn_waiting) != 0;
}

/*
 * The host dup2s onto one of the journal's FDs (the writer's mutex held):
 * that number is the host's now.  The turn lock's FD is handed over as it
 * is; sqlite's go with the connection, reopened by the next drain.
 */
void journal_give_up_fd(int fd)
{
	if (fd < 0)
		return;
	if (fd != turn_fd) {
		journal_close();
		return;
	}
	if (turn_page)
		munmap(turn_page, sizeof(*turn_page));
	turn_page = NULL;
	ownfds_unmark(fd);
	turn_fd = -1;
}

/* The child has the FD but not the lock: it takes its own turns with it. */
void journal_turn_after_fork_child(void)
{
	atomic_store(&turn_waiting, 0);
}

/* The connection's sqlite: no mutexes, its files opened as owned FDs. */
static void setup_sqlite(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	ownfds_setup_sqlite();
	jw_private_sqlite(ownfds_open_journal, ownfds_close_journal);
}

bool journal_open(char *why, size_t cap)
{
	if (!journal_writer_load(why, cap))
		return false;
	if (is_open && !journal_replaced())
		return true;
	journal_close();
	setup_sqlite();
	if (journal_replaced()) {
		struct stat st;
		if (stat(shim_cfg.journal, &st) != 0 || st.st_size == 0)
			drop_orphan_side_files();
	}
	if (!shim_cfg.journal[0]) {
		snprintf(why, cap, "journal path too long");
		return false;
	}
	/* Created here, through the owned-FD path, not by a plain open. */
	struct stat pre;
	if (lstat(shim_cfg.journal, &pre) != 0 && errno == ENOENT) {
		int fd = ownfds_open_journal(shim_cfg.journal, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW,
					     0600);
		if (fd >= 0)
			ownfds_close_journal(fd);
	}
	char err[300];
	if (jw_open(&jw, shim_cfg.journal, JW_CREATE | JW_APPEND, err, sizeof(err))) {
		snprintf(why, cap, "journal %.300s", err);
		return false;
	}
	jw_busy_handler(&jw, busy, NULL);
	/* It only appends: the right-most pages of a few tables. */
	jw_exec(&jw, "PRAGMA cache_size=-256");
	struct stat st;
	if (stat(shim_cfg.journal, &st) == 0) {
		file_dev = st.st_dev;
		file_ino = st.st_ino;
		file_known = true;
	}
	is_open = true;
	return true;
}

void journal_close(void)
{
	if (is_open)
		jw_close(&jw);
	is_open = false;
	n_pending = 0;
}

bool journal_is_open(void)
{
	return is_open;
}

int journal_begin(void)
{
	n_pending = 0;
	if (jw_begin(&jw) == SQLITE_OK)
		return 0;
	int code = jw_errcode(&jw);
	return (code & 0xff) == SQLITE_BUSY ? JOURNAL_BUSY : code;
}

static int flush_events(void)
{
	size_t n = n_pending;
	n_pending = 0;
	return n && jw_events(&jw, pending, n) != SQLITE_OK ? jw_errcode(&jw) : 0;
}

int journal_commit(void)
{
	int rc = flush_events();
	if (rc)
		return rc;
	return jw_commit(&jw) == SQLITE_OK ? 0 : jw_errcode(&jw);
}

void journal_rollback(void)
{
	n_pending = 0;
	jw_rollback(&jw);
}

int journal_errcode(void)
{
	return jw_errcode(&jw);
}

const char *journal_errstr(int code)
{
	return jw_errstr(code);
}

static int fail(void)
{
	return jw_errcode(&jw);
}

/* The image that called exec wrote it down before the call (interpose.c). */
static bool exec_journaled(pid_t pid)
{
	int op = 0, flags = 0;
	if (flush_events())
		return false;
	return jw_last_event_of(&jw, pid, &op, &flags) && op == BPFLEAK_OP_EXEC &&
	       (flags & BPFLEAK_EF_BEFORE_EXEC);
}

int journal_process_row(int64_t *row, const char *origin)
{
	struct jw_process p;
	char *exe = NULL, *cmd = NULL, boot_id[64];
	self_row(&p, &exe, &cmd, boot_id, sizeof(boot_id));
	/* Same pid and kernel start time as an earlier row: this image came from exec. */
	bool from_exec = strcmp(origin, "fork") != 0 &&
			 jw_process_find_exec(&jw, p.pid, p.start_ticks, boot_id) > 0;
	p.origin = from_exec ? "exec" : origin;
	int rc = 0;
	*row = jw_process(&jw, &p);
	if (*row <= 0) {
		rc = fail();
	} else if (from_exec && !exec_journaled(p.pid)) {
		struct jw_event e = { .ts_ns = p.started_ns, .pid = p.pid, .tid = p.pid,
				      .op = BPFLEAK_OP_EXEC, .cmd = -1, .detail = exe };
		if (jw_event(&jw, &e) != SQLITE_OK)
			rc = fail();
	}
	if (from_exec)
		self.origin = "exec";
	free(exe);
	free(cmd);
	return rc;
}

int journal_event(const struct shim_event *ev, const char *detail, uint64_t end_ns)
{
	int64_t stack_id = 0;
	if (ev->stack) {
		stack_id = stack_db_id(ev->stack);
		if (!stack_id) {
			stack_id = jw_stack(&jw, ev->stack->hash, (const uint64_t *)ev->stack->ips,
					    ev->stack->depth);
			if (stack_id < 0)
				return fail();
			stack_set_db_id(ev->stack, stack_id);
		}
	}
	if (ev->obj && ev->obj->info.id && !objcache_is_written(ev->obj)) {
		if (jw_object(&jw, &ev->obj->info, ev->obj->first_seen_ns) != SQLITE_OK)
			return fail();
		objcache_mark_written(ev->obj);
	}
	int op = ev->op;
	bool has_fd2 = op == BPFLEAK_OP_DUP || op == BPFLEAK_OP_FORK || op == BPFLEAK_OP_DROP ||
		       (op == BPFLEAK_OP_NOTE && ev->fd2);
	bool has_fd = op != BPFLEAK_OP_FORK && op != BPFLEAK_OP_DROP && op != BPFLEAK_OP_ERROR &&
		      op != BPFLEAK_OP_EXEC && op != BPFLEAK_OP_NOTE;
	pending[n_pending++] = (struct jw_event){
		.ts_ns = ev->ts_ns, .pid = ev->pid, .tid = ev->tid, .op = op,
		.has_fd = has_fd, .has_fd2 = has_fd2, .fd = ev->fd, .fd2 = ev->fd2,
		.cmd = ev->cmd, .kind = ev->kind, .obj_id = ev->obj_id, .stack_id = stack_id,
		.result = ev->result, .flags = ev->flags, .detail = detail, .end_ns = end_ns,
	};
	return n_pending == PENDING_MAX ? flush_events() : 0;
}

static int64_t module_row(const struct module_info *m, void *ctx)
{
	(void)ctx;
	struct jw_module row = {
		.pid = self.pid, .ts_ns = m->ts, .path = m->path, .build_id = m->build_id,
		.base = m->base, .size = m->size, .file_size = m->file_size,
		.mtime_ns = m->mtime_ns,
	};
	return jw_module(&jw, &row);
}

static int module_unloaded(int64_t row, uint64_t ts, void *ctx)
{
	(void)ctx;
	return jw_module_unloaded(&jw, row, ts) == SQLITE_OK ? 0 : -1;
}

int journal_modules(void)
{
	return modules_write(module_row, module_unloaded, NULL) ? fail() : 0;
}

int journal_snapshot(const struct bpfleak_snapshot *s, const struct jw_snapshot_info *info)
{
	return jw_snapshot(&jw, s, info) == SQLITE_OK ? 0 : fail();
}

int journal_process_exited(int64_t row, uint64_t ts, bool have_status, int status)
{
	return jw_process_exited(&jw, row, ts, have_status, status) == SQLITE_OK ? 0 : fail();
}

int journal_process_flushed(int64_t row, uint64_t ts)
{
	return jw_process_flushed(&jw, row, ts) == SQLITE_OK ? 0 : fail();
}

void journal_checkpoint(void)
{
	if (is_open)
		jw_exec(&jw, "PRAGMA wal_checkpoint(PASSIVE)");
}

bool journal_err_is_io(int code)
{
	switch (code & 0xff) {
	case SQLITE_FULL: case SQLITE_IOERR: case SQLITE_CANTOPEN: case SQLITE_BUSY:
	case SQLITE_LOCKED: case SQLITE_READONLY:
		return true;
	default:
		return false;
	}
}

bool journal_fold(uint64_t now, uint64_t age_ns, int *err)
{
	struct jw_fold_result res = { .more = false };
	*err = 0;
	if (!is_open)
		return false;
	int rc = journal_begin();
	if (rc) {
		*err = rc == JOURNAL_BUSY ? 0 : rc;   /* busy: another process's turn, next time */
		return false;
	}
	if (jw_fold(&jw, now, age_ns, JW_FOLD_PASS_ROWS, &res) == SQLITE_OK && !journal_commit())
		return res.more;
	*err = jw_errcode(&jw);
	journal_rollback();
	return false;
}

void journal_finish(void)
{
	if (is_open)
		jw_finish(&jw, 100);
}
