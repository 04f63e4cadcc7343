/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Shared helpers of the real-kernel integration tests (tests/integration/
 * test_*.c): each test runs build/tests/integration/host_shim under
 * LD_PRELOAD=libbpfleak.so and checks the journal it leaves with SQL.
 *
 *   - a private temp dir (mkdtemp) for journals and output files, and
 *     bpffs instances mounted inside it; h_cleanup() unmounts and removes
 *     all of it, from the cmocka group teardown, from atexit and from
 *     SIGINT/SIGTERM/SIGHUP, so a failed or interrupted run leaves nothing.
 *     Nothing outside that dir is ever written or removed (/sys/fs/bpf is
 *     never touched);
 *   - h_run()/h_spawn()/h_wait(): fork + execve of the host with the shim
 *     and BPFLEAK_JOURNAL in its environment (and nothing else inherited:
 *     FDs above 2 are closed, stdin is /dev/null), in its own process
 *     group, waitpid with a timeout, SIGKILL of the group on timeout;
 *   - h_kv(): the host's "key value" output lines;
 *   - h_db()/h_qi()/h_qs(): the journal through sqlite3, scalar queries;
 *   - h_require_bpf(): cmocka skip() when bpf() is not permitted (probed by
 *     creating a tiny map here, without the shim: EPERM or ENOSYS).
 *
 * BPFLEAK_IT_SHIM=/path/to/libbpfleak.so runs the suite against another
 * build of the shim (an installed one, or a deliberately broken copy when
 * checking that a test catches what it claims to).
 *
 * Header-only; every function is static and marked unused, so a test file
 * takes what it needs and still builds with -Wall -Wextra -Werror.
 */
#ifndef BPFLEAK_IT_HARNESS_H
#define BPFLEAK_IT_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/close_range.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <bpf/bpf.h>
#include <bpfleak/journal.h>

#ifndef BPFLEAK_BUILD_DIR
#error "tests/build.mk passes -DBPFLEAK_BUILD_DIR"
#endif

#define H_FN static __attribute__((unused))
#define H_PRINTF(a, b) __attribute__((format(printf, a, b)))

#define H_HOST BPFLEAK_BUILD_DIR "/tests/integration/host_shim"
#define H_SHIM_BUILT BPFLEAK_BUILD_DIR "/libbpfleak.so"
/* BPFLEAK_IT_SHIM=/path/libbpfleak.so tests another build (an installed one). */
#define H_SHIM (getenv("BPFLEAK_IT_SHIM") ? getenv("BPFLEAK_IT_SHIM") : H_SHIM_BUILT)
#define H_TIMEOUT_MS 20000

extern char **environ;

/* ---- the temp dir, bpffs mounts, cleanup ---- */

#define H_MAX_MOUNTS 8
static char h_root[PATH_MAX];
static char h_mounts[H_MAX_MOUNTS][PATH_MAX];
static int h_n_mounts;
static int h_seq;   /* unique names for output files */
static pid_t h_live;   /* the host running now (its process group), 0 if none */

static int h_rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* A host left running by a failed or interrupted test: kill its group, reap it. */
static void h_kill_live(void)
{
	if (h_live > 0) {
		kill(-h_live, SIGKILL);
		waitpid(h_live, NULL, 0);
		h_live = 0;
	}
}

/* Idempotent; safe to call from teardown, atexit and a signal handler. */
H_FN void h_cleanup(void)
{
	h_kill_live();
	for (int i = h_n_mounts - 1; i >= 0; i--) {
		if (!h_mounts[i][0])
			continue;
		if (umount2(h_mounts[i], 0) && errno != EINVAL && errno != ENOENT)
			umount2(h_mounts[i], MNT_DETACH);
		h_mounts[i][0] = '\0';
	}
	h_n_mounts = 0;
	if (h_root[0]) {
		/*
		 * FTW_MOUNT: never cross into a file system that is still
		 * mounted below the root (an unmount that failed); FTW_PHYS:
		 * never follow a symlink out of it.
		 */
		nftw(h_root, h_rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
		rmdir(h_root);
		h_root[0] = '\0';
	}
}

static void h_on_signal(int sig)
{
	h_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* cmocka group setup: the temp dir, and cleanup however the run ends. */
H_FN int h_group_setup(void **state)
{
	(void)state;
	static int registered;
	if (!registered) {
		atexit(h_cleanup);
		signal(SIGINT, h_on_signal);
		signal(SIGTERM, h_on_signal);
		signal(SIGHUP, h_on_signal);
		registered = 1;
	}
	snprintf(h_root, sizeof(h_root), "/tmp/bpfleak-it.XXXXXX");
	if (!mkdtemp(h_root)) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		h_root[0] = '\0';
		return -1;
	}
	return 0;
}

H_FN int h_group_teardown(void **state)
{
	(void)state;
	h_cleanup();
	return 0;
}

/* root/NAME into buf. */
H_FN const char *h_path(char *buf, size_t cap, const char *name)
{
	if (!h_root[0])
		fail_msg("no temp dir (group setup failed)");
	if ((size_t)snprintf(buf, cap, "%s/%s", h_root, name) >= cap)
		fail_msg("path too long: %s/%s", h_root, name);
	return buf;
}

/* mount -t TYPE TYPE DIR; -1 (errno set) on failure, else tracked for cleanup. */
H_FN int h_mount_fs(const char *dir, const char *type, unsigned long flags, const char *data)
{
	if (h_n_mounts == H_MAX_MOUNTS)
		fail_msg("too many mounts");
	if (mount(type, dir, type, flags, data))
		return -1;
	snprintf(h_mounts[h_n_mounts++], PATH_MAX, "%s", dir);
	return 0;
}

/* Mount a fresh bpffs at root/NAME; unmounted by h_cleanup at the latest. */
H_FN const char *h_mount_bpffs(char *buf, size_t cap, const char *name)
{
	h_path(buf, cap, name);
	if (mkdir(buf, 0700) && errno != EEXIST)
		fail_msg("mkdir %s: %s", buf, strerror(errno));
	if (h_mount_fs(buf, "bpf", 0, "mode=0700"))
		fail_msg("mount -t bpf bpf %s: %s", buf, strerror(errno));
	return buf;
}

H_FN void h_umount(const char *path)
{
	for (int i = 0; i < h_n_mounts; i++) {
		if (strcmp(h_mounts[i], path))
			continue;
		if (umount2(path, 0))
			umount2(path, MNT_DETACH);
		h_mounts[i][0] = '\0';
	}
}

/* ---- skip when the kernel says no ---- */

/* Creates a one-entry array map here, without the shim. */
H_FN void h_require_bpf(void)
{
	static int probed, err;
	if (!probed) {
		int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4, 1, NULL);
		err = fd < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
		probed = 1;
	}
	if (err == EPERM || err == ENOSYS) {
		print_message("bpf() not permitted here (%s): skipping\n", strerror(err));
		skip();
	}
	if (err)
		fail_msg("probe map create failed: %s", strerror(err));
	if (access(H_SHIM, R_OK) || access(H_HOST, X_OK))
		fail_msg("%s or %s is missing: run make", H_SHIM, H_HOST);
}

/* ---- running the host ---- */

struct h_proc {
	pid_t pid;
	int status;          /* waitpid status */
	char *out, *err;     /* whole stdout / stderr, NUL-terminated */
	char out_path[PATH_MAX], err_path[PATH_MAX];
};

H_FN char *h_slurp(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return strdup("");
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (len + 1 >= cap)
			buf = realloc(buf, cap *= 2);
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

static int h_env_skip(const char *e)
{
	return !strncmp(e, "LD_PRELOAD=", 11) || !strncmp(e, "BPFLEAK_", 8);
}

/*
 * Start the host with argv (argv[0] is set here).  journal NULL: run it
 * without the shim.  extra_env: NULL-terminated "K=V" list, or NULL.
 */
H_FN void h_spawn(struct h_proc *p, const char *journal, const char *const *extra_env,
		  const char *const *args)
{
	h_kill_live();
	memset(p, 0, sizeof(*p));
	char name[64];
	int n = ++h_seq;
	snprintf(name, sizeof(name), "run%d.out", n);
	h_path(p->out_path, sizeof(p->out_path), name);
	snprintf(name, sizeof(name), "run%d.err", n);
	h_path(p->err_path, sizeof(p->err_path), name);

	const char *argv[32];
	size_t argc = 0;
	argv[argc++] = H_HOST;
	for (size_t i = 0; args && args[i] && argc < 31; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;

	size_t nenv = 0;
	while (environ[nenv])
		nenv++;
	const char **envp = calloc(nenv + 40, sizeof(*envp));
	size_t k = 0;
	for (size_t i = 0; i < nenv; i++)
		if (!h_env_skip(environ[i]))
			envp[k++] = environ[i];
	static char preload[PATH_MAX + 16], jenv[PATH_MAX + 32];
	if (journal) {
		snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", H_SHIM);
		snprintf(jenv, sizeof(jenv), "BPFLEAK_JOURNAL=%s", journal);
		envp[k++] = preload;
		envp[k++] = jenv;
	}
	for (size_t i = 0; extra_env && extra_env[i] && k < nenv + 39; i++)
		envp[k++] = extra_env[i];
	envp[k] = NULL;

	int ofd = open(p->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int efd = open(p->err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int nfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (ofd < 0 || efd < 0 || nfd < 0)
		fail_msg("cannot open output files in %s: %s", h_root, strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		setpgid(0, 0);
		/* Fresh dispositions: the harness's handlers must not run in the host. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		if (dup2(nfd, 0) < 0 || dup2(ofd, 1) < 0 || dup2(efd, 2) < 0)
			_exit(126);
		/* The host starts with 0, 1 and 2 only, as from a shell. */
		syscall(SYS_close_range, 3, ~0u, 0);
		execve(H_HOST, (char *const *)argv, (char *const *)envp);
		_exit(127);
	}
	setpgid(pid, pid);   /* also here: no race with the kill below */
	h_live = pid;
	close(ofd);
	close(efd);
	close(nfd);
	free(envp);
	p->pid = pid;
}

/* Kill the host's whole process group (it and any child it forked). */
H_FN void h_kill(struct h_proc *p, int sig)
{
	if (p->pid > 0)
		kill(-p->pid, sig);
}

/* Wait for the host; on timeout SIGKILL its group and fail the test. */
H_FN void h_wait(struct h_proc *p, int timeout_ms)
{
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		/* WNOWAIT: the exited host stays a zombie, so its group id cannot be reused yet. */
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		int r = waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT);
		if (r == 0 && si.si_pid == p->pid)
			break;
		if (r < 0 && errno != EINTR)
			fail_msg("waitid(%d): %s", (int)p->pid, strerror(errno));
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms > timeout_ms) {
			int st = 0;
			h_kill(p, SIGKILL);
			waitpid(p->pid, &st, 0);
			h_live = 0;
			p->status = st;
			p->out = h_slurp(p->out_path);
			p->err = h_slurp(p->err_path);
			fail_msg("host (pid %d) still running after %d ms: killed\nstdout:\n%s\nstderr:\n%s",
				 (int)p->pid, timeout_ms, p->out, p->err);
		}
		struct timespec d = { 0, 2 * 1000 * 1000 };
		nanosleep(&d, NULL);
	}
	/* Anything the host forked and left behind goes too; then reap the host. */
	kill(-p->pid, SIGKILL);
	int st = 0;
	while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
		;
	h_live = 0;
	p->status = st;
	p->out = h_slurp(p->out_path);
	p->err = h_slurp(p->err_path);
}

H_FN void h_proc_free(struct h_proc *p)
{
	free(p->out);
	free(p->err);
	p->out = p->err = NULL;
}

/* Run to completion; args NULL-terminated. */
#define h_run(p, journal, ...)                                                 \
	do {                                                                   \
		const char *const h_args_[] = { __VA_ARGS__, NULL };           \
		h_spawn((p), (journal), NULL, h_args_);                        \
		h_wait((p), H_TIMEOUT_MS);                                     \
	} while (0)

/* The host exited 0, or the test fails with its output. */
H_FN void h_expect_ok(const struct h_proc *p)
{
	if (!WIFEXITED(p->status) || WEXITSTATUS(p->status) != 0)
		fail_msg("host failed (wait status %#x)\nstdout:\n%s\nstderr:\n%s", p->status,
			 p->out ? p->out : "", p->err ? p->err : "");
}

/* ---- the host's "key value" lines ---- */

/* The line that starts with "key ", the rest of it in buf; NULL if none. */
H_FN const char *h_kv_str(const char *out, const char *key, char *buf, size_t cap)
{
	size_t kl = strlen(key);
	for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, key, kl) && l[kl] == ' ') {
			const char *v = l + kl + 1;
			size_t n = strcspn(v, "\n");
			if (n >= cap)
				n = cap - 1;
			memcpy(buf, v, n);
			buf[n] = '\0';
			return buf;
		}
	}
	return NULL;
}

/* The number after "key " (decimal or 0x hex); fails the test if absent. */
H_FN long long h_kv(const char *out, const char *key)
{
	char buf[256];
	if (!h_kv_str(out, key, buf, sizeof(buf)))
		fail_msg("host printed no \"%s\" line; its output:\n%s", key, out);
	return strtoll(buf, NULL, 0);
}

/* ---- the journal ---- */

H_FN sqlite3 *h_db(const char *path)
{
	struct stat st;
	if (stat(path, &st))
		fail_msg("no journal at %s: %s", path, strerror(errno));
	sqlite3 *db = NULL;
	/* Read-write: a WAL journal left by a killed writer may need recovery. */
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		const char *m = db ? sqlite3_errmsg(db) : "out of memory";
		fail_msg("cannot open journal %s: %s", path, m);
	}
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static sqlite3_stmt *h_prepare(sqlite3 *db, const char *fmt, va_list ap)
{
	char *sql = sqlite3_vmprintf(fmt, ap);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", sqlite3_errmsg(db));
		fail_msg("SQL error: %s\n  in: %s", msg, sql);
	}
	sqlite3_free(sql);
	return st;
}

/* A one-integer query (NULL reads as 0); fails the test when no row comes back. */
H_FN long long h_qi(sqlite3 *db, const char *fmt, ...) H_PRINTF(2, 3);
H_FN long long h_qi(sqlite3 *db, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sqlite3_stmt *st = h_prepare(db, fmt, ap);
	va_end(ap);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		char sql[512];
		snprintf(sql, sizeof(sql), "%s", sqlite3_sql(st));
		sqlite3_finalize(st);
		fail_msg("query returned no row (%d): %s", rc, sql);
	}
	long long v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* A one-text query into buf ("" for NULL); returns NULL when no row. */
H_FN const char *h_qs(sqlite3 *db, char *buf, size_t cap, const char *fmt, ...) H_PRINTF(4, 5);
H_FN const char *h_qs(sqlite3 *db, char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sqlite3_stmt *st = h_prepare(db, fmt, ap);
	va_end(ap);
	const char *r = NULL;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		snprintf(buf, cap, "%s", t ? (const char *)t : "");
		r = buf;
	}
	sqlite3_finalize(st);
	return r;
}

/* Every row of a query, columns joined with '|', one line each (for messages). */
H_FN char *h_rows(sqlite3 *db, const char *fmt, ...) H_PRINTF(2, 3);
H_FN char *h_rows(sqlite3 *db, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sqlite3_stmt *st = h_prepare(db, fmt, ap);
	va_end(ap);
	size_t cap = 1024, len = 0;
	char *buf = malloc(cap);
	buf[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int c = 0; c < sqlite3_column_count(st); c++) {
			const unsigned char *t = sqlite3_column_text(st, c);
			const char *s = t ? (const char *)t : "";
			size_t need = len + strlen(s) + 3;
			if (need > cap)
				buf = realloc(buf, cap = need * 2);
			len += (size_t)sprintf(buf + len, "%s%s", c ? "|" : "", s);
		}
		if (len + 2 > cap)
			buf = realloc(buf, cap *= 2);
		buf[len++] = '\n';
		buf[len] = '\0';
	}
	sqlite3_finalize(st);
	return buf;
}

/* The events of one pid, for a failure message (caller frees). */
H_FN char *h_events_of(sqlite3 *db, long long pid)
{
	return h_rows(db,
		      "SELECT seq, op, fd, fd2, cmd, kind, obj_id, obj_name, stack_id, result, flags,"
		      " detail FROM event_v WHERE pid = %lld ORDER BY seq LIMIT 80",
		      pid);
}

/* Check cond; on failure, say why and show the pid's events. */
#define H_CHECK(db, pid, cond, ...)                                                    \
	do {                                                                           \
		if (!(cond)) {                                                         \
			char *ev_ = h_events_of((db), (pid));                          \
			print_message("events of pid %lld (seq|op|fd|fd2|cmd|kind|id|name|" \
				      "stack|result|flags|detail):\n%s",               \
				      (long long)(pid), ev_);                          \
			free(ev_);                                                     \
			fail_msg(__VA_ARGS__);                                         \
		}                                                                      \
	} while (0)

/* The id of the last exit snapshot of pid; fails if there is none. */
H_FN long long h_exit_snapshot(sqlite3 *db, long long pid)
{
	long long id = h_qi(db, "SELECT coalesce(max(id), 0) FROM snapshot WHERE pid = %lld"
				" AND reason = 'exit'", pid);
	if (!id)
		fail_msg("no exit snapshot for pid %lld", pid);
	return id;
}

#endif
