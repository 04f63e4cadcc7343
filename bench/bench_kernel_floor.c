// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * K3's floors (bench/bench_kernel.c): the cost an untraced process pays
 * while tracing runs before any of the recorder's own instructions, so the
 * K3 row can be read against what no program on these tracepoints can
 * avoid.  Both attach programs that return at once:
 *
 *   FLOOR_SLOW_PATH  on syscalls:sys_enter_getppid, which the loop never
 *                    calls: every system call of every process takes the
 *                    kernel's slow path (syscall_trace_enter,
 *                    syscall_exit_work), no program runs for the loop.
 *   FLOOR_RAW_PAIR   on the raw sys_enter and sys_exit tracepoints, where
 *                    bpf/recorder.bpf.c attaches: the slow path plus two
 *                    program runs (bpf_trace_run2) per system call.
 *   FLOOR_RAW_ENTER  raw sys_enter alone: the least a design that sees
 *                    every process's calls could attach.
 *   FLOOR_PER_CALL   raw sys_enter and the per-call syscalls:sys_exit_dup:
 *                    results read only at the exits that make FDs, instead
 *                    of raw sys_exit for every call.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include "bench_kernel_floor.h"

static int empty_prog(enum bpf_prog_type type)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	return bpf_prog_load(type, "kbench_floor", "GPL", insns, 2, NULL);
}

static int tracepoint_id(const char *event)
{
	char path[256];
	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/id", event);
	FILE *f = fopen(path, "r");
	int id = -1;
	if (f) {
		if (fscanf(f, "%d", &id) != 1)
			id = -1;
		fclose(f);
	}
	return id;
}

/*
 * A program on a tracepoint event belongs to the event, not to the perf
 * event it is set through: one perf event (CPU 0) runs it on every CPU.
 */
/*
 * A program on a tracepoint event belongs to the event, not to the perf
 * event it is set through: one perf event (CPU 0) runs it on every CPU.
 */
static int attach_event(const char *event, int *fds)
{
	int id = tracepoint_id(event);
	if (id < 0)
		return -1;
	struct perf_event_attr attr = { .type = PERF_TYPE_TRACEPOINT, .size = sizeof(attr),
					.config = (__u64)id, .sample_period = 1 };
	fds[0] = empty_prog(BPF_PROG_TYPE_TRACEPOINT);
	fds[1] = (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fds[0] < 0 || fds[1] < 0 || ioctl(fds[1], PERF_EVENT_IOC_SET_BPF, fds[0]) ||
	    ioctl(fds[1], PERF_EVENT_IOC_ENABLE, 0)) {
		floor_detach(fds, 2);
		return -1;
	}
	return 2;
}

static int attach_raw(const char *tp, int *fds)
{
	fds[0] = empty_prog(BPF_PROG_TYPE_RAW_TRACEPOINT);
	fds[1] = fds[0] < 0 ? -1 : bpf_raw_tracepoint_open(tp, fds[0]);
	if (fds[1] < 0) {
		floor_detach(fds, 2);
		return -1;
	}
	return 2;
}

int floor_attach(enum floor which, int fds[FLOOR_MAX_FDS])
{
	for (int i = 0; i < FLOOR_MAX_FDS; i++)
		fds[i] = -1;
	if (which == FLOOR_SLOW_PATH)
		return attach_event("syscalls/sys_enter_getppid", fds);
	if (attach_raw("sys_enter", fds) < 0)
		return -1;
	if (which == FLOOR_RAW_ENTER)
		return 2;
	int more = which == FLOOR_RAW_PAIR ? attach_raw("sys_exit", fds + 2)
					   : attach_event("syscalls/sys_exit_dup", fds + 2);
	if (more < 0) {
		floor_detach(fds, 2);
		return -1;
	}
	return 4;
}

void floor_detach(int *fds, int n)
{
	for (int i = n - 1; i >= 0; i--)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}
