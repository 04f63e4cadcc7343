// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* Parsing /proc/PID/fdinfo/N of bpf FDs and the readlink text of the FD. */
#include <stdlib.h>
#include <string.h>
#include <bpfleak/journal.h>
#include <bpfleak/procfs.h>

static uint32_t parse_u32(const char *s, int base)
{
	unsigned long v = strtoul(s, NULL, base);
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static void copy_word(char *dst, size_t cap, const char *src)
{
	size_t n = 0;
	while (src[n] && src[n] != '\n' && src[n] != ' ' && src[n] != '\t' && n + 1 < cap) {
		dst[n] = src[n];
		n++;
	}
	dst[n] = '\0';
}

/* Returns the value text of "key:\tvalue" when line starts with key. */
static const char *value_of(const char *line, const char *key)
{
	size_t k = strlen(key);
	if (strncmp(line, key, k) != 0 || line[k] != ':')
		return NULL;
	line += k + 1;
	while (*line == ' ' || *line == '\t')
		line++;
	return line;
}

static void parse_line(const char *line, struct bpfleak_fdinfo *out, int *seen)
{
	const char *v;

	if ((v = value_of(line, "flags"))) {
		/* flags are octal; O_CLOEXEC is 02000000 on every Linux arch we run on */
		out->cloexec = (parse_u32(v, 8) & 02000000) != 0;
	} else if ((v = value_of(line, "map_id"))) {
		out->obj_id = parse_u32(v, 10);
		out->kind = BPFLEAK_KIND_MAP;
	} else if ((v = value_of(line, "link_id"))) {
		out->obj_id = parse_u32(v, 10);
		out->kind = BPFLEAK_KIND_LINK;
	} else if ((v = value_of(line, "btf_id"))) {
		out->obj_id = parse_u32(v, 10);
		out->kind = BPFLEAK_KIND_BTF;
	} else if ((v = value_of(line, "prog_id"))) {
		/* A link's fdinfo names its program too: the link_id wins. */
		out->prog_id = parse_u32(v, 10);
		if (out->kind != BPFLEAK_KIND_LINK && !*seen) {
			out->obj_id = out->prog_id;
			out->kind = BPFLEAK_KIND_PROG;
		}
	} else if ((v = value_of(line, "link_type"))) {
		copy_word(out->link_type_name, sizeof(out->link_type_name), v);
		out->kind = BPFLEAK_KIND_LINK;
		*seen = 1;
	} else if ((v = value_of(line, "map_type"))) {
		out->map_type = parse_u32(v, 10);
	} else if ((v = value_of(line, "key_size"))) {
		out->key_size = parse_u32(v, 10);
	} else if ((v = value_of(line, "value_size"))) {
		out->value_size = parse_u32(v, 10);
	} else if ((v = value_of(line, "max_entries"))) {
		out->max_entries = parse_u32(v, 10);
	} else if ((v = value_of(line, "map_flags"))) {
		out->map_flags = parse_u32(v, 16);
	} else if ((v = value_of(line, "prog_type"))) {
		out->prog_type = parse_u32(v, 10);
	} else if ((v = value_of(line, "prog_tag"))) {
		copy_word(out->prog_tag, sizeof(out->prog_tag), v);
	}
}

int bpfleak_fdinfo_parse(const char *buf, size_t len, struct bpfleak_fdinfo *out)
{
	char line[256];
	size_t i = 0;
	int link_seen = 0;

	memset(out, 0, sizeof(*out));
	while (i < len && buf[i]) {
		size_t n = 0;
		while (i < len && buf[i] && buf[i] != '\n') {
			if (n + 1 < sizeof(line))
				line[n++] = buf[i];
			i++;
		}
		line[n] = '\0';
		if (i < len && buf[i] == '\n')
			i++;
		parse_line(line, out, &link_seen);
	}
	if (out->kind == BPFLEAK_KIND_LINK && out->obj_id == 0 && !link_seen)
		out->kind = BPFLEAK_KIND_UNKNOWN;
	return out->kind;
}

int bpfleak_kind_from_target(const char *t)
{
	static const struct { const char *text; int kind; } table[] = {
		{ "anon_inode:bpf-map", BPFLEAK_KIND_MAP },
		{ "anon_inode:bpf-prog", BPFLEAK_KIND_PROG },
		{ "anon_inode:bpf_link", BPFLEAK_KIND_LINK },
		{ "anon_inode:bpf-link", BPFLEAK_KIND_LINK },
		{ "anon_inode:btf", BPFLEAK_KIND_BTF },
		{ "anon_inode:bpf_iter", BPFLEAK_KIND_ITER },
		{ "anon_inode:bpf-stats", BPFLEAK_KIND_STATS },
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(t, table[i].text) == 0)
			return table[i].kind;
	/* A token is a bpffs file; its readlink is "/bpf-token (deleted)"-like. */
	if (strstr(t, "bpf-token"))
		return BPFLEAK_KIND_TOKEN;
	return BPFLEAK_KIND_UNKNOWN;
}
