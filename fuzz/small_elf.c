// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * A small program with debug info whose path the journal-lies fuzzer puts
 * in module rows, so symbolization runs on real DWARF (cheaply: the
 * harness binary itself would be parsed on every input).
 */
#include <stdio.h>

__attribute__((noinline)) int leaf(int x)
{
	return x * 3 + 1;
}

__attribute__((noinline)) int middle(int x)
{
	int s = 0;
	for (int i = 0; i < x; i++)
		s += leaf(i);
	return s;
}

int main(int argc, char **argv)
{
	(void)argv;
	printf("%d\n", middle(argc));
	return 0;
}
