// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libbpfleak-journal.so (jwapi.h), loaded from the directory libbpfleak.so
 * was loaded from, the first time recording starts.  A failure is the
 * shim's usual failed open: one warning, and the host runs as without us.
 *
 * The jw_* functions below forward to the module's table; only journal.c
 * calls them, after journal_writer_load() said yes.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpfleak/snapshot.h>
#include "jwapi.h"
#include "shim.h"

#define MODULE_NAME "libbpfleak-journal.so"

/* Set once loaded; two threads may load at once (lifecycle.c), to the same table. */
static const struct jw_api *_Atomic api;

/*
 * The path of the object this code is in.  The loader's own name for it
 * when that is absolute; otherwise (LD_PRELOAD=./libbpfleak.so, and the
 * host may have changed directory since) the file the kernel mapped.
 */
static bool own_path(char *out, size_t cap)
{
	Dl_info info;
	if (!dladdr((void *)own_path, &info) || !info.dli_fname)
		return false;
	if (info.dli_fname[0] == '/') {
		snprintf(out, cap, "%s", info.dli_fname);
		return true;
	}
	size_t len = 0;
	char *maps = bpfleak_read_file("/proc/self/maps", &len);
	if (!maps)
		return false;
	uintptr_t me = (uintptr_t)own_path;
	bool found = false;
	for (char *line = maps; line && *line && !found;) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		unsigned long lo, hi;
		char *path = strchr(line, '/');
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && me >= lo && me < hi && path) {
			snprintf(out, cap, "%s", path);
			found = true;
		}
		line = next;
	}
	free(maps);
	return found;
}

static bool load(const struct jw_api **out, char *why, size_t cap)
{
	char path[4096];
	if (!own_path(path, sizeof(path) - sizeof(MODULE_NAME))) {
		snprintf(why, cap, "cannot tell where libbpfleak.so is, to load " MODULE_NAME);
		return false;
	}
	char *slash = strrchr(path, '/');
	snprintf(slash + 1, sizeof(path) - (size_t)(slash + 1 - path), "%s", MODULE_NAME);
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		snprintf(why, cap, "cannot load %.280s", e ? e : path);
		return false;
	}
	jw_api_fn get = (jw_api_fn)dlsym(h, JW_API_SYMBOL);
	const struct jw_api *a = get ? get(JW_API_VERSION) : NULL;
	if (!a || a->version != JW_API_VERSION || a->size != sizeof(*a)) {
		snprintf(why, cap, "%.250s is from another version of bpfleak", path);
		dlclose(h);
		return false;
	}
	*out = a;
	return true;
}

/*
 * Without a lock of our own: a thread in dlopen holds the loader's lock
 * and may be on its way here (a bpf FD made in a library's constructor).
 * A failure is tried again by the next caller; there are few.
 */
bool journal_writer_load(char *why, size_t cap)
{
	if (atomic_load_explicit(&api, memory_order_acquire))
		return true;
	const struct jw_api *a = NULL;
	shim_guard++;
	bool ok = load(&a, why, cap);
	shim_guard--;
	if (ok)
		atomic_store_explicit(&api, a, memory_order_release);
	return ok;
}

#define JW_FORWARD(ret, name, params, args) \
	ret jw_##name params                \
	{                                   \
		return atomic_load_explicit(&api, memory_order_relaxed)->name args; \
	}
#define JW_VFORWARD(name, params, args) \
	void jw_##name params           \
	{                               \
		atomic_load_explicit(&api, memory_order_relaxed)->name args; \
	}
JW_API(JW_FORWARD, JW_VFORWARD)
