/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The two bpf() commands the shared code needs, as libbpf makes them
 * (same attr, same -errno result), without linking libbpf: the shim must
 * load with libc alone, since every process it is preloaded into pays for
 * each library it pulls in (docs/overhead.md, figure 8).
 */
#ifndef BPFLEAK_BPFCALL_H
#define BPFLEAK_BPFCALL_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>

static inline int bpfleak_bpf_call(int cmd, union bpf_attr *attr, unsigned int size)
{
	long r = syscall(__NR_bpf, cmd, attr, size);
	return r < 0 ? -errno : (int)r;
}

/* BPF_OBJ_GET_INFO_BY_FD: 0 (and *len updated) or -errno. */
static inline int bpfleak_obj_get_info(int fd, void *info, __u32 *len)
{
	union bpf_attr attr;
	size_t size = offsetof(union bpf_attr, info) + sizeof(attr.info);
	memset(&attr, 0, size);
	attr.info.bpf_fd = (__u32)fd;
	attr.info.info_len = *len;
	attr.info.info = (__u64)(uintptr_t)info;
	int r = bpfleak_bpf_call(BPF_OBJ_GET_INFO_BY_FD, &attr, (unsigned int)size);
	if (r == 0)
		*len = attr.info.info_len;
	return r;
}

/* BPF_OBJ_GET of a pin, read-only: an FD or -errno. */
static inline int bpfleak_obj_get_rdonly(const char *path)
{
	union bpf_attr attr;
	size_t size = offsetof(union bpf_attr, file_flags) + sizeof(attr.file_flags);
	memset(&attr, 0, size);
	attr.pathname = (__u64)(uintptr_t)path;
	attr.file_flags = BPF_F_RDONLY;
	return bpfleak_bpf_call(BPF_OBJ_GET, &attr, (unsigned int)size);
}

#endif
