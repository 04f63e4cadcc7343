// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Probe datagrams over lo, one to the drop endpoint and one to the pass
 * endpoint each tick: what the datapath did with them is the proof that it
 * is attached and applies the ACL.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "loader.h"

static int udp_socket(uint16_t bind_port)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		.sin_port = htons(bind_port),
	};
	int one = 1;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind_port && bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

void probe_close(struct probe *p)
{
	if (p->tx >= 0)
		close(p->tx);
	if (p->rx_pass >= 0)
		close(p->rx_pass);
	if (p->rx_drop >= 0)
		close(p->rx_drop);
	p->tx = p->rx_pass = p->rx_drop = -1;
}

int probe_open(struct probe *p)
{
	p->rx_pass = udp_socket(PROBE_PASS_PORT);
	p->rx_drop = p->rx_pass < 0 ? -1 : udp_socket(PROBE_DROP_PORT);
	p->tx = p->rx_drop < 0 ? -1 : udp_socket(0);
	if (p->tx < 0) {
		err("probe: cannot bind 127.0.0.1:%d/%d: %s", PROBE_PASS_PORT,
		    PROBE_DROP_PORT, strerror(errno));
		probe_close(p);
		return -1;
	}
	return 0;
}

static bool drain(int fd)
{
	char buf[64];
	bool got = false;

	while (recv(fd, buf, sizeof(buf), 0) >= 0)
		got = true;
	return got;
}

/*
 * Send one datagram to the drop endpoint, then one to the pass endpoint,
 * over lo.  Loopback delivers in order, so once the second has arrived the
 * first has either arrived too or been dropped by the ACL.
 */
void probe_run(struct probe *p)
{
	static const char payload[] = "bpfleak gateway probe";
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct pollfd pfd = { .fd = p->rx_pass, .events = POLLIN };

	if (p->tx < 0)
		return;
	drain(p->rx_pass);
	drain(p->rx_drop);
	to.sin_port = htons(PROBE_DROP_PORT);
	if (sendto(p->tx, payload, sizeof(payload), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		goto fail;
	to.sin_port = htons(PROBE_PASS_PORT);
	if (sendto(p->tx, payload, sizeof(payload), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		goto fail;
	p->sent++;
	if (poll(&pfd, 1, PROBE_WAIT_MS) == 1 && drain(p->rx_pass)) {
		p->delivered++;
		if (!drain(p->rx_drop))
			p->blocked++;
	} else {
		p->lost++;
	}
	return;
fail:
	err("probe: sendto: %s", strerror(errno));
}
