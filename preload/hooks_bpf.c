// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The bpf() hook.  Commands that create nothing (lookups, updates, info
 * queries) cost one bit test before the real syscall.  For FD-creating
 * commands the real call runs first; then the object's identity is taken
 * from the attr (GET_FD_BY_ID), the cache, or bpf_obj_get_info_by_fd, and a
 * create event with the interned stack goes to the queue.
 */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpfleak/journal.h>
#include <bpfleak/objinfo.h>
#include "shim.h"

/* Commands newer than Debian 12's <linux/bpf.h>. */
#define CMD_TOKEN_CREATE 36

#define BIT(c) (1ull << (c))
static const uint64_t creates_fd_mask =
	BIT(BPF_MAP_CREATE) | BIT(BPF_PROG_LOAD) | BIT(BPF_OBJ_GET) |
	BIT(BPF_PROG_GET_FD_BY_ID) | BIT(BPF_MAP_GET_FD_BY_ID) |
	BIT(BPF_RAW_TRACEPOINT_OPEN) | BIT(BPF_BTF_LOAD) | BIT(BPF_BTF_GET_FD_BY_ID) |
	BIT(BPF_LINK_CREATE) | BIT(BPF_LINK_GET_FD_BY_ID) | BIT(BPF_ENABLE_STATS) |
	BIT(BPF_ITER_CREATE) | BIT(CMD_TOKEN_CREATE);
static const uint64_t interesting_mask = creates_fd_mask | BIT(BPF_OBJ_PIN);

static int kind_of_cmd(int cmd)
{
	switch (cmd) {
	case BPF_MAP_CREATE:
	case BPF_MAP_GET_FD_BY_ID:
		return BPFLEAK_KIND_MAP;
	case BPF_PROG_LOAD:
	case BPF_PROG_GET_FD_BY_ID:
		return BPFLEAK_KIND_PROG;
	case BPF_LINK_CREATE:
	case BPF_RAW_TRACEPOINT_OPEN:
	case BPF_LINK_GET_FD_BY_ID:
		return BPFLEAK_KIND_LINK;
	case BPF_BTF_LOAD:
	case BPF_BTF_GET_FD_BY_ID:
		return BPFLEAK_KIND_BTF;
	case BPF_ITER_CREATE:
		return BPFLEAK_KIND_ITER;
	case BPF_ENABLE_STATS:
		return BPFLEAK_KIND_STATS;
	case CMD_TOKEN_CREATE:
		return BPFLEAK_KIND_TOKEN;
	default:
		return BPFLEAK_KIND_UNKNOWN;   /* OBJ_GET: whatever the pin holds */
	}
}

static bool is_get_fd_by_id(int cmd)
{
	return cmd == BPF_MAP_GET_FD_BY_ID || cmd == BPF_PROG_GET_FD_BY_ID ||
	       cmd == BPF_LINK_GET_FD_BY_ID || cmd == BPF_BTF_GET_FD_BY_ID;
}

static long real_bpf_call(int cmd, void *attr, unsigned int size, bool via_bpf_symbol)
{
	if (via_bpf_symbol && real.bpf)
		return real.bpf(cmd, attr, size);
	return real.syscall(SYS_bpf, (long)cmd, (long)attr, (long)size);
}

/* Identity of the object behind a new fd; syscalls only when not cached. */
static const struct obj_node *identify(int cmd, const void *attr, unsigned int size, int fd)
{
	int kind = kind_of_cmd(cmd);
	if (kind == BPFLEAK_KIND_ITER || kind == BPFLEAK_KIND_STATS || kind == BPFLEAK_KIND_TOKEN) {
		struct bpfleak_obj_info none = { .kind = kind };
		return objcache_add(&none);
	}
	if (is_get_fd_by_id(cmd) && attr && size >= sizeof(__u32)) {
		__u32 id;
		memcpy(&id, attr, sizeof(id));   /* start_id/map_id/prog_id/... share offset 0 */
		const struct obj_node *n = objcache_find(kind, id);
		if (n)
			return n;
	}
	struct bpfleak_obj_info info;
	if (bpfleak_obj_info_get(fd, kind, &info) != 0) {
		memset(&info, 0, sizeof(info));
		info.kind = kind;
	}
	return objcache_add(&info);
}

static void record_create(int cmd, const void *attr, unsigned int size, int fd)
{
	uint64_t ts = shim_now_ns();
	const struct obj_node *obj = identify(cmd, attr, size, fd);
	int kind = obj ? obj->info.kind : kind_of_cmd(cmd);
	uint32_t id = obj ? obj->info.id : 0;

	fdtable_install(fd, kind, id, true);
	struct shim_event ev;
	event_init(&ev, BPFLEAK_OP_CREATE, ts);
	ev.fd = fd;
	ev.cmd = (int16_t)cmd;
	ev.kind = (uint8_t)kind;
	ev.obj_id = id;
	ev.obj = obj;
	ev.result = fd;
	ev.flags = BPFLEAK_EF_CLOEXEC;   /* the kernel sets O_CLOEXEC on every bpf FD */
	ev.stack = stack_capture();
	event_submit(&ev);
}

static void record_pin(const void *attr, unsigned int size, long result)
{
	if (!attr || size < offsetof(union bpf_attr, file_flags))
		return;
	const union bpf_attr *a = attr;
	int fd = (int)a->bpf_fd;
	const char *path = (const char *)(uintptr_t)a->pathname;
	struct shim_event ev;
	event_init(&ev, BPFLEAK_OP_PIN, shim_now_ns());
	ev.fd = fd;
	ev.cmd = BPF_OBJ_PIN;
	ev.result = (int32_t)result;

	_Atomic uint64_t *slot = fdtable_peek(fd);
	uint64_t s = slot ? atomic_load(slot) : 0;
	if (SLOT_TRACKED(s)) {
		ev.kind = (uint8_t)SLOT_KIND(s);
		ev.obj_id = SLOT_ID(s);
	} else {
		struct bpfleak_obj_info info;
		if (bpfleak_obj_info_get(fd, BPFLEAK_KIND_UNKNOWN, &info) == 0) {
			ev.kind = (uint8_t)info.kind;
			ev.obj_id = info.id;
			ev.obj = objcache_add(&info);
		}
	}
	ev.detail = path ? arena_strdup(path, 4096) : NULL;
	ev.stack = stack_capture();
	event_submit(&ev);
}

static void record_error(int cmd, int err)
{
	struct shim_event ev;
	event_init(&ev, BPFLEAK_OP_ERROR, shim_now_ns());
	ev.cmd = (int16_t)cmd;
	ev.kind = (uint8_t)kind_of_cmd(cmd);
	ev.result = -err;
	event_submit(&ev);
}

long hook_bpf(int cmd, void *attr, unsigned int size, bool via_bpf_symbol)
{
	if (cmd < 0 || cmd >= 64 || !(interesting_mask & BIT(cmd)) || !shim_recording())
		return real_bpf_call(cmd, attr, size, via_bpf_symbol);

	shim_guard++;
	long r = real_bpf_call(cmd, attr, size, via_bpf_symbol);
	int saved = errno;
	if (cmd == BPF_OBJ_PIN)
		record_pin(attr, size, r < 0 ? -saved : r);
	else if (r >= 0)
		record_create(cmd, attr, size, (int)r);
	else
		record_error(cmd, saved);
	shim_guard--;
	errno = saved;
	return r;
}
