// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The journals of the golden report tests (tests/golden/golden.sh), written
 * through the one journal writer (common/journal_writer.c).
 *
 *   mkgolden NAME PATH     write journal NAME to PATH
 *   mkgolden --list        the names, one per line
 *
 * Everything in them is fixed (times, boot id, pids, addresses), and every
 * module path is one that does not exist, so the report's words depend on
 * nothing but the journal: frames come from the journal's own frame table,
 * as after --symbolize on the recording host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpfleak/journal.h>
#include <bpfleak/snapshot.h>
#include "journal_writer.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define BOOT_ID "6f1c2a3b-0000-4000-8000-00000000b0f1"

static struct jw J;
static uint64_t stack_hash = 1;

static void die(const char *what)
{
	fprintf(stderr, "mkgolden: %s: %s\n", what, jw_errstr(jw_errcode(&J)));
	exit(1);
}

static void check(int rc, const char *what)
{
	if (rc != 0)
		die(what);
}

static void open_journal(const char *path)
{
	char err[256];
	unlink(path);
	if (jw_open(&J, path, JW_CREATE, err, sizeof(err)) != 0) {
		fprintf(stderr, "mkgolden: %s\n", err);
		exit(1);
	}
	/* jw_open records this machine's boot; the goldens name a fixed one. */
	check(jw_exec(&J, "UPDATE meta SET value = '" BOOT_ID "' WHERE key = 'boot_id'"), "boot id");
	check(jw_begin(&J), "begin");
}

static void close_journal(void)
{
	check(jw_commit(&J), "commit");
	jw_close(&J);
}

/* A process image; realtime_base 0 leaves times as "t+..." in the report. */
static int64_t process(int pid, int ppid, const char *exe, const char *cmdline,
		       const char *origin, const char *recorder, uint64_t started,
		       int64_t realtime_base)
{
	struct jw_process p = {
		.pid = pid, .ppid = ppid, .exe = exe, .cmdline = cmdline, .boot_id = BOOT_ID,
		.origin = origin, .recorder = recorder, .start_ticks = 1000 + (uint64_t)pid,
		.started_ns = started, .realtime_base_ns = realtime_base,
	};
	int64_t row = jw_process(&J, &p);
	if (row < 0)
		die("process");
	return row;
}

static void exited(int64_t row, uint64_t ts)
{
	check(jw_process_exited(&J, row, ts, true, 0), "exited");
}

static void module(int pid, uint64_t ts, const char *path, const char *build_id, uint64_t base,
		   uint64_t size)
{
	struct jw_module m = { .pid = pid, .ts_ns = ts, .path = path, .build_id = build_id,
			       .base = base, .size = size, .file_size = -1, .mtime_ns = -1 };
	if (jw_module(&J, &m) < 0)
		die("module");
}

static void frame(const char *key, uint64_t offset, int depth, const char *fn, const char *file,
		  int line)
{
	check(jw_frame(&J, key, offset, depth, fn, file, line), "frame");
}

static int64_t stack(const uint64_t *ips, uint32_t depth)
{
	int64_t id = jw_stack(&J, stack_hash++, ips, depth);
	if (id < 0)
		die("stack");
	return id;
}

static void object(int kind, uint32_t id, uint32_t type, const char *name, uint32_t prog_id,
		   uint64_t seen)
{
	struct bpfleak_obj_info o = { .kind = kind, .id = id, .type = type, .prog_id = prog_id };
	if (kind == BPFLEAK_KIND_MAP) {
		o.key_size = 4;
		o.value_size = 8;
		o.max_entries = 1024;
	}
	if (kind == BPFLEAK_KIND_PROG)
		snprintf(o.tag, sizeof(o.tag), "%016x", id * 0x1001u);
	snprintf(o.name, sizeof(o.name), "%s", name);
	check(jw_object(&J, &o, seen), "object");
}

static void event(uint64_t ts, int pid, int op, int fd, int fd2, int cmd, int kind, uint32_t id,
		  int64_t stack_id, int result, int flags, const char *detail)
{
	struct jw_event e = {
		.ts_ns = ts, .pid = pid, .tid = pid, .op = op, .has_fd = fd >= 0, .fd = fd,
		.has_fd2 = fd2 != 0, .fd2 = fd2, .cmd = cmd, .kind = kind, .obj_id = id,
		.stack_id = stack_id, .result = result, .flags = flags, .detail = detail,
	};
	check(jw_event(&J, &e), "event");
}

static void create(uint64_t ts, int pid, int fd, int cmd, int kind, uint32_t id, int64_t st)
{
	event(ts, pid, BPFLEAK_OP_CREATE, fd, 0, cmd, kind, id, st, fd, BPFLEAK_EF_CLOEXEC, NULL);
}

static void close_fd(uint64_t ts, int pid, int fd, int kind, uint32_t id, int result, int64_t st)
{
	event(ts, pid, BPFLEAK_OP_CLOSE, fd, 0, -1, kind, id, st, result, 0, NULL);
}

static void drop(uint64_t start, uint64_t end, int pid, int lost, const char *why)
{
	struct jw_event e = { .ts_ns = start, .pid = pid, .tid = pid, .op = BPFLEAK_OP_DROP,
			      .has_fd2 = true, .fd2 = lost, .cmd = -1, .detail = why,
			      .end_ns = end };
	check(jw_event(&J, &e), "drop");
}

static void note(uint64_t ts, int pid, const char *name, int tid)
{
	event(ts, pid, BPFLEAK_OP_NOTE, -1, tid, -1, 0, 0, 0, 0, 0, name);
}

/* A snapshot under construction: its FDs and pins, then written at once. */
struct snap {
	struct bpfleak_snapshot s;
	struct bpfleak_snap_fd fds[16];
	struct bpfleak_snap_pin pins[8];
	char info[16][256];
};

static void snap_fd(struct snap *sn, int fd, int kind, uint32_t id, int cloexec)
{
	static const char *const id_key[] = { "x_id", "map_id", "prog_id", "link_id", "btf_id" };
	static const char *const target[] = { "anon_inode:bpf", "anon_inode:bpf-map",
					      "anon_inode:bpf-prog", "anon_inode:bpf_link",
					      "anon_inode:btf" };
	size_t i = sn->s.n_fds++;
	struct bpfleak_snap_fd *f = &sn->fds[i];
	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->kind = kind;
	f->obj_id = id;
	f->cloexec = cloexec;
	snprintf(f->target, sizeof(f->target), "%s", target[kind <= 4 ? kind : 0]);
	snprintf(sn->info[i], sizeof(sn->info[i]), "pos:\t0\nflags:\t0%o\nmnt_id:\t15\n%s%s:\t%u\n",
		 cloexec ? 02000002 : 02,
		 kind == BPFLEAK_KIND_MAP ? "map_type:\t1\nkey_size:\t4\nvalue_size:\t8\n"
					    "max_entries:\t1024\nmap_flags:\t0x0\n" : "",
		 id_key[kind <= 4 ? kind : 0], id);
	f->fdinfo = sn->info[i];
}

static void snap_pin(struct snap *sn, const char *path, int kind, uint32_t id, const char *name)
{
	struct bpfleak_snap_pin *p = &sn->pins[sn->s.n_pins++];
	memset(p, 0, sizeof(*p));
	p->path = (char *)path;
	p->kind = kind;
	p->obj_id = id;
	snprintf(p->name, sizeof(p->name), "%s", name);
}

static void snap_begin(struct snap *sn, int pid)
{
	memset(sn, 0, sizeof(*sn));
	sn->s.pid = pid;
	sn->s.fds = sn->fds;
	sn->s.pins = sn->pins;
	sn->s.n_mounts = 1;
}

static void snap_write(struct snap *sn, uint64_t ts)
{
	struct jw_snapshot_info info = { .ts_ns = ts, .end_ns = ts + MS / 2,
					 .reason = BPFLEAK_SNAP_EXIT, .pins_walked = true };
	check(jw_snapshot(&J, &sn->s, &info), "snapshot");
}

/* ---- the address space every case shares --------------------------------- */

#define GW_BASE 0x555555554000ull
#define LIBBPF_BASE 0x7f3a10200000ull
#define LIBC_BASE 0x7f3a10600000ull
#define SHIM_BASE 0x7f3a10a00000ull
#define GW_ID "9a0c3d5e7f1b2c4d6e8f0a1b3c5d7e9f01234567"
#define LIBBPF_ID "5b1e2f3a4c5d6e7f8091a2b3c4d5e6f708192a3b"

static void modules(int pid, uint64_t ts, const char *exe)
{
	module(pid, ts, exe, GW_ID, GW_BASE, 0x40000);
	module(pid, ts, "/opt/golden/lib/libbpf.so.1", LIBBPF_ID, LIBBPF_BASE, 0x80000);
	module(pid, ts, "/opt/golden/lib/libc.so.6", NULL, LIBC_BASE, 0x1c0000);
	module(pid, ts, "/opt/golden/lib/libbpfleak.so", NULL, SHIM_BASE, 0x40000);
}

/* What --symbolize stored on the recording host. */
static void frames(void)
{
	frame(GW_ID, 0x1a40, 0, "main", "/src/gateway/gateway.c", 142);
	frame(GW_ID, 0x2210, 0, "acl_reload", "/src/gateway/gateway.c", 71);
	frame(GW_ID, 0x2480, 0, "delay_lookup", "/src/gateway/gateway.c", 107);
	frame(GW_ID, 0x2480, 1, "handle_request", "/src/gateway/gateway.c", 131);
	frame(GW_ID, 0x2b00, 0, "datapath_setup", "/src/gateway/datapath.c", 58);
	frame(GW_ID, 0x2c20, 0, "probe_prog", "/src/gateway/probe.c", 40);
	frame(GW_ID, 0x2d10, 0, "worker_spawn", "/src/gateway/gateway.c", 160);
	frame(LIBBPF_ID, 0x9100, 0, "bpf_map_create", "/src/libbpf/bpf.c", 207);
	frame(LIBBPF_ID, 0x9880, 0, "bpf_obj_get", "/src/libbpf/bpf.c", 651);
	frame(LIBBPF_ID, 0x9a00, 0, "bpf_map_get_fd_by_id", "/src/libbpf/bpf.c", 1012);
	frame(LIBBPF_ID, 0x9c40, 0, "bpf_prog_load", "/src/libbpf/bpf.c", 318);
	frame(LIBBPF_ID, 0x9e00, 0, "bpf_link_create", "/src/libbpf/bpf.c", 742);
}

/*
 * shim, libc's syscall(), a libbpf entry, then the gateway's own frames out
 * to main; an offset is that of the return address, as the frame table
 * keys them.
 */
static int64_t site(uint64_t libbpf_off, uint64_t fn_off, uint64_t caller_off)
{
	uint64_t ips[6] = { SHIM_BASE + 0x3120, LIBC_BASE + 0x11c5d, LIBBPF_BASE + libbpf_off,
			    GW_BASE + fn_off };
	uint32_t n = 4;
	if (caller_off)
		ips[n++] = GW_BASE + caller_off;
	ips[n++] = GW_BASE + 0x1a40;
	return stack(ips, n);
}

/* ---- the cases ------------------------------------------------------------ */

/*
 * The sample gateway's two leaks: a reload that opens the pinned ACL map
 * again every time (duplicate + growth), and a per-request lookup of the
 * delay map by id that is never closed; everything else is balanced.
 */
static void two_site_leak(void)
{
	const char *exe = "/opt/golden/bin/gateway";
	int pid = 4242;
	uint64_t t = 1 * SEC;
	int64_t row = process(pid, 1, exe, "gateway --iface eth0 --reload 1s", "start", "preload",
			      t, 0);
	modules(pid, t, exe);
	frames();
	int64_t s_acl = site(0x9100, 0x2b00, 0), s_prog = site(0x9c40, 0x2c20, 0x2b00);
	int64_t s_link = site(0x9e00, 0x2b00, 0), s_reload = site(0x9880, 0x2210, 0);
	int64_t s_delay = site(0x9a00, 0x2480, 0), s_tmp = site(0x9100, 0x2c20, 0);
	object(BPFLEAK_KIND_MAP, 11, BPF_MAP_TYPE_HASH, "acl", 0, t);
	object(BPFLEAK_KIND_MAP, 12, BPF_MAP_TYPE_ARRAY, "delay", 0, t);
	object(BPFLEAK_KIND_PROG, 21, BPF_PROG_TYPE_XDP, "xdp_gateway", 0, t);
	object(BPFLEAK_KIND_LINK, 31, BPF_LINK_TYPE_XDP, "", 21, t);
	create(t += MS, pid, 3, BPF_MAP_CREATE, BPFLEAK_KIND_MAP, 11, s_acl);
	create(t += MS, pid, 4, BPF_MAP_CREATE, BPFLEAK_KIND_MAP, 12, s_acl);
	create(t += MS, pid, 5, BPF_PROG_LOAD, BPFLEAK_KIND_PROG, 21, s_prog);
	event(t += MS, pid, BPFLEAK_OP_PIN, 3, 0, BPF_OBJ_PIN, BPFLEAK_KIND_MAP, 11, s_acl, 0, 0,
	      "/sys/fs/bpf/gateway/acl");
	create(t += MS, pid, 6, BPF_LINK_CREATE, BPFLEAK_KIND_LINK, 31, s_link);
	int fd = 7;
	for (int reload = 0; reload < 6; reload++) {
		t += 2 * SEC;
		create(t, pid, fd++, BPF_OBJ_GET, BPFLEAK_KIND_MAP, 11, s_reload);
		for (int req = 0; req < 3; req++) {
			t += 100 * MS;
			if (req == 1)
				create(t, pid, fd++, BPF_MAP_GET_FD_BY_ID, BPFLEAK_KIND_MAP, 12, s_delay);
			object(BPFLEAK_KIND_MAP, 100 + (uint32_t)(reload * 3 + req), BPF_MAP_TYPE_ARRAY,
			       "probe_tmp", 0, t);
			create(t + MS, pid, 30, BPF_MAP_CREATE, BPFLEAK_KIND_MAP,
			       100 + (uint32_t)(reload * 3 + req), s_tmp);
			close_fd(t + 2 * MS, pid, 30, BPFLEAK_KIND_MAP, 100 + (uint32_t)(reload * 3 + req),
				 0, 0);
		}
	}
	t += SEC;
	struct snap sn;
	snap_begin(&sn, pid);
	snap_fd(&sn, 3, BPFLEAK_KIND_MAP, 11, 1);
	snap_fd(&sn, 4, BPFLEAK_KIND_MAP, 12, 1);
	snap_fd(&sn, 5, BPFLEAK_KIND_PROG, 21, 1);
	snap_fd(&sn, 6, BPFLEAK_KIND_LINK, 31, 1);
	for (int k = 7; k < fd; k++)
		snap_fd(&sn, k, BPFLEAK_KIND_MAP, (k - 7) % 2 ? 12 : 11, 1);
	snap_pin(&sn, "/sys/fs/bpf/gateway/acl", BPFLEAK_KIND_MAP, 11, "acl");
	snap_write(&sn, t);
	exited(row, t + MS);
}

/*
 * A tree: the parent forks a worker, which dups what it inherited and
 * execs a helper that lists the FDs it kept; a second child execs an
 * image that records nothing while holding an FD without O_CLOEXEC.
 */
static void fork_exec(void)
{
	const char *exe = "/opt/golden/bin/gateway";
	uint64_t t = 5 * SEC;
	int64_t parent = process(500, 1, exe, "gateway --workers 2", "start", "preload", t, 0);
	modules(500, t, exe);
	frames();
	int64_t s_map = site(0x9100, 0x2b00, 0), s_prog = site(0x9c40, 0x2c20, 0x2b00);
	int64_t s_dup = site(0x9880, 0x2d10, 0);
	object(BPFLEAK_KIND_MAP, 41, BPF_MAP_TYPE_HASH, "sessions", 0, t);
	object(BPFLEAK_KIND_PROG, 42, BPF_PROG_TYPE_XDP, "xdp_worker", 0, t);
	create(t += MS, 500, 3, BPF_MAP_CREATE, BPFLEAK_KIND_MAP, 41, s_map);
	event(t += MS, 500, BPFLEAK_OP_CREATE, 4, 0, BPF_PROG_LOAD, BPFLEAK_KIND_PROG, 42, s_prog, 4,
	      0, NULL);   /* no O_CLOEXEC */

	/* worker 501: fork, dup, exec of a traced helper */
	t += 10 * MS;
	event(t, 501, BPFLEAK_OP_FORK, -1, 500, -1, 0, 0, 0, 0, 0, NULL);
	process(501, 500, exe, "gateway --workers 2", "fork", "preload", t, 0);
	event(t += MS, 501, BPFLEAK_OP_INHERITED, 3, 0, -1, BPFLEAK_KIND_MAP, 41, 0, 0,
	      BPFLEAK_EF_CLOEXEC, "fork");
	event(t += MS, 501, BPFLEAK_OP_INHERITED, 4, 0, -1, BPFLEAK_KIND_PROG, 42, 0, 0, 0, "fork");
	event(t += MS, 501, BPFLEAK_OP_DUP, 7, 4, -1, BPFLEAK_KIND_PROG, 42, s_dup, 7, 0, NULL);
	close_fd(t += MS, 501, 3, BPFLEAK_KIND_MAP, 41, 0, 0);
	event(t += MS, 501, BPFLEAK_OP_EXEC, -1, 0, -1, 0, 0, 0, 0, BPFLEAK_EF_BEFORE_EXEC,
	      "/opt/golden/bin/helper");
	int64_t helper = process(501, 500, "/opt/golden/bin/helper", "helper --once", "exec",
				 "preload", t += 2 * MS, 0);
	event(t += MS, 501, BPFLEAK_OP_INHERITED, 4, 0, -1, BPFLEAK_KIND_PROG, 42, 0, 0, 0, "exec");
	event(t += MS, 501, BPFLEAK_OP_INHERITED, 7, 0, -1, BPFLEAK_KIND_PROG, 42, 0, 0, 0, "exec");
	struct snap sn;
	snap_begin(&sn, 501);
	snap_fd(&sn, 4, BPFLEAK_KIND_PROG, 42, 0);
	snap_fd(&sn, 7, BPFLEAK_KIND_PROG, 42, 0);
	snap_write(&sn, t += 50 * MS);
	exited(helper, t + MS);

	/* 502: fork, then exec of an image that records nothing */
	t += 10 * MS;
	event(t, 502, BPFLEAK_OP_FORK, -1, 500, -1, 0, 0, 0, 0, 0, NULL);
	process(502, 500, exe, "gateway --workers 2", "fork", "preload", t, 0);
	event(t += MS, 502, BPFLEAK_OP_INHERITED, 3, 0, -1, BPFLEAK_KIND_MAP, 41, 0, 0,
	      BPFLEAK_EF_CLOEXEC, "fork");
	event(t += MS, 502, BPFLEAK_OP_INHERITED, 4, 0, -1, BPFLEAK_KIND_PROG, 42, 0, 0, 0, "fork");
	event(t += MS, 502, BPFLEAK_OP_EXEC, -1, 0, -1, 0, 0, 0, 0, BPFLEAK_EF_BEFORE_EXEC,
	      "/usr/bin/logger");

	/* the parent closes its map and keeps the program until exit */
	close_fd(t += 100 * MS, 500, 3, BPFLEAK_KIND_MAP, 41, 0, 0);
	snap_begin(&sn, 500);
	snap_fd(&sn, 4, BPFLEAK_KIND_PROG, 42, 0);
	snap_write(&sn, t += 100 * MS);
	exited(parent, t + MS);
}

/*
 * What goes wrong besides leaks: an FD number reused with no close, a
 * close the kernel refused (EBADF) with and without a close stack, the
 * snapshot showing another object, an FD it does not show, one only it
 * shows, and FDs no pin reaches (reported with --expect-pinned).
 */
static void stale_double_unpinned(void)
{
	const char *exe = "/opt/golden/bin/gateway";
	int pid = 700;
	uint64_t t = 2 * SEC;
	int64_t row = process(pid, 1, exe, "gateway --no-probe", "start", "preload", t, 0);
	modules(pid, t, exe);
	frames();
	int64_t s_map = site(0x9100, 0x2b00, 0), s_prog = site(0x9c40, 0x2c20, 0);
	int64_t s_get = site(0x9a00, 0x2480, 0), s_close = site(0x9e00, 0x2d10, 0);
	object(BPFLEAK_KIND_MAP, 51, BPF_MAP_TYPE_HASH, "conns", 0, t);
	object(BPFLEAK_KIND_MAP, 52, BPF_MAP_TYPE_ARRAY, "stats", 0, t);
	object(BPFLEAK_KIND_PROG, 53, BPF_PROG_TYPE_SCHED_CLS, "tc_ingress", 0, t);
	object(BPFLEAK_KIND_MAP, 54, BPF_MAP_TYPE_HASH, "nat", 0, t);
	object(BPFLEAK_KIND_MAP, 55, BPF_MAP_TYPE_HASH, "pinned_cfg", 0, t);
	/* fd 3 reused by a create with no close recorded */
	create(t += MS, pid, 3, BPF_MAP_CREATE, BPFLEAK_KIND_MAP, 51, s_map);
	create(t += 10 * MS, pid, 3, BPF_MAP_CREATE, BPFLEAK_KIND_MAP, 52, s_map);
	/* fd 5 closed twice, no close stacks */
	create(t += MS, pid, 5, BPF_MAP_GET_FD_BY_ID, BPFLEAK_KIND_MAP, 51, s_get);
	close_fd(t += MS, pid, 5, BPFLEAK_KIND_MAP, 51, 0, 0);
	close_fd(t += MS, pid, 5, BPFLEAK_KIND_MAP, 51, -EBADF, 0);
	/* fd 6: a close with its own stack that the kernel refused */
	create(t += MS, pid, 6, BPF_MAP_GET_FD_BY_ID, BPFLEAK_KIND_MAP, 52, s_get);
	close_fd(t += MS, pid, 6, BPFLEAK_KIND_MAP, 52, -EBADF, s_close);
	/* judged against the snapshot */
	create(t += MS, pid, 8, BPF_MAP_CREATE, BPFLEAK_KIND_MAP, 54, s_map);
	create(t += MS, pid, 9, BPF_PROG_LOAD, BPFLEAK_KIND_PROG, 53, s_prog);
	create(t += MS, pid, 10, BPF_PROG_LOAD, BPFLEAK_KIND_PROG, 53, s_prog);
	create(t += MS, pid, 11, BPF_MAP_CREATE, BPFLEAK_KIND_MAP, 55, s_map);
	event(t += MS, pid, BPFLEAK_OP_PIN, 11, 0, BPF_OBJ_PIN, BPFLEAK_KIND_MAP, 55, s_map, 0, 0,
	      "/sys/fs/bpf/gw/cfg");
	struct snap sn;
	snap_begin(&sn, pid);
	snap_fd(&sn, 3, BPFLEAK_KIND_MAP, 52, 1);
	snap_fd(&sn, 8, BPFLEAK_KIND_MAP, 51, 1);    /* another object on 8 */
	snap_fd(&sn, 10, BPFLEAK_KIND_PROG, 53, 1);  /* 9 is gone */
	snap_fd(&sn, 11, BPFLEAK_KIND_MAP, 55, 1);
	snap_fd(&sn, 12, BPFLEAK_KIND_MAP, 52, 0);   /* only the kernel knows */
	snap_pin(&sn, "/sys/fs/bpf/gw/cfg", BPFLEAK_KIND_MAP, 55, "pinned_cfg");
	snap_write(&sn, t += 500 * MS);
	exited(row, t + MS);
}

/*
 * No leak, but the report cannot vouch for it: events were dropped (and a
 * stale FD after the drop is information), one process wrote its row and
 * nothing else, and notes that do or do not spoil the result.  The wall
 * clock base makes the drop's times dates (the test runs with TZ=UTC).
 */
static void drops_blind(void)
{
	const char *exe = "/opt/golden/bin/gateway";
	int pid = 800;
	uint64_t t = 3 * SEC;
	int64_t row = process(pid, 1, exe, "gateway --stats", "start", "preload", t,
			      1700000000ll * (int64_t)SEC);
	modules(pid, t, exe);
	frames();
	int64_t s_map = site(0x9100, 0x2b00, 0), s_get = site(0x9a00, 0x2480, 0);
	object(BPFLEAK_KIND_MAP, 61, BPF_MAP_TYPE_HASH, "flows", 0, t);
	create(t += MS, pid, 3, BPF_MAP_CREATE, BPFLEAK_KIND_MAP, 61, s_map);
	for (int i = 0; i < 5; i++) {
		create(t += 10 * MS, pid, 4, BPF_MAP_GET_FD_BY_ID, BPFLEAK_KIND_MAP, 61, s_get);
		close_fd(t += MS, pid, 4, BPFLEAK_KIND_MAP, 61, 0, 0);
	}
	note(t += MS, pid, "unshare", 803);
	note(t += MS, pid, "no_stacks", 0);
	drop(t + 5 * MS, t + 250 * MS, pid, 42, "queue full");
	t += 300 * MS;
	/* after the drop: fd 5 made, its close lost; the snapshot shows it gone */
	create(t, pid, 5, BPF_MAP_GET_FD_BY_ID, BPFLEAK_KIND_MAP, 61, s_get);
	close_fd(t += MS, pid, 3, BPFLEAK_KIND_MAP, 61, 0, 0);
	struct snap sn;
	snap_begin(&sn, pid);
	snap_write(&sn, t += 100 * MS);
	exited(row, t + MS);

	/* recording began, and not one event reached the journal */
	process(801, 1, "/opt/golden/bin/exporter", "exporter", "start", "preload", t, 0);
}

/*
 * What the kernel recorder (bpfleak run / attach) writes: an attached
 * process holding FDs from before, a Go program whose GC finalizer closed
 * maps the code dropped, a stack cut short, and an FD found only at exit.
 */
static void kernel_recorder(void)
{
	const char *exe = "/opt/golden/bin/gateway-go";
	int pid = 900;
	uint64_t t = 4 * SEC;
	int64_t row = process(pid, 1, exe, "gateway-go -serve", "attach", "kernel", t, 0);
	module(pid, t, exe, GW_ID, GW_BASE, 0x40000);
	frames();
	uint64_t cut[] = { GW_BASE + 0x2480, GW_BASE + 0x2210, BPFLEAK_STACK_GAP, 17,
			   GW_BASE + 0x1a40 };
	int64_t s_cut = stack(cut, 5);
	uint64_t get[] = { GW_BASE + 0x2480, GW_BASE + 0x2d10, GW_BASE + 0x1a40 };
	int64_t s_get = stack(get, 3);
	object(BPFLEAK_KIND_MAP, 71, BPF_MAP_TYPE_HASH, "routes", 0, t);
	object(BPFLEAK_KIND_PROG, 72, BPF_PROG_TYPE_XDP, "xdp_go", 0, t);
	event(t += MS, pid, BPFLEAK_OP_INHERITED, 3, 0, -1, BPFLEAK_KIND_MAP, 71, 0, 0,
	      BPFLEAK_EF_CLOEXEC, "attach");
	event(t += MS, pid, BPFLEAK_OP_INHERITED, 4, 0, -1, BPFLEAK_KIND_PROG, 72, 0, 0,
	      BPFLEAK_EF_CLOEXEC, "attach");
	for (int i = 0; i < 4; i++) {
		create(t += 200 * MS, pid, 8 + i, BPF_MAP_GET_FD_BY_ID, BPFLEAK_KIND_MAP, 71, s_get);
		event(t + 900 * MS, pid, BPFLEAK_OP_CLOSE, 8 + i, 0, -1, BPFLEAK_KIND_MAP, 71, 0, 0,
		      BPFLEAK_EF_FINALIZER, NULL);
	}
	t += 2 * SEC;
	create(t += MS, pid, 12, BPF_MAP_GET_FD_BY_ID, BPFLEAK_KIND_MAP, 71, s_cut);
	event(t += MS, pid, BPFLEAK_OP_INHERITED, 13, 0, -1, BPFLEAK_KIND_MAP, 71, 0, 0,
	      BPFLEAK_EF_CLOEXEC, "exit");
	struct snap sn;
	snap_begin(&sn, pid);
	snap_fd(&sn, 3, BPFLEAK_KIND_MAP, 71, 1);
	snap_fd(&sn, 4, BPFLEAK_KIND_PROG, 72, 1);
	snap_fd(&sn, 12, BPFLEAK_KIND_MAP, 71, 1);
	snap_fd(&sn, 13, BPFLEAK_KIND_MAP, 71, 1);
	snap_write(&sn, t += 10 * MS);
	exited(row, t + MS);
}

static const struct {
	const char *name;
	void (*build)(void);
} cases[] = {
	{ "two_site_leak", two_site_leak },
	{ "fork_exec", fork_exec },
	{ "stale_double_unpinned", stale_double_unpinned },
	{ "drops_blind", drops_blind },
	{ "kernel_recorder", kernel_recorder },
};

int main(int argc, char **argv)
{
	size_t n = sizeof(cases) / sizeof(cases[0]);
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < n; i++)
			puts(cases[i].name);
		return 0;
	}
	for (size_t i = 0; argc == 3 && i < n; i++)
		if (strcmp(argv[1], cases[i].name) == 0) {
			open_journal(argv[2]);
			cases[i].build();
			close_journal();
			return 0;
		}
	fprintf(stderr, "usage: mkgolden NAME PATH | --list\n");
	return 2;
}
