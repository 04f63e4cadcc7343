// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * make bench, the kernel recorder's figures (bench.c has the shim's), each
 * measured side by side in one run: without and with the recorder,
 * interleaved (A B A B ...), medians.
 *
 *   K1  BPF_MAP_GET_FD_BY_ID + close in a traced process    budget 2x
 *   K2  BPF_MAP_LOOKUP_ELEM in a traced process             budget 1.1x
 *   K3  close(dup(fd)) in an UNTRACED process while the
 *       recorder traces another one                         budget 1.3x
 *   K4  50,000 GET_FD_BY_ID creates/s (+ close) from one
 *       process for a few seconds: every create journaled,
 *       none lost                                           budget: 0 lost
 *
 * K1-K3 run bench_loops (bench/bench_loops.c) and use its own timing of its
 * loop; "thread CPU" is what the looping thread itself paid (the recorder's
 * programs run on it; the recorder's user space runs on the other CPU).
 *
 *   bench_kernel --build DIR [--reps N] [--short] [--json FILE] [--before DIR2]
 *   bench_kernel --rate CREATES_PER_S --seconds S     (K4's load, traced)
 *
 * --before DIR2: K1-K3 also traced by DIR2/bpfleak (another build, e.g.
 * of an earlier commit), interleaved in the same run: before/after figures
 * side by side.  K2 and K3 also run under floors (bench_kernel_floor.c):
 * the kernel's slow path alone, and empty programs where the recorder's
 * attach, i.e. what no program there can avoid; K3 also under two other
 * placements (raw sys_enter alone; with dup's own exit event instead of
 * raw sys_exit), what a different design would pay at least.
 * Records the recorder lost in K1/K2 are counted and shown (a recorder that
 * drops would make a traced loop look cheaper).
 *
 * Never fails on timing: exit 0 when the figures were taken or skipped
 * (the kernel recorder cannot run here), 1 when the harness itself broke.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <sqlite3.h>
#include "bench_kernel_floor.h"

static char build[4096], loops[4200], bpfleak[4200], before[4200];
static char tmpdir[] = "/tmp/bpfleak-kbench.XXXXXX";
static int reps = 5;
static bool short_mode;

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- K4's load: paced creates ---- */

static int rate_main(long rate, double seconds)
{
	int map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "kbench_rate", 4, 8, 1, NULL);
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	if (map < 0 || bpf_obj_get_info_by_fd(map, &info, &len))
		return 3;
	/* Batches of 1 ms worth, each started on schedule. */
	long per_batch = rate / 1000 ? rate / 1000 : 1;
	uint64_t batches = (uint64_t)(seconds * 1000), t0 = now_ns(CLOCK_MONOTONIC);
	uint64_t c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID), done = 0;
	for (uint64_t b = 0; b < batches; b++) {
		for (long i = 0; i < per_batch; i++) {
			int fd = bpf_map_get_fd_by_id(info.id);
			if (fd < 0)
				return 3;
			close(fd);
			done++;
		}
		uint64_t due = t0 + (b + 1) * 1000000ull;
		struct timespec ts = { (time_t)(due / 1000000000ull), (long)(due % 1000000000ull) };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	double wall = (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	double cpu = (double)(now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / 1e9;
	printf("creates=%llu seconds=%.3f rate=%.0f cpu=%.3f\n", (unsigned long long)done, wall,
	       (double)done / wall, cpu);
	return 0;
}

/* ---- running things ---- */

struct run {
	int status;
	char out[1024];
	double cpu_s;   /* user + system of the child and what it waited for */
};

static int run_cmd(char *const argv[], struct run *r)
{
	int pipefd[2];
	memset(r, 0, sizeof(*r));
	if (pipe(pipefd))
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(pipefd[1], 1);
		int dn = open("/dev/null", O_WRONLY);
		if (dn >= 0)
			dup2(dn, 2);
		close(pipefd[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	size_t used = 0;
	ssize_t n;
	while ((n = read(pipefd[0], r->out + used, sizeof(r->out) - 1 - used)) > 0)
		used += (size_t)n;
	r->out[used] = '\0';
	close(pipefd[0]);
	struct rusage ru;
	if (wait4(pid, &r->status, 0, &ru) != pid)
		return -1;
	r->cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		   (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	return 0;
}

static double field(const char *out, const char *key)
{
	const char *p = strstr(out, key);
	return p ? strtod(p + strlen(key), NULL) : -1;
}

static long long lost_in(const char *journal);

/* A loop's runs: without, with, with --before's recorder, under each floor. */
enum { V_WITHOUT, V_WITH, V_BEFORE, V_SLOW_PATH, V_RAW_PAIR, V_RAW_ENTER, V_PER_CALL, V_COUNT };

struct ab {
	double wall[V_COUNT], thr[V_COUNT];   /* medians, 0 where not measured */
	long long lost[V_COUNT];              /* records lost, all runs */
};

/* bench_loops MODE ITERS, plain or under `bpfleak run` (V_WITH) or the
 * --before build's (V_BEFORE); ns_op and thread CPU ns, records lost. */
static int loop_once(const char *mode, long iters, int variant, double *wall, double *thr,
		     long long *lost)
{
	bool traced = variant == V_WITH || variant == V_BEFORE;
	char it[32], journal[4300];
	snprintf(it, sizeof(it), "%ld", iters);
	snprintf(journal, sizeof(journal), "%s/k.db", tmpdir);
	unlink(journal);
	char *plain[] = { loops, (char *)mode, it, NULL };
	char *kernel[] = { variant == V_BEFORE ? before : bpfleak, "run", "--tracer=kernel", "-q", "-o",
			   journal, "--", loops, (char *)mode, it, NULL };
	struct run r;
	if (run_cmd(traced ? kernel : plain, &r) || !WIFEXITED(r.status) || WEXITSTATUS(r.status)) {
		fprintf(stderr, "bench_kernel: %s %s%s failed\n", mode, it, traced ? " (traced)" : "");
		return -1;
	}
	*wall = field(r.out, "ns_op=");
	*thr = field(r.out, "thr_cpu_ns_op=");
	*lost = traced ? lost_in(journal) : 0;
	unlink(journal);
	return *wall > 0 ? 0 : -1;
}

/* A process that does nothing, and the recorder attached to it: tracing runs. */
static pid_t sleeper, attacher;

static int start_tracing(const char *recorder)
{
	sleeper = fork();
	if (sleeper == 0) {
		for (;;)
			pause();
	}
	int pipefd[2];
	if (sleeper < 0 || pipe(pipefd))
		return -1;
	char pid[32], journal[4300];
	snprintf(pid, sizeof(pid), "%d", (int)sleeper);
	snprintf(journal, sizeof(journal), "%s/attach.db", tmpdir);
	unlink(journal);
	attacher = fork();
	if (attacher == 0) {
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		execl(recorder, recorder, "attach", "-o", journal, pid, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	char buf[512];
	size_t used = 0;
	ssize_t n;
	bool live = false;
	while (!live && used < sizeof(buf) - 1 && (n = read(pipefd[0], buf + used, sizeof(buf) - 1 - used)) > 0) {
		used += (size_t)n;
		buf[used] = '\0';
		live = strstr(buf, "attached to pid") != NULL;
	}
	close(pipefd[0]);
	return live ? 0 : -1;
}

static void stop_tracing(void)
{
	if (attacher > 0) {
		kill(attacher, SIGINT);
		waitpid(attacher, NULL, 0);
	}
	if (sleeper > 0) {
		kill(sleeper, SIGKILL);
		waitpid(sleeper, NULL, 0);
	}
	attacher = sleeper = 0;
}

/* For one run: a recorder attached to the sleeper, or a floor's programs. */
static int tracing_on(int variant, int fds[FLOOR_MAX_FDS], int *nfds)
{
	*nfds = 0;
	if (variant >= V_SLOW_PATH) {
		*nfds = floor_attach((enum floor)(FLOOR_SLOW_PATH + (variant - V_SLOW_PATH)), fds);
		return *nfds < 0 ? -1 : 0;
	}
	if (start_tracing(variant == V_BEFORE ? before : bpfleak)) {
		stop_tracing();
		fprintf(stderr, "bench_kernel: bpfleak attach did not get live\n");
		return -1;
	}
	return 0;
}

static void tracing_off(int fds[FLOOR_MAX_FDS], int nfds)
{
	if (nfds > 0)
		floor_detach(fds, nfds);
	stop_tracing();
}

/*
 * bench_loops MODE, its variants interleaved, reps times.  traced_loop:
 * the recorder traces the loop itself (`bpfleak run`); otherwise it traces
 * a sleeper while the loop runs untraced.  floors: also with the first
 * that many floors' empty programs attached instead (a floor that cannot
 * attach here gets no row).
 */
static int ab_measure(const char *mode, long iters, bool traced_loop, int floors, struct ab *ab)
{
	double w[V_COUNT][32], t[V_COUNT][32];
	bool measured[V_COUNT] = { true, true, before[0] != 0 };
	for (int v = V_SLOW_PATH; v < V_COUNT; v++)
		measured[v] = v < V_SLOW_PATH + floors;
	memset(ab, 0, sizeof(*ab));
	for (int i = 0; i < reps; i++) {
		/* Each repetition starts one variant later: none always runs first
		 * after a recorder's teardown or a floor's. */
		for (int k = 0; k < V_COUNT; k++) {
			int v = (k + i) % V_COUNT;
			if (!measured[v])
				continue;
			bool recorder = v == V_WITH || v == V_BEFORE;
			bool attach = !(recorder && traced_loop) && v != V_WITHOUT;
			int fds[FLOOR_MAX_FDS], nfds = 0;
			if (attach && tracing_on(v, fds, &nfds)) {
				if (recorder)
					return -1;
				measured[v] = false;
				continue;
			}
			long long lost = 0;
			int rc = loop_once(mode, iters, traced_loop ? v : V_WITHOUT, &w[v][i], &t[v][i],
					   &lost);
			if (attach)
				tracing_off(fds, nfds);
			if (rc)
				return -1;
			ab->lost[v] += lost;
		}
	}
	for (int v = 0; v < V_COUNT; v++) {
		if (!measured[v])
			continue;
		ab->wall[v] = median(w[v], reps);
		ab->thr[v] = median(t[v], reps);
	}
	return 0;
}

struct rate_result {
	long asked;
	double seconds, achieved, load_cpu, recorder_cpu;
	long long created, journaled, lost;
};

static long long sql_count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Records a recorder lost, as its journal says (drop events), or -1. */
static long long lost_in(const char *journal)
{
	sqlite3 *db;
	long long v = -1;
	if (sqlite3_open_v2(journal, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
		v = sql_count(db, "SELECT coalesce(sum(fd2), 0) FROM event WHERE op = 8");
	sqlite3_close(db);
	return v;
}

static int rate_run(long rate, double seconds, struct rate_result *res)
{
	char self[4096], r_s[32], s_s[32], journal[4300];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	snprintf(r_s, sizeof(r_s), "%ld", rate);
	snprintf(s_s, sizeof(s_s), "%.1f", seconds);
	snprintf(journal, sizeof(journal), "%s/rate.db", tmpdir);
	unlink(journal);
	char *argv[] = { bpfleak, "run", "--tracer=kernel", "-q", "-o", journal, "--", self,
			 "--rate", r_s, "--seconds", s_s, NULL };
	struct run r;
	if (run_cmd(argv, &r) || !WIFEXITED(r.status) || WEXITSTATUS(r.status))
		return -1;
	memset(res, 0, sizeof(*res));
	res->asked = rate;
	res->created = (long long)field(r.out, "creates=");
	res->seconds = field(r.out, "seconds=");
	res->achieved = field(r.out, "rate=");
	res->load_cpu = field(r.out, "cpu=");
	res->recorder_cpu = (r.cpu_s - res->load_cpu) / (res->seconds > 0 ? res->seconds : 1);
	sqlite3 *db;
	if (sqlite3_open_v2(journal, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return -1;
	/* The creates of the timed loop: GET_FD_BY_ID (cmd 14) of kbench_rate's map. */
	res->journaled = sql_count(db, "SELECT count(*) FROM event e JOIN object o ON o.kind = e.obj_kind"
				       " AND o.id = e.obj_id WHERE e.op = 1 AND e.cmd = 14"
				       " AND o.name = 'kbench_rate'");
	res->lost = sql_count(db, "SELECT coalesce(sum(fd2), 0) FROM event WHERE op = 8");
	sqlite3_close(db);
	unlink(journal);
	return 0;
}

/* ---- output ---- */

static FILE *js;

static void variant_line(const char *what, const struct ab *ab, int v)
{
	if (ab->wall[v] <= 0)
		return;
	printf("\n%-46s %7s     %7.0f ns %5.2fx  thread CPU %5.2fx%s", what, "", ab->wall[v],
	       ab->wall[v] / ab->wall[V_WITHOUT], ab->thr[v] / ab->thr[V_WITHOUT],
	       ab->lost[v] ? "  (records lost)" : "");
}

static void row(const char *what, const struct ab *ab, double budget, const char *key)
{
	double rw = ab->wall[V_WITH] / ab->wall[V_WITHOUT], rt = ab->thr[V_WITH] / ab->thr[V_WITHOUT];
	printf("%-46s %7.0f ns  %7.0f ns %5.2fx  thread CPU %5.2fx  budget %.1fx%s", what,
	       ab->wall[V_WITHOUT], ab->wall[V_WITH], rw, rt, budget, rw <= budget ? "" : "  MISSED");
	if (ab->lost[V_WITH])
		printf("  %lld records lost", ab->lost[V_WITH]);
	variant_line("   the same, traced by --before's bpfleak", ab, V_BEFORE);
	variant_line("   floor: slow path (empty sys_enter_getppid)", ab, V_SLOW_PATH);
	variant_line("   floor: empty raw sys_enter + sys_exit", ab, V_RAW_PAIR);
	variant_line("   floor: empty raw sys_enter alone", ab, V_RAW_ENTER);
	variant_line("   floor: raw sys_enter + sys_exit_dup event", ab, V_PER_CALL);
	putchar('\n');
	if (js)
		fprintf(js, "  \"%s\": {\"without_ns\": %.1f, \"with_ns\": %.1f, \"ratio\": %.3f,"
			" \"thread_cpu_without_ns\": %.1f, \"thread_cpu_with_ns\": %.1f,"
			" \"thread_cpu_ratio\": %.3f, \"budget\": %.2f, \"lost\": %lld,"
			" \"before_ns\": %.1f, \"thread_cpu_before_ns\": %.1f,"
			" \"floor_slow_path_ns\": %.1f, \"thread_cpu_floor_slow_path_ns\": %.1f,"
			" \"floor_raw_pair_ns\": %.1f, \"thread_cpu_floor_raw_pair_ns\": %.1f,"
			" \"floor_raw_enter_ns\": %.1f, \"thread_cpu_floor_raw_enter_ns\": %.1f,"
			" \"floor_per_call_ns\": %.1f, \"thread_cpu_floor_per_call_ns\": %.1f},\n",
			key, ab->wall[V_WITHOUT], ab->wall[V_WITH], rw, ab->thr[V_WITHOUT], ab->thr[V_WITH],
			rt, budget, ab->lost[V_WITH], ab->wall[V_BEFORE], ab->thr[V_BEFORE],
			ab->wall[V_SLOW_PATH], ab->thr[V_SLOW_PATH], ab->wall[V_RAW_PAIR],
			ab->thr[V_RAW_PAIR], ab->wall[V_RAW_ENTER], ab->thr[V_RAW_ENTER],
			ab->wall[V_PER_CALL], ab->thr[V_PER_CALL]);
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: bench_kernel --build DIR [--reps N] [--short] [--json FILE] [--before DIR2]\n"
		"       bench_kernel --rate CREATES_PER_S --seconds S\n");
	exit(status);
}

static int probe(char *why, size_t cap)
{
	char journal[4300];
	snprintf(journal, sizeof(journal), "%s/probe.db", tmpdir);
	char *argv[] = { bpfleak, "run", "--tracer=kernel", "-q", "-o", journal, "--", "/bin/true", NULL };
	struct run r;
	if (run_cmd(argv, &r))
		return -1;
	if (WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0)
		return 0;
	snprintf(why, cap, "bpfleak run --tracer=kernel exited %d", WEXITSTATUS(r.status));
	return 1;
}

static void cleanup(void)
{
	stop_tracing();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_kernel: could not remove %s\n", tmpdir);
}

int main(int argc, char **argv)
{
	const char *json = NULL;
	long rate = 0;
	double seconds = 2;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--build") && i + 1 < argc)
			snprintf(build, sizeof(build), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--short"))
			short_mode = true;
		else if (!strcmp(argv[i], "--json") && i + 1 < argc)
			json = argv[++i];
		else if (!strcmp(argv[i], "--before") && i + 1 < argc)
			snprintf(before, sizeof(before), "%s/bpfleak", argv[++i]);
		else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
			rate = atol(argv[++i]);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else
			usage(2);
	}
	if (rate > 0)
		return rate_main(rate, seconds);
	if (!build[0])
		usage(2);
	if (short_mode)
		reps = 1;
	if (reps < 1 || reps > 31)
		usage(2);
	snprintf(loops, sizeof(loops), "%s/bench/bench_loops", build);
	snprintf(bpfleak, sizeof(bpfleak), "%s/bpfleak", build);
	if (!mkdtemp(tmpdir)) {
		perror("bench_kernel: mkdtemp");
		return 1;
	}
	atexit(cleanup);
	signal(SIGPIPE, SIG_IGN);

	char why[256];
	int p = probe(why, sizeof(why));
	if (p) {
		printf("kernel recorder figures: skipped (%s)\n", p < 0 ? "cannot run bpfleak" : why);
		return 0;
	}
	if (json && !(js = fopen(json, "w"))) {
		perror(json);
		return 1;
	}
	if (js)
		fprintf(js, "{\"bpfleak_bench_kernel\": 1, \"reps\": %d,\n", reps);
	printf("\nkernel recorder (bpfleak run --tracer=kernel), %s of %d, without/with interleaved\n",
	       reps > 1 ? "medians" : "one run", reps);
	printf("%-46s %10s  %18s\n", "what, per op", "without", "with the recorder");
	long scale = short_mode ? 10 : 1;
	struct ab ab;
	int broken = 0;
	if (ab_measure("getfd", 200000 / scale, true, 0, &ab) == 0)
		row("K1 BPF_MAP_GET_FD_BY_ID + close, traced", &ab, 2.0, "getfd_traced");
	else
		broken++;
	if (ab_measure("lookup", 1000000 / scale, true, 2, &ab) == 0)
		row("K2 BPF_MAP_LOOKUP_ELEM, traced", &ab, 1.1, "lookup_traced");
	else
		broken++;
	if (ab_measure("close", 1000000 / scale, false, 4, &ab) == 0)
		row("K3 close(dup(fd)), untraced, tracing on", &ab, 1.3, "close_untraced");
	else
		broken++;
	struct rate_result rr;
	long want = 50000;
	if (rate_run(want, short_mode ? 0.5 : 3.0, &rr) == 0) {
		bool ok = rr.lost == 0 && rr.journaled == rr.created;
		printf("K4 %ld GET_FD_BY_ID creates/s for %.1f s: %.0f/s achieved, %lld created, "
		       "%lld journaled, %lld lost; recorder CPU %.0f%%%s\n", want, rr.seconds, rr.achieved,
		       rr.created, rr.journaled, rr.lost, rr.recorder_cpu * 100, ok ? "" : "  MISSED");
		if (js)
			fprintf(js, "  \"rate\": {\"asked\": %ld, \"achieved\": %.0f, \"seconds\": %.2f,"
				" \"created\": %lld, \"journaled\": %lld, \"lost\": %lld,"
				" \"recorder_cpu\": %.3f},\n", want, rr.achieved, rr.seconds, rr.created,
				rr.journaled, rr.lost, rr.recorder_cpu);
	} else {
		broken++;
	}
	if (js) {
		fprintf(js, "  \"harness_errors\": %d}\n", broken);
		fclose(js);
	}
	return broken ? 1 : 0;
}
