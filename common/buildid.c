// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * NT_GNU_BUILD_ID from the notes a module already has mapped: no file is
 * opened, so the shim can do it for every module at start-up.
 */
#include <string.h>
#include <elf.h>
#include <bpfleak/buildid.h>

static void hex(const unsigned char *p, size_t n, char *out, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	size_t i = 0;
	for (; i < n && 2 * i + 2 < cap; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * i] = '\0';
}

void bpfleak_build_id_hex(const struct dl_phdr_info *info, char *out, size_t cap)
{
	out[0] = '\0';
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
		const char *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			size_t name_sz = (nh->n_namesz + 3) & ~3u, desc_sz = (nh->n_descsz + 3) & ~3u;
			const char *name = p + sizeof(*nh);
			const unsigned char *desc = (const unsigned char *)name + name_sz;
			if ((const char *)desc + desc_sz > end)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(name, "GNU", 4)) {
				hex(desc, nh->n_descsz, out, cap);
				return;
			}
			p = (const char *)desc + desc_sz;
		}
	}
}
