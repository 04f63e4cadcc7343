// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Which recorder fits a program.  The preload shim sees only calls that go
 * through libc's dynamic symbols; a binary without PT_INTERP never loads it,
 * and Go makes its system calls itself (cgo or not), so both need the
 * kernel recorder.  Everything else gets the shim, which costs less.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kernel_recorder.h"
#include "elfkind.h"

int tracer_parse(const char *s, enum tracer *out)
{
	if (!strcmp(s, "auto"))
		*out = TRACER_AUTO;
	else if (!strcmp(s, "preload"))
		*out = TRACER_PRELOAD;
	else if (!strcmp(s, "kernel"))
		*out = TRACER_KERNEL;
	else
		return -1;
	return 0;
}

int elf_kind_of_fd(int fd, struct elf_kind *k)
{
	memset(k, 0, sizeof(*k));
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e)
		return -1;
	int rc = -1;
	size_t phnum, shstrndx;
	if (elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &phnum))
		goto out;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_INTERP)
			k->has_interp = true;
	}
	if (elf_getshdrstrndx(e, &shstrndx) == 0) {
		Elf_Scn *scn = NULL;
		while ((scn = elf_nextscn(e, scn))) {
			GElf_Shdr sh;
			const char *name;
			if (gelf_getshdr(scn, &sh) && (name = elf_strptr(e, shstrndx, sh.sh_name)) &&
			    !strcmp(name, ".go.buildinfo"))
				k->is_go = true;
		}
	}
	rc = 0;
out:
	elf_end(e);
	return rc;
}

int elf_kind_of_path(const char *path, struct elf_kind *k)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = elf_kind_of_fd(fd, k);
	close(fd);
	return rc;
}

/* cmd as execvp would find it. */
static bool resolve(const char *cmd, char *out, size_t cap)
{
	if (strchr(cmd, '/')) {
		snprintf(out, cap, "%s", cmd);
		return access(out, X_OK) == 0;
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/bin:/usr/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		if (snprintf(out, cap, "%.*s/%s", (int)len, len ? path : ".", cmd) < (int)cap &&
		    access(out, X_OK) == 0)
			return true;
		path += len;
		if (*path == ':')
			path++;
	}
	return false;
}

enum tracer tracer_choose(const char *cmd, char *why, size_t whycap)
{
	char path[PATH_MAX];
	struct elf_kind k;
	if (!resolve(cmd, path, sizeof(path)) || elf_kind_of_path(path, &k)) {
		snprintf(why, whycap, "not an ELF binary bpfleak can read");
		return TRACER_PRELOAD;
	}
	if (k.is_go) {
		snprintf(why, whycap, "a Go binary: it makes its system calls itself");
		return TRACER_KERNEL;
	}
	if (!k.has_interp) {
		snprintf(why, whycap, "a static binary: no dynamic loader to preload into");
		return TRACER_KERNEL;
	}
	snprintf(why, whycap, "a dynamically linked program");
	return TRACER_PRELOAD;
}
