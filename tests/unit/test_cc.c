/* Unit tests for tcp/cc_newreno: RFC 5681 slow start / congestion avoidance /
 * fast recovery and RFC 6582 NewReno, with exact byte values. Sequence numbers
 * start just below 2^32 so that wrap bugs show. MSS 1000 keeps the arithmetic
 * readable. */
#include <string.h>

#include "check.h"

#include "tcp/cc.h"

#define MSS 1000u
#define ISS 0xfffff000u /* 4096 bytes below the wrap */

static void test_init(void)
{
    struct tcpw_cc cc;
    tcpw_cc_init(&cc, MSS, ISS + 1);
    CHECK_EQ(cc.mss, MSS);
    CHECK_EQ(cc.cwnd, 10 * MSS);
    CHECK_EQ(cc.ssthresh, UINT32_MAX);
    CHECK_EQ(cc.dupacks, 0);
    CHECK_EQ(cc.ca_acked, 0);
    CHECK(!cc.in_recovery);

    /* Degenerate MSS values neither zero nor wrap the window. */
    tcpw_cc_init(&cc, 0, ISS);
    CHECK_EQ(cc.mss, 1);
    CHECK_EQ(cc.cwnd, 10);
    tcpw_cc_init(&cc, UINT32_MAX, ISS);
    CHECK_EQ(cc.cwnd, UINT32_MAX);
}

static void test_slow_start(void)
{
    struct tcpw_cc cc;
    uint32_t una = ISS + 1;
    tcpw_cc_init(&cc, MSS, una);

    /* RFC 5681 §3.1 eq. (2): cwnd += min(N, SMSS) per ACK. */
    una += MSS;
    CHECK_EQ(tcpw_cc_on_ack(&cc, una, MSS, 9 * MSS), TCPW_CC_NONE);
    CHECK_EQ(cc.cwnd, 11 * MSS);
    una += 500;
    tcpw_cc_on_ack(&cc, una, 500, 9 * MSS);
    CHECK_EQ(cc.cwnd, 11 * MSS + 500);
    /* A stretch ACK of 3 segments still adds one SMSS. */
    una += 3 * MSS;
    tcpw_cc_on_ack(&cc, una, 3 * MSS, 9 * MSS);
    CHECK_EQ(cc.cwnd, 12 * MSS + 500);
    /* An ACK of nothing new adds nothing. */
    tcpw_cc_on_ack(&cc, una, 0, 9 * MSS);
    CHECK_EQ(cc.cwnd, 12 * MSS + 500);
    CHECK_EQ(cc.ca_acked, 0);

    /* A full window of per-segment ACKs doubles the window (one "RTT"). */
    tcpw_cc_init(&cc, MSS, una);
    for (int i = 0; i < 10; i++) {
        una += MSS;
        tcpw_cc_on_ack(&cc, una, MSS, 0);
    }
    CHECK_EQ(cc.cwnd, 20 * MSS);

    /* Saturates instead of wrapping. */
    cc.cwnd = UINT32_MAX - 10;
    tcpw_cc_on_ack(&cc, una + MSS, MSS, 0);
    CHECK_EQ(cc.cwnd, UINT32_MAX);
    tcpw_cc_on_ack(&cc, una + 2 * MSS, MSS, 0);
    CHECK_EQ(cc.cwnd, UINT32_MAX);
}

static void test_congestion_avoidance(void)
{
    struct tcpw_cc cc;
    uint32_t una = ISS + 1;
    tcpw_cc_init(&cc, MSS, una);
    /* A timeout with 20 segments outstanding: ssthresh 10 segments, cwnd 1. */
    tcpw_cc_on_timeout(&cc, 20 * MSS, una + 20 * MSS);
    CHECK_EQ(cc.ssthresh, 10 * MSS);
    CHECK_EQ(cc.cwnd, MSS);
    /* Slow start up to ssthresh: 9 ACKs. */
    for (int i = 0; i < 9; i++) {
        una += MSS;
        tcpw_cc_on_ack(&cc, una, MSS, 0);
    }
    CHECK_EQ(cc.cwnd, 10 * MSS);
    CHECK_EQ(cc.ca_acked, 0);

    /* cwnd == ssthresh: congestion avoidance. One SMSS per cwnd of bytes
     * acknowledged: 10 ACKs of one segment give +1 segment, on the 10th. */
    for (int i = 0; i < 9; i++) {
        una += MSS;
        tcpw_cc_on_ack(&cc, una, MSS, 0);
        CHECK_EQ(cc.cwnd, 10 * MSS);
    }
    una += MSS;
    tcpw_cc_on_ack(&cc, una, MSS, 0);
    CHECK_EQ(cc.cwnd, 11 * MSS);
    CHECK_EQ(cc.ca_acked, 0);

    /* Next "RTT" needs 11 segments. */
    for (int i = 0; i < 10; i++) {
        una += MSS;
        tcpw_cc_on_ack(&cc, una, MSS, 0);
    }
    CHECK_EQ(cc.cwnd, 11 * MSS);
    CHECK_EQ(cc.ca_acked, 10 * MSS);
    una += MSS;
    tcpw_cc_on_ack(&cc, una, MSS, 0);
    CHECK_EQ(cc.cwnd, 12 * MSS);
    CHECK_EQ(cc.ca_acked, 0);

    /* Byte counting carries the excess: 5000 + 5000 + 5000 against 12000. */
    una += 5000;
    tcpw_cc_on_ack(&cc, una, 5000, 0);
    una += 5000;
    tcpw_cc_on_ack(&cc, una, 5000, 0);
    CHECK_EQ(cc.cwnd, 12 * MSS);
    una += 5000;
    tcpw_cc_on_ack(&cc, una, 5000, 0);
    CHECK_EQ(cc.cwnd, 13 * MSS);
    CHECK_EQ(cc.ca_acked, 3000);

    /* Never more than one SMSS per ACK, whatever its size. */
    una += 40000;
    tcpw_cc_on_ack(&cc, una, 40000, 0);
    CHECK_EQ(cc.cwnd, 14 * MSS);
    CHECK_EQ(cc.ca_acked, 3000 + 40000 - 13000);

    /* Saturation of the byte counter. */
    cc.ca_acked = UINT32_MAX - 5;
    cc.cwnd = UINT32_MAX;
    cc.ssthresh = 2 * MSS;
    tcpw_cc_on_ack(&cc, una + 100, 100, 0);
    CHECK_EQ(cc.cwnd, UINT32_MAX);
    CHECK_EQ(cc.ca_acked, 0);
}

/* A connection at ISS+1 with 10 segments (its IW) outstanding. */
static void fixture_window_out(struct tcpw_cc *cc, uint32_t *una, uint32_t *nxt)
{
    *una = ISS + 1;
    *nxt = *una + 10 * MSS; /* wraps past 0 */
    tcpw_cc_init(cc, MSS, *una);
}

static void test_fast_recovery(void)
{
    struct tcpw_cc cc;
    uint32_t una, nxt;
    fixture_window_out(&cc, &una, &nxt);

    /* Dupacks 1 and 2: nothing (limited transmit is the caller's business). */
    CHECK_EQ(tcpw_cc_on_dupack(&cc, una, nxt, 10 * MSS), TCPW_CC_NONE);
    CHECK_EQ(tcpw_cc_on_dupack(&cc, una, nxt, 10 * MSS), TCPW_CC_NONE);
    CHECK_EQ(cc.cwnd, 10 * MSS);
    CHECK_EQ(cc.ssthresh, UINT32_MAX);
    CHECK(!cc.in_recovery);

    /* The third: first loss, so it enters. ssthresh = max(10000/2, 2000) =
     * 5000, recover = SND.NXT, cwnd = 5000 + 3·1000. */
    CHECK_EQ(tcpw_cc_on_dupack(&cc, una, nxt, 10 * MSS), TCPW_CC_RETRANSMIT_FIRST);
    CHECK(cc.in_recovery);
    CHECK_EQ(cc.ssthresh, 5000);
    CHECK_EQ(cc.cwnd, 8000);
    CHECK_EQ(cc.recover, nxt);
    CHECK_EQ(cc.dupacks, 3);

    /* Further dupacks inflate by one SMSS each (RFC 5681 §3.2 step 4). */
    CHECK_EQ(tcpw_cc_on_dupack(&cc, una, nxt, 10 * MSS), TCPW_CC_NONE);
    CHECK_EQ(cc.cwnd, 9000);
    CHECK_EQ(tcpw_cc_on_dupack(&cc, una, nxt, 10 * MSS), TCPW_CC_NONE);
    CHECK_EQ(cc.cwnd, 10000);
    CHECK_EQ(cc.ssthresh, 5000);
    CHECK_EQ(cc.recover, nxt);

    /* Partial ACK of 3000 (< recover): retransmit the first unacked segment,
     * cwnd = 10000 − 3000 + 1000 (acked >= SMSS) = 8000; stay in recovery. */
    una += 3000;
    CHECK_EQ(tcpw_cc_on_ack(&cc, una, 3000, 7000), TCPW_CC_RETRANSMIT_FIRST);
    CHECK_EQ(cc.cwnd, 8000);
    CHECK(cc.in_recovery);
    CHECK_EQ(cc.dupacks, 0);
    CHECK_EQ(cc.ssthresh, 5000);

    /* A dupack after a partial ACK inflates at once (still in recovery). */
    CHECK_EQ(tcpw_cc_on_dupack(&cc, una, nxt, 7000), TCPW_CC_NONE);
    CHECK_EQ(cc.cwnd, 9000);

    /* Partial ACK of less than one SMSS: deflate, no SMSS added back:
     * 9000 − 500 = 8500. */
    una += 500;
    CHECK_EQ(tcpw_cc_on_ack(&cc, una, 500, 6500), TCPW_CC_RETRANSMIT_FIRST);
    CHECK_EQ(cc.cwnd, 8500);
    CHECK(cc.in_recovery);

    /* Partial ACK ending one byte short of recover. */
    CHECK_EQ(tcpw_cc_on_ack(&cc, nxt - 1, (nxt - 1) - una, 1), TCPW_CC_RETRANSMIT_FIRST);
    una = nxt - 1;
    CHECK_EQ(cc.cwnd, 8500 - 6499 + 1000);
    CHECK(cc.in_recovery);

    /* Full ACK (ack == recover) with 2000 bytes of new data still out:
     * cwnd = min(ssthresh 5000, max(2000, 1000) + 1000) = 3000; exit. No
     * growth on this ACK. */
    CHECK_EQ(tcpw_cc_on_ack(&cc, nxt, 1, 2000), TCPW_CC_NONE);
    CHECK(!cc.in_recovery);
    CHECK_EQ(cc.cwnd, 3000);
    CHECK_EQ(cc.ssthresh, 5000);
    CHECK_EQ(cc.dupacks, 0);
    CHECK_EQ(cc.ca_acked, 0);
}

static void test_full_ack_values(void)
{
    static const struct {
        uint32_t flight_after, cwnd;
    } cases[] = {
        {0, 2000},    /* max(0, SMSS) + SMSS */
        {500, 2000},  /* max(500, SMSS) + SMSS */
        {1000, 2000}, /* 1000 + 1000 */
        {3500, 4500}, /* 3500 + 1000 */
        {4000, 5000}, /* == ssthresh */
        {8000, 5000}, /* capped at ssthresh */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tcpw_cc cc;
        uint32_t una, nxt;
        fixture_window_out(&cc, &una, &nxt);
        for (int d = 0; d < 3; d++)
            tcpw_cc_on_dupack(&cc, una, nxt, 10 * MSS);
        CHECK(cc.in_recovery);
        CHECK_EQ(cc.ssthresh, 5000);
        /* An ACK beyond recover is a full ACK too. */
        uint32_t ack = i % 2 ? nxt : nxt + 700;
        CHECK_EQ(tcpw_cc_on_ack(&cc, ack, ack - una, cases[i].flight_after), TCPW_CC_NONE);
        CHECK(!cc.in_recovery);
        CHECK_MSG(cc.cwnd == cases[i].cwnd,
                  "flight_after %" PRIu32 ": cwnd %" PRIu32 " != %" PRIu32, cases[i].flight_after,
                  cc.cwnd, cases[i].cwnd);
    }
}

static void test_partial_ack_floor(void)
{
    /* A partial ACK larger than cwnd does not zero the window: 1 SMSS left.
     * 80 segments out: ssthresh 40000, cwnd 43000; partial ACK of 60000:
     * 43000 − 60000 < 0 -> 0 + 1000 -> kept at >= 1 SMSS. */
    struct tcpw_cc cc;
    uint32_t una = ISS + 1, nxt = una + 80 * MSS;
    tcpw_cc_init(&cc, MSS, una);
    for (int d = 0; d < 3; d++)
        tcpw_cc_on_dupack(&cc, una, nxt, 80 * MSS);
    CHECK_EQ(cc.cwnd, 43000);
    CHECK_EQ(tcpw_cc_on_ack(&cc, una + 60000, 60000, 20000), TCPW_CC_RETRANSMIT_FIRST);
    CHECK_EQ(cc.cwnd, 1000);
    /* Less than an SMSS of acked data and a tiny window: still one SMSS. */
    cc.cwnd = 300;
    CHECK_EQ(tcpw_cc_on_ack(&cc, una + 60500, 500, 19500), TCPW_CC_RETRANSMIT_FIRST);
    CHECK_EQ(cc.cwnd, 1000);
}

static void test_no_reentry_after_recovery(void)
{
    /* After a full ACK that only reaches recover, new duplicates at that same
     * SND.UNA do not cover more than recover: no second fast retransmit
     * (RFC 6582 §3.2 step 2). Once SND.UNA passes recover, they do. */
    struct tcpw_cc cc;
    uint32_t una, nxt;
    fixture_window_out(&cc, &una, &nxt);
    for (int d = 0; d < 3; d++)
        tcpw_cc_on_dupack(&cc, una, nxt, 10 * MSS);
    CHECK(cc.in_recovery);
    tcpw_cc_on_ack(&cc, nxt, nxt - una, 0);
    CHECK(!cc.in_recovery);
    una = nxt;
    uint32_t cwnd = cc.cwnd, ssthresh = cc.ssthresh;
    nxt += 5 * MSS;
    for (int d = 0; d < 5; d++)
        CHECK_EQ(tcpw_cc_on_dupack(&cc, una, nxt, 5 * MSS), TCPW_CC_NONE);
    CHECK(!cc.in_recovery);
    CHECK_EQ(cc.cwnd, cwnd);
    CHECK_EQ(cc.ssthresh, ssthresh);

    una += MSS;
    tcpw_cc_on_ack(&cc, una, MSS, 4 * MSS);
    CHECK_EQ(tcpw_cc_on_dupack(&cc, una, nxt, 4 * MSS), TCPW_CC_NONE);
    CHECK_EQ(tcpw_cc_on_dupack(&cc, una, nxt, 4 * MSS), TCPW_CC_NONE);
    CHECK_EQ(tcpw_cc_on_dupack(&cc, una, nxt, 4 * MSS), TCPW_CC_RETRANSMIT_FIRST);
    CHECK(cc.in_recovery);
    CHECK_EQ(cc.recover, nxt);
    CHECK_EQ(cc.ssthresh, 2 * MSS); /* max(4000/2, 2·SMSS) */
    CHECK_EQ(cc.cwnd, 5 * MSS);
}

static void test_recover_follows_una(void)
{
    /* RFC 6582 §6: outside recovery `recover` must move with SND.UNA, or
     * after 2^31 bytes without loss the wrap-safe comparison of step 2 flips
     * and a later loss could not be fast-retransmitted. 3·2^30 bytes go by
     * (in 1 GiB ACKs), then a loss. */
    struct tcpw_cc cc;
    uint32_t una = ISS + 1;
    tcpw_cc_init(&cc, MSS, una);
    for (int i = 0; i < 3; i++) {
        una += 1u << 30;
        tcpw_cc_on_ack(&cc, una, 1u << 30, 10 * MSS);
    }
    uint32_t nxt = una + 10 * MSS;
    for (int d = 0; d < 2; d++)
        CHECK_EQ(tcpw_cc_on_dupack(&cc, una, nxt, 10 * MSS), TCPW_CC_NONE);
    CHECK_EQ(tcpw_cc_on_dupack(&cc, una, nxt, 10 * MSS), TCPW_CC_RETRANSMIT_FIRST);
    CHECK(cc.in_recovery);
    CHECK_EQ(cc.recover, nxt);
}

static void test_timeout(void)
{
    struct tcpw_cc cc;
    uint32_t una, nxt;
    fixture_window_out(&cc, &una, &nxt);

    /* RFC 5681 §3.1: ssthresh = max(FlightSize/2, 2·SMSS), cwnd = 1 SMSS. */
    tcpw_cc_on_timeout(&cc, 20 * MSS, nxt);
    CHECK_EQ(cc.ssthresh, 10 * MSS);
    CHECK_EQ(cc.cwnd, MSS);
    CHECK_EQ(cc.recover, nxt);
    CHECK_EQ(cc.dupacks, 0);
    CHECK(!cc.in_recovery);
    /* Small flight: the 2·SMSS floor. Odd flight: halved rounding down. */
    tcpw_cc_on_timeout(&cc, 1 * MSS, nxt);
    CHECK_EQ(cc.ssthresh, 2 * MSS);
    tcpw_cc_on_timeout(&cc, 7001, nxt);
    CHECK_EQ(cc.ssthresh, 3500);

    /* A timeout in the middle of fast recovery leaves it. */
    fixture_window_out(&cc, &una, &nxt);
    for (int d = 0; d < 4; d++)
        tcpw_cc_on_dupack(&cc, una, nxt, 10 * MSS);
    CHECK(cc.in_recovery);
    tcpw_cc_on_timeout(&cc, 10 * MSS, nxt);
    CHECK(!cc.in_recovery);
    CHECK_EQ(cc.cwnd, MSS);
    CHECK_EQ(cc.ssthresh, 5 * MSS);
    CHECK_EQ(cc.dupacks, 0);
    /* Then an ACK grows cwnd by slow start, not as a recovery exit. */
    CHECK_EQ(tcpw_cc_on_ack(&cc, una + MSS, MSS, 9 * MSS), TCPW_CC_NONE);
    CHECK_EQ(cc.cwnd, 2 * MSS);
}

static void test_no_reentry_after_timeout(void)
{
    /* RFC 6582 §3.2 step 4 with step 2: after a timeout, duplicates do not
     * start a fast retransmit until SND.UNA passes recover. */
    struct tcpw_cc cc;
    uint32_t una = ISS + 1, nxt = una + 20 * MSS;
    tcpw_cc_init(&cc, MSS, una);
    tcpw_cc_on_timeout(&cc, 20 * MSS, nxt);
    CHECK_EQ(cc.recover, nxt);

    /* Some progress, still below recover. */
    for (int i = 0; i < 5; i++) {
        una += MSS;
        tcpw_cc_on_ack(&cc, una, MSS, nxt - una);
    }
    CHECK_EQ(cc.cwnd, 6 * MSS);
    for (int d = 0; d < 6; d++)
        CHECK_EQ(tcpw_cc_on_dupack(&cc, una, nxt, nxt - una), TCPW_CC_NONE);
    CHECK(!cc.in_recovery);
    CHECK_EQ(cc.cwnd, 6 * MSS);
    CHECK_EQ(cc.ssthresh, 10 * MSS);
    CHECK_EQ(cc.recover, nxt);

    /* SND.UNA reaches recover exactly: that does not cover *more*. */
    tcpw_cc_on_ack(&cc, nxt, nxt - una, 0);
    una = nxt;
    nxt += 10 * MSS;
    for (int d = 0; d < 3; d++)
        CHECK_EQ(tcpw_cc_on_dupack(&cc, una, nxt, 10 * MSS), TCPW_CC_NONE);
    CHECK(!cc.in_recovery);

    /* One byte beyond: the third dupack enters. */
    una += 1;
    tcpw_cc_on_ack(&cc, una, 1, nxt - una);
    CHECK_EQ(tcpw_cc_on_dupack(&cc, una, nxt, nxt - una), TCPW_CC_NONE);
    CHECK_EQ(tcpw_cc_on_dupack(&cc, una, nxt, nxt - una), TCPW_CC_NONE);
    CHECK_EQ(tcpw_cc_on_dupack(&cc, una, nxt, nxt - una), TCPW_CC_RETRANSMIT_FIRST);
    CHECK(cc.in_recovery);
    CHECK_EQ(cc.ssthresh, (10 * MSS - 1) / 2);
    CHECK_EQ(cc.recover, nxt);
}

static void test_dupack_count(void)
{
    /* Only the third duplicate enters; a run broken by a new ACK restarts
     * the count. */
    struct tcpw_cc cc;
    uint32_t una, nxt;
    fixture_window_out(&cc, &una, &nxt);
    tcpw_cc_on_dupack(&cc, una, nxt, 10 * MSS);
    tcpw_cc_on_dupack(&cc, una, nxt, 10 * MSS);
    una += MSS;
    tcpw_cc_on_ack(&cc, una, MSS, 9 * MSS);
    CHECK_EQ(cc.dupacks, 0);
    CHECK_EQ(tcpw_cc_on_dupack(&cc, una, nxt, 9 * MSS), TCPW_CC_NONE);
    CHECK_EQ(tcpw_cc_on_dupack(&cc, una, nxt, 9 * MSS), TCPW_CC_NONE);
    CHECK(!cc.in_recovery);
    CHECK_EQ(tcpw_cc_on_dupack(&cc, una, nxt, 9 * MSS), TCPW_CC_RETRANSMIT_FIRST);
    CHECK_EQ(cc.ssthresh, 4500);

    /* Refused at the third (after a timeout), the fourth and later do not
     * enter either. */
    fixture_window_out(&cc, &una, &nxt);
    tcpw_cc_on_timeout(&cc, 10 * MSS, nxt);
    for (int d = 0; d < 10; d++)
        CHECK_EQ(tcpw_cc_on_dupack(&cc, una, nxt, 10 * MSS), TCPW_CC_NONE);
    CHECK_EQ(cc.dupacks, 10);
    CHECK(!cc.in_recovery);
}

static void test_idle_restart(void)
{
    struct tcpw_cc cc;
    uint32_t una = ISS + 1;
    tcpw_cc_init(&cc, MSS, una);
    for (int i = 0; i < 10; i++) {
        una += MSS;
        tcpw_cc_on_ack(&cc, una, MSS, 0);
    }
    CHECK_EQ(cc.cwnd, 20 * MSS);
    tcpw_cc_on_idle_restart(&cc);
    CHECK_EQ(cc.cwnd, 10 * MSS);
    CHECK_EQ(cc.ssthresh, UINT32_MAX);

    /* A window already below IW is kept. */
    tcpw_cc_on_timeout(&cc, 10 * MSS, una);
    una += MSS;
    tcpw_cc_on_ack(&cc, una, MSS, 0);
    CHECK_EQ(cc.cwnd, 2 * MSS);
    tcpw_cc_on_idle_restart(&cc);
    CHECK_EQ(cc.cwnd, 2 * MSS);
    CHECK_EQ(cc.ssthresh, 5 * MSS);
}

static void test_set_mss(void)
{
    struct tcpw_cc cc;
    /* A provisional 536 replaced by the negotiated 1460: still 10 segments. */
    tcpw_cc_init(&cc, 536, ISS);
    CHECK_EQ(cc.cwnd, 5360);
    tcpw_cc_set_mss(&cc, 1460);
    CHECK_EQ(cc.mss, 1460);
    CHECK_EQ(cc.cwnd, 14600);
    CHECK_EQ(cc.ssthresh, UINT32_MAX);

    /* Partial segments round down; ssthresh is rescaled too. */
    cc.cwnd = 14600 + 700;
    cc.ssthresh = 5 * 1460 + 1;
    tcpw_cc_set_mss(&cc, 1000);
    CHECK_EQ(cc.cwnd, 10000);
    CHECK_EQ(cc.ssthresh, 5000);

    /* Never below 1 segment (cwnd) / 2 segments (ssthresh); 0 is 1 byte. */
    cc.cwnd = 500;
    cc.ssthresh = 1000;
    tcpw_cc_set_mss(&cc, 1200);
    CHECK_EQ(cc.cwnd, 1200);
    CHECK_EQ(cc.ssthresh, 2400);
    tcpw_cc_set_mss(&cc, 0);
    CHECK_EQ(cc.mss, 1);
    CHECK_EQ(cc.cwnd, 1);
    tcpw_cc_set_mss(&cc, UINT32_MAX);
    CHECK_EQ(cc.cwnd, UINT32_MAX);
}

static void test_saturation(void)
{
    /* A huge MSS: entering recovery and inflating saturate. */
    struct tcpw_cc cc;
    tcpw_cc_init(&cc, UINT32_MAX / 2, ISS);
    for (int d = 0; d < 3; d++)
        tcpw_cc_on_dupack(&cc, ISS + 1, ISS + 100, UINT32_MAX);
    CHECK(cc.in_recovery);
    CHECK_EQ(cc.ssthresh, UINT32_MAX - 1); /* 2·(2^31 − 1) */
    CHECK_EQ(cc.cwnd, UINT32_MAX);
    tcpw_cc_on_dupack(&cc, ISS + 1, ISS + 100, UINT32_MAX);
    CHECK_EQ(cc.cwnd, UINT32_MAX);
    CHECK_EQ(tcpw_cc_on_ack(&cc, ISS + 100, 99, UINT32_MAX), TCPW_CC_NONE);
    CHECK_EQ(cc.cwnd, UINT32_MAX - 1);
}

/* A path MTU report can arrive before the handshake initialised the
 * congestion state (found by fuzz_stack: a division by zero). */
static void test_set_mss_before_init(void)
{
    struct tcpw_cc cc;
    memset(&cc, 0, sizeof(cc));
    tcpw_cc_set_mss(&cc, 1000);
    CHECK_EQ(cc.mss, 1000);
    CHECK_EQ(cc.cwnd, 0);
    tcpw_cc_init(&cc, 1000, 7);
    CHECK_EQ(cc.cwnd, 10000);
}

int main(void)
{
    RUN(test_init);
    RUN(test_slow_start);
    RUN(test_congestion_avoidance);
    RUN(test_fast_recovery);
    RUN(test_full_ack_values);
    RUN(test_partial_ack_floor);
    RUN(test_no_reentry_after_recovery);
    RUN(test_recover_follows_una);
    RUN(test_timeout);
    RUN(test_no_reentry_after_timeout);
    RUN(test_dupack_count);
    RUN(test_idle_restart);
    RUN(test_set_mss);
    RUN(test_saturation);
    RUN(test_set_mss_before_init);
    return check_summary();
}
