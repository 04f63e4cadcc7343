/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Inside the symbolize stage: symbolize.c turns a recorded stack into
 * frames, symbolize_store.c writes frames into the journal (--symbolize),
 * and both look addresses up in a module's file through dwfl_file.c.
 */
#ifndef BPFLEAK_ANALYZER_SYMBOLIZE_H
#define BPFLEAK_ANALYZER_SYMBOLIZE_H

#include <elfutils/libdwfl.h>
#include "analyzer.h"

/* A recorded module's file (path + build-id), opened at most once. */
struct dfile {
	char *path;
	char *build_id;          /* recorded, lower-case hex; NULL = none */
	int64_t file_size, mtime_ns;   /* recorded file identity; -1 unknown */
	Dwfl *dwfl;
	Dwfl_Module *mod;
	GElf_Addr bias;
	int et_exec;
	int usable;
};

struct symbolizer {
	struct model *m;
	struct dfile *files;
	size_t n, cap;
};

/* dwfl_file.c: open d (path, build_id, file identity set); what is wrong is a warning. */
void dfile_open(struct model *m, struct dfile *d);
void dfile_close(struct dfile *d);
/* ip of module md as an address in d's file; adjust: ip is a return address. */
GElf_Addr dfile_addr(const struct dfile *d, const struct module *md, uint64_t ip, int adjust);
/* Frames for one address, innermost inlined function first; *has_line: a line was found. */
size_t dfile_resolve(struct dfile *d, GElf_Addr addr, struct rstack *rs, size_t *cap,
		     const struct module *md, uint64_t ip, int *has_line);
/* Two hex build-ids name the same build (case does not matter). */
int build_id_equal(const char *a, const char *b);
void rstack_push(struct rstack *rs, size_t *cap, const char *fn, const char *file, int line,
		 int inlined, const struct module *md, uint64_t ip);

/* symbolize.c */
struct dfile *dfile_for(struct symbolizer *s, const struct module *md);
const struct module *module_at(struct model *m, int pid, int64_t ts, uint64_t ip);
/* How the frame table names a module: its build-id, else its path. */
const char *module_key(const struct module *md);
int is_shim(const char *path);

#endif
