// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Suppressions, valgrind style: a file of blocks, each naming an intended
 * pattern of call stack (and optionally classes) whose findings are not
 * reported and do not count for the exit code.
 *
 *   # comment
 *   {
 *      acl_map_is_held_on_purpose       <- the name (first line)
 *      class:duplicate,outstanding      <- optional: only these classes
 *      obj:libbpf.so*                   <- frame patterns, from the first
 *      fun:acl_reload                   <-   shown frame (the caller of the
 *      ...                              <-   bpf call) outwards; "..." is
 *      src:main.c:80                    <-   any number of frames
 *   }
 *
 * fun: matches the function name, src: "file:line" or "file" (full path or
 * base name), obj: the module path or its base name; all are fnmatch(3)
 * globs where '*' also matches '/'.  The patterns must match consecutive
 * frames from the top, like valgrind's; later frames are not constrained.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "analyzer.h"

enum pat_kind { PAT_FUN, PAT_SRC, PAT_OBJ, PAT_ANY };

struct pat {
	int kind;
	char *glob;
};

struct supp {
	char *name;
	unsigned class_mask;     /* 0 = every class */
	struct pat *pats;
	size_t n, cap;
};

struct suppressions {
	struct supp *s;
	size_t n, cap;
};

void suppressions_free(struct suppressions *ss)
{
	if (!ss)
		return;
	for (size_t i = 0; i < ss->n; i++) {
		for (size_t k = 0; k < ss->s[i].n; k++)
			free(ss->s[i].pats[k].glob);
		free(ss->s[i].pats);
		free(ss->s[i].name);
	}
	free(ss->s);
	free(ss);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static int parse_classes(char *list, unsigned *mask)
{
	char *save, *tok;
	for (tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		int c = cls_from_name(tok);
		if (c < 0)
			return -1;
		*mask |= 1u << c;
	}
	return 0;
}

struct suppressions *suppressions_load(const char *path, char *err, size_t errlen)
{
	struct stat st;
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open suppressions: %s", path, strerror(errno));
		return NULL;
	}
	/* fopen of a directory succeeds and its reads fail: say so, not "no suppressions". */
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: cannot read suppressions: it is a directory", path);
		fclose(f);
		return NULL;
	}
	struct suppressions *ss = xcalloc(1, sizeof(*ss));
	struct supp *cur = NULL;
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0;
	while (getline(&line, &cap, f) > 0) {
		lineno++;
		char *t = trim(line);
		if (!*t || *t == '#')
			continue;
		if (!cur) {
			if (strcmp(t, "{") != 0)
				goto bad;
			GROW(ss->s, ss->cap, ss->n + 1);
			cur = &ss->s[ss->n++];
			memset(cur, 0, sizeof(*cur));
			continue;
		}
		if (strcmp(t, "}") == 0) {
			if (!cur->name)
				goto bad;
			cur = NULL;
			continue;
		}
		if (!cur->name) {
			cur->name = xstrdup(t);
			continue;
		}
		struct pat pt = { PAT_ANY, NULL };
		if (strncmp(t, "class:", 6) == 0) {
			if (parse_classes(t + 6, &cur->class_mask) < 0)
				goto bad;
			continue;
		} else if (strcmp(t, "...") == 0) {
			pt.kind = PAT_ANY;
		} else if (strncmp(t, "fun:", 4) == 0) {
			pt.kind = PAT_FUN;
			pt.glob = xstrdup(trim(t + 4));
		} else if (strncmp(t, "src:", 4) == 0) {
			pt.kind = PAT_SRC;
			pt.glob = xstrdup(trim(t + 4));
		} else if (strncmp(t, "obj:", 4) == 0) {
			pt.kind = PAT_OBJ;
			pt.glob = xstrdup(trim(t + 4));
		} else {
			goto bad;
		}
		GROW(cur->pats, cur->cap, cur->n + 1);
		cur->pats[cur->n++] = pt;
	}
	int read_errno = ferror(f) ? (errno ? errno : EIO) : 0;
	free(line);
	if (read_errno) {
		snprintf(err, errlen, "%s: cannot read suppressions: %s", path, strerror(read_errno));
		fclose(f);
		suppressions_free(ss);
		return NULL;
	}
	fclose(f);
	if (cur) {
		snprintf(err, errlen, "%s: suppression \"%s\" is not closed with }", path,
			 cur->name ? cur->name : "?");
		suppressions_free(ss);
		return NULL;
	}
	return ss;
bad:
	snprintf(err, errlen, "%s:%d: not a suppression line: %s", path, lineno, trim(line));
	free(line);
	fclose(f);
	suppressions_free(ss);
	return NULL;
}

static int glob(const char *g, const char *s)
{
	return s && fnmatch(g, s, 0) == 0;
}

static int frame_matches(const struct pat *pt, const struct frame *fr)
{
	char buf[4096];
	switch (pt->kind) {
	case PAT_FUN:
		return glob(pt->glob, fr->function);
	case PAT_SRC:
		if (!fr->file)
			return 0;
		if (glob(pt->glob, fr->file) || glob(pt->glob, path_base(fr->file)))
			return 1;
		snprintf(buf, sizeof(buf), "%s:%d", fr->file, fr->line);
		if (glob(pt->glob, buf))
			return 1;
		snprintf(buf, sizeof(buf), "%s:%d", path_base(fr->file), fr->line);
		return glob(pt->glob, buf);
	case PAT_OBJ:
		return fr->module && (glob(pt->glob, fr->module) || glob(pt->glob, path_base(fr->module)));
	}
	return 0;
}

static int match_from(const struct supp *s, size_t pi, const struct rstack *rs, size_t fi)
{
	if (pi == s->n)
		return 1;
	if (s->pats[pi].kind == PAT_ANY) {
		for (size_t k = fi; k <= rs->n; k++)
			if (match_from(s, pi + 1, rs, k))
				return 1;
		return 0;
	}
	if (fi == rs->n || !frame_matches(&s->pats[pi], &rs->f[fi]))
		return 0;
	return match_from(s, pi + 1, rs, fi + 1);
}

const char *suppressions_match(const struct suppressions *ss, int cls, const struct rstack *rs)
{
	for (size_t i = 0; i < ss->n; i++) {
		const struct supp *s = &ss->s[i];
		if (s->class_mask && !(s->class_mask & (1u << cls)))
			continue;
		/* A block of only "..." (or only class:) would hide everything: require a frame. */
		if (!rs->n)
			continue;
		if (match_from(s, 0, rs, 0))
			return s->name;
	}
	return NULL;
}
