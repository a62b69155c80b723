/* The reliable-data path, checked segment by segment on the wire:
 * segmentation and PSH, Nagle (RFC 9293 §3.7.4), the send window, delayed
 * and immediate ACKs (RFC 9293 §3.8.6.3, RFC 5681 §4.2), out-of-order data
 * and SACK blocks (RFC 2018), duplicates, zero windows both ways with
 * persist probes (RFC 9293 §3.8.6.1) and window updates, RTO backoff
 * (RFC 6298), fast retransmit and NewReno (RFC 5681 §3.2, RFC 6582),
 * sequence numbers wrapping past 2^32, and bad input: an ACK of unsent
 * data, an in-window SYN (RFC 5961 §4), an old timestamp (RFC 7323 §5 PAWS),
 * an old ACK carrying a window.
 */
#include <errno.h>
#include <string.h>

#include "tcptest.h"

#define SEC 1000000ull
#define MS  1000ull
#define SEG 1448u /* 1460 less the timestamp option */

static uint8_t src[1 << 17];

static void fill(void)
{
    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 13u + (i >> 9) + 1u);
}

static uint64_t ctr(struct tt *t, enum tcpw_counter c)
{
    return tcpw_stack_counter(t->stack, c);
}

static struct tcpw_conn_info info(struct tt *t)
{
    struct tcpw_conn_info ci;
    memset(&ci, 0, sizeof(ci));
    (void)tcpw_conn_info(t->stack, t->fd, &ci);
    return ci;
}

/* The peer sends src[off, off + len) at its sequence number peer_iss + 1 +
 * off (not moving peer_nxt). */
static int peer_data(struct tt *t, size_t off, size_t len)
{
    return tt_send(t, TCPW_ACK, t->peer_iss + 1 + (uint32_t)off, t->local_nxt, src + off, len);
}

/* Checks that the last segment carries src[off, off + len). */
static bool payload_is(const struct tt *t, size_t off, size_t len)
{
    return t->last.l4.tcp.payload_len == len && memcmp(t->last.l4.tcp.payload, src + off, len) == 0;
}

/* A large send leaves in full-sized segments, PSH on the last only, the
 * last (small) one included; the initial window (10 segments, RFC 6928)
 * stops the rest until an ACK. */
static void test_segmentation(void)
{
    struct tt t;
    uint32_t base;

    fill();
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    base = t.local_nxt;
    /* 16000 bytes: 10 segments fill the initial cwnd; the rest waits. */
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, src, 16000), 16000);
    for (uint32_t i = 0; i < 10; i++) {
        TT_EXPECT(&t, TCPW_ACK, base + i * SEG, t.peer_nxt, SEG);
        CHECK(payload_is(&t, i * SEG, SEG));
    }
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(info(&t).unsent, 16000 - 10 * SEG);
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, base + 10 * SEG, NULL, 0);
    TT_EXPECT(&t, TCPW_ACK, base + 10 * SEG, t.peer_nxt, SEG);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, base + 11 * SEG, t.peer_nxt, 16000 - 11 * SEG);
    CHECK(payload_is(&t, 11 * SEG, 16000 - 11 * SEG));
    TT_EXPECT_NOTHING(&t, 0);
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, base + 16000, NULL, 0);
    base += 16000;

    /* 5000 bytes, all within the window: three full segments, then the
     * rest at once, with PSH (Nagle holds a small segment only while an
     * earlier small one is unacknowledged, as Linux does). */
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, src, 5000), 5000);
    for (uint32_t i = 0; i < 3; i++) {
        TT_EXPECT(&t, TCPW_ACK, base + i * SEG, t.peer_nxt, SEG);
        CHECK(payload_is(&t, i * SEG, SEG));
        CHECK_EQ(t.last.l4.tcp.wnd, 32768);
        CHECK(t.last.l4.tcp.opts.has_ts);
    }
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, base + 3 * SEG, t.peer_nxt, 5000 - 3 * SEG);
    CHECK(payload_is(&t, 3 * SEG, 5000 - 3 * SEG));
    TT_EXPECT_NOTHING(&t, 0);
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, base + 5000, NULL, 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(info(&t).unacked, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_TCP_RETRANS_SEGS), 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* Nagle (RFC 9293 §3.7.4, RFC 896): a small write goes at once, a second
 * small one waits for the ACK of the first; TCP_NODELAY sends at once, and
 * setting it pushes what Nagle held back. */
static void test_nagle(void)
{
    struct tt t;
    uint32_t base;
    int one = 1;

    fill();
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    base = t.local_nxt;
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, src, 10), 10);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, base, t.peer_nxt, 10);
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, src + 10, 10), 10);
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, src + 20, 10), 10);
    TT_EXPECT_NOTHING(&t, 100 * MS);
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, base + 10, NULL, 0);
    /* Both held writes leave together. */
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, base + 10, t.peer_nxt, 20);
    CHECK(payload_is(&t, 10, 20));
    TT_EXPECT_NOTHING(&t, 0);

    /* Setting TCP_NODELAY pushes held data at once. */
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, src + 30, 10), 10);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ_I(tcpw_setsockopt(t.stack, t.fd, TCPW_TCP_NODELAY, &one, sizeof(one)), 0);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, base + 30, t.peer_nxt, 10);
    /* And with it on, small writes go while others are unacknowledged. */
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, src + 40, 10), 10);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, base + 40, t.peer_nxt, 10);
    CHECK_EQ(info(&t).unacked, 40);
    CHECK_EQ(tt_fini(&t), 0);
}

/* The peer's window of 4000 bounds what is in flight: with 1000-byte
 * segments (peer MSS 1012 less 12 of timestamps) four go, then nothing
 * until ACKs slide the window. */
static void test_send_window_limits_flight(void)
{
    struct tt t;
    struct tcpw_tcp_opts o = tt_linux_syn_opts();
    uint32_t base;

    fill();
    o.mss = 1012;
    o.has_wscale = false;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active_opts(&t, -1, &o, 4000));
    base = t.local_nxt;
    CHECK_EQ(info(&t).snd_wnd, 4000);
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, src, 10000), 10000);
    for (uint32_t i = 0; i < 4; i++)
        TT_EXPECT(&t, TCPW_ACK, base + i * 1000, t.peer_nxt, 1000);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(info(&t).unacked, 4000);
    /* Two segments acknowledged: two more fit. */
    CHECK_EQ_I(tt_send_opts(&t, TCPW_ACK, t.peer_nxt, base + 2000, 4000, NULL, NULL, 0), 0);
    TT_EXPECT(&t, TCPW_ACK, base + 4000, t.peer_nxt, 1000);
    TT_EXPECT(&t, TCPW_ACK, base + 5000, t.peer_nxt, 1000);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(info(&t).unacked, 4000);
    /* The window shrinks to 2000 with the same ACK point: nothing new. */
    CHECK_EQ_I(tt_send_opts(&t, TCPW_ACK, t.peer_nxt, base + 3000, 2000, NULL, NULL, 0), 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(info(&t).unacked, 3000);
    /* Everything sent acknowledged, window 4000 again: the last four. */
    CHECK_EQ_I(tt_send_opts(&t, TCPW_ACK, t.peer_nxt, base + 6000, 4000, NULL, NULL, 0), 0);
    TT_EXPECT(&t, TCPW_ACK, base + 6000, t.peer_nxt, 1000);
    TT_EXPECT(&t, TCPW_ACK, base + 7000, t.peer_nxt, 1000);
    TT_EXPECT(&t, TCPW_ACK, base + 8000, t.peer_nxt, 1000);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, base + 9000, t.peer_nxt, 1000);
    CHECK(payload_is(&t, 9000, 1000));
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* One segment: the ACK waits 40 ms (tcp_delack_ms, Linux's TCP_DELACK_MIN)
 * and counts as DelayedACKs; the second of two segments is ACKed at once
 * (RFC 5681 §4.2). The application reads everything in order. */
static void test_delayed_ack(void)
{
    struct tt t;
    static uint8_t buf[8192];

    fill();
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    CHECK_EQ_I(peer_data(&t, 0, 100), 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(tt_run_to_deadline(&t, SEC), 40 * MS);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt + 100, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_DELAYED_ACKS), 1);
    CHECK_EQ(t.last.l4.tcp.wnd, (131072 - 100 + 3) / 4);

    CHECK_EQ_I(peer_data(&t, 100, SEG), 0);
    TT_EXPECT_NOTHING(&t, 0);
    tt_advance(&t, 10 * MS);
    CHECK_EQ_I(peer_data(&t, 100 + SEG, SEG), 0);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt + 100 + 2 * SEG, 0);
    TT_EXPECT_NOTHING(&t, SEC); /* the delayed ACK was cancelled */
    CHECK_EQ(ctr(&t, TCPW_CTR_DELAYED_ACKS), 1);

    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), 100 + 2 * SEG);
    CHECK(memcmp(buf, src, 100 + 2 * SEG) == 0);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), -EAGAIN);
    /* Whether reading sends a window update is the socket layer's policy
     * (api/), not what this test is about. */
    tt_drain(&t);
    CHECK_EQ(tt_fini(&t), 0);
}

/* Out-of-order segments: each gets an immediate duplicate ACK whose first
 * SACK block holds the segment that triggered it (RFC 2018 §4), the others
 * after it; filling the first hole ACKs up to the second, filling that one
 * ACKs everything, and the application reads the bytes in order. The
 * peer's sequence numbers wrap past 2^32 on the way. */
static void test_out_of_order_sack(void)
{
    struct tt t;
    static uint8_t buf[8192];
    const struct tcpw_tcp_opts *o = &t.last.l4.tcp.opts;
    uint32_t p;

    fill();
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    p = t.peer_nxt;
    CHECK(info(&t).sack_ok);

    CHECK_EQ_I(peer_data(&t, 1000, 1000), 0); /* B */
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, p, 0);
    CHECK_EQ(o->sack_count, 1);
    CHECK_EQ(o->sack[0].left, p + 1000);
    CHECK_EQ(o->sack[0].right, p + 2000);
    CHECK(o->has_ts);

    CHECK_EQ_I(peer_data(&t, 3000, 1000), 0); /* D */
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, p, 0);
    CHECK_EQ(o->sack_count, 2);
    CHECK_EQ(o->sack[0].left, p + 3000);
    CHECK_EQ(o->sack[0].right, p + 4000);
    CHECK_EQ(o->sack[1].left, p + 1000);
    CHECK_EQ(o->sack[1].right, p + 2000);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), -EAGAIN);

    CHECK_EQ_I(peer_data(&t, 0, 1000), 0); /* A: up to D's hole */
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, p + 2000, 0);
    CHECK_EQ(o->sack_count, 1);
    CHECK_EQ(o->sack[0].left, p + 3000);
    CHECK_EQ(o->sack[0].right, p + 4000);

    CHECK_EQ_I(peer_data(&t, 2000, 1000), 0); /* C: everything */
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, p + 4000, 0);
    CHECK_EQ(o->sack_count, 0);
    TT_EXPECT_NOTHING(&t, SEC);

    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), 4000);
    CHECK(memcmp(buf, src, 4000) == 0);
    CHECK_EQ(info(&t).rcv_nxt, p + 4000);
    CHECK(info(&t).rcv_nxt < p); /* it wrapped */
    tt_drain(&t);                /* a window update after the read, if api/ sends one */
    CHECK_EQ(tt_fini(&t), 0);
}

/* A duplicate of data already received is answered with an ACK at once and
 * not delivered again; a segment overlapping old and new data delivers only
 * the new part. */
static void test_duplicate_segment(void)
{
    struct tt t;
    static uint8_t buf[1024];

    fill();
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    CHECK_EQ_I(peer_data(&t, 0, 100), 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ_I(peer_data(&t, 0, 100), 0);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt + 100, 0);
    CHECK_EQ_I(peer_data(&t, 50, 100), 0); /* 50 old bytes, 50 new */
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(tt_run_to_deadline(&t, SEC), 40 * MS);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt + 150, 0);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), 150);
    CHECK(memcmp(buf, src, 150) == 0);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), -EAGAIN);
    CHECK_EQ(tt_fini(&t), 0);
}

/* The peer's window closes: data waits, the persist timer probes with
 * <SEQ=SND.UNA-1> and no data (RFC 9293 §3.8.6.1, as Linux) at RTO, then
 * backed off 2x, 4x; probes are not retransmissions. When the window
 * opens the data flows. */
static void test_zero_window_persist(void)
{
    struct tt t;
    uint64_t start, rto, at = 0;

    fill();
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    CHECK_EQ_I(tt_send_opts(&t, TCPW_ACK, t.peer_nxt, t.local_nxt, 0, NULL, NULL, 0), 0);
    CHECK_EQ(info(&t).snd_wnd, 0);
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, src, 1000), 1000);
    start = t.now;
    rto = info(&t).rto_us;
    TT_EXPECT_NOTHING(&t, 0);
    for (int i = 0; i < 3; i++) {
        at += rto << i;
        tt_run_to_deadline(&t, 60 * SEC);
        CHECK_EQ(t.now - start, at);
        TT_EXPECT(&t, TCPW_ACK, t.local_nxt - 1, t.peer_nxt, 0);
        /* The peer answers: still closed. */
        CHECK_EQ_I(tt_send_opts(&t, TCPW_ACK, t.peer_nxt, t.local_nxt, 0, NULL, NULL, 0), 0);
        TT_EXPECT_NOTHING(&t, 0);
    }
    CHECK_EQ(ctr(&t, TCPW_CTR_TCP_RETRANS_SEGS), 0);
    CHECK_EQ(info(&t).unsent, 1000);
    tt_advance(&t, 10 * MS);
    CHECK_EQ_I(tt_send_opts(&t, TCPW_ACK, t.peer_nxt, t.local_nxt, 100, NULL, NULL, 0), 0);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, t.local_nxt, t.peer_nxt, 1000);
    CHECK(payload_is(&t, 0, 1000));
    CHECK_EQ(info(&t).retransmits, 0);
    /* The retransmission timer now runs at the plain RTO again. */
    start = t.now;
    CHECK_EQ(info(&t).rto_us, rto);
    tt_run_to_deadline(&t, 60 * SEC);
    CHECK_EQ(t.now - start, rto);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, t.local_nxt, t.peer_nxt, 1000);
    CHECK_EQ(tt_fini(&t), 0);
}

/* Our receive buffer fills: the window goes to 0, data beyond it is
 * dropped with an ACK (still 0); reading reopens the window, but only once
 * by at least min(MSS, buffer / 2) (RFC 9293 §3.8.6.2.2 receiver SWS
 * avoidance), with a window-update ACK. */
static void test_receive_window_fills_and_reopens(void)
{
    struct tt t;
    struct tcpw_tcp_opts o = tt_linux_syn_opts();
    static uint8_t buf[8192];
    int v = 4096, fd;
    uint32_t p;

    fill();
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    fd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_setsockopt(t.stack, fd, TCPW_SO_RCVBUF, &v, sizeof(v)), 0);
    CHECK(tt_conn_established_active_opts(&t, fd, &o, 65535));
    p = t.peer_nxt;
    CHECK_EQ(t.last.l4.tcp.wnd, 4096);
    CHECK_EQ_I(peer_data(&t, 0, SEG), 0);
    CHECK_EQ_I(peer_data(&t, SEG, SEG), 0);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, p + 2 * SEG, 0);
    CHECK_EQ(t.last.l4.tcp.wnd, 4096 - 2 * SEG);
    CHECK_EQ_I(peer_data(&t, 2 * SEG, 4096 - 2 * SEG), 0);
    CHECK_EQ(tt_run_to_deadline(&t, SEC), 40 * MS);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, p + 4096, 0);
    CHECK_EQ(t.last.l4.tcp.wnd, 0);
    CHECK_EQ(info(&t).rcv_wnd, 0);

    /* Beyond the closed window: dropped, ACKed with window 0. */
    CHECK_EQ_I(peer_data(&t, 4096, 100), 0);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, p + 4096, 0);
    CHECK_EQ(t.last.l4.tcp.wnd, 0);
    /* A window probe (old sequence number): the same answer. */
    CHECK_EQ_I(tt_send(&t, TCPW_ACK, p + 4095, t.local_nxt, NULL, 0), 0);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, p + 4096, 0);
    CHECK_EQ(t.last.l4.tcp.wnd, 0);
    CHECK_EQ(info(&t).readable, 4096);

    /* Reading 1000 bytes is not enough to reopen (1000 < min(1460, 2048)). */
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, 1000, 0), 1000);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf + 1000, 500, 0), 500);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, p + 4096, 0);
    CHECK_EQ(t.last.l4.tcp.wnd, 1500);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf + 1500, sizeof(buf) - 1500, 0), 4096 - 1500);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, p + 4096, 0);
    CHECK_EQ(t.last.l4.tcp.wnd, 4096);
    CHECK(memcmp(buf, src, 4096) == 0);
    /* The data flows again. */
    CHECK_EQ_I(peer_data(&t, 4096, 100), 0);
    CHECK_EQ(tt_run_to_deadline(&t, SEC), 40 * MS);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, p + 4196, 0);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), 100);
    CHECK(memcmp(buf, src + 4096, 100) == 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* A data segment that arrives while our window is 0 still has its ACK
 * processed (RFC 9293 §3.10.7.4: "special allowance should be made to
 * accept valid ACKs"), though its data is dropped. */
static void test_zero_window_still_takes_acks(void)
{
    struct tt t;
    struct tcpw_tcp_opts o = tt_linux_syn_opts();
    int v = 4096, fd;
    uint32_t p;

    fill();
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    fd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_setsockopt(t.stack, fd, TCPW_SO_RCVBUF, &v, sizeof(v)), 0);
    CHECK(tt_conn_established_active_opts(&t, fd, &o, 65535));
    p = t.peer_nxt;
    CHECK_EQ_I(peer_data(&t, 0, 2048), 0);
    CHECK_EQ_I(peer_data(&t, 2048, 2048), 0);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, p + 4096, 0);
    CHECK_EQ(t.last.l4.tcp.wnd, 0);
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, src, 500), 500);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, t.local_nxt, p + 4096, 500);
    /* The peer's next data carries the ACK of our 500 bytes. */
    CHECK_EQ_I(tt_send(&t, TCPW_ACK, p + 4096, t.local_nxt + 500, src, 100), 0);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt + 500, p + 4096, 0);
    CHECK_EQ(t.last.l4.tcp.wnd, 0);
    CHECK_EQ(info(&t).unacked, 0);
    CHECK_EQ(info(&t).readable, 4096);
    TT_EXPECT_NOTHING(&t, 10 * SEC); /* nothing left to retransmit */
    CHECK_EQ(tt_fini(&t), 0);
}

/* A bare FIN while our window is 0 is taken (it needs no buffer; Linux
 * 6.x's tcp_data_queue() does the same): CLOSE_WAIT, and the reader gets
 * the data and then EOF. */
static void test_zero_window_takes_bare_fin(void)
{
    struct tt t;
    struct tcpw_tcp_opts o = tt_linux_syn_opts();
    static uint8_t buf[8192];
    int v = 4096, fd;
    uint32_t p;

    fill();
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    fd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_setsockopt(t.stack, fd, TCPW_SO_RCVBUF, &v, sizeof(v)), 0);
    CHECK(tt_conn_established_active_opts(&t, fd, &o, 65535));
    p = t.peer_nxt;
    CHECK_EQ_I(peer_data(&t, 0, 2048), 0);
    CHECK_EQ_I(peer_data(&t, 2048, 2048), 0);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, p + 4096, 0);
    CHECK_EQ(t.last.l4.tcp.wnd, 0);
    TT_SEND(&t, TCPW_FIN | TCPW_ACK, p + 4096, t.local_nxt, NULL, 0);
    CHECK_STATE(&t, t.fd, TCPW_CLOSE_WAIT);
    CHECK_EQ(tt_run_to_deadline(&t, SEC), 40 * MS); /* the FIN's ACK is delayed */
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, p + 4097, 0);
    CHECK_EQ(t.last.l4.tcp.wnd, 0);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), 4096);
    CHECK(memcmp(buf, src, 4096) == 0);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), 0);
    tt_drain(&t); /* a window update after the read, if api/ sends one */
    CHECK_EQ(tt_fini(&t), 0);
}

/* RTO (RFC 6298): an RTT measured from timestamps (RFC 7323 §4) sets it;
 * a lost segment is sent again after RTO, 2·RTO, 4·RTO (§5.5), each
 * expiry counted in TCPTimeouts and each resend in RetransSegs; the ACK
 * ends the backoff. */
static void test_rto_backoff(void)
{
    struct tt t;
    struct tcpw_conn_info ci;
    uint64_t start, rto, at = 0;
    uint32_t base;

    fill();
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    base = t.local_nxt;
    /* One round trip of 50 ms. */
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, src, 100), 100);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, base, t.peer_nxt, 100);
    tt_advance(&t, 50 * MS);
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, base + 100, NULL, 0);
    ci = info(&t);
    CHECK(ci.srtt_us >= 5 * MS && ci.srtt_us <= 50 * MS);
    rto = ci.rto_us;
    CHECK(rto >= 200 * MS && rto < SEC);

    CHECK_EQ_I(tcpw_send(t.stack, t.fd, src + 100, 3000), 3000);
    start = t.now;
    TT_EXPECT(&t, TCPW_ACK, base + 100, t.peer_nxt, SEG);
    TT_EXPECT(&t, TCPW_ACK, base + 100 + SEG, t.peer_nxt, SEG);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, base + 100 + 2 * SEG, t.peer_nxt, 3000 - 2 * SEG);
    for (int i = 0; i < 3; i++) {
        at += rto << i;
        tt_run_to_deadline(&t, 200 * SEC);
        CHECK_EQ(t.now - start, at);
        /* Only the first segment: cwnd is one segment after a timeout. */
        TT_EXPECT(&t, TCPW_ACK, base + 100, t.peer_nxt, SEG);
        CHECK(payload_is(&t, 100, SEG));
        TT_EXPECT_NOTHING(&t, 0);
        CHECK_EQ(ctr(&t, TCPW_CTR_TCP_TIMEOUTS), (uint64_t)i + 1);
        CHECK_EQ(ctr(&t, TCPW_CTR_TCP_RETRANS_SEGS), (uint64_t)i + 1);
        ci = info(&t);
        CHECK_EQ(ci.retransmits, (uint32_t)i + 1);
        CHECK_EQ(ci.rto_us, rto << (i + 1));
    }
    CHECK_EQ(info(&t).cwnd, SEG);
    CHECK_EQ(info(&t).ssthresh, 2 * SEG); /* max(FlightSize / 2, 2·SMSS) */
    /* The first segment arrives and is ACKed: the backoff ends, the next
     * two go (slow start from one segment: cwnd 2). */
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, base + 100 + SEG, NULL, 0);
    ci = info(&t);
    CHECK_EQ(ci.retransmits, 0);
    CHECK(ci.rto_us < 2 * rto);
    TT_EXPECT(&t, TCPW_ACK, base + 100 + SEG, t.peer_nxt, SEG);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, base + 100 + 2 * SEG, t.peer_nxt, 3000 - 2 * SEG);
    CHECK_EQ(ctr(&t, TCPW_CTR_TCP_RETRANS_SEGS), 5);
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, base + 3100, NULL, 0);
    TT_EXPECT_NOTHING(&t, 100 * SEC);
    CHECK_EQ(ctr(&t, TCPW_CTR_TCP_TIMEOUTS), 3);
    CHECK_EQ(info(&t).total_retrans, 5);
    CHECK_EQ(tt_fini(&t), 0);
}

/* Three duplicate ACKs: fast retransmit (RFC 5681 §3.2, TCPFastRetrans);
 * a partial ACK retransmits the next hole (RFC 6582 §3.2 step 3) and, as
 * in Linux, counts as a fast retransmission too; the full ACK ends
 * recovery with cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS). */
static void test_fast_retransmit_newreno(void)
{
    struct tt t;
    struct tcpw_conn_info ci;
    uint32_t base;

    fill();
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    base = t.local_nxt;
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, src, 6 * SEG), 6 * SEG);
    for (uint32_t i = 0; i < 6; i++)
        TT_EXPECT(&t, i == 5 ? TCPW_ACK | TCPW_PSH : TCPW_ACK, base + i * SEG, t.peer_nxt, SEG);
    /* Segments 1 and 3 are lost. */
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, base + SEG, NULL, 0);
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, base + SEG, NULL, 0);
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, base + SEG, NULL, 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_TCP_FAST_RETRANS), 0);
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, base + SEG, NULL, 0);
    TT_EXPECT(&t, TCPW_ACK, base + SEG, t.peer_nxt, SEG);
    CHECK(payload_is(&t, SEG, SEG));
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_TCP_FAST_RETRANS), 1);
    CHECK_EQ(ctr(&t, TCPW_CTR_TCP_RETRANS_SEGS), 1);
    ci = info(&t);
    CHECK_EQ(ci.ssthresh, 5 * SEG / 2); /* FlightSize 5 segments / 2 */
    CHECK_EQ(ci.cwnd, 5 * SEG / 2 + 3 * SEG);
    /* A fourth duplicate inflates cwnd; nothing new to send. */
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, base + SEG, NULL, 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(info(&t).cwnd, 5 * SEG / 2 + 4 * SEG);
    /* Partial ACK: up to the second hole. */
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, base + 3 * SEG, NULL, 0);
    TT_EXPECT(&t, TCPW_ACK, base + 3 * SEG, t.peer_nxt, SEG);
    CHECK(payload_is(&t, 3 * SEG, SEG));
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_TCP_FAST_RETRANS), 2);
    CHECK_EQ(ctr(&t, TCPW_CTR_TCP_RETRANS_SEGS), 2);
    /* Full ACK. */
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, base + 6 * SEG, NULL, 0);
    TT_EXPECT_NOTHING(&t, 0);
    ci = info(&t);
    CHECK_EQ(ci.cwnd, 2 * SEG);
    CHECK_EQ(ci.unacked, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_TCP_TIMEOUTS), 0);
    TT_EXPECT_NOTHING(&t, 100 * SEC);
    CHECK_EQ(tt_fini(&t), 0);
}

/* Our own sequence numbers wrap: ISS 2^32 - 32, data across the wrap, an
 * ACK beyond it, a timeout retransmitting a segment that straddles it,
 * and the FIN. The peer's numbers wrap too (its ISS is 2^32 - 16). */
static void test_sequence_wrap_both_directions(void)
{
    struct tt t;
    static uint8_t buf[4096];
    uint32_t base;

    fill();
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active_iss(&t, 0xffffffe0u));
    base = t.local_nxt;
    CHECK_EQ(base, 0xffffffe1u);
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, src, 3000), 3000);
    TT_EXPECT(&t, TCPW_ACK, 0xffffffe1u, t.peer_nxt, SEG);
    TT_EXPECT(&t, TCPW_ACK, 0xffffffe1u + SEG, t.peer_nxt, SEG);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, 0xffffffe1u + 2 * SEG, t.peer_nxt, 3000 - 2 * SEG);
    /* An ACK in the middle of the first segment, past the wrap. */
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, 100, NULL, 0);
    CHECK_EQ(info(&t).snd_una, 100);
    CHECK_EQ(info(&t).unacked, 3000 - (100 + 0x1f));
    /* The rest is lost: the retransmission starts at SND.UNA = 100. */
    tt_run_to_deadline(&t, 10 * SEC);
    TT_EXPECT(&t, TCPW_ACK, 100, t.peer_nxt, SEG);
    CHECK(payload_is(&t, 100 + 0x1f, SEG));
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, base + 3000, NULL, 0);
    CHECK_EQ(info(&t).unacked, 0);
    t.local_nxt = base + 3000;

    /* The peer's data, across its own wrap. */
    CHECK_EQ_I(tt_send(&t, TCPW_ACK | TCPW_PSH, t.peer_nxt, t.local_nxt, src, 100), 0);
    t.peer_nxt += 100;
    CHECK(t.peer_nxt < 100);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), 100);
    CHECK(memcmp(buf, src, 100) == 0);
    /* Close after the wrap on both sides. */
    CHECK_EQ_I(tcpw_shutdown(t.stack, t.fd, TCPW_SHUT_WR), 0);
    TT_EXPECT(&t, TCPW_FIN | TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    TT_SEND(&t, TCPW_FIN | TCPW_ACK, t.peer_nxt, t.local_nxt + 1, NULL, 0);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt + 1, t.peer_nxt + 1, 0);
    CHECK_STATE(&t, t.fd, TCPW_CLOSED);
    CHECK_EQ(tt_fini(&t), 0);
}

/* An ACK of data never sent (SEG.ACK > SND.NXT): "send an ACK, drop the
 * segment, and return" (RFC 9293 §3.10.7.4), its data not delivered. */
static void test_ack_of_unsent_data(void)
{
    struct tt t;
    static uint8_t buf[256];

    fill();
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    CHECK_EQ_I(tt_send(&t, TCPW_ACK | TCPW_PSH, t.peer_nxt, t.local_nxt + 1000, src, 100), 0);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), -EAGAIN);
    CHECK_EQ(info(&t).snd_una, t.local_nxt);
    CHECK_EQ(info(&t).rcv_nxt, t.peer_nxt);
    CHECK_STATE(&t, t.fd, TCPW_ESTABLISHED);
    /* The same data with a good ACK is taken. */
    CHECK_EQ_I(tt_send(&t, TCPW_ACK | TCPW_PSH, t.peer_nxt, t.local_nxt, src, 100), 0);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), 100);
    CHECK_EQ(tt_fini(&t), 0);
}

/* RFC 5961 §4.2: a SYN in ESTABLISHED, in the window or not, gets a
 * challenge ACK and changes nothing. */
static void test_syn_challenge_ack(void)
{
    struct tt t;
    static uint8_t buf[256];

    fill();
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    CHECK_EQ_I(tt_send_full(&t, TCPW_SYN, t.peer_nxt + 1000, 0, 65535, NULL, 0, true), 0);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_TCP_CHALLENGE_ACK), 1);
    CHECK_EQ(ctr(&t, TCPW_CTR_TCP_SYN_CHALLENGE), 1);
    CHECK_STATE(&t, t.fd, TCPW_ESTABLISHED);
    /* Exactly at RCV.NXT, and with ACK set. */
    CHECK_EQ_I(tt_send_full(&t, TCPW_SYN | TCPW_ACK, t.peer_nxt, t.local_nxt, 65535, NULL, 0, true),
               0);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_TCP_SYN_CHALLENGE), 2);
    /* Far outside the window (Linux: also a challenge ACK). */
    CHECK_EQ_I(tt_send_full(&t, TCPW_SYN, t.peer_nxt + 0x40000000u, 0, 65535, NULL, 0, true), 0);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_TCP_SYN_CHALLENGE), 3);
    CHECK_EQ(ctr(&t, TCPW_CTR_TCP_CHALLENGE_ACK), 3);
    CHECK_STATE(&t, t.fd, TCPW_ESTABLISHED);
    /* The connection carries on. */
    CHECK_EQ_I(peer_data(&t, 0, 100), 0);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), 100);
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, "ok", 2), 2);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, t.local_nxt, t.peer_nxt + 100, 2);
    CHECK_EQ(tt_fini(&t), 0);
}

/* PAWS (RFC 7323 §5.3 R1): a segment whose TSval is older than TS.Recent
 * is dropped with an ACK and counted (PAWSEstab); its data is not taken. */
static void test_paws(void)
{
    struct tt t;
    static uint8_t buf[256];

    fill();
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    t.peer_ts = 6000;
    CHECK_EQ_I(peer_data(&t, 0, 100), 0);
    TT_EXPECT_NOTHING(&t, 0);
    t.peer_ts = 5999; /* an old duplicate of the next segment */
    CHECK_EQ_I(peer_data(&t, 100, 100), 0);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt + 100, 0);
    CHECK_EQ(t.last.l4.tcp.opts.ts_ecr, 6000);
    CHECK_EQ(ctr(&t, TCPW_CTR_PAWS_ESTAB), 1);
    CHECK_EQ(info(&t).rcv_nxt, t.peer_nxt + 100);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), 100);
    /* The same segment with a current timestamp is taken. */
    t.peer_ts = 6001;
    CHECK_EQ_I(peer_data(&t, 100, 100), 0);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), 100);
    CHECK(memcmp(buf, src + 100, 100) == 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_PAWS_ESTAB), 1);
    CHECK_EQ(tt_fini(&t), 0);
}

/* An old ACK (SEG.ACK < SND.UNA) on new (here out-of-order) data: the
 * data is taken, but the window it carries is not (RFC 9293 §3.10.7.4:
 * SND.WND is updated only "if SND.UNA =< SEG.ACK =< SND.NXT"; Linux's
 * tcp_ack() old_ack path), although its SEG.SEQ is newer than SND.WL1. */
static void test_old_ack_does_not_update_window(void)
{
    struct tt t;

    fill();
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, src, 100), 100);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, t.local_nxt, t.peer_nxt, 100);
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, t.local_nxt + 100, NULL, 0);
    t.local_nxt += 100;
    CHECK_EQ_I(tt_send_opts(&t, TCPW_ACK | TCPW_PSH, t.peer_nxt + 100, t.local_nxt - 100, 0, NULL,
                            src, 100),
               0);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt, 0); /* out of order: at once */
    CHECK_EQ(info(&t).snd_wnd, 65535u << 7);
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, src, 50), 50);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, t.local_nxt, t.peer_nxt, 50);
    CHECK_EQ(tt_fini(&t), 0);
}

int main(void)
{
    RUN(test_segmentation);
    RUN(test_nagle);
    RUN(test_send_window_limits_flight);
    RUN(test_delayed_ack);
    RUN(test_out_of_order_sack);
    RUN(test_duplicate_segment);
    RUN(test_zero_window_persist);
    RUN(test_receive_window_fills_and_reopens);
    RUN(test_zero_window_still_takes_acks);
    RUN(test_zero_window_takes_bare_fin);
    RUN(test_rto_backoff);
    RUN(test_fast_retransmit_newreno);
    RUN(test_sequence_wrap_both_directions);
    RUN(test_ack_of_unsent_data);
    RUN(test_syn_challenge_ack);
    RUN(test_paws);
    RUN(test_old_ack_does_not_update_window);
    return check_summary();
}
