/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Internal interfaces of libbpfleak.so.  Everything here has hidden
 * visibility (the whole library is built with -fvisibility=hidden); only the
 * interposed libc symbols in interpose.c are exported.
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

/* ---- real libc functions (real.c) ---- */
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
	int (*execv)(const char *, char *const[]);
	int (*execvp)(const char *, char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
	int (*fexecve)(int, char *const[], char *const[]);
	void (*_exit)(int);
};
extern struct real_fns real;
void real_resolve(void);

/* ---- state and configuration (lifecycle.c) ---- */
enum shim_state { SHIM_UNINIT = 0, SHIM_ACTIVE = 1, SHIM_DISABLED = 2, SHIM_DONE = 3 };
extern _Atomic int shim_state;

struct shim_config {
	char journal[4096];
	int depth;
	bool close_stacks;
	bool quiet;
};
extern struct shim_config shim_cfg;

/* Set while the shim itself runs, so its own close()/dup() pass through. */
extern __thread int shim_guard __attribute__((tls_model("initial-exec")));
/*
 * Set while the shim's own machinery (writer, snapshot, journal checks)
 * runs on this thread.  Unlike the guard, a signal handler that interrupts
 * a hook does not see it set by the hook, so the host's closes from signal
 * handlers are still recorded.
 */
extern __thread int shim_internal __attribute__((tls_model("initial-exec")));

static inline bool shim_recording(void)
{
	return atomic_load_explicit(&shim_state, memory_order_relaxed) == SHIM_ACTIVE &&
	       !shim_guard;
}

/* Reset by the fork child handler. */
extern pid_t shim_cached_pid;
extern __thread pid_t shim_cached_tid __attribute__((tls_model("initial-exec")));
pid_t shim_pid(void);
pid_t shim_tid(void);
uint64_t shim_now_ns(void);
void shim_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Disable recording for good, with one line on stderr. */
void shim_fail(const char *why);

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
 *   bit  38     owned: an FD the shim's libraries keep open for good
 *               (libunwind's memory-validation pipe); the host may not
 *               close it from under them
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
/* Install a new generation for fd after the kernel returned it. */
bool fdtable_install(int fd, int kind, uint32_t id, bool cloexec);
size_t fdtable_tracked_count(void);
void fdtable_note_untracked(void);
void fdtable_note_tracked(void);
/* Call fn for every tracked slot in [first, last]; stops when fn returns nonzero. */
void fdtable_each(unsigned int first, unsigned int last,
		  int (*fn)(int fd, uint64_t slot, void *ctx), void *ctx);
void fdtable_reset(void);  /* tests only */
/* FDs the shim's libraries hold: libunwind's pipe, sqlite's journal files. */
enum { OWNER_UNWINDER = 1, OWNER_JOURNAL = 2 };
void fdtable_mark_owned(int fd, uint32_t owner);
void fdtable_unmark_owned(int fd);
/* The owned FDs in [first, last], ascending; returns how many. */
int fdtable_owned_in(unsigned int first, unsigned int last, int *out, int cap);
#define MAX_OWNED_FDS 16

/* ---- stacks (stack.c) ---- */
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
void stack_set_self_range(uintptr_t lo, uintptr_t hi);
/* Stop unwinding for good (the unwinder's own FDs were taken over). */
void stack_disable(const char *why);

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
uint64_t queue_take_drops(void);
void queue_add_drops(uint64_t n);
void queue_after_fork_child(void);

/* Fill the common fields of an event. */
void event_init(struct shim_event *ev, int op, uint64_t ts_ns);
/* Push, and make sure someone will write it. */
void event_submit(const struct shim_event *ev);

/* ---- modules (modules.c) ---- */
void modules_refresh(void);
struct module_info {
	const char *path, *build_id;
	uintptr_t base, size;
	uint64_t ts;
	int64_t file_size, mtime_ns;   /* -1: unknown */
};
/* Writer side: call fn for modules not yet written for this pid. */
void modules_each_unwritten(void (*fn)(const struct module_info *m, void *ctx), void *ctx);
void modules_after_fork_child(void);
void modules_mark_unwritten(void);   /* a rolled-back batch */

/* ---- writer and journal (writer.c, journal_fds.c) ---- */
void journal_fds_setup(void);
bool journal_check_path(const char *path);
void writer_start_if_needed(void);
void writer_kick(void);
/* Write everything queued now, from the calling thread. */
void journal_drain_now(void);
/* The journal file changed (tests): rows must be written again. */
void journal_forget_written(void);
/* Exit: stop the writer, drain, write the exit snapshot. */
void journal_finish(void);
/* Held while the shim has journal FDs open; mass closes wait for it. */
void writer_lock(void);
void writer_unlock(void);
void writer_fork_prepare(void);
void writer_fork_parent(void);
void writer_fork_child(void);

/* ---- hooks (hooks_bpf.c, hooks_fd.c) ---- */
long hook_bpf(int cmd, void *attr, unsigned int size, bool via_bpf_symbol);
int hook_close(int fd);
int hook_close_range(unsigned int first, unsigned int last, int flags);
void hook_closefrom(int lowfd);
int hook_dup(int oldfd);
int hook_dup3(int oldfd, int newfd, int flags, bool is_dup2);
int hook_fcntl_dup(int fd, int cmd, long arg, int (*real_fcntl)(int, int, ...));
/* Record the bpf FDs the process already holds (start, exec). */
void hooks_record_inherited(const char *origin);
/* In a fork child: list the tracked FDs it inherited. */
void hooks_record_fork_child(pid_t parent);
void hooks_before_exec(void);

#endif
