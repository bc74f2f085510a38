/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the VM-side stress programs (chimney-churn, -cycles, -fuzz,
 * -failnth), which each wrote their own copy. Each program is one file
 * built static by build.sh, so everything here is static inline: a program
 * carries only what it calls, and what it does not call draws no
 * -Wunused warning (build.sh has -Werror).
 *
 * Before including: #define _GNU_SOURCE (environ, strchrnul) and
 * FINDING_PREFIX, the tag of a finding's line ("CHURN-FAIL: "); the
 * harness and scripts/stress.sh grep for it.
 */
#ifndef CHIMNEY_STRESS_COMMON_H
#define CHIMNEY_STRESS_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef FINDING_PREFIX
#error "define FINDING_PREFIX (the tag the harness greps) before including this"
#endif

#define D "/sys/kernel/debug/chimney"
#define E "/sys/kernel/debug/chimney_ext"
#define PARAM "/sys/module/chimney/parameters/devices"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Seconds an "ip link del" may take before it counts as hung. A device
 * reference left behind makes it wait forever, and the kernel says so
 * every 10 s ("waiting for ... to become free", a splat to verdict.sh);
 * a loaded 2-vCPU TCG host has taken 12 s to delete three devices
 * without one.
 */
#define DEL_SLOW 60

/*
 * A flag or counter one thread writes and another polls without a lock
 * (stop flags, the findings count, the rmmod watchdog's clock): a relaxed
 * atomic access, so the compiler neither caches nor tears it. Generic
 * __atomic_load/store, as one of them is a double.
 */
#define READ_ONCE(x)						\
({								\
	typeof(x) __ro_v;					\
								\
	__atomic_load(&(x), &__ro_v, __ATOMIC_RELAXED);		\
	__ro_v;							\
})
#define WRITE_ONCE(x, val)					\
do {								\
	typeof(x) __wo_v = (val);				\
								\
	__atomic_store(&(x), &__wo_v, __ATOMIC_RELAXED);	\
} while (0)

/* --- findings ----------------------------------------------------------------- */
static int findings;
static pthread_mutex_t findings_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * One problem found: a line FINDING_PREFIX..., counted. Any thread may
 * report; the lock keeps two reports from interleaving, and the flush gets
 * the line out before a hang or a crash can swallow it.
 */
static inline void vfinding(const char *fmt, va_list ap)
{
	pthread_mutex_lock(&findings_lock);
	fputs(FINDING_PREFIX, stdout);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	WRITE_ONCE(findings, findings + 1);
	pthread_mutex_unlock(&findings_lock);
}

static inline void finding(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfinding(fmt, ap);
	va_end(ap);
}

/* --- seeded PRNG (xorshift64*): one state per thread, replayable ------------- */
struct rng {
	uint64_t s;
};

static inline uint64_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 2685821657736338717ULL;
}

/* 0 <= x < n; 0 for n == 0, without drawing. */
static inline unsigned int below(struct rng *r, unsigned int n)
{
	return n ? rnd(r) % n : 0;
}

/* A seed when none is given; printed by the caller for a replay. */
static inline uint64_t seed_from_clock(void)
{
	return (uint64_t)time(NULL) * 2654435761U ^ getpid();
}

/* --- time --------------------------------------------------------------------- */
/* Seconds on the monotonic clock: durations, deadlines. */
static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --- processes ---------------------------------------------------------------- */
/*
 * Run argv (argv[0] a full path: posix_spawn() does not search PATH) to its
 * end. posix_spawn, not fork: cheap in a big threaded process. Returns the
 * exit status, -1 if it could not start or was killed.
 */
static inline int spawn_wait(char *const argv[])
{
	pid_t pid;
	int st;

	if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ))
		return -1;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define BIN_SH "/bin/sh"

/* A shell command line (up to 511 bytes), printf-style: its exit status. */
static inline int sh(const char *fmt, ...)
{
	char cmd[512];
	char *const argv[] = { BIN_SH, "-c", cmd, NULL };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return spawn_wait(argv);
}

/*
 * Load a module as insmod does, without a fork: finit_module() on the
 * file. 0 or -errno.
 */
static inline int insmod(const char *file, const char *params)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	rc = syscall(SYS_finit_module, fd, params, 0);
	rc = rc ? -errno : 0;
	close(fd);
	return rc;
}

/* --- files -------------------------------------------------------------------- */
/*
 * Write s to path in one write(), as echo does: a debugfs or sysfs file
 * takes a write as one command. 0 or -errno.
 */
static inline int wr(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/*
 * The whole file, NUL-terminated, to be freed; "" if it cannot be opened
 * (a device directory that went meanwhile reads as empty).
 */
static inline char *slurp(const char *path)
{
	size_t cap = 8192, len = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY);
	ssize_t n;

	buf[0] = 0;
	if (fd < 0)
		return buf;
	for (;;) {
		if (cap - len < 4096) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = 0;
	return buf;
}

/*
 * Read every file under a debugfs tree but command (a read there is no
 * command, and it is the one a writer needs), while *go: the readers of
 * the tests race chimney's teardown. Files are opened with @open_fn
 * (open() when NULL). Returns the files read.
 */
static inline long read_tree(const char *dir, bool *go,
			     int (*open_fn)(const char *path, int flags))
{
	char path[512], buf[4096];
	struct dirent *de;
	DIR *d = opendir(dir);
	long files = 0;
	int fd;

	if (!d)
		return 0;
	while (READ_ONCE(*go) && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "command"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (de->d_type == DT_DIR) {
			files += read_tree(path, go, open_fn);
			continue;
		}
		fd = open_fn ? open_fn(path, O_RDONLY) : open(path, O_RDONLY);
		if (fd < 0)
			continue;
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
		files++;
	}
	closedir(d);
	return files;
}

/*
 * Print the first max lines that differ between two snapshots, compared
 * line by line, as "    before: ...\n    after:  ...". Returns how many
 * it printed: 0 when only the lengths differ.
 */
static inline int show_diff(const char *a, const char *b, int max)
{
	int shown = 0;

	while (*a && *b && shown < max) {
		const char *ae = strchrnul(a, '\n'), *be = strchrnul(b, '\n');

		if (ae - a != be - b || memcmp(a, b, ae - a)) {
			printf("    before: %.*s\n    after:  %.*s\n",
			       (int)(ae - a), a, (int)(be - b), b);
			shown++;
		}
		a = *ae ? ae + 1 : ae;
		b = *be ? be + 1 : be;
	}
	return shown;
}

#endif /* CHIMNEY_STRESS_COMMON_H */
