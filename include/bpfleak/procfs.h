/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * General /proc readers and parsers: fdinfo, the kind behind an FD's link
 * text, mountinfo's bpffs mounts, the boot id, a whole small file.  The
 * snapshot API (snapshot.h) is built on them; so is the recorders'
 * identity code.
 *
 * The parsers work on buffers so they can be fuzzed and unit-tested without
 * a kernel; the readers use open/read only (no stdio), because the shim calls
 * them while the host is exiting.
 */
#ifndef BPFLEAK_PROCFS_H
#define BPFLEAK_PROCFS_H

#include <stddef.h>
#include <stdint.h>

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

#endif
