// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * make bench's harness: running a child with or without the shim (or a
 * peer tool) once the machine is idle, reading its journal, medians.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>
#include <bpfleak/journal.h>
#include "bench.h"

bool want(int figure)
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

void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

void progress(const char *fmt, ...)
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

void progress_done(void)
{
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\r\033[K");
}

bool executable(const char *path)
{
	return access(path, X_OK) == 0;
}

const char *which(const char *name, char *out, size_t cap)
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

void print_rule(void)
{
	say("  %s\n", "-------------------------------------------------------------------------------------------------");
}

const char *const with_names[] = { "without", "bpfleak", "valgrind", "strace", "before" };
char valgrind_path[4096], strace_path[4096];

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

struct settle_stats settled;
static int current_figure;

void begin_figure(int figure)
{
	current_figure = figure;
}

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

/*
 * Wait until the machine is idle before a timed run.  After a loop of
 * MAP_CREATE or PROG_LOAD the kernel goes on freeing the objects (RCU,
 * workqueues) on both CPUs for seconds, and that work would be charged to
 * whichever run comes next.  Idle = two 50 ms windows in a row with less
 * than 10% of all CPUs busy (/proc/stat); give up after 5 s (0.5 s once
 * the machine has been found busy three times: someone else is using it).
 */
void settle(void)
{
	last_settle_busy = false;
	if (opt.is_short)
		return;
	double t0 = now_s(), limit = settled.busy >= 3 ? 0.5 : 5.0;
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
			settled.seconds += now_s() - t0;
			return;
		}
	}
	settled.seconds += now_s() - t0;
	settled.busy++;
	settled.busy_by_figure[current_figure]++;
	last_settle_busy = true;
}

void run_child(char *const argv[], enum with w, const char *journal, bool capture,
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
		int err = open(paths.errlog, O_WRONLY | O_APPEND | O_CREAT, 0600);
		if (out < 0 || dup2(out, STDOUT_FILENO) < 0 || (err >= 0 && dup2(err, STDERR_FILENO) < 0))
			_exit(126);
		unsetenv("LD_PRELOAD");
		unsetenv("BPFLEAK_JOURNAL");
		unsetenv("BPFLEAK_DEPTH");
		unsetenv("BPFLEAK_CLOSE_STACKS");
		unsetenv("BPFLEAK_QUIET");
		if (w == W_SHIM || w == W_BEFORE) {
			setenv("LD_PRELOAD", w == W_SHIM ? paths.shim : paths.before_shim, 1);
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
	int fd = open(paths.errlog, O_RDONLY | O_CLOEXEC);
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

void describe_failure(const char *what, const struct run *r)
{
	harness_errors++;
	if (WIFSIGNALED(r->status))
		fprintf(stderr, "bench: %s: killed by signal %d\n", what, WTERMSIG(r->status));
	else
		fprintf(stderr, "bench: %s: exit %d, output '%s'\n", what,
			WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1, r->out);
	errlog_tail();
}

/* Journal paths are short: they live in the temp dir. */
void remove_journal(const char *j)
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

long long journal_bytes(const char *j)
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

bool journal_stats(const char *path, struct jstats *s)
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
	char dropped_sql[80];
	snprintf(dropped_sql, sizeof(dropped_sql),
		 "SELECT coalesce(sum(fd2), 0) FROM event WHERE op = %d", BPFLEAK_OP_DROP);
	s->dropped = sql_int(db, dropped_sql);
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

double median(const double *v, int n)
{
	if (n <= 0)
		return NAN;
	double small[MAX_REPS], *s = n <= MAX_REPS ? small : malloc((size_t)n * sizeof(*s));
	if (!s)
		return NAN;
	memcpy(s, v, (size_t)n * sizeof(*v));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	double m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	if (s != small)
		free(s);
	return m;
}

double minimum(const double *v, int n)
{
	double m = INFINITY;
	for (int i = 0; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

double maximum(const double *v, int n)
{
	double m = -INFINITY;
	for (int i = 0; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}
