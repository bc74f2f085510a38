// SPDX-License-Identifier: GPL-2.0
/*
 * The debugfs command file: one command per write, a verb followed by
 * key=value arguments separated by single spaces, ending in a newline.
 * The whole line is parsed and checked before anything happens, so a
 * malformed command changes nothing; its error and one rate-limited line
 * saying what was wrong are all it produces. The grammar is in the README.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/inet.h>
#include <linux/kstrtox.h>
#include <linux/netdevice.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <net/net_namespace.h>

#include "compat.h"
#include "conn.h"
#include "debugfs.h"
#include "device.h"
#include "host.h"
#include "offload.h"
#include "target.h"
#include "ulp.h"

enum chimney_key {
	CK_DEV, CK_SRC, CK_DST, CK_ID, CK_EVENT, CK_REASON, CK_BYTES,
	CK_RATE, CK_RTT, CK_ACCEPT, CK_CAPACITY, CK_IN, CK_OUT, CK_RETRANS,
	CK_TARGET, __CK_MAX,
};

static const char * const chimney_key_names[__CK_MAX] = {
	[CK_DEV] = "dev", [CK_SRC] = "src", [CK_DST] = "dst", [CK_ID] = "id",
	[CK_EVENT] = "event", [CK_REASON] = "reason", [CK_BYTES] = "bytes",
	[CK_RATE] = "rate", [CK_RTT] = "rtt", [CK_ACCEPT] = "accept",
	[CK_CAPACITY] = "capacity", [CK_IN] = "in", [CK_OUT] = "out",
	[CK_RETRANS] = "retrans", [CK_TARGET] = "target",
};

enum chimney_verb {
	CV_ATTACH, CV_DETACH, CV_OFFLOAD, CV_TERMINATE, CV_RAISE,
	CV_HW_FAILURE, CV_PATH, CV_TRAFFIC, CV_UPLOAD_ALL, CV_INVALIDATE,
	CV_POLICY, CV_PAUSE, CV_RESUME, CV_SOCK_OFFLOAD, CV_SOCK_UPLOAD,
};

#define K(x) BIT(CK_##x)

/* Per verb: keys it requires and keys it also allows. */
static const struct chimney_verb_spec {
	const char *name;
	unsigned long required;
	unsigned long optional;
} chimney_verbs[] = {
	[CV_ATTACH]	= { "attach", K(DEV), K(CAPACITY) | K(TARGET) },
	[CV_DETACH]	= { "detach", K(DEV), 0 },
	[CV_OFFLOAD]	= { "offload", K(DEV) | K(SRC) | K(DST), 0 },
	[CV_TERMINATE]	= { "terminate", K(ID), 0 },
	[CV_RAISE]	= { "raise", K(ID) | K(EVENT), K(REASON) | K(BYTES) },
	[CV_HW_FAILURE]	= { "hw_failure", K(ID), 0 },
	[CV_PATH]	= { "path", K(ID) | K(RATE) | K(RTT), 0 },
	[CV_TRAFFIC]	= { "traffic", K(ID), K(IN) | K(OUT) | K(RETRANS) },
	[CV_UPLOAD_ALL]	= { "upload_all", K(DEV), 0 },
	[CV_INVALIDATE]	= { "invalidate", K(DEV), 0 },
	[CV_POLICY]	= { "policy", K(DEV) | K(REASON) | K(ACCEPT), 0 },
	[CV_PAUSE]	= { "pause", K(DEV), 0 },
	[CV_RESUME]	= { "resume", K(DEV), 0 },
	[CV_SOCK_OFFLOAD] = { "sock_offload", K(SRC) | K(DST), 0 },
	[CV_SOCK_UPLOAD] = { "sock_upload", K(SRC) | K(DST), 0 },
};

struct chimney_cmd {
	enum chimney_verb verb;
	unsigned long seen;
	char dev[IFNAMSIZ];
	struct chimney_tuple tuple;
	u64 id;
	u32 event;
	u32 reason;
	u32 bytes;
	u64 rate;
	u32 rtt;
	bool accept;
	u32 capacity;
	u32 in, out, retrans;
	bool sock;			/* attach target=sock */
};

/* The last id any writer offloaded; per open file: chimney_cmd_exec_id(). */
static u64 chimney_last_id;

u64 chimney_cmd_last_id(void)
{
	return READ_ONCE(chimney_last_id);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_cmd_last_id);

#define chimney_cmd_err(err, fmt, ...)					\
	({								\
		pr_warn_ratelimited("command: " fmt "\n", ##__VA_ARGS__); \
		(err);							\
	})

/* "a.b.c.d:port" or "[v6]:port"; the family must match the tuple's. */
static int chimney_parse_endpoint(const char *s, u16 *family,
				  union chimney_addr *addr, __be16 *port)
{
	const char *end, *colon;
	u16 fam, p;

	if (*s == '[') {
		colon = strstr(s, "]:");
		if (!colon || !in6_pton(s + 1, colon - s - 1, addr->in6.s6_addr,
					-1, &end) || end != colon)
			return -EINVAL;
		fam = AF_INET6;
		colon++;
	} else {
		colon = strrchr(s, ':');
		if (!colon || !in4_pton(s, colon - s, (u8 *)&addr->ip, -1,
					&end) || end != colon)
			return -EINVAL;
		fam = AF_INET;
	}
	if (kstrtou16(colon + 1, 10, &p) || !p)
		return -EINVAL;
	if (*family && *family != fam)
		return -EINVAL;
	*family = fam;
	*port = htons(p);
	return 0;
}

static int chimney_parse_value(struct chimney_cmd *c, enum chimney_key key,
			       const char *v)
{
	switch (key) {
	case CK_DEV:
		if (!*v || strlen(v) >= IFNAMSIZ)
			return chimney_cmd_err(-EINVAL, "bad device name");
		strscpy(c->dev, v, sizeof(c->dev));
		return 0;
	case CK_SRC:
		if (chimney_parse_endpoint(v, &c->tuple.family, &c->tuple.saddr,
					   &c->tuple.sport))
			return chimney_cmd_err(-EINVAL, "bad src '%s'", v);
		return 0;
	case CK_DST:
		if (chimney_parse_endpoint(v, &c->tuple.family, &c->tuple.daddr,
					   &c->tuple.dport))
			return chimney_cmd_err(-EINVAL, "bad dst '%s'", v);
		return 0;
	case CK_ID:
		if (kstrtou64(v, 10, &c->id) || !c->id)
			return chimney_cmd_err(-EINVAL, "bad id '%s'", v);
		return 0;
	case CK_EVENT:
		if (chimney_event_parse(v, &c->event))
			return chimney_cmd_err(-EINVAL, "unknown event '%s'", v);
		return 0;
	case CK_REASON:
		if (chimney_reason_parse(v, &c->reason))
			return chimney_cmd_err(-EINVAL, "unknown reason '%s'", v);
		return 0;
	case CK_BYTES:
		if (kstrtou32(v, 10, &c->bytes))
			return chimney_cmd_err(-EINVAL, "bad bytes '%s'", v);
		return 0;
	case CK_RATE:
		if (kstrtou64(v, 10, &c->rate) || !c->rate)
			return chimney_cmd_err(-EINVAL, "bad rate '%s'", v);
		return 0;
	case CK_RTT:
		if (kstrtou32(v, 10, &c->rtt) || !c->rtt ||
		    c->rtt > CHIMNEY_TARGET_MAX_RTT_US)
			return chimney_cmd_err(-EINVAL, "rtt must be 1..%u us",
					       CHIMNEY_TARGET_MAX_RTT_US);
		return 0;
	case CK_ACCEPT:
		if (kstrtobool(v, &c->accept) || strlen(v) != 1)
			return chimney_cmd_err(-EINVAL, "accept must be 0 or 1");
		return 0;
	case CK_CAPACITY:
		if (kstrtou32(v, 10, &c->capacity) || !c->capacity ||
		    c->capacity > CHIMNEY_TARGET_MAX_CAPACITY)
			return chimney_cmd_err(-EINVAL, "capacity must be 1..%u",
					       CHIMNEY_TARGET_MAX_CAPACITY);
		return 0;
	case CK_IN:
		return kstrtou32(v, 10, &c->in) ?
			chimney_cmd_err(-EINVAL, "bad in '%s'", v) : 0;
	case CK_OUT:
		return kstrtou32(v, 10, &c->out) ?
			chimney_cmd_err(-EINVAL, "bad out '%s'", v) : 0;
	case CK_RETRANS:
		return kstrtou32(v, 10, &c->retrans) ?
			chimney_cmd_err(-EINVAL, "bad retrans '%s'", v) : 0;
	case CK_TARGET:
		if (strcmp(v, "fake") && strcmp(v, "sock"))
			return chimney_cmd_err(-EINVAL, "target must be fake or sock");
		c->sock = !strcmp(v, "sock");
		return 0;
	default:
		return -EINVAL;
	}
}

/* Parse @line (NUL-terminated, newline stripped) into @c. */
static int chimney_cmd_parse(char *line, struct chimney_cmd *c)
{
	const struct chimney_verb_spec *spec;
	char *tok, *val;
	unsigned long missing;
	int i, err;

	tok = strsep(&line, " ");
	for (i = 0; i < ARRAY_SIZE(chimney_verbs); i++)
		if (!strcmp(tok, chimney_verbs[i].name))
			break;
	if (i == ARRAY_SIZE(chimney_verbs))
		return chimney_cmd_err(-EINVAL, "unknown verb '%s'", tok);
	c->verb = i;
	spec = &chimney_verbs[i];

	while ((tok = strsep(&line, " "))) {
		val = strchr(tok, '=');
		if (!val || val == tok || !val[1])
			return chimney_cmd_err(-EINVAL, "'%s' is not key=value", tok);
		*val++ = '\0';
		for (i = 0; i < __CK_MAX; i++)
			if (!strcmp(tok, chimney_key_names[i]))
				break;
		if (i == __CK_MAX || !((spec->required | spec->optional) & BIT(i)))
			return chimney_cmd_err(-EINVAL, "%s takes no key '%s'",
					       spec->name, tok);
		if (c->seen & BIT(i))
			return chimney_cmd_err(-EINVAL, "key '%s' repeated", tok);
		c->seen |= BIT(i);
		err = chimney_parse_value(c, i, val);
		if (err)
			return err;
	}
	missing = spec->required & ~c->seen;
	if (missing)
		return chimney_cmd_err(-EINVAL, "%s needs %s=", spec->name,
				       chimney_key_names[__ffs(missing)]);

	if (c->verb == CV_RAISE) {
		bool retrieve = c->event == CHIMNEY_EVENT_RETRIEVE;
		bool backlog = c->event == CHIMNEY_EVENT_SEND_BACKLOG_CHANGE;

		if (retrieve != !!(c->seen & K(REASON)))
			return chimney_cmd_err(-EINVAL, "reason= goes with event=retrieve only");
		if (backlog != !!(c->seen & K(BYTES)))
			return chimney_cmd_err(-EINVAL, "bytes= goes with event=backlog only");
	}
	if (c->verb == CV_ATTACH && c->sock && (c->seen & K(CAPACITY)))
		return chimney_cmd_err(-EINVAL, "capacity= goes with the fake target only");
	if (c->verb == CV_POLICY && chimney_upload_reason_mandatory(c->reason) &&
	    !c->accept)
		return chimney_cmd_err(-EINVAL, "%s is mandatory and cannot be declined",
				       chimney_reason_name(c->reason));
	return 0;
}

/* A line is printable ASCII, one trailing newline, nothing else. */
static int chimney_cmd_check_line(const char *buf, size_t len)
{
	size_t i;

	if (!len || len > CHIMNEY_CMD_MAX)
		return chimney_cmd_err(-EINVAL, "empty or longer than %d bytes",
				       CHIMNEY_CMD_MAX);
	if (buf[len - 1] != '\n')
		return chimney_cmd_err(-EINVAL, "no terminating newline");
	for (i = 0; i < len - 1; i++) {
		if (buf[i] == '\0')
			return chimney_cmd_err(-EINVAL, "embedded NUL at %zu", i);
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			return chimney_cmd_err(-EINVAL, "byte 0x%02x at %zu is not printable ASCII",
					       (u8)buf[i], i);
	}
	/* len - 1 is the newline: "\n" alone has no first or last word. */
	if (len > 1 && (buf[0] == ' ' || buf[len - 2] == ' ' ||
			strnstr(buf, "  ", len - 1)))
		return chimney_cmd_err(-EINVAL, "stray space");
	return 0;
}

static struct net *chimney_cmd_net(void)
{
	return current->nsproxy ? current->nsproxy->net_ns : &init_net;
}

static struct chimney_device *chimney_cmd_device(const char *name)
{
	return chimney_device_find_name(chimney_cmd_net(), name);
}

/* The attached device carrying connection @id, with chimney_devices_lock. */
static struct chimney_device *chimney_cmd_conn_device(u64 id,
						      struct chimney_conn **connp)
{
	struct chimney_device *cdev;
	struct chimney_conn *conn;

	lockdep_assert_held(&chimney_devices_lock);
	conn = chimney_conn_get_id(id);
	if (!conn)
		return NULL;
	list_for_each_entry(cdev, &chimney_devices, node) {
		if (cdev->host->layer.stack == conn->key.stack) {
			*connp = conn;
			return cdev;
		}
	}
	chimney_conn_put(conn);
	return NULL;
}

/*
 * A command on connection @c->id. chimney_devices_lock is held from
 * finding the connection's device to the end of the operation: the device
 * is unlinked from chimney_devices under it before its target is freed,
 * so the target stays valid throughout.
 */
static int chimney_cmd_run_conn(struct chimney_cmd *c)
{
	struct chimney_conn *conn = NULL;
	struct chimney_device *cdev;
	int err;

	lockdep_assert_held(&chimney_devices_lock);
	cdev = chimney_cmd_conn_device(c->id, &conn);
	if (!cdev)
		return chimney_cmd_err(-ENOENT, "no connection %llu", c->id);

	/* The socket target raises from what happens on its sockets only. */
	if (c->verb != CV_TERMINATE && !cdev->target) {
		chimney_conn_put(conn);
		return chimney_cmd_err(-EOPNOTSUPP, "%s: connection %llu is socket-backed",
				       chimney_verbs[c->verb].name, c->id);
	}
	switch (c->verb) {
	case CV_TERMINATE:
		err = chimney_conn_terminate(conn);
		break;
	case CV_RAISE:
		err = chimney_target_raise(cdev->target, c->id, c->event,
					   c->event == CHIMNEY_EVENT_RETRIEVE ?
					   c->reason : c->bytes);
		break;
	case CV_HW_FAILURE:
		err = chimney_target_hw_failure(cdev->target, c->id);
		break;
	case CV_PATH:
		err = chimney_target_set_path(cdev->target, c->id, c->rate, c->rtt);
		err = min(err, 0);
		break;
	default:
		err = chimney_target_traffic(cdev->target, c->id, c->in, c->out,
					     c->retrans);
		break;
	}
	chimney_conn_put(conn);
	if (err)
		pr_warn_ratelimited("command: %s on connection %llu failed: %d\n",
				    chimney_verbs[c->verb].name, c->id, err);
	return err;
}

static int chimney_cmd_run(struct chimney_cmd *c, u64 *idp)
{
	struct chimney_device *cdev = NULL;
	struct net_device *dev;
	u64 id = 0;
	int err;

	if (c->seen & K(ID)) {
		mutex_lock(&chimney_devices_lock);
		err = chimney_cmd_run_conn(c);
		mutex_unlock(&chimney_devices_lock);
		return err;
	}

	if (c->verb == CV_SOCK_OFFLOAD) {
		err = chimney_ulp_offload(chimney_cmd_net(), &c->tuple, &id);
		if (err)
			return chimney_cmd_err(err, "sock_offload failed: %d", err);
		WRITE_ONCE(chimney_last_id, id);
		*idp = id;
		return 0;
	}
	if (c->verb == CV_SOCK_UPLOAD) {
		err = chimney_ulp_upload(chimney_cmd_net(), &c->tuple);
		return err ? chimney_cmd_err(err, "sock_upload failed: %d", err) : 0;
	}

	if (c->verb == CV_ATTACH) {
		dev = dev_get_by_name(chimney_cmd_net(), c->dev);
		if (!dev)
			return chimney_cmd_err(-ENODEV, "no device %s", c->dev);
		if (c->sock)
			err = chimney_device_attach_sock(dev);
		else
			err = chimney_device_attach(dev, c->seen & K(CAPACITY) ?
						    c->capacity :
						    CHIMNEY_TARGET_DEFAULT_CAPACITY);
		dev_put(dev);
		return err ? chimney_cmd_err(err, "attach %s failed: %d",
					     c->dev, err) : 0;
	}

	mutex_lock(&chimney_devices_lock);
	cdev = chimney_cmd_device(c->dev);
	if (!cdev) {
		mutex_unlock(&chimney_devices_lock);
		return chimney_cmd_err(-ENODEV, "device %s is not attached",
				       c->dev);
	}
	if (!cdev->target && c->verb != CV_DETACH && c->verb != CV_OFFLOAD &&
	    c->verb != CV_POLICY) {
		mutex_unlock(&chimney_devices_lock);
		return chimney_cmd_err(-EOPNOTSUPP, "%s: %s carries the socket target",
				       chimney_verbs[c->verb].name, c->dev);
	}
	switch (c->verb) {
	case CV_DETACH:
		dev = cdev->dev;
		dev_hold(dev);
		mutex_unlock(&chimney_devices_lock);
		err = chimney_device_detach(dev);
		dev_put(dev);
		return err;
	case CV_OFFLOAD:
		err = chimney_host_offload(cdev->host, &c->tuple, &id);
		if (!err) {
			WRITE_ONCE(chimney_last_id, id);
			*idp = id;
		}
		break;
	case CV_UPLOAD_ALL:
		err = chimney_target_status(cdev->target,
					    CHIMNEY_STATUS_UPLOAD_ALL);
		break;
	case CV_PAUSE:
		err = chimney_target_status(cdev->target,
					    CHIMNEY_STATUS_OFFLOAD_PAUSE);
		break;
	case CV_RESUME:
		err = chimney_target_status(cdev->target,
					    CHIMNEY_STATUS_OFFLOAD_RESUME);
		break;
	case CV_INVALIDATE:
		err = chimney_target_invalidate(cdev->target, 0, NULL);
		err = min(err, 0);
		break;
	default:
		err = chimney_host_set_policy(cdev->host, c->reason, c->accept);
		break;
	}
	mutex_unlock(&chimney_devices_lock);
	if (err)
		pr_warn_ratelimited("command: %s on %s failed: %d\n",
				    chimney_verbs[c->verb].name, c->dev, err);
	return err;
}

/**
 * chimney_cmd_exec_id() - parse and run one debugfs command
 * @buf: the bytes written (not NUL-terminated)
 * @len: their number
 * @id: set to the new connection's id by a successful offload, else
 *	untouched
 *
 * Return: 0, -EINVAL for a malformed command (nothing changed), or the
 * error of the operation: -ENODEV (device), -ENOENT (connection id),
 * -ENOSPC (target full), -EEXIST (duplicate 4-tuple), -EAGAIN (offloads
 * paused), -ENETDOWN (link down, or upload-all until resume), -EPROTO (the
 * event is not legal in the connection's state) and so on.
 */
int chimney_cmd_exec_id(const char *buf, size_t len, u64 *id)
{
	char line[CHIMNEY_CMD_MAX + 1];
	struct chimney_cmd c = {};
	int err;

	err = chimney_cmd_check_line(buf, len);
	if (err)
		return err;
	memcpy(line, buf, len - 1);
	line[len - 1] = '\0';
	err = chimney_cmd_parse(line, &c);
	if (err)
		return err;
	return chimney_cmd_run(&c, id);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_cmd_exec_id);

/* chimney_cmd_exec_id() for a caller that does not want the id. */
int chimney_cmd_exec(const char *buf, size_t len)
{
	u64 id;

	return chimney_cmd_exec_id(buf, len, &id);
}
EXPORT_SYMBOL_IF_KUNIT(chimney_cmd_exec);
