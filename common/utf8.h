/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
#ifndef BPFLEAK_UTF8_H
#define BPFLEAK_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * The UTF-8 sequence at s: its length (1-4) and code point, or 0 when the
 * bytes there are not valid UTF-8 (overlong, surrogate, truncated).
 */
size_t utf8_next(const unsigned char *s, uint32_t *cp);

#endif
