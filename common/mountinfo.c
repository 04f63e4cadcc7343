// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* Finding bpffs mount points in /proc/PID/mountinfo text. */
#include <string.h>
#include <bpfleak/procfs.h>

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* Split a line into space-separated fields; returns the count. */
static int split(char *line, char **fields, int max)
{
	int n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(line, " ", &save); tok && n < max; tok = strtok_r(NULL, " ", &save))
		fields[n++] = tok;
	return n;
}

int bpfleak_mountinfo_bpffs(const char *buf, size_t len,
			    int (*cb)(const char *mount_point, void *ctx), void *ctx)
{
	char line[4096 + 256];
	size_t i = 0;
	int mounts = 0, lines = 0;

	while (i < len && buf[i]) {
		size_t n = 0;
		int too_long = 0;
		while (i < len && buf[i] && buf[i] != '\n') {
			if (n + 1 < sizeof(line))
				line[n++] = buf[i];
			else
				too_long = 1;
			i++;
		}
		line[n] = '\0';
		if (i < len && buf[i] == '\n')
			i++;
		if (too_long || n == 0)
			continue;

		/* id parent major:minor root mount-point options [optional...] - fstype source super */
		char *f[64];
		int nf = split(line, f, 64);
		int sep = -1;
		for (int k = 6; k < nf; k++)
			if (strcmp(f[k], "-") == 0) {
				sep = k;
				break;
			}
		if (nf < 5 || sep < 0 || sep + 1 >= nf)
			continue;
		lines++;
		if (strcmp(f[sep + 1], "bpf") != 0)
			continue;
		unescape(f[4]);
		mounts++;
		if (cb && cb(f[4], ctx))
			break;
	}
	return lines == 0 && len > 0 ? -1 : mounts;
}
