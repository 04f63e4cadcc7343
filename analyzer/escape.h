/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Untrusted text stays text.  A journal comes from someone else's machine:
 * a command line, a path, a map or function name can hold terminal escape
 * sequences, HTML, markdown, newlines or bytes that are not UTF-8.  Every
 * report format prints such strings through one of these.
 *
 * The visible escapes are the same everywhere: C0 controls as \n, \r, \t
 * or \xNN (ESC is \x1b), DEL as \x7f, C1 controls, line separators and the
 * bidirectional overrides that reorder what a reader sees as \uNNNN, bytes
 * that are not UTF-8 as \xNN, and the backslash itself as \\ (so "\x1b"
 * typed into a command line is not mistaken for an escape).  Each format
 * then adds its own quoting.
 */
#ifndef BPFLEAK_ESCAPE_H
#define BPFLEAK_ESCAPE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "utf8.h"

/* Plain text and terminals: the visible escapes only.  NULL prints nothing. */
void esc_text(FILE *out, const char *s);
/* The same into a new string. */
char *esc_text_dup(const char *s);
/* HTML text and attribute values: the visible escapes, then & < > " ' as entities. */
void esc_html(FILE *out, const char *s);
/*
 * A markdown code span holding s: backtick fences longer than any run of
 * backticks inside, padded when s starts or ends with one.  in_table: the
 * span is in a table cell, where '|' must be written "\|" even in code.
 */
void esc_md_code(FILE *out, const char *s, int in_table);
/* Backticks a fenced code block needs so that no line of text closes it (>= 3). */
size_t md_fence_len(const char *text);

#endif
