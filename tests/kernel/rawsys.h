/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * System calls made with the `syscall` instruction itself, as Go and other
 * libc-less runtimes do: the preload shim never sees them, the kernel
 * recorder must.  Kept out of line and with frame pointers, so the kernel's
 * frame-pointer walk names each caller without the DWARF unwinder.
 */
#ifndef BPFLEAK_TESTS_RAWSYS_H
#define BPFLEAK_TESTS_RAWSYS_H

#include <string.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

__attribute__((noinline, unused)) static long raw6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

__attribute__((noinline, unused)) static int raw_bpf(int cmd, union bpf_attr *attr)
{
	return (int)raw6(__NR_bpf, cmd, (long)attr, sizeof(*attr), 0, 0, 0);
}

__attribute__((noinline, unused)) static int raw_map_create(const char *name, unsigned int type,
						   unsigned int max_entries)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = max_entries;
	strncpy(a.map_name, name, sizeof(a.map_name) - 1);
	return raw_bpf(BPF_MAP_CREATE, &a);
}

__attribute__((noinline, unused)) static unsigned int raw_map_id(int fd)
{
	struct bpf_map_info info;
	union bpf_attr a;
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (unsigned int)fd;
	a.info.info_len = sizeof(info);
	a.info.info = (unsigned long)&info;
	return raw_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) == 0 ? info.id : 0;
}

__attribute__((noinline, unused)) static int raw_map_by_id(unsigned int id)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_id = id;
	return raw_bpf(BPF_MAP_GET_FD_BY_ID, &a);
}

__attribute__((noinline, unused)) static int raw_pin(int fd, const char *path)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.bpf_fd = (unsigned int)fd;
	a.pathname = (unsigned long)path;
	return raw_bpf(BPF_OBJ_PIN, &a);
}

__attribute__((noinline, unused)) static int raw_obj_get(const char *path)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.pathname = (unsigned long)path;
	return raw_bpf(BPF_OBJ_GET, &a);
}

__attribute__((noinline, unused)) static int raw_close(int fd)
{
	return (int)raw6(__NR_close, fd, 0, 0, 0, 0, 0);
}

__attribute__((noinline, unused)) static int raw_dup(int fd)
{
	return (int)raw6(__NR_dup, fd, 0, 0, 0, 0, 0);
}

__attribute__((noinline, unused)) static int raw_dup3(int fd, int to, int flags)
{
	return (int)raw6(__NR_dup3, fd, to, flags, 0, 0, 0);
}

__attribute__((noinline, unused)) static int raw_fcntl_dupfd(int fd, int cmd, int min)
{
	return (int)raw6(__NR_fcntl, fd, cmd, min, 0, 0, 0);
}

__attribute__((noinline, unused)) static int raw_close_range(unsigned int first, unsigned int last,
						    unsigned int flags)
{
	return (int)raw6(__NR_close_range, first, last, flags, 0, 0, 0);
}

#endif
