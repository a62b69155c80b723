/* Unit tests of api/list.c: tcpw_conn_foreach() lists every listener and
 * live connection of a stack exactly once — accepted ones, one still in the
 * accept queue, an orphan, a handshake in progress — with ss's Recv-Q/Send-Q
 * and timers, and leaves TIME_WAIT records to tcpw_tw_foreach().
 *
 * Two simulated hosts: the server stack under test (10.0.0.1) and a client
 * stack (10.0.0.2) that makes the connections.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "tcpwave/tcpwave.h"

#define SEC         1000000ull
#define SERVER      0x0a000001u
#define CLIENT      0x0a000002u
#define NOBODY      0x0a000009u /* no host: a SYN to it goes unanswered */
#define PORT        80
#define MAX_ENTRIES 32

struct listing {
    struct tcpw_conn_entry e[MAX_ENTRIES];
    size_t n;
    size_t stop_after; /* 0: never stop */
};

static int collect(void *user, const struct tcpw_conn_entry *e)
{
    struct listing *l = user;

    if (l->n < MAX_ENTRIES)
        l->e[l->n] = *e;
    l->n++;
    return l->stop_after && l->n >= l->stop_after ? 7 : 0;
}

/* The entry whose remote end is the client's port `rport` (0 with state
 * LISTEN: the listener). */
static const struct tcpw_conn_entry *find(const struct listing *l, enum tcpw_state st,
                                          uint32_t raddr, uint16_t rport)
{
    for (size_t i = 0; i < l->n && i < MAX_ENTRIES; i++)
        if (l->e[i].state == st && l->e[i].raddr == raddr && (!rport || l->e[i].rport == rport))
            return &l->e[i];
    return NULL;
}

static uint16_t local_port(struct tcpw_stack *s, int fd)
{
    struct tcpw_conn_info ci;

    return tcpw_conn_info(s, fd, &ci) == 0 ? ci.lport : 0;
}

static void run(struct tcpw_sim *sim, uint64_t us)
{
    tcpw_sim_run_until(sim, tcpw_sim_now(sim) + us);
}

static void test_every_state_listed_once(void)
{
    struct tcpw_sim *sim = NULL;
    struct tcpw_stack *ss = NULL, *cs = NULL;
    struct listing l;
    uint64_t counts[TCPW_STATE_COUNT], live = 0;
    int lfd, cfd[5], afd[4], ofd;
    uint16_t cport[5];
    const struct tcpw_conn_entry *e;
    char data[100];

    CHECK_EQ_I(tcpw_sim_create(11, &sim), 0);
    CHECK_EQ_I(tcpw_sim_add_host(sim, "server", SERVER, NULL, &ss), 0);
    CHECK_EQ_I(tcpw_sim_add_host(sim, "client", CLIENT, NULL, &cs), 0);
    if (!ss || !cs)
        goto out;

    lfd = tcpw_socket(ss);
    CHECK_EQ_I(tcpw_bind(ss, lfd, SERVER, PORT), 0);
    CHECK_EQ_I(tcpw_listen(ss, lfd, 16), 0);
    for (int i = 0; i < 5; i++) {
        cfd[i] = tcpw_socket(cs);
        CHECK_EQ_I(tcpw_connect(cs, cfd[i], SERVER, PORT), -EINPROGRESS);
    }
    run(sim, SEC / 10);
    for (int i = 0; i < 5; i++)
        cport[i] = local_port(cs, cfd[i]);
    /* Accept four; the fifth stays in the accept queue. Accept order is
     * arrival order, so afd[i] serves cfd[i]. */
    for (int i = 0; i < 4; i++) {
        uint16_t rport = 0;
        afd[i] = tcpw_accept(ss, lfd, NULL, &rport);
        CHECK(afd[i] >= 0);
        CHECK_EQ_I(rport, cport[i]);
    }
    /* 0: ESTABLISHED with 100 unread bytes. */
    memset(data, 'x', sizeof(data));
    CHECK_EQ_I(tcpw_send(cs, cfd[0], data, sizeof(data)), (int)sizeof(data));
    /* 1: the server closes and the client only ACKs: an orphan in
     * FIN_WAIT_2, waiting tcp_fin_timeout. */
    CHECK_EQ_I(tcpw_close(ss, afd[1]), 0);
    /* 2: the client closes: CLOSE_WAIT on the server. */
    CHECK_EQ_I(tcpw_close(cs, cfd[2]), 0);
    /* 3: the server closes first, then the client: a TIME_WAIT record, which
     * is not a connection. */
    CHECK_EQ_I(tcpw_close(ss, afd[3]), 0);
    run(sim, SEC / 10);
    CHECK_EQ_I(tcpw_close(cs, cfd[3]), 0);
    /* An active open nobody answers: SYN_SENT with the retransmission timer. */
    ofd = tcpw_socket(ss);
    CHECK_EQ_I(tcpw_connect(ss, ofd, NOBODY, 9), -EINPROGRESS);
    run(sim, SEC / 10);

    memset(&l, 0, sizeof(l));
    CHECK_EQ_I(tcpw_conn_foreach(ss, collect, &l), 0);
    tcpw_state_counts(ss, counts);
    for (int st = 0; st < TCPW_STATE_COUNT; st++)
        if (st != TCPW_TIME_WAIT && st != TCPW_LISTEN)
            live += counts[st];
    CHECK_EQ(tcpw_tw_count(ss), 1);
    /* The listener plus every live connection, and nothing else. */
    CHECK_EQ(l.n, 1 + live);
    CHECK_EQ(l.n, 6);
    for (size_t i = 0; i < l.n && i < MAX_ENTRIES; i++) {
        CHECK(l.e[i].state != TCPW_TIME_WAIT && l.e[i].state != TCPW_CLOSED);
        for (size_t j = i + 1; j < l.n && j < MAX_ENTRIES; j++)
            CHECK_MSG(!(l.e[i].laddr == l.e[j].laddr && l.e[i].lport == l.e[j].lport &&
                        l.e[i].raddr == l.e[j].raddr && l.e[i].rport == l.e[j].rport),
                      "entries %zu and %zu have the same 4-tuple", i, j);
    }

    e = find(&l, TCPW_LISTEN, 0, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_EQ(e->laddr, SERVER);
        CHECK_EQ_I(e->lport, PORT);
        CHECK_EQ_I(e->recv_q, 1);  /* one connection waiting for accept() */
        CHECK_EQ_I(e->send_q, 16); /* the backlog */
        CHECK_EQ_I(e->fd, lfd);
        CHECK(!e->orphan);
    }
    e = find(&l, TCPW_ESTABLISHED, CLIENT, cport[0]);
    CHECK(e != NULL);
    if (e) {
        CHECK_EQ_I(e->recv_q, 100);
        CHECK_EQ_I(e->send_q, 0);
        CHECK_EQ_I(e->fd, afd[0]);
        CHECK(!e->orphan);
        CHECK_EQ_I(e->timer, TCPW_TIMER_NONE);
    }
    e = find(&l, TCPW_FIN_WAIT_2, CLIENT, cport[1]);
    CHECK(e != NULL);
    if (e) {
        CHECK(e->orphan);
        CHECK_EQ_I(e->fd, -1);
        CHECK_EQ_I(e->timer, TCPW_TIMER_TIMEWAIT);
        CHECK(e->timer_remaining_us > 50 * SEC && e->timer_remaining_us <= 60 * SEC);
    }
    e = find(&l, TCPW_CLOSE_WAIT, CLIENT, cport[2]);
    CHECK(e != NULL);
    if (e) {
        CHECK_EQ_I(e->fd, afd[2]);
        CHECK(!e->orphan);
    }
    CHECK(find(&l, TCPW_ESTABLISHED, CLIENT, cport[3]) == NULL);
    e = find(&l, TCPW_ESTABLISHED, CLIENT, cport[4]);
    CHECK(e != NULL);
    if (e) {
        /* Not accepted yet: no descriptor, but not an orphan either. */
        CHECK_EQ_I(e->fd, -1);
        CHECK(!e->orphan);
    }
    e = find(&l, TCPW_SYN_SENT, NOBODY, 9);
    CHECK(e != NULL);
    if (e) {
        CHECK_EQ_I(e->fd, ofd);
        CHECK_EQ_I(e->timer, TCPW_TIMER_ON);
        CHECK(e->timer_remaining_us > 0 && e->timer_remaining_us <= 3 * SEC);
    }

    /* A callback's nonzero value stops the walk and is returned. */
    memset(&l, 0, sizeof(l));
    l.stop_after = 2;
    CHECK_EQ_I(tcpw_conn_foreach(ss, collect, &l), 7);
    CHECK_EQ(l.n, 2);
    CHECK_EQ_I(tcpw_conn_foreach(NULL, collect, &l), -EINVAL);
    CHECK_EQ_I(tcpw_conn_foreach(ss, NULL, &l), -EINVAL);
out:
    tcpw_sim_destroy(sim);
}

static void test_empty_stack(void)
{
    struct tcpw_sim *sim = NULL;
    struct tcpw_stack *ss = NULL;
    struct listing l;

    CHECK_EQ_I(tcpw_sim_create(1, &sim), 0);
    CHECK_EQ_I(tcpw_sim_add_host(sim, "server", SERVER, NULL, &ss), 0);
    memset(&l, 0, sizeof(l));
    CHECK_EQ_I(tcpw_conn_foreach(ss, collect, &l), 0);
    CHECK_EQ(l.n, 0);
    tcpw_sim_destroy(sim);
}

int main(void)
{
    RUN(test_every_state_listed_once);
    RUN(test_empty_stack);
    return check_summary();
}
