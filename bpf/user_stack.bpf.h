// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Event records and their user stacks: the frame-pointer walk
 * (bpf_get_stack) or the registers and a copy of the stack for the
 * recorder's DWARF unwinder, as the process's stack policy says.
 */
#ifndef BPFLEAK_BPF_USER_STACK_BPF_H
#define BPFLEAK_BPF_USER_STACK_BPF_H

#include "rec_core.bpf.h"

/* ---- stacks ---- */

static __always_inline __u32 proc_stack_mode(__u32 tgid)
{
	struct rec_proc_cfg *cfg = bpf_map_lookup_elem(&procs, &tgid);
	return cfg ? cfg->stack_mode : STACK_AUTO;
}

/* The user stack to copy for a process: what the recorder measured it needs, else the default. */
static __always_inline __u32 proc_stack_bytes(const struct rec_proc_cfg *cfg)
{
	__u32 b = cfg && cfg->stack_bytes ? cfg->stack_bytes : stack_copy_bytes;
	return b > REC_STACK_BYTES ? REC_STACK_BYTES : b;
}

static __always_inline __u32 depth_bytes(void)
{
	__u32 d = max_depth;
	if (d < 1)
		d = 1;
	if (d > REC_MAX_IPS)
		d = REC_MAX_IPS;
	return d * 8;
}

/*
 * The user registers at the syscall and up to `want` bytes of the stack
 * above them, into a record with room for `cap` bytes of it (a constant
 * where this is inlined: the verifier checks each size on its own path).
 */
static __always_inline void copy_user_state(struct rec_event_regs *r, __u32 want, __u32 cap)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct pt_regs pr;
	if (bpf_probe_read_kernel(&pr, sizeof(pr), regs)) {
		r->stack_len = 0;
		return;
	}
	r->regs.ip = pr.ip;
	r->regs.sp = pr.sp;
	r->regs.bp = pr.bp;
	r->regs.regs[0] = pr.ax;
	r->regs.regs[1] = pr.dx;
	r->regs.regs[2] = pr.cx;
	r->regs.regs[3] = pr.bx;
	r->regs.regs[4] = pr.si;
	r->regs.regs[5] = pr.di;
	r->regs.regs[6] = pr.bp;
	r->regs.regs[7] = pr.sp;
	r->regs.regs[8] = pr.r8;
	r->regs.regs[9] = pr.r9;
	r->regs.regs[10] = pr.r10;
	r->regs.regs[11] = pr.r11;
	r->regs.regs[12] = pr.r12;
	r->regs.regs[13] = pr.r13;
	r->regs.regs[14] = pr.r14;
	r->regs.regs[15] = pr.r15;
	r->regs.regs[16] = pr.ip;

	if (want > cap)
		want = cap;
	if (want == 0) {
		r->stack_len = 0;
		return;
	}
	if (bpf_probe_read_user(r->stack, want, (void *)pr.sp) == 0) {
		r->stack_len = want;
		return;
	}
	/*
	 * The stack mapping ends less than `want` bytes above sp: take the
	 * rest of sp's page, then the page after it if there is one.
	 */
	__u32 first = 4096 - (pr.sp & 4095);
	if (first > want)
		first = want;
	r->stack_len = 0;
	if (bpf_probe_read_user(r->stack, first, (void *)pr.sp))
		return;
	r->stack_len = first;
	if (cap <= 4096 || first >= 4096 || want < first + 4096)
		return;
	if (bpf_probe_read_user(r->stack + (first & 4095), 4096, (void *)(pr.sp + first)) == 0)
		r->stack_len = first + 4096;
}

/* How an event's stack is taken, and how big its record is. */
enum { PLAN_NONE, PLAN_FP, PLAN_FP_THEN_COPY, PLAN_COPY };
struct plan {
	__u32 how;
	__u32 want, cap;   /* stack bytes wanted, and room for them */
	__u64 size;        /* of the record */
};

#define REGS_HEAD __builtin_offsetof(struct rec_event_regs, stack)

/*
 * Reserve an event record of the size the process's stack policy needs:
 * Go gets the frame-pointer walk only; C through libraries built without
 * frame pointers gets the registers and the stack copy only (a frame-pointer
 * walk there is wrong more often than short, and the recorder walks the
 * copy's frame pointers itself when the unwinder cannot do better).  The
 * copy is as long as the recorder found this process's stacks to need
 * (rec_proc_cfg.stack_bytes), in one of three record sizes: copying and
 * moving 8 KiB for a 1 KiB stack was half of what a traced create cost.
 */
static __always_inline struct rec_event_small *reserve_event(bool want_stack, __u32 tgid,
							     struct plan *p)
{
	p->want = p->cap = 0;
	if (!want_stack) {
		p->how = PLAN_NONE;
		p->size = sizeof(struct rec_event_small);
		return bpf_ringbuf_reserve(&events, sizeof(struct rec_event_small), 0);
	}
	struct rec_proc_cfg *cfg = bpf_map_lookup_elem(&procs, &tgid);
	__u32 mode = cfg ? cfg->stack_mode : STACK_AUTO;
	if (mode == STACK_FP_ONLY) {
		p->how = PLAN_FP;
		p->size = sizeof(struct rec_event);
		return bpf_ringbuf_reserve(&events, sizeof(struct rec_event), 0);
	}
	p->how = mode == STACK_AUTO ? PLAN_FP_THEN_COPY : PLAN_COPY;
	p->want = proc_stack_bytes(cfg);
	if (p->want <= 2048) {
		p->cap = 2048;
		p->size = REGS_HEAD + 2048;
		return bpf_ringbuf_reserve(&events, REGS_HEAD + 2048, 0);
	}
	if (p->want <= 4096) {
		p->cap = 4096;
		p->size = REGS_HEAD + 4096;
		return bpf_ringbuf_reserve(&events, REGS_HEAD + 4096, 0);
	}
	p->cap = REC_STACK_BYTES;
	p->size = sizeof(struct rec_event_regs);
	return bpf_ringbuf_reserve(&events, sizeof(struct rec_event_regs), 0);
}

/* Fill the stack part of a record reserved by reserve_event. */
static __always_inline void fill_stack(void *ctx, struct rec_event_small *e, const struct plan *pl)
{
	__u32 plan = pl->how;
	e->n_ips = 0;
	if (plan == PLAN_NONE)
		return;
	struct rec_event *ev = (struct rec_event *)e;
	if (plan != PLAN_COPY) {
		long n = bpf_get_stack(ctx, ev->ips, depth_bytes(), BPF_F_USER_STACK);
		e->n_ips = n > 0 ? (__u32)n / 8 : 0;
	}
	if (plan == PLAN_FP)
		return;
	struct rec_event_regs *r = (struct rec_event_regs *)e;
	if (plan == PLAN_FP_THEN_COPY && e->n_ips >= dwarf_min_frames) {
		r->stack_len = 0;
		return;
	}
	copy_user_state(r, pl->want, pl->cap);
}

struct ev_args {
	__u16 type;
	__s32 fd, fd2, cmd, result;
	__u32 flags;
	__u64 ts;
	bool stack;
	bool urgent;
};

static __always_inline void emit_event(void *ctx, const struct ev_args *a, const struct rec_obj *obj)
{
	__u32 tgid = current_tgid();
	struct plan plan;
	struct rec_event_small *e = reserve_event(a->stack, tgid, &plan);
	if (!e) {
		count_lost(tgid, a->ts);
		return;
	}
	fill_hdr(&e->h, a->type, 0, a->ts);
	e->fd = a->fd;
	e->fd2 = a->fd2;
	e->cmd = a->cmd;
	e->result = a->result;
	e->flags = a->flags;
	if (obj)
		__builtin_memcpy(&e->obj, obj, sizeof(e->obj));
	else
		__builtin_memset(&e->obj, 0, sizeof(e->obj));
	fill_stack(ctx, e, &plan);
	submit(e, plan.size, a->urgent);
}

#endif
