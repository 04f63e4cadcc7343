// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel side of bpfleak's kernel recorder: the same events the preload
 * shim records (create, dup, close, pin, fork, exec, exit), seen from the
 * raw system-call tracepoints (sys_enter, sys_exit) and the sched ones, so
 * programs that bypass libc (Go, static binaries, raw `syscall`
 * instructions) and already-running processes are recorded too.  No
 * kprobes, fentry or LSM: they are missing or refused (EPERM) where this
 * has to run.  recorder/ reads the ring buffer and writes the journal.
 *
 * Cost discipline: once a syscall tracepoint is enabled every syscall of
 * every process takes the kernel's slow path, and these programs run for
 * all of them.  Each first tests the call's number and arguments (direct
 * loads), then the caller's tgid in a bitmap (an inlined array load, no
 * map lookup), so an untraced process, and a traced one's calls that make
 * no FD, pay a few instructions on top of the slow path and the program
 * run itself (bench/bench_kernel_floor.c measures both).
 *
 * This file holds the programs, i.e. where each attaches; what they share
 * is in rec_core.bpf.h, the FD table in fd_table.bpf.h, records and their
 * stacks in user_stack.bpf.h, the FD system calls in fd_calls.bpf.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "recorder.h"
#include "rec_core.bpf.h"
#include "fd_table.bpf.h"
#include "user_stack.bpf.h"
#include "fd_calls.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * The system calls, from the raw syscall tracepoints rather than the
 * per-call syscalls:sys_enter_* events: those build a trace record for
 * every call of their syscall, traced process or not, before a program
 * runs; here an untraced process costs the program's first test only.
 * (Enabling either puts every system call on the kernel's slower path.)
 * x86-64 numbers; 32-bit system calls (int 0x80) are not recorded.
 */
#define NR_close 3
#define NR_dup 32
#define NR_dup2 33
#define NR_fcntl 72
#define NR_dup3 292
#define NR_bpf 321
#define NR_close_range 436
#define USER64_CS 0x33

/*
 * The calls recorded, told by the number and arguments alone: every
 * other system call of every process, and a traced process's bpf()
 * commands that make no FD (map lookups, updates, ...), return here
 * before any helper call, at enter and again at exit.
 */
static __always_inline bool recorded_call(long id, const struct pt_regs *regs)
{
	switch (id) {
	case NR_bpf: {
		__u64 cmd = regs->di;
		return cmd < 64 && ((CREATES_FD_MASK | BIT(CMD_OBJ_PIN)) & BIT(cmd));
	}
	case NR_fcntl:
		return regs->si == F_DUPFD || regs->si == F_DUPFD_CLOEXEC;
	case NR_close:
	case NR_dup:
	case NR_dup2:
	case NR_dup3:
	case NR_close_range:
		return true;
	}
	return false;
}

SEC("raw_tp/sys_enter")
int sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long id = (long)ctx->args[1];
	struct pt_regs *regs = AS(struct pt_regs, (void *)ctx->args[0]);
	if (!recorded_call(id, regs))
		return 0;
	__u32 tgid = current_tgid();
	if (!traced(tgid))
		return 0;
	if (regs->cs != USER64_CS)
		return 0;
	__u64 a0 = regs->di, a1 = regs->si;
	switch (id) {
	case NR_bpf:
		enter_bpf(a0, a1);
		break;
	case NR_close:
		enter_close((int)a0);
		break;
	case NR_dup:
		enter_dup((int)a0, -1, 0, SC_DUP);
		break;
	case NR_dup2:
		enter_dup((int)a0, (int)a1, 0, SC_DUP3);
		break;
	case NR_dup3:
		enter_dup((int)a0, (int)a1, (regs->dx & O_CLOEXEC) ? EF_CLOEXEC : 0, SC_DUP3);
		break;
	case NR_fcntl:
		if (a1 == F_DUPFD || a1 == F_DUPFD_CLOEXEC)
			enter_dup((int)a0, -1, a1 == F_DUPFD_CLOEXEC ? EF_CLOEXEC : 0, SC_FCNTL);
		break;
	case NR_close_range:
		enter_close_range(tgid, (__u32)a0, (__u32)a1, (__u32)regs->dx);
		break;
	}
	return 0;
}

SEC("raw_tp/sys_exit")
int sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = AS(struct pt_regs, (void *)ctx->args[0]);
	if (!recorded_call((long)regs->orig_ax, regs))
		return 0;
	__u32 tgid = current_tgid();
	if (!traced(tgid))
		return 0;
	struct tid_state *st = tid_state(false);
	if (!st || st->nr == SC_NONE)
		return 0;
	int nr = st->nr;
	st->nr = SC_NONE;
	long ret = (long)ctx->args[1];
	switch (nr) {
	case SC_BPF:
		exit_bpf(ctx, st, ret);
		break;
	case SC_CLOSE:
		exit_close(ctx, st, ret);
		break;
	case SC_DUP:
	case SC_DUP3:
	case SC_FCNTL:
		st->nr = nr;   /* exit_dup tells dup2(fd, fd) by it */
		exit_dup(ctx, st, ret);
		st->nr = SC_NONE;
		break;
	case SC_RANGE:
		exit_close_range(tgid, st, ret);
		break;
	}
	return 0;
}

/* ---- processes ---- */

static __always_inline void set_traced(__u32 tgid, bool on)
{
	__u32 word = tgid / 64;
	opaque(word);
	if (word >= REC_MAX_PID / 64)
		return;
	__u64 bit = 1ull << (tgid % 64);
	if (on)
		__sync_fetch_and_or(&traced_bits[word], bit);
	else
		__sync_fetch_and_and(&traced_bits[word], ~bit);
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	(void)ctx;
	(void)parent;   /* current is the parent */
	__u32 ptgid = current_tgid();
	if (!traced(ptgid))
		return 0;
	__u32 cpid = BPF_CORE_READ(child, pid), ctgid = BPF_CORE_READ(child, tgid);
	if (cpid != ctgid)
		return 0;   /* a new thread, not a process */
	struct rec_proc_cfg *cfg = bpf_map_lookup_elem(&procs, &ptgid);
	if (cfg) {
		struct rec_proc_cfg copy = *cfg;
		bpf_map_update_elem(&procs, &ctgid, &copy, BPF_ANY);
	}
	set_traced(ctgid, true);
	__u64 ts = bpf_ktime_get_ns();
	struct rec_proc *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost(ctgid, ts);
	} else {
		r->h.ts_ns = ts;
		r->h.pid = ctgid;
		r->h.tid = cpid;
		r->h.type = REC_FORK;
		r->h.walk = 0;
		r->h.pad = 0;
		r->ppid = (__s32)ptgid;
		r->exit_code = 0;
		bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	}
	walk_fds(child, ctgid, cpid, WALK_FORK, 0, ~0u, ts, true, 0, true);
	return 0;
}

SEC("tp/sched/sched_process_exec")
int on_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	__u32 tgid = current_tgid();
	if (!traced(tgid))
		return 0;
	__u64 ts = bpf_ktime_get_ns();
	struct rec_exec *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost(tgid, ts);
	} else {
		fill_hdr(&r->h, REC_EXEC, 0, ts);
		r->old_pid = ctx->old_pid;
		r->pad = 0;
		unsigned int loc = ctx->__data_loc_filename & 0xffff;
		struct mm_struct *mm = BPF_CORE_READ((struct task_struct *)bpf_get_current_task_btf(), mm);
		__builtin_memset(r->auxv, 0, sizeof(r->auxv));
		__u32 auxv_size = bpf_core_field_size(mm->saved_auxv);
		if (auxv_size > sizeof(r->auxv))
			auxv_size = sizeof(r->auxv);
		bpf_probe_read_kernel(r->auxv, auxv_size, &mm->saved_auxv);
		r->exe_ino = BPF_CORE_READ(mm, exe_file, f_inode, i_ino);
		r->exe_dev = BPF_CORE_READ(mm, exe_file, f_inode, i_sb, s_dev);
		r->pad2 = 0;
		r->path[0] = '\0';
		bpf_probe_read_kernel_str(r->path, sizeof(r->path), (void *)ctx + loc);
		bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	}
	/* O_CLOEXEC FDs are gone by now: what is left survived the exec. */
	walk_fds(bpf_get_current_task_btf(), tgid, (__u32)bpf_get_current_pid_tgid(), WALK_EXEC,
		 0, ~0u, ts, true, 0, true);
	return 0;
}

SEC("tp/sched/sched_process_exit")
int on_exit(struct trace_event_raw_sched_process_exit *ctx)
{
	__u32 tgid = current_tgid();
	if (!traced(tgid))
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	bool group_dead;
	if (bpf_core_field_exists(ctx->group_dead))
		group_dead = ctx->group_dead;
	else
		group_dead = BPF_CORE_READ(task, signal, live.counter) == 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	if (!group_dead)
		return 0;
	/*
	 * The last thread: the FD table is final and still attached (files go
	 * after this tracepoint).  List it as the exit snapshot, here, because
	 * by the time the recorder reads the ring buffer the FDs are gone.
	 */
	__u64 ts = bpf_ktime_get_ns();
	walk_fds(task, tgid, tid, WALK_EXIT, 0, ~0u, ts, true, 0, false);
	struct rec_proc *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost(tgid, ts);
	} else {
		fill_hdr(&r->h, REC_EXIT, 0, ts);
		r->ppid = 0;
		unsigned int sflags = BPF_CORE_READ(task, signal, flags);
		r->exit_code = (sflags & SIGNAL_GROUP_EXIT) ? BPF_CORE_READ(task, signal, group_exit_code)
							    : BPF_CORE_READ(task, exit_code);
		submit(r, sizeof(*r), true);
	}
	set_traced(tgid, false);
	bpf_map_delete_elem(&procs, &tgid);
	return 0;
}
