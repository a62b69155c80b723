/* The handshake's details beyond the state arcs: SYN,ACK retransmission and
 * the half-open connection's silent end, the listen backlog, and what the
 * SYN options negotiate (RFC 9293 §3.7.1 MSS, RFC 7323 window scale and
 * timestamps, RFC 2018 SACK-permitted), with TCP_MAXSEG, SO_RCVBUF and
 * SO_SNDBUF set before the connection starts. Every segment is checked on
 * the wire: flags, numbers, length, window and options.
 */
#include <errno.h>
#include <string.h>

#include "tcp/conn.h"
#include "tcptest.h"

#define SEC 1000000ull

static uint64_t state_count(struct tt *t, enum tcpw_state st)
{
    uint64_t counts[TCPW_STATE_COUNT];
    tcpw_state_counts(t->stack, counts);
    return counts[st];
}

static uint64_t ctr(struct tt *t, enum tcpw_counter c)
{
    return tcpw_stack_counter(t->stack, c);
}

static void fill(uint8_t *buf, size_t len, uint32_t seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(seed + i * 7u + (i >> 8));
}

static int listen_on_80(struct tt *t, int backlog)
{
    t->lfd = tcpw_socket(t->stack);
    if (t->lfd < 0 || tcpw_bind(t->stack, t->lfd, 0, 80) || tcpw_listen(t->stack, t->lfd, backlog))
        return -1;
    t->lport = 80;
    return 0;
}

/* SYN,ACK retransmitted after 1, 2, 4, 8 and 16 s (tcp_synack_retries = 5,
 * initial RTO 1 s doubling, RFC 6298 §5.5), each one identical but for its
 * TSval; 32 s after the last one the half-open connection vanishes without
 * a word (Linux's request-socket expiry, 63 s after the SYN). The listener
 * stays, and the peer's late ACK then meets no connection: RST. */
static void test_synack_retransmission_backoff(void)
{
    struct tt t;
    uint64_t start, expect_at = 0;
    uint32_t first_tsval;
    const struct tcpw_tcp_opts *o = &t.last.l4.tcp.opts;

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK_EQ_I(listen_on_80(&t, 8), 0);
    t.pport = 40000;
    CHECK_EQ_I(tt_send_full(&t, TCPW_SYN, TT_PEER_ISS, 0, 65535, NULL, 0, true), 0);
    start = t.now;
    TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, TT_ANY, TT_PEER_ISS + 1, 0);
    t.local_iss = t.last.l4.tcp.seq;
    first_tsval = o->ts_val;
    for (int i = 0; i < 5; i++) {
        expect_at += SEC << i;
        tt_run_to_deadline(&t, 200 * SEC);
        CHECK_EQ(t.now - start, expect_at);
        TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, t.local_iss, TT_PEER_ISS + 1, 0);
        CHECK(o->has_mss && o->mss == 1460);
        CHECK(o->sack_permitted && o->has_wscale && o->wscale == 2);
        CHECK(o->has_ts && o->ts_ecr == t.peer_ts);
        CHECK_EQ(o->ts_val - first_tsval, expect_at / 1000); /* a 1 ms clock */
        CHECK_EQ(t.last.l4.tcp.wnd, 65535);
    }
    CHECK_EQ(ctr(&t, TCPW_CTR_TCP_RETRANS_SEGS), 5);
    CHECK_EQ(state_count(&t, TCPW_SYN_RECEIVED), 1);
    tt_run_to_deadline(&t, 200 * SEC);
    CHECK_EQ(t.now - start, 63 * SEC);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(state_count(&t, TCPW_SYN_RECEIVED), 0);
    CHECK_STATE(&t, t.lfd, TCPW_LISTEN);
    CHECK_EQ(tcpw_stack_next_deadline(t.stack), TCPW_NO_DEADLINE);
    CHECK_EQ(ctr(&t, TCPW_CTR_TCP_OUT_RSTS), 0);
    CHECK_EQ_I(tcpw_accept(t.stack, t.lfd, NULL, NULL), -EAGAIN);
    /* The peer's ACK arrives too late: LISTEN answers <SEQ=SEG.ACK><CTL=RST>. */
    TT_SEND(&t, TCPW_ACK, TT_PEER_ISS + 1, t.local_iss + 1, NULL, 0);
    TT_EXPECT(&t, TCPW_RST, t.local_iss + 1, TT_ANY, 0);
    /* A new SYN is answered as usual. */
    CHECK_EQ_I(tt_send_full(&t, TCPW_SYN, 1000, 0, 65535, NULL, 0, true), 0);
    TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, TT_ANY, 1001, 0);
    CHECK_EQ(state_count(&t, TCPW_SYN_RECEIVED), 1);
    CHECK_EQ(tt_fini(&t), 0);
}

/* The peer's SYN again while we are in SYN_RECEIVED (our SYN,ACK was
 * lost): the SYN,ACK goes out again at once, as Linux's tcp_check_req()
 * does, not a bare ACK a peer in SYN-SENT cannot use; the SYN,ACK timer
 * keeps its schedule. */
static void test_duplicate_syn_gets_synack(void)
{
    struct tt t;
    uint64_t start;

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK_EQ_I(listen_on_80(&t, 8), 0);
    t.pport = 40000;
    CHECK_EQ_I(tt_send_full(&t, TCPW_SYN, TT_PEER_ISS, 0, 65535, NULL, 0, true), 0);
    start = t.now;
    TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, TT_ANY, TT_PEER_ISS + 1, 0);
    t.local_iss = t.last.l4.tcp.seq;
    tt_advance(&t, 300000);
    t.peer_ts += 300;
    CHECK_EQ_I(tt_send_full(&t, TCPW_SYN, TT_PEER_ISS, 0, 65535, NULL, 0, true), 0);
    TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, t.local_iss, TT_PEER_ISS + 1, 0);
    CHECK(t.last.l4.tcp.opts.has_mss && t.last.l4.tcp.opts.has_ts);
    CHECK_EQ(ctr(&t, TCPW_CTR_TCP_RETRANS_SEGS), 1);
    CHECK_EQ(ctr(&t, TCPW_CTR_TCP_CHALLENGE_ACK), 0);
    CHECK_EQ(state_count(&t, TCPW_SYN_RECEIVED), 1);
    tt_run_to_deadline(&t, 10 * SEC);
    CHECK_EQ(t.now - start, SEC);
    TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, t.local_iss, TT_PEER_ISS + 1, 0);
    TT_SEND(&t, TCPW_ACK, TT_PEER_ISS + 1, t.local_iss + 1, NULL, 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK(tcpw_accept(t.stack, t.lfd, NULL, NULL) >= 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* Completes a passive handshake from peer port `pport` (accept queue gets
 * one more); returns false on any difference. */
static bool handshake_from(struct tt *t, uint16_t pport)
{
    t->pport = pport;
    if (tt_send_full(t, TCPW_SYN, TT_PEER_ISS, 0, 65535, NULL, 0, true))
        return false;
    if (!tt_expect(t, TCPW_SYN | TCPW_ACK, TT_ANY, TT_PEER_ISS + 1, 0, __FILE__, __LINE__))
        return false;
    t->local_iss = t->last.l4.tcp.seq;
    if (tt_send(t, TCPW_ACK, TT_PEER_ISS + 1, t->local_iss + 1, NULL, 0))
        return false;
    return tt_pending(t) == 0;
}

/* Accept queue full: like Linux (sk_acceptq_is_full() is "more than
 * backlog"), listen(1) queues two connections; the third SYN is dropped
 * with no answer (the peer's SYN timer retries), counted as ListenOverflows
 * and ListenDrops, and no half-open connection is made. Once accept() makes
 * room, the peer's retransmitted SYN is answered. */
static void test_listen_backlog_drops_syn(void)
{
    struct tt t;
    int fd;

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK_EQ_I(listen_on_80(&t, 1), 0);
    CHECK(handshake_from(&t, 40001));
    CHECK(handshake_from(&t, 40002));
    CHECK(tcpw_poll(t.stack, t.lfd) & TCPW_POLLIN);
    CHECK_EQ(state_count(&t, TCPW_ESTABLISHED), 2);

    t.pport = 40003;
    CHECK_EQ_I(tt_send_full(&t, TCPW_SYN, TT_PEER_ISS, 0, 65535, NULL, 0, true), 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_LISTEN_OVERFLOWS), 1);
    CHECK_EQ(ctr(&t, TCPW_CTR_LISTEN_DROPS), 1);
    CHECK_EQ(state_count(&t, TCPW_SYN_RECEIVED), 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_TCP_PASSIVE_OPENS), 2);
    TT_EXPECT_NOTHING(&t, 3 * SEC); /* nothing was kept that could retransmit */

    fd = tcpw_accept(t.stack, t.lfd, NULL, NULL);
    CHECK(fd >= 0);
    /* The peer's SYN again, after its 1 s timeout: now there is room. */
    CHECK_EQ_I(tt_send_full(&t, TCPW_SYN, TT_PEER_ISS, 0, 65535, NULL, 0, true), 0);
    TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, TT_ANY, TT_PEER_ISS + 1, 0);
    t.local_iss = t.last.l4.tcp.seq;
    TT_SEND(&t, TCPW_ACK, TT_PEER_ISS + 1, t.local_iss + 1, NULL, 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_LISTEN_OVERFLOWS), 1);
    CHECK(tcpw_accept(t.stack, t.lfd, NULL, NULL) >= 0);
    CHECK(tcpw_accept(t.stack, t.lfd, NULL, NULL) >= 0);
    CHECK_EQ_I(tcpw_accept(t.stack, t.lfd, NULL, NULL), -EAGAIN);
    CHECK_EQ(tt_fini(&t), 0);
}

/* The queue fills while handshakes are in flight: the ACK that would
 * overflow it is dropped (Linux's tcp_v4_syn_recv_sock(): ListenOverflows
 * and ListenDrops, tcp_abort_on_overflow = 0), the connection stays in
 * SYN_RECEIVED and its SYN,ACK timer goes on; after accept() the peer's
 * next ACK completes it. */
static void test_listen_backlog_drops_final_ack(void)
{
    struct tt t;
    uint32_t iss[3];
    uint16_t ports[3] = {40001, 40002, 40003};

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK_EQ_I(listen_on_80(&t, 1), 0);
    for (int i = 0; i < 3; i++) {
        t.pport = ports[i];
        CHECK_EQ_I(tt_send_full(&t, TCPW_SYN, TT_PEER_ISS, 0, 65535, NULL, 0, true), 0);
        TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, TT_ANY, TT_PEER_ISS + 1, 0);
        CHECK_EQ(t.last.l4.tcp.dport, ports[i]);
        iss[i] = t.last.l4.tcp.seq;
    }
    CHECK_EQ(state_count(&t, TCPW_SYN_RECEIVED), 3);
    for (int i = 0; i < 3; i++) {
        t.pport = ports[i];
        TT_SEND(&t, TCPW_ACK, TT_PEER_ISS + 1, iss[i] + 1, NULL, 0);
        TT_EXPECT_NOTHING(&t, 0);
    }
    CHECK_EQ(state_count(&t, TCPW_ESTABLISHED), 2);
    CHECK_EQ(state_count(&t, TCPW_SYN_RECEIVED), 1);
    CHECK_EQ(ctr(&t, TCPW_CTR_LISTEN_OVERFLOWS), 1);
    CHECK_EQ(ctr(&t, TCPW_CTR_LISTEN_DROPS), 1);
    /* The third connection's SYN,ACK goes out again at 1 s. */
    CHECK_EQ(tt_run_to_deadline(&t, 10 * SEC), SEC);
    TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, iss[2], TT_PEER_ISS + 1, 0);
    CHECK_EQ(t.last.l4.tcp.dport, ports[2]);
    CHECK(tcpw_accept(t.stack, t.lfd, NULL, NULL) >= 0);
    TT_SEND(&t, TCPW_ACK, TT_PEER_ISS + 1, iss[2] + 1, NULL, 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(state_count(&t, TCPW_SYN_RECEIVED), 0);
    CHECK(tcpw_accept(t.stack, t.lfd, NULL, NULL) >= 0);
    CHECK(tcpw_accept(t.stack, t.lfd, NULL, NULL) >= 0);
    CHECK_EQ_I(tcpw_accept(t.stack, t.lfd, NULL, NULL), -EAGAIN);
    TT_EXPECT_NOTHING(&t, 100 * SEC);
    CHECK_EQ(tt_fini(&t), 0);
}

/* Sends `len` bytes through the connection and checks the segments that
 * carry them: full ones of `seg` bytes, PSH only on the last. */
static bool send_and_expect_segments(struct tt *t, size_t len, uint32_t seg)
{
    static uint8_t buf[65536];
    size_t off = 0;

    fill(buf, len, 3);
    if (tcpw_send(t->stack, t->fd, buf, len) != (ssize_t)len)
        return false;
    while (off < len) {
        size_t n = len - off < seg ? len - off : seg;
        uint8_t flags = TCPW_ACK | (off + n == len ? TCPW_PSH : 0);
        if (!tt_expect(t, flags, t->local_nxt, t->peer_nxt, n, __FILE__, __LINE__))
            return false;
        if (memcmp(t->last.l4.tcp.payload, buf + off, n) != 0)
            return false;
        off += n;
        t->local_nxt += (uint32_t)n;
    }
    return tt_pending(t) == 0;
}

/* Peer MSS 536: our segments carry 536 - 12 bytes, the timestamp option
 * taking 12 (RFC 9293 §3.7.1: SendMSS counts options; Linux's mss_cache). */
static void test_mss_peer_536(void)
{
    struct tt t;
    struct tcpw_conn_info ci;
    struct tcpw_tcp_opts o = tt_linux_syn_opts();

    o.mss = 536;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active_opts(&t, -1, &o, 65535));
    CHECK(t.local_syn_opts.has_mss && t.local_syn_opts.mss == 1460);
    CHECK_EQ_I(tcpw_conn_info(t.stack, t.fd, &ci), 0);
    CHECK_EQ(ci.mss, 536);
    CHECK(ci.ts_ok);
    CHECK(send_and_expect_segments(&t, 2000, 524));
    CHECK(t.last.l4.tcp.opts.has_ts);
    CHECK_EQ(tt_fini(&t), 0);
}

/* A SYN without an MSS option: RFC 9293 §3.7.1's default of 536. Our
 * SYN,ACK still offers ours. */
static void test_mss_default_536(void)
{
    struct tt t;
    struct tcpw_conn_info ci;
    struct tcpw_tcp_opts o = tt_linux_syn_opts();

    o.has_mss = false;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_passive_opts(&t, &o, 65535));
    CHECK(t.local_syn_opts.has_mss && t.local_syn_opts.mss == 1460);
    CHECK_EQ_I(tcpw_conn_info(t.stack, t.fd, &ci), 0);
    CHECK_EQ(ci.mss, 536);
    CHECK(send_and_expect_segments(&t, 1100, 524));
    CHECK_EQ(tt_fini(&t), 0);
}

/* Window scale (RFC 7323 §2): our shift (2, enough for the 128 KiB receive
 * buffer) goes in our SYN, whose own window is never scaled (65535); from
 * the third segment on our windows are scaled (131072 >> 2). The peer's
 * shift of 7 is applied to every window it sends after its SYN,ACK. */
static void test_wscale_both(void)
{
    struct tt t;
    struct tcpw_conn_info ci;
    struct tcpw_tcp_opts o = tt_linux_syn_opts();

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active_opts(&t, -1, &o, 65535));
    CHECK(t.local_syn_opts.has_wscale);
    CHECK_EQ(t.local_syn_opts.wscale, 2);
    CHECK_EQ(t.local_syn_wnd, 65535);
    CHECK_EQ(t.last.l4.tcp.wnd, 32768); /* the handshake's ACK: scaled */
    CHECK_EQ_I(tcpw_conn_info(t.stack, t.fd, &ci), 0);
    CHECK_EQ(ci.snd_wscale, 7);
    CHECK_EQ(ci.rcv_wscale, 2);
    CHECK_EQ(ci.snd_wnd, 65535); /* the SYN,ACK's window is not scaled */
    CHECK_EQ(ci.rcv_wnd, 131072);
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, t.local_nxt, NULL, 0); /* wnd 65535 << 7 */
    CHECK_EQ_I(tcpw_conn_info(t.stack, t.fd, &ci), 0);
    CHECK_EQ(ci.snd_wnd, 65535u << 7);
    CHECK_EQ_I(tt_send_opts(&t, TCPW_ACK, t.peer_nxt, t.local_nxt, 100, NULL, NULL, 0), 0);
    CHECK_EQ_I(tcpw_conn_info(t.stack, t.fd, &ci), 0);
    CHECK_EQ(ci.snd_wnd, 12800);
    /* Data from the peer: our ACK's window is scaled by our shift. */
    TT_SEND(&t, TCPW_ACK | TCPW_PSH, t.peer_nxt, t.local_nxt, "0123456789", 10);
    t.peer_nxt += 10;
    tt_run_to_deadline(&t, SEC);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    /* 131062 bytes free: rounded up to the scale's granularity, so that
     * the right edge never moves left (Linux's tcp_select_window()). */
    CHECK_EQ(t.last.l4.tcp.wnd, (131072 - 10 + 3) >> 2);
    CHECK_EQ(tt_fini(&t), 0);
}

/* RFC 7323 §2.3: a shift above 14 is taken as 14. */
static void test_wscale_clamped_to_14(void)
{
    struct tt t;
    struct tcpw_conn_info ci;
    struct tcpw_tcp_opts o = tt_linux_syn_opts();

    o.wscale = 15;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active_opts(&t, -1, &o, 65535));
    CHECK_EQ_I(tt_send_opts(&t, TCPW_ACK, t.peer_nxt, t.local_nxt, 1, NULL, NULL, 0), 0);
    CHECK_EQ_I(tcpw_conn_info(t.stack, t.fd, &ci), 0);
    CHECK_EQ(ci.snd_wscale, 14);
    CHECK_EQ(ci.snd_wnd, 16384);
    CHECK_EQ(tt_fini(&t), 0);
}

/* A peer without window scaling: neither side scales (RFC 7323 §2.2), so
 * our windows stop at 65535 although the buffer is 128 KiB, and the peer's
 * windows are taken as they are. */
static void test_wscale_peer_without(void)
{
    struct tt t;
    struct tcpw_conn_info ci;
    struct tcpw_tcp_opts o = tt_linux_syn_opts();

    o.has_wscale = false;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active_opts(&t, -1, &o, 65535));
    CHECK(t.local_syn_opts.has_wscale); /* we offered */
    CHECK_EQ(t.last.l4.tcp.wnd, 65535);
    CHECK_EQ_I(tcpw_conn_info(t.stack, t.fd, &ci), 0);
    CHECK_EQ(ci.snd_wscale, 0);
    CHECK_EQ(ci.rcv_wscale, 0);
    CHECK_EQ_I(tt_send_opts(&t, TCPW_ACK, t.peer_nxt, t.local_nxt, 1000, NULL, NULL, 0), 0);
    CHECK_EQ_I(tcpw_conn_info(t.stack, t.fd, &ci), 0);
    CHECK_EQ(ci.snd_wnd, 1000);
    TT_SEND(&t, TCPW_ACK | TCPW_PSH, t.peer_nxt, t.local_nxt, "0123456789", 10);
    t.peer_nxt += 10;
    tt_run_to_deadline(&t, SEC);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    CHECK_EQ(t.last.l4.tcp.wnd, 65535);
    CHECK_EQ(tt_fini(&t), 0);
}

/* Passive side: a SYN without window scale gets a SYN,ACK without it. */
static void test_wscale_passive_peer_without(void)
{
    struct tt t;
    struct tcpw_tcp_opts o = tt_linux_syn_opts();

    o.has_wscale = false;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_passive_opts(&t, &o, 65535));
    CHECK(!t.local_syn_opts.has_wscale);
    CHECK(t.local_syn_opts.sack_permitted && t.local_syn_opts.has_ts);
    CHECK_EQ(t.local_syn_wnd, 65535);
    CHECK_EQ(tt_fini(&t), 0);
}

/* SACK-permitted and timestamps are used only when both sides offer them
 * (RFC 2018 §2, RFC 7323 §3.2): a SYN with only an MSS gets a SYN,ACK with
 * only an MSS, and no later segment carries a timestamp or SACK blocks,
 * not even the ACK of out-of-order data. Segments are the full 1460. */
static void test_options_only_when_both_offer(void)
{
    struct tt t;
    struct tcpw_conn_info ci;
    struct tcpw_tcp_opts o = {0};
    const struct tcpw_tcp_opts *lo = &t.last.l4.tcp.opts;

    o.has_mss = true;
    o.mss = 1460;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    t.peer_ts = 0;
    CHECK(tt_conn_established_passive_opts(&t, &o, 65535));
    CHECK(t.local_syn_opts.has_mss);
    CHECK(!t.local_syn_opts.has_ts && !t.local_syn_opts.sack_permitted &&
          !t.local_syn_opts.has_wscale);
    CHECK_EQ_I(tcpw_conn_info(t.stack, t.fd, &ci), 0);
    CHECK(!ci.ts_ok && !ci.sack_ok);
    /* Out-of-order data: an immediate duplicate ACK, without SACK blocks. */
    TT_SEND(&t, TCPW_ACK, t.peer_nxt + 100, t.local_nxt, "abcdefghij", 10);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    CHECK(!lo->has_ts);
    CHECK_EQ(lo->sack_count, 0);
    CHECK(send_and_expect_segments(&t, 3000, 1460));
    CHECK(!lo->has_ts);
    CHECK_EQ(tt_fini(&t), 0);
}

/* Active side: a SYN,ACK without a timestamp turns them off, so the ACK
 * that completes the handshake carries none. */
static void test_active_peer_without_timestamps(void)
{
    struct tt t;
    struct tcpw_conn_info ci;
    struct tcpw_tcp_opts o = tt_linux_syn_opts();

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    t.peer_ts = 0;
    CHECK(tt_conn_established_active_opts(&t, -1, &o, 65535));
    CHECK(t.local_syn_opts.has_ts); /* we offered */
    CHECK(!t.last.l4.tcp.opts.has_ts);
    CHECK_EQ_I(tcpw_conn_info(t.stack, t.fd, &ci), 0);
    CHECK(!ci.ts_ok && ci.sack_ok);
    CHECK(send_and_expect_segments(&t, 1500, 1460));
    CHECK(!t.last.l4.tcp.opts.has_ts);
    CHECK_EQ(tt_fini(&t), 0);
}

/* Our configuration off: tcp_timestamps = 0, tcp_sack = 0 and
 * tcp_window_scaling = 0 offer nothing and use nothing, whatever the peer
 * answers. */
static void test_options_disabled_by_config(void)
{
    struct tt t;
    struct tcpw_conn_info ci;
    struct tcpw_config cfg = tcpw_config_linux_defaults;
    struct tcpw_tcp_opts o = tt_linux_syn_opts();

    CHECK_EQ_I(tcpw_config_set(&cfg, "tcp_timestamps", "0"), 0);
    CHECK_EQ_I(tcpw_config_set(&cfg, "tcp_sack", "0"), 0);
    CHECK_EQ_I(tcpw_config_set(&cfg, "tcp_window_scaling", "0"), 0);
    CHECK_EQ_I(tt_init(&t, &cfg), 0);
    CHECK(tt_conn_established_active_opts(&t, -1, &o, 65535));
    CHECK(t.local_syn_opts.has_mss);
    CHECK(!t.local_syn_opts.has_ts && !t.local_syn_opts.sack_permitted &&
          !t.local_syn_opts.has_wscale);
    CHECK(!t.last.l4.tcp.opts.has_ts);
    CHECK_EQ(t.last.l4.tcp.wnd, 65535);
    CHECK_EQ_I(tcpw_conn_info(t.stack, t.fd, &ci), 0);
    CHECK(!ci.ts_ok && !ci.sack_ok);
    CHECK_EQ(ci.snd_wscale, 0);
    CHECK_EQ(ci.rcv_wscale, 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* tcp_timestamps: 1 adds the secret per-address-pair offset (RFC 7323
 * §5.4), so the SYN's TSval is not the stack's clock; 2 sends the clock
 * itself, in ms, as Linux's tcp_timestamps=2. Two peers at different
 * addresses see different offsets with 1. */
static void test_timestamp_offsets(void)
{
    struct tcpw_config cfg = tcpw_config_linux_defaults;
    struct tcpw_tcp_opts o = tt_linux_syn_opts();
    struct tt t;
    uint32_t tsval1, now_ms;

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active_opts(&t, -1, &o, 65535));
    CHECK(t.local_syn_opts.has_ts);
    now_ms = (uint32_t)(t.stack->now / 1000u);
    tsval1 = t.local_syn_opts.ts_val;
    CHECK_EQ(tsval1, now_ms + tcpw__ts_offset(t.stack, TT_LOCAL, TT_PEER));
    CHECK(tcpw__ts_offset(t.stack, TT_LOCAL, TT_PEER) != 0);
    CHECK(tcpw__ts_offset(t.stack, TT_LOCAL, TT_PEER) !=
          tcpw__ts_offset(t.stack, TT_LOCAL, TT_PEER + 1u));
    CHECK_EQ(tt_fini(&t), 0);

    CHECK_EQ_I(tcpw_config_set(&cfg, "tcp_timestamps", "2"), 0);
    CHECK_EQ_I(tt_init(&t, &cfg), 0);
    CHECK(tt_conn_established_active_opts(&t, -1, &o, 65535));
    CHECK(t.local_syn_opts.has_ts);
    CHECK_EQ(t.local_syn_opts.ts_val, (uint32_t)(t.stack->now / 1000u));
    CHECK_EQ(tcpw__ts_offset(t.stack, TT_LOCAL, TT_PEER), 0);
    CHECK_EQ(tt_fini(&t), 0);
    CHECK_EQ_I(tcpw_config_set(&cfg, "tcp_timestamps", "3"), -ERANGE);
}

/* TCP_MAXSEG before connect clamps the MSS we offer and the one we use;
 * on a listener it clamps what its SYN,ACKs offer. */
static void test_tcp_maxseg_clamp(void)
{
    struct tt t;
    struct tcpw_conn_info ci;
    struct tcpw_tcp_opts o = tt_linux_syn_opts();
    int v = 1000, fd;

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    fd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_setsockopt(t.stack, fd, TCPW_TCP_MAXSEG, &v, sizeof(v)), 0);
    CHECK(tt_conn_established_active_opts(&t, fd, &o, 65535));
    CHECK(t.local_syn_opts.has_mss);
    CHECK_EQ(t.local_syn_opts.mss, 1000);
    CHECK_EQ_I(tcpw_conn_info(t.stack, t.fd, &ci), 0);
    CHECK_EQ(ci.mss, 1000);
    CHECK(send_and_expect_segments(&t, 2500, 988));
    CHECK_EQ(tt_fini(&t), 0);

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    t.lfd = tcpw_socket(t.stack);
    v = 700;
    CHECK_EQ_I(tcpw_setsockopt(t.stack, t.lfd, TCPW_TCP_MAXSEG, &v, sizeof(v)), 0);
    CHECK_EQ_I(tcpw_bind(t.stack, t.lfd, 0, 80), 0);
    CHECK_EQ_I(tcpw_listen(t.stack, t.lfd, 8), 0);
    CHECK(tt_conn_established_passive_opts(&t, &o, 65535));
    CHECK_EQ(t.local_syn_opts.mss, 700);
    CHECK(send_and_expect_segments(&t, 1500, 688));
    CHECK_EQ(tt_fini(&t), 0);
}

/* SO_RCVBUF before connect decides our window and shift: 1 MiB needs a
 * shift of 5 (RFC 7323 §2.3: the smallest shift that covers the buffer), a
 * SYN window of 65535 and then 1048576 >> 5; 8 KiB needs no shift and is
 * advertised as it is, in the SYN too. */
static void test_rcvbuf_sets_window_and_shift(void)
{
    struct tt t;
    struct tcpw_conn_info ci;
    struct tcpw_tcp_opts o = tt_linux_syn_opts();
    int v = 1 << 20, fd, got = 0;
    size_t len = sizeof(got);

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    fd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_setsockopt(t.stack, fd, TCPW_SO_RCVBUF, &v, sizeof(v)), 0);
    CHECK(tt_conn_established_active_opts(&t, fd, &o, 65535));
    CHECK_EQ(t.local_syn_opts.wscale, 5);
    CHECK_EQ(t.local_syn_wnd, 65535);
    CHECK_EQ(t.last.l4.tcp.wnd, (1u << 20) >> 5);
    CHECK_EQ_I(tcpw_conn_info(t.stack, t.fd, &ci), 0);
    CHECK_EQ(ci.rcv_wnd, 1u << 20);
    /* Too late now. */
    CHECK_EQ_I(tcpw_setsockopt(t.stack, t.fd, TCPW_SO_RCVBUF, &v, sizeof(v)), -EISCONN);
    CHECK_EQ_I(tcpw_getsockopt(t.stack, t.fd, TCPW_SO_RCVBUF, &got, &len), 0);
    CHECK_EQ_I(got, 1 << 20);
    CHECK_EQ(tt_fini(&t), 0);

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    fd = tcpw_socket(t.stack);
    v = 8192;
    CHECK_EQ_I(tcpw_setsockopt(t.stack, fd, TCPW_SO_RCVBUF, &v, sizeof(v)), 0);
    CHECK(tt_conn_established_active_opts(&t, fd, &o, 65535));
    CHECK(t.local_syn_opts.has_wscale);
    CHECK_EQ(t.local_syn_opts.wscale, 0);
    CHECK_EQ(t.local_syn_wnd, 8192);
    CHECK_EQ(t.last.l4.tcp.wnd, 8192);
    CHECK_EQ(tt_fini(&t), 0);

    /* On a listener, for the connections it accepts. */
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    t.lfd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_setsockopt(t.stack, t.lfd, TCPW_SO_RCVBUF, &v, sizeof(v)), 0);
    CHECK_EQ_I(tcpw_bind(t.stack, t.lfd, 0, 80), 0);
    CHECK_EQ_I(tcpw_listen(t.stack, t.lfd, 8), 0);
    CHECK(tt_conn_established_passive_opts(&t, &o, 65535));
    CHECK_EQ(t.local_syn_opts.wscale, 0);
    CHECK_EQ(t.local_syn_wnd, 8192);
    CHECK_EQ(tt_fini(&t), 0);
}

/* SO_SNDBUF before connect bounds what send() takes. */
static void test_sndbuf_bounds_send(void)
{
    struct tt t;
    struct tcpw_tcp_opts o = tt_linux_syn_opts();
    static uint8_t buf[10000];
    int v = 4096, fd, got = 0;
    size_t len = sizeof(got);

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    fd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_setsockopt(t.stack, fd, TCPW_SO_SNDBUF, &v, sizeof(v)), 0);
    CHECK(tt_conn_established_active_opts(&t, fd, &o, 65535));
    CHECK_EQ(t.last.l4.tcp.wnd, 32768); /* the receive side is untouched */
    CHECK_EQ_I(tcpw_getsockopt(t.stack, t.fd, TCPW_SO_SNDBUF, &got, &len), 0);
    CHECK_EQ_I(got, 4096);
    fill(buf, sizeof(buf), 1);
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, buf, sizeof(buf)), 4096);
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, buf, sizeof(buf)), -EAGAIN);
    CHECK_EQ(tcpw_poll(t.stack, t.fd) & TCPW_POLLOUT, 0);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt, 1448);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt + 1448, t.peer_nxt, 1448);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, t.local_nxt + 2896, t.peer_nxt, 1200);
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, t.local_nxt + 4096, NULL, 0);
    CHECK(tcpw_poll(t.stack, t.fd) & TCPW_POLLOUT);
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, buf, sizeof(buf)), 4096);
    CHECK_EQ(tt_fini(&t), 3);
}

/* listen(0) is clamped to 0 like Linux; "full" means more than the backlog,
 * so one connection queues and the next SYN is dropped. TCP_MAXSEG on a
 * connection reads the data a full segment carries (1448 with timestamps). */
static void test_listen_zero_and_maxseg(void)
{
    struct tt t;
    int v = 0;
    size_t len = sizeof(v);
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    t.lfd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_bind(t.stack, t.lfd, 0, 80), 0);
    CHECK_EQ_I(tcpw_listen(t.stack, t.lfd, 0), 0);
    t.lport = 80;
    t.pport = 40000;
    CHECK_EQ_I(tt_send_full(&t, TCPW_SYN, 1000, 0, 65535, NULL, 0, true), 0);
    TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, TT_ANY, 1001, 0);
    TT_SEND(&t, TCPW_ACK, 1001, t.last.l4.tcp.seq + 1, NULL, 0);
    CHECK(tcpw_poll(t.stack, t.lfd) & TCPW_POLLIN);
    t.pport = 40001;
    CHECK_EQ_I(tt_send_full(&t, TCPW_SYN, 5000, 0, 65535, NULL, 0, true), 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_LISTEN_OVERFLOWS), 1);
    t.fd = tcpw_accept(t.stack, t.lfd, NULL, NULL);
    CHECK(t.fd >= 0);
    CHECK_EQ_I(tcpw_getsockopt(t.stack, t.fd, TCPW_TCP_MAXSEG, &v, &len), 0);
    CHECK_EQ_I(v, 1448);
    CHECK_EQ(tt_fini(&t), 0);
}

int main(void)
{
    RUN(test_synack_retransmission_backoff);
    RUN(test_duplicate_syn_gets_synack);
    RUN(test_listen_backlog_drops_syn);
    RUN(test_listen_backlog_drops_final_ack);
    RUN(test_mss_peer_536);
    RUN(test_mss_default_536);
    RUN(test_wscale_both);
    RUN(test_wscale_clamped_to_14);
    RUN(test_wscale_peer_without);
    RUN(test_wscale_passive_peer_without);
    RUN(test_options_only_when_both_offer);
    RUN(test_active_peer_without_timestamps);
    RUN(test_options_disabled_by_config);
    RUN(test_timestamp_offsets);
    RUN(test_tcp_maxseg_clamp);
    RUN(test_rcvbuf_sets_window_and_shift);
    RUN(test_sndbuf_bounds_send);
    RUN(test_listen_zero_and_maxseg);
    return check_summary();
}
