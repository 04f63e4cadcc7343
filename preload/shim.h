/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Internal interfaces of libbpfleak.so.  Everything here has hidden
 * visibility (the whole library is built with -fvisibility=hidden); only the
 * interposed libc symbols in interpose.c are exported.
 *
 * Layers, each calling only down (docs/architecture.md):
 *
 *   interpose.c         exported symbols; forward to a hook or a lifecycle call
 *   hooks_*.c           the FD table, stacks and identity of one call
 *   record.h            the one seam between hooks and the rest: begin
 *                       recording, submit an event, exec / exit / fork
 *   lifecycle.c         start, activation, fork, exec, exit
 *   writer.c            the writer thread and its requests (flush, exit)
 *   journal.c           every sqlite call the shim makes (common/journal_writer)
 *
 * Building blocks under them: real.c (libc's functions), config.c, log.c,
 * self.c (process identity), arena.c, fdtable.c, ownfds.c (FDs the shim's
 * libraries own), queue.c, objcache.c, stack.c, sigstack.c, modules.c.
 */
#ifndef BPFLEAK_SHIM_H
#define BPFLEAK_SHIM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <bpfleak/objinfo.h>

#define SHIM_MAX_DEPTH 128
#define SHIM_DEFAULT_DEPTH 32
/* Create/close pairs closed longer ago than this are folded (common/journal_fold.c). */
#define SHIM_DEFAULT_FOLD_AGE_NS (3600ull * 1000000000ull)

/* ---- libc's functions (real.c) ----
 * Until dlsym has found them, each points to a raw system call, so a hook
 * that fires before the constructor (or inside an allocator's own
 * initialisation) never calls dlsym and never recurses into malloc. */
struct real_fns {
	long (*syscall)(long, ...);
	int (*close)(int);
	int (*close_range)(unsigned int, unsigned int, int);
	void (*closefrom)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*fcntl64)(int, int, ...);
	int (*bpf)(int, void *, unsigned int);
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execveat)(int, const char *, char *const[], char *const[], int);
	int (*execvpe)(const char *, char *const[], char *const[]);
	int (*fexecve)(int, char *const[], char *const[]);
	int (*posix_spawn)(pid_t *, const char *, const void *, const void *, char *const[],
			   char *const[]);
	int (*posix_spawnp)(pid_t *, const char *, const void *, const void *, char *const[],
			    char *const[]);
	void (*_exit)(int);
	void (*pthread_exit)(void *);
	int (*dlclose)(void *);
	int (*sigaltstack)(const void *, void *);
	int (*unshare)(int);
	int (*clone)(int (*)(void *), void *, int, void *, ...);
};
extern struct real_fns real;
void real_resolve(void);
/* TSan's runtime calls sigaltstack() while it initializes, before an
 * instrumented function may run: the interposer and what it calls stay
 * uninstrumented in a -fsanitize=thread build (make sanitize-tsan). */
#define NO_TSAN __attribute__((no_sanitize_thread))
NO_TSAN long raw_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6);

/* ---- configuration (config.c): read once from environ at start ---- */
struct shim_config {
	char journal[4096];
	char log[4096];          /* BPFLEAK_LOG: warnings go here instead of fd 2 */
	int depth;
	bool close_stacks;
	bool quiet;
	bool journal_given;      /* BPFLEAK_JOURNAL was set */
	uint64_t fold_age_ns;    /* BPFLEAK_FOLD_AGE: fold pairs older than this; 0 never */
	bool fold_age_bad;       /* ... was not a duration (the default is used) */
};
extern struct shim_config shim_cfg;
void config_load(void);

/* ---- warnings (log.c) ---- */
void log_init(void);
void shim_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- state (lifecycle.c) ---- */
enum shim_state {
	SHIM_OFF = 0,        /* constructor not run yet */
	SHIM_DORMANT = 1,    /* loaded, nothing recorded: no file, no thread */
	SHIM_ACTIVATING = 2, /* one thread is setting up recording */
	SHIM_ACTIVE = 3,
	SHIM_DISABLED = 4,   /* failed open: everything passes through */
	SHIM_DONE = 5,       /* the exit snapshot is written */
};
extern _Atomic int shim_state;

/* Set while the shim itself runs, so its own close()/dup() pass through. */
extern __thread int shim_guard __attribute__((tls_model("initial-exec")));
/*
 * Set while the shim's own machinery (writer, snapshot, journal checks)
 * runs on this thread.  Unlike the guard, a signal handler that interrupts
 * a hook does not see it set by the hook, so the host's closes from signal
 * handlers are still recorded.
 */
extern __thread int shim_internal __attribute__((tls_model("initial-exec")));
/*
 * Set on a thread that is not the process the shim tracks: a vfork child
 * (it shares our memory until exec), or a thread whose FD table was
 * unshared.  Every hook passes straight through.
 */
extern __thread int shim_foreign __attribute__((tls_model("initial-exec")));

static inline int shim_state_now(void)
{
	return atomic_load_explicit(&shim_state, memory_order_acquire);
}

/* Disable recording for good, with one warning. */
void shim_fail(const char *why);

/* ---- process identity (self.c) ---- */
struct self {
	pid_t pid, ppid;
	uint64_t started_ns;         /* constructor, or fork */
	const char *origin;          /* "start", "fork" or "exec" */
	uint64_t fork_ns;            /* fork children: when */
	bool from_fork;              /* a fork child not yet journaled as one */
};
extern struct self self;
extern __thread pid_t shim_cached_tid __attribute__((tls_model("initial-exec")));
static inline pid_t shim_pid(void)
{
	return self.pid;
}
pid_t shim_tid(void);
uint64_t shim_now_ns(void);
void self_init(void);
void self_after_fork_child(void);
/* Fill what the process row needs; strings are malloc'd (free with self_row_free). */
struct jw_process;
void self_row(struct jw_process *p, char **exe, char **cmdline, char *boot_id, size_t cap);
/* Threads of the process now, a zombie main thread included; 0 unknown. */
int self_thread_count(void);

/* The exit snapshot, through the calling thread's view (exitsnap.c). */
struct bpfleak_snapshot;
struct jw_snapshot_info;
void exitsnap_take(struct bpfleak_snapshot *snap, struct jw_snapshot_info *info);

/* ---- arena: bump allocation that is never freed (arena.c) ---- */
void *arena_alloc(size_t size);
const char *arena_strdup(const char *s, size_t max);
void arena_after_fork_child(void);

/* ---- FD table (fdtable.c) ----
 * A slot is one 64-bit word changed only by compare-and-swap:
 *   bits 0..31  kernel object id
 *   bits 32..35 kind
 *   bit  36     cloexec
 *   bit  37     closed marker (the FD was tracked and closed; a second
 *               close that fails with EBADF is a double close)
 *   bit  38     owned: an FD the shim's libraries keep open (ownfds.c)
 *   bit  39     closing: one thread has claimed the close of this FD and
 *               is inside the real close(); any other close of the number
 *               meanwhile is of some other file (or a double close)
 *   bits 40..63 generation (never 0 in a used slot)
 */
#define SLOT_ID(s) ((uint32_t)(s))
#define SLOT_KIND(s) ((int)(((s) >> 32) & 0xf))
#define SLOT_CLOEXEC (1ull << 36)
#define SLOT_CLOSED (1ull << 37)
#define SLOT_OWNED (1ull << 38)
#define SLOT_CLOSING (1ull << 39)
#define SLOT_TRACKED(s) ((s) != 0 && !((s) & (SLOT_CLOSED | SLOT_OWNED | SLOT_CLOSING)))

_Atomic uint64_t *fdtable_peek(int fd);          /* NULL: nothing ever tracked there */
_Atomic uint64_t *fdtable_slot(int fd);          /* allocates the page; NULL on failure */
uint64_t fdtable_make(int kind, uint32_t id, bool cloexec);
uint64_t fdtable_closed_marker(uint64_t tracked);
/* Install a new generation for fd; returns the slot's previous value. */
uint64_t fdtable_install(int fd, int kind, uint32_t id, bool cloexec);
/* Forget fd (a listed FD that turned out not to exist). */
void fdtable_forget(int fd);
size_t fdtable_tracked_count(void);
void fdtable_note_untracked(void);
void fdtable_note_tracked(void);
/* Call fn for every tracked slot in [first, last]; stops when fn returns nonzero. */
void fdtable_each(unsigned int first, unsigned int last,
		  int (*fn)(int fd, uint64_t slot, void *ctx), void *ctx);
void fdtable_reset(void);  /* tests only */

/* ---- FDs the shim's libraries own (ownfds.c) ---- */
enum { OWNER_UNWINDER = 1, OWNER_JOURNAL = 2 };
#define MAX_OWNED_FDS 16
void ownfds_mark(int fd, uint32_t owner);
void ownfds_unmark(int fd);
/* The owned FDs in [first, last], ascending; returns how many. */
int ownfds_in(unsigned int first, unsigned int last, int *out, int cap);
/* A host close of an owned FD: reported done, the FD stays (see ownfds.c). */
int ownfds_host_close(int fd);
/* libunwind's pipe, opened now and kept out of the host's FD numbering. */
void ownfds_start_unwinder(void);
/* The journal's files (sqlite's, the turn lock): high numbers, owned while open. */
void ownfds_setup_sqlite(void);
int ownfds_open_journal(const char *path, int flags, int mode);
/* A journal open is between open() and being marked owned: hosts wait. */
bool ownfds_opening(void);
void ownfds_wait_opening(void);
int ownfds_close_journal(int fd);

/* ---- stacks (stack.c, sigstack.c) ---- */
struct stack_node {
	uint64_t hash;
	_Atomic int64_t db_id;       /* stack.id in the journal, 0 until written */
	uint32_t depth;
	uintptr_t ips[];
};
/* Capture the caller's stack and intern it. NULL when it cannot. */
const struct stack_node *stack_capture(void);
/* Intern an explicit IP array (tests and capture share this). */
const struct stack_node *stack_intern(const uintptr_t *ips, uint32_t depth);
uint64_t stack_hash(const uintptr_t *ips, uint32_t depth);
void stack_forget_db_ids(void);
int64_t stack_db_id(const struct stack_node *n);
void stack_set_db_id(const struct stack_node *n, int64_t id);
void stack_set_self_range(uintptr_t lo, uintptr_t hi);
/* fork: no thread inside the unwinder while it happens. */
void stack_fork_prepare(void);
void stack_fork_done(bool child);
/* Stop unwinding for good (the unwinder's own FDs were taken over). */
void stack_disable(const char *why);
bool stack_disabled(void);
/* Enough stack left below here for `need` bytes (an alternate signal stack
 * is small; a thread's own stack is assumed big enough). */
bool sigstack_room(size_t need);
/* True when running on this thread's alternate signal stack. */
bool sigstack_on_alt(void);
NO_TSAN void sigstack_note(const void *new_ss, int rc);

/* ---- object identity cache (objcache.c) ---- */
struct obj_node {
	uint64_t key;                /* kind << 32 | id */
	_Atomic int written;         /* its `object` row is in the journal */
	uint64_t first_seen_ns;
	struct bpfleak_obj_info info;
};
/* Cached info for (kind, id), or NULL. */
const struct obj_node *objcache_find(int kind, uint32_t id);
/* Remember info; returns the cached node (the existing one if raced). */
const struct obj_node *objcache_add(const struct bpfleak_obj_info *info);
void objcache_forget_written(void);
bool objcache_mark_written(const struct obj_node *n);
bool objcache_is_written(const struct obj_node *n);

/* ---- events and the queue (queue.c) ---- */
struct shim_event {
	uint64_t ts_ns;
	int32_t pid, tid;
	int32_t fd, fd2;
	int32_t result;
	uint32_t obj_id;
	uint8_t op, kind;
	uint16_t flags;
	int16_t cmd;                 /* -1: none */
	const struct stack_node *stack;
	const struct obj_node *obj;
	const char *detail;          /* arena or static string */
};

bool queue_init(size_t capacity);
/* Never blocks: false (and a counted drop) when full. */
bool queue_push(const struct shim_event *ev);
bool queue_pop(struct shim_event *ev);
size_t queue_depth(void);
size_t queue_capacity(void);
/* Position of the next push: everything before it has been pushed. */
uint64_t queue_head(void);
uint64_t queue_tail(void);
/* Events dropped since the last call, and when the first of them was. */
uint64_t queue_take_drops(uint64_t *since_ns);
void queue_add_drops(uint64_t n);
void queue_after_fork_child(void);

/* Fill the common fields of an event. */
void event_init(struct shim_event *ev, int op, uint64_t ts_ns);

/* ---- the seam: what hooks ask of the recorder (record.c) ---- */
/*
 * Make sure recording is on before a hook records: activates a dormant
 * process (its first bpf FD: new_fd, not listed as held) or a fork child
 * (its first bpf operation; new_fd -1).  false: pass through unrecorded.
 */
bool record_begin(int new_fd);
/* Queue an event; the writer picks it up within one period. */
void record_submit(const struct shim_event *ev);
/*
 * Around a recorded system call: a snapshot of the FD table may be under
 * way; record_overlap() says whether it ran during the call (the event
 * then carries BPFLEAK_EF_IN_SNAPSHOT).
 */
uint64_t record_mark(void);
void record_release(void);
bool record_overlap(uint64_t mark);
void record_wait_inflight(long max_ns);
/* The writer's exit snapshot brackets its scan of the FD table with these. */
void record_scan_begin(void);
void record_scan_end(void);
bool record_pins_touched(void);
/* A bpffs pin was made or opened: the exit snapshot walks the pins. */
void record_touched_pins(void);
void record_note(int note, int fd2);
/* bpf() calls not recorded: the signal stack they ran on was too small. */
void record_unrecorded(void);
uint32_t record_take_unrecorded(void);

/* ---- lifecycle (lifecycle.c): called from interpose.c and record.c ---- */
/* Activation was cut short on a signal stack; finished by the next hook. */
extern _Atomic int shim_setup_pending;
void lifecycle_finish_setup(int new_fd);
void lifecycle_fork_child(void);
/* A child is about to start with copies of our FDs: a `child` note. */
void lifecycle_child_coming(void);
void lifecycle_before_exec(const char *path);
void lifecycle_exit_now(int status);     /* _exit / _Exit */
void lifecycle_main_thread_exit(void);   /* pthread_exit from main */
void lifecycle_unshare_files(void);      /* this thread got its own FD table */
/* Activate: list held FDs, start the writer.  Returns recording state. */
bool lifecycle_activate(bool at_exit, int new_fd);

/* A dormant process at exit: does it hold a bpf FD (heldscan.c)? */
bool heldscan_any_bpf_fd(void);

/* ---- modules (modules.c) ---- */
void modules_refresh(void);
uint32_t modules_generation(void);
struct module_info {
	const char *path, *build_id;
	uintptr_t base, size;
	uint64_t ts;                 /* mapped no later than this */
	int64_t file_size, mtime_ns; /* -1: unknown */
	uint64_t unloaded_ns;        /* 0: still mapped */
};
/* Writer side: write module rows not yet written, and unloads not yet noted.
 * fn returns the row id (<0 failure); unload returns 0 or failure. */
int modules_write(int64_t (*fn)(const struct module_info *m, void *ctx),
		  int (*unload)(int64_t row, uint64_t ts, void *ctx), void *ctx);
void modules_fork_prepare(void);
void modules_fork_parent(void);
void modules_after_fork_child(void);
void modules_mark_unwritten(void);   /* a rolled-back batch, a new file */
/* dlclose: note what is mapped before, and what went away after. */
void modules_before_dlclose(void);
void modules_after_dlclose(void);

/* ---- writer (writer.c; requests from other threads: writer_requests.c) ---- */
/* Create (or check) the journal; false: failed open, recording is off. */
bool writer_prepare_journal(void);
/* Start the writer thread if this process has none. */
void writer_start(void);
bool writer_running(void);
/* The writer got somewhere: exit paths keep waiting for it. */
void writer_progress(void);
void writer_kick(void);
/*
 * Ask the writer to write everything queued so far (and, with exit, the
 * exit snapshot), and wait at most timeout_ns.  Only futexes: safe from a
 * signal handler, a vfork-free child, or exit.  false: timed out or no
 * writer.
 */
bool writer_flush(long timeout_ns);
bool writer_exit(long timeout_ns, bool underscore_exit);
void writer_set_exit_status(int status);
/* main() called pthread_exit: the writer checks whether it is the last thread. */
void writer_main_exited(void);
/* The writer thread itself, in a destructor after it ended the process. */
bool writer_is_self(void);
pid_t writer_tid(void);
/* Run the exit work on this thread (no writer thread, or it is us). */
void writer_exit_inline(bool underscore_exit);
void writer_fork_prepare(void);
void writer_fork_parent(void);
void writer_fork_child(void);
/* The journal file changed (tests): rows must be written again. */
void writer_forget_written(void);
/* Write everything queued, from the calling thread (tests). */
void writer_drain_now(void);

/* ---- journal (journal.c): the shim's only sqlite user ---- */
struct bpfleak_snapshot;
struct jw_snapshot_info;
/* Open (creating if needed) at the configured path; false with a reason. */
bool journal_open(char *why, size_t cap);
void journal_close(void);
bool journal_is_open(void);
/* The file at the path is not the one written so far (moved, deleted). */
bool journal_replaced(void);
void journal_forget_file(void);
/* The journal is another process's for now (or a fork is waiting): try later. */
#define JOURNAL_BUSY (-2)
int journal_begin(void);
/* A fork waits for the writer: stop waiting for other processes' locks. */
void journal_yield(bool on);
bool journal_yield_requested(void);
/*
 * The tree's turn at the journal: processes sharing it take turns, a batch
 * each, woken by the kernel (sqlite's own waits poll, and are not fair).
 * Taken before the writer's mutex, so a fork never waits for it.
 */
void journal_turn_take(void);
void journal_turn_give(void);
bool journal_turn_waiting(void);
/* Another process waits for the journal: give it the next turn. */
bool journal_turn_contended(void);
void journal_give_up_fd(int fd);
void journal_turn_after_fork_child(void);
int journal_commit(void);
void journal_rollback(void);
int journal_errcode(void);
const char *journal_errstr(int code);
/* Rows; every function returns 0 or an sqlite error code. */
int journal_process_row(int64_t *row, const char *origin);
int journal_event(const struct shim_event *ev, const char *detail, uint64_t end_ns);
int journal_modules(void);
int journal_snapshot(const struct bpfleak_snapshot *s, const struct jw_snapshot_info *info);
int journal_process_exited(int64_t row, uint64_t ts, bool have_status, int status);
int journal_process_flushed(int64_t row, uint64_t ts);
/* The last recorder to finish leaves the file standing alone. */
void journal_finish(void);
/* Fold what the WAL holds into the file, without waiting for anyone. */
void journal_checkpoint(void);
/*
 * One folding pass (common/journal_fold.c) in its own transaction: true
 * when it stopped with more to read.  *err: the sqlite error that undid it.
 */
bool journal_fold(uint64_t now, uint64_t age_ns, int *err);
/* The sqlite error is about the file (full, unwritable, gone, locked). */
bool journal_err_is_io(int code);

/* ---- hooks (hooks_bpf.c, hooks_fd.c, hooks_process.c) ---- */
long hook_bpf(int cmd, void *attr, unsigned int size, bool via_bpf_symbol);
int hook_close(int fd);
int hook_close_range(unsigned int first, unsigned int last, int flags);
void hook_closefrom(int lowfd);
int hook_dup(int oldfd);
int hook_dup3(int oldfd, int newfd, int flags, bool is_dup2);
int hook_fcntl_dup(int fd, int cmd, long arg, int (*real_fcntl)(int, int, ...));
void hooks_init(void);
/* The bpf FDs the process holds now, as `inherited` events (activation). */
void hooks_list_held(const char *origin, int skip_fd);
/* A fork child's first event: its inherited FDs, checked against the kernel. */
void hooks_list_fork_child(int skip_fd);

#endif
