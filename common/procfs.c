// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Small procfs reads (include/bpfleak/procfs.h): open/read only, no stdio
 * and no allocation for the boot id, since the shim calls them while its
 * host starts or exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpfleak/procfs.h>

void bpfleak_boot_id(char *out, size_t cap)
{
	out[0] = '\0';
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, out, cap - 1);
	close(fd);
	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

char *bpfleak_read_file(const char *path, size_t *len_out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (len + 1 >= cap) {
			char *bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			buf = NULL;
			errno = e;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	int e = errno;
	close(fd);
	errno = e;
	if (buf) {
		buf[len] = '\0';
		if (len_out)
			*len_out = len;
		/* Snapshots keep thousands of these: give back the unused tail. */
		char *fit = realloc(buf, len + 1);
		if (fit)
			buf = fit;
	}
	return buf;
}
