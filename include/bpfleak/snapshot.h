/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Reading the kernel's view of a process: its bpf FDs (/proc/PID/fd and
 * /proc/PID/fdinfo) and the pins under every mounted bpffs.  Shared by the
 * recorders (exit snapshot) and bpfleak-report (--pid live snapshot).  The
 * readers use open/read only (no stdio), because the shim calls them while
 * the host is exiting; the /proc parsers they use are in procfs.h.
 */
#ifndef BPFLEAK_SNAPSHOT_H
#define BPFLEAK_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <bpfleak/procfs.h>

struct bpfleak_snap_fd {
	int fd;
	int kind;
	uint32_t obj_id;
	int cloexec;
	char target[64];
	char *fdinfo;          /* raw text, malloc'd */
	struct bpfleak_fdinfo info;
};

struct bpfleak_snap_pin {
	char *path;            /* malloc'd */
	int kind;
	uint32_t obj_id;
	char name[16];
	int error;             /* errno when the pin could not be opened; 0 ok */
};

struct bpfleak_snapshot {
	pid_t pid;
	struct bpfleak_snap_fd *fds;
	size_t n_fds;
	struct bpfleak_snap_pin *pins;
	size_t n_pins;
	int n_mounts;          /* bpffs mounts seen (after bind-mount dedup) */
	int fd_error;          /* errno when /proc/PID/fd could not be read */
	int n_io_uring;        /* io_uring instances among the FDs */
};

/*
 * Take a snapshot of pid (0 = self).  The bpffs walk skips the kernel's
 * maps.debug / progs.debug.  Returns 0, or -errno when the process cannot be
 * read at all (missing pid, no permission).
 */
int bpfleak_snapshot_take(pid_t pid, struct bpfleak_snapshot *out);
void bpfleak_snapshot_free(struct bpfleak_snapshot *snap);

/* FDs only: the bpf FDs in /proc/PID/fd (out->pid must be set). */
int bpfleak_snapshot_fds(pid_t pid, struct bpfleak_snapshot *out);

/* Pins only: walk every bpffs in /proc/PID/mountinfo. */
int bpfleak_snapshot_pins(pid_t pid, struct bpfleak_snapshot *out);

/*
 * The same, read through thread TID of PID (/proc/PID/task/TID): a process
 * whose main thread has exited (pthread_exit) shows nothing in /proc/PID/fd
 * while its other threads still share the table.
 */
int bpfleak_snapshot_fds_of(pid_t pid, pid_t tid, struct bpfleak_snapshot *out);
int bpfleak_snapshot_pins_of(pid_t pid, pid_t tid, struct bpfleak_snapshot *out);

/* The same from a mountinfo text read earlier, its mount points reached
 * under root (e.g. "/proc/self/fd/N", N an O_PATH FD of a process's root
 * that has exited since); "" or NULL: as they are. */
int bpfleak_snapshot_pins_at(const char *root, const char *mountinfo, size_t len,
			      struct bpfleak_snapshot *out);

#endif
