// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Which bpffs pins reach an object: the snapshot's walk of every bpffs, or
 * the journal's pin events when there is no snapshot.
 */
#include <stdlib.h>
#include <string.h>
#include "model.h"

void pinset_add(struct pinset *ps, int kind, uint32_t id, const char *path)
{
	bool fresh;
	uint64_t *slot = hmap_slot(&ps->idx, (uint64_t)kind << 32 | id, ps->n, &fresh);
	if (fresh) {
		GROW(ps->paths, ps->cap, ps->n + 1);
		ps->paths[ps->n++] = xcalloc(1, sizeof(char *));
	}
	char ***list = &ps->paths[*slot];
	size_t n = 0;
	while ((*list)[n]) {
		if (strcmp((*list)[n], path) == 0)
			return;
		n++;
	}
	*list = xrealloc(*list, (n + 2) * sizeof(char *));
	(*list)[n] = xstrdup(path);
	(*list)[n + 1] = NULL;
}

char *const *pinset_get(const struct pinset *ps, int kind, uint32_t id)
{
	uint64_t v;
	if (!ps || !hmap_get(&ps->idx, (uint64_t)kind << 32 | id, &v))
		return NULL;
	return ps->paths[v];
}

void pinset_free(struct pinset *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		for (char **s = ps->paths[i]; *s; s++)
			free(*s);
		free(ps->paths[i]);
	}
	free(ps->paths);
	hmap_free(&ps->idx);
	memset(ps, 0, sizeof(*ps));
}
