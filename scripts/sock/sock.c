// SPDX-License-Identifier: GPL-2.0
/*
 * chimney-sock: the VM-side program of the socket target's tests
 * (scripts/vmtests/50-sock.sh, 55-sock-link.sh). Static, for the busybox
 * initramfs.
 *
 *   chimney-sock server PORT          the peer: serves one request per
 *                                     connection until "quit"
 *   chimney-sock refuse IP PORT       refusals: listening, unconnected,
 *                                     loopback, unknown 4-tuple
 *   chimney-sock stream IP PORT DEV CYCLES BYTES
 *                                     data both ways across CYCLES offload/
 *                                     upload cycles, checked byte for byte;
 *                                     the server's FIN: Disconnect
 *   chimney-sock fin IP PORT DEV      the server's FIN behind unread data:
 *                                     Disconnect once the data was read
 *   chimney-sock rst IP PORT DEV      the server's RST: Abort
 *   chimney-sock urg IP PORT DEV      the server's urgent byte: Retrieve
 *   chimney-sock close IP PORT DEV    the client closes while offloaded
 *   chimney-sock diag IP PORT DEV     ss -ti shows the ULP (needs ss)
 *   chimney-sock rto IP PORT DEV CMD  CMD cuts the path; the first
 *                                     retransmission timeout:
 *                                     Retrieve(TimeoutExpiration)
 *   chimney-sock keepalive IP PORT DEV CMD
 *                                     CMD cuts the path of an idle
 *                                     connection; keepalive gives up:
 *                                     Retrieve(TimeoutExpiration)
 *   chimney-sock echo-server PORT     the churn's peer: echoes every
 *                                     connection, many at once
 *   chimney-sock churn IP PORT DEV SECONDS WORKERS [SEED]
 *                                     WORKERS processes offload, use and
 *                                     end sockets five ways while DEV is
 *                                     detached and attached, its knobs
 *                                     written and every file read
 *   chimney-sock pin IP PORT CMD      CMD (must exit 0) runs while the
 *                                     socket holds the ULP, offloaded,
 *                                     then uploaded; the socket closes
 *   chimney-sock addr IP4 IP6 PORT DEV FENCE DEL ADD
 *                                     DEL removes the local IPv4 address:
 *                                     the IPv4 and v4-mapped connections
 *                                     get Retrieve(InvalidState), the IPv6
 *                                     one stays offloaded; ADD puts it back,
 *                                     every stream checked byte for byte
 *   chimney-sock mtu IP4 IP6 PORT DEV FENCE SET RESTORE
 *                                     each MTU change: Retrieve
 *                                     (InvalidState) on both connections
 *                                     (again once offloaded again)
 *   chimney-sock down IP4 IP6 PORT DEV FENCE DOWN UP
 *                                     the link down: UPLOAD_ALL, offloads
 *                                     refused; up: OFFLOAD_RESUME, offloaded
 *                                     again; no event raised
 *                                     (FENCE: a device attached with the
 *                                     fake target, see fence())
 *   chimney-sock sampled IP PORT DEV REASON BYTES [IMPAIR REPAIR]
 *                                     (BYTES 0: idle) offloaded once (then
 *                                     IMPAIR degrades the path, REPAIR
 *                                     undoes it after the upload), data
 *                                     both ways until
 *                                     the sampler's Retrieve(REASON) (a
 *                                     host_reason_* name) uploads it, the
 *                                     stream checked byte for byte; no
 *                                     other Retrieve, Abort or Disconnect
 *                                     (the path's netem and the device's
 *                                     knobs are the caller's)
 *
 * The client side runs where the chimney device DEV (attached with
 * target=sock) is and drives chimney through its debugfs files. Each
 * failure prints "FAIL: ..." and exits 1.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef TCP_ULP
#define TCP_ULP 31
#endif

#define D "/sys/kernel/debug/chimney"
#define CHUNK 16384

static const char *who = "chimney-sock";

static void fail(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL: %s: ", who);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

/* The byte stream each direction carries: position-dependent, so a lost,
 * duplicated or reordered byte shows. */
static unsigned char pattern(uint64_t pos, unsigned int seed)
{
	uint64_t x = (pos / 8 + 1) * 0x9e3779b97f4a7c15ULL ^ seed;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 32;
	return (unsigned char)(x >> (8 * (pos % 8)));
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail("write: %s", strerror(errno));
		p += n;
		len -= n;
	}
}

static void read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail("read: %s", strerror(errno));
		if (!n)
			fail("read: early EOF, %zu bytes missing", len);
		p += n;
		len -= n;
	}
}

static void read_line(int fd, char *buf, size_t size)
{
	size_t i = 0;

	while (i + 1 < size) {
		read_all(fd, buf + i, 1);
		if (buf[i] == '\n')
			break;
		i++;
	}
	buf[i] = '\0';
}

static void msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* --- the server ----------------------------------------------------------- */

static void serve_stream(int fd, uint64_t total)
{
	unsigned char buf[CHUNK], out[CHUNK];
	uint64_t in = 0;
	ssize_t n, i;

	while (in < total) {
		n = read(fd, buf, total - in < CHUNK ? total - in : CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail("stream: read at %llu of %llu: %s", (unsigned long long)in,
			     (unsigned long long)total, n ? strerror(errno) : "EOF");
		for (i = 0; i < n; i++) {
			if (buf[i] != pattern(in + i, 1))
				fail("stream: byte %llu is 0x%02x, not 0x%02x",
				     (unsigned long long)(in + i), buf[i],
				     pattern(in + i, 1));
			out[i] = pattern(in + i, 2);
		}
		write_all(fd, out, n);
		in += n;
	}
	dprintf(fd, "OK %llu\n", (unsigned long long)in);
	/* The client reads the verdict before the FIN comes. */
	msleep(1000);
}

static int server(int port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct linger lg = { 1, 0 };
	int one = 1, zero = 0, ls, fd;
	char line[128], c;

	who = "server";
	/* IPv4 and IPv6 clients both. */
	ls = socket(AF_INET6, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(ls, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (ls < 0 || bind(ls, (void *)&a, sizeof(a)) || listen(ls, 8))
		fail("listen on %d: %s", port, strerror(errno));
	printf("server: listening on %d\n", port);
	fflush(stdout);
	for (;;) {
		fd = accept(ls, NULL, NULL);
		if (fd < 0)
			fail("accept: %s", strerror(errno));
		read_line(fd, line, sizeof(line));
		if (!strcmp(line, "quit")) {
			close(fd);
			break;
		} else if (!strncmp(line, "stream ", 7)) {
			serve_stream(fd, strtoull(line + 7, NULL, 10));
		} else if (!strcmp(line, "fin")) {
			read_all(fd, &c, 1);
			write_all(fd, "data\n", 5);
		} else if (!strcmp(line, "rst")) {
			read_all(fd, &c, 1);
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		} else if (!strcmp(line, "urg")) {
			read_all(fd, &c, 1);
			if (send(fd, "U", 1, MSG_OOB) != 1)
				fail("send MSG_OOB: %s", strerror(errno));
			/* Until the client closes. */
			while (read(fd, &c, 1) > 0)
				;
		} else if (!strcmp(line, "rto")) {
			/* The client's end dies silently: give up after 15 s. */
			struct timeval tv = { 15, 0 };

			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			while (read(fd, &c, 1) > 0)
				;
		} else if (!strcmp(line, "hold")) {
			while (read(fd, &c, 1) > 0)
				;
		} else {
			fail("unknown request '%s'", line);
		}
		close(fd);
	}
	close(ls);
	printf("server: done\n");
	return 0;
}

/* --- the client's view of chimney ------------------------------------------- */

/* One command; the errno it failed with, or 0. */
static int chimney_cmd(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int fd, n, err = 0;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fd = open(D "/command", O_WRONLY);
	if (fd < 0)
		fail("open command: %s", strerror(errno));
	if (write(fd, line, n) != n)
		err = errno;
	close(fd);
	return err;
}

static long long dev_stat(const char *dev, const char *key)
{
	char path[128], name[96];
	long long v, found = -1;
	FILE *f;

	snprintf(path, sizeof(path), D "/devices/%s/stats", dev);
	f = fopen(path, "r");
	if (!f)
		fail("open %s: %s", path, strerror(errno));
	while (fscanf(f, "%95s %lld", name, &v) == 2)
		if (!strcmp(name, key))
			found = v;
	fclose(f);
	if (found < 0)
		fail("no %s in %s", key, path);
	return found;
}

/* What happened instead: the device's counters, before the FAIL line. */
static void dump_stats(const char *dev)
{
	char path[128], line[128];
	FILE *f;

	snprintf(path, sizeof(path), D "/devices/%s/stats", dev);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		printf("%s: %s: %s", who, path, line);
	fclose(f);
}

static void wait_stat(const char *dev, const char *key, long long want)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (dev_stat(dev, key) >= want)
			return;
		msleep(100);
	}
	dump_stats(dev);
	fail("%s stayed at %lld, expected %lld", key, dev_stat(dev, key), want);
}

/* A knob of @dev's socket target. */
static long long knob(const char *dev, const char *name)
{
	char path[128];
	long long v;
	FILE *f;

	snprintf(path, sizeof(path), D "/devices/%s/%s", dev, name);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%lld", &v) != 1)
		fail("read %s: %s", path, strerror(errno));
	fclose(f);
	return v;
}

struct tuple {
	char src[64];
	char dst[64];
};

/* "a.b.c.d:port" or "[v6]:port", as chimney's commands and listings. */
static void endpoint(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	const struct sockaddr_in6 *s6 = (const void *)ss;
	const struct sockaddr_in *s4 = (const void *)ss;
	char a[INET6_ADDRSTRLEN];

	/* A v4-mapped IPv6 socket's connection is IPv4 to chimney. */
	if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		snprintf(buf, size, "%s:%u",
			 inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], a, sizeof(a)),
			 ntohs(s6->sin6_port));
	else if (ss->ss_family == AF_INET6)
		snprintf(buf, size, "[%s]:%u",
			 inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a)),
			 ntohs(s6->sin6_port));
	else
		snprintf(buf, size, "%s:%u",
			 inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a)),
			 ntohs(s4->sin_port));
}

/* @fd's local (@l) and remote (@r) ends. */
static void get_ends(int fd, struct sockaddr_storage *l,
		     struct sockaddr_storage *r)
{
	socklen_t len = sizeof(*l);

	if (getsockname(fd, (void *)l, &len))
		fail("getsockname: %s", strerror(errno));
	len = sizeof(*r);
	if (getpeername(fd, (void *)r, &len))
		fail("getpeername: %s", strerror(errno));
}

static void get_tuple(int fd, struct tuple *t)
{
	struct sockaddr_storage l, r;

	get_ends(fd, &l, &r);
	endpoint(&l, t->src, sizeof(t->src));
	endpoint(&r, t->dst, sizeof(t->dst));
}

/* The connections line of @t: 1 and its socket column in @col if listed. */
static int listed(const struct tuple *t, char *col, size_t size)
{
	char line[512], *p;
	int found = 0;
	FILE *f;

	f = fopen(D "/connections", "r");
	if (!f)
		fail("open connections: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char want[160];

		snprintf(want, sizeof(want), " %s %s ", t->src, t->dst);
		if (!strstr(line, want))
			continue;
		found = 1;
		p = strstr(line, " sock:");
		if (col)
			snprintf(col, size, "%s", p ? p + 1 : "-");
		if (col && strchr(col, '\n'))
			*strchr(col, '\n') = '\0';
	}
	fclose(f);
	return found;
}

static void expect_listed(const struct tuple *t, const char *col)
{
	char got[64] = "";

	if (!listed(t, got, sizeof(got)))
		fail("%s %s is not listed as offloaded", t->src, t->dst);
	if (col && strcmp(got, col))
		fail("%s %s listed with '%s', expected '%s'", t->src, t->dst,
		     got, col);
}

static void wait_unlisted(const struct tuple *t)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (!listed(t, NULL, 0))
			return;
		msleep(100);
	}
	fail("%s %s is still listed", t->src, t->dst);
}

/* To an IPv4 or (with a ':') IPv6 address. */
static int do_connect(const char *ip, int port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int v6 = !!strchr(ip, ':');
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || inet_pton(v6 ? AF_INET6 : AF_INET,
				ip, v6 ? (void *)&a6.sin6_addr : (void *)&a.sin_addr) != 1 ||
	    connect(fd, v6 ? (void *)&a6 : (void *)&a, v6 ? sizeof(a6) : sizeof(a)))
		fail("connect %s:%d: %s", ip, port, strerror(errno));
	return fd;
}

static int set_ulp(int fd)
{
	return setsockopt(fd, SOL_TCP, TCP_ULP, "chimney", 7) ? errno : 0;
}

static void offload_ulp(int fd, const struct tuple *t)
{
	char name[16] = "";
	socklen_t len = sizeof(name);
	int err = set_ulp(fd);

	if (err)
		fail("setsockopt TCP_ULP chimney: %s", strerror(err));
	if (getsockopt(fd, SOL_TCP, TCP_ULP, name, &len) || strcmp(name, "chimney"))
		fail("getsockopt TCP_ULP: '%s' (%s)", name, strerror(errno));
	expect_listed(t, "sock:established");
	err = set_ulp(fd);
	if (err != EEXIST)
		fail("second TCP_ULP: %s, expected EEXIST", strerror(err));
}

static void offload_again(const struct tuple *t)
{
	int err = chimney_cmd("sock_offload src=%s dst=%s\n", t->src, t->dst);

	if (err)
		fail("sock_offload %s: %s", t->src, strerror(err));
	expect_listed(t, "sock:established");
}

static void upload_now(const struct tuple *t)
{
	int err = chimney_cmd("sock_upload src=%s dst=%s\n", t->src, t->dst);

	if (err)
		fail("sock_upload %s: %s", t->src, strerror(err));
	if (listed(t, NULL, 0))
		fail("%s still listed after sock_upload", t->src);
}

/* --- the client's tests ---------------------------------------------------- */

static int refuse(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	struct tuple t;
	int ls, fd, c, err;

	who = "refuse";
	/* Listening. */
	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(ls, (void *)&a, sizeof(a)) || listen(ls, 1) ||
	    getsockname(ls, (void *)&a, &len))
		fail("loopback listener: %s", strerror(errno));
	err = set_ulp(ls);
	if (err != ENOTCONN)
		fail("TCP_ULP on a listening socket: %s, expected ENOTCONN",
		     strerror(err));
	/* Never connected. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	err = set_ulp(fd);
	if (err != ENOTCONN)
		fail("TCP_ULP on an unconnected socket: %s, expected ENOTCONN",
		     strerror(err));
	close(fd);
	/* Established over loopback: no chimney device on lo. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (void *)&a, sizeof(a)))
		fail("loopback connect: %s", strerror(errno));
	c = accept(ls, NULL, NULL);
	err = set_ulp(fd);
	if (err != ENODEV)
		fail("TCP_ULP over lo: %s, expected ENODEV", strerror(err));
	get_tuple(fd, &t);
	err = chimney_cmd("sock_offload src=%s dst=%s\n", t.src, t.dst);
	if (err != ENODEV)
		fail("sock_offload over lo: %s, expected ENODEV", strerror(err));
	close(c);
	close(fd);
	close(ls);
	/* Unknown 4-tuples. */
	err = chimney_cmd("sock_offload src=10.255.0.1:1 dst=10.255.0.2:2\n");
	if (err != ENOENT)
		fail("sock_offload of nothing: %s, expected ENOENT", strerror(err));
	err = chimney_cmd("sock_upload src=10.255.0.1:1 dst=10.255.0.2:2\n");
	if (err != ENOENT)
		fail("sock_upload of nothing: %s, expected ENOENT", strerror(err));
	/* Offloaded, then closed by the application: cleanly uploaded. */
	(void)ip;
	(void)port;
	printf("refuse: ok\n");
	return 0;
}

/* The id of @t's connection, from the listing (0 if not listed). */
static unsigned long long conn_id(const struct tuple *t)
{
	unsigned long long id = 0;
	char line[512], want[160];
	FILE *f;

	snprintf(want, sizeof(want), " %s %s ", t->src, t->dst);
	f = fopen(D "/connections", "r");
	if (!f)
		fail("open connections: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (strstr(line, want))
			id = strtoull(line, NULL, 10);
	fclose(f);
	return id;
}

/* The sampler period stream() found, kept across its detaches. */
static long long sample_ms = -1;

static void set_knob(const char *dev, const char *knob, long long value)
{
	char path[128];
	FILE *f;

	if (value < 0)
		return;
	snprintf(path, sizeof(path), D "/devices/%s/%s", dev, knob);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%lld\n", value) < 0 || fclose(f))
		fail("write %s: %s", path, strerror(errno));
}

/*
 * Upload @t's connection, cycle by cycle another way: sock_upload (which
 * returns once done), the host's "terminate id=N", or the device's detach
 * (then attached again).
 */
static void upload(const struct tuple *t, const char *dev, int cycle)
{
	unsigned long long id = conn_id(t);
	int err;

	if (!id)
		fail("cycle %d: not listed before the upload", cycle);
	switch (cycle % 3) {
	case 0:
		err = chimney_cmd("sock_upload src=%s dst=%s\n", t->src, t->dst);
		if (err)
			fail("cycle %d: sock_upload: %s", cycle, strerror(err));
		if (listed(t, NULL, 0))
			fail("cycle %d: still listed after sock_upload", cycle);
		err = chimney_cmd("sock_upload src=%s dst=%s\n", t->src, t->dst);
		if (err != ENOENT)
			fail("cycle %d: second sock_upload: %s", cycle,
			     strerror(err));
		break;
	case 1:
		err = chimney_cmd("terminate id=%llu\n", id);
		if (err)
			fail("cycle %d: terminate id=%llu: %s", cycle, id,
			     strerror(err));
		wait_unlisted(t);
		break;
	default:
		err = chimney_cmd("detach dev=%s\n", dev);
		if (err)
			fail("cycle %d: detach %s: %s", cycle, dev, strerror(err));
		if (listed(t, NULL, 0))
			fail("cycle %d: still listed after the detach", cycle);
		err = chimney_cmd("attach dev=%s target=sock\n", dev);
		if (err)
			fail("cycle %d: attach %s: %s", cycle, dev, strerror(err));
		/* A new target has the default knobs: the sampler as before. */
		set_knob(dev, "sample_ms", sample_ms);
		break;
	}
}

/*
 * Bytes @pos..@end of the stream to the server and back (its "stream"
 * request), a chunk at a time, each byte checked.
 */
static void echo_range(int fd, uint64_t pos, uint64_t end)
{
	unsigned char out[CHUNK], in[CHUNK];
	uint64_t n, i;

	for (; pos < end; pos += n) {
		n = end - pos < CHUNK ? end - pos : CHUNK;
		for (i = 0; i < n; i++)
			out[i] = pattern(pos + i, 1);
		write_all(fd, out, n);
		read_all(fd, in, n);
		for (i = 0; i < n; i++)
			if (in[i] != pattern(pos + i, 2))
				fail("byte %llu back is 0x%02x, not 0x%02x",
				     (unsigned long long)(pos + i), in[i],
				     pattern(pos + i, 2));
	}
}

/* The server's "OK <bytes>" once it has seen the whole stream. */
static void expect_verdict(int fd, uint64_t bytes)
{
	char line[64], want[64];

	read_line(fd, line, sizeof(line));
	snprintf(want, sizeof(want), "OK %llu", (unsigned long long)bytes);
	if (strcmp(line, want))
		fail("server said '%s', expected '%s'", line, want);
}

static int stream(const char *ip, int port, const char *dev, int cycles,
		  uint64_t bytes)
{
	uint64_t per = bytes / (2 * cycles), pos = 0;
	long long disc;
	struct tuple t;
	int fd, c, err;
	char eof;

	who = "stream";
	sample_ms = knob(dev, "sample_ms");
	per -= per % CHUNK;
	if (!per)
		per = CHUNK;
	bytes = per * 2 * cycles;
	fd = do_connect(ip, port);
	dprintf(fd, "stream %llu\n", (unsigned long long)bytes);
	get_tuple(fd, &t);
	for (c = 0; c < 2 * cycles; c++) {
		/* Even halves offloaded, odd ones uploaded. */
		if (!c) {
			offload_ulp(fd, &t);
		} else if (c % 2) {
			upload(&t, dev, c / 2);
		} else {
			err = chimney_cmd("sock_offload src=%s dst=%s\n", t.src, t.dst);
			if (err)
				fail("cycle %d: sock_offload: %s", c / 2, strerror(err));
			expect_listed(&t, "sock:established");
		}
		echo_range(fd, pos, pos + per);
		pos += per;
	}
	/* Offloaded again for the end: the server's verdict, then its FIN. */
	disc = dev_stat(dev, "host_event_disconnect");	/* a detach reset it */
	err = chimney_cmd("sock_offload src=%s dst=%s\n", t.src, t.dst);
	if (err)
		fail("last sock_offload: %s", strerror(err));
	expect_verdict(fd, bytes);
	if (read(fd, &eof, 1) != 0)
		fail("no EOF after the verdict");
	wait_stat(dev, "host_event_disconnect", disc + 1);
	/* The host uploads a connection its peer closed. */
	wait_unlisted(&t);
	close(fd);
	printf("stream: ok, %llu bytes each way across %d offload/upload cycles\n",
	       (unsigned long long)bytes, cycles);
	return 0;
}

static int fin(const char *ip, int port, const char *dev)
{
	long long disc = dev_stat(dev, "host_event_disconnect");
	char line[16], c = 'g';
	struct tuple t;
	int fd;

	who = "fin";
	fd = do_connect(ip, port);
	write_all(fd, "fin\n", 4);
	get_tuple(fd, &t);
	offload_ulp(fd, &t);
	write_all(fd, &c, 1);
	/* Data and FIN in, nothing read: no Disconnect yet. */
	msleep(1500);
	if (dev_stat(dev, "host_event_disconnect") != disc)
		fail("Disconnect raised before the data was read");
	expect_listed(&t, "sock:close_wait");
	read_line(fd, line, sizeof(line));
	if (strcmp(line, "data"))
		fail("read '%s', expected 'data'", line);
	wait_stat(dev, "host_event_disconnect", disc + 1);
	wait_unlisted(&t);
	if (read(fd, &c, 1) != 0)
		fail("no EOF after the data");
	close(fd);
	printf("fin: ok\n");
	return 0;
}

static int rst(const char *ip, int port, const char *dev)
{
	long long aborts = dev_stat(dev, "host_event_abort");
	struct tuple t;
	char c = 'g';
	int fd;

	who = "rst";
	fd = do_connect(ip, port);
	write_all(fd, "rst\n", 4);
	get_tuple(fd, &t);
	offload_ulp(fd, &t);
	write_all(fd, &c, 1);
	if (read(fd, &c, 1) != -1 || errno != ECONNRESET)
		fail("read after the peer's RST: %s", strerror(errno));
	wait_stat(dev, "host_event_abort", aborts + 1);
	wait_unlisted(&t);
	close(fd);
	printf("rst: ok\n");
	return 0;
}

static int urg(const char *ip, int port, const char *dev)
{
	long long urgent = dev_stat(dev, "host_reason_received_urgent_data");
	struct pollfd p;
	struct tuple t;
	char c = 'g';
	int fd;

	who = "urg";
	fd = do_connect(ip, port);
	write_all(fd, "urg\n", 4);
	get_tuple(fd, &t);
	offload_ulp(fd, &t);
	write_all(fd, &c, 1);
	wait_stat(dev, "host_reason_received_urgent_data", urgent + 1);
	wait_unlisted(&t);
	/* Uploaded, the socket still delivers the urgent byte. */
	p.fd = fd;
	p.events = POLLPRI;
	if (poll(&p, 1, 10000) != 1)
		fail("no POLLPRI");
	if (recv(fd, &c, 1, MSG_OOB) != 1 || c != 'U')
		fail("recv MSG_OOB: %s", strerror(errno));
	close(fd);
	printf("urg: ok\n");
	return 0;
}

/* The application closes its offloaded socket: the host uploads it. */
static int app_close(const char *ip, int port, const char *dev)
{
	long long closed = dev_stat(dev, "sock_closed");
	struct tuple t;
	int fd;

	who = "close";
	fd = do_connect(ip, port);
	write_all(fd, "hold\n", 5);
	get_tuple(fd, &t);
	offload_ulp(fd, &t);
	close(fd);
	wait_stat(dev, "sock_closed", closed + 1);
	wait_unlisted(&t);
	printf("close: ok\n");
	return 0;
}

/* ss's output for the connection @t contains @want. */
static int ss_shows(const struct tuple *t, const char *want)
{
	char cmd[160], buf[8192];
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ss -tinH src %s 2>&1", t->src);
	p = popen(cmd, "r");
	if (!p)
		fail("popen %s: %s", cmd, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	if (pclose(p))
		fail("%s failed: %s", cmd, buf);
	return !!strstr(buf, want);
}

/* inet_diag: ss shows the ULP, offloaded and after an upload (it stays). */
/* The ULP's get_info nest (module/ulp.c: CHIMNEY_ULP_INFO, "Ch"). */
#define CHIMNEY_ULP_INFO 0x3368
enum { ULPI_STATE = 1, ULPI_ID, ULPI_OFFLOADS, ULPI_UPLOADS };

struct ulp_info {
	char name[32];		/* INET_ULP_INFO_NAME */
	int found;		/* our nest was there */
	unsigned int state, offloads, uploads;
	unsigned long long id;
};

static void ulp_info_parse(const struct rtattr *a, int len, struct ulp_info *u)
{
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		const void *d = RTA_DATA(a);

		switch (a->rta_type & NLA_TYPE_MASK) {
		case INET_ULP_INFO_NAME:
			snprintf(u->name, sizeof(u->name), "%.*s",
				 (int)RTA_PAYLOAD(a), (const char *)d);
			break;
		case CHIMNEY_ULP_INFO: {
			const struct rtattr *n = d;
			int nl = RTA_PAYLOAD(a);

			u->found = 1;
			for (; RTA_OK(n, nl); n = RTA_NEXT(n, nl)) {
				const void *v = RTA_DATA(n);
				int type = n->rta_type & NLA_TYPE_MASK;

				if (type == ULPI_STATE)
					u->state = *(const uint8_t *)v;
				else if (type == ULPI_ID)
					memcpy(&u->id, v, sizeof(u->id));
				else if (type == ULPI_OFFLOADS)
					memcpy(&u->offloads, v, 4);
				else if (type == ULPI_UPLOADS)
					memcpy(&u->uploads, v, 4);
			}
			break;
		}
		}
	}
}

/*
 * What inet_diag (ss's source) reports of @fd's ULP: the exact socket
 * asked for with INET_DIAG_INFO, its INET_DIAG_ULP_INFO nest parsed.
 */
static void ulp_info(int fd, struct ulp_info *u)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} q = {
		.nlh = { .nlmsg_len = sizeof(q), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST },
		.req = { .sdiag_protocol = IPPROTO_TCP, .idiag_states = ~0U,
			 .idiag_ext = 1 << (INET_DIAG_INFO - 1) },
	};
	struct sockaddr_storage l, r;
	char buf[16384];
	struct nlmsghdr *h;
	int nl, n;

	memset(u, 0, sizeof(*u));
	get_ends(fd, &l, &r);
	q.req.sdiag_family = l.ss_family;
	q.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	q.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (l.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (void *)&l, *b = (void *)&r;

		q.req.id.idiag_sport = a->sin6_port;
		q.req.id.idiag_dport = b->sin6_port;
		memcpy(q.req.id.idiag_src, &a->sin6_addr, 16);
		memcpy(q.req.id.idiag_dst, &b->sin6_addr, 16);
	} else {
		const struct sockaddr_in *a = (void *)&l, *b = (void *)&r;

		q.req.id.idiag_sport = a->sin_port;
		q.req.id.idiag_dport = b->sin_port;
		q.req.id.idiag_src[0] = a->sin_addr.s_addr;
		q.req.id.idiag_dst[0] = b->sin_addr.s_addr;
	}
	nl = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_SOCK_DIAG);
	if (nl < 0 || send(nl, &q, sizeof(q), 0) != sizeof(q))
		fail("sock_diag request: %s", strerror(errno));
	n = recv(nl, buf, sizeof(buf), 0);
	if (n < 0)
		fail("sock_diag reply: %s", strerror(errno));
	close(nl);
	h = (struct nlmsghdr *)buf;
	if (!NLMSG_OK(h, n) || h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		fail("sock_diag: no reply for the socket (type %u)",
		     NLMSG_OK(h, n) ? h->nlmsg_type : 0);
	{
		const struct inet_diag_msg *m = NLMSG_DATA(h);
		const struct rtattr *a = (const void *)(m + 1);
		int alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));

		for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen))
			if ((a->rta_type & NLA_TYPE_MASK) == INET_DIAG_ULP_INFO)
				ulp_info_parse(RTA_DATA(a), RTA_PAYLOAD(a), u);
	}
}

/* @fd's ULP as inet_diag reports it: chimney, @state, @id, the counts. */
static void expect_ulp_info(int fd, unsigned int state, unsigned long long id,
			    unsigned int offloads, unsigned int uploads)
{
	struct ulp_info u;

	ulp_info(fd, &u);
	if (strcmp(u.name, "chimney") || !u.found)
		fail("inet_diag: ULP '%s', chimney's nest %s", u.name,
		     u.found ? "there" : "missing");
	if (u.state != state || u.id != id || u.offloads != offloads ||
	    u.uploads != uploads)
		fail("inet_diag: state %u id %llu offloads %u uploads %u, expected %u %llu %u %u",
		     u.state, u.id, u.offloads, u.uploads, state, id, offloads,
		     uploads);
}

/*
 * ss shows the ULP; inet_diag's nest (which ss does not decode) says the
 * offload state (1 offloaded, 0 uploaded), the connection id while
 * offloaded and the offload and upload counts.
 */
static int diag(const char *ip, int port, const char *dev)
{
	unsigned long long id;
	struct tuple t;
	int fd;

	who = "diag";
	(void)dev;
	fd = do_connect(ip, port);
	write_all(fd, "hold\n", 5);
	get_tuple(fd, &t);
	offload_ulp(fd, &t);
	if (!ss_shows(&t, "tcp-ulp-chimney"))
		fail("ss does not show tcp-ulp-chimney");
	id = conn_id(&t);
	expect_ulp_info(fd, 1, id, 1, 0);
	upload_now(&t);
	if (!ss_shows(&t, "tcp-ulp-chimney"))
		fail("ss does not show tcp-ulp-chimney after the upload");
	expect_ulp_info(fd, 0, 0, 1, 1);
	offload_again(&t);
	expect_ulp_info(fd, 1, conn_id(&t), 2, 1);
	/* Closed uploaded: no Retrieve(UploadRequested) for 50-sock's books. */
	upload_now(&t);
	expect_ulp_info(fd, 0, 0, 2, 2);
	close(fd);
	printf("diag: ok, ss and inet_diag's nest (state, id, counts)\n");
	return 0;
}

/*
 * @cut takes the path away (the peer's link down); the data sent then is
 * retransmitted: the first retransmission timeout raises the Retrieve and
 * the host uploads; TCP_USER_TIMEOUT then closes the socket with ETIMEDOUT.
 */
static int rto(const char *ip, int port, const char *dev, const char *cut)
{
	long long timeouts = dev_stat(dev, "host_reason_timeout_expiration");
	long long rtos = dev_stat(dev, "sock_rtos");
	unsigned int ms = 2000;
	struct tuple t;
	char c;
	int fd;

	who = "rto";
	fd = do_connect(ip, port);
	write_all(fd, "rto\n", 4);
	if (setsockopt(fd, SOL_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms)))
		fail("TCP_USER_TIMEOUT: %s", strerror(errno));
	get_tuple(fd, &t);
	offload_ulp(fd, &t);
	if (system(cut))
		fail("'%s' failed", cut);
	write_all(fd, "lost\n", 5);
	wait_stat(dev, "host_reason_timeout_expiration", timeouts + 1);
	wait_unlisted(&t);
	if (dev_stat(dev, "sock_rtos") != rtos + 1)
		fail("the Retrieve did not come from the retransmission timeout");
	if (read(fd, &c, 1) != -1 || errno != ETIMEDOUT)
		fail("read after the timeout: %s", strerror(errno));
	close(fd);
	printf("rto: ok\n");
	return 0;
}

/* The counters a sampled test must leave alone but for its one reason. */
static const char * const sampled_others[] = {
	"host_event_disconnect", "host_event_abort",
	"host_reason_low_activity", "host_reason_high_drop_rate",
	"host_reason_high_out_of_order_packets",
	"host_reason_received_urgent_data", "host_reason_timeout_expiration",
	"host_reason_upload_requested", "host_reason_invalid_state",
};

#define NR_OTHERS (sizeof(sampled_others) / sizeof(sampled_others[0]))

/*
 * The sampler's reasons: the connection carries data (or, for
 * low_activity, nothing) while offloaded until the host uploads it for
 * @reason; the stream goes on across the upload and arrives intact.
 * @impair (a command, or NULL) degrades the path once the connection is
 * offloaded, so what is lost is the offload's; @repair undoes it once the
 * upload came (plain TCP on a lossy path would crawl through the rest).
 */
static int sampled(const char *ip, int port, const char *dev,
		   const char *reason, uint64_t bytes, const char *impair,
		   const char *repair)
{
	long long before[NR_OTHERS], want = -1;
	uint64_t pos;
	char key[96];
	struct tuple t;
	size_t k;
	int fd;

	who = "sampled";
	snprintf(key, sizeof(key), "host_reason_%s", reason);
	for (k = 0; k < NR_OTHERS; k++) {
		before[k] = dev_stat(dev, sampled_others[k]);
		if (!strcmp(sampled_others[k], key))
			want = before[k] + 1;
	}
	if (want < 0)
		fail("%s is not a sampled reason", reason);
	bytes -= bytes % CHUNK;
	fd = do_connect(ip, port);
	/* No data: a server that waits for the client's close, no FIN. */
	if (bytes)
		dprintf(fd, "stream %llu\n", (unsigned long long)bytes);
	else
		write_all(fd, "hold\n", 5);
	get_tuple(fd, &t);
	offload_ulp(fd, &t);
	if (impair && system(impair))
		fail("'%s' failed", impair);
	for (pos = 0; pos < bytes; pos += CHUNK) {
		echo_range(fd, pos, pos + CHUNK);
		if (repair && dev_stat(dev, key) >= want) {
			if (system(repair))
				fail("'%s' failed", repair);
			repair = NULL;
		}
	}
	/* Before the verdict: the server's FIN after it is no Disconnect. */
	wait_stat(dev, key, want);
	if (repair && system(repair))
		fail("'%s' failed", repair);
	wait_unlisted(&t);
	for (k = 0; k < NR_OTHERS; k++) {
		long long now = dev_stat(dev, sampled_others[k]);

		if (now != (strcmp(sampled_others[k], key) ? before[k] : want)) {
			dump_stats(dev);
			fail("%s went from %lld to %lld", sampled_others[k],
			     before[k], now);
		}
	}
	if (bytes)
		expect_verdict(fd, bytes);
	close(fd);
	printf("sampled: ok, %s, %llu bytes each way\n", reason,
	       (unsigned long long)bytes);
	return 0;
}

/*
 * An idle connection with keepalive probes every second, @cut taking the
 * path: no data, so no retransmission timeout; keepalive gives up after
 * two probes and the socket closes with ETIMEDOUT while offloaded.
 */
static int keepalive(const char *ip, int port, const char *dev,
		     const char *cut)
{
	long long timeouts = dev_stat(dev, "sock_timeouts");
	long long rtos = dev_stat(dev, "sock_rtos");
	int one = 1, two = 2;
	struct tuple t;
	char c;
	int fd;

	who = "keepalive";
	fd = do_connect(ip, port);
	/* The server's end gives up reading after 15 s, as for rto. */
	write_all(fd, "rto\n", 4);
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_TCP, TCP_KEEPIDLE, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_TCP, TCP_KEEPINTVL, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_TCP, TCP_KEEPCNT, &two, sizeof(two)))
		fail("keepalive options: %s", strerror(errno));
	get_tuple(fd, &t);
	offload_ulp(fd, &t);
	if (system(cut))
		fail("'%s' failed", cut);
	wait_stat(dev, "sock_timeouts", timeouts + 1);
	wait_unlisted(&t);
	if (dev_stat(dev, "sock_rtos") != rtos)
		fail("a retransmission timeout without data in flight");
	if (read(fd, &c, 1) != -1 || errno != ETIMEDOUT)
		fail("read after keepalive gave up: %s", strerror(errno));
	close(fd);
	printf("keepalive: ok\n");
	return 0;
}

/*
 * Sockets holding the ULP pin the module, offloaded or not: @refused (a
 * shell command that must exit 0) checks that an rmmod is refused while
 * the socket is offloaded and again once it is uploaded with the ULP still
 * on it. The socket is closed at the end; the caller sees the pin go.
 */
static int pin(const char *ip, int port, const char *refused)
{
	struct tuple t;
	int fd;

	who = "pin";
	fd = do_connect(ip, port);
	write_all(fd, "hold\n", 5);
	get_tuple(fd, &t);
	offload_ulp(fd, &t);
	if (system(refused))
		fail("offloaded: '%s' failed", refused);
	expect_listed(&t, "sock:established");
	upload_now(&t);
	if (system(refused))
		fail("uploaded: '%s' failed", refused);
	close(fd);
	printf("pin: ok, %s on an offloaded and an uploaded socket\n", refused);
	return 0;
}

/* --- the device's events (scripts/vmtests/55-sock-link.sh) ---------------- */

static void run(const char *cmd)
{
	if (system(cmd))
		fail("'%s' failed", cmd);
}

/*
 * Every device event seen so far has been handled: chimney handles them
 * in order, one at a time, and @fdev going up or down is one more. @fdev
 * is attached with the fake target, whose target_link follows its link.
 */
static void fence(const char *fdev)
{
	long long up = dev_stat(fdev, "target_link");
	char cmd[96];
	int i;

	snprintf(cmd, sizeof(cmd), "ip link set %s %s", fdev, up ? "down" : "up");
	run(cmd);
	for (i = 0; i < 200 && dev_stat(fdev, "target_link") == up; i++)
		msleep(100);
	if (dev_stat(fdev, "target_link") == up)
		fail("%s's link event was not handled", fdev);
}

/* What the host saw; each moves by what the test expects, no more. */
enum {
	C_RETRIEVE, C_INVALID, C_UPLOAD_ALL, C_RESUME,
	C_DISCONNECT, C_ABORT, C_PAUSE, C_TERMINATE_ERRORS, NR_C
};

static const char * const host_counters[NR_C] = {
	[C_RETRIEVE] = "host_event_retrieve",
	[C_INVALID] = "host_reason_invalid_state",
	[C_UPLOAD_ALL] = "host_upload_all",
	[C_RESUME] = "host_resume",
	[C_DISCONNECT] = "host_event_disconnect",
	[C_ABORT] = "host_event_abort",
	[C_PAUSE] = "host_pause",
	[C_TERMINATE_ERRORS] = "host_terminate_errors",
};

static void snap(const char *dev, long long *c)
{
	int i;

	for (i = 0; i < NR_C; i++)
		c[i] = dev_stat(dev, host_counters[i]);
}

/*
 * Since @before: @inv Retrieve(InvalidState) and no other Retrieve,
 * Disconnect or Abort; @ua UPLOAD_ALL and @res OFFLOAD_RESUME.
 */
static void expect_moved(const char *dev, const long long *before, int inv,
			 int ua, int res)
{
	long long want[NR_C], now;
	int i;

	memcpy(want, before, sizeof(want));
	want[C_RETRIEVE] += inv;
	want[C_INVALID] += inv;
	want[C_UPLOAD_ALL] += ua;
	want[C_RESUME] += res;
	for (i = 0; i < NR_C; i++) {
		now = dev_stat(dev, host_counters[i]);
		if (now != want[i])
			fail("%s went from %lld to %lld, expected %lld",
			     host_counters[i], before[i], now, want[i]);
	}
}

/* A connection streaming through the server, and how far it got. */
struct conn {
	int fd;
	struct tuple t;
	uint64_t pos;
	uint64_t bytes;
};

/*
 * The server serves one connection at a time: a connection's data flows
 * once those opened before it have ended.
 */
static void conn_open(struct conn *c, const char *ip, int port,
		      uint64_t bytes)
{
	c->fd = do_connect(ip, port);
	dprintf(c->fd, "stream %llu\n", (unsigned long long)bytes);
	get_tuple(c->fd, &c->t);
	c->pos = 0;
	c->bytes = bytes;
}

static void conn_echo(struct conn *c, uint64_t n)
{
	echo_range(c->fd, c->pos, c->pos + n);
	c->pos += n;
}

/* The rest of the stream, the server's verdict; uploaded, so its FIN raises nothing. */
static void conn_end(struct conn *c)
{
	conn_echo(c, c->bytes - c->pos);
	expect_verdict(c->fd, c->bytes);
	close(c->fd);
}

static int addr_gone(const char *ip4, const char *ip6, int port,
		     const char *dev, const char *fdev, const char *del,
		     const char *add)
{
	long long before[NR_C];
	struct conn c4, cm, c6;
	char mapped[64];

	who = "addr";
	snprintf(mapped, sizeof(mapped), "::ffff:%s", ip4);
	conn_open(&c4, ip4, port, 2 * CHUNK);
	conn_open(&cm, mapped, port, 2 * CHUNK);
	conn_open(&c6, ip6, port, 2 * CHUNK);
	snap(dev, before);
	offload_ulp(c4.fd, &c4.t);
	offload_ulp(cm.fd, &cm.t);
	offload_ulp(c6.fd, &c6.t);
	run(del);
	/* The IPv4 connection and the v4-mapped one use the address. */
	wait_stat(dev, host_counters[C_INVALID], before[C_INVALID] + 2);
	wait_unlisted(&c4.t);
	wait_unlisted(&cm.t);
	fence(fdev);
	expect_listed(&c6.t, "sock:established");
	expect_moved(dev, before, 2, 0, 0);
	run(add);
	/* Plain Linux TCP again, the IPv4 ones carry on. */
	conn_end(&c4);
	conn_end(&cm);
	/* Still offloaded, the IPv6 one too, until uploaded. */
	conn_echo(&c6, CHUNK);
	expect_listed(&c6.t, "sock:established");
	upload_now(&c6.t);
	conn_end(&c6);
	/* An address added raises nothing. */
	fence(fdev);
	expect_moved(dev, before, 2, 0, 0);
	printf("addr: ok, IPv4 and v4-mapped invalidated, IPv6 kept\n");
	return 0;
}

static int mtu(const char *ip4, const char *ip6, int port, const char *dev,
	       const char *fdev, const char *set, const char *restore)
{
	long long before[NR_C];
	struct conn c4, c6;

	who = "mtu";
	conn_open(&c4, ip4, port, 3 * CHUNK);
	conn_open(&c6, ip6, port, 2 * CHUNK);
	snap(dev, before);
	offload_ulp(c4.fd, &c4.t);
	offload_ulp(c6.fd, &c6.t);
	run(set);
	wait_stat(dev, host_counters[C_INVALID], before[C_INVALID] + 2);
	wait_unlisted(&c4.t);
	wait_unlisted(&c6.t);
	fence(fdev);
	expect_moved(dev, before, 2, 0, 0);
	/* Uploaded, at the new MTU. */
	conn_echo(&c4, CHUNK);
	/* Offloaded again: invalidated again by the next change. */
	offload_again(&c4.t);
	offload_again(&c6.t);
	run(restore);
	wait_stat(dev, host_counters[C_INVALID], before[C_INVALID] + 4);
	wait_unlisted(&c4.t);
	wait_unlisted(&c6.t);
	fence(fdev);
	expect_moved(dev, before, 4, 0, 0);
	conn_end(&c4);
	conn_end(&c6);
	printf("mtu: ok, both invalidated at each change\n");
	return 0;
}

/*
 * While down, a connection's route is gone with the device's: sock_offload
 * fails EHOSTUNREACH before the host is asked (it would refuse ENETDOWN
 * until the RESUME, and the socket target too).
 */
static void refused_down(const struct tuple *t)
{
	int err = chimney_cmd("sock_offload src=%s dst=%s\n", t->src, t->dst);

	if (!err)
		fail("sock_offload %s accepted with the link down", t->src);
	if (err != EHOSTUNREACH && err != ENETDOWN)
		fail("sock_offload %s with the link down: %s", t->src,
		     strerror(err));
	if (listed(t, NULL, 0))
		fail("%s listed with the link down", t->src);
	printf("down: sock_offload %s refused: %s\n", t->src, strerror(err));
}

static int down(const char *ip4, const char *ip6, int port, const char *dev,
		const char *fdev, const char *down_cmd, const char *up_cmd)
{
	long long before[NR_C];
	struct conn c4, c6;

	who = "down";
	conn_open(&c4, ip4, port, 3 * CHUNK);
	conn_open(&c6, ip6, port, 3 * CHUNK);
	snap(dev, before);
	offload_ulp(c4.fd, &c4.t);
	offload_ulp(c6.fd, &c6.t);
	run(down_cmd);
	wait_stat(dev, host_counters[C_UPLOAD_ALL], before[C_UPLOAD_ALL] + 1);
	wait_unlisted(&c4.t);
	wait_unlisted(&c6.t);
	fence(fdev);
	if (dev_stat(dev, "host_paused") != 1)
		fail("host_paused %lld with the link down",
		     dev_stat(dev, "host_paused"));
	expect_moved(dev, before, 0, 1, 0);
	refused_down(&c4.t);
	refused_down(&c6.t);
	run(up_cmd);
	wait_stat(dev, host_counters[C_RESUME], before[C_RESUME] + 1);
	fence(fdev);
	if (dev_stat(dev, "host_paused") != 0)
		fail("host_paused %lld with the link up",
		     dev_stat(dev, "host_paused"));
	/*
	 * Each connection shows its path is back (routes, neighbours) while
	 * uploaded, then is offloaded again: no retransmission timeout
	 * while offloaded.
	 */
	conn_echo(&c4, CHUNK);
	offload_again(&c4.t);
	conn_echo(&c4, CHUNK);
	upload_now(&c4.t);
	conn_end(&c4);
	conn_echo(&c6, CHUNK);
	offload_again(&c6.t);
	conn_echo(&c6, CHUNK);
	upload_now(&c6.t);
	conn_end(&c6);
	expect_moved(dev, before, 0, 1, 1);
	printf("down: ok, uploaded, refused, offloaded again\n");
	return 0;
}

/* --- churn: many sockets at once -------------------------------------------- */

/*
 * The least a churn does per second under a loaded CI host (there, in
 * 30 s: 39 sockets a worker, 6 detaches): far fewer means it did not run
 * as meant.
 */
#define CHURN_MIN_SOCKETS(secs) ((secs) / 3)
#define CHURN_MIN_DETACHES(secs) ((secs) / 10)

/* The churn's peer: every connection echoed, each by a process of its own. */
static int echo_server(int port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int one = 1, zero = 0, ls, fd;
	char buf[CHUNK];
	ssize_t n;

	who = "echo-server";
	signal(SIGCHLD, SIG_IGN);	/* no zombies */
	ls = socket(AF_INET6, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(ls, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (ls < 0 || bind(ls, (void *)&a, sizeof(a)) || listen(ls, 64))
		fail("listen on %d: %s", port, strerror(errno));
	printf("echo-server: listening on %d\n", port);
	fflush(stdout);
	for (;;) {
		fd = accept(ls, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fail("accept: %s", strerror(errno));
		}
		if (fork() == 0) {
			close(ls);
			/* Until EOF or a reset; then our FIN (or nothing). */
			while ((n = read(fd, buf, sizeof(buf))) > 0)
				if (write(fd, buf, n) != n)
					break;
			_exit(0);
		}
		close(fd);
	}
}

/*
 * What the churn tolerates from an offload: the device detached meanwhile;
 * for a socket offloaded before, an upload still under way (the host's own,
 * or a detach's).
 */
static int churn_offload_ok(int err)
{
	return !err || err == ENODEV;
}

static int churn_reoffload_ok(int err)
{
	return churn_offload_ok(err) || err == EALREADY;
}

/* @n bytes from @pos to the echo server and back, checked. */
static void churn_echo(int fd, uint64_t pos, size_t n)
{
	unsigned char out[CHUNK], in[CHUNK];
	size_t i;

	if (n > CHUNK)
		n = CHUNK;
	for (i = 0; i < n; i++)
		out[i] = pattern(pos + i, 3);
	write_all(fd, out, n);
	read_all(fd, in, n);
	if (memcmp(in, out, n))
		fail("echo of %zu bytes at %llu came back changed", n,
		     (unsigned long long)pos);
}

/*
 * Uploaded by the command: or already, or being uploaded, by a detach or
 * the host's own.
 */
static void churn_upload(const struct tuple *t)
{
	int err = chimney_cmd("sock_upload src=%s dst=%s\n", t->src, t->dst);

	if (err && err != ENOENT && err != EALREADY)
		fail("sock_upload %s %s: %s", t->src, t->dst, strerror(err));
}

/* One socket's life, chosen by @r; returns the bytes it echoed. */
static uint64_t churn_one(const char *ip, int port, unsigned int r)
{
	struct linger lg = { 1, 0 };
	uint64_t pos = 0;
	struct tuple t;
	int fd, err, i;
	char c;

	fd = do_connect(ip, port);
	get_tuple(fd, &t);
	switch (r % 5) {
	case 0:		/* offloaded, echoed, uploaded, echoed, closed */
		err = set_ulp(fd);
		if (!churn_offload_ok(err))
			fail("TCP_ULP: %s", strerror(err));
		churn_echo(fd, pos, 1 + r % CHUNK);
		pos += 1 + r % CHUNK;
		churn_upload(&t);
		churn_echo(fd, pos, CHUNK);
		pos += CHUNK;
		break;
	case 1:		/* closed while offloaded: Retrieve(UploadRequested) */
		err = set_ulp(fd);
		if (!churn_offload_ok(err))
			fail("TCP_ULP: %s", strerror(err));
		break;
	case 2:		/* reset by us while offloaded */
		err = set_ulp(fd);
		if (!churn_offload_ok(err))
			fail("TCP_ULP: %s", strerror(err));
		churn_echo(fd, pos, 100);
		pos += 100;
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		break;
	case 3:		/* by command; the peer's FIN after ours: Disconnect */
		err = chimney_cmd("sock_offload src=%s dst=%s\n", t.src, t.dst);
		if (!churn_offload_ok(err))
			fail("sock_offload: %s", strerror(err));
		churn_echo(fd, pos, CHUNK);
		pos += CHUNK;
		shutdown(fd, SHUT_WR);
		if (read(fd, &c, 1) != 0)
			fail("no EOF after the peer's FIN");
		break;
	default:	/* offload and upload again and again, data between */
		err = set_ulp(fd);
		if (!churn_offload_ok(err))
			fail("TCP_ULP: %s", strerror(err));
		for (i = 0; i < 4; i++) {
			churn_echo(fd, pos, 4096);
			pos += 4096;
			churn_upload(&t);
			churn_echo(fd, pos, 4096);
			pos += 4096;
			err = chimney_cmd("sock_offload src=%s dst=%s\n", t.src,
					  t.dst);
			if (!churn_reoffload_ok(err))
				fail("sock_offload again: %s", strerror(err));
		}
		break;
	}
	close(fd);
	return pos;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Writes @v to knob @name of @dev; a detach meanwhile may refuse it. */
static void churn_knob(const char *dev, const char *name, long long v)
{
	char path[128], buf[32];
	int fd, n;

	snprintf(path, sizeof(path), D "/devices/%s/%s", dev, name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%lld\n", v);
	if (write(fd, buf, n) < 0 && errno != ENODEV && errno != EIO &&
	    errno != ENOENT)
		fail("write %lld to %s: %s", v, path, strerror(errno));
	close(fd);
}

static void churn_read(const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

/*
 * @workers processes each open, offload, use and end sockets in one of five
 * ways for @secs, while one process detaches and attaches @dev and
 * changes its MTU (Retrieve(InvalidState) on every offloaded socket), one
 * writes the sampler's knobs (the sampler looks every millisecond or two,
 * LowActivity uploads after 50 ms now and then) and one reads every file:
 * each echo is checked byte for byte, each errno must be one the
 * interleaving explains. The caller checks the books afterwards.
 */
static int churn(const char *ip, int port, const char *dev, int secs,
		 int workers, unsigned int seed)
{
	static const char * const knobs[] = {
		"sample_ms", "min_segs", "ooo_permille", "drop_permille",
		"idle_ms", "backlog_interval_ms",
	};
	double end = now_s() + secs;
	int w, status, bad = 0;
	unsigned long long ops = 0;
	pid_t pid;

	who = "churn";
	printf("churn: seed %u, %d workers, %d s\n", seed, workers, secs);
	fflush(stdout);
	for (w = 0; w < workers + 3; w++) {
		pid = fork();
		if (pid < 0)
			fail("fork: %s", strerror(errno));
		if (pid)
			continue;
		srand(seed + w);
		if (w < workers) {
			unsigned long n = 0;
			uint64_t bytes = 0;

			while (now_s() < end) {
				bytes += churn_one(ip, port, rand());
				n++;
			}
			printf("churn: worker %d: %lu sockets, %llu bytes echoed\n",
			       w, n, (unsigned long long)bytes);
			/* A churn that did next to nothing proves nothing. */
			if (n < CHURN_MIN_SOCKETS(secs))
				fail("worker %d: %lu sockets, fewer than %d", w,
				     n, CHURN_MIN_SOCKETS(secs));
			_exit(0);
		}
		if (w == workers) {
			unsigned long n = 0;
			char mtu[96];
			int err;

			while (now_s() < end) {
				msleep(50 + rand() % 250);
				err = chimney_cmd("detach dev=%s\n", dev);
				if (err)
					fail("detach: %s", strerror(err));
				msleep(rand() % 50);
				err = chimney_cmd("attach dev=%s target=sock\n", dev);
				if (err)
					fail("attach: %s", strerror(err));
				churn_knob(dev, "sample_ms", 1);
				/*
				 * Retrieve(InvalidState) on whatever is offloaded;
				 * larger than the peer's, so nothing is dropped.
				 */
				snprintf(mtu, sizeof(mtu),
					 "ip link set dev %s mtu %d", dev,
					 n % 2 ? 1500 : 1600);
				if (system(mtu))
					fail("'%s' failed", mtu);
				n++;
			}
			printf("churn: %lu detach/attach, as many MTU changes\n", n);
			if (n < CHURN_MIN_DETACHES(secs))
				fail("%lu detach/attach, fewer than %d", n,
				     CHURN_MIN_DETACHES(secs));
			_exit(0);
		}
		if (w == workers + 1) {
			unsigned long n = 0;

			while (now_s() < end) {
				int k = rand() % 6;
				long long v = rand() % 3 ? rand() % 3 :
					      rand() % 1001;

				if (k == 0)
					v = 1 + rand() % 2;
				else if (k == 1)
					v = 1 + rand() % 64;
				else if (k == 4)
					v = rand() % 4 ? 0 : 50;
				churn_knob(dev, knobs[k], v);
				msleep(rand() % 20);
				n++;
			}
			churn_knob(dev, "idle_ms", 0);
			printf("churn: %lu knob writes\n", n);
			_exit(0);
		}
		{
			char path[128];
			unsigned long n = 0;

			snprintf(path, sizeof(path), D "/devices/%s/stats", dev);
			while (now_s() < end) {
				churn_read(D "/connections");
				churn_read(D "/stats");
				churn_read(path);
				snprintf(path, sizeof(path), D "/devices/%s/connections",
					 dev);
				churn_read(path);
				snprintf(path, sizeof(path), D "/devices/%s/stats", dev);
				n++;
			}
			printf("churn: %lu rounds of reads\n", n);
			_exit(0);
		}
	}
	for (w = 0; w < workers + 3; w++) {
		pid = wait(&status);
		if (pid < 0)
			fail("wait: %s", strerror(errno));
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
		ops++;
	}
	if (bad)
		fail("%d of %llu churn processes failed", bad, ops);
	/* The last sockets' close handshakes end; the host uploads them. */
	for (w = 0; w < 200 && dev_stat(dev, "target_connections"); w++)
		msleep(100);
	if (dev_stat(dev, "target_connections")) {
		dump_stats(dev);
		fail("%lld connections left", dev_stat(dev, "target_connections"));
	}
	printf("churn: ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "server"))
		return server(atoi(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "refuse"))
		return refuse(argv[2], atoi(argv[3]));
	if (argc == 7 && !strcmp(argv[1], "stream"))
		return stream(argv[2], atoi(argv[3]), argv[4], atoi(argv[5]),
			      strtoull(argv[6], NULL, 10));
	if (argc == 5 && !strcmp(argv[1], "fin"))
		return fin(argv[2], atoi(argv[3]), argv[4]);
	if (argc == 5 && !strcmp(argv[1], "rst"))
		return rst(argv[2], atoi(argv[3]), argv[4]);
	if (argc == 5 && !strcmp(argv[1], "urg"))
		return urg(argv[2], atoi(argv[3]), argv[4]);
	if (argc == 6 && !strcmp(argv[1], "rto"))
		return rto(argv[2], atoi(argv[3]), argv[4], argv[5]);
	if ((argc == 7 || argc == 9) && !strcmp(argv[1], "sampled"))
		return sampled(argv[2], atoi(argv[3]), argv[4], argv[5],
			       strtoull(argv[6], NULL, 10),
			       argc == 9 ? argv[7] : NULL,
			       argc == 9 ? argv[8] : NULL);
	if (argc == 6 && !strcmp(argv[1], "keepalive"))
		return keepalive(argv[2], atoi(argv[3]), argv[4], argv[5]);
	if (argc == 9 && !strcmp(argv[1], "addr"))
		return addr_gone(argv[2], argv[3], atoi(argv[4]), argv[5],
				 argv[6], argv[7], argv[8]);
	if (argc == 9 && !strcmp(argv[1], "mtu"))
		return mtu(argv[2], argv[3], atoi(argv[4]), argv[5], argv[6],
			   argv[7], argv[8]);
	if (argc == 9 && !strcmp(argv[1], "down"))
		return down(argv[2], argv[3], atoi(argv[4]), argv[5], argv[6],
			    argv[7], argv[8]);
	if (argc == 5 && !strcmp(argv[1], "diag"))
		return diag(argv[2], atoi(argv[3]), argv[4]);
	if (argc == 3 && !strcmp(argv[1], "echo-server"))
		return echo_server(atoi(argv[2]));
	if ((argc == 7 || argc == 8) && !strcmp(argv[1], "churn"))
		return churn(argv[2], atoi(argv[3]), argv[4], atoi(argv[5]),
			     atoi(argv[6]), argc == 8 ? strtoul(argv[7], NULL, 10) :
			     (unsigned int)time(NULL) ^ getpid());
	if (argc == 5 && !strcmp(argv[1], "pin"))
		return pin(argv[2], atoi(argv[3]), argv[4]);
	if (argc == 5 && !strcmp(argv[1], "close"))
		return app_close(argv[2], atoi(argv[3]), argv[4]);
	if (argc == 4 && !strcmp(argv[1], "quit")) {
		int fd = do_connect(argv[2], atoi(argv[3]));

		write_all(fd, "quit\n", 5);
		close(fd);
		return 0;
	}
	fprintf(stderr, "usage: see the top of scripts/sock/sock.c\n");
	return 2;
}
