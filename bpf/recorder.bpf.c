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
 * all of them.  The first thing each does is test the caller's tgid in a
 * bitmap (an inlined array load, no map lookup), so an untraced process
 * pays a few instructions on top of the slow path.
 *
 * Object identity is read from the task's FD table (task->files->fdt->
 * fd[fd]), and a file is recognised as a bpf object by its f_op->release,
 * compared with the release functions' addresses: the *_fops symbols are
 * data and do not resolve where CONFIG_KALLSYMS_ALL is off.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "recorder.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Kinds and flags from include/bpfleak/journal.h (not includable here). */
enum {
	KIND_MAP = 1, KIND_PROG = 2, KIND_LINK = 3, KIND_BTF = 4,
	KIND_ITER = 5, KIND_TOKEN = 6, KIND_STATS = 7,
};
enum {
	EF_CLOEXEC = 1 << 0, EF_IMPLICIT = 1 << 1, EF_RANGE = 1 << 2,
	EF_SWEEP = 1 << 4, EF_NO_STACK = 1 << 7,
};
#define CMD_MAP_CREATE 0
#define CMD_PROG_LOAD 5
#define CMD_OBJ_PIN 6
#define CMD_OBJ_GET 7
#define CMD_PROG_GET_FD_BY_ID 13
#define CMD_MAP_GET_FD_BY_ID 14
#define CMD_RAW_TRACEPOINT_OPEN 17
#define CMD_BTF_LOAD 18
#define CMD_BTF_GET_FD_BY_ID 19
#define CMD_LINK_CREATE 28
#define CMD_LINK_GET_FD_BY_ID 30
#define CMD_ENABLE_STATS 32
#define CMD_ITER_CREATE 33
#define CMD_TOKEN_CREATE 36
#define BIT(c) (1ull << (c))
#define CREATES_FD_MASK                                                                        \
	(BIT(CMD_MAP_CREATE) | BIT(CMD_PROG_LOAD) | BIT(CMD_OBJ_GET) |                          \
	 BIT(CMD_PROG_GET_FD_BY_ID) | BIT(CMD_MAP_GET_FD_BY_ID) | BIT(CMD_RAW_TRACEPOINT_OPEN) | \
	 BIT(CMD_BTF_LOAD) | BIT(CMD_BTF_GET_FD_BY_ID) | BIT(CMD_LINK_CREATE) |                 \
	 BIT(CMD_LINK_GET_FD_BY_ID) | BIT(CMD_ENABLE_STATS) | BIT(CMD_ITER_CREATE) |            \
	 BIT(CMD_TOKEN_CREATE))
#define F_DUPFD 0
#define F_DUPFD_CLOEXEC 1030
#define O_CLOEXEC 02000000
#define CLOSE_RANGE_CLOEXEC (1u << 2)
#define SIGNAL_GROUP_EXIT 0x00000004
#define EBADF 9
#define EINTR 4

/* Set by the recorder before load. */
const volatile __u32 close_stacks = 0;
const volatile __u32 max_depth = 32;        /* frames per stack, 1..REC_MAX_IPS */
const volatile __u32 dwarf_min_frames = 4;  /* STACK_AUTO: copy when fewer FP frames */
const volatile __u32 stack_copy_bytes = REC_STACK_BYTES;
const volatile __u64 wakeup_bytes = 1 << 20; /* force a wake-up past this much unread */

/*
 * Traced tgids, one bit each.  Written by the recorder (through the mmap'd
 * .bss) and here for fork children; read first by every program.
 */
__u64 traced_bits[REC_MAX_PID / 64];

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 20);   /* resized by the recorder */
} events SEC(".maps");

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

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct rec_proc_cfg);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct rec_drops);
} drops SEC(".maps");

/* Every lost record, whoever it was for: the recorder checks its tally against it. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost_total SEC(".maps");

extern const void bpf_map_release __ksym;
extern const void bpf_prog_release __ksym;
extern const void bpf_link_release __ksym;
extern const void btf_release __ksym;
extern const void iter_release __ksym __weak;
extern const void bpf_stats_release __ksym __weak;
extern const void bpf_token_release __ksym __weak;

/* Keeps the compiler from redoing a bounded computation from the unbounded original. */
#define opaque(var) asm volatile("" : "+r"(var))

static __always_inline bool traced(__u32 tgid)
{
	__u32 word = tgid / 64;
	opaque(word);
	if (word >= REC_MAX_PID / 64)
		return false;
	return (traced_bits[word] >> (tgid % 64)) & 1;
}

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

/* ---- lost records ---- */

static __always_inline void count_lost_n(__u32 tgid, __u64 now, __u64 n)
{
	__u32 zero = 0;
	__u64 *total = bpf_map_lookup_elem(&lost_total, &zero);
	if (total)
		*total += n;
	struct rec_drops *d = bpf_map_lookup_elem(&drops, &tgid);
	if (d) {
		__sync_fetch_and_add(&d->count, n);
		d->last_ns = now;
		return;
	}
	struct rec_drops fresh = { .count = n, .first_ns = now, .last_ns = now };
	if (bpf_map_update_elem(&drops, &tgid, &fresh, BPF_NOEXIST)) {
		d = bpf_map_lookup_elem(&drops, &tgid);
		if (d)
			__sync_fetch_and_add(&d->count, n);
	}
}

static __always_inline void count_lost(__u32 tgid, __u64 now)
{
	count_lost_n(tgid, now, 1);
}

/*
 * Wake-ups dominate the cost on small machines (each is an IPI, a VM exit
 * under a hypervisor): records go in silently and the recorder polls every
 * 10 ms; only a record the recorder should see at once wakes it, and the
 * one record that takes the unread data past wakeup_bytes.  Waking on
 * every record past that mark (as this did) cost a traced loop a third of
 * its time whenever the recorder fell behind, and woke a recorder that was
 * busy reading anyway.  A crossing missed in a race between CPUs only
 * leaves the recorder to its next poll: 3/4 of the buffer is still free.
 */
static __always_inline void submit(void *rec, __u64 size, bool urgent)
{
	__u64 flags = BPF_RB_NO_WAKEUP;
	if (urgent) {
		flags = BPF_RB_FORCE_WAKEUP;
	} else {
		__u64 unread = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
		if (unread > wakeup_bytes && unread - size <= wakeup_bytes)
			flags = BPF_RB_FORCE_WAKEUP;
	}
	bpf_ringbuf_submit(rec, flags);
}

static __always_inline void fill_hdr(struct rec_hdr *h, __u16 type, __u16 walk, __u64 ts)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	h->ts_ns = ts;
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->type = type;
	h->walk = walk;
	h->pad = 0;
}

/* ---- the FD table ---- */

/*
 * Kernel pointers read out of arrays or void * fields are plain numbers to
 * the verifier; this read-only cast makes them typed again, so their fields
 * are read with direct (fault-safe) loads instead of a helper call each.
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#define AS(type, p) ((type *)bpf_rdonly_cast((p), bpf_core_type_id_kernel(type)))

static __always_inline struct file *fd_file(struct task_struct *task, int fd)
{
	task = AS(struct task_struct, task);
	struct fdtable *fdt = task->files->fdt;
	if (!fdt || fd < 0 || (unsigned int)fd >= fdt->max_fds)
		return NULL;
	__u64 slot = (__u64)fdt->fd + (__u64)fd * sizeof(struct file *);
	void *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), (const void *)slot);
	return f ? AS(struct file, f) : NULL;
}

static __always_inline int file_kind(struct file *f)
{
	if (!f)
		return 0;
	const void *rel = (const void *)f->f_op->release;
	if (rel == &bpf_map_release)
		return KIND_MAP;
	if (rel == &bpf_prog_release)
		return KIND_PROG;
	if (rel == &bpf_link_release)
		return KIND_LINK;
	if (rel == &btf_release)
		return KIND_BTF;
	if (&iter_release && rel == &iter_release)
		return KIND_ITER;
	if (&bpf_stats_release && rel == &bpf_stats_release)
		return KIND_STATS;
	if (&bpf_token_release && rel == &bpf_token_release)
		return KIND_TOKEN;
	return 0;
}

/* Kind and id of a bpf file, and with details, what the journal's object row holds. */
static __always_inline int file_identity(struct file *f, struct rec_obj *o, bool details)
{
	int kind = file_kind(f);
	o->kind = kind;
	o->id = 0;
	o->has_info = 0;
	if (!kind)
		return 0;
	void *priv = f->private_data;
	switch (kind) {
	case KIND_MAP: {
		struct bpf_map *m = AS(struct bpf_map, priv);
		o->id = m->id;
		if (details) {
			o->type = m->map_type;
			o->key_size = m->key_size;
			o->value_size = m->value_size;
			o->max_entries = m->max_entries;
			o->flags = m->map_flags;
			bpf_probe_read_kernel(o->name, sizeof(o->name), m->name);
			o->has_info = 1;
		}
		break;
	}
	case KIND_PROG: {
		struct bpf_prog *p = AS(struct bpf_prog, priv);
		o->id = p->aux->id;
		if (details) {
			o->type = p->type;
			bpf_probe_read_kernel(o->name, sizeof(o->name), p->aux->name);
			bpf_probe_read_kernel(o->tag, sizeof(o->tag), p->tag);
			o->has_info = 1;
		}
		break;
	}
	case KIND_LINK: {
		struct bpf_link *l = AS(struct bpf_link, priv);
		o->id = l->id;
		if (details) {
			o->type = l->type;
			o->prog_id = l->prog ? l->prog->aux->id : 0;
			o->has_info = 1;
		}
		break;
	}
	case KIND_BTF:
		o->id = AS(struct btf, priv)->id;
		o->has_info = details;
		break;
	default:
		o->has_info = details;   /* iter, stats, token: no id */
		break;
	}
	return kind;
}

/* ---- FD table walks (fork, exec, exit, close_range) ---- */

struct walk_ctx {
	struct file **arr;
	unsigned long *cloexec_bits;
	__u32 lo, hi;            /* FD numbers, inclusive */
	__u32 listed, lost;
	__u64 ts;
	__u32 pid, tid;
	__u16 walk;
	bool urgent;
};

static long walk_one(__u64 index, void *data)
{
	struct walk_ctx *c = data;
	__u32 fd = c->lo + (__u32)index;
	if (fd > c->hi)
		return 1;
	void *slot = NULL;
	bpf_probe_read_kernel(&slot, sizeof(slot), &c->arr[fd]);
	struct file *f = slot ? AS(struct file, slot) : NULL;
	if (!f || !file_kind(f))
		return 0;
	struct rec_fd *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		c->lost++;
		return 0;
	}
	r->h.ts_ns = c->ts;
	r->h.pid = c->pid;
	r->h.tid = c->tid;
	r->h.type = REC_FD;
	r->h.walk = c->walk;
	r->h.pad = 0;
	r->fd = (__s32)fd;
	r->result = 0;
	unsigned long word = 0;
	bpf_probe_read_kernel(&word, sizeof(word), &c->cloexec_bits[fd / 64]);
	r->cloexec = (word >> (fd % 64)) & 1;
	r->listed = r->lost = r->pad = 0;
	__builtin_memset(&r->obj, 0, sizeof(r->obj));
	file_identity(f, &r->obj, false);
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	c->listed++;
	return 0;
}

/*
 * List the bpf FDs in [lo, hi] of task's table as REC_FD records; the
 * REC_WALK_END record after them says how many (and whether some were
 * lost).  Returns the number listed.
 */
static __always_inline __u32 walk_fds(struct task_struct *task, __u32 pid, __u32 tid,
				      __u16 walk, __u32 lo, __u32 hi, __u64 ts, bool end,
				      int result, bool urgent)
{
	struct walk_ctx c = { .lo = lo, .hi = hi, .ts = ts, .pid = pid, .tid = tid, .walk = walk };
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (fdt) {
		unsigned int max = BPF_CORE_READ(fdt, max_fds);
		c.arr = BPF_CORE_READ(fdt, fd);
		c.cloexec_bits = BPF_CORE_READ(fdt, close_on_exec);
		if (max > REC_MAX_WALK_FDS)
			max = REC_MAX_WALK_FDS;
		if (c.hi >= max)
			c.hi = max ? max - 1 : 0;
		if (max && c.lo <= c.hi)
			bpf_loop(c.hi - c.lo + 1, walk_one, &c, 0);
	}
	if (c.lost)
		count_lost_n(pid, ts, c.lost);
	if (!end)
		return c.listed;
	struct rec_fd *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost(pid, ts);
		return c.listed;
	}
	r->h.ts_ns = ts;
	r->h.pid = pid;
	r->h.tid = tid;
	r->h.type = REC_WALK_END;
	r->h.walk = walk;
	r->h.pad = 0;
	r->fd = -1;
	r->result = result;
	r->cloexec = 0;
	r->listed = c.listed;
	r->lost = c.lost;
	r->pad = 0;
	__builtin_memset(&r->obj, 0, sizeof(r->obj));
	submit(r, sizeof(*r), urgent);
	return c.listed;
}

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
