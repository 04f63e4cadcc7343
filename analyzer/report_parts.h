/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Sentences the site-based reports (text, markdown, HTML) share, so the
 * three say the same thing in the same words.  Strings are returned raw:
 * each format escapes them (escape.h).
 */
#ifndef BPFLEAK_REPORT_PARTS_H
#define BPFLEAK_REPORT_PARTS_H

#include "sites.h"

/* A value of the journal's meta table ("kernel", "hostname", "machine"), or NULL. */
char *journal_meta(const struct model *m, const char *key);
/* "68 events over 533.5ms" (and the drops, if any). */
char *journal_span_text(const struct model *m);
/* ", and 827699 create/close pairs closed over 1.0h before ..." or "". */
char *journal_folded_text(const struct model *m);
/* "recorded on vm, kernel 6.18.44 (x86_64)", or NULL when the journal does not say. */
char *journal_host_text(const struct model *m);
/*
 * What follows the headline: "17 bpf FDs open; 8 findings, 4 leaks", with
 * the call sites kept for information, suppressions and --top.
 */
char *report_counts_text(const struct model *m, const struct opts *o, const struct siteset *ss);
/* "exit snapshot: 17 bpf FDs, 0 pins" / "no snapshot (...): journal only ..." */
char *proc_snapshot_text(const struct proc *p);
/* Open bpf FDs of the processes shown. */
size_t shown_open_fds(const struct model *m, const struct opts *o);
/*
 * The report's blind spots, journal-wide ones first (pid 0), then those of
 * each process shown, in order: fn(out, pid, text) for each, text raw.
 * Returns how many; fn NULL only counts.
 */
size_t report_blind_spots(const struct model *m, const struct opts *o,
			  void (*fn)(FILE *out, int pid, const char *text), FILE *out);

/* A call site's cells in the site tables (markdown, HTML), raw; site_cells_free frees them. */
struct site_cells {
	char *place;             /* "gateway.c:71" */
	char *pids;              /* "pid 30144" */
	char *leak_classes;      /* "duplicate, growth" or "" */
	char *info_classes;      /* "unpinned, outstanding" or "" */
	char *objects;           /* "map global_ep ×3, ..." or "" */
};
void site_cells_get(const struct model *m, const struct site *s, struct site_cells *c);
void site_cells_free(struct site_cells *c);

/*
 * The site's stack as lines, unescaped: "#1  acl_reload   samples/gateway.c:71",
 * "... 96 frames not recorded ...", "(stack cut: ...)"; mark is set on the
 * frame that names the site.
 */
struct text_line {
	char *text;
	int mark;
};
struct text_line *site_stack_lines(const struct site *s, size_t *n);
void text_lines_free(struct text_line *v, size_t n);

/*
 * "(duplicate, growth): 8 duplicates of objects already open; growth ..."
 * for the findings of s that are (leak 1) or are not leaks, NULL if none.
 */
char *site_evidence_line(const struct model *m, const struct site *s, int leak);
/*
 * The site's objects, one per line with its FDs indented below, after a
 * "pid P:" line per process when the site spans several; esc writes the
 * untrusted parts as the format needs.
 */
void site_objects_write(FILE *out, const struct model *m, const struct site *s,
			void (*esc)(FILE *, const char *));

/* report_text_sites.c: the text report after its header. */
void report_text_sites(const struct model *m, const struct opts *o, const struct siteset *ss,
		       FILE *out);

#endif
