// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
#include "analyzer.h"

int main(int argc, char **argv)
{
	return report_main(argc, argv, stdout, stderr);
}
