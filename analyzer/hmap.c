// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
#include <stdlib.h>
#include <string.h>
#include "hmap.h"
#include "util.h"

void hmap_free(struct hmap *h)
{
	free(h->keys);
	free(h->vals);
	free(h->used);
	memset(h, 0, sizeof(*h));
}

static size_t find(const struct hmap *h, uint64_t key, bool *found)
{
	size_t mask = h->cap - 1;
	size_t i = (size_t)hmap_mix(key) & mask;
	while (h->used[i]) {
		if (h->keys[i] == key) {
			*found = true;
			return i;
		}
		i = (i + 1) & mask;
	}
	*found = false;
	return i;
}

bool hmap_get(const struct hmap *h, uint64_t key, uint64_t *val)
{
	bool found;
	if (!h->cap)
		return false;
	size_t i = find(h, key, &found);
	if (found && val)
		*val = h->vals[i];
	return found;
}

static void grow(struct hmap *h)
{
	struct hmap n = { 0 };
	n.cap = h->cap ? h->cap * 2 : 64;
	n.keys = xcalloc(n.cap, sizeof(*n.keys));
	n.vals = xcalloc(n.cap, sizeof(*n.vals));
	n.used = xcalloc(n.cap, 1);
	for (size_t i = 0; i < h->cap; i++) {
		if (!h->used[i])
			continue;
		bool found;
		size_t j = find(&n, h->keys[i], &found);
		n.used[j] = 1;
		n.keys[j] = h->keys[i];
		n.vals[j] = h->vals[i];
	}
	n.len = h->len;
	hmap_free(h);
	*h = n;
}

uint64_t *hmap_slot(struct hmap *h, uint64_t key, uint64_t dflt, bool *fresh)
{
	bool found;
	/* Keep the load under 1/2 so linear probes stay short. */
	if ((h->len + 1) * 2 > h->cap)
		grow(h);
	size_t i = find(h, key, &found);
	if (!found) {
		h->used[i] = 1;
		h->keys[i] = key;
		h->vals[i] = dflt;
		h->len++;
	}
	if (fresh)
		*fresh = !found;
	return &h->vals[i];
}

void hmap_put(struct hmap *h, uint64_t key, uint64_t val)
{
	*hmap_slot(h, key, val, NULL) = val;
}
