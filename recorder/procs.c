// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The traced processes: who each image is (process rows, as the shim writes
 * them, with recorder='kernel' and the pid inside the process's own pid
 * namespace), and its ELF modules (module rows from /proc/PID/maps).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "elfkind.h"
#include "session.h"
#include "unwind.h"

/* Maps are read again for an unknown address at most this often per process. */
#define MAPS_REREAD_NS (20 * 1000 * 1000ull)
#define MAPS_REREAD_MAX_NS (1000 * 1000 * 1000ull)

struct kproc *procs_find(struct session *s, pid_t pid)
{
	/* Newest first: a reused pid's live entry wins over an old one. */
	for (size_t i = s->n_procs; i-- > 0;)
		if (s->procs[i]->pid == pid)
			return s->procs[i];
	return NULL;
}

struct kproc *procs_add(struct session *s, pid_t pid)
{
	if (s->n_procs == s->cap_procs) {
		size_t n = s->cap_procs ? s->cap_procs * 2 : 16;
		struct kproc **p = realloc(s->procs, n * sizeof(*p));
		if (!p)
			return NULL;
		s->procs = p;
		s->cap_procs = n;
	}
	struct kproc *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->root_fd = p->mntns_fd = -1;
	p->origin = "start";
	p->stack_mode = STACK_ALWAYS_COPY;
	s->procs[s->n_procs++] = p;
	return p;
}

void procs_free(struct kproc *p)
{
	procs_drop_mounts(p);
	free(p->exe);
	free(p->cmdline);
	fdmodel_free(&p->fds);
	procmaps_free(p->mods, p->n_mods);
	free(p->ranges);
	for (size_t i = 0; i < p->n_exit_fds; i++)
		free(p->exit_fds[i].fdinfo);
	free(p->exit_fds);
	free(p);
}

static char *read_proc_file(pid_t pid, const char *name, size_t *len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	return bpfleak_read_file(path, len);
}

/* Field n (1-based) of /proc/PID/stat; fields after comm's ")" are space separated. */
static unsigned long long stat_field(const char *stat, int n)
{
	const char *p = strrchr(stat, ')');
	for (int field = 2; p && field < n; field++)
		p = strchr(p + 1, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

void procs_read_identity(struct kproc *p)
{
	char buf[4096];
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)p->pid);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		free(p->exe);
		p->exe = strdup(buf);
	}
	size_t len = 0;
	char *cmd = read_proc_file(p->pid, "cmdline", &len);
	if (cmd && len) {
		for (size_t i = 0; i + 1 < len; i++)
			if (cmd[i] == '\0')
				cmd[i] = ' ';
		free(p->cmdline);
		p->cmdline = cmd;
	} else {
		free(cmd);
	}
	char *stat_text = read_proc_file(p->pid, "stat", &len);
	if (stat_text) {
		p->start_ticks = stat_field(stat_text, 22);
		if (!p->ppid)
			p->ppid = (pid_t)stat_field(stat_text, 4);
		free(stat_text);
	}
	char *status = read_proc_file(p->pid, "status", &len);
	const char *ns = status ? strstr(status, "\nNSpid:") : NULL;
	if (ns) {
		/* The last number is the pid in the process's own namespace. */
		const char *end = strchr(ns + 1, '\n');
		const char *last = end ? end : ns + strlen(ns);
		while (last > ns && (last[-1] == ' ' || last[-1] == '\t'))
			last--;
		while (last > ns && last[-1] >= '0' && last[-1] <= '9')
			last--;
		p->ns_pid = (pid_t)strtol(last, NULL, 10);
	}
	free(status);
	procs_read_mounts(p);
}

void procs_read_mounts(struct kproc *p)
{
	char path[64];
	size_t len = 0;
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)p->pid);
	char *text = bpfleak_read_file(path, &len);
	if (!text)
		return;
	snprintf(path, sizeof(path), "/proc/%d/root", (int)p->pid);
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* The root alone is not enough: a namespace whose last process left
	 * takes its mounts with it, unless someone holds the namespace. */
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)p->pid);
	int ns = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || ns < 0) {
		if (fd >= 0)
			close(fd);
		if (ns >= 0)
			close(ns);
		free(text);
		return;
	}
	procs_drop_mounts(p);
	p->root_fd = fd;
	p->mntns_fd = ns;
	p->mountinfo = text;
	p->mountinfo_len = len;
}

void procs_drop_mounts(struct kproc *p)
{
	if (p->root_fd >= 0)
		close(p->root_fd);
	if (p->mntns_fd >= 0)
		close(p->mntns_fd);
	p->root_fd = p->mntns_fd = -1;
	free(p->mountinfo);
	p->mountinfo = NULL;
	p->mountinfo_len = 0;
}

void procs_inherit_mounts(struct kproc *child, const struct kproc *parent)
{
	if (child->mountinfo || !parent->mountinfo || parent->root_fd < 0)
		return;
	child->root_fd = fcntl(parent->root_fd, F_DUPFD_CLOEXEC, 0);
	child->mntns_fd = parent->mntns_fd >= 0 ? fcntl(parent->mntns_fd, F_DUPFD_CLOEXEC, 0) : -1;
	child->mountinfo = child->root_fd >= 0 ? strdup(parent->mountinfo) : NULL;
	child->mountinfo_len = child->mountinfo ? parent->mountinfo_len : 0;
}

int procs_write_row(struct session *s, struct kproc *p, uint64_t ts)
{
	if (!session_batch(s))
		return -1;
	struct timespec mono, wall;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &wall);
	p->started_ns = ts;
	struct jw_process row = {
		.pid = p->pid,
		.ppid = p->ppid,
		.ns_pid = p->ns_pid,
		.exe = p->exe,
		.cmdline = p->cmdline ? p->cmdline : "",
		.boot_id = s->boot_id,
		.origin = p->origin,
		.recorder = "kernel",
		.start_ticks = p->start_ticks,
		.started_ns = ts,
		.realtime_base_ns = ((int64_t)wall.tv_sec - mono.tv_sec) * 1000000000ll +
				    (wall.tv_nsec - mono.tv_nsec),
	};
	p->row = jw_process(&s->j, &row);
	if (p->row < 0) {
		p->row = 0;
		session_write_failed(s, "process row");
		return -1;
	}
	return 0;
}

struct kproc *procs_adopt(struct session *s, pid_t pid, uint64_t ts)
{
	struct kproc *p = procs_add(s, pid);
	if (!p)
		return NULL;
	procs_read_identity(p);
	struct kproc *parent = p->ppid ? procs_find(s, p->ppid) : NULL;
	p->origin = parent ? "fork" : "attach";
	p->stack_mode = procs_stack_mode_for(s, pid);
	procs_write_row(s, p, ts);
	procs_refresh_modules(s, p, ts, false);
	return p;
}

int procs_stack_mode_for(const struct session *s, pid_t pid)
{
	(void)s;
	char path[64];
	struct elf_kind k;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	/* Go keeps frame pointers on amd64: its kernel stacks are whole. */
	if (elf_kind_of_path(path, &k) == 0 && k.is_go)
		return STACK_FP_ONLY;
	return STACK_ALWAYS_COPY;
}

int procs_write_module(struct session *s, pid_t pid, const struct procmap_module *m, uint64_t ts)
{
	struct jw_module row = {
		.pid = pid, .ts_ns = ts, .path = m->path, .build_id = m->build_id, .base = m->base,
		.size = m->size, .file_size = m->file_size, .mtime_ns = m->mtime_ns,
	};
	if (jw_module(&s->j, &row) < 0) {
		session_write_failed(s, "module row");
		return -1;
	}
	return 0;
}

static bool known_module(const struct kproc *p, const struct procmap_module *m)
{
	for (size_t i = 0; i < p->n_mods; i++)
		if (p->mods[i].base == m->base && p->mods[i].inode == m->inode &&
		    !strcmp(p->mods[i].path, m->path))
			return true;
	return false;
}

static int by_start(const void *a, const void *b)
{
	const struct procmap_module *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

void procs_refresh_modules(struct session *s, struct kproc *p, uint64_t ts, bool at_exec)
{
	struct procmap_module *mods;
	size_t n;
	uint64_t now = now_ns();
	p->maps_read_ns = now;
	p->maps_at_exec = at_exec;
	procs_read_mounts(p);
	if (procmaps_read_open(p->pid, &mods, &n))
		return;
	size_t fresh = 0;
	for (size_t i = 0; i < n; i++)
		if (!known_module(p, &mods[i]))
			fresh++;
	/*
	 * An address that stays unknown (JIT code, a stack the unwinder got
	 * wrong) must not make every event read the maps: back off while
	 * reading finds nothing new.
	 */
	p->maps_backoff_ns = fresh ? MAPS_REREAD_NS
			     : p->maps_backoff_ns < MAPS_REREAD_NS ? 2 * MAPS_REREAD_NS
			     : p->maps_backoff_ns >= MAPS_REREAD_MAX_NS ? MAPS_REREAD_MAX_NS
			     : 2 * p->maps_backoff_ns;
	if (fresh && session_batch(s)) {
		struct procmap_module *all = realloc(p->mods, (p->n_mods + fresh) * sizeof(*all));
		if (all) {
			p->mods = all;
			for (size_t i = 0; i < n; i++) {
				if (known_module(p, &mods[i]))
					continue;
				procs_write_module(s, p->pid, &mods[i], ts);
				procs_give_unwinder(p->pid, &mods[i], 1);
				p->mods[p->n_mods++] = mods[i];
				mods[i].path = NULL;   /* moved, with its FD */
				mods[i].fd = -1;
			}
			/* procmaps_find searches by address: keep the order. */
			qsort(p->mods, p->n_mods, sizeof(*p->mods), by_start);
			p->own_modules = true;
		}
	}
	procmaps_free(mods, n);
}

/*
 * The unwinder gets its own copy of the files (it keeps what it uses): a
 * process whose records are read after it exited or exec'd still unwinds
 * against the image that made them.
 */
void procs_give_unwinder(pid_t pid, const struct procmap_module *mods, size_t n)
{
	struct procmap_module *copy = calloc(n ? n : 1, sizeof(*copy));
	if (!copy)
		return;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		copy[k] = mods[i];
		copy[k].fd = mods[i].fd >= 0 ? fcntl(mods[i].fd, F_DUPFD_CLOEXEC, 0) : -1;
		if (!(copy[k].path = strdup(mods[i].path))) {
			if (copy[k].fd >= 0)
				close(copy[k].fd);
			continue;
		}
		k++;
	}
	if (k)
		unwind_add_modules(pid, copy, k);
	procmaps_free(copy, k);
}

void procs_inherit_modules(struct session *s, struct kproc *child, const struct kproc *parent,
			   uint64_t ts)
{
	/* The parent's own rows, or its ancestors' (a fork of a fork child). */
	for (int hops = 0; parent && !parent->own_modules && hops < 8; hops++)
		parent = parent->ppid ? procs_find(s, parent->ppid) : NULL;
	if (!parent || !parent->n_mods || !session_batch(s))
		return;
	struct procmap_module *mods = calloc(parent->n_mods, sizeof(*mods));
	if (!mods)
		return;
	size_t n = 0;
	for (size_t i = 0; i < parent->n_mods; i++) {
		mods[n] = parent->mods[i];
		mods[n].fd = parent->mods[i].fd >= 0 ? fcntl(parent->mods[i].fd, F_DUPFD_CLOEXEC, 0) : -1;
		if (!(mods[n].path = strdup(parent->mods[i].path))) {
			if (mods[n].fd >= 0)
				close(mods[n].fd);
			continue;
		}
		procs_write_module(s, child->pid, &mods[n], ts);
		n++;
	}
	procs_give_unwinder(child->pid, mods, n);
	procmaps_free(child->mods, child->n_mods);
	child->mods = mods;
	child->n_mods = n;
	child->own_modules = true;
	child->maps_read_ns = parent->maps_read_ns;
}

const struct procmap_module *procs_module_at(struct session *s, const struct kproc *p,
					    uint64_t ip)
{
	for (int hops = 0; p && hops < 8; hops++) {
		const struct procmap_module *m = procmaps_find(p->mods, p->n_mods, ip);
		if (m)
			return m;
		if (p->own_modules)
			return NULL;
		/* A fork child without rows of its own has its parent's layout. */
		p = p->ppid ? procs_find(s, p->ppid) : NULL;
	}
	return NULL;
}

bool procs_ip_known(struct session *s, const struct kproc *p, uint64_t ip)
{
	return procs_module_at(s, p, ip) != NULL;
}

void procs_set_exited(struct session *s, struct kproc *p, uint64_t ts, bool have_status, int status)
{
	p->exited = true;
	unwind_forget(p->pid);
	procs_drop_mounts(p);   /* the exit snapshot walked its pins already */
	/* Its files are needed no more (a fork child copied what it needed at fork). */
	for (size_t i = 0; i < p->n_mods; i++)
		if (p->mods[i].fd >= 0) {
			close(p->mods[i].fd);
			p->mods[i].fd = -1;
		}
	if (p->row && session_batch(s) &&
	    jw_process_exited(&s->j, p->row, ts, have_status, status) != 0)
		session_write_failed(s, "process exit");
}

bool procs_maps_stale(const struct kproc *p)
{
	uint64_t wait = p->maps_backoff_ns ? p->maps_backoff_ns : MAPS_REREAD_NS;
	return !p->exited && (p->maps_at_exec || now_ns() - p->maps_read_ns >= wait);
}
