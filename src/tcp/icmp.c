/* tcp/ — ICMP: echo, and errors about our TCP connections.
 *
 * RFC 792, RFC 1122 §3.2.2 (which messages to answer and when not), §3.2.2.6
 * (echo), §4.2.3.9 (TCP's reaction: soft and hard errors), RFC 5927 (ICMP
 * attacks against TCP: validate the quoted sequence number; treat hard errors
 * as soft in synchronized states), RFC 1191 (fragmentation needed: path MTU),
 * RFC 6633 (ignore source quench). Linux's choices where the RFCs leave room:
 * any unreachable aborts a connection in SYN-SENT; errors in established
 * connections are remembered and reported if it later times out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/conn.h"
#include "tcp/tcp.h"

enum {
    ICMP_ECHO_REPLY = 0,
    ICMP_DEST_UNREACH = 3,
    ICMP_ECHO_REQUEST = 8,
    ICMP_TIME_EXCEEDED = 11,
    ICMP_PARAM_PROBLEM = 12,
};

enum {
    UNREACH_NET = 0,
    UNREACH_HOST = 1,
    UNREACH_PROTOCOL = 2,
    UNREACH_PORT = 3,
    UNREACH_FRAG_NEEDED = 4,
};

#define ICMP_RATE_PER_SEC 1000u
#define ICMP_BURST 50u

/* Token bucket: true when one more error may be sent now. */
static bool icmp_allowed(struct tcpw_stack *s)
{
    struct tcpw_tcp_state *t = s->tcp;
    if (s->now >= t->icmp_refill_at) {
        uint64_t periods = (s->now - t->icmp_refill_at) / 1000u + 1u;
        uint64_t tokens = t->icmp_tokens + periods * ICMP_RATE_PER_SEC / 1000u;
        t->icmp_tokens = (uint32_t)(tokens > ICMP_BURST ? ICMP_BURST : tokens);
        t->icmp_refill_at = s->now + 1000u;
    }
    if (t->icmp_tokens == 0) {
        tcpw__count(s, TCPW_CTR_ICMP_RATE_LIMITED);
        return false;
    }
    t->icmp_tokens--;
    return true;
}

void tcpw__icmp_send_unreach(struct tcpw_stack *s, const uint8_t *pkt, size_t len,
                             const struct tcpw_ipv4 *ip, uint8_t code)
{
    uint8_t buf[TCPW_IPV4_HDR_MIN + 8u + 60u + 8u];
    size_t quote = ip->ihl + 8u, n;

    /* RFC 1122 §3.2.2: never about an ICMP error, a fragment past the first,
     * or a datagram not sent to us alone (the stack already dropped those). */
    if (ip->proto == TCPW_IP_PROTO_ICMP || !icmp_allowed(s))
        return;
    if (quote > len)
        quote = len;
    n = tcpw_icmp_build(buf, sizeof(buf), s->addr, ip->src, ICMP_DEST_UNREACH, code, 0, pkt,
                        quote);
    if (!n)
        return;
    tcpw__count(s, TCPW_CTR_ICMP_OUT_MSGS);
    tcpw__count(s, TCPW_CTR_ICMP_OUT_DEST_UNREACHS);
    tcpw__stack_send(s, buf, n);
}

static void echo_reply(struct tcpw_stack *s, const struct tcpw_packet *p)
{
    const struct tcpw_icmp *icmp = &p->l4.icmp;
    size_t cap = TCPW_IPV4_HDR_MIN + 8u + icmp->data_len, len;
    uint8_t *buf = malloc(cap);

    if (!buf)
        return;
    /* RFC 1122 §3.2.2.6: the reply carries the request's identifier,
     * sequence number and data unchanged. */
    len = tcpw_icmp_build(buf, cap, s->addr, p->ip.src, ICMP_ECHO_REPLY, 0, icmp->rest, icmp->data,
                          icmp->data_len);
    if (len) {
        tcpw__count(s, TCPW_CTR_ICMP_OUT_MSGS);
        tcpw__count(s, TCPW_CTR_ICMP_OUT_ECHO_REPS);
        tcpw__stack_send(s, buf, len);
    }
    free(buf);
}

/* The errno of a destination unreachable code, as Linux's icmp_err_convert. */
static int unreach_errno(uint8_t code)
{
    switch (code) {
    case UNREACH_NET:
    case 6:  /* network unknown */
    case 9:  /* network administratively prohibited */
    case 11: /* network unreachable for TOS */
        return ENETUNREACH;
    case UNREACH_PROTOCOL:
        return ENOPROTOOPT;
    case UNREACH_PORT:
        return ECONNREFUSED;
    case 5: /* source route failed */
        return EOPNOTSUPP;
    case 7: /* host unknown */
        return EHOSTDOWN;
    case 13: /* communication administratively prohibited */
        return EACCES;
    default:
        return EHOSTUNREACH;
    }
}

/* RFC 1191: lower the MSS to what the reported next-hop MTU carries and send
 * the first unacknowledged segment again at that size. */
static void path_mtu(struct tcpw_conn *c, uint32_t mtu)
{
    uint32_t mss;
    if (mtu < 68u) /* RFC 1191 §5: a router that does not say gives 0; keep ours */
        return;
    mss = mtu - TCPW_IPV4_HDR_MIN - TCPW_TCP_HDR_MIN;
    if (mss < 88u) /* Linux's TCP_MIN_MSS: no absurd segments */
        mss = 88u;
    if (mss >= c->mss)
        return;
    c->mss = (uint16_t)mss;
    tcpw_cc_set_mss(&c->cc, tcpw__seg_size(c));
    if (tcpw__conn_flight(c) > 0 && tcpw__state_synchronized(c->state)) {
        c->snd_nxt = c->snd_una;
        c->snd_nxt = c->snd_una + tcpw__retransmit_first(c);
        tcpw__output(c);
    }
}

static void tcp_error(struct tcpw_stack *s, const struct tcpw_icmp *icmp)
{
    const uint8_t *q = icmp->data;
    struct tcpw_tuple tuple;
    struct tcpw_conn *c;
    size_t ihl;
    uint32_t seq;
    int err;

    /* The quoted datagram: our IPv4 header and at least 8 bytes of TCP
     * (ports and sequence number), RFC 792 / RFC 1122 §3.2.2. */
    if (icmp->data_len < TCPW_IPV4_HDR_MIN || (q[0] >> 4) != 4)
        return;
    ihl = (size_t)(q[0] & 0x0fu) * 4u;
    if (ihl < TCPW_IPV4_HDR_MIN || icmp->data_len < ihl + 8u || q[9] != TCPW_IP_PROTO_TCP)
        return;
    tuple.laddr = tcpw_get32(q + 12);
    tuple.raddr = tcpw_get32(q + 16);
    tuple.lport = tcpw_get16(q + ihl);
    tuple.rport = tcpw_get16(q + ihl + 2);
    seq = tcpw_get32(q + ihl + 4);
    if (tuple.laddr != s->addr)
        return;
    c = tcpw__conn_find(s, &tuple);
    if (!c)
        return;
    /* RFC 5927 §4.1: only a segment we have in flight can have caused the
     * error; anything else is blind (or very old) and must not hurt us. */
    if (!seq_between(seq, c->snd_una, c->snd_max) || c->snd_una == c->snd_max) {
        tcpw__count(s, TCPW_CTR_OUT_OF_WINDOW_ICMPS);
        return;
    }
    if (icmp->type == ICMP_DEST_UNREACH && icmp->code == UNREACH_FRAG_NEEDED) {
        path_mtu(c, icmp->rest & 0xffffu);
        return;
    }
    err = icmp->type == ICMP_DEST_UNREACH ? unreach_errno(icmp->code) : EHOSTUNREACH;
    if (icmp->type == ICMP_PARAM_PROBLEM)
        err = EPROTO;
    if (c->state == TCPW_SYN_SENT) {
        /* The connect fails at once with the error (Linux); for port and
         * protocol unreachable this is RFC 1122's hard error. */
        c->reason = TCPW_REASON_ICMP_ERROR;
        tcpw__conn_done(c, err);
        return;
    }
    /* Synchronized: RFC 5927 §4.2 / RFC 1122 §4.2.3.9 — keep it as a soft
     * error; the retransmission timer decides, and reports it. */
    c->soft_error = err;
}

void tcpw__icmp_input(struct tcpw_stack *s, const struct tcpw_packet *p)
{
    const struct tcpw_icmp *icmp = &p->l4.icmp;

    switch (icmp->type) {
    case ICMP_ECHO_REQUEST:
        if (icmp->code == 0) {
            tcpw__count(s, TCPW_CTR_ICMP_IN_ECHOS);
            echo_reply(s, p);
        }
        break;
    case ICMP_DEST_UNREACH:
        tcpw__count(s, TCPW_CTR_ICMP_IN_DEST_UNREACHS);
        tcp_error(s, icmp);
        break;
    case ICMP_TIME_EXCEEDED:
    case ICMP_PARAM_PROBLEM:
        tcp_error(s, icmp);
        break;
    default:
        /* Echo replies, source quench (RFC 6633: ignored), the rest. */
        break;
    }
}
