// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
#ifndef BPFLEAK_BENCH_KERNEL_FLOOR_H
#define BPFLEAK_BENCH_KERNEL_FLOOR_H

/* What the kernel charges every system call once tracing is on (bench_kernel_floor.c). */
enum floor {
	FLOOR_SLOW_PATH,   /* one syscall tracepoint, a call the loop never makes */
	FLOOR_RAW_PAIR,    /* empty programs where the recorder's are: raw sys_enter, sys_exit */
	FLOOR_RAW_ENTER,   /* an empty program on raw sys_enter alone */
	FLOOR_PER_CALL,    /* raw sys_enter and syscalls:sys_exit_dup, dup's own exit event */
};

#define FLOOR_MAX_FDS 4

/* Attach the floor's empty programs; its FDs go to fds. Returns their number, or -1. */
int floor_attach(enum floor which, int fds[FLOOR_MAX_FDS]);
void floor_detach(int *fds, int n);

#endif
