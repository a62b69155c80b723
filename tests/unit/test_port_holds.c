/* Unit tests for tcp/port_holds: the per-port holder counts and the busy
 * destinations' bitmaps, against a model, through the public socket calls
 * (connect, bind, listen, close) and the TIME_WAIT table.
 *
 * What must hold: connect() and bind(0) pick exactly the port the plain
 * RFC 6056 walk would (the bitmaps only skip, never decide), a set bit is
 * always a held port, the counts match, and a busy destination's connect()
 * costs O(1) lookups once its ports are known. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tcptest.h"
#include "stack/stack_impl.h"
#include "tcp/conn.h"
#include "tcp/tcp.h"
#include "tcp/timewait.h"
#include "tcpwave/tcpwave.h"

#define SEC   1000000ull
#define LADDR 0x0a000001u
#define DEST  0x0a000002u
#define DEST2 0x0a000003u
#define RPORT 80
#define LO    40000u
#define HI    40999u
#define NUM   (HI - LO + 1u)

/* What the test believes: per destination (0: DEST, 1: DEST2) and port,
 * whether a connection / record holds it; bound ports; the sockets of live
 * connections. */
struct model {
    bool conn[2][65536], tw[2][65536], bound[65536];
    int conn_fd[2][65536];
};

static uint32_t dest_addr(int d) { return d ? DEST2 : DEST; }

static struct tcpw_stack *make_stack(uint32_t tw_reuse)
{
    struct tcpw_config cfg = tcpw_config_linux_defaults;
    struct tcpw_stack_params p;
    struct tcpw_stack *s = NULL;

    cfg.ip_local_port_range_min = LO;
    cfg.ip_local_port_range_max = HI;
    cfg.tcp_tw_reuse = tw_reuse;
    cfg.tcp_max_tw_buckets = 1u << 20;
    memset(&p, 0, sizeof(p));
    p.addr = LADDR;
    p.config = &cfg;
    p.seed = 4242;
    if (tcpw_stack_create(&p, SEC, &s) != 0)
        return NULL;
    return s;
}

static int tw_add(struct tcpw_stack *s, uint32_t raddr, uint16_t lport, bool ts)
{
    const struct tcpw_tuple u = {LADDR, raddr, lport, RPORT};
    return tt_tw_add(s, &u, ts);
}

static void tw_del(struct tcpw_stack *s, uint32_t raddr, uint16_t lport)
{
    struct tcpw_tuple u = {LADDR, raddr, lport, RPORT};
    struct tcpw_tw *tw = tcpw__tw_find(s, &u);
    CHECK(tw != NULL);
    if (tw)
        tcpw__tw_remove(s, tw);
}

static struct model *model_new(void)
{
    struct model *m = calloc(1, sizeof(*m));
    if (!m)
        abort();
    return m;
}

static bool model_free_for(void *user, uint16_t port)
{
    const struct model *m = ((void **)user)[0];
    int d = *(const int *)((void **)user)[1];
    return !m->bound[port] && !m->conn[d][port] && !m->tw[d][port];
}

/* The port the plain walk would pick toward destination d now, and the
 * picker's state after it. */
static int model_pick(struct tcpw_stack *s, const struct model *m, int d, uint16_t *port,
                      uint32_t *next)
{
    struct tcpw_port_picker pk = s->tcp->ports;
    void *ctx[2] = {(void *)(uintptr_t)m, &d};
    const struct tcpw_port_probe probe = {model_free_for, NULL, ctx};
    int rc = tcpw_port_pick(&pk, LADDR, dest_addr(d), RPORT, LO, HI, &probe, port);
    *next = pk.next_ephemeral;
    return rc;
}

/* Every set bit of a busy destination is a held port; counts match. */
static void check_invariants(struct tcpw_stack *s, const struct model *m)
{
    for (int d = 0; d < 2; d++) {
        const struct tcpw_busy_dest *b = tcpw__holds_busy_find(s, LADDR, dest_addr(d), RPORT);
        if (!b)
            continue;
        uint32_t set = 0;
        for (uint32_t i = 0; i < NUM; i++) {
            if ((b->held.words[i >> 6] >> (i & 63u)) & 1u) {
                set++;
                CHECK_MSG(m->conn[d][LO + i] || m->tw[d][LO + i],
                          "port %u marked held toward dest %d but is not", LO + i, d);
            }
        }
        CHECK_EQ(set, b->held.set);
        CHECK(b->held.set >= TCPW_BUSY_KEEP);
    }
    for (uint32_t port = LO - 5u; port <= HI + 5u; port++) {
        uint32_t c = m->conn[0][port] + m->conn[1][port], t = m->tw[0][port] + m->tw[1][port];
        CHECK_EQ(s->tcp->holds.by_port[port].conns, c);
        CHECK_EQ(s->tcp->holds.by_port[port].tw, t);
        CHECK_EQ(tcpw__holds_conn_on(s, (uint16_t)port), c != 0);
        CHECK_EQ(tcpw__holds_tw_on(s, (uint16_t)port), t != 0);
    }
}

/* Connects toward destination d; *out: the port, or -1. */
static void do_connect(struct tcpw_stack *s, struct model *m, int d, int *out)
{
    uint16_t want = 0, got = 0;
    uint32_t next, addr;
    int want_rc = model_pick(s, m, d, &want, &next);
    int fd = tcpw_socket(s);
    int rc;

    *out = -1;
    CHECK(fd >= 0);
    rc = tcpw_connect(s, fd, dest_addr(d), RPORT);
    CHECK_EQ(s->tcp->ports.next_ephemeral, next);
    if (want_rc != 0) {
        CHECK_EQ_I(rc, -EADDRNOTAVAIL);
        tcpw_close(s, fd);
        return;
    }
    CHECK_EQ_I(rc, -EINPROGRESS);
    CHECK_EQ_I(tcpw_getsockname(s, fd, &addr, &got), 0);
    CHECK_MSG(got == want, "connect picked %u, the plain walk %u", got, want);
    m->conn[d][got] = true;
    m->conn_fd[d][got] = fd;
    *out = got;
}

/* Random adds, removals, connects, closes and binds toward two
 * destinations, one of them driven to 99 % held. */
static void test_model_random(void)
{
    struct tcpw_stack *s = make_stack(0);
    struct model *m = model_new();
    uint64_t rng = 11;
    uint32_t ops = 0;

    CHECK(s != NULL);
    if (!s)
        return;
    /* A few ports of the range bound explicitly (a listener's or a client's
     * bind()): held for every destination. */
    for (int i = 0; i < 10; i++) {
        uint16_t port = (uint16_t)(LO + check_rand(&rng) % NUM);
        int fd = tcpw_socket(s);
        if (m->bound[port])
            continue;
        CHECK_EQ_I(tcpw_bind(s, fd, 0, port), 0);
        m->bound[port] = true;
    }
    /* DEST to 99 % by records; DEST2 a third. */
    for (uint32_t port = LO; port <= HI; port++) {
        if (m->bound[port])
            continue;
        if (check_rand(&rng) % 100 < 99) {
            CHECK_EQ_I(tw_add(s, DEST, (uint16_t)port, false), 0);
            m->tw[0][port] = true;
        }
        if (check_rand(&rng) % 3 == 0) {
            CHECK_EQ_I(tw_add(s, DEST2, (uint16_t)port, false), 0);
            m->tw[1][port] = true;
        }
    }
    check_invariants(s, m);
    for (int round = 0; round < 6000; round++) {
        int d = check_rand(&rng) % 4 == 0;
        uint16_t port = (uint16_t)(LO + check_rand(&rng) % NUM);
        switch (check_rand(&rng) % 4) {
        case 0: { /* connect */
            int got;
            do_connect(s, m, d, &got);
            break;
        }
        case 1: /* close a connection (SYN_SENT: it goes at once) */
            if (m->conn[d][port]) {
                CHECK_EQ_I(tcpw_close(s, m->conn_fd[d][port]), 0);
                m->conn[d][port] = false;
            }
            break;
        case 2: /* a record goes */
            if (m->tw[d][port]) {
                tw_del(s, dest_addr(d), port);
                m->tw[d][port] = false;
            }
            break;
        default: /* a record comes */
            if (!m->tw[d][port] && !m->conn[d][port] && !m->bound[port]) {
                CHECK_EQ_I(tw_add(s, dest_addr(d), port, false), 0);
                m->tw[d][port] = true;
            }
            break;
        }
        if (++ops % 500 == 0)
            check_invariants(s, m);
    }
    check_invariants(s, m);
    /* The full destination became busy on the way. */
    CHECK(tcpw__holds_busy_find(s, LADDR, DEST, RPORT) != NULL);
    /* Fill DEST to the last port: EADDRNOTAVAIL, as the walk says. */
    for (int got = 0; got >= 0;)
        do_connect(s, m, 0, &got);
    check_invariants(s, m);
    tcpw_stack_destroy(s);
    free(m);
}

/* A connect() toward DEST that must find a port, closed at once (in
 * SYN_SENT: the port is free again). Returns whether it went so. */
static bool connect_and_close(struct tcpw_stack *s, struct model *m)
{
    int port;

    do_connect(s, m, 0, &port);
    if (port < 0 || tcpw_close(s, m->conn_fd[0][port]) != 0) {
        check_fail(__FILE__, __LINE__, "connect to DEST, then close: port %d", port);
        return false;
    }
    m->conn[0][port] = false;
    return true;
}

/* Once a destination's held ports are known, a connect() asks about one
 * port or two, not about the ~100 the 99 % walk passes. */
static void test_busy_connect_is_o1(void)
{
    struct tcpw_stack *s = make_stack(0);
    struct model *m = model_new();
    uint64_t rng = 5, asked;
    uint32_t before, positions;

    CHECK(s != NULL);
    if (!s)
        return;
    for (uint32_t port = LO; port <= HI; port++)
        if (check_rand(&rng) % 100 < 99) {
            CHECK_EQ_I(tw_add(s, DEST, (uint16_t)port, false), 0);
            m->tw[0][port] = true;
        }
    /* Before it is busy, each connect asks about every port it passes. */
    CHECK(tcpw__holds_busy_find(s, LADDR, DEST, RPORT) == NULL);
    /* One sweep of the range: the destination turns busy and learns. */
    before = s->tcp->ports.next_ephemeral;
    while (s->tcp->ports.next_ephemeral - before < NUM)
        if (!connect_and_close(s, m))
            break;
    CHECK(tcpw__holds_busy_find(s, LADDR, DEST, RPORT) != NULL);
    before = s->tcp->ports.next_ephemeral;
    asked = s->tcp->ports.asked;
    for (int i = 0; i < 200; i++)
        if (!connect_and_close(s, m))
            break;
    positions = s->tcp->ports.next_ephemeral - before;
    /* ~100 positions per connect walked, one lookup each answered. */
    CHECK_MSG(positions > 200u * 30u, "only %u positions: the fill is wrong", positions);
    CHECK_MSG(s->tcp->ports.asked - asked <= 200u + 10u, "%u lookups for 200 connects",
              (unsigned)(s->tcp->ports.asked - asked));
    check_invariants(s, m);
    /* Records going: below TCPW_BUSY_KEEP known, the entry goes. */
    for (uint32_t port = LO; port <= HI; port++)
        if (m->tw[0][port]) {
            tw_del(s, DEST, (uint16_t)port);
            m->tw[0][port] = false;
        }
    CHECK(tcpw__holds_busy_find(s, LADDR, DEST, RPORT) == NULL);
    CHECK_EQ(s->tcp->holds.busy.used, 0);
    check_invariants(s, m);
    tcpw_stack_destroy(s);
    free(m);
}

/* With tcp_tw_reuse, a held port may be taken over: no bitmap, every
 * record judged, a reusable one taken (TWRecycled). */
static void test_reuse_never_busy(void)
{
    struct tcpw_stack *s = make_stack(1);
    struct model *m = model_new();
    uint16_t got;
    uint32_t addr;

    CHECK(s != NULL);
    if (!s)
        return;
    /* Every port held by a record without timestamps (not reusable) but
     * the last, whose record has them and is old enough. */
    for (uint32_t port = LO; port <= HI; port++) {
        CHECK_EQ_I(tw_add(s, DEST, (uint16_t)port, port == HI), 0);
        m->tw[0][port] = true;
    }
    int fd = tcpw_socket(s);
    CHECK_EQ_I(tcpw_connect(s, fd, DEST, RPORT), -EINPROGRESS);
    CHECK_EQ_I(tcpw_getsockname(s, fd, &addr, &got), 0);
    CHECK_EQ(got, HI);
    CHECK_EQ(tcpw_stack_counter(s, TCPW_CTR_TW_RECYCLED), 1);
    CHECK(tcpw__holds_busy_find(s, LADDR, DEST, RPORT) == NULL);
    /* The port is now the connection's, not the record's. */
    CHECK(tcpw__holds_conn_on(s, HI));
    CHECK(!tcpw__holds_tw_on(s, HI));
    tcpw_stack_destroy(s);
    free(m);
}

/* bind(0) skips every port a socket, connection or record holds, in O(1)
 * per pick, and listen() refuses a port live connections or (without
 * SO_REUSEADDR) records hold — both answered from the counts. */
static void test_bind_and_listen(void)
{
    struct tcpw_stack *s = make_stack(0);
    uint16_t got = 0, free_port = 0;
    uint32_t addr;
    int one = 1;

    CHECK(s != NULL);
    if (!s)
        return;
    /* All ports held by records toward some destination, but one. */
    for (uint32_t port = LO; port <= HI; port++) {
        if (port == LO + 617u)
            continue;
        CHECK_EQ_I(tw_add(s, DEST + (port % 7u), (uint16_t)port, false), 0);
    }
    free_port = (uint16_t)(LO + 617u);
    uint64_t asked = s->tcp->ports.asked;
    int fd = tcpw_socket(s);
    CHECK_EQ_I(tcpw_bind(s, fd, 0, 0), 0);
    CHECK_EQ_I(tcpw_getsockname(s, fd, &addr, &got), 0);
    CHECK_EQ(got, free_port);
    CHECK_MSG(s->tcp->ports.asked - asked <= 2u, "bind(0) asked about %u ports",
              (unsigned)(s->tcp->ports.asked - asked));
    /* Nothing left now. */
    int fd2 = tcpw_socket(s);
    CHECK_EQ_I(tcpw_bind(s, fd2, 0, 0), -EADDRNOTAVAIL);
    /* listen() on a port records hold: EADDRINUSE, unless SO_REUSEADDR. */
    int l1 = tcpw_socket(s);
    CHECK_EQ_I(tcpw_bind(s, l1, 0, (uint16_t)(LO + 3u)), 0);
    CHECK_EQ_I(tcpw_listen(s, l1, 8), -EADDRINUSE);
    int l2 = tcpw_socket(s);
    CHECK_EQ_I(tcpw_setsockopt(s, l2, TCPW_SO_REUSEADDR, &one, sizeof(one)), 0);
    CHECK_EQ_I(tcpw_bind(s, l2, 0, (uint16_t)(LO + 4u)), 0);
    CHECK_EQ_I(tcpw_listen(s, l2, 8), 0);
    /* A live connection's port: EADDRINUSE whatever SO_REUSEADDR says. The
     * records are toward other destinations, so a connection to a new one
     * still finds ports (4-tuples differ). */
    int c = tcpw_socket(s);
    uint16_t cport = 0;
    CHECK_EQ_I(tcpw_connect(s, c, 0x0b000001u, 443), -EINPROGRESS);
    CHECK_EQ_I(tcpw_getsockname(s, c, &addr, &cport), 0);
    CHECK(tcpw__holds_conn_on(s, cport));
    int l3 = tcpw_socket(s);
    CHECK_EQ_I(tcpw_setsockopt(s, l3, TCPW_SO_REUSEADDR, &one, sizeof(one)), 0);
    CHECK_EQ_I(tcpw_bind(s, l3, 0, cport), 0);
    CHECK_EQ_I(tcpw_listen(s, l3, 8), -EADDRINUSE);
    tcpw_close(s, c); /* SYN_SENT: gone, the port released */
    CHECK(!tcpw__holds_conn_on(s, cport));
    CHECK_EQ_I(tcpw_listen(s, l3, 8), 0);
    tcpw_stack_destroy(s);
}

int main(void)
{
    RUN(test_model_random);
    RUN(test_busy_connect_is_o1);
    RUN(test_reuse_never_busy);
    RUN(test_bind_and_listen);
    return check_summary();
}
