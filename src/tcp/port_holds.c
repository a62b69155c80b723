/* tcp/ — who holds the local ports. See port_holds.h. */
#include "tcp/port_holds.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/conn.h"
#include "tcp/tcp.h"
#include "tcp/timewait.h"

#define BUSY_INITIAL 8u
#define BUSY_MAX     (UINT32_C(1) << 30)
#define ALL_ONES     (~UINT64_C(0))

static struct tcpw_port_holds *holds_of(const struct tcpw_stack *s) { return &s->tcp->holds; }

static bool in_range(const struct tcpw_port_holds *h, uint16_t port)
{
    return port >= h->lo && (uint32_t)port - h->lo < h->num;
}

/* ---- bitmaps over the range ---- */

static int bitmap_init(const struct tcpw_port_holds *h, struct tcpw_port_bitmap *b)
{
    uint32_t tail = h->num & 63u;

    b->words = calloc((size_t)h->nwords + h->nsum, sizeof(uint64_t));
    if (!b->words)
        return -ENOMEM;
    b->set = 0;
    if (tail) {
        /* The bits past the range are "held" for good. */
        b->words[h->nwords - 1u] = ALL_ONES << tail;
    }
    return 0;
}

static uint64_t *summary(const struct tcpw_port_holds *h, const struct tcpw_port_bitmap *b)
{
    return b->words + h->nwords;
}

static void bitmap_set(const struct tcpw_port_holds *h, struct tcpw_port_bitmap *b, uint32_t i)
{
    uint64_t *w = &b->words[i >> 6], bit = UINT64_C(1) << (i & 63u);

    if (*w & bit)
        return;
    *w |= bit;
    b->set++;
    if (*w == ALL_ONES)
        summary(h, b)[i >> 12] |= UINT64_C(1) << ((i >> 6) & 63u);
}

static void bitmap_clear(const struct tcpw_port_holds *h, struct tcpw_port_bitmap *b, uint32_t i)
{
    uint64_t *w = &b->words[i >> 6], bit = UINT64_C(1) << (i & 63u);

    if (!(*w & bit))
        return;
    *w &= ~bit;
    b->set--;
    summary(h, b)[i >> 12] &= ~(UINT64_C(1) << ((i >> 6) & 63u));
}

/* The first word at or after `w` that is not all ones, or nwords. */
static uint32_t next_nonfull(const struct tcpw_port_holds *h, const struct tcpw_port_bitmap *b,
                             uint32_t w)
{
    const uint64_t *sum = summary(h, b);
    uint32_t sw = w >> 6, r;
    uint64_t open;

    if (w >= h->nwords)
        return h->nwords;
    open = ~sum[sw] & (ALL_ONES << (w & 63u));
    while (!open) {
        if (++sw >= h->nsum)
            return h->nwords;
        open = ~sum[sw];
    }
    r = (sw << 6) + (uint32_t)__builtin_ctzll(open);
    return r < h->nwords ? r : h->nwords;
}

/* 64 bits of the stack's bound-port bitmap (bit per port 0..65535) from
 * port `p0`; ports past 65535 read as held. */
static uint64_t bound_bits(const uint64_t *bound, uint32_t p0)
{
    uint32_t w = p0 >> 6, sh = p0 & 63u;
    uint64_t v;

    if (w >= 65536u / 64u)
        return ALL_ONES;
    v = bound[w] >> sh;
    if (sh)
        v |= (w + 1u < 65536u / 64u ? bound[w + 1u] : ALL_ONES) << (64u - sh);
    return v;
}

/* The first index >= i (no wrap) that is neither in b nor bound, or num. */
static uint32_t first_open(const struct tcpw_port_holds *h, const struct tcpw_port_bitmap *b,
                           const uint64_t *bound, uint32_t i)
{
    uint32_t w = i >> 6;
    uint64_t word;

    if (i >= h->num)
        return h->num;
    /* Bits below i count as held in the first word. */
    word = b->words[w] | bound_bits(bound, h->lo + (w << 6)) | ((UINT64_C(1) << (i & 63u)) - 1u);
    for (;;) {
        if (word != ALL_ONES) {
            uint32_t r = (w << 6) + (uint32_t)__builtin_ctzll(~word);
            return r < h->num ? r : h->num;
        }
        w = next_nonfull(h, b, w + 1u);
        if (w >= h->nwords)
            return h->num;
        word = b->words[w] | bound_bits(bound, h->lo + (w << 6));
    }
}

/* Held ports in a row from `index`, cyclically, at most `left`. */
static uint32_t run_length(const struct tcpw_port_holds *h, const struct tcpw_port_bitmap *b,
                           const uint64_t *bound, uint32_t index, uint32_t left)
{
    uint32_t j = first_open(h, b, bound, index);
    uint64_t dist;

    if (j < h->num)
        dist = j - index;
    else
        dist = (uint64_t)(h->num - index) + first_open(h, b, bound, 0);
    return dist < left ? (uint32_t)dist : left;
}

/* ---- busy destinations ---- */

static uint32_t busy_hash(const struct tcpw_stack *s, const struct tcpw_dest *k)
{
    return tcpw__dest_hash(s->tcp->secret, k);
}

static struct tcpw_busy_dest *busy_lookup(const struct tcpw_stack *s, uint32_t laddr,
                                          uint32_t raddr, uint16_t rport)
{
    const struct tcpw_port_holds *h = holds_of(s);
    struct tcpw_dest k = {.laddr = laddr, .raddr = raddr, .rport = rport};

    /* Every 4-tuple that comes or goes asks: no SipHash while no
     * destination is busy, which is almost always. */
    if (!h->busy.used)
        return NULL;
    /* The map's entries are struct tcpw_busy_dest, the map's part first. */
    return (struct tcpw_busy_dest *)tcpw__dest_map_find(&h->busy, &k, busy_hash(s, &k));
}

static void busy_drop(struct tcpw_port_holds *h, struct tcpw_busy_dest *d)
{
    free(d->held.words);
    tcpw__dest_map_remove(&h->busy, &d->dest);
}

struct tcpw_busy_dest *tcpw__holds_busy_find(const struct tcpw_stack *s, uint32_t laddr,
                                             uint32_t raddr, uint16_t rport)
{
    return busy_lookup(s, laddr, raddr, rport);
}

struct tcpw_busy_dest *tcpw__holds_busy_build(struct tcpw_stack *s, uint32_t laddr, uint32_t raddr,
                                              uint16_t rport)
{
    struct tcpw_port_holds *h = holds_of(s);
    struct tcpw_dest k = {.laddr = laddr, .raddr = raddr, .rport = rport};
    struct tcpw_port_bitmap held;
    struct tcpw_busy_dest *d;

    d = busy_lookup(s, laddr, raddr, rport);
    if (d)
        return d;
    if (tcpw__dest_map_reserve(&h->busy) != 0 || bitmap_init(h, &held) != 0)
        return NULL;
    d = (struct tcpw_busy_dest *)tcpw__dest_map_insert(&h->busy, &k, busy_hash(s, &k));
    d->held = held;
    return d;
}

void tcpw__holds_busy_learn(struct tcpw_stack *s, struct tcpw_busy_dest *d, uint16_t port)
{
    const struct tcpw_port_holds *h = holds_of(s);

    if (in_range(h, port))
        bitmap_set(h, &d->held, (uint32_t)port - h->lo);
}

/* ---- the hooks ---- */

void tcpw__holds_add(struct tcpw_stack *s, const struct tcpw_tuple *u, enum tcpw_holder who)
{
    struct tcpw_port_holds *h = holds_of(s);
    struct tcpw_port_holders *p = &h->by_port[u->lport];
    struct tcpw_busy_dest *d;

    if (who == TCPW_HOLDER_CONN)
        p->conns++;
    else
        p->tw++;
    if (!in_range(h, u->lport))
        return;
    bitmap_set(h, &h->in_use, (uint32_t)u->lport - h->lo);
    d = busy_lookup(s, u->laddr, u->raddr, u->rport);
    if (d)
        bitmap_set(h, &d->held, (uint32_t)u->lport - h->lo);
}

void tcpw__holds_del(struct tcpw_stack *s, const struct tcpw_tuple *u, enum tcpw_holder who)
{
    struct tcpw_port_holds *h = holds_of(s);
    struct tcpw_port_holders *p = &h->by_port[u->lport];
    struct tcpw_busy_dest *d;
    bool other;

    if (who == TCPW_HOLDER_CONN) {
        assert(p->conns);
        p->conns--;
    } else {
        assert(p->tw);
        p->tw--;
    }
    if (!in_range(h, u->lport))
        return;
    if (!p->conns && !p->tw)
        bitmap_clear(h, &h->in_use, (uint32_t)u->lport - h->lo);
    d = busy_lookup(s, u->laddr, u->raddr, u->rport);
    if (!d)
        return;
    /* A new connection taking a TIME_WAIT record over (tcp_tw_reuse) is
     * created before the record goes: the 4-tuple is held by both for a
     * moment, and stays held when either leaves. */
    other = who == TCPW_HOLDER_CONN ? tcpw__tw_find(s, u) != NULL : tcpw__conn_find(s, u) != NULL;
    if (other)
        return;
    bitmap_clear(h, &d->held, (uint32_t)u->lport - h->lo);
    if (d->held.set < TCPW_BUSY_KEEP)
        busy_drop(h, d);
}

bool tcpw__holds_conn_on(const struct tcpw_stack *s, uint16_t port)
{
    return holds_of(s)->by_port[port].conns != 0;
}

bool tcpw__holds_tw_on(const struct tcpw_stack *s, uint16_t port)
{
    return holds_of(s)->by_port[port].tw != 0;
}

uint32_t tcpw__holds_skip_dest(const struct tcpw_stack *s, const struct tcpw_busy_dest *d,
                               const uint64_t *bound, uint32_t index, uint32_t left)
{
    return run_length(holds_of(s), &d->held, bound, index, left);
}

uint32_t tcpw__holds_skip_any(const struct tcpw_stack *s, const uint64_t *bound, uint32_t index,
                              uint32_t left)
{
    return run_length(holds_of(s), &holds_of(s)->in_use, bound, index, left);
}

/* ---- life ---- */

int tcpw__holds_init(struct tcpw_stack *s)
{
    struct tcpw_port_holds *h = holds_of(s);

    memset(h, 0, sizeof(*h));
    tcpw__dest_map_init(&h->busy, sizeof(struct tcpw_busy_dest), BUSY_INITIAL, BUSY_MAX);
    h->lo = s->cfg.ip_local_port_range_min;
    h->num = s->cfg.ip_local_port_range_max - s->cfg.ip_local_port_range_min + 1u;
    h->nwords = (h->num + 63u) / 64u;
    h->nsum = (h->nwords + 63u) / 64u;
    h->by_port = calloc(65536u, sizeof(*h->by_port));
    if (!h->by_port || bitmap_init(h, &h->in_use) != 0) {
        free(h->by_port);
        h->by_port = NULL;
        return -ENOMEM;
    }
    return 0;
}

void tcpw__holds_fini(struct tcpw_stack *s)
{
    struct tcpw_port_holds *h = holds_of(s);
    struct tcpw_dest_entry *e;

    for (uint32_t it = 0; (e = tcpw__dest_map_next(&h->busy, &it)) != NULL;)
        free(((struct tcpw_busy_dest *)e)->held.words);
    tcpw__dest_map_fini(&h->busy);
    free(h->in_use.words);
    free(h->by_port);
    memset(h, 0, sizeof(*h));
}
