/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Offline unwinding of a user stack captured by the kernel recorder, with
 * elfutils libdwfl, the way `perf --call-graph dwarf` does it.
 *
 * The BPF side copies the user registers (bpf_task_pt_regs) and the first
 * few KiB of the user stack, from the stack pointer up, into the event.
 * Here, libdwfl's frame unwinder runs over that copy: registers come from
 * the capture, memory reads are served from the stack copy (and, for the
 * rare CFI expression that reads program memory, from the read-only
 * segments of the mapped ELF files), and CFI comes from each module's
 * .eh_frame (or .debug_frame: Go).  Where a module has no CFI for a PC,
 * libdw's x86_64 backend follows the frame pointer.  C through Debian's
 * libbpf and libc, built without frame pointers, unwinds fully; so do Go
 * binaries, static or not.
 *
 * Modules: each traced pid gets a libdwfl session (a Dwfl) holding its ELF
 * modules, read from /proc/PID/maps with their files kept open, so stacks
 * of a process that has exited since still unwind.  Call unwinder_load_pid
 * (or unwinder_add_modules with what the recorder already read) when
 * tracing of a pid starts and again right after it execs; call
 * unwinder_forget on exec (before loading the new image) and on exit.  A
 * pid never loaded is loaded on its first unwind.  When a stack walks into
 * an address no module covers (a library dlopen'd since), the maps are read
 * again, at most every UNWIND_RELOAD_NS per pid, and the unwind is retried.
 *
 * Cost (make bench-unwind, 2-core VM): about 0.1 us for the 10 frames from
 * syscall() in libc through libbpf to _start once their CFI rules are
 * cached (unwind_fast.c; 6-10 us through libdwfl's own walk, which the
 * frames with other than plain rules still take); the first unwind of a
 * pid, which reads its maps and opens its files, about 0.5 ms.
 *
 * Memory is bounded: at most UNWIND_MAX_PIDS sessions; beyond that the
 * least recently used one is dropped (and reloaded from /proc if that pid
 * is seen again and still alive).
 *
 * Nothing here is thread-safe per struct unwinder; the process-wide default
 * behind unwind_user_stack() and the unwind_*() calls is serialized by a
 * mutex.  Nothing here crashes or loops on garbage: every memory read is
 * bounds-checked, and the walk stops at max_ips, at a frame that does not
 * move, or when libdw finds no rule for a PC; what was unwound until then is
 * returned.
 */
#ifndef BPFLEAK_RECORDER_UNWIND_H
#define BPFLEAK_RECORDER_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "procmaps.h"

/* User registers at the event, as in struct pt_regs.  ip, sp and bp are
 * always used; regs[] may carry every register (x86_64 DWARF numbering
 * 0..16: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip) or be all zero when
 * only ip/sp/bp were captured (regs[6], [7] and [16] are overwritten from
 * bp, sp and ip).  The stack copy starts at sp. */
struct unwind_regs {
	uint64_t ip, sp, bp, regs[17];
};

#define UNWIND_MAX_PIDS  512
#define UNWIND_RELOAD_NS 100000000ull   /* 100 ms */

/* Why an unwind stopped (unwinder_unwind_ex). */
enum unwind_stop {
	UNWIND_STOP_END,        /* the outermost frame (_start, thread start, CFI says so) */
	UNWIND_STOP_MAX,        /* max_ips frames were returned */
	UNWIND_STOP_STACK,      /* needed stack beyond the captured copy: cut short */
	UNWIND_STOP_NO_MODULE,  /* a PC in no known module (JIT, vdso, unmapped) */
	UNWIND_STOP_FAILED,     /* no unwind rule, garbage, or a frame that did not move */
};

struct unwinder;

/* NULL on out of memory. */
struct unwinder *unwinder_new(void);
void unwinder_free(struct unwinder *u);

/* Read PID's modules from /proc/PID/maps and keep their files open.  Adds to
 * what is known (a new mapping); never removes.  Returns the number of
 * modules PID now has, or -errno (-ENOENT: the process is gone). */
int unwinder_load_pid(struct unwinder *u, pid_t pid);

/* The same from modules already read with procmaps_read_open(): takes over
 * the FD of each module it uses (sets mods[i].fd to -1); the caller still
 * frees the array.  Modules without an FD are opened through /proc/PID.
 * Returns the number of modules PID now has, or -errno. */
int unwinder_add_modules(struct unwinder *u, pid_t pid, struct procmap_module *mods, size_t n);

/* Forget PID's modules: call on exec (the old image is gone) and on exit. */
void unwinder_forget(struct unwinder *u, pid_t pid);

/* Unwind: store return addresses in ips[], innermost first (ips[0] = the PC
 * regs->ip), at most max_ips.  Frames after the first are return addresses
 * (look up ip-1 to symbolize).  Returns how many were stored (1 when only
 * the PC is known, 0 if max_ips <= 0).  *why (optional) says why it stopped. */
int unwinder_unwind(struct unwinder *u, pid_t pid, const struct unwind_regs *regs,
		    const void *stack, size_t stack_len, uint64_t *ips, int max_ips,
		    enum unwind_stop *why);
/* The same, and *used (optional): the bytes of the copy, from sp, up to the
 * highest word the walk read (how much stack this call chain needs). */
int unwinder_unwind_used(struct unwinder *u, pid_t pid, const struct unwind_regs *regs,
			 const void *stack, size_t stack_len, uint64_t *ips, int max_ips,
			 enum unwind_stop *why, size_t *used);

/* Counters since unwinder_new, for the recorder's statistics. */
struct unwind_stats {
	uint64_t unwinds, frames, loads, reloads, evictions;
	uint64_t fast;         /* walked by the cached-rule fast path (unwind_fast.c) */
	uint64_t mismatches;   /* BPFLEAK_UNWIND_VERIFY=1: the fast path and libdwfl differed */
	uint64_t stopped[UNWIND_STOP_FAILED + 1];   /* by enum unwind_stop */
};
void unwinder_stats(const struct unwinder *u, struct unwind_stats *out);
/* Walk every stack the fast path walked with libdwfl too and count where
 * they differ (stats.mismatches): the tests' check that the fast path only
 * ever agrees.  Off by default; BPFLEAK_UNWIND_VERIFY=1 turns it on. */
void unwinder_verify(struct unwinder *u, bool on);

/* ---- the process-wide default unwinder, serialized by a mutex ---- */

/* unwinder_unwind on the default unwinder (created on first use; returns 1,
 * just the PC, if that fails). */
int unwind_user_stack(pid_t pid, const struct unwind_regs *regs, const void *stack,
		      size_t stack_len, uint64_t *ips, int max_ips);
/* The same, and why it stopped (UNWIND_STOP_STACK: the copy was too short,
 * which the report shows as a stack cut short). */
int unwind_user_stack_why(pid_t pid, const struct unwind_regs *regs, const void *stack,
			  size_t stack_len, uint64_t *ips, int max_ips, enum unwind_stop *why);
/* And how much of the copy it read (unwinder_unwind_used). */
int unwind_user_stack_used(pid_t pid, const struct unwind_regs *regs, const void *stack,
			   size_t stack_len, uint64_t *ips, int max_ips, enum unwind_stop *why,
			   size_t *used);
int unwind_load_pid(pid_t pid);
int unwind_add_modules(pid_t pid, struct procmap_module *mods, size_t n);
void unwind_forget(pid_t pid);
/* Free the default unwinder (at exit, so leak checkers stay quiet). */
void unwind_shutdown(void);

#endif
