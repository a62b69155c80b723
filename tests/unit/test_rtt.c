/* Unit tests for tcp/rtt: RFC 6298 estimator with Linux's RTO rule, backoff,
 * and Linux's tcp_model_timeout() give-up time. */
#include "check.h"

#include "tcp/rtt.h"

#define MS      1000u
#define S       1000000u
#define RTO_MIN (200 * MS)
#define RTO_MAX (120 * S)

static void test_init(void)
{
    struct tcpw_rtt r;
    tcpw_rtt_init(&r, 1 * S);
    CHECK(!r.has_sample);
    CHECK_EQ(r.rto_us, 1 * S);
    CHECK_EQ(r.backoff, 0);
    CHECK_EQ(tcpw_rtt_rto(&r, RTO_MAX), 1 * S);
}

static void test_first_sample(void)
{
    struct tcpw_rtt r;
    tcpw_rtt_init(&r, 1 * S);
    /* RFC 6298 §2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(4·RTTVAR, min). */
    tcpw_rtt_sample(&r, 100 * MS, RTO_MIN, RTO_MAX);
    CHECK(r.has_sample);
    CHECK_EQ(r.srtt_us, 100 * MS);
    CHECK_EQ(r.rttvar_us, 50 * MS);
    CHECK_EQ(r.rto_us, 300 * MS);

    /* Odd R: R/2 rounds to nearest, a tie upward (50000.5 -> 50001). */
    tcpw_rtt_init(&r, 1 * S);
    tcpw_rtt_sample(&r, 100001, RTO_MIN, RTO_MAX);
    CHECK_EQ(r.srtt_us, 100001);
    CHECK_EQ(r.rttvar_us, 50001);
    CHECK_EQ(r.rto_us, 100001 + 4 * 50001);
}

/* Hand-computed with the rounding documented in rtt.c (nearest µs, ties up;
 * RTTVAR from the old SRTT first). rto_min 200 ms, rto_max 120 s. */
static void test_sample_sequence(void)
{
    static const struct {
        uint32_t r, srtt, rttvar, rto;
    } steps[] = {
        /* first: SRTT = 100001, RTTVAR = 50000.5 -> 50001,
         * RTO = 100001 + max(200004, 200000) */
        {100001, 100001, 50001, 300005},
        /* |SRTT-R| = 19998; RTTVAR = (150003 + 19998)/4 = 42500.25 -> 42500;
         * SRTT = (700007 + 80003)/8 = 97501.25 -> 97501;
         * 4·RTTVAR = 170000 < rto_min: RTO = 97501 + 200000 */
        {80003, 97501, 42500, 297501},
        /* |SRTT-R| = 152506; RTTVAR = (127500 + 152506)/4 = 70001.5 -> 70002 (tie up);
         * SRTT = (682507 + 250007)/8 = 116564.25 -> 116564; RTO = 116564 + 280008 */
        {250007, 116564, 70002, 396572},
        /* |SRTT-R| = 116561; RTTVAR = (210006 + 116561)/4 = 81641.75 -> 81642;
         * SRTT = (815948 + 3)/8 = 101993.875 -> 101994; RTO = 101994 + 326568 */
        {3, 101994, 81642, 428562},
        /* |SRTT-R| = 898006; RTTVAR = (244926 + 898006)/4 = 285733;
         * SRTT = (713958 + 1000000)/8 = 214244.75 -> 214245; RTO = 214245 + 1142932 */
        {1000000, 214245, 285733, 1357177},
    };
    struct tcpw_rtt r;
    tcpw_rtt_init(&r, 1 * S);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        tcpw_rtt_sample(&r, steps[i].r, RTO_MIN, RTO_MAX);
        CHECK_MSG(r.srtt_us == steps[i].srtt, "step %zu: srtt %" PRIu32 " != %" PRIu32, i,
                  r.srtt_us, steps[i].srtt);
        CHECK_MSG(r.rttvar_us == steps[i].rttvar, "step %zu: rttvar %" PRIu32 " != %" PRIu32, i,
                  r.rttvar_us, steps[i].rttvar);
        CHECK_MSG(r.rto_us == steps[i].rto, "step %zu: rto %" PRIu32 " != %" PRIu32, i, r.rto_us,
                  steps[i].rto);
    }
}

static void test_constant_rtt_settles(void)
{
    /* With whole-µs rounding SRTT settles within 4 µs of a constant RTT,
     * and RTTVAR decays to at most |SRTT - R| + 2 <= 6 µs (the fixed points
     * of its rounded update), leaving RTO = SRTT + rto_min. */
    struct tcpw_rtt r;
    tcpw_rtt_init(&r, 1 * S);
    tcpw_rtt_sample(&r, 10 * MS, RTO_MIN, RTO_MAX);
    for (int i = 0; i < 200; i++)
        tcpw_rtt_sample(&r, 50 * MS, RTO_MIN, RTO_MAX);
    CHECK(r.srtt_us >= 50 * MS - 4 && r.srtt_us <= 50 * MS + 4);
    uint32_t d = r.srtt_us > 50 * MS ? r.srtt_us - 50 * MS : 50 * MS - r.srtt_us;
    CHECK(r.rttvar_us <= d + 2);
    CHECK_EQ(r.rto_us, r.srtt_us + RTO_MIN);
}

static void test_rto_floor(void)
{
    /* A 1 ms path: 4·RTTVAR = 2 ms is below rto_min, so RTO = 1 ms + 200 ms
     * (Linux's rule), not RFC 6298 §2.4's 1 s. */
    struct tcpw_rtt r;
    tcpw_rtt_init(&r, 1 * S);
    tcpw_rtt_sample(&r, 1 * MS, RTO_MIN, RTO_MAX);
    CHECK_EQ(r.srtt_us, 1 * MS);
    CHECK_EQ(r.rttvar_us, 500);
    CHECK_EQ(r.rto_us, 201 * MS);

    /* A 0 sample counts as 1 µs: SRTT 1, RTTVAR (1+1)/2 = 1, RTO 1 + 200 ms. */
    tcpw_rtt_init(&r, 1 * S);
    tcpw_rtt_sample(&r, 0, RTO_MIN, RTO_MAX);
    CHECK_EQ(r.srtt_us, 1);
    CHECK_EQ(r.rttvar_us, 1);
    CHECK_EQ(r.rto_us, RTO_MIN + 1);

    /* A zero rto_min leaves plain RFC 6298 (with G = 0): 1 + 4·1. */
    tcpw_rtt_init(&r, 1 * S);
    tcpw_rtt_sample(&r, 1, 0, RTO_MAX);
    CHECK_EQ(r.rto_us, 5);
}

static void test_rto_cap(void)
{
    struct tcpw_rtt r;
    /* 100 s: 100 s + 4·50 s = 300 s, capped at 120 s. */
    tcpw_rtt_init(&r, 1 * S);
    tcpw_rtt_sample(&r, 100 * S, RTO_MIN, RTO_MAX);
    CHECK_EQ(r.srtt_us, 100 * S);
    CHECK_EQ(r.rttvar_us, 50 * S);
    CHECK_EQ(r.rto_us, RTO_MAX);

    /* Extremes do not overflow: SRTT + 4·RTTVAR ~ 3·2^32 is computed in 64
     * bits and capped. */
    tcpw_rtt_init(&r, 1 * S);
    tcpw_rtt_sample(&r, UINT32_MAX, RTO_MIN, UINT32_MAX);
    CHECK_EQ(r.srtt_us, UINT32_MAX);
    CHECK_EQ(r.rttvar_us, 2147483648u);
    CHECK_EQ(r.rto_us, UINT32_MAX);
    tcpw_rtt_sample(&r, 0, RTO_MIN, UINT32_MAX);
    tcpw_rtt_sample(&r, UINT32_MAX, RTO_MIN, UINT32_MAX);
    CHECK_EQ(r.rto_us, UINT32_MAX);
}

static void test_sample_keeps_backoff(void)
{
    struct tcpw_rtt r;
    tcpw_rtt_init(&r, 1 * S);
    tcpw_rtt_on_timeout(&r);
    tcpw_rtt_sample(&r, 100 * MS, RTO_MIN, RTO_MAX);
    CHECK_EQ(r.backoff, 1);
    CHECK_EQ(tcpw_rtt_rto(&r, RTO_MAX), 600 * MS);
    tcpw_rtt_reset_backoff(&r);
    CHECK_EQ(r.backoff, 0);
    CHECK_EQ(tcpw_rtt_rto(&r, RTO_MAX), 300 * MS);
}

static void test_backoff_doubling(void)
{
    /* 200, 400, 800, ... 102400 ms, then 120 s for ever. */
    struct tcpw_rtt r;
    tcpw_rtt_init(&r, 200 * MS);
    uint64_t expect = 200 * MS;
    for (int i = 0; i < 300; i++) {
        uint64_t capped = expect < RTO_MAX ? expect : RTO_MAX;
        CHECK_MSG(tcpw_rtt_rto(&r, RTO_MAX) == capped, "after %d timeouts: %" PRIu64 " != %" PRIu64,
                  i, tcpw_rtt_rto(&r, RTO_MAX), capped);
        tcpw_rtt_on_timeout(&r);
        if (expect < RTO_MAX)
            expect *= 2;
    }
    CHECK_EQ(r.backoff, UINT8_MAX); /* saturated, not wrapped */
    CHECK_EQ(tcpw_rtt_rto(&r, RTO_MAX), RTO_MAX);

    /* The exact sequence up to the cap. */
    static const uint64_t seq[] = {200 * MS,   400 * MS,    800 * MS,   1600 * MS,
                                   3200 * MS,  6400 * MS,   12800 * MS, 25600 * MS,
                                   51200 * MS, 102400 * MS, RTO_MAX,    RTO_MAX};
    tcpw_rtt_init(&r, 200 * MS);
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        CHECK_EQ(tcpw_rtt_rto(&r, RTO_MAX), seq[i]);
        tcpw_rtt_on_timeout(&r);
    }

    /* The largest RTO and shift stay defined and capped. */
    tcpw_rtt_init(&r, UINT32_MAX);
    for (int i = 0; i < 31; i++)
        tcpw_rtt_on_timeout(&r);
    CHECK_EQ(tcpw_rtt_rto(&r, UINT32_MAX), UINT32_MAX);
    for (int i = 0; i < 300; i++)
        tcpw_rtt_on_timeout(&r);
    CHECK_EQ(tcpw_rtt_rto(&r, UINT32_MAX), UINT32_MAX);
    tcpw_rtt_init(&r, 1);
    for (int i = 0; i < 300; i++)
        tcpw_rtt_on_timeout(&r);
    CHECK_EQ(tcpw_rtt_rto(&r, UINT32_MAX), UINT32_MAX);
    tcpw_rtt_init(&r, 0);
    for (int i = 0; i < 300; i++)
        tcpw_rtt_on_timeout(&r);
    CHECK_EQ(tcpw_rtt_rto(&r, UINT32_MAX), 0);
}

/* Sum of the RTOs of transmissions 0..retries, by simulation. */
static uint64_t model_give_up(uint32_t retries, uint64_t base, uint64_t max)
{
    uint64_t total = 0, rto = base < max ? base : max;
    for (uint32_t i = 0; i <= retries; i++) {
        total += rto;
        rto = rto * 2 < max ? rto * 2 : max;
    }
    return total;
}

static void test_give_up_time(void)
{
    /* tcp_retries2 = 15, 200 ms, 120 s: 1023 · 200 ms + 6 · 120 s = 924.6 s. */
    CHECK_EQ(tcpw_rtt_give_up_time(15, RTO_MIN, RTO_MAX), 924600000u);
    /* tcp_syn_retries = 6 with a 1 s initial RTO: 127 s. */
    CHECK_EQ(tcpw_rtt_give_up_time(6, 1 * S, RTO_MAX), 127u * S);
    /* No retries: just the first RTO. */
    CHECK_EQ(tcpw_rtt_give_up_time(0, RTO_MIN, RTO_MAX), RTO_MIN);
    CHECK_EQ(tcpw_rtt_give_up_time(0, 1 * S, RTO_MAX), 1 * S);
    /* The threshold ilog2(600) = 9 and one past it. */
    CHECK_EQ(tcpw_rtt_give_up_time(9, RTO_MIN, RTO_MAX), 1023u * RTO_MIN);
    CHECK_EQ(tcpw_rtt_give_up_time(10, RTO_MIN, RTO_MAX), 1023u * RTO_MIN + RTO_MAX);
    /* Huge retry counts are linear in rto_max and never overflow. */
    CHECK_EQ(tcpw_rtt_give_up_time(UINT32_MAX, RTO_MIN, RTO_MAX),
             1023ull * RTO_MIN + (uint64_t)(UINT32_MAX - 9u) * RTO_MAX);
    CHECK_EQ(tcpw_rtt_give_up_time(UINT32_MAX, UINT32_MAX, UINT32_MAX),
             (uint64_t)UINT32_MAX + (uint64_t)UINT32_MAX * UINT32_MAX);
    CHECK_EQ(tcpw_rtt_give_up_time(UINT32_MAX, 1, UINT32_MAX),
             (((uint64_t)2 << 31) - 1) + (uint64_t)(UINT32_MAX - 31u) * UINT32_MAX);
    /* Degenerate inputs: a base above max is clamped; a zero base gives 0. */
    CHECK_EQ(tcpw_rtt_give_up_time(3, 10 * S, 5 * S), 4u * 5 * S);
    CHECK_EQ(tcpw_rtt_give_up_time(3, 0, RTO_MAX), 0);

    /* The closed form equals the sum of the doubling-and-capped RTOs. */
    uint64_t st = 42;
    for (int i = 0; i < 2000; i++) {
        uint32_t retries = (uint32_t)(check_rand(&st) % 40);
        uint32_t base = (uint32_t)(check_rand(&st) % (5 * S)) + 1;
        uint32_t max = (uint32_t)(check_rand(&st) % (200 * S)) + 1;
        CHECK_MSG(tcpw_rtt_give_up_time(retries, base, max) == model_give_up(retries, base, max),
                  "retries %" PRIu32 " base %" PRIu32 " max %" PRIu32, retries, base, max);
    }
}

int main(void)
{
    RUN(test_init);
    RUN(test_first_sample);
    RUN(test_sample_sequence);
    RUN(test_constant_rtt_settles);
    RUN(test_rto_floor);
    RUN(test_rto_cap);
    RUN(test_sample_keeps_backoff);
    RUN(test_backoff_doubling);
    RUN(test_give_up_time);
    return check_summary();
}
