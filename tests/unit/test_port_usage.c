/* Unit tests of tcp/port_usage: tcpw_port_usage_foreach(), the ports of
 * ip_local_port_range each destination holds (RFC 6056 §2.1: a 4-tuple per
 * connection; RFC 9293 §3.4.2: held 2MSL more by TIME_WAIT).
 *
 * One stack with a 10-port range holds connections (SYN-SENT, an orphan in
 * FIN-WAIT-1, a SYN-RECEIVED on a listener inside the range) and TIME_WAIT
 * records toward several destinations, some on ports outside the range;
 * the walk must visit exactly the destinations with a port of the range
 * held, in the documented order, each with the literal counts worked out
 * by hand and with what tcpw_port_usage() says. A seeded random table then
 * checks the same agreement over hundreds of destinations (the walk's hash
 * table grows several times).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "stack/stack_impl.h"
#include "tcp/conn.h"
#include "tcp/tcp.h"
#include "tcp/timewait.h"
#include "tcpwave/tcpwave.h"
#include "tcptest.h"

#define SEC     1000000ull
#define ADDR(d) (0x0a000000u | (d)) /* 10.0.0.d */

#define MAX_SEEN 1024

struct seen {
    size_t n;
    int stop_after; /* 0: never stop */
    struct tcpw_port_dest_usage d[MAX_SEEN];
};

static int record(void *user, const struct tcpw_port_dest_usage *d)
{
    struct seen *w = user;
    if (w->n < MAX_SEEN)
        w->d[w->n] = *d;
    w->n++;
    return w->stop_after && (int)w->n >= w->stop_after ? 42 : 0;
}

static int never_called(void *user, const struct tcpw_port_dest_usage *d)
{
    (void)d;
    ++*(int *)user;
    return 0;
}

static int add_tw(struct tcpw_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
                  uint16_t rport)
{
    const struct tcpw_tuple u = {laddr, raddr, lport, rport};
    return tt_tw_add(s, &u, false);
}

/* A connection from a bound local port (SYN-SENT; its SYN is left queued). */
static int connect_from(struct tcpw_stack *s, uint16_t lport, uint32_t raddr, uint16_t rport)
{
    int fd = tcpw_socket(s);
    int err;

    if (fd < 0)
        return fd;
    err = tcpw_bind(s, fd, 0, lport);
    if (err)
        return err;
    err = tcpw_connect(s, fd, raddr, rport);
    return err == -EINPROGRESS ? 0 : (err ? err : -EPROTO);
}

static int listen_on(struct tcpw_stack *s, uint16_t port)
{
    int fd = tcpw_socket(s);

    if (fd < 0 || tcpw_bind(s, fd, 0, port) || tcpw_listen(s, fd, 8))
        return -1;
    return fd;
}

static int count_orphans(void *user, const struct tcpw_conn_entry *e)
{
    if (e->orphan)
        ++*(int *)user;
    return 0;
}

struct want {
    uint32_t laddr, raddr;
    uint16_t rport;
    uint32_t connections, time_wait, listening, free;
};

/* Every field of d against the literal expectation and against
 * tcpw_port_usage() for the same destination. */
static bool same(const struct tcpw_stack *s, const struct tcpw_port_dest_usage *d,
                 const struct want *w, uint32_t range)
{
    struct tcpw_port_usage u;

    if (d->laddr != w->laddr || d->raddr != w->raddr || d->rport != w->rport ||
        d->usage.range != range || d->usage.connections != w->connections ||
        d->usage.time_wait != w->time_wait || d->usage.listening != w->listening ||
        d->usage.free != w->free) {
        fprintf(stderr,
                "  got  %08x -> %08x:%u range %u conns %u tw %u listen %u free %u\n"
                "  want %08x -> %08x:%u range %u conns %u tw %u listen %u free %u\n",
                (unsigned)d->laddr, (unsigned)d->raddr, (unsigned)d->rport,
                (unsigned)d->usage.range, (unsigned)d->usage.connections,
                (unsigned)d->usage.time_wait, (unsigned)d->usage.listening, (unsigned)d->usage.free,
                (unsigned)w->laddr, (unsigned)w->raddr, (unsigned)w->rport, (unsigned)range,
                (unsigned)w->connections, (unsigned)w->time_wait, (unsigned)w->listening,
                (unsigned)w->free);
        return false;
    }
    if (tcpw_port_usage(s, d->laddr, d->raddr, d->rport, &u) != 0)
        return false;
    return memcmp(&u, &d->usage, sizeof(u)) == 0;
}

static int start(struct tt *t, const char *range)
{
    struct tcpw_config cfg = tcpw_config_linux_defaults;
    if (tcpw_config_set_assignment(&cfg, range))
        return -1;
    return tt_init(t, &cfg);
}

/* The hand-made table:
 *   range 40000..40009; listeners on 40009 (inside) and 80 (outside).
 *   A 10.0.0.2:80   TIME_WAIT 40000 40001 40002 40009, and 30000 (outside);
 *                   SYN-SENT from 40003, the orphan (a port of 40004..40008),
 *                   SYN-SENT from 31000 (outside)       -> 2 conns, 4 tw
 *   F 10.0.0.2:22   TIME_WAIT 40007 40008                 -> 2 tw
 *   G the same from local address 10.0.0.7: TIME_WAIT 40000 40001 -> 2 tw
 *   C 10.0.0.2:443  SYN-SENT from 40000 40001              -> 2 conns
 *   E 10.0.0.4:80   SYN-SENT from 40002, TIME_WAIT 40006   -> 1 conn, 1 tw
 *   H 10.0.0.2:5555 SYN-RECEIVED on the listener's 40009   -> 1 conn
 *   B 10.0.0.3:443  TIME_WAIT 40005                        -> 1 tw
 *   D 10.0.0.9:80   TIME_WAIT 50000 only (outside): not visited
 * The listener's port counts as listening for every destination but A (a
 * record holds it) and H (its connection holds it). */
static const struct want hand[] = {
    {ADDR(1), ADDR(2), 80, 2, 4, 0, 4},  {ADDR(1), ADDR(2), 22, 0, 2, 1, 7},
    {ADDR(7), ADDR(2), 22, 0, 2, 1, 7},  {ADDR(1), ADDR(2), 443, 2, 0, 1, 7},
    {ADDR(1), ADDR(4), 80, 1, 1, 1, 7},  {ADDR(1), ADDR(2), 5555, 1, 0, 0, 9},
    {ADDR(1), ADDR(3), 443, 0, 1, 1, 8},
};
#define NHAND (sizeof(hand) / sizeof(hand[0]))

static bool build_hand(struct tt *t)
{
    struct tcpw_stack *s;
    int orphans = 0;

    if (start(t, "ip_local_port_range=40000 40009") != 0)
        return false;
    s = t->stack;
    /* Listeners first: listen() refuses a port a record holds. */
    if (listen_on(s, 40009) < 0 || listen_on(s, 80) < 0)
        return false;
    /* Explicit ports next, so that the orphan's picked port is one of
     * 40004..40008 (the others are bound or held toward A). */
    if (add_tw(s, ADDR(1), 40000, ADDR(2), 80) || add_tw(s, ADDR(1), 40001, ADDR(2), 80) ||
        add_tw(s, ADDR(1), 40002, ADDR(2), 80) || add_tw(s, ADDR(1), 40009, ADDR(2), 80) ||
        add_tw(s, ADDR(1), 30000, ADDR(2), 80) || add_tw(s, ADDR(1), 40007, ADDR(2), 22) ||
        add_tw(s, ADDR(1), 40008, ADDR(2), 22) || add_tw(s, ADDR(7), 40000, ADDR(2), 22) ||
        add_tw(s, ADDR(7), 40001, ADDR(2), 22) || add_tw(s, ADDR(1), 40006, ADDR(4), 80) ||
        add_tw(s, ADDR(1), 40005, ADDR(3), 443) || add_tw(s, ADDR(1), 50000, ADDR(9), 80))
        return false;
    if (connect_from(s, 40003, ADDR(2), 80) || connect_from(s, 31000, ADDR(2), 80) ||
        connect_from(s, 40000, ADDR(2), 443) || connect_from(s, 40001, ADDR(2), 443) ||
        connect_from(s, 40002, ADDR(4), 80))
        return false;
    tt_drain(t);
    /* The orphan: established toward 10.0.0.2:80, FIN sent, then closed. */
    if (!tt_conn_in_fin_wait_1(t) || t->lport < 40004 || t->lport > 40008 ||
        tcpw_close(s, t->fd) != 0)
        return false;
    tcpw_conn_foreach(s, count_orphans, &orphans);
    if (orphans != 1)
        return false;
    /* A handshake on the listener inside the range, left in SYN-RECEIVED. */
    t->lport = 40009;
    t->pport = 5555;
    if (tt_send(t, TCPW_SYN, 1000, 0, NULL, 0) ||
        !tt_expect(t, TCPW_SYN | TCPW_ACK, TT_ANY, 1001, 0, __FILE__, __LINE__))
        return false;
    tt_drain(t);
    return true;
}

static void test_hand_made_table(void)
{
    static struct seen w;
    struct tcpw_port_usage u;
    struct tt t;

    CHECK(build_hand(&t));
    memset(&w, 0, sizeof(w));
    CHECK_EQ_I(tcpw_port_usage_foreach(t.stack, record, &w), 0);
    CHECK_EQ(w.n, NHAND);
    for (size_t i = 0; i < NHAND; i++)
        CHECK_MSG(same(t.stack, &w.d[i], &hand[i], 10), "destination %zu", i);
    /* The destination whose only record is outside the range holds none. */
    CHECK_EQ_I(tcpw_port_usage(t.stack, 0, ADDR(9), 80, &u), 0);
    CHECK_EQ(u.time_wait, 0);
    CHECK_EQ(u.free, 9);
    /* The same state, the same walk. */
    {
        static struct seen again;
        memset(&again, 0, sizeof(again));
        CHECK_EQ_I(tcpw_port_usage_foreach(t.stack, record, &again), 0);
        CHECK_EQ(again.n, w.n);
        CHECK(memcmp(again.d, w.d, w.n * sizeof(w.d[0])) == 0);
    }
    tt_drain(&t);
    CHECK_EQ(tt_fini(&t), 0);
}

static void test_stop_early(void)
{
    static struct seen w;
    struct tt t;

    CHECK(build_hand(&t));
    memset(&w, 0, sizeof(w));
    w.stop_after = 2;
    CHECK_EQ_I(tcpw_port_usage_foreach(t.stack, record, &w), 42);
    CHECK_EQ(w.n, 2);
    CHECK(same(t.stack, &w.d[0], &hand[0], 10));
    CHECK(same(t.stack, &w.d[1], &hand[1], 10));
    memset(&w, 0, sizeof(w));
    w.stop_after = 1;
    CHECK_EQ_I(tcpw_port_usage_foreach(t.stack, record, &w), 42);
    CHECK_EQ(w.n, 1);
    tt_drain(&t);
    CHECK_EQ(tt_fini(&t), 0);
}

static void test_invalid_and_empty(void)
{
    int calls = 0;
    struct tt t;

    CHECK_EQ_I(tcpw_port_usage_foreach(NULL, never_called, &calls), -EINVAL);
    CHECK(start(&t, "ip_local_port_range=40000 40009") == 0);
    CHECK_EQ_I(tcpw_port_usage_foreach(t.stack, NULL, &calls), -EINVAL);
    /* Nothing held: nothing visited. */
    CHECK_EQ_I(tcpw_port_usage_foreach(t.stack, never_called, &calls), 0);
    CHECK_EQ(calls, 0);
    /* A listener inside the range, a bound socket, and a connection and a
     * record outside it hold no port of the range toward anyone. */
    CHECK(listen_on(t.stack, 40004) >= 0);
    {
        int fd = tcpw_socket(t.stack);
        CHECK_EQ_I(tcpw_bind(t.stack, fd, 0, 40005), 0);
    }
    CHECK_EQ_I(connect_from(t.stack, 1234, ADDR(2), 80), 0);
    CHECK_EQ_I(add_tw(t.stack, ADDR(1), 1235, ADDR(2), 80), 0);
    CHECK_EQ_I(tcpw_port_usage_foreach(t.stack, never_called, &calls), 0);
    CHECK_EQ(calls, 0);
    tt_drain(&t);
    CHECK_EQ(tt_fini(&t), 0);
}

/* Records due are gone: after 2MSL only the connections are left. */
static void test_records_expire(void)
{
    static struct seen w;
    struct tt t;

    CHECK(start(&t, "ip_local_port_range=40000 40009") == 0);
    CHECK_EQ_I(add_tw(t.stack, ADDR(1), 40000, ADDR(2), 80), 0);
    CHECK_EQ_I(add_tw(t.stack, ADDR(1), 40001, ADDR(2), 80), 0);
    CHECK_EQ_I(add_tw(t.stack, ADDR(1), 40002, ADDR(3), 80), 0);
    memset(&w, 0, sizeof(w));
    CHECK_EQ_I(tcpw_port_usage_foreach(t.stack, record, &w), 0);
    CHECK_EQ(w.n, 2);
    CHECK(w.d[0].raddr == ADDR(2) && w.d[0].usage.time_wait == 2 && w.d[0].usage.free == 8);
    CHECK(w.d[1].raddr == ADDR(3) && w.d[1].usage.time_wait == 1 && w.d[1].usage.free == 9);
    tt_advance(&t, 61 * SEC); /* 2MSL = 60 s */
    memset(&w, 0, sizeof(w));
    CHECK_EQ_I(tcpw_port_usage_foreach(t.stack, record, &w), 0);
    CHECK_EQ(w.n, 0);
    tt_drain(&t);
    CHECK_EQ(tt_fini(&t), 0);
}

static bool held_first(const struct tcpw_port_dest_usage *a, const struct tcpw_port_dest_usage *b)
{
    uint32_t ha = a->usage.connections + a->usage.time_wait;
    uint32_t hb = b->usage.connections + b->usage.time_wait;

    if (ha != hb)
        return ha > hb;
    if (a->raddr != b->raddr)
        return a->raddr < b->raddr;
    if (a->rport != b->rport)
        return a->rport < b->rport;
    return a->laddr < b->laddr;
}

/* Hundreds of destinations: every one with a port of the range held is
 * visited once, in order, with tcpw_port_usage()'s counts, and the counts
 * add up to the records and connections inside the range. */
static void test_random_table(void)
{
    static struct seen w;
    static uint8_t expect_held[64][8]; /* [raddr 10.1.0.x][rport 1000 + y] */
    uint64_t seed = 7, in_range = 0, total = 0, dests = 0;
    struct tt t;

    CHECK(start(&t, "ip_local_port_range=20000 20063") == 0);
    CHECK(listen_on(t.stack, 20010) >= 0);
    memset(expect_held, 0, sizeof(expect_held));
    for (int i = 0; i < 3000; i++) {
        uint32_t x = (uint32_t)(check_rand(&seed) % 64u), y = (uint32_t)(check_rand(&seed) % 8u);
        uint16_t lport = (uint16_t)(19990u + check_rand(&seed) % 84u); /* 10 below, 10 above */
        uint32_t raddr = 0x0a010000u | x;
        struct tcpw_tuple tu = {ADDR(1), raddr, lport, (uint16_t)(1000u + y)};
        if (tcpw__tw_find(t.stack, &tu) || tcpw__conn_find(t.stack, &tu))
            continue; /* this 4-tuple is taken already */
        if (i % 10 == 0) {
            /* A connection: only from a port no socket has bound (the
             * listener's included); records may take the listener's port. */
            if (connect_from(t.stack, lport, raddr, (uint16_t)(1000u + y)) != 0)
                continue;
        } else {
            CHECK_EQ_I(add_tw(t.stack, ADDR(1), lport, raddr, (uint16_t)(1000u + y)), 0);
        }
        if (lport >= 20000 && lport <= 20063) {
            if (!expect_held[x][y]++)
                dests++;
            in_range++;
        }
    }
    tt_drain(&t);
    CHECK(dests > 300);
    memset(&w, 0, sizeof(w));
    CHECK_EQ_I(tcpw_port_usage_foreach(t.stack, record, &w), 0);
    CHECK_EQ(w.n, dests);
    for (size_t i = 0; i < w.n; i++) {
        const struct tcpw_port_dest_usage *d = &w.d[i];
        uint32_t x = d->raddr & 0xffffu, y = d->rport - 1000u;
        struct tcpw_port_usage u;
        CHECK(d->laddr == ADDR(1) && (d->raddr >> 16) == 0x0a01u && x < 64 && y < 8);
        CHECK_EQ(d->usage.connections + d->usage.time_wait, expect_held[x][y]);
        CHECK_EQ_I(tcpw_port_usage(t.stack, 0, d->raddr, d->rport, &u), 0);
        CHECK_MSG(memcmp(&u, &d->usage, sizeof(u)) == 0, "destination %zu differs", i);
        CHECK_EQ(u.range, 64);
        CHECK_EQ(u.listening + u.connections + u.time_wait + u.free, 64);
        if (i > 0)
            CHECK_MSG(held_first(&w.d[i - 1], d), "destinations %zu and %zu out of order", i - 1,
                      i);
        total += d->usage.connections + d->usage.time_wait;
    }
    CHECK_EQ(total, in_range);
    tt_drain(&t);
    CHECK_EQ(tt_fini(&t), 0);
}

int main(void)
{
    RUN(test_hand_made_table);
    RUN(test_stop_early);
    RUN(test_invalid_and_empty);
    RUN(test_records_expire);
    RUN(test_random_table);
    return check_summary();
}
