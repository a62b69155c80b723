/* Unit tests of stack/timer_wheel: focused cases for ordering, large times and
 * the deadline, then a million random operations checked step by step
 * against a naive model (a sorted array ordered by (expires, seq)).
 *
 * The semantics being checked (see timer_wheel.h): an expiry before the
 * wheel's time is stored as the wheel's time; timers fire in (expires, arming
 * sequence) order; the callback receives the timer's expiry as `now`, and the
 * wheel's time during the callback is that instant, so callbacks that arm for
 * "now or earlier" fire within the same advance.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "stack/timer_wheel.h"

/* ------------------------------------------------------------------------- */
/* A small recorder for the focused tests. */

#define REC_MAX 64

struct rec_timer;
typedef void (*rec_action_fn)(struct rec_timer *rt, uint64_t now);

struct recorder {
    struct tcpw_wheel wheel;
    unsigned ids[REC_MAX * 4];
    uint64_t nows[REC_MAX * 4];
    size_t n;
};

struct rec_timer {
    struct tcpw_timer t; /* first member: the callback casts back */
    unsigned id;
    struct recorder *r;
    rec_action_fn action; /* optional extra work inside the callback */
    struct rec_timer *other;
    uint64_t arg;
    unsigned count;
};

static void rec_fire(struct tcpw_timer *t, uint64_t now)
{
    struct rec_timer *rt = (struct rec_timer *)(void *)((char *)t - offsetof(struct rec_timer, t));
    struct recorder *r = rt->r;
    if (r->n < sizeof(r->ids) / sizeof(r->ids[0])) {
        r->ids[r->n] = rt->id;
        r->nows[r->n] = now;
        r->n++;
    }
    rt->count++;
    if (rt->action)
        rt->action(rt, now);
}

static void rec_init(struct recorder *r, uint64_t now, struct rec_timer *ts, size_t n)
{
    memset(r, 0, sizeof(*r));
    tcpw_wheel_init(&r->wheel, now);
    for (size_t i = 0; i < n; i++) {
        memset(&ts[i], 0, sizeof(ts[i]));
        tcpw_timer_init(&ts[i].t, rec_fire);
        ts[i].id = (unsigned)i;
        ts[i].r = r;
    }
}

static void arm(struct recorder *r, struct rec_timer *rt, uint64_t expires)
{
    tcpw_timer_arm(&r->wheel, &rt->t, expires);
}

/* Timers due at one instant fire in arming order, whichever level each was
 * armed into and however many cascades brought it down. */
static void test_same_instant_across_levels(void)
{
    static struct recorder r;
    static struct rec_timer t[8];
    const uint64_t E = 50000000; /* 50 s: armed from level 4 down to level 0 */

    rec_init(&r, 0, t, 8);
    arm(&r, &t[0], E); /* level 4 */
    tcpw_wheel_advance(&r.wheel, E - 3000000);
    arm(&r, &t[1], E); /* lower level, after a cascade */
    tcpw_wheel_advance(&r.wheel, E - 200000);
    arm(&r, &t[2], E);
    tcpw_wheel_advance(&r.wheel, E - 3000);
    arm(&r, &t[3], E);
    tcpw_wheel_advance(&r.wheel, E - 100);
    arm(&r, &t[4], E);
    tcpw_wheel_advance(&r.wheel, E - 1);
    arm(&r, &t[5], E); /* level 0 directly */
    arm(&r, &t[0], E); /* re-arm: now the newest */
    arm(&r, &t[6], E + 1);
    arm(&r, &t[7], E - 1); /* due now: before everything at E */
    CHECK_EQ(r.wheel.armed_count, 8);
    CHECK_EQ(tcpw_wheel_next_deadline(&r.wheel), E - 1);
    CHECK_EQ(tcpw_wheel_advance(&r.wheel, E + 1), 8);
    static const unsigned want[] = {7, 1, 2, 3, 4, 5, 0, 6};
    CHECK_EQ(r.n, 8);
    for (size_t i = 0; i < 8; i++) {
        CHECK_EQ(r.ids[i], want[i]);
        CHECK_EQ(r.nows[i], i == 0 ? E - 1 : i == 7 ? E + 1 : E);
    }
    CHECK_EQ(r.wheel.armed_count, 0);
    CHECK_EQ(tcpw_wheel_next_deadline(&r.wheel), UINT64_MAX);
}

/* The same, with the group of equal expiries at a level boundary (the expiry
 * has all low bits zero, so it cascades straight into the level-0 slot of
 * the cascade instant) mixed with a timer armed directly there afterwards. */
static void test_same_instant_at_boundary(void)
{
    static struct recorder r;
    static struct rec_timer t[6];
    const uint64_t E = (uint64_t)1 << 30;

    rec_init(&r, 0, t, 6);
    arm(&r, &t[0], E);
    arm(&r, &t[1], E + 1);
    arm(&r, &t[2], E);
    tcpw_wheel_advance(&r.wheel, E - 1); /* nothing due yet */
    CHECK_EQ(r.n, 0);
    arm(&r, &t[3], E);
    arm(&r, &t[4], E - 7); /* in the past: due at E - 1 */
    tcpw_wheel_advance(&r.wheel, E);
    arm(&r, &t[5], E); /* due now, after t[0], t[2], t[3] have fired */
    tcpw_wheel_advance(&r.wheel, E + 1);
    static const unsigned want[] = {4, 0, 2, 3, 5, 1};
    CHECK_EQ(r.n, 6);
    for (size_t i = 0; i < 6; i++)
        CHECK_EQ(r.ids[i], want[i]);
    CHECK_EQ(r.nows[0], E - 1);
    CHECK_EQ(r.nows[4], E);
    CHECK_EQ(r.nows[5], E + 1);
}

/* Arming for the wheel's time or earlier: due at the wheel's time, after
 * what is already due then, and fired by the next advance even if it does not
 * move time (or tries to move it backwards). */
static void test_past_expiry(void)
{
    static struct recorder r;
    static struct rec_timer t[5];

    rec_init(&r, 1000, t, 5);
    arm(&r, &t[0], 1000);
    arm(&r, &t[1], 500);
    arm(&r, &t[2], 1000);
    arm(&r, &t[3], 0);
    CHECK_EQ(t[1].t.expires, 1000);
    CHECK_EQ(t[3].t.expires, 1000);
    CHECK_EQ(tcpw_wheel_next_deadline(&r.wheel), 1000);
    CHECK_EQ(tcpw_wheel_advance(&r.wheel, 1000), 4);
    for (unsigned i = 0; i < 4; i++) {
        CHECK_EQ(r.ids[i], i);
        CHECK_EQ(r.nows[i], 1000);
    }
    CHECK_EQ(tcpw_wheel_advance(&r.wheel, 1000), 0);
    arm(&r, &t[4], 3);
    CHECK_EQ(tcpw_wheel_advance(&r.wheel, 5), 1); /* backwards: fires what is due */
    CHECK_EQ(r.nows[4], 1000);
    CHECK_EQ(r.wheel.now, 1000);
}

static void act_arm_other(struct rec_timer *rt, uint64_t now)
{
    tcpw_timer_arm(&rt->r->wheel, &rt->other->t, now + rt->arg);
}

static void act_rearm_self_now(struct rec_timer *rt, uint64_t now)
{
    if (rt->count < rt->arg)
        tcpw_timer_arm(&rt->r->wheel, &rt->t, now - (rt->count & 1u)); /* now, or the past */
}

static void act_cancel_other(struct rec_timer *rt, uint64_t now)
{
    (void)now;
    tcpw_timer_cancel(&rt->r->wheel, &rt->other->t);
}

/* Callbacks that arm for now, the past, or before the advance target: all
 * fire in the same advance, in order; one armed beyond the target waits. */
static void test_callback_arms_due_timers(void)
{
    static struct recorder r;
    static struct rec_timer t[8];

    rec_init(&r, 0, t, 8);
    /* t0 at 100 arms t1 for 100 - 5 (due at 100, after t2 already due then). */
    t[0].action = act_arm_other;
    t[0].other = &t[1];
    t[0].arg = (uint64_t)-5;
    /* t1's callback arms t3 for +7 (inside the target), t3 arms t4 beyond it. */
    t[1].action = act_arm_other;
    t[1].other = &t[3];
    t[1].arg = 7;
    t[3].action = act_arm_other;
    t[3].other = &t[4];
    t[3].arg = 1000;
    /* t5 re-arms itself for now ten times over. */
    t[5].action = act_rearm_self_now;
    t[5].arg = 10;
    arm(&r, &t[0], 100);
    arm(&r, &t[2], 100);
    arm(&r, &t[5], 107);
    arm(&r, &t[6], 107);
    CHECK_EQ(tcpw_wheel_advance(&r.wheel, 200), 15);
    static const unsigned want[] = {0, 2, 1, 5, 6, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5};
    CHECK_EQ(r.n, 15);
    for (size_t i = 0; i < 15; i++)
        CHECK_EQ(r.ids[i], want[i]);
    CHECK_EQ(r.nows[2], 100);
    CHECK_EQ(r.nows[14], 107);
    CHECK(tcpw_timer_armed(&t[4].t));
    CHECK_EQ(t[4].t.expires, 1107);
    CHECK_EQ(r.wheel.armed_count, 1);
}

/* A callback cancels a timer waiting in the same slot, and its own re-arm. */
static void test_callback_cancels(void)
{
    static struct recorder r;
    static struct rec_timer t[3];

    rec_init(&r, 0, t, 3);
    t[0].action = act_cancel_other;
    t[0].other = &t[1];
    arm(&r, &t[0], 5000);
    arm(&r, &t[1], 5000);
    arm(&r, &t[2], 5000);
    CHECK_EQ(tcpw_wheel_advance(&r.wheel, 6000), 2);
    CHECK_EQ(r.ids[0], 0);
    CHECK_EQ(r.ids[1], 2);
    CHECK(!tcpw_timer_armed(&t[1].t));
    CHECK_EQ(r.wheel.armed_count, 0);
}

static void test_cancel_unarmed(void)
{
    static struct recorder r;
    static struct rec_timer t[2];
    struct tcpw_timer zero = {0};

    rec_init(&r, 77, t, 2);
    tcpw_timer_cancel(&r.wheel, &zero);
    tcpw_timer_cancel(&r.wheel, &t[0].t);
    tcpw_timer_cancel(&r.wheel, &t[0].t);
    CHECK_EQ(r.wheel.armed_count, 0);
    arm(&r, &t[0], 100);
    arm(&r, &t[1], 100);
    tcpw_timer_cancel(&r.wheel, &t[0].t);
    tcpw_timer_cancel(&r.wheel, &t[0].t);
    CHECK_EQ(r.wheel.armed_count, 1);
    CHECK_EQ(tcpw_wheel_advance(&r.wheel, 100), 1);
    tcpw_timer_cancel(&r.wheel, &t[1].t); /* after it fired */
    CHECK_EQ(r.wheel.armed_count, 0);
    CHECK_EQ(r.ids[0], 1);
    /* A zero-initialised timer without a callback may be armed; it just
     * disarms when due. */
    tcpw_timer_arm(&r.wheel, &zero, 150);
    CHECK_EQ(tcpw_wheel_advance(&r.wheel, 150), 1);
    CHECK(!tcpw_timer_armed(&zero));
}

static void test_rearm_armed(void)
{
    static struct recorder r;
    static struct rec_timer t[3];

    rec_init(&r, 0, t, 3);
    arm(&r, &t[0], 1000000);
    arm(&r, &t[0], 50); /* earlier */
    CHECK_EQ(r.wheel.armed_count, 1);
    CHECK_EQ(tcpw_wheel_next_deadline(&r.wheel), 50);
    arm(&r, &t[0], 1 << 20); /* later again */
    arm(&r, &t[1], 1 << 20);
    arm(&r, &t[2], 1 << 20);
    arm(&r, &t[0], 1 << 20); /* same time, now last in line */
    CHECK_EQ(r.wheel.armed_count, 3);
    CHECK_EQ(tcpw_wheel_advance(&r.wheel, 1 << 20), 3);
    CHECK_EQ(r.ids[0], 1);
    CHECK_EQ(r.ids[1], 2);
    CHECK_EQ(r.ids[2], 0);
    CHECK_EQ(t[0].count, 1);
}

/* Times near 2^64: the top level covers bits 60..63, and nothing may shift
 * by 64 or overflow. */
static void test_large_times(void)
{
    static struct recorder r;
    static struct rec_timer t[8];
    const uint64_t top = UINT64_MAX;

    rec_init(&r, 0, t, 8);
    arm(&r, &t[0], top);
    arm(&r, &t[1], (uint64_t)1 << 63);
    arm(&r, &t[2], ((uint64_t)1 << 60) - 1);
    arm(&r, &t[3], (uint64_t)1 << 60);
    arm(&r, &t[4], top - 1);
    arm(&r, &t[5], top);
    CHECK_EQ(tcpw_wheel_next_deadline(&r.wheel), ((uint64_t)1 << 60) - 1);
    CHECK_EQ(tcpw_wheel_advance(&r.wheel, top - 1), 4);
    CHECK_EQ(tcpw_wheel_next_deadline(&r.wheel), top);
    CHECK_EQ(tcpw_wheel_advance(&r.wheel, top), 2);
    static const unsigned want[] = {2, 3, 1, 4, 0, 5};
    for (size_t i = 0; i < 6; i++)
        CHECK_EQ(r.ids[i], want[i]);
    CHECK_EQ(r.nows[4], top);
    CHECK_EQ(r.wheel.now, top);
    /* At the end of time, anything armed is due at once. */
    arm(&r, &t[6], 12);
    arm(&r, &t[7], top);
    CHECK_EQ(tcpw_wheel_advance(&r.wheel, top), 2);
    CHECK_EQ(r.ids[6], 6);
    CHECK_EQ(r.ids[7], 7);

    /* Start just below a top-level boundary. */
    rec_init(&r, ((uint64_t)1 << 60) - 1, t, 8);
    arm(&r, &t[0], (uint64_t)1 << 60);
    arm(&r, &t[1], ((uint64_t)1 << 60) - 1);
    CHECK_EQ(tcpw_wheel_advance(&r.wheel, (uint64_t)1 << 60), 2);
    CHECK_EQ(r.ids[0], 1);
    CHECK_EQ(r.ids[1], 0);
}

/* A jump from 0 to 10^15 with thousands of timers spread over it (a third
 * of them on a few shared instants) must be one quick call that fires all of
 * them in (expires, seq) order, each told its own expiry. */
struct jump_state {
    uint64_t last_expires, last_seq, fired;
    bool ok;
};

struct jump_timer {
    struct tcpw_timer t; /* first member */
    struct jump_state *s;
};

static void jump_fire(struct tcpw_timer *t, uint64_t now)
{
    struct jump_state *s = ((struct jump_timer *)(void *)t)->s;
    if (now != t->expires || now < s->last_expires ||
        (s->fired && now == s->last_expires && t->seq <= s->last_seq))
        s->ok = false;
    s->last_expires = now;
    s->last_seq = t->seq;
    s->fired++;
}

static void test_huge_jump(void)
{
    enum { N = 20000 };
    static struct jump_timer b[N];
    static struct tcpw_wheel w;
    struct jump_state st = {.ok = true};
    const uint64_t end = 1000000000000000ULL;
    uint64_t rng = 42;

    tcpw_wheel_init(&w, 0);
    for (size_t i = 0; i < N; i++) {
        uint64_t x = check_rand(&rng);
        tcpw_timer_init(&b[i].t, jump_fire);
        b[i].s = &st;
        tcpw_timer_arm(&w, &b[i].t, x % 3 == 0 ? (x >> 8) % 4 * (end / 4) : (x >> 8) % end);
    }
    CHECK_EQ(tcpw_wheel_advance(&w, end), N);
    CHECK_EQ(st.fired, N);
    CHECK(st.ok);
    CHECK_EQ(w.armed_count, 0);
    CHECK_EQ(tcpw_wheel_next_deadline(&w), UINT64_MAX);
    /* An empty wheel jumps to the end of time at once. */
    CHECK_EQ(tcpw_wheel_advance(&w, UINT64_MAX - 1), 0);
    CHECK_EQ(w.now, UINT64_MAX - 1);
}

/* The deadline: exact while the earliest timer's slot keeps its earliest
 * member; after that one is cancelled, its old expiry (a lower bound); after
 * advancing there, exact. */
static void test_next_deadline(void)
{
    static struct recorder r;
    static struct rec_timer t[4];

    rec_init(&r, 0, t, 4);
    CHECK_EQ(tcpw_wheel_next_deadline(&r.wheel), UINT64_MAX);
    arm(&r, &t[0], 123456789);
    CHECK_EQ(tcpw_wheel_next_deadline(&r.wheel), 123456789);
    arm(&r, &t[1], 123456000);
    arm(&r, &t[2], 123456999);
    CHECK_EQ(tcpw_wheel_next_deadline(&r.wheel), 123456000);
    tcpw_timer_cancel(&r.wheel, &t[0].t); /* not the earliest: still exact */
    CHECK_EQ(tcpw_wheel_next_deadline(&r.wheel), 123456000);
    tcpw_timer_cancel(&r.wheel, &t[1].t); /* the earliest: lower bound */
    uint64_t d = tcpw_wheel_next_deadline(&r.wheel);
    CHECK_EQ(d, 123456000);
    /* The driver's loop: advance to the deadline until the timer fires. */
    unsigned steps = 0;
    while (r.n == 0 && steps < 20) {
        d = tcpw_wheel_next_deadline(&r.wheel);
        tcpw_wheel_advance(&r.wheel, d);
        steps++;
    }
    CHECK_EQ(r.n, 1);
    CHECK_EQ(r.nows[0], 123456999);
    CHECK(steps <= 2);
    CHECK_EQ(tcpw_wheel_next_deadline(&r.wheel), UINT64_MAX);
}

/* ------------------------------------------------------------------------- */
/* Random operations against a model. */

#define NT        4096u
#define CB_BUDGET 256u
#define LOG_CAP   (NT + CB_BUDGET * 3u + 16u)

struct fuzz;

struct ftimer {
    struct tcpw_timer t; /* first member */
    unsigned id;
    struct fuzz *f;
};

struct mentry {
    uint64_t expires, seq;
    unsigned id;
};

struct firing {
    unsigned id;
    uint64_t now;
};

struct flog {
    struct firing e[LOG_CAP];
    size_t n;
    bool overflow;
};

struct model {
    uint64_t now, next_seq;
    struct mentry q[NT]; /* armed timers, sorted by (expires, seq) */
    size_t n;
    bool armed[NT];
    uint64_t expires[NT], seq[NT];
};

struct fuzz {
    struct tcpw_wheel wheel;
    struct ftimer timers[NT];
    struct model m;
    uint64_t cb_rng;
    unsigned cb_budget;
    struct flog mlog, wlog;
    uint64_t hot[8]; /* shared expiry times, so that many timers tie */
};

enum act_kind { ACT_ARM, ACT_CANCEL };

struct action {
    enum act_kind kind;
    unsigned id;
    uint64_t expires;
};

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}
static uint64_t sat_sub(uint64_t a, uint64_t b)
{
    return a < b ? 0 : a - b;
}

/* A distance in µs on every scale from 0 to days, plus rare huge ones. */
static uint64_t rand_delta(uint64_t *rng)
{
    uint64_t x = check_rand(rng);
    uint64_t v = x >> 8;
    switch (x % 16) {
    case 0:
    case 1:
        return 0;
    case 2:
    case 3:
        return v % 64;
    case 4:
    case 5:
        return v % 4096;
    case 6:
    case 7:
        return v % (1u << 18);
    case 8:
        return v % (1u << 24);
    case 9:
        return v % 60000000u; /* a minute */
    case 10:
        return v % (3ULL * 3600 * 1000000); /* hours */
    case 11:
        return (uint64_t)1 << (v % 40); /* level boundaries */
    case 12:
        return ((uint64_t)1 << (v % 40)) - 1;
    case 13:
        return v % (48ULL * 3600 * 1000000); /* days */
    case 14:
        return v % 1000;
    default:
        /* Rarely, anything up to 2^56. */
        return (v % 64 == 0) ? check_rand(rng) >> 8 : v % 100;
    }
}

/* How far an advance moves: mostly a little, so that hundreds of timers stay
 * armed across all levels, sometimes hours or days, which sweeps the wheel. */
static uint64_t rand_step(uint64_t *rng)
{
    uint64_t x = check_rand(rng);
    uint64_t v = x >> 10, k = x % 1024;
    if (k < 400)
        return v % 64;
    if (k < 700)
        return v % 4096;
    if (k < 900)
        return v % (1u << 18);
    if (k < 1021)
        return v % (1u << 24);
    if (k < 1023 || (v & 15) != 0)
        return v % (3ULL * 3600 * 1000000);
    return v % (48ULL * 3600 * 1000000);
}

/* -- model -- */

static size_t model_pos(const struct model *m, uint64_t expires, uint64_t seq)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct mentry *e = &m->q[mid];
        if (e->expires < expires || (e->expires == expires && e->seq < seq))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void model_remove(struct model *m, unsigned id)
{
    size_t pos;
    if (!m->armed[id])
        return;
    pos = model_pos(m, m->expires[id], m->seq[id]);
    /* The id is certainly there; the check keeps a broken model loud. */
    if (pos >= m->n || m->q[pos].id != id)
        abort();
    memmove(&m->q[pos], &m->q[pos + 1], (m->n - pos - 1) * sizeof(m->q[0]));
    m->n--;
    m->armed[id] = false;
}

static void model_arm(struct model *m, unsigned id, uint64_t expires)
{
    size_t pos;
    model_remove(m, id);
    if (expires < m->now)
        expires = m->now;
    m->armed[id] = true;
    m->expires[id] = expires;
    m->seq[id] = m->next_seq++;
    pos = model_pos(m, expires, m->seq[id]);
    memmove(&m->q[pos + 1], &m->q[pos], (m->n - pos) * sizeof(m->q[0]));
    m->q[pos] = (struct mentry){expires, m->seq[id], id};
    m->n++;
}

static void log_push(struct flog *l, unsigned id, uint64_t now)
{
    if (l->n == LOG_CAP) {
        l->overflow = true;
        return;
    }
    l->e[l->n++] = (struct firing){id, now};
}

/* What a callback does, drawn from the per-advance generator: the same
 * draws in the model's run and the wheel's as long as both fire the same
 * sequence. Re-arms self (often for now or the past), arms another, cancels
 * another. A budget bounds chains of re-arms for "now". */
static size_t decide(struct fuzz *f, unsigned id, uint64_t now, struct action out[3])
{
    size_t n = 0;
    uint64_t r;

    if (f->cb_budget == 0)
        return 0;
    r = check_rand(&f->cb_rng);
    for (int k = 0; k < 3; k++) {
        unsigned pick = (unsigned)(r >> (8 * k)) & 255u;
        unsigned target = (unsigned)(r >> (24 + 10 * k)) % NT;
        uint64_t x = check_rand(&f->cb_rng), e;
        switch (x % 5) {
        case 0:
            e = now;
            break;
        case 1:
            e = sat_sub(now, (x >> 8) % 5000);
            break;
        case 2:
            e = sat_add(now, (x >> 8) % 200);
            break;
        case 3:
            e = f->hot[(x >> 8) % 8];
            break;
        default:
            e = sat_add(now, rand_delta(&f->cb_rng));
            break;
        }
        if (k == 0 && pick < 90)
            out[n++] = (struct action){ACT_ARM, id, e};
        else if (k == 1 && pick < 60)
            out[n++] = (struct action){ACT_ARM, target, e};
        else if (k == 2 && pick < 40)
            out[n++] = (struct action){ACT_CANCEL, target, 0};
    }
    f->cb_budget = f->cb_budget > n ? f->cb_budget - (unsigned)n : 0;
    return n;
}

static void model_advance(struct fuzz *f, uint64_t target)
{
    struct model *m = &f->m;
    struct action acts[3];

    if (target < m->now)
        target = m->now;
    while (m->n && m->q[0].expires <= target) {
        struct mentry e = m->q[0];
        model_remove(m, e.id);
        m->now = e.expires;
        log_push(&f->mlog, e.id, e.expires);
        size_t na = decide(f, e.id, e.expires, acts);
        for (size_t i = 0; i < na; i++) {
            if (acts[i].kind == ACT_ARM)
                model_arm(m, acts[i].id, acts[i].expires);
            else
                model_remove(m, acts[i].id);
        }
    }
    m->now = target;
}

static void fuzz_fire(struct tcpw_timer *t, uint64_t now)
{
    struct ftimer *ft = (struct ftimer *)(void *)((char *)t - offsetof(struct ftimer, t));
    struct fuzz *f = ft->f;
    struct action acts[3];

    log_push(&f->wlog, ft->id, now);
    size_t na = decide(f, ft->id, now, acts);
    for (size_t i = 0; i < na; i++) {
        struct tcpw_timer *other = &f->timers[acts[i].id].t;
        if (acts[i].kind == ACT_ARM)
            tcpw_timer_arm(&f->wheel, other, acts[i].expires);
        else
            tcpw_timer_cancel(&f->wheel, other);
    }
}

struct fuzz_stats {
    uint64_t advances, fired, deadline_checks, deadline_exact, armed_sum;
};

static uint64_t model_earliest(const struct model *m)
{
    return m->n ? m->q[0].expires : UINT64_MAX;
}

/* Advances both, then compares the firing sequences and the state. Returns
 * false (after reporting) on the first difference. */
static bool fuzz_advance(struct fuzz *f, uint64_t target, uint64_t seed, struct fuzz_stats *st,
                         uint64_t op)
{
    uint64_t n;

    f->mlog.n = f->wlog.n = 0;
    f->cb_rng = seed;
    f->cb_budget = CB_BUDGET;
    model_advance(f, target);
    f->cb_rng = seed;
    f->cb_budget = CB_BUDGET;
    n = tcpw_wheel_advance(&f->wheel, target);
    st->advances++;
    st->fired += n;
    if (f->mlog.overflow || f->wlog.overflow) {
        check_fail(__FILE__, __LINE__, "op %" PRIu64 ": firing log overflow", op);
        return false;
    }
    if (n != f->wlog.n || f->mlog.n != f->wlog.n) {
        check_fail(__FILE__, __LINE__,
                   "op %" PRIu64 ": advance to %" PRIu64 " fired %" PRIu64
                   " (logged %zu), model %zu",
                   op, target, n, f->wlog.n, f->mlog.n);
        return false;
    }
    check_assertions += 3 + n;
    for (size_t i = 0; i < n; i++) {
        if (f->mlog.e[i].id != f->wlog.e[i].id || f->mlog.e[i].now != f->wlog.e[i].now) {
            check_fail(__FILE__, __LINE__,
                       "op %" PRIu64 ": firing %zu: wheel timer %u at %" PRIu64
                       ", model timer %u at %" PRIu64,
                       op, i, f->wlog.e[i].id, f->wlog.e[i].now, f->mlog.e[i].id, f->mlog.e[i].now);
            return false;
        }
    }
    if (f->wheel.now != f->m.now || f->wheel.armed_count != f->m.n) {
        check_fail(__FILE__, __LINE__,
                   "op %" PRIu64 ": wheel now %" PRIu64 " armed %" PRIu64 ", model %" PRIu64
                   " armed %zu",
                   op, f->wheel.now, f->wheel.armed_count, f->m.now, f->m.n);
        return false;
    }
    return true;
}

static bool fuzz_check_deadline(struct fuzz *f, struct fuzz_stats *st, uint64_t op)
{
    uint64_t d = tcpw_wheel_next_deadline(&f->wheel), e = model_earliest(&f->m);

    check_assertions++;
    st->deadline_checks++;
    st->deadline_exact += d == e;
    st->armed_sum += f->m.n;
    if (d > e || (f->m.n == 0 && d != UINT64_MAX) || (f->m.n && d < f->wheel.now)) {
        check_fail(__FILE__, __LINE__,
                   "op %" PRIu64 ": deadline %" PRIu64 ", earliest %" PRIu64 ", now %" PRIu64, op,
                   d, e, f->wheel.now);
        return false;
    }
    return true;
}

static bool fuzz_check_all(struct fuzz *f, uint64_t op)
{
    for (unsigned i = 0; i < NT; i++) {
        const struct tcpw_timer *t = &f->timers[i].t;
        if (tcpw_timer_armed(t) != f->m.armed[i] ||
            (f->m.armed[i] && t->expires != f->m.expires[i])) {
            check_fail(__FILE__, __LINE__, "op %" PRIu64 ": timer %u differs from the model", op,
                       i);
            return false;
        }
    }
    return true;
}

static void fuzz_run(uint64_t seed, uint64_t start, uint64_t ops, struct fuzz_stats *st)
{
    struct fuzz *f = calloc(1, sizeof(*f));
    uint64_t rng = seed;

    CHECK(f != NULL);
    tcpw_wheel_init(&f->wheel, start);
    f->m.now = start;
    for (unsigned i = 0; i < NT; i++) {
        tcpw_timer_init(&f->timers[i].t, fuzz_fire);
        f->timers[i].id = i;
        f->timers[i].f = f;
    }
    for (unsigned k = 0; k < 8; k++)
        f->hot[k] = sat_add(start, rand_delta(&rng));

    for (uint64_t op = 0; op < ops; op++) {
        uint64_t x = check_rand(&rng);
        /* Drawn here, not as an argument beside another draw: the order in
         * which arguments are evaluated is unspecified, and gcc and clang
         * would then run different sequences. */
        uint64_t cb_seed = check_rand(&rng);
        unsigned id = (unsigned)(x >> 32) % NT;
        uint64_t now = f->wheel.now;
        bool ok = true;

        if (x % 64 == 0) /* move a shared expiry, sometimes into the past */
            f->hot[(x >> 8) % 8] =
                (x >> 12) & 1 ? sat_add(now, rand_delta(&rng)) : sat_sub(now, rand_delta(&rng));
        switch ((x >> 16) % 20) {
        case 0:
        case 1:
        case 2:
        case 3:
        case 4:
        case 5: { /* arm/re-arm ahead */
            uint64_t e = sat_add(now, rand_delta(&rng));
            tcpw_timer_arm(&f->wheel, &f->timers[id].t, e);
            model_arm(&f->m, id, e);
            break;
        }
        case 6:
        case 7: { /* arm at a shared time */
            uint64_t e = f->hot[(x >> 40) % 8];
            tcpw_timer_arm(&f->wheel, &f->timers[id].t, e);
            model_arm(&f->m, id, e);
            break;
        }
        case 8: { /* arm in the past */
            uint64_t e = sat_sub(now, rand_delta(&rng));
            tcpw_timer_arm(&f->wheel, &f->timers[id].t, e);
            model_arm(&f->m, id, e);
            break;
        }
        case 9:
        case 10: /* cancel, armed or not */
            tcpw_timer_cancel(&f->wheel, &f->timers[id].t);
            model_remove(&f->m, id);
            break;
        case 11:
        case 12:
        case 13:
        case 14: /* advance by a random amount */
            ok = fuzz_advance(f, sat_add(now, rand_step(&rng)), cb_seed, st, op);
            break;
        case 15: /* advance by nothing, or backwards */
            ok = fuzz_advance(f, (x >> 40) & 1 ? now : sat_sub(now, rand_delta(&rng)), cb_seed, st,
                              op);
            break;
        case 16: /* to the model's earliest expiry */
            if (f->m.n)
                ok = fuzz_advance(f, model_earliest(&f->m), cb_seed, st, op);
            break;
        case 17: { /* the driver's loop: to the deadline; if nothing fired, the
                      next deadline must be exact */
            uint64_t d = tcpw_wheel_next_deadline(&f->wheel);
            if (d == UINT64_MAX)
                break;
            ok = fuzz_advance(f, d, cb_seed, st, op);
            if (ok && f->wlog.n == 0 &&
                tcpw_wheel_next_deadline(&f->wheel) != model_earliest(&f->m)) {
                check_fail(__FILE__, __LINE__,
                           "op %" PRIu64 ": deadline %" PRIu64
                           " not exact after a cascade (%" PRIu64 ")",
                           op, tcpw_wheel_next_deadline(&f->wheel), model_earliest(&f->m));
                ok = false;
            }
            break;
        }
        case 18: /* just below the earliest: nothing may fire */
            if (f->m.n && model_earliest(&f->m) > now)
                ok = fuzz_advance(f, model_earliest(&f->m) - 1, cb_seed, st, op);
            break;
        default:
            break;
        }
        if (ok)
            ok = fuzz_check_deadline(f, st, op);
        if (ok && op % 4096 == 0)
            ok = fuzz_check_all(f, op);
        if (!ok)
            break;
    }
    check_assertions++;
    if (check_failures == 0)
        fuzz_check_all(f, ops);
    free(f);
}

static void test_random_against_model(void)
{
    struct fuzz_stats st = {0};

    /* From time 0, then near the end of time where sums saturate. */
    fuzz_run(0x7469636b, 0, 900000, &st);
    if (check_failures)
        return;
    fuzz_run(0x77686565, UINT64_MAX - ((uint64_t)1 << 44), 100000, &st);
    if (check_failures)
        return;
    CHECK(st.fired > 100000);
    printf("# %" PRIu64 " advances, %" PRIu64 " fired, %" PRIu64 " armed on average, deadline"
           " exact in %" PRIu64 " of %" PRIu64 "\n",
           st.advances, st.fired, st.armed_sum / st.deadline_checks, st.deadline_exact,
           st.deadline_checks);
}

int main(void)
{
    RUN(test_same_instant_across_levels);
    RUN(test_same_instant_at_boundary);
    RUN(test_past_expiry);
    RUN(test_callback_arms_due_timers);
    RUN(test_callback_cancels);
    RUN(test_cancel_unarmed);
    RUN(test_rearm_armed);
    RUN(test_large_times);
    RUN(test_huge_jump);
    RUN(test_next_deadline);
    RUN(test_random_against_model);
    return check_summary();
}
