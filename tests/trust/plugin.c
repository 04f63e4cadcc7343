// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* A plugin that leaks a map from a function of its own (built twice, as
 * plugin_a.so and plugin_b.so, with PLUGIN_NAME set). */
#include <bpf/bpf.h>

__attribute__((noinline)) static int PLUGIN_FN(void)
{
	return bpf_map_create(BPF_MAP_TYPE_ARRAY, PLUGIN_NAME, 4, 8, 4, NULL);   /* LEAK: plugin */
}

int plugin_create(void)
{
	return PLUGIN_FN();
}
