// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The system calls that make, copy and close bpf FDs, each in two halves
 * (at enter, at exit) joined by the thread's call-in-flight state: bpf(),
 * close, dup/dup2/dup3/fcntl(F_DUPFD*), close_range.
 */
#ifndef BPFLEAK_BPF_FD_CALLS_BPF_H
#define BPFLEAK_BPF_FD_CALLS_BPF_H

#include "rec_core.bpf.h"
#include "fd_table.bpf.h"
#include "user_stack.bpf.h"

/* A syscall in flight on a thread, and its recent closes. */
enum { SC_NONE = 0, SC_BPF, SC_CLOSE, SC_DUP, SC_DUP3, SC_FCNTL, SC_RANGE };
struct tid_state {
	__u64 ts;
	__u64 close_hist;        /* the last two FD numbers closed: older << 32 | newer */
	__u64 attr;
	__s32 nr, cmd, fd, fd2;
	__u32 flags, old_open;   /* old_open: the FD the call closes was a bpf FD */
	__u32 first, last;
	struct rec_obj old;      /* the bpf FD this call closes */
};

/* Freed with the thread by the kernel. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tid_state);
} tids SEC(".maps");

/* ---- per-thread state ---- */

static __always_inline struct tid_state *tid_state(bool create)
{
	return bpf_task_storage_get(&tids, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/* ---- bpf() ---- */

/* Only the commands that make an FD or pin one get here (recorded_call). */
static __always_inline void enter_bpf(__u64 cmd, __u64 attr)
{
	struct tid_state *st = tid_state(true);
	if (!st)
		return;
	st->nr = SC_BPF;
	st->cmd = (__s32)cmd;
	st->attr = attr;
}

static __always_inline void emit_pin(struct tid_state *st, long ret, __u64 ts)
{
	struct {
		__u64 pathname;
		__u32 bpf_fd;
		__u32 file_flags;
	} a = {};
	__u32 tgid = current_tgid();
	struct rec_pin *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost(tgid, ts);
		return;
	}
	fill_hdr(&r->h, REC_PIN, 0, ts);
	bpf_probe_read_user(&a, sizeof(a), (void *)st->attr);
	r->fd = (__s32)a.bpf_fd;
	r->result = (__s32)ret;
	__builtin_memset(&r->obj, 0, sizeof(r->obj));
	file_identity(fd_file(bpf_get_current_task_btf(), r->fd), &r->obj, true);
	r->path[0] = '\0';
	bpf_probe_read_user_str(r->path, sizeof(r->path), (void *)a.pathname);
	submit(r, sizeof(*r), false);
}

static __always_inline void exit_bpf(void *ctx, struct tid_state *st, long ret)
{
	__u64 ts = bpf_ktime_get_ns();
	if (st->cmd == CMD_OBJ_PIN) {
		emit_pin(st, ret, ts);
		return;
	}
	struct ev_args a = { .type = REC_CREATE, .fd = (__s32)ret, .fd2 = -1, .cmd = st->cmd,
			     .result = (__s32)ret, .flags = EF_CLOEXEC, .ts = ts, .stack = true };
	struct rec_obj obj = {};
	if (ret < 0) {
		a.type = REC_ERROR;
		a.fd = -1;
		a.flags = 0;
		a.stack = false;
	} else {
		file_identity(fd_file(bpf_get_current_task_btf(), (int)ret), &obj, true);
	}
	emit_event(ctx, &a, &obj);
}

/* ---- close ---- */

/*
 * Closes carry a stack with --close-stacks, and always in Go processes:
 * there a frame-pointer walk is cheap, and it is how the recorder tells a
 * close made by a GC finalizer (runtime.runfinq) from one in the code.
 */
static __always_inline bool close_stack_wanted(void)
{
	return close_stacks != 0 || proc_stack_mode(current_tgid()) == STACK_FP_ONLY;
}

static __always_inline void enter_close(int fd)
{
	struct tid_state *st = tid_state(true);
	if (!st)
		return;
	__u64 hist = st->close_hist;
	st->close_hist = hist << 32 | (__u32)fd;
	st->nr = SC_NONE;
	struct task_struct *task = bpf_get_current_task_btf();
	struct file *f = fd_file(task, fd);
	if (f) {
		if (!file_identity(f, &st->old, false))
			return;   /* not a bpf FD: nothing to record */
		st->old_open = 1;
		st->flags = 0;
	} else {
		/*
		 * Not open: an EBADF the recorder keeps if the number last held a
		 * bpf FD (a double close).  A close of N right after N-1 and N-2,
		 * N-1 not open, is a close-everything sweep, as in the shim.
		 */
		bool sweep = fd >= 2 && (__u32)hist == (__u32)(fd - 1) &&
			     (__u32)(hist >> 32) == (__u32)(fd - 2) && !fd_file(task, fd - 1);
		__builtin_memset(&st->old, 0, sizeof(st->old));
		st->old_open = 0;
		st->flags = sweep ? EF_SWEEP : 0;
	}
	st->nr = SC_CLOSE;
	st->fd = fd;
	st->ts = bpf_ktime_get_ns();
}

static __always_inline void exit_close(void *ctx, struct tid_state *st, long ret)
{
	if (!st->old_open && ret != -EBADF)
		return;   /* something opened the number meanwhile: not a bpf FD */
	/* Linux releases the FD even when close returns EINTR. */
	struct ev_args a = { .type = REC_CLOSE, .fd = st->fd, .fd2 = -1, .cmd = -1,
			     .result = ret == -EINTR ? 0 : (__s32)ret, .flags = st->flags,
			     .ts = st->ts, .stack = close_stack_wanted() };
	emit_event(ctx, &a, &st->old);
}

/* ---- dup, dup2, dup3, fcntl(F_DUPFD*) ---- */

static __always_inline void enter_dup(int oldfd, int newfd, __u32 flags, int nr)
{
	struct tid_state *st = tid_state(true);
	if (!st)
		return;
	st->nr = nr;
	st->fd2 = oldfd;
	st->fd = newfd;
	st->flags = flags;
	st->old_open = 0;
	st->ts = bpf_ktime_get_ns();
	/* dup2/dup3 over an open bpf FD close it: note which object it held. */
	if (nr == SC_DUP3 && newfd != oldfd) {
		struct file *f = fd_file(bpf_get_current_task_btf(), newfd);
		if (f && file_identity(f, &st->old, false))
			st->old_open = 1;
	}
}

static __always_inline void exit_dup(void *ctx, struct tid_state *st, long ret)
{
	if (ret < 0)
		return;
	if (st->nr == SC_DUP3 && st->fd == st->fd2)
		return;   /* dup2(fd, fd): nothing happens */
	if (st->old_open) {
		struct ev_args c = { .type = REC_CLOSE, .fd = st->fd, .fd2 = -1, .cmd = -1,
				     .result = 0, .flags = EF_IMPLICIT, .ts = st->ts,
				     .stack = close_stack_wanted() };
		emit_event(ctx, &c, &st->old);
	}
	struct rec_obj obj = {};
	if (!file_identity(fd_file(bpf_get_current_task_btf(), (int)ret), &obj, false))
		return;
	struct ev_args a = { .type = REC_DUP, .fd = (__s32)ret, .fd2 = st->fd2, .cmd = -1,
			     .result = (__s32)ret, .flags = st->flags, .ts = bpf_ktime_get_ns(),
			     .stack = true };
	emit_event(ctx, &a, &obj);
}

/* ---- close_range ---- */

static __always_inline void enter_close_range(__u32 tgid, __u32 first, __u32 last, __u32 flags)
{
	struct tid_state *st = tid_state(true);
	if (!st)
		return;
	st->nr = SC_RANGE;
	st->first = first;
	st->last = last;
	st->flags = flags;
	st->ts = bpf_ktime_get_ns();
	/* The FDs go with the call: list them now, settle them at exit. */
	if (!(flags & CLOSE_RANGE_CLOEXEC))
		walk_fds(bpf_get_current_task_btf(), tgid, (__u32)bpf_get_current_pid_tgid(),
			 WALK_RANGE_CLOSE, first, last, st->ts, false, 0, false);
}

static __always_inline void exit_close_range(__u32 tgid, struct tid_state *st, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	if (st->flags & CLOSE_RANGE_CLOEXEC) {
		if (ret == 0)
			walk_fds(bpf_get_current_task_btf(), tgid, tid, WALK_RANGE_CLOEXEC,
				 st->first, st->last, st->ts, true, 0, false);
		return;
	}
	/* Only the end record: its result says whether the listed FDs closed. */
	walk_fds(bpf_get_current_task_btf(), tgid, tid, WALK_RANGE_CLOSE, 1, 0, st->ts, true,
		 (int)ret, false);
}

#endif
