// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* host_hostile MODE ARGS...: see host_hostile.h and the mode files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include "host_hostile.h"

#ifdef HOSTILE_VARIANT
/*
 * The "different binary at the same path" build: this block moves every
 * function after it (this file is linked first) and changes the build-id,
 * so a stack recorded against the normal build must not be symbolized with
 * this one's lines.
 */
volatile int hostile_variant_sink;
void hostile_variant_padding(void)
{
#define P4(n) hostile_variant_sink += (n); hostile_variant_sink ^= (n) * 7; \
	hostile_variant_sink += (n) * 3; hostile_variant_sink ^= (n) * 11;
#define P16(n) P4(n) P4(n + 1) P4(n + 2) P4(n + 3)
#define P64(n) P16(n) P16(n + 4) P16(n + 8) P16(n + 12)
	P64(1) P64(2) P64(3) P64(4) P64(5) P64(6) P64(7) P64(8)
}
#endif

void say(const char *fmt, ...)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "host_hostile[%d]: ", (int)getpid());
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	buf[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, buf, len);
	(void)w;
}

void die(const char *what)
{
	say("%s: %s", what, strerror(errno));
	exit(3);
}

_Atomic long errors;

uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: deterministic per seed, no shared state. */
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 2685821657736338717ull;
}

unsigned rnd(uint64_t *s, unsigned n)
{
	return (unsigned)(rng_next(s) >> 33) % n;
}

/* The map ID behind fd, or 0 (with errno) when it is not a bpf map. */
uint32_t map_id_of(int fd)
{
	struct bpf_map_info info;
	memset(&info, 0, sizeof(info));
	__u32 len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

int make_map(const char *name)
{
	return bpf_map_create(BPF_MAP_TYPE_ARRAY, name, 4, 8, MAX_THREADS + 1, NULL);
}

int fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

void raise_nofile(rlim_t want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("getrlimit");
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		say("cannot raise RLIMIT_NOFILE to %lu: %s", (unsigned long)want, strerror(errno));
		exit(77);
	}
}

static int belief_cmp(const void *a, const void *b)
{
	const struct belief *x = a, *y = b;
	return (x->fd > y->fd) - (x->fd < y->fd);
}

void report_open(struct belief *b, size_t n)
{
	qsort(b, n, sizeof(*b), belief_cmp);
	for (size_t i = 0; i < n; i++) {
		uint32_t id = map_id_of(b[i].fd);
		CHECK(id == b[i].id, "belief: fd %d should hold map %u, kernel says %u", b[i].fd,
		      b[i].id, id);
		CHECK(i == 0 || b[i - 1].fd != b[i].fd, "belief: fd %d listed twice", b[i].fd);
	}
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		die("opendir /proc/self/fd");
	struct dirent *de;
	size_t seen = 0;
	while ((de = readdir(d))) {
		char path[300], target[64];
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		ssize_t n2 = readlink(path, target, sizeof(target) - 1);
		if (n2 < 0)
			continue;
		target[n2] = '\0';
		if (strcmp(target, "anon_inode:bpf-map") != 0)
			continue;
		int fd = atoi(de->d_name);
		struct belief key = { fd, 0 };
		CHECK(bsearch(&key, b, n, sizeof(*b), belief_cmp) != NULL,
		      "belief: fd %d is an open bpf map the program does not know of", fd);
		seen++;
	}
	closedir(d);
	CHECK(seen == n, "belief: %zu bpf map FDs open, the program knows %zu", seen, n);
	for (size_t i = 0; i < n; i++)
		out("open %d %u", b[i].fd, b[i].id);
}

static const struct hostile_mode *const modes[] = {
	&threads_mode, &forks_mode, &execchild_mode, &sigclose_mode, &closeall_mode,
	&killloop_mode, &highfd_mode, &plain_mode, &leak_mode,
};
#define N_MODES (sizeof(modes) / sizeof(modes[0]))

int main(int argc, char **argv)
{
	for (size_t i = 0; argc > 1 && i < N_MODES; i++)
		if (!strcmp(modes[i]->name, argv[1]) && argc - 2 >= modes[i]->min_args)
			return modes[i]->run(argc - 2, argv + 2);
	for (size_t i = 0; i < N_MODES; i++)
		say("%s host_hostile %s%s%s", i ? "      " : "usage:", modes[i]->name,
		    *modes[i]->usage ? " " : "", modes[i]->usage);
	return 2;
}
