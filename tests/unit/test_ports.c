/* Unit tests for tcp/ports: RFC 6056 §3.3.3 Algorithm 3. */
#include "check.h"

#include <errno.h>
#include <string.h>

#include "tcp/ports.h"

static const uint8_t secret[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                   0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};

#define LADDR 0x0a000001u
#define RADDR 0xc0a80001u

/* The model of which local ports are taken, and how often it was asked. */
struct ports_model {
    bool taken[65536];
    uint32_t asked;
};

static bool model_is_free(void *user, uint16_t port)
{
    struct ports_model *m = user;
    m->asked++;
    return !m->taken[port];
}

/* A probe asking the model about each port. */
#define PROBE(m) (&(struct tcpw_port_probe){model_is_free, NULL, &(m)})

/* The skip of a model: walks the taken run itself (what a real skip does
 * with a bitmap), without asking is_free. */
struct skip_model {
    struct ports_model *m;
    uint16_t lo, hi;
    uint32_t skipped;
};

static bool skip_model_is_free(void *user, uint16_t port)
{
    struct skip_model *k = user;
    return model_is_free(k->m, port);
}

static uint32_t skip_model_skip(void *user, uint32_t index, uint32_t left)
{
    struct skip_model *k = user;
    uint32_t num = (uint32_t)k->hi - k->lo + 1, n = 0;
    while (n < left && k->m->taken[k->lo + (index + n) % num])
        n++;
    k->skipped += n;
    return n;
}

static void test_each_port_once(void)
{
    static struct ports_model m;
    memset(&m, 0, sizeof m);
    struct tcpw_port_picker p;
    tcpw_port_picker_init(&p, secret, 0);
    const uint16_t lo = 5000, hi = 5063;
    for (int i = 0; i < 64; i++) {
        uint16_t port = 0;
        CHECK_EQ_I(tcpw_port_pick(&p, LADDR, RADDR, 443, lo, hi, PROBE(m), &port), 0);
        CHECK(port >= lo && port <= hi);
        CHECK_MSG(!m.taken[port], "port %u handed out twice", port);
        m.taken[port] = true;
    }
    for (uint32_t port = lo; port <= hi; port++)
        CHECK(m.taken[port]);
    /* Nothing left: every port was asked about once, then EADDRNOTAVAIL. */
    uint16_t port = 1234;
    uint32_t before = p.next_ephemeral;
    m.asked = 0;
    CHECK_EQ_I(tcpw_port_pick(&p, LADDR, RADDR, 443, lo, hi, PROBE(m), &port),
               -EADDRNOTAVAIL);
    CHECK_EQ(m.asked, 64);
    CHECK_EQ(port, 1234); /* untouched */
    /* The RFC's loop advances next_ephemeral once per try. */
    CHECK_EQ(p.next_ephemeral, before + 64);
    /* Neither do other destinations get any. */
    CHECK_EQ_I(tcpw_port_pick(&p, LADDR, RADDR + 1, 80, lo, hi, PROBE(m), &port),
               -EADDRNOTAVAIL);
}

static void test_walk_and_counter(void)
{
    static struct ports_model m;
    memset(&m, 0, sizeof m);
    struct tcpw_port_picker p;
    tcpw_port_picker_init(&p, secret, 1000);
    const uint16_t lo = 32768, hi = 60999;
    const uint32_t num = hi - lo + 1;

    /* All free: consecutive picks toward one destination are consecutive
     * ports of the range (wrapping inside it), and the counter moves by 1. */
    uint16_t first, port;
    CHECK_EQ_I(tcpw_port_pick(&p, LADDR, RADDR, 443, lo, hi, PROBE(m), &first), 0);
    CHECK_EQ(p.next_ephemeral, 1001);
    uint16_t prev = first;
    for (int i = 0; i < 100; i++) {
        CHECK_EQ_I(tcpw_port_pick(&p, LADDR, RADDR, 443, lo, hi, PROBE(m), &port), 0);
        CHECK_EQ(port, lo + (prev - lo + 1) % num);
        prev = port;
    }
    CHECK_EQ(p.next_ephemeral, 1101);

    /* The next 5 ports of the walk taken: the pick lands on the 6th and the
     * counter moves by 6 (one per try, RFC 6056 §3.3.3). */
    for (uint32_t k = 1; k <= 5; k++)
        m.taken[lo + (prev - lo + k) % num] = true;
    m.asked = 0;
    CHECK_EQ_I(tcpw_port_pick(&p, LADDR, RADDR, 443, lo, hi, PROBE(m), &port), 0);
    CHECK_EQ(port, lo + (prev - lo + 6) % num);
    CHECK_EQ(m.asked, 6);
    CHECK_EQ(p.next_ephemeral, 1107);
}

static void test_destinations_differ(void)
{
    static struct ports_model m;
    memset(&m, 0, sizeof m);
    const uint16_t lo = 32768, hi = 60999;
    uint16_t a, b;
    struct tcpw_port_picker p;

    /* From the same picker state, two destinations start at different
     * secret offsets. */
    tcpw_port_picker_init(&p, secret, 0);
    CHECK_EQ_I(tcpw_port_pick(&p, LADDR, RADDR, 443, lo, hi, PROBE(m), &a), 0);
    tcpw_port_picker_init(&p, secret, 0);
    CHECK_EQ_I(tcpw_port_pick(&p, LADDR, RADDR + 1, 443, lo, hi, PROBE(m), &b), 0);
    CHECK(a != b);
    tcpw_port_picker_init(&p, secret, 0);
    CHECK_EQ_I(tcpw_port_pick(&p, LADDR, RADDR, 444, lo, hi, PROBE(m), &b), 0);
    CHECK(a != b);
    tcpw_port_picker_init(&p, secret, 0);
    CHECK_EQ_I(tcpw_port_pick(&p, LADDR + 1, RADDR, 443, lo, hi, PROBE(m), &b), 0);
    CHECK(a != b);

    /* 64 destinations: their start points are spread, not clustered. */
    uint16_t starts[64];
    int distinct = 0;
    for (int i = 0; i < 64; i++) {
        tcpw_port_picker_init(&p, secret, 0);
        CHECK_EQ_I(tcpw_port_pick(&p, LADDR, RADDR + (uint32_t)i, 443, lo, hi, PROBE(m),
                                  &starts[i]),
                   0);
        bool seen = false;
        for (int j = 0; j < i; j++)
            seen = seen || starts[j] == starts[i];
        distinct += !seen;
    }
    CHECK(distinct >= 62);

    /* Another secret gives another start for the same destination. */
    uint8_t other[16];
    memcpy(other, secret, sizeof other);
    other[0] ^= 0x80;
    tcpw_port_picker_init(&p, other, 0);
    CHECK_EQ_I(tcpw_port_pick(&p, LADDR, RADDR, 443, lo, hi, PROBE(m), &b), 0);
    CHECK(a != b);
}

static void test_deterministic(void)
{
    static struct ports_model m1, m2;
    memset(&m1, 0, sizeof m1);
    memset(&m2, 0, sizeof m2);
    struct tcpw_port_picker p1, p2;
    tcpw_port_picker_init(&p1, secret, 424242);
    tcpw_port_picker_init(&p2, secret, 424242);
    uint64_t rng = 99;
    for (int i = 0; i < 2000; i++) {
        uint32_t raddr = RADDR + (uint32_t)(check_rand(&rng) % 8);
        uint16_t a, b;
        int ra = tcpw_port_pick(&p1, LADDR, raddr, 443, 40000, 40999, PROBE(m1), &a);
        int rb = tcpw_port_pick(&p2, LADDR, raddr, 443, 40000, 40999, PROBE(m2), &b);
        CHECK_EQ_I(ra, 0);
        CHECK_EQ_I(rb, 0);
        CHECK_EQ(a, b);
        /* Ports come and go the same way in both: the pick is taken, and a
         * random port of the range is released. */
        m1.taken[a] = m2.taken[b] = true;
        uint16_t gone = (uint16_t)(40000 + check_rand(&rng) % 1000);
        m1.taken[gone] = m2.taken[gone] = false;
    }
    CHECK_EQ(p1.next_ephemeral, p2.next_ephemeral);
}

static void test_single_port_range(void)
{
    static struct ports_model m;
    memset(&m, 0, sizeof m);
    struct tcpw_port_picker p;
    tcpw_port_picker_init(&p, secret, 7);
    uint16_t port = 0;
    CHECK_EQ_I(tcpw_port_pick(&p, LADDR, RADDR, 443, 5000, 5000, PROBE(m), &port), 0);
    CHECK_EQ(port, 5000);
    CHECK_EQ_I(tcpw_port_pick(&p, LADDR, RADDR + 9, 22, 5000, 5000, PROBE(m), &port), 0);
    CHECK_EQ(port, 5000);
    m.taken[5000] = true;
    CHECK_EQ_I(tcpw_port_pick(&p, LADDR, RADDR, 443, 5000, 5000, PROBE(m), &port),
               -EADDRNOTAVAIL);
    /* The ends of the port space. */
    CHECK_EQ_I(tcpw_port_pick(&p, LADDR, RADDR, 443, 65535, 65535, PROBE(m), &port), 0);
    CHECK_EQ(port, 65535);
    CHECK_EQ_I(tcpw_port_pick(&p, LADDR, RADDR, 443, 1, 1, PROBE(m), &port), 0);
    CHECK_EQ(port, 1);
}

/* A skip changes nothing but the number of is_free calls: the same ports
 * come out, next_ephemeral moves the same, exhaustion is found the same. */
static void test_skip_same_walk(void)
{
    static struct ports_model m1, m2;
    memset(&m1, 0, sizeof m1);
    memset(&m2, 0, sizeof m2);
    const uint16_t lo = 40000, hi = 40999;
    struct skip_model k = {&m2, lo, hi, 0};
    const struct tcpw_port_probe skipping = {skip_model_is_free, skip_model_skip, &k};
    struct tcpw_port_picker p1, p2;
    uint64_t rng = 7;

    tcpw_port_picker_init(&p1, secret, 77);
    tcpw_port_picker_init(&p2, secret, 77);
    /* 95 % of the range taken at random. */
    for (uint32_t port = lo; port <= hi; port++)
        m1.taken[port] = m2.taken[port] = check_rand(&rng) % 100 < 95;
    for (int i = 0; i < 3000; i++) {
        uint32_t raddr = RADDR + (uint32_t)(check_rand(&rng) % 4);
        uint16_t a = 0, b = 0;
        int ra = tcpw_port_pick(&p1, LADDR, raddr, 443, lo, hi, PROBE(m1), &a);
        int rb = tcpw_port_pick(&p2, LADDR, raddr, 443, lo, hi, &skipping, &b);
        CHECK_EQ_I(ra, rb);
        CHECK_EQ(a, b);
        CHECK_EQ(p1.next_ephemeral, p2.next_ephemeral);
        if (ra == 0)
            m1.taken[a] = m2.taken[b] = true;
        /* Release one at random, sometimes none: the range runs full. */
        if (check_rand(&rng) % 3) {
            uint16_t gone = (uint16_t)(lo + check_rand(&rng) % 1000);
            m1.taken[gone] = m2.taken[gone] = false;
        }
    }
    /* The skip did the walking. */
    CHECK(k.skipped > 10u * m2.asked);
}

static void test_invalid_range(void)
{
    static struct ports_model m;
    memset(&m, 0, sizeof m);
    struct tcpw_port_picker p;
    tcpw_port_picker_init(&p, secret, 5);
    uint16_t port = 4321;
    m.asked = 0;
    CHECK_EQ_I(tcpw_port_pick(&p, LADDR, RADDR, 443, 0, 100, PROBE(m), &port), -EINVAL);
    CHECK_EQ_I(tcpw_port_pick(&p, LADDR, RADDR, 443, 0, 0, PROBE(m), &port), -EINVAL);
    CHECK_EQ_I(tcpw_port_pick(&p, LADDR, RADDR, 443, 2000, 1999, PROBE(m), &port),
               -EINVAL);
    CHECK_EQ_I(tcpw_port_pick(&p, LADDR, RADDR, 443, 65535, 1, PROBE(m), &port), -EINVAL);
    CHECK_EQ(port, 4321);
    CHECK_EQ(m.asked, 0);
    CHECK_EQ(p.next_ephemeral, 5);
}

static void test_stays_in_range(void)
{
    /* Random ranges (including the whole space), random busy ports, a counter
     * near its wrap: every answer is in range and free, and EADDRNOTAVAIL
     * comes only when the range is full. */
    static struct ports_model m;
    struct tcpw_port_picker p;
    tcpw_port_picker_init(&p, secret, UINT32_MAX - 500);
    uint64_t rng = 3;
    for (int i = 0; i < 300; i++) {
        memset(&m, 0, sizeof m);
        uint16_t lo, hi;
        if (i == 0) {
            lo = 1;
            hi = 65535;
        } else {
            lo = (uint16_t)(check_rand(&rng) % 65535 + 1);
            uint32_t span = (uint32_t)(check_rand(&rng) % 300);
            hi = (uint16_t)(lo + span > 65535 ? 65535 : lo + span);
        }
        uint32_t busy_pct = (uint32_t)(check_rand(&rng) % 101);
        uint32_t free_ports = 0;
        for (uint32_t port = lo; port <= hi; port++) {
            m.taken[port] = check_rand(&rng) % 100 < busy_pct;
            free_ports += !m.taken[port];
        }
        uint32_t rport = (uint32_t)check_rand(&rng);
        uint16_t port = 0;
        int rc = tcpw_port_pick(&p, LADDR, (uint32_t)check_rand(&rng), (uint16_t)rport, lo, hi,
                                PROBE(m), &port);
        if (free_ports) {
            CHECK_EQ_I(rc, 0);
            CHECK_MSG(port >= lo && port <= hi, "port %u outside [%u, %u]", port, lo, hi);
            CHECK(!m.taken[port]);
        } else {
            CHECK_EQ_I(rc, -EADDRNOTAVAIL);
        }
    }
}

int main(void)
{
    RUN(test_each_port_once);
    RUN(test_walk_and_counter);
    RUN(test_destinations_differ);
    RUN(test_deterministic);
    RUN(test_single_port_range);
    RUN(test_skip_same_walk);
    RUN(test_invalid_range);
    RUN(test_stays_in_range);
    return check_summary();
}
