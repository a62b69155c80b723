/* tcp/ — connection states (RFC 9293 §3.3.2, Figure 5).
 *
 * tcpw__set_state() is the one place a state changes; it keeps the
 * per-state counts and the MIB counters whose definitions are transitions
 * (RFC 1213 tcpActiveOpens, tcpPassiveOpens, tcpAttemptFails,
 * tcpEstabResets, tcpCurrEstab).
 */
#include <errno.h>

#include "api/sock.h"
#include "tcp/conn.h"
#include "tcp/tcp.h"

const char *tcpw_state_name(enum tcpw_state st)
{
    static const char *const names[TCPW_STATE_COUNT] = {
        [TCPW_CLOSED] = "CLOSED",           [TCPW_LISTEN] = "LISTEN",
        [TCPW_SYN_SENT] = "SYN_SENT",       [TCPW_SYN_RECEIVED] = "SYN_RECEIVED",
        [TCPW_ESTABLISHED] = "ESTABLISHED", [TCPW_FIN_WAIT_1] = "FIN_WAIT_1",
        [TCPW_FIN_WAIT_2] = "FIN_WAIT_2",   [TCPW_CLOSE_WAIT] = "CLOSE_WAIT",
        [TCPW_CLOSING] = "CLOSING",         [TCPW_LAST_ACK] = "LAST_ACK",
        [TCPW_TIME_WAIT] = "TIME_WAIT",
    };
    return (unsigned)st < TCPW_STATE_COUNT ? names[st] : "?";
}

bool tcpw__state_can_send(enum tcpw_state st)
{
    switch (st) {
    case TCPW_ESTABLISHED:
    case TCPW_CLOSE_WAIT:
        return true;
    default:
        return false;
    }
}

bool tcpw__state_can_receive(enum tcpw_state st)
{
    switch (st) {
    case TCPW_SYN_RECEIVED:
    case TCPW_ESTABLISHED:
    case TCPW_FIN_WAIT_1:
    case TCPW_FIN_WAIT_2:
        return true;
    default:
        return false;
    }
}

bool tcpw__state_synchronized(enum tcpw_state st)
{
    switch (st) {
    case TCPW_ESTABLISHED:
    case TCPW_FIN_WAIT_1:
    case TCPW_FIN_WAIT_2:
    case TCPW_CLOSE_WAIT:
    case TCPW_CLOSING:
    case TCPW_LAST_ACK:
    case TCPW_TIME_WAIT:
        return true;
    default:
        return false;
    }
}

static bool state_is_estab_or_close_wait(enum tcpw_state st)
{
    return st == TCPW_ESTABLISHED || st == TCPW_CLOSE_WAIT;
}

void tcpw__set_state(struct tcpw_conn *c, enum tcpw_state st)
{
    struct tcpw_stack *s = c->stack;
    enum tcpw_state old = c->state;

    if (old == st)
        return;
    s->tcp->state_counts[old]--;
    s->tcp->state_counts[st]++;
    /* RFC 1213 definitions of the transition counters. */
    if (old == TCPW_CLOSED && st == TCPW_SYN_SENT)
        tcpw__count(s, TCPW_CTR_TCP_ACTIVE_OPENS);
    if (old == TCPW_CLOSED && st == TCPW_SYN_RECEIVED && c->passive)
        tcpw__count(s, TCPW_CTR_TCP_PASSIVE_OPENS);
    if ((old == TCPW_SYN_SENT || old == TCPW_SYN_RECEIVED) && st == TCPW_CLOSED)
        tcpw__count(s, TCPW_CTR_TCP_ATTEMPT_FAILS);
    /* Linux counts any ESTABLISHED/CLOSE_WAIT -> CLOSED (reset received,
     * sent, or a timeout) as tcpEstabResets. */
    if (state_is_estab_or_close_wait(old) && st == TCPW_CLOSED)
        tcpw__count(s, TCPW_CTR_TCP_ESTAB_RESETS);
    if (st == TCPW_CLOSING)
        c->simultaneous = true;
    c->state = st;
    /* A lingering close completes once everything we sent, FIN included,
     * is acknowledged (SO_LINGER, l_linger > 0). */
    if (c->sock && c->sock->lingering && c->sock->linger_status == -EINPROGRESS &&
        (st == TCPW_FIN_WAIT_2 || st == TCPW_TIME_WAIT)) {
        c->sock->linger_status = 0;
        tcpw_timer_cancel(&s->wheel, &c->linger_timer);
    }
    if (st == TCPW_ESTABLISHED) {
        c->last_rcv = s->now;
        tcpw__keepalive_update(c);
    }
    if (s->tcp->trace_fn) {
        const struct tcpw_tuple *t = &c->node.tuple;
        s->tcp->trace_fn(s->tcp->trace_user, t->laddr, t->lport, t->raddr, t->rport, old, st);
    }
    tcpw__conn_wake(c);
}

void tcpw_set_state_trace(struct tcpw_stack *s, tcpw_state_trace_fn fn, void *user)
{
    s->tcp->trace_fn = fn;
    s->tcp->trace_user = user;
}
