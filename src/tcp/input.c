/* tcp/ — segment arrival (RFC 9293 §3.10.7), in the RFC's order.
 *
 * Demux (DESIGN.md): connection table, TIME_WAIT table, listeners, and last
 * the CLOSED state's reset (§3.10.7.1). Then per state: LISTEN (§3.10.7.2),
 * SYN-SENT (§3.10.7.3), and the synchronized states (§3.10.7.4: sequence
 * check, RST, SYN, ACK, data, FIN). Also RFC 7323 (window scale, timestamps,
 * PAWS), RFC 5961 (challenge ACKs for RST, SYN and ACK checks), RFC 2018
 * (SACK-permitted negotiation), RFC 5681 §4.2 (when to ACK at once),
 * RFC 2525 §2.17 / Linux (data after close gets RST: TCPAbortOnData).
 */
#include <errno.h>
#include <string.h>

#include "api/sock.h"
#include "tcp/conn.h"
#include "tcp/isn.h"
#include "tcp/tcp.h"

/* RFC 7323 §5.5: TS.Recent older than 24 days is invalid for PAWS. */
#define PAWS_IDLE_US (24ull * 24 * 3600 * 1000000)

/* Linux's accept-queue test, sk_acceptq_is_full(): full when *more* than
 * `backlog` connections wait (a deliberate off-by-one kept so that
 * listen(fd, 0) still takes one connection), so listen(1) queues two. */
static bool accept_queue_full(const struct tcpw_listener *l)
{
    return l->accept_count > l->backlog;
}

/* Length of a segment in sequence space: data plus SYN and FIN. */
static uint32_t seg_len(const struct tcpw_tcp *seg)
{
    return (uint32_t)seg->payload_len + ((seg->flags & TCPW_SYN) ? 1u : 0u) +
           ((seg->flags & TCPW_FIN) ? 1u : 0u);
}

static void tuple_of(const struct tcpw_packet *p, struct tcpw_tuple *t)
{
    t->laddr = p->ip.dst;
    t->raddr = p->ip.src;
    t->lport = p->l4.tcp.dport;
    t->rport = p->l4.tcp.sport;
}

/* Applies the options of a SYN or SYN,ACK (RFC 7323 §2.2, §3.2; RFC 2018
 * §2; RFC 9293 §3.7.1). For a SYN,ACK, what we did not offer is not used. */
static void negotiate(struct tcpw_conn *c, const struct tcpw_tcp *seg)
{
    const struct tcpw_config *cfg = &c->stack->cfg;
    const struct tcpw_tcp_opts *o = &seg->opts;
    uint32_t peer_mss = o->has_mss ? o->mss : TCPW_DEFAULT_MSS;

    c->wscale_ok = o->has_wscale && cfg->tcp_window_scaling;
    if (c->wscale_ok) {
        /* RFC 7323 §2.3: a shift above 14 is used as 14 (and logged). */
        c->snd_wscale = o->wscale > TCPW_MAX_WSCALE ? TCPW_MAX_WSCALE : o->wscale;
    } else {
        c->snd_wscale = 0;
        c->rcv_wscale = 0;
    }
    c->sack_ok = o->sack_permitted && cfg->tcp_sack;
    c->ts_ok = o->has_ts && cfg->tcp_timestamps;
    if (c->ts_ok) {
        c->ts_recent = o->ts_val;
        c->ts_recent_age = c->stack->now;
    }
    if (peer_mss < 64u)
        peer_mss = 64u; /* a nonsense MSS must not stall us (Linux clamps to 48+) */
    c->mss = (uint16_t)(peer_mss < c->adv_mss ? peer_mss : c->adv_mss);
    tcpw_cc_init(&c->cc, tcpw__seg_size(c), c->iss);
}

/* --- LISTEN (RFC 9293 §3.10.7.2) --- */

/* tw_iss: the ISS a TIME_WAIT record handed over (tcpw__tw_input), or 0
 * for the RFC 6528 ISN. */
static void listen_input(struct tcpw_stack *s, struct tcpw_listener *l,
                         const struct tcpw_packet *p, uint32_t tw_iss)
{
    const struct tcpw_tcp *seg = &p->l4.tcp;
    struct tcpw_tuple tuple;
    struct tcpw_conn *c;
    struct tcpw_sock *ls = l->sock;

    /* "First, check for a RST": ignore it. */
    if (seg->flags & TCPW_RST)
        return;
    /* "Second, check for an ACK": any acknowledgment is bad in LISTEN;
     * <SEQ=SEG.ACK><CTL=RST>. */
    if (seg->flags & TCPW_ACK) {
        tcpw__tcp_send_reset_for(s, p);
        return;
    }
    /* "Third, check for a SYN". Anything else is dropped. */
    if (!(seg->flags & TCPW_SYN))
        return;
    /* RFC 9293 §3.4.3 quiet time (tcp_quiet_time): a SYN,ACK would assign
     * a sequence number; drop the SYN (the peer retransmits) and count it. */
    if (tcpw__tw_quiet(s)) {
        tcpw__count(s, TCPW_CTR_LISTEN_DROPS);
        return;
    }
    /* Linux drops (never resets) a SYN when the accept queue is full
     * (ListenOverflows) or too many handshakes are pending. */
    if (accept_queue_full(l)) {
        tcpw__count(s, TCPW_CTR_LISTEN_OVERFLOWS);
        tcpw__count(s, TCPW_CTR_LISTEN_DROPS);
        return;
    }
    if (l->syn_count >= s->cfg.tcp_max_syn_backlog) {
        tcpw__count(s, TCPW_CTR_LISTEN_DROPS);
        return;
    }
    /* tcp_tw_recycle (Linux before 4.12, tcp_conn_request() with
     * !tcp_peer_is_proven()): a TSval older than the last one a TIME_WAIT
     * record of this source address held, within TCP_PAWS_MSL, is taken
     * for an old duplicate and the SYN dropped without an answer
     * (PAWSPassive). It assumes one timestamp clock per address, which a
     * NAT breaks (docs/states/TIME_WAIT.md, "tcp_tw_recycle"). */
    if (seg->opts.has_ts && tcpw__recycle_syn_rejected(s, p->ip.src, seg->opts.ts_val)) {
        tcpw__count(s, TCPW_CTR_PAWS_PASSIVE);
        return;
    }
    tuple_of(p, &tuple);
    c = tcpw__conn_create(s, &tuple, ls->sndbuf, ls->rcvbuf);
    if (!c) {
        tcpw__count(s, TCPW_CTR_LISTEN_DROPS);
        return;
    }
    c->passive = true;
    c->listener = l;
    c->nodelay = ls->nodelay;
    c->irs = seg->seq;
    c->rcv_nxt = seg->seq + 1;
    c->rcv_adv = c->rcv_nxt; /* nothing advertised yet */
    c->iss = tw_iss ? tw_iss : tcpw_isn(s->tcp->secret, &tuple, s->now);
    c->snd_una = c->snd_nxt = c->snd_max = c->iss;
    c->adv_mss = tcpw__our_mss(s, ls->maxseg);
    c->rcv_wscale = tcpw__wscale_for(c->rcv.cap);
    negotiate(c, seg);
    /* RFC 9293 §3.10.7.2: the SYN's window is never scaled (RFC 7323 §2.2). */
    c->snd_wnd = seg->wnd;
    c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = seg->seq;
    c->snd_wl2 = c->iss;
    l->syn_count++;
    tcpw__set_state(c, TCPW_SYN_RECEIVED);
    tcpw__send_syn(c);
    tcpw__rtx_timer_update(c, true);
    /* Data on a SYN is not kept (Linux without TCP Fast Open does the same):
     * the peer retransmits it after the handshake. */
}

void tcpw__conn_established_passive(struct tcpw_conn *c)
{
    struct tcpw_listener *l = c->listener;

    if (!l)
        return;
    l->syn_count--;
    c->in_accept_queue = true;
    c->accept_next = NULL;
    if (l->accept_tail)
        l->accept_tail->accept_next = c;
    else
        l->accept_head = c;
    l->accept_tail = c;
    l->accept_count++;
    if (l->sock)
        tcpw__sock_wake(l->sock);
}

/* --- SYN-SENT (RFC 9293 §3.10.7.3) --- */

/* True when `ts_ecr` lies in [our TSval when the first SYN was sent, our
 * TSval now] (wrap-safe). The 1 ms clock is read the way tcpw__ts_now()
 * reads it, so a SYN,ACK echoing the first SYN's own TSval is accepted. */
static bool ts_ecr_of_our_syn(const struct tcpw_conn *c, uint32_t ts_ecr)
{
    uint32_t first = (uint32_t)(c->rtt_start / 1000u) + c->ts_offset;
    return ts_ecr - first <= tcpw__ts_now(c) - first;
}

static void syn_sent_input(struct tcpw_conn *c, const struct tcpw_packet *p)
{
    const struct tcpw_tcp *seg = &p->l4.tcp;
    struct tcpw_stack *s = c->stack;
    bool ack_ok = false;

    /* "First, check the ACK bit": an ACK outside (ISS, SND.NXT] is answered
     * with <SEQ=SEG.ACK><CTL=RST> unless it carries RST itself. */
    if (seg->flags & TCPW_ACK) {
        if (seq_leq(seg->ack, c->iss) || seq_gt(seg->ack, c->snd_nxt)) {
            tcpw__tcp_send_reset_for(s, p);
            return;
        }
        ack_ok = true;
        /* RFC 7323 §5.3 applied to the handshake as Linux does it
         * (tcp_rcv_synsent_state_process(), PAWSActive): with timestamps
         * offered, a SYN,ACK (or RST,ACK) whose TSecr is not a TSval we sent
         * for this SYN, i.e. outside [our clock when the first SYN left,
         * our clock now], is an old duplicate. It is answered like a bad
         * ACK, <SEQ=SEG.ACK><CTL=RST> (nothing for a RST), and the
         * connection stays in SYN-SENT for a good SYN,ACK. */
        if (s->cfg.tcp_timestamps && seg->opts.has_ts && seg->opts.ts_ecr &&
            !ts_ecr_of_our_syn(c, seg->opts.ts_ecr)) {
            tcpw__count(s, TCPW_CTR_PAWS_ACTIVE);
            if (!(seg->flags & TCPW_RST))
                tcpw__tcp_send_reset_for(s, p);
            return;
        }
    }
    /* "Second, check the RST bit": with an acceptable ACK the connection is
     * refused; without an ACK the RST is dropped (RFC 5961 §3.2 too). */
    if (seg->flags & TCPW_RST) {
        if (ack_ok)
            tcpw__conn_done(c, ECONNREFUSED);
        return;
    }
    /* "Fourth, check the SYN bit". */
    if (!(seg->flags & TCPW_SYN))
        return;
    c->irs = seg->seq;
    c->rcv_nxt = seg->seq + 1;
    c->rcv_adv = c->rcv_nxt; /* nothing advertised yet */
    negotiate(c, seg);
    if (c->ts_ok && ack_ok && seg->opts.ts_ecr) {
        /* RFC 7323 §4: the SYN,ACK's TSecr gives the first RTT sample. */
        uint32_t rtt_ms = tcpw__ts_now(c) - seg->opts.ts_ecr;
        tcpw_rtt_sample(&c->rtt, rtt_ms * 1000u, s->cfg.tcp_rto_min_ms * 1000u,
                        s->cfg.tcp_rto_max_ms * 1000u);
    } else if (ack_ok && c->retransmits == 0) {
        /* Karn: the SYN was sent once, so its round trip is a clean sample. */
        tcpw_rtt_sample(&c->rtt, (uint32_t)(s->now - c->rtt_start), s->cfg.tcp_rto_min_ms * 1000u,
                        s->cfg.tcp_rto_max_ms * 1000u);
    }
    if (ack_ok) {
        c->snd_una = seg->ack;
        /* The window of a SYN,ACK is never scaled (RFC 7323 §2.2). */
        c->snd_wnd = seg->wnd;
        c->max_snd_wnd = c->snd_wnd;
        c->snd_wl1 = seg->seq;
        c->snd_wl2 = seg->ack;
        c->retransmits = 0;
        tcpw_rtt_reset_backoff(&c->rtt);
        tcpw__rtx_timer_update(c, false);
        /* "If SND.UNA > ISS (our SYN has been ACKed), change the connection
         * state to ESTABLISHED, form an ACK segment and send it." */
        tcpw__set_state(c, TCPW_ESTABLISHED);
        if (c->sock)
            c->sock->connected_once = true;
        c->ack_now = true;
        tcpw__output(c);
        return;
    }
    /* Simultaneous open: "Otherwise, enter SYN-RECEIVED, form a SYN,ACK
     * segment <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and send it." */
    c->snd_wnd = seg->wnd;
    c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = seg->seq;
    c->snd_wl2 = c->iss;
    tcpw__set_state(c, TCPW_SYN_RECEIVED);
    tcpw__send_syn(c);
    tcpw__rtx_timer_update(c, true);
}

/* --- synchronized states and SYN-RECEIVED (RFC 9293 §3.10.7.4) --- */

/* The acceptability test of §3.10.7.4 "first", over the window we offered. */
static bool seq_acceptable(const struct tcpw_conn *c, const struct tcpw_tcp *seg)
{
    uint32_t len = seg_len(seg);
    uint32_t wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;

    if (len == 0) {
        if (wnd == 0)
            return seg->seq == c->rcv_nxt;
        return seq_in(seg->seq, c->rcv_nxt, c->rcv_nxt + wnd);
    }
    if (wnd == 0)
        return false;
    return seq_in(seg->seq, c->rcv_nxt, c->rcv_nxt + wnd) ||
           seq_in(seg->seq + len - 1, c->rcv_nxt, c->rcv_nxt + wnd);
}

/* RFC 5961 §7 asks for a rate limit on challenge ACKs (Linux: per socket,
 * one per 500 ms, and tcp_challenge_ack_limit per second); tcpwave does not
 * limit them yet, and counts each one. */
static void send_challenge_ack(struct tcpw_conn *c, enum tcpw_counter why)
{
    tcpw__count(c->stack, TCPW_CTR_TCP_CHALLENGE_ACK);
    if (why != TCPW_CTR_TCP_CHALLENGE_ACK)
        tcpw__count(c->stack, why);
    tcpw__send_ack(c);
}

/* Processes an acceptable ACK field (RFC 9293 §3.10.7.4 "fifth", the
 * ESTABLISHED rules plus the per-state additions). Returns false when the
 * segment must be dropped. */
static bool ack_input(struct tcpw_conn *c, const struct tcpw_tcp *seg)
{
    struct tcpw_stack *s = c->stack;
    uint32_t ack = seg->ack;
    uint32_t wnd = (uint32_t)seg->wnd << c->snd_wscale;

    /* RFC 5961 §5.2: an ACK below SND.UNA - MAX.SND.WND is a blind attack
     * (or very old): drop it with a challenge ACK. */
    if (seq_lt(ack, c->snd_una - c->max_snd_wnd)) {
        send_challenge_ack(c, TCPW_CTR_TCP_CHALLENGE_ACK);
        return false;
    }
    /* "If the ACK acks something not yet sent (SEG.ACK > SND.NXT), then send
     * an ACK, drop the segment, and return." Our highest sent is snd_max
     * (snd_nxt may have gone back after a timeout). */
    if (seq_gt(ack, c->snd_max)) {
        tcpw__send_ack(c);
        return false;
    }
    if (seq_gt(ack, c->snd_una)) {
        uint32_t acked = ack - c->snd_una;
        uint32_t data_acked = acked;
        uint32_t flight_after;

        if (c->snd_una == c->iss)
            data_acked--; /* the SYN */
        if (c->fin_queued && seq_gt(ack, c->fin_seq))
            data_acked--; /* the FIN */
        if (data_acked > c->snd.len)
            data_acked = (uint32_t)c->snd.len;
        /* RTT: timestamps echo our clock (RFC 7323 §4.1); otherwise the one
         * timed segment, if this ACK covers it (Karn: never a retransmitted
         * one, since a timeout clears rtt_timing). */
        if (c->ts_ok && seg->opts.has_ts && seg->opts.ts_ecr) {
            uint32_t r = tcpw__ts_now(c) - seg->opts.ts_ecr;
            if (r < 3600u * 1000u)
                tcpw_rtt_sample(&c->rtt, r ? r * 1000u : 1u, s->cfg.tcp_rto_min_ms * 1000u,
                                s->cfg.tcp_rto_max_ms * 1000u);
        } else if (c->rtt_timing && seq_gt(ack, c->rtt_seq)) {
            c->rtt_timing = false;
            tcpw_rtt_sample(&c->rtt, (uint32_t)(s->now - c->rtt_start),
                            s->cfg.tcp_rto_min_ms * 1000u, s->cfg.tcp_rto_max_ms * 1000u);
        }
        tcpw_sndbuf_drop(&c->snd, data_acked);
        c->snd_una = ack;
        if (seq_lt(c->snd_nxt, c->snd_una))
            c->snd_nxt = c->snd_una;
        c->retransmits = 0;
        tcpw_rtt_reset_backoff(&c->rtt);
        flight_after = tcpw__conn_flight(c);
        if (tcpw_cc_on_ack(&c->cc, ack, acked, flight_after) == TCPW_CC_RETRANSMIT_FIRST) {
            /* RFC 6582 §3.2 step 3: a partial ACK; retransmit the next hole.
             * Linux counts every retransmission made in fast recovery as
             * TCPFastRetrans (tcp_xmit_retransmit_queue()), so this one too. */
            tcpw__count(s, TCPW_CTR_TCP_FAST_RETRANS);
            tcpw__retransmit_first(c);
        }
        c->dupacks = 0;
        tcpw__rtx_timer_update(c, true);
        tcpw__conn_wake(c);
    } else if (ack == c->snd_una && seg->payload_len == 0 && !(seg->flags & (TCPW_SYN | TCPW_FIN)) &&
               tcpw__conn_flight(c) > 0 && wnd == c->snd_wnd) {
        /* RFC 5681 §2 "duplicate acknowledgment": nothing new acked, no
         * data, no window change, data outstanding. */
        c->dupacks++;
        if (tcpw_cc_on_dupack(&c->cc, c->snd_una, c->snd_max, tcpw__conn_flight(c)) ==
            TCPW_CC_RETRANSMIT_FIRST) {
            tcpw__count(s, TCPW_CTR_TCP_FAST_RETRANS);
            tcpw__retransmit_first(c);
        }
    }
    /* Window update: "If SND.UNA =< SEG.ACK =< SND.NXT ... if (SND.WL1 <
     * SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK)), set SND.WND <-
     * SEG.WND, set SND.WL1 <- SEG.SEQ, and set SND.WL2 <- SEG.ACK." An old
     * ACK (SEG.ACK < SND.UNA, "can be ignored") updates nothing, whatever
     * its SEG.SEQ; Linux's tcp_ack() takes the same old_ack path. SND.UNA
     * has already moved to an acceptable SEG.ACK above. */
    if (seq_geq(ack, c->snd_una) &&
        (seq_lt(c->snd_wl1, seg->seq) || (c->snd_wl1 == seg->seq && seq_leq(c->snd_wl2, ack)))) {
        bool opened = c->snd_wnd == 0 && wnd > 0;
        c->snd_wnd = wnd;
        c->snd_wl1 = seg->seq;
        c->snd_wl2 = ack;
        if (wnd > c->max_snd_wnd)
            c->max_snd_wnd = wnd;
        if (opened && c->probing) {
            c->probing = false;
            c->retransmits = 0;
            tcpw_rtt_reset_backoff(&c->rtt);
            tcpw_timer_cancel(&s->wheel, &c->rtx_timer);
        }
        tcpw__conn_wake(c);
    }
    return true;
}

/* Stores the segment's data (RFC 9293 §3.10.7.4 "seventh") and returns the
 * number of bytes by which RCV.NXT advanced. */
static uint32_t data_input(struct tcpw_conn *c, const struct tcpw_tcp *seg)
{
    const uint8_t *data = seg->payload;
    uint32_t len = (uint32_t)seg->payload_len;
    uint32_t seq = seg->seq;
    uint32_t advanced;

    /* Trim what we already have (left of RCV.NXT). */
    if (seq_lt(seq, c->rcv_nxt)) {
        uint32_t skip = c->rcv_nxt - seq;
        if (skip >= len)
            return 0;
        data += skip;
        len -= skip;
        seq = c->rcv_nxt;
    }
    if (c->rd_shut) {
        /* SHUT_RD: data is acknowledged and thrown away, as Linux does. */
        if (seq == c->rcv_nxt) {
            c->rcv_nxt += len;
            return len;
        }
        return 0;
    }
    advanced = (uint32_t)tcpw_rcvbuf_write(&c->rcv, seq - c->rcv_nxt, data, len);
    c->rcv_nxt += advanced;
    return advanced;
}

/* RFC 9293 §3.10.7.4 "eighth": the FIN is processed once RCV.NXT reaches it.
 * Returns true when the connection is gone (it entered TIME_WAIT). */
static bool fin_input(struct tcpw_conn *c)
{
    c->fin_ooo = false;
    c->fin_rcvd = true;
    c->rcv_nxt++;
    if (c->sock)
        c->sock->eof = true;
    switch (c->state) {
    case TCPW_SYN_RECEIVED:
    case TCPW_ESTABLISHED:
        /* "Enter the CLOSE-WAIT state." Like Linux (tcp_fin() enters
         * "pingpong" mode), the ACK of the FIN is delayed: an application
         * that closes at once sends its FIN with that ACK, the three-segment
         * close the seed describes as FIN_WAIT_1 -> TIME_WAIT. */
        tcpw__set_state(c, TCPW_CLOSE_WAIT);
        c->ack_pending++;
        tcpw__delack_schedule(c);
        break;
    case TCPW_FIN_WAIT_1:
        c->ack_now = true;
        /* "If our FIN has been ACKed ... then enter TIME-WAIT ...;
         * otherwise, enter the CLOSING state." (A FIN,ACK acking our FIN
         * arrives here with the ACK already processed: straight to TIME_WAIT.) */
        if (tcpw__fin_acked(c)) {
            tcpw__send_ack(c);
            tcpw__tw_enter(c);
            return true;
        }
        tcpw__set_state(c, TCPW_CLOSING);
        break;
    case TCPW_FIN_WAIT_2:
        /* "Enter the TIME-WAIT state. Start the time-wait timer, turn off
         * the other timers." */
        tcpw__send_ack(c);
        tcpw__tw_enter(c);
        return true;
    default:
        /* CLOSE-WAIT, CLOSING, LAST-ACK: "Remain in the state". */
        c->ack_now = true;
        break;
    }
    tcpw__conn_wake(c);
    return false;
}

static void synchronized_input(struct tcpw_conn *c, const struct tcpw_packet *p)
{
    const struct tcpw_tcp *seg = &p->l4.tcp;
    struct tcpw_stack *s = c->stack;
    uint32_t advanced = 0;
    bool take_text = true; /* false: only the ACK of this segment is used */

    /* RFC 7323 §5.3 R1: PAWS before the sequence check. A segment whose
     * timestamp is older than TS.Recent is an old duplicate: ACK and drop
     * (RST segments are exempt, R1 note). A SYN gets RFC 5961 §4.2's
     * challenge ACK instead ("irrespective of the sequence number"; Linux's
     * tcp_validate_incoming() goes to syn_challenge before counting PAWS). */
    if (c->ts_ok && seg->opts.has_ts && !(seg->flags & TCPW_RST) &&
        (int32_t)(seg->opts.ts_val - c->ts_recent) < 0 &&
        s->now - c->ts_recent_age < PAWS_IDLE_US) {
        if (seg->flags & TCPW_SYN) {
            send_challenge_ack(c, TCPW_CTR_TCP_SYN_CHALLENGE);
            return;
        }
        tcpw__count(s, TCPW_CTR_PAWS_ESTAB);
        tcpw__send_ack(c);
        return;
    }

    /* "First, check sequence number." */
    if (!seq_acceptable(c, seg)) {
        if (seg->seq == c->rcv_nxt && !seq_gt(c->rcv_adv, c->rcv_nxt) &&
            !(seg->flags & (TCPW_RST | TCPW_SYN)) && (seg->flags & TCPW_ACK)) {
            /* "If the RCV.WND is zero, no segments will be acceptable, but
             * special allowance should be made to accept valid ACKs, URGs,
             * and RSTs." Like Linux (tcp_sequence() accepts a segment that
             * starts at RCV.NXT; tcp_data_queue() then drops its data), the
             * segment goes on for its ACK and window, its text and FIN are
             * dropped, and an ACK (still showing the zero window) is sent.
             * A bare FIN is taken whole, as Linux 6.x's tcp_data_queue()
             * does: it needs no buffer, and a peer that has finished must
             * not wait for our reader to make room. */
            take_text = seg->payload_len == 0 && (seg->flags & TCPW_FIN);
        } else if ((seg->flags & TCPW_SYN) && c->state == TCPW_SYN_RECEIVED && c->passive &&
                   seg->seq == c->irs && !(seg->flags & TCPW_ACK)) {
            /* The peer's SYN again (it lies left of the window): our
             * SYN,ACK was lost. Linux's tcp_check_req() sends the SYN,ACK
             * again at once rather than a bare ACK, which a peer in
             * SYN-SENT could not use. */
            tcpw__send_syn(c);
            return;
        } else if (seg->flags & TCPW_SYN) {
            /* RFC 5961 §4.2: a SYN in a synchronized state gets a challenge
             * ACK "irrespective of the sequence number" (Linux: the
             * syn_challenge path of tcp_validate_incoming(), TCPSYNChallenge). */
            send_challenge_ack(c, TCPW_CTR_TCP_SYN_CHALLENGE);
            return;
        } else {
            /* "If an incoming segment is not acceptable, an acknowledgment
             * should be sent in reply (unless the RST bit is set, if so drop
             * the segment and return)". */
            if (!(seg->flags & TCPW_RST))
                tcpw__send_ack(c);
            return;
        }
    }

    /* RFC 7323 §4.3: record TS.Recent when the segment covers Last.ACK.sent. */
    if (c->ts_ok && seg->opts.has_ts && seq_leq(seg->seq, c->last_ack_sent) &&
        seq_geq(seg->seq + seg_len(seg), c->last_ack_sent)) {
        c->ts_recent = seg->opts.ts_val;
        c->ts_recent_age = s->now;
    }

    /* "Second, check the RST bit" with RFC 5961 §3.2: only an exact match
     * of RCV.NXT resets; anything else in the window gets a challenge ACK. */
    if (seg->flags & TCPW_RST) {
        if (seg->seq != c->rcv_nxt) {
            send_challenge_ack(c, TCPW_CTR_TCP_CHALLENGE_ACK);
            return;
        }
        switch (c->state) {
        case TCPW_SYN_RECEIVED:
            /* Passive open: back to LISTEN (the half-open connection goes);
             * active (simultaneous) open: "connection refused". */
            tcpw__conn_done(c, c->passive ? 0 : ECONNREFUSED);
            return;
        case TCPW_CLOSE_WAIT:
            /* The application has seen EOF and may only be sending: Linux
             * reports EPIPE here (tcp_reset()), and so does tcpwave. */
            tcpw__conn_done(c, EPIPE);
            return;
        default:
            /* ESTABLISHED, FIN-WAIT-1/2: "Any outstanding RECEIVEs and SEND
             * should receive 'reset' responses"; CLOSING, LAST-ACK: "enter
             * the CLOSED state" — the RFC reports nothing there, but a reset
             * instead of the last ACK is not an orderly close, and Linux
             * reports ECONNRESET in every state but SYN-SENT and CLOSE-WAIT. */
            tcpw__conn_done(c, ECONNRESET);
            return;
        }
    }

    /* "Fourth, check the SYN bit": RFC 5961 §4 challenge ACK in any
     * synchronized state; in SYN-RECEIVED of a passive open, the RFC's
     * "return to LISTEN". */
    if (seg->flags & TCPW_SYN) {
        if (c->state == TCPW_SYN_RECEIVED && c->passive && seg->seq == c->irs) {
            /* The peer's SYN again: our SYN,ACK was lost. Answer it again. */
            tcpw__send_syn(c);
            return;
        }
        send_challenge_ack(c, TCPW_CTR_TCP_SYN_CHALLENGE);
        return;
    }

    /* "Fifth, check the ACK field": "if the ACK bit is off, drop the segment". */
    if (!(seg->flags & TCPW_ACK))
        return;
    if (c->state == TCPW_SYN_RECEIVED) {
        /* "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED ...
         * If the segment acknowledgment is not acceptable, form a reset
         * segment <SEQ=SEG.ACK><CTL=RST> and send it." */
        if (!seq_gt(seg->ack, c->snd_una) || seq_gt(seg->ack, c->snd_nxt)) {
            tcpw__tcp_send_reset_for(s, p);
            return;
        }
        if (c->passive && c->listener && accept_queue_full(c->listener)) {
            /* The handshake would complete into a full accept queue. Linux
             * (tcp_v4_syn_recv_sock(), tcp_abort_on_overflow = 0) drops the
             * ACK, counting ListenOverflows and ListenDrops, and keeps the
             * half-open connection: its SYN,ACK timer goes on, and the
             * peer's next ACK or data may find room. */
            tcpw__count(s, TCPW_CTR_LISTEN_OVERFLOWS);
            tcpw__count(s, TCPW_CTR_LISTEN_DROPS);
            return;
        }
        c->snd_wnd = (uint32_t)seg->wnd << c->snd_wscale;
        c->max_snd_wnd = c->snd_wnd;
        c->snd_wl1 = seg->seq;
        c->snd_wl2 = seg->ack;
        /* After close() during the handshake the state is FIN_WAIT_1
         * already, and the FIN goes out below. */
        if (!c->fin_queued)
            tcpw__set_state(c, TCPW_ESTABLISHED);
        if (c->passive)
            tcpw__conn_established_passive(c);
        if (c->sock)
            c->sock->connected_once = true;
    }
    if (!ack_input(c, seg))
        return;
    switch (c->state) {
    case TCPW_FIN_WAIT_1:
        /* "In addition to the processing for the ESTABLISHED state, if the
         * FIN segment is now acknowledged, then enter FIN-WAIT-2." A FIN,ACK
         * whose FIN is processed below goes from FIN-WAIT-1 straight to
         * TIME-WAIT ("if our FIN has been ACKed (perhaps in this segment)"),
         * so it does not stop in FIN-WAIT-2 on the way. */
        if (tcpw__fin_acked(c) &&
            !((seg->flags & TCPW_FIN) && seq_leq(seg->seq, c->rcv_nxt))) {
            tcpw__set_state(c, TCPW_FIN_WAIT_2);
            if (!c->sock && s->cfg.tcp_fin_timeout_ms)
                tcpw_timer_arm(&s->wheel, &c->state_timer,
                               s->now + (uint64_t)s->cfg.tcp_fin_timeout_ms * 1000u);
        }
        break;
    case TCPW_CLOSING:
        /* "If the ACK acknowledges our FIN, then enter the TIME-WAIT state;
         * otherwise, ignore the segment." */
        if (tcpw__fin_acked(c)) {
            tcpw__tw_enter(c);
            return;
        }
        break;
    case TCPW_LAST_ACK:
        /* "If our FIN is now acknowledged, delete the TCB, enter the CLOSED
         * state, and return." */
        if (tcpw__fin_acked(c)) {
            tcpw__conn_done(c, 0);
            return;
        }
        break;
    default:
        break;
    }

    /* "Sixth, check the URG bit": urgent data is delivered inline (RFC 6093
     * §4 recommends that applications not rely on it); nothing to do. */

    /* "Seventh, process the segment text" in ESTABLISHED, FIN-WAIT-1/2. */
    if (!take_text) {
        c->ack_now = true; /* the zero window's ACK; text and FIN dropped */
        tcpw__output(c);
        return;
    }
    if (seg->payload_len) {
        if (!tcpw__state_can_receive(c->state) || c->fin_rcvd) {
            /* CLOSE-WAIT, CLOSING, LAST-ACK: "This should not occur since a
             * FIN has been received from the remote side. Ignore". */
        } else if (!c->sock && !c->listener &&
                   seq_gt(seg->seq + (uint32_t)seg->payload_len, c->rcv_nxt)) {
            /* The application closed the socket and can never read this:
             * Linux resets (TCPAbortOnData), so the peer learns at once. */
            tcpw__count(s, TCPW_CTR_TCP_ABORT_ON_DATA);
            c->reason = TCPW_REASON_DATA_AFTER_CLOSE;
            tcpw__conn_abort(c, 0);
            return;
        } else {
            bool in_order = seg->seq == c->rcv_nxt || seq_lt(seg->seq, c->rcv_nxt);
            bool had_hole = c->rcv.ooo_count > 0;
            advanced = data_input(c, seg);
            if (!in_order || had_hole || c->rcv.ooo_count) {
                /* RFC 5681 §4.2: out-of-order data, or data that fills a
                 * hole, is acknowledged at once (fast retransmit relies on it). */
                c->ack_now = true;
            } else if (++c->ack_pending >= TCPW_DELACK_SEGMENTS) {
                c->ack_now = true;
            } else {
                tcpw__delack_schedule(c);
            }
            if (advanced)
                tcpw__conn_wake(c);
        }
    }

    /* "Eighth, check the FIN bit". An out-of-order FIN is remembered and
     * processed when the data before it is in. */
    if (seg->flags & TCPW_FIN) {
        uint32_t fseq = seg->seq + (uint32_t)seg->payload_len;
        if (fseq == c->rcv_nxt) {
            if (fin_input(c))
                return;
        } else if (seq_gt(fseq, c->rcv_nxt)) {
            c->fin_ooo = true;
            c->fin_ooo_seq = fseq;
        } else if (c->fin_rcvd) {
            c->ack_now = true; /* a retransmitted FIN: our ACK was lost */
        }
    } else if (c->fin_ooo && c->fin_ooo_seq == c->rcv_nxt) {
        if (fin_input(c))
            return;
    }
    tcpw__output(c);
}

void tcpw__tcp_input(struct tcpw_stack *s, const struct tcpw_packet *p)
{
    struct tcpw_tuple tuple;
    struct tcpw_conn *c;
    struct tcpw_tw *tw;
    uint32_t tw_iss = 0;
    struct tcpw_listener *l;

    tuple_of(p, &tuple);
    c = tcpw__conn_find(s, &tuple);
    if (c) {
        /* Anything from the peer shows it is alive (keepalive). */
        tcpw__conn_heard(c, s->now);
        switch (c->state) {
        case TCPW_SYN_SENT:
            syn_sent_input(c, p);
            break;
        default:
            synchronized_input(c, p);
            break;
        }
        return;
    }
    tw = tcpw__tw_find(s, &tuple);
    if (tw && tcpw__tw_input(s, tw, p, &tw_iss))
        return;
    l = tcpw__listener_find(s, tuple.laddr, tuple.lport);
    if (l) {
        listen_input(s, l, p, tw_iss);
        return;
    }
    /* RFC 9293 §3.10.7.1: "If the state is CLOSED (i.e., TCB does not exist)
     * then all data in the incoming segment is discarded. An incoming segment
     * containing a RST is discarded. An incoming segment not containing a RST
     * causes a RST to be sent in response." */
    tcpw__tcp_send_reset_for(s, p);
}
