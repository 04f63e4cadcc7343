// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The hostile host: programs that run under LD_PRELOAD=libbpfleak.so and do
 * what real programs do to a preloaded recorder -- threads racing on FD
 * numbers, forks and execs under load, closes from signal handlers, closing
 * every FD including the shim's, SIGKILL mid-loop, FD numbers near
 * RLIMIT_NOFILE.
 *
 *   host_hostile MODE [ARGS...]          (see usage() below)
 *
 * Each mode checks its own results as it goes (return values, errno, the
 * object behind every FD it makes) and counts mismatches: the shim must not
 * change what the host sees.  At the end it prints, one per line,
 *
 *   open FD ID        every bpf FD it knows it leaves open (and map ID)
 *   errors N          how many of its own checks failed (0 = unchanged)
 *
 * and other mode-specific facts.  It also compares what it believes with
 * /proc/self/fd before exiting, so a test never checks the journal against
 * a host that is itself wrong.  Output is write(2), never stdio buffers, so
 * nothing is duplicated across fork or lost across exec.
 *
 * Exit status: 0 done, 1 own checks failed, 2 usage, 3 setup failed,
 * 77 the environment does not allow the mode (reason on stderr).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/close_range.h>

#ifdef HOSTILE_VARIANT
/*
 * The "different binary at the same path" build: this block moves every
 * function after it and changes the build-id, so a stack recorded against
 * the normal build must not be symbolized with this one's lines.
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

#include "../lib/host_out.h"

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
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

static void die(const char *what) __attribute__((noreturn));
static void die(const char *what)
{
	say("%s: %s", what, strerror(errno));
	exit(3);
}

static _Atomic long errors;

#define CHECK(cond, ...)                                                         \
	do {                                                                     \
		if (!(cond)) {                                                   \
			atomic_fetch_add(&errors, 1);                            \
			say(__VA_ARGS__);                                        \
		}                                                                \
	} while (0)

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: deterministic per seed, no shared state. */
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 2685821657736338717ull;
}

static unsigned rnd(uint64_t *s, unsigned n)
{
	return (unsigned)(rng_next(s) >> 33) % n;
}

/* The map ID behind fd, or 0 (with errno) when it is not a bpf map. */
static uint32_t map_id_of(int fd)
{
	struct bpf_map_info info;
	memset(&info, 0, sizeof(info));
	__u32 len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

#define MAX_THREADS 64

static int make_map(const char *name)
{
	return bpf_map_create(BPF_MAP_TYPE_ARRAY, name, 4, 8, MAX_THREADS + 1, NULL);
}

static int fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

static void raise_nofile(rlim_t want)
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

/*
 * The program's own belief about its open bpf FDs, checked against the
 * kernel: every FD it lists must be open on that map, and no other bpf map
 * FD may be open.  Prints the "open FD ID" lines.
 */
struct belief {
	int fd;
	uint32_t id;
};

static int belief_cmp(const void *a, const void *b)
{
	const struct belief *x = a, *y = b;
	return (x->fd > y->fd) - (x->fd < y->fd);
}

static void report_open(struct belief *b, size_t n)
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

/* ================================================================== */
/* threads: 16 threads racing creates, dups and closes                 */
/* ================================================================== */

#define BAND 64
#define BAND_BASE 2000
#define MAX_LOW 24
#define N_ANCHORS 8

enum { EMPTY = 0, BPF = 1, OTHER = 2 };

struct slot {
	int state;
	uint32_t id;
	/*
	 * The last bpf FD here was closed and nothing has used the number
	 * since: closing it again is a double close the journal must show.
	 */
	int closed_bpf;
};

struct worker {
	pthread_t th;
	int t, nthreads;
	long ops;
	uint64_t rng;
	int band_lo;
	struct slot band[BAND];
	struct belief low[MAX_LOW];
	int nlow;
	int evfd;
	long counts[16];
	int dbl[4096];               /* FD numbers closed twice, in order */
	int ndbl;
	int sweep[4096];             /* those the shim takes for a close-everything sweep */
	int nsweep;
	int hist[2];                 /* the last two numbers this thread passed to close() */
};

static uint32_t anchor_ids[N_ANCHORS];
static int anchor_fds[N_ANCHORS];

static const char *const op_names[16] = {
	"create", "get_anchor", "get_own", "dup", "fcntl_dup", "dup2_band", "dup2_other",
	"close_low", "close_band", "close_range", "close_range_cloexec", "map_rw", "closefrom",
	"raw_syscall_dup", "raw_close", "dup3_band",
};

static void low_add(struct worker *w, int fd, uint32_t id)
{
	CHECK(fd >= 3 && fd < BAND_BASE, "t%d: new fd %d outside the low range", w->t, fd);
	w->low[w->nlow++] = (struct belief){ fd, id };
}

static void low_remove(struct worker *w, int i)
{
	w->low[i] = w->low[--w->nlow];
}

static void check_id(struct worker *w, const char *op, int fd, uint32_t want)
{
	uint32_t id = map_id_of(fd);
	CHECK(id == want, "t%d %s: fd %d holds map %u, expected %u (%s)", w->t, op, fd, id, want,
	      strerror(errno));
}

/* Slot k of the band was closed by close/close_range/closefrom. */
static void band_closed(struct worker *w, unsigned k)
{
	if (w->band[k].state == BPF)
		w->band[k].closed_bpf = 1;
	else if (w->band[k].state == OTHER)
		w->band[k].closed_bpf = 0;
	w->band[k].state = EMPTY;
}

/* Something new was put on slot k. */
static void band_put(struct worker *w, unsigned k, int state, uint32_t id)
{
	w->band[k] = (struct slot){ state, id, 0 };
}

static void band_set_from_close(struct worker *w, unsigned a, unsigned b)
{
	for (unsigned k = a; k <= b; k++)
		band_closed(w, k);
}

/*
 * Every close() of a worker goes through here, so it knows what the shim
 * knows: the shim takes an EBADF close of N right after closes of N-2 and
 * N-1 by the same thread, with N-1 not open, for a close-everything sweep
 * (preload/hooks_fd.c in_sweep) and the report does not count it.
 */
static int wclose(struct worker *w, int fd, bool raw)
{
	int r = raw ? (int)syscall(SYS_close, fd) : close(fd);
	int e = errno;
	w->hist[1] = w->hist[0];
	w->hist[0] = fd;
	errno = e;
	return r;
}

static bool looks_like_sweep(const struct worker *w, int fd, int prev0, int prev1)
{
	int k1 = fd - 1 - w->band_lo;
	return prev0 == fd - 1 && prev1 == fd - 2 && k1 >= 0 && k1 < BAND &&
	       w->band[k1].state == EMPTY;
}

static const char *trace_dir;   /* HOSTILE_TRACE=DIR: each thread logs its band operations */

static void trace(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trace(struct worker *w, const char *fmt, ...)
{
	static __thread int tfd = -1;
	if (!trace_dir)
		return;
	if (tfd < 0) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/t%d.log", trace_dir, w->t);
		int f = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (f < 0)
			return;
		/* Below the bands (closefrom reaches above them), above the raced low numbers. */
		tfd = fcntl(f, F_DUPFD_CLOEXEC, BAND_BASE - 100 + w->t);
		wclose(w, f, false);
		if (tfd < 0)
			return;
	}
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n > 0) {
		buf[n++] = '\n';
		ssize_t wr = write(tfd, buf, (size_t)n);
		(void)wr;
	}
}

static void do_op(struct worker *w, int op)
{
	char name[16];
	int fd, r;
	unsigned k, a, b;
	w->counts[op]++;

	switch (op) {
	case 0: /* BPF_MAP_CREATE through libbpf's syscall() */
		if (w->nlow >= MAX_LOW)
			goto close_low;
		snprintf(name, sizeof(name), "hl_t%d", w->t);
		fd = make_map(name);
		CHECK(fd >= 0, "t%d create: %s", w->t, strerror(errno));
		if (fd < 0)
			return;
		{
			uint32_t id = map_id_of(fd);
			CHECK(id != 0, "t%d create: no id for fd %d", w->t, fd);
			__u32 key = 0;
			__u64 val = id;
			CHECK(bpf_map_update_elem(fd, &key, &val, BPF_ANY) == 0, "t%d update: %s",
			      w->t, strerror(errno));
			low_add(w, fd, id);
		}
		return;
	case 1: /* MAP_GET_FD_BY_ID of an anchor that never goes away */
		if (w->nlow >= MAX_LOW)
			goto close_low;
		k = rnd(&w->rng, N_ANCHORS);
		fd = bpf_map_get_fd_by_id(anchor_ids[k]);
		CHECK(fd >= 0, "t%d get_fd_by_id %u: %s", w->t, anchor_ids[k], strerror(errno));
		if (fd < 0)
			return;
		check_id(w, "get_anchor", fd, anchor_ids[k]);
		{
			__u32 key = 0;
			__u64 val = 0;
			CHECK(bpf_map_lookup_elem(fd, &key, &val) == 0 && val == anchor_ids[k],
			      "t%d anchor %u value %llu", w->t, anchor_ids[k], (unsigned long long)val);
		}
		low_add(w, fd, anchor_ids[k]);
		return;
	case 2: /* MAP_GET_FD_BY_ID of one of our own maps */
		if (!w->nlow || w->nlow >= MAX_LOW)
			goto create;
		k = rnd(&w->rng, (unsigned)w->nlow);
		fd = bpf_map_get_fd_by_id(w->low[k].id);
		CHECK(fd >= 0, "t%d get_own %u: %s", w->t, w->low[k].id, strerror(errno));
		if (fd < 0)
			return;
		check_id(w, "get_own", fd, w->low[k].id);
		low_add(w, fd, w->low[k].id);
		return;
	case 3: /* dup */
	case 4: /* fcntl(F_DUPFD[_CLOEXEC], 3) */
	case 13: /* syscall(SYS_dup) as libbpf would */
		if (!w->nlow || w->nlow >= MAX_LOW)
			goto create;
		k = rnd(&w->rng, (unsigned)w->nlow);
		if (op == 3)
			fd = dup(w->low[k].fd);
		else if (op == 4)
			fd = fcntl(w->low[k].fd, rnd(&w->rng, 2) ? F_DUPFD_CLOEXEC : F_DUPFD, 3);
		else
			fd = (int)syscall(SYS_dup, w->low[k].fd);
		CHECK(fd >= 0, "t%d %s of %d: %s", w->t, op_names[op], w->low[k].fd, strerror(errno));
		if (fd < 0)
			return;
		check_id(w, op_names[op], fd, w->low[k].id);
		low_add(w, fd, w->low[k].id);
		return;
	case 5:  /* dup2 a bpf FD onto a band slot: empty, tracked or untracked */
	case 15: /* the same through dup3(O_CLOEXEC) or syscall(SYS_dup3) */
		if (!w->nlow)
			goto create;
		k = rnd(&w->rng, BAND);
		{
			int src = rnd(&w->rng, 2) ? w->low[rnd(&w->rng, (unsigned)w->nlow)].fd : -1;
			uint32_t id = 0;
			if (src < 0) {
				/* Source from the band itself when it has a bpf FD there. */
				unsigned j = rnd(&w->rng, BAND);
				if (w->band[j].state == BPF && j != k) {
					src = w->band_lo + (int)j;
					id = w->band[j].id;
				} else {
					unsigned i = rnd(&w->rng, (unsigned)w->nlow);
					src = w->low[i].fd;
				}
			}
			if (!id)
				for (int i = 0; i < w->nlow; i++)
					if (w->low[i].fd == src)
						id = w->low[i].id;
			int target = w->band_lo + (int)k;
			if (op == 5)
				r = dup2(src, target);
			else if (rnd(&w->rng, 2))
				r = dup3(src, target, O_CLOEXEC);
			else
				r = (int)syscall(SYS_dup3, src, target, O_CLOEXEC);
			trace(w, "%s %d -> %d = %d", op_names[op], src, target, r);
			CHECK(r == target, "t%d %s(%d, %d) = %d: %s", w->t, op_names[op], src, target, r,
			      strerror(errno));
			if (r != target)
				return;
			check_id(w, op_names[op], target, id);
			if (op == 15) {
				int fl = fcntl(target, F_GETFD);
				CHECK(fl >= 0 && (fl & FD_CLOEXEC), "t%d dup3 cloexec lost on %d", w->t,
				      target);
			}
			band_put(w, k, BPF, id);
		}
		return;
	case 6: /* dup2 an untracked FD (eventfd) onto a band slot */
		k = rnd(&w->rng, BAND);
		r = rnd(&w->rng, 2) ? dup2(w->evfd, w->band_lo + (int)k)
				    : (int)syscall(SYS_dup2, w->evfd, w->band_lo + (int)k);
		trace(w, "dup2_other %d -> %d = %d", w->evfd, w->band_lo + (int)k, r);
		CHECK(r == w->band_lo + (int)k, "t%d dup2 other: %s", w->t, strerror(errno));
		if (r >= 0) {
			CHECK(map_id_of(r) == 0, "t%d: fd %d should not be a map", w->t, r);
			band_put(w, k, OTHER, 0);
		}
		return;
	case 7: /* close one of our low FDs */
	case 14: /* the same through syscall(SYS_close) */
	close_low:
		if (!w->nlow)
			goto create;
		k = rnd(&w->rng, (unsigned)w->nlow);
		r = wclose(w, w->low[k].fd, op == 14);
		CHECK(r == 0, "t%d close(%d): %s", w->t, w->low[k].fd, strerror(errno));
		low_remove(w, (int)k);
		return;
	case 8: /* close a band slot; an empty one must say EBADF */
		k = rnd(&w->rng, BAND);
		errno = 0;
		{
			int p0 = w->hist[0], p1 = w->hist[1];
			r = wclose(w, w->band_lo + (int)k, false);
			if (r == -1 && w->band[k].state == EMPTY && w->band[k].closed_bpf &&
			    looks_like_sweep(w, w->band_lo + (int)k, p0, p1) && w->nsweep < 4096)
				w->sweep[w->nsweep++] = w->band_lo + (int)k;
		}
		trace(w, "close %d = %d (%d) state %d closed_bpf %d", w->band_lo + (int)k, r,
		      r ? errno : 0, w->band[k].state, w->band[k].closed_bpf);
		if (w->band[k].state == EMPTY) {
			CHECK(r == -1 && errno == EBADF, "t%d close(empty %d) = %d errno %d", w->t,
			      w->band_lo + (int)k, r, errno);
			if (w->band[k].closed_bpf && w->ndbl < 4096)
				w->dbl[w->ndbl++] = w->band_lo + (int)k;
			w->band[k].closed_bpf = 0;
		} else {
			CHECK(r == 0, "t%d close(band %d): %s", w->t, w->band_lo + (int)k,
			      strerror(errno));
			band_closed(w, k);
		}
		return;
	case 9:  /* close_range over a mixed part of the band */
	case 10: /* the same with CLOSE_RANGE_CLOEXEC: nothing closes */
		a = rnd(&w->rng, BAND);
		b = a + rnd(&w->rng, BAND - a);
		r = close_range((unsigned)w->band_lo + a, (unsigned)w->band_lo + b,
				op == 10 ? CLOSE_RANGE_CLOEXEC : 0);
		trace(w, "close_range %d %d %s = %d", w->band_lo + (int)a, w->band_lo + (int)b,
		      op == 10 ? "cloexec" : "", r);
		CHECK(r == 0, "t%d close_range: %s", w->t, strerror(errno));
		for (unsigned i = a; i <= b; i++) {
			int fl = fcntl(w->band_lo + (int)i, F_GETFD);
			if (op == 9 || w->band[i].state == EMPTY)
				CHECK(fl == -1 && errno == EBADF, "t%d close_range left %d open", w->t,
				      w->band_lo + (int)i);
			else
				CHECK(fl >= 0 && (fl & FD_CLOEXEC), "t%d close_range cloexec %d", w->t,
				      w->band_lo + (int)i);
		}
		if (op == 9)
			band_set_from_close(w, a, b);
		return;
	case 11: /* pass-through map update + lookup on one of our FDs */
		if (!w->nlow)
			goto create;
		k = rnd(&w->rng, (unsigned)w->nlow);
		{
			__u32 key = 1 + (unsigned)w->t;   /* anchors are shared: a key per thread */
			__u64 val = rng_next(&w->rng), got = 0;
			CHECK(bpf_map_update_elem(w->low[k].fd, &key, &val, BPF_ANY) == 0 &&
				      bpf_map_lookup_elem(w->low[k].fd, &key, &got) == 0 && got == val,
			      "t%d map rw on %d: %s", w->t, w->low[k].fd, strerror(errno));
		}
		return;
	case 12: /* closefrom(band): only the last thread has nothing above it */
		if (w->t != w->nthreads - 1)
			goto close_low;
		closefrom(w->band_lo);
		trace(w, "closefrom %d", w->band_lo);
		for (unsigned i = 0; i < BAND; i++)
			CHECK(!fd_is_open(w->band_lo + (int)i), "t%d closefrom left %d", w->t,
			      w->band_lo + (int)i);
		band_set_from_close(w, 0, BAND - 1);
		return;
	}
	return;
create:
	do_op(w, 0);
}

static int park_threads;
static _Atomic int parked;

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	w->evfd = eventfd(0, EFD_CLOEXEC);
	if (w->evfd < 0)
		die("eventfd");
	/* Weights: creates and closes dominate, as in a real program. */
	static const int weights[16] = { 14, 8, 5, 6, 4, 8, 5, 14, 8, 4, 2, 4, 1, 3, 4, 4 };
	int total = 0;
	for (int i = 0; i < 16; i++)
		total += weights[i];
	for (long i = 0; i < w->ops; i++) {
		int pick = (int)rnd(&w->rng, (unsigned)total), op = 0;
		while (pick >= weights[op])
			pick -= weights[op++];
		do_op(w, op);
	}
	/* Leave some of each kind open: the exit snapshot has to show them. */
	while (w->nlow > MAX_LOW / 3) {
		int r = wclose(w, w->low[w->nlow - 1].fd, false);
		CHECK(r == 0, "t%d final close: %s", w->t, strerror(errno));
		w->nlow--;
	}
	wclose(w, w->evfd, false);
	if (park_threads) {
		/*
		 * TSan builds: a finished thread waits here until exit instead
		 * of ending, because TSan crashes when libunwind's per-thread
		 * cache destructor (the shim uses UNW_CACHE_PER_THREAD) takes a
		 * mutex after TSan has finalized the thread.
		 */
		atomic_fetch_add_explicit(&parked, 1, memory_order_release);
		for (;;)
			pause();
	}
	return NULL;
}

static int mode_threads(int nthreads, long total_ops, uint64_t seed, const char *pin_dir)
{
	if (nthreads < 1 || nthreads > MAX_THREADS)
		return 2;
	raise_nofile(BAND_BASE + (rlim_t)BAND * MAX_THREADS + 64);
	for (int i = 0; i < N_ANCHORS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "hl_anchor%d", i);
		anchor_fds[i] = make_map(name);
		if (anchor_fds[i] < 0)
			die("anchor map");
		anchor_ids[i] = map_id_of(anchor_fds[i]);
		__u32 key = 0;
		__u64 val = anchor_ids[i];
		if (bpf_map_update_elem(anchor_fds[i], &key, &val, BPF_ANY))
			die("anchor update");
		if (pin_dir && i < 2) {
			char path[PATH_MAX];
			snprintf(path, sizeof(path), "%s/hl_anchor%d", pin_dir, i);
			if (bpf_obj_pin(anchor_fds[i], path))
				die("bpf_obj_pin");
			out("pin %s %u", path, anchor_ids[i]);
		}
	}
	struct worker *ws = calloc((size_t)nthreads, sizeof(*ws));
	if (!ws)
		die("calloc");
	park_threads = getenv("HOSTILE_PARK_THREADS") != NULL;
	trace_dir = getenv("HOSTILE_TRACE");
	uint64_t t0 = mono_ns();
	for (int t = 0; t < nthreads; t++) {
		ws[t].t = t;
		ws[t].nthreads = nthreads;
		ws[t].ops = total_ops / nthreads + (t < total_ops % nthreads);
		ws[t].rng = (seed + 1) * 0x9e3779b97f4a7c15ull ^ (uint64_t)(t + 1) * 0xbf58476d1ce4e5b9ull;
		ws[t].band_lo = BAND_BASE + t * BAND;
		ws[t].hist[0] = ws[t].hist[1] = -1;
		if (pthread_create(&ws[t].th, NULL, worker_main, &ws[t]))
			die("pthread_create");
	}
	long counts[16] = { 0 };
	while (park_threads && atomic_load_explicit(&parked, memory_order_acquire) < nthreads)
		usleep(1000);
	for (int t = 0; t < nthreads; t++) {
		if (!park_threads)
			pthread_join(ws[t].th, NULL);
		for (int i = 0; i < 16; i++)
			counts[i] += ws[t].counts[i];
	}
	uint64_t t1 = mono_ns();

	size_t cap = N_ANCHORS + (size_t)nthreads * (MAX_LOW + BAND), n = 0;
	struct belief *b = calloc(cap, sizeof(*b));
	if (!b)
		die("calloc");
	for (int i = 0; i < N_ANCHORS; i++)
		b[n++] = (struct belief){ anchor_fds[i], anchor_ids[i] };
	for (int t = 0; t < nthreads; t++) {
		for (int i = 0; i < ws[t].nlow; i++)
			b[n++] = ws[t].low[i];
		for (int k = 0; k < BAND; k++) {
			if (ws[t].band[k].state == BPF)
				b[n++] = (struct belief){ ws[t].band_lo + k, ws[t].band[k].id };
			else if (ws[t].band[k].state == OTHER)
				close(ws[t].band_lo + k);   /* eventfd copies are not ours to report */
		}
	}
	report_open(b, n);
	long ndbl = 0;
	for (int t = 0; t < nthreads; t++)
		for (int i = 0; i < ws[t].ndbl; i++, ndbl++)
			out("double_close %d", ws[t].dbl[i]);
	out("double_closes %ld", ndbl);
	for (int t = 0; t < nthreads; t++)
		for (int i = 0; i < ws[t].nsweep; i++)
			out("sweep_close %d", ws[t].sweep[i]);
	long ops = 0;
	for (int i = 0; i < 16; i++) {
		ops += counts[i];
		out("op %s %ld", op_names[i], counts[i]);
	}
	out("ops %ld", ops);
	out("elapsed_ms %llu", (unsigned long long)((t1 - t0) / 1000000));
	out("errors %ld", atomic_load(&errors));
	free(b);
	free(ws);
	return atomic_load(&errors) ? 1 : 0;
}

/* ================================================================== */
/* forks: 50 children (some exec) while parent threads keep creating   */
/* ================================================================== */

static _Atomic int stop_flag;

static long creator_pace_us;
static unsigned long fork_limit_ms;

static void *creator_main(void *arg)
{
	long n = 0;
	uint32_t anchor = *(uint32_t *)arg;
	while (!atomic_load(&stop_flag)) {
		if (creator_pace_us)
			usleep((useconds_t)creator_pace_us);
		int fd = (n & 1) ? make_map("hl_p") : bpf_map_get_fd_by_id(anchor);
		CHECK(fd >= 0, "parent creator: %s", strerror(errno));
		if (fd >= 0)
			CHECK(close(fd) == 0, "parent creator close: %s", strerror(errno));
		n++;
	}
	return (void *)n;
}

/* The program an exec'd child becomes: two maps, one left open. */
static int mode_execchild(int idx, int inherited_fd, uint32_t inherited_id)
{
	char name[16];
	snprintf(name, sizeof(name), "hl_x%d", idx);
	int a = make_map(name), b = make_map(name);
	if (a < 0 || b < 0)
		die("execchild map");
	/* The parent's non-CLOEXEC dup must have survived exec. */
	uint32_t got = map_id_of(inherited_fd);
	CHECK(got == inherited_id, "execchild: inherited fd %d holds %u, expected %u", inherited_fd,
	      got, inherited_id);
	out("child %d %d exec %u %u inherited %d", idx, (int)getpid(), map_id_of(a), map_id_of(b),
	    inherited_fd);
	close(b);
	return atomic_load(&errors) ? 1 : 0;
}

static int mode_forks(int nchildren, int nthreads, const char *self_exe)
{
	raise_nofile(4096);
	int anchor = make_map("hl_anchor");
	if (anchor < 0)
		die("anchor map");
	uint32_t anchor_id = map_id_of(anchor);
	/* A copy without O_CLOEXEC: exec'd children inherit it. */
	int keep = dup(anchor);
	if (keep < 0)
		die("dup");
	out("parent %d anchor %d %u keep %d", (int)getpid(), anchor, anchor_id, keep);

	pthread_t th[16];
	if (nthreads > 16)
		nthreads = 16;
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, creator_main, &anchor_id))
			die("pthread_create");
	/* Let the creators get going so forks land in the middle of their hooks. */
	usleep(20000);

	pid_t pids[256];
	if (nchildren > 256)
		nchildren = 256;
	uint64_t t0 = mono_ns();
	uint64_t fork_max = 0, fork_sum = 0;
	for (int i = 0; i < nchildren; i++) {
		uint64_t f0 = mono_ns();
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid > 0) {
			uint64_t dt = mono_ns() - f0;
			fork_sum += dt;
			if (dt > fork_max)
				fork_max = dt;
		}
		/* A fork that waits seconds is a starved host: stop, report, fail. */
		if (pid > 0 && fork_limit_ms && fork_max > fork_limit_ms * 1000000ull) {
			pids[i] = pid;
			nchildren = i + 1;
			CHECK(0, "fork #%d took %llu ms (limit %lu ms); stopped forking", i,
			      (unsigned long long)(fork_max / 1000000), fork_limit_ms);
			break;
		}
		if (pid == 0) {
			char idx[16], kfd[16], kid[16];
			snprintf(idx, sizeof(idx), "%d", i);
			if (i % 3 == 0) {
				snprintf(kfd, sizeof(kfd), "%d", keep);
				snprintf(kid, sizeof(kid), "%u", anchor_id);
				execl(self_exe, "host_hostile", "execchild", idx, kfd, kid, (char *)NULL);
				say("exec %s: %s", self_exe, strerror(errno));
				_exit(3);
			}
			char name[16];
			snprintf(name, sizeof(name), "hl_c%d", i);
			int m = make_map(name);
			if (m < 0) {
				say("child map: %s", strerror(errno));
				_exit(3);
			}
			int d = dup(m);
			out("child %d %d fork %u", i, (int)getpid(), map_id_of(m));
			close(d);
			/* Half leave through exit() (destructor, snapshot), half through _exit(). */
			if (i % 2)
				_exit(0);
			exit(0);
		}
		pids[i] = pid;
		if (i % 5 == 4)
			usleep(2000);
	}
	int bad = 0;
	for (int i = 0; i < nchildren; i++) {
		int st;
		if (waitpid(pids[i], &st, 0) < 0)
			die("waitpid");
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			say("child %d (pid %d) ended with status %#x", i, (int)pids[i], st);
			bad++;
		}
	}
	uint64_t t1 = mono_ns();
	atomic_store(&stop_flag, 1);
	long made = 0;
	for (int i = 0; i < nthreads; i++) {
		void *rv;
		pthread_join(th[i], &rv);
		made += (long)rv;
	}
	CHECK(bad == 0, "%d children failed", bad);
	struct belief b[2] = { { anchor, anchor_id }, { keep, anchor_id } };
	report_open(b, 2);
	out("parent_creates %ld", made);
	out("children %d", nchildren);
	out("children_ms %llu", (unsigned long long)((t1 - t0) / 1000000));
	out("fork_max_ms %llu", (unsigned long long)(fork_max / 1000000));
	out("fork_avg_us %llu", (unsigned long long)(fork_sum / 1000 / (uint64_t)(nchildren ? nchildren : 1)));
	out("errors %ld", atomic_load(&errors));
	return atomic_load(&errors) ? 1 : 0;
}

/* ================================================================== */
/* sigclose: close() in a signal handler while main is inside a create */
/* ================================================================== */

#define SIGQ 4096
static int sig_fds[SIGQ];
static volatile sig_atomic_t sig_head, sig_tail;   /* main pushes, handler pops */
static volatile sig_atomic_t in_create;
static volatile long sig_closed, sig_closed_in_create, sig_close_errors, sig_calls;

static void on_sigusr1(int sig)
{
	(void)sig;
	int saved = errno;
	sig_calls++;
	if (sig_tail != sig_head) {
		int fd = sig_fds[sig_tail % SIGQ];
		sig_tail++;
		if (close(fd) != 0)
			sig_close_errors++;
		sig_closed++;
		if (in_create)
			sig_closed_in_create++;
	}
	errno = saved;
}

static pthread_t main_thread;

static void *signaller_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop_flag)) {
		pthread_kill(main_thread, SIGUSR1);
		for (volatile int i = 0; i < 300; i++)
			;
	}
	return NULL;
}

static int mode_sigclose(long n, long min_in_create)
{
	raise_nofile(SIGQ + 256);
	int anchor = make_map("hl_sig_anchor");
	if (anchor < 0)
		die("anchor");
	uint32_t anchor_id = map_id_of(anchor);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	main_thread = pthread_self();
	pthread_t sig_th;
	if (pthread_create(&sig_th, NULL, signaller_main, NULL))
		die("pthread_create");

	long main_closed = 0, made = 0;
	/*
	 * At least n creates, and on until min_in_create handler closes have
	 * landed inside a create (the scheduler decides how often the
	 * signaller runs), within 50 * n creates.
	 */
	for (long i = 0; i < n || (sig_closed_in_create < min_in_create && i < 50 * n); i++) {
		made++;
		in_create = 1;
		int fd = (i % 4 == 0) ? make_map("hl_sig") : bpf_map_get_fd_by_id(anchor_id);
		in_create = 0;
		if (fd < 0) {
			CHECK(0, "create: %s", strerror(errno));
			continue;
		}
		if (sig_head - sig_tail < SIGQ - 1) {
			sig_fds[sig_head % SIGQ] = fd;
			sig_head++;
		} else {
			CHECK(close(fd) == 0, "main close: %s", strerror(errno));
			main_closed++;
		}
	}
	atomic_store(&stop_flag, 1);
	pthread_join(sig_th, NULL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	/* What the handler did not get to: close all but three. */
	struct belief b[4];
	int nb = 0;
	b[nb++] = (struct belief){ anchor, anchor_id };
	while (sig_tail != sig_head) {
		int fd = sig_fds[sig_tail % SIGQ];
		sig_tail++;
		if (nb < 4) {
			b[nb++] = (struct belief){ fd, map_id_of(fd) };
			continue;
		}
		CHECK(close(fd) == 0, "main close: %s", strerror(errno));
		main_closed++;
	}
	CHECK(sig_close_errors == 0, "%ld closes in the handler failed", sig_close_errors);
	CHECK(sig_closed_in_create >= min_in_create, "only %ld handler closes inside a create in %ld"
	      " creates (wanted %ld)", (long)sig_closed_in_create, made, min_in_create);
	report_open(b, (size_t)nb);
	out("creates %ld", made);
	out("signals %ld", sig_calls);
	out("handler_closes %ld", sig_closed);
	out("handler_closes_in_create %ld", sig_closed_in_create);
	out("main_closes %ld", main_closed);
	out("errors %ld", atomic_load(&errors));
	return atomic_load(&errors) ? 1 : 0;
}

/* ================================================================== */
/* closeall: the host closes every FD above 2, the shim's included     */
/* ================================================================== */

static void churn(long n, const char *name)
{
	for (long i = 0; i < n; i++) {
		int fd = make_map(name);
		CHECK(fd >= 0, "churn: %s", strerror(errno));
		if (fd >= 0)
			CHECK(close(fd) == 0, "churn close: %s", strerror(errno));
	}
}

/*
 * how: "range" = close_range(3, ~0U, 0), "from" = closefrom(3),
 * "loop" = close(fd) for every fd 3..1023, many times while the writer is
 * busy, each time followed by a file of the host's own that must keep its
 * contents.
 */
static int mode_closeall(const char *how, const char *scratch)
{
	int before = make_map("hl_before");
	if (before < 0)
		die("map");
	churn(300, "hl_churn1");
	usleep(60000);   /* a batch or two has gone to the journal */
	int rounds = strcmp(how, "loop") == 0 ? 200 : 1;
	long file_errors = 0;
	for (int round = 0; round < rounds; round++) {
		if (strcmp(how, "range") == 0) {
			CHECK(close_range(3, ~0U, 0) == 0, "close_range: %s", strerror(errno));
		} else if (strcmp(how, "from") == 0) {
			closefrom(3);
		} else {
			for (int fd = 3; fd < 1024; fd++)
				close(fd);
			/*
			 * Files of our own now get the numbers just freed; if
			 * the journal writer still used one of them, its pages
			 * would land in our file, or its close would close it.
			 */
			char buf[4096], back[4096];
			int f[4];
			memset(buf, 'A' + round % 26, sizeof(buf));
			for (int k = 0; k < 4; k++) {
				char path[PATH_MAX];
				snprintf(path, sizeof(path), "%s/own.%d", scratch, k);
				f[k] = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
				if (f[k] < 0)
					die("open own file");
				CHECK(pwrite(f[k], buf, sizeof(buf), 0) == (ssize_t)sizeof(buf),
				      "pwrite own file fd %d: %s", f[k], strerror(errno));
			}
			churn(40, "hl_loop");     /* keep the writer busy */
			for (int k = 0; k < 4; k++) {
				off_t size = lseek(f[k], 0, SEEK_END);
				ssize_t got = pread(f[k], back, sizeof(back), 0);
				if (size != (off_t)sizeof(buf) || got != (ssize_t)sizeof(back) ||
				    memcmp(buf, back, sizeof(buf)) != 0) {
					size_t at_ = 0;
					while (got > 0 && at_ < (size_t)got && buf[at_] == back[at_])
						at_++;
					char hex[64] = "";
					for (size_t h = 0; h < 16 && got > 0 && at_ + h < (size_t)got; h++)
						snprintf(hex + 3 * h, sizeof(hex) - 3 * h, "%02x ",
							 (unsigned char)back[at_ + h]);
					file_errors++;
					say("round %d: own file fd %d changed under us (size %lld, read %zd: %s;"
					    " first difference at %zu: %s)", round, f[k], (long long)size, got,
					    got < 0 ? strerror(errno) : "ok", at_, hex);
				}
				close(f[k]);
			}
		}
	}
	CHECK(file_errors == 0, "%ld own files were written by someone else", file_errors);
	CHECK(!fd_is_open(before), "fd %d survived the mass close", before);
	/* After the mass close: the shim must still record (or have said once it stopped). */
	churn(300, "hl_churn2");
	struct belief b[2];
	for (int i = 0; i < 2; i++) {
		int fd = make_map("hl_after");
		if (fd < 0)
			die("map after");
		b[i] = (struct belief){ fd, map_id_of(fd) };
	}
	report_open(b, 2);
	out("errors %ld", atomic_load(&errors));
	return atomic_load(&errors) ? 1 : 0;
}

/* ================================================================== */
/* killloop: create until SIGKILL, logging each create                 */
/* ================================================================== */

static int mode_killloop(const char *progress, long pace_us)
{
	int log = open(progress, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log < 0)
		die("open progress");
	int keep[8];
	for (long i = 0;; i++) {
		int fd = make_map("hl_k");
		if (fd < 0)
			die("map");
		uint32_t id = map_id_of(fd);
		char line[64];
		int n = snprintf(line, sizeof(line), "%u %llu\n", id, (unsigned long long)mono_ns());
		if (write(log, line, (size_t)n) != n)
			die("write progress");
		/* Keep a few open, close the rest: both kinds of event in flight. */
		if (i % 7 == 0) {
			if (i / 7 >= 8)
				close(keep[(i / 7) % 8]);
			keep[(i / 7) % 8] = fd;
		} else {
			close(fd);
		}
		if (pace_us)
			usleep((useconds_t)pace_us);
	}
}

/* ================================================================== */
/* highfd: FD numbers above 500,000 with RLIMIT_NOFILE = 1,048,576      */
/* ================================================================== */

/*
 * The FD numbers are those of a 1,048,576 limit, scaled down when the test
 * runs the same sequence under a smaller limit (no CAP_SYS_RESOURCE).
 */
static long hf_limit = 1048576;

static int at(long n)
{
	if (n == 1048575)
		return (int)hf_limit - 1;
	return (int)(n * hf_limit / 1048576);
}

static int mode_highfd(long limit)
{
	hf_limit = limit;
	struct rlimit rl = { (rlim_t)limit, (rlim_t)limit };
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		say("cannot set RLIMIT_NOFILE to %ld: %s", limit, strerror(errno));
		return 77;
	}
	struct belief b[256];
	int nb = 0;
	int a = make_map("hl_high_a");
	if (a < 0)
		die("map");
	uint32_t aid = map_id_of(a);
	b[nb++] = (struct belief){ a, aid };
	int ev = eventfd(0, EFD_CLOEXEC);
	if (ev < 0)
		die("eventfd");

	/* dup2 to numbers far apart: separate pages of the shim's table. */
	CHECK(dup2(a, at(500001)) == at(500001), "dup2 %d: %s", at(500001), strerror(errno));
	CHECK(dup2(a, at(1048575)) == at(1048575), "dup2 %d: %s", at(1048575), strerror(errno));
	CHECK(fcntl(a, F_DUPFD_CLOEXEC, at(700000)) == at(700000), "F_DUPFD %d: %s", at(700000),
	      strerror(errno));
	int g = bpf_map_get_fd_by_id(aid);
	CHECK(g >= 0, "get_fd_by_id: %s", strerror(errno));
	CHECK(dup3(g, at(600000), O_CLOEXEC) == at(600000), "dup3 %d: %s", at(600000),
	      strerror(errno));
	CHECK(close(g) == 0, "close g");
	CHECK(close(at(500001)) == 0, "close %d: %s", at(500001), strerror(errno));
	/* A deliberate double close: the report must name it. */
	errno = 0;
	CHECK(close(at(500001)) == -1 && errno == EBADF, "second close of %d did not say EBADF",
	      at(500001));
	out("double_close %d", at(500001));
	/* A range over two tracked FDs and a lot of nothing. */
	CHECK(close_range((unsigned)at(600000), (unsigned)at(700000), 0) == 0, "close_range: %s",
	      strerror(errno));
	CHECK(!fd_is_open(at(600000)) && !fd_is_open(at(700000)), "close_range left FDs open");
	/* dup2 an untracked FD over a tracked one: an implicit close. */
	CHECK(dup2(a, at(999999)) == at(999999), "dup2 %d", at(999999));
	CHECK(dup2(ev, at(999999)) == at(999999), "dup2 ev over %d", at(999999));
	CHECK(close(at(999999)) == 0, "close %d", at(999999));
	/* A tracked FD marked close-on-exec by a range. */
	CHECK(close_range((unsigned)at(900000), ~0U, CLOSE_RANGE_CLOEXEC) == 0,
	      "close_range cloexec: %s", strerror(errno));
	CHECK((fcntl(at(1048575), F_GETFD) & FD_CLOEXEC) != 0, "%d not cloexec", at(1048575));
	b[nb++] = (struct belief){ at(1048575), aid };
	/* 100 new maps, each moved above the middle; half closed again. */
	for (int i = 0; i < 100; i++) {
		int m = make_map("hl_high");
		if (m < 0)
			die("map");
		uint32_t id = map_id_of(m);
		int target = at(500100 + i * 4099);   /* a new table page every time at 1M */
		CHECK(dup2(m, target) == target, "dup2 %d: %s", target, strerror(errno));
		CHECK(close(m) == 0, "close m");
		if (i % 2)
			CHECK(close(target) == 0, "close %d", target);
		else
			b[nb++] = (struct belief){ target, id };
	}
	close(ev);
	report_open(b, (size_t)nb);
	out("highest %d", at(1048575));
	out("errors %ld", atomic_load(&errors));
	return atomic_load(&errors) ? 1 : 0;
}

/* ================================================================== */
/* plain: a small deterministic program whose output must not change   */
/* ================================================================== */

static int mode_plain(long n)
{
	long sum = 0, ok = 0;
	int keep = -1;
	for (long i = 0; i < n; i++) {
		int fd = make_map("hl_plain");
		if (fd < 0)
			die("map");
		__u32 key = 0;
		__u64 val = (__u64)i * 3, got = 0;
		if (bpf_map_update_elem(fd, &key, &val, BPF_ANY) == 0 &&
		    bpf_map_lookup_elem(fd, &key, &got) == 0 && got == val)
			ok++;
		sum += (long)got;
		int d = dup(fd);
		close(d);
		if (keep < 0)
			keep = fd;
		else
			close(fd);
	}
	errno = 0;
	int r = close(-1);
	out("plain ok %ld of %ld sum %ld close(-1) %d errno %d", ok, n, sum, r, errno);
	/* A distinctive status: the shim must pass it through. */
	return 7;
}

/* ================================================================== */
/* leak: a duplicate FD from a known line, for symbolization checks    */
/* ================================================================== */

__attribute__((noinline)) int hostile_leak_site(int fd)
{
	int d = bpf_map_get_fd_by_id(map_id_of(fd)); out("leak_line %d", __LINE__);
	return d;
}

static int mode_leak(void)
{
	int m = make_map("hl_leak");
	if (m < 0)
		die("map");
	int d = hostile_leak_site(m);
	if (d < 0)
		die("get_fd_by_id");
	int c = make_map("hl_closed");
	out("closed_fd %d", c);
	close(c);
	struct belief b[2] = { { m, map_id_of(m) }, { d, map_id_of(d) } };
	report_open(b, 2);
	out("errors %ld", atomic_load(&errors));
	return atomic_load(&errors) ? 1 : 0;
}

static int usage(void)
{
	say("usage: host_hostile threads NTHREADS OPS SEED [PIN_DIR]\n"
	    "       host_hostile forks NCHILDREN NTHREADS [PACE_US [FORK_LIMIT_MS]]\n"
	    "       host_hostile execchild IDX FD ID\n"
	    "       host_hostile sigclose N [MIN_CLOSES_IN_CREATE]\n"
	    "       host_hostile closeall range|from|loop SCRATCH_DIR\n"
	    "       host_hostile killloop PROGRESS_FILE PACE_US\n"
	    "       host_hostile highfd [LIMIT] | plain N | leak");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *m = argv[1];
	if (!strcmp(m, "threads") && argc >= 5)
		return mode_threads(atoi(argv[2]), atol(argv[3]), strtoull(argv[4], NULL, 0),
				    argc > 5 ? argv[5] : NULL);
	if (!strcmp(m, "forks") && argc >= 4) {
		creator_pace_us = argc > 4 ? atol(argv[4]) : 0;
		fork_limit_ms = argc > 5 ? strtoul(argv[5], NULL, 10) : 0;
		char self[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n < 0)
			die("readlink /proc/self/exe");
		self[n] = '\0';
		return mode_forks(atoi(argv[2]), atoi(argv[3]), self);
	}
	if (!strcmp(m, "execchild") && argc >= 5)
		return mode_execchild(atoi(argv[2]), atoi(argv[3]), (uint32_t)strtoul(argv[4], NULL, 10));
	if (!strcmp(m, "sigclose") && argc >= 3)
		return mode_sigclose(atol(argv[2]), argc > 3 ? atol(argv[3]) : 200);
	if (!strcmp(m, "closeall") && argc >= 4)
		return mode_closeall(argv[2], argv[3]);
	if (!strcmp(m, "killloop") && argc >= 4)
		return mode_killloop(argv[2], atol(argv[3]));
	if (!strcmp(m, "highfd"))
		return mode_highfd(argc > 2 ? atol(argv[2]) : 1048576);
	if (!strcmp(m, "plain") && argc >= 3)
		return mode_plain(atol(argv[2]));
	if (!strcmp(m, "leak"))
		return mode_leak();
	return usage();
}
