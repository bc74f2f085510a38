// SPDX-License-Identifier: GPL-2.0
/*
 * chimney-churn: concurrent churn with invariants (issue 11, part 1), run
 * inside the test VM (built static on the host, carried by run.sh -b).
 *
 * usage: chimney-churn [-t SECONDS] [-s SEED] [-p PERIOD]
 *
 * Threads, all at once on both vCPUs, for SECONDS (default 60):
 *  - two command writers: offload / terminate / raise of every event and
 *    reason / hw_failure / path / traffic / invalidate / upload_all /
 *    pause / resume / policy on the devices st0 st1 (dummy) and stv0 stv1
 *    (a veth pair);
 *  - a knob writer: delays, fail_next_*, fail_*, capacity, backlog interval;
 *  - a reader of every debugfs file (chimney's and chimney_ext's);
 *  - a device thread: link down/up, MTU, hardware address, IPv4 and IPv6
 *    address add/remove, rename, a netns move and back, device add/del,
 *    devices parameter writes;
 *  - a chimney_ext thread: the third-party layer module (public header
 *    only) stacks itself with intermediates on a live device, offloads,
 *    raises, storms from two kernel threads (one per CPU, zero loss
 *    checked by chimney_ext), unregisters with connections live, and the
 *    device goes.
 * Every PERIOD seconds (default 10) and at the end the workers stop
 * (a write lock they take per operation), nothing transient may remain
 * after at most 20 s, and the books must balance: table = lines of
 * connections = sum over stacks = sum over targets; on each chimney stack
 * every event accepted from the target was delivered to the host
 * (event_X = host_event_X, reason_R = host_reason_R). The seed is printed.
 * Exit 0: no finding; 1: a finding ("CHURN-FAIL:").
 */
#define _GNU_SOURCE
#define FINDING_PREFIX "CHURN-FAIL: "
#include <inttypes.h>
#include "common.h"

static pthread_rwlock_t gate;	/* writer-preferring: the checker must get in */
static bool running = true;
static long ops[8];
enum { O_CMD, O_CMD_OK, O_KNOB, O_READ, O_NET, O_EXT, O_CHECK, O_STORM };
static pthread_mutex_t cl = PTHREAD_MUTEX_INITIALIZER;

static void add(int what, long n)
{
	pthread_mutex_lock(&cl);
	ops[what] += n;
	pthread_mutex_unlock(&cl);
}

static long long stat_of(const char *text, const char *key)
{
	size_t kl = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, key, kl) && p[kl] == ' ')
			return strtoll(p + kl + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

static int lines_of_conns(const char *text)
{
	int n = 0;
	const char *p = text;

	while (*p) {
		if (*p >= '0' && *p <= '9')
			n++;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return n;
}

/* --- the workers ------------------------------------------------------------ */
static const char *const cdevs[] = { "st0", "st1", "stv0", "stv1" };
#define NCDEV 4
static const char *const evs[] = {
	"event=backlog bytes=%u", "event=disconnect", "event=abort",
	"event=retrieve reason=%u",
};

/* An id of a connection on the device, or 0. */
static uint64_t some_id(struct rng *r)
{
	char *c = slurp(D "/connections"), *p = c;
	uint64_t ids[64];
	int n = 0;

	while (p && *p && n < 64) {
		if (*p >= '0' && *p <= '9')
			ids[n++] = strtoull(p, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	free(c);
	return n ? ids[below(r, n)] : 0;
}

static void *cmd_writer(void *arg)
{
	struct rng r = { *(uint64_t *)arg };
	int fd = open(D "/command", O_WRONLY);
	char line[256];
	unsigned int port = 1;

	while (READ_ONCE(running)) {
		const char *dev = cdevs[below(&r, NCDEV)];
		uint64_t id = 0;
		unsigned int k = below(&r, 100);

		pthread_rwlock_rdlock(&gate);
		if (k >= 40)
			id = some_id(&r);
		if (k < 40 || !id) {
			if (below(&r, 3))
				snprintf(line, sizeof(line), "offload dev=%s src=10.70.%u.1:%u dst=10.70.0.2:80\n",
					 dev, below(&r, 4), port++ % 65535 + 1);
			else
				snprintf(line, sizeof(line), "offload dev=%s src=[2001:db8::70]:%u dst=[2001:db8::71]:443\n",
					 dev, port++ % 65535 + 1);
		} else if (k < 48) {
			snprintf(line, sizeof(line), "terminate id=%" PRIu64 "\n", id);
		} else if (k < 80) {
			unsigned int e = below(&r, 4);
			char ev[64];

			snprintf(ev, sizeof(ev), evs[e], e == 0 ? below(&r, 1 << 20) : 1 + below(&r, 11));
			snprintf(line, sizeof(line), "raise id=%" PRIu64 " %s\n", id, ev);
		} else if (k < 83) {
			snprintf(line, sizeof(line), "hw_failure id=%" PRIu64 "\n", id);
		} else if (k < 88) {
			snprintf(line, sizeof(line), "path id=%" PRIu64 " rate=%u rtt=%u\n", id,
				 1 + below(&r, 1000000000), 1 + below(&r, 200000));
		} else if (k < 92) {
			snprintf(line, sizeof(line), "traffic id=%" PRIu64 " in=%u out=%u retrans=%u\n",
				 id, below(&r, 100), below(&r, 100), below(&r, 3));
		} else {
			static const char *const devverbs[] = { "invalidate", "upload_all",
				"pause", "resume", "resume", "resume", "resume", "policy" };
			/* the reasons a policy may decline: not the mandatory ones */
			static const unsigned int optional[] = { 1, 2, 3, 4, 6, 7 };
			const char *v = devverbs[below(&r, 8)];

			if (!strcmp(v, "policy"))
				snprintf(line, sizeof(line), "policy dev=%s reason=%u accept=%u\n",
					 dev, optional[below(&r, 6)], below(&r, 2));
			else
				snprintf(line, sizeof(line), "%s dev=%s\n", v, dev);
		}
		if (write(fd, line, strlen(line)) >= 0)
			add(O_CMD_OK, 1);
		else if (errno == EINVAL)
			finding("well-formed command refused with EINVAL: %s", line);
		add(O_CMD, 1);
		pthread_rwlock_unlock(&gate);
	}
	close(fd);
	return NULL;
}

static void *knob_writer(void *arg)
{
	struct rng r = { *(uint64_t *)arg };
	static const char *const knobs[] = { "initiate_delay_ms", "terminate_delay_ms",
		"fail_next_initiate", "fail_next_terminate", "fail_initiate",
		"fail_terminate", "backlog_interval_ms", "capacity" };
	char path[128], v[32];

	while (READ_ONCE(running)) {
		unsigned int k = below(&r, 8);

		switch (k) {
		case 0:
		case 1:
			snprintf(v, sizeof(v), "%u", below(&r, 3) ? 0 : below(&r, 50));
			break;
		case 2:
		case 3:
			snprintf(v, sizeof(v), "%d", below(&r, 2) ? -5 : 0);
			break;
		case 4:
		case 5:
			snprintf(v, sizeof(v), "%u", below(&r, 6) == 0);
			break;
		case 6:
			snprintf(v, sizeof(v), "%u", below(&r, 30));
			break;
		default:
			snprintf(v, sizeof(v), "%u", 4 + below(&r, 60));
			break;
		}
		snprintf(path, sizeof(path), D "/devices/%s/%s", cdevs[below(&r, NCDEV)], knobs[k]);
		pthread_rwlock_rdlock(&gate);
		wr(path, v);
		add(O_KNOB, 1);
		pthread_rwlock_unlock(&gate);
		usleep(below(&r, 20000));
	}
	return NULL;
}

static void *reader(void *arg)
{
	(void)arg;
	while (READ_ONCE(running)) {
		pthread_rwlock_rdlock(&gate);
		add(O_READ, read_tree(D, &running, NULL) +
			      read_tree(E, &running, NULL));
		pthread_rwlock_unlock(&gate);
	}
	return NULL;
}

static double slowest_net, slowest_extdel;
static unsigned int slowest_kind;

static void *net_worker(void *arg)
{
	struct rng r = { *(uint64_t *)arg };
	unsigned int n = 0;

	while (READ_ONCE(running)) {
		const char *dev = cdevs[below(&r, NCDEV)];
		unsigned int k = below(&r, 12);
		double t;

		pthread_rwlock_rdlock(&gate);
		t = now();
		switch (k) {
		case 0:
			sh("ip link set %s down; ip link set %s up", dev, dev);
			break;
		case 1:
			sh("ip link set %s mtu %u", dev, 1280 + below(&r, 8000));
			break;
		case 2:
			sh("ip link set %s address 02:00:00:00:%02x:%02x", dev,
			   below(&r, 256), below(&r, 256));
			break;
		case 3:
			sh("ip addr add 10.71.%u.1/24 dev %s 2>/dev/null", below(&r, 4), dev);
			break;
		case 4:
			sh("ip addr flush dev %s", dev);
			break;
		case 5:
			sh("ip -6 addr add 2001:db8:71::%x/64 dev %s nodad 2>/dev/null",
			   1 + below(&r, 255), dev);
			break;
		case 6:	/* rename st1 away and back: debugfs follows */
			sh("ip link set st1 down; ip link set st1 name st1r && ip link set st1r name st1; ip link set st1 up");
			break;
		case 7:	/* netns move of st0 and back */
			sh("ip link set st0 netns stns && ip -n stns link set st0 netns 1; ip link set st0 up");
			break;
		case 8:	/* device add/del: st2 matches the devices parameter */
			sh("ip link add st2 type dummy 2>/dev/null; ip link set st2 up; ip link del st2");
			break;
		case 9: {
			static const char *const pats[] = { "st*\n", "st0,st1\n", "\n", "st2\n", "st*,stv*\n" };

			wr(PARAM, pats[below(&r, 5)]);
			break;
		}
		default:
			sh("ip link set %s up", dev);
			break;
		}
		add(O_NET, 1);
		t = now() - t;
		if (t > slowest_net) {
			slowest_net = t;
			slowest_kind = k;
		}
		if (t > 30)
			finding("device operation %u took %.1f s", k, t);
		pthread_rwlock_unlock(&gate);
		if (++n % 8 == 0)
			usleep(below(&r, 50000));
	}
	return NULL;
}

/* chimney_ext: the third-party layer module on a live device. */
static void *ext_worker(void *arg)
{
	struct rng r = { *(uint64_t *)arg };
	char line[128];
	int err;

	while (READ_ONCE(running)) {
		pthread_rwlock_rdlock(&gate);
		sh("ip link add xte0 type dummy 2>/dev/null; ip link set xte0 up");
		snprintf(line, sizeof(line), "stack dev=xte0 im=%u async_ms=%u\n",
			 below(&r, 3), below(&r, 30));
		if (!wr(E "/command", line)) {
			wr(E "/command", "offload dev=xte0 count=8\n");
			wr(E "/command", "raise dev=xte0 event=backlog info=4096\n");
			snprintf(line, sizeof(line), "storm dev=xte0 events=%u\n", 50 + below(&r, 200));
			err = wr(E "/command", line);
			if (err == -EIO)
				finding("chimney_ext storm lost an accepted event (-EIO)");
			add(O_STORM, 1);
			if (below(&r, 2))
				wr(E "/command", "raise dev=xte0 event=retrieve info=9\n");
			switch (below(&r, 3)) {
			case 0:
				wr(E "/command", "unregister dev=xte0\n");
				break;
			case 1:
				wr(E "/command", "upload dev=xte0\n");
				break;
			default:	/* the device goes with everything live */
				break;
			}
		}
		{
			double t = now();

			sh("ip link del xte0");
			t = now() - t;
			if (t > slowest_extdel)
				slowest_extdel = t;
			if (t > DEL_SLOW)
				finding("ip link del xte0 (chimney_ext stack, connections live) took %.1f s", t);
		}
		add(O_EXT, 1);
		pthread_rwlock_unlock(&gate);
		usleep(below(&r, 100000));
	}
	return NULL;
}

/* --- invariants --------------------------------------------------------------- */
static bool settled(void)
{
	char *c = slurp(D "/connections");
	bool ok = !strstr(c, " offloading ") && !strstr(c, " terminating ");

	free(c);
	return ok;
}

static const char *const counted[] = {
	"event_backlog", "event_disconnect", "event_retrieve", "event_abort",
	"reason_low_activity", "reason_high_drop_rate", "reason_small_io",
	"reason_no_buffer_preposting", "reason_received_urgent_data",
	"reason_high_fragmentation", "reason_high_out_of_order_packets",
	"reason_timeout_expiration", "reason_invalid_state",
	"reason_upload_requested", "reason_hardware_failure",
};

static long long max_live, events_seen;

static void check_books(const char *when)
{
	long long ev = 0;
	char *g, *c, path[512], *ds, *dc;
	long long live, sum = 0, tsum = 0;
	int lines;
	struct dirent *de;
	DIR *dir;
	size_t i;
	double t0 = now();

	while (!settled()) {
		if (now() - t0 > 20) {
			char *cc = slurp(D "/connections");

			finding("%s: connections still in a transient state 20 s after activity stopped:\n%s",
				when, cc);
			free(cc);
			return;
		}
		usleep(50000);
	}
	g = slurp(D "/stats");
	c = slurp(D "/connections");
	live = stat_of(g, "connections_live");
	lines = lines_of_conns(c);
	if (live != lines)
		finding("%s: connections_live %lld, %d connection lines", when, live, lines);
	dir = opendir(D "/devices");
	while (dir && (de = readdir(dir))) {
		long long dl, dt;
		int dn;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), D "/devices/%s/stats", de->d_name);
		ds = slurp(path);
		snprintf(path, sizeof(path), D "/devices/%s/connections", de->d_name);
		dc = slurp(path);
		dl = stat_of(ds, "connections_live");
		dt = stat_of(ds, "target_connections");
		dn = lines_of_conns(dc);
		if (dl != dn || dt != dn)
			finding("%s: %s: connections_live %lld, target_connections %lld, %d lines",
				when, de->d_name, dl, dt, dn);
		for (i = 0; i < ARRAY_SIZE(counted); i++) {
			char hk[64];
			long long a = stat_of(ds, counted[i]), h;

			snprintf(hk, sizeof(hk), "host_%s", counted[i]);
			h = stat_of(ds, hk);
			if (i < 4 && a > 0)
				ev += a;
			if (a != h)
				finding("%s: %s: %s %lld accepted from the target, %s %lld delivered to the host",
					when, de->d_name, counted[i], a, hk, h);
		}
		sum += dl;
		tsum += dt;
		free(ds);
		free(dc);
	}
	if (dir)
		closedir(dir);
	if (sum != live || tsum != live)
		finding("%s: the table has %lld connections, the stacks %lld, the targets %lld",
			when, live, sum, tsum);
	printf("chimney-churn: %s: books balance: %lld connection(s) in the table, the stacks and the targets, %lld event(s) accepted = delivered; settled in %.1f s\n",
	       when, live, ev, now() - t0);
	if (live > max_live)
		max_live = live;
	events_seen = ev;
	free(g);
	free(c);
	add(O_CHECK, 1);
}

/* Faults off, delays off, links up: then it must settle. */
static void faults_off(void)
{
	static const char *const k[] = { "fail_initiate", "fail_terminate",
		"initiate_delay_ms", "terminate_delay_ms" };
	char path[128];
	int i, j;

	for (i = 0; i < NCDEV; i++) {
		for (j = 0; j < 4; j++) {
			snprintf(path, sizeof(path), D "/devices/%s/%s", cdevs[i], k[j]);
			wr(path, "0\n");
		}
	}
}

int main(int argc, char **argv)
{
	uint64_t seed = 0, seeds[8];
	double secs = 60, period = 10, t0, next;
	pthread_t th[8];
	int c, i, nth = 0;

	while ((c = getopt(argc, argv, "t:s:p:")) != -1) {
		switch (c) {
		case 't':
			secs = atof(optarg);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'p':
			period = atof(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-t SECONDS] [-s SEED] [-p PERIOD]\n", argv[0]);
			return 2;
		}
	}
	if (!seed)
		seed = seed_from_clock();
	{
		pthread_rwlockattr_t a;

		pthread_rwlockattr_init(&a);
		pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&gate, &a);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("chimney-churn: seed %" PRIu64 " (replay: chimney-churn -s %" PRIu64 " -t %.0f)\n",
	       seed, seed, secs);
	for (i = 0; i < 8; i++)
		seeds[i] = (seed + i) * 0x9E3779B97F4A7C15ULL | 1;

	sh("ip netns add stns 2>/dev/null; true");
	for (i = 0; i < 2; i++)
		sh("ip link add st%d type dummy; ip link set st%d up", i, i);
	sh("ip link add stv0 type veth peer name stv1; ip link set stv0 up; ip link set stv1 up");
	wr(PARAM, "st*,stv*\n");
	for (i = 0; i < NCDEV; i++) {
		char line[64];

		snprintf(line, sizeof(line), "attach dev=%s capacity=64\n", cdevs[i]);
		wr(D "/command", line);
	}

	t0 = now();
	next = t0 + period;
	pthread_create(&th[nth++], NULL, cmd_writer, &seeds[0]);
	pthread_create(&th[nth++], NULL, cmd_writer, &seeds[1]);
	pthread_create(&th[nth++], NULL, knob_writer, &seeds[2]);
	pthread_create(&th[nth++], NULL, reader, NULL);
	pthread_create(&th[nth++], NULL, net_worker, &seeds[3]);
	pthread_create(&th[nth++], NULL, ext_worker, &seeds[4]);
	while (now() - t0 < secs && READ_ONCE(findings) < 10) {
		usleep(200000);
		if (now() >= next && now() - t0 < secs - period / 2) {
			char when[64];
			double s;

			pthread_rwlock_wrlock(&gate);
			faults_off();
			s = now();
			snprintf(when, sizeof(when), "at %.0f s", s - t0);
			check_books(when);
			pthread_rwlock_unlock(&gate);
			next = now() + period;
		}
	}
	WRITE_ONCE(running, false);
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	faults_off();
	check_books("at the end");
	printf("chimney-churn: seed %" PRIu64 ": %.0f s of churn: %ld commands (%ld accepted), %ld knob writes, %ld debugfs reads, %ld device operations (slowest: kind %u, %.1f s), %ld chimney_ext stack cycles (%ld storms, slowest ip link del %.1f s), %ld invariant checks (most connections live at one: %lld, events accepted and delivered at the end: %lld)\n",
	       seed, now() - t0, ops[O_CMD], ops[O_CMD_OK], ops[O_KNOB], ops[O_READ],
	       ops[O_NET], slowest_kind, slowest_net, ops[O_EXT], ops[O_STORM], slowest_extdel, ops[O_CHECK],
	       max_live, events_seen);
	/* No device reference left behind: every device goes promptly. */
	for (i = 0; i < 3; i++) {
		static const char *const del[] = { "st0", "st1", "stv0" };
		double s = now();

		sh("ip link del %s", del[i]);
		if (now() - s > DEL_SLOW)
			finding("ip link del %s took %.1f s", del[i], now() - s);
	}
	sh("ip netns del stns 2>/dev/null; true");
	printf("chimney-churn: %d finding(s)\n", findings);
	return findings ? 1 : 0;
}
