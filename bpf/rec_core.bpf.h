// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What every program of bpf/recorder.bpf.c shares: the constants of the
 * journal and of bpf(), the settings the recorder fills in before load, the
 * traced-tgid bitmap, the ring buffer and its submission, lost-record
 * counting.  Included once, by recorder.bpf.c (one object, one skeleton).
 */
#ifndef BPFLEAK_BPF_REC_CORE_BPF_H
#define BPFLEAK_BPF_REC_CORE_BPF_H

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

#endif
