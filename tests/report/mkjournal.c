// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * mkjournal SCENARIO OUT.db: write one of the report tests' synthetic
 * journals (scenarios.h) to a file, for the tests that run a browser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scenarios.h"

int main(int argc, char **argv)
{
	struct jb j;
	if (argc != 3) {
		fprintf(stderr, "usage: mkjournal multi|hostile|busy OUT.db\n");
		return 2;
	}
	if (!strcmp(argv[1], "multi"))
		scenario_multi(&j);
	else if (!strcmp(argv[1], "hostile"))
		scenario_hostile(&j);
	else if (!strcmp(argv[1], "busy"))
		scenario_busy(&j, 20000);
	else {
		fprintf(stderr, "mkjournal: unknown scenario '%s'\n", argv[1]);
		return 2;
	}
	jb_done(&j);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", j.path, argv[2]);
	int rc = system(cmd);
	jb_cleanup(&j);
	return rc == 0 ? 0 : 1;
}
