/* Unit tests of tcp/timewait: the compact TIME_WAIT store (RFC 9293
 * §3.4.2 2MSL, §3.10.7.4 restart on a retransmitted FIN) checked against a
 * plain model under 200k random operations, its FIFO order, its memory
 * accounting and the 48-byte bound at 1M records, and the
 * tcp_max_tw_buckets overflow policies with their counters.
 *
 * Log positions start just below 2^32 so the wrap (and the TW_NIL slot the
 * log skips) is crossed in every test that inserts a few thousand records.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "stack/stack_impl.h"
#include "tcp/tcp.h"
#include "tcp/timewait.h"
#include "tcpwave/tcpwave.h"

#define SEC 1000000ull
#define LADDR 0x0a000001u
#define MSL_US (30ull * SEC)
#define L_US (2 * MSL_US)

static struct tcpw_stack *make_stack(uint32_t max_tw, uint32_t policy)
{
    struct tcpw_config cfg = tcpw_config_linux_defaults;
    struct tcpw_stack_params p;
    struct tcpw_stack *s = NULL;

    cfg.tcp_max_tw_buckets = max_tw;
    cfg.tcp_tw_overflow_policy = policy;
    memset(&p, 0, sizeof(p));
    p.addr = LADDR;
    p.config = &cfg;
    p.seed = 42;
    if (tcpw_stack_create(&p, SEC, &s) != 0)
        return NULL;
    /* Start the log just below the wrap of its 32-bit positions. */
    s->tcp->tw.head = s->tcp->tw.tail = UINT32_MAX - 1500u;
    return s;
}

static struct tcpw_tuple tuple_of(uint32_t id)
{
    struct tcpw_tuple t;
    t.laddr = LADDR;
    t.raddr = 0x0b000000u + (id >> 14);
    t.lport = (uint16_t)(1024u + (id & 0x3fffu));
    t.rport = 443;
    return t;
}

static int add_id(struct tcpw_stack *s, uint32_t id)
{
    struct tcpw_tw_proto p;
    memset(&p, 0, sizeof(p));
    p.tuple = tuple_of(id);
    p.snd_nxt = id * 7u + 0xfffffff0u;
    p.rcv_nxt = id * 13u;
    p.ts_ok = (id & 1u) != 0;
    p.ts_recent = id ^ 0x5555u;
    p.ts_offset = id * 3u;
    p.ts_recent_age_s = id % 3u;
    p.rcv_wnd = (uint16_t)id;
    return tcpw__tw_add(s, &p);
}

static struct tcpw_tw *find_id(struct tcpw_stack *s, uint32_t id)
{
    struct tcpw_tuple t = tuple_of(id);
    return tcpw__tw_find(s, &t);
}

static void advance(struct tcpw_stack *s, uint64_t us) { tcpw_stack_advance(s, s->now + us); }

static uint64_t state_tw(struct tcpw_stack *s)
{
    uint64_t counts[TCPW_STATE_COUNT];
    tcpw_state_counts(s, counts);
    return counts[TCPW_TIME_WAIT];
}

/* ---- the model: an array by id plus a plain queue of (id, generation) ---- */

#define MODEL_IDS 30000u
#define OPS 200000u

struct model_rec {
    bool live;
    uint32_t gen;     /* bumped by insert and restart: queue entries of an older gen are stale */
    uint64_t expires;
};

struct model_q {
    uint32_t id, gen;
};

struct model {
    struct model_rec rec[MODEL_IDS];
    struct model_q *q;
    size_t q_head, q_tail, q_cap;
    uint64_t live;
};

static void model_push(struct model *m, uint32_t id)
{
    m->q[m->q_tail].id = id;
    m->q[m->q_tail].gen = m->rec[id].gen;
    m->q_tail++;
}

/* Ends every model record due at `now`; returns how many. */
static uint64_t model_expire(struct model *m, uint64_t now)
{
    uint64_t n = 0;
    while (m->q_head < m->q_tail) {
        struct model_q e = m->q[m->q_head];
        struct model_rec *r = &m->rec[e.id];
        if (!r->live || r->gen != e.gen) {
            m->q_head++;
            continue;
        }
        if (r->expires > now)
            break;
        r->live = false;
        m->live--;
        m->q_head++;
        n++;
    }
    return n;
}

struct order_check {
    const struct model *m;
    size_t qpos;
    uint64_t seen;
    uint64_t last_exp;
    const struct tcpw_stack *s;
    bool ok;
};

/* The walk must visit exactly the model's live entries in queue order. */
static int order_visit(void *user, const struct tcpw_tw *tw)
{
    struct order_check *o = user;
    const struct model *m = o->m;
    uint64_t exp = tcpw__tw_expires(o->s, tw);

    while (o->qpos < m->q_tail) {
        struct model_q e = m->q[o->qpos];
        if (m->rec[e.id].live && m->rec[e.id].gen == e.gen)
            break;
        o->qpos++;
    }
    if (o->qpos == m->q_tail) {
        o->ok = false;
        return 1;
    }
    {
        struct model_q e = m->q[o->qpos++];
        struct tcpw_tuple want = tuple_of(e.id);
        if (!tcpw_tuple_eq(&want, &tw->tuple) || exp != m->rec[e.id].expires || exp < o->last_exp) {
            o->ok = false;
            return 1;
        }
    }
    o->last_exp = exp;
    o->seen++;
    return 0;
}

/* The log's slot at `pos`, read as timewait.c does. */
static bool slot_live(const struct tcpw_tw_table *t, uint32_t pos)
{
    return t->chunks[(pos >> TW_CHUNK_BITS) & t->chunk_mask][pos & (TW_CHUNK_RECORDS - 1u)]
               .tuple.lport != 0;
}

static uint32_t count_dead(const struct tcpw_tw_table *t)
{
    uint32_t n = 0;
    for (uint32_t p = t->head; p != t->tail; p++)
        n += !slot_live(t, p);
    return n;
}

static void test_model_random_ops(void)
{
    static struct model m;
    struct tcpw_stack *s = make_stack(1000000, 0);
    uint64_t rng = 0x9e3779b97f4a7c15ull, expired_model = 0, compactions_seen = 0;
    bool was_compacting = false;

    CHECK(s != NULL);
    memset(&m, 0, sizeof(m));
    m.q_cap = 2 * OPS + 16;
    m.q = calloc(m.q_cap, sizeof(*m.q));
    CHECK(m.q != NULL);

    for (uint32_t op = 0; op < OPS; op++) {
        struct tcpw_tw_table *t = &s->tcp->tw;
        uint32_t id, kind;
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        id = (uint32_t)(rng >> 20) % MODEL_IDS;
        kind = (uint32_t)(rng & 0xff) % 100u;
        if ((op / 25000u) % 4u == 2u) {
            /* A storm with no time passing: removals and restarts pile
             * tombstones up until the log compacts. */
            kind = kind < 2u ? 0u : kind < 10u ? 40u : kind < 80u ? 65u : 75u;
        }

        if (kind < 35) { /* insert */
            if (!m.rec[id].live) {
                CHECK_EQ_I(add_id(s, id), 0);
                m.rec[id].live = true;
                m.rec[id].gen++;
                m.rec[id].expires = s->now + L_US;
                m.live++;
                model_push(&m, id);
            }
        } else if (kind < 60) { /* lookup */
            struct tcpw_tw *tw = find_id(s, id);
            CHECK_EQ(tw != NULL, m.rec[id].live);
            if (tw) {
                CHECK_EQ(tw->snd_nxt, id * 7u + 0xfffffff0u);
                CHECK_EQ(tw->rcv_nxt, id * 13u);
                CHECK_EQ(tcpw__tw_expires(s, tw), m.rec[id].expires);
                CHECK_EQ(tcpw__tw_remaining(s, tw), m.rec[id].expires - s->now);
            }
        } else if (kind < 70) { /* remove (RST / RFC 6191 SYN) */
            if (m.rec[id].live) {
                tcpw__tw_remove(s, find_id(s, id));
                m.rec[id].live = false;
                m.live--;
            }
        } else if (kind < 85) { /* restart (retransmitted FIN) */
            if (m.rec[id].live) {
                struct tcpw_tw *tw = tcpw__tw_restart(s, find_id(s, id));
                struct tcpw_tuple want = tuple_of(id);
                CHECK(tcpw_tuple_eq(&tw->tuple, &want));
                CHECK(tw == find_id(s, id));
                m.rec[id].gen++;
                m.rec[id].expires = s->now + L_US;
                model_push(&m, id);
            }
        } else { /* time passes */
            advance(s, (rng >> 40) % 20000u);
            expired_model += model_expire(&m, s->now);
        }
        CHECK_EQ(tcpw_tw_count(s), m.live);
        CHECK_EQ(state_tw(s), m.live);
        CHECK_EQ(tcpw_stack_counter(s, TCPW_CTR_TW), expired_model);
        /* Memory stays near 2x of the live records (plus a chunk): a
         * compaction starts when tombstones outnumber records and moves 8
         * positions per operation, so it ends within a quarter of its span
         * of operations, each adding at most one tombstone or taking one
         * record away: at most ~1.7 tombstones per record meanwhile. */
        CHECK_MSG(t->dead <= 2u * t->count + 4u || t->dead < TW_CHUNK_RECORDS,
                  "op %u: %u tombstones for %llu records", op, t->dead,
                  (unsigned long long)t->count);
        if (was_compacting && !t->compacting)
            compactions_seen++;
        was_compacting = t->compacting;
        /* The gap of a compaction holds tombstones only, and `dead`
         * counts the log's tombstones (sampled: O(span)). */
        if (op % 512 == 0) {
            if (t->compacting)
                for (uint32_t p = t->crd + 1u; p != t->cwr + 1u; p++)
                    CHECK(!slot_live(t, p));
            CHECK_EQ(t->dead, count_dead(t));
        }
        if (op % 2000 == 0 || op == OPS - 1) {
            struct order_check o = {&m, m.q_head, 0, 0, s, true};
            CHECK_EQ_I(tcpw__tw_walk(s, order_visit, &o), 0);
            CHECK(o.ok);
            CHECK_EQ(o.seen, m.live);
        }
    }
    /* The run crossed the wrap of positions and compacted the log. */
    CHECK(s->tcp->tw.tail < UINT32_MAX - 1500u);
    CHECK(compactions_seen > 0);
    /* Everything expires 2MSL after its last (re)start. */
    advance(s, L_US);
    expired_model += model_expire(&m, s->now);
    CHECK_EQ(m.live, 0);
    CHECK_EQ(tcpw_tw_count(s), 0);
    CHECK_EQ(tcpw_stack_counter(s, TCPW_CTR_TW), expired_model);
    CHECK_EQ(tcpw_stack_next_deadline(s) == TCPW_NO_DEADLINE || tcpw_stack_next_deadline(s) > s->now,
             1);
    free(m.q);
    tcpw_stack_destroy(s);
}

struct ids {
    uint32_t id[16];
    size_t n;
};

static int collect(void *user, const struct tcpw_tw_info *info)
{
    struct ids *v = user;
    if (v->n < 16)
        v->id[v->n++] = (uint32_t)(info->lport - 1024u) | ((info->raddr - 0x0b000000u) << 14);
    return 0;
}

/* Expiry order is insertion order; a restart moves a record to the end and
 * gives it a full 2MSL, exact to the µs. */
static void test_fifo_order_and_restart(void)
{
    struct tcpw_stack *s = make_stack(100, 0);
    struct ids v = {{0}, 0};

    CHECK(s != NULL);
    CHECK_EQ_I(add_id(s, 1), 0);
    advance(s, 1 * SEC);
    CHECK_EQ_I(add_id(s, 2), 0);
    advance(s, 1 * SEC);
    CHECK_EQ_I(add_id(s, 3), 0);
    advance(s, 1 * SEC);
    CHECK(tcpw__tw_restart(s, find_id(s, 1)) == find_id(s, 1));
    CHECK_EQ_I(tcpw_tw_foreach(s, collect, &v), 0);
    CHECK_EQ(v.n, 3);
    CHECK_EQ(v.id[0], 2);
    CHECK_EQ(v.id[1], 3);
    CHECK_EQ(v.id[2], 1);
    CHECK_EQ(tcpw__tw_remaining(s, find_id(s, 1)), L_US);
    CHECK_EQ(tcpw__tw_remaining(s, find_id(s, 2)), L_US - 2 * SEC);
    /* Restarting the newest leaves it in place. */
    advance(s, 1);
    CHECK(tcpw__tw_restart(s, find_id(s, 1)) == find_id(s, 1));
    CHECK_EQ(tcpw__tw_remaining(s, find_id(s, 1)), L_US);
    /* id 2 expires exactly 2MSL after it entered. */
    advance(s, L_US - 2 * SEC - 2);
    CHECK(find_id(s, 2) != NULL);
    advance(s, 1);
    CHECK(find_id(s, 2) == NULL);
    CHECK(find_id(s, 3) != NULL);
    advance(s, L_US);
    CHECK_EQ(tcpw_tw_count(s), 0);
    CHECK_EQ(tcpw_stack_counter(s, TCPW_CTR_TW), 3);
    tcpw_stack_destroy(s);
}

/* TS.Recent's age is kept in seconds across a restart. */
static void test_ts_recent_age(void)
{
    struct tcpw_stack *s = make_stack(100, 0);
    struct tcpw_tw *tw;

    CHECK(s != NULL);
    CHECK_EQ_I(add_id(s, 5), 0); /* odd: timestamps on, age 5 % 3 = 2 s */
    CHECK_EQ_I(add_id(s, 4), 0); /* even: no timestamps */
    advance(s, 10 * SEC);
    CHECK_EQ(tcpw__tw_ts_recent_age_s(s, find_id(s, 5)), 12);
    CHECK_EQ(tcpw__tw_ts_recent_age_s(s, find_id(s, 4)), 0);
    tw = tcpw__tw_restart(s, find_id(s, 5));
    advance(s, 30 * SEC);
    CHECK_EQ(tcpw__tw_ts_recent_age_s(s, tw = find_id(s, 5)), 42);
    CHECK(tw->bits & TW_BITS_TS_OK);
    CHECK_EQ(tw->rcv_wnd, 5);
    CHECK_EQ(tw->ts_offset, 15);
    tcpw_stack_destroy(s);
}

/* Memory accounting is what the allocations are, and a record costs at most
 * 48 bytes with the index and chunk ring included, at 1M records. */
static void test_memory_bound_1m(void)
{
    const uint32_t n = 1000000;
    struct tcpw_stack *s = make_stack(n, 0);
    struct tcpw_tw_table *t;
    size_t bytes;

    CHECK(s != NULL);
    t = &s->tcp->tw;
    CHECK_EQ(sizeof(struct tcpw_tw), 40);
    for (uint32_t i = 0; i < n; i++)
        CHECK_EQ_I(add_id(s, i), 0);
    CHECK_EQ(tcpw_tw_count(s), n);
    bytes = tcpw__tw_memory_bytes(s);
    CHECK_EQ(bytes, tcpw_tw_memory_bytes(s));
    CHECK_EQ(bytes, (size_t)t->nchunks * TW_CHUNK_RECORDS * 40u +
                        ((size_t)t->chunk_mask + 1u) * sizeof(void *) +
                        ((size_t)t->bucket_mask + 1u) * 4u);
    CHECK_MSG(bytes <= 48u * (size_t)n, "%zu bytes for %u records: %.2f per record", bytes, n,
              (double)bytes / n);
    /* The index keeps chains short. */
    CHECK(t->count <= 2u * ((uint64_t)t->bucket_mask + 1u));
    for (uint32_t i = 0; i < n; i += 997)
        CHECK(find_id(s, i) != NULL);
    CHECK(find_id(s, n) == NULL);
    /* Expiry returns the chunks: one stays for the next record. */
    advance(s, L_US);
    CHECK_EQ(tcpw_tw_count(s), 0);
    CHECK_EQ(tcpw_stack_counter(s, TCPW_CTR_TW), n);
    CHECK(t->nchunks <= 1);
    tcpw_stack_destroy(s);
}

/* A burst of restarts (a peer retransmitting FINs) compacts the log instead
 * of growing it, and keeps the order. */
static void test_restart_storm_compacts(void)
{
    const uint32_t n = 20000;
    struct tcpw_stack *s = make_stack(n, 0);
    struct tcpw_tw_table *t;
    size_t peak;

    CHECK(s != NULL);
    t = &s->tcp->tw;
    for (uint32_t i = 0; i < n; i++)
        CHECK_EQ_I(add_id(s, i), 0);
    peak = tcpw__tw_memory_bytes(s);
    for (uint32_t round = 0; round < 10; round++) {
        advance(s, 1000);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t id = (i * 7919u + round) % n;
            struct tcpw_tw *tw = tcpw__tw_restart(s, find_id(s, id));
            CHECK(tw == find_id(s, id));
        }
        CHECK(t->tail - t->head <= 2u * n + 2u * TW_CHUNK_RECORDS);
    }
    CHECK(tcpw__tw_memory_bytes(s) <= 2u * peak + 2u * TW_CHUNK_RECORDS * 40u);
    CHECK_EQ(tcpw_tw_count(s), n);
    /* The last round's order is the expiry order. */
    {
        struct tcpw_tw_info first;
        size_t got;
        struct tcpw_tuple want = tuple_of(9u % n); /* i = 0 of round 9 */
        CHECK_EQ_I(tcpw_tw_list(s, &first, 1, &got), -ENOSPC);
        CHECK_EQ(first.lport, want.lport);
        CHECK_EQ(first.raddr, want.raddr);
    }
    advance(s, L_US);
    CHECK_EQ(tcpw_tw_count(s), 0);
    tcpw_stack_destroy(s);
}

/* tcp_max_tw_buckets with tcp_tw_overflow_policy 0: refuse, as Linux. */
static void test_overflow_refuse(void)
{
    struct tcpw_stack *s = make_stack(2, 0);
    CHECK(s != NULL);
    CHECK_EQ_I(add_id(s, 1), 0);
    CHECK_EQ_I(add_id(s, 2), 0);
    CHECK_EQ_I(add_id(s, 3), -ENOBUFS);
    CHECK_EQ(tcpw_stack_counter(s, TCPW_CTR_TCP_TIME_WAIT_OVERFLOW), 1);
    CHECK_EQ(tcpw_stack_counter(s, TCPW_CTR_TW_EVICTED), 0);
    CHECK(find_id(s, 1) && find_id(s, 2) && !find_id(s, 3));
    CHECK_EQ(tcpw_tw_count(s), 2);
    tcpw_stack_destroy(s);
}

/* Policy 1: the oldest record makes room (FreeBSD / lwIP). */
static void test_overflow_evict_oldest(void)
{
    struct tcpw_stack *s = make_stack(2, 1);
    CHECK(s != NULL);
    CHECK_EQ_I(add_id(s, 1), 0);
    advance(s, SEC);
    CHECK_EQ_I(add_id(s, 2), 0);
    advance(s, SEC);
    CHECK_EQ_I(add_id(s, 3), 0);
    CHECK_EQ(tcpw_stack_counter(s, TCPW_CTR_TW_EVICTED), 1);
    CHECK_EQ(tcpw_stack_counter(s, TCPW_CTR_TCP_TIME_WAIT_OVERFLOW), 0);
    CHECK_EQ(tcpw_stack_counter(s, TCPW_CTR_TW), 0); /* evicted is not "finished" */
    CHECK(!find_id(s, 1) && find_id(s, 2) && find_id(s, 3));
    CHECK_EQ(tcpw_tw_count(s), 2);
    CHECK_EQ(state_tw(s), 2);
    /* The timer now follows id 2. */
    advance(s, L_US - SEC - 1);
    CHECK(find_id(s, 2) && find_id(s, 3));
    advance(s, 1);
    CHECK(!find_id(s, 2) && find_id(s, 3));
    tcpw_stack_destroy(s);

    /* With no room at all there is nothing to evict: refused. */
    s = make_stack(0, 1);
    CHECK(s != NULL);
    CHECK_EQ_I(add_id(s, 1), -ENOBUFS);
    CHECK_EQ(tcpw_stack_counter(s, TCPW_CTR_TCP_TIME_WAIT_OVERFLOW), 1);
    CHECK_EQ(tcpw_stack_counter(s, TCPW_CTR_TW_EVICTED), 0);
    tcpw_stack_destroy(s);
}

/* The public listing: oldest first, remaining time, -ENOSPC, -EINVAL. */
static void test_public_api(void)
{
    struct tcpw_stack *s = make_stack(100, 0);
    struct tcpw_tw_info out[4];
    size_t n = 99;

    CHECK(s != NULL);
    CHECK_EQ_I(tcpw_tw_list(s, out, 4, &n), 0);
    CHECK_EQ(n, 0);
    CHECK_EQ_I(add_id(s, 7), 0);
    advance(s, 5 * SEC);
    CHECK_EQ_I(add_id(s, 16384 + 9), 0);
    CHECK_EQ_I(tcpw_tw_list(s, out, 4, &n), 0);
    CHECK_EQ(n, 2);
    CHECK_EQ(out[0].laddr, LADDR);
    CHECK_EQ(out[0].lport, 1031);
    CHECK_EQ(out[0].raddr, 0x0b000000u);
    CHECK_EQ(out[0].rport, 443);
    CHECK_EQ(out[0].remaining_us, L_US - 5 * SEC);
    CHECK_EQ(out[1].raddr, 0x0b000001u);
    CHECK_EQ(out[1].lport, 1033);
    CHECK_EQ(out[1].remaining_us, L_US);
    CHECK_EQ_I(tcpw_tw_list(s, out, 1, &n), -ENOSPC);
    CHECK_EQ(n, 1);
    CHECK_EQ(out[0].lport, 1031);
    CHECK_EQ_I(tcpw_tw_list(s, NULL, 0, &n), -ENOSPC);
    CHECK_EQ_I(tcpw_tw_list(s, NULL, 1, &n), -EINVAL);
    CHECK_EQ_I(tcpw_tw_list(NULL, out, 1, &n), -EINVAL);
    CHECK_EQ_I(tcpw_tw_list(s, out, 1, NULL), -EINVAL);
    CHECK_EQ_I(tcpw_tw_foreach(s, NULL, NULL), -EINVAL);
    CHECK_EQ(tcpw_tw_count(s), 2);
    CHECK_EQ(tcpw_tw_count(NULL), 0);
    CHECK_EQ(tcpw_tw_memory_bytes(NULL), 0);
    CHECK(tcpw_tw_memory_bytes(s) >= TW_CHUNK_RECORDS * 40u);
    CHECK(tcpw__holds_tw_on(s, 1031));
    CHECK(!tcpw__holds_tw_on(s, 1032));
    CHECK(!tcpw__holds_conn_on(s, 1031));
    tcpw_stack_destroy(s);
}

/* tcp_tw_dest_quota: the per-destination counts (an open-addressing map
 * with backward-shift deletion) against a brute-force count over every live
 * record, through random adds, removals, restarts, expiries and growth. */
struct dest_key {
    uint32_t raddr;
    uint16_t rport;
    uint32_t n;
};

static int count_dest(void *user, const struct tcpw_tw *tw)
{
    struct dest_key *k = user;
    if (tw->tuple.laddr == LADDR && tw->tuple.raddr == k->raddr && tw->tuple.rport == k->rport)
        k->n++;
    return 0;
}

static uint32_t brute_count(struct tcpw_stack *s, uint32_t raddr, uint16_t rport)
{
    struct dest_key k = {raddr, rport, 0};
    tcpw__tw_walk(s, count_dest, &k);
    return k.n;
}

static void test_dest_quota_random(void)
{
    struct tcpw_config cfg = tcpw_config_linux_defaults;
    struct tcpw_stack_params sp;
    struct tcpw_stack *s = NULL;
    uint64_t rng = 7, refused = 0;

    cfg.tcp_tw_dest_quota = 3;
    memset(&sp, 0, sizeof(sp));
    sp.addr = LADDR;
    sp.config = &cfg;
    sp.seed = 9;
    CHECK_EQ_I(tcpw_stack_create(&sp, SEC, &s), 0);
    for (int i = 0; i < 40000; i++) {
        uint32_t r, raddr;
        uint16_t rport, lport;
        struct tcpw_tuple u;
        struct tcpw_tw *tw;

        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        r = (uint32_t)(rng >> 33);
        raddr = 0x0b000000u + (r % 97u);
        rport = (uint16_t)(80u + (r >> 8) % 3u);
        lport = (uint16_t)(1024u + (r >> 12) % 8u);
        u.laddr = LADDR;
        u.raddr = raddr;
        u.rport = rport;
        u.lport = lport;
        tw = tcpw__tw_find(s, &u);
        switch ((r >> 20) % 8u) {
        case 0:
        case 1:
            if (tw)
                tcpw__tw_remove(s, tw);
            break;
        case 2:
            if (tw)
                tcpw__tw_restart(s, tw);
            break;
        case 3:
            advance(s, (r >> 24) * 10000ull);
            break;
        default:
            if (!tw) {
                struct tcpw_tw_proto p;
                uint32_t before = brute_count(s, raddr, rport);
                int err;
                memset(&p, 0, sizeof(p));
                p.tuple = u;
                err = tcpw__tw_add(s, &p);
                if (before >= 3u) {
                    CHECK_EQ_I(err, -ENOBUFS);
                    refused++;
                } else {
                    CHECK_EQ_I(err, 0);
                }
            }
            break;
        }
        if (i % 1000 == 0) {
            const struct tcpw_tw_table *t = &s->tcp->tw;
            const struct tcpw_dest_entry *e;
            uint64_t sum = 0;
            for (uint32_t j = 0; (e = tcpw__dest_map_next(&t->dests, &j)) != NULL;) {
                const struct tcpw_tw_dest *d = (const struct tcpw_tw_dest *)e;
                CHECK(d->count > 0); /* an entry goes with its last record */
                sum += d->count;
                CHECK_EQ(d->count, brute_count(s, d->dest.raddr, d->dest.rport));
            }
            CHECK_EQ(sum, t->count);
        }
    }
    CHECK(refused > 0);
    CHECK_EQ(tcpw_stack_counter(s, TCPW_CTR_TW_QUOTA_REFUSED), refused);
    CHECK_EQ(tcpw_stack_counter(s, TCPW_CTR_TCP_TIME_WAIT_OVERFLOW), 0);
    advance(s, 2 * L_US);
    CHECK_EQ(tcpw_tw_count(s), 0);
    CHECK_EQ(s->tcp->tw.dests.used, 0);
    tcpw_stack_destroy(s);
}

int main(void)
{
    RUN(test_model_random_ops);
    RUN(test_fifo_order_and_restart);
    RUN(test_ts_recent_age);
    RUN(test_memory_bound_1m);
    RUN(test_restart_storm_compacts);
    RUN(test_overflow_refuse);
    RUN(test_overflow_evict_oldest);
    RUN(test_public_api);
    RUN(test_dest_quota_random);
    return check_summary();
}
