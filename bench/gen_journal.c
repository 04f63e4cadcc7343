// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * A synthetic journal for timing bpfleak-report (`make bench`, figure 5).
 *
 *   gen_journal OUT.db EVENTS OPEN_FDS SITES
 *
 * Writes, with the DDL of include/bpfleak/journal.h, the journal of one
 * process that made EVENTS create/close events through SITES call sites
 * and still held OPEN_FDS of them at its exit:
 *
 *  - (EVENTS - OPEN_FDS) / 2 create+close pairs (BPF_MAP_GET_FD_BY_ID of
 *    1,000 long-lived "service" maps, closed right away) and OPEN_FDS
 *    creates never closed, spread evenly over the run: half of them
 *    BPF_MAP_CREATE of a new map each, half BPF_MAP_GET_FD_BY_ID of a
 *    service map (so the duplicate, outstanding and growth classes fire);
 *    FD numbers follow the kernel's lowest-free rule;
 *  - an exit snapshot with a snapshot_fd row (real-looking fdinfo) for each
 *    open FD, and 16 pins of service maps;
 *  - module rows for this program's own mappings (path, load bias, size,
 *    build-id from dl_iterate_phdr; file size and mtime from stat), and SITES stacks of 12 IPs inside
 *    their executable segments: libc innermost, then libsqlite3 (standing
 *    in for libbpf), then this program; the outer four frames are shared by
 *    every site, like main() and an event loop.  Symbolization therefore
 *    runs for real against files on this machine.
 *
 * The generator must stay where it is while the journal is read: its
 * module rows point at it.  Exit status 0 done, 2 usage, 3 failure.
 */
#include <elf.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>
#include <bpfleak/buildid.h>
#include <bpfleak/journal.h>

#define STACK_DEPTH 12
#define SERVICE_MAPS 1000
#define PINS 16
#define MAX_MODS 64
#define CMD_MAP_CREATE 0
#define CMD_MAP_GET_FD_BY_ID 14
#define MAP_TYPE_HASH 1

struct mod {
	char path[4096];
	char build_id[130];
	uint64_t base, size;
	uint64_t text_lo, text_hi;   /* absolute addresses of the executable PT_LOAD */
};

static struct mod mods[MAX_MODS];
static int n_mods;
static char exe_path[4096];

static void fail(sqlite3 *db, const char *what)
{
	fprintf(stderr, "gen_journal: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
	exit(3);
}

static int on_module(struct dl_phdr_info *info, size_t size, void *ctx)
{
	(void)size;
	(void)ctx;
	const char *path = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : exe_path;
	if (!path[0] || !strncmp(path, "linux-vdso", 10) || n_mods == MAX_MODS)
		return 0;
	struct mod *m = &mods[n_mods];
	memset(m, 0, sizeof(*m));
	uint64_t hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_vaddr + ph->p_memsz > hi)
			hi = ph->p_vaddr + ph->p_memsz;
		if ((ph->p_flags & PF_X) && !m->text_lo) {
			m->text_lo = info->dlpi_addr + ph->p_vaddr;
			m->text_hi = m->text_lo + ph->p_memsz;
		}
	}
	if (!hi || !m->text_lo)
		return 0;
	snprintf(m->path, sizeof(m->path), "%s", path);
	m->base = info->dlpi_addr;
	m->size = hi;
	bpfleak_build_id_hex(info, m->build_id, sizeof(m->build_id));
	n_mods++;
	return 0;
}

static const struct mod *find_mod(const char *needle)
{
	for (int i = 0; i < n_mods; i++)
		if (needle ? strstr(mods[i].path, needle) != NULL : !strcmp(mods[i].path, exe_path))
			return &mods[i];
	return NULL;
}

/* splitmix64: deterministic per site, so every run writes the same file. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t ip_in(const struct mod *m, uint64_t seed)
{
	uint64_t span = m->text_hi - m->text_lo;
	return m->text_lo + 16 + mix(seed) % (span > 32 ? span - 32 : 1);
}

static void exec_sql(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "gen_journal: %s: %s\n", sql, err ? err : "?");
		exit(3);
	}
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail(db, sql);
	return st;
}

static void step(sqlite3 *db, sqlite3_stmt *st)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		fail(db, sqlite3_sql(st));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static void meta(sqlite3 *db, sqlite3_stmt *st, const char *k, const char *v)
{
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v, -1, SQLITE_TRANSIENT);
	step(db, st);
}

static void read_line(const char *path, char *out, size_t cap)
{
	out[0] = '\0';
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(out, (int)cap, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: gen_journal OUT.db EVENTS OPEN_FDS SITES\n");
		return 2;
	}
	const char *out = argv[1];
	long events = strtol(argv[2], NULL, 10), open_fds = strtol(argv[3], NULL, 10);
	long sites = strtol(argv[4], NULL, 10);
	if (events < 2 || open_fds < 0 || open_fds > events || sites < 2 || sites > 1000000 ||
	    (events - open_fds) % 2) {
		fprintf(stderr, "gen_journal: need EVENTS >= OPEN_FDS, EVENTS - OPEN_FDS even, "
			"SITES >= 2\n");
		return 2;
	}
	long pairs = (events - open_fds) / 2;

	ssize_t n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);
	exe_path[n > 0 ? n : 0] = '\0';
	dl_iterate_phdr(on_module, NULL);
	const struct mod *m_exe = find_mod(NULL), *m_libc = find_mod("libc.so");
	const struct mod *m_lib = find_mod("libsqlite3");
	if (!m_exe || !m_libc || !m_lib) {
		fprintf(stderr, "gen_journal: cannot find my own, libc's or libsqlite3's mappings\n");
		return 3;
	}

	unlink(out);
	char side[4200];
	snprintf(side, sizeof(side), "%s-wal", out);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", out);
	unlink(side);
	sqlite3 *db;
	if (sqlite3_open(out, &db) != SQLITE_OK)
		fail(db, out);
	/* The shim's journals are WAL files; build this one fast, then fold the WAL in. */
	exec_sql(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;");
	exec_sql(db, "BEGIN");
	exec_sql(db, BPFLEAK_SCHEMA_SQL);
	char pragmas[128];
	snprintf(pragmas, sizeof(pragmas), "PRAGMA application_id=%d; PRAGMA user_version=%d;",
		 BPFLEAK_APPLICATION_ID, BPFLEAK_SCHEMA_VERSION);
	exec_sql(db, pragmas);

	struct timespec mono, wall;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &wall);
	int64_t rt_base = ((int64_t)wall.tv_sec - mono.tv_sec) * 1000000000ll +
			  (wall.tv_nsec - mono.tv_nsec);
	/* The run ends now and lasted ~2 us per event. */
	int64_t t_end = (int64_t)mono.tv_sec * 1000000000ll + mono.tv_nsec;
	int64_t t0 = t_end - events * 2000ll - 1000000;
	char buf[512], boot_id[64];
	read_line("/proc/sys/kernel/random/boot_id", boot_id, sizeof(boot_id));
	struct utsname u;
	uname(&u);

	sqlite3_stmt *st = prep(db, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)");
	snprintf(buf, sizeof(buf), "%d", BPFLEAK_SCHEMA_VERSION);
	meta(db, st, "schema_version", buf);
	meta(db, st, "boot_id", boot_id);
	meta(db, st, "hostname", u.nodename);
	meta(db, st, "kernel", u.release);
	meta(db, st, "machine", u.machine);
	meta(db, st, "shim_version", "bench-synthetic");
	meta(db, st, "sqlite_version", sqlite3_libversion());
	snprintf(buf, sizeof(buf), "%lld", (long long)rt_base);
	meta(db, st, "realtime_base_ns", buf);
	meta(db, st, "clock", "CLOCK_MONOTONIC ns; wall = ts_ns + realtime_base_ns");
	sqlite3_finalize(st);

	int pid = (int)getpid();
	st = prep(db, "INSERT INTO process(pid, ppid, exe, cmdline, boot_id, start_ticks, origin,"
		  " started_ns, realtime_base_ns, exited_ns, exit_status)"
		  " VALUES (?,?,?,?,?,?,'start',?,?,?,0)");
	sqlite3_bind_int(st, 1, pid);
	sqlite3_bind_int(st, 2, (int)getppid());
	sqlite3_bind_text(st, 3, exe_path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, "gateway --serve --workers 4", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, boot_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, 12345);
	sqlite3_bind_int64(st, 7, t0 - 500000);
	sqlite3_bind_int64(st, 8, rt_base);
	sqlite3_bind_int64(st, 9, t_end);
	step(db, st);
	sqlite3_finalize(st);

	st = prep(db, "INSERT INTO module(pid, ts_ns, path, build_id, base, size, file_size, mtime_ns)"
		  " VALUES (?,?,?,?,?,?,?,?)");
	for (int i = 0; i < n_mods; i++) {
		struct stat sb;
		if (stat(mods[i].path, &sb) == 0) {
			sqlite3_bind_int64(st, 7, (int64_t)sb.st_size);
			sqlite3_bind_int64(st, 8, (int64_t)sb.st_mtim.tv_sec * 1000000000ll +
						      sb.st_mtim.tv_nsec);
		}
		sqlite3_bind_int(st, 1, pid);
		sqlite3_bind_int64(st, 2, t0 - 400000);
		sqlite3_bind_text(st, 3, mods[i].path, -1, SQLITE_STATIC);
		if (mods[i].build_id[0])
			sqlite3_bind_text(st, 4, mods[i].build_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, (int64_t)mods[i].base);
		sqlite3_bind_int64(st, 6, (int64_t)mods[i].size);
		step(db, st);
	}
	sqlite3_finalize(st);

	/* Stacks: ids 1..sites. */
	st = prep(db, "INSERT INTO stack(id, hash, depth, ips) VALUES (?,?,?,?)");
	uint64_t shared[4];
	for (int k = 0; k < 4; k++)
		shared[k] = ip_in(m_exe, 0x5eedull + (uint64_t)k);
	for (long s = 0; s < sites; s++) {
		uint64_t ips[STACK_DEPTH], seed = (uint64_t)s * 64;
		ips[0] = ip_in(m_libc, seed % 7);             /* syscall(): a handful of spots */
		for (int k = 1; k < 4; k++)                    /* library layer */
			ips[k] = ip_in(m_lib, seed + (uint64_t)k);
		for (int k = 4; k < 8; k++)                    /* the program's own call site */
			ips[k] = ip_in(m_exe, seed + (uint64_t)k);
		for (int k = 8; k < STACK_DEPTH; k++)          /* main, event loop: shared */
			ips[k] = shared[k - 8];
		sqlite3_bind_int64(st, 1, s + 1);
		sqlite3_bind_int64(st, 2, (int64_t)(mix(seed ^ 0xabcdef) | 1));
		sqlite3_bind_int(st, 3, STACK_DEPTH);
		sqlite3_bind_blob(st, 4, ips, sizeof(ips), SQLITE_TRANSIENT);
		step(db, st);
	}
	sqlite3_finalize(st);

	sqlite3_stmt *obj = prep(db, "INSERT INTO object(kind, id, type, name, key_size, value_size,"
				 " max_entries, flags, first_seen_ns) VALUES (1,?,?,?,4,?,?,0,?)");
	for (int i = 1; i <= SERVICE_MAPS; i++) {
		snprintf(buf, sizeof(buf), "svc_%d", i);
		sqlite3_bind_int64(obj, 1, i);
		sqlite3_bind_int(obj, 2, MAP_TYPE_HASH);
		sqlite3_bind_text(obj, 3, buf, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(obj, 4, 64);
		sqlite3_bind_int(obj, 5, 65536);
		sqlite3_bind_int64(obj, 6, t0 - 300000);
		step(db, obj);
	}

	/* Events.  The FDs held open are 3..3+leaked-1; the lowest free is next. */
	sqlite3_stmt *ev = prep(db, "INSERT INTO event(ts_ns, pid, tid, op, fd, cmd, obj_kind, obj_id,"
				" stack_id, result, flags) VALUES (?,?,?,?,?,?,1,?,?,?,?)");
	uint32_t *open_ids = malloc(((size_t)open_fds + 1) * sizeof(*open_ids));
	if (!open_ids)
		fail(NULL, "out of memory");
	long leaked = 0, done_pairs = 0, steps = open_fds + pairs;
	int64_t ts = t0;
	for (long k = 0; k < steps; k++) {
		/* Bresenham: leak at the steps where k * open_fds / steps moves on. */
		bool leak = open_fds && (k + 1) * open_fds / steps > k * open_fds / steps;
		int fd = 3 + (int)leaked;
		long idx = leak ? leaked : done_pairs;
		long site = (long)(mix((uint64_t)idx * 2 + leak) % (uint64_t)sites);
		bool create_new = leak && site < sites / 2;
		uint32_t id = create_new ? (uint32_t)(100000 + leaked)
					 : (uint32_t)(1 + mix((uint64_t)idx ^ 0x77) % SERVICE_MAPS);
		ts += 1000 + (int64_t)(mix((uint64_t)k) % 1000);
		if (create_new) {
			snprintf(buf, sizeof(buf), "conn_%ld", leaked);
			sqlite3_bind_int64(obj, 1, id);
			sqlite3_bind_int(obj, 2, MAP_TYPE_HASH);
			sqlite3_bind_text(obj, 3, buf, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int(obj, 4, 16);
			sqlite3_bind_int(obj, 5, 1024);
			sqlite3_bind_int64(obj, 6, ts);
			step(db, obj);
		}
		sqlite3_bind_int64(ev, 1, ts);
		sqlite3_bind_int(ev, 2, pid);
		sqlite3_bind_int(ev, 3, pid);
		sqlite3_bind_int(ev, 4, BPFLEAK_OP_CREATE);
		sqlite3_bind_int(ev, 5, fd);
		sqlite3_bind_int(ev, 6, create_new ? CMD_MAP_CREATE : CMD_MAP_GET_FD_BY_ID);
		sqlite3_bind_int64(ev, 7, id);
		sqlite3_bind_int64(ev, 8, site + 1);
		sqlite3_bind_int(ev, 9, fd);
		sqlite3_bind_int(ev, 10, BPFLEAK_EF_CLOEXEC);
		step(db, ev);
		if (leak) {
			open_ids[leaked++] = id;
			continue;
		}
		ts += 200 + (int64_t)(mix((uint64_t)k ^ 1) % 800);
		sqlite3_bind_int64(ev, 1, ts);
		sqlite3_bind_int(ev, 2, pid);
		sqlite3_bind_int(ev, 3, pid);
		sqlite3_bind_int(ev, 4, BPFLEAK_OP_CLOSE);
		sqlite3_bind_int(ev, 5, fd);
		sqlite3_bind_int64(ev, 7, id);
		sqlite3_bind_int(ev, 9, 0);
		step(db, ev);
		done_pairs++;
	}
	sqlite3_finalize(ev);
	sqlite3_finalize(obj);

	/* The exit snapshot. */
	st = prep(db, "INSERT INTO snapshot(id, pid, ts_ns, reason) VALUES (1, ?, ?, 'exit')");
	sqlite3_bind_int(st, 1, pid);
	sqlite3_bind_int64(st, 2, t_end);
	step(db, st);
	sqlite3_finalize(st);
	st = prep(db, "INSERT INTO snapshot_fd(snapshot_id, fd, kind, obj_id, target, cloexec, fdinfo)"
		  " VALUES (1, ?, 1, ?, 'anon_inode:bpf-map', 1, ?)");
	for (long i = 0; i < leaked; i++) {
		bool svc = open_ids[i] <= SERVICE_MAPS;
		snprintf(buf, sizeof(buf),
			 "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\nmap_type:\t1\n"
			 "key_size:\t4\nvalue_size:\t%d\nmax_entries:\t%d\nmap_flags:\t0x0\n"
			 "map_extra:\t0x0\nmemlock:\t%d\nmap_id:\t%u\nfrozen:\t0\n",
			 svc ? 64 : 16, svc ? 65536 : 1024, svc ? 5308416 : 86016, open_ids[i]);
		sqlite3_bind_int(st, 1, 3 + (int)i);
		sqlite3_bind_int64(st, 2, open_ids[i]);
		sqlite3_bind_text(st, 3, buf, -1, SQLITE_TRANSIENT);
		step(db, st);
	}
	sqlite3_finalize(st);
	st = prep(db, "INSERT INTO snapshot_pin(snapshot_id, path, kind, obj_id, name)"
		  " VALUES (1, ?, 1, ?, ?)");
	for (int i = 1; i <= PINS; i++) {
		char path[64], name[16];
		snprintf(path, sizeof(path), "/sys/fs/bpf/gw/svc_%d", i);
		snprintf(name, sizeof(name), "svc_%d", i);
		sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 2, i);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
		step(db, st);
	}
	sqlite3_finalize(st);
	exec_sql(db, "COMMIT");
	exec_sql(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	if (sqlite3_close(db) != SQLITE_OK)
		fail(db, "close");
	free(open_ids);
	printf("events=%ld open=%ld sites=%ld pairs=%ld\n", events, leaked, sites, pairs);
	return 0;
}
