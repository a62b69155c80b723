/* The teardown cases of the seed note beyond the plain state arcs:
 * TIME_WAIT re-ACKing a retransmitted FIN, RFC 1337, resets in every state
 * and what the application sees, close with unread data, data after close,
 * FIN retransmission with backoff, and half-close.
 */
#include <errno.h>
#include <string.h>

#include "tcptest.h"

#define MSL_US (30ull * 1000000)

/* A retransmitted FIN in TIME_WAIT is ACKed again and restarts 2MSL
 * (RFC 9293 §3.10.7.4). */
static void test_time_wait_reacks_fin(void)
{
    struct tt t;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_in_time_wait(&t));
    tt_advance(&t, 40ull * 1000000);
    /* The peer did not get our ACK and sends its FIN again. */
    TT_SEND(&t, TCPW_FIN | TCPW_ACK, t.peer_nxt - 1, t.local_nxt, NULL, 0);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    CHECK(t.last.l4.tcp.opts.has_ts);
    /* The 2MSL wait restarted: 60 s from now, not 20 s. */
    tt_advance(&t, 2 * MSL_US - 1);
    CHECK_EQ(tt_count_state(&t, TCPW_TIME_WAIT), 1);
    tt_advance(&t, 1);
    CHECK_EQ(tt_count_state(&t, TCPW_TIME_WAIT), 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TW), 1);
    /* After TIME_WAIT, the same FIN meets no connection: RST. */
    TT_SEND(&t, TCPW_FIN | TCPW_ACK, t.peer_nxt - 1, t.local_nxt, NULL, 0);
    TT_EXPECT(&t, TCPW_RST, t.local_nxt, TT_ANY, 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* RFC 1337: a RST in TIME_WAIT is ignored by default (tcp_rfc1337 = 1). */
static void test_time_wait_ignores_rst(void)
{
    struct tt t;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_in_time_wait(&t));
    TT_SEND(&t, TCPW_RST, t.peer_nxt, 0, NULL, 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(tt_count_state(&t, TCPW_TIME_WAIT), 1);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TW_KILLED), 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* With tcp_rfc1337 = 0 (Linux's default) the RST removes the record. */
static void test_time_wait_rst_kills_without_rfc1337(void)
{
    struct tt t;
    struct tcpw_config cfg = tcpw_config_linux_defaults;
    CHECK_EQ_I(tcpw_config_set(&cfg, "tcp_rfc1337", "0"), 0);
    CHECK_EQ_I(tt_init(&t, &cfg), 0);
    CHECK(tt_conn_in_time_wait(&t));
    TT_SEND(&t, TCPW_RST, t.peer_nxt, 0, NULL, 0);
    CHECK_EQ(tt_count_state(&t, TCPW_TIME_WAIT), 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TW_KILLED), 1);
    CHECK_EQ(tt_fini(&t), 0);
}

/* RST in ESTABLISHED: ECONNRESET once, then EOF on recv and EPIPE on send. */
static void test_rst_in_established(void)
{
    struct tt t;
    char buf[8];
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    TT_SEND(&t, TCPW_RST, t.peer_nxt, 0, NULL, 0);
    CHECK_STATE(&t, t.fd, TCPW_CLOSED);
    CHECK(tcpw_poll(t.stack, t.fd) & TCPW_POLLERR);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), -ECONNRESET);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), 0);
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, "x", 1), -EPIPE);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TCP_ESTAB_RESETS), 1);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* The first call after a reset reports it, on send as on recv. */
static void test_rst_then_send(void)
{
    struct tt t;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    TT_SEND(&t, TCPW_RST, t.peer_nxt, 0, NULL, 0);
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, "x", 1), -ECONNRESET);
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, "x", 1), -EPIPE);
    CHECK_EQ(tt_fini(&t), 0);
}

/* RFC 5961 §3.2: a RST inside the window but not at RCV.NXT draws a
 * challenge ACK; outside the window it is dropped silently. */
static void test_rst_blind_is_challenged(void)
{
    struct tt t;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    TT_SEND(&t, TCPW_RST, t.peer_nxt + 100, 0, NULL, 0);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    CHECK_STATE(&t, t.fd, TCPW_ESTABLISHED);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TCP_CHALLENGE_ACK), 1);
    TT_SEND(&t, TCPW_RST, t.peer_nxt + 0x40000000u, 0, NULL, 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_STATE(&t, t.fd, TCPW_ESTABLISHED);
    CHECK_EQ(tt_fini(&t), 0);
}

/* RST in each closing state ends the connection; in FIN_WAIT states the
 * application (if it still has the socket) sees ECONNRESET. */
static void test_rst_in_closing_states(void)
{
    struct tt t;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_in_fin_wait_2(&t));
    TT_SEND(&t, TCPW_RST, t.peer_nxt, 0, NULL, 0);
    CHECK_STATE(&t, t.fd, TCPW_CLOSED);
    CHECK_EQ_I(tt_so_error(&t, t.fd), ECONNRESET);
    tt_fini(&t);

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_in_close_wait(&t));
    TT_SEND(&t, TCPW_RST, t.peer_nxt, 0, NULL, 0);
    CHECK_STATE(&t, t.fd, TCPW_CLOSED);
    CHECK_EQ_I(tt_so_error(&t, t.fd), EPIPE); /* Linux's tcp_reset() in CLOSE_WAIT */
    tt_fini(&t);

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_in_last_ack(&t));
    TT_SEND(&t, TCPW_RST, t.peer_nxt, 0, NULL, 0);
    CHECK_STATE(&t, t.fd, TCPW_CLOSED);
    CHECK_EQ_I(tt_so_error(&t, t.fd), ECONNRESET); /* not an orderly close */
    tt_fini(&t);

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_in_closing(&t));
    TT_SEND(&t, TCPW_RST, t.peer_nxt, 0, NULL, 0);
    CHECK_STATE(&t, t.fd, TCPW_CLOSED);
    CHECK_EQ(tt_count_state(&t, TCPW_TIME_WAIT), 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* close() with unread data sends RST instead of FIN (RFC 2525 §2.17) and
 * leaves no TIME_WAIT anywhere. */
static void test_close_with_unread_data(void)
{
    struct tt t;
    uint64_t counts[TCPW_STATE_COUNT];
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    TT_SEND(&t, TCPW_ACK | TCPW_PSH, t.peer_nxt, t.local_nxt, "unread", 6);
    t.peer_nxt += 6;
    CHECK_EQ_I(tcpw_close(t.stack, t.fd), 0);
    TT_EXPECT(&t, TCPW_RST | TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TCP_ABORT_ON_CLOSE), 1);
    tcpw_state_counts(t.stack, counts);
    for (int s = TCPW_SYN_SENT; s < TCPW_STATE_COUNT; s++)
        CHECK_EQ(counts[s], 0);
    TT_EXPECT_NOTHING(&t, 120ull * 1000000);
    CHECK_EQ(tt_fini(&t), 0);
}

/* Data for a socket the application closed gets RST (TCPAbortOnData). */
static void test_data_after_close(void)
{
    struct tt t;
    uint64_t counts[TCPW_STATE_COUNT];
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    CHECK_EQ_I(tcpw_close(t.stack, t.fd), 0);
    TT_EXPECT(&t, TCPW_FIN | TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    t.local_nxt++;
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, t.local_nxt, NULL, 0);
    TT_SEND(&t, TCPW_ACK | TCPW_PSH, t.peer_nxt, t.local_nxt, "more", 4);
    TT_EXPECT(&t, TCPW_RST | TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TCP_ABORT_ON_DATA), 1);
    tcpw_state_counts(t.stack, counts);
    CHECK_EQ(counts[TCPW_FIN_WAIT_2], 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* The FIN is retransmitted with exponential backoff while unacknowledged:
 * FIN_WAIT_1, CLOSING and LAST_ACK alike. */
static void check_fin_backoff(struct tt *t, uint32_t fin_seq, uint32_t ack)
{
    struct tcpw_conn_info info;
    uint64_t rto, start = t->now, at = 0;
    CHECK_EQ_I(tcpw_conn_info(t->stack, t->fd, &info), 0);
    rto = info.rto_us;
    CHECK(rto >= 200000 && rto < 300000);
    for (int i = 0; i < 4; i++) {
        at += rto << i;
        tt_run_to_deadline(t, 10ull * 1000000);
        CHECK_EQ(t->now - start, at);
        TT_EXPECT(t, TCPW_FIN | TCPW_ACK, fin_seq, ack, 0);
    }
    CHECK_EQ(tcpw_stack_counter(t->stack, TCPW_CTR_TCP_RETRANS_SEGS), 4);
}

static void test_fin_retransmit_fin_wait_1(void)
{
    struct tt t;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_in_fin_wait_1(&t));
    check_fin_backoff(&t, t.local_nxt - 1, t.peer_nxt);
    if (check_failures)
        return;
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, t.local_nxt, NULL, 0);
    CHECK_STATE(&t, t.fd, TCPW_FIN_WAIT_2);
    CHECK_EQ(tt_fini(&t), 0);
}

static void test_fin_retransmit_last_ack(void)
{
    struct tt t;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_in_last_ack(&t));
    check_fin_backoff(&t, t.local_nxt - 1, t.peer_nxt);
    if (check_failures)
        return;
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, t.local_nxt, NULL, 0);
    CHECK_STATE(&t, t.fd, TCPW_CLOSED);
    CHECK_EQ(tt_fini(&t), 0);
}

static void test_fin_retransmit_closing(void)
{
    struct tt t;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_in_closing(&t));
    check_fin_backoff(&t, t.local_nxt - 1, t.peer_nxt);
    if (check_failures)
        return;
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, t.local_nxt, NULL, 0);
    CHECK_EQ(tt_count_state(&t, TCPW_TIME_WAIT), 1);
    CHECK_EQ(tt_fini(&t), 0);
}

/* Half-close: after SHUT_WR the peer's data keeps arriving until its FIN;
 * recv returns it, then 0. */
static void test_half_close(void)
{
    struct tt t;
    char buf[32];
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_in_fin_wait_2(&t));
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, "no", 2), -EPIPE);
    for (int i = 0; i < 3; i++) {
        TT_SEND(&t, TCPW_ACK | TCPW_PSH, t.peer_nxt, t.local_nxt, "chunk", 5);
        t.peer_nxt += 5;
    }
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt - 5, 0); /* every 2nd segment */
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), 15);
    CHECK(memcmp(buf, "chunkchunkchunk", 15) == 0);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), -EAGAIN);
    TT_SEND(&t, TCPW_FIN | TCPW_ACK, t.peer_nxt, t.local_nxt, NULL, 0);
    t.peer_nxt++;
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), 0);
    CHECK_EQ(tt_count_state(&t, TCPW_TIME_WAIT), 1);
    CHECK_EQ(tt_fini(&t), 0);
}

/* An out-of-order FIN waits for the data before it. */
static void test_fin_out_of_order(void)
{
    struct tt t;
    char buf[16];
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    /* FIN with 4 bytes arrives before the 4 bytes ahead of it. */
    TT_SEND(&t, TCPW_FIN | TCPW_ACK, t.peer_nxt + 4, t.local_nxt, "tail", 4);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt, 0); /* duplicate ACK, with SACK */
    CHECK_EQ(t.last.l4.tcp.opts.sack_count, 1);
    CHECK_EQ(t.last.l4.tcp.opts.sack[0].left, t.peer_nxt + 4);
    CHECK_EQ(t.last.l4.tcp.opts.sack[0].right, t.peer_nxt + 8);
    CHECK_STATE(&t, t.fd, TCPW_ESTABLISHED);
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, t.local_nxt, "head", 4);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt + 9, 0);
    CHECK_STATE(&t, t.fd, TCPW_CLOSE_WAIT);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), 8);
    CHECK(memcmp(buf, "headtail", 8) == 0);
    CHECK_EQ_I(tcpw_recv(t.stack, t.fd, buf, sizeof(buf), 0), 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* An orphan in FIN_WAIT_2 goes away after tcp_fin_timeout (60 s). */
static void test_orphan_fin_wait_2_timeout(void)
{
    struct tt t;
    uint64_t counts[TCPW_STATE_COUNT];
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    CHECK_EQ_I(tcpw_close(t.stack, t.fd), 0);
    TT_EXPECT(&t, TCPW_FIN | TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    t.local_nxt++;
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, t.local_nxt, NULL, 0);
    tcpw_state_counts(t.stack, counts);
    CHECK_EQ(counts[TCPW_FIN_WAIT_2], 1);
    tt_advance(&t, 60ull * 1000000 - 1);
    tcpw_state_counts(t.stack, counts);
    CHECK_EQ(counts[TCPW_FIN_WAIT_2], 1);
    tt_advance(&t, 1);
    tcpw_state_counts(t.stack, counts);
    CHECK_EQ(counts[TCPW_FIN_WAIT_2], 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(tt_fini(&t), 0);
}

int main(void)
{
    RUN(test_time_wait_reacks_fin);
    RUN(test_time_wait_ignores_rst);
    RUN(test_time_wait_rst_kills_without_rfc1337);
    RUN(test_rst_in_established);
    RUN(test_rst_then_send);
    RUN(test_rst_blind_is_challenged);
    RUN(test_rst_in_closing_states);
    RUN(test_close_with_unread_data);
    RUN(test_data_after_close);
    RUN(test_fin_retransmit_fin_wait_1);
    RUN(test_fin_retransmit_last_ack);
    RUN(test_fin_retransmit_closing);
    RUN(test_half_close);
    RUN(test_fin_out_of_order);
    RUN(test_orphan_fin_wait_2_timeout);
    return check_summary();
}
