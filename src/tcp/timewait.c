/* tcp/ — TIME_WAIT records (see timewait.h for the layout of the store).
 *
 * RFC 9293 §3.10.7.4 in TIME-WAIT: "The only thing that can arrive in this
 * state is a retransmission of the remote FIN. Acknowledge it, and restart
 * the 2 MSL timeout." RFC 1337 §3 (TIME-WAIT assassination): a RST is
 * ignored when tcp_rfc1337 is set. RFC 6191 / RFC 9293 §3.10.7.4 note: a
 * SYN whose sequence number (or timestamp) is above the old incarnation's
 * may reopen the 4-tuple. RFC 7323 §5.3 R1 (PAWS, as Linux applies it in
 * TIME-WAIT). RFC 7323 §5.4: re-ACKs carry our timestamp clock
 * (ms + the per-address-pair offset) and TS.Recent.
 *
 * Invariants between calls: the record at `head` is live (tombstones at the
 * head are dropped at once), every live record is in the index exactly once,
 * records in [head, tail) have non-decreasing expiry, and the timer is armed
 * for the head's expiry whenever the table is not empty.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api/sock.h"
#include "tcp/conn.h"
#include "tcp/tcp.h"
#include "tcpwave/timewait.h"

/* The layout promise of timewait.h: 40 bytes, no padding, so a chunk is
 * exactly TW_CHUNK_RECORDS * 40 bytes and 4-byte alignment suffices. */
_Static_assert(sizeof(struct tcpw_tw) == 40, "a TIME_WAIT record is 40 bytes");

#define TABLE_OF(timer) ((struct tcpw_tw_table *)((char *)(timer) - offsetof(struct tcpw_tw_table, timer)))

#define CHUNK_SEQ_MASK ((1u << (32u - TW_CHUNK_BITS)) - 1u) /* chunk numbers wrap here */
#define OFFSET_MASK (TW_CHUNK_RECORDS - 1u)
/* The log never spans more than this many positions, so that the chunks it
 * covers (span / TW_CHUNK_RECORDS + 2) fit the 2^20 chunk numbers. */
#define SPAN_MAX (UINT32_MAX - 2u * TW_CHUNK_RECORDS)
#define EXP_BITS 36u
#define EXP_MASK ((UINT64_C(1) << EXP_BITS) - 1u)
#define EXP_SIGN (UINT64_C(1) << (EXP_BITS - 1u))
#define INITIAL_RING 4u
#define INITIAL_BUCKETS 16u
/* The index doubles when the load passes this: chains average 1..2 records,
 * bucket heads cost 2..4 bytes per record. */
#define MAX_LOAD 2u
#define US_PER_S 1000000u

/* ---- the log ---- */

static struct tcpw_tw *slot(const struct tcpw_tw_table *t, uint32_t pos)
{
    return t->chunks[(pos >> TW_CHUNK_BITS) & t->chunk_mask] + (pos & OFFSET_MASK);
}

static bool is_live(const struct tcpw_tw *tw) { return tw->tuple.lport != 0; }

/* Doubles the ring of chunk pointers; the chunks themselves do not move. */
static int ring_grow(struct tcpw_tw_table *t)
{
    uint32_t old_n = t->chunk_mask + 1u, new_n;
    struct tcpw_tw **ring;

    if (old_n > CHUNK_SEQ_MASK)
        return -ENOMEM; /* every chunk number is in use: SPAN_MAX prevents it */
    new_n = old_n * 2u;
    ring = calloc(new_n, sizeof(*ring));
    if (!ring)
        return -ENOMEM;
    for (uint32_t i = 0; i < t->nchunks; i++) {
        uint32_t c = (t->first_chunk + i) & CHUNK_SEQ_MASK;
        ring[c & (new_n - 1u)] = t->chunks[c & t->chunk_mask];
    }
    free(t->chunks);
    t->chunks = ring;
    t->chunk_mask = new_n - 1u;
    return 0;
}

/* Makes the slot at `pos` (the tail) writable. */
static int chunk_ensure(struct tcpw_tw_table *t, uint32_t pos)
{
    uint32_t c = pos >> TW_CHUNK_BITS;
    struct tcpw_tw *chunk;

    if (t->nchunks && ((c - t->first_chunk) & CHUNK_SEQ_MASK) < t->nchunks)
        return 0;
    assert(!t->nchunks || ((c - t->first_chunk) & CHUNK_SEQ_MASK) == t->nchunks);
    if (t->nchunks > t->chunk_mask && ring_grow(t) != 0)
        return -ENOMEM;
    chunk = malloc(sizeof(*chunk) * TW_CHUNK_RECORDS);
    if (!chunk)
        return -ENOMEM;
    if (!t->nchunks)
        t->first_chunk = c;
    t->chunks[c & t->chunk_mask] = chunk;
    t->nchunks++;
    return 0;
}

static void chunk_free_first(struct tcpw_tw_table *t)
{
    struct tcpw_tw **p = &t->chunks[t->first_chunk & t->chunk_mask];
    free(*p);
    *p = NULL;
    t->first_chunk = (t->first_chunk + 1u) & CHUNK_SEQ_MASK;
    t->nchunks--;
}

/* Drops tombstones at the head (their chunks go once the head leaves them):
 * the head is then live, or the log is empty. */
static void compact_finish(struct tcpw_tw_table *t);
static bool in_log(const struct tcpw_tw_table *t, uint32_t pos);

static void head_settle(struct tcpw_tw_table *t)
{
    for (;;) {
        /* Past the unread part of a compaction lies its gap: jump it. */
        if (t->compacting && !in_log(t, t->crd))
            compact_finish(t);
        if (t->head == t->tail || is_live(slot(t, t->head)))
            break;
        t->head++;
        t->dead--;
    }
    while (t->nchunks && t->first_chunk != (t->head >> TW_CHUNK_BITS))
        chunk_free_first(t);
}

/* Reserves the slot at the tail. Returns its position, or TW_NIL when
 * memory (or the 2^32 position space) is exhausted. */
static uint32_t log_append(struct tcpw_tw_table *t)
{
    if (t->tail == TW_NIL) {
        /* TW_NIL ends hash chains, so no record lives there: leave a
         * tombstone and go on at 0. */
        if (chunk_ensure(t, t->tail) != 0)
            return TW_NIL;
        slot(t, t->tail)->tuple.lport = 0;
        t->tail++;
        t->dead++;
    }
    if (t->tail - t->head >= SPAN_MAX || chunk_ensure(t, t->tail) != 0)
        return TW_NIL;
    return t->tail++;
}

/* ---- the index ---- */

/* The bucket of a tuple: in the old array while its bucket there has not
 * moved yet (the index is doubling), else in the current one. */
static uint32_t *bucket_of(const struct tcpw_tw_table *t, const struct tcpw_tuple *tuple)
{
    uint32_t h = (uint32_t)tcpw_tuple_hash(t->stack->tcp->secret, tuple);

    if (t->old_buckets && (h & t->old_mask) >= t->migrated)
        return &t->old_buckets[h & t->old_mask];
    return &t->buckets[h & t->bucket_mask];
}

static void index_insert(struct tcpw_tw_table *t, uint32_t pos)
{
    struct tcpw_tw *tw = slot(t, pos);
    uint32_t *b = bucket_of(t, &tw->tuple);
    tw->hnext = *b;
    *b = pos;
}

/* Unlinks `tw` from its chain and returns its position (the index is the one
 * place that knows it: records do not store their own position). */
static uint32_t index_unlink(struct tcpw_tw_table *t, const struct tcpw_tw *tw)
{
    uint32_t *link = bucket_of(t, &tw->tuple);
    uint32_t pos;

    while (*link != TW_NIL && slot(t, *link) != tw)
        link = &slot(t, *link)->hnext;
    assert(*link != TW_NIL); /* the caller's record is in the table */
    pos = *link;
    *link = tw->hnext;
    return pos;
}

/* Moves up to `n` buckets of the old array to the current one: old bucket
 * i splits into buckets i and i + old size (the current array's entries are
 * written only here and by inserts routed past `migrated`, so it needs no
 * initialisation). */
static void index_migrate(struct tcpw_tw_table *t, uint32_t n)
{
    while (t->old_buckets && n--) {
        uint32_t i = t->migrated, half = t->old_mask + 1u, pos = t->old_buckets[i];

        /* The records are scattered over the log: start loading the next
         * bucket's first one while this bucket's are rehashed. */
        if (i + 1u < half && t->old_buckets[i + 1u] != TW_NIL)
            __builtin_prefetch(slot(t, t->old_buckets[i + 1u]));

        t->buckets[i] = t->buckets[i + half] = TW_NIL;
        t->migrated++; /* from now on bucket_of() routes i's tuples here */
        while (pos != TW_NIL) {
            uint32_t next = slot(t, pos)->hnext;
            index_insert(t, pos);
            pos = next;
        }
        if (t->migrated == half) {
            free(t->old_buckets);
            t->old_buckets = NULL;
        }
    }
}

/* Doubles the bucket array when the load passes MAX_LOAD, moving four old
 * buckets per call (per insert): the doubling is over after an eighth of
 * the old size of inserts (so both arrays are rarely held at once), long
 * before the next one (which needs twice the old size). Growth is an optimisation: without memory the chains just get
 * longer. */
static void index_maybe_grow(struct tcpw_tw_table *t)
{
    uint64_t n = (uint64_t)t->bucket_mask + 1u;
    uint32_t *nb;

    if (!t->old_buckets && t->count > MAX_LOAD * n && n < (UINT64_C(1) << 31)) {
        nb = malloc(sizeof(*nb) * (size_t)(2u * n));
        if (nb) {
            t->old_buckets = t->buckets;
            t->old_mask = t->bucket_mask;
            t->migrated = 0;
            t->buckets = nb;
            t->bucket_mask = (uint32_t)(2u * n - 1u);
        }
    }
    index_migrate(t, 4);
}

/* ---- compaction ----
 *
 * Squeezes the tombstones out of the log, keeping the order (and so the
 * expiry order), COMPACT_STEPS positions per table operation. A read cursor
 * (crd) goes down from the last position the log had when compaction
 * began; each live record it meets moves up to the write cursor (cwr),
 * just below the records already moved, and its hash chain is relinked to
 * the new position. (crd, cwr] is then a gap of tombstones; when crd has
 * passed the head, everything from the head to cwr is gap, and the head
 * jumps over it, freeing those chunks. Meanwhile the table works as usual:
 * records are appended above (the tail never moves down), expire from the
 * head (which, reaching the gap, finishes the compaction) and leave early
 * anywhere (a tombstone in the packed part waits for the next
 * compaction). Positions moved: at most the log's span, paid for by the
 * tombstones, more than half of it, that started the compaction. */

#define COMPACT_STEPS 8u

static bool in_log(const struct tcpw_tw_table *t, uint32_t pos)
{
    return pos - t->head < t->tail - t->head;
}

/* The unread part is gone: the head jumps over the gap. */
static void compact_finish(struct tcpw_tw_table *t)
{
    t->compacting = false;
    if (in_log(t, t->cwr)) {
        t->dead -= t->cwr + 1u - t->head;
        t->head = t->cwr + 1u;
    }
}

/* Moves the record at crd to cwr: the copy, then the one link of its hash
 * chain that points at it. */
static void compact_move(struct tcpw_tw_table *t)
{
    struct tcpw_tw *from = slot(t, t->crd), *to = slot(t, t->cwr);
    uint32_t *link = bucket_of(t, &from->tuple);

    while (*link != t->crd)
        link = &slot(t, *link)->hnext;
    *to = *from;
    *link = t->cwr;
    from->tuple.lport = 0;
}

static void compact_steps(struct tcpw_tw_table *t, uint32_t n)
{
    while (t->compacting && n--) {
        if (!in_log(t, t->crd)) {
            compact_finish(t);
            break;
        }
        if (is_live(slot(t, t->crd))) {
            if (t->cwr == TW_NIL)
                t->cwr--; /* no record lives at TW_NIL; crd is below it */
            if (t->cwr != t->crd)
                compact_move(t);
            t->cwr--;
        }
        t->crd--;
    }
}

/* Starts a compaction when tombstones outnumber live records, and moves
 * an ongoing one on; then the head may have been freed to move on. */
static void maybe_compact(struct tcpw_tw_table *t)
{
    if (!t->compacting && t->dead > t->count && t->dead >= TW_CHUNK_RECORDS) {
        t->compacting = true;
        t->crd = t->cwr = t->tail - 1u;
    }
    if (t->compacting) {
        compact_steps(t, COMPACT_STEPS);
        head_settle(t);
    }
}

/* ---- records per destination (tcp_tw_dest_quota) ---- */

#define DEST_INITIAL 16u
#define DEST_MAX     (UINT32_C(1) << 31)

static struct tcpw_dest dest_of(const struct tcpw_tuple *u)
{
    return (struct tcpw_dest){.laddr = u->laddr, .raddr = u->raddr, .rport = u->rport};
}

static uint32_t dest_hash(const struct tcpw_tw_table *t, const struct tcpw_dest *k)
{
    return tcpw__dest_hash(t->stack->tcp->secret, k);
}

/* The map's entries are struct tcpw_tw_dest, the map's part first. */
static struct tcpw_tw_dest *dest_find(const struct tcpw_tw_table *t, const struct tcpw_dest *k,
                                      uint32_t hash)
{
    return (struct tcpw_tw_dest *)tcpw__dest_map_find(&t->dests, k, hash);
}

static uint32_t dest_count(const struct tcpw_tw_table *t, const struct tcpw_dest *k, uint32_t hash)
{
    const struct tcpw_tw_dest *d = dest_find(t, k, hash);
    return d ? d->count : 0;
}

/* After a successful tcpw__dest_map_reserve(), which makes room for one
 * more destination: cannot fail. */
static void dest_inc(struct tcpw_tw_table *t, const struct tcpw_dest *k, uint32_t hash)
{
    struct tcpw_tw_dest *d = dest_find(t, k, hash);

    if (!d)
        d = (struct tcpw_tw_dest *)tcpw__dest_map_insert(&t->dests, k, hash);
    d->count++;
}

static void dest_dec(struct tcpw_tw_table *t, const struct tcpw_tuple *u)
{
    struct tcpw_dest k = dest_of(u);
    struct tcpw_tw_dest *d = dest_find(t, &k, dest_hash(t, &k));

    assert(d && d->count); /* every live record was counted */
    if (--d->count == 0)
        tcpw__dest_map_remove(&t->dests, &d->dest);
}

/* ---- time ---- */

/* The full expiry of a record, from its 36 stored bits and a time `base`
 * within 2^35 µs of it. */
static uint64_t expiry_near(uint64_t base, const struct tcpw_tw *tw)
{
    uint64_t e = ((uint64_t)(tw->bits & TW_BITS_EXP_HI_MASK) << 32) | tw->expires_lo;
    uint64_t d = (e - base) & EXP_MASK;
    return (d & EXP_SIGN) ? base - (EXP_MASK + 1u - d) : base + d;
}

static void set_expiry(struct tcpw_tw *tw, uint64_t expires)
{
    tw->expires_lo = (uint32_t)expires;
    tw->bits = (uint16_t)((tw->bits & ~TW_BITS_EXP_HI_MASK) |
                          ((expires >> 32) & TW_BITS_EXP_HI_MASK));
}

static void set_ts_age(struct tcpw_tw *tw, uint32_t age_s)
{
    if (age_s > TW_TS_AGE_MAX)
        age_s = TW_TS_AGE_MAX;
    tw->bits = (uint16_t)((tw->bits & ((1u << TW_BITS_AGE_SHIFT) - 1u)) |
                          (age_s << TW_BITS_AGE_SHIFT));
}

uint64_t tcpw__tw_expires(const struct tcpw_stack *s, const struct tcpw_tw *tw)
{
    return expiry_near(s->now, tw);
}

uint64_t tcpw__tw_remaining(const struct tcpw_stack *s, const struct tcpw_tw *tw)
{
    uint64_t e = expiry_near(s->now, tw);
    return e > s->now ? e - s->now : 0;
}

uint32_t tcpw__tw_ts_recent_age_s(const struct tcpw_stack *s, const struct tcpw_tw *tw)
{
    const struct tcpw_tw_table *t = &s->tcp->tw;
    uint64_t start = expiry_near(s->now, tw) - t->lifetime_us;
    uint64_t since = s->now > start ? (s->now - start) / US_PER_S : 0;
    uint64_t age;

    if (!(tw->bits & TW_BITS_TS_OK))
        return 0;
    age = (uint64_t)(tw->bits >> TW_BITS_AGE_SHIFT) + since;
    return age > UINT32_MAX ? UINT32_MAX : (uint32_t)age;
}

static void rearm(struct tcpw_tw_table *t)
{
    struct tcpw_stack *s = t->stack;
    if (t->count)
        tcpw_timer_arm(&s->wheel, &t->timer, expiry_near(s->now, slot(t, t->head)));
    else
        tcpw_timer_cancel(&s->wheel, &t->timer);
}

/* ---- removal ---- */

/* Takes a live record out: index, counts, tombstone; the head moves on if it
 * was the head. Does not rearm or compact (the callers decide). */
static void tw_kill(struct tcpw_tw_table *t, struct tcpw_tw *tw)
{
    struct tcpw_tuple gone = tw->tuple;

    index_unlink(t, tw);
    if (t->stack->cfg.tcp_tw_dest_quota)
        dest_dec(t, &tw->tuple);
    tw->tuple.lport = 0;
    t->dead++;
    t->count--;
    t->stack->tcp->state_counts[TCPW_TIME_WAIT]--;
    head_settle(t);
    tcpw__holds_del(t->stack, &gone, TCPW_HOLDER_TW);
}

/* The head leaves by expiry or eviction: TIME_WAIT => CLOSED in the trace. */
static void end_head(struct tcpw_tw_table *t, enum tcpw_counter why)
{
    struct tcpw_tcp_state *tcp = t->stack->tcp;
    struct tcpw_tw *tw = slot(t, t->head);
    const struct tcpw_tuple *u = &tw->tuple;

    tcpw__count(t->stack, why);
    if (tcp->trace_fn)
        tcp->trace_fn(tcp->trace_user, u->laddr, u->lport, u->raddr, u->rport, TCPW_TIME_WAIT,
                      TCPW_CLOSED);
    tw_kill(t, tw);
}

static void expire(struct tcpw_timer *timer, uint64_t now)
{
    struct tcpw_tw_table *t = TABLE_OF(timer);

    /* Records are in expiry order: end them from the head while due. */
    while (t->count && expiry_near(now, slot(t, t->head)) <= now)
        end_head(t, TCPW_CTR_TW);
    /* Fewer live records may now be outnumbered by the tombstones between
     * them: the same amortised bound as for removals. */
    maybe_compact(t);
    rearm(t);
}

void tcpw__tw_remove(struct tcpw_stack *s, struct tcpw_tw *tw)
{
    struct tcpw_tw_table *t = &s->tcp->tw;
    tw_kill(t, tw);
    maybe_compact(t);
    rearm(t);
}

/* ---- tcp_tw_reuse: a new outgoing connection takes the 4-tuple over ---- */

/* 127.0.0.0/8 (RFC 1122 §3.2.1.3 (g)), Linux's ipv4_is_loopback(). */
static bool addr_is_loopback(uint32_t addr) { return (addr >> 24) == 127u; }

bool tcpw__tw_reuse_applies(const struct tcpw_stack *s, uint32_t laddr, uint32_t raddr)
{
    /* Linux's tcp_twsk_unique(): 2 means loopback only, judged by either
     * address being in 127/8. */
    return s->cfg.tcp_tw_reuse == 1 ||
           (s->cfg.tcp_tw_reuse == 2 && (addr_is_loopback(laddr) || addr_is_loopback(raddr)));
}

bool tcpw__tw_reusable(const struct tcpw_stack *s, const struct tcpw_tw *tw)
{
    if (!tcpw__tw_reuse_applies(s, tw->tuple.laddr, tw->tuple.raddr))
        return false;
    /* Without timestamps nothing tells the old connection's duplicates from
     * the new one's segments but sequence numbers, and the new ISS is only
     * 64 KiB ahead: Linux requires tw_ts_recent_stamp. */
    if (!(tw->bits & TW_BITS_TS_OK))
        return false;
    /* Linux: time_after32(ktime_get_seconds(), tw_ts_recent_stamp), i.e.
     * TS.Recent was stored in an earlier second. The new connection's
     * timestamps then exceed it by at least the 1 ms clock's ~1000 ticks,
     * so the peer's PAWS (RFC 7323 §5.3) accepts the new segments and
     * rejects the old ones. tcpwave keeps whole seconds of age: >= 1. */
    if (tcpw__tw_ts_recent_age_s(s, tw) < 1u)
        return false;
    /* A record reloaded from another run (tcpw_tw_load) keeps that run's
     * timestamp clock, which this stack's per-pair clock need not be ahead
     * of: the peer's PAWS could reject the new connection. Only a record on
     * this stack's own clock is taken over. */
    {
        uint32_t pair[2] = {tw->tuple.laddr, tw->tuple.raddr};
        return tw->ts_offset == (uint32_t)tcpw_siphash24(s->tcp->secret, pair, sizeof(pair));
    }
}

uint32_t tcpw__tw_take_over(struct tcpw_stack *s, struct tcpw_tw *tw)
{
    struct tcpw_tcp_state *tcp = s->tcp;
    const struct tcpw_tuple *u = &tw->tuple;
    /* Linux's tcp_twsk_unique(): write_seq = tw_snd_nxt + 65535 + 2, so the
     * new sequence space starts beyond anything the peer may still accept
     * for the old connection (a full unscaled window past it); 0 is
     * avoided as Linux avoids it (0 means "choose an ISN"). */
    uint32_t iss = tw->snd_nxt + 65535u + 2u;

    if (iss == 0)
        iss = 1;
    tcpw__count(s, TCPW_CTR_TW_RECYCLED);
    if (tcp->trace_fn)
        tcp->trace_fn(tcp->trace_user, u->laddr, u->lport, u->raddr, u->rport, TCPW_TIME_WAIT,
                      TCPW_CLOSED);
    tcpw__tw_remove(s, tw);
    return iss;
}

struct tcpw_tw *tcpw__tw_restart(struct tcpw_stack *s, struct tcpw_tw *tw)
{
    struct tcpw_tw_table *t = &s->tcp->tw;
    uint32_t age = tcpw__tw_ts_recent_age_s(s, tw);
    uint32_t from = index_unlink(t, tw), to = from;
    bool moved = true;

    if (from + 1u != t->tail) {
        to = log_append(t);
        if (to == TW_NIL) {
            /* Out of memory for a new chunk: the record keeps its place and
             * its old expiry (TIME_WAIT ends on time rather than 2MSL after
             * this FIN); the FIFO order, and so every other expiry, stays
             * right. */
            to = from;
            moved = false;
        } else {
            *slot(t, to) = *tw;
            tw->tuple.lport = 0;
            t->dead++;
        }
    }
    if (moved) {
        set_expiry(slot(t, to), s->now + t->lifetime_us);
        set_ts_age(slot(t, to), age);
    }
    index_insert(t, to);
    head_settle(t);
    if (moved) {
        /* Compaction keeps the order, so the record stays the newest. */
        maybe_compact(t);
        to = t->tail - 1u;
    }
    rearm(t);
    return slot(t, to);
}

/* ---- the table ---- */

int tcpw__tw_init(struct tcpw_stack *s)
{
    struct tcpw_tw_table *t = &s->tcp->tw;

    memset(t, 0, sizeof(*t));
    t->stack = s;
    tcpw__dest_map_init(&t->dests, sizeof(struct tcpw_tw_dest), DEST_INITIAL, DEST_MAX);
    t->lifetime_us = 2u * (uint64_t)s->cfg.tcp_msl_ms * 1000u;
    if (s->cfg.tcp_tw_recycle) {
        /* tcp_tw_recycle (Linux before 4.12, tcp_time_wait()): TIME_WAIT
         * lasts 3.5 x RTO, (rto << 2) - (rto >> 1). Linux took the
         * connection's RTO; a per-record lifetime would break the log's
         * expiry order, so tcpwave takes the one RTO every connection of the
         * stack is bounded by, tcp_rto_min (200 ms: 700 ms), for every
         * record of the stack (with or without timestamps), and never more
         * than 2MSL. docs/states/TIME_WAIT.md, "tcp_tw_recycle". */
        uint64_t rto = (uint64_t)s->cfg.tcp_rto_min_ms * 1000u;
        uint64_t short_us = (rto << 2) - (rto >> 1);
        if (short_us < t->lifetime_us)
            t->lifetime_us = short_us;
    }
    /* expiry_near() needs every live expiry within 2^35 µs (9.5 h) of now;
     * tcp_msl is at most 3600 s, so 2MSL is at most 2 h. */
    if (t->lifetime_us >= EXP_SIGN / 2u)
        return -EINVAL;
    tcpw_timer_init(&t->timer, expire);
    t->chunks = calloc(INITIAL_RING, sizeof(*t->chunks));
    t->buckets = malloc(sizeof(*t->buckets) * INITIAL_BUCKETS);
    if (!t->chunks || !t->buckets) {
        free(t->chunks);
        free(t->buckets);
        t->chunks = NULL;
        t->buckets = NULL;
        return -ENOMEM;
    }
    t->chunk_mask = INITIAL_RING - 1u;
    t->bucket_mask = INITIAL_BUCKETS - 1u;
    memset(t->buckets, 0xff, sizeof(*t->buckets) * INITIAL_BUCKETS);
    return 0;
}

void tcpw__tw_fini(struct tcpw_stack *s)
{
    struct tcpw_tw_table *t = &s->tcp->tw;

    s->tcp->state_counts[TCPW_TIME_WAIT] -= t->count;
    while (t->nchunks)
        chunk_free_first(t);
    tcpw_timer_cancel(&s->wheel, &t->timer);
    free(t->chunks);
    free(t->buckets);
    free(t->old_buckets);
    t->old_buckets = NULL;
    tcpw__dest_map_fini(&t->dests);
    t->chunks = NULL;
    t->buckets = NULL;
    t->count = 0;
    t->dead = 0;
    t->head = t->tail;
}

int tcpw__tw_add(struct tcpw_stack *s, const struct tcpw_tw_proto *p)
{
    struct tcpw_tw_table *t = &s->tcp->tw;
    bool was_head_change = false;
    struct tcpw_dest dest = dest_of(&p->tuple);
    uint32_t dest_h = 0;
    struct tcpw_tw *tw;
    uint32_t pos;

    uint64_t remaining = t->lifetime_us;
    uint32_t age = p->ts_recent_age_s;

    assert(p->tuple.lport != 0 && !tcpw__tw_find(s, &p->tuple));
    if (p->remaining_us && p->remaining_us < remaining) {
        /* A reloaded record (tcpw_tw_load): it must not expire before the
         * newest record, or the log would leave expiry order. */
        uint64_t since_start_s = (remaining - p->remaining_us) / US_PER_S;
        remaining = p->remaining_us;
        for (uint32_t q = t->tail; q != t->head; q--) {
            const struct tcpw_tw *last = slot(t, q - 1u);
            if (!is_live(last))
                continue;
            if (expiry_near(s->now, last) > s->now + remaining)
                return -EINVAL;
            break;
        }
        /* The record keeps the age of TS.Recent at its (virtual) start,
         * 2MSL before its expiry: store the age now less the time since,
         * as tcpw__tw_ts_recent_age_s() will add it back (it adds nothing
         * while the start lies before time 0 of this stack). */
        if (s->now + remaining >= t->lifetime_us)
            age = age > since_start_s ? age - (uint32_t)since_start_s : 0;
    }
    if (s->cfg.tcp_tw_dest_quota) {
        /* tcp_tw_dest_quota: one busy destination may not take the whole
         * table. Over quota the connection goes without TIME_WAIT, whatever
         * tcp_tw_overflow_policy says (evicting would only move the
         * problem to another destination's record). */
        dest_h = dest_hash(t, &dest);
        if (dest_count(t, &dest, dest_h) >= s->cfg.tcp_tw_dest_quota) {
            tcpw__count(s, TCPW_CTR_TW_QUOTA_REFUSED);
            return -ENOBUFS;
        }
        if (tcpw__dest_map_reserve(&t->dests) != 0) {
            tcpw__count(s, TCPW_CTR_TCP_TIME_WAIT_OVERFLOW);
            return -ENOMEM;
        }
    }
    if (t->count >= s->cfg.tcp_max_tw_buckets) {
        if (s->cfg.tcp_tw_overflow_policy != 1 || t->count == 0) {
            /* Linux: "TCP: time wait bucket table overflow", rate-limited;
             * the connection is closed without TIME_WAIT protection. The
             * counter counts every one, the log line (tcpw_set_log_fn) at
             * most one a second. */
            tcpw__count(s, TCPW_CTR_TCP_TIME_WAIT_OVERFLOW);
            tcpw__log_ratelimited(s, &t->overflow_logged, "TCP: time wait bucket table overflow");
            return -ENOBUFS;
        }
        /* FreeBSD (tcp_tw_2msl_scan(reuse), before 14) and lwIP
         * (tcp_kill_timewait) give the oldest record's place to the new one:
         * the newest close is protected, the oldest, nearest its end, is
         * not. */
        while (t->count >= s->cfg.tcp_max_tw_buckets && t->count)
            end_head(t, TCPW_CTR_TW_EVICTED);
        was_head_change = true;
    }
    pos = log_append(t);
    if (pos == TW_NIL) {
        if (was_head_change)
            rearm(t);
        tcpw__count(s, TCPW_CTR_TCP_TIME_WAIT_OVERFLOW);
        return -ENOMEM;
    }
    tw = slot(t, pos);
    tw->tuple = p->tuple;
    tw->snd_nxt = p->snd_nxt;
    tw->rcv_nxt = p->rcv_nxt;
    tw->ts_recent = p->ts_recent;
    tw->ts_offset = p->ts_offset;
    tw->rcv_wnd = p->rcv_wnd;
    tw->bits = p->ts_ok ? TW_BITS_TS_OK : 0;
    set_expiry(tw, s->now + remaining);
    set_ts_age(tw, p->ts_ok ? age : 0);
    index_insert(t, pos);
    if (s->cfg.tcp_tw_dest_quota)
        dest_inc(t, &dest, dest_h);
    tcpw__holds_add(s, &tw->tuple, TCPW_HOLDER_TW);
    t->count++;
    s->tcp->state_counts[TCPW_TIME_WAIT]++;
    head_settle(t); /* drops the tombstone log_append leaves at TW_NIL, if any */
    index_maybe_grow(t);
    {
        /* Inserts move a compaction on too; finishing it moves the head. */
        uint32_t head = t->head;
        maybe_compact(t);
        was_head_change = was_head_change || t->head != head;
    }
    if (t->head == pos || was_head_change)
        rearm(t);
    return 0;
}

struct tcpw_tw *tcpw__tw_find(struct tcpw_stack *s, const struct tcpw_tuple *tuple)
{
    const struct tcpw_tw_table *t = &s->tcp->tw;
    uint32_t pos = *bucket_of(t, tuple);

    while (pos != TW_NIL) {
        struct tcpw_tw *tw = slot(t, pos);
        if (tcpw_tuple_eq(&tw->tuple, tuple))
            return tw;
        pos = tw->hnext;
    }
    return NULL;
}

int tcpw__tw_walk(const struct tcpw_stack *s, int (*fn)(void *user, const struct tcpw_tw *tw),
                  void *user)
{
    const struct tcpw_tw_table *t = &s->tcp->tw;

    for (uint32_t p = t->head; p != t->tail; p++) {
        const struct tcpw_tw *tw = slot(t, p);
        int r;
        if (!is_live(tw))
            continue;
        r = fn(user, tw);
        if (r)
            return r;
    }
    return 0;
}

size_t tcpw__tw_memory_bytes(const struct tcpw_stack *s)
{
    const struct tcpw_tw_table *t = &s->tcp->tw;
    return (size_t)t->nchunks * TW_CHUNK_RECORDS * sizeof(struct tcpw_tw) +
           ((size_t)t->chunk_mask + 1u) * sizeof(*t->chunks) +
           ((size_t)t->bucket_mask + 1u) * sizeof(*t->buckets) +
           (t->old_buckets ? ((size_t)t->old_mask + 1u) * sizeof(*t->old_buckets) : 0u) +
           tcpw__dest_map_memory_bytes(&t->dests);
}

void tcpw__tw_enter(struct tcpw_conn *c)
{
    struct tcpw_stack *s = c->stack;
    struct tcpw_tw_proto p;

    if (s->cfg.tcp_tw_skip_for_test) {
        /* The test switch: what a stack without TIME_WAIT would do. */
        tcpw__conn_report_end(c, 0, false);
        tcpw__set_state(c, TCPW_TIME_WAIT);
        if (c->sock)
            c->sock->eof = true;
        tcpw__conn_destroy(c);
        return;
    }
    memset(&p, 0, sizeof(p));
    p.tuple = c->node.tuple;
    p.snd_nxt = c->snd_max;
    p.rcv_nxt = c->rcv_nxt;
    p.ts_ok = c->ts_ok;
    p.ts_recent = c->ts_recent;
    p.ts_offset = c->ts_offset;
    {
        uint64_t age = s->now > c->ts_recent_age ? (s->now - c->ts_recent_age) / US_PER_S : 0;
        p.ts_recent_age_s = age > UINT32_MAX ? UINT32_MAX : (uint32_t)age;
    }
    {
        uint32_t wnd = tcpw__rcv_window(c) >> c->rcv_wscale;
        p.rcv_wnd = (uint16_t)(wnd > 65535u ? 65535u : wnd);
    }
    if (tcpw__tw_add(s, &p) != 0) {
        /* Refused or out of memory (counted): closed without TIME_WAIT. */
        c->reason = TCPW_REASON_TIME_WAIT_OVERFLOW;
        tcpw__conn_done(c, 0);
        return;
    }
    /* tcp_tw_recycle: the peer's TS.Recent goes into the per-peer cache
     * that judges its next SYNs (Linux's tcp_remember_stamp()). */
    if (p.ts_ok)
        tcpw__recycle_remember(s, p.tuple.raddr, p.ts_recent, c->ts_recent_age);
    /* The application's socket, if it still has one, sees CLOSED with EOF:
     * TIME_WAIT belongs to the stack, not to the descriptor (as in Linux,
     * where tcp_time_wait() ends the full socket). */
    tcpw__conn_report_end(c, 0, true);
    tcpw__set_state(c, TCPW_TIME_WAIT);
    if (c->sock)
        c->sock->eof = true;
    tcpw__conn_destroy(c);
}

/* Sends the ACK a TIME_WAIT record owes: <SEQ=SND.NXT><ACK=RCV.NXT>. */
static void tw_send_ack(struct tcpw_stack *s, const struct tcpw_tw *tw)
{
    struct tcpw_tcp_out out = {0};
    uint8_t buf[TCPW_IPV4_HDR_MIN + TCPW_TCP_HDR_MIN + 12];
    size_t len;

    out.src = tw->tuple.laddr;
    out.dst = tw->tuple.raddr;
    out.sport = tw->tuple.lport;
    out.dport = tw->tuple.rport;
    out.seq = tw->snd_nxt;
    out.ack = tw->rcv_nxt;
    out.flags = TCPW_ACK;
    out.wnd = tw->rcv_wnd;
    out.ttl = (uint8_t)s->cfg.ip_default_ttl;
    out.ip_id = tcpw__stack_ip_id(s);
    out.df = true;
    if (tw->bits & TW_BITS_TS_OK) {
        out.opts.has_ts = true;
        out.opts.ts_val = (uint32_t)(s->now / 1000u) + tw->ts_offset;
        out.opts.ts_ecr = tw->ts_recent;
    }
    len = tcpw_tcp_build(buf, sizeof(buf), &out);
    if (len) {
        tcpw__count(s, TCPW_CTR_TCP_OUT_SEGS);
        tcpw__stack_send(s, buf, len);
    }
}

/* Linux's TCP_PAWS_MSL: a RST older than TS.Recent is still accepted once
 * TS.Recent is this old (tcp_paws_reject()), the peer may have rebooted. */
#define PAWS_RST_AGE_S 60u
/* RFC 7323 §5.5: TS.Recent older than 24 days is invalid for PAWS. */
#define PAWS_IDLE_S (24u * 24u * 3600u)

/* RFC 7323 §5.3 R1 in TIME-WAIT, as Linux's tcp_timewait_state_process()
 * applies it (tcp_paws_reject()): with timestamps on the record and on the
 * segment, a TSval older than TS.Recent marks an old duplicate. Not when
 * TS.Recent is 0 (Linux: never set), older than 24 days (RFC 7323 §5.5),
 * or, for a RST, older than 60 s. The record keeps the age of TS.Recent in
 * seconds saturated at TW_TS_AGE_MAX when it (re)started; a saturated age is
 * only a lower bound, so PAWS is not applied then rather than risk
 * rejecting a peer whose clock may have moved on (in practice TS.Recent
 * comes from the peer's FIN, moments before the record started). */
static bool tw_paws_reject(const struct tcpw_stack *s, const struct tcpw_tw *tw,
                           const struct tcpw_tcp *seg)
{
    uint32_t age;

    if (!(tw->bits & TW_BITS_TS_OK) || !seg->opts.has_ts)
        return false;
    if ((int32_t)(seg->opts.ts_val - tw->ts_recent) >= 0 || tw->ts_recent == 0)
        return false;
    if ((tw->bits >> TW_BITS_AGE_SHIFT) >= TW_TS_AGE_MAX)
        return false;
    age = tcpw__tw_ts_recent_age_s(s, tw);
    if (age >= PAWS_IDLE_S)
        return false;
    return !((seg->flags & TCPW_RST) && age >= PAWS_RST_AGE_S);
}

bool tcpw__tw_input(struct tcpw_stack *s, struct tcpw_tw *tw, const struct tcpw_packet *p,
                    uint32_t *iss)
{
    const struct tcpw_tcp *seg = &p->l4.tcp;
    bool paws = tw_paws_reject(s, tw, seg);

    /* RFC 9293 §3.10.7.4 second check, RFC 1337: with tcp_rfc1337 a RST
     * does not end TIME_WAIT (that would let an old duplicate "assassinate"
     * it); without it (Linux's default) the record is removed. A RST that
     * fails PAWS is an old duplicate: counted and dropped either way. */
    if (seg->flags & TCPW_RST) {
        if (paws)
            tcpw__count(s, TCPW_CTR_PAWS_ESTAB);
        else if (!s->cfg.tcp_rfc1337) {
            tcpw__count(s, TCPW_CTR_TW_KILLED);
            tcpw__tw_remove(s, tw);
        }
        return true;
    }
    if ((seg->flags & TCPW_SYN) && !(seg->flags & TCPW_ACK) && !paws) {
        /* RFC 9293 §3.10.7.4 note, RFC 6191, Linux's TCP_TW_SYN: a new SYN
         * reopens the 4-tuple when it passes PAWS and its sequence number
         * is beyond the old RCV.NXT or, with timestamps on both, its TSval
         * is newer than TS.Recent. The record goes and the listener sees the
         * SYN. Linux counts nothing here (TWRecycled is tcp_tw_reuse's). */
        bool newer = seq_gt(seg->seq, tw->rcv_nxt) ||
                     ((tw->bits & TW_BITS_TS_OK) && seg->opts.has_ts &&
                      (int32_t)(seg->opts.ts_val - tw->ts_recent) > 0);
        if (newer) {
            struct tcpw_tcp_state *tcp = s->tcp;
            const struct tcpw_tuple *u = &tw->tuple;
            if (tcp->trace_fn)
                tcp->trace_fn(tcp->trace_user, u->laddr, u->lport, u->raddr, u->rport,
                              TCPW_TIME_WAIT, TCPW_CLOSED);
            /* Linux's tcp_timewait_state_process() hands the listener
             * tw_isn = old SND.NXT + 65535 + 2: our new sequence space
             * starts beyond anything of the old connection the peer could
             * still accept with an unscaled window, whatever the ISN clock
             * says. */
            *iss = tw->snd_nxt + 65535u + 2u;
            if (*iss == 0)
                *iss = 1;
            tcpw__tw_remove(s, tw);
            return false;
        }
        /* An old duplicate, or a new SYN we cannot tell from one: the old
         * connection's ACK, <SEQ=SND.NXT><ACK=RCV.NXT>. Its receiver, if it
         * is a new connection in SYN-SENT, answers with a RST (RFC 9293
         * §3.10.7.3), which TIME-WAIT ignores (RFC 1337), and retries. Like
         * Linux, an ACK-less SYN does not restart the 2MSL wait. */
        tw_send_ack(s, tw);
        return true;
    }
    if (paws) {
        /* RFC 7323 §5.3 R1: an old duplicate (a SYN among them). Linux
         * counts PAWSEstab (LINUX_MIB_PAWSESTABREJECTED), restarts the 2MSL
         * wait and re-ACKs. */
        tcpw__count(s, TCPW_CTR_PAWS_ESTAB);
        tw = tcpw__tw_restart(s, tw);
        tw_send_ack(s, tw);
        return true;
    }
    if (seg->flags & TCPW_FIN) {
        /* A retransmitted FIN: our last ACK was lost. Re-ACK it and restart
         * the 2MSL wait (the record moves to the log's tail). */
        if (seg->seq + (uint32_t)seg->payload_len + 1u == tw->rcv_nxt)
            tw = tcpw__tw_restart(s, tw);
        tw_send_ack(s, tw);
        return true;
    }
    /* Anything else with data or out of order gets the ACK that tells the
     * peer where we are; a bare ACK is silently dropped (Linux: TCP_TW_SUCCESS). */
    if (seg->payload_len || seq_gt(seg->seq, tw->rcv_nxt))
        tw_send_ack(s, tw);
    return true;
}

/* ---- quiet time (RFC 9293 §3.4.3) ---- */

void tcpw__tw_quiet_start(struct tcpw_stack *s)
{
    /* "a TCP endpoint [...] keep quiet for a MSL before assigning any
     * sequence numbers upon starting up or recovering from a crash". MSL is
     * at least 1 ms, so the end is never 0 ("none"). */
    s->tcp->tw.quiet_until =
        s->cfg.tcp_quiet_time ? s->now + (uint64_t)s->cfg.tcp_msl_ms * 1000u : 0;
}

void tcpw__tw_quiet_end(struct tcpw_stack *s) { s->tcp->tw.quiet_until = 0; }

bool tcpw__tw_quiet(const struct tcpw_stack *s) { return s->now < s->tcp->tw.quiet_until; }

/* ---- the public observability API (tcpwave/timewait.h) ---- */

uint64_t tcpw_tw_count(const struct tcpw_stack *stack)
{
    return stack && stack->tcp ? stack->tcp->tw.count : 0;
}

size_t tcpw_tw_memory_bytes(const struct tcpw_stack *stack)
{
    return stack && stack->tcp ? tcpw__tw_memory_bytes(stack) : 0;
}

static void info_of(const struct tcpw_stack *s, const struct tcpw_tw *tw, struct tcpw_tw_info *i)
{
    memset(i, 0, sizeof(*i));
    i->laddr = tw->tuple.laddr;
    i->lport = tw->tuple.lport;
    i->raddr = tw->tuple.raddr;
    i->rport = tw->tuple.rport;
    i->remaining_us = tcpw__tw_remaining(s, tw);
}

struct visit_ctx {
    const struct tcpw_stack *s;
    tcpw_tw_visit_fn fn;
    void *user;
};

static int visit_one(void *user, const struct tcpw_tw *tw)
{
    struct visit_ctx *v = user;
    struct tcpw_tw_info info;
    info_of(v->s, tw, &info);
    return v->fn(v->user, &info);
}

int tcpw_tw_foreach(const struct tcpw_stack *stack, tcpw_tw_visit_fn fn, void *user)
{
    struct visit_ctx v = {stack, fn, user};
    if (!stack || !stack->tcp || !fn)
        return -EINVAL;
    return tcpw__tw_walk(stack, visit_one, &v);
}

struct list_ctx {
    const struct tcpw_stack *s;
    struct tcpw_tw_info *out;
    size_t cap, n;
};

static int list_one(void *user, const struct tcpw_tw *tw)
{
    struct list_ctx *l = user;
    if (l->n == l->cap)
        return 1;
    info_of(l->s, tw, &l->out[l->n++]);
    return 0;
}

int tcpw_tw_list(const struct tcpw_stack *stack, struct tcpw_tw_info *out, size_t cap,
                 size_t *written)
{
    struct list_ctx l = {stack, out, cap, 0};
    int err;

    if (written)
        *written = 0;
    if (!stack || !stack->tcp || !written || (!out && cap))
        return -EINVAL;
    err = tcpw__tw_walk(stack, list_one, &l) ? -ENOSPC : 0;
    *written = l.n;
    return err;
}
