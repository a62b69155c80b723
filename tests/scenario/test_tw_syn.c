/* A new SYN meeting a TIME_WAIT record on the server side (RFC 9293
 * §3.10.7.4 note, RFC 6191, RFC 7323 §5.3 PAWS; Linux's
 * tcp_timewait_state_process()). The server (the stack, listening on 80)
 * closes first, so the record is on the passive side, as with HTTP servers.
 * The peer's ISN is just below 2^32, so the old RCV.NXT is 0xfffffff2 and
 * "above" wraps. The record holds TS.Recent = the peer's TSval on its FIN.
 */
#include <string.h>

#include "tcptest.h"

#define SEC 1000000ull
#define PEER_TS 5000u

struct saved {
    uint32_t snd_nxt; /* the record's SND.NXT (after our FIN) */
    uint32_t rcv_nxt; /* the record's RCV.NXT (after the peer's FIN) */
    uint32_t iss;     /* the old connection's ISS */
};

/* The server closes first: ESTABLISHED (passive), our FIN, the peer's ACK,
 * the peer's FIN, our ACK: a TIME_WAIT record for 10.0.0.1:80 <->
 * 10.0.0.2:40000. peer_ts = 0 runs the connection without timestamps. */
static bool server_time_wait(struct tt *t, uint32_t peer_ts, struct saved *v)
{
    t->peer_ts = peer_ts;
    if (!tt_server_in_time_wait(t))
        return false;
    v->snd_nxt = t->local_nxt;
    v->rcv_nxt = t->peer_nxt;
    v->iss = t->local_iss;
    return tcpw_tw_count(t->stack) == 1 && v->rcv_nxt == 0xfffffff2u;
}

/* The new SYN from the same client port, with Linux's SYN options. */
static int send_syn(struct tt *t, uint32_t isn)
{
    struct tcpw_tcp_opts o = tt_linux_syn_opts();
    return tt_send_opts(t, TCPW_SYN, isn, 0, 65535, &o, NULL, 0);
}

static uint64_t ctr(struct tt *t, enum tcpw_counter c) { return tcpw_stack_counter(t->stack, c); }

/* The SYN was accepted: SYN,ACK with ISS = old SND.NXT + 65537, record gone,
 * no counter (Linux counts nothing for TCP_TW_SYN; TWRecycled is
 * tcp_tw_reuse's). The handshake completes and the listener has a new
 * connection to accept. */
static void check_accepted(struct tt *t, const struct saved *v, uint32_t isn)
{
    int fd;

    TT_EXPECT(t, TCPW_SYN | TCPW_ACK, TT_ANY, isn + 1u, 0);
    {
        uint32_t iss = t->last.l4.tcp.seq;
        /* Linux's tw_isn: the record's SND.NXT + 65535 + 2, beyond anything
         * of the old connection the peer could still accept. */
        CHECK_EQ(iss, v->snd_nxt + 65537u);
        CHECK_EQ(tcpw_tw_count(t->stack), 0);
        CHECK_EQ(tt_count_state(t, TCPW_TIME_WAIT), 0);
        CHECK_EQ(ctr(t, TCPW_CTR_TW_RECYCLED), 0);
        CHECK_EQ(ctr(t, TCPW_CTR_PAWS_ESTAB), 0);
        CHECK_EQ(ctr(t, TCPW_CTR_TW_KILLED), 0);
        TT_SEND(t, TCPW_ACK, isn + 1u, iss + 1u, NULL, 0);
    }
    fd = tcpw_accept(t->stack, t->lfd, NULL, NULL);
    CHECK(fd >= 0);
    CHECK_STATE(t, fd, TCPW_ESTABLISHED);
}

/* The SYN was refused: the old connection's ACK, <SEQ=SND.NXT><ACK=RCV.NXT>
 * with TSecr = TS.Recent, and the record stays. */
static void check_reacked(struct tt *t, const struct saved *v, bool ts)
{
    TT_EXPECT(t, TCPW_ACK, v->snd_nxt, v->rcv_nxt, 0);
    CHECK_EQ(t->last.l4.tcp.opts.has_ts, ts);
    if (ts)
        CHECK_EQ(t->last.l4.tcp.opts.ts_ecr, PEER_TS);
    CHECK_EQ(tcpw_tw_count(t->stack), 1);
    CHECK_EQ(ctr(t, TCPW_CTR_TW_RECYCLED), 0);
    TT_EXPECT_NOTHING(t, 0);
}

/* (a) ISN above the old RCV.NXT (wrapping past 2^32), TSval newer too. */
static void test_isn_above_accepted(void)
{
    struct tt t;
    struct saved v;
    const uint32_t isn = 0xfffffff2u + 100000u;

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(server_time_wait(&t, PEER_TS, &v));
    tt_advance(&t, SEC);
    t.peer_ts = PEER_TS + 1000u;
    CHECK_EQ_I(send_syn(&t, isn), 0);
    check_accepted(&t, &v, isn);
    CHECK_EQ(tt_fini(&t), 0);
}

/* (a1) ISN above, TSval equal to TS.Recent: PAWS passes (not older), the
 * sequence number decides (Linux; RFC 6191 says the same for equal TSvals). */
static void test_isn_above_ts_equal_accepted(void)
{
    struct tt t;
    struct saved v;
    const uint32_t isn = 0xfffffff2u + 100000u;

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(server_time_wait(&t, PEER_TS, &v));
    tt_advance(&t, SEC);
    CHECK_EQ_I(send_syn(&t, isn), 0);
    check_accepted(&t, &v, isn);
    CHECK_EQ(tt_fini(&t), 0);
}

/* (a2) Without timestamps: the sequence number alone. */
static void test_isn_above_no_ts_accepted(void)
{
    struct tt t;
    struct saved v;
    const uint32_t isn = 0xfffffff2u + 100000u;

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(server_time_wait(&t, 0, &v));
    tt_advance(&t, SEC);
    CHECK_EQ_I(send_syn(&t, isn), 0);
    check_accepted(&t, &v, isn);
    CHECK(!t.last.l4.tcp.opts.has_ts);
    CHECK_EQ(tt_fini(&t), 0);
}

/* (a3) Timestamps on the record, none on the SYN: the sequence number
 * decides (Linux: no TSval, no PAWS). */
static void test_isn_above_syn_without_ts_accepted(void)
{
    struct tt t;
    struct saved v;
    const uint32_t isn = 0xfffffff2u + 100000u;

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(server_time_wait(&t, PEER_TS, &v));
    tt_advance(&t, SEC);
    t.peer_ts = 0;
    CHECK_EQ_I(send_syn(&t, isn), 0);
    check_accepted(&t, &v, isn);
    CHECK_EQ(tt_fini(&t), 0);
}

/* (b) ISN below the old RCV.NXT but TSval newer: RFC 6191 accepts it. */
static void test_isn_below_ts_newer_accepted(void)
{
    struct tt t;
    struct saved v;
    const uint32_t isn = 0xfffffff2u - 100000u;

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(server_time_wait(&t, PEER_TS, &v));
    tt_advance(&t, SEC);
    t.peer_ts = PEER_TS + 1u;
    CHECK_EQ_I(send_syn(&t, isn), 0);
    check_accepted(&t, &v, isn);
    CHECK_EQ(tt_fini(&t), 0);
}

/* (c) ISN below, TSval older: an old duplicate that fails PAWS. Linux counts
 * PAWSEstab, restarts the 2MSL wait and re-ACKs. */
static void test_isn_below_ts_older_reacked(void)
{
    struct tt t;
    struct saved v;
    struct tcpw_tw_info info;
    size_t n = 0;

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(server_time_wait(&t, PEER_TS, &v));
    tt_advance(&t, 10 * SEC);
    t.peer_ts = PEER_TS - 1u;
    CHECK_EQ_I(send_syn(&t, 0xfffffff2u - 100000u), 0);
    check_reacked(&t, &v, true);
    CHECK_EQ(ctr(&t, TCPW_CTR_PAWS_ESTAB), 1);
    CHECK_EQ_I(tcpw_tw_list(t.stack, &info, 1, &n), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(info.remaining_us, 60 * SEC); /* restarted */
    /* A SYN above RCV.NXT with an older TSval fails PAWS all the same. */
    CHECK_EQ_I(send_syn(&t, 0xfffffff2u + 100000u), 0);
    check_reacked(&t, &v, true);
    CHECK_EQ(ctr(&t, TCPW_CTR_PAWS_ESTAB), 2);
    CHECK_EQ(tt_fini(&t), 0);
}

/* (c2) ISN below, TSval equal: not a PAWS failure and not newer. Re-ACK,
 * nothing counted, and (Linux) an ACK-less SYN does not restart 2MSL. */
static void test_isn_below_ts_equal_reacked(void)
{
    struct tt t;
    struct saved v;
    struct tcpw_tw_info info;
    size_t n = 0;

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(server_time_wait(&t, PEER_TS, &v));
    tt_advance(&t, 10 * SEC);
    CHECK_EQ_I(send_syn(&t, v.rcv_nxt), 0); /* equal is not above */
    check_reacked(&t, &v, true);
    CHECK_EQ(ctr(&t, TCPW_CTR_PAWS_ESTAB), 0);
    CHECK_EQ_I(tcpw_tw_list(t.stack, &info, 1, &n), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(info.remaining_us, 50 * SEC);
    /* The client in SYN-SENT answers the ACK with a RST (RFC 9293
     * §3.10.7.3); TIME-WAIT ignores it (RFC 1337, tcp_rfc1337=1). */
    TT_SEND(&t, TCPW_RST, v.snd_nxt, 0, NULL, 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(tcpw_tw_count(t.stack), 1);
    CHECK_EQ(tt_fini(&t), 0);
}

/* (d) No timestamps on the record, ISN below: re-ACK without timestamps,
 * even when the SYN carries one (Linux does not parse options then;
 * RFC 6191 would accept it, Linux does not). */
static void test_no_ts_isn_below_reacked(void)
{
    struct tt t;
    struct saved v;

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(server_time_wait(&t, 0, &v));
    tt_advance(&t, SEC);
    CHECK_EQ_I(send_syn(&t, 0xfffffff2u - 100000u), 0);
    check_reacked(&t, &v, false);
    t.peer_ts = PEER_TS + 1000u;
    CHECK_EQ_I(send_syn(&t, 0xfffffff2u - 100000u), 0);
    check_reacked(&t, &v, false);
    CHECK_EQ(ctr(&t, TCPW_CTR_PAWS_ESTAB), 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* (e) PAWS on non-SYN segments: an old duplicate (data, older TSval) is
 * counted PAWSEstab, restarts 2MSL and is re-ACKed; so is a retransmitted
 * FIN with an older TSval. A RST with an older TSval does not kill the
 * record even with tcp_rfc1337=0; a RST with a current TSval does. */
static void test_paws_non_syn(void)
{
    struct tt t;
    struct saved v;
    struct tcpw_tw_info info;
    size_t n = 0;
    struct tcpw_config cfg = tcpw_config_linux_defaults;

    CHECK_EQ_I(tcpw_config_set(&cfg, "tcp_rfc1337", "0"), 0);
    CHECK_EQ_I(tt_init(&t, &cfg), 0);
    CHECK(server_time_wait(&t, PEER_TS, &v));
    tt_advance(&t, 10 * SEC);
    t.peer_ts = PEER_TS - 10u;
    TT_SEND(&t, TCPW_ACK, v.rcv_nxt - 1u, v.snd_nxt, "x", 1);
    TT_EXPECT(&t, TCPW_ACK, v.snd_nxt, v.rcv_nxt, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_PAWS_ESTAB), 1);
    CHECK_EQ_I(tcpw_tw_list(t.stack, &info, 1, &n), 0);
    CHECK_EQ(info.remaining_us, 60 * SEC);
    /* A bare ACK in the old sequence space with an older TSval: Linux
     * re-ACKs it too (paws_reject goes to the out-of-window path). */
    tt_advance(&t, SEC);
    TT_SEND(&t, TCPW_ACK, v.rcv_nxt, v.snd_nxt, NULL, 0);
    TT_EXPECT(&t, TCPW_ACK, v.snd_nxt, v.rcv_nxt, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_PAWS_ESTAB), 2);
    /* The old RST. */
    TT_SEND(&t, TCPW_RST | TCPW_ACK, v.rcv_nxt, v.snd_nxt, NULL, 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_PAWS_ESTAB), 3);
    CHECK_EQ(ctr(&t, TCPW_CTR_TW_KILLED), 0);
    CHECK_EQ(tcpw_tw_count(t.stack), 1);
    /* The same with a current TSval kills it (tcp_rfc1337=0). */
    t.peer_ts = PEER_TS;
    TT_SEND(&t, TCPW_RST | TCPW_ACK, v.rcv_nxt, v.snd_nxt, NULL, 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_TW_KILLED), 1);
    CHECK_EQ(tcpw_tw_count(t.stack), 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* (e2) Without PAWS failure a bare in-order ACK stays silent, and a
 * retransmitted FIN with a current TSval is re-ACKed, not counted. */
static void test_no_paws_current_ts(void)
{
    struct tt t;
    struct saved v;

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(server_time_wait(&t, PEER_TS, &v));
    tt_advance(&t, SEC);
    t.peer_ts = PEER_TS + 100u;
    TT_SEND(&t, TCPW_ACK, v.rcv_nxt, v.snd_nxt, NULL, 0);
    TT_EXPECT_NOTHING(&t, 0);
    TT_SEND(&t, TCPW_FIN | TCPW_ACK, v.rcv_nxt - 1u, v.snd_nxt, NULL, 0);
    TT_EXPECT(&t, TCPW_ACK, v.snd_nxt, v.rcv_nxt, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_PAWS_ESTAB), 0);
    CHECK_EQ(tcpw_tw_count(t.stack), 1);
    CHECK_EQ(tt_fini(&t), 0);
}

int main(void)
{
    RUN(test_isn_above_accepted);
    RUN(test_isn_above_ts_equal_accepted);
    RUN(test_isn_above_no_ts_accepted);
    RUN(test_isn_above_syn_without_ts_accepted);
    RUN(test_isn_below_ts_newer_accepted);
    RUN(test_isn_below_ts_older_reacked);
    RUN(test_isn_below_ts_equal_reacked);
    RUN(test_no_ts_isn_below_reacked);
    RUN(test_paws_non_syn);
    RUN(test_no_paws_current_ts);
    return check_summary();
}
