/* Property test: 1000 seeded connections between two simulated hosts
 * through 5% loss, 2% duplication and 2% reordering, each moving a random
 * amount of data (0 B .. 4 MiB, log-uniform) both ways and closing in a
 * random order (client first, server first, or each side on its own).
 *
 * Checked: every byte delivered exactly once and in order (the receiver
 * recomputes the sender's bytes), every stream ends with EOF at exactly its
 * length, no connection ends in error, and after 2MSL nothing is left on
 * either host (no state, no TIME_WAIT record, no deadline). Leaks are
 * LeakSanitizer's job in the ASan build.
 *
 * TCPW_PROPERTY_CONNS overrides the number of connections (for quick runs).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tcpwave/tcpwave.h"

#define CLIENT 0x0a000001u
#define SERVER 0x0a000002u
#define PORT 80
#define CONCURRENT 40
#define MAX_BYTES (4u << 20)

enum close_order { CLIENT_FIRST, SERVER_FIRST, INDEPENDENT };

struct side {
    int fd;
    uint64_t to_send, sent;
    uint64_t to_recv, received;
    bool eof, shut, closed;
};

struct conn {
    int id;
    bool active, done;
    enum close_order order;
    struct side c, s; /* client and server ends */
};

/* Byte `i` of the stream of connection `id` in direction `dir`. */
static uint8_t stream_byte(int id, int dir, uint64_t i)
{
    uint64_t x = (uint64_t)id * 0x9e3779b97f4a7c15ULL + (uint64_t)dir * 0xbf58476d1ce4e5b9ULL +
                 (i / 8) * 0x94d049bb133111ebULL;
    x ^= x >> 29;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 32;
    return (uint8_t)(x >> ((i % 8) * 8));
}

static uint64_t log_uniform(uint64_t *rng)
{
    /* 0 with probability 1/23, else 2^U(0, 22) scaled by a uniform mantissa. */
    uint64_t r = check_rand(rng);
    unsigned e = (unsigned)(r % 23);
    if (e == 0)
        return 0;
    return ((1ull << (e - 1)) + (check_rand(rng) % (1ull << (e - 1)))) % (MAX_BYTES + 1);
}

struct world {
    struct tcpw_sim *sim;
    struct tcpw_stack *cs, *ss;
    int lfd;
    struct conn *conns;
    int nconns, started, finished;
    int first_open; /* connections before it are all done */
    uint64_t rng;
    int errors;
};

static bool pump_send(struct tcpw_stack *st, struct side *sd, int id, int dir)
{
    uint8_t buf[16384];
    bool progress = false;
    while (sd->sent < sd->to_send) {
        size_t n = sd->to_send - sd->sent < sizeof(buf) ? (size_t)(sd->to_send - sd->sent)
                                                         : sizeof(buf);
        ssize_t r;
        if (!(tcpw_poll(st, sd->fd) & TCPW_POLLOUT))
            break;
        for (size_t i = 0; i < n; i++)
            buf[i] = stream_byte(id, dir, sd->sent + i);
        r = tcpw_send(st, sd->fd, buf, n);
        if (r <= 0)
            break;
        sd->sent += (uint64_t)r;
        progress = true;
    }
    return progress;
}

/* Returns -1 on a data or protocol error. */
static int pump_recv(struct tcpw_stack *st, struct side *sd, int id, int dir)
{
    uint8_t buf[16384];
    for (;;) {
        ssize_t r = tcpw_recv(st, sd->fd, buf, sizeof(buf), 0);
        if (r == -EAGAIN)
            return 0;
        if (r < 0) {
            fprintf(stderr, "  conn %d dir %d: recv error %zd after %" PRIu64 " bytes\n", id, dir,
                    r, sd->received);
            return -1;
        }
        if (r == 0) {
            if (!sd->eof && sd->received != sd->to_recv) {
                fprintf(stderr, "  conn %d dir %d: EOF at %" PRIu64 " of %" PRIu64 "\n", id,
                        dir, sd->received, sd->to_recv);
                return -1;
            }
            sd->eof = true;
            return 0;
        }
        for (ssize_t i = 0; i < r; i++) {
            if (buf[i] != stream_byte(id, dir, sd->received + (uint64_t)i)) {
                fprintf(stderr, "  conn %d dir %d: wrong byte at %" PRIu64 "\n", id, dir,
                        sd->received + (uint64_t)i);
                return -1;
            }
        }
        sd->received += (uint64_t)r;
        if (sd->received > sd->to_recv) {
            fprintf(stderr, "  conn %d dir %d: %" PRIu64 " bytes, more than %" PRIu64 "\n", id,
                    dir, sd->received, sd->to_recv);
            return -1;
        }
    }
}

static void maybe_shut(struct tcpw_stack *st, struct side *sd, bool allowed)
{
    if (!sd->shut && allowed && sd->sent == sd->to_send) {
        if (tcpw_shutdown(st, sd->fd, TCPW_SHUT_WR) == 0)
            sd->shut = true;
    }
    if (sd->shut && sd->eof && !sd->closed) {
        tcpw_close(st, sd->fd);
        sd->closed = true;
    }
}

static void start_conn(struct world *w, struct conn *c)
{
    c->active = true;
    c->order = (enum close_order)(check_rand(&w->rng) % 3);
    c->c.to_send = c->s.to_recv = log_uniform(&w->rng);
    c->s.to_send = c->c.to_recv = log_uniform(&w->rng);
    c->c.fd = tcpw_socket(w->cs);
    c->s.fd = -1;
    if (tcpw_connect(w->cs, c->c.fd, SERVER, PORT) != -EINPROGRESS)
        w->errors++;
}

static void service(struct world *w)
{
    int fd;
    /* Accepted connections are matched to waiting clients by port. */
    while ((fd = tcpw_accept(w->ss, w->lfd, NULL, NULL)) >= 0) {
        uint16_t rport;
        tcpw_getpeername(w->ss, fd, NULL, &rport);
        for (int i = w->first_open; i < w->started; i++) {
            struct conn *c = &w->conns[i];
            uint16_t lport;
            if (!c->active || c->s.fd >= 0)
                continue;
            tcpw_getsockname(w->cs, c->c.fd, NULL, &lport);
            if (lport == rport) {
                c->s.fd = fd;
                break;
            }
        }
    }
    for (int i = w->first_open; i < w->started; i++) {
        struct conn *c = &w->conns[i];
        if (!c->active || c->done)
            continue;
        if (tcpw_sock_state(w->cs, c->c.fd) == TCPW_SYN_SENT)
            continue;
        if (!c->c.closed) {
            pump_send(w->cs, &c->c, c->id, 0);
            if (pump_recv(w->cs, &c->c, c->id, 1) < 0)
                w->errors++;
            maybe_shut(w->cs, &c->c, c->order != SERVER_FIRST || c->c.eof);
        }
        if (c->s.fd >= 0 && !c->s.closed) {
            pump_send(w->ss, &c->s, c->id, 1);
            if (pump_recv(w->ss, &c->s, c->id, 0) < 0)
                w->errors++;
            maybe_shut(w->ss, &c->s, c->order != CLIENT_FIRST || c->s.eof);
        }
        if (c->c.closed && c->s.closed) {
            c->done = true;
            w->finished++;
        }
    }
    while (w->first_open < w->started && w->conns[w->first_open].done)
        w->first_open++;
}

static void test_transfers_survive_impairment(void)
{
    struct world w;
    struct tcpw_impairment imp = {.loss = 0.05, .duplicate = 0.02, .reorder = 0.02,
                                  .delay_us = 5000, .jitter_us = 1000, .reorder_delay_us = 4000};
    struct tcpw_config cfg = tcpw_config_linux_defaults;
    uint64_t counts[TCPW_STATE_COUNT];
    const char *env = getenv("TCPW_PROPERTY_CONNS");
    uint64_t steps = 0;

    memset(&w, 0, sizeof(w));
    w.nconns = env ? atoi(env) : 1000;
    CHECK(w.nconns > 0);
    w.rng = 20261125;
    w.conns = calloc((size_t)w.nconns, sizeof(*w.conns));
    CHECK(w.conns != NULL);
    cfg.tcp_rmem_default = 262144;
    cfg.tcp_wmem_default = 262144;
    CHECK_EQ_I(tcpw_sim_create(7, &w.sim), 0);
    CHECK_EQ_I(tcpw_sim_set_default_path(w.sim, &imp), 0);
    CHECK_EQ_I(tcpw_sim_add_host(w.sim, "client", CLIENT, &cfg, &w.cs), 0);
    CHECK_EQ_I(tcpw_sim_add_host(w.sim, "server", SERVER, &cfg, &w.ss), 0);
    w.lfd = tcpw_socket(w.ss);
    CHECK_EQ_I(tcpw_bind(w.ss, w.lfd, 0, PORT), 0);
    CHECK_EQ_I(tcpw_listen(w.ss, w.lfd, 128), 0);
    for (int i = 0; i < w.nconns; i++)
        w.conns[i].id = i;

    while (w.finished < w.nconns && w.errors == 0) {
        int running = w.started - w.finished;
        while (running < CONCURRENT && w.started < w.nconns) {
            start_conn(&w, &w.conns[w.started++]);
            running++;
        }
        service(&w);
        if (!tcpw_sim_step(w.sim))
            break;
        steps++;
        CHECK_MSG(tcpw_sim_now(w.sim) < 24ull * 3600 * 1000000, "virtual day passed");
    }
    CHECK_EQ_I(w.errors, 0);
    for (int i = 0; i < w.nconns && w.finished != w.nconns; i++) {
        struct conn *c = &w.conns[i];
        if (c->done)
            continue;
        fprintf(stderr,
                "  unfinished conn %d order %d: client state %d sent %" PRIu64 "/%" PRIu64
                " recv %" PRIu64 "/%" PRIu64 " eof %d shut %d | server fd %d state %d sent %" PRIu64
                "/%" PRIu64 " recv %" PRIu64 "/%" PRIu64 " eof %d shut %d\n",
                c->id, c->order, tcpw_sock_state(w.cs, c->c.fd), c->c.sent, c->c.to_send,
                c->c.received, c->c.to_recv, c->c.eof, c->c.shut, c->s.fd,
                c->s.fd >= 0 ? tcpw_sock_state(w.ss, c->s.fd) : -1, c->s.sent, c->s.to_send,
                c->s.received, c->s.to_recv, c->s.eof, c->s.shut);
    }
    CHECK_EQ_I(w.finished, w.nconns);
    for (int i = 0; i < w.nconns; i++) {
        CHECK_EQ(w.conns[i].c.received, w.conns[i].c.to_recv);
        CHECK_EQ(w.conns[i].s.received, w.conns[i].s.to_recv);
    }
    tcpw_close(w.ss, w.lfd);
    /* 2MSL later nothing is left on either host. A FIN retransmitted from
     * LAST_ACK (its ACK lost) restarts a peer's TIME_WAIT, so the wait is
     * "until nothing is pending", bounded: 2MSL plus the longest FIN
     * retransmission series of a LAST_ACK orphan is far below 30 min. */
    {
        uint64_t end_of_apps = tcpw_sim_now(w.sim);
        tcpw_sim_run_idle(w.sim, end_of_apps + 30ull * 60 * 1000000);
        /* The last record may start up to one path delay (5 ms + 1 ms
         * jitter) before the last application sees its connection end. */
        CHECK(tcpw_sim_now(w.sim) - end_of_apps >= 60ull * 1000000 - 10000);
        printf("  everything closed %.1f s after the last application close\n",
               (double)(tcpw_sim_now(w.sim) - end_of_apps) / 1e6);
    }
    tcpw_stack_advance(w.cs, tcpw_sim_now(w.sim));
    tcpw_stack_advance(w.ss, tcpw_sim_now(w.sim));
    tcpw_state_counts(w.cs, counts);
    for (int s = 0; s < TCPW_STATE_COUNT; s++)
        CHECK_EQ(counts[s], 0);
    tcpw_state_counts(w.ss, counts);
    for (int s = 0; s < TCPW_STATE_COUNT; s++)
        CHECK_EQ(counts[s], 0);
    CHECK_EQ(tcpw_stack_next_deadline(w.cs), TCPW_NO_DEADLINE);
    CHECK_EQ(tcpw_stack_next_deadline(w.ss), TCPW_NO_DEADLINE);
    CHECK(tcpw_stack_counter(w.cs, TCPW_CTR_TCP_RETRANS_SEGS) > 0);
    CHECK_EQ(tcpw_stack_counter(w.cs, TCPW_CTR_TCP_ESTAB_RESETS), 0);
    CHECK_EQ(tcpw_stack_counter(w.ss, TCPW_CTR_TCP_ESTAB_RESETS), 0);
    printf("  %d connections, %" PRIu64 " sim steps, %.1f s virtual, client TW=%" PRIu64
           " server TW=%" PRIu64 ", retransmits %" PRIu64 "+%" PRIu64 "\n",
           w.nconns, steps, (double)tcpw_sim_now(w.sim) / 1e6,
           tcpw_stack_counter(w.cs, TCPW_CTR_TW), tcpw_stack_counter(w.ss, TCPW_CTR_TW),
           tcpw_stack_counter(w.cs, TCPW_CTR_TCP_RETRANS_SEGS),
           tcpw_stack_counter(w.ss, TCPW_CTR_TCP_RETRANS_SEGS));
    tcpw_sim_destroy(w.sim);
    free(w.conns);
}

int main(void)
{
    RUN(test_transfers_survive_impairment);
    return check_summary();
}
