/* tcp_tw_reuse on the wire (Linux's tcp_twsk_unique(); RFC 7323 §5 PAWS is
 * what makes it safe, RFC 6056 for the ephemeral port walk). A connection
 * we closed first leaves a TIME_WAIT record; a new connection to the same
 * peer from the same port may take the record over when tcp_tw_reuse allows
 * it, the record has timestamps and its TS.Recent is at least 1 s old. The
 * new SYN then carries ISS = old SND.NXT + 65535 + 2 and a TSval from the
 * same (per address pair) clock, so newer than the old connection's.
 */
#include <errno.h>
#include <string.h>

#include "tcptest.h"

#define SEC 1000000ull

struct saved {
    uint16_t lport;
    uint32_t local_nxt;  /* the record's SND.NXT (after our FIN) */
    uint32_t last_ts_val; /* the last TSval the old connection sent */
};

static int start(struct tt *t, const char *reuse, const char *range)
{
    struct tcpw_config cfg = tcpw_config_linux_defaults;
    if (tcpw_config_set(&cfg, "tcp_tw_reuse", reuse))
        return -1;
    if (range && tcpw_config_set(&cfg, "ip_local_port_range", range))
        return -1;
    return tt_init(t, &cfg);
}

/* Our active close: ESTABLISHED (the peer's SYN,ACK carries `opts`), FIN,
 * ACK, the peer's FIN, our ACK: a TIME_WAIT record. The socket is closed. */
static bool time_wait_with(struct tt *t, const struct tcpw_tcp_opts *opts, struct saved *v)
{
    if (!tt_conn_established_active_opts(t, -1, opts, 65535))
        return false;
    if (tcpw_shutdown(t->stack, t->fd, TCPW_SHUT_WR))
        return false;
    if (!tt_expect(t, TCPW_FIN | TCPW_ACK, t->local_nxt, t->peer_nxt, 0, __FILE__, __LINE__))
        return false;
    t->local_nxt++;
    if (tt_send(t, TCPW_ACK, t->peer_nxt, t->local_nxt, NULL, 0) ||
        tt_send(t, TCPW_FIN | TCPW_ACK, t->peer_nxt, t->local_nxt, NULL, 0))
        return false;
    t->peer_nxt++;
    if (!tt_expect(t, TCPW_ACK, t->local_nxt, t->peer_nxt, 0, __FILE__, __LINE__))
        return false;
    v->lport = t->lport;
    v->local_nxt = t->local_nxt;
    v->last_ts_val = t->last_ts_val;
    return tcpw_close(t->stack, t->fd) == 0 && tt_count_state(t, TCPW_TIME_WAIT) >= 1;
}

static bool time_wait(struct tt *t, struct saved *v)
{
    struct tcpw_tcp_opts o = tt_linux_syn_opts();
    return time_wait_with(t, &o, v);
}

static bool tw_holds(struct tt *t, uint16_t lport)
{
    struct tcpw_tw_info info[4];
    size_t n = 0;
    if (tcpw_tw_list(t->stack, info, 4, &n) != 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (info[i].lport == lport && info[i].raddr == TT_PEER && info[i].rport == 80)
            return true;
    return false;
}

/* connect() from `lport` (0: ephemeral) to the peer's port 80. */
static int connect_from(struct tt *t, uint16_t lport, int *fd)
{
    int err;
    *fd = tcpw_socket(t->stack);
    if (*fd < 0)
        return *fd;
    if (lport && (err = tcpw_bind(t->stack, *fd, 0, lport)) != 0)
        return err;
    return tcpw_connect(t->stack, *fd, TT_PEER, 80);
}

/* (a) tcp_tw_reuse=1, record >= 1 s old: the bound connect takes it over. */
static void test_bound_reuse(void)
{
    struct tt t;
    struct saved a;
    int fd;

    CHECK_EQ_I(start(&t, "1", NULL), 0);
    CHECK(time_wait(&t, &a));
    CHECK(tw_holds(&t, a.lport));
    tt_advance(&t, 2 * SEC);
    CHECK_EQ_I(connect_from(&t, a.lport, &fd), -EINPROGRESS);
    /* ISS = old SND.NXT + 65535 + 2 (Linux's write_seq rule). */
    TT_EXPECT(&t, TCPW_SYN, a.local_nxt + 65537u, 0, 0);
    CHECK_EQ(t.last.l4.tcp.sport, a.lport);
    CHECK(t.last.l4.tcp.opts.has_ts);
    /* The same clock, 2 s on: newer by ~2000 ticks of 1 ms. */
    CHECK((int32_t)(t.last.l4.tcp.opts.ts_val - a.last_ts_val) >= 2000);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TW_RECYCLED), 1);
    CHECK(!tw_holds(&t, a.lport));
    CHECK_EQ(tcpw_tw_count(t.stack), 0);
    /* The handshake completes on the new sequence space. */
    TT_SEND(&t, TCPW_SYN | TCPW_ACK, 0x12345678u, a.local_nxt + 65538u, NULL, 0);
    TT_EXPECT(&t, TCPW_ACK, a.local_nxt + 65538u, 0x12345679u, 0);
    CHECK_STATE(&t, fd, TCPW_ESTABLISHED);
    CHECK_EQ(tt_fini(&t), 0);
}

/* (b) The same within 1 s of TS.Recent: the port is not usable. */
static void test_bound_too_young(void)
{
    struct tt t;
    struct saved a;
    int fd;

    CHECK_EQ_I(start(&t, "1", NULL), 0);
    CHECK(time_wait(&t, &a));
    tt_advance(&t, SEC - 1000);
    CHECK_EQ_I(connect_from(&t, a.lport, &fd), -EADDRNOTAVAIL);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TW_RECYCLED), 0);
    CHECK(tw_holds(&t, a.lport));
    /* A moment later the record is 1 s old and the same socket may. */
    tt_advance(&t, 1000);
    CHECK_EQ_I(tcpw_connect(t.stack, fd, TT_PEER, 80), -EINPROGRESS);
    TT_EXPECT(&t, TCPW_SYN, a.local_nxt + 65537u, 0, 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TW_RECYCLED), 1);
    CHECK_EQ(tt_fini(&t), 0);
}

/* (c) tcp_tw_reuse=0, and 2 (loopback only: 10.0.0.x is not loopback). */
static void test_bound_reuse_off(void)
{
    static const char *const modes[] = {"0", "2"};
    for (size_t i = 0; i < 2; i++) {
        struct tt t;
        struct saved a;
        int fd;

        CHECK_EQ_I(start(&t, modes[i], NULL), 0);
        CHECK(time_wait(&t, &a));
        tt_advance(&t, 5 * SEC);
        CHECK_EQ_I(connect_from(&t, a.lport, &fd), -EADDRNOTAVAIL);
        TT_EXPECT_NOTHING(&t, 0);
        CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TW_RECYCLED), 0);
        CHECK(tw_holds(&t, a.lport));
        CHECK_EQ(tt_fini(&t), 0);
    }
}

/* (d) Without timestamps (the peer's SYN,ACK has none) nothing but the
 * sequence numbers would tell old duplicates from new segments: refused. */
static void test_bound_no_timestamps(void)
{
    struct tt t;
    struct saved a;
    struct tcpw_tcp_opts o;
    int fd;

    CHECK_EQ_I(start(&t, "1", NULL), 0);
    t.peer_ts = 0;
    o = tt_linux_syn_opts();
    CHECK(time_wait_with(&t, &o, &a));
    CHECK(!t.last.l4.tcp.opts.has_ts);
    tt_advance(&t, 5 * SEC);
    CHECK_EQ_I(connect_from(&t, a.lport, &fd), -EADDRNOTAVAIL);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TW_RECYCLED), 0);
    CHECK(tw_holds(&t, a.lport));
    CHECK_EQ(tt_fini(&t), 0);
}

/* (e) The ephemeral picker with both ports of "40000 40001" held by TIME_WAIT
 * records toward the peer: refused with tcp_tw_reuse=0 (and while the
 * records are younger than 1 s), one record taken over with 1. */
static void test_ephemeral(void)
{
    static const char *const modes[] = {"0", "1"};
    for (size_t i = 0; i < 2; i++) {
        struct tt t;
        struct saved a, b;
        const struct saved *took;
        int fd;

        CHECK_EQ_I(start(&t, modes[i], "40000 40001"), 0);
        CHECK(time_wait(&t, &a));
        CHECK(time_wait(&t, &b)); /* a's record is 0 s old: b gets the other port */
        CHECK(a.lport != b.lport);
        CHECK(a.lport >= 40000 && a.lport <= 40001 && b.lport >= 40000 && b.lport <= 40001);
        CHECK_EQ(tcpw_tw_count(t.stack), 2);
        CHECK_EQ_I(connect_from(&t, 0, &fd), -EADDRNOTAVAIL);
        tt_advance(&t, 2 * SEC);
        if (i == 0) {
            CHECK_EQ_I(tcpw_connect(t.stack, fd, TT_PEER, 80), -EADDRNOTAVAIL);
            TT_EXPECT_NOTHING(&t, 0);
            CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TW_RECYCLED), 0);
            CHECK_EQ(tcpw_tw_count(t.stack), 2);
        } else {
            CHECK_EQ_I(tcpw_connect(t.stack, fd, TT_PEER, 80), -EINPROGRESS);
            TT_EXPECT(&t, TCPW_SYN, TT_ANY, 0, 0);
            took = t.last.l4.tcp.sport == a.lport ? &a : &b;
            CHECK_EQ(t.last.l4.tcp.sport, took->lport);
            CHECK_EQ(t.last.l4.tcp.seq, took->local_nxt + 65537u);
            CHECK(t.last.l4.tcp.opts.has_ts);
            CHECK((int32_t)(t.last.l4.tcp.opts.ts_val - b.last_ts_val) >= 2000);
            CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TW_RECYCLED), 1);
            CHECK_EQ(tcpw_tw_count(t.stack), 1);
            CHECK(!tw_holds(&t, took->lport));
            CHECK(tw_holds(&t, took == &a ? b.lport : a.lport));
        }
        CHECK_EQ(tt_fini(&t), 0);
    }
}

int main(void)
{
    RUN(test_bound_reuse);
    RUN(test_bound_too_young);
    RUN(test_bound_reuse_off);
    RUN(test_bound_no_timestamps);
    RUN(test_ephemeral);
    return check_summary();
}
