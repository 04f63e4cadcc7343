/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* The GNU build-id of a loaded module, read from its mapped PT_NOTE segments. */
#ifndef BPFLEAK_BUILDID_H
#define BPFLEAK_BUILDID_H

#include <link.h>
#include <stddef.h>

/* Lower-case hex into out (empty string when the module has none). */
void bpfleak_build_id_hex(const struct dl_phdr_info *info, char *out, size_t cap);

#endif
