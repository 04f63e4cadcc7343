/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Internal interfaces of the kernel recorder's user space: one recording
 * session (the loaded BPF side, the journal, the traced processes), and the
 * files that each do one part of turning ring buffer records into journal
 * rows the same way the preload shim does.
 */
#ifndef BPFLEAK_RECORDER_SESSION_H
#define BPFLEAK_RECORDER_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>
#include <bpfleak/objinfo.h>
#include <bpfleak/snapshot.h>
#include "journal_writer.h"
#include "recorder.h"          /* bpf/recorder.h: record layout */
#include "kernel_recorder.h"   /* options */
#include "kernel.h"
#include "procmaps.h"

/* ---- the FD model of one process (fdmodel.c) ---- */
enum { FD_EMPTY = 0, FD_OPEN, FD_CLOSED };
struct fdslot {
	uint8_t state, kind, cloexec, listed;   /* listed: seen by the latest walk */
	uint32_t id;
};
struct fdmodel {
	struct fdslot *slots;
	size_t cap;
};
struct fdslot *fdmodel_get(struct fdmodel *m, int fd);   /* NULL: out of range / memory */
const struct fdslot *fdmodel_peek(const struct fdmodel *m, int fd);
void fdmodel_set_open(struct fdmodel *m, int fd, int kind, uint32_t id, bool cloexec);
void fdmodel_set_closed(struct fdmodel *m, int fd);
void fdmodel_clear(struct fdmodel *m, int fd);
void fdmodel_free(struct fdmodel *m);

/* ---- one traced process image (procs.c) ---- */
struct range_item {
	pid_t tid;
	int fd, kind;
	uint32_t id;
};

struct kproc {
	pid_t pid, ppid, ns_pid;
	int64_t row;                 /* process row of the current image; 0 until written */
	const char *origin;          /* start | fork | exec | attach */
	char *exe, *cmdline;
	uint64_t start_ticks, started_ns;
	bool exited;                 /* REC_EXIT seen (or the process is gone) */
	bool awaiting_start;         /* `run`: traced from fork, its first image not seen yet */
	bool finished;               /* exit snapshot written (or given up) */
	int stack_mode;              /* enum rec_stack_mode */
	struct stack_need {          /* how much user stack its creates need (stackcopy.c) */
		uint32_t bytes;      /* copied now; 0: the default (REC_STACK_BYTES) */
		uint32_t seen, max_used;
		bool full;           /* a walk needed more than was copied: always copy all */
	} need;
	uint64_t attach_scan_ns;     /* attach: a close before this of an FD never seen was held */
	int root_fd;                 /* O_PATH of its root (its mount namespace), -1 none */
	int mntns_fd;                /* its mount namespace, kept alive with its mounts */
	char *mountinfo;             /* its mount table when last read: where its bpffs are */
	size_t mountinfo_len;
	struct fdmodel fds;
	struct procmap_module *mods; /* modules read from its maps (this image) */
	size_t n_mods;
	uint64_t maps_read_ns;
	bool maps_at_exec;           /* read at exec: before ld.so mapped the libraries */
	uint64_t maps_backoff_ns;    /* least time between two reads of its maps */
	bool own_modules;            /* module rows written for this pid */
	struct range_item *ranges;   /* close_range in flight: the FDs it takes */
	size_t n_ranges, cap_ranges;
	struct bpfleak_snap_fd *exit_fds;   /* the exit walk, until REC_EXIT */
	size_t n_exit_fds, cap_exit_fds;
	uint32_t exit_lost;
};

/* ---- the session (session.c) ---- */
struct session {
	struct recorder_opts opts;
	struct kernel *k;
	struct jw j;
	bool journal_open, in_batch, failed;
	char journal_path[4096];
	struct kproc **procs;
	size_t n_procs, cap_procs;
	pid_t self;
	char boot_id[64];
	/* interned stacks: hash -> journal id */
	struct stack_entry { uint64_t hash; int64_t id; } *stacks;
	size_t stack_cap, n_stacks;
	/* objects whose row is written, by (kind << 32 | id) */
	struct obj_entry { uint64_t key; struct bpfleak_obj_info info; } *objects;
	size_t obj_cap, n_objects;
	uint64_t events, drops_attributed, drops_written;
	uint64_t lost_charged, lost_gap;   /* losses no process accounted for */
	uint64_t unwound, unwind_failed;   /* stack copies the DWARF unwinder did / did not walk */
	struct finalizer_cache *fin;       /* where runtime.runfinq is, per module (finalizer.c) */
	uint64_t finalized;                /* closes made by GC finalizers */
	uint64_t fold_last, folded;        /* the last folding pass; pairs folded */
	bool fold_more, fold_warned;
};

uint64_t now_ns(void);

int session_open(struct session *s, const struct recorder_opts *o, char *err, size_t errcap);
int session_open_journal(struct session *s, const char *path, char *err, size_t errcap);
void session_close(struct session *s);
/* Read what the kernel produced for up to timeout_ms, write it; <0 on a fatal error. */
int session_step(struct session *s, int timeout_ms);
/* Write what is pending and end the batch. */
void session_commit(struct session *s);
/* A journal write failed: one line on stderr (once); recording goes on in memory. */
void session_write_failed(struct session *s, const char *what);
/* Begin a batch if none is open; false when the journal is unusable. */
bool session_batch(struct session *s);
/* Live snapshots for every traced process still running, then stop tracing them. */
void session_stop_all(struct session *s);
void session_finish(struct session *s);
int session_ring_record(void *ctx, const void *rec, size_t size);

/* ---- processes (procs.c) ---- */
struct kproc *procs_find(struct session *s, pid_t pid);
struct kproc *procs_add(struct session *s, pid_t pid);
/* A process met in a record the recorder has no state for (its fork was lost). */
struct kproc *procs_adopt(struct session *s, pid_t pid, uint64_t ts);
/* Read exe, cmdline, start time, ns pid of pid's current image into p. */
void procs_read_identity(struct kproc *p);
/* Keep pid's root and mount table, to find its pins after it exited. */
void procs_read_mounts(struct kproc *p);
/* Let go of them (the process exited). */
void procs_drop_mounts(struct kproc *p);
/* A fork child that could not be read has its parent's. */
void procs_inherit_mounts(struct kproc *child, const struct kproc *parent);
/* Write p's process row (origin p->origin, started at ts). */
int procs_write_row(struct session *s, struct kproc *p, uint64_t ts);
/* Read pid's modules and write rows for new ones (ts: no later than this). */
void procs_refresh_modules(struct session *s, struct kproc *p, uint64_t ts, bool at_exec);
/* Hand modules (with copies of their open files) to the DWARF unwinder for pid. */
void procs_give_unwinder(pid_t pid, const struct procmap_module *mods, size_t n);
/* One module row for pid. */
int procs_write_module(struct session *s, pid_t pid, const struct procmap_module *m, uint64_t ts);
/* After exec of a process gone before its maps were read: rows for the
 * program and ld.so from the auxiliary vector the kernel recorded (exec_modules.c). */
void exec_modules_from_auxv(struct session *s, struct kproc *p, const struct rec_exec *r);
/* p->exe from the exec record when /proc/PID/exe was unreadable. */
void exec_resolve_exe(struct session *s, struct kproc *p, const struct rec_exec *r);
/* A fork child has its parent's mappings: rows for its own pid, as the shim writes them. */
void procs_inherit_modules(struct session *s, struct kproc *child, const struct kproc *parent,
			   uint64_t ts);
/* Whether ip is in a module known for p (or its parent's, for a fork child). */
bool procs_ip_known(struct session *s, const struct kproc *p, uint64_t ip);
/* That module, or NULL. */
const struct procmap_module *procs_module_at(struct session *s, const struct kproc *p,
					    uint64_t ip);
/* Reading maps again is worth it: the process still runs and was not read just now. */
bool procs_maps_stale(const struct kproc *p);
void procs_free(struct kproc *p);
/* Stack policy for the image at path: frame pointers suffice for Go. */
int procs_stack_mode_for(const struct session *s, pid_t pid);
void procs_set_exited(struct session *s, struct kproc *p, uint64_t ts, bool have_status, int status);

/* ---- stacks (stacks.c) ---- */
/* The return addresses of an event's stack, innermost first. */
struct stack_ips {
	uint64_t ips[REC_MAX_IPS];
	uint32_t n;
};
/* The journal stack id for an event record, 0 when it has none; *no_stack set if it should have.
 * out (optional) gets the addresses. */
int64_t stacks_for_event(struct session *s, struct kproc *p, const void *rec, size_t size,
			 bool *no_stack, struct stack_ips *out);

/* ---- how much user stack to copy (stackcopy.c) ---- */
/* What an unwind of a copy of copied bytes of p's stack found: why it
 * stopped, and how many bytes it read. */
void stackcopy_learn(struct session *s, struct kproc *p, int why, size_t used, size_t copied);

/* ---- finalizers (finalizer.c) ---- */
/* Whether a stack of p ran in the Go runtime's finalizer goroutine (runtime.runfinq). */
bool finalizer_on_stack(struct session *s, const struct kproc *p, const struct stack_ips *st);
/* Forget the symbol cache (session_close). */
void finalizer_cache_free(struct session *s);

/* ---- objects (objects.c) ---- */
/* Make sure the object row for o exists; fd of pid may be used to learn it. */
void objects_note(struct session *s, const struct rec_obj *o, pid_t pid, int fd, uint64_t ts);
void objects_note_info(struct session *s, const struct bpfleak_obj_info *info, uint64_t ts);
/* What is known of (kind, id), or NULL. */
const struct bpfleak_obj_info *objects_find(const struct session *s, int kind, uint32_t id);

/* ---- records (records.c) ---- */
int records_handle(struct session *s, const void *rec, size_t size);
/* The state of pid, written as a process row first if it has none. */
struct kproc *records_proc(struct session *s, pid_t pid, uint64_t ts);
/* Write one journal event (fills pid/tid/ts from the arguments). */
void emit(struct session *s, const struct jw_event *e);

/* ---- snapshots (snapshots.c) ---- */
void snapshots_exit(struct session *s, struct kproc *p, uint64_t ts);
void snapshots_live(struct session *s, struct kproc *p);
/* Inherited "attach" events for the bpf FDs pid holds now. */
void snapshots_attach_scan(struct session *s, struct kproc *p);

#endif
