// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * --pid: the kernel's view of a running process, read with the common
 * snapshot reader before the journal is loaded; the target is then asked
 * to flush, so the journal holds every event before the snapshot's
 * instant, or the report knows it may not.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpfleak/objinfo.h>
#include "analyzer.h"

/*
 * ts is the start of the FD-table scan, end_ns its end (pins are walked
 * after).  The snapshot common/snapshot.c read becomes the model's as is.
 */
int snapshot_read_live(int pid, struct snap **out, char *err, size_t errlen)
{
	struct bpfleak_snapshot bs;
	memset(&bs, 0, sizeof(bs));
	*out = NULL;
	bs.pid = pid;
	int64_t ts = now_monotonic_ns();
	int rc = bpfleak_snapshot_fds(pid, &bs);
	int64_t end = now_monotonic_ns();
	if (rc == -ESRCH || rc == -ENOENT) {
		bpfleak_snapshot_free(&bs);
		return 0;
	}
	if (rc < 0 && rc != -ENOMEM) {
		snprintf(err, errlen, "cannot read process %d: %s", pid, strerror(-rc));
		bpfleak_snapshot_free(&bs);
		return -1;
	}
	if (rc)
		bs.fd_error = -rc;
	bpfleak_snapshot_pins(pid, &bs);
	for (size_t i = 0; i < bs.n_pins; i++)
		if (!bs.pins[i].path)
			bs.pins[i].path = xstrdup("?");
	struct snap *s = xcalloc(1, sizeof(*s));
	s->ts = ts;
	s->end_ns = end;
	s->pins_walked = 1;
	s->source = "live";
	s->reason = xstrdup("live");
	s->found = bs;
	*out = s;
	return 0;
}

/*
 * The shim's writer looks at JOURNAL-flush every 20 ms and, when its mtime
 * changed, writes a batch and moves process.flushed_ns.  Returns 1 when
 * this call created the file (then it is ours to remove), 0 when it
 * touched an existing one, -1 when neither worked (a read-only directory:
 * the target's own batches may still do).
 */
static int request_flush(const char *flush_path)
{
	int fd = open(flush_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (errno == EEXIST && utimensat(AT_FDCWD, flush_path, NULL, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	return -1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * Everything the target did before t is in the journal once its latest
 * process row says flushed_ns >= t; each look is a fresh read.
 */
int snapshot_confirm_flush(struct model *m, const struct opts *o, int64_t t)
{
	char flush_path[PATH_MAX];
	if (snprintf(flush_path, sizeof(flush_path), "%s-flush", m->path) >= (int)sizeof(flush_path))
		return 0;
	int created = request_flush(flush_path);
	int64_t deadline = now_monotonic_ns() + o->flush_wait_ns;
	int ok = 0;
	for (;;) {
		if (journal_flushed_ns(m, o->pid) >= t) {
			ok = 1;
			break;
		}
		if (now_monotonic_ns() >= deadline)
			break;
		sleep_ms(10);
	}
	if (created == 1)
		unlink(flush_path);
	return ok;
}

/* "a b c" from /proc/PID/cmdline's NUL-separated arguments. */
static char *live_cmdline(int pid)
{
	char path[64];
	size_t len = 0;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	char *s = bpfleak_read_file(path, &len);
	if (!s)
		return NULL;
	while (len && s[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\0')
			s[i] = ' ';
	s[len] = '\0';
	char *r = xstrdup(s);
	free(s);
	return r;
}

/* A live process the journal has no row for is still named by the kernel. */
static void live_identity(struct proc *p)
{
	char path[64], exe[PATH_MAX];
	if (!p->exe) {
		snprintf(path, sizeof(path), "/proc/%d/exe", p->pid);
		ssize_t n = readlink(path, exe, sizeof(exe) - 1);
		if (n > 0) {
			exe[n] = '\0';
			p->exe = xstrdup(exe);
		}
	}
	if (!p->cmdline)
		p->cmdline = live_cmdline(p->pid);
}

/* Open the object by id in this process: needs the rights bpftool needs. */
static int fd_by_id(int kind, uint32_t id)
{
	switch (kind) {
	case BPFLEAK_KIND_MAP:
		return bpf_map_get_fd_by_id(id);
	case BPFLEAK_KIND_PROG:
		return bpf_prog_get_fd_by_id(id);
	case BPFLEAK_KIND_LINK:
		return bpf_link_get_fd_by_id(id);
	case BPFLEAK_KIND_BTF:
		return bpf_btf_get_fd_by_id(id);
	}
	return -1;
}

/*
 * FDs only the live snapshot knows have no object row: ask the kernel for
 * their name and type, as bpftool would (by id, then the object's info).
 */
static void fill_objects(struct model *m, const struct snap *s)
{
	for (size_t i = 0; i < s->found.n_fds; i++) {
		const struct bpfleak_snap_fd *f = &s->found.fds[i];
		if (!f->obj_id || model_object(m, f->kind, f->obj_id))
			continue;
		int fd = fd_by_id(f->kind, f->obj_id);
		if (fd < 0)
			continue;
		struct bpfleak_obj_info in;
		if (bpfleak_obj_info_get(fd, f->kind, &in) == 0 && in.id == f->obj_id) {
			struct object_info *o = model_add_object(m, in.kind, in.id);
			o->type = (int)in.type;
			o->name = xstrdup(in.name);
			o->key_size = in.key_size;
			o->value_size = in.value_size;
			o->max_entries = in.max_entries;
			o->flags = in.flags;
			o->tag = xstrdup(in.tag);
			o->prog_id = in.prog_id;
		}
		close(fd);
	}
}

/*
 * Only meaningful when the journal is from this boot and the pid is still
 * the journal's process.
 */
int snapshot_use_live(struct model *m, const struct opts *o, struct snap *live, int confirmed,
		      char *err, size_t errlen)
{
	char boot[64];
	struct proc *p = model_proc(m, o->pid, 1);
	bpfleak_boot_id(boot, sizeof(boot));
	if (*boot && m->boot_id && *m->boot_id && strcmp(boot, m->boot_id) != 0) {
		snprintf(err, errlen, "%s: journal is from another boot (boot_id %s); "
			 "--pid %d cannot be compared with it", m->path, m->boot_id, p->pid);
		snap_free(live);
		return -1;
	}
	if (p->exited && p->snap) {
		p->snap_note = "the journal's process exited; pid not read live";
		snap_free(live);
		live = NULL;
	} else if (!live) {
		p->snap_note = p->snap ? "process not running; exit snapshot used"
				       : "process not running; no snapshot";
	} else {
		if (live->found.fd_error)
			proc_warn(p, "live snapshot could not read /proc/%d/fd: %s", p->pid,
				  strerror(live->found.fd_error));
		snapshot_attach(p, live);
		live_identity(p);
	}
	if (!p->in_journal && !p->snap) {
		snprintf(err, errlen, "%s: process %d is neither in the journal nor running",
			 o->journal, o->pid);
		return -1;
	}
	if (live && p->snap == live) {
		p->live_unconfirmed = !confirmed;
		fill_objects(m, live);
	}
	return 0;
}
