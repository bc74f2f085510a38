// SPDX-License-Identifier: GPL-2.0
/*
 * The TCP ULP "chimney": setsockopt(fd, SOL_TCP, TCP_ULP, "chimney", 7) on
 * an ESTABLISHED socket offloads its connection through the socket target
 * (sock_target.c). A ULP cannot be detached, so the socket keeps it after
 * an upload, as plain Linux TCP with the callbacks restored; debugfs
 * offloads it again by 4-tuple. Every socket holding the ULP pins the
 * module (tcp_set_ulp() takes a module reference, as for kTLS): close
 * those sockets before rmmod.
 *
 * inet_diag (ss -tie) shows "tcp-ulp-chimney" and, through get_info, a
 * nested attribute CHIMNEY_ULP_INFO with the offload state and the
 * connection id (ss prints no ULP's attributes but kTLS's and MPTCP's).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/sockptr.h>
#include <linux/tracepoint.h>
#include <net/inet6_hashtables.h>
#include <net/inet_hashtables.h>
#include <net/netlink.h>
#include <net/tcp.h>

#include "compat.h"
#include "conn.h"
#include "device.h"
#include "offload.h"
#include "sock_target.h"
#include "ulp.h"

#define CHIMNEY_ULP_NAME	"chimney"

/*
 * get_info's attributes: one nest, outside the INET_ULP_INFO_* numbers the
 * kernel gives kTLS and MPTCP (chimney's own; not ABI).
 */
enum {
	CHIMNEY_ULP_INFO_UNSPEC,
	CHIMNEY_ULP_INFO_STATE,		/* u8, enum chimney_sock_state */
	CHIMNEY_ULP_INFO_ID,		/* u64, the connection id while offloaded */
	CHIMNEY_ULP_INFO_OFFLOADS,	/* u32 */
	CHIMNEY_ULP_INFO_UPLOADS,	/* u32 */
	CHIMNEY_ULP_INFO_PAD,
};

/*
 * Far above INET_ULP_INFO_*, below the flag bits of an attribute's type
 * (NLA_TYPE_MASK): 0x4368 ("Ch") carried NLA_F_NET_BYTEORDER, and every
 * parser that masks the flags off, nla_type() too, read type 0x368.
 */
#define CHIMNEY_ULP_INFO	0x3368

static struct tcp_ulp_ops chimney_ulp_ops;

static struct chimney_sock *chimney_ulp_ctx(const struct sock *sk)
{
	return (__force struct chimney_sock *)inet_csk(sk)->icsk_ulp_data;
}

/* Process context, @sk locked by tcp_set_ulp()'s caller. */
static int chimney_ulp_sk_init(struct sock *sk)
{
	struct chimney_sock *cs;
	u64 id;
	int err;

	/* tcp_set_ulp() refuses LISTEN itself, with the same errno. */
	if (sk->sk_state != TCP_ESTABLISHED)
		return -ENOTCONN;
	cs = chimney_sock_alloc(sk);
	if (!cs)
		return -ENOMEM;
	rcu_assign_pointer(inet_csk(sk)->icsk_ulp_data, cs);
	err = chimney_sock_offload(cs, sk, &id);
	if (err) {
		/* Callbacks back first: they find their context through it. */
		chimney_sock_release(cs, sk, false);
		RCU_INIT_POINTER(inet_csk(sk)->icsk_ulp_data, NULL);
	}
	return err;
}

/* The socket is destroyed; possibly in softirq. */
static void chimney_ulp_sk_release(struct sock *sk)
{
	struct chimney_sock *cs = chimney_ulp_ctx(sk);

	if (!cs)
		return;
	/* Callbacks back first: they find their context through it. */
	chimney_sock_release(cs, sk, true);
	RCU_INIT_POINTER(inet_csk(sk)->icsk_ulp_data, NULL);
}

static int chimney_ulp_get_info(struct sock *sk, struct sk_buff *skb)
{
	struct chimney_sock *cs;
	struct nlattr *nest;
	u32 offloads, uploads;
	u8 state;
	u64 id;
	int err = 0;

	rcu_read_lock();
	cs = rcu_dereference(inet_csk(sk)->icsk_ulp_data);
	if (!cs)
		goto out;
	spin_lock_bh(&cs->lock);
	state = cs->state;
	id = state == CHIMNEY_SOCK_UPLOADED ? 0 : cs->id;
	offloads = cs->offloads;
	uploads = cs->uploads;
	spin_unlock_bh(&cs->lock);
	err = -EMSGSIZE;
	nest = nla_nest_start_noflag(skb, CHIMNEY_ULP_INFO);
	if (!nest)
		goto out;
	if (nla_put_u8(skb, CHIMNEY_ULP_INFO_STATE, state) ||
	    nla_put_u64_64bit(skb, CHIMNEY_ULP_INFO_ID, id,
			      CHIMNEY_ULP_INFO_PAD) ||
	    nla_put_u32(skb, CHIMNEY_ULP_INFO_OFFLOADS, offloads) ||
	    nla_put_u32(skb, CHIMNEY_ULP_INFO_UPLOADS, uploads)) {
		nla_nest_cancel(skb, nest);
		goto out;
	}
	nla_nest_end(skb, nest);
	err = 0;
out:
	rcu_read_unlock();
	return err;
}

static size_t chimney_ulp_get_info_size(const struct sock *sk)
{
	return nla_total_size(0) +		/* CHIMNEY_ULP_INFO */
	       nla_total_size(sizeof(u8)) +	/* STATE */
	       nla_total_size_64bit(sizeof(u64)) + /* ID */
	       2 * nla_total_size(sizeof(u32));	/* OFFLOADS, UPLOADS */
}

static struct tcp_ulp_ops chimney_ulp_ops __read_mostly = {
	.name = CHIMNEY_ULP_NAME,
	.owner = THIS_MODULE,
	.init = chimney_ulp_sk_init,
	.release = chimney_ulp_sk_release,
	.get_info = chimney_ulp_get_info,
	.get_info_size = chimney_ulp_get_info_size,
};

/* The full TCP socket of @tuple (local = src) in @net, referenced, or NULL. */
static struct sock *chimney_ulp_lookup(struct net *net,
				       const struct chimney_tuple *t)
{
	struct inet_hashinfo *hinfo = net->ipv4.tcp_death_row.hashinfo;
	struct sock *sk = NULL;

	rcu_read_lock();
	if (t->family == AF_INET)
		sk = __inet_lookup_established(net, hinfo, t->daddr.ip, t->dport,
					       t->saddr.ip, ntohs(t->sport), 0, 0);
#if IS_ENABLED(CONFIG_IPV6)
	else
		sk = __inet6_lookup_established(net, hinfo, &t->daddr.in6,
						t->dport, &t->saddr.in6,
						ntohs(t->sport), 0, 0);
#endif
	rcu_read_unlock();
	if (sk && !sk_fullsock(sk)) {
		sock_gen_put(sk);
		sk = NULL;
	}
	return sk;
}

/**
 * chimney_ulp_offload() - offload an existing connection by its 4-tuple
 * @net: the namespace to look it up in
 * @tuple: local (src) and remote (dst) address and port
 * @id: set to the connection id on success
 *
 * Attaches the ULP as setsockopt(TCP_ULP, "chimney") would, or offloads
 * again a socket that already holds it and was uploaded. Process context.
 *
 * Return: 0, -ENOENT if no such connection, -EEXIST if the socket holds
 * another ULP, or chimney_sock_offload()'s errors.
 */
int chimney_ulp_offload(struct net *net, const struct chimney_tuple *tuple,
			u64 *id)
{
	const struct tcp_ulp_ops *ops;
	struct chimney_sock *cs;
	struct sock *sk;
	int err;

	sk = chimney_ulp_lookup(net, tuple);
	if (!sk)
		return -ENOENT;
	lock_sock(sk);
	ops = inet_csk(sk)->icsk_ulp_ops;
	if (ops == &chimney_ulp_ops)
		err = chimney_sock_offload(chimney_ulp_ctx(sk), sk, id);
	else
		err = ops ? -EEXIST : 1;
	release_sock(sk);
	if (err == 1) {
		/* Through tcp_set_ulp(): the module reference, the checks. */
		err = sk->sk_prot->setsockopt(sk, SOL_TCP, TCP_ULP,
					      KERNEL_SOCKPTR(CHIMNEY_ULP_NAME),
					      sizeof(CHIMNEY_ULP_NAME) - 1);
		lock_sock(sk);
		cs = chimney_ulp_ctx(sk);
		if (!err && inet_csk(sk)->icsk_ulp_ops == &chimney_ulp_ops)
			*id = cs->id;
		release_sock(sk);
	}
	sock_put(sk);
	return err;
}

/**
 * chimney_ulp_upload() - upload a socket-backed connection by its 4-tuple
 * @net: the namespace to look it up in
 * @tuple: local (src) and remote (dst) address and port
 *
 * The host uploads it, as "terminate id=" does; returns once the upload
 * has completed. Process context.
 *
 * Return: 0, -ENOENT if no such connection or it is not offloaded,
 * -EALREADY if an upload is under way, or the terminate's error.
 */
int chimney_ulp_upload(struct net *net, const struct chimney_tuple *tuple)
{
	struct chimney_conn *conn;
	struct chimney_sock *cs;
	struct sock *sk;
	u64 id = 0;
	int err;

	sk = chimney_ulp_lookup(net, tuple);
	if (!sk)
		return -ENOENT;
	lock_sock(sk);
	cs = chimney_ulp_ctx(sk);
	if (inet_csk(sk)->icsk_ulp_ops == &chimney_ulp_ops && cs) {
		spin_lock_bh(&cs->lock);
		if (cs->state == CHIMNEY_SOCK_OFFLOADED)
			id = cs->id;
		spin_unlock_bh(&cs->lock);
	}
	release_sock(sk);
	sock_put(sk);
	if (!id)
		return -ENOENT;

	/* The device cannot go while its connection is terminated. */
	mutex_lock(&chimney_devices_lock);
	conn = chimney_conn_get_id(id);
	if (conn) {
		err = chimney_conn_terminate(conn);
		chimney_conn_put(conn);
	} else {
		err = -ENOENT;
	}
	mutex_unlock(&chimney_devices_lock);
	/* Completions the rundown handed to the work queue. */
	chimney_flush();
	return err;
}

/*
 * tcp_set_ca_state() announces every congestion state change, under the
 * socket's lock, before it is made: entering TCP_CA_Loss is a
 * retransmission timeout (tcp_enter_loss() from the retransmit timer), or
 * the retransmit after a path MTU drop; either way the path failed the
 * connection, and no socket callback runs for it.
 */
static void chimney_ulp_cong_state(void *data, struct sock *sk,
				   const u8 ca_state)
{
	struct chimney_sock *cs;

	if (ca_state != TCP_CA_Loss ||
	    inet_csk(sk)->icsk_ca_state == TCP_CA_Loss ||
	    inet_csk(sk)->icsk_ulp_ops != &chimney_ulp_ops)
		return;
	cs = chimney_ulp_ctx(sk);
	if (cs)
		chimney_sock_loss(cs, sk);
}

/* tcp_cong_state_set is not exported to modules: found by name. */
static struct tracepoint *chimney_ulp_tp;

static void chimney_ulp_find_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "tcp_cong_state_set"))
		chimney_ulp_tp = tp;
}

int chimney_ulp_init(void)
{
	int err;

	for_each_kernel_tracepoint(chimney_ulp_find_tp, NULL);
	if (chimney_ulp_tp) {
		err = tracepoint_probe_register(chimney_ulp_tp,
						chimney_ulp_cong_state, NULL);
		if (err)
			return err;
	} else {
		pr_warn("no tcp_cong_state_set tracepoint: a retransmission timeout is seen only when TCP gives up\n");
	}
	err = tcp_register_ulp(&chimney_ulp_ops);
	if (err && chimney_ulp_tp) {
		tracepoint_probe_unregister(chimney_ulp_tp,
					    chimney_ulp_cong_state, NULL);
		tracepoint_synchronize_unregister();
	}
	return err;
}

/* No socket holds the ULP any more: the module was pinned until then. */
void chimney_ulp_exit(void)
{
	tcp_unregister_ulp(&chimney_ulp_ops);
	if (chimney_ulp_tp) {
		tracepoint_probe_unregister(chimney_ulp_tp,
					    chimney_ulp_cong_state, NULL);
		tracepoint_synchronize_unregister();
	}
}

MODULE_ALIAS_TCP_ULP(CHIMNEY_ULP_NAME);
