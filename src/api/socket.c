/* api/ — the socket calls (include/tcpwave/socket.h).
 *
 * RFC 9293 §3.10.1–3.10.6 (OPEN, SEND, RECEIVE, CLOSE, ABORT, STATUS as
 * user calls), RFC 2525 §2.17 (close with unread data resets), RFC 6056
 * (ephemeral ports), Linux's socket semantics for what the RFC leaves open.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/sock.h"
#include "tcp/isn.h"

/* Linux's SO_SNDBUF/SO_RCVBUF floors. */
#define SOCK_MIN_SNDBUF 4608u
#define SOCK_MIN_RCVBUF 2304u
#define SOCK_MAX_BUF (64u << 20)

struct tcpw_sock *tcpw__sock_get(struct tcpw_stack *s, int fd)
{
    if (fd < 0 || (size_t)fd >= s->tcp->nsocks)
        return NULL;
    return s->tcp->socks[fd];
}

struct tcpw_sock *tcpw__sock_new(struct tcpw_stack *s)
{
    struct tcpw_tcp_state *t = s->tcp;
    struct tcpw_sock *so;
    size_t fd;

    for (fd = 0; fd < t->nsocks; fd++)
        if (!t->socks[fd])
            break;
    if (fd == t->nsocks) {
        size_t n = t->nsocks ? t->nsocks * 2 : 16;
        struct tcpw_sock **grown;
        if (n > (size_t)INT32_MAX)
            return NULL;
        grown = realloc(t->socks, n * sizeof(*grown));
        if (!grown)
            return NULL;
        memset(grown + t->nsocks, 0, (n - t->nsocks) * sizeof(*grown));
        t->socks = grown;
        t->nsocks = n;
    }
    so = calloc(1, sizeof(*so));
    if (!so)
        return NULL;
    so->fd = (int)fd;
    so->stack = s;
    so->last_state = TCPW_CLOSED;
    so->sndbuf = s->cfg.tcp_wmem_default;
    so->rcvbuf = s->cfg.tcp_rmem_default;
    so->keepidle_s = s->cfg.tcp_keepalive_time_ms / 1000u;
    so->keepintvl_s = s->cfg.tcp_keepalive_intvl_ms / 1000u;
    so->keepcnt = s->cfg.tcp_keepalive_probes;
    t->socks[fd] = so;
    return so;
}

static void wake_list_remove(struct tcpw_stack *s, struct tcpw_sock *so)
{
    struct tcpw_sock **pp;
    if (!so->wake_pending)
        return;
    for (pp = &s->tcp->wake_head; *pp; pp = &(*pp)->wake_next) {
        if (*pp == so) {
            *pp = so->wake_next;
            break;
        }
    }
    so->wake_pending = false;
}

static void listener_free(struct tcpw_stack *s, struct tcpw_listener *l)
{
    struct tcpw_listener **pp;
    for (pp = &s->tcp->listeners; *pp; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    }
    free(l);
}

static void bound_ports_set(struct tcpw_stack *s, uint16_t port, bool held)
{
    uint64_t bit = 1ull << (port & 63);
    if (held)
        s->tcp->bound_ports[port >> 6] |= bit;
    else
        s->tcp->bound_ports[port >> 6] &= ~bit;
}

static void sock_free(struct tcpw_stack *s, struct tcpw_sock *so)
{
    wake_list_remove(s, so);
    if (so->bound)
        bound_ports_set(s, so->lport, false);
    if (so->listener)
        listener_free(s, so->listener);
    s->tcp->socks[so->fd] = NULL;
    tcpw_rcvbuf_fini(&so->leftover);
    free(so);
}

void tcpw__socks_destroy(struct tcpw_stack *s)
{
    struct tcpw_tcp_state *t = s->tcp;
    for (size_t fd = 0; fd < t->nsocks; fd++)
        if (t->socks[fd])
            sock_free(s, t->socks[fd]);
    free(t->socks);
    t->socks = NULL;
    t->nsocks = 0;
}

struct tcpw_listener *tcpw__listener_find(struct tcpw_stack *s, uint32_t addr, uint16_t port)
{
    for (struct tcpw_listener *l = s->tcp->listeners; l; l = l->next)
        if (l->port == port && (l->addr == 0 || l->addr == addr))
            return l;
    return NULL;
}

/* Whether a bound (or listening) socket holds local port `port`: O(1),
 * from the bitmap bind() and sock_free() keep. Sockets of accepted or
 * connect()-picked connections are not bound; their live connections hold
 * the port (tcpw__holds_conn_on, or the 4-tuple in connect). */
static bool sock_holds_port(const struct tcpw_stack *s, uint16_t port)
{
    return (s->tcp->bound_ports[port >> 6] >> (port & 63)) & 1u;
}

/* bind(0): a port nobody holds, from the bound-port bitmap and the per-port
 * counts of live connections (orphans included) and TIME_WAIT records
 * (tcp/port_holds): O(1). */
static bool bind_port_free(void *user, uint16_t port)
{
    struct tcpw_stack *s = user;
    return !sock_holds_port(s, port) && !tcpw__holds_conn_on(s, port) &&
           !tcpw__holds_tw_on(s, port);
}

/* bind(0) jumps over ports that a socket, connection or record holds. */
static uint32_t bind_port_skip(void *user, uint32_t index, uint32_t left)
{
    struct tcpw_stack *s = user;
    return tcpw__holds_skip_any(s, s->tcp->bound_ports, index, left);
}

int tcpw_socket(struct tcpw_stack *s)
{
    struct tcpw_sock *so = tcpw__sock_new(s);
    return so ? so->fd : -ENOMEM;
}

int tcpw_bind(struct tcpw_stack *s, int fd, uint32_t addr, uint16_t port)
{
    struct tcpw_sock *so = tcpw__sock_get(s, fd);

    if (!so)
        return -EBADF;
    if (so->bound || so->conn || so->listener)
        return -EINVAL;
    if (addr != 0 && addr != s->addr)
        return -EADDRNOTAVAIL;
    if (port == 0) {
        const struct tcpw_port_probe probe = {bind_port_free, bind_port_skip, s};
        int err = tcpw_port_pick(&s->tcp->ports, s->addr, 0, 0,
                                 (uint16_t)s->cfg.ip_local_port_range_min,
                                 (uint16_t)s->cfg.ip_local_port_range_max, &probe, &port);
        if (err)
            return err;
    } else if (sock_holds_port(s, port)) {
        return -EADDRINUSE;
    }
    so->bound = true;
    bound_ports_set(s, port, true);
    so->laddr = s->addr;
    so->lport = port;
    return 0;
}

int tcpw_listen(struct tcpw_stack *s, int fd, int backlog)
{
    struct tcpw_sock *so = tcpw__sock_get(s, fd);
    struct tcpw_listener *l;
    int err;

    if (!so)
        return -EBADF;
    if (so->conn || so->connected_once)
        return -EINVAL;
    /* Linux clamps to [0, somaxconn]; the accept queue is full when it
     * holds more than the backlog (sk_acceptq_is_full), so listen(0) still
     * queues one connection. */
    if (backlog < 0)
        backlog = 0;
    if ((uint32_t)backlog > s->cfg.somaxconn)
        backlog = (int)s->cfg.somaxconn;
    if (so->listener) {
        so->listener->backlog = (uint32_t)backlog; /* listen() again resizes */
        return 0;
    }
    if (!so->bound) {
        err = tcpw_bind(s, fd, 0, 0);
        if (err)
            return err;
    }
    /* Linux refuses to listen on a port that live connections or, without
     * SO_REUSEADDR, TIME_WAIT records still hold. */
    if (tcpw__holds_conn_on(s, so->lport) || (!so->reuseaddr && tcpw__holds_tw_on(s, so->lport)))
        return -EADDRINUSE;
    l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->sock = so;
    l->addr = 0;
    l->port = so->lport;
    l->backlog = (uint32_t)backlog;
    l->next = s->tcp->listeners;
    s->tcp->listeners = l;
    so->listener = l;
    so->last_state = TCPW_LISTEN;
    return 0;
}

int tcpw_accept(struct tcpw_stack *s, int fd, uint32_t *addr, uint16_t *port)
{
    struct tcpw_sock *so = tcpw__sock_get(s, fd), *ns;
    struct tcpw_listener *l;
    struct tcpw_conn *c;

    if (!so)
        return -EBADF;
    l = so->listener;
    if (!l)
        return -EINVAL;
    c = l->accept_head;
    if (!c)
        return -EAGAIN;
    ns = tcpw__sock_new(s);
    if (!ns)
        return -ENOMEM;
    l->accept_head = c->accept_next;
    if (!l->accept_head)
        l->accept_tail = NULL;
    l->accept_count--;
    c->accept_next = NULL;
    c->in_accept_queue = false;
    c->listener = NULL;
    c->sock = ns;
    ns->conn = c;
    ns->bound = false; /* the port belongs to the listener */
    ns->laddr = c->node.tuple.laddr;
    ns->lport = c->node.tuple.lport;
    ns->raddr = c->node.tuple.raddr;
    ns->rport = c->node.tuple.rport;
    ns->connected_once = true;
    ns->nodelay = so->nodelay;
    ns->sndbuf = so->sndbuf;
    ns->rcvbuf = so->rcvbuf;
    if (c->fin_rcvd)
        ns->eof = true;
    if (addr)
        *addr = ns->raddr;
    if (port)
        *port = ns->rport;
    return ns->fd;
}

struct connect_pick {
    struct tcpw_stack *s;
    struct tcpw_tuple tuple;
    struct tcpw_busy_dest *busy;       /* the destination's bitmap, if busy */
    uint32_t held_here;                /* ports found held toward it */
};

static bool connect_port_free(void *user, uint16_t port)
{
    struct connect_pick *p = user;
    struct tcpw_tuple t = p->tuple;

    t.lport = port;
    /* A 4-tuple is free when no connection, listener or explicitly bound
     * socket has it (RFC 6056 §2.1), and no TIME_WAIT record either unless
     * tcp_tw_reuse lets the new connection take the record over. Like
     * Linux's __inet_hash_connect() the first port whose tuple is unique or
     * reusable wins: free ports are not preferred over reusable ones. Every
     * check is O(1): the tuple tables are hashed, and a listener's socket is
     * always bound (listen() binds first), so the bound-port bitmap covers
     * listeners too. */
    if (sock_holds_port(p->s, port))
        return false;
    const struct tcpw_tw *tw = NULL;
    if (tcpw__conn_find(p->s, &t) || ((tw = tcpw__tw_find(p->s, &t)) && !tcpw__tw_reusable(p->s, tw))) {
        p->held_here++;
        if (p->busy)
            tcpw__holds_busy_learn(p->s, p->busy, port);
        return false;
    }
    return true;
}

/* A busy destination's walk jumps over the runs its bitmap and the bound
 * ports show held (tcp/port_holds.h): the same port as probing each. */
static uint32_t connect_port_skip(void *user, uint32_t index, uint32_t left)
{
    struct connect_pick *p = user;
    return tcpw__holds_skip_dest(p->s, p->busy, p->s->tcp->bound_ports, index, left);
}

/* RFC 6056 Algorithm 3 toward the pick's destination; O(1) on average
 * however much of the range is held, once the destination is busy. */
static int connect_pick_port(struct tcpw_stack *s, struct connect_pick *pick)
{
    const struct tcpw_tuple *u = &pick->tuple;
    /* A held port may be one tcp_tw_reuse takes over: then every record met
     * must be judged, and the bitmap (held or not) cannot answer. */
    bool reuse = tcpw__tw_reuse_applies(s, u->laddr, u->raddr);
    struct tcpw_port_probe probe = {connect_port_free, NULL, pick};
    uint16_t lo = (uint16_t)s->cfg.ip_local_port_range_min;
    uint16_t hi = (uint16_t)s->cfg.ip_local_port_range_max;
    uint32_t before = s->tcp->ports.next_ephemeral, walked, num;
    int err;

    pick->busy = reuse ? NULL : tcpw__holds_busy_find(s, u->laddr, u->raddr, u->rport);
    if (pick->busy)
        probe.skip = connect_port_skip;
    pick->held_here = 0;
    err = tcpw_port_pick(&s->tcp->ports, u->laddr, u->raddr, u->rport, lo, hi, &probe,
                         &pick->tuple.lport);
    if (reuse || pick->busy || pick->held_here < TCPW_BUSY_BUILD)
        return err;
    /* A long walk: track this destination from now on (best effort), and
     * keep what the walk found. Every position it passed was held by a
     * bound socket or toward this destination; the walk ended on the port
     * picked, or went round the whole range. */
    pick->busy = tcpw__holds_busy_build(s, u->laddr, u->raddr, u->rport);
    walked = s->tcp->ports.next_ephemeral - before - (err ? 0u : 1u);
    num = (uint32_t)hi - lo + 1u;
    for (uint32_t k = 1; pick->busy && k <= walked; k++) {
        uint16_t port = err ? (uint16_t)(lo + k - 1u)
                            : (uint16_t)(lo + ((uint32_t)pick->tuple.lport - lo + num - k % num) % num);
        if (!sock_holds_port(s, port))
            tcpw__holds_busy_learn(s, pick->busy, port);
    }
    return err;
}

int tcpw_connect(struct tcpw_stack *s, int fd, uint32_t addr, uint16_t port)
{
    struct tcpw_sock *so = tcpw__sock_get(s, fd);
    struct connect_pick pick;
    struct tcpw_conn *c;
    struct tcpw_tw *reused;
    uint32_t iss;
    int err;

    if (!so)
        return -EBADF;
    if (so->listener)
        return -EINVAL;
    if (so->conn)
        return so->conn->state == TCPW_SYN_SENT ? -EALREADY : -EISCONN;
    if (so->connected_once)
        return -EISCONN;
    if (addr == 0 || addr == UINT32_MAX || port == 0)
        return -EINVAL;
    /* RFC 9293 §3.4.3 quiet time (tcp_quiet_time): no new sequence numbers
     * for MSL after start. EAGAIN, not a blocking wait: the stack never
     * sleeps, the caller retries (docs/states/TIME_WAIT.md). */
    if (tcpw__tw_quiet(s))
        return -EAGAIN;
    pick.s = s;
    pick.tuple.laddr = s->addr;
    pick.tuple.raddr = addr;
    pick.tuple.rport = port;
    if (so->bound) {
        pick.tuple.lport = so->lport;
        /* A connection from a bound port: the 4-tuple must be unique, or
         * held by a TIME_WAIT record that tcp_tw_reuse lets us take over
         * (Linux's __inet_check_established()). Linux passes no twp here
         * and so takes over any record with timestamps whatever
         * tcp_tw_reuse says; tcpwave applies the same rule on both paths
         * (docs/states/TIME_WAIT.md). */
        const struct tcpw_tw *tw;
        if (tcpw__conn_find(s, &pick.tuple))
            return -EADDRNOTAVAIL;
        tw = tcpw__tw_find(s, &pick.tuple);
        if (tw && !tcpw__tw_reusable(s, tw))
            return -EADDRNOTAVAIL;
    } else {
        err = connect_pick_port(s, &pick);
        if (err)
            return err;
    }
    c = tcpw__conn_create(s, &pick.tuple, so->sndbuf, so->rcvbuf);
    if (!c)
        return -ENOMEM;
    /* A TIME_WAIT record left on the chosen tuple is reusable (checked
     * above): the new connection takes it over. */
    reused = tcpw__tw_find(s, &pick.tuple);
    if (reused) {
        /* Linux's tcp_twsk_unique() also carries TS.Recent over; the
         * SYN,ACK replaces it. The timestamp clock continues by itself
         * (ts_offset is per address pair), so our TSvals are newer than
         * any the old connection sent. */
        uint64_t age_us = (uint64_t)tcpw__tw_ts_recent_age_s(s, reused) * 1000000u;
        c->ts_recent = reused->ts_recent;
        c->ts_recent_age = s->now > age_us ? s->now - age_us : 0;
        iss = tcpw__tw_take_over(s, reused);
    } else {
        iss = tcpw_isn(s->tcp->secret, &pick.tuple, s->now);
    }
    c->sock = so;
    c->nodelay = so->nodelay;
    so->conn = c;
    so->laddr = pick.tuple.laddr;
    so->lport = pick.tuple.lport;
    so->raddr = addr;
    so->rport = port;
    c->iss = iss;
    c->snd_una = c->snd_nxt = c->snd_max = c->iss;
    c->adv_mss = tcpw__our_mss(s, so->maxseg);
    c->mss = c->adv_mss;
    c->rcv_wscale = s->cfg.tcp_window_scaling ? tcpw__wscale_for(c->rcv.cap) : 0;
    c->rtt_start = s->now;
    tcpw__set_state(c, TCPW_SYN_SENT);
    tcpw__send_syn(c);
    tcpw__rtx_timer_update(c, true);
    tcpw__dispatch_events(s);
    return -EINPROGRESS;
}

/* Reports a pending error once (SO_ERROR semantics), or 0. */
static int take_error(struct tcpw_sock *so)
{
    int err = so->error;
    so->error = 0;
    return err ? -err : 0;
}

ssize_t tcpw_send(struct tcpw_stack *s, int fd, const void *buf, size_t len)
{
    struct tcpw_sock *so = tcpw__sock_get(s, fd);
    struct tcpw_conn *c;
    size_t taken;
    int err;

    if (!so)
        return -EBADF;
    if (!buf && len)
        return -EINVAL;
    err = take_error(so);
    if (err)
        return err;
    if (so->wr_shut || so->dead)
        return -EPIPE;
    c = so->conn;
    if (!c)
        return so->connected_once ? -EPIPE : -ENOTCONN;
    if (c->state == TCPW_SYN_SENT || c->state == TCPW_SYN_RECEIVED)
        return -EAGAIN;
    if (!tcpw__state_can_send(c->state))
        return -EPIPE;
    if (len == 0)
        return 0;
    taken = tcpw_sndbuf_append(&c->snd, buf, len);
    if (taken == 0)
        return -EAGAIN;
    tcpw__output(c);
    tcpw__dispatch_events(s);
    return (ssize_t)taken;
}

ssize_t tcpw_recv(struct tcpw_stack *s, int fd, void *buf, size_t len, int flags)
{
    struct tcpw_sock *so = tcpw__sock_get(s, fd);
    struct tcpw_conn *c;
    size_t n;

    if (!so)
        return -EBADF;
    if (!buf && len)
        return -EINVAL;
    c = so->conn;
    if (!c && so->leftover.readable) {
        if (flags & TCPW_MSG_PEEK)
            return (ssize_t)tcpw_rcvbuf_peek(&so->leftover, buf, len);
        return (ssize_t)tcpw_rcvbuf_read(&so->leftover, buf, len);
    }
    if (c && c->rcv.readable) {
        if (flags & TCPW_MSG_PEEK)
            return (ssize_t)tcpw_rcvbuf_peek(&c->rcv, buf, len);
        n = tcpw_rcvbuf_read(&c->rcv, buf, len);
        /* RFC 9293 §3.8.6.2.2: tell the peer when reading opened the window
         * by enough to matter (tcpw__rcv_window applies the SWS rule). */
        if (tcpw__state_synchronized(c->state) &&
            seq_gt(c->rcv_nxt + tcpw__rcv_window(c), c->rcv_adv))
            tcpw__send_ack(c);
        tcpw__dispatch_events(s);
        return (ssize_t)n;
    }
    if (so->error)
        return take_error(so);
    if (so->eof || so->rd_shut)
        return 0;
    if (!c)
        return so->connected_once ? 0 : -ENOTCONN;
    return -EAGAIN;
}

int tcpw_shutdown(struct tcpw_stack *s, int fd, int how)
{
    struct tcpw_sock *so = tcpw__sock_get(s, fd);
    struct tcpw_conn *c;

    if (!so)
        return -EBADF;
    if (how != TCPW_SHUT_RD && how != TCPW_SHUT_WR && how != TCPW_SHUT_RDWR)
        return -EINVAL;
    c = so->conn;
    if (!c || c->state == TCPW_SYN_SENT)
        return -ENOTCONN;
    if (how == TCPW_SHUT_RD || how == TCPW_SHUT_RDWR) {
        so->rd_shut = true;
        c->rd_shut = true;
        tcpw_rcvbuf_clear(&c->rcv);
    }
    if (how == TCPW_SHUT_WR || how == TCPW_SHUT_RDWR) {
        so->wr_shut = true;
        tcpw__conn_shutdown_write(c);
    }
    tcpw__sock_wake(so);
    tcpw__dispatch_events(s);
    return 0;
}

/* Closing a listener resets what it had not handed out yet (Linux's
 * inet_csk_listen_stop). */
static void listener_close(struct tcpw_stack *s, struct tcpw_listener *l)
{
    struct tcpw_tuple_table *t = &s->tcp->conns;
    bool again = true;

    while (again) {
        again = false;
        for (size_t b = 0; b < tcpw_tuple_table_chains(t) && !again; b++) {
            for (struct tcpw_tuple_node *n = tcpw_tuple_table_chain(t, b); n; n = n->next) {
                struct tcpw_conn *c = (struct tcpw_conn *)n;
                if (c->listener == l) {
                    tcpw__conn_abort(c, 0);
                    again = true; /* the table changed under us */
                    break;
                }
            }
        }
    }
}

/* The application lets go of a connection that goes on closing by itself:
 * it becomes an orphan (Linux: sock_orphan()), bounded by tcp_max_orphans
 * (beyond it, reset: TCPAbortOnMemory) and, in FIN_WAIT_2, by
 * tcp_fin_timeout. */
static void orphan_conn(struct tcpw_stack *s, struct tcpw_sock *so, struct tcpw_conn *c)
{
    c->rd_shut = true;
    c->sock = NULL;
    so->conn = NULL;
    s->tcp->orphans++;
    tcpw_timer_cancel(&s->wheel, &c->linger_timer);
    tcpw_timer_cancel(&s->wheel, &c->keepalive_timer);
    if (s->tcp->orphans > s->cfg.tcp_max_orphans) {
        tcpw__count(s, TCPW_CTR_TCP_ABORT_ON_MEMORY);
        c->reason = TCPW_REASON_ORPHAN_OVERFLOW;
        tcpw__conn_abort(c, 0);
        return;
    }
    tcpw__conn_shutdown_write(c);
    if (c->state == TCPW_FIN_WAIT_2 && s->cfg.tcp_fin_timeout_ms)
        tcpw_timer_arm(&s->wheel, &c->state_timer,
                       s->now + (uint64_t)s->cfg.tcp_fin_timeout_ms * 1000u);
}

int tcpw_close(struct tcpw_stack *s, int fd)
{
    struct tcpw_sock *so = tcpw__sock_get(s, fd);
    struct tcpw_conn *c;
    int status = 0;

    if (!so)
        return -EBADF;
    c = so->conn;
    if (so->lingering) {
        /* The second close of a lingering socket releases it. If the linger
         * is still running, it is abandoned and the close goes on in the
         * background as an ordinary orphan. */
        status = so->linger_status == -EINPROGRESS ? 0 : so->linger_status;
        if (c)
            orphan_conn(s, so, c);
        sock_free(s, so);
        tcpw__dispatch_events(s);
        return status;
    }
    if (so->listener)
        listener_close(s, so->listener);
    if (c) {
        if (c->state == TCPW_SYN_SENT) {
            /* RFC 9293 §3.10.4 SYN-SENT: "Delete the TCB". */
            c->reason = TCPW_REASON_ABORTED;
            tcpw__conn_done(c, 0);
        } else if (c->rcv.readable && !c->rd_shut) {
            /* RFC 2525 §2.17 / RFC 9293 §3.10.4 note: data the application
             * never read is lost, so the peer must not believe it delivered:
             * reset instead of FIN (Linux: TCPAbortOnClose). */
            tcpw__count(s, TCPW_CTR_TCP_ABORT_ON_CLOSE);
            c->reason = TCPW_REASON_UNREAD_DATA;
            tcpw__conn_abort(c, 0);
        } else if (so->linger.l_onoff && so->linger.l_linger == 0) {
            /* SO_LINGER 0: discard the send queue and reset, whatever is
             * queued (Linux's tcp_disconnect(); the seed's "normal close when
             * nothing is discarded" is not what Linux does). No TIME_WAIT. */
            tcpw__count(s, TCPW_CTR_TCP_ABORT_ON_LINGER);
            c->reason = TCPW_REASON_LINGER_ABORT;
            tcpw__conn_abort(c, 0);
        } else if (so->linger.l_onoff && c->state != TCPW_FIN_WAIT_2) {
            /* SO_LINGER > 0: a graceful close the descriptor waits for. */
            so->lingering = true;
            so->linger_status = -EINPROGRESS;
            so->rd_shut = so->wr_shut = true;
            c->rd_shut = true;
            tcpw_timer_arm(&s->wheel, &c->linger_timer,
                           s->now + (uint64_t)so->linger.l_linger * 1000000u);
            tcpw__conn_shutdown_write(c);
            tcpw__sock_wake(so);
            tcpw__dispatch_events(s);
            return so->linger_status == -EINPROGRESS ? -EINPROGRESS : tcpw_close(s, fd);
        } else {
            orphan_conn(s, so, c);
        }
    }
    sock_free(s, so);
    tcpw__dispatch_events(s);
    return 0;
}

int tcpw_close_status(struct tcpw_stack *s, int fd)
{
    struct tcpw_sock *so = tcpw__sock_get(s, fd);
    if (!so)
        return -EBADF;
    if (!so->lingering)
        return -EINVAL;
    return so->linger_status;
}

int tcpw_close_blocking(struct tcpw_stack *s, int fd, int (*drive)(void *user), void *user)
{
    int r = tcpw_close(s, fd);

    if (r != -EINPROGRESS)
        return r;
    while (tcpw_close_status(s, fd) == -EINPROGRESS) {
        if (!drive || drive(user) != 0) {
            tcpw_close(s, fd);
            return -EIO;
        }
    }
    return tcpw_close(s, fd);
}

unsigned tcpw__sock_events(const struct tcpw_sock *so)
{
    const struct tcpw_conn *c = so->conn;
    unsigned ev = 0;

    if (so->listener)
        return so->listener->accept_count ? TCPW_POLLIN : 0;
    if (so->error)
        ev |= TCPW_POLLERR;
    if (so->lingering && so->linger_status != -EINPROGRESS)
        ev |= TCPW_POLLHUP; /* the lingering close has completed */
    if (c) {
        if (c->rcv.readable || so->eof || so->rd_shut)
            ev |= TCPW_POLLIN;
        if (so->eof)
            ev |= TCPW_POLLRDHUP;
        if (tcpw__state_can_send(c->state) && !so->wr_shut && tcpw_sndbuf_space(&c->snd) > 0)
            ev |= TCPW_POLLOUT;
        if (so->eof && so->wr_shut)
            ev |= TCPW_POLLHUP;
    } else if (so->connected_once || so->error || so->dead || so->leftover.readable) {
        /* The connection is over: reads give EOF or the error, writes EPIPE. */
        ev |= TCPW_POLLIN | TCPW_POLLOUT | TCPW_POLLHUP;
        if (so->eof)
            ev |= TCPW_POLLRDHUP;
    }
    return ev;
}

unsigned tcpw_poll(struct tcpw_stack *s, int fd)
{
    struct tcpw_sock *so = tcpw__sock_get(s, fd);
    return so ? tcpw__sock_events(so) : 0;
}

int tcpw_sock_state(struct tcpw_stack *s, int fd)
{
    struct tcpw_sock *so = tcpw__sock_get(s, fd);
    if (!so)
        return -EBADF;
    if (so->conn)
        return (int)so->conn->state;
    return (int)so->last_state;
}

int tcpw_getsockname(struct tcpw_stack *s, int fd, uint32_t *addr, uint16_t *port)
{
    struct tcpw_sock *so = tcpw__sock_get(s, fd);
    if (!so)
        return -EBADF;
    if (addr)
        *addr = so->bound || so->connected_once || so->conn ? so->laddr : 0;
    if (port)
        *port = so->lport;
    return 0;
}

int tcpw_getpeername(struct tcpw_stack *s, int fd, uint32_t *addr, uint16_t *port)
{
    struct tcpw_sock *so = tcpw__sock_get(s, fd);
    if (!so)
        return -EBADF;
    if (!so->conn || so->conn->state == TCPW_SYN_SENT)
        return -ENOTCONN;
    if (addr)
        *addr = so->raddr;
    if (port)
        *port = so->rport;
    return 0;
}

int tcpw_conn_info(struct tcpw_stack *s, int fd, struct tcpw_conn_info *info)
{
    struct tcpw_sock *so = tcpw__sock_get(s, fd);
    const struct tcpw_conn *c;

    if (!so)
        return -EBADF;
    c = so->conn;
    if (!c)
        return -ENOTCONN;
    memset(info, 0, sizeof(*info));
    info->state = c->state;
    info->laddr = c->node.tuple.laddr;
    info->raddr = c->node.tuple.raddr;
    info->lport = c->node.tuple.lport;
    info->rport = c->node.tuple.rport;
    info->iss = c->iss;
    info->irs = c->irs;
    info->snd_una = c->snd_una;
    info->snd_nxt = c->snd_nxt;
    info->rcv_nxt = c->rcv_nxt;
    info->snd_wnd = c->snd_wnd;
    info->rcv_wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    info->mss = c->mss;
    info->snd_wscale = c->snd_wscale;
    info->rcv_wscale = c->rcv_wscale;
    info->ts_ok = c->ts_ok;
    info->sack_ok = c->sack_ok;
    info->srtt_us = c->rtt.srtt_us;
    info->rto_us = (uint32_t)tcpw_rtt_rto(&c->rtt, s->cfg.tcp_rto_max_ms * 1000u);
    info->cwnd = c->cc.cwnd;
    info->ssthresh = c->cc.ssthresh;
    info->unacked = (uint32_t)(seq_gt(c->snd_nxt, tcpw__data_start(c))
                                   ? c->snd_nxt - tcpw__data_start(c)
                                   : 0);
    if (info->unacked > c->snd.len)
        info->unacked = (uint32_t)c->snd.len;
    info->unsent = (uint32_t)c->snd.len - info->unacked;
    info->readable = (uint32_t)c->rcv.readable;
    info->retransmits = c->retransmits;
    info->total_retrans = c->total_retrans;
    info->orphan = false;
    return 0;
}

void tcpw_state_counts(const struct tcpw_stack *s, uint64_t counts[TCPW_STATE_COUNT])
{
    memcpy(counts, s->tcp->state_counts, sizeof(s->tcp->state_counts));
}
