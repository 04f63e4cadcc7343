// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A task's FD table read in the kernel: the file behind an FD number, whether
 * it is a bpf object and which (kind, id, name), and walks that list a
 * table's bpf FDs as records (fork, exec, exit, close_range).
 *
 * Object identity is read from the task's FD table (task->files->fdt->
 * fd[fd]), and a file is recognised as a bpf object by its f_op->release,
 * compared with the release functions' addresses: the *_fops symbols are
 * data and do not resolve where CONFIG_KALLSYMS_ALL is off.
 */
#ifndef BPFLEAK_BPF_FD_TABLE_BPF_H
#define BPFLEAK_BPF_FD_TABLE_BPF_H

#include "rec_core.bpf.h"

extern const void bpf_map_release __ksym;
extern const void bpf_prog_release __ksym;
extern const void bpf_link_release __ksym;
extern const void btf_release __ksym;
extern const void iter_release __ksym __weak;
extern const void bpf_stats_release __ksym __weak;
extern const void bpf_token_release __ksym __weak;

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

#endif
