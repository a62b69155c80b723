/* api/ — listing every listener and live connection (tcpw_conn_foreach),
 * for `ss`-like tools.
 *
 * tcpw_conn_info() needs a descriptor, but orphans (closed by the
 * application, still sending their FIN) and connections waiting in an
 * accept queue have none; this walk reads the stack's own tables instead, so
 * nothing the stack holds is invisible. It fills a copy on the caller's
 * stack and never allocates, so it can run at any time, even under memory
 * pressure, which is when someone wants to look.
 */
#include <errno.h>
#include <string.h>

#include "api/sock.h"

static uint64_t time_left(const struct tcpw_timer *t, uint64_t now)
{
    return t->expires > now ? t->expires - now : 0;
}

/* The timer ss -o shows, in Linux's order of precedence (tcp_diag's
 * get_tcp4_sock): retransmission or probe first, then the socket timer
 * (keepalive, or FIN_WAIT_2's tcp_fin_timeout). */
static void conn_timer(const struct tcpw_conn *c, uint64_t now, struct tcpw_conn_entry *e)
{
    if (tcpw_timer_armed(&c->rtx_timer)) {
        e->timer = c->probing ? TCPW_TIMER_PERSIST : TCPW_TIMER_ON;
        e->timer_remaining_us = time_left(&c->rtx_timer, now);
        e->timer_count = c->retransmits;
    } else if (tcpw_timer_armed(&c->state_timer)) {
        e->timer = TCPW_TIMER_TIMEWAIT;
        e->timer_remaining_us = time_left(&c->state_timer, now);
    } else if (tcpw_timer_armed(&c->keepalive_timer)) {
        e->timer = TCPW_TIMER_KEEPALIVE;
        e->timer_remaining_us = time_left(&c->keepalive_timer, now);
        e->timer_count = c->ka_probes;
    }
}

static void conn_entry(const struct tcpw_conn *c, uint64_t now, struct tcpw_conn_entry *e)
{
    memset(e, 0, sizeof(*e));
    e->state = c->state;
    e->laddr = c->node.tuple.laddr;
    e->raddr = c->node.tuple.raddr;
    e->lport = c->node.tuple.lport;
    e->rport = c->node.tuple.rport;
    /* Linux's Recv-Q for a connection is rcv_nxt - copied_seq: in-order
     * bytes the application has not read; Send-Q is write_seq - snd_una:
     * everything in the send buffer. */
    e->recv_q = (uint32_t)c->rcv.readable;
    e->send_q = (uint32_t)c->snd.len;
    e->fd = c->sock ? c->sock->fd : -1;
    /* The same test tcpw__conn_destroy() uses to keep tcp.orphans right: no
     * socket and no listener waiting to hand it out. */
    e->orphan = !c->sock && !c->listener;
    e->timer = TCPW_TIMER_NONE;
    conn_timer(c, now, e);
}

int tcpw_conn_foreach(const struct tcpw_stack *s, tcpw_conn_visit_fn fn, void *user)
{
    const struct tcpw_tuple_table *t;
    struct tcpw_conn_entry e;
    int r;

    if (!s || !fn)
        return -EINVAL;
    for (const struct tcpw_listener *l = s->tcp->listeners; l; l = l->next) {
        memset(&e, 0, sizeof(e));
        e.state = TCPW_LISTEN;
        /* The listener keeps 0 for "any of ours"; show what the
         * application bound, as ss shows the socket's own address. */
        e.laddr = l->addr ? l->addr : (l->sock ? l->sock->laddr : 0);
        e.lport = l->port;
        /* ss: a listener's Recv-Q is the accept queue, Send-Q the backlog. */
        e.recv_q = l->accept_count;
        e.send_q = l->backlog;
        e.fd = l->sock ? l->sock->fd : -1;
        e.timer = TCPW_TIMER_NONE;
        r = fn(user, &e);
        if (r)
            return r;
    }
    t = &s->tcp->conns;
    for (size_t b = 0; b < tcpw_tuple_table_chains(t); b++) {
        for (const struct tcpw_tuple_node *n = tcpw_tuple_table_chain(t, b); n; n = n->next) {
            /* The node is the first member of struct tcpw_conn. */
            conn_entry((const struct tcpw_conn *)n, s->now, &e);
            r = fn(user, &e);
            if (r)
                return r;
        }
    }
    return 0;
}
