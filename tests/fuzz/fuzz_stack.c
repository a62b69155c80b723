/* libFuzzer target for the whole stack: the input is a little program of
 * peer segments (with valid checksums, so they get past wire/ into the state
 * machine), ICMP errors, time jumps and application calls against one stack
 * with a listener and an outgoing connection. Segments can be numbered
 * relative to what the stack last sent, so the fuzzer reaches every state of
 * RFC 9293's diagram, not just CLOSED and LISTEN.
 *
 * Checked: no crash, no undefined behaviour, no leak (ASan/UBSan/LSan), and
 * invariants after every step: per-state counts never underflow, time never
 * runs backwards through the deadline, destroying the stack frees everything.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpwave/tcpwave.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LOCAL 0x0a000001u
#define PEER 0x0a000002u
#define NFD 8

#define FAIL_IF(cond)                                                                              \
    do {                                                                                           \
        if (cond) {                                                                                \
            fprintf(stderr, "fuzz_stack: %s:%d: %s\n", __FILE__, __LINE__, #cond);                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct reader {
    const uint8_t *p;
    size_t n;
};

static uint8_t u8(struct reader *r)
{
    uint8_t v = 0;
    if (r->n) {
        v = *r->p++;
        r->n--;
    }
    return v;
}

static uint16_t u16(struct reader *r) { return (uint16_t)((u8(r) << 8) | u8(r)); }
static uint32_t u32(struct reader *r) { return ((uint32_t)u16(r) << 16) | u16(r); }

/* What the peer knows from the stack's last segment to each peer port. */
struct peer_view {
    uint16_t pport, lport;
    uint32_t next_seq; /* the stack's last ACK: what it expects from us */
    uint32_t next_ack; /* past the stack's last segment */
    bool known;
};

struct world {
    bool small_range;  /* ip_local_port_range 40000-40019 */
    uint64_t usage_tw; /* check_port_usage's sum */
    struct tcpw_stack *s;
    uint64_t now;
    struct peer_view views[4];
    int fds[NFD];
    uint8_t pkt[70000];
    uint8_t payload[1500];
};

static void on_output(void *user, const uint8_t *pkt, size_t len, uint64_t now)
{
    struct world *w = user;
    struct tcpw_packet p;
    (void)now;
    /* Everything the stack sends must parse: it builds only valid packets. */
    FAIL_IF(tcpw_packet_parse(pkt, len, &p) != TCPW_DROP_NONE);
    FAIL_IF(p.ip.src != LOCAL);
    if (p.ip.proto != TCPW_IP_PROTO_TCP)
        return;
    for (int i = 0; i < 4; i++) {
        struct peer_view *v = &w->views[i];
        if (v->pport == p.l4.tcp.dport) {
            uint32_t len_seq = (uint32_t)p.l4.tcp.payload_len +
                               ((p.l4.tcp.flags & TCPW_SYN) ? 1u : 0u) +
                               ((p.l4.tcp.flags & TCPW_FIN) ? 1u : 0u);
            v->lport = p.l4.tcp.sport;
            if (p.l4.tcp.flags & TCPW_ACK)
                v->next_seq = p.l4.tcp.ack;
            v->next_ack = p.l4.tcp.seq + len_seq;
            v->known = true;
        }
    }
}

static void peer_segment(struct world *w, struct reader *r)
{
    struct peer_view *v = &w->views[u8(r) % 4];
    struct tcpw_tcp_out o = {0};
    uint8_t mode = u8(r);
    uint8_t optmask;
    size_t n;

    o.src = PEER;
    o.dst = LOCAL;
    o.sport = v->pport;
    o.dport = v->known ? v->lport : 80;
    o.flags = u8(r);
    o.seq = u32(r);
    o.ack = u32(r);
    if ((mode & 1) && v->known)
        o.seq = v->next_seq + (uint32_t)(int8_t)(o.seq & 0xff);
    if ((mode & 2) && v->known)
        o.ack = v->next_ack + (uint32_t)(int8_t)(o.ack & 0xff);
    o.wnd = u16(r);
    optmask = u8(r);
    o.opts.has_mss = optmask & 1;
    o.opts.mss = u16(r);
    o.opts.has_wscale = (optmask & 2) != 0;
    o.opts.wscale = u8(r);
    o.opts.sack_permitted = (optmask & 4) != 0;
    o.opts.has_ts = (optmask & 8) != 0;
    o.opts.ts_val = u32(r);
    o.opts.ts_ecr = u32(r);
    if (optmask & 16) {
        o.opts.sack_count = 1;
        o.opts.sack[0].left = v->next_seq + u16(r);
        o.opts.sack[0].right = o.opts.sack[0].left + u16(r);
    }
    o.payload_len = (size_t)u8(r) * ((mode & 4) ? 6u : 1u);
    if (o.payload_len > sizeof(w->payload))
        o.payload_len = sizeof(w->payload);
    memset(w->payload, 'p', o.payload_len);
    o.payload = w->payload;
    n = tcpw_tcp_build(w->pkt, sizeof(w->pkt), &o);
    if (n)
        tcpw_stack_input(w->s, w->pkt, n, w->now);
}

static void icmp_error(struct world *w, struct reader *r)
{
    struct peer_view *v = &w->views[u8(r) % 4];
    uint8_t quote[28] = {0}, buf[128];
    size_t n;

    n = tcpw_ipv4_build(quote, sizeof(quote), LOCAL, PEER, TCPW_IP_PROTO_TCP, 64, 0, true, 20);
    if (!n)
        return;
    tcpw_put16(quote + 20, v->lport ? v->lport : 80);
    tcpw_put16(quote + 22, v->pport);
    tcpw_put32(quote + 24, v->next_ack - (u8(r) & 3) + u8(r));
    n = tcpw_icmp_build(buf, sizeof(buf), PEER, LOCAL, u8(r) % 13, u8(r) % 16, u16(r), quote,
                        sizeof(quote));
    if (n)
        tcpw_stack_input(w->s, buf, n, w->now);
}

static void raw_packet(struct world *w, struct reader *r)
{
    size_t len = u8(r);
    uint8_t *p = w->pkt;
    if (len < 20)
        len = 20;
    for (size_t i = 0; i < len; i++)
        p[i] = u8(r);
    /* Make the IP header plausible so the bytes reach the protocol layer. */
    p[0] = 0x45;
    tcpw_put16(p + 2, (uint16_t)len);
    tcpw_put16(p + 6, 0);
    tcpw_put32(p + 12, PEER);
    tcpw_put32(p + 16, LOCAL);
    tcpw_put16(p + 10, 0);
    tcpw_put16(p + 10, tcpw_csum_fold(tcpw_csum_partial(p, 20, 0)));
    if (p[9] == TCPW_IP_PROTO_TCP && len >= 40) {
        uint32_t sum = tcpw_csum_pseudo(PEER, LOCAL, TCPW_IP_PROTO_TCP, (uint16_t)(len - 20));
        tcpw_put16(p + 36, 0);
        tcpw_put16(p + 36, tcpw_csum_fold(tcpw_csum_partial(p + 20, len - 20, sum)));
    }
    tcpw_stack_input(w->s, p, len, w->now);
}

static int *fd_slot(struct world *w, struct reader *r) { return &w->fds[u8(r) % NFD]; }

static void app_call(struct world *w, struct reader *r)
{
    int *fd = fd_slot(w, r);
    uint8_t arg = u8(r);
    char buf[4096];

    switch (u8(r) % 9) {
    case 0:
        if (*fd < 0) {
            *fd = tcpw_socket(w->s);
            /* Sometimes from a chosen port of the (small) range, which a
             * connection or a TIME_WAIT record may hold already. */
            if (*fd >= 0 && (arg & 0x80))
                tcpw_bind(w->s, *fd, 0, (uint16_t)(40000 + arg % 24));
            if (*fd >= 0)
                tcpw_connect(w->s, *fd, PEER, w->views[arg % 4].pport);
        }
        break;
    case 1:
        if (*fd < 0)
            *fd = tcpw_accept(w->s, w->fds[0], NULL, NULL);
        if (*fd < 0)
            *fd = -1;
        break;
    case 2:
        memset(buf, 's', sizeof(buf));
        tcpw_send(w->s, *fd, buf, (size_t)arg * 16u);
        break;
    case 3:
        tcpw_recv(w->s, *fd, buf, (size_t)arg * 16u + 1u, (arg & 1) ? TCPW_MSG_PEEK : 0);
        break;
    case 4:
        tcpw_shutdown(w->s, *fd, arg % 4);
        break;
    case 5:
        if (*fd > 0 && tcpw_close(w->s, *fd) != -EINPROGRESS)
            *fd = -1;
        break;
    case 6: {
        struct tcpw_linger lg = {arg & 1, (arg >> 1) % 4};
        tcpw_setsockopt(w->s, *fd, TCPW_SO_LINGER, &lg, sizeof(lg));
        break;
    }
    case 7: {
        int v = u8(r);
        tcpw_setsockopt(w->s, *fd, (int)(arg % 13) + 1, &v, sizeof(v));
        break;
    }
    default: {
        struct tcpw_conn_info info;
        unsigned ev = tcpw_poll(w->s, *fd);
        (void)ev;
        tcpw_conn_info(w->s, *fd, &info);
        tcpw_close_status(w->s, *fd);
        break;
    }
    }
}

/* The per-destination accounting agrees with itself: the walk over every
 * destination and the per-destination count, and the TIME_WAIT count. */
static int usage_visit(void *user, const struct tcpw_port_dest_usage *d)
{
    struct world *w = user;
    struct tcpw_port_usage u;

    FAIL_IF(tcpw_port_usage(w->s, d->laddr, d->raddr, d->rport, &u) != 0);
    FAIL_IF(memcmp(&u, &d->usage, sizeof(u)) != 0);
    FAIL_IF(u.connections + u.time_wait + u.listening + u.free != u.range);
    FAIL_IF(u.connections + u.time_wait == 0);
    w->usage_tw += u.time_wait;
    return 0;
}

static void check_port_usage(struct world *w)
{
    int rc;

    w->usage_tw = 0;
    rc = tcpw_port_usage_foreach(w->s, usage_visit, w);
    FAIL_IF(rc != 0 && rc != -ENOMEM);
    /* Every record of this stack is toward PEER from the range or from the
     * listener's port 80 (outside it). */
    FAIL_IF(rc == 0 && w->usage_tw > tcpw_tw_count(w->s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct world w;
    struct reader r = {data, size};
    struct tcpw_config cfg = tcpw_config_linux_defaults;
    struct tcpw_stack_params params = {.addr = LOCAL, .seed = 7, .output = on_output};
    int steps = 0;

    memset(w.views, 0, sizeof(w.views));
    for (int i = 0; i < 4; i++)
        w.views[i].pport = (uint16_t)(40000 + i);
    for (int i = 0; i < NFD; i++)
        w.fds[i] = -1;
    cfg.tcp_rmem_default = 8192;
    cfg.tcp_wmem_default = 8192;
    {
        /* The first byte picks a profile, so the fuzzer also reaches port
         * exhaustion, busy destinations, tw_reuse take-overs, the TIME_WAIT
         * limits and the offset-less timestamp clock. */
        uint8_t prof = u8(&r);
        w.small_range = prof & 1;
        if (w.small_range) {
            cfg.ip_local_port_range_min = 40000;
            cfg.ip_local_port_range_max = 40019;
        }
        cfg.tcp_tw_reuse = (prof & 2) ? 1 : 2;
        if (prof & 4) {
            cfg.tcp_max_tw_buckets = 4;
            cfg.tcp_tw_overflow_policy = (prof >> 3) & 1;
        }
        if (prof & 16)
            cfg.tcp_tw_dest_quota = 3;
        if (prof & 32)
            cfg.tcp_timestamps = 2;
    }
    params.config = &cfg;
    params.output_user = &w;
    w.now = 1000000;
    if (tcpw_stack_create(&params, w.now, &w.s) != 0)
        return 0;
    w.fds[0] = tcpw_socket(w.s);
    FAIL_IF(w.fds[0] != 0 || tcpw_bind(w.s, 0, 0, 80) || tcpw_listen(w.s, 0, 2));

    while (r.n && steps++ < 400) {
        uint64_t counts[TCPW_STATE_COUNT];
        switch (u8(&r) % 6) {
        case 0:
        case 1:
            peer_segment(&w, &r);
            break;
        case 2: {
            /* Time jumps from microseconds to hours. */
            uint8_t e = u8(&r) % 34;
            w.now += (uint64_t)1 << e;
            tcpw_stack_advance(w.s, w.now);
            break;
        }
        case 3:
            app_call(&w, &r);
            break;
        case 4:
            icmp_error(&w, &r);
            break;
        default:
            raw_packet(&w, &r);
            break;
        }
        tcpw_state_counts(w.s, counts);
        for (int st = 0; st < TCPW_STATE_COUNT; st++)
            FAIL_IF(counts[st] > 100000); /* an underflowed count */
        if (w.small_range)
            check_port_usage(&w);
        /* After running what is due, nothing may be due in the past. */
        tcpw_stack_advance(w.s, w.now);
        FAIL_IF(tcpw_stack_next_deadline(w.s) < w.now);
    }
    tcpw_stack_destroy(w.s);
    w.s = NULL;
    return 0;
}
