// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The bpf FDs a process holds when it starts recording: those it inherited
 * (over exec, or from a parent that passed them on) or made before the
 * shim could see them, and, in a fork child, the parent's FDs it got a
 * copy of.
 */
#include <string.h>
#include <unistd.h>
#include <bpfleak/journal.h>
#include <bpfleak/snapshot.h>
#include "shim.h"

static const struct obj_node *identity(const struct bpfleak_snap_fd *f)
{
	const struct obj_node *obj = objcache_find(f->kind, f->obj_id);
	struct bpfleak_obj_info info;
	if (!obj && bpfleak_obj_info_get(f->fd, f->kind, &info) == 0)
		obj = objcache_add(&info);
	return obj;
}

static void list_one(const struct bpfleak_snap_fd *f, const char *origin, uint64_t ts)
{
	struct shim_event ev;
	event_init(&ev, BPFLEAK_OP_INHERITED, ts);
	ev.fd = f->fd;
	ev.kind = (uint8_t)f->kind;
	ev.obj_id = f->obj_id;
	ev.obj = identity(f);
	ev.flags = f->cloexec ? BPFLEAK_EF_CLOEXEC : 0;
	ev.detail = origin;
	record_submit(&ev);
}

/* What the kernel says this process holds, with /proc's view of each FD. */
static bool scan(struct bpfleak_snapshot *snap)
{
	memset(snap, 0, sizeof(*snap));
	snap->pid = self.pid;
	return bpfleak_snapshot_fds_of(snap->pid, shim_tid(), snap) == 0;
}

void hooks_list_held(const char *origin, int skip_fd)
{
	struct bpfleak_snapshot snap;
	if (scan(&snap)) {
		uint64_t ts = shim_now_ns();
		for (size_t i = 0; i < snap.n_fds; i++) {
			const struct bpfleak_snap_fd *f = &snap.fds[i];
			if (f->fd == skip_fd)
				continue;
			/* A create that raced this scan already installed it: its event says more. */
			_Atomic uint64_t *slot = fdtable_peek(f->fd);
			uint64_t s = slot ? atomic_load(slot) : 0;
			if (SLOT_TRACKED(s) && SLOT_ID(s) == f->obj_id)
				continue;
			fdtable_install(f->fd, f->kind, f->obj_id, f->cloexec);
			list_one(f, origin, ts);
		}
	}
	if (snap.n_io_uring)
		record_note(BPFLEAK_NOTE_IO_URING, 0);
	bpfleak_snapshot_free(&snap);
}

static int forget_missing(int fd, uint64_t slot, void *ctx)
{
	(void)slot;
	const struct bpfleak_snapshot *snap = ctx;
	for (size_t i = 0; i < snap->n_fds; i++)
		if (snap->fds[i].fd == fd)
			return 0;
	fdtable_forget(fd);
	return 0;
}

/*
 * The child's copy of the parent's table is checked against the child's
 * own FDs: the kernel copies the FD table before memory, so an FD another
 * thread of the parent created or closed in between is in one and not the
 * other.
 */
void hooks_list_fork_child(int skip_fd)
{
	struct shim_event ev;
	event_init(&ev, BPFLEAK_OP_FORK, self.fork_ns);
	ev.fd2 = self.ppid;
	record_submit(&ev);
	struct bpfleak_snapshot snap;
	if (scan(&snap)) {
		fdtable_each(0, ~0u, forget_missing, &snap);
		for (size_t i = 0; i < snap.n_fds; i++) {
			const struct bpfleak_snap_fd *f = &snap.fds[i];
			if (f->fd == skip_fd)
				continue;
			fdtable_install(f->fd, f->kind, f->obj_id, f->cloexec);
			list_one(f, "fork", self.fork_ns);
		}
	}
	bpfleak_snapshot_free(&snap);
}
