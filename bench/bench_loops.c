// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The loops `make bench` times, run once per process so the same binary can
 * be started with and without LD_PRELOAD=libbpfleak.so (bench/bench.c runs
 * it both ways, interleaved).
 *
 *   bench_loops MODE ITERS [THREADS]
 *
 * Modes (one "op" each):
 *   close       fd = dup(/dev/null fd); close(fd)      pass-through: not bpf
 *   lookup      bpf_map_lookup_elem on an array map    pass-through: bpf, no FD
 *   getfd       bpf_map_get_fd_by_id(id); close(fd)    cheapest recorded create
 *   mapcreate   bpf_map_create(ARRAY); close(fd)       create of a new object
 *   progload    bpf_prog_load(XDP, 2 insns); close(fd)
 *   journal1    getfd through one 10-frame call path   (journal size, figure 4)
 *   journal1000 getfd through 1,000 distinct 10-frame call paths
 *   rss         open ITERS GET_FD_BY_ID FDs and keep them open (figure 6)
 *   probe       create one map: exit 0 when bpf() is permitted
 *   idle        exit at once, no bpf call: a bpf tool that had nothing to do
 *   hookclose   dup+close, in-process A/B: alternating blocks of 1,000 ops
 *               calling libc's dup/close directly (dlsym on libc's handle)
 *               and through the global symbols (the shim's, when preloaded)
 *   hooklookup  the same for bpf(BPF_MAP_LOOKUP_ELEM) via syscall()
 *
 * Each of THREADS threads (default 1) runs a warm-up of ITERS/10 ops, waits
 * at a barrier, then times ITERS ops.  One line on stdout:
 *
 *   ns_op=WALL cpu_ns_op=CPU thr_cpu_ns_op=THR ops=N
 *
 * WALL is elapsed ns (first thread's start to last thread's end) /
 * (ITERS * THREADS): with several threads it is the aggregate cost, not a
 * latency.  CPU is the whole process's CPU time over
 * the same window per op (the shim's writer thread included); THR is the
 * CPU time of the looping threads themselves per op: what the calling
 * threads pay, not counting time they were preempted by other loads.  rss prints
 * "rss_kb=.. hwm_kb=.. base_rss_kb=.. fds=..".  hook* print
 * "ns_op=HOOKED base_ns_op=DIRECT delta_ns=D blocks=N": medians over ITERS
 * ops each way, D the median of the paired per-block differences.  Without
 * the shim both paths are libc's: the null test of the method.
 *
 * Exit status: 0 done, 2 bad usage, 3 a call failed (reason on stderr).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

enum mode { M_CLOSE, M_LOOKUP, M_GETFD, M_MAPCREATE, M_PROGLOAD, M_JOURNAL1, M_JOURNAL1000,
	    M_RSS, M_PROBE, M_HOOKCLOSE, M_HOOKLOOKUP, M_IDLE };

static const char *const mode_names[] = {
	"close", "lookup", "getfd", "mapcreate", "progload", "journal1", "journal1000", "rss", "probe",
	"hookclose", "hooklookup", "idle",
};

static int devnull_fd = -1;
static int map_fd = -1;
static uint32_t map_id;

static void die(const char *what) __attribute__((noreturn));
static void die(const char *what)
{
	dprintf(STDERR_FILENO, "bench_loops: %s: %s\n", what, strerror(errno));
	exit(3);
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int make_array_map(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, sizeof(uint32_t), sizeof(uint64_t), 1, NULL);
	if (fd < 0)
		die("bpf_map_create");   /* libbpf 1.x sets errno */
	return fd;
}

/* ---- one op per mode ---- */

static void op_close(void)
{
	int fd = dup(devnull_fd);
	if (fd < 0)
		die("dup");
	close(fd);
}

static void op_lookup(void)
{
	uint32_t key = 0;
	uint64_t val;
	if (bpf_map_lookup_elem(map_fd, &key, &val))
		die("bpf_map_lookup_elem");
}

static void op_getfd(void)
{
	int fd = bpf_map_get_fd_by_id(map_id);
	if (fd < 0)
		die("bpf_map_get_fd_by_id");
	close(fd);
}

static void op_mapcreate(void)
{
	close(make_array_map());
}

static void op_progload(void)
{
	static const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, NULL, "GPL", insns, 2, NULL);
	if (fd < 0)
		die("bpf_prog_load");
	close(fd);
}

/*
 * Distinct call paths: walk() descends `depth` levels, through step_a or
 * step_b as the low bit of `bits` says, so each value of bits below
 * 2^depth reaches op_getfd with its own chain of return addresses.  The
 * empty asm after each call keeps the compiler from turning it into a
 * tail call (which would drop the frame).
 */
static void walk(int depth, unsigned int bits);

__attribute__((noinline)) static void step_a(int depth, unsigned int bits)
{
	walk(depth, bits);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void step_b(int depth, unsigned int bits)
{
	walk(depth, bits);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void walk(int depth, unsigned int bits)
{
	if (depth == 0)
		op_getfd();
	else if (bits & 1)
		step_a(depth - 1, bits >> 1);
	else
		step_b(depth - 1, bits >> 1);
	__asm__ volatile("" ::: "memory");
}

#define WALK_DEPTH 10

static void run_ops(enum mode m, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		switch (m) {
		case M_CLOSE: op_close(); break;
		case M_LOOKUP: op_lookup(); break;
		case M_GETFD: op_getfd(); break;
		case M_MAPCREATE: op_mapcreate(); break;
		case M_PROGLOAD: op_progload(); break;
		case M_JOURNAL1: walk(WALK_DEPTH, 0); break;
		case M_JOURNAL1000: walk(WALK_DEPTH, (unsigned int)(i % 1000)); break;
		default: break;
		}
	}
}

/* ---- threads ---- */

struct worker {
	pthread_t th;
	enum mode m;
	uint64_t iters;
	uint64_t t0, t1, c0, c1;   /* wall and process CPU clock around its timed ops */
	uint64_t tc0, tc1;         /* this thread's CPU clock */
};

static pthread_barrier_t start_line;

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	/* One call site for warm-up and timed ops: journal1 must see one stack. */
	for (int phase = 0; phase < 2; phase++) {
		if (phase) {
			pthread_barrier_wait(&start_line);
			w->t0 = now_ns(CLOCK_MONOTONIC);
			w->c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
			w->tc0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
		}
		run_ops(w->m, phase ? w->iters : w->iters / 10 ? w->iters / 10 : 1);
	}
	/*
	 * Each thread times itself: the main thread may be scheduled late
	 * after the barrier (always, under valgrind's big lock).
	 */
	w->tc1 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	w->t1 = now_ns(CLOCK_MONOTONIC);
	w->c1 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	return NULL;
}

/* ---- rss ---- */

static long status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return -1;
	char line[256];
	size_t klen = strlen(key);
	long v = -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static int run_rss(uint64_t n)
{
	/* Raise the soft limit (and the hard one, where CAP_SYS_RESOURCE allows). */
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_max < n + 64) {
		struct rlimit want = { n + 64, n + 64 };
		if (setrlimit(RLIMIT_NOFILE, &want)) {
			dprintf(STDERR_FILENO, "bench_loops: rss: %llu FDs need RLIMIT_NOFILE %llu; "
				"the hard limit is %llu and cannot be raised here\n",
				(unsigned long long)n, (unsigned long long)(n + 64),
				(unsigned long long)rl.rlim_max);
			exit(3);
		}
	} else if (rl.rlim_cur < n + 64) {
		rl.rlim_cur = n + 64;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			die("setrlimit(RLIMIT_NOFILE)");
	}
	long base = status_kb("VmRSS");
	for (uint64_t i = 0; i < n; i++)
		if (bpf_map_get_fd_by_id(map_id) < 0)
			die("bpf_map_get_fd_by_id");
	/* Let a writer thread, if any, drain the queue first: steady state. */
	usleep(300 * 1000);
	printf("rss_kb=%ld hwm_kb=%ld base_rss_kb=%ld fds=%llu\n", status_kb("VmRSS"),
	       status_kb("VmHWM"), base, (unsigned long long)n);
	fflush(stdout);
	return 0;
}

/* ---- in-process A/B of the pass-through hooks ---- */

#define HOOK_BLOCK 1000
#define MAX_BLOCKS 4096

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median_of(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct fns {
	int (*dup)(int);
	int (*close)(int);
	long (*syscall)(long, ...);
};

static void fns_from(void *handle, struct fns *f)
{
	f->dup = (int (*)(int))dlsym(handle, "dup");
	f->close = (int (*)(int))dlsym(handle, "close");
	f->syscall = (long (*)(long, ...))dlsym(handle, "syscall");
	if (!f->dup || !f->close || !f->syscall) {
		dprintf(STDERR_FILENO, "bench_loops: dlsym: %s\n", dlerror());
		exit(3);
	}
}

/* Same argument set-up as libbpf's bpf_map_lookup_elem. */
static void lookup_via(const struct fns *f)
{
	uint32_t key = 0;
	uint64_t val;
	union bpf_attr attr;
	memset(&attr, 0, offsetof(union bpf_attr, flags) + sizeof(attr.flags));
	attr.map_fd = (uint32_t)map_fd;
	attr.key = (uint64_t)(uintptr_t)&key;
	attr.value = (uint64_t)(uintptr_t)&val;
	if (f->syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &attr,
		       offsetof(union bpf_attr, flags) + sizeof(attr.flags)) < 0)
		die("BPF_MAP_LOOKUP_ELEM");
}

static double block_via(enum mode m, const struct fns *f)
{
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	for (int i = 0; i < HOOK_BLOCK; i++) {
		if (m == M_HOOKCLOSE) {
			int fd = f->dup(devnull_fd);
			if (fd < 0)
				die("dup");
			f->close(fd);
		} else {
			lookup_via(f);
		}
	}
	return (double)(now_ns(CLOCK_MONOTONIC) - t0) / HOOK_BLOCK;
}

static int run_hook_ab(enum mode m, uint64_t iters)
{
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	if (!libc) {
		dprintf(STDERR_FILENO, "bench_loops: dlopen libc.so.6: %s\n", dlerror());
		return 3;
	}
	struct fns direct, global;
	fns_from(libc, &direct);          /* libc's own definitions */
	fns_from(RTLD_DEFAULT, &global);  /* what the program binds to: the shim's, if preloaded */
	int blocks = (int)(iters / HOOK_BLOCK);
	if (blocks < 3)
		blocks = 3;
	if (blocks > MAX_BLOCKS)
		blocks = MAX_BLOCKS;
	static double d[MAX_BLOCKS], h[MAX_BLOCKS], diff[MAX_BLOCKS];
	for (int b = 0; b < blocks / 10 + 1; b++) {   /* warm-up */
		block_via(m, &direct);
		block_via(m, &global);
	}
	for (int b = 0; b < blocks; b++) {
		/* Alternate which goes first, so neither always follows the other. */
		if (b & 1) {
			h[b] = block_via(m, &global);
			d[b] = block_via(m, &direct);
		} else {
			d[b] = block_via(m, &direct);
			h[b] = block_via(m, &global);
		}
		diff[b] = h[b] - d[b];
	}
	printf("ns_op=%.2f base_ns_op=%.2f delta_ns=%.2f blocks=%d hooked=%s\n", median_of(h, blocks),
	       median_of(d, blocks), median_of(diff, blocks), blocks,
	       global.close == direct.close ? "no" : "yes");
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench_loops MODE ITERS [THREADS]\n");
		return 2;
	}
	int m = -1;
	for (int i = 0; i < (int)(sizeof(mode_names) / sizeof(mode_names[0])); i++)
		if (!strcmp(argv[1], mode_names[i]))
			m = i;
	char *end;
	unsigned long long iters = strtoull(argv[2], &end, 10);
	long threads = argc > 3 ? strtol(argv[3], NULL, 10) : 1;
	if (m < 0 || *end || iters == 0 || threads < 1 || threads > 64) {
		fprintf(stderr, "bench_loops: bad arguments\n");
		return 2;
	}

	if (m == M_IDLE)
		return 0;
	devnull_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull_fd < 0)
		die("open /dev/null");
	/* Every mode holds one tracked map, as any bpf program would. */
	{
		map_fd = make_array_map();
		struct bpf_map_info info;
		uint32_t len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
			die("bpf_obj_get_info_by_fd");
		map_id = info.id;
	}
	if (m == M_PROBE)
		return 0;
	if (m == M_RSS)
		return run_rss(iters);
	if (m == M_HOOKCLOSE || m == M_HOOKLOOKUP)
		return run_hook_ab((enum mode)m, iters);

	struct worker *w = calloc((size_t)threads, sizeof(*w));
	if (!w)
		die("calloc");
	if (pthread_barrier_init(&start_line, NULL, (unsigned int)threads + 1))
		die("pthread_barrier_init");
	for (long t = 0; t < threads; t++) {
		w[t].m = (enum mode)m;
		w[t].iters = iters;
		errno = pthread_create(&w[t].th, NULL, worker_main, &w[t]);
		if (errno)
			die("pthread_create");
	}
	pthread_barrier_wait(&start_line);
	for (long t = 0; t < threads; t++)
		pthread_join(w[t].th, NULL);
	/* From the first thread's start to the last one's end. */
	uint64_t t0 = UINT64_MAX, t1 = 0, c0 = 0, c1 = 0, thr = 0;
	for (long t = 0; t < threads; t++) {
		thr += w[t].tc1 - w[t].tc0;
		if (w[t].t0 < t0) {
			t0 = w[t].t0;
			c0 = w[t].c0;
		}
		if (w[t].t1 > t1) {
			t1 = w[t].t1;
			c1 = w[t].c1;
		}
	}
	double ops = (double)iters * (double)threads;
	printf("ns_op=%.2f cpu_ns_op=%.2f thr_cpu_ns_op=%.2f ops=%.0f\n", (double)(t1 - t0) / ops,
	       (double)(c1 - c0) / ops, (double)thr / ops, ops);
	fflush(stdout);
	free(w);
	return 0;
}
