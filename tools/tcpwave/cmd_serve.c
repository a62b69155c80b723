/* tcpwave serve — a tcpwave server on a real network: a TUN device whose
 * kernel side is an ordinary Linux host, so curl, python or any kernel
 * client can talk to the tcpwave stack.
 *
 * Also holds the parts `serve` and `connect` share (struct realnet): option
 * parsing, opening the device and the stack, signals and the final report.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "commands.h"
#include "control.h"
#include "tcpwave/socket.h"

#define SEC UINT64_C(1000000)

/* ---------------------------------------------------------------------- */
/* Shared: struct realnet                                                  */

volatile sig_atomic_t realnet_signals;

static void on_signal(int sig)
{
    (void)sig;
    if (realnet_signals < 100)
        realnet_signals++;
}

void realnet_init(struct realnet *rn, const char *cmd)
{
    memset(rn, 0, sizeof(*rn));
    rn->cmd = cmd;
    rn->cfg = tcpw_config_linux_defaults;
}

/* "10.88.0.2/24" (the prefix defaults to 24). */
static int parse_cidr(const char *text, uint32_t *addr, unsigned *prefix)
{
    char buf[32];
    const char *slash = strchr(text, '/');
    size_t n = slash ? (size_t)(slash - text) : strlen(text);
    char *end;
    long p = 24;

    if (n >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, text, n);
    buf[n] = '\0';
    if (tcpw_addr_parse(buf, addr) != 0)
        return -EINVAL;
    if (slash) {
        errno = 0;
        p = strtol(slash + 1, &end, 10);
        if (errno || *end || end == slash + 1 || p < 1 || p > 30)
            return -EINVAL;
    }
    *prefix = (unsigned)p;
    return 0;
}

#define IMP_DELAY_MAX_MS 10000.0       /* --delay and --jitter at most 10 s */
#define IMP_REORDER_DELAY UINT64_C(5000) /* µs a --reorder packet is held back */

/* The impairment options: 1 (consumed), 0 (not one of them), -1 (printed). */
static int impairment_option(struct realnet *rn, const char *opt, const char *val)
{
    bool rate = strcmp(opt, "--loss") == 0 || strcmp(opt, "--duplicate") == 0 ||
                strcmp(opt, "--reorder") == 0;
    bool ms = strcmp(opt, "--delay") == 0 || strcmp(opt, "--jitter") == 0;
    char *end;
    double v;

    if (strcmp(opt, "--seed") == 0) {
        unsigned long long seed;
        errno = 0;
        seed = strtoull(val, &end, 0);
        if (errno || *end || end == val || val[0] == '-') {
            fprintf(stderr, "tcpwave %s: --seed wants an unsigned number\n", rn->cmd);
            return -1;
        }
        rn->imp_seed = (uint64_t)seed;
        return 1;
    }
    if (!rate && !ms)
        return 0;
    errno = 0;
    v = strtod(val, &end);
    if (rate && (errno || *end || end == val || !(v >= 0.0 && v <= 1.0))) {
        fprintf(stderr, "tcpwave %s: %s wants a probability 0..1, e.g. 0.03\n", rn->cmd, opt);
        return -1;
    }
    if (ms && (errno || *end || end == val || !(v >= 0.0 && v <= IMP_DELAY_MAX_MS))) {
        fprintf(stderr, "tcpwave %s: %s wants milliseconds 0..%.0f\n", rn->cmd, opt,
                IMP_DELAY_MAX_MS);
        return -1;
    }
    if (strcmp(opt, "--loss") == 0)
        rn->imp.loss = v;
    else if (strcmp(opt, "--duplicate") == 0)
        rn->imp.duplicate = v;
    else if (strcmp(opt, "--reorder") == 0)
        rn->imp.reorder = v;
    else if (strcmp(opt, "--delay") == 0)
        rn->imp.delay_us = (uint64_t)llround(v * 1000.0);
    else
        rn->imp.jitter_us = (uint64_t)llround(v * 1000.0);
    return 1;
}

int realnet_option(struct realnet *rn, int argc, char **argv, int *i)
{
    const char *opt = argv[*i];
    const char *val = *i + 1 < argc ? argv[*i + 1] : NULL;
    int err;

    if (strcmp(opt, "--tun") != 0 && strcmp(opt, "--addr") != 0 &&
        strcmp(opt, "--peer-addr") != 0 && strcmp(opt, "--set") != 0 &&
        strcmp(opt, "--pcap") != 0 && strcmp(opt, "--stats-file") != 0 &&
        strcmp(opt, "--control") != 0 && strcmp(opt, "--loss") != 0 &&
        strcmp(opt, "--duplicate") != 0 && strcmp(opt, "--reorder") != 0 &&
        strcmp(opt, "--delay") != 0 && strcmp(opt, "--jitter") != 0 && strcmp(opt, "--seed") != 0)
        return 0;
    if (!val) {
        fprintf(stderr, "tcpwave %s: %s needs a value\n", rn->cmd, opt);
        return -1;
    }
    (*i)++;
    err = impairment_option(rn, opt, val);
    if (err)
        return err;
    if (strcmp(opt, "--tun") == 0) {
        rn->tun_name = val;
    } else if (strcmp(opt, "--addr") == 0) {
        if (parse_cidr(val, &rn->addr, &rn->prefix) != 0) {
            fprintf(stderr, "tcpwave %s: --addr wants ADDRESS/PREFIX, e.g. 10.88.0.2/24\n",
                    rn->cmd);
            return -1;
        }
    } else if (strcmp(opt, "--peer-addr") == 0) {
        if (tcpw_addr_parse(val, &rn->peer_addr) != 0) {
            fprintf(stderr, "tcpwave %s: --peer-addr wants an IPv4 address\n", rn->cmd);
            return -1;
        }
    } else if (strcmp(opt, "--set") == 0) {
        err = tcpw_config_set_assignment(&rn->cfg, val);
        if (err) {
            fprintf(stderr, "tcpwave %s: --set %s: %s\n", rn->cmd, val, tcpw_strerror(err));
            return -1;
        }
    } else if (strcmp(opt, "--pcap") == 0) {
        rn->pcap_path = val;
    } else if (strcmp(opt, "--control") == 0) {
        rn->control_path = val;
    } else {
        rn->stats_path = val;
    }
    return 1;
}

int realnet_start(struct realnet *rn)
{
    struct tcpw_stack_params sp;
    struct tcpw_tun_params tp;
    struct sigaction sa;
    uint32_t mask;
    char addr_a[16], addr_b[16], err_text[256];
    int err;

    if (!rn->tun_name || !rn->addr) {
        fprintf(stderr, "tcpwave %s: --tun NAME and --addr ADDRESS/PREFIX are required\n", rn->cmd);
        return 2;
    }
    if (tcpw_config_validate(&rn->cfg) != 0) {
        fprintf(stderr, "tcpwave %s: the --set values do not fit together (docs/tunables.md)\n",
                rn->cmd);
        return 2;
    }
    mask = UINT32_MAX << (32 - rn->prefix);
    if (!rn->peer_addr)
        rn->peer_addr = (rn->addr & mask) | 1u;
    if (rn->peer_addr == rn->addr || (rn->peer_addr & mask) != (rn->addr & mask)) {
        fprintf(stderr,
                "tcpwave %s: the kernel side (--peer-addr %s) must be another address of the "
                "stack's subnet %s/%u\n",
                rn->cmd, tcpw_addr_str(rn->peer_addr, addr_a), tcpw_addr_str(rn->addr, addr_b),
                rn->prefix);
        return 2;
    }

    /* Signals first, so a Ctrl-C during setup is not lost. No SA_RESTART:
     * the loop's epoll_wait must return EINTR at once. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    memset(&tp, 0, sizeof(tp));
    tp.name = rn->tun_name;
    tp.kernel_addr = rn->peer_addr;
    tp.prefix_len = rn->prefix;
    tp.mtu = rn->cfg.mtu;
    err = tcpw_tun_open(&tp, &rn->tun, err_text, sizeof(err_text));
    if (err) {
        fprintf(stderr, "tcpwave %s: %s\n", rn->cmd, err_text);
        return 1;
    }
    rn->imp.reorder_delay_us = rn->imp.reorder > 0 ? IMP_REORDER_DELAY : 0;
    /* Cannot fail: the values were checked when parsed. */
    (void)tcpw_tun_set_impairment(rn->tun, TCPW_TUN_TO_STACK, &rn->imp, rn->imp_seed);
    (void)tcpw_tun_set_impairment(rn->tun, TCPW_TUN_FROM_STACK, &rn->imp, rn->imp_seed + 1u);
    if (rn->pcap_path) {
        err = tcpw_pcap_open(rn->pcap_path, &rn->pcap);
        if (err) {
            fprintf(stderr, "tcpwave %s: --pcap %s: %s\n", rn->cmd, rn->pcap_path, strerror(-err));
            return 1;
        }
        tcpw_tun_set_pcap(rn->tun, rn->pcap);
    }
    memset(&sp, 0, sizeof(sp));
    sp.addr = rn->addr;
    sp.config = &rn->cfg;
    /* A real network wants unpredictable ISNs and ports, not a replayable run. */
    sp.seed = tcpw_tun_now_us() ^ ((uint64_t)getpid() << 32);
    sp.output = tcpw_tun_output;
    sp.output_user = rn->tun;
    err = tcpw_stack_create(&sp, tcpw_tun_now_us(), &rn->stack);
    if (err) {
        fprintf(stderr, "tcpwave %s: cannot create the stack: %s\n", rn->cmd, tcpw_strerror(err));
        return 1;
    }
    return realnet_control_start(rn);
}

static bool realnet_impaired(const struct realnet *rn)
{
    return rn->imp.loss > 0 || rn->imp.duplicate > 0 || rn->imp.reorder > 0 ||
           rn->imp.delay_us > 0 || rn->imp.jitter_us > 0;
}

uint64_t realnet_busy(const struct realnet *rn)
{
    uint64_t counts[TCPW_STATE_COUNT], busy = 0;

    tcpw_state_counts(rn->stack, counts);
    for (int st = 0; st < TCPW_STATE_COUNT; st++)
        if (st != TCPW_CLOSED && st != TCPW_LISTEN && st != TCPW_TIME_WAIT)
            busy += counts[st];
    return busy;
}

/* The counters a reader of a teardown wants first; the stats file has all. */
static const enum tcpw_counter key_counters[] = {
    TCPW_CTR_TCP_ACTIVE_OPENS,  TCPW_CTR_TCP_PASSIVE_OPENS,   TCPW_CTR_TCP_ATTEMPT_FAILS,
    TCPW_CTR_TCP_ESTAB_RESETS,  TCPW_CTR_TCP_IN_SEGS,         TCPW_CTR_TCP_OUT_SEGS,
    TCPW_CTR_TCP_RETRANS_SEGS,  TCPW_CTR_TCP_OUT_RSTS,        TCPW_CTR_TW,
    TCPW_CTR_TW_KILLED,         TCPW_CTR_TW_RECYCLED,         TCPW_CTR_TCP_ABORT_ON_CLOSE,
    TCPW_CTR_TCP_ABORT_ON_DATA, TCPW_CTR_TCP_ABORT_ON_LINGER, TCPW_CTR_TCP_ABORT_ON_TIMEOUT,
};

void realnet_report(const struct realnet *rn, FILE *f)
{
    uint64_t counts[TCPW_STATE_COUNT], drops = 0;
    struct tcpw_tun_stats ts;
    FILE *sf = NULL;

    tcpw_state_counts(rn->stack, counts);
    for (int r = 1; r < TCPW_DROP_COUNT; r++)
        drops += tcpw_stack_drops(rn->stack, (enum tcpw_drop_reason)r);
    tcpw_tun_get_stats(rn->tun, &ts);

    fputs("states:", f);
    for (int st = 0; st < TCPW_STATE_COUNT; st++)
        fprintf(f, " %s=%" PRIu64, tcpw_state_name((enum tcpw_state)st), counts[st]);
    fputs("\ncounters:", f);
    for (size_t k = 0; k < sizeof(key_counters) / sizeof(key_counters[0]); k++)
        fprintf(f, " %s=%" PRIu64, tcpw_counter_name(key_counters[k]),
                tcpw_stack_counter(rn->stack, key_counters[k]));
    fprintf(f, " drops=%" PRIu64 "\n", drops);
    fprintf(f, "tun %s: rx %" PRIu64 " packets, tx %" PRIu64 " packets, tx errors %" PRIu64 "\n",
            tcpw_tun_name(rn->tun), ts.rx_packets, ts.tx_packets, ts.tx_errors);
    if (realnet_impaired(rn)) {
        fprintf(f,
                "impairment (seed %" PRIu64 "): loss %g duplicate %g reorder %g delay %" PRIu64
                " us jitter %" PRIu64 " us\n",
                rn->imp_seed, rn->imp.loss, rn->imp.duplicate, rn->imp.reorder, rn->imp.delay_us,
                rn->imp.jitter_us);
        for (int d = 0; d < TCPW_TUN_DIR_COUNT; d++) {
            const struct tcpw_tun_impair_stats *is = &ts.impaired[d];
            fprintf(f,
                    "  %s: %" PRIu64 " packets, lost %" PRIu64 ", duplicated %" PRIu64
                    ", reordered %" PRIu64 ", delayed %" PRIu64 ", overflow %" PRIu64 "\n",
                    d == TCPW_TUN_TO_STACK ? "to stack  " : "from stack", is->packets, is->lost,
                    is->duplicated, is->reordered, is->delayed, is->overflow);
        }
    }
    if (rn->pcap)
        fprintf(f, "pcap %s: %" PRIu64 " packets\n", rn->pcap_path, tcpw_pcap_count(rn->pcap));
    fflush(f);

    if (!rn->stats_path)
        return;
    sf = fopen(rn->stats_path, "w");
    if (!sf) {
        fprintf(stderr, "tcpwave %s: --stats-file %s: %s\n", rn->cmd, rn->stats_path,
                strerror(errno));
        return;
    }
    /* One name=value per line, so a script can grep -x 'TIME_WAIT=1'. */
    for (int st = 0; st < TCPW_STATE_COUNT; st++)
        fprintf(sf, "%s=%" PRIu64 "\n", tcpw_state_name((enum tcpw_state)st), counts[st]);
    for (int c = 0; c < TCPW_CTR_COUNT; c++)
        fprintf(sf, "%s=%" PRIu64 "\n", tcpw_counter_name((enum tcpw_counter)c),
                tcpw_stack_counter(rn->stack, (enum tcpw_counter)c));
    for (int r = 1; r < TCPW_DROP_COUNT; r++)
        fprintf(sf, "drop.%s=%" PRIu64 "\n", tcpw_drop_reason_name((enum tcpw_drop_reason)r),
                tcpw_stack_drops(rn->stack, (enum tcpw_drop_reason)r));
    fprintf(sf,
            "tun.rx_packets=%" PRIu64 "\ntun.tx_packets=%" PRIu64 "\ntun.tx_errors=%" PRIu64 "\n",
            ts.rx_packets, ts.tx_packets, ts.tx_errors);
    for (int d = 0; d < TCPW_TUN_DIR_COUNT; d++) {
        const struct tcpw_tun_impair_stats *is = &ts.impaired[d];
        const char *dn = d == TCPW_TUN_TO_STACK ? "to_stack" : "from_stack";
        fprintf(sf,
                "tun.%s.packets=%" PRIu64 "\ntun.%s.lost=%" PRIu64 "\ntun.%s.duplicated=%" PRIu64
                "\ntun.%s.reordered=%" PRIu64 "\ntun.%s.delayed=%" PRIu64
                "\ntun.%s.overflow=%" PRIu64 "\n",
                dn, is->packets, dn, is->lost, dn, is->duplicated, dn, is->reordered, dn,
                is->delayed, dn, is->overflow);
    }
    if (fclose(sf) != 0)
        fprintf(stderr, "tcpwave %s: --stats-file %s: %s\n", rn->cmd, rn->stats_path,
                strerror(errno));
}

int realnet_run(struct realnet *rn, tcpw_tun_tick_fn tick, void *user, const char *who)
{
    struct tcpw_tun_loop loop;
    int err;

    memset(&loop, 0, sizeof(loop));
    loop.tun = rn->tun;
    loop.stack = rn->stack;
    loop.tick = tick;
    loop.tick_user = user;
    loop.max_wait_ms = 50;
    err = tcpw_tun_run(&loop);
    if (err) {
        fprintf(stderr, "%s: %s\n", who, strerror(-err));
        return 1;
    }
    return 0;
}

void realnet_stop(struct realnet *rn)
{
    control_close(rn->ctl);
    rn->ctl = NULL;
    tcpw_stack_destroy(rn->stack);
    rn->stack = NULL;
    tcpw_tun_close(rn->tun);
    rn->tun = NULL;
    if (rn->pcap) {
        int err = tcpw_pcap_close(rn->pcap);
        if (err)
            fprintf(stderr, "tcpwave %s: --pcap %s: %s\n", rn->cmd, rn->pcap_path, strerror(-err));
        rn->pcap = NULL;
    }
}

/* ---------------------------------------------------------------------- */
/* serve                                                                   */

enum serve_mode { MODE_NONE, MODE_ECHO, MODE_DISCARD, MODE_HTTP };

#define REQ_MAX   8192u          /* request header bytes we accept */
#define ECHO_HIGH (256u * 1024u) /* stop reading while this much echo is unsent */
#define STOP_WAIT (5 * SEC)      /* bounded wait for connections to finish */

struct sconn {
    int fd;
    uint32_t raddr;
    uint16_t rport;
    char req[REQ_MAX];
    size_t req_len;
    uint8_t *out; /* bytes to send: the echo, or HTTP responses */
    size_t out_len, out_cap;
    uint64_t bytes_in;
    bool eof;         /* the peer's FIN was read */
    bool close_after; /* close once `out` is sent (HTTP Connection: close, or stopping) */
};

struct server {
    struct realnet rn;
    enum serve_mode mode;
    uint16_t port;
    long max_conns; /* 0: no limit */
    uint64_t duration_us;
    uint64_t start, stop_by;
    bool stopping;
    int lfd;
    long accepted, finished, resets, requests;
    uint64_t bytes_in, bytes_out;
    struct sconn **conns;
    size_t nconns, cap;
};

static void serve_usage(FILE *f)
{
    fputs("usage: tcpwave serve --tun NAME --addr B/PREFIX [--peer-addr A] --port P\n"
          "                     (--echo | --discard | --http)\n"
          "                     [--set name=value]... [--pcap FILE] [--stats-file FILE]\n"
          "                     [--max-conns N] [--duration SECONDS] [--control PATH]\n"
          "                     [--loss P] [--duplicate P] [--reorder P] [--delay MS]\n"
          "                     [--jitter MS] [--seed N]\n"
          "\n"
          "Creates TUN device NAME; the kernel's side gets address A (default: the .1 of\n"
          "B's subnet), the tcpwave stack answers at B and listens on port P.\n"
          "  --echo       send back what each connection sends\n"
          "  --discard    read and drop\n"
          "  --http       minimal HTTP/1.1: 200 OK with a small body; with\n"
          "               `Connection: close` tcpwave closes first (TIME_WAIT here),\n"
          "               with keep-alive it waits for the next request or the FIN\n"
          "  --max-conns N   accept N connections, then exit once they have finished\n"
          "  --duration S    stop after S seconds\n"
          "  --stats-file F  write states and every counter as name=value lines\n"
          "  --control PATH  answer `tcpwave ss`/`stat` here (default\n"
          "                  /run/tcpwave/NAME.sock; `none`: no control socket)\n"
          "  --loss P --duplicate P --reorder P   impair the TUN link both ways, each\n"
          "                  packet lost / sent twice / held back 5 ms with probability P\n"
          "  --delay MS --jitter MS   delay every packet MS (+ uniform 0..jitter)\n"
          "  --seed N        seed of the impairment's generator (default 0)\n"
          "Ctrl-C closes the connections gracefully (at most 5 s); a second one aborts.\n"
          "At exit it prints the connection states and the key counters.\n",
          f);
}

static int out_append(struct sconn *c, const void *data, size_t len)
{
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        uint8_t *p;
        while (cap < c->out_len + len)
            cap *= 2;
        p = realloc(c->out, cap);
        if (!p)
            return -ENOMEM;
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
    return 0;
}

/* Value of header `name` in a request header block, copied to buf. */
static bool header_value(const char *hdr, const char *name, char *buf, size_t cap)
{
    size_t nlen = strlen(name);
    const char *line = strstr(hdr, "\r\n");

    while (line && line[2] != '\r' && line[2] != '\0') {
        const char *p = line + 2, *eol = strstr(p, "\r\n");
        if (!eol)
            break;
        if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            size_t n;
            p += nlen + 1;
            while (*p == ' ' || *p == '\t')
                p++;
            n = (size_t)(eol - p);
            if (n >= cap)
                n = cap - 1;
            memcpy(buf, p, n);
            buf[n] = '\0';
            return true;
        }
        line = eol;
    }
    return false;
}

/* Answers every complete request in c->req. */
static int http_process(struct server *sv, struct sconn *c)
{
    char *end;

    while (!c->close_after && (end = strstr(c->req, "\r\n\r\n")) != NULL) {
        size_t used = (size_t)(end - c->req) + 4;
        char conn_hdr[64], body[160], head[320];
        bool is_11 = false, keep, is_head;
        int blen, hlen;
        char *eol = strstr(c->req, "\r\n");

        *eol = '\0'; /* the request line */
        is_11 = strstr(c->req, " HTTP/1.1") != NULL;
        is_head = strncmp(c->req, "HEAD ", 5) == 0;
        *eol = '\r';
        end[2] = '\0'; /* headers end at the first of the two CRLFs */
        keep = is_11;
        if (header_value(c->req, "Connection", conn_hdr, sizeof(conn_hdr))) {
            if (strcasecmp(conn_hdr, "close") == 0)
                keep = false;
            else if (strcasecmp(conn_hdr, "keep-alive") == 0)
                keep = true;
        }
        sv->requests++;
        blen = snprintf(body, sizeof(body), "hello from tcpwave: request %ld\n", sv->requests);
        hlen = snprintf(head, sizeof(head),
                        "HTTP/1.1 200 OK\r\nServer: tcpwave\r\nContent-Type: text/plain\r\n"
                        "Content-Length: %d\r\nConnection: %s\r\n\r\n",
                        blen, keep ? "keep-alive" : "close");
        if (out_append(c, head, (size_t)hlen) != 0 ||
            (!is_head && out_append(c, body, (size_t)blen) != 0))
            return -ENOMEM;
        memmove(c->req, c->req + used, c->req_len - used);
        c->req_len -= used;
        c->req[c->req_len] = '\0';
        if (!keep)
            c->close_after = true;
    }
    if (c->req_len >= REQ_MAX - 1 && !c->close_after) {
        static const char too_big[] = "HTTP/1.1 431 Request Header Fields Too Large\r\n"
                                      "Content-Length: 0\r\nConnection: close\r\n\r\n";
        c->req_len = 0;
        c->close_after = true;
        return out_append(c, too_big, sizeof(too_big) - 1);
    }
    return 0;
}

static void conn_free(struct sconn *c)
{
    free(c->out);
    free(c);
}

/* Serves one connection as far as it can go now. Returns true when the
 * application is done with it (closed or reset). */
static bool conn_service(struct server *sv, struct sconn *c)
{
    struct tcpw_stack *s = sv->rn.stack;
    uint8_t buf[16384];
    ssize_t n;

    /* Read: in echo mode only while the echo backlog is small (flow control
     * back to the peer); otherwise everything, so a close never finds unread
     * data (which would turn our FIN into a RST). */
    while (!c->eof && (sv->mode != MODE_ECHO || c->close_after || c->out_len < ECHO_HIGH)) {
        /* HTTP requests are read straight into the request buffer. */
        bool to_req = sv->mode == MODE_HTTP && !c->close_after;
        void *dst = to_req ? (void *)(c->req + c->req_len) : (void *)buf;
        size_t want = to_req ? REQ_MAX - 1 - c->req_len : sizeof(buf);
        int err = 0;

        if (want == 0)
            break;
        n = tcpw_recv(s, c->fd, dst, want, 0);
        if (n == -EAGAIN)
            break;
        if (n == 0) {
            c->eof = true;
            break;
        }
        if (n < 0) {
            fprintf(stderr, "tcpwave serve: port %u: recv: %s\n", (unsigned)c->rport,
                    tcpw_strerror((int)n));
            sv->resets++;
            tcpw_close(s, c->fd);
            return true;
        }
        c->bytes_in += (uint64_t)n;
        sv->bytes_in += (uint64_t)n;
        if (c->close_after)
            continue; /* stopping, or the last request was answered: drop */
        if (sv->mode == MODE_ECHO) {
            err = out_append(c, buf, (size_t)n);
        } else if (to_req) {
            c->req_len += (size_t)n;
            c->req[c->req_len] = '\0';
            err = http_process(sv, c);
        }
        if (err) {
            fprintf(stderr, "tcpwave serve: port %u: %s\n", (unsigned)c->rport, strerror(-err));
            tcpw_close(s, c->fd);
            return true;
        }
    }
    /* Write what is pending. */
    while (c->out_len > 0) {
        n = tcpw_send(s, c->fd, c->out, c->out_len);
        if (n == -EAGAIN)
            break;
        if (n < 0) {
            fprintf(stderr, "tcpwave serve: port %u: send: %s\n", (unsigned)c->rport,
                    tcpw_strerror((int)n));
            sv->resets++;
            tcpw_close(s, c->fd);
            return true;
        }
        memmove(c->out, c->out + n, c->out_len - (size_t)n);
        c->out_len -= (size_t)n;
        sv->bytes_out += (uint64_t)n;
    }
    /* Close: the peer finished (its FIN: we close second), or we decided to
     * close first (HTTP Connection: close, or stopping). The connection goes
     * on as an orphan that sends what is queued, then our FIN. */
    if (c->out_len == 0 && (c->eof || c->close_after)) {
        tcpw_close(s, c->fd);
        return true;
    }
    return false;
}

static void begin_stop(struct server *sv, uint64_t now, const char *why)
{
    if (sv->stopping)
        return;
    sv->stopping = true;
    sv->stop_by = now + STOP_WAIT;
    printf("tcpwave serve: %s: closing %zu connection(s)\n", why, sv->nconns);
    fflush(stdout);
    if (sv->lfd >= 0) {
        tcpw_close(sv->rn.stack, sv->lfd);
        sv->lfd = -1;
    }
    for (size_t i = 0; i < sv->nconns; i++)
        sv->conns[i]->close_after = true;
}

static int serve_tick(void *user, struct tcpw_stack *s, uint64_t now)
{
    struct server *sv = user;
    int fd;

    control_poll(sv->rn.ctl, s, now);
    if (realnet_signals >= 2) {
        printf("tcpwave serve: second signal: aborting\n");
        return 1;
    }
    if (realnet_signals == 1)
        begin_stop(sv, now, "signal");
    if (sv->duration_us && now - sv->start >= sv->duration_us)
        begin_stop(sv, now, "--duration reached");

    while (sv->lfd >= 0) {
        uint32_t raddr;
        uint16_t rport;
        struct sconn *c;

        fd = tcpw_accept(s, sv->lfd, &raddr, &rport);
        if (fd < 0)
            break;
        c = calloc(1, sizeof(*c));
        if (!c || (sv->nconns == sv->cap &&
                   !(sv->conns = realloc(sv->conns, (sv->cap = sv->cap ? 2 * sv->cap : 16) *
                                                        sizeof(*sv->conns))))) {
            fprintf(stderr, "tcpwave serve: out of memory\n");
            free(c);
            tcpw_close(s, fd);
            return -ENOMEM;
        }
        c->fd = fd;
        c->raddr = raddr;
        c->rport = rport;
        sv->conns[sv->nconns++] = c;
        sv->accepted++;
        if (sv->max_conns && sv->accepted >= sv->max_conns) {
            /* Accept no more; the run ends when these have finished. */
            tcpw_close(s, sv->lfd);
            sv->lfd = -1;
        }
    }
    for (size_t i = 0; i < sv->nconns;) {
        if (conn_service(sv, sv->conns[i])) {
            conn_free(sv->conns[i]);
            sv->conns[i] = sv->conns[--sv->nconns];
            sv->finished++;
        } else {
            i++;
        }
    }
    /* Done when no more connections will come and the ones we had have
     * finished their teardown (TIME_WAIT records do not count: they stay in
     * the report). */
    if (sv->lfd < 0 && sv->nconns == 0 && realnet_busy(&sv->rn) == 0)
        return 1;
    if (sv->stopping && now >= sv->stop_by) {
        printf("tcpwave serve: connections still closing after %u s: exiting anyway\n",
               (unsigned)(STOP_WAIT / SEC));
        return 1;
    }
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    struct server sv;
    char addr_b[16], addr_a[16];
    int rc = 0, one = 1, err;
    long port = 0;

    memset(&sv, 0, sizeof(sv));
    realnet_init(&sv.rn, "serve");
    sv.lfd = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = realnet_option(&sv.rn, argc, argv, &i);
        char *end;

        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if (strcmp(a, "--echo") == 0) {
            sv.mode = MODE_ECHO;
        } else if (strcmp(a, "--discard") == 0) {
            sv.mode = MODE_DISCARD;
        } else if (strcmp(a, "--http") == 0) {
            sv.mode = MODE_HTTP;
        } else if ((strcmp(a, "--port") == 0 || strcmp(a, "--max-conns") == 0 ||
                    strcmp(a, "--duration") == 0) &&
                   i + 1 < argc) {
            long v;
            errno = 0;
            v = strtol(argv[++i], &end, 10);
            if (errno || *end || end == argv[i] || v < 0) {
                fprintf(stderr, "tcpwave serve: %s wants a number\n", a);
                return 2;
            }
            if (strcmp(a, "--port") == 0)
                port = v;
            else if (strcmp(a, "--max-conns") == 0)
                sv.max_conns = v;
            else
                sv.duration_us = (uint64_t)v * SEC;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            serve_usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "tcpwave serve: unknown option '%s'\n", a);
            serve_usage(stderr);
            return 2;
        }
    }
    if (sv.mode == MODE_NONE || port < 1 || port > 65535) {
        fprintf(stderr,
                "tcpwave serve: give --port 1..65535 and one of --echo, --discard, --http\n");
        serve_usage(stderr);
        return 2;
    }
    sv.port = (uint16_t)port;
    rc = realnet_start(&sv.rn);
    if (rc)
        goto out;

    sv.lfd = tcpw_socket(sv.rn.stack);
    err = sv.lfd < 0 ? sv.lfd
                     : tcpw_setsockopt(sv.rn.stack, sv.lfd, TCPW_SO_REUSEADDR, &one, sizeof(one));
    if (!err)
        err = tcpw_bind(sv.rn.stack, sv.lfd, sv.rn.addr, sv.port);
    if (!err)
        err = tcpw_listen(sv.rn.stack, sv.lfd, 128);
    if (err) {
        fprintf(stderr, "tcpwave serve: listen on port %u: %s\n", (unsigned)sv.port,
                tcpw_strerror(err));
        rc = 1;
        goto out;
    }
    /* Scripts wait for this line before they connect. */
    printf("tcpwave serve: listening on %s:%u (%s), tun %s, kernel side %s/%u\n",
           tcpw_addr_str(sv.rn.addr, addr_b), (unsigned)sv.port,
           sv.mode == MODE_ECHO      ? "echo"
           : sv.mode == MODE_DISCARD ? "discard"
                                     : "http",
           tcpw_tun_name(sv.rn.tun), tcpw_addr_str(sv.rn.peer_addr, addr_a), sv.rn.prefix);
    fflush(stdout);

    sv.start = tcpw_tun_now_us();
    if (realnet_run(&sv.rn, serve_tick, &sv, "tcpwave serve"))
        rc = 1;
    printf("tcpwave serve: %ld connection(s) accepted, %ld finished, %ld reset; %ld request(s); "
           "%" PRIu64 " bytes in, %" PRIu64 " bytes out\n",
           sv.accepted, sv.finished, sv.resets, sv.requests, sv.bytes_in, sv.bytes_out);
    realnet_report(&sv.rn, stdout);
out:
    for (size_t i = 0; i < sv.nconns; i++)
        conn_free(sv.conns[i]);
    free(sv.conns);
    realnet_stop(&sv.rn);
    return rc;
}
