// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Process-level events: bpf FDs held at start (inherited over exec or from
 * a parent), the copy of the FD table a fork child gets, and the flush
 * before exec replaces the image and its queue.
 */
#include <string.h>
#include <unistd.h>
#include <bpfleak/journal.h>
#include <bpfleak/snapshot.h>
#include "shim.h"

void hooks_record_inherited(const char *origin)
{
	shim_guard++;
	shim_internal++;
	struct bpfleak_snapshot snap;
	memset(&snap, 0, sizeof(snap));
	snap.pid = getpid();
	if (bpfleak_snapshot_fds(snap.pid, NULL, &snap) == 0) {
		for (size_t i = 0; i < snap.n_fds; i++) {
			const struct bpfleak_snap_fd *f = &snap.fds[i];
			fdtable_install(f->fd, f->kind, f->obj_id, f->cloexec);
			struct bpfleak_obj_info info;
			const struct obj_node *obj = objcache_find(f->kind, f->obj_id);
			if (!obj && bpfleak_obj_info_get(f->fd, f->kind, &info) == 0)
				obj = objcache_add(&info);
			struct shim_event ev;
			event_init(&ev, BPFLEAK_OP_INHERITED, shim_now_ns());
			ev.fd = f->fd;
			ev.kind = (uint8_t)f->kind;
			ev.obj_id = f->obj_id;
			ev.obj = obj;
			ev.flags = f->cloexec ? BPFLEAK_EF_CLOEXEC : 0;
			ev.detail = origin;
			queue_push(&ev);
		}
	}
	bool any = snap.n_fds > 0;
	bpfleak_snapshot_free(&snap);
	shim_internal--;
	shim_guard--;
	if (any)
		writer_start_if_needed();
}

struct fork_ctx {
	uint64_t ts;
};

static int list_inherited(int fd, uint64_t slot, void *ctx)
{
	struct fork_ctx *f = ctx;
	struct shim_event ev;
	event_init(&ev, BPFLEAK_OP_INHERITED, f->ts);
	ev.fd = fd;
	ev.kind = (uint8_t)SLOT_KIND(slot);
	ev.obj_id = SLOT_ID(slot);
	ev.flags = (slot & SLOT_CLOEXEC) ? BPFLEAK_EF_CLOEXEC : 0;
	ev.detail = "fork";
	queue_push(&ev);
	return 0;
}

/* Runs in the fork child before it returns from fork(): queue only. */
void hooks_record_fork_child(pid_t parent)
{
	struct shim_event ev;
	struct fork_ctx ctx = { .ts = shim_now_ns() };
	event_init(&ev, BPFLEAK_OP_FORK, ctx.ts);
	ev.fd2 = parent;
	queue_push(&ev);
	fdtable_each(0, ~0u, list_inherited, &ctx);
}

void hooks_before_exec(void)
{
	if (atomic_load(&shim_state) != SHIM_ACTIVE || shim_guard)
		return;
	shim_guard++;
	journal_drain_now();
	shim_guard--;
}
