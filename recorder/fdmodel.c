// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * What the recorder believes each FD number of a process holds: a bpf FD
 * (kind, id, O_CLOEXEC), a bpf FD it saw closed (so an EBADF close of that
 * number is a double close), or nothing it knows of.  The kernel is the
 * authority on identities; this model only decides which EBADF closes
 * matter and how a close of an FD held before attach is explained.
 */
#include <stdlib.h>
#include <string.h>
#include "session.h"

/* FD numbers beyond this are not modelled (the kernel's default nr_open is 1M). */
#define FDMODEL_MAX (1 << 20)

struct fdslot *fdmodel_get(struct fdmodel *m, int fd)
{
	if (fd < 0 || fd >= FDMODEL_MAX)
		return NULL;
	if ((size_t)fd >= m->cap) {
		size_t n = m->cap ? m->cap : 64;
		while (n <= (size_t)fd)
			n *= 2;
		struct fdslot *p = realloc(m->slots, n * sizeof(*p));
		if (!p)
			return NULL;
		memset(p + m->cap, 0, (n - m->cap) * sizeof(*p));
		m->slots = p;
		m->cap = n;
	}
	return &m->slots[fd];
}

const struct fdslot *fdmodel_peek(const struct fdmodel *m, int fd)
{
	static const struct fdslot empty;
	return fd >= 0 && (size_t)fd < m->cap ? &m->slots[fd] : &empty;
}

void fdmodel_set_open(struct fdmodel *m, int fd, int kind, uint32_t id, bool cloexec)
{
	struct fdslot *s = fdmodel_get(m, fd);
	if (s)
		*s = (struct fdslot){ FD_OPEN, (uint8_t)kind, cloexec, 1, id };
}

void fdmodel_set_closed(struct fdmodel *m, int fd)
{
	struct fdslot *s = fdmodel_get(m, fd);
	if (s)
		s->state = FD_CLOSED;
}

void fdmodel_clear(struct fdmodel *m, int fd)
{
	struct fdslot *s = fdmodel_get(m, fd);
	if (s)
		memset(s, 0, sizeof(*s));
}

void fdmodel_free(struct fdmodel *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
