// SPDX-License-Identifier: GPL-2.0
/*
 * The debugfs command file. Every malformed command returns its errno and
 * leaves the whole state exactly as it was; well-formed ones do what the
 * README says.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <chimney/chimney.h>

#include "conn.h"
#include "debugfs.h"
#include "device.h"
#include "host.h"
#include "offload.h"
#include "sock_target.h"
#include "stack.h"
#include "target.h"
#include "util.h"

/* Everything a command could change. */
struct ct_state {
	unsigned int conns;
	unsigned int devices;
	s64 stats[CHIMNEY_EVENT_MAX + 1 + CHIMNEY_UPLOAD_REASON_MAX +
		  __CHIMNEY_RULE_MAX + 4];
	s64 host[CHIMNEY_EVENT_MAX + 1 + CHIMNEY_UPLOAD_REASON_MAX + 6];
	int host_blocked;
	unsigned long decline;
	struct chimney_target_knobs knobs;
	unsigned int target_conns;
	u64 last_id;
	u64 backlog_indicated;
};

static void ct_snapshot(struct chimney_device *cdev, struct ct_state *s)
{
	struct chimney_stats __percpu *g = chimney_global_stats;
	struct chimney_device *pos;
	int i, n = 0;

	memset(s, 0, sizeof(*s));
	s->conns = chimney_table_count();
	mutex_lock(&chimney_devices_lock);
	list_for_each_entry(pos, &chimney_devices, node)
		s->devices++;
	mutex_unlock(&chimney_devices_lock);
	for (i = 0; i <= CHIMNEY_EVENT_MAX; i++)
		s->stats[n++] = chimney_stats_read(g, events[i]);
	for (i = 0; i < CHIMNEY_UPLOAD_REASON_MAX; i++)
		s->stats[n++] = chimney_stats_read(g, reasons[i]);
	for (i = 0; i < __CHIMNEY_RULE_MAX; i++)
		s->stats[n++] = chimney_stats_read(g, rules[i]);
	s->stats[n++] = chimney_stats_read(g, offloaded);
	s->stats[n++] = chimney_stats_read(g, offload_failed);
	s->stats[n++] = chimney_stats_read(g, terminated);
	s->stats[n++] = chimney_stats_read(g, live);
	n = 0;
	for (i = 0; i <= CHIMNEY_EVENT_MAX; i++)
		s->host[n++] = chimney_host_read(cdev->host, events[i]);
	for (i = 0; i < CHIMNEY_UPLOAD_REASON_MAX; i++)
		s->host[n++] = chimney_host_read(cdev->host, reasons[i]);
	s->host[n++] = chimney_host_read(cdev->host, declined);
	s->host[n++] = atomic64_read(&cdev->host->terminate_errors);
	s->host[n++] = atomic64_read(&cdev->host->upload_all);
	s->host[n++] = atomic64_read(&cdev->host->pause);
	s->host[n++] = atomic64_read(&cdev->host->resume);
	s->host[n++] = atomic64_read(&cdev->host->refused_full);
	s->host_blocked = READ_ONCE(cdev->host->blocked);
	s->decline = cdev->host->decline;
	chimney_target_get_knobs(cdev->target, &s->knobs);
	s->target_conns = cdev->target->nr_conns;
	s->backlog_indicated = cdev->target->backlog_indicated;
	s->last_id = chimney_cmd_last_id();
}

struct ct_bad_cmd {
	const char *fmt;	/* %s: the device, %llu: a live connection id */
	size_t len;		/* 0: strlen of the formatted line */
	int err;
};

#define BAD(f, e)	{ f, 0, e }

static const struct ct_bad_cmd ct_bad_cmds[] = {
	BAD("", -EINVAL),
	BAD("\n", -EINVAL),
	BAD("bogus\n", -EINVAL),
	BAD("offload=1\n", -EINVAL),
	BAD("offload dev=%s src=10.1.0.1:1 dst=10.1.0.2:2", -EINVAL),
	BAD("offload dev=%s src=10.1.0.1:1\n", -EINVAL),
	BAD("offload dev=%s dev=%s src=10.1.0.1:1 dst=10.1.0.2:2\n", -EINVAL),
	BAD("offload dev=%s src=10.1.0.1:1 dst=10.1.0.2:2 dst=10.1.0.3:3\n", -EINVAL),
	BAD("offload dev=%s src=10.1.0.1:1 dst=10.1.0.2:0\n", -EINVAL),
	BAD("offload dev=%s src=10.1.0.1:70000 dst=10.1.0.2:2\n", -EINVAL),
	BAD("offload dev=%s src=10.1.0.256:1 dst=10.1.0.2:2\n", -EINVAL),
	BAD("offload dev=%s src=10.1.0.1 dst=10.1.0.2:2\n", -EINVAL),
	BAD("offload dev=%s src=[2001:db8::1]:1 dst=10.1.0.2:2\n", -EINVAL),
	BAD("offload dev=%s src=[2001:db8::1:1 dst=[2001:db8::2]:2\n", -EINVAL),
	BAD("offload dev=%s src=[2001:db8::g]:1 dst=[2001:db8::2]:2\n", -EINVAL),
	BAD("offload dev=nosuchdev0 src=10.1.0.1:1 dst=10.1.0.2:2\n", -ENODEV),
	BAD("offload dev=%s src=10.1.0.1:1 dst=10.1.0.2:2 color=red\n", -EINVAL),
	BAD("offload dev= src=10.1.0.1:1 dst=10.1.0.2:2\n", -EINVAL),
	BAD("offload dev=%s  src=10.1.0.1:1 dst=10.1.0.2:2\n", -EINVAL),
	BAD(" offload dev=%s src=10.1.0.1:1 dst=10.1.0.2:2\n", -EINVAL),
	BAD("offload dev=%s src=10.1.0.1:1 dst=10.1.0.2:2\x20\n", -EINVAL),
	BAD("offload dev=%s src=10.1.0.1:1\tdst=10.1.0.2:2\n", -EINVAL),
	BAD("offload dev=averyveryverylongname src=10.1.0.1:1 dst=10.1.0.2:2\n", -EINVAL),
	/* The existing connection's 4-tuple. */
	BAD("offload dev=%s src=10.0.0.1:5 dst=10.0.0.2:80\n", -EEXIST),
	BAD("terminate id=abc\n", -EINVAL),
	BAD("terminate id=0\n", -EINVAL),
	BAD("terminate id=-1\n", -EINVAL),
	BAD("terminate id=18446744073709551616\n", -EINVAL),
	BAD("terminate id=99999999999\n", -ENOENT),
	BAD("terminate\n", -EINVAL),
	BAD("terminate id=%llu dev=%s\n", -EINVAL),
	BAD("raise id=%llu event=explode\n", -EINVAL),
	BAD("raise id=%llu event=0\n", -EINVAL),
	BAD("raise id=%llu event=5\n", -EINVAL),
	BAD("raise id=%llu event=retrieve\n", -EINVAL),
	BAD("raise id=%llu event=retrieve reason=12\n", -EINVAL),
	BAD("raise id=%llu event=retrieve reason=0\n", -EINVAL),
	BAD("raise id=%llu event=retrieve reason=bogus\n", -EINVAL),
	BAD("raise id=%llu event=abort reason=1\n", -EINVAL),
	BAD("raise id=%llu event=backlog\n", -EINVAL),
	BAD("raise id=%llu event=backlog bytes=-1\n", -EINVAL),
	BAD("raise id=%llu event=backlog bytes=4294967296\n", -EINVAL),
	BAD("raise id=%llu event=abort bytes\n", -EINVAL),
	BAD("raise id=%llu event=abort =1\n", -EINVAL),
	BAD("policy dev=%s reason=invalid_state accept=0\n", -EINVAL),
	BAD("policy dev=%s reason=low_activity accept=2\n", -EINVAL),
	BAD("policy dev=%s reason=low_activity accept=yes\n", -EINVAL),
	BAD("path id=%llu rate=0 rtt=10\n", -EINVAL),
	BAD("path id=%llu rate=10 rtt=\n", -EINVAL),
	BAD("path id=%llu rate=10 rtt=60000001\n", -EINVAL),
	BAD("path id=%llu rate=10 rtt=4294967295\n", -EINVAL),
	BAD("path id=%llu rate=18446744073709551616 rtt=1\n", -EINVAL),
	BAD("path id=18446744073709551615 rate=18446744073709551615 rtt=1\n", -ENOENT),
	BAD("raise id=%llu event=backlog bytes=18446744073709551615\n", -EINVAL),
	BAD("traffic id=%llu in=18446744073709551615\n", -EINVAL),
	BAD("traffic id=%llu retrans=4294967296\n", -EINVAL),
	BAD("attach dev=%s capacity=18446744073709551615\n", -EINVAL),
	BAD("attach dev=%s capacity=4294967295\n", -EINVAL),
	BAD("pause\n", -EINVAL),
	BAD("pause dev=%s id=1\n", -EINVAL),
	BAD("resume dev=nosuchdev0\n", -ENODEV),
	BAD("pause dev=nosuchdev0\n", -ENODEV),
	BAD("attach dev=%s capacity=0\n", -EINVAL),
	BAD("attach dev=%s capacity=99999999\n", -EINVAL),
	BAD("attach dev=%s\n", -EEXIST),
	BAD("attach dev=lo\n", -EINVAL),
	BAD("detach dev=nosuchdev0\n", -ENODEV),
	/* The socket target's: attach target=, sock_offload, sock_upload. */
	BAD("attach dev=%s target=sock capacity=4\n", -EINVAL),
	BAD("attach dev=%s target=nic\n", -EINVAL),
	BAD("attach dev=%s target=\n", -EINVAL),
	BAD("attach dev=%s target=sock\n", -EEXIST),
	BAD("sock_offload src=10.1.0.1:1\n", -EINVAL),
	BAD("sock_offload dev=%s src=10.1.0.1:1 dst=10.1.0.2:2\n", -EINVAL),
	BAD("sock_offload src=10.1.0.1:1 dst=[2001:db8::2]:2\n", -EINVAL),
	BAD("sock_offload src=10.1.0.1:1 dst=10.1.0.2:2\n", -ENOENT),
	BAD("sock_offload src=[2001:db8::1]:1 dst=[2001:db8::2]:2\n", -ENOENT),
	BAD("sock_upload src=10.1.0.1:1 dst=10.1.0.2:0\n", -EINVAL),
	BAD("sock_upload id=%llu\n", -EINVAL),
	BAD("sock_upload src=10.1.0.1:1 dst=10.1.0.2:2\n", -ENOENT),
	BAD("upload_all\n", -EINVAL),
	BAD("traffic id=%llu in=x\n", -EINVAL),
	/* Bytes no command may contain. */
	{ "terminate id=1\0x\n", 17, -EINVAL },
	{ "terminate id=\xff\n", 15, -EINVAL },
	{ "terminate id=\xc3\xa9\n", 16, -EINVAL },
	{ "terminate id=1\r\n", 16, -EINVAL },
};

static void ct_bad_desc(const struct ct_bad_cmd *c, char *desc)
{
	size_t i, n = 0;

	/* Printable description of a command that may hold any byte. */
	for (i = 0; c->fmt[i] && n < KUNIT_PARAM_DESC_SIZE - 5; i++)
		n += scnprintf(desc + n, KUNIT_PARAM_DESC_SIZE - n,
			       c->fmt[i] >= 0x20 && c->fmt[i] < 0x7f ? "%c" :
			       "\\x%02x", (u8)c->fmt[i]);
	desc[n] = '\0';
}

KUNIT_ARRAY_PARAM(ct_bad, ct_bad_cmds, ct_bad_desc);


static void chimney_cmd_rejects(struct kunit *test)
{
	const struct ct_bad_cmd *c = test->param_value;
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "ctcmd%d"), 2);
	struct chimney_tuple t;
	struct ct_state *before = kunit_kzalloc(test, sizeof(*before), GFP_KERNEL);
	struct ct_state *after = kunit_kzalloc(test, sizeof(*after), GFP_KERNEL);
	char *line = kunit_kzalloc(test, 512, GFP_KERNEL);
	const char *name = cdev->dev->name;
	size_t len;
	u64 id;

	ct_tuple4(&t, 0x0a000001, 5, 0x0a000002, 80);
	KUNIT_ASSERT_EQ(test, chimney_host_offload(cdev->host, &t, &id), 0);

	if (c->len) {
		memcpy(line, c->fmt, c->len);
		len = c->len;
	} else if (strstr(c->fmt, "%llu") && strstr(c->fmt, "%s")) {
		len = snprintf(line, 512, c->fmt, id, name);
	} else if (strstr(c->fmt, "%llu")) {
		len = snprintf(line, 512, c->fmt, id);
	} else {
		len = snprintf(line, 512, c->fmt, name, name);
	}

	KUNIT_ASSERT_NOT_NULL(test, before);
	KUNIT_ASSERT_NOT_NULL(test, after);
	ct_snapshot(cdev, before);
	KUNIT_EXPECT_EQ(test, chimney_cmd_exec(line, len), c->err);
	chimney_host_flush(cdev->host);
	chimney_flush();
	ct_snapshot(cdev, after);
	KUNIT_EXPECT_EQ(test, memcmp(before, after, sizeof(*before)), 0);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(cdev->dev), 0);
}

static void chimney_cmd_overlong(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "ctcmd%d"), 1);
	char *line = kunit_kzalloc(test, CHIMNEY_CMD_MAX + 8, GFP_KERNEL);
	struct ct_state *before = kunit_kzalloc(test, sizeof(*before), GFP_KERNEL);
	struct ct_state *after = kunit_kzalloc(test, sizeof(*after), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, line);
	KUNIT_ASSERT_NOT_NULL(test, before);
	KUNIT_ASSERT_NOT_NULL(test, after);
	memset(line, 'a', CHIMNEY_CMD_MAX + 1);
	line[CHIMNEY_CMD_MAX + 1] = '\n';
	ct_snapshot(cdev, before);
	KUNIT_EXPECT_EQ(test, chimney_cmd_exec(line, CHIMNEY_CMD_MAX + 2), -EINVAL);
	ct_snapshot(cdev, after);
	KUNIT_EXPECT_EQ(test, memcmp(before, after, sizeof(*before)), 0);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(cdev->dev), 0);
}

static __printf(2, 3) int ct_cmd(struct kunit *test, const char *fmt, ...)
{
	char line[CHIMNEY_CMD_MAX + 1];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return chimney_cmd_exec(line, len);
}

static void chimney_cmd_scenario(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "ctcmd%d"), 8);
	struct chimney_host *host = cdev->host;
	const char *dev = cdev->dev->name;
	struct chimney_conn *conn;
	s64 rule;
	u64 a, b;

	KUNIT_ASSERT_EQ(test, ct_cmd(test, "offload dev=%s src=10.0.0.1:1000 dst=10.0.0.2:80\n", dev), 0);
	a = chimney_cmd_last_id();
	KUNIT_ASSERT_EQ(test, ct_cmd(test, "offload dev=%s src=[2001:db8::1]:1000 dst=[2001:db8::2]:443\n", dev), 0);
	b = chimney_cmd_last_id();
	KUNIT_EXPECT_NE(test, a, b);
	conn = chimney_conn_get_id(b);
	KUNIT_ASSERT_NOT_NULL(test, conn);
	KUNIT_EXPECT_EQ(test, conn->key.family, AF_INET6);
	KUNIT_EXPECT_EQ(test, ntohs(conn->key.dport), 443);
	chimney_conn_put(conn);

	KUNIT_EXPECT_EQ(test, ct_cmd(test, "raise id=%llu event=backlog bytes=65536\n", a), 0);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "path id=%llu rate=1000000 rtt=100000\n", a), 0);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "traffic id=%llu in=5 out=7\n", a), 0);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "policy dev=%s reason=low_activity accept=0\n", dev), 0);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "raise id=%llu event=retrieve reason=low_activity\n", a), 0);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "raise id=%llu event=retrieve reason=1\n", b), 0);
	chimney_host_flush(host);
	chimney_flush();
	KUNIT_EXPECT_EQ(test, chimney_host_read(host, declined), 2);
	KUNIT_EXPECT_EQ(test, chimney_host_read(host, events[CHIMNEY_EVENT_SEND_BACKLOG_CHANGE]), 2);
	KUNIT_EXPECT_EQ(test, cdev->target->stats[0].out_segments, 7ULL);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "raise id=%llu event=disconnect\n", a), 0);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "hw_failure id=%llu\n", b), 0);
	chimney_host_flush(host);
	chimney_flush();
	KUNIT_EXPECT_EQ(test, host->nr_tcbs, 0U);

	KUNIT_EXPECT_EQ(test, ct_cmd(test, "offload dev=%s src=10.0.0.1:1001 dst=10.0.0.2:80\n", dev), 0);
	a = chimney_cmd_last_id();
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "terminate id=%llu\n", a), 0);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "terminate id=%llu\n", a), -ENOENT);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "offload dev=%s src=10.0.0.1:1002 dst=10.0.0.2:80\n", dev), 0);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "upload_all dev=%s\n", dev), 0);
	chimney_host_flush(host);
	chimney_flush();
	KUNIT_EXPECT_EQ(test, host->nr_tcbs, 0U);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "offload dev=%s src=10.0.0.1:1003 dst=10.0.0.2:80\n", dev),
			-ENETDOWN);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "resume dev=%s\n", dev), 0);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "invalidate dev=%s\n", dev), 0);
	/* Illegal events are the framework's call: -EPROTO, and counted. */
	KUNIT_ASSERT_EQ(test, chimney_target_set_knob(cdev->target,
						      CHIMNEY_KNOB_INITIATE_DELAY,
						      60000), 0);
	KUNIT_ASSERT_EQ(test, ct_cmd(test, "offload dev=%s src=10.0.0.1:1003 dst=10.0.0.2:80\n", dev), 0);
	a = chimney_cmd_last_id();
	rule = chimney_stats_read(chimney_global_stats, rules[CHIMNEY_RULE_NOT_OFFLOADED]);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "raise id=%llu event=abort\n", a), -EPROTO);
	KUNIT_EXPECT_EQ(test, chimney_stats_read(chimney_global_stats, rules[CHIMNEY_RULE_NOT_OFFLOADED]),
			rule + 1);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "detach dev=%s\n", dev), 0);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "detach dev=%s\n", dev), -ENODEV);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "attach dev=%s capacity=2\n", dev), 0);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "detach dev=%s\n", dev), 0);
}

/* pause/resume/upload_all: the host's answer to each, through the target. */
static void chimney_cmd_status_verbs(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "ctcmd%d"), 8);
	const char *dev = cdev->dev->name;

	KUNIT_EXPECT_EQ(test, ct_cmd(test, "pause dev=%s\n", dev), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cdev->host->pause), 1);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "offload dev=%s src=10.0.0.1:1 dst=10.0.0.2:80\n", dev),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "resume dev=%s\n", dev), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cdev->host->resume), 1);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "offload dev=%s src=10.0.0.1:1 dst=10.0.0.2:80\n", dev), 0);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "upload_all dev=%s\n", dev), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cdev->host->upload_all), 1);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "offload dev=%s src=10.0.0.1:2 dst=10.0.0.2:80\n", dev),
			-ENETDOWN);
	chimney_target_set_link(cdev->target, false);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "resume dev=%s\n", dev), -ENETDOWN);
	chimney_target_set_link(cdev->target, true);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "resume dev=%s\n", dev), 0);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "offload dev=%s src=10.0.0.1:3 dst=10.0.0.2:80\n", dev), 0);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(cdev->dev), 0);
}

/* Each open of the command file reads back its own last offloaded id. */
static void chimney_cmd_file_last_id(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "ctcmd%d"), 8);
	struct chimney_cmd_file a = {}, b = {};
	char line[CHIMNEY_CMD_MAX], out[32], want[32];
	loff_t pa = 0, pb = 0;
	u64 ida, idb;
	int len;

	KUNIT_EXPECT_EQ(test, chimney_cmd_file_show(&a, out, sizeof(out)), 2UL);
	KUNIT_EXPECT_STREQ(test, out, "0\n");
	len = snprintf(line, sizeof(line), "offload dev=%s src=10.0.0.1:1 dst=10.0.0.2:80\n",
		       cdev->dev->name);
	pa = 17;
	KUNIT_EXPECT_EQ(test, chimney_cmd_file_write(&a, line, len, &pa), (ssize_t)len);
	KUNIT_EXPECT_EQ(test, pa, 0);
	ida = chimney_cmd_last_id();
	len = snprintf(line, sizeof(line), "offload dev=%s src=10.0.0.1:2 dst=10.0.0.2:80\n",
		       cdev->dev->name);
	KUNIT_EXPECT_EQ(test, chimney_cmd_file_write(&b, line, len, &pb), (ssize_t)len);
	idb = chimney_cmd_last_id();
	KUNIT_EXPECT_NE(test, ida, idb);
	chimney_cmd_file_show(&a, out, sizeof(out));
	snprintf(want, sizeof(want), "%llu\n", ida);
	KUNIT_EXPECT_STREQ(test, out, want);
	chimney_cmd_file_show(&b, out, sizeof(out));
	snprintf(want, sizeof(want), "%llu\n", idb);
	KUNIT_EXPECT_STREQ(test, out, want);
	/* Other commands and failed ones leave it. */
	len = snprintf(line, sizeof(line), "traffic id=%llu in=1\n", ida);
	KUNIT_EXPECT_EQ(test, chimney_cmd_file_write(&a, line, len, &pa), (ssize_t)len);
	len = snprintf(line, sizeof(line), "offload dev=%s src=10.0.0.1:2 dst=10.0.0.2:80\n",
		       cdev->dev->name);
	pa = 5;
	KUNIT_EXPECT_EQ(test, chimney_cmd_file_write(&a, line, len, &pa), -EEXIST);
	chimney_cmd_file_show(&a, out, sizeof(out));
	snprintf(want, sizeof(want), "%llu\n", ida);
	KUNIT_EXPECT_STREQ(test, out, want);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(cdev->dev), 0);
}

/*
 * Extreme numbers where a command accepts them: nothing overflows, the
 * bandwidth-delay product saturates (it used to be a divide error).
 */
static void chimney_cmd_extreme_values(struct kunit *test)
{
	struct chimney_device *cdev = ct_attach(test, ct_netdev(test, "ctcmd%d"), 8);
	struct chimney_target *t = cdev->target;
	u32 backlog;
	u64 id;

	KUNIT_ASSERT_EQ(test, ct_cmd(test, "offload dev=%s src=10.0.0.1:65535 dst=10.0.0.2:65535\n",
				     cdev->dev->name), 0);
	id = chimney_cmd_last_id();
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "path id=%llu rate=18446744073709551615 rtt=1000001\n",
				     id), 0);
	KUNIT_EXPECT_EQ(test, chimney_target_conn_backlog(t, id, &backlog), 0);
	KUNIT_EXPECT_EQ(test, backlog, CHIMNEY_BACKLOG_UNSUPPORTED - 1);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "path id=%llu rate=18446744073709551615 rtt=60000000\n",
				     id), 0);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "path id=%llu rate=18446744073709551615 rtt=1\n",
				     id), 0);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "path id=%llu rate=1 rtt=1\n", id), 0);
	KUNIT_EXPECT_EQ(test, chimney_target_set_path(t, id, U64_MAX, U32_MAX), -EINVAL);
	/* From a backlog of 1: indicated, and saturated again. */
	KUNIT_EXPECT_EQ(test, chimney_target_set_path(t, id, U64_MAX,
						      CHIMNEY_TARGET_MAX_RTT_US), 1);
	KUNIT_EXPECT_EQ(test, chimney_target_conn_backlog(t, id, &backlog), 0);
	KUNIT_EXPECT_EQ(test, backlog, CHIMNEY_BACKLOG_UNSUPPORTED - 1);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "raise id=%llu event=backlog bytes=4294967295\n", id), 0);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "traffic id=%llu in=4294967295 out=4294967295 retrans=4294967295\n",
				     id), 0);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "traffic id=%llu in=4294967295 out=4294967295 retrans=4294967295\n",
				     id), 0);
	KUNIT_EXPECT_EQ(test, t->stats[0].in_segments, 2ULL * U32_MAX);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "terminate id=18446744073709551615\n"), -ENOENT);
	KUNIT_EXPECT_EQ(test, ct_cmd(test, "hw_failure id=18446744073709551615\n"), -ENOENT);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(cdev->dev), 0);
}

struct ct_race {
	u64 ids[4];
	struct net_device *dev;
	atomic_t ops;
	atomic_t unexpected;
	int wait_ops;		/* detach after this many commands */
	int detach_err;
	struct completion detached;
};

/* Commands on the device's connections, as fast as they go. */
static int ct_race_commands(void *data)
{
	struct ct_race *r = data;
	char line[128];
	unsigned int n = 0;
	int len, err;

	while (!kthread_should_stop()) {
		u64 id = r->ids[n % ARRAY_SIZE(r->ids)];

		switch (n % 4) {
		case 0:
			len = snprintf(line, sizeof(line),
				       "raise id=%llu event=backlog bytes=%u\n",
				       id, 10000 + n);
			break;
		case 1:
			len = snprintf(line, sizeof(line),
				       "path id=%llu rate=%u rtt=1000\n",
				       id, 1000000 + n * 100000);
			break;
		case 2:
			len = snprintf(line, sizeof(line),
				       "traffic id=%llu in=1 out=2 retrans=1\n",
				       id);
			break;
		default:
			len = snprintf(line, sizeof(line), "hw_failure id=%llu\n",
				       id);
			break;
		}
		err = chimney_cmd_exec(line, len);
		if (err && err != -ENOENT && err != -EPROTO)
			atomic_inc(&r->unexpected);
		atomic_inc(&r->ops);
		n++;
		cond_resched();
	}
	return 0;
}

/*
 * Stalls the commands' CPU for a while, now and then, at whatever point
 * they are: a command caught between finding its device and using the
 * target then spans a whole device removal on the other CPU. Real
 * preemption, only more of it than an idle test machine has.
 */
static int ct_race_preempt(void *data)
{
	sched_set_fifo(current);
	while (!kthread_should_stop()) {
		usleep_range(100, 300);
		mdelay(50);
	}
	return 0;
}

static int ct_race_detach(void *data)
{
	struct ct_race *r = data;

	while (atomic_read(&r->ops) < r->wait_ops)
		cond_resched();
	r->detach_err = chimney_device_detach(r->dev);
	complete(&r->detached);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

static struct task_struct *ct_cmd_start_on(struct kunit *test,
					   int (*fn)(void *), void *data,
					   unsigned int cpu)
{
	struct task_struct *task = kthread_create(fn, data, "ct_race/%u", cpu);

	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	get_task_struct(task);
	kthread_bind(task, cpu);
	wake_up_process(task);
	return task;
}

/*
 * Commands on a connection id racing the removal of its device: the
 * device's target must not be used after it was freed (KASAN).
 */
static void chimney_cmd_conn_vs_detach(struct kunit *test)
{
	struct net_device *dev = ct_netdev(test, "ctcmd%d");
	struct ct_race *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	struct task_struct *cmds, *detach, *preempt;
	struct chimney_device *cdev;
	struct chimney_tuple t;
	int iter, i, unexpected = 0, errs = 0;

	KUNIT_ASSERT_NOT_NULL(test, r);
	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	r->dev = dev;
	preempt = ct_cmd_start_on(test, ct_race_preempt, NULL, 0);
	for (iter = 0; iter < 100; iter++) {
		cdev = ct_attach(test, dev, 8);
		for (i = 0; i < ARRAY_SIZE(r->ids); i++) {
			ct_tuple4(&t, 0x0a000001, 3000 + i, 0x0a000002, 80);
			KUNIT_ASSERT_EQ(test, chimney_host_offload(cdev->host, &t,
								   &r->ids[i]), 0);
		}
		atomic_set(&r->ops, 0);
		atomic_set(&r->unexpected, 0);
		r->wait_ops = iter % 8;
		r->detach_err = 1;
		init_completion(&r->detached);
		cmds = ct_cmd_start_on(test, ct_race_commands, r, 0);
		detach = ct_cmd_start_on(test, ct_race_detach, r, 1);
		/* kthread_stop() before it ran would skip the thread function. */
		wait_for_completion(&r->detached);
		kthread_stop(detach);
		put_task_struct(detach);
		kthread_stop(cmds);
		put_task_struct(cmds);
		unexpected += atomic_read(&r->unexpected);
		errs += r->detach_err != 0;
	}
	kthread_stop(preempt);
	put_task_struct(preempt);
	KUNIT_EXPECT_EQ(test, unexpected, 0);
	KUNIT_EXPECT_EQ(test, errs, 0);
	KUNIT_EXPECT_EQ(test, chimney_table_count(), 0U);
}

/*
 * A device attached with the socket target: the fake target's commands
 * are refused, and a plain offload has no socket behind it.
 */
static void chimney_cmd_sock_device(struct kunit *test)
{
	static const char * const fake_only[] = {
		"pause", "resume", "upload_all", "invalidate",
	};
	struct net_device *dev = ct_netdev(test, "ctcmd%d");
	char *line = kunit_kzalloc(test, 128, GFP_KERNEL);
	unsigned int conns = chimney_table_count();
	struct chimney_device *cdev;
	struct chimney_layer *bottom;
	int i, n;

	KUNIT_ASSERT_NOT_NULL(test, line);
	n = snprintf(line, 128, "attach dev=%s target=sock\n", dev->name);
	KUNIT_ASSERT_EQ(test, chimney_cmd_exec(line, n), 0);
	mutex_lock(&chimney_devices_lock);
	cdev = chimney_device_find(dev);
	mutex_unlock(&chimney_devices_lock);
	KUNIT_ASSERT_NOT_NULL(test, cdev);
	KUNIT_EXPECT_NULL(test, cdev->target);
	KUNIT_ASSERT_NOT_NULL(test, cdev->sock);
	bottom = list_last_entry(&cdev->host->layer.stack->layers,
				 struct chimney_layer, node);
	KUNIT_EXPECT_STREQ(test, bottom->name, "chimney_sock_target");
	for (i = 0; i < ARRAY_SIZE(fake_only); i++) {
		n = snprintf(line, 128, "%s dev=%s\n", fake_only[i], dev->name);
		KUNIT_EXPECT_EQ_MSG(test, chimney_cmd_exec(line, n), -EOPNOTSUPP,
				    "%s", fake_only[i]);
	}
	n = snprintf(line, 128, "offload dev=%s src=10.1.0.1:1 dst=10.1.0.2:2\n",
		     dev->name);
	KUNIT_EXPECT_EQ(test, chimney_cmd_exec(line, n), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, cdev->sock->refused, 1ULL);
	KUNIT_EXPECT_EQ(test, chimney_table_count(), conns);
	n = snprintf(line, 128, "attach dev=%s\n", dev->name);
	KUNIT_EXPECT_EQ(test, chimney_cmd_exec(line, n), -EEXIST);
	KUNIT_EXPECT_EQ(test, chimney_device_detach(dev), 0);
}

static struct kunit_case chimney_cmd_cases[] = {
	KUNIT_CASE_PARAM(chimney_cmd_rejects, ct_bad_gen_params),
	KUNIT_CASE(chimney_cmd_overlong),
	KUNIT_CASE(chimney_cmd_scenario),
	KUNIT_CASE(chimney_cmd_status_verbs),
	KUNIT_CASE(chimney_cmd_file_last_id),
	KUNIT_CASE(chimney_cmd_conn_vs_detach),
	KUNIT_CASE(chimney_cmd_extreme_values),
	KUNIT_CASE(chimney_cmd_sock_device),
	{}
};

static struct kunit_suite chimney_cmd_suite = {
	.name = "chimney_cmd",
	.test_cases = chimney_cmd_cases,
};

kunit_test_suite(chimney_cmd_suite);
