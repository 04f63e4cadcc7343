// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* The report tests' synthetic journals (scenarios.h). */
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include "scenarios.h"

#define MAP BPFLEAK_KIND_MAP

/* An UPDATE/INSERT with two text parameters, for values SQL literals cannot hold plainly. */
static void sql2(struct jb *j, const char *sql, const char *a, const char *b)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(j->jw.db, sql, -1, &st, NULL) != SQLITE_OK)
		abort();
	sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		abort();
	sqlite3_finalize(st);
}

/*
 * pid's latest process row exited, and was last flushed, at ts: jb_process's
 * default is far later, which would stretch the span growth is judged over.
 */
static void exits_at(struct jb *j, int pid, int64_t ts)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "UPDATE process SET exited_ns = %lld, flushed_ns = %lld WHERE id ="
		 " (SELECT max(id) FROM process WHERE pid = %d)", (long long)ts, (long long)ts, pid);
	jb_sql(j, sql);
}

static void frame(struct jb *j, const char *module, uint64_t offset, const char *fn,
		  const char *file, int line)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(j->jw.db, "INSERT INTO frame VALUES (?, ?, 0, ?, ?, ?)", -1, &st,
			       NULL) != SQLITE_OK)
		abort();
	sqlite3_bind_text(st, 1, module, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (int64_t)offset);
	sqlite3_bind_text(st, 3, fn, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, file, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 5, line);
	if (sqlite3_step(st) != SQLITE_DONE)
		abort();
	sqlite3_finalize(st);
}

/* The agent's modules: libbpf (a system library, with sources) and the agent. */
static void agent_modules(struct jb *j, int pid)
{
	jb_module(j, pid, 0, "/usr/lib/bpfleak-test/libbpf.so.1", "11bbf0", 0x7000000, 0x100000);
	jb_module(j, pid, 0, "/opt/agent/bin/agent", "a9e470", 0x400000, 0x100000);
}

void scenario_multi(struct jb *j)
{
	jb_init(j);
	frame(j, "11bbf0", 0x100, "bpf_obj_get", "/usr/src/libbpf/bpf.c", 900);
	frame(j, "a9e470", 0x1000, "reload_acl", "/src/agent/agent.c", 120);
	frame(j, "a9e470", 0x2000, "main", "/src/agent/agent.c", 300);
	frame(j, "a9e470", 0x3000, "setup", "/src/agent/agent.c", 50);
	frame(j, "a9e470", 0x4000, "poll_stats", "/src/agent/stats.c", 40);
	frame(j, "11bbf0", 0x200, "bpf_map_create", "/usr/src/libbpf/bpf.c", 200);
	uint64_t reload[] = { 0x7000100, 0x401000, 0x402000 }, setup[] = { 0x7000200, 0x403000, 0x402000 },
		 poll[] = { 0x7000100, 0x404000, 0x402000 }, helper[] = { 0x501000 };
	int64_t s_reload = jb_stack(j, reload, 3), s_setup = jb_stack(j, setup, 3);
	int64_t s_poll = jb_stack(j, poll, 3);
	jb_object(j, MAP, 1, BPF_MAP_TYPE_HASH, "acl_rules", 0);
	jb_object(j, MAP, 2, BPF_MAP_TYPE_ARRAY, "acl_config", 0);
	jb_object(j, MAP, 3, BPF_MAP_TYPE_PERCPU_ARRAY, "stats", 0);
	jb_object(j, MAP, 7, BPF_MAP_TYPE_HASH, "helper_map", 0);
	jb_object(j, MAP, 8, BPF_MAP_TYPE_HASH, "mystery", 0);

	/* pid 100: setup, then reloads that leak, polls that do not. */
	j->ts = MULTI_T0;
	agent_modules(j, 100);
	jb_process(j, 100, 1, "/opt/agent/bin/agent", "start", 1);
	for (int m = 1; m <= 3; m++)
		jb_create(j, 100, 2 + m, MAP, (uint32_t)m, s_setup);
	int fd = 10;
	int64_t snap_fds[64];
	int n_snap = 0;
	for (int m = 1; m <= 3; m++)
		snap_fds[n_snap++] = (int64_t)(2 + m) << 32 | (uint32_t)m;
	for (int r = 1; r <= MULTI_RELOADS; r++) {
		j->ts = MULTI_T0 + r * MULTI_RELOAD_NS;
		for (int m = 1; m <= MULTI_RELOAD_MAPS; m++) {
			jb_ev(j, 100, BPFLEAK_OP_CREATE, fd, 0, BPF_OBJ_GET, MAP, (uint32_t)m, s_reload,
			      fd, BPFLEAK_EF_CLOEXEC, NULL);
			snap_fds[n_snap++] = (int64_t)fd << 32 | (uint32_t)m;
			fd++;
		}
		j->ts = MULTI_T0 + r * MULTI_RELOAD_NS + MULTI_RELOAD_NS / 2;
		jb_create(j, 100, 40, MAP, 3, s_poll);
		jb_close(j, 100, 40, MAP, 3, 0, 0);
	}
	j->ts = MULTI_T0 + (MULTI_RELOADS + 1) * MULTI_RELOAD_NS;
	exits_at(j, 100, j->ts + 1000000);   /* it exits after its snapshot */
	int64_t s = jb_snapshot(j, 100);
	for (int i = 0; i < n_snap; i++)
		jb_snap_fd(j, s, (int)(snap_fds[i] >> 32), MAP, (uint32_t)snap_fds[i]);
	jb_snap_pin(j, s, "/sys/fs/bpf/agent/acl_rules", MAP, 1);
	jb_snap_pin(j, s, "/sys/fs/bpf/agent/acl_config", MAP, 2);
	jb_snap_pin(j, s, "/sys/fs/bpf/agent/stats", MAP, 3);

	/* pid 101: the same program, the same leaking line. */
	j->ts = MULTI_T0 + 10000000;
	agent_modules(j, 101);
	jb_process(j, 101, 100, "/opt/agent/bin/agent", "start", 1);
	jb_create(j, 101, 3, MAP, 1, s_setup);
	for (int r = 1; r <= MULTI_CHILD_RELOADS; r++) {
		j->ts = MULTI_T0 + 10000000 + r * MULTI_RELOAD_NS;
		jb_ev(j, 101, BPFLEAK_OP_CREATE, 3 + r, 0, BPF_OBJ_GET, MAP, 1, s_reload, 3 + r,
		      BPFLEAK_EF_CLOEXEC, NULL);
	}
	j->ts = MULTI_T0 + (MULTI_CHILD_RELOADS + 1) * MULTI_RELOAD_NS + 10000000;
	exits_at(j, 101, j->ts + 1000000);
	s = jb_snapshot(j, 101);
	for (int f = 3; f <= 3 + MULTI_CHILD_RELOADS; f++)
		jb_snap_fd(j, s, f, MAP, 1);
	jb_snap_pin(j, s, "/sys/fs/bpf/agent/acl_rules", MAP, 1);

	/* pid 102: one FD of its own (helper.c:10), one no event explains. */
	j->ts = MULTI_T0 + 20000000;
	jb_module(j, 102, 0, "/usr/bin/helper", "he1fe7", 0x500000, 0x100000);
	frame(j, "he1fe7", 0x1000, "helper_main", "/src/helper/helper.c", 10);
	jb_process(j, 102, 1, "/usr/bin/helper", "start", 1);
	jb_create(j, 102, 3, MAP, 7, jb_stack(j, helper, 1));
	j->ts = MULTI_T0 + 300000000;
	exits_at(j, 102, j->ts + 1000000);
	s = jb_snapshot(j, 102);
	jb_snap_fd(j, s, 3, MAP, 7);
	jb_snap_fd(j, s, 9, MAP, 8);
	jb_snap_pin(j, s, "/sys/fs/bpf/helper_map", MAP, 7);
	jb_snap_pin(j, s, "/sys/fs/bpf/mystery", MAP, 8);
	jb_sql(j, "INSERT OR REPLACE INTO meta VALUES ('hostname', 'build-7'), ('kernel', '6.1.0-test'),"
		  " ('machine', 'x86_64')");
}

const char hostile_cmdline[] =
	"evil --name '<script>alert(\"x\")</script>' | `rm -rf /` *bold* _it_ [link](javascript:alert(1))"
	" \x1b[31mred\x1b[0m \x1b]0;owned\x07 bell\x07 \xe2\x80\xae" "evil\xe2\x80\xac @mention #1\n"
	"# heading\n> quote \\x1b \xff" " end";
const char hostile_function[] = "fn<script>alert(1)</script>|`x`*\x1b[2J\n## not a heading";

void scenario_hostile(struct jb *j)
{
	static const char exe[] = "/tmp/<img src=x onerror=alert(1)>/\x1b[31mred|`gw`";
	static const char pin[] = "/sys/fs/bpf/\"><script>alert(2)</script>|`pin`\n# pinned";
	static const char map[] = "m<b>|`*_[x](y)\x1b[1m\n#";
	jb_init(j);
	jb_module(j, 100, 0, exe, "0badc0de", 0x400000, 0x100000);
	jb_module(j, 100, 0, "/nonexistent/\x1b[31m<script>lib|`x`.so", NULL, 0x7000000, 0x1000);
	frame(j, "0badc0de", 0x1000, hostile_function, "/src/\x1b[31m<i>evil|file`.c", 7);
	frame(j, "0badc0de", 0x2000, "main", "/src/main.c", 1);
	uint64_t ips[] = { 0x401000, 0x402000 }, other[] = { 0x7000010 };
	int64_t st = jb_stack(j, ips, 2), st2 = jb_stack(j, other, 1);
	jb_process(j, 100, 1, exe, "start", 1);
	sql2(j, "UPDATE process SET cmdline = ?1", hostile_cmdline, NULL);
	jb_object(j, MAP, 1, BPF_MAP_TYPE_HASH, map, 0);
	/* The writer keeps a kernel name's 15 bytes; a journal made elsewhere holds any. */
	sql2(j, "UPDATE object SET name = ?1 WHERE id = 1", map, NULL);
	jb_create(j, 100, 3, MAP, 1, st2);
	jb_create(j, 100, 4, MAP, 1, st);
	exits_at(j, 100, j->ts + 1000000);
	int64_t s = jb_snapshot(j, 100);
	jb_snap_fd(j, s, 3, MAP, 1);
	jb_snap_fd(j, s, 4, MAP, 1);
	jb_snap_pin(j, s, pin, MAP, 1);
	sql2(j, "INSERT OR REPLACE INTO meta VALUES ('hostname', ?1), ('kernel', ?2)",
	     "<script>host</script>|`h`", "6.1\x1b[31m|*k*");
}

void scenario_busy(struct jb *j, int n)
{
	uint64_t leak[] = { 0x401000 }, churn[] = { 0x402000 };
	jb_init(j);
	jb_module(j, 100, 0, "/usr/bin/busy", "b05f", 0x400000, 0x100000);
	frame(j, "b05f", 0x1000, "leaky", "/src/busy.c", 10);
	frame(j, "b05f", 0x2000, "churn", "/src/busy.c", 20);
	int64_t s_leak = jb_stack(j, leak, 1), s_churn = jb_stack(j, churn, 1);
	jb_process(j, 100, 1, "/usr/bin/busy", "start", 1);
	jb_object(j, MAP, 1, BPF_MAP_TYPE_HASH, "busy", 0);
	int64_t t0 = j->ts, span = 1000000000ll;
	int leaked = 0;
	j->step = 1000;   /* each close 1 us after its create, before the next create */
	for (int i = 0; i < n; i++) {
		j->ts = t0 + span * i / n;
		if (i % 100 == 0) {
			jb_create(j, 100, 10 + leaked++, MAP, 1, s_leak);
		} else {
			jb_create(j, 100, 5, MAP, 1, s_churn);
			jb_close(j, 100, 5, MAP, 1, 0, 0);
		}
	}
	j->ts = t0 + span;
	exits_at(j, 100, j->ts + 1000000);
	int64_t s = jb_snapshot(j, 100);
	for (int i = 0; i < leaked; i++)
		jb_snap_fd(j, s, 10 + i, MAP, 1);
}
