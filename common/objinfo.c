// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* Object identity of a bpf FD through BPF_OBJ_GET_INFO_BY_FD. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpfleak/journal.h>
#include <bpfleak/objinfo.h>
#include <bpfleak/snapshot.h>
#include "bpfcall.h"

int bpfleak_fd_kind(int fd)
{
	char path[40], target[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return BPFLEAK_KIND_UNKNOWN;
	target[n] = '\0';
	return bpfleak_kind_from_target(target);
}

static void hex_tag(const unsigned char *tag, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 8; i++) {
		out[2 * i] = digits[tag[i] >> 4];
		out[2 * i + 1] = digits[tag[i] & 15];
	}
	out[16] = '\0';
}

int bpfleak_obj_info_get(int fd, int kind, struct bpfleak_obj_info *out)
{
	memset(out, 0, sizeof(*out));
	if (kind == BPFLEAK_KIND_UNKNOWN)
		kind = bpfleak_fd_kind(fd);
	out->kind = kind;

	union {
		struct bpf_map_info map;
		struct bpf_prog_info prog;
		struct bpf_link_info link;
		struct bpf_btf_info btf;
	} u;
	memset(&u, 0, sizeof(u));
	__u32 len;
	int err;

	switch (kind) {
	case BPFLEAK_KIND_MAP:
		len = sizeof(u.map);
		if ((err = bpfleak_obj_get_info(fd, &u.map, &len)))
			return err < 0 ? err : -errno;
		out->id = u.map.id;
		out->type = u.map.type;
		out->key_size = u.map.key_size;
		out->value_size = u.map.value_size;
		out->max_entries = u.map.max_entries;
		out->flags = u.map.map_flags;
		memcpy(out->name, u.map.name, sizeof(out->name));
		break;
	case BPFLEAK_KIND_PROG:
		len = sizeof(u.prog);
		if ((err = bpfleak_obj_get_info(fd, &u.prog, &len)))
			return err < 0 ? err : -errno;
		out->id = u.prog.id;
		out->type = u.prog.type;
		memcpy(out->name, u.prog.name, sizeof(out->name));
		hex_tag(u.prog.tag, out->tag);
		break;
	case BPFLEAK_KIND_LINK:
		len = sizeof(u.link);
		if ((err = bpfleak_obj_get_info(fd, &u.link, &len)))
			return err < 0 ? err : -errno;
		out->id = u.link.id;
		out->type = u.link.type;
		out->prog_id = u.link.prog_id;
		break;
	case BPFLEAK_KIND_BTF:
		len = sizeof(u.btf);
		if ((err = bpfleak_obj_get_info(fd, &u.btf, &len)))
			return err < 0 ? err : -errno;
		out->id = u.btf.id;
		break;
	case BPFLEAK_KIND_ITER:
	case BPFLEAK_KIND_STATS:
	case BPFLEAK_KIND_TOKEN:
		break;
	default:
		return -ENOTSUP;
	}
	out->name[sizeof(out->name) - 1] = '\0';
	return 0;
}
