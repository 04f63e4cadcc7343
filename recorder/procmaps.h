/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The ELF modules of another process, from /proc/PID/maps: what the kernel
 * recorder writes as `module` rows, with the same fields as the shim's
 * dl_iterate_phdr-based rows, so the analyzer symbolizes both alike.
 *
 * Files are opened as the process sees them: /proc/PID/map_files/START-END
 * (the very inode that is mapped) and, where that is refused,
 * /proc/PID/root/PATH (its mount namespace: a binary that exists only
 * inside a container).
 *
 * A minimal reader with a small API; the unwinder's branch may replace its
 * internals (the struct keeps the fields that one needs).
 */
#ifndef BPFLEAK_RECORDER_PROCMAPS_H
#define BPFLEAK_RECORDER_PROCMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Hex of NT_GNU_BUILD_ID: 20 bytes in practice (sha1), room for 64. */
#define PROCMAP_BUILD_ID_HEX 129

/* One ELF file mapped executable in the process. */
struct procmap_module {
	char *path;            /* as in the process's maps, without " (deleted)" */
	uint64_t base;         /* load bias: ip - base = ELF vaddr (0 for ET_EXEC) */
	uint64_t size;         /* end of the highest PT_LOAD, from base */
	uint64_t start, end;   /* lowest and highest address mapped from this file */
	uint64_t text_start, text_end;   /* its executable mapping */
	uint64_t inode;
	char build_id[PROCMAP_BUILD_ID_HEX];   /* lower-case hex; "" when none */
	int64_t file_size, mtime_ns;           /* of the mapped file; -1 unknown */
	bool deleted;
	int fd;                /* procmaps_read_open only: the file, O_RDONLY|
	                          O_CLOEXEC, owned by the array; else -1 */
};

/*
 * Read PID's executable file-backed ELF mappings into *out (an array of *n,
 * sorted by address; free with procmaps_free).  Returns 0, or -errno when
 * /proc/PID/maps cannot be read (-ENOENT: no such process).
 */
int procmaps_read(pid_t pid, struct procmap_module **out, size_t *n);

/* Same, and keep each module's file open in ->fd, so that its contents stay
 * readable after the process exited or exec'd (the unwinder's case). */
int procmaps_read_open(pid_t pid, struct procmap_module **out, size_t *n);

/* Free an array from procmaps_read*, closing the FDs it still owns. */
void procmaps_free(struct procmap_module *mods, size_t n);

/* The module of mods[0..n) that maps addr (start <= addr < end), or NULL. */
const struct procmap_module *procmaps_find(const struct procmap_module *mods, size_t n,
					   uint64_t addr);

#endif
