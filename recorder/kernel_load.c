// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Loading bpf/recorder.bpf.c (embedded as a bpftool skeleton), telling it
 * which tgids to trace, and reading what it produced.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include "recorder.h"       /* bpf/recorder.h: the record layout */
#include "recorder.skel.h"
#include "kernel.h"
#include "tracefs.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

struct kernel {
	struct recorder_bpf *skel;
	struct ring_buffer *rb;
	kernel_record_fn fn;
	void *ctx;
	int ncpus;
};

/* libbpf's messages: kept (the last one explains a failed load), shown with BPFLEAK_DEBUG. */
static char last_libbpf_msg[256];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	static int debug = -1;
	if (debug < 0)
		debug = getenv("BPFLEAK_DEBUG") != NULL;
	va_list copy;
	va_copy(copy, ap);
	if (level != LIBBPF_DEBUG) {
		vsnprintf(last_libbpf_msg, sizeof(last_libbpf_msg), fmt, copy);
		last_libbpf_msg[strcspn(last_libbpf_msg, "\n")] = '\0';
	}
	va_end(copy);
	if (debug)
		vfprintf(stderr, fmt, ap);
	return 0;
}

static bool have_cap(const struct __user_cap_data_struct *d, int cap)
{
	return (d[cap / 32].effective >> (cap % 32)) & 1;
}

/* CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN, which implies both). */
static int check_privileges(char *err, size_t errcap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) == 0 &&
	    (have_cap(d, CAP_SYS_ADMIN) || (have_cap(d, CAP_BPF) && have_cap(d, CAP_PERFMON))))
		return 0;
	snprintf(err, errcap, "the kernel recorder needs root (CAP_BPF and CAP_PERFMON, "
		 "or CAP_SYS_ADMIN)");
	return -1;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct kernel *k = ctx;
	return k->fn(k->ctx, data, size);
}

static void set_rodata(struct recorder_bpf *s, const struct kernel_opts *o)
{
	s->rodata->close_stacks = o->close_stacks;
	s->rodata->max_depth = (__u32)(o->depth < 1 ? 1 : o->depth > REC_MAX_IPS ? REC_MAX_IPS : o->depth);
	s->rodata->dwarf_min_frames = (__u32)(o->dwarf_min_frames < 0 ? 0 : o->dwarf_min_frames);
	s->rodata->stack_copy_bytes = (__u32)(o->stack_copy_bytes < 0 ? 0
					      : o->stack_copy_bytes > REC_STACK_BYTES ? REC_STACK_BYTES
					      : o->stack_copy_bytes);
	/* A quarter full: wake the recorder rather than wait for its next poll. */
	s->rodata->wakeup_bytes = o->ring_bytes / 4;
}

/* The ring must be a power of two and a multiple of the page size. */
static size_t ring_size(size_t want)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = page;
	while (n < want && n < ((size_t)1 << 30))
		n <<= 1;
	return n;
}

static int attach_all(struct recorder_bpf *s, char *err, size_t errcap)
{
	last_libbpf_msg[0] = '\0';
	int rc = recorder_bpf__attach(s);   /* links are kept in the skeleton */
	if (rc == 0)
		return 0;
	snprintf(err, errcap, "cannot attach the recorder's tracepoints: %s%s%s%s", strerror(-rc),
		 last_libbpf_msg[0] ? " (" : "", last_libbpf_msg, last_libbpf_msg[0] ? ")" : "");
	return -1;
}

int kernel_open(const struct kernel_opts *o, kernel_record_fn fn, void *ctx,
		struct kernel **out, char *err, size_t errcap)
{
	*out = NULL;
	if (check_privileges(err, errcap) || tracefs_ensure(err, errcap))
		return -1;
	libbpf_set_print(libbpf_print);
	struct kernel *k = calloc(1, sizeof(*k));
	if (!k) {
		snprintf(err, errcap, "out of memory");
		return -1;
	}
	k->fn = fn;
	k->ctx = ctx;
	k->ncpus = libbpf_num_possible_cpus();
	k->skel = recorder_bpf__open();
	if (!k->skel) {
		snprintf(err, errcap, "cannot open the recorder's BPF object: %s", strerror(errno));
		goto fail;
	}
	set_rodata(k->skel, o);
	bpf_map__set_max_entries(k->skel->maps.events, (__u32)ring_size(o->ring_bytes));
	int rc = recorder_bpf__load(k->skel);
	if (rc) {
		snprintf(err, errcap, "cannot load the recorder's BPF programs: %s%s%s%s",
			 strerror(-rc), last_libbpf_msg[0] ? " (" : "", last_libbpf_msg,
			 last_libbpf_msg[0] ? ")" : "");
		goto fail;
	}
	if (attach_all(k->skel, err, errcap))
		goto fail;
	k->rb = ring_buffer__new(bpf_map__fd(k->skel->maps.events), on_sample, k, NULL);
	if (!k->rb) {
		snprintf(err, errcap, "cannot map the ring buffer: %s", strerror(errno));
		goto fail;
	}
	*out = k;
	return 0;
fail:
	kernel_close(k);
	return -1;
}

void kernel_close(struct kernel *k)
{
	if (!k)
		return;
	ring_buffer__free(k->rb);
	/* Detaches every program: tracing stops here. */
	recorder_bpf__destroy(k->skel);
	free(k);
}

int kernel_trace(struct kernel *k, pid_t pid, int stack_mode)
{
	if (pid <= 0 || (uint32_t)pid >= REC_MAX_PID)
		return -EINVAL;
	if (kernel_set_stack_mode(k, pid, stack_mode))
		return -errno;
	__atomic_fetch_or(&k->skel->bss->traced_bits[pid / 64], 1ull << (pid % 64), __ATOMIC_SEQ_CST);
	return 0;
}

void kernel_untrace(struct kernel *k, pid_t pid)
{
	if (pid <= 0 || (uint32_t)pid >= REC_MAX_PID)
		return;
	__atomic_fetch_and(&k->skel->bss->traced_bits[pid / 64], ~(1ull << (pid % 64)),
			   __ATOMIC_SEQ_CST);
	__u32 key = (__u32)pid;
	bpf_map__delete_elem(k->skel->maps.procs, &key, sizeof(key), 0);
}

int kernel_set_stack_mode(struct kernel *k, pid_t pid, int stack_mode)
{
	return kernel_set_stack(k, pid, stack_mode, 0);
}

int kernel_set_stack(struct kernel *k, pid_t pid, int stack_mode, uint32_t stack_bytes)
{
	__u32 key = (__u32)pid;
	struct rec_proc_cfg cfg = { .stack_mode = (__u32)stack_mode, .stack_bytes = stack_bytes };
	return bpf_map__update_elem(k->skel->maps.procs, &key, sizeof(key), &cfg, sizeof(cfg), 0);
}

int kernel_poll(struct kernel *k, int timeout_ms)
{
	/* Records come without wake-ups (BPF_RB_NO_WAKEUP): after the wait, look anyway. */
	int n = ring_buffer__poll(k->rb, timeout_ms);
	if (n < 0)
		return n;
	int m = ring_buffer__consume(k->rb);
	return m < 0 ? m : n + m;
}

size_t kernel_take_drops(struct kernel *k, struct kernel_drops *out, size_t cap)
{
	int fd = bpf_map__fd(k->skel->maps.drops);
	size_t n = 0;
	__u32 key, next;
	bool first = true;
	while (n < cap && bpf_map_get_next_key(fd, first ? NULL : &key, &next) == 0) {
		first = false;
		key = next;
		struct rec_drops d;
		/* Atomic with the kernel's updates: nothing is counted twice. */
		if (bpf_map_lookup_and_delete_elem(fd, &key, &d) == 0 && d.count) {
			out[n++] = (struct kernel_drops){ (pid_t)key, d.count, d.first_ns, d.last_ns };
			first = true;   /* the key is gone: start over */
		}
	}
	return n;
}

uint64_t kernel_lost_total(struct kernel *k)
{
	__u32 zero = 0;
	__u64 *vals = calloc((size_t)k->ncpus, sizeof(__u64));
	uint64_t sum = 0;
	if (vals && bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.lost_total), &zero, vals) == 0)
		for (int i = 0; i < k->ncpus; i++)
			sum += vals[i];
	free(vals);
	return sum;
}
