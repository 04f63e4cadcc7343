// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Everything known about the object behind an FD, merged from the journal's
 * object table (written at creation), the snapshot's fdinfo (the kernel's
 * word at the end) and the pins.  Type numbers become libbpf's names.
 */
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "analyzer.h"

static const char *type_name(int kind, uint32_t type, char *buf, size_t len)
{
	const char *s = NULL;
	if (kind == BPFLEAK_KIND_MAP)
		s = libbpf_bpf_map_type_str((enum bpf_map_type)type);
	else if (kind == BPFLEAK_KIND_PROG)
		s = libbpf_bpf_prog_type_str((enum bpf_prog_type)type);
	else if (kind == BPFLEAK_KIND_LINK)
		s = libbpf_bpf_link_type_str((enum bpf_link_type)type);
	if (s)
		return s;
	/* A type newer than our libbpf: the number is still worth showing. */
	snprintf(buf, len, "%u", type);
	return buf;
}

void object_view(const struct model *m, const struct proc *p, const struct fdrec *r,
		 struct obj_view *v)
{
	memset(v, 0, sizeof(*v));
	v->kind = r->kind;
	v->id = r->obj_id;
	const struct object_info *oi = r->obj_id ? model_object(m, r->kind, r->obj_id) : NULL;
	const struct bpfleak_snap_fd *sf = r->sfd;
	const struct bpfleak_fdinfo *fi = sf && sf->fdinfo ? &sf->info : NULL;

	if (oi) {
		v->name = oi->name && *oi->name ? oi->name : NULL;
		if (r->kind == BPFLEAK_KIND_MAP || r->kind == BPFLEAK_KIND_PROG ||
		    r->kind == BPFLEAK_KIND_LINK)
			v->type = type_name(r->kind, (uint32_t)oi->type, v->type_buf, sizeof(v->type_buf));
		if (r->kind == BPFLEAK_KIND_MAP) {
			v->has_map = 1;
			v->key_size = oi->key_size;
			v->value_size = oi->value_size;
			v->max_entries = oi->max_entries;
			v->flags = oi->flags;
		}
		v->tag = oi->tag && *oi->tag ? oi->tag : NULL;
		v->prog_id = oi->prog_id;
	} else if (fi) {
		if (r->kind == BPFLEAK_KIND_MAP) {
			v->type = type_name(r->kind, fi->map_type, v->type_buf, sizeof(v->type_buf));
			v->has_map = 1;
			v->key_size = fi->key_size;
			v->value_size = fi->value_size;
			v->max_entries = fi->max_entries;
			v->flags = fi->map_flags;
		} else if (r->kind == BPFLEAK_KIND_PROG) {
			v->type = type_name(r->kind, fi->prog_type, v->type_buf, sizeof(v->type_buf));
		} else if (r->kind == BPFLEAK_KIND_LINK && fi->link_type_name[0]) {
			snprintf(v->type_buf, sizeof(v->type_buf), "%s", fi->link_type_name);
			v->type = v->type_buf;
		}
	}
	if (fi) {
		if (!v->tag && fi->prog_tag[0]) {
			memcpy(v->tag_buf, fi->prog_tag, sizeof(v->tag_buf));
			v->tag = v->tag_buf;
		}
		if (!v->prog_id)
			v->prog_id = fi->prog_id;
	}
	v->pins = r->obj_id ? pinset_get(p->pins, r->kind, r->obj_id) : NULL;
	if (!v->name && p->snap && r->obj_id)
		for (size_t i = 0; i < p->snap->found.n_pins; i++) {
			const struct bpfleak_snap_pin *pn = &p->snap->found.pins[i];
			if (pn->kind == r->kind && pn->obj_id == r->obj_id && pn->name[0]) {
				snprintf(v->name_buf, sizeof(v->name_buf), "%s", pn->name);
				v->name = v->name_buf;
				break;
			}
		}
}
