/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The kernel half of the recorder as user space sees it: load and attach
 * bpf/recorder.bpf.c, say which processes to trace, read its ring buffer
 * and its lost-record counters.
 */
#ifndef BPFLEAK_RECORDER_KERNEL_H
#define BPFLEAK_RECORDER_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct kernel;

struct kernel_opts {
	bool close_stacks;
	int depth;                 /* frames per stack, 1..128 */
	size_t ring_bytes;         /* ring buffer size, a power of 2 >= page size */
	int dwarf_min_frames;      /* STACK_AUTO: copy the stack below this many FP frames */
	int stack_copy_bytes;      /* user stack copied for the unwinder, <= REC_STACK_BYTES */
};

/* One ring buffer record: return nonzero to stop the drain. */
typedef int (*kernel_record_fn)(void *ctx, const void *rec, size_t size);

/*
 * Check the privileges, mount tracefs if it is missing, load and attach.
 * Returns 0, or -1 with a one-line reason in err (not permitted, or not
 * supported by this kernel).
 */
int kernel_open(const struct kernel_opts *o, kernel_record_fn fn, void *ctx,
		struct kernel **out, char *err, size_t errcap);
void kernel_close(struct kernel *k);

/* Start or stop tracing a tgid; stack_mode is enum rec_stack_mode. */
int kernel_trace(struct kernel *k, pid_t pid, int stack_mode);
void kernel_untrace(struct kernel *k, pid_t pid);
int kernel_set_stack_mode(struct kernel *k, pid_t pid, int stack_mode);
/* The same, and how much user stack to copy (0: the default, kernel_opts.stack_copy_bytes). */
int kernel_set_stack(struct kernel *k, pid_t pid, int stack_mode, uint32_t stack_bytes);

/*
 * Wait up to timeout_ms for records (they come without wake-ups, so this
 * mostly sleeps), then hand every record in the buffer to fn.  Returns the
 * number of records, or -errno (-EINTR when a signal came).
 */
int kernel_poll(struct kernel *k, int timeout_ms);

/* Records lost for a tgid since the last call: count, and when. */
struct kernel_drops {
	pid_t pid;
	uint64_t count, first_ns, last_ns;
};
/* Fill up to cap entries (and take them out of the kernel's table). */
size_t kernel_take_drops(struct kernel *k, struct kernel_drops *out, size_t cap);
/* Every record lost since load, whoever it was for. */
uint64_t kernel_lost_total(struct kernel *k);

#endif
