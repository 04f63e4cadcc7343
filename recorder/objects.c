// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * One `object` row per kernel object (type, name, sizes), as the shim
 * writes them.  The BPF side reads these fields from the object itself when
 * an FD is created, so a short-lived object still gets its name; for FDs
 * held before attach the recorder asks the kernel: by id (as root), else
 * through a copy of the process's FD (pidfd_getfd).  An object closed
 * before that keeps a row with its identity only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpfleak/journal.h>
#include "session.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static size_t home(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
}

static struct obj_entry *lookup(const struct session *s, uint64_t key)
{
	if (!s->obj_cap)
		return NULL;
	size_t k = home(key, s->obj_cap);
	while (s->objects[k].key && s->objects[k].key != key)
		k = (k + 1) & (s->obj_cap - 1);
	return &s->objects[k];
}

/* The entry for key, inserted empty if new (*fresh); NULL when out of memory. */
static struct obj_entry *insert(struct session *s, uint64_t key, bool *fresh)
{
	if (s->n_objects * 2 >= s->obj_cap) {
		size_t cap = s->obj_cap ? s->obj_cap * 2 : 1024;
		struct obj_entry *t = calloc(cap, sizeof(*t));
		if (!t)
			return NULL;
		for (size_t i = 0; i < s->obj_cap; i++) {
			if (!s->objects[i].key)
				continue;
			size_t k = home(s->objects[i].key, cap);
			while (t[k].key)
				k = (k + 1) & (cap - 1);
			t[k] = s->objects[i];
		}
		free(s->objects);
		s->objects = t;
		s->obj_cap = cap;
	}
	struct obj_entry *e = lookup(s, key);
	*fresh = !e->key;
	if (*fresh) {
		e->key = key;
		s->n_objects++;
	}
	return e;
}

const struct bpfleak_obj_info *objects_find(const struct session *s, int kind, uint32_t id)
{
	const struct obj_entry *e = lookup(s, (uint64_t)kind << 32 | id);
	return e && e->key ? &e->info : NULL;
}

void objects_note_info(struct session *s, const struct bpfleak_obj_info *info, uint64_t ts)
{
	bool fresh;
	if (!info->id)
		return;
	struct obj_entry *e = insert(s, (uint64_t)info->kind << 32 | info->id, &fresh);
	if (!e || !fresh)
		return;
	e->info = *info;
	if (session_batch(s) && jw_object(&s->j, info, ts) != 0)
		session_write_failed(s, "object row");
}

static int by_id(int kind, uint32_t id, struct bpfleak_obj_info *out)
{
	int fd;
	switch (kind) {
	case BPFLEAK_KIND_MAP: fd = bpf_map_get_fd_by_id(id); break;
	case BPFLEAK_KIND_PROG: fd = bpf_prog_get_fd_by_id(id); break;
	case BPFLEAK_KIND_LINK: fd = bpf_link_get_fd_by_id(id); break;
	case BPFLEAK_KIND_BTF: fd = bpf_btf_get_fd_by_id(id); break;
	default: return -EINVAL;
	}
	if (fd < 0)
		return -errno;
	int rc = bpfleak_obj_info_get(fd, kind, out);
	close(fd);
	return rc ? rc : out->id == id ? 0 : -ESTALE;
}

static int by_pidfd(pid_t pid, int target_fd, int kind, uint32_t id, struct bpfleak_obj_info *out)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	int fd = (int)syscall(SYS_pidfd_getfd, pidfd, target_fd, 0);
	int rc = fd < 0 ? -errno : bpfleak_obj_info_get(fd, kind, out);
	if (fd >= 0)
		close(fd);
	close(pidfd);
	/* The number may hold something else by now. */
	return rc ? rc : out->kind == kind && out->id == id ? 0 : -ESTALE;
}

void objects_note(struct session *s, const struct rec_obj *o, pid_t pid, int fd, uint64_t ts)
{
	if (!o->id || objects_find(s, (int)o->kind, o->id))
		return;
	struct bpfleak_obj_info info;
	memset(&info, 0, sizeof(info));
	if (o->has_info) {
		info.kind = (int)o->kind;
		info.id = o->id;
		info.type = o->type;
		info.key_size = o->key_size;
		info.value_size = o->value_size;
		info.max_entries = o->max_entries;
		info.flags = o->flags;
		info.prog_id = o->prog_id;
		memcpy(info.name, o->name, sizeof(info.name));
		info.name[sizeof(info.name) - 1] = '\0';
		if (o->kind == BPFLEAK_KIND_PROG) {
			static const char digits[] = "0123456789abcdef";
			for (int i = 0; i < 8; i++) {
				info.tag[2 * i] = digits[o->tag[i] >> 4];
				info.tag[2 * i + 1] = digits[o->tag[i] & 15];
			}
			info.tag[16] = '\0';
		}
	} else if (by_id((int)o->kind, o->id, &info) != 0 &&
		   (fd < 0 || by_pidfd(pid, fd, (int)o->kind, o->id, &info) != 0)) {
		memset(&info, 0, sizeof(info));
		info.kind = (int)o->kind;
		info.id = o->id;
	}
	objects_note_info(s, &info, ts);
}
