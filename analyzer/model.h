/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * bpfleak-report's model: the journal loaded into memory, one replay per
 * process, the findings.  Every stage (analyzer.h) fills part of it and
 * reads what earlier stages filled; model.c looks things up in it, keeps
 * its warnings and blind spots, names its codes and frees it.
 */
#ifndef BPFLEAK_ANALYZER_MODEL_H
#define BPFLEAK_ANALYZER_MODEL_H

#include <stdint.h>
#include <stdio.h>
#include <sqlite3.h>
#include <bpfleak/journal.h>
#include <bpfleak/snapshot.h>
#include "hmap.h"
#include "util.h"

#define NS_OPEN INT64_MAX
/* FD numbers beyond this are treated as corrupt (Linux's nr_open is 2^20 by default). */
#define MAX_FD (1 << 24)
#define BPFLEAK_JSON_VERSION 1

enum fmt { FMT_TEXT, FMT_JSON, FMT_FOLDED, FMT_MARKDOWN, FMT_HTML };

/* The finding classes; classify.c holds their names and classifiers, and runs them in this order. */
enum cls {
	CLS_DUPLICATE,
	CLS_GROWTH,
	CLS_STALE,
	CLS_DOUBLE_CLOSE,
	CLS_UNPINNED,
	CLS_OUTSTANDING,
	CLS_UNKNOWN_ORIGIN,
	CLS_FINALIZED,
	CLS_MAX,
};

/* What the command line asked for (cli.c). */
struct opts {
	const char *journal;
	int format;
	long top;                /* 0 = all */
	unsigned class_mask;     /* 1 << cls */
	int pid;                 /* 0 = every process */
	const char *suppressions;
	int quiet;
	int expect_pinned;
	int64_t min_age_ns;      /* -1 = not given */
	int symbolize;
	int growth_min;          /* FDs a site must hold to be "growth" */
	int64_t flush_wait_ns;   /* --pid: how long to wait for the target's flush */
};

/* One journal event, as replayed.  Kept small: a journal may hold millions. */
struct ev {
	int64_t ts;
	int64_t seq;
	int64_t stack_id;        /* 0 = none */
	int32_t fd, fd2, cmd, result;
	uint32_t obj_id;
	uint16_t flags;
	uint8_t op, kind;
	char *detail;            /* only pin/inherited/exec carry one */
};

/* Where an FD came from. */
enum origin {
	OR_CREATE,
	OR_DUP,
	OR_INHERIT_START,        /* open when the first traced image started */
	OR_INHERIT_EXEC,         /* listed after an exec, unknown before it */
	OR_INHERIT_FORK,         /* copy of the parent's FD */
	OR_SNAPSHOT,             /* only the snapshot knows it */
	OR_CLOSE_EVENT,          /* pseudo record for a double close */
	OR_INHERIT_RESTART,      /* listed when the journal file was restarted */
	OR_INHERIT_ATTACH,       /* held when `bpfleak attach` began tracing */
};

enum close_how {
	H_OPEN,
	H_CLOSE,
	H_IMPLICIT,              /* dup2/dup3 over it */
	H_RANGE,                 /* close_range / closefrom */
	H_EXEC,                  /* O_CLOEXEC at exec */
	H_VANISHED,              /* closed behind the journal's back */
	H_EXIT,                  /* the pid was reused: the earlier process exited */
};

enum stale_why {
	STALE_NONE,
	STALE_REUSED,            /* a create/dup landed on an FD we thought open */
	STALE_EBADF,             /* a close said EBADF while we thought it open */
	STALE_SNAP_CLOSED,       /* open in the journal, absent from the snapshot */
	STALE_SNAP_OTHER,        /* the snapshot shows another object there */
};

/* The life of one FD number holding one object, from birth to close. */
struct fdrec {
	/* Fields in size order: millions of these are held at once. */
	int64_t stack_id;        /* creation (or dup) call site; 0 = none */
	int64_t stack_ts;
	int64_t created_ns;      /* -1 = unknown (snapshot only) */
	int64_t closed_ns;       /* NS_OPEN while open */
	int64_t close_stack;
	int64_t stale_ns;
	int64_t last_rec;        /* OR_CLOSE_EVENT: index of the FD it closed, or -1 */
	int64_t prev_at_fd;      /* the record that held this FD number before, or -1 */
	const struct bpfleak_snap_fd *sfd;
	int fd;
	int kind;
	uint32_t obj_id;
	enum origin origin;
	int cmd;
	int stack_pid;           /* whose modules symbolize it (fork: the parent) */
	enum close_how how;
	int cloexec;
	int src_fd;              /* dup: the source FD; fork: the parent's FD */
	int parent_pid;          /* fork: the parent */
	int exec_pending;
	enum stale_why stale;
	uint32_t other_id;       /* STALE_SNAP_OTHER: what the snapshot holds */
	int other_kind;
	int after_drop;          /* events had been lost when this went wrong */
	int no_stack_alt;        /* made on an alternate signal stack: no stack */
	int in_flight;           /* disagrees with a live snapshot the journal may lag */
	int same_as_fd;          /* duplicate: the older FD on the object, or -1 */
};

/* The kernel's view of a process: stored at its exit, or read live (--pid). */
struct snap {
	int64_t id;
	int64_t ts;              /* the scan of the FD table began */
	int64_t end_ns;          /* and ended (-1 unknown) */
	int pins_walked;         /* 0: bpffs not walked; 1 walked; -1 unknown (old journal) */
	const char *source;      /* "exit" | "live" */
	char *reason;
	/* FDs and pins as common/snapshot.c reads them; fds[i].fdinfo NULL: no fdinfo */
	struct bpfleak_snapshot found;
};

/* Pins by object: (kind << 32 | id) -> index into paths lists (pinset.c). */
struct pinset {
	struct hmap idx;
	char ***paths;           /* NULL-terminated lists */
	size_t n, cap;
};

struct warning {
	char *text;
	long count;
};

/* One image of a process: a process row (start, fork, exec, attach). */
struct pimage {
	int64_t started_ns;      /* -1 unknown */
	char origin[8];
};

/* Events lost: DROP. */
struct drop {
	int64_t start_ns, end_ns;  /* end_ns -1: unknown (older journal) */
	uint64_t lost;
	char *why;
};

/* A NOTE event: something the recorder knows it could not see. */
struct note {
	int kind;                /* enum bpfleak_note */
	int64_t ts;
	int fd2;                 /* unshare, private_main: the thread */
};

/*
 * Something the report could not see, as one sentence.  `spoils`: it spoils
 * the result: with no leak found the exit status is 3, not 0.
 */
struct blind {
	const char *kind;        /* machine-readable: drop, go, no_exit, ... */
	char *text;
	int pid;                 /* 0: the whole journal */
	int spoils;
};

/*
 * A lifetime_fold row: `count` FDs made at one site in one interval whose
 * create and close the recorder folded into this count (common/journal_fold.c).
 */
struct fold {
	int64_t stack_id;        /* 0 = none */
	int64_t interval_ns, count, min_life_ns, max_life_ns, first_ns, last_ns;
	int cmd, kind;
};

enum replay_state { REPLAY_NOT_YET, REPLAY_RUNNING, REPLAY_DONE };

struct proc {
	int pid;
	int ppid;
	char *exe;
	char *cmdline;
	int exited;              /* the last image exited (process row) */
	int64_t exited_ns;       /* latest exited_ns of any image, -1 none */
	int64_t flushed_ns;      /* latest flushed_ns of any image, -1 none */
	int64_t realtime_base;   /* CLOCK_REALTIME - CLOCK_MONOTONIC, 0 unknown */
	struct pimage *images;
	size_t n_images, cap_images;
	struct drop *drops;
	size_t n_drops, cap_drops;
	struct note *notes;
	size_t n_notes, cap_notes;
	unsigned note_mask;      /* 1 << enum bpfleak_note */
	int in_journal;          /* any event or process row */
	struct ev *evs;
	size_t n_ev, cap_ev;
	int64_t first_ns, last_ns;
	struct fold *folds;      /* its lifetime_fold rows */
	size_t n_folds, cap_folds;
	int64_t folded;          /* create/close pairs in them */
	uint64_t dropped;
	int64_t first_drop_ns;   /* 0 = no drop */
	long failed_creates;
	/* replay */
	enum replay_state replay_state;
	struct fdrec *recs;
	size_t n_recs, cap_recs;
	int32_t *open;           /* fd -> rec index + 1 */
	size_t open_cap;
	int32_t *last;           /* fd -> last rec index + 1 ever there */
	size_t last_cap;
	int64_t fork_ts;
	int64_t exec_ts;
	int exec_pending;
	int exec_listed;         /* the new image listed FDs since the pending exec */
	int exec_confirmed;      /* the new image wrote the exec too: it happened */
	int exec_before;         /* the pending exec was written before the call */
	char *exec_path;         /* the last exec's path (detail) */
	int exec_untraced;       /* the last image was exec'd and recorded nothing */
	char *exec_note;         /* snap_note's text when it is "exec'd PATH (not traced)" */
	int live_unconfirmed;    /* live snapshot: the journal's flush not confirmed */
	size_t n_uncertain;      /* FD numbers not judged against the snapshot */
	size_t n_downgraded;     /* stale/double close explained by io_uring */
	/* snapshot */
	struct snap *snap;       /* NULL = journal only */
	const char *snap_note;   /* why there is none, or where it came from */
	int64_t end_ns;          /* reference time for ages */
	size_t *final;           /* rec indices open at the end */
	size_t n_final;
	struct pinset *pins;     /* what reaches objects: snapshot or journal */
	int pins_from_journal;
	struct warning *warns;
	size_t n_warns, cap_warns;
	struct blind *blinds;
	size_t n_blinds, cap_blinds;
};

struct object_info {
	int kind;
	uint32_t id;
	int has_row;
	int type;
	char *name;
	uint32_t key_size, value_size, max_entries, flags;
	char *tag;
	uint32_t prog_id;
};

struct module {
	int64_t id;
	int pid;
	int64_t ts;
	char *path;
	char *build_id;
	uint64_t base, size;
	int64_t file_size, mtime_ns;   /* the file when recorded; -1 unknown */
	int64_t unloaded_ns;     /* dlclose'd at; NS_OPEN while mapped */
};

struct frame {
	char *function;
	char *file;
	int line;
	int inlined;             /* inlined into the next frame */
	const char *module;      /* path, owned by the module row */
	uint64_t ip;
	uint64_t offset;
	int resolved;            /* 0: only module+offset (or a raw ip) */
	int gap;                 /* not a frame: frames were cut here */
	uint64_t gap_frames;     /* how many (0: unknown) */
};

struct rstack {
	struct frame *f;
	size_t n;
	int truncated;           /* the recorder cut frames (a gap frame is in f) */
	uint64_t cut;            /* frames not recorded, 0 unknown */
};

struct finding {
	int cls;
	int leak;
	struct proc *p;
	int64_t stack_id;
	int stack_pid;
	int64_t stack_ts;
	enum origin origin;      /* for stack-less groups */
	int no_stack_alt;        /* stack-less because made on an alternate signal stack */
	int flag;                /* class-specific grouping (stale after a drop) */
	size_t *recs;            /* rec indices in p */
	size_t n, cap;
	int64_t oldest_age, newest_age;
	double rate_per_s;
	int64_t first_ns, last_ns;
	char *detail;
	struct rstack rs;
};

/* finding.flag: what explains a stale finding (then information, not a leak) */
#define STALE_FLAG_DROP 1        /* events had been dropped before it */
#define STALE_FLAG_IO_URING 2    /* the process has an io_uring */
#define STALE_FLAG_IN_FLIGHT 3   /* a live snapshot the journal may lag */
/* double_close: flag bit 1 = stack is the FD's creation; this bit: io_uring */
#define DC_FLAG_IO_URING 2

struct model {
	/* the journal (journal_open.c opens and closes it) */
	const char *path;
	sqlite3 *db;
	int writable;
	int schema_version;
	int wal_unread;              /* opened immutable: a -wal beside it was not read */
	sqlite3_stmt *st_stack, *st_frame;
	/* what it holds (journal_load.c) */
	char *boot_id;
	long n_events;
	int64_t first_ns, last_ns;   /* of events and folded creates */
	int64_t folded_pairs;        /* create/close pairs folded (lifetime_fold) */
	int64_t fold_age_ns;         /* meta fold_age_ns, -1 unknown */
	uint64_t dropped;
	struct proc **procs;
	size_t n_procs, cap_procs;
	struct hmap pid_idx;
	struct hmap objects;         /* kind << 32 | id -> index + 1 */
	struct object_info *objs;
	size_t n_objs, cap_objs;
	struct module *mods;         /* sorted by pid, ts */
	size_t n_mods, cap_mods;
	struct hmap mod_idx;         /* pid -> first index + 1 */
	struct hmap stacks;          /* stack id -> uint64_t* (depth first), read on demand */
	struct pinset journal_pins;  /* from pin events (replay) */
	/* what the analysis found */
	struct finding *findings;
	size_t n_findings, cap_findings;
	long n_suppressed;
	struct warning *warns;       /* journal-wide */
	size_t n_warns, cap_warns;
	struct blind *blinds;        /* journal-wide */
	size_t n_blinds, cap_blinds;
};

/* model.c: lookups */
struct proc *model_proc(struct model *m, int pid, int create);
const struct object_info *model_object(const struct model *m, int kind, uint32_t id);
/* A new object row (kind, id set, the rest zero), found by model_object from now on. */
struct object_info *model_add_object(struct model *m, int kind, uint32_t id);
int rec_open_at(const struct fdrec *r, int64_t t);
/* The process is in the report (--pid shows one). */
int proc_shown(const struct proc *p, const struct opts *o);
size_t open_fds(const struct proc *p);

/* model.c: warnings (the same text again is counted) and blind spots */
void proc_warn(struct proc *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void model_warn(struct model *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The process's last sign of life (event, exit, snapshot or flush): its span ends there. */
int64_t proc_span_end(const struct proc *p);
void blind_add(struct blind **b, size_t *n, size_t *cap, const char *kind, int pid, int spoils,
	       const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* model.c: names of the model's codes, as the reports print them */
const char *origin_name(enum origin origin);
const char *stale_name(enum stale_why why);   /* NULL for STALE_NONE */

/* model.c: teardown */
void snap_free(struct snap *s);               /* and s itself */
void rstack_free(struct rstack *rs);
void finding_free(struct finding *f);         /* what f holds */
/* Everything the stages put in m; the journal is closed by journal_close. */
void model_free(struct model *m);

/* pinset.c */
void pinset_add(struct pinset *ps, int kind, uint32_t id, const char *path);
char *const *pinset_get(const struct pinset *ps, int kind, uint32_t id);
void pinset_free(struct pinset *ps);

#endif
