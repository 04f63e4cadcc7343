// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The kernel's side of the story, as the shim stores it: the exit snapshot
 * (bpf FDs open when the process ended, and every bpffs pin), a live
 * snapshot when tracing stops first, and the FDs a process already held
 * when `attach` began.
 *
 * The exit snapshot's FD list cannot be read from /proc: by the time the
 * recorder reads the ring buffer the process has released its files.  The
 * BPF side lists the FD table as the last thread exits (sched_process_exit,
 * group_dead: every other thread is gone, so the list is final) and the
 * recorder rebuilds what /proc/PID/fd and fdinfo would have said from the
 * object rows it keeps.  Stopping the process instead (ptrace) would tie it
 * to the recorder and fight debuggers; the kernel's list is exact.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpfleak/journal.h>
#include "session.h"

static const char *target_of(int kind)
{
	switch (kind) {
	case BPFLEAK_KIND_MAP: return "anon_inode:bpf-map";
	case BPFLEAK_KIND_PROG: return "anon_inode:bpf-prog";
	case BPFLEAK_KIND_LINK: return "anon_inode:bpf_link";
	case BPFLEAK_KIND_BTF: return "anon_inode:btf";
	case BPFLEAK_KIND_ITER: return "anon_inode:bpf_iter";
	case BPFLEAK_KIND_STATS: return "anon_inode:bpf-stats";
	case BPFLEAK_KIND_TOKEN: return "bpf-token";
	default: return "anon_inode:bpf";
	}
}

/* What /proc/PID/fdinfo/FD would have said, in the kernel's format. */
static char *fdinfo_of(const struct session *s, const struct bpfleak_snap_fd *f)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "pos:\t0\nflags:\t0%o\n", f->cloexec ? 02000002 : 02);
	const struct bpfleak_obj_info *o = f->obj_id ? objects_find(s, f->kind, f->obj_id) : NULL;
	size_t cap = sizeof(buf) - (size_t)n;
	char *p = buf + n;
	switch (f->kind) {
	case BPFLEAK_KIND_MAP:
		if (o)
			snprintf(p, cap, "map_type:\t%u\nkey_size:\t%u\nvalue_size:\t%u\nmax_entries:\t%u\n"
				 "map_flags:\t0x%x\nmap_id:\t%u\n", o->type, o->key_size, o->value_size,
				 o->max_entries, o->flags, f->obj_id);
		else
			snprintf(p, cap, "map_id:\t%u\n", f->obj_id);
		break;
	case BPFLEAK_KIND_PROG:
		if (o)
			snprintf(p, cap, "prog_type:\t%u\nprog_tag:\t%s\nprog_id:\t%u\n", o->type, o->tag,
				 f->obj_id);
		else
			snprintf(p, cap, "prog_id:\t%u\n", f->obj_id);
		break;
	case BPFLEAK_KIND_LINK: {
		const char *type = o ? libbpf_bpf_link_type_str((enum bpf_link_type)o->type) : NULL;
		if (o && type)
			snprintf(p, cap, "link_type:\t%s\nlink_id:\t%u\nprog_id:\t%u\n", type, f->obj_id,
				 o->prog_id);
		else
			snprintf(p, cap, "link_id:\t%u\n", f->obj_id);
		break;
	}
	case BPFLEAK_KIND_BTF:
		snprintf(p, cap, "btf_id:\t%u\n", f->obj_id);
		break;
	default:
		break;
	}
	return strdup(buf);
}

/*
 * The pins: through the process's own mount table while it is readable;
 * once it is gone, through the mount table read last and the root kept
 * open since (its mount namespace: a container's bpffs too).
 */
static void walk_pins(struct kproc *p, struct bpfleak_snapshot *snap)
{
	struct bpfleak_snapshot live;
	memset(&live, 0, sizeof(live));
	/* An exiting process may still show its mount table but no longer its root. */
	if (bpfleak_snapshot_pins(p->pid, &live) != 0 || live.n_mounts == 0) {
		bpfleak_snapshot_free(&live);
		memset(&live, 0, sizeof(live));
		if (p->root_fd >= 0 && p->mountinfo) {
			char root[64];
			snprintf(root, sizeof(root), "/proc/self/fd/%d", p->root_fd);
			bpfleak_snapshot_pins_at(root, p->mountinfo, p->mountinfo_len, &live);
		}
	}
	snap->pins = live.pins;
	snap->n_pins = live.n_pins;
	snap->n_mounts = live.n_mounts;
}

void snapshots_exit(struct session *s, struct kproc *p, uint64_t ts)
{
	struct bpfleak_snapshot snap;
	memset(&snap, 0, sizeof(snap));
	snap.pid = p->pid;
	snap.fds = p->exit_fds;
	snap.n_fds = p->n_exit_fds;
	for (size_t i = 0; i < snap.n_fds; i++) {
		struct bpfleak_snap_fd *f = &snap.fds[i];
		snprintf(f->target, sizeof(f->target), "%s", target_of(f->kind));
		free(f->fdinfo);
		f->fdinfo = fdinfo_of(s, f);
	}
	walk_pins(p, &snap);
	snap.pid = p->pid;
	if (p->exit_lost)
		fprintf(stderr, "%s: pid %d: %u FDs of its exit snapshot were lost (ring buffer full)\n",
			s->opts.prog, (int)p->pid, p->exit_lost);
	if (p->row && session_batch(s) &&
	    jw_snapshot(&s->j, &snap, &(struct jw_snapshot_info){
		    .ts_ns = ts, .end_ns = ts, .reason = BPFLEAK_SNAP_EXIT,
		    .pins_walked = snap.n_mounts > 0 }) != 0)
		session_write_failed(s, "exit snapshot");
	/* The FD array stays p's (freed with it); the pins were ours. */
	snap.fds = NULL;
	snap.n_fds = 0;
	bpfleak_snapshot_free(&snap);
}

void snapshots_live(struct session *s, struct kproc *p)
{
	struct bpfleak_snapshot snap;
	uint64_t ts = now_ns();
	if (bpfleak_snapshot_take(p->pid, &snap) != 0) {
		bpfleak_snapshot_free(&snap);
		return;   /* gone meanwhile: its exit record will say so */
	}
	uint64_t end = now_ns();
	if (p->row && session_batch(s) &&
	    jw_snapshot(&s->j, &snap, &(struct jw_snapshot_info){
		    .ts_ns = ts, .end_ns = end, .reason = BPFLEAK_SNAP_LIVE,
		    .pins_walked = snap.n_mounts > 0 }) != 0)
		session_write_failed(s, "live snapshot");
	bpfleak_snapshot_free(&snap);
}

/*
 * Attach: list the bpf FDs the process holds, with tracing already on.  The
 * records stamped before the scan ended are read first: an FD they create,
 * copy or close tells its own story (a close of an FD never seen gets its
 * "held" line from the close handler), so the scan's "inherited attach"
 * lines go only to the FDs no record touched.
 */
void snapshots_attach_scan(struct session *s, struct kproc *p)
{
	struct bpfleak_snapshot snap;
	memset(&snap, 0, sizeof(snap));
	snap.pid = p->pid;
	uint64_t ts = now_ns();
	int rc = bpfleak_snapshot_fds(p->pid, &snap);
	p->attach_scan_ns = now_ns();
	kernel_poll(s->k, 0);
	for (size_t i = 0; rc == 0 && i < snap.n_fds; i++) {
		const struct bpfleak_snap_fd *f = &snap.fds[i];
		if (fdmodel_peek(&p->fds, f->fd)->state != FD_EMPTY)
			continue;
		struct rec_obj o;
		memset(&o, 0, sizeof(o));
		o.kind = (uint32_t)f->kind;
		o.id = f->obj_id;
		objects_note(s, &o, p->pid, f->fd, ts);
		fdmodel_set_open(&p->fds, f->fd, f->kind, f->obj_id, f->cloexec);
		emit(s, &(struct jw_event){
			.ts_ns = ts, .pid = p->pid, .tid = p->pid, .op = BPFLEAK_OP_INHERITED,
			.has_fd = true, .fd = f->fd, .cmd = -1, .kind = f->kind, .obj_id = f->obj_id,
			.flags = f->cloexec ? BPFLEAK_EF_CLOEXEC : 0, .detail = "attach" });
	}
	bpfleak_snapshot_free(&snap);
}
