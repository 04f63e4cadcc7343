/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The records bpf/recorder.bpf.c puts in its ring buffer and recorder/
 * reads back: one layout for both sides.  Include <linux/types.h> (user
 * space) or vmlinux.h (BPF) first.
 *
 * Every record starts with struct rec_hdr.  An event record (create, dup,
 * close, ...) comes in three sizes: without a stack (closes), with the
 * frame-pointer stack, and with the frame-pointer stack plus the user
 * registers and a copy of the user stack for the recorder's DWARF unwinder
 * (when the frame-pointer walk is short: C through libraries built without
 * frame pointers).  The record's size says which; the fields of the smaller
 * ones are a prefix of the larger.
 */
#ifndef BPFLEAK_BPF_RECORDER_H
#define BPFLEAK_BPF_RECORDER_H

#define REC_MAX_IPS 128            /* the shim's SHIM_MAX_DEPTH */
#define REC_STACK_BYTES 8192       /* user stack copied for the DWARF unwinder */
#define REC_PATH_MAX 4096
#define REC_MAX_PID (1u << 22)     /* PID_MAX_LIMIT on 64-bit */
/* FD table walks stop here (the kernel's default hard limit is 1 << 20). */
#define REC_MAX_WALK_FDS (1u << 20)

enum rec_type {
	REC_CREATE = 1,   /* bpf() returned a new FD */
	REC_ERROR,        /* an FD-creating bpf() command failed: result = -errno */
	REC_PIN,          /* BPF_OBJ_PIN (struct rec_pin) */
	REC_DUP,          /* fd is a copy of fd2 */
	REC_CLOSE,        /* a bpf FD was closed; result -EBADF: it was not open */
	REC_FORK,         /* h.pid is a new process, child of fd2 (struct rec_proc) */
	REC_EXEC,         /* h.pid exec'd (struct rec_exec) */
	REC_EXIT,         /* the last thread of h.pid exited (struct rec_proc) */
	REC_FD,           /* one bpf FD met in a walk of the FD table (struct rec_fd) */
	REC_WALK_END,     /* the end of that walk (struct rec_fd: result, count) */
};

/* What an FD table walk is for (rec_hdr.walk). */
enum rec_walk {
	WALK_NONE = 0,
	WALK_FORK,           /* the FDs a fork child starts with */
	WALK_EXEC,           /* the FDs that survived exec (no O_CLOEXEC) */
	WALK_EXIT,           /* the FDs open when the last thread exited: the exit snapshot */
	WALK_RANGE_CLOSE,    /* close_range(first, last, 0) is about to close these */
	WALK_RANGE_CLOEXEC,  /* close_range(CLOSE_RANGE_CLOEXEC) marked these */
};

/* Per-process stack policy (struct rec_proc_cfg.stack_mode). */
enum rec_stack_mode {
	STACK_AUTO = 0,      /* copy registers + stack when the FP walk is short */
	STACK_FP_ONLY,       /* frame pointers are enough (Go) */
	STACK_ALWAYS_COPY,
};

struct rec_hdr {
	__u64 ts_ns;               /* CLOCK_MONOTONIC */
	__u32 pid, tid;            /* host tgid and thread id */
	__u16 type, walk;
	__u32 pad;
};

/* What the kernel knows about the object behind a bpf FD. */
struct rec_obj {
	__u32 kind, id;            /* enum bpfleak_kind; kernel object id */
	__u32 type;                /* map / prog / link type */
	__u32 key_size, value_size, max_entries, flags;
	__u32 prog_id;             /* links: the program */
	char name[16];
	__u8 tag[8];               /* progs */
	__u32 has_info;            /* the fields past id are filled */
	__u32 pad;
};

struct rec_regs {
	__u64 ip, sp, bp;
	__u64 regs[17];            /* DWARF x86_64 order 0..16 */
};

struct rec_event_small {
	struct rec_hdr h;
	__s32 fd, fd2;
	__s32 cmd, result;         /* cmd -1: not a bpf() command */
	__u32 flags;               /* BPFLEAK_EF_* */
	__u32 n_ips;
	struct rec_obj obj;
};

struct rec_event {
	struct rec_event_small e;
	__u64 ips[REC_MAX_IPS];    /* bpf_get_stack(BPF_F_USER_STACK): n_ips of them */
};

struct rec_event_regs {
	struct rec_event ev;
	struct rec_regs regs;
	__u32 stack_len, pad;
	/* User memory from regs.sp up.  The record ends after stack_len bytes
	 * of it (rounded up to 2 KiB or 4 KiB, or all of it): its size says. */
	__u8 stack[REC_STACK_BYTES];
};

struct rec_pin {
	struct rec_hdr h;
	__s32 fd, result;
	struct rec_obj obj;
	char path[REC_PATH_MAX];
};

#define REC_AUXV_WORDS 64
struct rec_exec {
	struct rec_hdr h;
	__s32 old_pid, pad;
	__u64 exe_ino;             /* the program file: inode and device (MAJOR << 20 | MINOR) */
	__u32 exe_dev, pad2;
	/* The new image's auxiliary vector (AT_PHDR, AT_ENTRY, AT_BASE, ...):
	 * where the program and ld.so were loaded, for a process gone before
	 * the recorder could read its maps. */
	__u64 auxv[REC_AUXV_WORDS];
	char path[REC_PATH_MAX];
};

struct rec_proc {
	struct rec_hdr h;
	__s32 ppid;                /* REC_FORK: the parent (tgid) */
	__s32 exit_code;           /* REC_EXIT: task->exit_code (wait status form) */
};

struct rec_fd {
	struct rec_hdr h;
	__s32 fd, result;          /* REC_WALK_END: result of the syscall (ranges) */
	__u32 cloexec;
	__u32 listed, lost;        /* REC_WALK_END: REC_FD records sent, and lost */
	__u32 pad;
	struct rec_obj obj;
};

/* Value of the per-process map (procs): what user space set for a tgid. */
struct rec_proc_cfg {
	__u32 stack_mode;
	__u32 stack_bytes;         /* user stack to copy; 0: the recorder's default */
};

/* Value of the drops map: records lost for a tgid since user space last looked. */
struct rec_drops {
	__u64 count, first_ns, last_ns;
};

#endif
