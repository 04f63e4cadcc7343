/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
#ifndef BPFLEAK_REPORT_H
#define BPFLEAK_REPORT_H
#include "analyzer.h"

const char *stale_text(int why);
const char *bpf_cmd_name(int cmd);
char *finding_summary(const struct finding *f);
const char *no_stack_text(const struct finding *f);
size_t leaked_fd_count(const struct model *m);
const char *snapshot_word(const struct proc *p);

/* A pin the process made (BPF_OBJ_PIN) or opened (BPF_OBJ_GET). */
struct pin_use {
	const char *path;        /* NULL: an OBJ_GET whose pin is not known */
	const char *how;         /* "pinned" | "opened" */
	int kind;
	uint32_t id;
};
size_t proc_pins(const struct model *m, const struct proc *p, struct pin_use **out);
const char *pins_walk_text(const struct snap *s, char *buf, size_t len);

#endif
