// SPDX-License-Identifier: GPL-2.0
/*
 * chimney-fuzz: a seeded fuzzer for everything a user can write to chimney
 * (issue 11, part 3): the debugfs command file (the socket target's
 * sock_offload and sock_upload too: no socket is established in that VM,
 * so a well-formed one must fail ENOENT), every knob under
 * devices/<dev>/, and the devices module parameter. Runs inside the test VM
 * (built static on the host, carried by scripts/qemu/run.sh -b).
 *
 * usage: chimney-fuzz [-s SEED] [-n WRITES] [-k CHECKED] [-r CONCURRENT] [-v] [-g]
 *
 * Writes: commands built from the README's grammar, the same mutated (byte
 * flips, truncation, overlong lines up to 64 KiB, no newline, embedded
 * NULs, non-ASCII, repeated, unknown and dropped keys, numbers at and
 * beyond every bound up to 2^64 and negative, IPv6 edge forms, ids that do
 * not exist), random bytes; knob values in and out of range; devices
 * patterns. They come in rounds, alternating:
 *  - checked rounds (CHECKED writes, default 100): two writer threads
 *    taking turns. Whether a write must be refused as malformed is decided
 *    by a model of the grammar (command file), of simple_attr_write() +
 *    kstrtoll() and the knob ranges (knobs). A refused write must leave a
 *    snapshot of every chimney debugfs file of both devices, the device
 *    list and the parameter identical, minus the counters that count
 *    refusals (rule_*, connections_offload_failed, *_refused_*); the
 *    snapshot before is taken with nothing transient (no connection
 *    offloading or terminating), writes the model calls malformed are
 *    compared in batches of up to 32 (each again alone on a mismatch), and
 *    a change is a finding only if it repeats from a fresh state three
 *    times (a timer firing in between does not). An accepted write is
 *    checked for its documented effect (offload: the new id listed on its
 *    device; terminate: no longer offloaded; attach/detach: the directory;
 *    policy: the policy file; pause/upload_all: host_paused; knobs and the
 *    parameter: read back).
 *  - concurrent rounds (CONCURRENT writes, default 9900): both writers at
 *    once while a third thread deletes and recreates fz1 (and attaches it
 *    again); a malformed write must still be refused.
 * Every errno must be one the README names (or the one a fail_next_* knob
 * hands to offload/terminate). -g: generate and judge only, write nothing
 * (a dry run on any machine). The seed is printed first; the same seed
 * replays the same generated writes (the concurrent interleaving differs
 * by nature).
 * Exit status 0: no finding; 1: findings (each printed as "FUZZ-FAIL:").
 */
#define _GNU_SOURCE
#define FINDING_PREFIX "FUZZ-FAIL: "
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>
#include "common.h"

#define CMD_MAX 256
#define MAXW 65536
#define NDEV 2
#define MAX_IDS 512

static const char *const devs[NDEV] = { "fz0", "fz1" };
static const char *const knobs[] = {
	"capacity", "initiate_delay_ms", "terminate_delay_ms",
	"fail_next_initiate", "fail_next_terminate", "fail_initiate",
	"fail_terminate", "backlog_interval_ms",
};
#define NKNOBS ARRAY_SIZE(knobs)
static const char *const verbs[] = {
	"attach", "detach", "offload", "terminate", "raise", "hw_failure",
	"path", "traffic", "upload_all", "invalidate", "policy", "pause",
	"resume", "sock_offload", "sock_upload",
};
#define NVERBS ARRAY_SIZE(verbs)
static const char *const keys[] = {
	"dev", "src", "dst", "id", "event", "reason", "bytes", "rate", "rtt",
	"accept", "capacity", "in", "out", "retrans",
};
#define NKEYS ARRAY_SIZE(keys)
enum { K_DEV, K_SRC, K_DST, K_ID, K_EVENT, K_REASON, K_BYTES, K_RATE, K_RTT,
	K_ACCEPT, K_CAPACITY, K_IN, K_OUT, K_RETRANS };
#define B(k) (1u << (k))
static const unsigned int req[NVERBS] = {
	B(K_DEV), B(K_DEV), B(K_DEV) | B(K_SRC) | B(K_DST), B(K_ID),
	B(K_ID) | B(K_EVENT), B(K_ID), B(K_ID) | B(K_RATE) | B(K_RTT), B(K_ID),
	B(K_DEV), B(K_DEV), B(K_DEV) | B(K_REASON) | B(K_ACCEPT), B(K_DEV),
	B(K_DEV), B(K_SRC) | B(K_DST), B(K_SRC) | B(K_DST),
};
static const unsigned int opt[NVERBS] = {
	B(K_CAPACITY), 0, 0, 0, B(K_REASON) | B(K_BYTES), 0, 0,
	B(K_IN) | B(K_OUT) | B(K_RETRANS), 0, 0, 0, 0, 0, 0, 0,
};
/* The socket target's verbs: no socket is ever established in this VM. */
#define V_SOCK_OFFLOAD 13
#define V_SOCK_UPLOAD 14
static const char *const events[] = { NULL, "backlog", "disconnect",
	"retrieve", "abort" };
static const char *const reasons[] = { NULL, "low_activity",
	"high_drop_rate", "small_io", "no_buffer_preposting",
	"received_urgent_data", "high_fragmentation",
	"high_out_of_order_packets", "timeout_expiration", "invalid_state",
	"upload_requested", "hardware_failure" };
static const char *const numbers[] = {
	"0", "1", "2", "5", "-1", "-5", "+5", "00", "007", "0x10", "255",
	"4095", "4096", "60000", "60001", "65535", "65536", "4194304",
	"4194305", "60000000", "60000001", "2147483647", "2147483648",
	"4294967295", "4294967296", "9223372036854775807",
	"9223372036854775808", "18446744073709551615",
	"18446744073709551616", "99999999999999999999999",
	"-9223372036854775808", "-18446744073709551615", "115", "-115",
	"11", "-11", "100", "-100", "28", "17", "512", "-512", "4095",
	"-4096", "1e3", " 1", "1 ", "",
};
#define NNUM ARRAY_SIZE(numbers)
static const char *const v4s[] = {
	"10.9.0.1", "10.9.0.2", "0.0.0.0", "255.255.255.255", "1.2.3",
	"1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", "a.b.c.d",
};
static const char *const v6s[] = {
	"2001:db8::1", "2001:db8::2", "::", "::1", "::ffff:1.2.3.4",
	"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1::2::3", "fe80::1%eth0",
	"::ffff:1.2.3", "12345::1", "2001:DB8::A", ":::", "1:2:3:4:5:6:1.2.3.4",
	"g::1", "",
};
static const char *const ports[] = {
	"1", "80", "443", "65535", "0", "65536", "-1", "+80", "080", "",
	"99999999999999999999",
};

/* --- PRNG: common.h's rnd() and below(), one state per thread ---------- */
static bool chance(struct rng *r, unsigned int pct)
{
	return below(r, 100) < pct;
}

/* --- shared state --------------------------------------------------------- */
static pthread_mutex_t turn = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t idlock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t ids[MAX_IDS];
static unsigned int nids;
static bool stop_churn;
static bool verbose;
static bool dry;	/* -g: generate and judge only, write nothing */
static long counts[8];	/* writes: cmd, knob, param; refused; checked; unstable; accepted */
enum { C_CMD, C_KNOB, C_PARAM, C_REFUSED, C_CHECKED, C_UNSTABLE, C_ACCEPTED, C_EFFECT };
static long errhist[160];
static pthread_mutex_t statlock = PTHREAD_MUTEX_INITIALIZER;

static void count(int what)
{
	pthread_mutex_lock(&statlock);
	counts[what]++;
	pthread_mutex_unlock(&statlock);
}

static void escape(const char *buf, size_t len, char *out, size_t outsz)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 24 < outsz; i++) {
		unsigned char c = buf[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = c;
		else
			o += snprintf(out + o, outsz - o, "\\x%02x", c);
	}
	out[o] = 0;
	if (i < len)
		snprintf(out + o, outsz - o, "...(%zu bytes)", len);
}

/* --- snapshots ------------------------------------------------------------ */
/* Counters a refused write may move: they count refusals. */
static bool refusal_counter(const char *line)
{
	static const char *const pfx[] = {
		"rule_", "connections_offload_failed ", "target_refused_",
		"host_refused_full ",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(pfx); i++)
		if (!strncmp(line, pfx[i], strlen(pfx[i])))
			return true;
	return false;
}

struct snap { char *text; size_t len, cap; };

static void snap_add(struct snap *s, const char *tag, const char *body,
		     bool filter)
{
	const char *p = body, *nl;
	size_t need = strlen(tag) + strlen(body) + 64;

	if (s->len + need >= s->cap) {
		s->cap = (s->len + need) * 2;
		s->text = realloc(s->text, s->cap);
	}
	s->len += sprintf(s->text + s->len, "== %s\n", tag);
	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		if (!filter || !refusal_counter(p)) {
			memcpy(s->text + s->len, p, nl - p);
			s->len += nl - p;
			s->text[s->len++] = '\n';
		}
		p = *nl ? nl + 1 : nl;
	}
	s->text[s->len] = 0;
}

static void snapshot(struct snap *s)
{
	static const char *const top[] = { "version", "stats", "connections",
		"last_id" };
	static const char *const per[] = { "stack", "connections", "stats",
		"policy" };
	char path[256], *b;
	struct dirent *de;
	DIR *dir;
	size_t i;
	int d;

	s->len = 0;
	if (!s->text) {
		s->cap = 65536;
		s->text = malloc(s->cap);
	}
	s->text[0] = 0;
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), D "/%s", top[i]);
		b = slurp(path);
		snap_add(s, top[i], b, true);
		free(b);
	}
	b = slurp(PARAM);
	snap_add(s, "param", b, false);
	free(b);
	/* Directory listing in a stable order: our devices, then the rest. */
	for (d = 0; d < NDEV; d++) {
		snprintf(path, sizeof(path), D "/devices/%s", devs[d]);
		if (access(path, F_OK)) {
			snap_add(s, devs[d], "absent\n", false);
			continue;
		}
		for (i = 0; i < 4 + NKNOBS; i++) {
			const char *f = i < 4 ? per[i] : knobs[i - 4];
			char tag[64];

			snprintf(path, sizeof(path), D "/devices/%s/%s", devs[d], f);
			snprintf(tag, sizeof(tag), "%s/%s", devs[d], f);
			b = slurp(path);
			snap_add(s, tag, b, true);
			free(b);
		}
	}
	dir = opendir(D "/devices");
	if (dir) {
		char list[4096] = "";

		while ((de = readdir(dir))) {
			if (de->d_name[0] == '.')
				continue;
			strncat(list, de->d_name, sizeof(list) - strlen(list) - 2);
			strcat(list, " ");
		}
		closedir(dir);
		/* readdir order is not stable across creation: sort words */
		{
			char *w[128], *sv, *t, sorted[4096] = "";
			int n = 0, a, c;

			for (t = strtok_r(list, " ", &sv); t && n < 128;
			     t = strtok_r(NULL, " ", &sv))
				w[n++] = t;
			for (a = 1; a < n; a++)
				for (c = a; c > 0 && strcmp(w[c - 1], w[c]) > 0; c--) {
					t = w[c];
					w[c] = w[c - 1];
					w[c - 1] = t;
				}
			for (a = 0; a < n; a++) {
				strcat(sorted, w[a]);
				strcat(sorted, "\n");
			}
			snap_add(s, "devices", sorted, false);
		}
	}
}

/* Print the first differing lines of two snapshots. */
static void snap_diff(const struct snap *a, const struct snap *b)
{
	if (!show_diff(a->text, b->text, 6))
		printf("    (snapshots differ in length: %zu vs %zu)\n", a->len, b->len);
}

static bool snap_eq(const struct snap *a, const struct snap *b)
{
	return a->len == b->len && !memcmp(a->text, b->text, a->len);
}

/* Nothing transient: no connection offloading or terminating. */
static bool settled(const struct snap *s)
{
	return !strstr(s->text, " offloading ") && !strstr(s->text, " terminating ");
}

/*
 * Wait (bounded) for a state with nothing transient; @s holds it. A timer
 * that still fires later (a held-back backlog) shows as a mismatch that
 * does not repeat: a mismatch is only a finding when it repeats.
 */
static bool quiesce(struct snap *s)
{
	int i;

	for (i = 0; i < 15; i++) {
		snapshot(s);
		if (settled(s))
			return true;
		usleep(20000);
	}
	return false;
}

/* --- generators ------------------------------------------------------------- */
struct wr {
	int target;		/* 0 command, 1 knob, 2 param */
	int dev;		/* knob: which device */
	int knob;
	char buf[MAXW + 64];
	size_t len;
	bool generated_valid;	/* made valid, not mutated */
};

static uint64_t pick_id(struct rng *r)
{
	uint64_t id = 0;

	pthread_mutex_lock(&idlock);
	if (nids && chance(r, 85))
		id = ids[below(r, nids)];
	pthread_mutex_unlock(&idlock);
	if (id)
		return id;
	switch (below(r, 4)) {
	case 0: return 1 + below(r, 2000);
	case 1: return UINT64_MAX;
	case 2: return 0;
	default: return rnd(r);
	}
}

static void remember_id(uint64_t id)
{
	pthread_mutex_lock(&idlock);
	if (nids < MAX_IDS)
		ids[nids++] = id;
	else
		ids[rnd(&(struct rng){ id | 1 }) % MAX_IDS] = id;
	pthread_mutex_unlock(&idlock);
}

static const char *pick_dev(struct rng *r)
{
	static const char *const other[] = { "fz9", "lo", "dummy0",
		"a234567890123456", "fz0 ", "" };

	if (chance(r, 92))
		return devs[below(r, NDEV)];
	return other[below(r, 6)];
}

static void endpoint(struct rng *r, char *o, size_t osz, bool v6, bool weird)
{
	unsigned int port = 1 + below(r, 65535);
	char ps[32];

	if (weird && chance(r, 30))
		snprintf(ps, sizeof(ps), "%s", ports[below(r, ARRAY_SIZE(ports))]);
	else
		snprintf(ps, sizeof(ps), "%u", port);
	if (v6) {
		const char *a = weird ? v6s[below(r, ARRAY_SIZE(v6s))] :
			(chance(r, 50) ? "2001:db8::1" : "2001:db8::2");
		if (weird && chance(r, 10))
			snprintf(o, osz, "%s:%s", a, ps);	/* no brackets */
		else
			snprintf(o, osz, "[%s]:%s", a, ps);
		return;
	}
	if (weird)
		snprintf(o, osz, "%s:%s", v4s[below(r, ARRAY_SIZE(v4s))], ps);
	else
		snprintf(o, osz, "10.9.%u.%u:%s", below(r, 4), 1 + below(r, 250), ps);
}

static void gen_value(struct rng *r, int key, char *o, size_t osz, bool weird)
{
	bool v6 = false;

	if (weird && chance(r, 40)) {
		snprintf(o, osz, "%s", numbers[below(r, NNUM)]);
		return;
	}
	switch (key) {
	case K_DEV:
		snprintf(o, osz, "%s", pick_dev(r));
		break;
	case K_SRC:
	case K_DST:
		v6 = chance(r, 35);
		endpoint(r, o, osz, v6, weird);
		break;
	case K_ID:
		snprintf(o, osz, "%" PRIu64, pick_id(r));
		break;
	case K_EVENT:
		if (chance(r, 50))
			snprintf(o, osz, "%s", events[1 + below(r, 4)]);
		else
			snprintf(o, osz, "%u", below(r, 6));
		break;
	case K_REASON:
		if (chance(r, 60))
			snprintf(o, osz, "%s", reasons[1 + below(r, 11)]);
		else if (chance(r, 10))
			snprintf(o, osz, "no_buffer_proposting");
		else
			snprintf(o, osz, "%u", below(r, 13));
		break;
	case K_BYTES:
	case K_IN:
	case K_OUT:
	case K_RETRANS:
		snprintf(o, osz, "%" PRIu64,
			 chance(r, 10) ? (uint64_t)4294967295U : rnd(r) % 1000000);
		break;
	case K_RATE:
		snprintf(o, osz, "%" PRIu64,
			 chance(r, 10) ? UINT64_MAX : (uint64_t)(1 + rnd(r) % 10000000000ULL));
		break;
	case K_RTT:
		snprintf(o, osz, "%u", 1 + below(r, 60000000));
		break;
	case K_ACCEPT:
		snprintf(o, osz, "%u", below(r, 2));
		break;
	case K_CAPACITY:
		snprintf(o, osz, "%u", 1 + below(r, 64));
		break;
	}
}

/* A command built from the grammar (valid unless @weird). */
static size_t gen_command(struct rng *r, char *o, bool weird)
{
	unsigned int v = below(r, NVERBS), k, keyset;
	size_t n;
	char val[128];

	/* Bias: offloads and events, fewer detaches. */
	if (chance(r, 25))
		v = 2;
	else if (chance(r, 20))
		v = 4;
	if (v == 1 && chance(r, 70))
		v = 0;
	n = sprintf(o, "%s", verbs[v]);
	keyset = req[v] | (opt[v] & (unsigned int)rnd(r));
	if (v == 4) {	/* raise: reason/bytes go with the event */
		unsigned int ev = 1 + below(r, 4);
		const char evnum[2] = { '0' + ev, 0 };	/* the event by number */

		keyset = req[v];
		n += sprintf(o + n, " id=%" PRIu64 " event=%s", pick_id(r),
			     chance(r, 50) ? events[ev] : evnum);
		if (ev == 1)
			n += sprintf(o + n, " bytes=%" PRIu64, rnd(r) % 2000000);
		if (ev == 3) {
			gen_value(r, K_REASON, val, sizeof(val), false);
			n += sprintf(o + n, " reason=%s", val);
		}
		return n + sprintf(o + n, "\n");
	}
	if (v == 10) {	/* policy: declining a mandatory reason is malformed */
		unsigned int re = 1 + below(r, 11);
		bool mand = re == 5 || (re >= 8 && re <= 11);

		n += sprintf(o + n, " dev=%s reason=%s accept=%d", pick_dev(r),
			     reasons[re], mand ? 1 : (int)below(r, 2));
		return n + sprintf(o + n, "\n");
	}
	for (k = 0; k < NKEYS; k++) {
		if (!(keyset & B(k)))
			continue;
		gen_value(r, k, val, sizeof(val), weird);
		n += sprintf(o + n, " %s=%s", keys[k], val);
	}
	if ((v == 2 || v >= V_SOCK_OFFLOAD) && !weird) {
		/* offload, sock_*: same family both ends */
		bool v6 = chance(r, 35);
		char a[80], b[80];

		endpoint(r, a, sizeof(a), v6, false);
		endpoint(r, b, sizeof(b), v6, false);
		if (v == 2)
			n = sprintf(o, "offload dev=%s src=%s dst=%s",
				    pick_dev(r), a, b);
		else
			n = sprintf(o, "%s src=%s dst=%s", verbs[v], a, b);
	}
	return n + sprintf(o + n, "\n");
}

static void mutate(struct rng *r, struct wr *w)
{
	unsigned int m = below(r, 12), i, n;
	char *b = w->buf;

	switch (m) {
	case 0:	/* byte flips */
		n = 1 + below(r, 3);
		for (i = 0; i < n && w->len; i++)
			b[below(r, w->len)] ^= 1 << below(r, 8);
		break;
	case 1:	/* truncation */
		w->len = below(r, w->len + 1);
		break;
	case 2:	/* missing newline */
		if (w->len && b[w->len - 1] == '\n')
			w->len--;
		break;
	case 3:	/* embedded NUL */
		if (w->len)
			b[below(r, w->len)] = 0;
		break;
	case 4: {	/* repeated key: duplicate a " key=value" */
		char *sp = memchr(b, ' ', w->len), *end = NULL;

		if (sp) {
			end = memchr(sp + 1, ' ', w->len - (sp - b) - 1);
			if (!end)
				end = b + w->len - 1;
		}
		if (sp && end > sp && w->len + (end - sp) < MAXW) {
			memmove(end + (end - sp), end, w->len - (end - b));
			memcpy(end, sp, end - sp);
			w->len += end - sp;
		}
		break;
	}
	case 5:	/* unknown key */
		if (w->len && b[w->len - 1] == '\n')
			w->len--;
		w->len += sprintf(b + w->len, " %s=1\n", chance(r, 50) ? "bogus" :
				  keys[below(r, NKEYS)]);
		break;
	case 6: {	/* overlong line, up to 64 KiB */
		size_t to = chance(r, 50) ? 250 + below(r, 20) : 257 + below(r, MAXW - 257);

		while (w->len < to)
			b[w->len++] = chance(r, 90) ? 'a' + below(r, 26) : ' ';
		b[w->len - 1] = '\n';
		break;
	}
	case 7:	/* a stray space, a tab, CR */
		if (w->len) {
			i = below(r, w->len);
			memmove(b + i + 1, b + i, w->len - i);
			b[i] = " \t\r"[below(r, 3)];
			w->len++;
		}
		break;
	case 8: {	/* replace a value with a boundary number */
		char *eq = memchr(b, '=', w->len), tmp[MAXW];
		char *end;
		const char *num = numbers[below(r, NNUM)];

		if (!eq)
			break;
		end = eq + 1;
		while (end < b + w->len && *end != ' ' && *end != '\n')
			end++;
		n = b + w->len - end;
		memcpy(tmp, end, n);
		memcpy(eq + 1, num, strlen(num));
		memcpy(eq + 1 + strlen(num), tmp, n);
		w->len = eq + 1 - b + strlen(num) + n;
		break;
	}
	case 9:	/* non-ASCII byte */
		if (w->len)
			b[below(r, w->len)] = 0x80 | below(r, 128);
		break;
	case 10:	/* drop a key */
	{
		char *sp = memrchr(b, ' ', w->len);

		if (sp) {
			*sp = '\n';
			w->len = sp - b + 1;
		}
		break;
	}
	default:	/* uppercase / duplicate a char */
		if (w->len) {
			i = below(r, w->len);
			if (b[i] >= 'a' && b[i] <= 'z')
				b[i] -= 32;
		}
		break;
	}
}

static void gen_write(struct rng *r, struct wr *w)
{
	unsigned int t = below(r, 100);

	w->generated_valid = false;
	if (t < 72) {
		w->target = 0;
		if (chance(r, 8)) {		/* random bytes */
			w->len = chance(r, 90) ? below(r, 300) : below(r, MAXW);
			for (size_t i = 0; i < w->len; i++)
				w->buf[i] = chance(r, 80) ? 0x20 + below(r, 95) : rnd(r);
			return;
		}
		w->len = gen_command(r, w->buf, chance(r, 15));
		if (chance(r, 45))
			mutate(r, w);
		else
			w->generated_valid = true;
	} else if (t < 94) {
		w->target = 1;
		w->dev = below(r, NDEV);
		w->knob = below(r, NKNOBS);
		if (chance(r, 70)) {
			uint64_t v;

			switch (w->knob) {
			case 0:
				v = 1 + below(r, 64);
				break;
			case 1:
			case 2:
				v = chance(r, 95) ? below(r, 30) : below(r, 60001);
				break;
			case 3:
			case 4:
				v = below(r, 10);
				break;
			case 5:
			case 6:
				v = chance(r, 80) ? 0 : 1;
				break;
			default:
				v = chance(r, 70) ? 0 : below(r, 200);
				break;
			}
			w->len = sprintf(w->buf, "%" PRIu64 "%s", v, chance(r, 80) ? "\n" : "");
		} else {
			w->len = sprintf(w->buf, "%s\n", numbers[below(r, NNUM)]);
		}
		if (chance(r, 30))
			mutate(r, w);
	} else {
		static const char *const pats[] = { "", "fz*", "fz0", "fz1,fz0",
			"dummy*,veth*", "*", "lo", "fz?", "[f]z1", "x*,y*,z*" };

		w->target = 2;
		w->len = sprintf(w->buf, "%s\n", pats[below(r, 10)]);
		if (chance(r, 10)) {
			w->len = 60 + below(r, 200);
			memset(w->buf, 'q', w->len);
			w->buf[w->len++] = '\n';
		}
		if (chance(r, 30))
			mutate(r, w);
	}
}

/* --- models of what must be refused as malformed ------------------------- */
/* kstrtoull(s, base) body as lib/kstrtox.c; 0 ok, -1 invalid/overflow. */
static int k_strtoull(const char *s, unsigned int base, uint64_t *res)
{
	uint64_t v = 0;
	bool any = false;

	if (s[0] == '+')
		s++;
	if (base == 0) {
		if (s[0] == '0' && (s[1] | 0x20) == 'x' && isxdigit((unsigned char)s[2]))
			base = 16;
		else if (s[0] == '0')
			base = 8;
		else
			base = 10;
	}
	if (base == 16 && s[0] == '0' && (s[1] | 0x20) == 'x')
		s += 2;
	for (;; s++) {
		unsigned int d;
		char c = *s;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			break;
		if (d >= base)
			break;
		if (v > (UINT64_MAX - d) / base)
			return -1;
		v = v * base + d;
		any = true;
	}
	if (!any)
		return -1;
	if (*s == '\n')
		s++;
	if (*s)
		return -1;
	*res = v;
	return 0;
}

static int k_strtoll(const char *s, int64_t *res)
{
	uint64_t v;

	if (s[0] == '-') {
		if (k_strtoull(s + 1, 0, &v) || v > (uint64_t)INT64_MAX + 1)
			return -1;
		*res = -(int64_t)v;
		return 0;
	}
	if (k_strtoull(s, 0, &v) || v > INT64_MAX)
		return -1;
	*res = v;
	return 0;
}

/* Must the knob write be refused? Sets *val to the stored value if not. */
static bool knob_malformed(const struct wr *w, int64_t *val)
{
	char s[24];
	size_t n = w->len < 23 ? w->len : 23;
	int64_t v;

	memcpy(s, w->buf, n);
	s[n] = 0;
	if (k_strtoll(s, &v))
		return true;
	switch (w->knob) {
	case 0:
		if (v < 1 || v > 4194304)
			return true;
		break;
	case 1: case 2: case 7:
		if (v < 0 || v > 60000)
			return true;
		break;
	case 3: case 4:
		if (v < -4095 || v > 4095)
			return true;
		v = v > 0 ? -v : v;
		if (v == -EINPROGRESS || v == -EAGAIN || v == -ENETDOWN ||
		    v == -ENOSPC || v == -EEXIST || v <= -512)
			return true;
		break;
	default:
		if (v != 0 && v != 1)
			return true;
	}
	*val = v;
	return false;
}

static bool u64_ok(const char *s, uint64_t lo, uint64_t hi)
{
	uint64_t v;

	return !k_strtoull(s, 10, &v) && !strchr(s, '\n') && v >= lo && v <= hi;
}

/* in4_pton(): four dot-separated decimal octets, leading zeros allowed. */
static bool in4_ok(const char *s)
{
	int dots = 0;
	unsigned int w = 0;
	bool digit = false;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			w = w * 10 + (*s - '0');
			if (w > 255)
				return false;
			digit = true;
		} else if (*s == '.' && digit && dots < 3) {
			dots++;
			w = 0;
			digit = false;
		} else {
			return false;
		}
	}
	return dots == 3 && digit;
}

static bool endpoint_ok(const char *s, int *fam)
{
	char a[300];
	const char *colon;
	unsigned char bin[16];
	int f;

	if (*s == '[') {
		colon = strstr(s, "]:");
		if (!colon || (size_t)(colon - s - 1) >= sizeof(a))
			return false;
		memcpy(a, s + 1, colon - s - 1);
		a[colon - s - 1] = 0;
		if (inet_pton(AF_INET6, a, bin) != 1)
			return false;
		f = 6;
		colon++;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(a))
			return false;
		memcpy(a, s, colon - s);
		a[colon - s] = 0;
		if (!in4_ok(a))
			return false;
		f = 4;
	}
	if (!u64_ok(colon + 1, 1, 65535))
		return false;
	if (*fam && *fam != f)
		return false;
	*fam = f;
	return true;
}

static int name_parse(const char *s, const char *const *names, unsigned int n)
{
	unsigned int i;

	for (i = 1; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return u64_ok(s, 1, n - 1) ? (int)strtoul(s, NULL, 10) : -1;
}

struct parsed {
	int verb;
	char dev[32];
	uint64_t id;
	int event, reason, accept;
	unsigned int seen;
};

/*
 * The README's grammar. Returns 1 malformed, 0 well formed, -1 a form the
 * model cannot judge (IPv6 text where inet_pton and the kernel's
 * in6_pton() are known to differ): such a write is not judged.
 */
static int cmd_malformed(const struct wr *w, struct parsed *p)
{
	char line[CMD_MAX + 1], *save, *tok, *val;
	size_t i, len = w->len;
	int fam = 0, unsure = 0;
	unsigned int k;

	memset(p, 0, sizeof(*p));
	if (!len || len > CMD_MAX || w->buf[len - 1] != '\n')
		return 1;
	for (i = 0; i < len - 1; i++)
		if ((unsigned char)w->buf[i] < 0x20 || (unsigned char)w->buf[i] > 0x7e)
			return 1;
	if (len > 1 && (w->buf[0] == ' ' || w->buf[len - 2] == ' ' ||
			memmem(w->buf, len - 1, "  ", 2)))
		return 1;
	memcpy(line, w->buf, len - 1);
	line[len - 1] = 0;
	save = line;
	tok = strsep(&save, " ");
	for (p->verb = 0; p->verb < (int)NVERBS; p->verb++)
		if (!strcmp(tok, verbs[p->verb]))
			break;
	if (p->verb == NVERBS)
		return 1;
	while ((tok = strsep(&save, " "))) {
		val = strchr(tok, '=');
		if (!val || val == tok || !val[1])
			return 1;
		*val++ = 0;
		for (k = 0; k < NKEYS; k++)
			if (!strcmp(tok, keys[k]))
				break;
		if (k == NKEYS || !((req[p->verb] | opt[p->verb]) & B(k)))
			return 1;
		if (p->seen & B(k))
			return 1;
		p->seen |= B(k);
		switch (k) {
		case K_DEV:
			if (strlen(val) >= 16)
				return 1;
			snprintf(p->dev, sizeof(p->dev), "%s", val);
			break;
		case K_SRC: case K_DST:
			if (strchr(val, '%') || (strchr(val, '.') && strchr(val, '[')))
				unsure = 1;	/* zones, embedded v4: in6_pton differs */
			if (!endpoint_ok(val, &fam))
				return unsure ? -1 : 1;
			break;
		case K_ID:
			if (!u64_ok(val, 1, UINT64_MAX))
				return 1;
			p->id = strtoull(val, NULL, 10);
			break;
		case K_EVENT:
			p->event = name_parse(val, events, 5);
			if (p->event < 0)
				return 1;
			break;
		case K_REASON:
			p->reason = !strcmp(val, "no_buffer_proposting") ? 4 :
				name_parse(val, reasons, 12);
			if (p->reason < 0)
				return 1;
			break;
		case K_BYTES: case K_IN: case K_OUT: case K_RETRANS:
			if (!u64_ok(val, 0, UINT32_MAX))
				return 1;
			break;
		case K_RATE:
			if (!u64_ok(val, 1, UINT64_MAX))
				return 1;
			break;
		case K_RTT:
			if (!u64_ok(val, 1, 60000000))
				return 1;
			break;
		case K_ACCEPT:
			if (strlen(val) != 1 || !strchr("01yYnN", val[0]))
				return 1;
			p->accept = strchr("1yY", val[0]) != NULL;
			break;
		case K_CAPACITY:
			if (!u64_ok(val, 1, 4194304))
				return 1;
			break;
		}
	}
	if (req[p->verb] & ~p->seen)
		return 1;
	if (p->verb == 4) {
		if ((p->event == 3) != !!(p->seen & B(K_REASON)))
			return 1;
		if ((p->event == 1) != !!(p->seen & B(K_BYTES)))
			return 1;
	}
	if (p->verb == 0 && !strcmp(p->dev, "lo"))
		return 1;	/* loopback never gets a target */
	if (p->verb == 10 && !p->accept &&
	    (p->reason == 5 || (p->reason >= 8 && p->reason <= 11)))
		return 1;
	return unsure ? -1 : 0;
}

/* --- doing a write ---------------------------------------------------------- */
static int do_write(int cmdfd, const struct wr *w)
{
	char path[256];
	ssize_t n;
	int fd, err;

	if (dry)
		return -EINVAL;
	if (w->target == 0) {
		n = write(cmdfd, w->buf, w->len);
	} else {
		if (w->target == 1)
			snprintf(path, sizeof(path), D "/devices/%s/%s",
				 devs[w->dev], knobs[w->knob]);
		else
			snprintf(path, sizeof(path), "%s", PARAM);
		fd = open(path, O_WRONLY);
		if (fd < 0)
			return -errno;
		n = write(fd, w->buf, w->len);
		err = errno;
		close(fd);
		errno = err;
	}
	if (n < 0)
		return -errno;
	if ((size_t)n != w->len)
		return -1001;	/* short write */
	return 0;
}

/*
 * A delay knob set long (an accepted boundary value) would keep the state
 * moving for up to a minute: set it back at once. Only operations started
 * in between keep the long delay.
 */
static void undo_long_delay(const struct wr *w)
{
	int64_t v;
	char path[256];

	if (w->target != 1 || (w->knob != 1 && w->knob != 2 && w->knob != 7) ||
	    knob_malformed(w, &v) || v <= 200)
		return;
	snprintf(path, sizeof(path), D "/devices/%s/%s", devs[w->dev], knobs[w->knob]);
	wr(path, "0\n");
}

static bool errno_allowed(const struct wr *w, int err)
{
	struct parsed p;
	int malformed;

	switch (-err) {
	case 0: case EINVAL: case ENODEV: case ENOENT: case ENOSPC:
	case EEXIST: case ENETDOWN: case EAGAIN: case EPROTO:
		return true;
	case ERANGE:		/* kstrtoll() overflow in a knob */
		return w->target == 1;
	case EIO:		/* a knob file whose device went meanwhile */
		if (w->target == 1)
			return true;
		break;
	case ENAMETOOLONG:	/* the devices parameter */
		return w->target == 2;
	case 1001:		/* short write: sysfs takes one page */
		return w->target == 2 && w->len > 4096;
	}
	/*
	 * A form the model cannot judge (-1: embedded v4 or a zone in IPv6
	 * text) may still be one the kernel parses: judge its errno as that
	 * of a well-formed command, not as a refusal.
	 */
	malformed = cmd_malformed(w, &p);
	if (w->target != 0 || malformed > 0)
		return false;
	/* attach while the device's previous stack still drains */
	if (p.verb == 0 && err == -EBUSY)
		return true;
	/* fail_next_initiate/terminate=N hands errno N to the operation */
	return (p.verb == 2 || p.verb == 3 || p.verb == 5) && err > -512;
}

static const char *conn_line(const char *conns, uint64_t id, char *out, size_t sz)
{
	char pfx[32];
	const char *p = conns, *e;

	snprintf(pfx, sizeof(pfx), "%" PRIu64 " ", id);
	while (p && *p) {
		e = strchrnul(p, '\n');
		if (!strncmp(p, pfx, strlen(pfx))) {
			snprintf(out, sz, "%.*s", (int)(e - p), p);
			return out;
		}
		p = *e ? e + 1 : NULL;
	}
	return NULL;
}

static char *dev_stat(const char *dev, const char *file, char *out, size_t sz)
{
	char path[256], *b;

	snprintf(path, sizeof(path), D "/devices/%s/%s", dev, file);
	b = slurp(path);
	snprintf(out, sz, "%s", b);
	free(b);
	return out;
}

/* An accepted write did what the README says (checked rounds only). */
static void check_effect(int cmdfd, const struct wr *w, const char *desc)
{
	char line[512], buf[8192], want[64];
	int64_t kv;

	count(C_EFFECT);
	if (w->target == 1) {
		if (knob_malformed(w, &kv))
			return;
		dev_stat(devs[w->dev], knobs[w->knob], buf, sizeof(buf));
		if (strtoll(buf, NULL, 10) != kv &&
		    !(w->knob == 3 || w->knob == 4) /* may be consumed */)
			finding("knob %s/%s: wrote %s, reads back %s", devs[w->dev],
				knobs[w->knob], desc, buf);
		return;
	}
	if (w->target == 2 && !w->len)
		return;	/* a zero-length write stores nothing */
	if (w->target == 2) {
		char *b = slurp(PARAM);
		size_t n = strcspn(w->buf, "\n");

		if (n > w->len)
			n = w->len;
		if (strncmp(b, w->buf, n) || b[n] != '\n')
			finding("devices parameter: wrote %s, reads back %s", desc, b);
		free(b);
		return;
	}
	{
		struct parsed p;
		char *conns;

		if (cmd_malformed(w, &p) != 0)
			return;
		conns = slurp(D "/connections");
		switch (p.verb) {
		case 0:
			snprintf(line, sizeof(line), D "/devices/%s", p.dev);
			if (access(line, F_OK))
				finding("attach %s accepted, no directory", p.dev);
			break;
		case 1:
			snprintf(line, sizeof(line), D "/devices/%s", p.dev);
			if (!access(line, F_OK))
				finding("detach %s accepted, directory still there", p.dev);
			break;
		case 2: {
			char idb[32] = "";
			uint64_t id;
			ssize_t n;

			n = pread(cmdfd, idb, sizeof(idb) - 1, 0);
			id = n > 0 ? strtoull(idb, NULL, 10) : 0;
			if (!id) {
				finding("offload accepted, command file reads no id: %s", desc);
				break;
			}
			remember_id(id);
			snprintf(want, sizeof(want), "%" PRIu64 " %s ", id, p.dev);
			if (!conn_line(conns, id, line, sizeof(line)))
				/* a failed async initiate removes it: fine if a fail knob is on */
				break;
			if (strncmp(line, want, strlen(want)))
				finding("offload %s: listed as '%s'", desc, line);
			break;
		}
		case 3:
			if (conn_line(conns, p.id, line, sizeof(line)) &&
			    strstr(line, " offloaded "))
				finding("terminate id=%" PRIu64 " accepted, still '%s'", p.id, line);
			break;
		case 10: {
			char pol[2048], l[80];

			dev_stat(p.dev, "policy", pol, sizeof(pol));
			snprintf(l, sizeof(l), "%s %s\n", reasons[p.reason],
				 (p.reason == 5 || p.reason >= 8) ? "mandatory" :
				 p.accept ? "accept" : "decline");
			if (!strstr(pol, l))
				finding("policy %s: policy file has no '%.*s'", desc,
					(int)strlen(l) - 1, l);
			break;
		}
		case 8: case 11:
			dev_stat(p.dev, "stats", buf, sizeof(buf));
			if (!strstr(buf, "host_paused 1\n"))
				finding("%s accepted, host not paused", desc);
			break;
		case V_SOCK_OFFLOAD: case V_SOCK_UPLOAD:
			/* ENOENT is all a tuple without a socket can get. */
			finding("%s accepted with no such connection", desc);
			break;
		}
		free(conns);
	}
}

struct writer {
	int no;
	struct rng r;
	long todo;
	bool checked;
	int skip;
	int cmdfd;
	pthread_t th;
};

static struct snap base;
static bool base_valid;
/* Writes the model says must be refused, done since base was taken. */
#define BATCH 32
static struct wr batch[BATCH];
static int nbatch;

static void note_errno(const struct wr *w, int err, const char *desc, int no)
{
	pthread_mutex_lock(&statlock);
	errhist[-err < 159 && err <= 0 ? -err : 159]++;
	pthread_mutex_unlock(&statlock);
	if (!errno_allowed(w, err))
		finding("w%d: errno %d for %s", no, err, desc);
}

/*
 * One refused write judged alone: from a quiescent state, written again,
 * compared; a change that repeats three times is a finding. turn held.
 */
static void judge_alone(int cmdfd, const struct wr *w, struct snap *after, int no)
{
	char desc[400];
	int tries, err;

	escape(w->buf, w->len, desc, sizeof(desc));
	for (tries = 0; tries < 3; tries++) {
		base_valid = false;
		if (!quiesce(&base)) {
			count(C_UNSTABLE);
			return;
		}
		err = do_write(cmdfd, w);
		if (!err) {	/* accepted now: the state it ran in differs */
			count(C_UNSTABLE);
			return;
		}
		snapshot(after);
		if (snap_eq(&base, after)) {
			base_valid = true;
			return;
		}
	}
	finding("w%d: refused write (errno %d) changed the state, 3 times from a quiescent state: %s",
		no, err, desc);
	snap_diff(&base, after);
}

/* Compare the state after a batch of refused writes with base. turn held. */
static void flush_batch(int cmdfd, struct snap *after, int no)
{
	int i, n = nbatch;

	nbatch = 0;
	if (!n || !base_valid)
		return;
	snapshot(after);
	if (snap_eq(&base, after)) {
		pthread_mutex_lock(&statlock);
		counts[C_CHECKED] += n;
		pthread_mutex_unlock(&statlock);
		return;
	}
	/* Which one? Each again, alone. */
	for (i = 0; i < n; i++) {
		judge_alone(cmdfd, &batch[i], after, no);
		count(C_CHECKED);
	}
	base_valid = false;
}

static void one_write(struct writer *wt, struct wr *w, struct snap *after)
{
	char desc[400];
	int err, malformed = 0;
	int64_t kv;
	struct parsed p;

	gen_write(&wt->r, w);
	count(w->target == 0 ? C_CMD : w->target == 1 ? C_KNOB : C_PARAM);
	escape(w->buf, w->len, desc, sizeof(desc));
	if (w->target == 0)
		malformed = cmd_malformed(w, &p);
	else if (w->target == 1)
		malformed = knob_malformed(w, &kv);
	if (verbose)
		printf("w%d %s: %s\n", wt->no, w->target == 0 ? "command" :
		       w->target == 1 ? knobs[w->knob] : "devices", desc);
	if (!wt->checked) {
		err = do_write(wt->cmdfd, w);
		note_errno(w, err, desc, wt->no);
		if (malformed == 1 && !err)
			finding("w%d: malformed write accepted: %s", wt->no, desc);
		if (!err)
			undo_long_delay(w);
		if (err) {
			count(C_REFUSED);
		} else if (w->target == 0 && malformed == 0 && p.verb == 2) {
			char idb[32] = "";

			if (pread(wt->cmdfd, idb, sizeof(idb) - 1, 0) > 0 &&
			    strtoull(idb, NULL, 10))
				remember_id(strtoull(idb, NULL, 10));
		}
		return;
	}

	pthread_mutex_lock(&turn);
	if (malformed != 1)
		flush_batch(wt->cmdfd, after, wt->no);
	if (!base_valid) {
		if (wt->skip > 0 || !quiesce(&base)) {
			if (wt->skip-- <= 0)
				wt->skip = 50;	/* unjudged for a while */
			pthread_mutex_unlock(&turn);
			count(C_UNSTABLE);
			err = do_write(wt->cmdfd, w);
			note_errno(w, err, desc, wt->no);
			if (malformed == 1 && !err)
				finding("w%d: malformed write accepted: %s", wt->no, desc);
			if (!err)
				undo_long_delay(w);
			return;
		}
		base_valid = true;
	}
	err = do_write(wt->cmdfd, w);
	note_errno(w, err, desc, wt->no);
	if (!err) {
		count(C_ACCEPTED);
		if (malformed == 1) {
			finding("w%d: malformed write accepted: %s", wt->no, desc);
			nbatch = 0;
		} else if (!malformed) {
			check_effect(wt->cmdfd, w, desc);
		}
		undo_long_delay(w);
		base_valid = false;
		pthread_mutex_unlock(&turn);
		return;
	}
	count(C_REFUSED);
	if (malformed == 0 && err == -EINVAL && !dry)
		finding("w%d: well-formed write refused with -EINVAL: %s",
			wt->no, desc);
	if (malformed == 1) {
		/* Judged with the batch. */
		memcpy(&batch[nbatch].target, w, offsetof(struct wr, buf) + w->len);
		batch[nbatch].len = w->len;
		if (++nbatch == BATCH)
			flush_batch(wt->cmdfd, after, wt->no);
	} else {
		snapshot(after);
		if (snap_eq(&base, after))
			count(C_CHECKED);
		else
			judge_alone(wt->cmdfd, w, after, wt->no);
	}
	pthread_mutex_unlock(&turn);
}

static void *writer_main(void *arg)
{
	struct writer *wt = arg;
	struct wr *w = malloc(sizeof(*w));
	struct snap b = { 0 };

	while (wt->todo-- > 0 && READ_ONCE(findings) < 20)
		one_write(wt, w, &b);
	free(w);
	free(b.text);
	return NULL;
}

static long churns;
/* fz1 deleted and made again, by ip itself: no shell per step */
static char *const ip_del_fz1[] = { "/sbin/ip", "link", "del", "fz1", NULL };
static char *const ip_add_fz1[] = { "/sbin/ip", "link", "add", "fz1", "type", "dummy", NULL };
static char *const ip_up_fz1[] = { "/sbin/ip", "link", "set", "fz1", "up", NULL };

/* Device deletion and recreation mid-run (concurrent rounds). */
static void *churn_main(void *arg)
{
	struct rng *r = arg;
	int cfd = open(D "/command", O_WRONLY);

	while (!READ_ONCE(stop_churn)) {
		usleep(20000 + below(r, 80000));
		spawn_wait(ip_del_fz1);
		spawn_wait(ip_add_fz1);
		spawn_wait(ip_up_fz1);
		/* Refused if the parameter attached it already, or it is gone again. */
		if (cfd >= 0)
			(void)!write(cfd, "attach dev=fz1\n", 15);
		churns++;
	}
	if (cfd >= 0)
		close(cfd);
	return NULL;
}

int main(int argc, char **argv)
{
	uint64_t seed = 0;
	long total = 100000, round = 9900, checked_round = 100, done = 0;
	struct writer wt[2];
	struct rng cr;
	pthread_t ct;
	int c, i, rounds = 0;
	time_t t0 = time(NULL);

	while ((c = getopt(argc, argv, "s:n:r:k:vg")) != -1) {
		switch (c) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			total = strtol(optarg, NULL, 0);
			break;
		case 'r':
			round = strtol(optarg, NULL, 0);
			break;
		case 'k':
			checked_round = strtol(optarg, NULL, 0);
			break;
		case 'v':
			verbose = true;
			break;
		case 'g':
			dry = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-s SEED] [-n WRITES] [-k CHECKED] [-r CONCURRENT] [-v] [-g]\n", argv[0]);
			return 2;
		}
	}
	if (!seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_sec * 1000000007ULL ^ ts.tv_nsec ^ getpid();
	}
	printf("chimney-fuzz: seed %" PRIu64 " (replay: chimney-fuzz -s %" PRIu64 " -n %ld -k %ld -r %ld)\n",
	       seed, seed, total, checked_round, round);
	fflush(stdout);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < 2; i++) {
		wt[i].no = i;
		wt[i].r.s = seed * (i + 1) * 0x9E3779B97F4A7C15ULL | 1;
		wt[i].cmdfd = open(D "/command", O_RDWR);
		if (wt[i].cmdfd < 0 && !dry) {
			perror(D "/command");
			return 2;
		}
	}
	cr.s = (seed ^ 0xC0FFEE) | 1;
	while (done < total && READ_ONCE(findings) < 20) {
		bool checked = !(rounds % 2);
		long n = checked ? checked_round : round;

		if (n > total - done)
			n = total - done;

		for (i = 0; i < 2; i++) {
			wt[i].checked = checked;
			wt[i].skip = 0;
			wt[i].todo = n / 2 + (i ? n % 2 : 0);
		}
		WRITE_ONCE(stop_churn, false);
		base_valid = false;
		if (!checked)
			pthread_create(&ct, NULL, churn_main, &cr);
		for (i = 0; i < 2; i++)
			pthread_create(&wt[i].th, NULL, writer_main, &wt[i]);
		for (i = 0; i < 2; i++)
			pthread_join(wt[i].th, NULL);
		{
			struct snap t = { 0 };

			flush_batch(wt[0].cmdfd, &t, 0);
			free(t.text);
		}
		if (!checked) {
			WRITE_ONCE(stop_churn, true);
			pthread_join(ct, NULL);
		}
		/* Back to a known base: both devices there, attached, running. */
		{
			static const char *const base[] = {
				"attach dev=fz0\n", "attach dev=fz1\n",
				"resume dev=fz0\n", "resume dev=fz1\n",
			};
			size_t b;

			spawn_wait(ip_add_fz1);
			spawn_wait(ip_up_fz1);
			for (b = 0; b < 4; b++)
				/* refused when attached / running already */
				(void)!write(wt[0].cmdfd, base[b], strlen(base[b]));
		}
		done += n;
		rounds++;
		printf("chimney-fuzz: round %d (%s) done at %lds, %ld writes so far, %d finding(s)\n",
		       rounds, checked ? "checked" : "concurrent", (long)(time(NULL) - t0), done, findings);
	}
	printf("chimney-fuzz: seed %" PRIu64 ": %ld writes (%ld command, %ld knob, %ld parameter) in %lds, %d rounds, %ld device deletions\n",
	       seed, counts[C_CMD] + counts[C_KNOB] + counts[C_PARAM], counts[C_CMD],
	       counts[C_KNOB], counts[C_PARAM], (long)(time(NULL) - t0), rounds, churns);
	printf("chimney-fuzz: refused %ld; refused and compared unchanged %ld; accepted in checked rounds %ld (effect checked %ld); unjudged (no quiescent state) %ld\n",
	       counts[C_REFUSED], counts[C_CHECKED], counts[C_ACCEPTED], counts[C_EFFECT],
	       counts[C_UNSTABLE]);
	printf("chimney-fuzz: errnos:");
	for (i = 0; i < 160; i++)
		if (errhist[i])
			printf(" %s=%ld", i == 0 ? "ok" : i == 159 ? "other" : strerrorname_np(i) ?: "?", errhist[i]);
	printf("\nchimney-fuzz: %d finding(s)\n", findings);
	return findings ? 1 : 0;
}
