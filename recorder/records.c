// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Ring buffer records -> journal events, the same ones the preload shim
 * writes for the same calls (preload/hooks_bpf.c, hooks_fd.c,
 * hooks_process.c), so the analyzer needs to know nothing of the kernel
 * recorder:
 *
 *   bpf() create        create (cmd, kind, id, stack, O_CLOEXEC) / error
 *   BPF_OBJ_PIN         pin (detail: the path)
 *   dup/dup2/dup3/F_DUPFD*   dup (fd2: the source); a dup2 over a bpf FD
 *                       first closes it (close, EF_IMPLICIT)
 *   close               close of a bpf FD; an EBADF close only of a number
 *                       that last held a bpf FD (a double close), with
 *                       EF_SWEEP for a close-everything loop
 *   close_range         close (EF_RANGE) per bpf FD, or cloexec
 *   fork                a process row (origin fork), fork, inherited "fork"
 *   exec                a process row (origin exec), exec, inherited "exec"
 *                       for the FDs that survived (the rest died by O_CLOEXEC)
 *   exit                the exit snapshot, from the FD table the kernel
 *                       listed as the last thread exited
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpfleak/journal.h>
#include "session.h"
#include "unwind.h"

void emit(struct session *s, const struct jw_event *e)
{
	if (!session_batch(s))
		return;
	if (jw_event(&s->j, e) != 0)
		session_write_failed(s, "event");
	else
		s->events++;
}

static int kind_of_cmd(int cmd)
{
	return cmd >= 0 && cmd < BPFLEAK_CMD_MAX ? bpfleak_cmds[cmd].kind : 0;
}

struct kproc *records_proc(struct session *s, pid_t pid, uint64_t ts)
{
	struct kproc *p = procs_find(s, pid);
	if (p && p->awaiting_start) {
		/* `run`'s child, whose exec record was lost: its first image starts here. */
		p->awaiting_start = false;
		procs_read_identity(p);
		p->stack_mode = procs_stack_mode_for(s, pid);
		procs_write_row(s, p, ts);
		procs_refresh_modules(s, p, ts, false);
		return p;
	}
	if (p && !p->finished)
		return p;
	return procs_adopt(s, pid, ts);
}

/* The process a record is about; one the recorder lost track of is adopted. */
static struct kproc *proc_of(struct session *s, const struct rec_hdr *h)
{
	return records_proc(s, (pid_t)h->pid, h->ts_ns);
}

static void on_create(struct session *s, const struct rec_event_small *e, size_t size)
{
	struct kproc *p = proc_of(s, &e->h);
	if (!p)
		return;
	bool no_stack;
	int64_t stack = stacks_for_event(s, p, e, size, &no_stack, NULL);
	int kind = e->obj.kind ? (int)e->obj.kind : kind_of_cmd(e->cmd);
	struct rec_obj obj = e->obj;
	obj.kind = (uint32_t)kind;
	objects_note(s, &obj, p->pid, e->fd, e->h.ts_ns);
	fdmodel_set_open(&p->fds, e->fd, kind, e->obj.id, true);
	emit(s, &(struct jw_event){
		.ts_ns = e->h.ts_ns, .pid = p->pid, .tid = (int)e->h.tid, .op = BPFLEAK_OP_CREATE,
		.has_fd = true, .fd = e->fd, .cmd = e->cmd, .kind = kind, .obj_id = e->obj.id,
		.stack_id = stack, .result = e->fd,
		.flags = (int)e->flags | (no_stack ? BPFLEAK_EF_NO_STACK : 0) });
}

static void on_error(struct session *s, const struct rec_event_small *e)
{
	struct kproc *p = proc_of(s, &e->h);
	if (!p)
		return;
	emit(s, &(struct jw_event){
		.ts_ns = e->h.ts_ns, .pid = p->pid, .tid = (int)e->h.tid, .op = BPFLEAK_OP_ERROR,
		.cmd = e->cmd, .kind = kind_of_cmd(e->cmd), .result = e->result });
}

static void on_pin(struct session *s, const struct rec_pin *r)
{
	struct kproc *p = proc_of(s, &r->h);
	if (!p)
		return;
	objects_note(s, &r->obj, p->pid, r->fd, r->h.ts_ns);
	char path[REC_PATH_MAX];
	memcpy(path, r->path, sizeof(path));
	path[sizeof(path) - 1] = '\0';
	emit(s, &(struct jw_event){
		.ts_ns = r->h.ts_ns, .pid = p->pid, .tid = (int)r->h.tid, .op = BPFLEAK_OP_PIN,
		.has_fd = true, .fd = r->fd, .cmd = BPF_OBJ_PIN, .kind = (int)r->obj.kind,
		.obj_id = r->obj.id, .result = r->result, .detail = path });
}

static void on_dup(struct session *s, const struct rec_event_small *e, size_t size)
{
	struct kproc *p = proc_of(s, &e->h);
	if (!p)
		return;
	bool no_stack;
	int64_t stack = stacks_for_event(s, p, e, size, &no_stack, NULL);
	fdmodel_set_open(&p->fds, e->fd, (int)e->obj.kind, e->obj.id,
			 (e->flags & BPFLEAK_EF_CLOEXEC) != 0);
	emit(s, &(struct jw_event){
		.ts_ns = e->h.ts_ns, .pid = p->pid, .tid = (int)e->h.tid, .op = BPFLEAK_OP_DUP,
		.has_fd = true, .has_fd2 = true, .fd = e->fd, .fd2 = e->fd2, .cmd = -1,
		.kind = (int)e->obj.kind, .obj_id = e->obj.id, .stack_id = stack, .result = e->fd,
		.flags = (int)e->flags | (no_stack ? BPFLEAK_EF_NO_STACK : 0) });
}

/* A close of an FD the recorder never saw: one held since before attach. */
static void explain_unseen(struct session *s, struct kproc *p, const struct rec_event_small *e)
{
	if (!p->attach_scan_ns || e->h.ts_ns >= p->attach_scan_ns)
		return;
	emit(s, &(struct jw_event){
		.ts_ns = e->h.ts_ns - 1, .pid = p->pid, .tid = p->pid, .op = BPFLEAK_OP_INHERITED,
		.has_fd = true, .fd = e->fd, .cmd = -1, .kind = (int)e->obj.kind,
		.obj_id = e->obj.id, .flags = BPFLEAK_EF_CLOEXEC, .detail = "attach" });
}

static void on_close(struct session *s, const struct rec_event_small *e, size_t size)
{
	struct kproc *p = proc_of(s, &e->h);
	if (!p)
		return;
	const struct fdslot *slot = fdmodel_peek(&p->fds, e->fd);
	int kind = (int)e->obj.kind;
	uint32_t id = e->obj.id;
	if (e->result == -EBADF) {
		/* Only a number that held a bpf FD makes an EBADF worth a line. */
		if (slot->state == FD_EMPTY)
			return;
		kind = slot->kind;
		id = slot->id;
		fdmodel_clear(&p->fds, e->fd);
	} else {
		if (slot->state != FD_OPEN)
			explain_unseen(s, p, e);
		fdmodel_set_closed(&p->fds, e->fd);
	}
	bool no_stack;
	struct stack_ips st;
	int64_t stack = stacks_for_event(s, p, e, size, &no_stack, &st);
	int flags = (int)e->flags;
	/* A GC finalizer closed it: the program itself never did (Go, cilium/ebpf). */
	if (e->result == 0 && p->stack_mode == STACK_FP_ONLY && finalizer_on_stack(s, p, &st)) {
		flags |= BPFLEAK_EF_FINALIZER;
		s->finalized++;
	}
	emit(s, &(struct jw_event){
		.ts_ns = e->h.ts_ns, .pid = p->pid, .tid = (int)e->h.tid, .op = BPFLEAK_OP_CLOSE,
		.has_fd = true, .fd = e->fd, .cmd = -1, .kind = kind, .obj_id = id,
		.stack_id = stack, .result = e->result, .flags = flags });
}

static void on_fork(struct session *s, const struct rec_proc *r)
{
	struct kproc *parent = procs_find(s, r->ppid);
	struct kproc *p = procs_add(s, (pid_t)r->h.pid);
	if (!p)
		return;
	p->ppid = r->ppid;
	p->origin = "fork";
	procs_read_identity(p);
	p->ppid = r->ppid;
	if (parent) {
		/* The child is its parent's image until it execs (which it may have done by now). */
		free(p->exe);
		free(p->cmdline);
		p->exe = parent->exe ? strdup(parent->exe) : NULL;
		p->cmdline = parent->cmdline ? strdup(parent->cmdline) : NULL;
		p->stack_mode = parent->stack_mode;
		p->need = parent->need;   /* the kernel copied its stack settings too */
		procs_inherit_mounts(p, parent);
	}
	procs_write_row(s, p, r->h.ts_ns);
	if (parent)
		procs_inherit_modules(s, p, parent, r->h.ts_ns);
	emit(s, &(struct jw_event){
		.ts_ns = r->h.ts_ns, .pid = p->pid, .tid = p->pid, .op = BPFLEAK_OP_FORK,
		.has_fd2 = true, .fd2 = r->ppid, .cmd = -1 });
}

static void on_exec(struct session *s, const struct rec_exec *r)
{
	struct kproc *p = procs_find(s, (pid_t)r->h.pid);
	if (p && p->finished)
		p = NULL;
	bool first_image = p && p->awaiting_start;
	if (!p) {
		p = procs_add(s, (pid_t)r->h.pid);
		if (!p)
			return;
	}
	unwind_forget(p->pid);
	procmaps_free(p->mods, p->n_mods);
	p->mods = NULL;
	p->n_mods = 0;
	p->own_modules = false;
	p->maps_read_ns = 0;
	/* FDs are re-listed by the walk that follows; what it does not list died. */
	for (size_t fd = 0; fd < p->fds.cap; fd++) {
		if (p->fds.slots[fd].state == FD_CLOSED)
			memset(&p->fds.slots[fd], 0, sizeof(p->fds.slots[fd]));
		p->fds.slots[fd].listed = 0;
	}
	bool had_row = p->row != 0;
	p->awaiting_start = false;
	p->origin = first_image || !had_row ? "start" : "exec";
	free(p->exe);
	p->exe = NULL;
	procs_read_identity(p);
	exec_resolve_exe(s, p, r);
	procs_write_row(s, p, r->h.ts_ns);
	if (had_row)
		emit(s, &(struct jw_event){
			.ts_ns = r->h.ts_ns, .pid = p->pid, .tid = (int)r->h.tid, .op = BPFLEAK_OP_EXEC,
			.cmd = -1, .detail = p->exe });
	int mode = procs_stack_mode_for(s, p->pid);
	/* A new program: its stacks are measured anew (stackcopy.c). */
	if (mode != p->stack_mode || p->need.bytes || p->need.full) {
		p->stack_mode = mode;
		kernel_set_stack_mode(s->k, p->pid, mode);
	}
	memset(&p->need, 0, sizeof(p->need));
	procs_refresh_modules(s, p, r->h.ts_ns, true);
	if (!p->n_mods)
		exec_modules_from_auxv(s, p, r);
}

static void on_walk_fd(struct session *s, const struct rec_fd *r)
{
	struct kproc *p = proc_of(s, &r->h);
	if (!p)
		return;
	int kind = (int)r->obj.kind;
	switch (r->h.walk) {
	case WALK_FORK:
	case WALK_EXEC: {
		const char *detail = r->h.walk == WALK_FORK ? "fork"
				     : !strcmp(p->origin, "exec") ? "exec" : "start";
		fdmodel_set_open(&p->fds, r->fd, kind, r->obj.id, r->cloexec != 0);
		objects_note(s, &r->obj, p->pid, r->fd, r->h.ts_ns);
		emit(s, &(struct jw_event){
			.ts_ns = r->h.ts_ns, .pid = p->pid, .tid = p->pid, .op = BPFLEAK_OP_INHERITED,
			.has_fd = true, .fd = r->fd, .cmd = -1, .kind = kind, .obj_id = r->obj.id,
			.flags = r->cloexec ? BPFLEAK_EF_CLOEXEC : 0, .detail = detail });
		break;
	}
	case WALK_RANGE_CLOSE:
		if (p->n_ranges == p->cap_ranges) {
			size_t n = p->cap_ranges ? p->cap_ranges * 2 : 16;
			struct range_item *it = realloc(p->ranges, n * sizeof(*it));
			if (!it)
				return;
			p->ranges = it;
			p->cap_ranges = n;
		}
		p->ranges[p->n_ranges++] = (struct range_item){ (pid_t)r->h.tid, r->fd, kind, r->obj.id };
		break;
	case WALK_RANGE_CLOEXEC: {
		struct fdslot *slot = fdmodel_get(&p->fds, r->fd);
		if (slot && slot->state == FD_OPEN)
			slot->cloexec = 1;
		emit(s, &(struct jw_event){
			.ts_ns = r->h.ts_ns, .pid = p->pid, .tid = (int)r->h.tid, .op = BPFLEAK_OP_CLOEXEC,
			.has_fd = true, .fd = r->fd, .cmd = -1, .kind = kind, .obj_id = r->obj.id });
		break;
	}
	case WALK_EXIT: {
		if (p->n_exit_fds == p->cap_exit_fds) {
			size_t n = p->cap_exit_fds ? p->cap_exit_fds * 2 : 16;
			struct bpfleak_snap_fd *f = realloc(p->exit_fds, n * sizeof(*f));
			if (!f)
				return;
			p->exit_fds = f;
			p->cap_exit_fds = n;
		}
		struct bpfleak_snap_fd *f = &p->exit_fds[p->n_exit_fds++];
		memset(f, 0, sizeof(*f));
		f->fd = r->fd;
		f->kind = kind;
		f->obj_id = r->obj.id;
		f->cloexec = (int)r->cloexec;
		break;
	}
	}
}

static void on_walk_end(struct session *s, const struct rec_fd *r)
{
	struct kproc *p = proc_of(s, &r->h);
	if (!p)
		return;
	switch (r->h.walk) {
	case WALK_EXEC:
		if (r->lost)
			break;   /* an incomplete list proves nothing about the rest */
		for (size_t fd = 0; fd < p->fds.cap; fd++)
			if (p->fds.slots[fd].state == FD_OPEN && !p->fds.slots[fd].listed)
				memset(&p->fds.slots[fd], 0, sizeof(p->fds.slots[fd]));
		break;
	case WALK_RANGE_CLOSE: {
		size_t kept = 0;
		for (size_t i = 0; i < p->n_ranges; i++) {
			struct range_item *it = &p->ranges[i];
			if (it->tid != (pid_t)r->h.tid) {
				p->ranges[kept++] = *it;
				continue;
			}
			if (r->result != 0)
				continue;   /* the call failed: the FDs stay open */
			fdmodel_set_closed(&p->fds, it->fd);
			emit(s, &(struct jw_event){
				.ts_ns = r->h.ts_ns, .pid = p->pid, .tid = (int)r->h.tid,
				.op = BPFLEAK_OP_CLOSE, .has_fd = true, .fd = it->fd, .cmd = -1,
				.kind = it->kind, .obj_id = it->id, .flags = BPFLEAK_EF_RANGE });
		}
		p->n_ranges = kept;
		break;
	}
	case WALK_EXIT:
		p->exit_lost += r->lost;
		break;
	}
}

/* The kernel's exit code (wait-status form) as a shell reports it. */
static int exit_status_of(int code)
{
	return (code & 0x7f) ? 128 + (code & 0x7f) : (code >> 8) & 0xff;
}

static void on_exit_rec(struct session *s, const struct rec_proc *r)
{
	struct kproc *p = procs_find(s, (pid_t)r->h.pid);
	if (!p || p->finished)
		return;
	if (p->awaiting_start)
		p = proc_of(s, &r->h);   /* its exec record was lost */
	snapshots_exit(s, p, r->h.ts_ns);
	procs_set_exited(s, p, r->h.ts_ns, true, exit_status_of(r->exit_code));
	p->finished = true;
}

int records_handle(struct session *s, const void *rec, size_t size)
{
	if (size < sizeof(struct rec_hdr))
		return 0;
	const struct rec_hdr *h = rec;
	switch (h->type) {
	case REC_CREATE:
		if (size >= sizeof(struct rec_event_small))
			on_create(s, rec, size);
		break;
	case REC_ERROR:
		if (size >= sizeof(struct rec_event_small))
			on_error(s, rec);
		break;
	case REC_PIN:
		if (size >= sizeof(struct rec_pin))
			on_pin(s, rec);
		break;
	case REC_DUP:
		if (size >= sizeof(struct rec_event_small))
			on_dup(s, rec, size);
		break;
	case REC_CLOSE:
		if (size >= sizeof(struct rec_event_small))
			on_close(s, rec, size);
		break;
	case REC_FORK:
		if (size >= sizeof(struct rec_proc))
			on_fork(s, rec);
		break;
	case REC_EXEC:
		if (size >= sizeof(struct rec_exec))
			on_exec(s, rec);
		break;
	case REC_EXIT:
		if (size >= sizeof(struct rec_proc))
			on_exit_rec(s, rec);
		break;
	case REC_FD:
		if (size >= sizeof(struct rec_fd))
			on_walk_fd(s, rec);
		break;
	case REC_WALK_END:
		if (size >= sizeof(struct rec_fd))
			on_walk_end(s, rec);
		break;
	}
	return 0;
}
