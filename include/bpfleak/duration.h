/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* Durations as people type them, for every command line and BPFLEAK_* setting. */
#ifndef BPFLEAK_DURATION_H
#define BPFLEAK_DURATION_H

#include <stdint.h>

/* "30s", "500ms", "2m", "1h", "250us", "10ns", or bare seconds; -1 when not one. */
int64_t bpfleak_parse_duration_ns(const char *s);
/* A fold age (BPFLEAK_FOLD_AGE, --fold-age): a duration, or "off" (0: never fold); -1 when neither. */
int64_t bpfleak_parse_fold_age_ns(const char *s);

#endif
