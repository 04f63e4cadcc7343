// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpfleak/duration.h>

int64_t bpfleak_parse_duration_ns(const char *s)
{
	static const struct { const char *unit; double mul; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
		{ "m", 60e9 }, { "h", 3600e9 }, { "d", 86400e9 }, { "", 1e9 },
	};
	char *end;
	if (!s || !*s)
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !(v >= 0))
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].unit) == 0) {
			double ns = v * units[i].mul;
			return ns > 9.2e18 ? -1 : (int64_t)ns;
		}
	return -1;
}

int64_t bpfleak_parse_fold_age_ns(const char *s)
{
	return s && strcmp(s, "off") == 0 ? 0 : bpfleak_parse_duration_ns(s);
}
