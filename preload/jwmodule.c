// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The entry of libbpfleak-journal.so (jwapi.h): its one exported symbol
 * hands the shim the journal writer's functions.  Everything else in the
 * module, sqlite included, is hidden.
 */
#include "jwapi.h"

__attribute__((visibility("default"))) const struct jw_api *bpfleak_journal_api(int version);

const struct jw_api *bpfleak_journal_api(int version)
{
	static const struct jw_api api = {
		.version = JW_API_VERSION,
		.size = sizeof(struct jw_api),
#define JW_API_INIT(ret, name, params, args) .name = jw_##name,
#define JW_API_VINIT(name, params, args) .name = jw_##name,
		JW_API(JW_API_INIT, JW_API_VINIT)
#undef JW_API_INIT
#undef JW_API_VINIT
	};
	return version == JW_API_VERSION ? &api : NULL;
}
