/* Every arc of the RFC 9293 state diagram (§3.3.2, Figure 5), driven by a
 * scripted peer and checked on the wire: flags, seq, ack, length, the
 * state after the event, and what the application sees.
 *
 * LISTEN -> SYN_SENT ("SEND" on a listening socket) is not offered: the
 * socket API has no such call and Linux does not do it either.
 */
#include <errno.h>
#include <string.h>

#include "tcptest.h"

#define MSL_US (30ull * 1000000)

/* CLOSED -> LISTEN: passive open. */
static void test_closed_to_listen(void)
{
    struct tt t;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    t.lfd = tcpw_socket(t.stack);
    CHECK(t.lfd >= 0);
    CHECK_EQ_I(tcpw_bind(t.stack, t.lfd, 0, 80), 0);
    CHECK_EQ_I(tcpw_listen(t.stack, t.lfd, 8), 0);
    CHECK_STATE(&t, t.lfd, TCPW_LISTEN);
    TT_EXPECT_NOTHING(&t, 1000);
    CHECK_EQ(tt_fini(&t), 0);
}

/* LISTEN -> CLOSED: close of a listener. */
static void test_listen_to_closed(void)
{
    struct tt t;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    t.lfd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_bind(t.stack, t.lfd, 0, 80), 0);
    CHECK_EQ_I(tcpw_listen(t.stack, t.lfd, 8), 0);
    CHECK_EQ_I(tcpw_close(t.stack, t.lfd), 0);
    CHECK_EQ_I(tcpw_sock_state(t.stack, t.lfd), -EBADF);
    /* With nobody listening, a SYN is refused: RST,ACK ack=SEQ+1. */
    t.lport = 80;
    t.pport = 40000;
    t.peer_ts = 0;
    TT_SEND(&t, TCPW_SYN, 1000, 0, NULL, 0);
    TT_EXPECT(&t, TCPW_RST | TCPW_ACK, 0, 1001, 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* CLOSED -> SYN_SENT -> ESTABLISHED: active open, with the options Linux
 * offers and the handshake's numbers. */
static void test_active_open(void)
{
    struct tt t;
    const struct tcpw_tcp_opts *o;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    t.fd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_connect(t.stack, t.fd, TT_PEER, 80), -EINPROGRESS);
    CHECK_STATE(&t, t.fd, TCPW_SYN_SENT);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TCP_ACTIVE_OPENS), 1);
    TT_EXPECT(&t, TCPW_SYN, TT_ANY, 0, 0);
    o = &t.last.l4.tcp.opts;
    CHECK(o->has_mss && o->mss == 1460);
    CHECK(o->sack_permitted);
    CHECK(o->has_ts && o->ts_ecr == 0);
    CHECK(o->has_wscale);
    CHECK(t.last.l4.tcp.sport >= 32768 && t.last.l4.tcp.sport <= 60999);
    CHECK_EQ(tcpw_poll(t.stack, t.fd) & TCPW_POLLOUT, 0);
    t.local_iss = t.last.l4.tcp.seq;
    t.lport = t.last.l4.tcp.sport;
    t.pport = 80;
    CHECK_EQ_I(tt_send_full(&t, TCPW_SYN | TCPW_ACK, TT_PEER_ISS, t.local_iss + 1, 65535, NULL, 0,
                            true),
               0);
    TT_EXPECT(&t, TCPW_ACK, t.local_iss + 1, TT_PEER_ISS + 1, 0);
    CHECK_STATE(&t, t.fd, TCPW_ESTABLISHED);
    CHECK(tcpw_poll(t.stack, t.fd) & TCPW_POLLOUT);
    CHECK_EQ(tt_fini(&t), 0);
}

/* LISTEN -> SYN_RECEIVED -> ESTABLISHED: passive open. */
static void test_passive_open(void)
{
    struct tt t;
    uint32_t addr;
    uint16_t port;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    t.lfd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_bind(t.stack, t.lfd, 0, 80), 0);
    CHECK_EQ_I(tcpw_listen(t.stack, t.lfd, 8), 0);
    t.lport = 80;
    t.pport = 40000;
    CHECK_EQ_I(tt_send_full(&t, TCPW_SYN, TT_PEER_ISS, 0, 65535, NULL, 0, true), 0);
    TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, TT_ANY, TT_PEER_ISS + 1, 0);
    CHECK(t.last.l4.tcp.opts.has_mss && t.last.l4.tcp.opts.sack_permitted);
    CHECK(t.last.l4.tcp.opts.has_ts && t.last.l4.tcp.opts.ts_ecr == t.peer_ts);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TCP_PASSIVE_OPENS), 1);
    t.local_iss = t.last.l4.tcp.seq;
    /* Nothing to accept while SYN_RECEIVED. */
    CHECK_EQ_I(tcpw_accept(t.stack, t.lfd, NULL, NULL), -EAGAIN);
    CHECK_EQ(tcpw_poll(t.stack, t.lfd) & TCPW_POLLIN, 0);
    TT_SEND(&t, TCPW_ACK, TT_PEER_ISS + 1, t.local_iss + 1, NULL, 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK(tcpw_poll(t.stack, t.lfd) & TCPW_POLLIN);
    t.fd = tcpw_accept(t.stack, t.lfd, &addr, &port);
    CHECK(t.fd >= 0);
    CHECK_EQ(addr, TT_PEER);
    CHECK_EQ(port, 40000);
    CHECK_STATE(&t, t.fd, TCPW_ESTABLISHED);
    CHECK_EQ(tt_fini(&t), 0);
}

/* SYN_SENT -> SYN_RECEIVED -> ESTABLISHED: simultaneous open. */
static void test_simultaneous_open(void)
{
    struct tt t;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    t.fd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_bind(t.stack, t.fd, 0, 5000), 0);
    CHECK_EQ_I(tcpw_connect(t.stack, t.fd, TT_PEER, 6000), -EINPROGRESS);
    TT_EXPECT(&t, TCPW_SYN, TT_ANY, 0, 0);
    t.local_iss = t.last.l4.tcp.seq;
    t.lport = 5000;
    t.pport = 6000;
    /* The peer's own SYN crosses ours. */
    CHECK_EQ_I(tt_send_full(&t, TCPW_SYN, TT_PEER_ISS, 0, 65535, NULL, 0, true), 0);
    TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, t.local_iss, TT_PEER_ISS + 1, 0);
    CHECK_STATE(&t, t.fd, TCPW_SYN_RECEIVED);
    /* Then the peer's SYN,ACK (answering our SYN) arrives. */
    CHECK_EQ_I(tt_send_full(&t, TCPW_SYN | TCPW_ACK, TT_PEER_ISS, t.local_iss + 1, 65535, NULL,
                            0, true),
               0);
    CHECK_STATE(&t, t.fd, TCPW_SYN_RECEIVED);
    /* A duplicate SYN in SYN_RECEIVED is answered, not accepted. */
    tt_drain(&t);
    TT_SEND(&t, TCPW_ACK, TT_PEER_ISS + 1, t.local_iss + 1, NULL, 0);
    CHECK_STATE(&t, t.fd, TCPW_ESTABLISHED);
    CHECK_EQ(tt_fini(&t), 0);
}

/* SYN_SENT -> CLOSED: a RST with an acceptable ACK refuses the connection. */
static void test_syn_sent_refused(void)
{
    struct tt t;
    size_t len = sizeof(int);
    int err = 0;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    t.fd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_connect(t.stack, t.fd, TT_PEER, 81), -EINPROGRESS);
    TT_EXPECT(&t, TCPW_SYN, TT_ANY, 0, 0);
    t.local_iss = t.last.l4.tcp.seq;
    t.lport = t.last.l4.tcp.sport;
    t.pport = 81;
    t.peer_ts = 0;
    /* A RST whose ACK is wrong is ignored (RFC 9293 §3.10.7.3). */
    TT_SEND(&t, TCPW_RST | TCPW_ACK, 0, t.local_iss + 2, NULL, 0);
    CHECK_STATE(&t, t.fd, TCPW_SYN_SENT);
    TT_EXPECT_NOTHING(&t, 0);
    TT_SEND(&t, TCPW_RST | TCPW_ACK, 0, t.local_iss + 1, NULL, 0);
    CHECK_STATE(&t, t.fd, TCPW_CLOSED);
    CHECK(tcpw_poll(t.stack, t.fd) & TCPW_POLLERR);
    CHECK_EQ_I(tcpw_getsockopt(t.stack, t.fd, TCPW_SO_ERROR, &err, &len), 0);
    CHECK_EQ_I(err, ECONNREFUSED);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TCP_ATTEMPT_FAILS), 1);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* SYN_SENT -> CLOSED: close before the answer deletes the TCB silently. */
static void test_syn_sent_close(void)
{
    struct tt t;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    t.fd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_connect(t.stack, t.fd, TT_PEER, 80), -EINPROGRESS);
    TT_EXPECT(&t, TCPW_SYN, TT_ANY, 0, 0);
    CHECK_EQ_I(tcpw_close(t.stack, t.fd), 0);
    TT_EXPECT_NOTHING(&t, 10 * 1000000);
    CHECK_EQ(tcpw_stack_next_deadline(t.stack), TCPW_NO_DEADLINE);
    CHECK_EQ(tt_fini(&t), 0);
}

/* SYN_SENT -> CLOSED: SYN retransmitted with backoff 1, 2, 4, 8, 16, 32 s
 * (tcp_syn_retries = 6), then ETIMEDOUT at 127 s, like Linux. */
static void test_syn_sent_timeout(void)
{
    struct tt t;
    uint64_t start, expect_at = 0;
    size_t len = sizeof(int);
    int err = 0;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    t.fd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_connect(t.stack, t.fd, TT_PEER, 80), -EINPROGRESS);
    start = t.now;
    TT_EXPECT(&t, TCPW_SYN, TT_ANY, 0, 0);
    t.local_iss = t.last.l4.tcp.seq;
    for (int i = 0; i < 6; i++) {
        expect_at += 1000000ull << i;
        tt_run_to_deadline(&t, 200ull * 1000000);
        CHECK_EQ(t.now - start, expect_at);
        TT_EXPECT(&t, TCPW_SYN, t.local_iss, 0, 0);
    }
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TCP_RETRANS_SEGS), 6);
    tt_run_to_deadline(&t, 200ull * 1000000);
    CHECK_EQ(t.now - start, 127ull * 1000000);
    CHECK_STATE(&t, t.fd, TCPW_CLOSED);
    CHECK_EQ_I(tcpw_getsockopt(t.stack, t.fd, TCPW_SO_ERROR, &err, &len), 0);
    CHECK_EQ_I(err, ETIMEDOUT);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* SYN_RECEIVED -> LISTEN: a RST for a half-open passive connection removes
 * it; the listener stays. */
static void test_syn_received_rst(void)
{
    struct tt t;
    uint64_t counts[TCPW_STATE_COUNT];
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    t.lfd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_bind(t.stack, t.lfd, 0, 80), 0);
    CHECK_EQ_I(tcpw_listen(t.stack, t.lfd, 8), 0);
    t.lport = 80;
    t.pport = 40000;
    CHECK_EQ_I(tt_send_full(&t, TCPW_SYN, TT_PEER_ISS, 0, 65535, NULL, 0, true), 0);
    TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, TT_ANY, TT_PEER_ISS + 1, 0);
    tcpw_state_counts(t.stack, counts);
    CHECK_EQ(counts[TCPW_SYN_RECEIVED], 1);
    TT_SEND(&t, TCPW_RST, TT_PEER_ISS + 1, 0, NULL, 0);
    tcpw_state_counts(t.stack, counts);
    CHECK_EQ(counts[TCPW_SYN_RECEIVED], 0);
    CHECK_STATE(&t, t.lfd, TCPW_LISTEN);
    TT_EXPECT_NOTHING(&t, 5 * 1000000);
    CHECK_EQ(tt_fini(&t), 0);
}

/* SYN_RECEIVED -> FIN_WAIT_1: close during a simultaneous open; the FIN
 * follows the handshake's completion. */
static void test_syn_received_close(void)
{
    struct tt t;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    t.fd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_bind(t.stack, t.fd, 0, 5000), 0);
    CHECK_EQ_I(tcpw_connect(t.stack, t.fd, TT_PEER, 6000), -EINPROGRESS);
    TT_EXPECT(&t, TCPW_SYN, TT_ANY, 0, 0);
    t.local_iss = t.last.l4.tcp.seq;
    t.lport = 5000;
    t.pport = 6000;
    CHECK_EQ_I(tt_send_full(&t, TCPW_SYN, TT_PEER_ISS, 0, 65535, NULL, 0, true), 0);
    TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, t.local_iss, TT_PEER_ISS + 1, 0);
    CHECK_EQ_I(tcpw_shutdown(t.stack, t.fd, TCPW_SHUT_WR), 0);
    CHECK_STATE(&t, t.fd, TCPW_FIN_WAIT_1);
    TT_EXPECT_NOTHING(&t, 0); /* no FIN before our SYN is acknowledged */
    /* Unanswered, it is the SYN,ACK that goes again (found by fuzz_stack:
     * the retransmission once copied data from before the send buffer). */
    tt_run_to_deadline(&t, 10ull * 1000000);
    TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, t.local_iss, TT_PEER_ISS + 1, 0);
    TT_SEND(&t, TCPW_ACK, TT_PEER_ISS + 1, t.local_iss + 1, NULL, 0);
    TT_EXPECT(&t, TCPW_FIN | TCPW_ACK, t.local_iss + 1, TT_PEER_ISS + 1, 0);
    CHECK_STATE(&t, t.fd, TCPW_FIN_WAIT_1);
    CHECK_EQ(tt_fini(&t), 0);
}

/* ESTABLISHED -> FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT -> CLOSED: the
 * active close, with the 2MSL wait measured. */
static void test_active_close(void)
{
    struct tt t;
    uint64_t counts[TCPW_STATE_COUNT];
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_in_fin_wait_1(&t));
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, t.local_nxt, NULL, 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_STATE(&t, t.fd, TCPW_FIN_WAIT_2);
    /* Half-closed: the peer can still send, and we ACK it. */
    TT_SEND(&t, TCPW_ACK | TCPW_PSH, t.peer_nxt, t.local_nxt, "late", 4);
    t.peer_nxt += 4;
    TT_EXPECT_NOTHING(&t, 0); /* first segment: delayed ACK */
    tt_run_to_deadline(&t, 1000000);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    TT_SEND(&t, TCPW_FIN | TCPW_ACK, t.peer_nxt, t.local_nxt, NULL, 0);
    t.peer_nxt++;
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    tcpw_state_counts(t.stack, counts);
    CHECK_EQ(counts[TCPW_TIME_WAIT], 1);
    CHECK_STATE(&t, t.fd, TCPW_CLOSED); /* the socket sees the end; TIME_WAIT is the stack's */
    {
        char buf[8];
        CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), 4);
        CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), 0);
    }
    tt_advance(&t, 2 * MSL_US - 1);
    tcpw_state_counts(t.stack, counts);
    CHECK_EQ(counts[TCPW_TIME_WAIT], 1);
    tt_advance(&t, 1);
    tcpw_state_counts(t.stack, counts);
    CHECK_EQ(counts[TCPW_TIME_WAIT], 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TW), 1);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* FIN_WAIT_1 -> TIME_WAIT: a FIN,ACK that acknowledges our FIN. */
static void test_fin_wait_1_fin_ack(void)
{
    struct tt t;
    uint64_t counts[TCPW_STATE_COUNT];
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_in_fin_wait_1(&t));
    TT_SEND(&t, TCPW_FIN | TCPW_ACK, t.peer_nxt, t.local_nxt, NULL, 0);
    t.peer_nxt++;
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    tcpw_state_counts(t.stack, counts);
    CHECK_EQ(counts[TCPW_TIME_WAIT], 1);
    CHECK_EQ(counts[TCPW_FIN_WAIT_2], 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* FIN_WAIT_1 -> TIME_WAIT with no FIN_WAIT_2 on the way (the seed's "FIN
 * and ACK together"), read from the stack's state trace. */
struct state_trace {
    enum tcpw_state from[16], to[16];
    int n;
};

static void trace_states(void *user, uint32_t laddr, uint16_t lport, uint32_t raddr,
                         uint16_t rport, enum tcpw_state from, enum tcpw_state to)
{
    struct state_trace *tr = user;
    (void)laddr;
    (void)lport;
    (void)raddr;
    (void)rport;
    if (tr->n < 16) {
        tr->from[tr->n] = from;
        tr->to[tr->n] = to;
        tr->n++;
    }
}

static void test_fin_wait_1_fin_ack_skips_fin_wait_2(void)
{
    struct tt t;
    struct state_trace tr = {0};
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_in_fin_wait_1(&t));
    tcpw_set_state_trace(t.stack, trace_states, &tr);
    TT_SEND(&t, TCPW_FIN | TCPW_ACK, t.peer_nxt, t.local_nxt, NULL, 0);
    t.peer_nxt++;
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    CHECK_EQ_I(tr.n, 1);
    CHECK_EQ(tr.from[0], TCPW_FIN_WAIT_1);
    CHECK_EQ(tr.to[0], TCPW_TIME_WAIT);
    tt_advance(&t, 60ull * 1000000);
    CHECK_EQ_I(tr.n, 2);
    CHECK_EQ(tr.from[1], TCPW_TIME_WAIT);
    CHECK_EQ(tr.to[1], TCPW_CLOSED);
    CHECK_EQ(tt_fini(&t), 0);
}

/* FIN_WAIT_1 -> CLOSING -> TIME_WAIT: simultaneous close. */
static void test_simultaneous_close(void)
{
    struct tt t;
    uint64_t counts[TCPW_STATE_COUNT];
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_in_closing(&t));
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, t.local_nxt, NULL, 0);
    TT_EXPECT_NOTHING(&t, 0);
    tcpw_state_counts(t.stack, counts);
    CHECK_EQ(counts[TCPW_TIME_WAIT], 1);
    CHECK_EQ(counts[TCPW_CLOSING], 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* ESTABLISHED -> CLOSE_WAIT -> LAST_ACK -> CLOSED: the passive close. The
 * application sees EOF and can still send. */
static void test_passive_close(void)
{
    struct tt t;
    char buf[16];
    uint64_t counts[TCPW_STATE_COUNT];
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_in_close_wait(&t));
    CHECK(tcpw_poll(t.stack, t.fd) & TCPW_POLLRDHUP);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), 0);
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, "bye", 3), 3);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, t.local_nxt, t.peer_nxt, 3);
    t.local_nxt += 3;
    CHECK_EQ_I(tcpw_close(t.stack, t.fd), 0);
    TT_EXPECT(&t, TCPW_FIN | TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    t.local_nxt++;
    tcpw_state_counts(t.stack, counts);
    CHECK_EQ(counts[TCPW_LAST_ACK], 1);
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, t.local_nxt, NULL, 0);
    tcpw_state_counts(t.stack, counts);
    CHECK_EQ(counts[TCPW_LAST_ACK], 0);
    CHECK_EQ(counts[TCPW_TIME_WAIT], 0); /* only the side that closed first waits */
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(tcpw_stack_next_deadline(t.stack), TCPW_NO_DEADLINE);
    CHECK_EQ(tt_fini(&t), 0);
}

int main(void)
{
    RUN(test_closed_to_listen);
    RUN(test_listen_to_closed);
    RUN(test_active_open);
    RUN(test_passive_open);
    RUN(test_simultaneous_open);
    RUN(test_syn_sent_refused);
    RUN(test_syn_sent_close);
    RUN(test_syn_sent_timeout);
    RUN(test_syn_received_rst);
    RUN(test_syn_received_close);
    RUN(test_active_close);
    RUN(test_fin_wait_1_fin_ack);
    RUN(test_fin_wait_1_fin_ack_skips_fin_wait_2);
    RUN(test_simultaneous_close);
    RUN(test_passive_close);
    return check_summary();
}
