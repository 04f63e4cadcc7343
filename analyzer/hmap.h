/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * A uint64 -> uint64 open-addressing hash map.  The analyzer replays up to
 * millions of events; every per-event lookup goes through this table (or a
 * plain array indexed by FD number), never through SQL.
 */
#ifndef BPFLEAK_HMAP_H
#define BPFLEAK_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hmap {
	uint64_t *keys;
	uint64_t *vals;
	uint8_t *used;
	size_t cap;   /* power of two, or 0 */
	size_t len;
};

void hmap_free(struct hmap *h);
bool hmap_get(const struct hmap *h, uint64_t key, uint64_t *val);
void hmap_put(struct hmap *h, uint64_t key, uint64_t val);
/* The value slot for key, inserted as dflt when absent; *fresh says which. */
uint64_t *hmap_slot(struct hmap *h, uint64_t key, uint64_t dflt, bool *fresh);

/* 64-bit mixer (splitmix64 finalizer): keys are small dense integers. */
static inline uint64_t hmap_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

#endif
