// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * `make bench`: what the shim costs, measured side by side in one run.
 *
 *   bench [--short] [--reps N] [--build DIR] [--json FILE] [--only LIST]
 *         [--cpus LIST] [--no-peers] [--label TEXT]
 *
 * Every timed figure runs bench_loops as a child process without the shim
 * (A) and with LD_PRELOAD=libbpfleak.so (B, a fresh journal in a temp dir,
 * BPFLEAK_QUIET=1), interleaved A B A B ... for --reps repetitions; the
 * table shows the medians and ratio = median(B) / median(A), plus the range
 * of the paired per-repetition ratios so a reader can tell a real cost from
 * noise.  The figures (numbers as in the issue and DESIGN.md section 5):
 *
 *   1 pass-through: close() of a non-bpf FD, BPF_MAP_LOOKUP_ELEM
 *   2 recorded creates: MAP_GET_FD_BY_ID+close, MAP_CREATE+close, PROG_LOAD
 *   3 the same five loops on 4 threads at once
 *   4 journal bytes per event: 100,000 create/close pairs, 1 and 1,000 stacks
 *   5 bpfleak-report on synthetic journals of 100k, 300k and 1M events
 *   6 RSS the shim adds with 100,000 tracked FDs open
 *   7 peers on the same loops: valgrind --track-fds=yes, strace -f
 *
 * Noise, and what is done about it:
 *  - elapsed time is judged against the budgets, but run-to-run noise on a
 *    2-CPU VM is +-10%, more than the 2% pass-through budget; so figure 1
 *    also has in-process rows: one process with the shim alternates blocks
 *    through libc's own dup/close/syscall and through the shim's, which
 *    resolves a few ns (and a run without the shim is the null test);
 *  - every row also shows CPU time, of the looping threads (what callers
 *    pay; time preempted by another load is not counted, though a busy
 *    sibling CPU still slows them) and of the whole process (adds the
 *    shim's writer thread);
 *  - before each timed run the harness waits for the machine to go idle:
 *    the kernel frees the maps and programs of a previous run in the
 *    background for seconds, and that would be charged to the next run.
 *  - children are not pinned (--cpus pins them): the writer thread would
 *    then share the caller's CPU, and another load could not be avoided.
 *
 * Output: the table on stdout, the same figures as JSON in --json (default
 * bench/results.json).  A benchmark, not a test: timing never makes it
 * fail.  Exit status 0 ran, 77 bpf() not permitted here (nothing measured),
 * 1 the harness itself broke (a child crashed, a file could not be written).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#define MAX_REPS 101
#define MIB (1024.0 * 1024.0)

/* ---- options and paths ---- */

static struct {
	bool is_short;
	int reps;
	const char *build;
	const char *json;
	const char *only;
	const char *cpus;
	const char *label;
	bool peers;
} opt = { .reps = 7, .json = "bench/results.json", .peers = true };

static char build_dir[4096], shim[4200], loops[4200], gen[4200], report[4200];
static char tmpdir[] = "/tmp/bpfleak-bench.XXXXXX";
static char errlog[4200];
static int harness_errors;
static char cmdline[2048];

static bool want(int figure)
{
	if (!opt.only)
		return true;
	char num[8];
	snprintf(num, sizeof(num), "%d", figure);
	for (const char *p = opt.only; *p;) {
		size_t n = strcspn(p, ",");
		if (n == strlen(num) && !strncmp(p, num, n))
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void progress(const char *fmt, ...)
{
	if (!isatty(STDERR_FILENO))
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "\r\033[K");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
}

static void progress_done(void)
{
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\r\033[K");
}

static bool executable(const char *path)
{
	return access(path, X_OK) == 0;
}

/* Directory of PATH on $PATH holding NAME, or NULL. */
static const char *which(const char *name, char *out, size_t cap)
{
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/bin:/bin";
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		snprintf(out, cap, "%.*s/%s", (int)n, p, name);
		if (n && executable(out))
			return out;
		p += n + (p[n] == ':');
	}
	return NULL;
}

/* ---- running a child ---- */

struct run {
	bool ok;                 /* exited 0 (or an accepted status) and printed what we expect */
	int status;              /* wait status */
	double ns_op, cpu_ns_op; /* bench_loops' own timing of its loop */
	double thr_ns_op;        /* CPU time of the looping threads per op */
	bool busy;               /* started before the machine went idle */
	double base_ns_op, delta_ns;   /* hook* modes */
	double wall_s;           /* fork to reap */
	long maxrss_kb;          /* ru_maxrss of the child */
	long rss_kb, hwm_kb, base_rss_kb;
	char out[1024];
};

enum with { W_NONE, W_SHIM, W_VALGRIND, W_STRACE };
static const char *const with_names[] = { "without", "bpfleak", "valgrind", "strace" };
static char valgrind_path[4096], strace_path[4096];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set_cpus(const char *list)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	for (const char *p = list; *p;) {
		char *end;
		long a = strtol(p, &end, 10), b = a;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (long c = a; c <= b && c < CPU_SETSIZE; c++)
			if (c >= 0)
				CPU_SET((int)c, &set);
		p = *end == ',' ? end + 1 : end + strlen(end);
	}
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * Wait until the machine is idle before a timed run.  After a loop of
 * MAP_CREATE or PROG_LOAD the kernel goes on freeing the objects (RCU,
 * workqueues) on both CPUs for seconds, and that work would be charged to
 * whichever run comes next.  Idle = two 50 ms windows in a row with less
 * than 10% of all CPUs busy (/proc/stat); give up after 5 s (0.5 s once
 * the machine has been found busy three times: someone else is using it).
 */
static int unsettled, unsettled_by_figure[8], current_figure;
static double settle_s;

static bool cpu_ticks(unsigned long long *busy, unsigned long long *total)
{
	FILE *f = fopen("/proc/stat", "re");
	if (!f)
		return false;
	unsigned long long v[8] = { 0 };
	int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		       &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 4)
		return false;
	*total = 0;
	for (int i = 0; i < 8; i++)
		*total += v[i];
	*busy = *total - v[3] - v[4];   /* minus idle and iowait */
	return true;
}

static bool last_settle_busy;

static void settle(void)
{
	last_settle_busy = false;
	if (opt.is_short)
		return;
	double t0 = now_s(), limit = unsettled >= 3 ? 0.5 : 5.0;
	int quiet = 0;
	while (now_s() - t0 < limit) {
		unsigned long long b0, t0_, b1, t1;
		if (!cpu_ticks(&b0, &t0_))
			return;
		usleep(50 * 1000);
		if (!cpu_ticks(&b1, &t1))
			return;
		bool idle = t1 == t0_ || (double)(b1 - b0) / (double)(t1 - t0_) < 0.10;
		quiet = idle ? quiet + 1 : 0;
		if (quiet >= 2) {
			settle_s += now_s() - t0;
			return;
		}
	}
	settle_s += now_s() - t0;
	unsettled++;
	unsettled_by_figure[current_figure]++;
	last_settle_busy = true;
}

/*
 * Run argv (argv[0] a path) with the tool `w` in front, the shim's
 * environment when w == W_SHIM (journal at `journal`), stdout captured into
 * r->out (or thrown away when capture is false), stderr appended to the
 * error log.
 */
static void run_child(char *const argv[], enum with w, const char *journal, bool capture,
		      struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->busy = last_settle_busy;
	last_settle_busy = false;
	char *full[32];
	int n = 0;
	if (w == W_VALGRIND) {
		full[n++] = valgrind_path;
		full[n++] = "--quiet";
		full[n++] = "--track-fds=yes";
		full[n++] = "--log-file=/dev/null";
	} else if (w == W_STRACE) {
		full[n++] = strace_path;
		full[n++] = "-f";
		full[n++] = "-qq";
		full[n++] = "-e";
		full[n++] = "trace=bpf,close";
		full[n++] = "-o";
		full[n++] = "/dev/null";
	}
	for (int i = 0; argv[i] && n < 31; i++)
		full[n++] = argv[i];
	full[n] = NULL;

	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC)) {
		perror("bench: pipe");
		exit(1);
	}
	double t0 = now_s();
	pid_t pid = fork();
	if (pid < 0) {
		perror("bench: fork");
		exit(1);
	}
	if (pid == 0) {
		int out = capture ? pfd[1] : open("/dev/null", O_WRONLY);
		int err = open(errlog, O_WRONLY | O_APPEND | O_CREAT, 0600);
		if (out < 0 || dup2(out, STDOUT_FILENO) < 0 || (err >= 0 && dup2(err, STDERR_FILENO) < 0))
			_exit(126);
		unsetenv("LD_PRELOAD");
		unsetenv("BPFLEAK_JOURNAL");
		unsetenv("BPFLEAK_DEPTH");
		unsetenv("BPFLEAK_CLOSE_STACKS");
		unsetenv("BPFLEAK_QUIET");
		if (w == W_SHIM) {
			setenv("LD_PRELOAD", shim, 1);
			setenv("BPFLEAK_JOURNAL", journal, 1);
			setenv("BPFLEAK_QUIET", "1", 1);
		}
		if (opt.cpus)
			set_cpus(opt.cpus);
		execv(full[0], full);
		dprintf(STDERR_FILENO, "bench: cannot run %s: %s\n", full[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	size_t len = 0;
	ssize_t k;
	while ((k = read(pfd[0], r->out + len, sizeof(r->out) - 1 - len)) > 0 ||
	       (k < 0 && errno == EINTR))
		if (k > 0 && (len += (size_t)k) == sizeof(r->out) - 1)
			break;
	r->out[len] = '\0';
	close(pfd[0]);
	struct rusage ru;
	while (wait4(pid, &r->status, 0, &ru) < 0 && errno == EINTR)
		;
	r->wall_s = now_s() - t0;
	r->maxrss_kb = ru.ru_maxrss;
	r->ok = WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
	if (capture) {
		const char *p;
		if ((p = strstr(r->out, "ns_op=")))
			sscanf(p, "ns_op=%lf cpu_ns_op=%lf thr_cpu_ns_op=%lf", &r->ns_op, &r->cpu_ns_op,
			       &r->thr_ns_op);
		if ((p = strstr(r->out, "base_ns_op=")))
			sscanf(p, "base_ns_op=%lf delta_ns=%lf", &r->base_ns_op, &r->delta_ns);
		if ((p = strstr(r->out, "rss_kb=")))
			sscanf(p, "rss_kb=%ld hwm_kb=%ld base_rss_kb=%ld", &r->rss_kb, &r->hwm_kb,
			       &r->base_rss_kb);
		if (!r->ns_op && !r->rss_kb && !strstr(r->out, "events="))
			r->ok = false;
	}
}

/* The last lines the children wrote on stderr, to say why a run failed. */
static void errlog_tail(void)
{
	int fd = open(errlog, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char buf[1024];
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, from);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	char *start = buf;
	if (from > 0 && strchr(buf, '\n'))
		start = strchr(buf, '\n') + 1;
	fprintf(stderr, "bench: last lines of the children's stderr:\n%s", start);
}

static void describe_failure(const char *what, const struct run *r)
{
	harness_errors++;
	if (WIFSIGNALED(r->status))
		fprintf(stderr, "bench: %s: killed by signal %d\n", what, WTERMSIG(r->status));
	else
		fprintf(stderr, "bench: %s: exit %d, output '%s'\n", what,
			WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1, r->out);
	errlog_tail();
}

/* Journal paths are short: they live in tmpdir. */
static void remove_journal(const char *j)
{
	char p[300];
	unlink(j);
	snprintf(p, sizeof(p), "%s-wal", j);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", j);
	unlink(p);
}

static long long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static long long journal_bytes(const char *j)
{
	char p[300];
	snprintf(p, sizeof(p), "%s-wal", j);
	return file_size(j) + file_size(p);
}

static long long sql_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

struct jstats {
	long long events, stacks, dropped, bytes;
	long long event_bytes, stack_bytes;   /* pages of the table and its indexes (dbstat) */
};

static bool journal_stats(const char *path, struct jstats *s)
{
	memset(s, 0, sizeof(*s));
	s->bytes = journal_bytes(path);
	sqlite3 *db;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return false;
	}
	s->events = sql_int(db, "SELECT count(*) FROM event");
	s->stacks = sql_int(db, "SELECT count(*) FROM stack");
	s->dropped = sql_int(db, "SELECT coalesce(sum(fd2), 0) FROM event WHERE op = 8");
	s->event_bytes = sql_int(db, "SELECT coalesce(sum(pgsize), -1) FROM dbstat WHERE name = 'event'");
	s->stack_bytes = sql_int(db, "SELECT coalesce(sum(pgsize), -1) FROM dbstat"
				 " WHERE name IN ('stack', 'sqlite_autoindex_stack_1')");
	sqlite3_close(db);
	return s->events >= 0;
}

/* ---- statistics ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
	if (n <= 0)
		return NAN;
	double s[MAX_REPS];
	memcpy(s, v, (size_t)n * sizeof(*v));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double minimum(const double *v, int n)
{
	double m = INFINITY;
	for (int i = 0; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

static double maximum(const double *v, int n)
{
	double m = -INFINITY;
	for (int i = 0; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

/* ---- JSON ---- */

static FILE *js;
static bool js_first;

static void js_str(const char *s)
{
	fputc('"', js);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(js, "\\%c", c);
		else if (c < 0x20)
			fprintf(js, "\\u%04x", c);
		else
			fputc(c, js);
	}
	fputc('"', js);
}

static void js_num(double v)
{
	if (isfinite(v))
		fprintf(js, "%.6g", v);
	else
		fputs("null", js);
}

static void js_key(const char *k)
{
	if (!js_first)
		fputs(", ", js);
	js_first = false;
	js_str(k);
	fputs(": ", js);
}

static void js_kv_num(const char *k, double v)
{
	js_key(k);
	js_num(v);
}

static void js_kv_str(const char *k, const char *v)
{
	js_key(k);
	if (v)
		js_str(v);
	else
		fputs("null", js);
}

static void js_kv_bool(const char *k, bool v)
{
	js_key(k);
	fputs(v ? "true" : "false", js);
}

static void js_kv_arr(const char *k, const double *v, int n)
{
	js_key(k);
	fputc('[', js);
	for (int i = 0; i < n; i++) {
		if (i)
			fputs(", ", js);
		js_num(v[i]);
	}
	fputc(']', js);
}

static void js_kv_arr_int(const char *k, const int *v, int n)
{
	js_key(k);
	fputc('[', js);
	for (int i = 0; i < n; i++)
		fprintf(js, "%s%d", i ? ", " : "", v[i]);
	fputc(']', js);
}

static void js_open(const char *k, char bracket)
{
	if (k)
		js_key(k);
	else if (!js_first)
		fputs(",\n  ", js);
	fputc(bracket, js);
	js_first = true;
}

static void js_close(char bracket)
{
	fputc(bracket, js);
	js_first = false;
}

/* ---- figures 1-3: timed loops, A/B ---- */

struct loop {
	int figure;
	const char *mode;
	const char *title;
	long iters;              /* full mode, per process (divided among threads) */
	long short_iters;
	double budget;           /* ratio; 0 = none */
	bool inproc;             /* in-process A/B (bench_loops hook* modes): 1 thread, no peers */
};

static const struct loop all_loops[] = {
	{ 1, "close", "close() of a non-bpf FD (dup+close)", 200000, 2000, 1.02, false },
	{ 1, "hookclose", "  same, in-process A/B (ns added)", 500000, 5000, 1.02, true },
	{ 1, "lookup", "BPF_MAP_LOOKUP_ELEM (libbpf)", 200000, 2000, 1.02, false },
	{ 1, "hooklookup", "  same, in-process A/B (ns added)", 300000, 3000, 1.02, true },
	{ 2, "getfd", "BPF_MAP_GET_FD_BY_ID + close", 100000, 1000, 1.3, false },
	{ 2, "mapcreate", "BPF_MAP_CREATE + close", 20000, 200, 1.3, false },
	{ 2, "progload", "BPF_PROG_LOAD (XDP, 2 insns) + close", 5000, 50, 0, false },
};
#define N_LOOPS (sizeof(all_loops) / sizeof(all_loops[0]))

static long iters_of(const struct loop *l)
{
	return opt.is_short ? l->short_iters : l->iters;
}

struct ab {
	double a[MAX_REPS], b[MAX_REPS], ratio[MAX_REPS];
	double ca[MAX_REPS], cb[MAX_REPS];   /* process CPU ns/op */
	double ta[MAX_REPS], tb[MAX_REPS];   /* looping threads' CPU ns/op */
	int busy;                            /* runs started on a busy machine */
	double delta[MAX_REPS], null_delta[MAX_REPS];   /* in-process: hooked - direct */
	int n;
	long long events, dropped;   /* what the shim's journals held, all reps */
	bool failed;
};

/*
 * One A (without) and one B (with the shim) run of a loop; appends to ab.
 * In-process loops measure both paths inside each run: B's direct and
 * hooked blocks are the figure, A (no shim: both paths are libc's) is the
 * null test of the method.
 */
static void ab_once(const struct loop *l, long iters, int threads, struct ab *ab)
{
	char it[32], th[16], j[256];
	snprintf(it, sizeof(it), "%ld", iters);
	snprintf(th, sizeof(th), "%d", threads);
	char *argv[] = { loops, (char *)l->mode, it, th, NULL };
	struct run a, b;
	snprintf(j, sizeof(j), "%s/ab-%s-%d.db", tmpdir, l->mode, threads);
	remove_journal(j);
	settle();
	run_child(argv, W_NONE, NULL, true, &a);
	settle();
	run_child(argv, W_SHIM, j, true, &b);
	if (!a.ok || !b.ok) {
		char what[128];
		snprintf(what, sizeof(what), "%s %s x%d threads", l->mode,
			 a.ok ? "with the shim" : "without the shim", threads);
		describe_failure(what, a.ok ? &b : &a);
		ab->failed = true;
		remove_journal(j);
		return;
	}
	struct jstats s;
	if (journal_stats(j, &s)) {
		ab->events += s.events;
		ab->dropped += s.dropped;
	}
	remove_journal(j);
	int i = ab->n++;
	ab->busy += a.busy + b.busy;
	if (l->inproc) {
		ab->a[i] = b.base_ns_op;
		ab->b[i] = b.ns_op;
		ab->delta[i] = b.delta_ns;
		ab->null_delta[i] = a.delta_ns;
		ab->ratio[i] = 1 + b.delta_ns / b.base_ns_op;
		ab->ca[i] = ab->cb[i] = ab->ta[i] = ab->tb[i] = NAN;
	} else {
		ab->a[i] = a.ns_op;
		ab->b[i] = b.ns_op;
		ab->ca[i] = a.cpu_ns_op;
		ab->cb[i] = b.cpu_ns_op;
		ab->ta[i] = a.thr_ns_op;
		ab->tb[i] = b.thr_ns_op;
		ab->ratio[i] = b.ns_op / a.ns_op;
	}
}

static void print_rule(void)
{
	say("  %s\n", "-------------------------------------------------------------------------------------------------");
}

static void figures_loops(void)
{
	static const int thread_counts[] = { 1, 4 };
	bool header = false;
	for (size_t ti = 0; ti < 2; ti++) {
		int threads = thread_counts[ti];
		for (size_t i = 0; i < N_LOOPS; i++) {
			const struct loop *l = &all_loops[i];
			int figure = threads == 1 ? l->figure : 3;
			if (!want(figure) || (l->inproc && threads > 1))
				continue;
			if (!header) {
				say("\nFigures 1-3: ns per op, medians of %d interleaved runs (A = without, "
				    "B = with the shim)\n", opt.reps);
				say("  %-3s %-38s %3s %8s %10s %10s %7s %-15s %7s %s\n", "fig", "loop", "thr",
				    "ops", "A ns/op", "B ns/op", "ratio", "(range)", "budget", "verdict");
				print_rule();
				header = true;
			}
			current_figure = figure;
			long iters = iters_of(l) / threads;
			if (iters < 1)
				iters = 1;
			struct ab ab;
			memset(&ab, 0, sizeof(ab));
			for (int r = 0; r < opt.reps; r++) {
				progress("%s x%d: repetition %d/%d", l->mode, threads, r + 1, opt.reps);
				ab_once(l, iters, threads, &ab);
			}
			progress_done();
			double ma = median(ab.a, ab.n), mb = median(ab.b, ab.n);
			double ratio = l->inproc ? 1 + median(ab.delta, ab.n) / ma : mb / ma;
			double cpu_ratio = median(ab.cb, ab.n) / median(ab.ca, ab.n);
			double thr_ratio = median(ab.tb, ab.n) / median(ab.ta, ab.n);
			bool pass = l->budget <= 0 || ratio <= l->budget;
			char range[40], budget[16], verdict[64];
			snprintf(range, sizeof(range), "(%.3f-%.3f)", minimum(ab.ratio, ab.n),
				 maximum(ab.ratio, ab.n));
			if (l->budget > 0)
				snprintf(budget, sizeof(budget), "<=%.2f", l->budget);
			else
				snprintf(budget, sizeof(budget), "-");
			snprintf(verdict, sizeof(verdict), "%s", !ab.n ? "FAILED to run"
				 : l->budget <= 0 || opt.is_short ? "" : pass ? "ok" : "OVER");
			if (ab.dropped > 0) {
				size_t vl = strlen(verdict);
				snprintf(verdict + vl, sizeof(verdict) - vl, "%s%lld events dropped",
					 vl ? ", " : "", ab.dropped);
			}
			if (ab.busy > 0) {
				size_t vl = strlen(verdict);
				snprintf(verdict + vl, sizeof(verdict) - vl, "%sbusy %d/%d", vl ? ", " : "",
					 ab.busy, 2 * ab.n);
			}
			say("  %-3d %-38s %3d %8ld %10.1f %10.1f %7.3f %-15s %7s %s\n", figure, l->title,
			    threads, iters * threads, ma, mb, ratio, range, budget, verdict);
			if (l->inproc)
				say("  %-3s %-38s %3s %8s %+10.1f ns added per op; null test (no shim): "
				    "%+.1f ns\n", "", "", "", "", median(ab.delta, ab.n),
				    median(ab.null_delta, ab.n));
			else {
				say("  %-3s %-38s %3s %8s %10.1f %10.1f %7.3f   CPU of the calling thread(s)\n",
				    "", "", "", "", median(ab.ta, ab.n), median(ab.tb, ab.n), thr_ratio);
				say("  %-3s %-38s %3s %8s %10.1f %10.1f %7.3f   CPU of the whole process\n",
				    "", "", "", "", median(ab.ca, ab.n), median(ab.cb, ab.n), cpu_ratio);
			}

			js_open(NULL, '{');
			js_kv_num("figure", figure);
			js_kv_str("loop", l->mode);
			char title[96];
			/* An in-process row measures the loop of the row above it. */
			snprintf(title, sizeof(title), "%s%s", l->inproc && i ? all_loops[i - 1].title : l->title,
				 l->inproc ? ", in-process A/B" : "");
			js_kv_str("title", title);
			js_kv_str("method", l->inproc ? "in-process" : "process");
			js_kv_num("threads", threads);
			js_kv_num("ops", (double)iters * threads);
			js_kv_num("reps", ab.n);
			js_kv_num("without_ns_op", ma);
			js_kv_num("with_ns_op", mb);
			js_kv_num("ratio", ratio);
			js_kv_num("ratio_min", minimum(ab.ratio, ab.n));
			js_kv_num("ratio_max", maximum(ab.ratio, ab.n));
			if (l->inproc) {
				js_kv_num("added_ns_op", median(ab.delta, ab.n));
				js_kv_num("null_test_ns_op", median(ab.null_delta, ab.n));
			} else {
				js_kv_num("without_thread_cpu_ns_op", median(ab.ta, ab.n));
				js_kv_num("with_thread_cpu_ns_op", median(ab.tb, ab.n));
				js_kv_num("thread_cpu_ratio", thr_ratio);
				js_kv_num("without_cpu_ns_op", median(ab.ca, ab.n));
				js_kv_num("with_cpu_ns_op", median(ab.cb, ab.n));
				js_kv_num("cpu_ratio", cpu_ratio);
			}
			js_kv_num("budget", l->budget > 0 ? l->budget : NAN);
			if (l->budget > 0 && ab.n)
				js_kv_bool("within_budget", pass);
			js_kv_num("runs_started_busy", ab.busy);
			js_kv_num("journal_events", (double)ab.events);
			js_kv_num("journal_dropped", (double)ab.dropped);
			js_kv_arr("without_samples", ab.a, ab.n);
			js_kv_arr("with_samples", ab.b, ab.n);
			js_close('}');
		}
	}
	if (header)
		say("  ratio = B/A of the medians of elapsed time; (range) = lowest and highest B/A of\n"
		    "  the paired runs.  Under each row the same for CPU time: of the looping threads\n"
		    "  (what the caller pays; time preempted by other loads is not counted) and of the\n"
		    "  whole process (adds the shim's writer thread).  busy N/M: N runs started while\n"
		    "  the machine was not idle (another load): trust the CPU rows over elapsed time.\n"
		    "  in-process rows: one process with the shim alternates 1,000-op blocks through\n"
		    "  libc's own symbols (A) and through the shim's (B); ratio = 1 + added/A.\n"
		    "  ops are split among the threads; with 4 threads ns/op is elapsed time / all ops.\n");
}

/* ---- figure 4: journal bytes per event ---- */

static void figure_journal(void)
{
	current_figure = 4;
	long pairs = opt.is_short ? 1000 : 100000;
	say("\nFigure 4: journal size after %ld BPF_MAP_GET_FD_BY_ID + close pairs "
	    "(10-frame call paths)\n", pairs);
	say("  %-22s %9s %8s %8s %12s %10s %10s %10s %8s\n", "case", "events", "dropped",
	    "stacks", "file bytes", "B/event", "event tbl", "stack tbl", "budget");
	print_rule();
	static const char *const modes[] = { "journal1", "journal1000" };
	static const char *const titles[] = { "one call site", "1,000 call sites" };
	for (int i = 0; i < 2; i++) {
		char it[32], j[256];
		/* bench_loops runs ITERS/10 warm-up ops first: ask for `pairs` in all. */
		snprintf(it, sizeof(it), "%ld", pairs * 10 / 11);
		snprintf(j, sizeof(j), "%s/%s.db", tmpdir, modes[i]);
		remove_journal(j);
		char *argv[] = { loops, (char *)modes[i], it, "1", NULL };
		struct run r;
		progress("journal: %s", modes[i]);
		settle();
		run_child(argv, W_SHIM, j, true, &r);
		progress_done();
		struct jstats s;
		if (!r.ok || !journal_stats(j, &s)) {
			describe_failure(modes[i], &r);
			remove_journal(j);
			continue;
		}
		double per = s.events ? (double)s.bytes / (double)s.events : NAN;
		double per_ev = s.events ? (double)s.event_bytes / (double)s.events : NAN;
		double per_st = s.events ? (double)s.stack_bytes / (double)s.events : NAN;
		bool pass = i == 1 || per <= 64;
		say("  %-22s %9lld %8lld %8lld %12lld %10.1f %10.1f %10.1f %8s %s\n", titles[i], s.events,
		    s.dropped, s.stacks, s.bytes, per, per_ev, per_st, i == 0 ? "<=64" : "-",
		    i == 0 && !opt.is_short ? (pass ? "ok" : "OVER") : "");
		js_open(NULL, '{');
		js_kv_str("case", modes[i]);
		js_kv_num("pairs", (double)pairs);
		js_kv_num("events", (double)s.events);
		js_kv_num("dropped", (double)s.dropped);
		js_kv_num("stacks", (double)s.stacks);
		js_kv_num("file_bytes", (double)s.bytes);
		js_kv_num("bytes_per_event", per);
		js_kv_num("event_table_bytes_per_event", per_ev);
		js_kv_num("stack_table_bytes_per_event", per_st);
		js_kv_num("with_ns_per_pair", r.ns_op);
		js_kv_num("budget", i == 0 ? 64 : NAN);
		if (i == 0)
			js_kv_bool("within_budget", pass);
		js_close('}');
		remove_journal(j);
	}
	say("  B/event = whole file (db + wal) / event rows; the table columns are the pages of the\n"
	    "  event table and of the stack table + its index, per event (sqlite dbstat).\n");
}

/* ---- figure 5: the analyzer ---- */

struct synth {
	long events, sites;
};

static void figure_analyzer(void)
{
	current_figure = 5;
	/* The growth line uses the rows with the main site count; the last full row is a stress case. */
	static const struct synth full_sizes[] = {
		{ 100000, 1000 }, { 300000, 1000 }, { 1000000, 1000 }, { 1000000, 10 },
	};
	static const struct synth short_sizes[] = { { 10000, 100 } };
	const struct synth *sizes = opt.is_short ? short_sizes : full_sizes;
	int n_sizes = opt.is_short ? 1 : 4;
	long main_sites = sizes[0].sites;
	int reps = opt.is_short ? 1 : 3;
	bool have_report = executable(report);

	say("\nFigure 5: bpfleak-report on synthetic journals (10%% of FDs open at exit, exit snapshot,\n"
	    "  real modules; median of %d runs)\n", reps);
	if (!have_report)
		say("  PENDING: %s is not built yet; generator and harness ran, nothing timed.\n",
		    report);
	say("  %-10s %6s %8s %12s %8s %10s %10s %8s %s\n", "events", "sites", "open", "journal MB",
	    "gen s", "report s", "peak MiB", "budget", "verdict");
	print_rule();
	js_open("analyzer", '{');
	js_kv_str("report", report);
	js_kv_str("status", have_report ? "timed" : "pending");
	js_open("runs", '[');
	double t_first = NAN, t_last = NAN;
	long n_first = 0, n_last = 0;
	for (int i = 0; i < n_sizes; i++) {
		long events = sizes[i].events, sites = sizes[i].sites, open_fds = events / 10;
		char j[256], ev[32], of[32], st[32];
		snprintf(j, sizeof(j), "%s/synthetic-%ld-%ld.db", tmpdir, events, sites);
		snprintf(ev, sizeof(ev), "%ld", events);
		snprintf(of, sizeof(of), "%ld", open_fds);
		snprintf(st, sizeof(st), "%ld", sites);
		char *gargv[] = { gen, j, ev, of, st, NULL };
		struct run g;
		progress("analyzer: generating %ld events", events);
		run_child(gargv, W_NONE, NULL, true, &g);
		if (!g.ok) {
			describe_failure("gen_journal", &g);
			continue;
		}
		double wall[MAX_REPS], rss[MAX_REPS];
		int n = 0, bad_status = -1;
		for (int r = 0; have_report && r < reps; r++) {
			progress("analyzer: %ld events, run %d/%d", events, r + 1, reps);
			char *rargv[] = { report, j, NULL };
			struct run rr;
			settle();
			run_child(rargv, W_NONE, NULL, false, &rr);
			/* 0 = no leak, 1 = leaks found (expected here); 2 = it refused the input. */
			int code = WIFEXITED(rr.status) ? WEXITSTATUS(rr.status) : -1;
			if (code != 0 && code != 1) {
				bad_status = code;
				describe_failure("bpfleak-report", &rr);
				break;
			}
			wall[n] = rr.wall_s;
			rss[n] = (double)rr.maxrss_kb / 1024.0;
			n++;
		}
		progress_done();
		double w = median(wall, n), m = median(rss, n);
		bool timed = n > 0;
		bool budgeted = events >= 1000000 && sites == main_sites;
		bool pass = timed && (!budgeted || w <= 3.0);
		const char *verdict = !have_report ? "pending"
				      : !timed ? "FAILED to run"
				      : budgeted && !opt.is_short ? (pass ? "ok" : "OVER") : "";
		char ws[32] = "-", ms[32] = "-";
		if (timed) {
			snprintf(ws, sizeof(ws), "%.2f", w);
			snprintf(ms, sizeof(ms), "%.1f", m);
		}
		say("  %-10ld %6ld %8ld %12.1f %8.2f %10s %10s %8s %s\n", events, sites, open_fds,
		    (double)journal_bytes(j) / MIB, g.wall_s, ws, ms, budgeted ? "<=3 s" : "-",
		    verdict);
		js_open(NULL, '{');
		js_kv_num("events", (double)events);
		js_kv_num("open_fds", (double)open_fds);
		js_kv_num("call_sites", (double)sites);
		js_kv_num("journal_bytes", (double)journal_bytes(j));
		js_kv_num("generate_s", g.wall_s);
		js_kv_str("status", !have_report ? "pending" : timed ? "timed" : "failed");
		if (bad_status >= 0)
			js_kv_num("report_exit", bad_status);
		js_kv_num("report_wall_s", timed ? w : NAN);
		js_kv_num("report_peak_rss_mib", timed ? m : NAN);
		js_kv_arr("report_wall_samples", wall, n);
		if (budgeted) {
			js_kv_num("budget_s", 3.0);
			if (timed)
				js_kv_bool("within_budget", pass);
		}
		js_close('}');
		if (timed && sites == main_sites) {
			if (isnan(t_first)) {
				t_first = w;
				n_first = events;
			}
			t_last = w;
			n_last = events;
		}
		remove_journal(j);
	}
	js_close(']');
	if (n_last > n_first && t_first > 0) {
		double k = log(t_last / t_first) / log((double)n_last / (double)n_first);
		double per_event = (t_last - t_first) / (double)(n_last - n_first);
		double fixed = t_first - per_event * (double)n_first;
		say("  growth at %ld call sites: %ldx the events took %.2fx the time (time ~ events^%.2f),\n"
		    "  i.e. about %.2f s that does not depend on the events + %.2f us per event\n",
		    main_sites, n_last / n_first, t_last / t_first, k, fixed, per_event * 1e6);
		js_open("growth", '{');
		js_kv_num("sites", (double)main_sites);
		js_kv_num("from_events", (double)n_first);
		js_kv_num("to_events", (double)n_last);
		js_kv_num("time_factor", t_last / t_first);
		js_kv_num("exponent", k);
		js_kv_num("fixed_s", fixed);
		js_kv_num("per_event_us", per_event * 1e6);
		js_close('}');
	}
	js_close('}');
	say("  command: bpfleak-report JOURNAL (text), stdout to /dev/null; median of %d runs;\n"
	    "  peak = the report's ru_maxrss.\n", reps);
}

/* ---- figure 6: RSS with 100,000 tracked FDs ---- */

struct rss_point {
	long fds;
	int n;
	double rss_a, rss_b, hwm_a, hwm_b, peak_a, peak_b, run_a, run_b;   /* medians */
};

static void rss_measure(long fds, int reps, struct rss_point *pt)
{
	char it[32], j[256];
	snprintf(it, sizeof(it), "%ld", fds);
	snprintf(j, sizeof(j), "%s/rss.db", tmpdir);
	char *argv[] = { loops, "rss", it, NULL };
	double v[8][MAX_REPS];
	int n = 0;
	for (int r = 0; r < reps; r++) {
		struct run a, b;
		progress("rss: %ld FDs, repetition %d/%d", fds, r + 1, reps);
		remove_journal(j);
		settle();
		run_child(argv, W_NONE, NULL, true, &a);
		settle();
		run_child(argv, W_SHIM, j, true, &b);
		remove_journal(j);
		if (!a.ok || !b.ok) {
			describe_failure("rss", a.ok ? &b : &a);
			continue;
		}
		v[0][n] = (double)a.rss_kb / 1024.0;
		v[1][n] = (double)b.rss_kb / 1024.0;
		v[2][n] = (double)a.hwm_kb / 1024.0;
		v[3][n] = (double)b.hwm_kb / 1024.0;
		v[4][n] = (double)a.maxrss_kb / 1024.0;
		v[5][n] = (double)b.maxrss_kb / 1024.0;
		v[6][n] = a.wall_s;
		v[7][n] = b.wall_s;
		n++;
	}
	progress_done();
	pt->fds = fds;
	pt->n = n;
	double *dst[8] = { &pt->rss_a, &pt->rss_b, &pt->hwm_a, &pt->hwm_b,
			   &pt->peak_a, &pt->peak_b, &pt->run_a, &pt->run_b };
	for (int k = 0; k < 8; k++)
		*dst[k] = median(v[k], n);
}

/* Linear in the number of FDs through the two points, evaluated at x. */
static double extrapolate(double x1, double y1, double x2, double y2, double x)
{
	return y2 + (x - x2) * (y2 - y1) / (x2 - x1);
}

static void figure_rss(void)
{
	current_figure = 6;
	long target = opt.is_short ? 2000 : 100000;
	int reps = opt.is_short ? 1 : 3;
	/*
	 * 100,000 FDs need RLIMIT_NOFILE above 100,000.  Raise it here (the
	 * children inherit it); without CAP_SYS_RESOURCE the hard limit stays,
	 * and the figure is measured at two counts below it and extrapolated:
	 * the shim's memory is a fixed part plus a per-FD part.
	 */
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)target + 64) {
		struct rlimit want = { (rlim_t)target + 64, (rlim_t)target + 64 };
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			rl = want;
	}
	long max_fds = rl.rlim_max == RLIM_INFINITY ? target : (long)rl.rlim_max - 64;
	struct rss_point pts[2];
	int npts;
	if (max_fds >= target) {
		rss_measure(target, reps, &pts[0]);
		npts = 1;
	} else {
		long hi = max_fds / 1000 * 1000, lo = hi / 4;
		rss_measure(lo, reps, &pts[0]);
		rss_measure(hi, reps, &pts[1]);
		npts = 2;
	}
	bool extrapolated = npts == 2;
	say("\nFigure 6: memory with %ld tracked FDs open (BPF_MAP_GET_FD_BY_ID), MiB, medians of %d\n",
	    target, reps);
	if (extrapolated)
		say("  RLIMIT_NOFILE is %llu here and cannot be raised (no CAP_SYS_RESOURCE): measured at\n"
		    "  %ld and %ld FDs, extrapolated linearly to %ld.\n",
		    (unsigned long long)rl.rlim_max, pts[0].fds, pts[1].fds, target);
	say("  %-52s %9s %9s %9s %8s %s\n", "", "without", "with", "added", "budget", "verdict");
	print_rule();
	for (int i = 0; i < npts; i++) {
		const struct rss_point *p = &pts[i];
		char label[80];
		snprintf(label, sizeof(label), "%ld FDs: VmRSS, writer idle", p->fds);
		say("  %-52s %9.1f %9.1f %9.1f\n", label, p->rss_a, p->rss_b, p->rss_b - p->rss_a);
		snprintf(label, sizeof(label), "%ld FDs: peak RSS incl. exit snapshot", p->fds);
		say("  %-52s %9.1f %9.1f %9.1f\n", label, p->peak_a, p->peak_b, p->peak_b - p->peak_a);
		snprintf(label, sizeof(label), "%ld FDs: whole run, start to exit", p->fds);
		say("  %-52s %9.2f %9.2f %9.2f   seconds\n", label, p->run_a, p->run_b,
		    p->run_b - p->run_a);
	}
	double added, added_peak, added_run;
	if (extrapolated) {
		const struct rss_point *a = &pts[0], *b = &pts[1];
		added = extrapolate((double)a->fds, a->rss_b - a->rss_a, (double)b->fds,
				    b->rss_b - b->rss_a, (double)target);
		added_peak = extrapolate((double)a->fds, a->peak_b - a->peak_a, (double)b->fds,
					 b->peak_b - b->peak_a, (double)target);
		added_run = extrapolate((double)a->fds, a->run_b - a->run_a, (double)b->fds,
					b->run_b - b->run_a, (double)target);
	} else {
		added = pts[0].rss_b - pts[0].rss_a;
		added_peak = pts[0].peak_b - pts[0].peak_a;
		added_run = pts[0].run_b - pts[0].run_a;
	}
	bool ok = pts[npts - 1].n > 0;
	bool pass = added <= 8.0;
	char label[80];
	snprintf(label, sizeof(label), "%ld FDs%s: VmRSS added, steady state", target,
		 extrapolated ? " (extrapolated)" : "");
	say("  %-52s %9s %9s %9.1f %8s %s\n", label, "", "", added, "<=8",
	    !ok ? "FAILED" : opt.is_short ? "" : pass ? "ok" : "OVER");
	snprintf(label, sizeof(label), "%ld FDs%s: peak RSS added", target,
		 extrapolated ? " (extrapolated)" : "");
	say("  %-52s %9s %9s %9.1f\n", label, "", "", added_peak);
	snprintf(label, sizeof(label), "%ld FDs%s: run time added, s", target,
		 extrapolated ? " (extrapolated)" : "");
	say("  %-52s %9s %9s %9.2f\n", label, "", "", added_run);
	say("  VmRSS is read in the process after its FDs are open and the writer has drained;\n"
	    "  peak = the child's ru_maxrss, which includes the exit snapshot of the open FDs.\n");

	js_open("rss", '{');
	js_kv_num("fds", (double)target);
	js_kv_bool("extrapolated", extrapolated);
	js_kv_num("rlimit_nofile", rl.rlim_max == RLIM_INFINITY ? NAN : (double)rl.rlim_max);
	js_open("measured", '[');
	for (int i = 0; i < npts; i++) {
		const struct rss_point *p = &pts[i];
		js_open(NULL, '{');
		js_kv_num("fds", (double)p->fds);
		js_kv_num("reps", p->n);
		js_kv_num("without_vmrss_mib", p->rss_a);
		js_kv_num("with_vmrss_mib", p->rss_b);
		js_kv_num("without_vmhwm_mib", p->hwm_a);
		js_kv_num("with_vmhwm_mib", p->hwm_b);
		js_kv_num("without_peak_rss_mib", p->peak_a);
		js_kv_num("with_peak_rss_mib", p->peak_b);
		js_kv_num("without_run_s", p->run_a);
		js_kv_num("with_run_s", p->run_b);
		js_close('}');
	}
	js_close(']');
	js_kv_num("added_vmrss_mib", added);
	js_kv_num("added_peak_rss_mib", added_peak);
	js_kv_num("added_run_s", added_run);
	js_kv_num("budget_mib", 8);
	if (ok)
		js_kv_bool("within_budget", pass);
	js_close('}');
}

/* ---- figure 7: peers ---- */

static void figure_peers(void)
{
	current_figure = 7;
	bool have_vg = which("valgrind", valgrind_path, sizeof(valgrind_path)) != NULL;
	bool have_st = which("strace", strace_path, sizeof(strace_path)) != NULL;
	int reps = opt.is_short ? 1 : 3;
	say("\nFigure 7: peers on the same loops, 1 thread, ns per op (ratio to without), "
	    "medians of %d interleaved runs\n", reps);
	if (!have_vg)
		say("  valgrind is not installed: skipped\n");
	if (!have_st)
		say("  strace is not installed: skipped\n");
	say("  %-38s %7s %10s %16s %20s %24s\n", "loop", "ops", "without", "bpfleak",
	    "valgrind --track-fds", "strace -f -e bpf,close");
	print_rule();
	const int tools[] = { W_NONE, W_SHIM, W_VALGRIND, W_STRACE };
	js_open("peers", '[');
	for (size_t i = 0; i < N_LOOPS; i++) {
		const struct loop *l = &all_loops[i];
		if (l->inproc)
			continue;
		long iters = iters_of(l) / (opt.is_short ? 4 : 20);
		if (iters < 10)
			iters = 10;
		char it[32], j[256];
		snprintf(it, sizeof(it), "%ld", iters);
		snprintf(j, sizeof(j), "%s/peer.db", tmpdir);
		char *argv[] = { loops, (char *)l->mode, it, "1", NULL };
		double v[4][MAX_REPS];
		int n[4] = { 0 };
		for (int r = 0; r < reps; r++)
			for (int t = 0; t < 4; t++) {
				if ((tools[t] == W_VALGRIND && !have_vg) || (tools[t] == W_STRACE && !have_st))
					continue;
				progress("peers: %s under %s, run %d/%d", l->mode, with_names[t], r + 1, reps);
				struct run x;
				remove_journal(j);
				settle();
				run_child(argv, (enum with)tools[t], j, true, &x);
				remove_journal(j);
				if (!x.ok) {
					char what[96];
					snprintf(what, sizeof(what), "%s under %s", l->mode, with_names[t]);
					describe_failure(what, &x);
					/* A peer that cannot run a loop is a fact about the peer. */
					if (tools[t] == W_VALGRIND || tools[t] == W_STRACE)
						harness_errors--;
					continue;
				}
				v[t][n[t]++] = x.ns_op;
			}
		progress_done();
		double base = median(v[0], n[0]);
		char cell[4][40];
		for (int t = 1; t < 4; t++) {
			double m = median(v[t], n[t]);
			if (!n[t])
				snprintf(cell[t], sizeof(cell[t]), "%s",
					 (t == 2 && !have_vg) || (t == 3 && !have_st) ? "skipped" : "failed");
			else
				snprintf(cell[t], sizeof(cell[t]), "%.0f (%.2fx)", m, m / base);
		}
		say("  %-38s %7ld %10.0f %16s %20s %24s\n", l->title, iters, base, cell[1], cell[2],
		    cell[3]);
		js_open(NULL, '{');
		js_kv_str("loop", l->mode);
		js_kv_num("ops", (double)iters);
		js_kv_num("reps", reps);
		for (int t = 0; t < 4; t++) {
			char k[48];
			snprintf(k, sizeof(k), "%s_ns_op", with_names[t]);
			js_kv_num(k, n[t] ? median(v[t], n[t]) : NAN);
			if (t) {
				snprintf(k, sizeof(k), "%s_ratio", with_names[t]);
				js_kv_num(k, n[t] ? median(v[t], n[t]) / base : NAN);
			}
		}
		js_close('}');
	}
	js_close(']');
	say("  each tool's own start-up is not counted: bench_loops times its loop itself.\n");
}

/* ---- main ---- */

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: bench [--short] [--reps N] [--build DIR] [--json FILE] [--only 1,2,...]\n"
		"             [--cpus LIST] [--no-peers] [--label TEXT]\n"
		"\n"
		"  --short       1 repetition of small counts (make check); no verdicts\n"
		"  --reps N      A/B repetitions of each timed loop (default 7)\n"
		"  --build DIR   where libbpfleak.so, bpfleak-report and bench/ are\n"
		"                (default: the build directory this program is in)\n"
		"  --json FILE   write the figures there (default bench/results.json)\n"
		"  --only LIST   only these figures: 1 pass-through, 2 creates, 3 threads,\n"
		"                4 journal, 5 analyzer, 6 memory, 7 peers\n"
		"  --cpus LIST   pin the children to these CPUs (e.g. 1 or 0-1)\n"
		"  --no-peers    skip valgrind and strace\n"
		"  --label TEXT  stored with the results (make bench: git describe)\n");
	exit(status);
}

/* The temp dir holds plain files only (journals, the stderr log). */
static void cleanup_tmp(void)
{
	if (strchr(tmpdir, 'X'))
		return;   /* never created */
	DIR *d = opendir(tmpdir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	rmdir(tmpdir);
}

static void on_signal(int sig)
{
	cleanup_tmp();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void cpu_model(char *out, size_t cap)
{
	snprintf(out, cap, "?");
	FILE *f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "model name", 10)) {
			char *c = strchr(line, ':');
			if (c) {
				c += 1 + (c[1] == ' ');
				c[strcspn(c, "\n")] = '\0';
				snprintf(out, cap, "%s", c);
			}
			break;
		}
	fclose(f);
}

int main(int argc, char **argv)
{
	size_t cl = 0;
	for (int i = 0; i < argc && cl < sizeof(cmdline) - 1; i++)
		cl += (size_t)snprintf(cmdline + cl, sizeof(cmdline) - cl, "%s%s", i ? " " : "", argv[i]);
	bool reps_given = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--short"))
			opt.is_short = true;
		else if (!strcmp(a, "--no-peers"))
			opt.peers = false;
		else if (!strcmp(a, "--reps") && next) {
			opt.reps = atoi(next);
			reps_given = true;
			i++;
		} else if (!strcmp(a, "--build") && next)
			opt.build = argv[++i];
		else if (!strcmp(a, "--json") && next)
			opt.json = argv[++i];
		else if (!strcmp(a, "--only") && next)
			opt.only = argv[++i];
		else if (!strcmp(a, "--cpus") && next)
			opt.cpus = argv[++i];
		else if (!strcmp(a, "--label") && next)
			opt.label = argv[++i];
		else if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			usage(0);
		else
			usage(2);
	}
	if (opt.is_short && !reps_given)
		opt.reps = 1;
	if (opt.reps < 1 || opt.reps > MAX_REPS)
		usage(2);

	/* The build directory: --build, else the one this binary sits in (B/bench/bench). */
	if (opt.build) {
		if (!realpath(opt.build, build_dir)) {
			fprintf(stderr, "bench: %s: %s\n", opt.build, strerror(errno));
			return 1;
		}
	} else {
		ssize_t n = readlink("/proc/self/exe", build_dir, sizeof(build_dir) - 1);
		build_dir[n > 0 ? n : 0] = '\0';
		for (int k = 0; k < 2; k++) {
			char *slash = strrchr(build_dir, '/');
			if (slash)
				*slash = '\0';
		}
	}
	snprintf(shim, sizeof(shim), "%s/libbpfleak.so", build_dir);
	snprintf(loops, sizeof(loops), "%s/bench/bench_loops", build_dir);
	snprintf(gen, sizeof(gen), "%s/bench/gen_journal", build_dir);
	snprintf(report, sizeof(report), "%s/bpfleak-report", build_dir);
	if (!executable(loops) || !executable(gen) || access(shim, R_OK)) {
		fprintf(stderr, "bench: %s, %s or %s is missing (run make)\n", shim, loops, gen);
		return 1;
	}
	if (!mkdtemp(tmpdir)) {
		perror("bench: mkdtemp");
		return 1;
	}
	atexit(cleanup_tmp);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, on_signal);   /* e.g. `make bench | head` */
	snprintf(errlog, sizeof(errlog), "%s/stderr.log", tmpdir);

	/* bpf() permitted here?  Without it there is nothing to measure. */
	struct run probe;
	char *pargv[] = { loops, "probe", "1", NULL };
	run_child(pargv, W_NONE, NULL, false, &probe);
	if (!WIFEXITED(probe.status) || WEXITSTATUS(probe.status) != 0) {
		printf("SKIP: bpf() is not permitted here (BPF_MAP_CREATE failed); nothing measured\n");
		return 77;
	}

	js = fopen(opt.json, "we");   /* not inherited by the children */
	if (!js) {
		fprintf(stderr, "bench: %s: %s\n", opt.json, strerror(errno));
		return 1;
	}
	struct utsname u;
	uname(&u);
	char model[256], date[64];
	cpu_model(model, sizeof(model));
	time_t now = time(NULL);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	say("bpfleak bench%s: %s, kernel %s, %ld CPUs (%s)%s%s\n", opt.is_short ? " (short mode)" : "",
	    date, u.release, cpus, model, opt.label ? ", " : "", opt.label ? opt.label : "");
	say("  %s\n", cmdline);
	if (opt.cpus)
		say("  children pinned to CPUs %s\n", opt.cpus);
	if (opt.is_short)
		say("  short mode: 1 repetition of small counts, to check that the harness runs;\n"
		    "  the counts are too small for the budgets, so no verdicts are given.\n");

	js_first = true;
	fputc('{', js);
	js_kv_num("bpfleak_bench", 1);
	js_kv_str("date", date);
	js_kv_str("command", cmdline);
	js_kv_str("label", opt.label);
	js_kv_bool("short", opt.is_short);
	js_kv_num("reps", opt.reps);
	js_open("host", '{');
	js_kv_str("kernel", u.release);
	js_kv_str("machine", u.machine);
	js_kv_str("cpu", model);
	js_kv_num("cpus", (double)cpus);
	js_kv_str("pinned_cpus", opt.cpus);
	js_close('}');
	js_kv_str("shim", shim);

	js_open("loops", '[');
	if (want(1) || want(2) || want(3))
		figures_loops();
	js_close(']');
	js_open("journal", '[');
	if (want(4))
		figure_journal();
	js_close(']');
	if (want(5))
		figure_analyzer();
	else
		js_kv_str("analyzer", NULL);
	if (want(6))
		figure_rss();
	else
		js_kv_str("rss", NULL);
	if (want(7) && opt.peers)
		figure_peers();
	else
		js_kv_str("peers", NULL);
	js_kv_num("settle_s", settle_s);
	js_kv_num("runs_started_busy", unsettled);
	js_kv_arr_int("runs_started_busy_by_figure", unsettled_by_figure + 1, 7);
	js_kv_num("harness_errors", harness_errors);
	if (unsettled) {
		say("\nnote: %d run(s) started before the machine went idle (another load was "
		    "running), in figure", unsettled);
		for (int f = 1; f < 8; f++)
			if (unsettled_by_figure[f])
				say(" %d (%d)", f, unsettled_by_figure[f]);
		say(": their elapsed times are noisier than usual, CPU times less so.\n");
	}
	fputs("}\n", js);
	if (fclose(js)) {
		fprintf(stderr, "bench: %s: %s\n", opt.json, strerror(errno));
		return 1;
	}
	say("\nJSON: %s\n", opt.json);
	if (harness_errors) {
		fprintf(stderr, "bench: %d run(s) failed; see above\n", harness_errors);
		return 1;
	}
	return 0;
}
