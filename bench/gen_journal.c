// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * A synthetic journal for timing bpfleak-report (`make bench`, figure 5):
 *
 *   gen_journal OUT.db EVENTS OPEN_FDS SITES
 *
 * One process that made EVENTS create/close events through SITES call
 * sites and still held OPEN_FDS of them at its exit, written through the
 * journal writer (common/journal_writer.h) as a recorder would:
 *
 *  - (EVENTS - OPEN_FDS) / 2 create+close pairs (BPF_MAP_GET_FD_BY_ID of
 *    1,000 long-lived "service" maps) and OPEN_FDS creates never closed,
 *    spread evenly over the run, half of them BPF_MAP_CREATE of a new map
 *    each, so the duplicate, outstanding and growth classes fire; FD
 *    numbers follow the kernel's lowest-free rule;
 *  - an exit snapshot of the open FDs (real-looking fdinfo) and 16 pins;
 *  - module rows for this program's own mappings and SITES stacks of 12
 *    IPs inside them (libc, then libsqlite3 standing in for libbpf, then
 *    this program; the outer four frames shared, like main() and an event
 *    loop), so symbolization runs for real against files on this machine.
 *
 * The generator must stay where it is while the journal is read: its
 * module rows point at it.  Exit status 0 done, 2 usage, 3 failure.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpfleak/buildid.h>
#include <bpfleak/journal.h>
#include <bpfleak/objinfo.h>
#include <bpfleak/snapshot.h>
#include "gen_modules.h"
#include "journal_writer.h"

#define STACK_DEPTH 12
#define SERVICE_MAPS 1000
#define PINS 16

static struct jw journal;

/*
 * The synthetic stacks point into this program's own code, so its shape is
 * part of figure 5: the writer is a shared object (bench/build.mk), and the
 * helpers below stay out of line, since a main() with them inlined is a
 * deep tree of inlined scopes that costs the analyzer's symbolizer a third
 * more per frame.
 */
#define OUT_OF_LINE __attribute__((noinline))

static void fail(const char *what)
{
	fprintf(stderr, "gen_journal: %s: %s\n", what, jw_errstr(jw_errcode(&journal)));
	exit(3);
}

static void check(int rc, const char *what)
{
	if (rc)
		fail(what);
}

/* splitmix64: deterministic per site, so every run writes the same file. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t ip_in(const struct gen_mod *m, uint64_t seed)
{
	uint64_t span = m->text_hi - m->text_lo;
	return m->text_lo + 16 + mix(seed) % (span > 32 ? span - 32 : 1);
}


static uint64_t now_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int64_t realtime_base_ns(void)
{
	struct timespec mono, wall;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &wall);
	return ((int64_t)wall.tv_sec - mono.tv_sec) * 1000000000ll + (wall.tv_nsec - mono.tv_nsec);
}

OUT_OF_LINE static void write_modules(int pid, uint64_t ts)
{
	if (gen_modules_write(&journal, pid, ts))
		fail("module");
}

/* SITES call sites; returns their stack ids, indexed by site. */
OUT_OF_LINE static int64_t *write_stacks(long sites, const struct gen_mod *m_exe,
					 const struct gen_mod *m_libc, const struct gen_mod *m_lib)
{
	int64_t *ids = malloc((size_t)sites * sizeof(*ids));
	if (!ids)
		fail("out of memory");
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
		ids[s] = jw_stack(&journal, mix(seed ^ 0xabcdef) | 1, ips, STACK_DEPTH);
		if (ids[s] < 0)
			fail("stack");
	}
	return ids;
}

OUT_OF_LINE static void write_map(uint32_t id, const char *name_fmt, long n, uint32_t value_size,
		      uint32_t max_entries, uint64_t first_seen_ns)
{
	struct bpfleak_obj_info o = {
		.kind = BPFLEAK_KIND_MAP, .id = id, .type = BPF_MAP_TYPE_HASH, .key_size = 4,
		.value_size = value_size, .max_entries = max_entries,
	};
	snprintf(o.name, sizeof(o.name), name_fmt, n);
	check(jw_object(&journal, &o, first_seen_ns), "object");
}

static bool is_service_map(uint32_t id)
{
	return id <= SERVICE_MAPS;
}

/* The exit snapshot: the FDs still open (3, 4, ...) and the pins. */
OUT_OF_LINE static void write_snapshot(int pid, uint64_t ts, const uint32_t *open_ids, long n_open)
{
	struct bpfleak_snap_fd *fds = calloc((size_t)n_open + 1, sizeof(*fds));
	struct bpfleak_snap_pin pins[PINS];
	char paths[PINS][64];
	if (!fds)
		fail("out of memory");
	for (long i = 0; i < n_open; i++) {
		bool svc = is_service_map(open_ids[i]);
		struct bpfleak_snap_fd *f = &fds[i];
		f->fd = 3 + (int)i;
		f->kind = BPFLEAK_KIND_MAP;
		f->obj_id = open_ids[i];
		f->cloexec = 1;
		snprintf(f->target, sizeof(f->target), "anon_inode:bpf-map");
		if (asprintf(&f->fdinfo,
			     "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\nmap_type:\t1\n"
			     "key_size:\t4\nvalue_size:\t%d\nmax_entries:\t%d\nmap_flags:\t0x0\n"
			     "map_extra:\t0x0\nmemlock:\t%d\nmap_id:\t%u\nfrozen:\t0\n",
			     svc ? 64 : 16, svc ? 65536 : 1024, svc ? 5308416 : 86016,
			     open_ids[i]) < 0)
			fail("out of memory");
	}
	for (int i = 0; i < PINS; i++) {
		snprintf(paths[i], sizeof(paths[i]), "/sys/fs/bpf/gw/svc_%d", i + 1);
		pins[i] = (struct bpfleak_snap_pin){ .path = paths[i], .kind = BPFLEAK_KIND_MAP,
						     .obj_id = (uint32_t)i + 1 };
		snprintf(pins[i].name, sizeof(pins[i].name), "svc_%d", i + 1);
	}
	struct bpfleak_snapshot snap = {
		.pid = pid, .fds = fds, .n_fds = (size_t)n_open, .pins = pins, .n_pins = PINS,
		.n_mounts = 1,
	};
	struct jw_snapshot_info info = { .ts_ns = ts, .reason = BPFLEAK_SNAP_EXIT,
					 .pins_walked = true };
	check(jw_snapshot(&journal, &snap, &info), "snapshot");
	for (long i = 0; i < n_open; i++)
		free(fds[i].fdinfo);
	free(fds);
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

	gen_modules_scan();
	const struct gen_mod *m_exe = gen_module_find(NULL), *m_libc = gen_module_find("libc.so");
	const struct gen_mod *m_lib = gen_module_find("libsqlite3");
	if (!m_exe || !m_libc || !m_lib) {
		fprintf(stderr, "gen_journal: cannot find my own, libc's or libsqlite3's mappings\n");
		return 3;
	}

	/* The shim's journals are WAL files; build this one fast, then fold the WAL in. */
	if (gen_journal_create(&journal, out, "gen_journal"))
		return 3;
	check(jw_begin(&journal), "begin");
	check(jw_meta(&journal, "synthetic", "bench/gen_journal"), "meta");

	/* The run ends now and lasted ~2 us per event. */
	uint64_t t_end = now_mono_ns();
	uint64_t t0 = t_end - (uint64_t)events * 2000 - 1000000;
	char boot_id[64];
	bpfleak_boot_id(boot_id, sizeof(boot_id));
	int pid = (int)getpid();
	struct jw_process proc = {
		.pid = pid, .ppid = getppid(), .exe = gen_exe_path(),
		.cmdline = "gateway --serve --workers 4", .boot_id = boot_id, .origin = "start",
		.start_ticks = 12345, .started_ns = t0 - 500000, .realtime_base_ns = realtime_base_ns(),
	};
	int64_t proc_row = jw_process(&journal, &proc);
	if (proc_row < 0)
		fail("process");
	write_modules(pid, t0 - 400000);
	int64_t *stack_ids = write_stacks(sites, m_exe, m_libc, m_lib);
	for (uint32_t i = 1; i <= SERVICE_MAPS; i++)
		write_map(i, "svc_%ld", i, 64, 65536, t0 - 300000);

	/* Events.  The FDs held open are 3..3+leaked-1; the lowest free is next. */
	uint32_t *open_ids = malloc(((size_t)open_fds + 1) * sizeof(*open_ids));
	if (!open_ids)
		fail("out of memory");
	long leaked = 0, done_pairs = 0, steps = open_fds + pairs;
	uint64_t ts = t0;
	for (long k = 0; k < steps; k++) {
		/* Bresenham: leak at the steps where k * open_fds / steps moves on. */
		bool leak = open_fds && (k + 1) * open_fds / steps > k * open_fds / steps;
		int fd = 3 + (int)leaked;
		long idx = leak ? leaked : done_pairs;
		long site = (long)(mix((uint64_t)idx * 2 + leak) % (uint64_t)sites);
		bool create_new = leak && site < sites / 2;
		uint32_t id = create_new ? (uint32_t)(100000 + leaked)
					 : (uint32_t)(1 + mix((uint64_t)idx ^ 0x77) % SERVICE_MAPS);
		ts += 1000 + mix((uint64_t)k) % 1000;
		if (create_new)
			write_map(id, "conn_%ld", leaked, 16, 1024, ts);
		struct jw_event ev = {
			.ts_ns = ts, .pid = pid, .tid = pid, .op = BPFLEAK_OP_CREATE,
			.has_fd = true, .fd = fd,
			.cmd = create_new ? BPF_MAP_CREATE : BPF_MAP_GET_FD_BY_ID,
			.kind = BPFLEAK_KIND_MAP, .obj_id = id, .stack_id = stack_ids[site],
			.result = fd, .flags = BPFLEAK_EF_CLOEXEC,
		};
		check(jw_event(&journal, &ev), "event");
		if (leak) {
			open_ids[leaked++] = id;
			continue;
		}
		ts += 200 + mix((uint64_t)k ^ 1) % 800;
		ev = (struct jw_event){
			.ts_ns = ts, .pid = pid, .tid = pid, .op = BPFLEAK_OP_CLOSE,
			.has_fd = true, .fd = fd, .cmd = -1, .kind = BPFLEAK_KIND_MAP, .obj_id = id,
		};
		check(jw_event(&journal, &ev), "event");
		done_pairs++;
	}

	write_snapshot(pid, t_end, open_ids, leaked);
	check(jw_process_exited(&journal, proc_row, t_end, true, 0), "process exit");
	check(jw_commit(&journal), "commit");
	jw_finish(&journal, 0);
	jw_close(&journal);
	free(open_ids);
	free(stack_ids);
	printf("events=%ld open=%ld sites=%ld pairs=%ld\n", events, leaked, sites, pairs);
	return 0;
}
