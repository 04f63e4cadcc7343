// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * A program with one bpf FD leak of each kind, at lines marked "E2E:name"
 * (e2e_leaks.sh finds them with grep, so edits here need no test change).
 * Run under LD_PRELOAD=libbpfleak.so with BPFLEAK_CLOSE_STACKS=1; built
 * -O0 -g so every marked call keeps its own line.
 *
 *   usage: e2e_leaks BPFFS_DIR      exit 0 ok, 77 bpf() not permitted
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#define GET_BY_ID_LOOPS 8

int main(int argc, char **argv)
{
	char pin[4096];
	if (argc != 2) {
		fprintf(stderr, "usage: %s BPFFS_DIR\n", argv[0]);
		return 2;
	}
	snprintf(pin, sizeof(pin), "%s/leaky_map", argv[1]);

	/* Held on purpose until exit: outstanding, but not a leak. */
	int map = bpf_map_create(BPF_MAP_TYPE_HASH, "leaky_map", 4, 8, 16, NULL); /* E2E:held */
	if (map < 0) {
		fprintf(stderr, "bpf_map_create: %s\n", strerror(errno));
		return errno == EPERM || errno == EACCES || errno == ENOSYS ? 77 : 1;
	}
	if (bpf_obj_pin(map, pin) < 0) {
		fprintf(stderr, "bpf_obj_pin %s: %s\n", pin, strerror(errno));
		return 1;
	}

	/* Leak 1: the map re-opened from its pin and never closed (duplicate). */
	int again = bpf_obj_get(pin); /* E2E:obj_get */
	if (again < 0)
		return 1;

	/* Leak 2: a per-iteration re-open by id, never closed (duplicate, growth). */
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(map, &info, &len) < 0)
		return 1;
	for (int i = 0; i < GET_BY_ID_LOOPS; i++) {
		int fd = bpf_map_get_fd_by_id(info.id); /* E2E:get_by_id */
		if (fd < 0)
			return 1;
		usleep(15000);
	}

	/* Leak 3: a program FD left open, reachable from no pin (unpinned). */
	struct bpf_insn insns[2];
	memset(insns, 0, sizeof(insns));
	insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;   /* r0 = 0 */
	insns[0].dst_reg = BPF_REG_0;
	insns[1].code = BPF_JMP | BPF_EXIT;
	int prog = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "leaky_prog", "GPL", insns, 2, NULL); /* E2E:prog */
	if (prog < 0) {
		fprintf(stderr, "bpf_prog_load: %s\n", strerror(errno));
		return 1;
	}

	/* Leak 4: a double close. */
	int tmp = bpf_map_create(BPF_MAP_TYPE_ARRAY, "closed_twice", 4, 4, 1, NULL);
	if (tmp < 0)
		return 1;
	close(tmp);
	close(tmp); /* E2E:double_close */

	printf("e2e_leaks: map %d again %d prog %d\n", map, again, prog);
	return 0;
}
