/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The ELF modules of another process, from /proc/PID/maps: what the kernel
 * recorder writes as `module` rows and what the unwinder (unwind.h) needs to
 * find CFI.  The same fields as the shim's dl_iterate_phdr-based rows, so
 * the analyzer symbolizes both alike.
 *
 * Files are opened as the process sees them, not as the recorder does:
 * through /proc/PID/map_files/START-END (the very inode that is mapped, even
 * if it was deleted or replaced on disk since) and, where that is refused,
 * /proc/PID/root/PATH (the process's mount namespace: a binary that exists
 * only inside a container).  Both need the rights of a tracer over PID.
 */
#ifndef BPFLEAK_RECORDER_PROCMAPS_H
#define BPFLEAK_RECORDER_PROCMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Hex of NT_GNU_BUILD_ID: 20 bytes in practice (sha1), room for 64. */
#define PROCMAP_BUILD_ID_HEX 129

/* One ELF file mapped executable in the process (main program, shared
 * library, dlopen'd module).  A file mapped twice at different biases is two
 * modules. */
struct procmap_module {
	char *path;            /* as in the process's maps (its mount namespace),
	                          without the " (deleted)" suffix */
	uint64_t base;         /* load bias: ip - base = ELF vaddr (0 for ET_EXEC) */
	uint64_t size;         /* end of the highest PT_LOAD, from base */
	uint64_t start, end;   /* lowest and highest address mapped from this file */
	uint64_t text_start, text_end;   /* its executable mapping (the map_files
	                          entry procmaps_open uses) */
	uint64_t inode;        /* from maps: tells the same file across reads */
	char build_id[PROCMAP_BUILD_ID_HEX];   /* lower-case hex; "" when none */
	int64_t file_size, mtime_ns;           /* of the mapped file; -1 unknown */
	bool deleted;          /* the file was unlinked or replaced after mapping */
	int fd;                /* procmaps_read_open only: the file, O_RDONLY|
	                          O_CLOEXEC, owned by the array; else -1 */
};

/*
 * Read PID's executable file-backed ELF mappings into *out (an array of *n,
 * sorted by address; free with procmaps_free).  Non-ELF mappings, anonymous
 * memory, [vdso] and files that cannot be opened are left out.  Returns 0,
 * or -errno when /proc/PID/maps cannot be read (-ENOENT: no such process;
 * -EACCES/-EPERM: not our process and no CAP_SYS_PTRACE).  *out is NULL and
 * *n 0 on error.
 */
int procmaps_read(pid_t pid, struct procmap_module **out, size_t *n);

/* Same, and keep each module's file open in ->fd, so that its contents stay
 * readable after the process exited or unmapped it (the unwinder's case: a
 * short-lived process is often gone before its events are unwound). */
int procmaps_read_open(pid_t pid, struct procmap_module **out, size_t *n);

/* Free an array from procmaps_read*, closing the FDs it still owns. */
void procmaps_free(struct procmap_module *mods, size_t n);

/* Open m's file as PID maps it (map_files, else /proc/PID/root/PATH if that
 * is still the mapped inode): an O_RDONLY|O_CLOEXEC FD, or -errno. */
int procmaps_open(pid_t pid, const struct procmap_module *m);

/* The module of mods[0..n) that maps addr (start <= addr < end), or NULL. */
const struct procmap_module *procmaps_find(const struct procmap_module *mods, size_t n,
					   uint64_t addr);

#endif
