/* tcpwave demo — the life and teardown of a connection between two
 * simulated hosts, printed as a ladder diagram (text for people, JSON Lines
 * for programs), optionally captured to a pcap file.
 *
 * Each scenario is a short script of application calls at virtual times;
 * everything on the wire is what the two tcpwave stacks do by themselves.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "ladder.h"
#include "tcpwave/pcap.h"
#include "tcpwave/sim.h"
#include "tcpwave/socket.h"
#include "tcpwave/timewait.h"
#include "wire/wire.h"

#define CLIENT_ADDR 0x0a000001u /* 10.0.0.1 */
#define SERVER_ADDR 0x0a000002u /* 10.0.0.2 */
#define SERVER_PORT 80u
/* tw-recycle-nat: a second client host, and the NAT address both share. */
#define CLIENT_B_ADDR 0x0a000003u /* 10.0.0.3 */
#define NAT_ADDR 0x0a000064u      /* 10.0.0.100 */
#define NAT_PORT_BASE 40000u
#define MS UINT64_C(1000)
#define SEC UINT64_C(1000000)

struct demo {
    struct tcpw_sim *sim;
    struct ladder ladder;
    struct tcpw_stack *client, *server;
    struct tcpw_config client_cfg, server_cfg;
    int cfd, lfd, sfd;
    /* Packets from `drop_from` matching `drop_flags` exactly are dropped
     * `drop_count` times (the lost-ACK scenarios). */
    uint32_t drop_from;
    uint8_t drop_flags;
    int drop_count;
    /* The TSval of the client's first SYN (the old duplicate tw-syn-older
     * replays), seen by the filter. */
    uint32_t client_syn_tsval;
    bool client_syn_seen;
    /* tw-recycle-nat: the third host (created by that scenario only), the
     * last TSval client A sent and the TSval of client B's first SYN. */
    struct tcpw_stack *client_b;
    struct tcpw_config client_b_cfg;
    uint32_t a_last_tsval, b_syn_tsval;
    bool b_syn_seen;
};

/* The state of the one connection a demo host has, for the ladder. */
static const char *host_state(void *user, uint32_t addr)
{
    struct demo *d = user;
    struct tcpw_stack *s = addr == CLIENT_ADDR     ? d->client
                           : addr == CLIENT_B_ADDR ? d->client_b
                                                   : d->server;
    uint64_t counts[TCPW_STATE_COUNT];

    if (!s)
        return "";

    tcpw_state_counts(s, counts);
    for (int st = TCPW_SYN_SENT; st < TCPW_STATE_COUNT; st++)
        if (counts[st])
            return tcpw_state_name((enum tcpw_state)st);
    if (addr == SERVER_ADDR && d->lfd >= 0)
        return "LISTEN";
    return "CLOSED";
}

static void note(struct demo *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct demo *d, const char *fmt, ...)
{
    char buf[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    ladder_note(&d->ladder, tcpw_sim_now(d->sim), buf);
}

static void run_for(struct demo *d, uint64_t us)
{
    uint64_t until = tcpw_sim_now(d->sim) + us;
    tcpw_stack_advance(d->client, tcpw_sim_now(d->sim));
    tcpw_stack_advance(d->server, tcpw_sim_now(d->sim));
    if (d->client_b)
        tcpw_stack_advance(d->client_b, tcpw_sim_now(d->sim));
    tcpw_sim_run_until(d->sim, until);
}

static const char *err_name(ssize_t r)
{
    switch (-r) {
    case ECONNRESET:
        return "ECONNRESET";
    case ECONNREFUSED:
        return "ECONNREFUSED";
    case EPIPE:
        return "EPIPE";
    case EAGAIN:
        return "EAGAIN";
    case ETIMEDOUT:
        return "ETIMEDOUT";
    case ENOTCONN:
        return "ENOTCONN";
    case EHOSTUNREACH:
        return "EHOSTUNREACH";
    case ENETUNREACH:
        return "ENETUNREACH";
    case EINPROGRESS:
        return "EINPROGRESS";
    case EADDRNOTAVAIL:
        return "EADDRNOTAVAIL";
    default:
        return "error";
    }
}

/* Every connection end, orphans included, with its reason. */
static void on_close(void *user, const struct tcpw_close_info *info)
{
    struct demo *d = user;
    const char *who = info->laddr == CLIENT_ADDR     ? "client"
                      : info->laddr == CLIENT_B_ADDR ? "client B"
                                                     : "server";
    note(d, "%s: connection ended: %s%s%s", who, tcpw_close_reason_name(info->reason),
         info->error ? ", error " : "", info->error ? err_name(-info->error) : "");
    if (info->time_wait && d->client_b)
        note(d, "%s: the 4-tuple is held in TIME_WAIT", who);
    else if (info->time_wait)
        note(d, "%s: the 4-tuple is held in TIME_WAIT for 2MSL", who);
}

/* Calls recv and says what the application saw. */
static ssize_t app_recv(struct demo *d, const char *who, struct tcpw_stack *s, int fd)
{
    char buf[256];
    ssize_t r = tcpw_recv(s, fd, buf, sizeof(buf) - 1, 0);
    if (r > 0) {
        buf[r] = '\0';
        note(d, "%s: recv() = %zd \"%s\"", who, r, buf);
    } else if (r == 0) {
        note(d, "%s: recv() = 0 (end of stream: the peer sent FIN)", who);
    } else {
        note(d, "%s: recv() = -%s", who, err_name(r));
    }
    return r;
}

static void app_send(struct demo *d, const char *who, struct tcpw_stack *s, int fd, const char *text)
{
    ssize_t r = tcpw_send(s, fd, text, strlen(text));
    if (r >= 0)
        note(d, "%s: send(\"%s\") = %zd", who, text, r);
    else
        note(d, "%s: send() = -%s", who, err_name(r));
}

static void app_close(struct demo *d, const char *who, struct tcpw_stack *s, int *fd)
{
    note(d, "%s: close()", who);
    tcpw_close(s, *fd);
    *fd = -1;
}

/* Connects the client and accepts on the server; returns 0 when both have
 * an established connection. */
static int open_connection(struct demo *d)
{
    int r;
    d->cfd = tcpw_socket(d->client);
    note(d, "client: connect(10.0.0.2:80)");
    r = tcpw_connect(d->client, d->cfd, SERVER_ADDR, SERVER_PORT);
    if (r != -EINPROGRESS)
        return r;
    run_for(d, 5 * MS);
    d->sfd = tcpw_accept(d->server, d->lfd, NULL, NULL);
    if (d->sfd < 0)
        return d->sfd;
    note(d, "server: accept() -> connection");
    return 0;
}

static void wait_time_wait(struct demo *d)
{
    uint64_t msl2 = 2u * (uint64_t)d->client_cfg.tcp_msl_ms * MS;
    note(d, "both ends wait; TIME_WAIT lasts 2MSL = %" PRIu64 " s", (uint64_t)(msl2 / SEC));
    run_for(d, msl2 + 1 * SEC);
    note(d, "2MSL later: TIME_WAIT is over, nothing of the connection is left");
}

static int scenario_normal_close(struct demo *d)
{
    int r = open_connection(d);
    if (r)
        return r;
    app_send(d, "client", d->client, d->cfd, "hello");
    run_for(d, 10 * MS);
    app_recv(d, "server", d->server, d->sfd);
    app_send(d, "server", d->server, d->sfd, "world");
    run_for(d, 10 * MS);
    app_recv(d, "client", d->client, d->cfd);
    run_for(d, 100 * MS);
    app_close(d, "client", d->client, &d->cfd);
    run_for(d, 100 * MS);
    app_recv(d, "server", d->server, d->sfd);
    app_close(d, "server", d->server, &d->sfd);
    run_for(d, 10 * MS);
    wait_time_wait(d);
    return 0;
}

static int scenario_server_closes_first(struct demo *d)
{
    int r = open_connection(d);
    if (r)
        return r;
    app_send(d, "client", d->client, d->cfd, "GET /");
    run_for(d, 10 * MS);
    app_recv(d, "server", d->server, d->sfd);
    app_send(d, "server", d->server, d->sfd, "200 OK");
    app_close(d, "server", d->server, &d->sfd);
    run_for(d, 100 * MS);
    app_recv(d, "client", d->client, d->cfd);
    app_recv(d, "client", d->client, d->cfd);
    run_for(d, 100 * MS);
    app_close(d, "client", d->client, &d->cfd);
    run_for(d, 10 * MS);
    note(d, "TIME_WAIT is on the server: it closed first");
    wait_time_wait(d);
    return 0;
}

static int scenario_simultaneous_close(struct demo *d)
{
    int r = open_connection(d);
    if (r)
        return r;
    run_for(d, 100 * MS);
    note(d, "both applications close at the same instant");
    app_close(d, "client", d->client, &d->cfd);
    app_close(d, "server", d->server, &d->sfd);
    run_for(d, 100 * MS);
    note(d, "the FINs crossed: FIN_WAIT_1 -> CLOSING -> TIME_WAIT on both ends");
    wait_time_wait(d);
    return 0;
}

static int scenario_fin_ack_together(struct demo *d)
{
    int r = open_connection(d);
    if (r)
        return r;
    run_for(d, 100 * MS);
    app_close(d, "client", d->client, &d->cfd);
    /* The server learns of the FIN when it arrives (1 ms) and closes at
     * once, before its delayed ACK (40 ms) is due: its FIN carries the ACK. */
    run_for(d, 2 * MS);
    app_recv(d, "server", d->server, d->sfd);
    app_close(d, "server", d->server, &d->sfd);
    run_for(d, 100 * MS);
    note(d, "FIN,ACK acked our FIN: FIN_WAIT_1 -> TIME_WAIT without FIN_WAIT_2");
    wait_time_wait(d);
    return 0;
}

static int scenario_half_close(struct demo *d)
{
    int r = open_connection(d);
    if (r)
        return r;
    app_send(d, "client", d->client, d->cfd, "request");
    note(d, "client: shutdown(SHUT_WR): no more to send, still reading");
    tcpw_shutdown(d->client, d->cfd, TCPW_SHUT_WR);
    run_for(d, 100 * MS);
    app_recv(d, "server", d->server, d->sfd);
    app_recv(d, "server", d->server, d->sfd);
    app_send(d, "server", d->server, d->sfd, "part 1");
    run_for(d, 100 * MS);
    app_send(d, "server", d->server, d->sfd, "part 2");
    run_for(d, 100 * MS);
    app_recv(d, "client", d->client, d->cfd);
    app_close(d, "server", d->server, &d->sfd);
    run_for(d, 100 * MS);
    app_recv(d, "client", d->client, d->cfd);
    app_close(d, "client", d->client, &d->cfd);
    wait_time_wait(d);
    return 0;
}

static int lost_last_ack(struct demo *d)
{
    int r = open_connection(d);
    if (r)
        return r;
    run_for(d, 100 * MS);
    app_close(d, "client", d->client, &d->cfd);
    run_for(d, 100 * MS);
    app_recv(d, "server", d->server, d->sfd);
    note(d, "the network will lose the client's next pure ACK (the last one)");
    d->drop_from = CLIENT_ADDR;
    d->drop_flags = TCPW_ACK;
    d->drop_count = 1;
    /* The server keeps its socket (shutdown, not close) to learn how the
     * connection ended. */
    note(d, "server: shutdown(SHUT_WR)");
    tcpw_shutdown(d->server, d->sfd, TCPW_SHUT_WR);
    run_for(d, 3 * SEC);
    {
        int err = 0;
        size_t len = sizeof(err);
        tcpw_getsockopt(d->server, d->sfd, TCPW_SO_ERROR, &err, &len);
        note(d, "server: SO_ERROR = %s", err == 0 ? "0 (orderly close)" : err_name(-err));
    }
    app_close(d, "server", d->server, &d->sfd);
    return 0;
}

static int scenario_lost_last_ack(struct demo *d)
{
    int r = lost_last_ack(d);
    if (r)
        return r;
    note(d, "TIME_WAIT re-ACKed the retransmitted FIN: the server closed cleanly");
    wait_time_wait(d);
    return 0;
}

static int scenario_lost_last_ack_without_timewait(struct demo *d)
{
    int r = lost_last_ack(d);
    if (r)
        return r;
    note(d, "without TIME_WAIT the retransmitted FIN met no connection: RST,");
    note(d, "and the server saw a reset instead of an orderly close");
    run_for(d, 1 * SEC);
    return 0;
}

static int scenario_close_with_unread_data(struct demo *d)
{
    int r = open_connection(d);
    if (r)
        return r;
    app_send(d, "server", d->server, d->sfd, "data nobody reads");
    run_for(d, 100 * MS);
    note(d, "client closes without reading what arrived (RFC 2525 2.17)");
    app_close(d, "client", d->client, &d->cfd);
    run_for(d, 100 * MS);
    app_recv(d, "server", d->server, d->sfd);
    app_send(d, "server", d->server, d->sfd, "more");
    app_close(d, "server", d->server, &d->sfd);
    run_for(d, 100 * MS);
    note(d, "a RST instead of FIN: no TIME_WAIT on either side");
    return 0;
}

static int scenario_refused(struct demo *d)
{
    int err = 0;
    size_t len = sizeof(err);
    d->cfd = tcpw_socket(d->client);
    note(d, "client: connect(10.0.0.2:81), a port nobody listens on");
    tcpw_connect(d->client, d->cfd, SERVER_ADDR, 81);
    run_for(d, 10 * MS);
    tcpw_getsockopt(d->client, d->cfd, TCPW_SO_ERROR, &err, &len);
    note(d, "client: SO_ERROR = %s", err == ECONNREFUSED ? "ECONNREFUSED" : "unexpected");
    return err == ECONNREFUSED ? 0 : -EPROTO;
}

static void set_int(struct tcpw_stack *s, int fd, int opt, int v)
{
    tcpw_setsockopt(s, fd, opt, &v, sizeof(v));
}

static int scenario_linger_abort(struct demo *d)
{
    struct tcpw_linger lg = {1, 0};
    int r = open_connection(d);
    if (r)
        return r;
    app_send(d, "client", d->client, d->cfd, "half a request");
    note(d, "client: setsockopt(SO_LINGER, {1, 0}) then close(): abort");
    tcpw_setsockopt(d->client, d->cfd, TCPW_SO_LINGER, &lg, sizeof(lg));
    app_close(d, "client", d->client, &d->cfd);
    run_for(d, 100 * MS);
    app_recv(d, "server", d->server, d->sfd);
    app_recv(d, "server", d->server, d->sfd);
    app_close(d, "server", d->server, &d->sfd);
    note(d, "RST instead of FIN: no TIME_WAIT on either side");
    return 0;
}

static int scenario_linger_timeout(struct demo *d)
{
    struct tcpw_linger lg = {1, 3};
    int r = open_connection(d);
    if (r)
        return r;
    run_for(d, 100 * MS);
    note(d, "the server host goes silent (black hole): nothing is acknowledged");
    tcpw_sim_set_black_hole(d->sim, SERVER_ADDR, true);
    app_send(d, "client", d->client, d->cfd, "last words");
    note(d, "client: setsockopt(SO_LINGER, {1, 3}) then close()");
    tcpw_setsockopt(d->client, d->cfd, TCPW_SO_LINGER, &lg, sizeof(lg));
    r = tcpw_close(d->client, d->cfd);
    note(d, "client: close() = %s: the descriptor waits for the FIN's ACK",
         r == -EINPROGRESS ? "-EINPROGRESS" : "unexpected");
    run_for(d, 4 * SEC);
    note(d, "client: tcpw_close_status() = %s",
         tcpw_close_status(d->client, d->cfd) == -ETIMEDOUT ? "-ETIMEDOUT (linger ran out, RST)"
                                                            : "unexpected");
    tcpw_close(d->client, d->cfd);
    d->cfd = -1;
    return 0;
}

static int scenario_peer_crash(struct demo *d)
{
    int r = open_connection(d);
    if (r)
        return r;
    run_for(d, 100 * MS);
    note(d, "the server host crashes (black hole): no FIN, no RST, nothing");
    tcpw_sim_set_black_hole(d->sim, SERVER_ADDR, true);
    app_send(d, "client", d->client, d->cfd, "anyone there?");
    note(d, "retransmissions back off from 200 ms to 120 s; tcp_retries2 = 15");
    run_for(d, 1000 * SEC);
    app_send(d, "client", d->client, d->cfd, "hello?");
    app_send(d, "client", d->client, d->cfd, "hello?");
    app_close(d, "client", d->client, &d->cfd);
    return 0;
}

static int scenario_keepalive_dead_peer(struct demo *d)
{
    int r = open_connection(d);
    if (r)
        return r;
    note(d, "client: SO_KEEPALIVE with Linux's defaults (7200 s idle, 75 s apart, 9 probes)");
    set_int(d->client, d->cfd, TCPW_SO_KEEPALIVE, 1);
    run_for(d, 100 * MS);
    note(d, "the server host crashes (black hole); the connection is idle");
    tcpw_sim_set_black_hole(d->sim, SERVER_ADDR, true);
    run_for(d, 7200 * SEC + 10 * 75 * SEC);
    app_recv(d, "client", d->client, d->cfd);
    app_close(d, "client", d->client, &d->cfd);
    return 0;
}

static int scenario_peer_reboot(struct demo *d)
{
    int r = open_connection(d);
    if (r)
        return r;
    run_for(d, 100 * MS);
    note(d, "the server host reboots: its new stack knows no connection");
    tcpw_sim_restart_host(d->sim, SERVER_ADDR, &d->server);
    d->sfd = -1;
    d->lfd = -1;
    run_for(d, 10 * SEC);
    note(d, "half-open: the client still believes it is connected");
    app_send(d, "client", d->client, d->cfd, "still there?");
    run_for(d, 100 * MS);
    app_recv(d, "client", d->client, d->cfd);
    app_close(d, "client", d->client, &d->cfd);
    return 0;
}

static int scenario_orphan_fin_timeout(struct demo *d)
{
    int r = open_connection(d);
    if (r)
        return r;
    run_for(d, 100 * MS);
    app_close(d, "client", d->client, &d->cfd);
    run_for(d, 1 * SEC);
    note(d, "the server application never closes: CLOSE_WAIT has no timeout");
    note(d, "the client's orphan waits tcp_fin_timeout = 60 s in FIN_WAIT_2");
    run_for(d, 61 * SEC);
    note(d, "much later the server closes; its FIN meets no connection");
    app_close(d, "server", d->server, &d->sfd);
    run_for(d, 1 * SEC);
    return 0;
}

static int scenario_icmp_unreachable(struct demo *d)
{
    int err = 0;
    size_t len = sizeof(err);
    note(d, "a router (10.0.0.254) answers packets for hosts it cannot reach");
    tcpw_sim_set_router(d->sim, 0x0a0000feu);
    d->cfd = tcpw_socket(d->client);
    note(d, "client: connect(10.0.0.9:80), a host that does not exist");
    tcpw_connect(d->client, d->cfd, 0x0a000009u, 80);
    run_for(d, 100 * MS);
    tcpw_getsockopt(d->client, d->cfd, TCPW_SO_ERROR, &err, &len);
    note(d, "client: SO_ERROR = %s", err == EHOSTUNREACH ? "EHOSTUNREACH" : "unexpected");
    return err == EHOSTUNREACH ? 0 : -EPROTO;
}

/* tcp_tw_reuse (Linux's tcp_twsk_unique()): the client closes first and
 * holds the 4-tuple in TIME_WAIT; 2 s later it connects again from the same
 * port. The record has timestamps and is older than 1 s, so the new
 * connection takes the tuple over: ISS = old SND.NXT + 65535 + 2, its
 * TSvals continue the same clock, TWRecycled counts it. */
static int scenario_tw_reuse(struct demo *d)
{
    struct tcpw_conn_info info;
    uint32_t old_nxt;
    uint16_t port;
    int r = open_connection(d);

    if (r)
        return r;
    app_send(d, "client", d->client, d->cfd, "hello");
    run_for(d, 10 * MS);
    app_recv(d, "server", d->server, d->sfd);
    r = tcpw_conn_info(d->client, d->cfd, &info);
    if (r)
        return r;
    port = info.lport;
    old_nxt = info.snd_nxt + 1u; /* after our FIN */
    app_close(d, "client", d->client, &d->cfd);
    run_for(d, 100 * MS);
    app_recv(d, "server", d->server, d->sfd);
    app_close(d, "server", d->server, &d->sfd);
    run_for(d, 10 * MS);
    note(d, "client: TIME_WAIT record for port %u, SND.NXT=%" PRIu32, (unsigned)port, old_nxt);
    run_for(d, 2 * SEC);
    d->cfd = tcpw_socket(d->client);
    r = d->cfd < 0 ? d->cfd : tcpw_bind(d->client, d->cfd, 0, port);
    if (r)
        return r;
    note(d, "client: bind(%u), connect(10.0.0.2:80), TIME_WAIT record 2 s old", (unsigned)port);
    r = tcpw_connect(d->client, d->cfd, SERVER_ADDR, SERVER_PORT);
    if (r != -EINPROGRESS) {
        note(d, "client: connect() = -%s", err_name(r));
        return 0;
    }
    r = tcpw_conn_info(d->client, d->cfd, &info);
    if (r)
        return r;
    note(d, "client: TIME_WAIT taken over: ISS=%" PRIu32 " = old SND.NXT + 65537, TWRecycled=%" PRIu64,
         info.iss, tcpw_stack_counter(d->client, TCPW_CTR_TW_RECYCLED));
    run_for(d, 5 * MS);
    d->sfd = tcpw_accept(d->server, d->lfd, NULL, NULL);
    if (d->sfd < 0)
        return d->sfd;
    note(d, "server: accept() -> connection (the listener judged a fresh SYN)");
    app_send(d, "client", d->client, d->cfd, "again");
    run_for(d, 10 * MS);
    app_recv(d, "server", d->server, d->sfd);
    return 0;
}

/* The client's ports toward the server, as `tcpwave ss --ports` lists them. */
static void note_ports(struct demo *d)
{
    struct tcpw_port_usage u;

    if (tcpw_port_usage(d->client, 0, SERVER_ADDR, SERVER_PORT, &u) == 0)
        note(d,
             "client: ports toward 10.0.0.2:80: %" PRIu32 " in the range, %" PRIu32
             " held by connections, %" PRIu32 " by TIME_WAIT, %" PRIu32 " free",
             u.range, u.connections, u.time_wait, u.free);
}

/* RFC 6056: a client needs a local port whose 4-tuple toward the
 * destination is unused, and each connection it closes first holds one for
 * 2MSL. With a 3-port ip_local_port_range, three quick connections to one
 * server use them all: the fourth connect() fails with EADDRNOTAVAIL while
 * another destination still has every port; 2MSL later they are back. */
static int scenario_ports_exhausted(struct demo *d)
{
    int r;

    for (int i = 0; i < 3; i++) {
        r = open_connection(d);
        if (r)
            return r;
        app_close(d, "client", d->client, &d->cfd);
        run_for(d, 10 * MS);
        app_close(d, "server", d->server, &d->sfd);
        run_for(d, 10 * MS);
        note_ports(d);
    }
    d->cfd = tcpw_socket(d->client);
    note(d, "client: connect(10.0.0.2:80)");
    r = tcpw_connect(d->client, d->cfd, SERVER_ADDR, SERVER_PORT);
    note(d, "client: connect() = -%s: %s", err_name(r), tcpw_strerror(r));
    if (r != -EADDRNOTAVAIL)
        return r < 0 ? r : -EPROTO;
    note(d, "client: port 81 is another destination with all its ports: connect(10.0.0.2:81)");
    r = tcpw_connect(d->client, d->cfd, SERVER_ADDR, SERVER_PORT + 1);
    if (r != -EINPROGRESS)
        return r < 0 ? r : -EPROTO;
    run_for(d, 5 * MS);
    {
        int err = 0;
        size_t len = sizeof(err);
        tcpw_getsockopt(d->client, d->cfd, TCPW_SO_ERROR, &err, &len);
        note(d, "client: a port was found; nobody listens on 81: SO_ERROR = %s",
             err_name(-err));
    }
    app_close(d, "client", d->client, &d->cfd);
    run_for(d, 60 * SEC);
    note(d, "2MSL after the closes: the records are gone");
    note_ports(d);
    r = open_connection(d);
    if (r)
        return r;
    note(d, "client: connect() found a port again");
    return 0;
}

/* Whether the server holds a TIME_WAIT record for client port `port`. */
static bool server_holds(struct demo *d, uint16_t port)
{
    struct tcpw_tw_info info[4];
    size_t n = 0;
    tcpw_tw_list(d->server, info, 4, &n);
    for (size_t i = 0; i < n; i++)
        if (info[i].rport == port)
            return true;
    return false;
}

/* The HTTP pattern: the client sends a request, the server answers and
 * closes first, the client closes after it. The server holds the 4-tuple in
 * TIME_WAIT; the client, closing second, holds nothing. `old` is the
 * client's connection as it was before its FIN; its port is old->lport. */
static int server_closes_first(struct demo *d, struct tcpw_conn_info *old)
{
    int r = open_connection(d);
    if (r)
        return r;
    app_send(d, "client", d->client, d->cfd, "GET /");
    run_for(d, 10 * MS);
    app_recv(d, "server", d->server, d->sfd);
    app_send(d, "server", d->server, d->sfd, "200 OK");
    app_close(d, "server", d->server, &d->sfd);
    run_for(d, 100 * MS);
    app_recv(d, "client", d->client, d->cfd);
    app_recv(d, "client", d->client, d->cfd);
    r = tcpw_conn_info(d->client, d->cfd, old);
    if (r)
        return r;
    app_close(d, "client", d->client, &d->cfd);
    run_for(d, 10 * MS);
    if (server_holds(d, old->lport))
        note(d, "server: TIME_WAIT record for 10.0.0.1:%u, RCV.NXT = client's old ISS + %" PRIu32,
             (unsigned)old->lport, old->snd_nxt + 1u - old->iss);
    return 0;
}

/* connect() from `port`, the port of the connection the server holds in
 * TIME_WAIT. Returns connect()'s result (-EINPROGRESS) or an error. */
static int reconnect_from(struct demo *d, uint16_t port)
{
    int r;
    d->cfd = tcpw_socket(d->client);
    r = d->cfd < 0 ? d->cfd : tcpw_bind(d->client, d->cfd, 0, port);
    if (r)
        return r;
    note(d, "client: bind(%u), connect(10.0.0.2:80): the same 4-tuple", (unsigned)port);
    return tcpw_connect(d->client, d->cfd, SERVER_ADDR, SERVER_PORT);
}

/* RFC 9293 §3.10.7.4 note, RFC 6191: the server holds TIME_WAIT; the client
 * reconnects from the same port 1 s later. Its ISN (RFC 6528's clock moved
 * on) is above the record's RCV.NXT and its TSval newer: the SYN is
 * accepted, the record goes, the listener answers with ISS = the record's
 * SND.NXT + 65537, as Linux. */
static int scenario_tw_syn_newer(struct demo *d)
{
    struct tcpw_conn_info old, now;
    uint32_t old_rcv_nxt;
    int r = server_closes_first(d, &old);

    if (r)
        return r;
    old_rcv_nxt = old.snd_nxt + 1u;
    run_for(d, 1 * SEC);
    r = reconnect_from(d, old.lport);
    if (r != -EINPROGRESS)
        return r < 0 ? r : -EPROTO;
    r = tcpw_conn_info(d->client, d->cfd, &now);
    if (r)
        return r;
    note(d, "client: new ISN = old RCV.NXT + %" PRIu32 ": above it, so a new connection",
         now.iss - old_rcv_nxt);
    run_for(d, 5 * MS);
    d->sfd = tcpw_accept(d->server, d->lfd, NULL, NULL);
    if (d->sfd < 0)
        return d->sfd;
    note(d,
         "server: accept() -> connection; the SYN ended TIME_WAIT (RFC 6191), records left: "
         "%" PRIu64 "; its ISS was the record's SND.NXT + 65537 (Linux's tw_isn)",
         tcpw_tw_count(d->server));
    app_send(d, "client", d->client, d->cfd, "GET /again");
    run_for(d, 10 * MS);
    app_recv(d, "server", d->server, d->sfd);
    return 0;
}

/* An old duplicate SYN meets TIME_WAIT: the first connection's SYN (its ISN,
 * its TSval) arrives again while the client, whose own new SYN was lost,
 * waits in SYN_SENT. The record answers with the old connection's ACK
 * (<SEQ=SND.NXT><ACK=RCV.NXT>); the SYN's TSval is older than TS.Recent, so
 * it is counted PAWSEstab as Linux counts it. The client finds that ACK
 * unacceptable and resets it (RFC 9293 §3.10.7.3); TIME_WAIT ignores the RST
 * (RFC 1337) and stays. The client would retry after its SYN timeout. */
static int scenario_tw_syn_older(struct demo *d)
{
    struct tcpw_conn_info old;
    struct tcpw_tcp_out out = {0};
    uint8_t buf[TCPW_IPV4_HDR_MIN + TCPW_TCP_HDR_MIN + 40];
    size_t len;
    int r = server_closes_first(d, &old);

    if (r)
        return r;
    if (!d->client_syn_seen)
        return -EPROTO;
    run_for(d, 1 * SEC);
    note(d, "the network will lose the client's next SYN");
    d->drop_from = CLIENT_ADDR;
    d->drop_flags = TCPW_SYN;
    d->drop_count = 1;
    r = reconnect_from(d, old.lport);
    if (r != -EINPROGRESS)
        return r < 0 ? r : -EPROTO;
    run_for(d, 1 * MS);
    out.src = CLIENT_ADDR;
    out.dst = SERVER_ADDR;
    out.sport = old.lport;
    out.dport = SERVER_PORT;
    out.seq = old.iss;
    out.flags = TCPW_SYN;
    out.wnd = 65535;
    out.ttl = 64;
    out.df = true;
    out.opts.has_mss = true;
    out.opts.mss = 1460;
    out.opts.has_ts = true;
    out.opts.ts_val = d->client_syn_tsval;
    len = tcpw_tcp_build(buf, sizeof(buf), &out);
    if (!len)
        return -EPROTO;
    note(d,
         "an old duplicate of the first SYN arrives: ISN = old ISS, TSval = %" PRIu32
         " (older than TS.Recent)",
         out.opts.ts_val);
    r = tcpw_sim_inject(d->sim, CLIENT_ADDR, buf, len);
    if (r)
        return r;
    run_for(d, 10 * MS);
    note(d, "server: TIME_WAIT re-sent the old ACK; the client's RST was ignored (RFC 1337)");
    note(d, "server: records left: %" PRIu64 ", PAWSEstab=%" PRIu64, tcpw_tw_count(d->server),
         tcpw_stack_counter(d->server, TCPW_CTR_PAWS_ESTAB));
    note(d, "the client retries after its SYN timeout with its own, newer ISN");
    return 0;
}

/* tcp_max_tw_buckets=1 on the server: it closes two connections first. The
 * first takes the one TIME_WAIT slot; the second is closed without TIME_WAIT
 * (Linux: "time wait bucket table overflow"), counted TCPTimeWaitOverflow. */
static int scenario_tw_overflow(struct demo *d)
{
    struct tcpw_conn_info old;
    for (int i = 0; i < 2; i++) {
        int r;
        /* Each connection's numbers relative to its own ISNs. */
        ladder_forget_isns(&d->ladder);
        r = server_closes_first(d, &old);
        if (r)
            return r;
        note(d, "server: TIME_WAIT records: %" PRIu64 " (tcp_max_tw_buckets=1)",
             tcpw_tw_count(d->server));
    }
    note(d, "server: TCPTimeWaitOverflow=%" PRIu64 ": the second close went without TIME_WAIT",
         tcpw_stack_counter(d->server, TCPW_CTR_TCP_TIME_WAIT_OVERFLOW));
    return 0;
}

/* tcp_tw_recycle behind a NAT, the reason Linux 4.12 removed it. Clients A
 * (10.0.0.1) and B (10.0.0.3) share the NAT address 10.0.0.100; their
 * timestamp clocks are unrelated (each host has its own). The server, with
 * tcp_tw_recycle=1, closes A's connection first: its TIME_WAIT record lasts
 * 3.5 x RTO and the per-peer cache learns A's TSval under 10.0.0.100. B's
 * clock is behind A's, so every SYN of B is taken for an old duplicate
 * from "the same host" and dropped without an answer (PAWSPassive) until
 * the cache entry is 60 s old (TCP_PAWS_MSL). */
static int scenario_tw_recycle_nat(struct demo *d)
{
    struct tcpw_conn_info old;
    int cfd_b, r;

    d->client_b_cfg = d->client_cfg;
    r = tcpw_sim_add_host(d->sim, "client B", CLIENT_B_ADDR, &d->client_b_cfg, &d->client_b);
    if (!r)
        r = tcpw_sim_set_nat(d->sim, CLIENT_ADDR, NAT_ADDR, NAT_PORT_BASE);
    if (!r)
        r = tcpw_sim_set_nat(d->sim, CLIENT_B_ADDR, NAT_ADDR, NAT_PORT_BASE);
    if (r)
        return r;
    tcpw_set_close_fn(d->client_b, on_close, d);
    note(d, "clients A (10.0.0.1) and B (10.0.0.3) are behind one NAT: the server sees "
            "both as 10.0.0.100");
    note(d, "server: tcp_tw_recycle=1");
    note(d, "client A connects; the server answers and closes first (HTTP)");
    r = server_closes_first(d, &old);
    if (r)
        return r;
    note(d, "server: TIME_WAIT record for 10.0.0.100, lifetime 3.5 x RTO = %" PRIu64 " ms; "
            "10.0.0.100's TSval %" PRIu32 " is cached",
         (uint64_t)d->server_cfg.tcp_rto_min_ms * 7u / 2u, d->a_last_tsval);
    run_for(d, 1 * SEC);
    note(d, "1 s later the record is gone (records left: %" PRIu64 "), the cache entry stays",
         tcpw_tw_count(d->server));

    /* The ladder's left column is client B from here on. */
    d->ladder.left_addr = CLIENT_B_ADDR;
    snprintf(d->ladder.left_name, sizeof(d->ladder.left_name), "%s", "client B");
    ladder_forget_isns(&d->ladder); /* another host's ports */
    cfd_b = tcpw_socket(d->client_b);
    if (cfd_b < 0)
        return cfd_b;
    note(d, "client B: connect(10.0.0.2:80); the left column is client B from here on");
    r = tcpw_connect(d->client_b, cfd_b, SERVER_ADDR, SERVER_PORT);
    if (r != -EINPROGRESS)
        return r < 0 ? r : -EPROTO;
    run_for(d, 5 * MS);
    if (!d->b_syn_seen)
        return -EPROTO;
    if ((int32_t)(d->a_last_tsval - d->b_syn_tsval) > 1)
        note(d, "client B's TSval %" PRIu32 " is behind A's %" PRIu32
                ": to the server, an old duplicate from 10.0.0.100",
             d->b_syn_tsval, d->a_last_tsval);
    else
        note(d, "client B's TSval %" PRIu32 " is not behind A's %" PRIu32
                " with this seed: no drop",
             d->b_syn_tsval, d->a_last_tsval);
    run_for(d, 20 * SEC);
    note(d, "server: SYNs from 10.0.0.100 dropped silently, PAWSPassive=%" PRIu64
            "; client B: %s, retransmitting",
         tcpw_stack_counter(d->server, TCPW_CTR_PAWS_PASSIVE),
         tcpw_state_name((enum tcpw_state)tcpw_sock_state(d->client_b, cfd_b)));
    run_for(d, 50 * SEC);
    d->sfd = tcpw_accept(d->server, d->lfd, NULL, NULL);
    note(d, "60 s after A's TSval the cache entry is ignored: client B is %s after %" PRIu64
            " dropped SYNs",
         tcpw_state_name((enum tcpw_state)tcpw_sock_state(d->client_b, cfd_b)),
         tcpw_stack_counter(d->server, TCPW_CTR_PAWS_PASSIVE));
    if (d->sfd >= 0)
        note(d, "server: accept() -> connection from 10.0.0.100 (client B), a minute late");
    return 0;
}

struct scenario {
    const char *name;
    const char *help;
    int (*run)(struct demo *d);
    bool skip_time_wait; /* the client runs with the test-only tcp_tw_skip_for_test */
    /* A "name=value" the client's config gets on top of --set, or NULL. */
    const char *client_set;
    /* The same for the server's config, or NULL. */
    const char *server_set;
};

static const struct scenario scenarios[] = {
    {"normal-close", "client closes first: FIN, ACK, FIN, ACK; TIME_WAIT on the client",
     scenario_normal_close, false, NULL, NULL},
    {"server-closes-first", "server closes first: TIME_WAIT moves to the server",
     scenario_server_closes_first, false, NULL, NULL},
    {"simultaneous-close", "both close at once: FIN_WAIT_1 -> CLOSING -> TIME_WAIT on both",
     scenario_simultaneous_close, false, NULL, NULL},
    {"fin-ack-together", "the peer's FIN carries the ACK: FIN_WAIT_1 -> TIME_WAIT",
     scenario_fin_ack_together, false, NULL, NULL},
    {"half-close", "shutdown(SHUT_WR): the peer keeps sending until its own FIN",
     scenario_half_close, false, NULL, NULL},
    {"lost-last-ack", "the last ACK is lost; TIME_WAIT re-ACKs the retransmitted FIN",
     scenario_lost_last_ack, false, NULL, NULL},
    {"lost-last-ack-without-timewait", "the same with TIME_WAIT skipped: the FIN meets a RST",
     scenario_lost_last_ack_without_timewait, true, NULL, NULL},
    {"close-with-unread-data", "close() with unread data sends RST, not FIN",
     scenario_close_with_unread_data, false, NULL, NULL},
    {"refused", "connect() to a closed port: RST, ECONNREFUSED", scenario_refused, false, NULL,
     NULL},
    {"linger-abort", "SO_LINGER {1,0}: close() sends RST, discarding queued data",
     scenario_linger_abort, false, NULL, NULL},
    {"linger-timeout", "SO_LINGER {1,3} against a silent peer: RST after 3 s",
     scenario_linger_timeout, false, NULL, NULL},
    {"peer-crash", "the peer vanishes mid-transfer: backoff, ETIMEDOUT after 924.6 s",
     scenario_peer_crash, false, NULL, NULL},
    {"keepalive-dead-peer", "an idle connection to a crashed peer: keepalive finds it dead",
     scenario_keepalive_dead_peer, false, NULL, NULL},
    {"peer-reboot", "the peer rebooted: our next segment gets RST, ECONNRESET",
     scenario_peer_reboot, false, NULL, NULL},
    {"orphan-fin-timeout", "an orphan in FIN_WAIT_2 is reaped after tcp_fin_timeout",
     scenario_orphan_fin_timeout, false, NULL, NULL},
    {"icmp-unreachable", "connect() to an unreachable host: ICMP, EHOSTUNREACH",
     scenario_icmp_unreachable, false, NULL, NULL},
    {"ports-exhausted", "3 ephemeral ports: three closes fill them with TIME_WAIT, connect() fails",
     scenario_ports_exhausted, false, "ip_local_port_range=40000 40002", NULL},
    {"tw-reuse", "tcp_tw_reuse=1: a new connect() from the same port takes TIME_WAIT over",
     scenario_tw_reuse, false, "tcp_tw_reuse=1", NULL},
    {"tw-syn-newer", "server in TIME_WAIT: the client reconnects from the same port, accepted",
     scenario_tw_syn_newer, false, NULL, NULL},
    {"tw-syn-older", "server in TIME_WAIT: an old duplicate SYN gets the old ACK, the client RST",
     scenario_tw_syn_older, false, NULL, NULL},
    {"tw-overflow", "tcp_max_tw_buckets=1: the server's second close goes without TIME_WAIT",
     scenario_tw_overflow, false, NULL, "tcp_max_tw_buckets=1"},
    {"tw-recycle-nat", "tcp_tw_recycle=1: SYNs from a second host behind the same NAT are dropped",
     scenario_tw_recycle_nat, false, NULL, "tcp_tw_recycle=1"},
};
#define SCENARIO_COUNT (sizeof(scenarios) / sizeof(scenarios[0]))

static bool drop_filter(void *user, uint32_t from, const uint8_t *pkt, size_t len, uint64_t now)
{
    struct demo *d = user;
    struct tcpw_packet p;
    (void)now;
    if (tcpw_packet_parse(pkt, len, &p) != TCPW_DROP_NONE || p.ip.proto != TCPW_IP_PROTO_TCP)
        return false;
    if (from == CLIENT_ADDR && p.l4.tcp.flags == TCPW_SYN && p.l4.tcp.opts.has_ts &&
        !d->client_syn_seen) {
        d->client_syn_tsval = p.l4.tcp.opts.ts_val;
        d->client_syn_seen = true;
    }
    if (from == CLIENT_ADDR && p.l4.tcp.opts.has_ts)
        d->a_last_tsval = p.l4.tcp.opts.ts_val;
    if (from == CLIENT_B_ADDR && p.l4.tcp.flags == TCPW_SYN && p.l4.tcp.opts.has_ts &&
        !d->b_syn_seen) {
        d->b_syn_tsval = p.l4.tcp.opts.ts_val;
        d->b_syn_seen = true;
    }
    if (d->drop_count <= 0 || from != d->drop_from)
        return false;
    if (p.l4.tcp.flags != d->drop_flags || p.l4.tcp.payload_len)
        return false;
    d->drop_count--;
    return true;
}

static void usage(FILE *f)
{
    fputs("usage: tcpwave demo [--scenario NAME] [--list] [--format text|json]\n"
          "                    [--pcap FILE] [--seed N] [--absolute] [--set name=value]...\n"
          "Runs a scenario between two simulated hosts (client 10.0.0.1, server\n"
          "10.0.0.2:80) and prints its ladder diagram. Default: normal-close.\n"
          "Sequence numbers are relative to each side's ISN unless --absolute.\n",
          f);
}

static void print_counters(FILE *out, const struct tcpw_stack *s, const char *who)
{
    static const enum tcpw_counter shown[] = {
        TCPW_CTR_TCP_ACTIVE_OPENS,    TCPW_CTR_TCP_PASSIVE_OPENS,    TCPW_CTR_TCP_OUT_RSTS,
        TCPW_CTR_TCP_RETRANS_SEGS,    TCPW_CTR_TW,                   TCPW_CTR_TW_RECYCLED,
        TCPW_CTR_TCP_TIME_WAIT_OVERFLOW, TCPW_CTR_PAWS_ESTAB,        TCPW_CTR_PAWS_PASSIVE,
        TCPW_CTR_TCP_ABORT_ON_CLOSE,
        TCPW_CTR_TCP_ABORT_ON_DATA,   TCPW_CTR_TCP_ESTAB_RESETS,     TCPW_CTR_TCP_ATTEMPT_FAILS,
        TCPW_CTR_TCP_ABORT_ON_LINGER, TCPW_CTR_TCP_ABORT_ON_TIMEOUT, TCPW_CTR_TCP_ABORT_ON_MEMORY,
        TCPW_CTR_TCP_TIMEOUTS,
    };
    size_t col = (size_t)fprintf(out, "%s counters:", who);

    /* In counter order, wrapped to 79 columns. */
    for (int c = 0; c < TCPW_CTR_COUNT; c++) {
        for (size_t k = 0; k < sizeof(shown) / sizeof(shown[0]); k++) {
            uint64_t v = tcpw_stack_counter(s, (enum tcpw_counter)c);
            char item[80];
            int n;
            if (shown[k] != (enum tcpw_counter)c || !v)
                continue;
            n = snprintf(item, sizeof(item), " %s=%" PRIu64, tcpw_counter_name((enum tcpw_counter)c),
                         v);
            if (col + (size_t)n > 79) {
                fputs("\n   ", out);
                col = 3;
            }
            fputs(item, out);
            col += (size_t)n;
        }
    }
    fputc('\n', out);
}

int cmd_demo(int argc, char **argv)
{
    const struct scenario *sc = &scenarios[0];
    enum ladder_format format = LADDER_TEXT;
    const char *pcap_path = NULL;
    struct tcpw_config cfg = tcpw_config_linux_defaults;
    struct tcpw_pcap *pcap = NULL;
    uint64_t seed = 1;
    bool absolute = false;
    struct demo d;
    int err, status = 0;

    memset(&d, 0, sizeof(d));
    d.cfd = d.lfd = d.sfd = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--list") == 0) {
            for (size_t k = 0; k < SCENARIO_COUNT; k++)
                printf("%-32s %s\n", scenarios[k].name, scenarios[k].help);
            return 0;
        } else if (strcmp(a, "--scenario") == 0 && v) {
            sc = NULL;
            for (size_t k = 0; k < SCENARIO_COUNT; k++)
                if (strcmp(scenarios[k].name, v) == 0)
                    sc = &scenarios[k];
            if (!sc) {
                fprintf(stderr, "tcpwave demo: no scenario '%s' (see --list)\n", v);
                return 2;
            }
            i++;
        } else if (strncmp(a, "--format=", 9) == 0 || (strcmp(a, "--format") == 0 && v)) {
            const char *f = a[8] == '=' ? a + 9 : argv[++i];
            if (strcmp(f, "text") == 0)
                format = LADDER_TEXT;
            else if (strcmp(f, "json") == 0)
                format = LADDER_JSON;
            else {
                fprintf(stderr, "tcpwave demo: --format is text or json, not '%s'\n", f);
                return 2;
            }
        } else if (strcmp(a, "--absolute") == 0) {
            absolute = true;
        } else if (strcmp(a, "--pcap") == 0 && v) {
            pcap_path = argv[++i];
        } else if (strcmp(a, "--seed") == 0 && v) {
            char *end;
            errno = 0;
            seed = strtoull(v, &end, 10);
            if (errno || *end || v[0] == '-' || end == v) {
                fprintf(stderr, "tcpwave demo: --seed takes a non-negative integer\n");
                return 2;
            }
            i++;
        } else if (strcmp(a, "--set") == 0 && v) {
            err = tcpw_config_set_assignment(&cfg, argv[++i]);
            if (err) {
                fprintf(stderr, "tcpwave demo: --set %s: %s\n", argv[i], tcpw_strerror(err));
                return 2;
            }
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "tcpwave demo: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (tcpw_config_validate(&cfg) != 0) {
        fprintf(stderr, "tcpwave demo: the --set values do not fit together\n");
        return 2;
    }
    d.client_cfg = cfg;
    d.server_cfg = cfg;
    if (sc->skip_time_wait)
        tcpw_config_set(&d.client_cfg, "tcp_tw_skip_for_test", "1");
    if (sc->client_set && (tcpw_config_set_assignment(&d.client_cfg, sc->client_set) != 0 ||
                           tcpw_config_validate(&d.client_cfg) != 0)) {
        fprintf(stderr, "tcpwave demo: the scenario's %s does not fit the --set values\n",
                sc->client_set);
        return 2;
    }
    if (sc->server_set && (tcpw_config_set_assignment(&d.server_cfg, sc->server_set) != 0 ||
                           tcpw_config_validate(&d.server_cfg) != 0)) {
        fprintf(stderr, "tcpwave demo: the scenario's %s does not fit the --set values\n",
                sc->server_set);
        return 2;
    }

    err = tcpw_sim_create(seed, &d.sim);
    if (!err)
        err = tcpw_sim_add_host(d.sim, "client", CLIENT_ADDR, &d.client_cfg, &d.client);
    if (!err)
        err = tcpw_sim_add_host(d.sim, "server", SERVER_ADDR, &d.server_cfg, &d.server);
    if (!err && pcap_path) {
        err = tcpw_pcap_open(pcap_path, &pcap);
        if (err)
            fprintf(stderr, "tcpwave demo: cannot write %s: %s\n", pcap_path, tcpw_strerror(err));
        else
            tcpw_sim_set_pcap(d.sim, pcap);
    }
    if (!err) {
        d.lfd = tcpw_socket(d.server);
        err = d.lfd < 0 ? d.lfd : tcpw_bind(d.server, d.lfd, 0, SERVER_PORT);
        if (!err)
            err = tcpw_listen(d.server, d.lfd, 16);
    }
    if (err) {
        fprintf(stderr, "tcpwave demo: setup failed: %s\n", tcpw_strerror(err));
        status = 1;
        goto out;
    }
    tcpw_sim_set_filter(d.sim, drop_filter, &d);
    tcpw_set_close_fn(d.client, on_close, &d);
    tcpw_set_close_fn(d.server, on_close, &d);
    ladder_init(&d.ladder, stdout, format, CLIENT_ADDR, "client", SERVER_ADDR, "server");
    d.ladder.state = host_state;
    d.ladder.absolute = absolute;
    d.ladder.state_user = &d;
    tcpw_sim_set_observer(d.sim, ladder_observe, &d.ladder);
    if (format == LADDER_TEXT)
        printf("scenario %s:\n  %s\n\n", sc->name, sc->help);
    ladder_begin(&d.ladder);
    err = sc->run(&d);
    if (err) {
        fprintf(stderr, "tcpwave demo: scenario failed: %s\n", tcpw_strerror(err));
        status = 1;
        goto out;
    }
    ladder_end(&d.ladder, tcpw_sim_now(d.sim));
    if (format == LADDER_TEXT) {
        putchar('\n');
        print_counters(stdout, d.client, "client");
        if (d.client_b)
            print_counters(stdout, d.client_b, "client B");
        print_counters(stdout, d.server, "server");
        if (pcap)
            printf("pcap: %s (%" PRIu64 " packets)\n", pcap_path, tcpw_pcap_count(pcap));
    }
out:
    tcpw_sim_destroy(d.sim);
    if (pcap && tcpw_pcap_close(pcap) != 0 && status == 0) {
        fprintf(stderr, "tcpwave demo: error closing %s\n", pcap_path);
        status = 1;
    }
    return status;
}
