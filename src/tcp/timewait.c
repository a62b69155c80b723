/* tcp/ — TIME_WAIT records (see timewait.h).
 *
 * RFC 9293 §3.10.7.4 in TIME-WAIT: "The only thing that can arrive in this
 * state is a retransmission of the remote FIN. Acknowledge it, and restart
 * the 2 MSL timeout." RFC 1337 §3 (TIME-WAIT assassination): a RST is
 * ignored when tcp_rfc1337 is set. RFC 6191 / RFC 9293 §3.10.7.4 note: a
 * SYN whose sequence number (or timestamp) is above the old incarnation's
 * may reopen the 4-tuple.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "api/sock.h"
#include "tcp/conn.h"
#include "tcp/tcp.h"

#define TABLE_OF(timer) ((struct tcpw_tw_table *)((char *)(timer) - offsetof(struct tcpw_tw_table, timer)))

static uint64_t two_msl_us(const struct tcpw_stack *s) { return 2u * (uint64_t)s->cfg.tcp_msl_ms * 1000u; }

static void fifo_unlink(struct tcpw_tw_table *t, struct tcpw_tw *tw)
{
    if (tw->older)
        tw->older->newer = tw->newer;
    else
        t->oldest = tw->newer;
    if (tw->newer)
        tw->newer->older = tw->older;
    else
        t->newest = tw->older;
    tw->older = tw->newer = NULL;
}

static void fifo_push(struct tcpw_tw_table *t, struct tcpw_tw *tw)
{
    tw->older = t->newest;
    tw->newer = NULL;
    if (t->newest)
        t->newest->newer = tw;
    else
        t->oldest = tw;
    t->newest = tw;
}

static void rearm(struct tcpw_tw_table *t)
{
    if (t->oldest)
        tcpw_timer_arm(&t->stack->wheel, &t->timer, t->oldest->expires);
    else
        tcpw_timer_cancel(&t->stack->wheel, &t->timer);
}

static void tw_free(struct tcpw_tw_table *t, struct tcpw_tw *tw)
{
    struct tcpw_stack *s = t->stack;
    fifo_unlink(t, tw);
    tcpw_tuple_table_remove(&t->map, &tw->node);
    t->count--;
    s->tcp->state_counts[TCPW_TIME_WAIT]--;
    free(tw);
}

static void expire(struct tcpw_timer *timer, uint64_t now)
{
    struct tcpw_tw_table *t = TABLE_OF(timer);

    /* Records are in expiry order: free from the head while due. */
    while (t->oldest && t->oldest->expires <= now) {
        struct tcpw_tcp_state *tcp = t->stack->tcp;
        const struct tcpw_tuple *u = &t->oldest->node.tuple;
        tcpw__count(t->stack, TCPW_CTR_TW);
        if (tcp->trace_fn)
            tcp->trace_fn(tcp->trace_user, u->laddr, u->lport, u->raddr, u->rport,
                          TCPW_TIME_WAIT, TCPW_CLOSED);
        tw_free(t, t->oldest);
    }
    rearm(t);
}

int tcpw__tw_init(struct tcpw_stack *s)
{
    struct tcpw_tw_table *t = &s->tcp->tw;
    t->stack = s;
    tcpw_timer_init(&t->timer, expire);
    return tcpw_tuple_table_init(&t->map, 64, s->tcp->secret);
}

void tcpw__tw_fini(struct tcpw_stack *s)
{
    struct tcpw_tw_table *t = &s->tcp->tw;
    while (t->oldest)
        tw_free(t, t->oldest);
    tcpw_timer_cancel(&s->wheel, &t->timer);
    tcpw_tuple_table_fini(&t->map);
}

struct tcpw_tw *tcpw__tw_find(struct tcpw_stack *s, const struct tcpw_tuple *tuple)
{
    struct tcpw_tuple_node *n = tcpw_tuple_table_find(&s->tcp->tw.map, tuple);
    return n ? (struct tcpw_tw *)n : NULL;
}

uint64_t tcpw__tw_remaining(const struct tcpw_stack *s, const struct tcpw_tw *tw)
{
    return tw->expires > s->now ? tw->expires - s->now : 0;
}

void tcpw__tw_enter(struct tcpw_conn *c)
{
    struct tcpw_stack *s = c->stack;
    struct tcpw_tw_table *t = &s->tcp->tw;
    struct tcpw_tw *tw;

    if (s->cfg.tcp_tw_skip_for_test) {
        /* The test switch: what a stack without TIME_WAIT would do. */
        tcpw__conn_report_end(c, 0, false);
        tcpw__set_state(c, TCPW_TIME_WAIT);
        if (c->sock)
            c->sock->eof = true;
        tcpw__conn_destroy(c);
        return;
    }
    if (t->count >= s->cfg.tcp_max_tw_buckets || !(tw = calloc(1, sizeof(*tw)))) {
        /* Linux: "TCP: time wait bucket table overflow"; the connection
         * is closed without TIME_WAIT protection. */
        tcpw__count(s, TCPW_CTR_TCP_TIME_WAIT_OVERFLOW);
        c->reason = TCPW_REASON_TIME_WAIT_OVERFLOW;
        tcpw__conn_done(c, 0);
        return;
    }
    tw->node.tuple = c->node.tuple;
    tw->snd_nxt = c->snd_max;
    tw->rcv_nxt = c->rcv_nxt;
    tw->ts_ok = c->ts_ok;
    tw->ts_recent = c->ts_recent;
    tw->ts_offset = c->ts_offset;
    tw->ts_recent_age_s = (uint32_t)(c->ts_recent_age / 1000000u);
    {
        uint32_t wnd = tcpw__rcv_window(c) >> c->rcv_wscale;
        tw->rcv_wnd = (uint16_t)(wnd > 65535u ? 65535u : wnd);
    }
    tw->expires = s->now + two_msl_us(s);
    tcpw_tuple_table_insert(&t->map, &tw->node);
    fifo_push(t, tw);
    t->count++;
    s->tcp->state_counts[TCPW_TIME_WAIT]++;
    if (t->oldest == tw)
        rearm(t);
    /* The application's socket, if it still has one, sees CLOSED with EOF:
     * TIME_WAIT belongs to the stack, not to the descriptor (as in Linux,
     * where tcp_time_wait() ends the full socket). */
    tcpw__conn_report_end(c, 0, true);
    tcpw__set_state(c, TCPW_TIME_WAIT);
    if (c->sock)
        c->sock->eof = true;
    tcpw__conn_destroy(c);
}

/* Sends the ACK a TIME_WAIT record owes: <SEQ=SND.NXT><ACK=RCV.NXT>. */
static void tw_send_ack(struct tcpw_stack *s, const struct tcpw_tw *tw)
{
    struct tcpw_tcp_out out = {0};
    uint8_t buf[TCPW_IPV4_HDR_MIN + TCPW_TCP_HDR_MIN + 12];
    size_t len;

    out.src = tw->node.tuple.laddr;
    out.dst = tw->node.tuple.raddr;
    out.sport = tw->node.tuple.lport;
    out.dport = tw->node.tuple.rport;
    out.seq = tw->snd_nxt;
    out.ack = tw->rcv_nxt;
    out.flags = TCPW_ACK;
    out.wnd = tw->rcv_wnd;
    out.ttl = (uint8_t)s->cfg.ip_default_ttl;
    out.ip_id = tcpw__stack_ip_id(s);
    out.df = true;
    if (tw->ts_ok) {
        out.opts.has_ts = true;
        out.opts.ts_val = (uint32_t)(s->now / 1000u) + tw->ts_offset;
        out.opts.ts_ecr = tw->ts_recent;
    }
    len = tcpw_tcp_build(buf, sizeof(buf), &out);
    if (len) {
        tcpw__count(s, TCPW_CTR_TCP_OUT_SEGS);
        tcpw__stack_send(s, buf, len);
    }
}

bool tcpw__tw_input(struct tcpw_stack *s, struct tcpw_tw *tw, const struct tcpw_packet *p)
{
    const struct tcpw_tcp *seg = &p->l4.tcp;
    struct tcpw_tw_table *t = &s->tcp->tw;

    /* RFC 9293 §3.10.7.4 second check, RFC 1337: with tcp_rfc1337 a RST
     * does not end TIME_WAIT (that would let an old duplicate "assassinate"
     * it); without it (Linux's default) the record is removed. */
    if (seg->flags & TCPW_RST) {
        if (!s->cfg.tcp_rfc1337) {
            tcpw__count(s, TCPW_CTR_TW_KILLED);
            tw_free(t, tw);
            rearm(t);
        }
        return true;
    }
    if ((seg->flags & TCPW_SYN) && !(seg->flags & TCPW_ACK)) {
        /* RFC 9293 §3.10.7.4 note / RFC 6191: a new SYN is acceptable when
         * its sequence number is beyond the old RCV.NXT, or, with
         * timestamps on both, its timestamp is newer than TS.Recent. */
        bool newer = seq_gt(seg->seq, tw->rcv_nxt);
        if (tw->ts_ok && seg->opts.has_ts)
            newer = (int32_t)(seg->opts.ts_val - tw->ts_recent) > 0;
        if (newer) {
            tcpw__count(s, TCPW_CTR_TW_RECYCLED);
            tw_free(t, tw);
            rearm(t);
            return false;
        }
        tw_send_ack(s, tw);
        return true;
    }
    if (seg->flags & TCPW_FIN) {
        /* A retransmitted FIN: our last ACK was lost. Re-ACK it and restart
         * the 2MSL wait (the record moves to the FIFO's tail). */
        if (seg->seq + (uint32_t)seg->payload_len + 1u == tw->rcv_nxt) {
            fifo_unlink(t, tw);
            tw->expires = s->now + two_msl_us(s);
            fifo_push(t, tw);
            rearm(t);
        }
        tw_send_ack(s, tw);
        return true;
    }
    /* Anything else with data or out of order gets the ACK that tells the
     * peer where we are; a bare ACK is silently dropped (Linux: TCP_TW_SUCCESS). */
    if (seg->payload_len || seq_gt(seg->seq, tw->rcv_nxt))
        tw_send_ack(s, tw);
    return true;
}
