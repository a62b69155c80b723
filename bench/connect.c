/* bench/connect — what connect() costs when most of the ephemeral port range
 * toward its destination is held by TIME_WAIT records (RFC 6056 port
 * selection: every held port is one more probe).
 *
 * tcpwave: a stack with tcp_tw_reuse = 0 and the default
 * ip_local_port_range (32768-60999, 28232 ports); a seeded random `frac`
 * of those ports toward 10.0.0.2:80 is held by TIME_WAIT records
 * (tcpw__tw_add), and --sockets other sockets are open (bound below the
 * range, as an application's listeners and clients would be). Then
 * connect()s: socket(); [time] tcpw_connect() [time]; close() (in
 * SYN_SENT: the port is free again), so the held fraction stays fixed:
 * first as many as the RFC 6056 sequence needs to sweep the range once
 * (cold), then --connects more (steady). The figures are the mean ns per
 * tcpw_connect() of each phase, median over --runs runs; the
 * positions of the RFC 6056 sequence walked per connect (next_ephemeral's
 * advance: what the algorithm decides, ~1 / (1 - held)); and the ports
 * actually looked up per connect (is_free calls: what it costs — a busy
 * destination's bitmap jumps over held runs, tcp/port_holds.h). In the
 * cold phase the bitmap learns the held ports (one lookup each, once); a
 * client whose own connections made the records has them known as they
 * appear, so steady is what a long-running client pays.
 *
 * Linux: `bench_connect --linux` is run by bench/run-connect.sh inside a
 * private network namespace with a 1000-port ip_local_port_range and
 * tcp_tw_reuse = 0, a fresh namespace per run. It fills that fraction of the range
 * with client-side TIME_WAIT sockets toward a 127.0.0.1 listener (the client
 * closes first), then times blocking connect() to it, closing each with
 * SO_LINGER 0 (a reset: no TIME_WAIT) so the held fraction stays fixed. It
 * prints a "pct ns range" line; `--kernel FILE` puts the medians of those
 * beside tcpwave's.
 *
 *   bench_connect [--runs R] [--connects N] [--sockets N] [--kernel FILE]
 *   bench_connect --linux PCT [--connects N]
 *   bench_connect --smoke
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "stack/stack_impl.h"
#include "tcp/tcp.h"
#include "tcp/timewait.h"
#include "tcpwave/tcpwave.h"

#define SEC 1000000ull
#define MAX_RUNS 32
#define NFRAC 4
static const unsigned fractions[NFRAC] = {0, 50, 90, 99}; /* percent held */

#define OUR_ADDR 0x0a000001u
#define PEER_ADDR 0x0a000002u
#define PEER_PORT 80

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

struct run_result {
    double ns, positions, lookups; /* steady, per connect */
    double cold_ns, cold_lookups;  /* the first sweep, per connect */
};

/* socket(); [timed] connect(); close() (in SYN_SENT: the port is free
 * again). Adds the ns to *total. Returns 0 or -1. */
static int one_connect(struct tcpw_stack *s, double *total)
{
    int fd = tcpw_socket(s), err;
    double t0;

    if (fd < 0)
        return -1;
    t0 = now_ns();
    err = tcpw_connect(s, fd, PEER_ADDR, PEER_PORT);
    *total += now_ns() - t0;
    return err == -EINPROGRESS && tcpw_close(s, fd) == 0 ? 0 : -1;
}

/* One tcpwave run at `pct` percent held. Returns 0 or -1. */
static int tcpwave_once(unsigned pct, uint32_t connects, uint32_t nsocks, uint64_t seed,
                        struct run_result *r)
{
    struct tcpw_config cfg = tcpw_config_linux_defaults;
    struct tcpw_stack_params sp;
    struct tcpw_stack *s = NULL;
    struct tcpw_tw_proto p;
    uint16_t *perm = NULL;
    uint32_t lo, num, held;
    double total = 0;
    int rc = -1;

    cfg.tcp_tw_reuse = 0;
    cfg.tcp_max_tw_buckets = 1u << 20;
    memset(&sp, 0, sizeof(sp));
    sp.addr = OUR_ADDR;
    sp.config = &cfg;
    sp.seed = seed;
    if (tcpw_stack_create(&sp, SEC, &s) != 0)
        return -1;
    lo = cfg.ip_local_port_range_min;
    num = cfg.ip_local_port_range_max - lo + 1;
    perm = malloc(num * sizeof(*perm));
    if (!perm)
        goto out;
    for (uint32_t i = 0; i < num; i++)
        perm[i] = (uint16_t)(lo + i);
    for (uint32_t i = num - 1; i > 0; i--) { /* Fisher-Yates, seeded */
        uint32_t j = (uint32_t)(xorshift(&seed) % (i + 1));
        uint16_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    held = (uint32_t)((uint64_t)num * pct / 100);
    memset(&p, 0, sizeof(p));
    p.rcv_wnd = 502;
    p.tuple.laddr = OUR_ADDR;
    p.tuple.raddr = PEER_ADDR;
    p.tuple.rport = PEER_PORT;
    for (uint32_t i = 0; i < held; i++) {
        p.tuple.lport = perm[i];
        p.snd_nxt = i;
        if (tcpw__tw_add(s, &p) != 0)
            goto out;
    }
    for (uint32_t i = 0; i < nsocks; i++) {
        int fd = tcpw_socket(s);
        if (fd < 0 || tcpw_bind(s, fd, 0, (uint16_t)(1024 + i)) != 0)
            goto out;
    }
    /* Cold: the connects of the first sweep of the sequence over the
     * range, right after the records appeared; a busy destination learns
     * its held ports during it. Then steady: --connects more. */
    uint32_t start = s->tcp->ports.next_ephemeral, n = 0;
    uint64_t asked = s->tcp->ports.asked;
    double cold_total = 0;
    while ((uint32_t)(s->tcp->ports.next_ephemeral - start) < num) {
        if (one_connect(s, &cold_total) != 0)
            goto out;
        n++;
    }
    r->cold_ns = cold_total / n;
    r->cold_lookups = (double)(s->tcp->ports.asked - asked) / n;
    start = s->tcp->ports.next_ephemeral;
    asked = s->tcp->ports.asked;
    for (uint32_t i = 0; i < connects; i++)
        if (one_connect(s, &total) != 0)
            goto out;
    r->ns = total / connects;
    r->positions = (double)(uint32_t)(s->tcp->ports.next_ephemeral - start) / connects;
    r->lookups = (double)(s->tcp->ports.asked - asked) / connects;
    rc = 0;
out:
    free(perm);
    tcpw_stack_destroy(s);
    return rc;
}

/* ---- Linux, inside a private network namespace (run-connect.sh) ---- */

static int lx_listener(uint16_t *port)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int one = 1;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0)
        return -1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(10000); /* below the 1000-port range run-connect.sh sets */
    if (bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l, 4096) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &alen) != 0) {
        close(l);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return l;
}

/* Connects to 127.0.0.1:port; returns the client fd and the accepted fd. */
static int lx_pair(int l, uint16_t port, int *acc, double *elapsed)
{
    struct sockaddr_in a;
    int c = socket(AF_INET, SOCK_STREAM, 0);
    double t0;
    if (c < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    t0 = now_ns();
    if (connect(c, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(c);
        return -1;
    }
    if (elapsed)
        *elapsed = now_ns() - t0;
    *acc = accept(l, NULL, NULL);
    if (*acc < 0) {
        close(c);
        return -1;
    }
    return c;
}

static int lx_range(uint32_t *num)
{
    unsigned lo = 0, hi = 0;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (!f)
        return -1;
    if (fscanf(f, "%u %u", &lo, &hi) != 2 || hi < lo) {
        fclose(f);
        return -1;
    }
    fclose(f);
    *num = hi - lo + 1;
    return 0;
}

static int lx_once(unsigned pct, uint32_t num, uint32_t connects, double *ns)
{
    struct linger lg = {1, 0};
    uint16_t port;
    double total = 0;
    int l = lx_listener(&port);
    if (l < 0)
        return -1;
    /* Client-side TIME_WAIT: the client closes first, then the server. */
    for (uint32_t i = 0; i < (uint64_t)num * pct / 100; i++) {
        int a, c = lx_pair(l, port, &a, NULL);
        if (c < 0)
            goto fail;
        close(c);
        close(a);
    }
    for (uint32_t i = 0; i < connects; i++) {
        double dt;
        int a, c = lx_pair(l, port, &a, &dt);
        if (c < 0)
            goto fail;
        total += dt;
        setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(c);
        close(a);
    }
    close(l);
    *ns = total / connects;
    return 0;
fail:
    fprintf(stderr, "bench_connect --linux: %s at %u%%\n", strerror(errno), pct);
    close(l);
    return -1;
}

/* One run at `pct`, in a namespace of its own (run-connect.sh makes a fresh
 * one per run, so no earlier TIME_WAIT socket is left in it). */
static int run_linux(unsigned pct, uint32_t connects)
{
    uint32_t num;
    double v;
    if (lx_range(&num) != 0 || lx_once(pct, num, connects, &v) != 0)
        return 1;
    printf("%u %.1f %" PRIu32 "\n", pct, v, num);
    return 0;
}

int main(int argc, char **argv)
{
    int runs = 5, smoke = 0, linux_mode = 0;
    unsigned linux_pct = 0;
    uint32_t connects = 2000, nsocks = 1000;
    const char *kernel = NULL;
    double kns[NFRAC] = {0}, kv[NFRAC][MAX_RUNS];
    int kn[NFRAC] = {0};
    uint32_t knum = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--smoke") == 0) {
            smoke = 1;
            runs = 1;
            connects = 200;
            nsocks = 100;
        } else if (strcmp(argv[i], "--linux") == 0 && i + 1 < argc) {
            linux_mode = 1;
            linux_pct = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--connects") == 0 && i + 1 < argc) {
            connects = (uint32_t)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--sockets") == 0 && i + 1 < argc) {
            nsocks = (uint32_t)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--kernel") == 0 && i + 1 < argc) {
            kernel = argv[++i];
        } else {
            fprintf(stderr, "usage: bench_connect [--runs R] [--connects N] [--sockets N] "
                            "[--kernel FILE] | --linux PCT [--connects N] | --smoke\n");
            return 2;
        }
    }
    if (runs < 1 || runs > MAX_RUNS || connects < 1 || nsocks > 30000) {
        fprintf(stderr, "bench_connect: --runs 1..%d, --connects >= 1, --sockets <= 30000\n",
                MAX_RUNS);
        return 2;
    }
    if (linux_mode)
        return run_linux(linux_pct > 99 ? 99 : linux_pct, connects);
    if (kernel) {
        FILE *f = fopen(kernel, "r");
        unsigned pct;
        double v;
        uint32_t n;
        while (f && fscanf(f, "%u %lf %" SCNu32, &pct, &v, &n) == 3)
            for (int i = 0; i < NFRAC; i++)
                if (fractions[i] == pct && kn[i] < MAX_RUNS) {
                    kv[i][kn[i]++] = v;
                    knum = n;
                }
        if (f)
            fclose(f);
        for (int i = 0; i < NFRAC; i++)
            if (kn[i])
                kns[i] = median(kv[i], kn[i]);
    }

    printf("| port range held (TIME_WAIT) | tcpwave ns / connect() | RFC 6056 sequence positions / "
           "connect() | ports looked up / connect() | cold: ns / connect() | cold: ports looked up / "
           "connect() | Linux ns / connect() (%" PRIu32 "-port range) |\n",
           knum);
    printf("|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int f = 0; f < NFRAC; f++) {
        double v[5][MAX_RUNS], m[5];
        /* One untimed warm-up run first (page faults, malloc's arenas). */
        for (int r = -1; r < runs; r++) {
            struct run_result res;
            if (tcpwave_once(fractions[f], connects, nsocks, 0x9e3779b97f4a7c15ull + (uint64_t)r,
                             &res) != 0) {
                fprintf(stderr, "bench_connect: tcpwave run at %u%% failed\n", fractions[f]);
                return 1;
            }
            if (r < 0)
                continue;
            v[0][r] = res.ns;
            v[1][r] = res.positions;
            v[2][r] = res.lookups;
            v[3][r] = res.cold_ns;
            v[4][r] = res.cold_lookups;
        }
        for (int k = 0; k < 5; k++)
            m[k] = median(v[k], runs);
        char k[32] = "—";
        if (kns[f] > 0)
            snprintf(k, sizeof(k), "%.0f", kns[f]);
        printf("| %u %% | %.0f | %.1f | %.2f | %.0f | %.2f | %s |\n", fractions[f], m[0], m[1],
               m[2], m[3], m[4], k);
        /* Smoke: with a random 99 % held, about 100 positions; anything
         * far off means the picker or the fill is broken. The lookups must
         * stay O(1) however full the range: a few per connect. */
        if (smoke && (m[1] < 0.5 || m[1] > (fractions[f] == 99 ? 1000.0 : 100.0))) {
            fprintf(stderr, "bench_connect: smoke probes out of range\n");
            return 1;
        }
        if (smoke && (m[2] < 0.5 || m[2] > 4.0)) {
            fprintf(stderr, "bench_connect: %.2f lookups per connect at %u%%: not O(1)\n", m[2],
                    fractions[f]);
            return 1;
        }
    }
    return 0;
}
