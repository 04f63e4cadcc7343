/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Reading the kernel's view of a process: its bpf FDs (/proc/PID/fd and
 * /proc/PID/fdinfo) and the pins under every mounted bpffs.  Shared by the
 * shim (exit snapshot) and bpfleak-report (--pid live snapshot).
 *
 * The parsers work on buffers so they can be fuzzed and unit-tested without
 * a kernel; the readers use open/read only (no stdio), because the shim calls
 * them while the host is exiting.
 */
#ifndef BPFLEAK_SNAPSHOT_H
#define BPFLEAK_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What /proc/PID/fdinfo/FD says about a bpf FD. Absent numbers stay 0. */
struct bpfleak_fdinfo {
	int kind;              /* enum bpfleak_kind, from the keys present */
	int cloexec;           /* flags: has O_CLOEXEC */
	uint32_t obj_id;       /* map_id / prog_id / link_id / btf_id */
	uint32_t map_type, key_size, value_size, max_entries, map_flags;
	uint32_t prog_type;
	uint32_t link_type;    /* link_type is a name in fdinfo; kept as text */
	uint32_t prog_id;      /* for links: the program behind it */
	char link_type_name[32];
	char prog_tag[17];     /* 16 hex digits */
};

/* Parse one fdinfo text. Returns the kind (0 when it is not a bpf FD). */
int bpfleak_fdinfo_parse(const char *buf, size_t len, struct bpfleak_fdinfo *out);

/*
 * Kind from the readlink text of /proc/PID/fd/N ("anon_inode:bpf-map", ...).
 * Links have two spellings and tokens are bpffs files, so this is only a
 * first guess; fdinfo keys decide.
 */
int bpfleak_kind_from_target(const char *target);

/*
 * Call cb for every mount point of fstype "bpf" in a mountinfo text, with
 * octal escapes (\040) decoded.  Returns the number of bpffs mounts, or -1
 * when the text is not mountinfo.
 */
int bpfleak_mountinfo_bpffs(const char *buf, size_t len,
			    int (*cb)(const char *mount_point, void *ctx), void *ctx);

/* This boot's id (/proc/sys/kernel/random/boot_id) into out, without its
 * newline; "" when unreadable.  No allocation: the shim calls it at start. */
void bpfleak_boot_id(char *out, size_t cap);

/* Read a whole small file (procfs) into a NUL-terminated malloc'd buffer. */
char *bpfleak_read_file(const char *path, size_t *len_out);

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
 * Take a snapshot of pid (0 = self).  skip_fd, when set, hides FDs that
 * belong to the caller (the shim's own).  The bpffs walk skips the kernel's
 * maps.debug / progs.debug.  Returns 0, or -errno when the process cannot be
 * read at all (missing pid, no permission).
 */
int bpfleak_snapshot_take(pid_t pid, int (*skip_fd)(int fd),
			  struct bpfleak_snapshot *out);
void bpfleak_snapshot_free(struct bpfleak_snapshot *snap);

/* FDs only: the bpf FDs in /proc/PID/fd (out->pid must be set). */
int bpfleak_snapshot_fds(pid_t pid, int (*skip_fd)(int fd), struct bpfleak_snapshot *out);

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
