/* Unit tests for tcp/isn: RFC 6528 ISN = M + F(tuple, secret), M a 4 µs
 * clock. */
#include "check.h"

#include "tcp/isn.h"

static const uint8_t secret_a[16] = {0x5e, 0xc2, 0x37, 0x01, 0x9a, 0x44, 0xd8, 0x6b,
                                     0x10, 0xfe, 0x73, 0x2c, 0x88, 0x0d, 0xb1, 0x46};

static const struct tcpw_tuple tuple = {
    .laddr = 0x0a000001, .raddr = 0x0a000002, .lport = 49152, .rport = 80};

static void test_clock_rate(void)
{
    /* Exactly +250000 per second (one tick per 4 µs), at any time, including
     * across the 32-bit wrap of M (2^32 ticks = 17179869184 µs) and of the
     * ISN itself. */
    static const uint64_t starts[] = {0,
                                      1,
                                      3,
                                      123456789,
                                      17179869184ull - 4000000,
                                      17179869184ull - 1,
                                      17179869184ull * 3 + 17,
                                      UINT64_MAX - 10000000};
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
        uint64_t now = starts[i];
        uint32_t a = tcpw_isn(secret_a, &tuple, now);
        uint32_t b = tcpw_isn(secret_a, &tuple, now + 1000000);
        CHECK_MSG((uint32_t)(b - a) == 250000, "now %" PRIu64 ": +%" PRIu32, now,
                  (uint32_t)(b - a));
    }
    /* Tick granularity: 0..3 µs share a value, 4 µs is the next. */
    uint32_t i0 = tcpw_isn(secret_a, &tuple, 0);
    CHECK_EQ(tcpw_isn(secret_a, &tuple, 3), i0);
    CHECK_EQ(tcpw_isn(secret_a, &tuple, 4), (uint32_t)(i0 + 1));
    CHECK_EQ(tcpw_isn(secret_a, &tuple, 7), (uint32_t)(i0 + 1));
    /* An hour: 900,000,000 ticks. */
    CHECK_EQ((uint32_t)(tcpw_isn(secret_a, &tuple, 3600000000ull) - i0), 900000000u);
    /* A full cycle of M (2^32 ticks) comes back to the same ISN. */
    CHECK_EQ(tcpw_isn(secret_a, &tuple, 17179869184ull), i0);
}

static void test_monotonic(void)
{
    /* Within half a cycle of M, later means larger in sequence space. */
    uint32_t prev = tcpw_isn(secret_a, &tuple, 1000);
    for (uint64_t now = 1000; now < 17179869184ull / 2; now += 123456789) {
        uint32_t cur = tcpw_isn(secret_a, &tuple, now + 123456789);
        CHECK((int32_t)(cur - prev) > 0);
        prev = cur;
    }
}

static void test_tuples_differ(void)
{
    uint64_t now = 5000000;
    uint32_t base = tcpw_isn(secret_a, &tuple, now);
    struct tcpw_tuple t = tuple;
    t.lport++;
    CHECK(tcpw_isn(secret_a, &t, now) != base);
    t = tuple;
    t.rport++;
    CHECK(tcpw_isn(secret_a, &t, now) != base);
    t = tuple;
    t.laddr++;
    CHECK(tcpw_isn(secret_a, &t, now) != base);
    t = tuple;
    t.raddr++;
    CHECK(tcpw_isn(secret_a, &t, now) != base);
    /* The reverse direction is another tuple. */
    t = (struct tcpw_tuple){
        .laddr = tuple.raddr, .raddr = tuple.laddr, .lport = tuple.rport, .rport = tuple.lport};
    CHECK(tcpw_isn(secret_a, &t, now) != base);

    /* Consecutive source ports (what a client uses) give unrelated ISNs:
     * no two of 256 equal, and not the same offset apart. */
    uint32_t isns[256];
    for (int i = 0; i < 256; i++) {
        t = tuple;
        t.lport = (uint16_t)(40000 + i);
        isns[i] = tcpw_isn(secret_a, &t, now);
        for (int j = 0; j < i; j++)
            CHECK(isns[j] != isns[i]);
    }
    CHECK(isns[1] - isns[0] != isns[2] - isns[1]);

    /* F is not the table hash of the same tuple (domain separation): an ISN
     * must not reveal which bucket a tuple lands in. */
    CHECK(tcpw_isn(secret_a, &tuple, 0) != (uint32_t)tcpw_tuple_hash(secret_a, &tuple));
}

static void test_secrets_differ(void)
{
    uint8_t b[16];
    for (int i = 0; i < 16; i++)
        b[i] = secret_a[i];
    uint32_t a = tcpw_isn(secret_a, &tuple, 777);
    for (int byte = 0; byte < 16; byte++) {
        b[byte] ^= 0x01;
        CHECK_MSG(tcpw_isn(b, &tuple, 777) != a, "secret byte %d", byte);
        b[byte] ^= 0x01;
    }
    static const uint8_t zero[16];
    CHECK(tcpw_isn(zero, &tuple, 777) != a);
}

static void test_deterministic(void)
{
    uint8_t copy[16];
    for (int i = 0; i < 16; i++)
        copy[i] = secret_a[i];
    struct tcpw_tuple t = tuple;
    for (uint64_t now = 0; now < 100000000; now += 9876543) {
        uint32_t a = tcpw_isn(secret_a, &tuple, now);
        CHECK_EQ(tcpw_isn(secret_a, &tuple, now), a);
        CHECK_EQ(tcpw_isn(copy, &t, now), a);
    }
}

int main(void)
{
    RUN(test_clock_rate);
    RUN(test_monotonic);
    RUN(test_tuples_differ);
    RUN(test_secrets_differ);
    RUN(test_deterministic);
    return check_summary();
}
