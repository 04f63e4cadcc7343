// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * analyzer/dwfl_symbols.c answers for libdwfl's dwfl_module_addrname from
 * one call per class of addresses: its answer must be libdwfl's own for
 * every address.  Checked on the files this test has loaded (libc,
 * libsqlite3, libdw, the test binary with its full .symtab), at symbol
 * and section bounds, one byte either side of them, and at addresses
 * spread through each file, asked in an order that fills the classes from
 * different ends.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "symbolize.h"

struct loaded {
	char path[4096];
	int found;
};

static int on_phdr(struct dl_phdr_info *info, size_t size, void *ctx)
{
	(void)size;
	struct loaded *want = ctx;
	const char *name = info->dlpi_name && *info->dlpi_name ? info->dlpi_name : NULL;
	if (!name)
		return 0;
	for (; want->path[0]; want++)
		if (!want->found && strstr(name, want->path)) {
			snprintf(want->path, sizeof(want->path), "%s", name);
			want->found = 1;
		}
	return 0;
}

static void same_answer(struct dfile *d, GElf_Addr a, size_t *checked)
{
	const char *mine = dfile_symbol(d, a);
	const char *theirs = dwfl_module_addrname(d->mod, a);
	if (mine != theirs && !(mine && theirs && strcmp(mine, theirs) == 0))
		fail_msg("%s at 0x%llx: %s, libdwfl says %s", d->path, (unsigned long long)a,
			 mine ? mine : "(none)", theirs ? theirs : "(none)");
	(*checked)++;
}

static void check_file(const char *path)
{
	struct model *m = calloc(1, sizeof(*m));
	struct dfile d = { .path = strdup(path), .file_size = -1, .mtime_ns = -1 };
	assert_non_null(m);
	dfile_open(m, &d);
	assert_true(d.usable);
	/* The first question builds the classes: ask one, then walk them. */
	(void)dfile_symbol(&d, 0);
	assert_true(d.n_sym_bounds > 2);
	size_t checked = 0, nb = d.n_sym_bounds;
	GElf_Addr lo = d.sym_bounds[0], hi = d.sym_bounds[nb - 1];
	GElf_Addr *bounds = malloc(nb * sizeof(*bounds));
	memcpy(bounds, d.sym_bounds, nb * sizeof(*bounds));
	/*
	 * Inside each class first (from the top down), then at and around the
	 * bounds; every bound of a small file, a spread of a libc's (each
	 * question costs libdwfl a walk of the whole table).
	 */
	size_t step = nb / 1000 + 1;
	for (size_t i = nb - 1; i >= step; i -= step)
		if (bounds[i] - bounds[i - 1] > 2)
			same_answer(&d, bounds[i - 1] + (bounds[i] - bounds[i - 1]) * 2 / 3, &checked);
	for (size_t i = 0; i < nb; i += step) {
		same_answer(&d, bounds[i], &checked);
		same_answer(&d, bounds[i] + 1, &checked);
		if (bounds[i])
			same_answer(&d, bounds[i] - 1, &checked);
	}
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 1000 && hi > lo; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		same_answer(&d, lo + x % (hi - lo), &checked);
	}
	free(bounds);
	print_message("%s: %zu addresses, %zu bounds\n", path, checked, nb);
	assert_true(checked > 3 * (nb / step));
	dfile_close(&d);
	model_free(m);
	free(m);
}

static void test_same_as_libdwfl(void **state)
{
	(void)state;
	struct loaded want[] = { { "libc.so" }, { "libsqlite3.so" }, { "libdw" }, { "" } };
	dl_iterate_phdr(on_phdr, want);
	int files = 0;
	for (struct loaded *w = want; w->path[0]; w++)
		if (w->found) {
			check_file(w->path);
			files++;
		}
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	check_file(self);
	assert_true(files >= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_libdwfl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
