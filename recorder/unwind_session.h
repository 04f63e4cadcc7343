// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Inside the unwinder (unwind.h is its interface): one unwind's capture,
 * the per-pid sessions that hold a Dwfl and the modules reported into it
 * (unwind_session.c), and the unwinder that keeps them (unwind.c).
 */
#ifndef BPFLEAK_UNWIND_SESSION_H
#define BPFLEAK_UNWIND_SESSION_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "unwind.h"
#include "unwind_fast.h"

#define X86_64_DWARF_RBP 6
#define X86_64_DWARF_RSP 7
#define X86_64_DWARF_RIP 16
#define X86_64_DWARF_NREGS 17

/* A read this far above the copy is still "the stack": the copy was too
 * short, not the walk wrong.  8 MiB is the default main-thread stack. */
#define STACK_WINDOW (8ull << 20)

/* One unwind in progress: what the callbacks answer from. */
struct capture {
	const struct unwind_regs *regs;
	const unsigned char *stack;
	size_t len;
	bool wanted_beyond;          /* asked for stack past the copy */
	bool read_failed;            /* any word we could not give */
	size_t used;                 /* bytes of the copy up to the highest word read */
	uint64_t *ips;
	int max, n;
	uint64_t last_pc, last_sp;
	bool last_sp_known;          /* last_sp is the previous frame's */
	enum unwind_stop why;
	bool stopped;                /* the frame callback decided why */
};

struct known_module {
	uint64_t inode, base, start, end;
};

/* Everything about one pid. */
struct session {
	pid_t pid;
	Dwfl *dwfl;                  /* NULL until a module is known */
	bool attached;               /* dwfl_attach_state done */
	struct known_module *mods;
	size_t n_mods, cap_mods;
	uint64_t loaded_ns;          /* last read of /proc/PID/maps; 0 never */
	uint64_t used;               /* LRU clock */
	struct capture *cur;
	struct cfi_cache *cfi;       /* the fast path's rules (unwind_fast.c); NULL until used */
};

/* Sessions are allocated one by one: libdwfl keeps a pointer to each (the
 * dwfl_arg of its callbacks), so they never move. */
struct unwinder {
	struct session **s;
	size_t n;
	uint64_t clock;
	struct unwind_stats st;
	int verify;                  /* check the fast path: 1 on, 0 off, -1 BPFLEAK_UNWIND_VERIFY */
};

uint64_t unwind_now_ns(void);

/* The session of pid, made (empty) if there is none; the least recently
 * used one gives way when the table is full.  NULL on out of memory. */
struct session *session_get(struct unwinder *u, pid_t pid);
/* Remove u->s[i], filling its slot with the last one. */
void session_remove(struct unwinder *u, size_t i);
void session_free(struct session *s);
/* Report the modules of mods[] that s does not know yet; the number known, or -errno. */
int session_add(struct session *s, struct procmap_module *mods, size_t n);
/* Read /proc/PID/maps and report what is new; the number known, or -errno. */
int session_load(struct unwinder *u, struct session *s);

#endif
