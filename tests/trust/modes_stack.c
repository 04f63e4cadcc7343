// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* Where a create's stack comes from: a signal handler on a small
 * alternate stack, a deep recursion, plugins loaded and unloaded. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "host_trust.h"

static volatile int handler_fd = -1;

static void on_usr1(int sig)
{
	(void)sig;
	handler_fd = trust_map("tr_altstack");
}

/* A create from a handler on an altstack of SIZE bytes (malloc'd, or mmap'd
 * with a PROT_NONE guard page below it). */
static int altstack_mode(int argc, char **argv)
{
	if (argc < 1)
		return 2;
	size_t size = (size_t)atol(argv[0]);
	bool guard = argc > 1 && !strcmp(argv[1], "guard");
	char *mem;
	if (guard) {
		long page = sysconf(_SC_PAGESIZE);
		size_t len = (size + (size_t)page - 1) / (size_t)page * (size_t)page;
		mem = mmap(NULL, len + (size_t)page, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mem == MAP_FAILED || mprotect(mem, (size_t)page, PROT_NONE))
			trust_die("mmap");
		mem += page + (len - size);
	} else {
		mem = malloc(size);
	}
	stack_t ss = { .ss_sp = mem, .ss_size = size };
	if (sigaltstack(&ss, NULL))
		trust_die("sigaltstack");
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_ONSTACK };
	sigaction(SIGUSR1, &sa, NULL);
	/* The first bpf FD of the process, on the small stack. */
	raise(SIGUSR1);
	int first = handler_fd;
	int normal = trust_map("tr_normal");
	raise(SIGUSR1);   /* and one once recording runs */
	int second = handler_fd;
	/* A heap the handler overflowed into shows up here. */
	for (int i = 0; i < 64; i++)
		free(malloc(32 + (size_t)i * 64));
	out("fds %d %d %d", first, normal, second);
	return first >= 0 && normal >= 0 && second >= 0 ? 0 : 1;
}

__attribute__((noinline)) static int recurse(int depth)
{
	volatile int here = depth;
	if (depth <= 0)
		return trust_map("tr_deep");
	return recurse(depth - 1) + here * 0;
}

/* A create at the bottom of a deep recursion. */
static int deep_mode(int argc, char **argv)
{
	int depth = argc > 0 ? atoi(argv[0]) : 200;
	int fd = recurse(depth);
	out("fd %d", fd);
	exit(fd >= 0 ? 0 : 1);
}

static int base_of(void *handle, uintptr_t *base)
{
	struct link_map *lm;
	if (dlinfo(handle, RTLD_DI_LINKMAP, &lm))
		return -1;
	*base = lm->l_addr;
	return 0;
}

/* Two plugins that each leak a map, the first unloaded before the second loads. */
static int plugins_mode(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	for (int i = 0; i < 2; i++) {
		void *h = dlopen(argv[i], RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			dprintf(2, "host_trust: %s\n", dlerror());
			return 3;
		}
		int (*create)(void) = (int (*)(void))dlsym(h, "plugin_create");
		uintptr_t base = 0;
		base_of(h, &base);
		int fd = create ? create() : -1;
		out("plugin %d base %#lx fd %d", i, (unsigned long)base, fd);
		if (fd < 0)
			return 3;
		if (i == 0)
			dlclose(h);
	}
	exit(0);
}

static int ctor_pipe[2];

static void *first_map_meanwhile(void *arg)
{
	(void)arg;
	char c;
	if (read(ctor_pipe[0], &c, 1) != 1)
		return NULL;
	/* The other thread is in dlopen, in the plugin's constructor. */
	out("thread map fd %d", trust_map("tr_thread"));
	return NULL;
}

/*
 * The process's first bpf FD, made while another thread holds the loader's
 * lock and makes one of its own from a plugin's constructor: recording
 * starts on one of them while the other waits for it.
 */
static int ctor_race_mode(int argc, char **argv)
{
	if (argc < 1 || pipe(ctor_pipe))
		return 2;
	char fd[16];
	snprintf(fd, sizeof(fd), "%d", ctor_pipe[1]);
	setenv("TRUST_CTOR_FD", fd, 1);
	pthread_t t;
	if (pthread_create(&t, NULL, first_map_meanwhile, NULL))
		return 3;
	void *h = dlopen(argv[0], RTLD_NOW | RTLD_LOCAL);
	pthread_join(t, NULL);
	out("plugin %s", h ? "loaded" : dlerror());
	exit(h ? 0 : 3);
}

const struct trust_mode trust_stack_modes[] = {
	{ "altstack", "SIZE [guard]", altstack_mode },
	{ "deep", "[DEPTH]", deep_mode },
	{ "plugins", "PLUGIN_A.so PLUGIN_B.so", plugins_mode },
	{ "ctor-race", "PLUGIN_CTOR.so", ctor_race_mode },
	{ NULL, NULL, NULL },
};
