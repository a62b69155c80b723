/* tcpwave connect — a tcpwave client on a real network: over a TUN device
 * to a server of the Linux kernel (or anything the kernel routes to).
 *
 * It opens one connection at a time: one that sends a file, or one per HTTP
 * GET; closes each the way --close says; waits for the teardowns to finish
 * and prints the states (TIME_WAIT records included) and counters.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "tcpwave/timewait.h"
#include "control.h"
#include "tcpwave/socket.h"

#define SEC        UINT64_C(1000000)
#define RESP_MAX   8192u     /* response header bytes we accept */
#define FINAL_WAIT (5 * SEC) /* bounded wait for the last teardown */

enum close_how { CLOSE_NORMAL, CLOSE_SHUTDOWN, CLOSE_LINGER0 };

enum phase {
    PH_START,      /* open the next connection, or finish */
    PH_CONNECTING, /* SYN sent; waiting for POLLOUT or POLLERR */
    PH_TRANSFER,   /* sending the file or the request, reading the answer */
    PH_DRAIN,      /* --close shutdown: our FIN is queued; reading until the peer's FIN */
    PH_FINAL,      /* all connections closed; waiting for their teardowns */
};

struct client {
    struct realnet rn;
    uint32_t to_addr;
    uint16_t to_port;
    const char *send_path, *out_path;
    uint8_t *file;
    size_t file_len;
    long requests; /* 0: --send or a bare connect */
    bool keep_alive;
    int ka[3]; /* --keepalive IDLE,INTVL,CNT; ka[0] == 0: off */
    enum close_how close_how;
    uint64_t timeout_us, start, final_by;
    FILE *out;
    /* the connection in progress */
    enum phase ph;
    int fd;
    uint16_t lport;
    char req[256];
    const uint8_t *tx;
    size_t tx_len, tx_done;
    char hdr[RESP_MAX];
    size_t hdr_len;
    bool hdr_done, eof;
    long content_length; /* -1: until EOF */
    uint64_t body;
    /* totals */
    long opened, ok, failed;
    uint64_t bytes_sent, bytes_recv;
    bool linger_ignored;
};

static void connect_usage(FILE *f)
{
    fputs("usage: tcpwave connect --tun NAME --addr B/PREFIX [--peer-addr A] --to HOST:PORT\n"
          "                       [--send FILE | --requests N [--keep-alive]] [--out FILE]\n"
          "                       [--close normal|shutdown|linger0] [--timeout SECONDS]\n"
          "                       [--keepalive IDLE,INTVL,CNT]\n"
          "                       [--set name=value]... [--pcap FILE] [--stats-file FILE]\n"
          "                       [--control PATH] [--loss P] [--duplicate P] [--reorder P]\n"
          "                       [--delay MS] [--jitter MS] [--seed N]\n"
          "\n"
          "Creates TUN device NAME (kernel side A, default the .1 of B's subnet) and a\n"
          "tcpwave stack at B, then connects to HOST:PORT through the kernel.\n"
          "  --send FILE     send the file on one connection (bytes received go to --out)\n"
          "  --requests N    N HTTP GETs, one connection each. They ask `Connection: close`\n"
          "                  (the server closes first) unless --keep-alive (we close first,\n"
          "                  after the body)\n"
          "  --close normal    close() when done (FIN; a RST if unread data is left)\n"
          "          shutdown  shutdown(SHUT_WR), read until the peer's FIN, then close()\n"
          "          linger0   SO_LINGER {1, 0} then close(): an abortive close (RST)\n"
          "  --timeout S     give up after S seconds in all (default 30)\n"
          "  --keepalive IDLE,INTVL,CNT   SO_KEEPALIVE on each connection with\n"
          "                  TCP_KEEPIDLE/TCP_KEEPINTVL (seconds) and TCP_KEEPCNT\n"
          "  --control PATH  answer `tcpwave ss`/`stat` here (default\n"
          "                  /run/tcpwave/NAME.sock; `none`: no control socket)\n"
          "  --loss P --duplicate P --reorder P   impair the TUN link both ways, each\n"
          "                  packet lost / sent twice / held back 5 ms with probability P\n"
          "  --delay MS --jitter MS   delay every packet MS (+ uniform 0..jitter)\n"
          "  --seed N        seed of the impairment's generator (default 0)\n"
          "At exit it prints the connection states and the key counters.\n",
          f);
}

static int parse_hostport(const char *text, uint32_t *addr, uint16_t *port)
{
    char buf[32];
    const char *colon = strrchr(text, ':');
    char *end;
    long p;

    if (!colon || (size_t)(colon - text) >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, text, (size_t)(colon - text));
    buf[colon - text] = '\0';
    if (tcpw_addr_parse(buf, addr) != 0)
        return -EINVAL;
    errno = 0;
    p = strtol(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || p < 1 || p > 65535)
        return -EINVAL;
    *port = (uint16_t)p;
    return 0;
}

static int load_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    int err = 0;

    if (!f)
        return -errno;
    for (;;) {
        size_t got;
        if (n == cap) {
            uint8_t *p = realloc(buf, cap ? 2 * cap : 65536);
            if (!p) {
                err = -ENOMEM;
                break;
            }
            buf = p;
            cap = cap ? 2 * cap : 65536;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                err = -EIO;
            break;
        }
    }
    fclose(f);
    if (err) {
        free(buf);
        return err;
    }
    *data = buf;
    *len = n;
    return 0;
}

/* Content-Length of a response header block, or -1 when it has none. */
static long content_length(const char *hdr)
{
    const char *line = strstr(hdr, "\r\n");

    while (line && line[2] != '\r' && line[2] != '\0') {
        const char *p = line + 2;
        if (strncasecmp(p, "Content-Length:", 15) == 0)
            return strtol(p + 15, NULL, 10);
        line = strstr(p, "\r\n");
    }
    return -1;
}

static void body_bytes(struct client *cl, const uint8_t *p, size_t n)
{
    cl->body += n;
    if (cl->out && n && fwrite(p, 1, n, cl->out) != n) {
        fprintf(stderr, "tcpwave connect: --out %s: write failed\n", cl->out_path);
        fclose(cl->out);
        cl->out = NULL;
    }
}

/* Bytes that arrived: the server's answer to the file, or an HTTP
 * response (header kept apart from the body). Returns -EPROTO for a
 * response header we cannot take. */
static int got_bytes(struct client *cl, const uint8_t *p, size_t n)
{
    cl->bytes_recv += n;
    if (!cl->requests || cl->hdr_done) {
        body_bytes(cl, p, n);
        return 0;
    }
    while (n > 0 && !cl->hdr_done) {
        char *end;
        cl->hdr[cl->hdr_len++] = (char)*p++;
        n--;
        cl->hdr[cl->hdr_len] = '\0';
        end = cl->hdr_len >= 4 ? cl->hdr + cl->hdr_len - 4 : NULL;
        if (end && memcmp(end, "\r\n\r\n", 4) == 0) {
            cl->hdr_done = true;
            cl->content_length = content_length(cl->hdr);
        } else if (cl->hdr_len >= RESP_MAX - 1) {
            return -EPROTO;
        }
    }
    body_bytes(cl, p, n);
    return 0;
}

/* Reads everything the stack holds for the connection. Returns 0, or a
 * negative errno (reset, timeout, a bad response). Sets cl->eof on FIN. */
static int drain(struct client *cl)
{
    uint8_t buf[16384];

    while (!cl->eof) {
        ssize_t n = tcpw_recv(cl->rn.stack, cl->fd, buf, sizeof(buf), 0);
        int err;
        if (n == -EAGAIN)
            return 0;
        if (n < 0)
            return (int)n;
        if (n == 0) {
            cl->eof = true;
            return 0;
        }
        err = got_bytes(cl, buf, (size_t)n);
        if (err)
            return err;
    }
    return 0;
}

static void conn_report(struct client *cl, const char *how)
{
    char line[128] = "";

    if (cl->requests) {
        size_t n = strcspn(cl->hdr, "\r\n");
        if (n >= sizeof(line))
            n = sizeof(line) - 1;
        memcpy(line, cl->hdr, n);
        line[n] = '\0';
    }
    printf("tcpwave connect: connection %ld (local port %u): sent %zu, received %" PRIu64
           " bytes%s%s; %s\n",
           cl->opened, (unsigned)cl->lport, cl->tx_done, cl->body, cl->requests ? ": " : "", line,
           how);
    fflush(stdout);
}

/* Ends the connection in progress as --close says and moves on. */
static void finish_conn(struct client *cl)
{
    struct tcpw_stack *s = cl->rn.stack;

    if (cl->close_how == CLOSE_SHUTDOWN && cl->ph != PH_DRAIN && !cl->eof) {
        /* Half-close: our FIN goes now; we close when the peer's comes. */
        tcpw_shutdown(s, cl->fd, TCPW_SHUT_WR);
        cl->ph = PH_DRAIN;
        return;
    }
    if (cl->close_how == CLOSE_SHUTDOWN && cl->ph != PH_DRAIN)
        tcpw_shutdown(s, cl->fd, TCPW_SHUT_WR);
    if (cl->close_how == CLOSE_LINGER0) {
        struct tcpw_linger lg = {1, 0};
        uint64_t before = tcpw_stack_counter(s, TCPW_CTR_TCP_ABORT_ON_LINGER);
        int err = tcpw_setsockopt(s, cl->fd, TCPW_SO_LINGER, &lg, sizeof(lg));
        if (err)
            fprintf(stderr, "tcpwave connect: SO_LINGER: %s\n", tcpw_strerror(err));
        tcpw_close(s, cl->fd);
        /* Trust the counter, not the option: say so when close() did not
         * abort (a stack without SO_LINGER, or a connection already gone)
         * rather than pretend a RST was sent. */
        bool aborted = tcpw_stack_counter(s, TCPW_CTR_TCP_ABORT_ON_LINGER) != before;
        if (!aborted)
            cl->linger_ignored = true;
        conn_report(cl, aborted ? "aborted with SO_LINGER 0 (RST)"
                                : "closed (no RST: linger0 not honoured, a normal close)");
    } else {
        tcpw_close(s, cl->fd);
        conn_report(cl, cl->close_how == CLOSE_SHUTDOWN ? "shut down, then closed" : "closed");
    }
    cl->ok++;
    cl->fd = -1;
    cl->ph = PH_START;
}

static void fail_conn(struct client *cl, const char *what, int err)
{
    int reason = TCPW_REASON_NONE;
    size_t len = sizeof(reason);

    if (cl->fd >= 0)
        tcpw_getsockopt(cl->rn.stack, cl->fd, TCPW_SO_CLOSE_REASON, &reason, &len);
    fprintf(stderr, "tcpwave connect: connection %ld: %s: %s (reason %s)\n", cl->opened, what,
            tcpw_strerror(err), tcpw_close_reason_name((enum tcpw_close_reason)reason));
    cl->failed++;
    if (cl->fd >= 0)
        tcpw_close(cl->rn.stack, cl->fd);
    cl->fd = -1;
    cl->ph = PH_FINAL; /* no point going on */
    cl->final_by = tcpw_stack_now(cl->rn.stack) + FINAL_WAIT;
}

static void start_conn(struct client *cl, uint64_t now)
{
    struct tcpw_stack *s = cl->rn.stack;
    char host[16];
    uint32_t laddr;
    int err;

    if (cl->opened >= (cl->requests ? cl->requests : 1)) {
        cl->ph = PH_FINAL;
        cl->final_by = now + FINAL_WAIT;
        return;
    }
    cl->opened++;
    cl->fd = tcpw_socket(s);
    if (cl->fd < 0) {
        fail_conn(cl, "socket", cl->fd);
        return;
    }
    if (cl->ka[0]) {
        static const int opts[3] = {TCPW_TCP_KEEPIDLE, TCPW_TCP_KEEPINTVL, TCPW_TCP_KEEPCNT};
        int on = 1;
        err = tcpw_setsockopt(s, cl->fd, TCPW_SO_KEEPALIVE, &on, sizeof(on));
        for (int k = 0; k < 3 && !err; k++)
            err = tcpw_setsockopt(s, cl->fd, opts[k], &cl->ka[k], sizeof(cl->ka[k]));
        if (err) {
            fail_conn(cl, "setsockopt (keepalive)", err);
            return;
        }
    }
    err = tcpw_connect(s, cl->fd, cl->to_addr, cl->to_port);
    if (err == -EADDRNOTAVAIL) {
        /* The port budget toward this destination is spent: say by whom,
         * so the user sees TIME_WAIT (or live connections) as the cause. */
        struct tcpw_port_usage u;
        if (tcpw_port_usage(s, 0, cl->to_addr, cl->to_port, &u) == 0)
            fprintf(stderr,
                    "tcpwave connect: every one of the %" PRIu32 " ports of ip_local_port_range "
                    "toward this destination is held: %" PRIu32 " by connections, %" PRIu32
                    " by TIME_WAIT, %" PRIu32 " by listeners (widen ip_local_port_range, or "
                    "tcp_tw_reuse=1 with timestamps; `tcpwave ss --ports` shows it coming)\n",
                    u.range, u.connections, u.time_wait, u.listening);
    }
    if (err != -EINPROGRESS && err != 0) {
        fail_conn(cl, "connect", err);
        return;
    }
    tcpw_getsockname(s, cl->fd, &laddr, &cl->lport);
    cl->hdr_len = 0;
    cl->hdr[0] = '\0';
    cl->hdr_done = cl->eof = false;
    cl->content_length = -1;
    cl->body = 0;
    cl->tx_done = 0;
    if (cl->requests) {
        int n = snprintf(cl->req, sizeof(cl->req),
                         "GET / HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: tcpwave\r\n"
                         "Connection: %s\r\n\r\n",
                         tcpw_addr_str(cl->to_addr, host), (unsigned)cl->to_port,
                         cl->keep_alive ? "keep-alive" : "close");
        cl->tx = (const uint8_t *)cl->req;
        cl->tx_len = (size_t)n;
    } else {
        cl->tx = cl->file;
        cl->tx_len = cl->file_len;
    }
    cl->ph = PH_CONNECTING;
}

/* True when this connection has done what it came for. */
static bool transfer_done(const struct client *cl)
{
    if (cl->tx_done < cl->tx_len)
        return false;
    if (!cl->requests)
        return true;
    if (!cl->hdr_done)
        return cl->eof; /* the server closed without an answer */
    if (cl->content_length >= 0 && cl->body >= (uint64_t)cl->content_length)
        return cl->keep_alive || cl->eof; /* Connection: close: wait for the server's FIN */
    return cl->eof;
}

static int connect_tick(void *user, struct tcpw_stack *s, uint64_t now)
{
    struct client *cl = user;
    int err;

    control_poll(cl->rn.ctl, s, now);
    if (realnet_signals >= 2) {
        printf("tcpwave connect: second signal: aborting\n");
        return 1;
    }
    if (realnet_signals == 1 && cl->ph != PH_FINAL) {
        printf("tcpwave connect: signal: closing\n");
        if (cl->fd >= 0) {
            (void)drain(cl);
            tcpw_close(s, cl->fd);
            cl->fd = -1;
        }
        cl->ph = PH_FINAL;
        cl->final_by = now + FINAL_WAIT;
    }
    if (now - cl->start > cl->timeout_us && cl->ph != PH_FINAL) {
        fail_conn(cl, "gave up", -ETIMEDOUT);
    }

    for (;;) {
        enum phase was = cl->ph;
        unsigned ev;

        switch (cl->ph) {
        case PH_START:
            start_conn(cl, now);
            break;
        case PH_CONNECTING:
            ev = tcpw_poll(s, cl->fd);
            if (ev & TCPW_POLLERR) {
                int soerr = 0;
                size_t len = sizeof(soerr);
                tcpw_getsockopt(s, cl->fd, TCPW_SO_ERROR, &soerr, &len);
                fail_conn(cl, "connect", -soerr);
            } else if (ev & TCPW_POLLOUT) {
                cl->ph = PH_TRANSFER;
            }
            break;
        case PH_TRANSFER:
            while (cl->tx_done < cl->tx_len) {
                ssize_t n = tcpw_send(s, cl->fd, cl->tx + cl->tx_done, cl->tx_len - cl->tx_done);
                if (n == -EAGAIN)
                    break;
                if (n < 0) {
                    fail_conn(cl, "send", (int)n);
                    return 0;
                }
                cl->tx_done += (size_t)n;
                cl->bytes_sent += (uint64_t)n;
            }
            err = drain(cl);
            if (err) {
                fail_conn(cl, "recv", err);
            } else if (transfer_done(cl)) {
                finish_conn(cl);
            }
            break;
        case PH_DRAIN:
            err = drain(cl);
            if (err) {
                fail_conn(cl, "recv", err);
            } else if (cl->eof) {
                finish_conn(cl);
            }
            break;
        case PH_FINAL:
            if (realnet_busy(&cl->rn) == 0)
                return 1;
            if (now >= cl->final_by) {
                printf("tcpwave connect: connections still closing after %u s: exiting anyway\n",
                       (unsigned)(FINAL_WAIT / SEC));
                return 1;
            }
            return 0;
        }
        if (cl->ph == was)
            return 0; /* waiting for the network */
    }
}

int cmd_connect(int argc, char **argv)
{
    struct client cl;
    const char *to = NULL;
    int rc = 0, err;

    memset(&cl, 0, sizeof(cl));
    realnet_init(&cl.rn, "connect");
    cl.fd = -1;
    cl.timeout_us = 30 * SEC;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = realnet_option(&cl.rn, argc, argv, &i);
        char *end;

        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if (strcmp(a, "--to") == 0 && i + 1 < argc) {
            to = argv[++i];
        } else if (strcmp(a, "--send") == 0 && i + 1 < argc) {
            cl.send_path = argv[++i];
        } else if (strcmp(a, "--out") == 0 && i + 1 < argc) {
            cl.out_path = argv[++i];
        } else if (strcmp(a, "--keep-alive") == 0) {
            cl.keep_alive = true;
        } else if (strcmp(a, "--keepalive") == 0 && i + 1 < argc) {
            char tail;
            if (sscanf(argv[++i], "%d,%d,%d%c", &cl.ka[0], &cl.ka[1], &cl.ka[2], &tail) != 3 ||
                cl.ka[0] < 1 || cl.ka[1] < 1 || cl.ka[2] < 1) {
                fprintf(stderr, "tcpwave connect: --keepalive wants IDLE,INTVL,CNT (each >= 1)\n");
                return 2;
            }
        } else if (strcmp(a, "--close") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            if (strcmp(v, "normal") == 0) {
                cl.close_how = CLOSE_NORMAL;
            } else if (strcmp(v, "shutdown") == 0) {
                cl.close_how = CLOSE_SHUTDOWN;
            } else if (strcmp(v, "linger0") == 0) {
                cl.close_how = CLOSE_LINGER0;
            } else {
                fprintf(stderr, "tcpwave connect: --close wants normal, shutdown or linger0\n");
                return 2;
            }
        } else if ((strcmp(a, "--requests") == 0 || strcmp(a, "--timeout") == 0) && i + 1 < argc) {
            long v;
            errno = 0;
            v = strtol(argv[++i], &end, 10);
            if (errno || *end || end == argv[i] || v < 1 || v > 1000000) {
                fprintf(stderr, "tcpwave connect: %s wants a number 1..1000000\n", a);
                return 2;
            }
            if (strcmp(a, "--requests") == 0)
                cl.requests = v;
            else
                cl.timeout_us = (uint64_t)v * SEC;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            connect_usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "tcpwave connect: unknown option '%s'\n", a);
            connect_usage(stderr);
            return 2;
        }
    }
    if (!to || parse_hostport(to, &cl.to_addr, &cl.to_port) != 0) {
        fprintf(stderr, "tcpwave connect: --to HOST:PORT is required (HOST an IPv4 address)\n");
        connect_usage(stderr);
        return 2;
    }
    if (cl.send_path && cl.requests) {
        fprintf(stderr, "tcpwave connect: --send and --requests exclude each other\n");
        return 2;
    }
    if (cl.send_path) {
        err = load_file(cl.send_path, &cl.file, &cl.file_len);
        if (err) {
            fprintf(stderr, "tcpwave connect: --send %s: %s\n", cl.send_path, strerror(-err));
            return 1;
        }
    }
    if (cl.out_path) {
        cl.out = fopen(cl.out_path, "wb");
        if (!cl.out) {
            fprintf(stderr, "tcpwave connect: --out %s: %s\n", cl.out_path, strerror(errno));
            free(cl.file);
            return 1;
        }
    }
    rc = realnet_start(&cl.rn);
    if (rc)
        goto out;

    cl.start = tcpw_tun_now_us();
    if (realnet_run(&cl.rn, connect_tick, &cl, "tcpwave connect"))
        rc = 1;
    if (cl.failed || cl.ok < (cl.requests ? cl.requests : 1))
        rc = 1;
    if (cl.linger_ignored)
        printf("tcpwave connect: --close linger0: close() sent no RST (TCPAbortOnLinger did not "
               "move), so the connection(s) closed normally\n");
    printf("tcpwave connect: %ld connection(s) completed, %ld failed; %" PRIu64
           " bytes sent, %" PRIu64 " bytes received\n",
           cl.ok, cl.failed, cl.bytes_sent, cl.bytes_recv);
    realnet_report(&cl.rn, stdout);
out:
    if (cl.out && fclose(cl.out) != 0) {
        fprintf(stderr, "tcpwave connect: --out %s: %s\n", cl.out_path, strerror(errno));
        rc = 1;
    }
    free(cl.file);
    realnet_stop(&cl.rn);
    return rc;
}
