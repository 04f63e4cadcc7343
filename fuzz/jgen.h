/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Journals that lie, made from bytes: a valid bpfleak journal (made by the
 * journal writer, common/journal_writer.h) whose rows are decided by the
 * input, one opcode byte and a few argument bytes at a time.  Values are
 * drawn from small tables of the interesting ones -- FD numbers that
 * collide, -1, 2^31-1; ops 0..11 and 255; stack ids that do not exist;
 * module paths that are missing, a directory, /dev/null, a real binary
 * with debug info; the wrong SQL type for a column -- so that a few bytes
 * reach the analyzer's replay, classification and symbolization rather
 * than sqlite's header checks.
 *
 * Used by the fuzz_journal_sql harness and by mkseeds (the seed corpus of
 * small valid journals for fuzz_journal).
 */
#ifndef BPFLEAK_FUZZ_JGEN_H
#define BPFLEAK_FUZZ_JGEN_H

#include <stddef.h>
#include <stdint.h>

/*
 * Write a journal built from data to path (replacing what is there).
 * elf_path: a small ELF with DWARF for module rows (may be NULL).
 * Returns 0, or -1 when sqlite itself failed (not the input's fault).
 */
int jgen_build(const char *path, const uint8_t *data, size_t size, const char *elf_path);

#endif
