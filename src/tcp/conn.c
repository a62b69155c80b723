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
    err = tcpw__holds_init(s);
    if (!err)
        err = tcpw_tuple_table_init(&t->conns, 64, t->secret);
    if (!err)
        err = tcpw__tw_init(s);
    if (!err) {
        err = tcpw__recycle_init(s);
        if (err)
            tcpw__tw_fini(s);
    }
    if (err) {
        tcpw_tuple_table_fini(&t->conns);
        tcpw__holds_fini(s);
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
    for (size_t b = 0; b < tcpw_tuple_table_chains(&t->conns); b++) {
        struct tcpw_tuple_node *n;
        while ((n = tcpw_tuple_table_chain(&t->conns, b))) {
            struct tcpw_conn *c = (struct tcpw_conn *)n;
            tcpw__conn_destroy(c);
        }
    }
    tcpw__socks_destroy(s);
    tcpw__tw_fini(s);
    tcpw__recycle_fini(s);
    tcpw_tuple_table_fini(&t->conns);
    tcpw__holds_fini(s);
    free(t);
    s->tcp = NULL;
}

uint32_t tcpw__ts_offset(const struct tcpw_stack *s, uint32_t laddr, uint32_t raddr)
{
    /* RFC 7323 §5.4 offset, keyed per address pair like Linux's
     * secure_tcp_ts_off(): a new connection between the same hosts
     * continues the same clock, so TIME_WAIT can judge its SYN by timestamp
     * (RFC 6191) and tcp_tw_reuse can take a record over
     * (docs/states/TIME_WAIT.md, "Timestamp clock"). tcp_timestamps = 2:
     * none, as Linux. */
    uint32_t pair[2] = {laddr, raddr};

    if (s->cfg.tcp_timestamps == 2)
        return 0;
    return (uint32_t)tcpw_siphash24(s->tcp->secret, pair, sizeof(pair));
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
    c->ts_offset = tcpw__ts_offset(s, tuple->laddr, tuple->raddr);
    c->mss = TCPW_DEFAULT_MSS;
    tcpw_rtt_init(&c->rtt, s->cfg.tcp_rto_initial_ms * 1000u);
    tcpw__timers_init(c);
    tcpw_tuple_table_insert(&s->tcp->conns, &c->node);
    tcpw__holds_add(s, tuple, TCPW_HOLDER_CONN);
    s->tcp->state_counts[TCPW_CLOSED]++;
    return c;
}

uint16_t tcpw__our_mss(const struct tcpw_stack *s, uint32_t maxseg)
{
    uint32_t mss = s->cfg.mtu - TCPW_IPV4_HDR_MIN - TCPW_TCP_HDR_MIN;
    if (maxseg && maxseg < mss)
        mss = maxseg;
    return (uint16_t)mss;
}

uint8_t tcpw__wscale_for(size_t rcvbuf)
{
    uint8_t shift = 0;
    while (shift < TCPW_MAX_WSCALE && (rcvbuf >> shift) > 65535u)
        shift++;
    return shift;
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
    tcpw__holds_del(s, &c->node.tuple, TCPW_HOLDER_CONN);
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

const char *tcpw_close_reason_name(enum tcpw_close_reason r)
{
    static const char *const names[TCPW_REASON_COUNT] = {
        [TCPW_REASON_NONE] = "none",
        [TCPW_REASON_LOCAL_FIN_FIRST] = "local-fin-first",
        [TCPW_REASON_PEER_FIN_FIRST] = "peer-fin-first",
        [TCPW_REASON_SIMULTANEOUS_CLOSE] = "simultaneous-close",
        [TCPW_REASON_RESET_RECEIVED] = "reset-received",
        [TCPW_REASON_REFUSED] = "refused",
        [TCPW_REASON_UNREAD_DATA] = "reset-unread-data",
        [TCPW_REASON_DATA_AFTER_CLOSE] = "reset-data-after-close",
        [TCPW_REASON_LINGER_ABORT] = "linger-abort",
        [TCPW_REASON_LINGER_TIMEOUT] = "linger-timeout",
        [TCPW_REASON_CONNECT_TIMEOUT] = "connect-timeout",
        [TCPW_REASON_RETRANSMIT_TIMEOUT] = "retransmit-timeout",
        [TCPW_REASON_KEEPALIVE_TIMEOUT] = "keepalive-timeout",
        [TCPW_REASON_USER_TIMEOUT] = "user-timeout",
        [TCPW_REASON_ICMP_ERROR] = "icmp-error",
        [TCPW_REASON_ORPHAN_FIN_TIMEOUT] = "orphan-fin-timeout",
        [TCPW_REASON_ORPHAN_OVERFLOW] = "orphan-overflow",
        [TCPW_REASON_TIME_WAIT_OVERFLOW] = "time-wait-overflow",
        [TCPW_REASON_ABORTED] = "aborted",
        [TCPW_REASON_HALF_OPEN_DROPPED] = "half-open-dropped",
    };
    return (unsigned)r < TCPW_REASON_COUNT ? names[r] : "?";
}

void tcpw_set_close_fn(struct tcpw_stack *s, tcpw_close_fn fn, void *user)
{
    s->tcp->close_fn = fn;
    s->tcp->close_user = user;
}

/* The reason when no code path named one: from the error, or for an
 * orderly end from who sent the first FIN. */
static enum tcpw_close_reason derive_reason(const struct tcpw_conn *c, int err)
{
    if (c->reason)
        return (enum tcpw_close_reason)c->reason;
    switch (err) {
    case ECONNREFUSED:
        return TCPW_REASON_REFUSED;
    case ECONNRESET:
    case EPIPE:
        return TCPW_REASON_RESET_RECEIVED;
    case ETIMEDOUT:
        return c->state == TCPW_SYN_SENT ? TCPW_REASON_CONNECT_TIMEOUT
                                          : TCPW_REASON_RETRANSMIT_TIMEOUT;
    default:
        break;
    }
    if (c->simultaneous)
        return TCPW_REASON_SIMULTANEOUS_CLOSE;
    if (c->fin_queued)
        return c->peer_fin_first ? TCPW_REASON_PEER_FIN_FIRST : TCPW_REASON_LOCAL_FIN_FIRST;
    if (c->fin_rcvd)
        return TCPW_REASON_PEER_FIN_FIRST;
    return c->passive && c->state == TCPW_SYN_RECEIVED ? TCPW_REASON_HALF_OPEN_DROPPED
                                                        : TCPW_REASON_ABORTED;
}

void tcpw__conn_report_end(struct tcpw_conn *c, int err, bool time_wait)
{
    struct tcpw_stack *s = c->stack;
    enum tcpw_close_reason reason = derive_reason(c, err);
    struct tcpw_close_info info;

    if (c->sock) {
        c->sock->close_reason = (uint8_t)reason;
        if (c->sock->lingering && c->sock->linger_status == -EINPROGRESS)
            c->sock->linger_status =
                reason == TCPW_REASON_LINGER_TIMEOUT ? -ETIMEDOUT : (err ? -err : 0);
    }
    if (!s->tcp->close_fn)
        return;
    info.fd = c->sock ? c->sock->fd : -1;
    info.laddr = c->node.tuple.laddr;
    info.raddr = c->node.tuple.raddr;
    info.lport = c->node.tuple.lport;
    info.rport = c->node.tuple.rport;
    info.reason = reason;
    info.error = err;
    info.time_wait = time_wait;
    s->tcp->close_fn(s->tcp->close_user, &info);
}

void tcpw__conn_done(struct tcpw_conn *c, int err)
{
    if (c->sock && err) {
        c->sock->error = err;
        c->sock->dead = true;
    }
    if (c->sock && c->fin_rcvd)
        c->sock->eof = true;
    tcpw__conn_report_end(c, err, false);
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
