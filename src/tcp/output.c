/* tcp/ — sending segments.
 *
 * RFC 9293 §3.8.6 (window management, sender and receiver SWS avoidance),
 * §3.7.4 (Nagle, RFC 896), §3.10.7 (what each ACK carries), RFC 7323 §3
 * (timestamps on every segment once negotiated) and §2.2 (no scaling of
 * the window in a SYN), RFC 2018 §4 (SACK blocks), RFC 6691 (MSS).
 */
#include <string.h>

#include "api/sock.h"
#include "tcp/conn.h"
#include "tcp/tcp.h"

/* Largest segment we build: MSS + headers + options. */
#define SEG_BUF_MAX (65535u)

uint32_t tcpw__rcv_window(const struct tcpw_conn *c)
{
    size_t free_space = tcpw_rcvbuf_space(&c->rcv);
    uint32_t space = free_space < UINT32_MAX ? (uint32_t)free_space : UINT32_MAX;
    uint32_t promised = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    uint32_t gran = 1u << c->rcv_wscale;
    uint32_t limit = c->wscale_ok ? (65535u << c->rcv_wscale) : 65535u;
    uint32_t wnd;

    /* RFC 9293 §3.8.6.2.2, receiver SWS avoidance: move the right edge only
     * once the free buffer space exceeds what is promised by
     * min(half the buffer, one MSS), and never shrink it. The test is on
     * the buffer itself: a window capped by the field (no scaling, 64 KiB)
     * still slides with every byte the buffer can take beyond the cap. */
    if (space < promised || (space - promised < c->mss && space - promised < c->rcv.cap / 2))
        return promised;
    /* A new edge is a multiple of 2^rcv_wscale, the only windows the
     * scaled field can say. */
    wnd = space < limit ? space : limit;
    wnd &= ~(gran - 1u);
    return wnd > promised ? wnd : promised;
}

/* The window field for `wnd` bytes. What is still promised need not be a
 * multiple of 2^rcv_wscale; it is rounded up, as Linux's
 * tcp_select_window() aligns it up, because rounding down would move the
 * right edge left, which RFC 9293 §3.8.6.2.1 forbids (RFC 7323 §2.4). The
 * few bytes this may offer beyond the buffer are cut off on arrival. */
static uint16_t wnd_field(const struct tcpw_conn *c, uint32_t wnd)
{
    uint32_t gran = 1u << c->rcv_wscale;
    uint64_t up = ((uint64_t)wnd + gran - 1u) >> c->rcv_wscale;
    return (uint16_t)(up > 65535u ? 65535u : up);
}

/* Fills the options every non-SYN segment carries. */
static void fill_opts(struct tcpw_conn *c, struct tcpw_tcp_opts *o, uint8_t flags)
{
    memset(o, 0, sizeof(*o));
    if (c->ts_ok) {
        o->has_ts = true;
        o->ts_val = tcpw__ts_now(c);
        o->ts_ecr = c->ts_recent;
    }
    if (c->sack_ok && !(flags & TCPW_RST) && c->rcv.ooo_count) {
        struct tcpw_range r[TCPW_SACK_MAX_BLOCKS];
        unsigned n = tcpw_rcvbuf_sack_ranges(&c->rcv, r, TCPW_SACK_MAX_BLOCKS);
        for (unsigned i = 0; i < n; i++) {
            o->sack[i].left = c->rcv_nxt + r[i].start;
            o->sack[i].right = c->rcv_nxt + r[i].end;
        }
        o->sack_count = (uint8_t)n;
    }
}

/* Builds and sends one segment; all outbound TCP from a connection goes
 * through here, so the ACK bookkeeping is in one place. */
static void emit(struct tcpw_conn *c, uint32_t seq, uint8_t flags, const struct tcpw_tcp_opts *o,
                 uint32_t data_len)
{
    struct tcpw_stack *s = c->stack;
    uint8_t buf[SEG_BUF_MAX];
    uint8_t payload_buf[SEG_BUF_MAX];
    struct tcpw_tcp_out out = {0};
    uint32_t wnd = 0;
    size_t len;

    out.src = c->node.tuple.laddr;
    out.dst = c->node.tuple.raddr;
    out.sport = c->node.tuple.lport;
    out.dport = c->node.tuple.rport;
    out.seq = seq;
    out.flags = flags;
    out.ttl = (uint8_t)s->cfg.ip_default_ttl;
    out.ip_id = tcpw__stack_ip_id(s);
    out.df = true;
    out.opts = *o;
    if (flags & TCPW_ACK)
        out.ack = c->rcv_nxt;
    if (!(flags & TCPW_RST)) {
        if (flags & TCPW_SYN) {
            /* RFC 7323 §2.2: the window in a SYN is never scaled. */
            wnd = (uint32_t)tcpw_rcvbuf_space(&c->rcv);
            out.wnd = (uint16_t)(wnd > 65535u ? 65535u : wnd);
        } else {
            wnd = tcpw__rcv_window(c);
            out.wnd = wnd_field(c, wnd);
        }
    }
    if (data_len) {
        uint32_t off = seq - tcpw__data_start(c);
        tcpw_sndbuf_copy(&c->snd, off, payload_buf, data_len);
        out.payload = payload_buf;
        out.payload_len = data_len;
    }
    len = tcpw_tcp_build(buf, sizeof(buf), &out);
    if (len == 0)
        return;
    if (seq_lt(seq, c->snd_max) && (data_len || (flags & (TCPW_SYN | TCPW_FIN)))) {
        tcpw__count(s, TCPW_CTR_TCP_RETRANS_SEGS);
        c->total_retrans++;
    } else {
        tcpw__count(s, TCPW_CTR_TCP_OUT_SEGS);
    }
    if (flags & TCPW_RST)
        tcpw__count(s, TCPW_CTR_TCP_OUT_RSTS);
    if (flags & TCPW_ACK) {
        /* This segment acknowledges everything received: no ACK is owed. */
        c->last_ack_sent = c->rcv_nxt;
        c->ack_pending = 0;
        c->ack_now = false;
        tcpw_timer_cancel(&s->wheel, &c->delack_timer);
        /* What the peer was told is the field times the scale. */
        if (!(flags & TCPW_RST) && !(flags & TCPW_SYN) &&
            seq_gt(c->rcv_nxt + ((uint32_t)out.wnd << c->rcv_wscale), c->rcv_adv))
            c->rcv_adv = c->rcv_nxt + ((uint32_t)out.wnd << c->rcv_wscale);
        if (flags & TCPW_SYN)
            c->rcv_adv = c->rcv_nxt + out.wnd; /* a SYN's window is not scaled */
    }
    tcpw__stack_send(s, buf, len);
}

uint32_t tcpw__send_segment(struct tcpw_conn *c, uint32_t seq, uint32_t len, uint8_t flags)
{
    struct tcpw_tcp_opts o;
    uint32_t used;

    fill_opts(c, &o, flags);
    /* Data and options together stay within the MSS (RFC 9293 §3.7.1);
     * callers size data by tcpw__seg_size(), so only SACK blocks can
     * overflow, and they give way to data. */
    while (len && o.sack_count && tcpw_tcp_opts_len(&o) + len > c->mss)
        o.sack_count--;
    if (len && seq + len == tcpw__data_end(c))
        flags |= TCPW_PSH;
    emit(c, seq, flags, &o, len);
    used = len + ((flags & TCPW_FIN) ? 1u : 0u);
    if (seq_gt(seq + used, c->snd_max))
        c->snd_max = seq + used;
    return used;
}

void tcpw__send_ack(struct tcpw_conn *c)
{
    struct tcpw_tcp_opts o;
    fill_opts(c, &o, TCPW_ACK);
    /* SEQ is the highest sequence sent, not SND.NXT: after a timeout
     * SND.NXT goes back to SND.UNA, and a pure ACK numbered below what the
     * peer already holds would fail its acceptability test (RFC 9293
     * §3.10.7.4) and be dropped, ACK field and all. Linux's snd_nxt never
     * goes back, which amounts to the same. */
    emit(c, c->snd_max, TCPW_ACK, &o, 0);
}

void tcpw__send_probe(struct tcpw_conn *c)
{
    struct tcpw_tcp_opts o;
    fill_opts(c, &o, TCPW_ACK);
    /* An old sequence number with no data: the peer must answer with an
     * ACK carrying its current window (RFC 9293 §3.10.7.4 "first"). */
    emit(c, c->snd_una - 1, TCPW_ACK, &o, 0);
}

void tcpw__send_rst(struct tcpw_conn *c)
{
    struct tcpw_tcp_opts o;
    fill_opts(c, &o, TCPW_RST);
    /* RFC 9293 §3.10.5 ABORT: <SEQ=SND.NXT><CTL=RST>. Linux adds ACK when
     * it has one to give; tcpwave does too, so the peer can validate it by
     * either number (RFC 5961 §3.2 checks only SEQ). */
    emit(c, c->snd_max, TCPW_RST | TCPW_ACK, &o, 0);
}

void tcpw__send_syn(struct tcpw_conn *c)
{
    const struct tcpw_config *cfg = &c->stack->cfg;
    struct tcpw_tcp_opts o = {0};
    uint8_t flags = TCPW_SYN;

    o.has_mss = true;
    o.mss = c->adv_mss;
    if (c->state == TCPW_SYN_SENT) {
        /* Offer everything the configuration allows (RFC 7323 §2.2, §3.2,
         * RFC 2018 §2); the answer decides what is used. */
        o.has_wscale = cfg->tcp_window_scaling != 0;
        o.wscale = c->rcv_wscale;
        o.sack_permitted = cfg->tcp_sack != 0;
        if (cfg->tcp_timestamps) {
            o.has_ts = true;
            o.ts_val = tcpw__ts_now(c);
        }
    } else {
        /* SYN,ACK: answer only what the peer offered. */
        flags |= TCPW_ACK;
        o.has_wscale = c->wscale_ok;
        o.wscale = c->rcv_wscale;
        o.sack_permitted = c->sack_ok;
        if (c->ts_ok) {
            o.has_ts = true;
            o.ts_val = tcpw__ts_now(c);
            o.ts_ecr = c->ts_recent;
        }
    }
    emit(c, c->iss, flags, &o, 0);
    if (seq_gt(c->iss + 1, c->snd_max))
        c->snd_max = c->iss + 1;
    c->snd_nxt = c->iss + 1;
}

uint32_t tcpw__retransmit_first(struct tcpw_conn *c)
{
    uint32_t len, end;
    uint8_t flags = TCPW_ACK;

    /* Until our SYN is acknowledged the SYN is what goes again — also in
     * FIN_WAIT_1 reached by a close() during the handshake. */
    if (c->state == TCPW_SYN_SENT || c->state == TCPW_SYN_RECEIVED || c->snd_una == c->iss) {
        tcpw__send_syn(c);
        return 1;
    }
    end = tcpw__data_end(c);
    len = seq_gt(end, c->snd_una) ? end - c->snd_una : 0;
    if (len > tcpw__seg_size(c))
        len = tcpw__seg_size(c);
    if (tcpw__fin_sent(c) && c->snd_una + len == c->fin_seq)
        flags |= TCPW_FIN;
    if (len == 0 && !(flags & TCPW_FIN))
        return 0;
    return tcpw__send_segment(c, c->snd_una, len, flags);
}

/* Nagle's algorithm as Linux runs it: tcp_nagle_check() holds a small
 * segment only while an earlier *small* segment is unacknowledged
 * (Minshall's variant, tcp_minshall_check()), not while any data is, as
 * RFC 9293 §3.7.4's classic form does. The classic form holds the tail of
 * every write that is not a whole number of segments for a round trip, and
 * for the peer's delayed ACK on top. Linux follows the end of the last
 * small segment sent (snd_sml); the TCB has no such field, so a small
 * segment is taken to be in flight when the bytes in flight are not a
 * whole number of full segments. That is exact while ACKs fall on segment
 * boundaries and at most one small segment is in flight, which this rule
 * keeps so for the tails of writes. Otherwise (an ACK inside a segment, a
 * window-limited sliver, TCP_NODELAY turned off with small segments out)
 * it errs by one small segment either way: it sends one early or holds
 * one as the classic rule would. */
static bool small_segment_in_flight(const struct tcpw_conn *c)
{
    return tcpw__conn_flight(c) % tcpw__seg_size(c) != 0;
}

/* How much the windows let us send now, beyond what is in flight. */
static uint32_t usable_window(const struct tcpw_conn *c)
{
    uint32_t wnd = c->snd_wnd < c->cc.cwnd ? c->snd_wnd : c->cc.cwnd;
    uint32_t flight = tcpw__conn_flight(c);
    return wnd > flight ? wnd - flight : 0;
}

void tcpw__output(struct tcpw_conn *c)
{
    bool sent = false;

    /* Nothing but the handshake goes out until our SYN is acknowledged. */
    if (!tcpw__state_synchronized(c->state) || c->snd_una == c->iss)
        return;
    for (;;) {
        uint32_t end = tcpw__data_end(c);
        uint32_t unsent = seq_lt(c->snd_nxt, end) ? end - c->snd_nxt : 0;
        uint32_t usable = usable_window(c);
        uint32_t seg = tcpw__seg_size(c);
        uint32_t len = unsent < seg ? unsent : seg;
        bool fin = false;
        uint32_t used;

        if (len > usable)
            len = usable;
        /* FIN goes with (or after) the last byte, and like Linux it is not
         * held back by the window: it carries no data. */
        if (c->fin_queued && c->snd_nxt + len == c->fin_seq && !seq_gt(c->snd_nxt, c->fin_seq))
            fin = true;
        if (len == 0 && !fin)
            break;
        if (len < seg && !fin) {
            /* RFC 9293 §3.7.4 Nagle, with Linux's (Minshall's) rule above:
             * a small segment waits while a small one is unacknowledged.
             * Sender SWS avoidance (§3.8.6.2.1): don't send a window-limited
             * sliver unless it is half the largest window. */
            if (!c->nodelay && len == unsent && small_segment_in_flight(c))
                break;
            if (len < unsent && len < c->max_snd_wnd / 2 && tcpw__conn_flight(c) > 0)
                break;
        }
        if (!c->rtt_timing && !c->ts_ok && len && !seq_lt(c->snd_nxt, c->snd_max)) {
            /* Karn: time only a segment sent for the first time. */
            c->rtt_timing = true;
            c->rtt_seq = c->snd_nxt;
            c->rtt_start = c->stack->now;
        }
        used = tcpw__send_segment(c, c->snd_nxt, len, (uint8_t)(TCPW_ACK | (fin ? TCPW_FIN : 0)));
        if (used == 0)
            break;
        c->snd_nxt += used;
        sent = true;
        if (c->probing) {
            c->probing = false;
            tcpw_timer_cancel(&c->stack->wheel, &c->rtx_timer);
        }
        tcpw__rtx_timer_update(c, false);
        if (fin)
            break;
    }
    if (!sent && c->ack_now)
        tcpw__send_ack(c);
    /* RFC 9293 §3.8.6.1: with data waiting, nothing in flight and a zero
     * window, the persist timer probes the window. */
    if (c->snd_wnd == 0 && tcpw__conn_flight(c) == 0 && seq_lt(c->snd_nxt, tcpw__data_end(c)) &&
        !tcpw_timer_armed(&c->rtx_timer)) {
        c->probing = true;
        tcpw__rtx_timer_update(c, true);
    }
}
