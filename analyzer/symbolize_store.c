// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * --symbolize: resolve, with libdwfl only, every address of every stack an
 * event uses and store the result in `frame`, keyed by (build-id or path,
 * ip - base).  Only successful resolutions are stored.
 */
#include "symbolize.h"

int symbolize_store_all(struct symbolizer *s, char *err, size_t errlen)
{
	struct model *m = s->m;
	struct hmap seen = { 0 }, done = { 0 };
	sqlite3_stmt *ins = NULL;
	long stored = 0;
	int rc = sqlite3_prepare_v2(m->db, "INSERT OR REPLACE INTO frame(module_key, offset,"
				    " inline_depth, function, file, line) VALUES (?,?,?,?,?,?)",
				    -1, &ins, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	for (size_t pi = 0; pi < m->n_procs; pi++) {
		struct proc *p = m->procs[pi];
		for (size_t k = 0; k < p->n_ev; k++) {
			const struct ev *e = &p->evs[k];
			if (e->stack_id <= 0)
				continue;
			bool fresh;
			hmap_slot(&seen, (uint64_t)e->stack_id ^ ((uint64_t)(uint32_t)p->pid << 40),
				  0, &fresh);
			if (!fresh)
				continue;
			uint32_t depth;
			const uint64_t *ips = journal_stack(m, e->stack_id, &depth);
			for (uint32_t i = 0; i < depth; i++) {
				if (ips[i] == BPFLEAK_STACK_GAP) {
					i++;   /* the gap and its count are not addresses */
					continue;
				}
				const struct module *md = module_at(m, p->pid, e->ts, ips[i]);
				if (!md)
					continue;
				uint64_t key = (uint64_t)md->id << 40 | ((ips[i] - md->base) & ((1ull << 40) - 1));
				hmap_slot(&done, key, 0, &fresh);
				if (!fresh)
					continue;
				struct dfile *d = dfile_for(s, md);
				if (!d->usable)
					continue;
				struct rstack rs = { 0 };
				size_t cap = 0;
				int has_line;
				int adjust = !(i == 0 && is_shim(md->path));
				uint64_t off = ips[i] - md->base;
				dfile_resolve(d, dfile_addr(d, md, ips[i], adjust), &rs, &cap, md, ips[i],
					      &has_line);
				for (size_t j = 0; j < rs.n; j++) {
					sqlite3_reset(ins);
					sqlite3_bind_text(ins, 1, module_key(md), -1, SQLITE_TRANSIENT);
					sqlite3_bind_int64(ins, 2, (sqlite3_int64)off);
					sqlite3_bind_int(ins, 3, (int)j);
					sqlite3_bind_text(ins, 4, rs.f[j].function, -1, SQLITE_TRANSIENT);
					sqlite3_bind_text(ins, 5, rs.f[j].file, -1, SQLITE_TRANSIENT);
					if (rs.f[j].line > 0)
						sqlite3_bind_int(ins, 6, rs.f[j].line);
					else
						sqlite3_bind_null(ins, 6);
					if (sqlite3_step(ins) != SQLITE_DONE) {
						rstack_free(&rs);
						goto fail;
					}
					stored++;
				}
				rstack_free(&rs);
			}
		}
	}
	sqlite3_finalize(ins);
	hmap_free(&seen);
	hmap_free(&done);
	if (sqlite3_exec(m->db, "COMMIT; BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		goto fail_nofin;
	return (int)(stored > 0x7fffffff ? 0x7fffffff : stored);
fail:
	sqlite3_finalize(ins);
	hmap_free(&seen);
	hmap_free(&done);
fail_nofin:
	snprintf(err, errlen, "%s: cannot store frames: %s", m->path, sqlite3_errmsg(m->db));
	return -1;
}
