// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The ACL file, one rule a line, '#' starts a comment:
 *   ep ADDR udp|tcp PORT pass|drop     an endpoint and its policy
 *   delay ADDR/LEN [DELAY_US]          account sources in this prefix
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "loader.h"

static void acl_default(struct acl_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->ep[0].key.addr = htonl(INADDR_LOOPBACK);
	c->ep[0].key.port = htons(PROBE_PASS_PORT);
	c->ep[0].key.proto = IPPROTO_UDP;
	c->ep[0].val.acl = GW_ACL_PASS;
	c->ep[1].key = c->ep[0].key;
	c->ep[1].key.port = htons(PROBE_DROP_PORT);
	c->ep[1].val.acl = GW_ACL_DROP;
	c->n_ep = 2;
	c->cidr[0].addr = htonl(0x7f000000);
	c->cidr[0].mask = htonl(0xff000000);
	c->cidr[0].prefix_len = 8;
	c->cidr[0].delay_us = 500;
	c->n_cidr = 1;
}

static int acl_parse_line(struct acl_conf *c, char *line, const char *where)
{
	char *save, *w[6];
	unsigned long v;
	int n = 0;

	for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (*t == '#')
			break;
		if (n == 6) {
			err("%s: too many words", where);
			return -1;
		}
		w[n++] = t;
	}
	if (n == 0)
		return 0;

	if (!strcmp(w[0], "ep")) {
		struct acl_ep *e;

		if (n != 5) {
			err("%s: expected: ep ADDR udp|tcp PORT pass|drop", where);
			return -1;
		}
		if (c->n_ep == GW_MAX_ENDPOINTS) {
			err("%s: more than %d endpoints", where, GW_MAX_ENDPOINTS);
			return -1;
		}
		e = &c->ep[c->n_ep];
		memset(e, 0, sizeof(*e));
		if (inet_pton(AF_INET, w[1], &e->key.addr) != 1) {
			err("%s: bad IPv4 address '%s'", where, w[1]);
			return -1;
		}
		if (!strcmp(w[2], "udp"))
			e->key.proto = IPPROTO_UDP;
		else if (!strcmp(w[2], "tcp"))
			e->key.proto = IPPROTO_TCP;
		else {
			err("%s: protocol must be udp or tcp, not '%s'", where, w[2]);
			return -1;
		}
		if (parse_uint(w[3], 65535, &v) || v == 0) {
			err("%s: bad port '%s'", where, w[3]);
			return -1;
		}
		e->key.port = htons((uint16_t)v);
		if (!strcmp(w[4], "pass"))
			e->val.acl = GW_ACL_PASS;
		else if (!strcmp(w[4], "drop"))
			e->val.acl = GW_ACL_DROP;
		else {
			err("%s: policy must be pass or drop, not '%s'", where, w[4]);
			return -1;
		}
		c->n_ep++;
		return 0;
	}
	if (!strcmp(w[0], "delay")) {
		struct gw_cidr *d;
		char *slash;
		uint32_t mask;

		if (n != 2 && n != 3) {
			err("%s: expected: delay ADDR/LEN [DELAY_US]", where);
			return -1;
		}
		if (c->n_cidr == GW_MAX_CIDRS) {
			err("%s: more than %d delay prefixes", where, GW_MAX_CIDRS);
			return -1;
		}
		d = &c->cidr[c->n_cidr];
		memset(d, 0, sizeof(*d));
		slash = strchr(w[1], '/');
		if (!slash || parse_uint(slash + 1, 32, &v) || v == 0) {
			err("%s: expected ADDR/LEN with LEN 1..32, not '%s'", where, w[1]);
			return -1;
		}
		*slash = '\0';
		if (inet_pton(AF_INET, w[1], &d->addr) != 1) {
			err("%s: bad IPv4 address '%s'", where, w[1]);
			return -1;
		}
		d->prefix_len = (uint32_t)v;
		mask = v == 32 ? 0xffffffffu : ~(0xffffffffu >> v);
		d->mask = htonl(mask);
		d->addr &= d->mask;
		if (n == 3) {
			if (parse_uint(w[2], UINT32_MAX, &v)) {
				err("%s: bad delay '%s'", where, w[2]);
				return -1;
			}
			d->delay_us = (uint32_t)v;
		}
		c->n_cidr++;
		return 0;
	}
	err("%s: unknown rule '%s' (ep or delay)", where, w[0]);
	return -1;
}

int acl_load_conf(const char *file, struct acl_conf *c)
{
	char line[512], where[PATH_MAX + 32];
	unsigned int lineno = 0;
	int rc = 0;
	FILE *f;

	if (!file) {
		acl_default(c);
		return 0;
	}
	memset(c, 0, sizeof(*c));
	f = fopen(file, "re");
	if (!f) {
		err("cannot open ACL %s: %s", file, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%u", file, lineno);
		if (!strchr(line, '\n') && !feof(f)) {
			err("%s: line too long", where);
			rc = -1;
			break;
		}
		rc = acl_parse_line(c, line, where);
	}
	if (rc == 0 && ferror(f)) {
		err("cannot read ACL %s", file);
		rc = -1;
	}
	fclose(f);
	return rc;
}
