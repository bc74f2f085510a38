// SPDX-License-Identifier: GPL-2.0
/*
 * chimney-cycles: insmod/rmmod cycles of chimney under fire (issue 11,
 * part 4), run inside the test VM (built static on the host, carried by
 * scripts/qemu/run.sh -b). One process, modules loaded with finit_module()
 * and removed with delete_module(O_NONBLOCK) like rmmod does, so a cycle
 * costs what the kernel costs, not a hundred forks.
 *
 * usage: chimney-cycles -c CHIMNEY.ko -e CHIMNEY_EXT.ko [-n CYCLES] [-s SEED]
 *
 * Each cycle: insmod chimney devices=cyc*, a device attached at load
 * (cyca, exists before) and one by the notifier (cycb), connections on
 * both (IPv4 and IPv6, one initiate still pending), every third cycle
 * chimney_ext with a stack of two intermediates and connections on its own
 * device. Then, while threads raise events on those connections, read
 * every debugfs file, write the devices parameter and add and remove
 * devices: rmmod chimney_ext, then rmmod chimney, after a random delay.
 * Every fifth cycle a debugfs file is held open: rmmod must be refused with
 * EAGAIN/EBUSY and change nothing (the device directories, the connections
 * count), then succeed once the file is closed. Any other refusal fails; so
 * does an rmmod that does not return within 60 s (a watchdog), a debugfs
 * directory or /sys/module entry left after rmmod, or a device that
 * cannot be deleted within 10 s after it.
 * The seed (printed) drives the delays and choices.
 */
#define _GNU_SOURCE
#define FINDING_PREFIX "FAIL: "
#include <inttypes.h>
#include <sys/stat.h>
#include "common.h"

/* One generator for every thread, behind a lock: delays and choices. */
static struct rng rs;
static pthread_mutex_t rl = PTHREAD_MUTEX_INITIALIZER;

static unsigned int pick(unsigned int n)
{
	uint64_t v;

	pthread_mutex_lock(&rl);
	v = rnd(&rs);
	pthread_mutex_unlock(&rl);
	return n ? v % n : 0;
}

/* A finding ends the run: what a cycle left behind would mislead the next. */
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfinding(fmt, ap);
	va_end(ap);
	_exit(1);
}

/*
 * The fire's opens of a debugfs file never overlap an rmmod. 6.12's
 * delete_module() drops the module's last reference before it marks the
 * module GOING; an open landing in between fails try_module_get() on a
 * module still LIVE, and full_proxy_open() takes that for a module that
 * left its files behind: WARN "debugfs file owner did not clean up at
 * exit", a panic under panic_on_warn (hit once, by two threads at once,
 * in a make check run). That is the kernel's race, not chimney's:
 * chimney's exit cannot meet a debugfs operation, since an open file
 * holds the module. Files opened before an rmmod stay open across it, so
 * rmmod is still refused while busy.
 */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;

static int fire_open(const char *path, int flags)
{
	int fd;

	pthread_mutex_lock(&open_lock);
	fd = open(path, flags);
	pthread_mutex_unlock(&open_lock);
	return fd;
}

/* rmmod: delete_module(O_NONBLOCK), as kmod and busybox do. */
static double rmmod_since;
static const char *rmmod_name;
static int rmmod(const char *name)
{
	int rc;

	pthread_mutex_lock(&open_lock);
	WRITE_ONCE(rmmod_name, name);
	WRITE_ONCE(rmmod_since, now());
	rc = syscall(SYS_delete_module, name, O_NONBLOCK);
	rc = rc ? -errno : 0;
	WRITE_ONCE(rmmod_since, 0);
	pthread_mutex_unlock(&open_lock);
	return rc;
}

static void *watchdog(void *arg)
{
	(void)arg;
	for (;;) {
		double t = READ_ONCE(rmmod_since);

		if (t && now() - t > 60)
			die("rmmod %s did not return within 60 s", READ_ONCE(rmmod_name));
		sleep(1);
	}
	return NULL;
}

static bool exists(const char *p)
{
	return access(p, F_OK) == 0;
}

static void wait_path(const char *p, bool want, const char *what)
{
	double end = now() + 20;

	while (exists(p) != want) {
		if (now() > end)
			die("%s: timed out waiting for %s", what, p);
		usleep(10000);
	}
}

static int count_lines(const char *path)
{
	char buf[65536];
	int fd = open(path, O_RDONLY), n = 0;
	ssize_t r, i;

	if (fd < 0)
		return -1;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < r; i++)
			n += buf[i] == '\n';
	close(fd);
	return n;
}

/* --- fire ---------------------------------------------------------------- */
static bool firing;
static long reads, raises, params, churns;
static uint64_t ids[16];
static int nids;

static void *reader(void *arg)
{
	(void)arg;
	while (READ_ONCE(firing)) {
		reads += read_tree(D, &firing, fire_open) +
			 read_tree(E, &firing, fire_open);
		/*
		 * rmmod gets a window now and then: a pass over the tree holds
		 * some file open nearly all the time, and rmmod is retried
		 * every 5 ms. A gap of 5-25 ms cost 48 refusals (3 s) per
		 * cycle under TCG; 5-65 ms still meets rmmod with the raiser
		 * and the writers going, in a third of the time.
		 */
		usleep(5000 + pick(60000));
	}
	return NULL;
}

static void *param_writer(void *arg)
{
	static const char *const pats[] = { "cyc*\n", "cyc*,dummy*\n", "\n",
		"cyc?\n", "*\n" };

	(void)arg;
	while (READ_ONCE(firing)) {
		wr(PARAM, pats[pick(5)]);
		params++;
		usleep(5000 + pick(20000));
	}
	return NULL;
}

static void *raiser(void *arg)
{
	static const char *const ev[] = {
		"event=backlog bytes=65536", "event=retrieve reason=low_activity",
		"event=retrieve reason=invalid_state", "event=disconnect",
		"event=abort", "event=retrieve reason=small_io",
	};
	char line[160];
	int fd;

	(void)arg;
	while (READ_ONCE(firing)) {
		fd = fire_open(D "/command", O_WRONLY);
		if (fd < 0) {
			usleep(2000);
			continue;
		}
		if (nids) {
			uint64_t id = ids[pick(nids)];

			switch (pick(4)) {
			case 0:
				snprintf(line, sizeof(line), "path id=%" PRIu64 " rate=%u rtt=%u\n",
					 id, 1000 + pick(100000000), 1 + pick(100000));
				break;
			case 1:
				snprintf(line, sizeof(line), "traffic id=%" PRIu64 " in=%u out=%u\n",
					 id, pick(1000), pick(1000));
				break;
			default:
				snprintf(line, sizeof(line), "raise id=%" PRIu64 " %s\n",
					 id, ev[pick(6)]);
			}
			(void)!write(fd, line, strlen(line));
			raises++;
		}
		close(fd);
		usleep(1000 + pick(5000));
	}
	return NULL;
}

static void *churner(void *arg)
{
	(void)arg;
	while (READ_ONCE(firing)) {
		sh("ip link add cycc type dummy 2>/dev/null && ip link set cycc up");
		if (!READ_ONCE(firing))
			break;
		sh("ip link del cycc 2>/dev/null");
		churns++;
	}
	return NULL;
}

/* One connection through the command file; its id joins the raiser's pool. */
static uint64_t offload_conn(const char *dev, const char *src, const char *dst)
{
	char line[200], idb[32] = "";
	int fd = open(D "/command", O_RDWR);
	uint64_t id = 0;

	if (fd < 0)
		die("open command: %s", strerror(errno));
	snprintf(line, sizeof(line), "offload dev=%s src=%s dst=%s\n", dev, src, dst);
	if (write(fd, line, strlen(line)) < 0)
		die("%s: %s", line, strerror(errno));
	if (pread(fd, idb, sizeof(idb) - 1, 0) > 0)
		id = strtoull(idb, NULL, 10);
	close(fd);
	if (nids < 16)
		ids[nids++] = id;
	return id;
}

static int rmmod_retry(const char *name, long *refused)
{
	double end = now() + 30;
	int rc;

	for (;;) {
		rc = rmmod(name);
		if (!rc)
			return 0;
		if (rc != -EAGAIN && rc != -EBUSY && rc != -EWOULDBLOCK)
			die("rmmod %s refused with %s", name, strerror(-rc));
		(*refused)++;
		if (now() > end)
			die("rmmod %s refused for 30 s: %s", name, strerror(-rc));
		usleep(5000);	/* a busy module is let go of in a window of ms */
	}
}

int main(int argc, char **argv)
{
	const char *chimney = NULL, *ext = NULL;
	long cycles = 100, refused = 0, held_refusals = 0, ext_cycles = 0, conns = 0;
	uint64_t seed = 0;
	pthread_t th[4], wd;
	double t0 = now(), slowest = 0, phase[4] = { 0 };
	long cyc;
	int c, i, rc;

	while ((c = getopt(argc, argv, "c:e:n:s:")) != -1) {
		switch (c) {
		case 'c':
			chimney = optarg;
			break;
		case 'e':
			ext = optarg;
			break;
		case 'n':
			cycles = strtol(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s -c chimney.ko -e chimney_ext.ko [-n N] [-s SEED]\n", argv[0]);
			return 2;
		}
	}
	if (!chimney || !ext)
		return 2;
	if (!seed)
		seed = seed_from_clock();
	rs.s = seed | 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("chimney-cycles: seed %" PRIu64 " (replay: -s %" PRIu64 " -n %ld)\n", seed, seed, cycles);
	pthread_create(&wd, NULL, watchdog, NULL);

	sh("ip link add cyca type dummy; ip link set cyca up");
	for (cyc = 1; cyc <= cycles; cyc++) {
		bool with_ext = cyc % 3 == 0, hold = cyc % 5 == 0;
		char src[64];
		double r0;
		int before, held = -1;

		double ph = now();

		nids = 0;
		rc = insmod(chimney, "devices=cyc*");
		phase[0] += now() - ph;
		ph = now();
		if (rc)
			die("cycle %ld: insmod chimney: %s", cyc, strerror(-rc));
		wait_path(D "/devices/cyca", true, "cyca attached at load");
		sh("ip link add cycb type dummy; ip link set cycb up");
		wait_path(D "/devices/cycb", true, "cycb attached by the notifier");
		snprintf(src, sizeof(src), "10.60.0.1:%ld", cyc);
		offload_conn("cyca", src, "10.60.0.2:80");
		offload_conn("cycb", src, "10.60.1.2:80");
		snprintf(src, sizeof(src), "[2001:db8::60]:%ld", cyc);
		offload_conn("cycb", src, "[2001:db8::61]:443");
		if (wr(D "/devices/cycb/initiate_delay_ms", "3000\n"))
			die("cycle %ld: initiate_delay_ms", cyc);
		snprintf(src, sizeof(src), "10.60.1.1:%ld", cyc + 1000);
		offload_conn("cycb", src, "10.60.1.2:80");
		conns += 4;
		if (with_ext) {
			ext_cycles++;
			rc = insmod(ext, "");
			if (rc)
				die("cycle %ld: insmod chimney_ext: %s", cyc, strerror(-rc));
			sh("ip link add xcye type dummy; ip link set xcye up");
			if (wr(E "/command", "stack dev=xcye im=2 async_ms=20\n") ||
			    wr(E "/command", "offload dev=xcye count=4\n"))
				die("cycle %ld: chimney_ext stack/offload", cyc);
			conns += 4;
		}

		phase[1] += now() - ph;
		ph = now();
		WRITE_ONCE(firing, true);
		pthread_create(&th[0], NULL, reader, NULL);
		pthread_create(&th[1], NULL, param_writer, NULL);
		pthread_create(&th[2], NULL, raiser, NULL);
		pthread_create(&th[3], NULL, churner, NULL);
		usleep(50000 + pick(250000));

		if (hold) {
			/*
			 * A file held open pins the module: refused, nothing
			 * changes. The fire stops first, or it would change
			 * things itself.
			 */
			WRITE_ONCE(firing, false);
			for (i = 0; i < 4; i++)
				pthread_join(th[i], NULL);
			static const char *const files[] = { D "/stats",
				D "/devices/cyca/stats", D "/connections", D "/command" };
			const char *f = files[pick(4)];

			held = open(f, strstr(f, "command") ? O_WRONLY : O_RDONLY);
			if (held < 0)
				die("cycle %ld: open %s: %s", cyc, f, strerror(errno));
			if (with_ext)
				rmmod_retry("chimney_ext", &refused);
			{
				double end = now() + 10;
				char *c;

				/* uploads the fire asked for finish first */
				for (;;) {
					int fd2 = open(D "/devices/cyca/connections", O_RDONLY);
					char b[8192] = "";

					if (fd2 >= 0) {
						(void)!read(fd2, b, sizeof(b) - 1);
						close(fd2);
					}
					c = strstr(b, " terminating ");
					if (!c || now() > end)
						break;
					usleep(20000);
				}
			}
			before = count_lines(D "/devices/cyca/connections");
			rc = rmmod("chimney");
			if (rc != -EAGAIN && rc != -EBUSY && rc != -EWOULDBLOCK)
				die("cycle %ld: rmmod chimney with %s open: %s", cyc, f,
				    rc ? strerror(-rc) : "succeeded");
			held_refusals++;
			if (!exists(D "/devices/cyca") || !exists(D "/devices/cycb"))
				die("cycle %ld: the refused rmmod removed a device", cyc);
			if (count_lines(D "/devices/cyca/connections") != before)
				die("cycle %ld: the refused rmmod changed cyca's connections", cyc);
			close(held);
		}
		r0 = now();
		if (with_ext && !hold) {
			rmmod_retry("chimney_ext", &refused);
			if (exists(E))
				die("cycle %ld: %s left after rmmod", cyc, E);
		}
		rmmod_retry("chimney", &refused);
		if (now() - r0 > slowest)
			slowest = now() - r0;
		phase[2] += now() - ph;
		ph = now();
		if (firing) {
			WRITE_ONCE(firing, false);
			for (i = 0; i < 4; i++)
				pthread_join(th[i], NULL);
		}
		if (exists(D))
			die("cycle %ld: %s left after rmmod", cyc, D);
		if (exists("/sys/module/chimney"))
			die("cycle %ld: /sys/module/chimney left after rmmod", cyc);
		if (exists("/sys/module/chimney_ext"))
			die("cycle %ld: chimney_ext still loaded", cyc);
		r0 = now();
		sh("ip link del cycb; ip link del cycc 2>/dev/null; ip link del xcye 2>/dev/null; true");
		if (now() - r0 > DEL_SLOW)
			die("cycle %ld: ip link del took %.1f s", cyc, now() - r0);
		phase[3] += now() - ph;
		if (cyc % 10 == 0)
			printf("chimney-cycles: %ld cycles, %.0f s (insmod %.0f s, setup %.0f s, fire and rmmod %.0f s, teardown %.0f s)\n",
			       cyc, now() - t0, phase[0], phase[1], phase[2], phase[3]);
	}
	sh("ip link del cyca");
	printf("chimney-cycles: %ld insmod/rmmod cycles of chimney (%ld with chimney_ext) in %.0f s: %ld connections live at rmmod, %ld debugfs reads, %ld raise/path/traffic writes, %ld parameter writes, %ld device add/del; rmmod refused %ld time(s) while busy, %ld time(s) with a file held open as it must; slowest rmmod %.2f s\n",
	       cycles, ext_cycles, now() - t0, conns, reads, raises, params, churns,
	       refused, held_refusals, slowest);
	return 0;
}
