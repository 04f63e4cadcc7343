// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* threads: 16 threads racing creates, dups and closes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/close_range.h>
#include "host_hostile.h"

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

static int run(int argc, char **argv)
{
	return mode_threads(atoi(argv[0]), atol(argv[1]), strtoull(argv[2], NULL, 0),
			    argc > 3 ? argv[3] : NULL);
}

const struct hostile_mode threads_mode = { "threads", 3, "NTHREADS OPS SEED [PIN_DIR]", run };
