/* Abnormal closes and the teardown options (issue "abnormal close"):
 * SO_LINGER in its three modes, orphans, a peer that crashed (retransmission
 * give-up), keepalive, TCP_USER_TIMEOUT, a rebooted peer, and why each
 * connection ended (close reason, close event). All in virtual time: the
 * 15-minute give-up takes milliseconds. Exact schedules are asserted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcptest.h"

#define SEC 1000000ull

static int set_int(struct tt *t, int fd, int opt, int v)
{
    return tcpw_setsockopt(t->stack, fd, opt, &v, sizeof(v));
}

/* Close events, recorded. */
struct closes {
    struct tcpw_close_info info[8];
    int n;
};

static void on_close(void *user, const struct tcpw_close_info *info)
{
    struct closes *c = user;
    if (c->n < 8)
        c->info[c->n++] = *info;
}

/* SO_LINGER {1, 0} with unsent data: RST at once, the queue discarded, no
 * TIME_WAIT, TCPAbortOnLinger, reason linger-abort. */
static void test_linger_zero_with_unsent_data(void)
{
    struct tt t;
    struct tcpw_linger lg = {1, 0};
    struct closes cl = {0};
    char big[3000];
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    tcpw_set_close_fn(t.stack, on_close, &cl);
    /* The peer's window is closed, so the data stays queued. */
    CHECK_EQ_I(tt_send_full(&t, TCPW_ACK, t.peer_nxt, t.local_nxt, 0, NULL, 0, false), 0);
    memset(big, 'x', sizeof(big));
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, big, sizeof(big)), (int)sizeof(big));
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ_I(tcpw_setsockopt(t.stack, t.fd, TCPW_SO_LINGER, &lg, sizeof(lg)), 0);
    CHECK_EQ_I(tcpw_close(t.stack, t.fd), 0);
    TT_EXPECT(&t, TCPW_RST | TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TCP_ABORT_ON_LINGER), 1);
    CHECK_EQ(tt_count_state(&t, TCPW_TIME_WAIT), 0);
    CHECK_EQ(tt_count_state(&t, TCPW_ESTABLISHED), 0);
    CHECK_EQ_I(cl.n, 1);
    CHECK_EQ(cl.info[0].reason, TCPW_REASON_LINGER_ABORT);
    CHECK_EQ_I(cl.info[0].fd, t.fd);
    CHECK(!cl.info[0].time_wait);
    TT_EXPECT_NOTHING(&t, 300 * SEC); /* nothing left to retransmit */
    CHECK_EQ(tt_fini(&t), 0);
}

/* SO_LINGER {1, 0} with nothing queued still resets (Linux's
 * tcp_disconnect()), so neither side enters TIME_WAIT. */
static void test_linger_zero_nothing_queued(void)
{
    struct tt t;
    struct tcpw_linger lg = {1, 0};
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    CHECK_EQ_I(tcpw_setsockopt(t.stack, t.fd, TCPW_SO_LINGER, &lg, sizeof(lg)), 0);
    CHECK_EQ_I(tcpw_close(t.stack, t.fd), 0);
    TT_EXPECT(&t, TCPW_RST | TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    CHECK_EQ(tt_count_state(&t, TCPW_TIME_WAIT), 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TCP_ABORT_ON_LINGER), 1);
    CHECK_EQ(tt_fini(&t), 0);
}

/* SO_LINGER {1, 5}: close waits for the data and FIN to be acknowledged;
 * the event says when; a second close releases the descriptor. */
static void test_linger_completes(void)
{
    struct tt t;
    struct tcpw_linger lg = {1, 5};
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    CHECK_EQ_I(tcpw_setsockopt(t.stack, t.fd, TCPW_SO_LINGER, &lg, sizeof(lg)), 0);
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, "data", 4), 4);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, t.local_nxt, t.peer_nxt, 4);
    CHECK_EQ_I(tcpw_close(t.stack, t.fd), -EINPROGRESS);
    TT_EXPECT(&t, TCPW_FIN | TCPW_ACK, t.local_nxt + 4, t.peer_nxt, 0);
    CHECK_EQ_I(tcpw_close_status(t.stack, t.fd), -EINPROGRESS);
    CHECK_EQ(tcpw_poll(t.stack, t.fd) & TCPW_POLLHUP, 0);
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, t.local_nxt + 5, NULL, 0);
    CHECK_EQ_I(tcpw_close_status(t.stack, t.fd), 0);
    CHECK(tcpw_poll(t.stack, t.fd) & TCPW_POLLHUP);
    CHECK_EQ_I(tcpw_close(t.stack, t.fd), 0);
    CHECK_EQ_I(tcpw_close_status(t.stack, t.fd), -EBADF);
    CHECK_EQ(tt_count_state(&t, TCPW_FIN_WAIT_2), 1); /* the close goes on as an orphan */
    TT_EXPECT_NOTHING(&t, 10 * SEC);
    CHECK_EQ(tt_fini(&t), 0);
}

/* SO_LINGER {1, 2} with a peer that stops acknowledging: after 2 s the
 * connection is reset and the status is -ETIMEDOUT (tcpwave's choice). */
static void test_linger_timeout(void)
{
    struct tt t;
    struct tcpw_linger lg = {1, 2};
    uint64_t start;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    CHECK_EQ_I(tcpw_setsockopt(t.stack, t.fd, TCPW_SO_LINGER, &lg, sizeof(lg)), 0);
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, "data", 4), 4);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, t.local_nxt, t.peer_nxt, 4);
    start = t.now;
    CHECK_EQ_I(tcpw_close(t.stack, t.fd), -EINPROGRESS);
    TT_EXPECT(&t, TCPW_FIN | TCPW_ACK, t.local_nxt + 4, t.peer_nxt, 0);
    /* Retransmissions go out while the linger runs (every RTO, doubling). */
    while (t.now - start < 2 * SEC) {
        tt_run_to_deadline(&t, 2 * SEC - (t.now - start));
        if (t.now - start >= 2 * SEC)
            break;
        /* Data and FIN are retransmitted together. */
        TT_EXPECT(&t, TCPW_FIN | TCPW_PSH | TCPW_ACK, t.local_nxt, t.peer_nxt, 4);
        tt_drain(&t);
    }
    CHECK_EQ(t.now - start, 2 * SEC);
    TT_EXPECT(&t, TCPW_RST | TCPW_ACK, t.local_nxt + 5, t.peer_nxt, 0);
    CHECK_EQ_I(tcpw_close_status(t.stack, t.fd), -ETIMEDOUT);
    CHECK_EQ_I(tt_close_reason(&t, t.fd), TCPW_REASON_LINGER_TIMEOUT);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TCP_ABORT_ON_LINGER), 1);
    CHECK_EQ_I(tcpw_close(t.stack, t.fd), -ETIMEDOUT);
    CHECK_EQ(tt_fini(&t), 0);
}

static int drive_tt(void *user)
{
    struct tt *t = user;
    /* The peer acknowledges every FIN that arrived, then time moves on. */
    while (tt_pending(t)) {
        struct tt_pkt *pk = &t->q[t->q_head];
        struct tcpw_packet p;
        uint32_t fin_end = 0;
        if (tcpw_packet_parse(pk->data, pk->len, &p) == TCPW_DROP_NONE &&
            p.ip.proto == TCPW_IP_PROTO_TCP && (p.l4.tcp.flags & TCPW_FIN))
            fin_end = p.l4.tcp.seq + (uint32_t)p.l4.tcp.payload_len + 1;
        free(pk->data);
        t->q_head = (t->q_head + 1) % TT_MAX_QUEUE;
        t->q_count--;
        if (fin_end)
            tt_send(t, TCPW_ACK, t->peer_nxt, fin_end, NULL, 0);
    }
    tt_advance(t, 1000);
    return 0;
}

/* The blocking helper drives the stack until the lingering close is done. */
static void test_close_blocking(void)
{
    struct tt t;
    struct tcpw_linger lg = {1, 5};
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    CHECK_EQ_I(tcpw_setsockopt(t.stack, t.fd, TCPW_SO_LINGER, &lg, sizeof(lg)), 0);
    CHECK_EQ_I(tcpw_close_blocking(t.stack, t.fd, drive_tt, &t), 0);
    CHECK_EQ_I(tcpw_sock_state(t.stack, t.fd), -EBADF);
    CHECK_EQ(tt_count_state(&t, TCPW_FIN_WAIT_2), 1);
    tt_drain(&t);
    CHECK_EQ(tt_fini(&t), 0);
}

/* tcp_max_orphans: a close beyond the limit resets (TCPAbortOnMemory). */
static void test_orphan_overflow(void)
{
    struct tt t;
    struct tcpw_config cfg = tcpw_config_linux_defaults;
    struct closes cl = {0};
    CHECK_EQ_I(tcpw_config_set(&cfg, "tcp_max_orphans", "0"), 0);
    CHECK_EQ_I(tt_init(&t, &cfg), 0);
    CHECK(tt_conn_established_active(&t));
    tcpw_set_close_fn(t.stack, on_close, &cl);
    CHECK_EQ_I(tcpw_close(t.stack, t.fd), 0);
    TT_EXPECT(&t, TCPW_RST | TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TCP_ABORT_ON_MEMORY), 1);
    CHECK_EQ_I(cl.n, 1);
    CHECK_EQ(cl.info[0].reason, TCPW_REASON_ORPHAN_OVERFLOW);
    CHECK_EQ_I(cl.info[0].fd, -1);
    CHECK_EQ(tt_fini(&t), 0);
}

/* The peer crashed (it answers nothing): data is retransmitted with the RTO
 * doubling up to 120 s; the connection gives up when the time since the
 * first transmission reaches what tcp_retries2 = 15 retransmissions from
 * 200 ms take (924.6 s, Linux's tcp_model_timeout()); ETIMEDOUT, then EPIPE. */
static void test_peer_crash_during_data(void)
{
    struct tt t;
    struct tcpw_conn_info info;
    uint64_t start, rto, expect = 0, prev = 0;
    int n = 0;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, "hello", 5), 5);
    start = t.now;
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, t.local_nxt, t.peer_nxt, 5);
    CHECK_EQ_I(tcpw_conn_info(t.stack, t.fd, &info), 0);
    rto = info.rto_us;
    CHECK(rto >= 200000 && rto < 201000);
    for (;;) {
        tt_run_to_deadline(&t, 200 * SEC);
        if (!tt_pending(&t))
            break;
        /* Each retransmission at the doubled RTO, capped at 120 s. */
        uint64_t step = rto << (n < 20 ? n : 20);
        if (step > 120 * SEC)
            step = 120 * SEC;
        expect += step;
        CHECK_EQ(t.now - start, expect);
        if (tcpw_sock_state(t.stack, t.fd) == TCPW_CLOSED)
            break;
        TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, t.local_nxt, t.peer_nxt, 5);
        prev = t.now;
        n++;
    }
    (void)prev;
    /* The give-up after 15 retransmissions: ETIMEDOUT, and like Linux's
     * tcp_write_err() no RST into the void. */
    CHECK_EQ_I(n, 15);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK(t.now - start >= 924600000ull);
    CHECK(t.now - start < 924600000ull + 120 * SEC);
    CHECK_STATE(&t, t.fd, TCPW_CLOSED);
    CHECK_EQ_I(tt_so_error(&t, t.fd), ETIMEDOUT);
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, "x", 1), -EPIPE);
    CHECK_EQ_I(tt_close_reason(&t, t.fd), TCPW_REASON_RETRANSMIT_TIMEOUT);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TCP_ABORT_ON_TIMEOUT), 1);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TCP_RETRANS_SEGS), 15);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TCP_RETRIES1_EXCEEDED), 1);
    CHECK_EQ(tt_fini(&t), 0);
}

/* The peer crashes while we close: the orphan's FIN is retransmitted
 * tcp_orphan_retries times (0 means 8, as Linux), and the orphan is dropped
 * once what 8 retransmissions from 200 ms take has passed (102.2 s). */
static void test_peer_crash_during_close(void)
{
    struct tt t;
    struct closes cl = {0};
    uint64_t start;
    int n = 0;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    tcpw_set_close_fn(t.stack, on_close, &cl);
    CHECK_EQ_I(tcpw_close(t.stack, t.fd), 0);
    start = t.now;
    TT_EXPECT(&t, TCPW_FIN | TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    while (cl.n == 0 && t.now - start < 1000 * SEC) {
        tt_run_to_deadline(&t, 1000 * SEC);
        if (tt_pending(&t)) {
            TT_EXPECT(&t, TCPW_FIN | TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
            n++;
        }
    }
    CHECK_EQ_I(n, 8);
    CHECK_EQ_I(cl.n, 1);
    CHECK_EQ_I(cl.info[0].fd, -1);
    CHECK_EQ(cl.info[0].reason, TCPW_REASON_RETRANSMIT_TIMEOUT);
    CHECK(t.now - start >= 102200000ull);
    CHECK(t.now - start < 102200000ull + 60 * SEC);
    CHECK_EQ(tt_count_state(&t, TCPW_FIN_WAIT_1), 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TCP_ABORT_ON_TIMEOUT), 1);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* TCP_USER_TIMEOUT (RFC 5482) replaces the retry count: 3 s. */
static void test_user_timeout(void)
{
    struct tt t;
    uint64_t start;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    CHECK_EQ_I(set_int(&t, t.fd, TCPW_TCP_USER_TIMEOUT, 3000), 0);
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, "hello", 5), 5);
    start = t.now;
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, t.local_nxt, t.peer_nxt, 5);
    while (tcpw_sock_state(t.stack, t.fd) != TCPW_CLOSED && t.now - start < 100 * SEC) {
        tt_drain(&t);
        tt_run_to_deadline(&t, 100 * SEC);
    }
    CHECK_STATE(&t, t.fd, TCPW_CLOSED);
    /* The first timeout at or after 3 s: 0.2+0.4+0.8+1.6 = 3.0 s. */
    CHECK(t.now - start >= 3 * SEC);
    CHECK(t.now - start < 7 * SEC);
    CHECK_EQ_I(tt_so_error(&t, t.fd), ETIMEDOUT);
    CHECK_EQ_I(tt_close_reason(&t, t.fd), TCPW_REASON_USER_TIMEOUT);
    tt_drain(&t);
    CHECK_EQ(tt_fini(&t), 0);
}

/* Keepalive against a dead peer: probes (SND.UNA-1, no data) after
 * KEEPIDLE, then every KEEPINTVL; KEEPCNT unanswered probes end it. */
static void test_keepalive_dead_peer(void)
{
    struct tt t;
    uint64_t start;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    CHECK_EQ_I(set_int(&t, t.fd, TCPW_TCP_KEEPIDLE, 10), 0);
    CHECK_EQ_I(set_int(&t, t.fd, TCPW_TCP_KEEPINTVL, 5), 0);
    CHECK_EQ_I(set_int(&t, t.fd, TCPW_TCP_KEEPCNT, 3), 0);
    start = t.now;
    CHECK_EQ_I(set_int(&t, t.fd, TCPW_SO_KEEPALIVE, 1), 0);
    for (int i = 0; i < 3; i++) {
        tt_run_to_deadline(&t, 60 * SEC);
        CHECK_EQ(t.now - start, (10 + 5 * (uint64_t)i) * SEC);
        TT_EXPECT(&t, TCPW_ACK, t.local_nxt - 1, t.peer_nxt, 0);
    }
    tt_run_to_deadline(&t, 60 * SEC);
    CHECK_EQ(t.now - start, 25 * SEC);
    TT_EXPECT(&t, TCPW_RST | TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    CHECK_STATE(&t, t.fd, TCPW_CLOSED);
    CHECK_EQ_I(tt_so_error(&t, t.fd), ETIMEDOUT);
    CHECK_EQ_I(tt_close_reason(&t, t.fd), TCPW_REASON_KEEPALIVE_TIMEOUT);
    CHECK_EQ(tt_fini(&t), 0);
}

/* A live peer answers the probe; like Linux, the next probe is due a full
 * KEEPIDLE after the last segment heard (the interval timer finds the
 * connection not idle long enough and waits the rest). */
static void test_keepalive_answered(void)
{
    struct tt t;
    uint64_t start;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    CHECK_EQ_I(set_int(&t, t.fd, TCPW_TCP_KEEPIDLE, 10), 0);
    CHECK_EQ_I(set_int(&t, t.fd, TCPW_TCP_KEEPINTVL, 5), 0);
    start = t.now;
    CHECK_EQ_I(set_int(&t, t.fd, TCPW_SO_KEEPALIVE, 1), 0);
    tt_run_to_deadline(&t, 60 * SEC);
    CHECK_EQ(t.now - start, 10 * SEC);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt - 1, t.peer_nxt, 0);
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, t.local_nxt, NULL, 0);
    TT_EXPECT_NOTHING(&t, 0);
    tt_run_to_deadline(&t, 60 * SEC);
    CHECK_EQ(t.now - start, 20 * SEC);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt - 1, t.peer_nxt, 0);
    CHECK_STATE(&t, t.fd, TCPW_ESTABLISHED);
    CHECK_EQ(tt_fini(&t), 0);
}

/* A rebooted peer knows nothing of the connection: it answers our probe
 * (or data) with RST, and we see ECONNRESET. */
static void test_peer_reboot(void)
{
    struct tt t;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, "hello", 5), 5);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, t.local_nxt, t.peer_nxt, 5);
    /* The rebooted peer's RST for a segment with ACK: <SEQ=SEG.ACK>. */
    TT_SEND(&t, TCPW_RST, t.peer_nxt, 0, NULL, 0);
    CHECK_STATE(&t, t.fd, TCPW_CLOSED);
    CHECK_EQ_I(tt_so_error(&t, t.fd), ECONNRESET);
    CHECK_EQ_I(tt_close_reason(&t, t.fd), TCPW_REASON_RESET_RECEIVED);
    CHECK_EQ(tt_fini(&t), 0);
}

/* Orderly ends carry who sent the first FIN, and whether TIME_WAIT holds
 * the 4-tuple. */
static void test_close_reasons_orderly(void)
{
    struct tt t;
    struct closes cl = {0};
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    tcpw_set_close_fn(t.stack, on_close, &cl);
    CHECK(tt_conn_in_time_wait(&t));
    CHECK_EQ_I(cl.n, 1);
    CHECK_EQ(cl.info[0].reason, TCPW_REASON_LOCAL_FIN_FIRST);
    CHECK(cl.info[0].time_wait);
    CHECK_EQ_I(tt_close_reason(&t, t.fd), TCPW_REASON_LOCAL_FIN_FIRST);
    tt_fini(&t);

    memset(&cl, 0, sizeof(cl));
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    tcpw_set_close_fn(t.stack, on_close, &cl);
    CHECK(tt_conn_in_last_ack(&t));
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, t.local_nxt, NULL, 0);
    CHECK_EQ_I(cl.n, 1);
    CHECK_EQ(cl.info[0].reason, TCPW_REASON_PEER_FIN_FIRST);
    CHECK(!cl.info[0].time_wait);
    tt_fini(&t);

    memset(&cl, 0, sizeof(cl));
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    tcpw_set_close_fn(t.stack, on_close, &cl);
    CHECK(tt_conn_in_closing(&t));
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, t.local_nxt, NULL, 0);
    CHECK_EQ_I(cl.n, 1);
    CHECK_EQ(cl.info[0].reason, TCPW_REASON_SIMULTANEOUS_CLOSE);
    CHECK_STR(tcpw_close_reason_name(TCPW_REASON_SIMULTANEOUS_CLOSE), "simultaneous-close");
    CHECK_EQ(tt_fini(&t), 0);
}

int main(void)
{
    RUN(test_linger_zero_with_unsent_data);
    RUN(test_linger_zero_nothing_queued);
    RUN(test_linger_completes);
    RUN(test_linger_timeout);
    RUN(test_close_blocking);
    RUN(test_orphan_overflow);
    RUN(test_peer_crash_during_data);
    RUN(test_peer_crash_during_close);
    RUN(test_user_timeout);
    RUN(test_keepalive_dead_peer);
    RUN(test_keepalive_answered);
    RUN(test_peer_reboot);
    RUN(test_close_reasons_orderly);
    return check_summary();
}
