/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Call sites: the findings grouped by where the FDs were made.  Classify
 * gives one finding per class, so one leaking line of code is several
 * findings over the same FDs (growth, duplicate, unpinned, outstanding);
 * the person triaging a ticket wants one entry per bug: the site, its
 * stack, the FDs it holds, and the classes as evidence.
 *
 * A site is the symbolized stack (every process running the same code at
 * the same line is one site: one bug), or for FDs without a stack, the
 * process and why there is none.  Sites are built from the findings after
 * findings_finish(), so --class, --pid and suppressions already apply.
 */
#ifndef BPFLEAK_SITES_H
#define BPFLEAK_SITES_H

#include "analyzer.h"

struct site_fd {
	const struct proc *p;
	size_t rec;              /* index in p->recs */
	int leaked;              /* open at the end and in a leak finding of the site */
};

enum site_what { SITE_CREATED, SITE_CLOSED, SITE_ORIGIN };

struct site {
	size_t *findings;        /* indexes into model.findings, in their order */
	size_t n_findings, cap_findings;
	const struct finding *lead;   /* the first finding: its stack is the site's */
	int leak;                /* any finding of the site is a leak */
	unsigned classes;        /* 1 << cls of its findings */
	unsigned leak_classes;   /* ... of those that are leaks */
	struct site_fd *fds;     /* distinct, by process then creation order */
	size_t n_fds, cap_fds;
	size_t leaked_fds;       /* open FDs in leak findings */
	size_t open_fds;         /* open at the end */
	int *pids;               /* processes, in the order first seen */
	size_t n_pids, cap_pids;
	long frame;              /* index in lead->rs.f of the frame that names it, -1 none */
	int what;                /* enum site_what: the stack is where FDs were made, closed, ... */
	char *key;
};

struct siteset {
	struct site *v;          /* leaking sites first, then by FDs */
	size_t n, cap;
	size_t n_leak;           /* leaking sites */
	size_t leaked_fds;       /* leaked FDs over all sites (= leaked_fd_count()) */
	size_t shown;            /* the sites --top keeps */
	size_t *site_of;         /* finding index -> site index */
	size_t n_findings_shown; /* findings of the shown sites */
};

void sites_build(const struct model *m, const struct opts *o, struct siteset *ss);
void sites_free(struct siteset *ss);

/* "2 leaking call sites, 17 FDs" / "no leaking call site". */
char *sites_headline(const struct siteset *ss);

/* The frame that names the site, or NULL (no stack). */
const struct frame *site_frame(const struct site *s);
/* "gateway.c:71" (file base:line), "libbpf.so.1+0xc7e1", or why there is no stack. */
char *site_place(const struct site *s);
/* "gateway.c:71 acl_reload"; the place alone when no function is known. */
char *site_title(const struct site *s);
/* "created at" | "closed at" | "origin". */
const char *site_what_text(const struct site *s);
/* "duplicate, growth" (leak) or "unpinned, outstanding" (information); "" if none. */
char *site_classes_text(const struct site *s, int leak);
/*
 * The evidence: one short phrase per finding of the site that is (leak 1)
 * or is not (leak 0) a leak, "growth 55.0/s over 200.1ms, none closed",
 * in the order of site_classes_text();
 * prefixed with "pid N: " when the site spans several processes.
 */
char **site_evidence(const struct model *m, const struct site *s, int leak, size_t *n);
void strv_free(char **v, size_t n);
/* "pid 30144" / "pids 10, 11, 12" */
char *site_pids_text(const struct site *s);
/* "map global_ep ×3, map delay ×5" (the first few objects, by kind and name) */
char *site_objects_brief(const struct model *m, const struct site *s);

/*
 * The site's FDs as lines: an object ("map 1 "global_ep" hash key 4 ...
 * not pinned") and below it the FDs on it that share their annotations
 * ("fd 11 12; same object as fd 3; age 27.1ms").
 */
struct obj_line {
	const struct proc *p;
	char *object;            /* NULL: same object as the line before */
	char *fds;
};
struct obj_line *site_object_lines(const struct model *m, const struct site *s, size_t *n);
void obj_lines_free(struct obj_line *v, size_t n);

/* "bpf_obj_get_opts", "samples/gateway.c:71" or "libbpf.so.1+0xc7e1" for a stack line. */
void frame_where(const struct frame *fr, char *buf, size_t len);

#endif
