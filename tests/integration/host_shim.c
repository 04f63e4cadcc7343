// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The program the integration tests run under LD_PRELOAD=libbpfleak.so.
 *
 *   host_shim MODE [ARGS...]
 *
 * Each mode does one kind of bpf FD work and prints facts the test checks
 * against the journal, one per line, "key value..." (ids, fds, counts, the
 * pid).  Every function that makes a bpf FD also prints its own address
 * range ("fn NAME LO SIZE", from dladdr1(RTLD_DL_SYMENT); the build links
 * with -rdynamic so these non-static functions are in .dynsym), so a test
 * can check that the recorded stack goes through it.
 *
 * Output goes through write(2) (dprintf), never stdio buffers, so nothing
 * is printed twice across fork or lost across exec.
 *
 * Exit status: 0 done, 2 bad usage, 3 a bpf call failed (with a reason on
 * stderr), 5 the fail-open mode's deliberate status.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "../lib/host_out.h"

static void die(const char *what) __attribute__((noreturn));
static void die(const char *what)
{
	dprintf(STDERR_FILENO, "host_shim: %s: %s\n", what, strerror(errno));
	exit(3);
}

/* "fn NAME LO SIZE": where the function lives in this process. */
static void print_fn(const char *name, void *fn)
{
	Dl_info info;
	const ElfW(Sym) *sym = NULL;
	if (!dladdr1(fn, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym || !info.dli_saddr) {
		dprintf(STDERR_FILENO, "host_shim: dladdr1 found no symbol for %s\n", name);
		exit(3);
	}
	/* dli_saddr = load bias + st_value (the same thing for PIE and non-PIE). */
	out("fn %s %#lx %lu", name, (unsigned long)(uintptr_t)info.dli_saddr,
	    (unsigned long)sym->st_size);
}
#define PRINT_FN(f) print_fn(#f, (void *)(f))

static unsigned int id_of(int fd)
{
	union {
		struct bpf_map_info map;
		struct bpf_prog_info prog;
	} u;
	memset(&u, 0, sizeof(u));
	__u32 len = sizeof(u);
	if (bpf_obj_get_info_by_fd(fd, &u, &len))
		die("bpf_obj_get_info_by_fd");
	/* Both info structs start with type, id. */
	return u.map.id;
}

static int raw_map_create(const char *name, int type)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = (__u32)type;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 4;
	snprintf(a.map_name, sizeof(a.map_name), "%s", name);
	int fd = (int)syscall(__NR_bpf, BPF_MAP_CREATE, &a, sizeof(a));
	if (fd < 0)
		die("BPF_MAP_CREATE");
	return fd;
}

/* r0 = XDP_PASS; exit */
static int load_xdp(const char *name)
{
	struct bpf_insn insns[2];
	memset(insns, 0, sizeof(insns));
	insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
	insns[0].dst_reg = BPF_REG_0;
	insns[0].imm = XDP_PASS;
	insns[1].code = BPF_JMP | BPF_EXIT;
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, name, "GPL", insns, 2, NULL);
	if (fd < 0)
		die("bpf_prog_load");
	return fd;
}

/* ---- map: create with a raw syscall, then close ---- */

void map_create_close(void)
{
	PRINT_FN(map_create_close);
	int fd = raw_map_create("bl_raw_map", BPF_MAP_TYPE_ARRAY);
	out("made 1 %u %d", id_of(fd), fd);
	out("map_fd %d", fd);
	out("map_id %u", id_of(fd));
	if (close(fd))
		die("close");
}

/* ---- prog: bpf_prog_load of a two-instruction XDP program ---- */

void prog_load_close(void)
{
	PRINT_FN(prog_load_close);
	int fd = load_xdp("bl_xdp");
	out("made 2 %u %d", id_of(fd), fd);
	out("prog_fd %d", fd);
	out("prog_id %u", id_of(fd));
	close(fd);
}

/* ---- libbpf: the four API calls, each from its own function ---- */

int lib_map_create(void)
{
	PRINT_FN(lib_map_create);
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "bl_lib_map", 4, 4, 8, NULL);
	if (fd < 0)
		die("bpf_map_create");
	return fd;
}

int lib_prog_load(void)
{
	PRINT_FN(lib_prog_load);
	return load_xdp("bl_lib_prog");
}

int lib_get_fd_by_id(unsigned int id)
{
	PRINT_FN(lib_get_fd_by_id);
	int fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		die("bpf_map_get_fd_by_id");
	return fd;
}

void lib_pin(int fd, const char *path)
{
	PRINT_FN(lib_pin);
	if (bpf_obj_pin(fd, path))
		die("bpf_obj_pin");
}

int lib_obj_get(const char *path)
{
	PRINT_FN(lib_obj_get);
	int fd = bpf_obj_get(path);
	if (fd < 0)
		die("bpf_obj_get");
	return fd;
}

int lib_dup(int fd)
{
	PRINT_FN(lib_dup);
	int d = dup(fd);
	if (d < 0)
		die("dup");
	return d;
}

/*
 * Every create is printed as "made KIND ID FD" after the "fn" line of the
 * function that made it: the stack test pairs them up in output order.
 */
static int mode_libbpf(const char *dir, int unpin)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/bl_lib_prog", dir);

	int m = lib_map_create();
	unsigned int map_id = id_of(m);
	out("made 1 %u %d", map_id, m);
	out("map_fd %d", m);
	out("map_id %u", map_id);

	int p = lib_prog_load();
	unsigned int prog_id = id_of(p);
	out("made 2 %u %d", prog_id, p);
	out("prog_fd %d", p);
	out("prog_id %u", prog_id);

	int g = lib_get_fd_by_id(map_id);
	out("made 1 %u %d", id_of(g), g);
	out("get_fd %d", g);

	lib_pin(p, path);
	int o = lib_obj_get(path);
	out("made 2 %u %d", id_of(o), o);
	out("obj_get_fd %d", o);
	out("obj_get_id %u", id_of(o));

	int d = lib_dup(o);
	out("dup_fd %d", d);
	if (unpin)
		unlink(path);
	else
		out("pin %s", path);
	/* All five stay open: the exit snapshot must show them. */
	return 0;
}

/*
 * ---- lowfd: libbpf moves a new FD out of 0..2 (fcntl64(F_DUPFD_CLOEXEC,
 * 3), then close of the original): one tracked FD must remain.
 */

static int mode_lowfd(void)
{
	close(STDIN_FILENO);
	int m = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bl_low_map", 4, 4, 1, NULL);
	if (m < 0)
		die("bpf_map_create");
	out("map_fd %d", m);
	out("map_id %u", id_of(m));
	out("fd0_open %d", fcntl(0, F_GETFD) != -1);
	return 0;
}

/* ---- dup: every way to copy an FD, and a close_range over a mixed range ---- */

static int fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static int mode_dup(void)
{
	int m = raw_map_create("bl_dup_map", BPF_MAP_TYPE_ARRAY);
	int x = raw_map_create("bl_dup_tgt", BPF_MAP_TYPE_ARRAY);
	int y = raw_map_create("bl_dup_y", BPF_MAP_TYPE_ARRAY);
	out("m_fd %d", m);
	out("m_id %u", id_of(m));
	out("x_fd %d", x);
	out("x_id %u", id_of(x));
	out("y_fd %d", y);
	out("y_id %u", id_of(y));

	int d1 = dup(m);
	if (d1 < 0)
		die("dup");
	out("dup_fd %d", d1);
	/* dup2 onto a tracked FD: x's map goes away first, then x is a copy of m. */
	if (dup2(m, x) != x)
		die("dup2");
	int d3 = dup3(m, 50, O_CLOEXEC);
	if (d3 != 50)
		die("dup3");
	out("dup3_fd %d", d3);
	int d4 = fcntl(m, F_DUPFD_CLOEXEC, 60);
	if (d4 < 60)
		die("F_DUPFD_CLOEXEC");
	out("dupfd_fd %d", d4);

	/* 70..79: bpf FDs at 72, 75 (copies of m) and 78 (y), /dev/null elsewhere. */
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0)
		die("open /dev/null");
	for (int fd = 70; fd <= 79; fd++) {
		int src = fd == 72 || fd == 75 ? m : fd == 78 ? y : null;
		if (dup2(src, fd) != fd)
			die("dup2 into range");
	}
	close(null);
	close(y);
	if (close_range(70, 79, 0))
		die("close_range");
	int left = 0;
	for (int fd = 70; fd <= 79; fd++)
		left += fd_open(fd);
	out("range_left_open %d", left);
	/* What stays open at exit. */
	out("open %d %d %d %d %d", m, d1, x, d3, d4);
	out("n_open 5");
	return 0;
}

/* ---- pin: a map pinned into the test's bpffs, then fetched back ---- */

static int mode_pin(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/bl_pin_map", dir);
	int m = raw_map_create("bl_pin_map", BPF_MAP_TYPE_ARRAY);
	unsigned int id = id_of(m);
	out("map_fd %d", m);
	out("map_id %u", id);
	if (bpf_obj_pin(m, path))
		die("bpf_obj_pin");
	out("pin %s", path);
	int g = bpf_obj_get(path);
	if (g < 0)
		die("bpf_obj_get");
	out("get_fd %d", g);
	out("get_id %u", id_of(g));
	close(m);
	/* g stays open and the pin stays in place until exit. */
	return 0;
}

/* ---- fork: the child inherits two tracked FDs and makes one of its own ---- */

void fork_child_work(void)
{
	PRINT_FN(fork_child_work);
	int b = raw_map_create("bl_fork_b", BPF_MAP_TYPE_ARRAY);
	out("child_pid %d", (int)getpid());
	out("child_ppid %d", (int)getppid());
	out("child_b_fd %d", b);
	out("child_b_id %u", id_of(b));
}

static int mode_fork(void)
{
	int a = raw_map_create("bl_fork_a", BPF_MAP_TYPE_ARRAY);
	int a2 = dup(a);
	if (a2 < 0)
		die("dup");
	out("parent_pid %d", (int)getpid());
	out("a_fd %d", a);
	out("a2_fd %d", a2);
	out("a_id %u", id_of(a));
	pid_t c = fork();
	if (c < 0)
		die("fork");
	if (c == 0) {
		fork_child_work();
		exit(0);   /* exit, not _exit: the child's exit snapshot runs */
	}
	int st = 0;
	if (waitpid(c, &st, 0) != c)
		die("waitpid");
	out("child_status %d", st);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 3;
}

/* ---- exec: a non-CLOEXEC copy survives into the next image ---- */

static int mode_exec1(const char *self)
{
	int a = raw_map_create("bl_exec_a", BPF_MAP_TYPE_ARRAY);
	int d = dup(a);   /* dup gives no FD_CLOEXEC: survives exec */
	if (d < 0)
		die("dup");
	out("pid1 %d", (int)getpid());
	out("a_fd %d", a);
	out("a_id %u", id_of(a));
	out("d_fd %d", d);
	char dbuf[16];
	snprintf(dbuf, sizeof(dbuf), "%d", d);
	char *argv[] = { (char *)self, (char *)"exec2", dbuf, NULL };
	execv(self, argv);
	die("execv");
}

void exec2_create(void)
{
	PRINT_FN(exec2_create);
	int b = raw_map_create("bl_exec_b", BPF_MAP_TYPE_ARRAY);
	out("b_fd %d", b);
	out("b_id %u", id_of(b));
}

static int mode_exec2(int d)
{
	out("pid2 %d", (int)getpid());
	out("d_alive %d", fd_open(d));
	out("d_id2 %u", id_of(d));
	exec2_create();
	return 0;
}

/* ---- threads: 8 x 10000 GET_FD_BY_ID + close, thread i leaves i+1 open ---- */

#define N_THREADS 8
#define PER_THREAD 10000

static unsigned int thr_map_id;
static int per_thread = PER_THREAD;

static void *thr_main(void *arg)
{
	int i = (int)(intptr_t)arg;
	for (int k = 0; k < per_thread; k++) {
		int fd = bpf_map_get_fd_by_id(thr_map_id);
		if (fd < 0)
			die("bpf_map_get_fd_by_id");
		if (k > i)      /* iterations 0..i keep their FD */
			close(fd);
	}
	return NULL;
}

static int mode_threads(int iterations)
{
	if (iterations > N_THREADS)
		per_thread = iterations;
	int m = raw_map_create("bl_thr_map", BPF_MAP_TYPE_ARRAY);
	thr_map_id = id_of(m);
	out("map_id %u", thr_map_id);
	pthread_t t[N_THREADS];
	for (int i = 0; i < N_THREADS; i++)
		if (pthread_create(&t[i], NULL, thr_main, (void *)(intptr_t)i))
			die("pthread_create");
	for (int i = 0; i < N_THREADS; i++)
		pthread_join(t[i], NULL);
	close(m);
	out("expected_open %d", N_THREADS * (N_THREADS + 1) / 2);
	out("creates %d", N_THREADS * per_thread + 1);
	return 0;
}

/*
 * ---- closerace: one thread makes and closes bpf FDs, another opens and
 * closes /dev/null; both keep getting the same lowest free FD number.  The
 * second thread never holds a bpf FD, so no close may be recorded for it.
 */

static unsigned int race_map_id;
static int race_iters;

static void *race_bpf(void *arg)
{
	(void)arg;
	out("bpf_tid %d", (int)gettid());
	for (int k = 0; k < race_iters; k++) {
		int fd = bpf_map_get_fd_by_id(race_map_id);
		if (fd < 0)
			die("bpf_map_get_fd_by_id");
		close(fd);
	}
	return NULL;
}

static void *race_plain(void *arg)
{
	(void)arg;
	out("plain_tid %d", (int)gettid());
	for (int k = 0; k < race_iters; k++) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die("open /dev/null");
		close(fd);
	}
	return NULL;
}

static int mode_closerace(int iterations)
{
	int m = raw_map_create("bl_race_map", BPF_MAP_TYPE_ARRAY);
	race_map_id = id_of(m);
	race_iters = iterations;
	out("map_id %u", race_map_id);
	out("main_tid %d", (int)gettid());
	pthread_t a, b;
	if (pthread_create(&a, NULL, race_bpf, NULL) || pthread_create(&b, NULL, race_plain, NULL))
		die("pthread_create");
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	close(m);
	return 0;
}

/* ---- loop: create/close until killed, progress in a shared mapping ---- */

static int mode_loop(const char *progress)
{
	int pf = open(progress, O_RDWR | O_CLOEXEC);
	if (pf < 0)
		die("open progress");
	volatile uint64_t *count = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED,
					pf, 0);
	if (count == MAP_FAILED)
		die("mmap progress");
	close(pf);
	int m = raw_map_create("bl_loop_map", BPF_MAP_TYPE_ARRAY);
	unsigned int id = id_of(m);
	out("map_id %u", id);
	for (uint64_t n = 1;; n++) {
		int fd = bpf_map_get_fd_by_id(id);
		if (fd < 0)
			die("bpf_map_get_fd_by_id");
		/* n creates have returned (and been queued by the shim). */
		__atomic_store_n(count, n, __ATOMIC_RELEASE);
		close(fd);
	}
}

/* ---- failopen: deterministic output and a distinctive exit status ---- */

static int mode_failopen(void)
{
	int m = raw_map_create("bl_open_map", BPF_MAP_TYPE_ARRAY);
	__u32 key = 1;
	__u64 val = 42, got = 0;
	if (bpf_map_update_elem(m, &key, &val, BPF_ANY) || bpf_map_lookup_elem(m, &key, &got))
		die("map update/lookup");
	int d = dup(m);
	int p = load_xdp("bl_open_prog");
	out("map_fd %d", m);
	out("dup_fd %d", d);
	out("prog_fd %d", p);
	out("value %llu", (unsigned long long)got);
	close(d);
	close(p);
	int n = open("/dev/null", O_RDONLY);
	out("next_fd %d", n);
	out("done");
	return 5;
}

/*
 * ---- hostfds: some bpf work, then a daemon-style reset (close every FD
 * above 2), then files of its own at 3..9 (PREFIX.3 ... PREFIX.9, opened
 * read-write) while a new thread creates more bpf FDs.  Nothing but the
 * host may read or write them: each must still be at offset 0 with its
 * content.
 */

#define HOSTFDS_LO 3
#define HOSTFDS_HI 9

/* On a new thread: a stack (pages, call sites) not unwound before. */
void *hostfds_late_work(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3; i++) {
		int m = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bl_hostfds", 4, 4, 1, NULL);
		if (m < 0)
			die("bpf_map_create");
		int d = dup(m);
		close(d);
		close(m);
	}
	close(load_xdp("bl_hostfds"));
	return NULL;
}

static int mode_hostfds(const char *prefix)
{
	close(raw_map_create("bl_hostfds0", BPF_MAP_TYPE_ARRAY));
	if (close_range(3, ~0u, 0))
		die("close_range");
	for (int want = HOSTFDS_LO; want <= HOSTFDS_HI; want++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s.%d", prefix, want);
		int fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			die("open");
		if (fd != want) {
			dprintf(STDERR_FILENO, "host_shim: %s opened as fd %d, not %d\n", path, fd, want);
			return 3;
		}
	}
	pthread_t t;
	if (pthread_create(&t, NULL, hostfds_late_work, NULL))
		die("pthread_create");
	pthread_join(t, NULL);
	for (int fd = HOSTFDS_LO; fd <= HOSTFDS_HI; fd++) {
		unsigned char buf[64];
		char text[4 * sizeof(buf) + 1];
		off_t pos = lseek(fd, 0, SEEK_CUR);
		ssize_t n = pread(fd, buf, sizeof(buf), 0);
		size_t len = 0;
		for (ssize_t i = 0; i < n; i++)   /* bytes someone else wrote may be binary */
			len += (size_t)snprintf(text + len, sizeof(text) - len,
						buf[i] > 32 && buf[i] < 127 ? "%c" : "\\x%02x", buf[i]);
		text[len] = '\0';
		out("fd%d %lld %s", fd, (long long)pos, text);
	}
	return 0;
}

/* ---- bytes: N GET_FD_BY_ID + close pairs from one call site ---- */

static int mode_bytes(long n)
{
	int m = raw_map_create("bl_bytes_map", BPF_MAP_TYPE_ARRAY);
	unsigned int id = id_of(m);
	for (long i = 0; i < n; i++) {
		int fd = bpf_map_get_fd_by_id(id);
		if (fd < 0)
			die("bpf_map_get_fd_by_id");
		close(fd);
	}
	close(m);
	out("map_id %u", id);
	out("pairs %ld", n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		dprintf(STDERR_FILENO, "usage: host_shim MODE [ARGS]\n");
		return 2;
	}
	const char *mode = argv[1];
	/* Not in failopen: its output is compared with a run without the shim. */
	if (strcmp(mode, "failopen"))
		out("pid %d", (int)getpid());
	if (!strcmp(mode, "map")) {
		map_create_close();
		return 0;
	}
	if (!strcmp(mode, "prog")) {
		prog_load_close();
		return 0;
	}
	if (!strcmp(mode, "libbpf") && argc == 3)
		return mode_libbpf(argv[2], 1);
	if (!strcmp(mode, "stacks") && argc == 3) {
		map_create_close();
		prog_load_close();
		return mode_libbpf(argv[2], 1);
	}
	if (!strcmp(mode, "lowfd"))
		return mode_lowfd();
	if (!strcmp(mode, "dup"))
		return mode_dup();
	if (!strcmp(mode, "pin") && argc == 3)
		return mode_pin(argv[2]);
	if (!strcmp(mode, "fork"))
		return mode_fork();
	if (!strcmp(mode, "exec"))
		return mode_exec1(argv[0]);
	if (!strcmp(mode, "exec2") && argc == 3)
		return mode_exec2(atoi(argv[2]));
	if (!strcmp(mode, "threads"))
		return mode_threads(argc > 2 ? atoi(argv[2]) : PER_THREAD);
	if (!strcmp(mode, "closerace") && argc == 3)
		return mode_closerace(atoi(argv[2]));
	if (!strcmp(mode, "loop") && argc == 3)
		return mode_loop(argv[2]);
	if (!strcmp(mode, "failopen"))
		return mode_failopen();
	if (!strcmp(mode, "hostfds") && argc == 3)
		return mode_hostfds(argv[2]);
	if (!strcmp(mode, "bytes") && argc == 3)
		return mode_bytes(atol(argv[2]));
	dprintf(STDERR_FILENO, "host_shim: unknown mode or arguments: %s\n", mode);
	return 2;
}
