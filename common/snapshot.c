// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Snapshot of a process's bpf FDs and of every bpffs pin it can see.  Used
 * by the shim at exit and by bpfleak-report --pid.  Only open/read/getdents
 * on procfs and bpffs: no stdio, so it is safe while the host is exiting.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpfleak/journal.h>
#include <bpfleak/objinfo.h>
#include <bpfleak/snapshot.h>
#include "bpfcall.h"

static int grow(void **arr, size_t n, size_t *cap, size_t elem)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 16;
	void *p = realloc(*arr, nc * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = nc;
	return 0;
}

/* /proc/PID, or /proc/PID/task/TID: one thread's view of the same table. */
static void proc_dir(char *out, size_t cap, pid_t pid, pid_t tid)
{
	if (tid)
		snprintf(out, cap, "/proc/%d/task/%d", (int)pid, (int)tid);
	else
		snprintf(out, cap, "/proc/%d", (int)pid);
}

static int snapshot_fds(pid_t pid, pid_t tid, struct bpfleak_snapshot *out);

int bpfleak_snapshot_fds(pid_t pid, struct bpfleak_snapshot *out)
{
	return snapshot_fds(pid, 0, out);
}

int bpfleak_snapshot_fds_of(pid_t pid, pid_t tid, struct bpfleak_snapshot *out)
{
	return snapshot_fds(pid, tid, out);
}

static int snapshot_fds(pid_t pid, pid_t tid, struct bpfleak_snapshot *out)
{
	char base[64], dir_path[80];
	proc_dir(base, sizeof(base), pid, tid);
	snprintf(dir_path, sizeof(dir_path), "%s/fd", base);
	DIR *d = opendir(dir_path);
	if (!d)
		return -errno;
	int own = pid == getpid() ? dirfd(d) : -1;
	size_t cap = 0;
	struct dirent *de;

	while ((de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		if (*end || end == de->d_name || fd == own)
			continue;
		char path[128], target[64];
		snprintf(path, sizeof(path), "%s/fd/%ld", base, fd);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		/* io_uring can close FDs without a close() anyone sees: say it is there. */
		if (!strcmp(target, "anon_inode:[io_uring]")) {
			out->n_io_uring++;
			continue;
		}
		int guess = bpfleak_kind_from_target(target);
		/* Only anon-inode bpf FDs and bpffs tokens; skip the rest unread. */
		if (guess == BPFLEAK_KIND_UNKNOWN && strncmp(target, "anon_inode:", 11) != 0)
			continue;

		snprintf(path, sizeof(path), "%s/fdinfo/%ld", base, fd);
		size_t len = 0;
		char *info = bpfleak_read_file(path, &len);
		if (!info)
			continue;
		struct bpfleak_fdinfo fi;
		int kind = bpfleak_fdinfo_parse(info, len, &fi);
		if (kind == BPFLEAK_KIND_UNKNOWN)
			kind = guess;
		if (kind == BPFLEAK_KIND_UNKNOWN) {
			free(info);
			continue;
		}
		if (grow((void **)&out->fds, out->n_fds, &cap, sizeof(*out->fds))) {
			free(info);
			closedir(d);
			return -ENOMEM;
		}
		struct bpfleak_snap_fd *s = &out->fds[out->n_fds++];
		memset(s, 0, sizeof(*s));
		s->fd = (int)fd;
		s->kind = kind;
		s->obj_id = fi.obj_id;
		s->cloexec = fi.cloexec;
		s->info = fi;
		s->info.kind = kind;
		snprintf(s->target, sizeof(s->target), "%s", target);
		s->fdinfo = info;
	}
	closedir(d);
	return 0;
}

struct pin_walk {
	struct bpfleak_snapshot *out;
	size_t cap;
	dev_t devs[64];
	int n_devs;
	size_t prefix_len;     /* strlen of "/proc/PID/root" when walking another pid */
	char prefix[256];      /* that prefix */
};

static int add_pin(struct pin_walk *w, const char *path, const struct bpfleak_obj_info *oi, int error)
{
	if (grow((void **)&w->out->pins, w->out->n_pins, &w->cap, sizeof(*w->out->pins)))
		return -ENOMEM;
	struct bpfleak_snap_pin *p = &w->out->pins[w->out->n_pins];
	memset(p, 0, sizeof(*p));
	p->path = strdup(path + w->prefix_len);
	if (!p->path)
		return -ENOMEM;
	w->out->n_pins++;
	p->error = error;
	if (oi) {
		p->kind = oi->kind;
		p->obj_id = oi->id;
		memcpy(p->name, oi->name, sizeof(p->name));
	}
	return 0;
}

/* Read-only open is enough for the id and never changes the object. */
static int probe_pin(struct pin_walk *w, const char *path)
{
	int fd = bpfleak_obj_get_rdonly(path);
	if (fd < 0)
		return add_pin(w, path, NULL, -fd);
	struct bpfleak_obj_info oi;
	int err = bpfleak_obj_info_get(fd, BPFLEAK_KIND_UNKNOWN, &oi);
	close(fd);
	return add_pin(w, path, err ? NULL : &oi, err ? -err : 0);
}

static int walk_dir(struct pin_walk *w, const char *dir, int depth)
{
	if (depth > 32)
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return add_pin(w, dir, NULL, errno);
	struct dirent *de;
	int rc = 0;
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* The kernel's preloaded iterators at a bpffs root are not user pins. */
		if (depth == 0 && (!strcmp(de->d_name, "maps.debug") || !strcmp(de->d_name, "progs.debug")))
			continue;
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		struct stat st;
		if (lstat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode))
			rc = walk_dir(w, path, depth + 1);
		else if (S_ISREG(st.st_mode))
			rc = probe_pin(w, path);
	}
	closedir(d);
	return rc;
}

static int on_mount(const char *mount_point, void *ctx)
{
	struct pin_walk *w = ctx;
	char mnt[PATH_MAX];
	if (w->prefix_len)
		snprintf(mnt, sizeof(mnt), "%s%s", w->prefix, mount_point);
	else
		snprintf(mnt, sizeof(mnt), "%s", mount_point);
	struct stat st;
	if (stat(mnt, &st)) {
		add_pin(w, mnt, NULL, errno);
		return 0;
	}
	/* Bind mounts of one bpffs show the same pins: walk each device once. */
	for (int i = 0; i < w->n_devs; i++)
		if (w->devs[i] == st.st_dev)
			return 0;
	if (w->n_devs < (int)(sizeof(w->devs) / sizeof(w->devs[0])))
		w->devs[w->n_devs++] = st.st_dev;
	w->out->n_mounts++;
	walk_dir(w, mnt, 0);
	return 0;
}

int bpfleak_snapshot_pins_at(const char *root, const char *mountinfo, size_t len,
			      struct bpfleak_snapshot *out)
{
	struct pin_walk w = { .out = out };
	if (root && *root) {
		snprintf(w.prefix, sizeof(w.prefix), "%s", root);
		w.prefix_len = strlen(w.prefix);
	}
	return bpfleak_mountinfo_bpffs(mountinfo, len, on_mount, &w) < 0 ? -EINVAL : 0;
}

static int snapshot_pins(pid_t pid, pid_t tid, struct bpfleak_snapshot *out);

int bpfleak_snapshot_pins(pid_t pid, struct bpfleak_snapshot *out)
{
	return snapshot_pins(pid, 0, out);
}

int bpfleak_snapshot_pins_of(pid_t pid, pid_t tid, struct bpfleak_snapshot *out)
{
	return snapshot_pins(pid, tid, out);
}

static int snapshot_pins(pid_t pid, pid_t tid, struct bpfleak_snapshot *out)
{
	char base[64], path[80];
	proc_dir(base, sizeof(base), pid ? pid : getpid(), tid);
	snprintf(path, sizeof(path), "%s/mountinfo", base);
	size_t len = 0;
	char *text = bpfleak_read_file(path, &len);
	if (!text)
		return -errno;
	/*
	 * Paths in another pid's mountinfo are relative to its root; reading
	 * them through /proc/PID/root keeps a chrooted or namespaced target's
	 * pins right.  For ourselves the plain path is the same thing.
	 */
	char prefix[64] = "";
	if (pid && pid != getpid())
		snprintf(prefix, sizeof(prefix), "/proc/%d/root", (int)pid);
	out->pid = pid ? pid : getpid();
	int rc = bpfleak_snapshot_pins_at(prefix, text, len, out);
	free(text);
	return rc;
}

int bpfleak_snapshot_take(pid_t pid, struct bpfleak_snapshot *out)
{
	memset(out, 0, sizeof(*out));
	out->pid = pid ? pid : getpid();
	int rc = bpfleak_snapshot_fds(out->pid, out);
	if (rc) {
		out->fd_error = -rc;
		if (rc != -ENOMEM)
			return rc;
	}
	return bpfleak_snapshot_pins(out->pid, out);
}

void bpfleak_snapshot_free(struct bpfleak_snapshot *snap)
{
	for (size_t i = 0; i < snap->n_fds; i++)
		free(snap->fds[i].fdinfo);
	for (size_t i = 0; i < snap->n_pins; i++)
		free(snap->pins[i].path);
	free(snap->fds);
	free(snap->pins);
	memset(snap, 0, sizeof(*snap));
}
