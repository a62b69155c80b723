/* tcp/ — connection timers: retransmission, persist, delayed ACK, and the
 * orphan FIN_WAIT_2 timeout.
 *
 * RFC 6298 §5 (managing the RTO timer), RFC 9293 §3.8.1 and §3.10.8
 * (retransmission and user timeouts), RFC 1122 §4.2.3.5 (R1/R2: when to
 * give up; Linux's tcp_retries1/2 and tcp_syn_retries), RFC 9293 §3.8.6.1
 * (zero-window probing), §3.8.6.3 (delayed ACK), RFC 5681 §3.1 and RFC 6582
 * (congestion response to a timeout).
 */
#include <errno.h>
#include <stddef.h>

#include "api/sock.h"
#include "tcp/conn.h"
#include "tcp/tcp.h"

#define CONN_OF(timer, field) ((struct tcpw_conn *)((char *)(timer) - offsetof(struct tcpw_conn, field)))

/* Linux's default for tcp_orphan_retries = 0 (tcp_orphan_retries()). */
#define ORPHAN_RETRIES_DEFAULT 8u

static void rtx_expired(struct tcpw_timer *t, uint64_t now);
static void delack_expired(struct tcpw_timer *t, uint64_t now);
static void state_expired(struct tcpw_timer *t, uint64_t now);
static void keepalive_expired(struct tcpw_timer *t, uint64_t now);
static void linger_expired(struct tcpw_timer *t, uint64_t now);

void tcpw__timers_init(struct tcpw_conn *c)
{
    tcpw_timer_init(&c->rtx_timer, rtx_expired);
    tcpw_timer_init(&c->delack_timer, delack_expired);
    tcpw_timer_init(&c->state_timer, state_expired);
    tcpw_timer_init(&c->keepalive_timer, keepalive_expired);
    tcpw_timer_init(&c->linger_timer, linger_expired);
}

void tcpw__timers_cancel(struct tcpw_conn *c)
{
    struct tcpw_wheel *w = &c->stack->wheel;
    tcpw_timer_cancel(w, &c->rtx_timer);
    tcpw_timer_cancel(w, &c->delack_timer);
    tcpw_timer_cancel(w, &c->state_timer);
    tcpw_timer_cancel(w, &c->keepalive_timer);
    tcpw_timer_cancel(w, &c->linger_timer);
}

/* RFC 1122 §4.2.3.6: after keepidle without anything received, probe every
 * keepintvl; keepcnt unanswered probes end the connection (ETIMEDOUT). Like
 * Linux, no probe goes out while data is outstanding: retransmission is
 * already asking the peer, and its own timeout applies. */
void tcpw__keepalive_update(struct tcpw_conn *c)
{
    struct tcpw_stack *s = c->stack;
    const struct tcpw_sock *so = c->sock;

    if (!so || !so->keepalive || !tcpw__state_synchronized(c->state)) {
        tcpw_timer_cancel(&s->wheel, &c->keepalive_timer);
        return;
    }
    if (!tcpw_timer_armed(&c->keepalive_timer))
        tcpw_timer_arm(&s->wheel, &c->keepalive_timer,
                       c->last_rcv + (uint64_t)so->keepidle_s * 1000000u);
}

static void keepalive_expired(struct tcpw_timer *t, uint64_t now)
{
    struct tcpw_conn *c = CONN_OF(t, keepalive_timer);
    struct tcpw_stack *s = c->stack;
    const struct tcpw_sock *so = c->sock;
    uint64_t idle_us, intvl_us;

    if (!so || !so->keepalive)
        return;
    idle_us = (uint64_t)so->keepidle_s * 1000000u;
    intvl_us = (uint64_t)so->keepintvl_s * 1000000u;
    if (tcpw__conn_flight(c) > 0 || !tcpw__state_synchronized(c->state)) {
        tcpw_timer_arm(&s->wheel, &c->keepalive_timer, now + idle_us);
        return;
    }
    if (c->ka_probes == 0 && now < c->last_rcv + idle_us) {
        /* Something arrived since the timer was set: wait the rest. */
        tcpw_timer_arm(&s->wheel, &c->keepalive_timer, c->last_rcv + idle_us);
        return;
    }
    /* TCP_USER_TIMEOUT also bounds keepalive (RFC 5482, Linux). */
    if (c->ka_probes >= so->keepcnt ||
        (so->user_timeout_ms && c->ka_probes > 0 &&
         now - c->last_rcv >= (uint64_t)so->user_timeout_ms * 1000u)) {
        c->reason = c->ka_probes >= so->keepcnt ? TCPW_REASON_KEEPALIVE_TIMEOUT
                                                 : TCPW_REASON_USER_TIMEOUT;
        /* Linux's tcp_keepalive_timer() sends a RST before giving up (in
         * case the peer is only unreachable one way). */
        tcpw__count(s, TCPW_CTR_TCP_ABORT_ON_TIMEOUT);
        tcpw__conn_abort(c, ETIMEDOUT);
        return;
    }
    /* The probe: SND.UNA - 1 with no data, which the peer must ACK
     * (RFC 1122 §4.2.3.6, RFC 9293 §3.8.4). */
    tcpw__send_probe(c);
    c->ka_probes++;
    tcpw_timer_arm(&s->wheel, &c->keepalive_timer, now + intvl_us);
}

/* SO_LINGER with l_linger > 0: the time ran out before everything was
 * acknowledged; tcpwave resets (see tcpw_close in socket.h). */
static void linger_expired(struct tcpw_timer *t, uint64_t now)
{
    struct tcpw_conn *c = CONN_OF(t, linger_timer);
    (void)now;
    if (!c->sock || !c->sock->lingering || c->sock->linger_status != -EINPROGRESS)
        return;
    c->reason = TCPW_REASON_LINGER_TIMEOUT;
    tcpw__count(c->stack, TCPW_CTR_TCP_ABORT_ON_LINGER);
    tcpw__conn_abort(c, ETIMEDOUT);
}

void tcpw__rtx_timer_update(struct tcpw_conn *c, bool restart)
{
    struct tcpw_stack *s = c->stack;
    bool outstanding = tcpw__conn_flight(c) > 0;

    if (c->probing) {
        if (restart || !tcpw_timer_armed(&c->rtx_timer))
            tcpw_timer_arm(&s->wheel, &c->rtx_timer,
                           s->now + tcpw_rtt_rto(&c->rtt, s->cfg.tcp_rto_max_ms * 1000u));
        return;
    }
    if (!outstanding) {
        /* RFC 6298 §5.2: all outstanding data acknowledged: stop the timer. */
        tcpw_timer_cancel(&s->wheel, &c->rtx_timer);
        return;
    }
    /* §5.1: start it if it isn't running; §5.3: restart it when an ACK
     * acknowledges new data. */
    if (restart || !tcpw_timer_armed(&c->rtx_timer))
        tcpw_timer_arm(&s->wheel, &c->rtx_timer,
                       s->now + tcpw_rtt_rto(&c->rtt, s->cfg.tcp_rto_max_ms * 1000u));
}

void tcpw__delack_schedule(struct tcpw_conn *c)
{
    struct tcpw_stack *s = c->stack;
    if (!tcpw_timer_armed(&c->delack_timer))
        tcpw_timer_arm(&s->wheel, &c->delack_timer, s->now + s->cfg.tcp_delack_ms * 1000u);
}

static void delack_expired(struct tcpw_timer *t, uint64_t now)
{
    struct tcpw_conn *c = CONN_OF(t, delack_timer);
    (void)now;
    if (c->ack_pending == 0)
        return;
    tcpw__count(c->stack, TCPW_CTR_DELAYED_ACKS);
    tcpw__send_ack(c);
}

/* Whether this timeout ends the connection (RFC 1122 §4.2.3.5 R2). SYNs
 * count retransmissions (tcp_syn_retries / tcp_synack_retries, 1 s doubling:
 * 127 s for 6); established connections use Linux's time-based rule: give up
 * when the time since the head segment was sent reaches what `retries2`
 * retransmissions from rto_min would take (924.6 s for 15). */
static bool rtx_give_up(struct tcpw_conn *c, uint64_t now)
{
    const struct tcpw_config *cfg = &c->stack->cfg;
    uint32_t limit;

    switch (c->state) {
    case TCPW_SYN_SENT:
        return c->retransmits >= cfg->tcp_syn_retries;
    case TCPW_SYN_RECEIVED:
        return c->retransmits >= cfg->tcp_synack_retries;
    default:
        break;
    }
    /* RFC 5482 / Linux TCP_USER_TIMEOUT: the application's bound on how
     * long data may stay unacknowledged replaces the retry count. */
    if (c->sock && c->sock->user_timeout_ms) {
        if (now - c->retrans_stamp >= (uint64_t)c->sock->user_timeout_ms * 1000u) {
            c->reason = TCPW_REASON_USER_TIMEOUT;
            return true;
        }
        return false;
    }
    limit = cfg->tcp_retries2;
    if (!c->sock && !c->listener)
        limit = cfg->tcp_orphan_retries ? cfg->tcp_orphan_retries : ORPHAN_RETRIES_DEFAULT;
    if (c->retransmits < limit)
        return false;
    return now - c->retrans_stamp >=
           tcpw_rtt_give_up_time(limit, cfg->tcp_rto_min_ms * 1000u, cfg->tcp_rto_max_ms * 1000u);
}

static void rtx_expired(struct tcpw_timer *t, uint64_t now)
{
    struct tcpw_conn *c = CONN_OF(t, rtx_timer);
    struct tcpw_stack *s = c->stack;

    if (c->probing) {
        /* RFC 9293 §3.8.6.1 / RFC 1122 §4.2.2.17: probe the zero window.
         * Like Linux, the probe is an old sequence number (SND.UNA - 1) with
         * no data, which the peer must answer with an ACK showing its window. */
        if (c->retransmits >= s->cfg.tcp_retries2) {
            tcpw__count(s, TCPW_CTR_TCP_ABORT_ON_TIMEOUT);
            tcpw__conn_done(c, ETIMEDOUT); /* no RST, as Linux's tcp_probe_timer() */
            return;
        }
        c->retransmits++;
        tcpw_rtt_on_timeout(&c->rtt);
        tcpw__send_probe(c);
        tcpw__rtx_timer_update(c, true);
        return;
    }
    if (tcpw__conn_flight(c) == 0)
        return;
    if (c->retransmits == 0)
        c->retrans_stamp = now - tcpw_rtt_rto(&c->rtt, s->cfg.tcp_rto_max_ms * 1000u);
    if (rtx_give_up(c, now)) {
        if (c->state == TCPW_SYN_RECEIVED && c->passive) {
            /* A half-open passive connection just goes away (Linux sends
             * nothing and keeps listening). */
            c->reason = TCPW_REASON_HALF_OPEN_DROPPED;
            tcpw__conn_done(c, 0);
            return;
        }
        /* Like Linux's tcp_write_err(): the peer has not answered for
         * minutes, so no RST is sent into the void; the error is reported. */
        tcpw__count(s, TCPW_CTR_TCP_ABORT_ON_TIMEOUT);
        if (c->soft_error && c->state != TCPW_SYN_SENT) {
            /* RFC 1122 §4.2.3.9: the soft error explains the timeout
             * better than ETIMEDOUT does (Linux: sk_err_soft). */
            c->reason = TCPW_REASON_ICMP_ERROR;
            tcpw__conn_done(c, c->soft_error);
            return;
        }
        tcpw__conn_done(c, ETIMEDOUT);
        return;
    }
    tcpw__count(s, TCPW_CTR_TCP_TIMEOUTS);
    /* RFC 5681 §3.1: on the first timeout of a series ssthresh halves the
     * flight; every timeout drops cwnd to one segment. */
    if (c->retransmits == 0)
        tcpw_cc_on_timeout(&c->cc, tcpw__conn_flight(c), c->snd_max);
    else
        c->cc.cwnd = c->cc.mss;
    c->retransmits++;
    /* RFC 1122 §4.2.3.5: past R1 the IP layer should be told the path may
     * be bad; tcpwave has no routing cache to refresh, so it reports the
     * crossing (once per series) for the user to see. */
    if (c->retransmits == s->cfg.tcp_retries1 && c->state != TCPW_SYN_SENT &&
        c->state != TCPW_SYN_RECEIVED)
        tcpw__count(s, TCPW_CTR_TCP_RETRIES1_EXCEEDED);
    tcpw_rtt_on_timeout(&c->rtt);
    c->rtt_timing = false; /* Karn: no sample across a retransmission */
    c->dupacks = 0;
    /* Go back: everything from SND.UNA is sent again as the window allows;
     * segments below snd_max count as retransmissions. */
    c->snd_nxt = c->snd_una;
    c->snd_nxt = c->snd_una + tcpw__retransmit_first(c);
    tcpw__rtx_timer_update(c, true);
}

static void state_expired(struct tcpw_timer *t, uint64_t now)
{
    struct tcpw_conn *c = CONN_OF(t, state_timer);
    (void)now;
    /* An orphan waited tcp_fin_timeout in FIN_WAIT_2 for a FIN that did not
     * come (Linux: net.ipv4.tcp_fin_timeout). It goes away quietly. */
    if (c->state == TCPW_FIN_WAIT_2 && !c->sock) {
        c->reason = TCPW_REASON_ORPHAN_FIN_TIMEOUT;
        tcpw__conn_done(c, 0);
    }
}
