/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* What the kernel says about the bpf object behind an FD (via libbpf). */
#ifndef BPFLEAK_OBJINFO_H
#define BPFLEAK_OBJINFO_H

#include <stdint.h>

struct bpfleak_obj_info {
	int kind;             /* enum bpfleak_kind */
	uint32_t id;
	uint32_t type;        /* map / prog / link type */
	uint32_t key_size, value_size, max_entries, flags;
	uint32_t prog_id;     /* links: the attached program */
	char name[16];        /* BPF_OBJ_NAME_LEN */
	char tag[17];         /* prog tag, hex */
};

/* Kind of an FD of this process from readlink(/proc/self/fd/N). */
int bpfleak_fd_kind(int fd);

/*
 * Fill out for fd, whose kind is known (or BPFLEAK_KIND_UNKNOWN: it is looked
 * up first).  Kinds without an id (iter, stats, token) succeed with id 0.
 * Returns 0 or -errno.
 */
int bpfleak_obj_info_get(int fd, int kind, struct bpfleak_obj_info *out);

#endif
