/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* What kind of program an ELF file is, as far as choosing a recorder goes (choose.c). */
#ifndef BPFLEAK_RECORDER_ELFKIND_H
#define BPFLEAK_RECORDER_ELFKIND_H
#include <stdbool.h>

struct elf_kind {
	bool has_interp;   /* PT_INTERP: started by the dynamic loader */
	bool is_go;        /* a .go.buildinfo section: built by the Go toolchain */
};

/* 0, or -1 when it is not an ELF file libelf can read. */
int elf_kind_of_fd(int fd, struct elf_kind *k);
int elf_kind_of_path(const char *path, struct elf_kind *k);
#endif
