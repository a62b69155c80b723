/* tcpwave program — the control socket (server side, polled from the TUN
 * loop) and its clients `tcpwave ss` and `tcpwave stat`. See control.h.
 *
 * The answers are rendered in the serving process, from the library's
 * read-only views (tcpw_conn_foreach, tcpw_tw_foreach,
 * tcpw_port_usage_foreach, tcpw_stack_counter), so a client needs no
 * knowledge of the stack: it copies text to stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "commands.h"
#include "control.h"
#include "tcpwave/socket.h"
#include "tcpwave/timewait.h"

#define CTL_DIR         "/run/tcpwave"
#define CTL_MAX_CLIENTS 8                        /* more wait in the listen backlog */
#define CTL_REQ_MAX     128                      /* a request line is a word or two */
#define CTL_IDLE_US     (UINT64_C(5) * 1000000u) /* drop a client that stalls this long */
#define CTL_CLIENT_WAIT 5000                     /* ms the client waits for each read */

struct ctl_client {
    int fd; /* -1: slot free */
    char req[CTL_REQ_MAX];
    size_t req_len;
    char *out; /* the answer, once rendered (open_memstream) */
    size_t out_len, out_off;
    uint64_t deadline; /* stack time after which the client is dropped */
};

struct control {
    int lfd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct ctl_client clients[CTL_MAX_CLIENTS];
};

/* ---------------------------------------------------------------------- */
/* Rendering                                                               */

/* ss's spelling of the states (iproute2 misc/ss.c sstate_name), so scripts
 * written against `ss -tan` read tcpwave's output unchanged. */
static const char *ss_state(enum tcpw_state st)
{
    switch (st) {
    case TCPW_CLOSED:
        return "UNCONN";
    case TCPW_LISTEN:
        return "LISTEN";
    case TCPW_SYN_SENT:
        return "SYN-SENT";
    case TCPW_SYN_RECEIVED:
        return "SYN-RECV";
    case TCPW_ESTABLISHED:
        return "ESTAB";
    case TCPW_FIN_WAIT_1:
        return "FIN-WAIT-1";
    case TCPW_FIN_WAIT_2:
        return "FIN-WAIT-2";
    case TCPW_CLOSE_WAIT:
        return "CLOSE-WAIT";
    case TCPW_CLOSING:
        return "CLOSING";
    case TCPW_LAST_ACK:
        return "LAST-ACK";
    case TCPW_TIME_WAIT:
        return "TIME-WAIT";
    case TCPW_STATE_COUNT:
        break;
    }
    return "?";
}

/* ss's print_ms_timer(): "59sec", "5.300ms"-style mixes, "1min". */
static void ss_time(FILE *f, uint64_t us)
{
    uint64_t ms = us / 1000u, secs = ms / 1000u, minutes = secs / 60u, msecs = ms % 1000u;

    secs %= 60u;
    if (minutes) {
        msecs = 0;
        fprintf(f, "%" PRIu64 "min", minutes);
        if (minutes > 9)
            secs = 0;
    }
    if (secs) {
        if (secs > 9)
            msecs = 0;
        fprintf(f, "%" PRIu64 "%s", secs, msecs ? "." : "sec");
    }
    if (msecs)
        fprintf(f, "%03" PRIu64 "ms", msecs);
    if (!minutes && !secs && !msecs)
        fputs("0ms", f);
}

static void ss_endpoint(char *buf, size_t cap, uint32_t addr, uint16_t port, bool any_port)
{
    char a[16];

    if (any_port)
        snprintf(buf, cap, "%s:*", tcpw_addr_str(addr, a));
    else
        snprintf(buf, cap, "%s:%u", tcpw_addr_str(addr, a), (unsigned)port);
}

static void ss_line(FILE *f, enum tcpw_state st, uint32_t recv_q, uint32_t send_q, uint32_t laddr,
                    uint16_t lport, uint32_t raddr, uint16_t rport)
{
    char local[24], peer[24];

    ss_endpoint(local, sizeof(local), laddr, lport, false);
    ss_endpoint(peer, sizeof(peer), raddr, rport, st == TCPW_LISTEN);
    fprintf(f, "%-10s %-6" PRIu32 " %-6" PRIu32 " %21s %-21s", ss_state(st), recv_q, send_q, local,
            peer);
}

struct ss_walk {
    FILE *f;
    uint64_t counts[TCPW_STATE_COUNT];
    uint64_t orphans;
};

static int ss_conn(void *user, const struct tcpw_conn_entry *e)
{
    static const char *const timer_names[] = {
        [TCPW_TIMER_NONE] = NULL,           [TCPW_TIMER_ON] = "on",
        [TCPW_TIMER_PERSIST] = "persist",   [TCPW_TIMER_KEEPALIVE] = "keepalive",
        [TCPW_TIMER_TIMEWAIT] = "timewait",
    };
    struct ss_walk *w = user;

    ss_line(w->f, e->state, e->recv_q, e->send_q, e->laddr, e->lport, e->raddr, e->rport);
    if (e->timer != TCPW_TIMER_NONE &&
        (size_t)e->timer < sizeof(timer_names) / sizeof(*timer_names)) {
        fprintf(w->f, " timer:(%s,", timer_names[e->timer]);
        ss_time(w->f, e->timer_remaining_us);
        fprintf(w->f, ",%" PRIu32 ")", e->timer_count);
    }
    /* Where ss names the owning process, say who owns the connection. */
    if (e->orphan)
        fputs(" orphan", w->f);
    else if (e->fd >= 0)
        fprintf(w->f, " fd:%d", e->fd);
    else
        fputs(" accept-queue", w->f);
    fputc('\n', w->f);
    if ((int)e->state >= 0 && e->state < TCPW_STATE_COUNT)
        w->counts[e->state]++;
    if (e->orphan)
        w->orphans++;
    return 0;
}

static int ss_tw(void *user, const struct tcpw_tw_info *tw)
{
    struct ss_walk *w = user;

    ss_line(w->f, TCPW_TIME_WAIT, 0, 0, tw->laddr, tw->lport, tw->raddr, tw->rport);
    /* ss -o: timer:(timewait,<left>,0) */
    fputs(" timer:(timewait,", w->f);
    ss_time(w->f, tw->remaining_us);
    fputs(",0)\n", w->f);
    w->counts[TCPW_TIME_WAIT]++;
    return 0;
}

static void render_ss(FILE *f, const struct tcpw_stack *s)
{
    struct ss_walk w;
    uint64_t total = 0;
    bool first = true;

    memset(&w, 0, sizeof(w));
    w.f = f;
    fprintf(f, "%-10s %-6s %-6s %21s %-21s %s\n", "State", "Recv-Q", "Send-Q", "Local Address:Port",
            "Peer Address:Port", "Timer/Owner");
    (void)tcpw_conn_foreach(s, ss_conn, &w);
    (void)tcpw_tw_foreach(s, ss_tw, &w);
    for (int st = 0; st < TCPW_STATE_COUNT; st++)
        total += w.counts[st];
    /* Like ss -s's "TCP:" line: the totals per state, then what the
     * TIME_WAIT records cost (tcpwave keeps them as compact records). */
    fprintf(f, "Total: %" PRIu64 " (", total);
    for (int st = 0; st < TCPW_STATE_COUNT; st++) {
        if (!w.counts[st])
            continue;
        fprintf(f, "%s%s %" PRIu64, first ? "" : ", ", ss_state((enum tcpw_state)st), w.counts[st]);
        first = false;
    }
    fprintf(f, "), orphans %" PRIu64 ", TIME-WAIT records %" PRIu64 " using %zu bytes\n", w.orphans,
            tcpw_tw_count(s), tcpw_tw_memory_bytes(s));
}

/* `ss --ports`: one line per destination holding ephemeral ports, most used
 * first, in ss's manner (addresses left-aligned, counts right-aligned). A
 * destination with under PORTS_WARN_PCT % of the range free is marked "!":
 * connect() toward it fails with EADDRNOTAVAIL once Free reaches 0 (RFC
 * 6056 §2.1: the 4-tuple must be unique), whatever memory is left. */
#define PORTS_WARN_PCT 10u

struct ports_walk {
    FILE *f;
    uint64_t dests, warned;
};

static void ports_header(FILE *f)
{
    fprintf(f, "%-15s %-21s %6s %6s %8s %6s %6s %5s\n", "Local Address", "Peer Address:Port",
            "Range", "Conns", "TimeWait", "Listen", "Free", "Used%");
}

static int ports_dest(void *user, const struct tcpw_port_dest_usage *d)
{
    struct ports_walk *w = user;
    const struct tcpw_port_usage *u = &d->usage;
    char local[16], peer[24];
    /* Rounded down, so 100% means no port is left. */
    uint64_t used_pct = u->range ? (uint64_t)(u->range - u->free) * 100u / u->range : 0;
    bool warn = (uint64_t)u->free * 100u < (uint64_t)u->range * PORTS_WARN_PCT;

    if (w->dests++ == 0)
        ports_header(w->f);
    tcpw_addr_str(d->laddr, local);
    ss_endpoint(peer, sizeof(peer), d->raddr, d->rport, false);
    fprintf(w->f,
            "%-15s %-21s %6" PRIu32 " %6" PRIu32 " %8" PRIu32 " %6" PRIu32 " %6" PRIu32 " %4" PRIu64
            "%%%s\n",
            local, peer, u->range, u->connections, u->time_wait, u->listening, u->free, used_pct,
            warn ? " !" : "");
    if (warn)
        w->warned++;
    return 0;
}

static void render_ports(FILE *f, const struct tcpw_stack *s)
{
    const struct tcpw_config *cfg = tcpw_stack_config(s);
    uint32_t lo = cfg->ip_local_port_range_min, hi = cfg->ip_local_port_range_max;
    struct ports_walk w = {f, 0, 0};
    int err = tcpw_port_usage_foreach(s, ports_dest, &w);

    /* Out of memory comes before the first line: the answer is then only
     * the refusal. */
    if (err) {
        fprintf(f, "ERR port accounting: %s\n", tcpw_strerror(err));
        return;
    }
    if (!w.dests) {
        ports_header(f);
        fprintf(f,
                "Total: 0 destinations: no port of ip_local_port_range %" PRIu32 "-%" PRIu32
                " (%" PRIu32 " ports) is held by a connection or a TIME-WAIT record\n",
                lo, hi, hi - lo + 1u);
        return;
    }
    fprintf(f,
            "Total: %" PRIu64 " destination%s, ip_local_port_range %" PRIu32 "-%" PRIu32
            " (%" PRIu32 " ports each), %" PRIu64 " with under %u%% free (!)\n",
            w.dests, w.dests == 1 ? "" : "s", lo, hi, hi - lo + 1u, w.warned, PORTS_WARN_PCT);
}

/* nstat's layout: "#kernel" then name and value columns. */
static void render_stat(FILE *f, const struct tcpw_stack *s, bool all)
{
    fputs("#tcpwave\n", f);
    for (int c = 0; c < TCPW_CTR_COUNT; c++) {
        uint64_t v = tcpw_stack_counter(s, (enum tcpw_counter)c);
        if (v || all)
            fprintf(f, "%-31s %" PRIu64 "\n", tcpw_counter_name((enum tcpw_counter)c), v);
    }
}

/* Answers one request line ("ss", "ports", "stat", "stat -a"). */
static void render(FILE *f, const struct tcpw_stack *s, const char *req)
{
    if (strcmp(req, "ss") == 0)
        render_ss(f, s);
    else if (strcmp(req, "ports") == 0)
        render_ports(f, s);
    else if (strcmp(req, "stat") == 0)
        render_stat(f, s, false);
    else if (strcmp(req, "stat -a") == 0)
        render_stat(f, s, true);
    else
        fprintf(f, "ERR unknown request '%.40s' (want: ss, ports, stat, stat -a)\n", req);
}

/* ---------------------------------------------------------------------- */
/* Server                                                                  */

int control_default_path(const char *tun, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, CTL_DIR "/%s.sock", tun);

    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return -errno;
    return 0;
}

static int make_addr(const char *path, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa->sun_path))
        return -ENAMETOOLONG;
    memcpy(sa->sun_path, path, strlen(path) + 1);
    return 0;
}

/* Whether a live process answers at `sa` (then the path is not ours). */
static bool path_is_live(const struct sockaddr_un *sa)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    bool live;

    if (fd < 0)
        return false;
    live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
    close(fd);
    return live;
}

int control_open(const char *path, int make_dir, struct control **out)
{
    struct sockaddr_un sa;
    struct control *ctl = NULL;
    int err;

    *out = NULL;
    err = make_addr(path, &sa);
    if (err)
        goto fail;
    if (make_dir) {
        char dir[sizeof(sa.sun_path)];
        char *slash;
        memcpy(dir, path, strlen(path) + 1);
        slash = strrchr(dir, '/');
        if (slash && slash != dir) {
            *slash = '\0';
            if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
                err = -errno;
                goto fail;
            }
        }
    }
    ctl = calloc(1, sizeof(*ctl));
    if (!ctl) {
        err = -ENOMEM;
        goto fail;
    }
    ctl->lfd = -1;
    for (int i = 0; i < CTL_MAX_CLIENTS; i++)
        ctl->clients[i].fd = -1;
    memcpy(ctl->path, sa.sun_path, sizeof(ctl->path));
    ctl->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (ctl->lfd < 0) {
        err = -errno;
        goto fail;
    }
    err = set_flags(ctl->lfd);
    if (err)
        goto fail;
    if (bind(ctl->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        err = -errno;
        /* A socket file a dead process left behind: nobody accepts on it, so
         * it is safe to replace; a live one belongs to another tcpwave. */
        if (err != -EADDRINUSE || path_is_live(&sa))
            goto fail;
        if (unlink(path) != 0 || bind(ctl->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
            err = -errno;
            goto fail;
        }
    }
    /* Only the owner (root, for a TUN program) may ask. Failure to restrict
     * is not fatal: the answers are read-only. */
    (void)chmod(path, 0600);
    if (listen(ctl->lfd, CTL_MAX_CLIENTS) != 0) {
        err = -errno;
        unlink(path);
        goto fail;
    }
    *out = ctl;
    return 0;
fail:
    if (ctl && ctl->lfd >= 0)
        close(ctl->lfd);
    free(ctl);
    return err;
}

static void client_drop(struct ctl_client *c)
{
    close(c->fd);
    free(c->out);
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}

/* Renders the answer into c->out. A failure to render (out of memory)
 * simply drops the client: it sees EOF with no answer. */
static int client_answer(struct ctl_client *c, const struct tcpw_stack *s)
{
    FILE *f;
    char *nl = memchr(c->req, '\n', c->req_len);

    c->req[nl ? (size_t)(nl - c->req) : c->req_len] = '\0';
    if (nl && nl > c->req && nl[-1] == '\r')
        nl[-1] = '\0';
    f = open_memstream(&c->out, &c->out_len);
    if (!f)
        return -errno;
    render(f, s, c->req);
    if (fclose(f) != 0)
        return -ENOMEM;
    return 0;
}

/* Moves one client on; returns true when it is finished (drop it). */
static bool client_step(struct ctl_client *c, const struct tcpw_stack *s, uint64_t now)
{
    ssize_t n;

    if (now >= c->deadline)
        return true;
    if (!c->out) {
        bool eof = false;
        while (c->req_len < CTL_REQ_MAX - 1) {
            n = read(c->fd, c->req + c->req_len, CTL_REQ_MAX - 1 - c->req_len);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            if (n <= 0) {
                eof = true;
                break;
            }
            c->req_len += (size_t)n;
        }
        /* A line, a line without its newline before EOF, or an overlong one
         * (answered as unknown): all get one answer. */
        if (!memchr(c->req, '\n', c->req_len) && !eof && c->req_len < CTL_REQ_MAX - 1)
            return false;
        if (client_answer(c, s) != 0)
            return true;
    }
    while (c->out_off < c->out_len) {
        n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return false;
        if (n <= 0)
            return true;
        c->out_off += (size_t)n;
        c->deadline = now + CTL_IDLE_US; /* a slow but reading client may go on */
    }
    return true;
}

void control_poll(struct control *ctl, const struct tcpw_stack *s, uint64_t now)
{
    if (!ctl)
        return;
    for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
        struct ctl_client *c = &ctl->clients[i];
        int fd;
        if (c->fd >= 0)
            continue;
        fd = accept(ctl->lfd, NULL, NULL);
        if (fd < 0)
            break; /* EAGAIN: nobody waiting; other errors: try next tick */
        if (set_flags(fd) != 0) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->deadline = now + CTL_IDLE_US;
    }
    for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
        struct ctl_client *c = &ctl->clients[i];
        if (c->fd >= 0 && client_step(c, s, now))
            client_drop(c);
    }
}

void control_close(struct control *ctl)
{
    if (!ctl)
        return;
    for (int i = 0; i < CTL_MAX_CLIENTS; i++)
        if (ctl->clients[i].fd >= 0)
            client_drop(&ctl->clients[i]);
    close(ctl->lfd);
    unlink(ctl->path);
    free(ctl);
}

int realnet_control_start(struct realnet *rn)
{
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    bool explicit_path = rn->control_path != NULL;
    int err = 0;

    if (explicit_path && strcmp(rn->control_path, "none") == 0)
        return 0;
    if (explicit_path) {
        if (strlen(rn->control_path) >= sizeof(path))
            err = -ENAMETOOLONG;
        else
            memcpy(path, rn->control_path, strlen(rn->control_path) + 1);
    } else {
        err = control_default_path(tcpw_tun_name(rn->tun), path, sizeof(path));
    }
    if (!err)
        err = control_open(path, !explicit_path, &rn->ctl);
    if (err) {
        fprintf(stderr, "tcpwave %s: %s control socket %s: %s%s\n", rn->cmd,
                explicit_path ? "--control" : "no", path, strerror(-err),
                explicit_path ? "" : " (tcpwave ss/stat will not reach this process)");
        return explicit_path ? 1 : 0;
    }
    printf("tcpwave %s: control socket %s (tcpwave ss / tcpwave stat --control %s)\n", rn->cmd,
           path, path);
    fflush(stdout);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Clients: tcpwave ss, tcpwave stat                                       */

static void client_usage(FILE *f, const char *cmd)
{
    if (strcmp(cmd, "ss") == 0)
        fputs("usage: tcpwave ss [--ports] [--control PATH | --tun NAME]\n"
              "\n"
              "Lists the listeners, connections and TIME_WAIT records of a running\n"
              "`tcpwave serve`/`connect`, like `ss -tan -o`: state (ss's spelling),\n"
              "Recv-Q, Send-Q, local and peer address, the pending timer and who owns\n"
              "the connection (fd:N, orphan, accept-queue); then a summary line with\n"
              "the count per state and the TIME_WAIT table's memory.\n"
              "  --ports         instead, the ephemeral ports (ip_local_port_range) per\n"
              "                  destination: one line per local address, peer\n"
              "                  address:port toward which a connection or TIME_WAIT\n"
              "                  record holds one, most used first, with the ports held\n"
              "                  by connections, by TIME_WAIT records, by listeners, the\n"
              "                  free ones and the share used; \"!\" marks under 10% free\n"
              "                  (connect() to it fails with EADDRNOTAVAIL at 0)\n",
              f);
    else
        fputs("usage: tcpwave stat [-a] [--control PATH | --tun NAME]\n"
              "\n"
              "Prints the counters of a running `tcpwave serve`/`connect` like `nstat`:\n"
              "the non-zero ones, or all with -a (`tcpwave counters` explains them).\n",
              f);
    fputs("  --control PATH  the process's control socket\n"
          "  --tun NAME      the process's TUN device: " CTL_DIR "/NAME.sock\n",
          f);
}

/* Sends `req`, copies the answer to stdout. Returns the exit status. */
static int client_request(const char *cmd, const char *path, const char *req)
{
    struct sockaddr_un sa;
    char buf[4096];
    bool first = true, failed = false;
    int fd = -1, rc = 1;
    size_t rlen = strlen(req);

    if (make_addr(path, &sa) != 0) {
        fprintf(stderr, "tcpwave %s: %s: path too long\n", cmd, path);
        return 1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        fprintf(stderr, "tcpwave %s: %s: %s (is `tcpwave serve`/`connect` running with it?)\n", cmd,
                path, strerror(errno));
        goto out;
    }
    if (send(fd, req, rlen, MSG_NOSIGNAL) != (ssize_t)rlen || shutdown(fd, SHUT_WR) != 0) {
        fprintf(stderr, "tcpwave %s: %s: %s\n", cmd, path, strerror(errno));
        goto out;
    }
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        ssize_t n;
        int pr = poll(&pfd, 1, CTL_CLIENT_WAIT);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0) {
            fprintf(stderr, "tcpwave %s: %s: no answer within %d s\n", cmd, path,
                    CTL_CLIENT_WAIT / 1000);
            goto out;
        }
        n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "tcpwave %s: %s: %s\n", cmd, path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        /* The server marks a refused request with "ERR " (to stderr, exit 1). */
        if (first && n >= 4 && memcmp(buf, "ERR ", 4) == 0)
            failed = true;
        first = false;
        fwrite(buf, 1, (size_t)n, failed ? stderr : stdout);
    }
    if (first) {
        fprintf(stderr, "tcpwave %s: %s: closed without an answer\n", cmd, path);
        goto out;
    }
    rc = failed ? 1 : 0;
out:
    if (fd >= 0)
        close(fd);
    if (fflush(stdout) != 0)
        rc = 1;
    return rc;
}

static int client_cmd(const char *cmd, int argc, char **argv)
{
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    const char *control = NULL, *tun = NULL;
    bool all = false, ports = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "--control") == 0 || strcmp(a, "--tun") == 0) && i + 1 < argc) {
            if (strcmp(a, "--control") == 0)
                control = argv[++i];
            else
                tun = argv[++i];
        } else if (strcmp(cmd, "stat") == 0 && (strcmp(a, "-a") == 0 || strcmp(a, "--all") == 0)) {
            all = true;
        } else if (strcmp(cmd, "ss") == 0 && strcmp(a, "--ports") == 0) {
            ports = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            client_usage(stdout, cmd);
            return 0;
        } else {
            fprintf(stderr, "tcpwave %s: unknown option '%s'\n", cmd, a);
            client_usage(stderr, cmd);
            return 2;
        }
    }
    if (!control == !tun) {
        fprintf(stderr, "tcpwave %s: give one of --control PATH or --tun NAME\n", cmd);
        client_usage(stderr, cmd);
        return 2;
    }
    if (tun && control_default_path(tun, path, sizeof(path)) != 0) {
        fprintf(stderr, "tcpwave %s: --tun %s: name too long\n", cmd, tun);
        return 2;
    }
    return client_request(cmd, control ? control : path,
                          strcmp(cmd, "ss") == 0 ? (ports ? "ports\n" : "ss\n")
                          : all                  ? "stat -a\n"
                                                 : "stat\n");
}

int cmd_ss(int argc, char **argv)
{
    return client_cmd("ss", argc, argv);
}

int cmd_stat(int argc, char **argv)
{
    return client_cmd("stat", argc, argv);
}
