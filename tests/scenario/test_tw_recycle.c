/* tcp_tw_recycle as Linux had it before 4.12 (tcp_time_wait(),
 * tcp_remember_stamp(), tcp_peer_is_proven(); docs/states/TIME_WAIT.md,
 * "tcp_tw_recycle"). The server (the stack, listening on 80) closes first
 * and holds the TIME_WAIT record for 10.0.0.2:40000; the record's TS.Recent
 * (the peer's TSval on its FIN, PEER_TS) goes into the per-peer cache. A
 * later SYN from the same peer *address* (another port: a new 4-tuple, so
 * the listener sees it) is judged against that cache.
 */
#include <string.h>

#include "tcp/recycle.h"
#include "tcptest.h"

#define SEC     1000000ull
#define MS      1000ull
#define PEER_TS 5000u

/* The server closes first; true when one record for port 40000 exists. */
static bool server_time_wait(struct tt *t)
{
    t->peer_ts = PEER_TS;
    return tt_server_in_time_wait(t);
}

static uint64_t remaining_us(struct tt *t)
{
    struct tcpw_tw_info info;
    size_t n = 0;
    if (tcpw_tw_list(t->stack, &info, 1, &n) != 0 || n != 1)
        return 0;
    return info.remaining_us;
}

/* A SYN from the same peer address, port `port`, TSval `ts` (0: none). */
static int syn_from(struct tt *t, uint16_t port, uint32_t ts, uint32_t isn)
{
    struct tcpw_tcp_opts o = tt_linux_syn_opts();
    t->pport = port;
    t->peer_ts = ts;
    return tt_send_opts(t, TCPW_SYN, isn, 0, 65535, &o, NULL, 0);
}

static uint64_t ctr(struct tt *t, enum tcpw_counter c)
{
    return tcpw_stack_counter(t->stack, c);
}

static struct tcpw_config recycle_cfg(void)
{
    struct tcpw_config cfg = tcpw_config_linux_defaults;
    cfg.tcp_tw_recycle = 1;
    return cfg;
}

/* The record lives 3.5 x RTO (tcp_rto_min 200 ms: 700 ms), not 2MSL, and
 * ends as any record does (TW counted). */
static void test_lifetime_shortened(void)
{
    struct tcpw_config cfg = recycle_cfg();
    struct tt t;

    CHECK_EQ_I(tt_init(&t, &cfg), 0);
    CHECK(server_time_wait(&t));
    CHECK_EQ(remaining_us(&t), 700u * MS);
    tt_advance(&t, 700u * MS - 1u);
    CHECK_EQ(tcpw_tw_count(t.stack), 1);
    tt_advance(&t, 1u);
    CHECK_EQ(tcpw_tw_count(t.stack), 0);
    CHECK_EQ(tt_count_state(&t, TCPW_TIME_WAIT), 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_TW), 1);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* The lifetime follows the RTO floor: tcp_rto_min_ms=100 gives 350 ms. */
static void test_lifetime_follows_rto(void)
{
    struct tcpw_config cfg = recycle_cfg();
    struct tt t;

    cfg.tcp_rto_min_ms = 100;
    CHECK_EQ_I(tt_init(&t, &cfg), 0);
    CHECK(server_time_wait(&t));
    CHECK_EQ(remaining_us(&t), 350u * MS);
    tt_advance(&t, 350u * MS);
    CHECK_EQ(tcpw_tw_count(t.stack), 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* Once the record is gone, a SYN from the same address with an older TSval
 * is dropped silently (PAWSPassive); one within TCP_PAWS_WINDOW (1) or newer
 * is answered. */
static void test_older_syn_dropped_newer_accepted(void)
{
    struct tcpw_config cfg = recycle_cfg();
    struct tt t;
    const uint32_t isn = 0x12345678u;

    CHECK_EQ_I(tt_init(&t, &cfg), 0);
    CHECK(server_time_wait(&t));
    tt_advance(&t, 1u * SEC);
    CHECK_EQ(tcpw_tw_count(t.stack), 0);

    CHECK_EQ_I(syn_from(&t, 40001, PEER_TS - 1000u, isn), 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_PAWS_PASSIVE), 1);
    /* A retransmission 1 s later (a slower clock: 500 ticks on): still
     * older, dropped again, still nothing sent. */
    tt_advance(&t, 1u * SEC);
    CHECK_EQ_I(syn_from(&t, 40001, PEER_TS - 500u, isn), 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_PAWS_PASSIVE), 2);

    /* Older by just 1: Linux's TCP_PAWS_WINDOW lets it through. */
    CHECK_EQ_I(syn_from(&t, 40002, PEER_TS - 1u, isn), 0);
    TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, TT_ANY, isn + 1u, 0);
    /* Newer: answered. */
    CHECK_EQ_I(syn_from(&t, 40003, PEER_TS + 2000u, isn), 0);
    TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, TT_ANY, isn + 1u, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_PAWS_PASSIVE), 2);
    CHECK_EQ(tt_fini(&t), 0);
}

/* The cache applies to the address, not the 4-tuple: a different peer
 * address is not judged; a SYN without timestamps is not judged (tcpwave
 * follows the issue here; Linux also dropped those, see the docs); and an
 * entry older than TCP_PAWS_MSL (60 s) is ignored. */
static void test_cache_scope(void)
{
    struct tcpw_config cfg = recycle_cfg();
    struct tt t;
    const uint32_t isn = 0x12345678u;

    CHECK_EQ_I(tt_init(&t, &cfg), 0);
    CHECK(server_time_wait(&t));
    CHECK(tcpw__recycle_find(t.stack, TT_PEER) != NULL);
    CHECK(tcpw__recycle_find(t.stack, TT_PEER + 1u) == NULL);
    CHECK_EQ(tcpw__recycle_find(t.stack, TT_PEER)->ts, PEER_TS);

    CHECK_EQ_I(syn_from(&t, 40001, 0, isn), 0);
    TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, TT_ANY, isn + 1u, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_PAWS_PASSIVE), 0);

    /* 60 s after TS.Recent was received the entry no longer counts. */
    tt_advance(&t, 60u * SEC);
    tt_drain(&t); /* the 40001 handshake's SYN,ACK retransmissions */
    CHECK(tcpw__recycle_find(t.stack, TT_PEER) == NULL);
    CHECK_EQ_I(syn_from(&t, 40002, PEER_TS - 1000u, isn), 0);
    TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, TT_ANY, isn + 1u, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_PAWS_PASSIVE), 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* Off by default: 2MSL records, no cache, the older SYN is answered. */
static void test_off_by_default(void)
{
    struct tt t;
    const uint32_t isn = 0x12345678u;

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(server_time_wait(&t));
    CHECK_EQ(remaining_us(&t), 60u * SEC);
    CHECK(tcpw__recycle_find(t.stack, TT_PEER) == NULL);
    tt_advance(&t, 1u * SEC);
    CHECK_EQ_I(syn_from(&t, 40001, PEER_TS - 1000u, isn), 0);
    TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, TT_ANY, isn + 1u, 0);
    CHECK_EQ(ctr(&t, TCPW_CTR_PAWS_PASSIVE), 0);
    CHECK_EQ(tcpw_tw_count(t.stack), 1);
    CHECK_EQ(tt_fini(&t), 0);
}

int main(void)
{
    RUN(test_lifetime_shortened);
    RUN(test_lifetime_follows_rto);
    RUN(test_older_syn_dropped_newer_accepted);
    RUN(test_cache_scope);
    RUN(test_off_by_default);
    return check_summary();
}
