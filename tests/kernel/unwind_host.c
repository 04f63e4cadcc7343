// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The program test_unwind stops at its bpf() system call and unwinds.
 *
 * Built without frame pointers (-fomit-frame-pointer, CFI only), like
 * Debian's libbpf and libc, so that only a DWARF unwinder gets from the
 * syscall instruction back to _start.  The path crosses each library
 * twice: main -> qsort (libc) -> host_compare (a callback) -> host_leaf ->
 * bpf_map_get_fd_by_id (libbpf) -> syscall (libc).  The map id does not
 * exist: the call fails with ENOENT and creates nothing.
 *
 * Usage: unwind_host [ROUNDS]   (default 1 qsort call, one bpf() each)
 */
#include <stdint.h>
#include <stdlib.h>
#include <bpf/bpf.h>

/* Side effects the optimizer must keep, so no call is a tail call. */
volatile int host_sink;

int host_leaf(void);
int host_compare(const void *a, const void *b);

__attribute__((noinline)) int host_leaf(void)
{
	int fd = bpf_map_get_fd_by_id(UINT32_MAX);

	host_sink += fd;
	return fd;
}

__attribute__((noinline)) int host_compare(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	host_leaf();
	host_sink++;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 1;

	for (int i = 0; i < rounds; i++) {
		int v[2] = { 2, 1 };

		qsort(v, 2, sizeof(v[0]), host_compare);
		host_sink += v[0];
	}
	return host_sink == 12345;
}
