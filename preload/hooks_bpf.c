// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The bpf() hook.  Commands that create nothing (lookups, updates, info
 * queries) cost one bit test before the real syscall.  For FD-creating
 * commands the real call runs first; then the object's identity is taken
 * from the attr (GET_FD_BY_ID), the cache, or bpf_obj_get_info_by_fd, and a
 * create event with the interned stack goes to the queue.
 *
 * Everything here runs with little stack: a create may come from a signal
 * handler on an alternate stack of a few KiB (see sigstack.c).
 */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpfleak/journal.h>
#include <bpfleak/objinfo.h>
#include "shim.h"

#define BIT(c) (1ull << (c))
static uint64_t interesting_mask;

void hooks_init(void)
{
	uint64_t mask = BIT(BPF_OBJ_PIN);
	for (int c = 0; c < BPFLEAK_CMD_MAX; c++)
		if (bpfleak_cmds[c].creates_fd)
			mask |= BIT(c);
	interesting_mask = mask;
}

static bool is_get_fd_by_id(int cmd)
{
	return cmd == BPF_MAP_GET_FD_BY_ID || cmd == BPF_PROG_GET_FD_BY_ID ||
	       cmd == BPF_LINK_GET_FD_BY_ID || cmd == BPF_BTF_GET_FD_BY_ID;
}

static long real_bpf_call(int cmd, void *attr, unsigned int size, bool via_bpf_symbol)
{
	if (via_bpf_symbol)
		return real.bpf(cmd, attr, size);
	return raw_syscall(__NR_bpf, cmd, (long)attr, size, 0, 0, 0);
}

/* Identity of the object behind a new fd; syscalls only when not cached.
 * A frame of its own: the info structs stay off the light path. */
__attribute__((noinline)) static const struct obj_node *identify(int cmd, const void *attr, unsigned int size, int fd)
{
	int kind = bpfleak_cmds[cmd].kind;
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

static void capture(struct shim_event *ev)
{
	ev->stack = stack_capture();
	if (!ev->stack && !stack_disabled())
		ev->flags |= BPFLEAK_EF_NO_STACK;
}

/*
 * Below this much stack (a small alternate signal stack), a create is
 * recorded without its object's identity or stack: no lookups, no unwinding.
 */
#define LIGHT_STACK_NEED 2048

static const struct obj_node *identify_light(int cmd, const void *attr, unsigned int size)
{
	if (is_get_fd_by_id(cmd) && attr && size >= sizeof(__u32)) {
		__u32 id;
		memcpy(&id, attr, sizeof(id));
		return objcache_find(bpfleak_cmds[cmd].kind, id);
	}
	return NULL;
}

__attribute__((noinline)) static void record_create(int cmd, const void *attr, unsigned int size, int fd, uint64_t ts,
			  uint64_t mark)
{
	bool light = !sigstack_room(LIGHT_STACK_NEED);
	const struct obj_node *obj = light ? identify_light(cmd, attr, size)
					   : identify(cmd, attr, size, fd);
	int kind = obj ? obj->info.kind : bpfleak_cmds[cmd].kind;
	uint32_t id = obj ? obj->info.id : 0;

	uint64_t old = fdtable_install(fd, kind, id, true);
	struct shim_event ev;
	event_init(&ev, BPFLEAK_OP_CREATE, ts);
	ev.fd = fd;
	ev.cmd = (int16_t)cmd;
	ev.kind = (uint8_t)kind;
	ev.obj_id = id;
	ev.obj = obj;
	ev.result = fd;
	ev.flags = BPFLEAK_EF_CLOEXEC;   /* the kernel sets O_CLOEXEC on every bpf FD */
	/* The scan at the start of recording listed it already: this is its birth. */
	if (SLOT_TRACKED(old) && SLOT_ID(old) == id)
		ev.flags |= BPFLEAK_EF_LISTED;
	if (record_overlap(mark))
		ev.flags |= BPFLEAK_EF_IN_SNAPSHOT;
	if (light)
		ev.flags |= BPFLEAK_EF_NO_STACK;
	else
		capture(&ev);
	record_submit(&ev);
	if (cmd == BPF_OBJ_GET)
		record_touched_pins();
}

__attribute__((noinline)) static void record_pin(const void *attr, unsigned int size, long result, uint64_t ts)
{
	if (!attr || size < offsetof(union bpf_attr, file_flags))
		return;
	const union bpf_attr *a = attr;
	int fd = (int)a->bpf_fd;
	const char *path = (const char *)(uintptr_t)a->pathname;
	struct shim_event ev;
	event_init(&ev, BPFLEAK_OP_PIN, ts);
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
	capture(&ev);
	record_submit(&ev);
	record_touched_pins();
}

__attribute__((noinline)) static void record_error(int cmd, int err, uint64_t ts)
{
	struct shim_event ev;
	event_init(&ev, BPFLEAK_OP_ERROR, ts);
	ev.cmd = (int16_t)cmd;
	ev.kind = (uint8_t)bpfleak_cmds[cmd].kind;
	ev.result = -err;
	record_submit(&ev);
}

/*
 * The recording path: a frame of its own, so that hook_bpf() itself, which
 * every bpf() call goes through, stays a few bytes of stack.
 */
__attribute__((noinline)) static long record_bpf(int cmd, void *attr, unsigned int size,
						  bool via_bpf_symbol, int state)
{
	shim_guard++;
	uint64_t mark = record_mark();
	long r = real_bpf_call(cmd, attr, size, via_bpf_symbol);
	int saved = errno;
	uint64_t ts = shim_now_ns();
	/* Recording starts with the first bpf FD: after the call, so a failed
	 * probe of a program that never gets one leaves no trace. */
	if ((r >= 0 || state == SHIM_ACTIVE) &&
	    record_begin(r >= 0 && cmd != BPF_OBJ_PIN ? (int)r : -1)) {
		if (cmd == BPF_OBJ_PIN)
			record_pin(attr, size, r < 0 ? -saved : r, ts);
		else if (r >= 0)
			record_create(cmd, attr, size, (int)r, ts, mark);
		else
			record_error(cmd, saved, ts);
	}
	record_release();
	shim_guard--;
	errno = saved;
	return r;
}

/*
 * Below this, not even a light record fits: the call passes through, and
 * is counted (a NOTE says how many were not recorded).
 */
#define RECORD_STACK_NEED 1024

long hook_bpf(int cmd, void *attr, unsigned int size, bool via_bpf_symbol)
{
	if (cmd < 0 || cmd >= BPFLEAK_CMD_MAX || !(interesting_mask & BIT(cmd)) || shim_guard ||
	    shim_foreign)
		return real_bpf_call(cmd, attr, size, via_bpf_symbol);
	int state = shim_state_now();
	if (state != SHIM_ACTIVE && state != SHIM_DORMANT && state != SHIM_ACTIVATING)
		return real_bpf_call(cmd, attr, size, via_bpf_symbol);
	if (!sigstack_room(RECORD_STACK_NEED)) {
		record_unrecorded();
		return real_bpf_call(cmd, attr, size, via_bpf_symbol);
	}
	return record_bpf(cmd, attr, size, via_bpf_symbol, state);
}
