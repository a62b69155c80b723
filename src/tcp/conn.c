/* tcp/ — creating, finding and freeing connections; the stack's TCP state.
 *
 * RFC 9293 §3.3.1 (the TCB), §3.10.4–3.10.5 (what the user sees when a
 * connection ends), RFC 7323 §5.4 (per-connection timestamp offset).
 */
#include "tcp/conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/sock.h"
#include "tcp/tcp.h"

int tcpw__tcp_init(struct tcpw_stack *s)
{
    struct tcpw_tcp_state *t = calloc(1, sizeof(*t));
    int err;

    if (!t)
        return -ENOMEM;
    for (size_t i = 0; i < sizeof(t->secret); i += 8) {
        uint64_t r = tcpw__stack_rand(s);
        memcpy(t->secret + i, &r, 8);
    }
    s->tcp = t;
    err = tcpw_tuple_table_init(&t->conns, 64, t->secret);
    if (!err)
        err = tcpw__tw_init(s);
    if (err) {
        tcpw_tuple_table_fini(&t->conns);
        free(t);
        s->tcp = NULL;
        return err;
    }
    tcpw_port_picker_init(&t->ports, t->secret, (uint32_t)tcpw__stack_rand(s));
    return 0;
}

void tcpw__tcp_destroy(struct tcpw_stack *s)
{
    struct tcpw_tcp_state *t = s->tcp;

    if (!t)
        return;
    /* Connections first (they point at sockets and listeners), then the
     * sockets, then the TIME_WAIT records. Nothing is sent. */
    for (size_t b = 0; b <= t->conns.mask; b++) {
        while (t->conns.buckets[b]) {
            struct tcpw_conn *c = (struct tcpw_conn *)t->conns.buckets[b];
            tcpw__conn_destroy(c);
        }
    }
    tcpw__socks_destroy(s);
    tcpw__tw_fini(s);
    tcpw_tuple_table_fini(&t->conns);
    free(t);
    s->tcp = NULL;
}

struct tcpw_conn *tcpw__conn_create(struct tcpw_stack *s, const struct tcpw_tuple *tuple,
                                    size_t sndbuf, size_t rcvbuf)
{
    struct tcpw_conn *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    if (tcpw_sndbuf_init(&c->snd, sndbuf) != 0 || tcpw_rcvbuf_init(&c->rcv, rcvbuf) != 0) {
        tcpw_sndbuf_fini(&c->snd);
        free(c);
        return NULL;
    }
    c->stack = s;
    c->node.tuple = *tuple;
    c->state = TCPW_CLOSED;
    {
        /* RFC 7323 §5.4 offset, keyed per address pair like Linux's
         * secure_tcp_ts_off(): a new connection between the same hosts
         * continues the same clock, so TIME_WAIT can judge its SYN by
         * timestamp (RFC 6191). */
        uint32_t pair[2] = {tuple->laddr, tuple->raddr};
        c->ts_offset = (uint32_t)tcpw_siphash24(s->tcp->secret, pair, sizeof(pair));
    }
    c->mss = TCPW_DEFAULT_MSS;
    tcpw_rtt_init(&c->rtt, s->cfg.tcp_rto_initial_ms * 1000u);
    tcpw__timers_init(c);
    tcpw_tuple_table_insert(&s->tcp->conns, &c->node);
    s->tcp->state_counts[TCPW_CLOSED]++;
    return c;
}

struct tcpw_conn *tcpw__conn_find(struct tcpw_stack *s, const struct tcpw_tuple *t)
{
    struct tcpw_tuple_node *n = tcpw_tuple_table_find(&s->tcp->conns, t);
    return n ? (struct tcpw_conn *)n : NULL;
}

static void accept_queue_remove(struct tcpw_conn *c)
{
    struct tcpw_listener *l = c->listener;
    struct tcpw_conn **pp;

    if (!l)
        return;
    if (c->in_accept_queue) {
        for (pp = &l->accept_head; *pp; pp = &(*pp)->accept_next) {
            if (*pp == c) {
                *pp = c->accept_next;
                break;
            }
        }
        l->accept_tail = NULL;
        for (struct tcpw_conn *q = l->accept_head; q; q = q->accept_next)
            l->accept_tail = q;
        l->accept_count--;
        c->in_accept_queue = false;
    } else if (c->state == TCPW_SYN_RECEIVED) {
        l->syn_count--;
    }
    c->listener = NULL;
}

void tcpw__conn_destroy(struct tcpw_conn *c)
{
    struct tcpw_stack *s = c->stack;
    bool orphan = !c->sock && !c->listener;

    tcpw__timers_cancel(c);
    tcpw_tuple_table_remove(&s->tcp->conns, &c->node);
    accept_queue_remove(c);
    if (c->sock) {
        if (c->rcv.readable && !c->rd_shut) {
            c->sock->leftover = c->rcv;
            memset(&c->rcv, 0, sizeof(c->rcv));
        }
        c->sock->conn = NULL;
        c->sock->last_state = TCPW_CLOSED;
        tcpw__sock_wake(c->sock);
    }
    if (orphan)
        s->tcp->orphans--;
    s->tcp->state_counts[c->state]--;
    tcpw_sndbuf_fini(&c->snd);
    tcpw_rcvbuf_fini(&c->rcv);
    free(c);
}

void tcpw__conn_done(struct tcpw_conn *c, int err)
{
    if (c->sock && err) {
        c->sock->error = err;
        c->sock->dead = true;
    }
    if (c->sock && c->fin_rcvd)
        c->sock->eof = true;
    tcpw__set_state(c, TCPW_CLOSED);
    tcpw__conn_destroy(c);
}

void tcpw__conn_wake(struct tcpw_conn *c)
{
    if (c->sock)
        tcpw__sock_wake(c->sock);
    else if (c->listener && c->in_accept_queue && c->listener->sock)
        tcpw__sock_wake(c->listener->sock);
}

uint32_t tcpw__ts_now(const struct tcpw_conn *c)
{
    /* RFC 7323 §5.4: a clock between 1 ms and 1 s per tick; Linux uses 1 ms. */
    return (uint32_t)(c->stack->now / 1000u) + c->ts_offset;
}
