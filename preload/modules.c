// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The module map (path, load bias, size, build-id) that lets bpfleak-report
 * symbolize raw IPs offline, versioned by time: a plugin dlclose'd and
 * another loaded at the same address are two rows, and each stack is
 * symbolized against the row mapped when it was captured.
 *
 * A row's ts is a lower bound of when it was mapped: the previous look at
 * the module list (the start of the process for the first look).  Looks
 * happen when recording starts, before each batch the writer writes, and
 * around every dlclose, so a module can never be unloaded unseen; its
 * unload time is exact.  Never from the bpf/close hooks, which may run
 * while the host holds the loader lock.
 */
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpfleak/buildid.h>
#include "shim.h"

#define MAX_MODULES 1024

struct module {
	const char *path;         /* arena */
	char build_id[41 * 2];    /* hex; 40 bytes of id is the longest in use */
	uintptr_t base, size;
	uint64_t ts;
	int64_t file_size, mtime_ns;   /* -1 when the file could not be read */
	uint64_t unloaded_ns;     /* 0 while mapped */
	int64_t row;              /* journal row, 0 until written */
	bool unload_written;
	bool seen;                /* in the list at the current look */
};

static struct module modules[MAX_MODULES];
static int n_modules;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const char *exe_path;
static uint64_t last_look_ns;
/* Bumped when a module goes away: stacks are told apart by it (stack.c). */
static _Atomic uint32_t generation;

uint32_t modules_generation(void)
{
	return atomic_load_explicit(&generation, memory_order_relaxed);
}

struct look {
	uintptr_t self;
	uint64_t ts;
};

static struct module *find(uintptr_t base, const char *path)
{
	for (int i = n_modules - 1; i >= 0; i--)
		if (!modules[i].unloaded_ns && modules[i].base == base &&
		    !strcmp(modules[i].path, path))
			return &modules[i];
	return NULL;
}

static void add(const struct dl_phdr_info *info, const char *path, uintptr_t hi, uint64_t ts)
{
	if (n_modules == MAX_MODULES)
		return;
	struct module *m = &modules[n_modules];
	memset(m, 0, sizeof(*m));
	m->path = arena_strdup(path, 4096);
	if (!m->path)
		return;
	m->base = info->dlpi_addr;
	m->size = hi;
	m->ts = ts;
	struct stat st;
	if (stat(path, &st) == 0) {
		m->file_size = st.st_size;
		m->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec;
	} else {
		m->file_size = m->mtime_ns = -1;
	}
	bpfleak_build_id_hex(info, m->build_id, sizeof(m->build_id));
	m->seen = true;
	n_modules++;
}

static int on_module(struct dl_phdr_info *info, size_t size, void *ctx)
{
	(void)size;
	const struct look *lk = ctx;
	const char *path = info->dlpi_name;
	if (!path || !path[0])
		path = exe_path;
	if (!path || !path[0] || !strncmp(path, "linux-vdso", 10) || !strncmp(path, "linux-gate", 10))
		return 0;

	uintptr_t lo = UINTPTR_MAX, hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_vaddr < lo)
			lo = ph->p_vaddr;
		if (ph->p_vaddr + ph->p_memsz > hi)
			hi = ph->p_vaddr + ph->p_memsz;
	}
	if (hi == 0)
		return 0;
	uintptr_t base = info->dlpi_addr;
	if (lk->self >= base + lo && lk->self < base + hi)
		stack_set_self_range(base + lo, base + hi);
	struct module *m = find(base, path);
	if (m)
		m->seen = true;
	else
		add(info, path, hi, lk->ts);
	return 0;
}

/* One look at the loaded modules; those gone since the last look are unloaded now. */
static void look_locked(void)
{
	if (!exe_path) {
		char buf[4096];
		ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			exe_path = arena_strdup(buf, sizeof(buf));
		}
	}
	uint64_t now = shim_now_ns();
	/* Mapped after the previous look; the first look covers the whole start. */
	struct look lk = { (uintptr_t)&modules_refresh, last_look_ns ? last_look_ns : self.started_ns };
	for (int i = 0; i < n_modules; i++)
		modules[i].seen = false;
	dl_iterate_phdr(on_module, &lk);
	for (int i = 0; i < n_modules; i++)
		if (!modules[i].seen && !modules[i].unloaded_ns) {
			modules[i].unloaded_ns = now;
			atomic_fetch_add(&generation, 1);
		}
	last_look_ns = now;
}

void modules_refresh(void)
{
	shim_guard++;
	shim_internal++;
	pthread_mutex_lock(&lock);
	look_locked();
	pthread_mutex_unlock(&lock);
	shim_internal--;
	shim_guard--;
}

void modules_before_dlclose(void)
{
	modules_refresh();
}

void modules_after_dlclose(void)
{
	modules_refresh();
}

int modules_write(int64_t (*fn)(const struct module_info *m, void *ctx),
		  int (*unload)(int64_t row, uint64_t ts, void *ctx), void *ctx)
{
	int rc = 0;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < n_modules && !rc; i++) {
		struct module *m = &modules[i];
		if (!m->row) {
			struct module_info info = {
				.path = m->path, .build_id = m->build_id, .base = m->base,
				.size = m->size, .ts = m->ts, .file_size = m->file_size,
				.mtime_ns = m->mtime_ns, .unloaded_ns = m->unloaded_ns,
			};
			int64_t row = fn(&info, ctx);
			if (row <= 0) {
				rc = -1;
				break;
			}
			m->row = row;
			m->unload_written = false;
		}
		if (m->unloaded_ns && !m->unload_written) {
			rc = unload(m->row, m->unloaded_ns, ctx);
			m->unload_written = rc == 0;
		}
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

void modules_mark_unwritten(void)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < n_modules; i++) {
		modules[i].row = 0;
		modules[i].unload_written = false;
	}
	pthread_mutex_unlock(&lock);
}

/*
 * No look at the module list may be under way at fork: dl_iterate_phdr
 * holds the loader's lock, which glibc does not reset in a child.
 */
void modules_fork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

void modules_fork_parent(void)
{
	pthread_mutex_unlock(&lock);
}

/* The child has the same mappings, but its own pid: write them again. */
void modules_after_fork_child(void)
{
	pthread_mutex_init(&lock, NULL);
	for (int i = 0; i < n_modules; i++) {
		modules[i].row = 0;
		modules[i].unload_written = false;
	}
}
