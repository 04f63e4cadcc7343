// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * What a service that runs as a non-root user with CAP_BPF only does with
 * bpf, for tests/package/capbpf.sh (run under LD_PRELOAD=libbpfleak.so):
 *
 *   host_capbpf BPFFS_DIR
 *
 * creates a map (held) and pins it in BPFFS_DIR, re-opens it from the pin
 * and never closes that FD (the leak, line marked CAPBPF:leak), asks for
 * the map by ID (refused without CAP_SYS_ADMIN), loads a socket filter and
 * closes it.  Prints "key value" facts.  Exit 0 done, 77 bpf() not
 * permitted at all (no CAP_BPF), 1 anything else failed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "../lib/host_out.h"

int main(int argc, char **argv)
{
	char pin[4096];
	if (argc != 2) {
		fprintf(stderr, "usage: %s BPFFS_DIR\n", argv[0]);
		return 1;
	}
	snprintf(pin, sizeof(pin), "%s/capbpf_map", argv[1]);

	int map = bpf_map_create(BPF_MAP_TYPE_HASH, "capbpf_map", 4, 8, 16, NULL);
	if (map < 0) {
		out("map_create %s", strerror(errno));
		return errno == EPERM ? 77 : 1;
	}
	if (bpf_obj_pin(map, pin) < 0) {
		out("pin %s", strerror(errno));
		return 1;
	}
	int again = bpf_obj_get(pin); /* CAPBPF:leak */
	if (again < 0) {
		out("obj_get %s", strerror(errno));
		return 1;
	}
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(map, &info, &len) < 0) {
		out("obj_get_info %s", strerror(errno));
		return 1;
	}
	int byid = bpf_map_get_fd_by_id(info.id);
	out("get_fd_by_id %s", byid < 0 ? strerror(errno) : "ok");

	struct bpf_insn insns[2];
	memset(insns, 0, sizeof(insns));
	insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;   /* r0 = 0 */
	insns[0].dst_reg = BPF_REG_0;
	insns[1].code = BPF_JMP | BPF_EXIT;
	int prog = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "capbpf_prog", "GPL", insns, 2, NULL);
	if (prog < 0) {
		out("prog_load %s", strerror(errno));
		return 1;
	}
	close(prog);
	out("map_id %u map %d again %d", info.id, map, again);
	return 0;
}
