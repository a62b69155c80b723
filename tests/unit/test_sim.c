/* Unit tests of the simulated network: the memlink wire (src/link/memlink.c)
 * and its driver (src/sim/sim.c).
 *
 * What is checked, and why each number is what it is:
 * - impairment rates against the binomial distribution they should follow,
 *   within 4.5 standard deviations (a false alarm about once in 150,000
 *   runs for a random seed; the seeds here are fixed, so a pass is a pass);
 * - delivery times within their exact bounds, and jitter never reordering;
 * - one seed, one run: the hash of the whole observer log;
 * - independence of paths: impairing A->C leaves A->B's draws alone;
 * - real stacks end to end (RST for a SYN to a closed port, ICMP echo) at
 *   exact virtual times;
 * - black holes, restarts, NAT (addresses, ports, checksums, ICMP errors),
 *   virtual time jumps, and every documented error code.
 * Everything is freed; the sanitizer build checks for leaks.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "stack/stack_impl.h"
#include "tcpwave/sim.h"
#include "wire/wire.h"

#define A_ADDR      0x0a000001u /* 10.0.0.1 */
#define B_ADDR      0x0a000002u /* 10.0.0.2 */
#define C_ADDR      0x0a000003u /* 10.0.0.3 */
#define PUB_ADDR    0xcb007101u /* 203.0.113.1 */
#define P_ADDR      0xc6336407u /* 198.51.100.7 */
#define Q_ADDR      0xc6336409u /* 198.51.100.9 */
#define PROBE_PROTO 253u        /* RFC 3692 experimental: no stack parses it */
#define PROBE_LEN   28u

#define SIGMAS 4.5

/* --- recorders ------------------------------------------------------------------- */

struct ev {
    enum tcpw_sim_event ev;
    uint32_t host;
    uint64_t now;
    size_t len;
    uint8_t pkt[128];
};

#define LOG_MAX  32
#define EV_KINDS 8

/* The observer: counts, a hash of everything it saw, and the first events
 * in full. */
struct rec {
    uint64_t counts[EV_KINDS];
    uint64_t hash;
    size_t nevents;
    struct ev log[LOG_MAX];
};

static void fnv(uint64_t *h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        *h ^= p[i];
        *h *= 0x100000001b3ULL;
    }
}

static void rec_init(struct rec *r)
{
    memset(r, 0, sizeof(*r));
    r->hash = 0xcbf29ce484222325ULL;
}

static void rec_observer(void *user, enum tcpw_sim_event ev, uint32_t host, const uint8_t *pkt,
                         size_t len, uint64_t now)
{
    struct rec *r = user;
    uint8_t e = (uint8_t)ev;
    uint64_t l = len;

    if ((unsigned)ev < EV_KINDS)
        r->counts[ev]++;
    /* PROCESSED only closes a DELIVERED; the traces below list the packet
     * events (its order is checked in test_processed_follows_delivery). */
    if (ev == TCPW_SIM_PROCESSED)
        return;
    fnv(&r->hash, &e, 1);
    fnv(&r->hash, &host, sizeof(host));
    fnv(&r->hash, &now, sizeof(now));
    fnv(&r->hash, &l, sizeof(l));
    fnv(&r->hash, pkt, len);
    if (r->nevents < LOG_MAX) {
        struct ev *x = &r->log[r->nevents];
        x->ev = ev;
        x->host = host;
        x->now = now;
        x->len = len;
        memcpy(x->pkt, pkt, len < sizeof(x->pkt) ? len : sizeof(x->pkt));
    }
    r->nevents++;
}

/* A raw receiver: the probe ids and arrival times, and the last packet. */
struct rx {
    uint32_t *id;
    uint64_t *t;
    size_t n, cap;
    uint8_t last[256];
    size_t last_len;
    uint64_t last_now;
};

static void rx_cb(void *user, const uint8_t *pkt, size_t len, uint64_t now)
{
    struct rx *r = user;

    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 1024;
        uint32_t *nid = realloc(r->id, ncap * sizeof(*nid));
        uint64_t *nt;
        if (!nid)
            abort();
        r->id = nid;
        nt = realloc(r->t, ncap * sizeof(*nt));
        if (!nt)
            abort();
        r->t = nt;
        r->cap = ncap;
    }
    r->id[r->n] = len >= PROBE_LEN ? tcpw_get32(pkt + 20) : UINT32_MAX;
    r->t[r->n] = now;
    r->n++;
    r->last_len = len < sizeof(r->last) ? len : sizeof(r->last);
    memcpy(r->last, pkt, r->last_len);
    r->last_now = now;
}

static void rx_free(struct rx *r)
{
    free(r->id);
    free(r->t);
    memset(r, 0, sizeof(*r));
}

/* A probe: an IPv4 datagram of an experimental protocol carrying its id. */
static void probe(uint8_t buf[PROBE_LEN], uint32_t src, uint32_t dst, uint32_t id)
{
    tcpw_ipv4_build(buf, PROBE_LEN, src, dst, PROBE_PROTO, 64, (uint16_t)id, false, 8);
    tcpw_put32(buf + 20, id);
    tcpw_put32(buf + 24, 0);
}

/* Sends n probes from A to `to`, one every `spacing` µs, recording each
 * one's send time in send_at[id]. Returns 0 or the first error. */
static int send_probes(struct tcpw_sim *sim, uint32_t to, uint32_t n, uint64_t spacing,
                       uint64_t *send_at)
{
    uint8_t buf[PROBE_LEN];

    for (uint32_t i = 0; i < n; i++) {
        int err;
        probe(buf, A_ADDR, to, i);
        if (send_at)
            send_at[i] = tcpw_sim_now(sim);
        err = tcpw_sim_inject(sim, A_ADDR, buf, sizeof(buf));
        if (err)
            return err;
        tcpw_sim_run_until(sim, tcpw_sim_now(sim) + spacing);
    }
    return 0;
}

static bool within(double observed, double n, double p)
{
    double mean = n * p, sd = sqrt(n * p * (1.0 - p));
    return fabs(observed - mean) <= SIGMAS * sd;
}

/* A simulator with raw hosts A (sends), B and C (receive into rb, rc). */
static struct tcpw_sim *raw_sim(uint64_t seed, struct rx *rb, struct rx *rc, struct rec *rec)
{
    struct tcpw_sim *sim = NULL;

    if (tcpw_sim_create(seed, &sim) != 0)
        return NULL;
    if (tcpw_sim_add_raw_host(sim, "a", A_ADDR, NULL, NULL) != 0 ||
        tcpw_sim_add_raw_host(sim, "b", B_ADDR, rx_cb, rb) != 0 ||
        tcpw_sim_add_raw_host(sim, "c", C_ADDR, rx_cb, rc) != 0) {
        tcpw_sim_destroy(sim);
        return NULL;
    }
    if (rec)
        tcpw_sim_set_observer(sim, rec_observer, rec);
    return sim;
}

/* --- (a) impairment statistics ----------------------------------------------------- */

#define N_STAT 100000u

static void test_loss_rate(void)
{
    struct tcpw_impairment imp = {.loss = 0.05, .delay_us = 1000};
    struct rx rb = {0}, rc = {0};
    struct rec rec;
    struct tcpw_sim *sim;
    uint64_t *send_at = malloc(N_STAT * sizeof(*send_at));
    bool times_ok = true, order_ok = true;

    rec_init(&rec);
    sim = raw_sim(1, &rb, &rc, &rec);
    CHECK(sim && send_at);
    CHECK_EQ_I(tcpw_sim_set_path(sim, A_ADDR, B_ADDR, &imp), 0);
    CHECK_EQ_I(send_probes(sim, B_ADDR, N_STAT, 10, send_at), 0);
    tcpw_sim_run_idle(sim, UINT64_MAX);
    CHECK_EQ(tcpw_sim_in_flight(sim), 0);
    for (size_t i = 0; i < rb.n; i++) {
        times_ok = times_ok && rb.t[i] == send_at[rb.id[i]] + 1000;
        order_ok = order_ok && (i == 0 || rb.id[i] > rb.id[i - 1]);
    }
    printf("# loss 0.05: %" PRIu64 " of %u lost (%.4f)\n", rec.counts[TCPW_SIM_LOST], N_STAT,
           (double)rec.counts[TCPW_SIM_LOST] / N_STAT);
    tcpw_sim_destroy(sim);
    free(send_at);
    rx_free(&rc);
    CHECK_EQ(rec.counts[TCPW_SIM_SENT], N_STAT);
    CHECK_EQ(rec.counts[TCPW_SIM_LOST] + rb.n, N_STAT);
    CHECK_EQ(rec.counts[TCPW_SIM_DELIVERED], rb.n);
    CHECK_EQ(rec.counts[TCPW_SIM_DUPLICATED], 0);
    rx_free(&rb);
    CHECK(within((double)rec.counts[TCPW_SIM_LOST], N_STAT, 0.05));
    CHECK_MSG(times_ok, "a delivery was not exactly send + 1 ms");
    CHECK_MSG(order_ok, "loss alone reordered or duplicated");
}

static void test_loss_extremes(void)
{
    struct tcpw_impairment all = {.loss = 1.0, .delay_us = 5};
    struct rx rb = {0}, rc = {0};
    struct rec rec;
    struct tcpw_sim *sim;

    rec_init(&rec);
    sim = raw_sim(2, &rb, &rc, &rec);
    CHECK(sim);
    CHECK_EQ_I(tcpw_sim_set_path(sim, A_ADDR, B_ADDR, &all), 0);
    /* Default path (A->C): no loss, 1 ms, and nothing else. */
    CHECK_EQ_I(send_probes(sim, B_ADDR, 1000, 1, NULL), 0);
    CHECK_EQ_I(send_probes(sim, C_ADDR, 1000, 1, NULL), 0);
    tcpw_sim_run_idle(sim, UINT64_MAX);
    tcpw_sim_destroy(sim);
    CHECK_EQ(rb.n, 0);
    CHECK_EQ(rc.n, 1000);
    CHECK_EQ(rec.counts[TCPW_SIM_LOST], 1000);
    CHECK_EQ(rc.t[0], 1000 + 1000); /* sent at 1000 µs (after the B burst) + 1 ms */
    rx_free(&rb);
    rx_free(&rc);
}

static void test_duplicate_rate(void)
{
    struct tcpw_impairment imp = {.duplicate = 0.03, .delay_us = 700};
    struct rx rb = {0}, rc = {0};
    struct rec rec;
    struct tcpw_sim *sim;
    uint8_t *seen = calloc(N_STAT, 1);
    size_t twice = 0;
    bool ok = true;

    rec_init(&rec);
    sim = raw_sim(3, &rb, &rc, &rec);
    CHECK(sim && seen);
    CHECK_EQ_I(tcpw_sim_set_path(sim, A_ADDR, B_ADDR, &imp), 0);
    CHECK_EQ_I(send_probes(sim, B_ADDR, N_STAT, 10, NULL), 0);
    tcpw_sim_run_idle(sim, UINT64_MAX);
    tcpw_sim_destroy(sim);
    for (size_t i = 0; i < rb.n; i++) {
        uint32_t id = rb.id[i];
        /* Copies keep sending order (no jitter, no reordering here). */
        ok = ok && id < N_STAT && ++seen[id] <= 2 && (i == 0 || id >= rb.id[i - 1]);
    }
    for (size_t i = 0; i < N_STAT; i++) {
        ok = ok && seen[i] >= 1;
        twice += seen[i] == 2;
    }
    printf("# duplicate 0.03: %zu of %u duplicated (%.4f)\n", twice, N_STAT,
           (double)twice / N_STAT);
    free(seen);
    rx_free(&rc);
    CHECK_MSG(ok, "a probe was lost, tripled or reordered");
    CHECK_EQ(rec.counts[TCPW_SIM_DUPLICATED], twice);
    CHECK_EQ(rb.n, N_STAT + twice);
    CHECK_EQ(rec.counts[TCPW_SIM_DELIVERED], N_STAT + twice);
    rx_free(&rb);
    CHECK(within((double)twice, N_STAT, 0.03));
}

/* Reordering: a held-back packet arrives reorder_delay_us late and is
 * overtaken; counted at the receiver as "late" arrivals (a later-sent packet
 * arrived before it), which must equal the packets whose delay shows the
 * extra hold-back. */
static void test_reorder_rate_and_bounds(void)
{
    const uint64_t delay = 1000, jitter = 200, hold = 5000;
    struct tcpw_impairment imp = {
        .reorder = 0.02, .delay_us = delay, .jitter_us = jitter, .reorder_delay_us = hold};
    struct rx rb = {0}, rc = {0};
    struct tcpw_sim *sim;
    uint64_t *send_at = malloc(N_STAT * sizeof(*send_at));
    size_t held = 0, late = 0, bad_bounds = 0, inorder_inversions = 0, time_backwards = 0;
    uint32_t max_id = 0, last_inorder = 0;
    bool any_inorder = false;

    sim = raw_sim(4, &rb, &rc, NULL);
    CHECK(sim && send_at);
    CHECK_EQ_I(tcpw_sim_set_path(sim, A_ADDR, B_ADDR, &imp), 0);
    CHECK_EQ_I(send_probes(sim, B_ADDR, N_STAT, 10, send_at), 0);
    tcpw_sim_run_idle(sim, UINT64_MAX);
    tcpw_sim_destroy(sim);
    for (size_t i = 0; i < rb.n; i++) {
        uint32_t id = rb.id[i];
        uint64_t extra = rb.t[i] - send_at[id] - delay;
        bool is_held = extra >= hold;

        if (rb.t[i] < send_at[id] + delay || (is_held ? extra > hold + jitter : extra > jitter))
            bad_bounds++;
        held += is_held;
        if (i > 0 && rb.t[i] < rb.t[i - 1])
            time_backwards++;
        if (i > 0 && id < max_id)
            late++;
        if (id > max_id)
            max_id = id;
        if (!is_held) {
            if (any_inorder && id <= last_inorder)
                inorder_inversions++;
            last_inorder = id;
            any_inorder = true;
        }
    }
    printf("# reorder 0.02: %zu of %u held back, %zu arrived late (%.4f)\n", held, N_STAT, late,
           (double)late / N_STAT);
    free(send_at);
    rx_free(&rc);
    CHECK_EQ(rb.n, N_STAT);
    rx_free(&rb);
    CHECK_EQ(bad_bounds, 0);
    CHECK_EQ(time_backwards, 0);
    CHECK_EQ(inorder_inversions, 0);
    CHECK_EQ(late, held);
    CHECK(within((double)late, N_STAT, 0.02));
}

/* Jitter alone: packets 10 µs apart with up to 5 ms of jitter would be
 * shuffled by independent delays; the path keeps them in order instead. */
static void test_jitter_never_reorders(void)
{
    const uint64_t delay = 2000, jitter = 5000;
    struct tcpw_impairment imp = {.delay_us = delay, .jitter_us = jitter};
    struct rx rb = {0}, rc = {0};
    struct tcpw_sim *sim;
    const uint32_t n = 20000;
    uint64_t *send_at = malloc(n * sizeof(*send_at));
    size_t bad = 0, inversions = 0, distinct = 0;

    sim = raw_sim(5, &rb, &rc, NULL);
    CHECK(sim && send_at);
    CHECK_EQ_I(tcpw_sim_set_path(sim, A_ADDR, B_ADDR, &imp), 0);
    CHECK_EQ_I(send_probes(sim, B_ADDR, n, 10, send_at), 0);
    tcpw_sim_run_idle(sim, UINT64_MAX);
    tcpw_sim_destroy(sim);
    for (size_t i = 0; i < rb.n; i++) {
        uint64_t lo = send_at[rb.id[i]] + delay;
        bad += rb.t[i] < lo || rb.t[i] > lo + jitter;
        inversions += i > 0 && rb.id[i] <= rb.id[i - 1];
        distinct += i == 0 || rb.t[i] != rb.t[i - 1];
    }
    free(send_at);
    rx_free(&rc);
    CHECK_EQ(rb.n, n);
    rx_free(&rb);
    CHECK_EQ(bad, 0);
    CHECK_EQ(inversions, 0);
    CHECK(distinct > 100); /* the jitter did act */
}

/* Jitter on a sparse stream (spacing > jitter, so the in-order floor never
 * binds): delays are uniform in [delay, delay + jitter]. */
static void test_jitter_uniform(void)
{
    const uint64_t delay = 300, jitter = 1000;
    const uint32_t n = 20000;
    struct tcpw_impairment imp = {.delay_us = delay, .jitter_us = jitter};
    struct rx rb = {0}, rc = {0};
    struct tcpw_sim *sim;
    uint64_t *send_at = malloc(n * sizeof(*send_at));
    uint64_t min = UINT64_MAX, max = 0;
    double sum = 0, mean, sd_mean;

    sim = raw_sim(6, &rb, &rc, NULL);
    CHECK(sim && send_at);
    CHECK_EQ_I(tcpw_sim_set_path(sim, A_ADDR, B_ADDR, &imp), 0);
    CHECK_EQ_I(send_probes(sim, B_ADDR, n, 2000, send_at), 0);
    tcpw_sim_run_idle(sim, UINT64_MAX);
    tcpw_sim_destroy(sim);
    for (size_t i = 0; i < rb.n; i++) {
        uint64_t extra = rb.t[i] - send_at[rb.id[i]] - delay;
        min = extra < min ? extra : min;
        max = extra > max ? extra : max;
        sum += (double)extra;
    }
    free(send_at);
    rx_free(&rc);
    CHECK_EQ(rb.n, n);
    rx_free(&rb);
    /* Discrete uniform on 0..1000: mean 500, variance ((1001^2) - 1) / 12. */
    mean = sum / n;
    sd_mean = sqrt((1001.0 * 1001.0 - 1.0) / 12.0 / n);
    printf("# jitter [0,1000]: mean %.2f, min %" PRIu64 ", max %" PRIu64 "\n", mean, min, max);
    CHECK(fabs(mean - 500.0) <= SIGMAS * sd_mean);
    CHECK(min <= 5);
    CHECK(max >= 995 && max <= 1000);
}

/* --- (b) determinism, (c) independence ------------------------------------------------ */

static uint64_t impaired_run_hash(uint64_t seed, uint64_t counts[EV_KINDS])
{
    struct tcpw_impairment ab = {.loss = 0.1,
                                 .duplicate = 0.05,
                                 .reorder = 0.05,
                                 .delay_us = 800,
                                 .jitter_us = 300,
                                 .reorder_delay_us = 2000};
    struct tcpw_impairment ac = {.loss = 0.02, .delay_us = 100, .jitter_us = 50};
    struct rx rb = {0}, rc = {0};
    struct rec rec;
    struct tcpw_sim *sim;
    uint8_t buf[PROBE_LEN];

    rec_init(&rec);
    sim = raw_sim(seed, &rb, &rc, &rec);
    if (!sim || tcpw_sim_set_path(sim, A_ADDR, B_ADDR, &ab) != 0 ||
        tcpw_sim_set_path(sim, A_ADDR, C_ADDR, &ac) != 0) {
        tcpw_sim_destroy(sim);
        return 0;
    }
    for (uint32_t i = 0; i < 10000; i++) {
        probe(buf, A_ADDR, (i & 1) ? C_ADDR : B_ADDR, i);
        (void)tcpw_sim_inject(sim, A_ADDR, buf, sizeof(buf));
        tcpw_sim_run_until(sim, tcpw_sim_now(sim) + 7);
    }
    tcpw_sim_run_idle(sim, UINT64_MAX);
    tcpw_sim_destroy(sim);
    rx_free(&rb);
    rx_free(&rc);
    memcpy(counts, rec.counts, sizeof(rec.counts));
    return rec.hash;
}

static void test_same_seed_same_run(void)
{
    uint64_t c1[EV_KINDS], c2[EV_KINDS], c3[EV_KINDS];
    uint64_t h1 = impaired_run_hash(7, c1);
    uint64_t h2 = impaired_run_hash(7, c2);
    uint64_t h3 = impaired_run_hash(8, c3);

    printf("# event-log hash: seed 7 %016" PRIx64 ", seed 8 %016" PRIx64 "\n", h1, h3);
    CHECK(h1 != 0);
    CHECK_EQ(h1, h2);
    CHECK(memcmp(c1, c2, sizeof(c1)) == 0);
    CHECK(h1 != h3);
    CHECK_EQ(c1[TCPW_SIM_SENT], 10000);
    CHECK_EQ(c3[TCPW_SIM_SENT], 10000);
    CHECK(c1[TCPW_SIM_LOST] != c3[TCPW_SIM_LOST] ||
          c1[TCPW_SIM_DUPLICATED] != c3[TCPW_SIM_DUPLICATED]);
}

/* Everything that happened on A->B: delivered ids and times, lost ids. */
struct ab_trace {
    struct rx rb;
    uint32_t lost[4096];
    size_t nlost;
};

static void ab_observer(void *user, enum tcpw_sim_event ev, uint32_t host, const uint8_t *pkt,
                        size_t len, uint64_t now)
{
    struct ab_trace *t = user;
    (void)host;
    (void)now;
    if (ev == TCPW_SIM_LOST && len >= PROBE_LEN && tcpw_get32(pkt + 16) == B_ADDR &&
        t->nlost < 4096)
        t->lost[t->nlost++] = tcpw_get32(pkt + 20);
}

static int run_ab(bool change_ac, bool first_c, struct ab_trace *t, struct rx *rc)
{
    struct tcpw_impairment ab = {.loss = 0.1,
                                 .duplicate = 0.1,
                                 .reorder = 0.1,
                                 .delay_us = 500,
                                 .jitter_us = 400,
                                 .reorder_delay_us = 3000};
    struct tcpw_impairment ac = {.loss = 0.5, .duplicate = 0.5, .delay_us = 50, .jitter_us = 5000};
    struct tcpw_sim *sim = raw_sim(99, &t->rb, rc, NULL);
    uint8_t buf[PROBE_LEN];
    int err = 0;

    if (!sim)
        return -ENOMEM;
    tcpw_sim_set_observer(sim, ab_observer, t);
    /* The order paths are first used in must not matter either. */
    if (first_c) {
        probe(buf, A_ADDR, C_ADDR, 0);
        err = tcpw_sim_inject(sim, A_ADDR, buf, sizeof(buf));
    }
    if (!err)
        err = tcpw_sim_set_path(sim, A_ADDR, B_ADDR, &ab);
    if (!err && change_ac)
        err = tcpw_sim_set_path(sim, A_ADDR, C_ADDR, &ac);
    for (uint32_t i = 0; i < 20000 && !err; i++) {
        probe(buf, A_ADDR, (i % 3 == 0) ? C_ADDR : B_ADDR, i);
        err = tcpw_sim_inject(sim, A_ADDR, buf, sizeof(buf));
        tcpw_sim_run_until(sim, tcpw_sim_now(sim) + 20);
    }
    tcpw_sim_run_idle(sim, UINT64_MAX);
    tcpw_sim_destroy(sim);
    return err;
}

static void test_paths_independent(void)
{
    struct ab_trace *t1 = calloc(1, sizeof(*t1)), *t2 = calloc(1, sizeof(*t2));
    struct rx rc1 = {0}, rc2 = {0};
    bool same_b, diff_c;

    CHECK(t1 && t2);
    CHECK_EQ_I(run_ab(false, false, t1, &rc1), 0);
    CHECK_EQ_I(run_ab(true, true, t2, &rc2), 0);
    same_b = t1->rb.n == t2->rb.n && t1->nlost == t2->nlost &&
             memcmp(t1->rb.id, t2->rb.id, t1->rb.n * sizeof(uint32_t)) == 0 &&
             memcmp(t1->rb.t, t2->rb.t, t1->rb.n * sizeof(uint64_t)) == 0 &&
             memcmp(t1->lost, t2->lost, t1->nlost * sizeof(uint32_t)) == 0;
    diff_c = rc1.n != rc2.n;
    printf("# A->B: %zu delivered, %zu lost in both runs; A->C: %zu vs %zu delivered\n", t1->rb.n,
           t1->nlost, rc1.n, rc2.n);
    CHECK(t1->nlost > 0 && t1->nlost < 4096);
    rx_free(&t1->rb);
    rx_free(&t2->rb);
    rx_free(&rc1);
    rx_free(&rc2);
    free(t1);
    free(t2);
    CHECK_MSG(same_b, "impairing A->C changed what happened on A->B");
    CHECK_MSG(diff_c, "the A->C impairment had no effect");
}

/* --- (d) real stacks end to end --------------------------------------------------------- */

static size_t build_syn(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, uint16_t sport,
                        uint16_t dport, uint32_t seq)
{
    struct tcpw_tcp_out syn = {0};
    syn.src = src;
    syn.dst = dst;
    syn.sport = sport;
    syn.dport = dport;
    syn.seq = seq;
    syn.flags = TCPW_SYN;
    syn.wnd = 65535;
    syn.ip_id = 1;
    syn.df = true;
    syn.opts.has_mss = true;
    syn.opts.mss = 1460;
    return tcpw_tcp_build(buf, cap, &syn);
}

/* Parses a logged packet and checks it is a RST,ACK from `src`:`sport` to
 * `dst`:`dport` acknowledging `ack`. */
static bool is_rst_ack(const uint8_t *pkt, size_t len, uint32_t src, uint16_t sport, uint32_t dst,
                       uint16_t dport, uint32_t ack)
{
    struct tcpw_packet p;
    if (tcpw_packet_parse(pkt, len, &p) != TCPW_DROP_NONE || p.ip.proto != TCPW_IP_PROTO_TCP)
        return false;
    return p.ip.src == src && p.ip.dst == dst && p.l4.tcp.sport == sport &&
           p.l4.tcp.dport == dport && p.l4.tcp.flags == (TCPW_RST | TCPW_ACK) &&
           p.l4.tcp.seq == 0 && p.l4.tcp.ack == ack;
}

/* PROCESSED closes each delivery after the receiver's answers: a ladder can
 * show the receiver's state after the packet. */
struct order_log {
    enum tcpw_sim_event ev[16];
    uint32_t host[16];
    int n;
};

static void order_observer(void *user, enum tcpw_sim_event ev, uint32_t host, const uint8_t *pkt,
                           size_t len, uint64_t now)
{
    struct order_log *o = user;
    (void)pkt;
    (void)len;
    (void)now;
    if (o->n < 16) {
        o->ev[o->n] = ev;
        o->host[o->n] = host;
        o->n++;
    }
}

static void test_processed_follows_delivery(void)
{
    struct tcpw_sim *sim = NULL;
    struct rx ra = {0};
    struct order_log o = {0};
    uint8_t syn[64];
    size_t len = build_syn(syn, sizeof(syn), A_ADDR, B_ADDR, 40000, 80, 1000);

    CHECK(len > 0);
    CHECK_EQ_I(tcpw_sim_create(11, &sim), 0);
    tcpw_sim_set_observer(sim, order_observer, &o);
    CHECK_EQ_I(tcpw_sim_add_raw_host(sim, "peer", A_ADDR, rx_cb, &ra), 0);
    CHECK_EQ_I(tcpw_sim_add_host(sim, "server", B_ADDR, NULL, NULL), 0);
    CHECK_EQ_I(tcpw_sim_inject(sim, A_ADDR, syn, len), 0);
    tcpw_sim_run_idle(sim, UINT64_MAX);
    tcpw_sim_destroy(sim);
    rx_free(&ra);
    /* SENT(syn) DELIVERED(B) SENT(rst from B) PROCESSED(B) DELIVERED(A) PROCESSED(A) */
    CHECK_EQ_I(o.n, 6);
    CHECK_EQ(o.ev[0], TCPW_SIM_SENT);
    CHECK_EQ(o.ev[1], TCPW_SIM_DELIVERED);
    CHECK_EQ(o.ev[2], TCPW_SIM_SENT);
    CHECK_EQ(o.host[2], B_ADDR);
    CHECK_EQ(o.ev[3], TCPW_SIM_PROCESSED);
    CHECK_EQ(o.host[3], B_ADDR);
    CHECK_EQ(o.ev[4], TCPW_SIM_DELIVERED);
    CHECK_EQ(o.ev[5], TCPW_SIM_PROCESSED);
    CHECK_EQ(o.host[5], A_ADDR);
}

static void test_syn_gets_rst(void)
{
    struct tcpw_sim *sim = NULL;
    struct tcpw_stack *st = NULL;
    struct rx ra = {0};
    struct rec rec;
    uint8_t syn[64];
    size_t len = build_syn(syn, sizeof(syn), A_ADDR, B_ADDR, 40000, 80, 0xffffffffu);
    bool ok;

    rec_init(&rec);
    CHECK(len > 0);
    CHECK_EQ_I(tcpw_sim_create(11, &sim), 0);
    tcpw_sim_set_observer(sim, rec_observer, &rec);
    ok = tcpw_sim_add_raw_host(sim, "peer", A_ADDR, rx_cb, &ra) == 0 &&
         tcpw_sim_add_host(sim, "server", B_ADDR, NULL, &st) == 0 && st &&
         tcpw_sim_stack(sim, B_ADDR) == st && tcpw_sim_inject(sim, A_ADDR, syn, len) == 0;
    CHECK_EQ(tcpw_sim_next_event(sim), 1000);
    tcpw_sim_run_idle(sim, UINT64_MAX);
    CHECK_EQ(tcpw_sim_now(sim), 2000);
    CHECK_EQ(tcpw_stack_counter(st, TCPW_CTR_TCP_IN_SEGS), 1);
    CHECK_EQ(tcpw_stack_counter(st, TCPW_CTR_TCP_OUT_RSTS), 1);
    CHECK_EQ(tcpw_stack_counter(st, TCPW_CTR_IP_OUT_REQUESTS), 1);
    tcpw_sim_destroy(sim);
    CHECK(ok);
    /* The ladder: SYN out at 0, in at 1 ms; RST,ACK out at 1 ms, in at 2 ms. */
    CHECK_EQ(rec.nevents, 4);
    CHECK_EQ(rec.log[0].ev, TCPW_SIM_SENT);
    CHECK_EQ(rec.log[0].host, A_ADDR);
    CHECK_EQ(rec.log[0].now, 0);
    CHECK(rec.log[0].len == len && memcmp(rec.log[0].pkt, syn, len) == 0);
    CHECK_EQ(rec.log[1].ev, TCPW_SIM_DELIVERED);
    CHECK_EQ(rec.log[1].host, B_ADDR);
    CHECK_EQ(rec.log[1].now, 1000);
    CHECK_EQ(rec.log[2].ev, TCPW_SIM_SENT);
    CHECK_EQ(rec.log[2].host, B_ADDR);
    CHECK_EQ(rec.log[2].now, 1000);
    /* ack = SYN's seq + 1, wrapping from 2^32 - 1 to 0. */
    CHECK(is_rst_ack(rec.log[2].pkt, rec.log[2].len, B_ADDR, 80, A_ADDR, 40000, 0));
    CHECK_EQ(rec.log[3].ev, TCPW_SIM_DELIVERED);
    CHECK_EQ(rec.log[3].host, A_ADDR);
    CHECK_EQ(rec.log[3].now, 2000);
    CHECK_EQ(ra.n, 1);
    CHECK_EQ(ra.last_now, 2000);
    CHECK(ra.last_len == rec.log[2].len && memcmp(ra.last, rec.log[2].pkt, ra.last_len) == 0);
    rx_free(&ra);
}

static void test_asymmetric_delays(void)
{
    struct tcpw_impairment fwd = {.delay_us = 3000}, back = {.delay_us = 500};
    struct tcpw_sim *sim = NULL;
    struct rx ra = {0};
    uint8_t syn[64];
    size_t len = build_syn(syn, sizeof(syn), A_ADDR, B_ADDR, 1234, 443, 0x7fffffffu);
    bool ok;

    CHECK_EQ_I(tcpw_sim_create(12, &sim), 0);
    ok = tcpw_sim_add_raw_host(sim, "peer", A_ADDR, rx_cb, &ra) == 0 &&
         tcpw_sim_add_host(sim, "server", B_ADDR, NULL, NULL) == 0 &&
         tcpw_sim_set_path(sim, A_ADDR, B_ADDR, &fwd) == 0 &&
         tcpw_sim_set_path(sim, B_ADDR, A_ADDR, &back) == 0;
    tcpw_sim_run_until(sim, 10000);
    ok = ok && tcpw_sim_inject(sim, A_ADDR, syn, len) == 0;
    CHECK_EQ(tcpw_sim_run_idle(sim, UINT64_MAX), 2);
    tcpw_sim_destroy(sim);
    CHECK(ok);
    CHECK_EQ(ra.n, 1);
    CHECK_EQ(ra.last_now, 10000 + 3000 + 500);
    CHECK(is_rst_ack(ra.last, ra.last_len, B_ADDR, 443, A_ADDR, 1234, 0x80000000u));
    rx_free(&ra);
}

static void test_icmp_echo_round_trip(void)
{
    static const uint8_t data[8] = {'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'};
    struct tcpw_sim *sim = NULL;
    struct tcpw_stack *st = NULL;
    struct tcpw_packet p;
    struct rx ra = {0};
    uint8_t req[64];
    size_t len = tcpw_icmp_build(req, sizeof(req), A_ADDR, B_ADDR, 8, 0, (0x4242u << 16) | 1u, data,
                                 sizeof(data));
    bool ok;

    CHECK(len == 36);
    CHECK_EQ_I(tcpw_sim_create(13, &sim), 0);
    ok = tcpw_sim_add_raw_host(sim, "pinger", A_ADDR, rx_cb, &ra) == 0 &&
         tcpw_sim_add_host(sim, "host", B_ADDR, NULL, &st) == 0;
    tcpw_sim_run_until(sim, 5000);
    ok = ok && tcpw_sim_inject(sim, A_ADDR, req, len) == 0;
    tcpw_sim_run_idle(sim, UINT64_MAX);
    CHECK_EQ(tcpw_stack_counter(st, TCPW_CTR_ICMP_OUT_MSGS), 1);
    tcpw_sim_destroy(sim);
    CHECK(ok);
    CHECK_EQ(ra.n, 1);
    CHECK_EQ(ra.last_now, 7000);
    CHECK_EQ(tcpw_packet_parse(ra.last, ra.last_len, &p), TCPW_DROP_NONE);
    CHECK_EQ(p.ip.proto, TCPW_IP_PROTO_ICMP);
    CHECK_EQ(p.ip.src, B_ADDR);
    CHECK_EQ(p.ip.dst, A_ADDR);
    CHECK_EQ(p.l4.icmp.type, 0);
    CHECK_EQ(p.l4.icmp.rest, (0x4242u << 16) | 1u);
    CHECK(p.l4.icmp.data_len == sizeof(data) && memcmp(p.l4.icmp.data, data, sizeof(data)) == 0);
    rx_free(&ra);
}

/* Zero delay: delivered at the same instant, but after the packet being
 * delivered, never from inside its delivery. */
struct relay {
    struct tcpw_sim *sim;
    bool in_rx;
    bool nested;
    size_t got;
};

static void relay_rx(void *user, const uint8_t *pkt, size_t len, uint64_t now)
{
    struct relay *r = user;
    uint8_t fwd[PROBE_LEN];
    (void)pkt;
    (void)len;
    (void)now;
    r->in_rx = true;
    probe(fwd, B_ADDR, C_ADDR, 1);
    (void)tcpw_sim_inject(r->sim, B_ADDR, fwd, sizeof(fwd));
    r->in_rx = false;
}

static void sink_rx(void *user, const uint8_t *pkt, size_t len, uint64_t now)
{
    struct relay *r = user;
    (void)pkt;
    (void)len;
    (void)now;
    r->nested = r->nested || r->in_rx;
    r->got++;
}

static void test_zero_delay_same_instant(void)
{
    struct tcpw_impairment zero = {0};
    struct relay r = {0};
    struct rec rec;
    uint8_t buf[PROBE_LEN];

    rec_init(&rec);
    CHECK_EQ_I(tcpw_sim_create(14, &r.sim), 0);
    tcpw_sim_set_observer(r.sim, rec_observer, &rec);
    CHECK_EQ_I(tcpw_sim_set_default_path(r.sim, &zero), 0);
    CHECK_EQ_I(tcpw_sim_add_raw_host(r.sim, "a", A_ADDR, NULL, NULL), 0);
    CHECK_EQ_I(tcpw_sim_add_raw_host(r.sim, "relay", B_ADDR, relay_rx, &r), 0);
    CHECK_EQ_I(tcpw_sim_add_raw_host(r.sim, "sink", C_ADDR, sink_rx, &r), 0);
    tcpw_sim_run_until(r.sim, 777);
    probe(buf, A_ADDR, B_ADDR, 0);
    CHECK_EQ_I(tcpw_sim_inject(r.sim, A_ADDR, buf, sizeof(buf)), 0);
    CHECK_EQ(tcpw_sim_next_event(r.sim), 777);
    CHECK_EQ_I(tcpw_sim_step(r.sim), 1);
    CHECK_EQ_I(tcpw_sim_step(r.sim), 0);
    CHECK_EQ(tcpw_sim_now(r.sim), 777);
    tcpw_sim_destroy(r.sim);
    CHECK_EQ(r.got, 1);
    CHECK(!r.nested);
    CHECK_EQ(rec.nevents, 4);
    CHECK_EQ(rec.log[0].ev, TCPW_SIM_SENT);
    CHECK_EQ(rec.log[1].ev, TCPW_SIM_DELIVERED);
    CHECK_EQ(rec.log[1].host, B_ADDR);
    CHECK_EQ(rec.log[2].ev, TCPW_SIM_SENT);
    CHECK_EQ(rec.log[2].host, B_ADDR);
    CHECK_EQ(rec.log[3].ev, TCPW_SIM_DELIVERED);
    CHECK_EQ(rec.log[3].host, C_ADDR);
    CHECK_EQ(rec.log[3].now, 777);
}

static void test_no_route(void)
{
    struct tcpw_sim *sim = NULL;
    struct rec rec;
    uint8_t buf[PROBE_LEN];

    rec_init(&rec);
    CHECK_EQ_I(tcpw_sim_create(15, &sim), 0);
    tcpw_sim_set_observer(sim, rec_observer, &rec);
    CHECK_EQ_I(tcpw_sim_add_raw_host(sim, "a", A_ADDR, NULL, NULL), 0);
    probe(buf, A_ADDR, 0x0a090909u, 0);
    CHECK_EQ_I(tcpw_sim_inject(sim, A_ADDR, buf, sizeof(buf)), 0);
    CHECK_EQ(tcpw_sim_in_flight(sim), 1);
    tcpw_sim_run_idle(sim, UINT64_MAX);
    CHECK_EQ(tcpw_sim_in_flight(sim), 0);
    tcpw_sim_destroy(sim);
    CHECK_EQ(rec.nevents, 2);
    CHECK_EQ(rec.log[1].ev, TCPW_SIM_NO_ROUTE);
    CHECK_EQ(rec.log[1].host, A_ADDR);
    CHECK_EQ(rec.log[1].now, 1000);
}

/* --- (e) black hole, restart ---------------------------------------------------------------- */

struct fired {
    struct tcpw_timer timer; /* first: the callback casts back */
    uint64_t at;
    int count;
};

static void on_fire(struct tcpw_timer *t, uint64_t now)
{
    struct fired *f = (struct fired *)(void *)t;
    f->at = now;
    f->count++;
}

static void test_black_hole_receiver(void)
{
    struct tcpw_sim *sim = NULL;
    struct tcpw_stack *st = NULL;
    struct rx ra = {0};
    struct rec rec;
    uint8_t syn[64];
    size_t len = build_syn(syn, sizeof(syn), A_ADDR, B_ADDR, 40000, 80, 1);

    rec_init(&rec);
    CHECK_EQ_I(tcpw_sim_create(21, &sim), 0);
    tcpw_sim_set_observer(sim, rec_observer, &rec);
    CHECK_EQ_I(tcpw_sim_add_raw_host(sim, "peer", A_ADDR, rx_cb, &ra), 0);
    CHECK_EQ_I(tcpw_sim_add_host(sim, "crashed", B_ADDR, NULL, &st), 0);
    CHECK_EQ_I(tcpw_sim_set_black_hole(sim, B_ADDR, true), 0);
    CHECK_EQ_I(tcpw_sim_inject(sim, A_ADDR, syn, len), 0);
    tcpw_sim_run_idle(sim, UINT64_MAX);
    CHECK_EQ(rec.nevents, 2);
    CHECK_EQ(rec.log[1].ev, TCPW_SIM_BLACK_HOLED);
    CHECK_EQ(rec.log[1].host, B_ADDR);
    CHECK_EQ(rec.log[1].now, 1000);
    CHECK_EQ(ra.n, 0);
    CHECK_EQ(tcpw_stack_counter(st, TCPW_CTR_IP_IN_RECEIVES), 0);
    CHECK_EQ(tcpw_stack_counter(st, TCPW_CTR_IP_OUT_REQUESTS), 0);
    /* Back up: the same SYN now gets its RST. */
    CHECK_EQ_I(tcpw_sim_set_black_hole(sim, B_ADDR, false), 0);
    CHECK_EQ_I(tcpw_sim_inject(sim, A_ADDR, syn, len), 0);
    tcpw_sim_run_idle(sim, UINT64_MAX);
    CHECK_EQ(ra.n, 1);
    CHECK_EQ(tcpw_stack_counter(st, TCPW_CTR_IP_IN_RECEIVES), 1);
    tcpw_sim_destroy(sim);
    rx_free(&ra);
}

static void test_black_hole_sender(void)
{
    struct tcpw_sim *sim = NULL;
    struct rx rb = {0};
    struct rec rec;
    uint8_t buf[PROBE_LEN];

    rec_init(&rec);
    CHECK_EQ_I(tcpw_sim_create(22, &sim), 0);
    tcpw_sim_set_observer(sim, rec_observer, &rec);
    CHECK_EQ_I(tcpw_sim_add_raw_host(sim, "a", A_ADDR, NULL, NULL), 0);
    CHECK_EQ_I(tcpw_sim_add_raw_host(sim, "b", B_ADDR, rx_cb, &rb), 0);
    CHECK_EQ_I(tcpw_sim_set_black_hole(sim, A_ADDR, true), 0);
    tcpw_sim_run_until(sim, 50);
    probe(buf, A_ADDR, B_ADDR, 0);
    CHECK_EQ_I(tcpw_sim_inject(sim, A_ADDR, buf, sizeof(buf)), 0);
    CHECK_EQ(tcpw_sim_in_flight(sim), 0);
    CHECK_EQ(tcpw_sim_run_idle(sim, UINT64_MAX), 0);
    tcpw_sim_destroy(sim);
    CHECK_EQ(rb.n, 0);
    CHECK_EQ(rec.nevents, 1);
    CHECK_EQ(rec.log[0].ev, TCPW_SIM_BLACK_HOLED);
    CHECK_EQ(rec.log[0].host, A_ADDR);
    CHECK_EQ(rec.log[0].now, 50);
    rx_free(&rb);
}

/* A black-holed machine is down: its timers wait, and the simulator does
 * not count their deadlines as events. */
static void test_black_hole_stops_timers(void)
{
    struct tcpw_sim *sim = NULL;
    struct tcpw_stack *st = NULL;
    struct fired f = {0};

    CHECK_EQ_I(tcpw_sim_create(23, &sim), 0);
    CHECK_EQ_I(tcpw_sim_add_host(sim, "h", B_ADDR, NULL, &st), 0);
    tcpw_timer_init(&f.timer, on_fire);
    tcpw_timer_arm(&st->wheel, &f.timer, 5000);
    CHECK(tcpw_sim_next_event(sim) <= 5000);
    CHECK_EQ_I(tcpw_sim_set_black_hole(sim, B_ADDR, true), 0);
    CHECK_EQ(tcpw_sim_next_event(sim), TCPW_NO_DEADLINE);
    CHECK_EQ(tcpw_sim_run_until(sim, 10000), 0);
    CHECK_EQ(f.count, 0);
    CHECK_EQ_I(tcpw_sim_set_black_hole(sim, B_ADDR, false), 0);
    /* Overdue: runs at once, at the current time (the wheel hands a
     * catching-up callback its own expiry as `now`). */
    CHECK_EQ(tcpw_sim_next_event(sim), 10000);
    CHECK_EQ_I(tcpw_sim_step(sim), 1);
    CHECK_EQ(tcpw_sim_now(sim), 10000);
    CHECK_EQ(f.count, 1);
    CHECK_EQ(tcpw_stack_now(st), 10000);
    CHECK_EQ(tcpw_sim_next_event(sim), TCPW_NO_DEADLINE);
    tcpw_sim_destroy(sim);
}

static void test_restart_host(void)
{
    struct tcpw_sim *sim = NULL;
    struct tcpw_stack *old = NULL, *fresh = NULL;
    struct rx ra = {0};
    uint8_t syn[64];
    size_t len = build_syn(syn, sizeof(syn), A_ADDR, B_ADDR, 40000, 80, 1);

    CHECK_EQ_I(tcpw_sim_create(24, &sim), 0);
    CHECK_EQ_I(tcpw_sim_add_raw_host(sim, "peer", A_ADDR, rx_cb, &ra), 0);
    CHECK_EQ_I(tcpw_sim_add_host(sim, "server", B_ADDR, NULL, &old), 0);
    CHECK_EQ_I(tcpw_sim_inject(sim, A_ADDR, syn, len), 0);
    tcpw_sim_run_idle(sim, UINT64_MAX);
    CHECK_EQ(tcpw_stack_counter(old, TCPW_CTR_TCP_IN_SEGS), 1);
    CHECK_EQ_I(tcpw_sim_restart_host(sim, B_ADDR, &fresh), 0);
    CHECK(fresh != NULL && fresh != old);
    CHECK(tcpw_sim_stack(sim, B_ADDR) == fresh);
    CHECK_STR(tcpw_sim_host_name(sim, B_ADDR), "server");
    CHECK_EQ(tcpw_stack_addr(fresh), B_ADDR);
    CHECK_EQ(tcpw_stack_now(fresh), 2000);
    for (int c = 0; c < TCPW_CTR_COUNT; c++)
        CHECK_EQ(tcpw_stack_counter(fresh, (enum tcpw_counter)c), 0);
    /* It still answers, and packets reach the new stack. */
    CHECK_EQ_I(tcpw_sim_inject(sim, A_ADDR, syn, len), 0);
    tcpw_sim_run_idle(sim, UINT64_MAX);
    CHECK_EQ(tcpw_stack_counter(fresh, TCPW_CTR_TCP_OUT_RSTS), 1);
    CHECK_EQ(ra.n, 2);
    CHECK_EQ_I(tcpw_sim_restart_host(sim, C_ADDR, &fresh), -ENOENT);
    CHECK(fresh == NULL);
    CHECK_EQ_I(tcpw_sim_restart_host(sim, A_ADDR, NULL), -EINVAL); /* raw: no stack */
    tcpw_sim_destroy(sim);
    rx_free(&ra);
}

/* --- (f) NAT -----------------------------------------------------------------------------------
 */

/* Remembers every packet delivered to P (the public peer). */
struct nat_watch {
    uint8_t pkt[8][128];
    size_t len[8];
    size_t n;
    size_t rewrites;
};

static void nat_observer(void *user, enum tcpw_sim_event ev, uint32_t host, const uint8_t *pkt,
                         size_t len, uint64_t now)
{
    struct nat_watch *w = user;
    (void)now;
    if (ev == TCPW_SIM_NAT_REWRITTEN)
        w->rewrites++;
    if ((ev == TCPW_SIM_DELIVERED && (host == P_ADDR || host == Q_ADDR)) && w->n < 8 &&
        len <= 128) {
        memcpy(w->pkt[w->n], pkt, len);
        w->len[w->n++] = len;
    }
}

/* Checks the n-th packet seen at the peer: valid checksums (parse verifies
 * them), public source address and port. */
static bool seen_from(const struct nat_watch *w, size_t n, uint32_t src, uint16_t sport,
                      uint16_t dport)
{
    struct tcpw_packet p;
    if (n >= w->n || tcpw_packet_parse(w->pkt[n], w->len[n], &p) != TCPW_DROP_NONE)
        return false;
    if (p.ip.src != src)
        return false;
    if (p.ip.proto == TCPW_IP_PROTO_TCP)
        return p.l4.tcp.sport == sport && p.l4.tcp.dport == dport;
    return p.ip.proto == TCPW_IP_PROTO_ICMP && (p.l4.icmp.rest >> 16) == sport;
}

static void test_nat_tcp(void)
{
    struct tcpw_sim *sim = NULL;
    struct rx r1 = {0}, r2 = {0};
    struct nat_watch w = {0};
    struct tcpw_packet p;
    uint8_t syn[64];
    size_t len;

    CHECK_EQ_I(tcpw_sim_create(31, &sim), 0);
    tcpw_sim_set_observer(sim, nat_observer, &w);
    CHECK_EQ_I(tcpw_sim_add_raw_host(sim, "in1", A_ADDR, rx_cb, &r1), 0);
    CHECK_EQ_I(tcpw_sim_add_raw_host(sim, "in2", B_ADDR, rx_cb, &r2), 0);
    CHECK_EQ_I(tcpw_sim_add_host(sim, "server", P_ADDR, NULL, NULL), 0);
    CHECK_EQ_I(tcpw_sim_set_nat(sim, A_ADDR, PUB_ADDR, 50000), 0);
    CHECK_EQ_I(tcpw_sim_set_nat(sim, B_ADDR, PUB_ADDR, 50000), 0);

    /* in1:40000 -> public:50000; the RST,ACK comes back to in1:40000. */
    len = build_syn(syn, sizeof(syn), A_ADDR, P_ADDR, 40000, 80, 0xfffffff0u);
    CHECK_EQ_I(tcpw_sim_inject(sim, A_ADDR, syn, len), 0);
    tcpw_sim_run_idle(sim, UINT64_MAX);
    CHECK(seen_from(&w, 0, PUB_ADDR, 50000, 80));
    CHECK_EQ(r1.n, 1);
    CHECK_EQ(r1.last_now, 2000);
    CHECK(is_rst_ack(r1.last, r1.last_len, P_ADDR, 80, A_ADDR, 40000, 0xfffffff1u));
    CHECK_EQ(w.rewrites, 2);

    /* in2 with the same inside port shares the public address: next port. */
    len = build_syn(syn, sizeof(syn), B_ADDR, P_ADDR, 40000, 80, 5);
    CHECK_EQ_I(tcpw_sim_inject(sim, B_ADDR, syn, len), 0);
    tcpw_sim_run_idle(sim, UINT64_MAX);
    CHECK(seen_from(&w, 1, PUB_ADDR, 50001, 80));
    CHECK_EQ(r2.n, 1);
    CHECK(is_rst_ack(r2.last, r2.last_len, P_ADDR, 80, B_ADDR, 40000, 6));
    CHECK_EQ(r1.n, 1);

    /* The mapping of in1:40000 is kept; a new inside port gets a new one. */
    len = build_syn(syn, sizeof(syn), A_ADDR, P_ADDR, 40000, 81, 9);
    CHECK_EQ_I(tcpw_sim_inject(sim, A_ADDR, syn, len), 0);
    len = build_syn(syn, sizeof(syn), A_ADDR, P_ADDR, 40001, 81, 9);
    CHECK_EQ_I(tcpw_sim_inject(sim, A_ADDR, syn, len), 0);
    tcpw_sim_run_idle(sim, UINT64_MAX);
    CHECK(seen_from(&w, 2, PUB_ADDR, 50000, 81));
    CHECK(seen_from(&w, 3, PUB_ADDR, 50002, 81));
    CHECK_EQ(r1.n, 3);
    CHECK_EQ(tcpw_packet_parse(r1.last, r1.last_len, &p), TCPW_DROP_NONE);
    CHECK_EQ(p.l4.tcp.dport, 40001);
    CHECK_EQ(p.ip.dst, A_ADDR);
    tcpw_sim_destroy(sim);
    rx_free(&r1);
    rx_free(&r2);
}

static void test_nat_icmp_echo_and_errors(void)
{
    static const uint8_t data[4] = {1, 2, 3, 4};
    struct tcpw_sim *sim = NULL;
    struct rx r1 = {0}, rq = {0};
    struct nat_watch w = {0};
    struct tcpw_packet p, quoted;
    struct rec rec;
    uint8_t buf[128], err[128];
    size_t len;

    CHECK_EQ_I(tcpw_sim_create(32, &sim), 0);
    tcpw_sim_set_observer(sim, nat_observer, &w);
    CHECK_EQ_I(tcpw_sim_add_raw_host(sim, "in1", A_ADDR, rx_cb, &r1), 0);
    CHECK_EQ_I(tcpw_sim_add_host(sim, "server", P_ADDR, NULL, NULL), 0);
    CHECK_EQ_I(tcpw_sim_add_raw_host(sim, "router", Q_ADDR, rx_cb, &rq), 0);
    CHECK_EQ_I(tcpw_sim_set_nat(sim, A_ADDR, PUB_ADDR, 60000), 0);

    /* Echo: the identifier is mapped like a port, and mapped back. */
    len = tcpw_icmp_build(buf, sizeof(buf), A_ADDR, P_ADDR, 8, 0, (7u << 16) | 3u, data,
                          sizeof(data));
    CHECK_EQ_I(tcpw_sim_inject(sim, A_ADDR, buf, len), 0);
    tcpw_sim_run_idle(sim, UINT64_MAX);
    CHECK(seen_from(&w, 0, PUB_ADDR, 60000, 0));
    CHECK_EQ(r1.n, 1);
    CHECK_EQ(tcpw_packet_parse(r1.last, r1.last_len, &p), TCPW_DROP_NONE);
    CHECK_EQ(p.ip.src, P_ADDR);
    CHECK_EQ(p.ip.dst, A_ADDR);
    CHECK_EQ(p.l4.icmp.type, 0);
    CHECK_EQ(p.l4.icmp.rest, (7u << 16) | 3u);

    /* An ICMP error quoting a translated SYN reaches the inside host with the
     * quote translated back (and every checksum, quoted ones too, valid). */
    len = build_syn(buf, sizeof(buf), A_ADDR, Q_ADDR, 33000, 443, 77);
    CHECK_EQ_I(tcpw_sim_inject(sim, A_ADDR, buf, len), 0);
    tcpw_sim_run_idle(sim, UINT64_MAX);
    CHECK_EQ(rq.n, 1);
    CHECK(seen_from(&w, 1, PUB_ADDR, 60000, 443)); /* TCP ports: their own space */
    len = tcpw_icmp_build(err, sizeof(err), Q_ADDR, PUB_ADDR, 3, 1, 0, rq.last, rq.last_len);
    CHECK(len > 0);
    CHECK_EQ_I(tcpw_sim_inject(sim, Q_ADDR, err, len), 0);
    tcpw_sim_run_idle(sim, UINT64_MAX);
    CHECK_EQ(r1.n, 2);
    CHECK_EQ(tcpw_packet_parse(r1.last, r1.last_len, &p), TCPW_DROP_NONE);
    CHECK_EQ(p.ip.dst, A_ADDR);
    CHECK_EQ(p.l4.icmp.type, 3);
    CHECK_EQ(tcpw_packet_parse(p.l4.icmp.data, p.l4.icmp.data_len, &quoted), TCPW_DROP_NONE);
    CHECK_EQ(quoted.ip.src, A_ADDR);
    CHECK_EQ(quoted.ip.dst, Q_ADDR);
    CHECK_EQ(quoted.l4.tcp.sport, 33000);
    CHECK_EQ(quoted.l4.tcp.seq, 77);

    /* Nothing mapped at public:60001: no route. */
    rec_init(&rec);
    tcpw_sim_set_observer(sim, rec_observer, &rec);
    len = build_syn(buf, sizeof(buf), Q_ADDR, PUB_ADDR, 443, 60001, 1);
    CHECK_EQ_I(tcpw_sim_inject(sim, Q_ADDR, buf, len), 0);
    tcpw_sim_run_idle(sim, UINT64_MAX);
    CHECK_EQ(rec.nevents, 2);
    CHECK_EQ(rec.log[1].ev, TCPW_SIM_NO_ROUTE);
    CHECK_EQ(rec.log[1].host, Q_ADDR);
    tcpw_sim_destroy(sim);
    rx_free(&r1);
    rx_free(&rq);
}

/* --- (g) virtual time
 * ----------------------------------------------------------------------------- */

#define HOUR_US 3600000000ull

static void test_hour_long_delay_is_one_step(void)
{
    struct tcpw_impairment slow = {.delay_us = HOUR_US};
    struct rx rb = {0}, rc = {0};
    struct tcpw_sim *sim = raw_sim(41, &rb, &rc, NULL);
    uint8_t buf[PROBE_LEN];

    CHECK(sim);
    CHECK_EQ_I(tcpw_sim_set_path(sim, A_ADDR, B_ADDR, &slow), 0);
    probe(buf, A_ADDR, B_ADDR, 0);
    CHECK_EQ_I(tcpw_sim_inject(sim, A_ADDR, buf, sizeof(buf)), 0);
    CHECK_EQ(tcpw_sim_next_event(sim), HOUR_US);
    CHECK_EQ(tcpw_sim_run_until(sim, HOUR_US - 1), 0);
    CHECK_EQ(tcpw_sim_now(sim), HOUR_US - 1);
    CHECK_EQ(rb.n, 0);
    CHECK_EQ(tcpw_sim_run_until(sim, HOUR_US), 1);
    CHECK_EQ(tcpw_sim_now(sim), HOUR_US);
    CHECK_EQ(rb.n, 1);
    CHECK_EQ(rb.t[0], HOUR_US);
    /* The clock never goes back. */
    CHECK_EQ(tcpw_sim_run_until(sim, 5), 0);
    CHECK_EQ(tcpw_sim_now(sim), HOUR_US);
    CHECK_EQ_I(tcpw_sim_step(sim), 0);
    tcpw_sim_destroy(sim);
    rx_free(&rb);
    rx_free(&rc);
}

static void test_hour_long_timer(void)
{
    struct tcpw_sim *sim = NULL;
    struct tcpw_stack *st = NULL;
    struct fired f = {0};
    uint64_t steps;

    CHECK_EQ_I(tcpw_sim_create(42, &sim), 0);
    CHECK_EQ_I(tcpw_sim_add_host(sim, "h", B_ADDR, NULL, &st), 0);
    tcpw_timer_init(&f.timer, on_fire);
    tcpw_timer_arm(&st->wheel, &f.timer, HOUR_US + 17);
    steps = tcpw_sim_run_until(sim, 2 * HOUR_US);
    printf("# a timer one hour away: %" PRIu64 " event instants\n", steps);
    CHECK_EQ(f.count, 1);
    CHECK_EQ(f.at, HOUR_US + 17);
    /* Wheel cascades may add a few instants, never one per µs or ms. */
    CHECK(steps >= 1 && steps <= 64);
    CHECK_EQ(tcpw_sim_now(sim), 2 * HOUR_US);
    CHECK_EQ(tcpw_stack_now(st), 2 * HOUR_US);
    tcpw_sim_destroy(sim);
}

static void test_run_idle_stops_at_limit(void)
{
    struct tcpw_impairment slow = {.delay_us = 10000000};
    struct rx rb = {0}, rc = {0};
    struct tcpw_sim *sim = raw_sim(43, &rb, &rc, NULL);
    uint8_t buf[PROBE_LEN];

    CHECK(sim);
    CHECK_EQ_I(tcpw_sim_set_path(sim, A_ADDR, B_ADDR, &slow), 0);
    CHECK_EQ(tcpw_sim_run_idle(sim, 1000), 0); /* nothing pending */
    probe(buf, A_ADDR, B_ADDR, 0);
    CHECK_EQ_I(tcpw_sim_inject(sim, A_ADDR, buf, sizeof(buf)), 0);
    CHECK_EQ(tcpw_sim_run_idle(sim, 5000000), 0);
    CHECK_EQ(tcpw_sim_now(sim), 0);
    CHECK_EQ(tcpw_sim_in_flight(sim), 1);
    CHECK_EQ(tcpw_sim_run_idle(sim, UINT64_MAX), 1);
    CHECK_EQ(tcpw_sim_now(sim), 10000000);
    CHECK_EQ(tcpw_sim_in_flight(sim), 0);
    CHECK_EQ(rb.n, 1);
    /* Packets left in flight are freed by destroy (LSan checks). */
    CHECK_EQ_I(tcpw_sim_inject(sim, A_ADDR, buf, sizeof(buf)), 0);
    CHECK_EQ_I(tcpw_sim_inject(sim, A_ADDR, buf, sizeof(buf)), 0);
    CHECK_EQ(tcpw_sim_in_flight(sim), 2);
    tcpw_sim_destroy(sim);
    rx_free(&rb);
    rx_free(&rc);
}

/* --- (h) errors
 * ------------------------------------------------------------------------------------ */

static void test_errors(void)
{
    struct tcpw_impairment ok = {.loss = 1.0, .duplicate = 0.0, .reorder = 1.0};
    struct tcpw_impairment bad = {0};
    struct tcpw_sim *sim = NULL;
    struct tcpw_stack *st = (struct tcpw_stack *)&st;
    uint8_t buf[PROBE_LEN];

    CHECK_EQ_I(tcpw_sim_create(51, NULL), -EINVAL);
    CHECK_EQ_I(tcpw_sim_create(51, &sim), 0);
    CHECK_EQ(tcpw_sim_now(sim), 0);
    CHECK_EQ(tcpw_sim_next_event(sim), TCPW_NO_DEADLINE);
    CHECK_EQ_I(tcpw_sim_step(sim), 0);
    CHECK_EQ_I(tcpw_sim_add_host(sim, "a", A_ADDR, NULL, NULL), 0);
    CHECK_EQ_I(tcpw_sim_add_host(sim, "a2", A_ADDR, NULL, &st), -EEXIST);
    CHECK(st == NULL);
    CHECK_EQ_I(tcpw_sim_add_raw_host(sim, "a3", A_ADDR, NULL, NULL), -EEXIST);
    CHECK_EQ_I(tcpw_sim_add_host(sim, "zero", 0, NULL, NULL), -EINVAL);
    CHECK_EQ_I(tcpw_sim_add_raw_host(sim, "bcast", UINT32_MAX, NULL, NULL), -EINVAL);
    CHECK_EQ_I(tcpw_sim_add_host(sim, NULL, B_ADDR, NULL, NULL), -EINVAL);
    CHECK_EQ_I(tcpw_sim_add_raw_host(sim, "b", B_ADDR, NULL, NULL), 0);
    CHECK_STR(tcpw_sim_host_name(sim, A_ADDR), "a");
    CHECK_STR(tcpw_sim_host_name(sim, B_ADDR), "b");
    CHECK(tcpw_sim_host_name(sim, C_ADDR) == NULL);
    CHECK(tcpw_sim_stack(sim, A_ADDR) != NULL);
    CHECK(tcpw_sim_stack(sim, B_ADDR) == NULL); /* raw */
    CHECK(tcpw_sim_stack(sim, C_ADDR) == NULL);

    CHECK_EQ_I(tcpw_sim_set_path(sim, A_ADDR, B_ADDR, &ok), 0); /* 0 and 1 are rates */
    CHECK_EQ_I(tcpw_sim_set_path(sim, A_ADDR, B_ADDR, NULL), -EINVAL);
    bad.loss = 1.5;
    CHECK_EQ_I(tcpw_sim_set_path(sim, A_ADDR, B_ADDR, &bad), -EINVAL);
    bad.loss = -0.1;
    CHECK_EQ_I(tcpw_sim_set_path(sim, A_ADDR, B_ADDR, &bad), -EINVAL);
    bad.loss = NAN;
    CHECK_EQ_I(tcpw_sim_set_path(sim, A_ADDR, B_ADDR, &bad), -EINVAL);
    CHECK_EQ_I(tcpw_sim_set_default_path(sim, &bad), -EINVAL);
    bad.loss = 0;
    bad.duplicate = NAN;
    CHECK_EQ_I(tcpw_sim_set_path(sim, A_ADDR, B_ADDR, &bad), -EINVAL);
    bad.duplicate = 0;
    bad.reorder = 1.0000001;
    CHECK_EQ_I(tcpw_sim_set_path(sim, A_ADDR, B_ADDR, &bad), -EINVAL);
    CHECK_EQ_I(tcpw_sim_set_default_path(sim, &bad), -EINVAL);
    CHECK_EQ_I(tcpw_sim_set_default_path(sim, NULL), -EINVAL);
    bad.reorder = INFINITY;
    CHECK_EQ_I(tcpw_sim_set_default_path(sim, &bad), -EINVAL);

    CHECK_EQ_I(tcpw_sim_set_black_hole(sim, C_ADDR, true), -ENOENT);
    CHECK_EQ_I(tcpw_sim_set_nat(sim, C_ADDR, PUB_ADDR, 1000), -ENOENT);
    CHECK_EQ_I(tcpw_sim_set_nat(sim, A_ADDR, PUB_ADDR, 0), -EINVAL);
    CHECK_EQ_I(tcpw_sim_set_nat(sim, A_ADDR, 0, 1000), -EINVAL);
    CHECK_EQ_I(tcpw_sim_restart_host(sim, C_ADDR, NULL), -ENOENT);

    probe(buf, A_ADDR, B_ADDR, 0);
    CHECK_EQ_I(tcpw_sim_inject(sim, A_ADDR, buf, 19), -EINVAL);
    CHECK_EQ_I(tcpw_sim_inject(sim, A_ADDR, NULL, 20), -EINVAL);
    CHECK_EQ_I(tcpw_sim_inject(sim, A_ADDR, buf, 20), 0); /* a bare header is enough */
    CHECK_EQ(tcpw_sim_in_flight(sim), 0);                 /* A->B loses everything */
    tcpw_sim_destroy(sim);
    tcpw_sim_destroy(NULL);
}

int main(void)
{
    RUN(test_loss_rate);
    RUN(test_loss_extremes);
    RUN(test_duplicate_rate);
    RUN(test_reorder_rate_and_bounds);
    RUN(test_jitter_never_reorders);
    RUN(test_jitter_uniform);
    RUN(test_same_seed_same_run);
    RUN(test_paths_independent);
    RUN(test_syn_gets_rst);
    RUN(test_processed_follows_delivery);
    RUN(test_asymmetric_delays);
    RUN(test_icmp_echo_round_trip);
    RUN(test_zero_delay_same_instant);
    RUN(test_no_route);
    RUN(test_black_hole_receiver);
    RUN(test_black_hole_sender);
    RUN(test_black_hole_stops_timers);
    RUN(test_restart_host);
    RUN(test_nat_tcp);
    RUN(test_nat_icmp_echo_and_errors);
    RUN(test_hour_long_delay_is_one_step);
    RUN(test_hour_long_timer);
    RUN(test_run_idle_stops_at_limit);
    RUN(test_errors);
    return check_summary();
}
