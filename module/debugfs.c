// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/chimney: how people look at and drive the emulation
 * (netdevsim is the model). Not ABI; the format is documented in the
 * README. Every file is created with an owner and through the debugfs
 * proxy, and device directories are removed before their device's state
 * is freed, so an open file survives module unload and device removal.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "conn.h"
#include "debugfs.h"
#include "device.h"
#include "host.h"
#include "sock_target.h"
#include "stack.h"
#include "target.h"
#include "version.h"

static struct dentry *chimney_debugfs_root;
static struct dentry *chimney_debugfs_devices;

static int version_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s\n", CHIMNEY_VERSION);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(version);

static int stats_show(struct seq_file *m, void *v)
{
	chimney_stats_show(m, chimney_global_stats);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

static int last_id_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%llu\n", chimney_cmd_last_id());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(last_id);

static void chimney_conn_show(struct seq_file *m, struct chimney_conn *conn)
{
	static const char * const flag_names[] = {
		"rx_closed", "aborted", "upload_requested",
	};
	static const u64 flag_bits[] = {
		CHIMNEY_CONN_RX_CLOSED, CHIMNEY_CONN_ABORTED,
		CHIMNEY_CONN_UPLOAD_REQUESTED,
	};
	const struct chimney_conn_key *k = &conn->key;
	s64 ev = atomic64_read(&conn->ev);
	const char *state = chimney_conn_state_name(ev & CHIMNEY_EV_STATE);
	bool any = false;
	int i;

	if (k->family == AF_INET)
		seq_printf(m, "%llu %s ipv4 %pI4:%u %pI4:%u %s ", conn->id,
			   netdev_name(conn->key.stack->dev), &k->saddr.ip,
			   ntohs(k->sport), &k->daddr.ip, ntohs(k->dport), state);
	else
		seq_printf(m, "%llu %s ipv6 [%pI6c]:%u [%pI6c]:%u %s ", conn->id,
			   netdev_name(conn->key.stack->dev), &k->saddr.in6,
			   ntohs(k->sport), &k->daddr.in6, ntohs(k->dport), state);
	for (i = 0; i < ARRAY_SIZE(flag_names); i++) {
		if (!(ev & flag_bits[i]))
			continue;
		seq_printf(m, "%s%s", any ? "," : "", flag_names[i]);
		any = true;
	}
	seq_printf(m, "%s %u %llu", any ? "" : "-", READ_ONCE(conn->backlog),
		   (u64)ev >> CHIMNEY_EV_EVENTS_SHIFT);
	chimney_sock_conn_show(m, conn->id);
	seq_putc(m, '\n');
}

/*
 * The connection lists: all devices (inode data NULL) or one. A walk in
 * slot order under RCU, resuming each read() where the last one stopped: a
 * full listing is O(N). Memory stays valid under RCU even for a connection that
 * is going away; chimney_stacks_lock keeps its device referenced (a stack
 * lets its device go under it), held for one seq_file buffer at a time.
 */
struct chimney_conns_iter {
	struct chimney_device *only;
	loff_t pos;			/* where the last one returned was */
	unsigned long slot;		/* and its slot in the id index */
};

/* The first connection to list at or above slot @from. */
static struct chimney_conn *chimney_conns_from(struct chimney_conns_iter *it,
					       unsigned long from)
{
	struct chimney_conn *conn;

	for (;;) {
		conn = chimney_conn_lookup_next(&from);
		if (!conn || !it->only || conn->key.stack->dev == it->only->dev)
			return conn;
		from++;
	}
}

static void *chimney_conns_at(struct chimney_conns_iter *it, loff_t pos,
			      struct chimney_conn *conn)
{
	if (conn) {
		it->pos = pos;
		it->slot = chimney_conn_slot(conn);
	}
	return conn;
}

static void *conns_start(struct seq_file *m, loff_t *pos)
	__acquires(RCU)
{
	struct chimney_conns_iter *it = m->private;
	struct chimney_conn *conn = NULL;
	loff_t i;

	mutex_lock(&chimney_stacks_lock);
	rcu_read_lock();
	if (!*pos)
		return SEQ_START_TOKEN;
	/* A read() picks up where the last one stopped: O(log N). */
	if (it->pos && *pos == it->pos)
		return chimney_conns_at(it, *pos, chimney_conns_from(it, it->slot));
	if (it->pos && *pos == it->pos + 1)
		return chimney_conns_at(it, *pos,
					chimney_conns_from(it, it->slot + 1));
	/* A seek: count from the start. */
	for (i = 1; i <= *pos; i++) {
		conn = chimney_conns_from(it,
					  conn ? chimney_conn_slot(conn) + 1 : 0);
		if (!conn)
			return NULL;
	}
	return chimney_conns_at(it, *pos, conn);
}

static void *conns_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct chimney_conns_iter *it = m->private;
	struct chimney_conn *conn = v;

	++*pos;
	if (v == SEQ_START_TOKEN)
		return chimney_conns_at(it, *pos, chimney_conns_from(it, 0));
	return chimney_conns_at(it, *pos,
				chimney_conns_from(it, chimney_conn_slot(conn) + 1));
}

static void conns_stop(struct seq_file *m, void *v)
	__releases(RCU)
{
	rcu_read_unlock();
	mutex_unlock(&chimney_stacks_lock);
}

static int conns_show(struct seq_file *m, void *v)
{
	if (v == SEQ_START_TOKEN)
		seq_puts(m, "# id dev family local remote state flags backlog events\n");
	else
		chimney_conn_show(m, v);
	return 0;
}

static const struct seq_operations conns_sops = {
	.start = conns_start,
	.next = conns_next,
	.stop = conns_stop,
	.show = conns_show,
};

static int conns_open(struct inode *inode, struct file *file)
{
	struct chimney_conns_iter *it;

	it = __seq_open_private(file, &conns_sops, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->only = inode->i_private;
	return 0;
}

static const struct file_operations conns_fops = {
	.owner = THIS_MODULE,
	.open = conns_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = seq_release_private,
};

/*
 * The command file. Each open remembers the id of the last connection
 * offloaded through it: a write runs one command and rewinds the file, a
 * read then returns "<id>\n" (0 if none), so concurrent scripts each get
 * their own id where the global last_id file is whoever wrote last.
 */

/**
 * chimney_cmd_file_write() - one write to an open command file
 * @cf: that open's state
 * @buf: the command (kernel memory)
 * @len: its length
 * @ppos: the file position, rewound for the next read
 *
 * Return: @len, or the command's error.
 */
ssize_t chimney_cmd_file_write(struct chimney_cmd_file *cf, const char *buf,
			       size_t len, loff_t *ppos)
{
	u64 id = 0;
	int err;

	err = chimney_cmd_exec_id(buf, len, &id);
	if (err)
		return err;
	if (id)
		WRITE_ONCE(cf->last_id, id);
	*ppos = 0;
	return len;
}
EXPORT_SYMBOL_IF_KUNIT(chimney_cmd_file_write);

/* What a read of the open command file @cf returns; its length. */
size_t chimney_cmd_file_show(struct chimney_cmd_file *cf, char *buf,
			     size_t size)
{
	return scnprintf(buf, size, "%llu\n", READ_ONCE(cf->last_id));
}
EXPORT_SYMBOL_IF_KUNIT(chimney_cmd_file_show);

static int command_open(struct inode *inode, struct file *file)
{
	file->private_data = kzalloc(sizeof(struct chimney_cmd_file),
				     GFP_KERNEL);
	return file->private_data ? 0 : -ENOMEM;
}

static int command_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static ssize_t command_read(struct file *file, char __user *ubuf,
			    size_t len, loff_t *ppos)
{
	char buf[24];
	size_t n = chimney_cmd_file_show(file->private_data, buf, sizeof(buf));

	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static ssize_t command_write(struct file *file, const char __user *ubuf,
			     size_t len, loff_t *ppos)
{
	char buf[CHIMNEY_CMD_MAX + 1];

	/* One command per write; a longer line can only be malformed. */
	if (len > CHIMNEY_CMD_MAX) {
		pr_warn_ratelimited("command: longer than %d bytes\n",
				    CHIMNEY_CMD_MAX);
		return -EINVAL;
	}
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	return chimney_cmd_file_write(file->private_data, buf, len, ppos);
}

static const struct file_operations command_fops = {
	.owner = THIS_MODULE,
	.open = command_open,
	.release = command_release,
	.read = command_read,
	.write = command_write,
	.llseek = default_llseek,
};

/* Per-device files. */

static int dev_stack_show(struct seq_file *m, void *v)
{
	struct chimney_device *cdev = m->private;
	static const char * const roles[] = {
		[CHIMNEY_LAYER_PROTOCOL] = "protocol",
		[CHIMNEY_LAYER_INTERMEDIATE] = "intermediate",
		[CHIMNEY_LAYER_TARGET] = "target",
	};
	struct chimney_layer *layer;

	mutex_lock(&chimney_stacks_lock);
	list_for_each_entry(layer, &cdev->host->layer.stack->layers, node)
		seq_printf(m, "%u %s %s\n", layer->depth, roles[layer->role],
			   layer->name);
	mutex_unlock(&chimney_stacks_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dev_stack);

static int dev_stats_show(struct seq_file *m, void *v)
{
	struct chimney_device *cdev = m->private;
	struct chimney_target *t = cdev->target;
	struct chimney_host *host = cdev->host;
	struct chimney_target_stats st[2];
	u64 indicated, suppressed, trailing, full, down;
	unsigned int live, cap;
	bool link;
	int i;

	chimney_stats_show(m, host->layer.stack->stats);
	if (!t) {
		chimney_sock_target_stats_show(m, cdev->sock);
		goto host;
	}

	spin_lock_bh(&t->lock);
	memcpy(st, t->stats, sizeof(st));
	indicated = t->backlog_indicated;
	suppressed = t->backlog_suppressed;
	trailing = t->backlog_trailing;
	full = t->refused_full;
	down = t->refused_down;
	link = t->link_up;
	live = t->nr_conns;
	cap = t->knobs.capacity;
	spin_unlock_bh(&t->lock);

	seq_printf(m, "target_connections %u\ntarget_capacity %u\n", live, cap);
	seq_printf(m, "target_refused_full %llu\n", full);
	seq_printf(m, "target_link %d\ntarget_refused_down %llu\n", link, down);
	seq_printf(m, "target_backlog_indicated %llu\ntarget_backlog_suppressed %llu\n",
		   indicated, suppressed);
	seq_printf(m, "target_backlog_trailing %llu\n", trailing);
	for (i = 0; i < 2; i++) {
		const char *f = i ? "tcp6" : "tcp4";

		seq_printf(m, "%s_in_segments %llu\n", f, st[i].in_segments);
		seq_printf(m, "%s_out_segments %llu\n", f, st[i].out_segments);
		seq_printf(m, "%s_currently_established %u\n", f,
			   st[i].currently_established);
		seq_printf(m, "%s_reset_established %u\n", f,
			   st[i].reset_established);
		seq_printf(m, "%s_retransmitted_segments %u\n", f,
			   st[i].retransmitted_segments);
		seq_printf(m, "%s_in_errors %u\n", f, st[i].in_errors);
		seq_printf(m, "%s_out_resets %u\n", f, st[i].out_resets);
	}
host:
	for (i = 1; i <= CHIMNEY_EVENT_MAX; i++)
		seq_printf(m, "host_event_%s %lld\n", chimney_event_name(i),
			   chimney_host_read(host, events[i]));
	for (i = 1; i < CHIMNEY_UPLOAD_REASON_MAX; i++)
		seq_printf(m, "host_reason_%s %lld\n", chimney_reason_name(i),
			   chimney_host_read(host, reasons[i]));
	seq_printf(m, "host_declined %lld\n", chimney_host_read(host, declined));
	seq_printf(m, "host_terminate_errors %lld\n",
		   atomic64_read(&host->terminate_errors));
	seq_printf(m, "host_upload_all %lld\n", atomic64_read(&host->upload_all));
	seq_printf(m, "host_pause %lld\n", atomic64_read(&host->pause));
	seq_printf(m, "host_resume %lld\n", atomic64_read(&host->resume));
	seq_printf(m, "host_paused %d\n", READ_ONCE(host->blocked) ? 1 : 0);
	seq_printf(m, "host_capacity %u\n", READ_ONCE(host->capacity));
	seq_printf(m, "host_refused_full %lld\n",
		   atomic64_read(&host->refused_full));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dev_stats);

static int dev_policy_show(struct seq_file *m, void *v)
{
	struct chimney_device *cdev = m->private;
	u32 r;

	for (r = 1; r < CHIMNEY_UPLOAD_REASON_MAX; r++)
		seq_printf(m, "%s %s\n", chimney_reason_name(r),
			   chimney_upload_reason_mandatory(r) ? "mandatory" :
			   chimney_host_accepts(cdev->host, r) ? "accept" :
			   "decline");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dev_policy);

/* Fault and behaviour knobs: one file per field of the target's knobs. */
struct chimney_knob_file {
	struct chimney_target *target;
	enum chimney_target_knob knob;
};

static int chimney_knob_get(void *data, u64 *val)
{
	struct chimney_knob_file *f = data;

	*val = chimney_target_get_knob(f->target, f->knob);
	return 0;
}

/* Sets that knob alone; the target validates it. */
static int chimney_knob_set(void *data, u64 val)
{
	struct chimney_knob_file *f = data;

	return chimney_target_set_knob(f->target, f->knob, (s64)val);
}
DEFINE_DEBUGFS_ATTRIBUTE_SIGNED(chimney_knob_fops, chimney_knob_get,
				chimney_knob_set, "%lld\n");

/* The socket target's sampler knobs, the same way. */
struct chimney_sock_knob_file {
	struct chimney_sock_target *st;
	enum chimney_sock_knob knob;
};

static int chimney_sock_knob_get(void *data, u64 *val)
{
	struct chimney_sock_knob_file *f = data;

	*val = chimney_sock_target_get_knob(f->st, f->knob);
	return 0;
}

static int chimney_sock_knob_set(void *data, u64 val)
{
	struct chimney_sock_knob_file *f = data;

	return chimney_sock_target_set_knob(f->st, f->knob, (s64)val);
}
DEFINE_DEBUGFS_ATTRIBUTE_SIGNED(chimney_sock_knob_fops, chimney_sock_knob_get,
				chimney_sock_knob_set, "%lld\n");

static void chimney_debugfs_sock_knobs(struct chimney_device *cdev,
				       struct dentry *dir)
{
	struct chimney_sock_knob_file *f;
	int i;

	f = kcalloc(__CHIMNEY_SOCK_KNOB_MAX, sizeof(*f), GFP_KERNEL);
	cdev->debugfs_knobs = f;
	if (!f)
		return;
	for (i = 0; i < __CHIMNEY_SOCK_KNOB_MAX; i++) {
		f[i].st = cdev->sock;
		f[i].knob = i;
		debugfs_create_file_unsafe(chimney_sock_knob_names[i], 0600, dir,
					   &f[i], &chimney_sock_knob_fops);
	}
}

static void chimney_debugfs_device_files(struct chimney_device *cdev,
					 struct dentry *dir)
{
	struct chimney_knob_file *f;
	int i;

	debugfs_create_file("stack", 0400, dir, cdev, &dev_stack_fops);
	debugfs_create_file("connections", 0400, dir, cdev, &conns_fops);
	debugfs_create_file("stats", 0400, dir, cdev, &dev_stats_fops);
	debugfs_create_file("policy", 0400, dir, cdev, &dev_policy_fops);
	if (cdev->sock)
		chimney_debugfs_sock_knobs(cdev, dir);
	if (!cdev->target)
		return;

	f = kcalloc(__CHIMNEY_KNOB_MAX, sizeof(*f), GFP_KERNEL);
	cdev->debugfs_knobs = f;
	if (!f)
		return;
	for (i = 0; i < __CHIMNEY_KNOB_MAX; i++) {
		f[i].target = cdev->target;
		f[i].knob = i;
		debugfs_create_file_unsafe(chimney_target_knob_names[i], 0600, dir,
					   &f[i], &chimney_knob_fops);
	}
}

void chimney_debugfs_device_add(struct chimney_device *cdev)
{
	struct dentry *dir;

	dir = debugfs_create_dir(netdev_name(cdev->dev),
				 chimney_debugfs_devices);
	if (IS_ERR(dir)) {
		/* Same name in another namespace: usable, just not visible. */
		netdev_warn(cdev->dev, "chimney: no debugfs directory (%ld)\n",
			    PTR_ERR(dir));
		return;
	}
	cdev->debugfs = dir;
	chimney_debugfs_device_files(cdev, dir);
}

/* Before the device's state is freed: waits for readers in progress. */
void chimney_debugfs_device_remove(struct chimney_device *cdev)
{
	debugfs_remove(cdev->debugfs);
	cdev->debugfs = NULL;
	kfree(cdev->debugfs_knobs);
	cdev->debugfs_knobs = NULL;
}

/* The directory follows the device's name. */
void chimney_debugfs_device_rename(struct chimney_device *cdev)
{
	struct dentry *dir;

	if (!cdev->debugfs) {
		chimney_debugfs_device_add(cdev);
		return;
	}
	dir = debugfs_rename(chimney_debugfs_devices, cdev->debugfs,
			     chimney_debugfs_devices, netdev_name(cdev->dev));
	if (IS_ERR(dir)) {
		netdev_warn(cdev->dev, "chimney: debugfs rename failed (%ld)\n",
			    PTR_ERR(dir));
		chimney_debugfs_device_remove(cdev);
	}
}

int chimney_debugfs_init(void)
{
	struct dentry *root;

	/* Without debugfs the module still works; the calls below no-op. */
	root = debugfs_create_dir("chimney", NULL);
	chimney_debugfs_root = root;
	chimney_debugfs_devices = debugfs_create_dir("devices", root);
	debugfs_create_file("version", 0444, root, NULL, &version_fops);
	debugfs_create_file("stats", 0444, root, NULL, &stats_fops);
	debugfs_create_file("connections", 0444, root, NULL, &conns_fops);
	debugfs_create_file("last_id", 0444, root, NULL, &last_id_fops);
	debugfs_create_file("command", 0600, root, NULL, &command_fops);
	return 0;
}

void chimney_debugfs_exit(void)
{
	debugfs_remove(chimney_debugfs_root);
}
