/* link/ — the in-memory wire (memlink): seeded per-path impairments, the
 * in-flight queue and the NAT. See memlink.h for the model.
 *
 * RFC 1624 (incremental checksum update) for NAT rewriting; RFC 3022
 * (traditional NAT / NAPT) and RFC 5508 (NAT behaviour for ICMP: echo
 * identifiers mapped like ports, errors translated by the packet they quote).
 */
#include "link/memlink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

#define ICMP_ECHO_REPLY    0u
#define ICMP_DEST_UNREACH  3u
#define ICMP_SOURCE_QUENCH 4u
#define ICMP_ECHO_REQUEST  8u
#define ICMP_TIME_EXCEEDED 11u
#define ICMP_PARAM_PROBLEM 12u
#define ICMP_HDR_LEN       8u

/* Domain tags keep seeds derived for different purposes apart. */
#define DOMAIN_PATH 0x70617468u /* "path" */

/* --- randomness ------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void tcpw__ml_rng_seed(struct tcpw__ml_rng *r, uint64_t seed)
{
    /* xoshiro's authors recommend splitmix64 to expand a 64-bit seed; it
     * never yields the all-zero state for four consecutive outputs. */
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

uint64_t tcpw__ml_rng_next(struct tcpw__ml_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5u, 7) * 9u;
    const uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t tcpw__ml_derive(uint64_t seed, uint64_t domain, uint64_t key)
{
    /* Three rounds of a strong mixer: a change in any input bit changes
     * every output bit with probability one half. */
    uint64_t st = seed;
    uint64_t h = splitmix64(&st);
    st = h ^ domain;
    h = splitmix64(&st);
    st = h ^ key;
    return splitmix64(&st);
}

/* Uniform in [0, 1) with 53 bits: `< p` is true with probability p, never
 * for p = 0 and always for p = 1. */
static double unit(uint64_t x)
{
    return (double)(x >> 11) * 0x1.0p-53;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* --- map ----------------------------------------------------------------- */

static size_t map_slot_of(uint64_t key, size_t cap)
{
    uint64_t st = key;
    return (size_t)(splitmix64(&st) & (cap - 1u));
}

static struct tcpw__ml_slot *map_find(struct tcpw__ml_slot *slots, size_t cap, uint64_t key)
{
    size_t i = map_slot_of(key, cap);
    while (slots[i].used && slots[i].key != key)
        i = (i + 1u) & (cap - 1u);
    return &slots[i];
}

static int map_grow(struct tcpw__ml_map *m)
{
    size_t ncap = m->cap ? m->cap * 2u : 16u;
    struct tcpw__ml_slot *ns = calloc(ncap, sizeof(*ns));

    if (!ns)
        return -ENOMEM;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].used)
            *map_find(ns, ncap, m->slots[i].key) = m->slots[i];
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return 0;
}

int tcpw__ml_map_put(struct tcpw__ml_map *m, uint64_t key, uint64_t val)
{
    struct tcpw__ml_slot *s;

    /* Load factor at most one half keeps linear probing short. */
    if ((m->count + 1u) * 2u > m->cap) {
        int err = map_grow(m);
        if (err)
            return err;
    }
    s = map_find(m->slots, m->cap, key);
    if (!s->used) {
        s->used = true;
        s->key = key;
        m->count++;
    }
    s->val = val;
    return 0;
}

bool tcpw__ml_map_get(const struct tcpw__ml_map *m, uint64_t key, uint64_t *val)
{
    const struct tcpw__ml_slot *s;

    if (!m->cap)
        return false;
    s = map_find(m->slots, m->cap, key);
    if (!s->used)
        return false;
    *val = s->val;
    return true;
}

void tcpw__ml_map_free(struct tcpw__ml_map *m)
{
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

/* --- packets and the in-flight heap --------------------------------------- */

struct tcpw__ml_pkt *tcpw__ml_pkt_new(uint32_t from, const uint8_t *data, size_t len)
{
    struct tcpw__ml_pkt *p = malloc(sizeof(*p) + len);

    if (!p)
        return NULL;
    p->due = 0;
    p->seq = 0;
    p->from = from;
    p->len = len;
    if (len)
        memcpy(p->data, data, len);
    return p;
}

uint32_t tcpw__ml_pkt_dst(const struct tcpw__ml_pkt *p)
{
    return p->len >= TCPW_IPV4_HDR_MIN ? tcpw_get32(p->data + 16) : 0;
}

static bool pkt_before(const struct tcpw__ml_pkt *a, const struct tcpw__ml_pkt *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

int tcpw__ml_schedule(struct tcpw__memlink *ml, struct tcpw__ml_pkt *p, uint64_t due)
{
    size_t i;

    if (ml->nheap == ml->cap_heap) {
        size_t ncap = ml->cap_heap ? ml->cap_heap * 2u : 64u;
        struct tcpw__ml_pkt **nh = realloc(ml->heap, ncap * sizeof(*nh));
        if (!nh)
            return -ENOMEM;
        ml->heap = nh;
        ml->cap_heap = ncap;
    }
    p->due = due;
    p->seq = ml->next_seq++;
    i = ml->nheap++;
    while (i > 0) {
        size_t parent = (i - 1u) / 2u;
        if (!pkt_before(p, ml->heap[parent]))
            break;
        ml->heap[i] = ml->heap[parent];
        i = parent;
    }
    ml->heap[i] = p;
    return 0;
}

struct tcpw__ml_pkt *tcpw__ml_peek(const struct tcpw__memlink *ml)
{
    return ml->nheap ? ml->heap[0] : NULL;
}

struct tcpw__ml_pkt *tcpw__ml_pop(struct tcpw__memlink *ml)
{
    struct tcpw__ml_pkt *top, *last;
    size_t i = 0, n;

    if (!ml->nheap)
        return NULL;
    top = ml->heap[0];
    n = --ml->nheap;
    if (n == 0)
        return top;
    last = ml->heap[n];
    for (;;) {
        size_t c = 2u * i + 1u;
        if (c >= n)
            break;
        if (c + 1u < n && pkt_before(ml->heap[c + 1u], ml->heap[c]))
            c++;
        if (!pkt_before(ml->heap[c], last))
            break;
        ml->heap[i] = ml->heap[c];
        i = c;
    }
    ml->heap[i] = last;
    return top;
}

/* --- paths ----------------------------------------------------------------- */

void tcpw__ml_init(struct tcpw__memlink *ml, uint64_t seed)
{
    memset(ml, 0, sizeof(*ml));
    ml->seed = seed;
    ml->default_imp.delay_us = 1000; /* sim.h: default is no loss, 1 ms delay */
}

void tcpw__ml_fini(struct tcpw__memlink *ml)
{
    for (size_t i = 0; i < ml->nheap; i++)
        free(ml->heap[i]);
    free(ml->heap);
    free(ml->paths);
    free(ml->nat);
    tcpw__ml_map_free(&ml->path_index);
    tcpw__ml_map_free(&ml->nat_out);
    tcpw__ml_map_free(&ml->nat_in);
    tcpw__ml_map_free(&ml->nat_cursor);
    memset(ml, 0, sizeof(*ml));
}

static bool rate_ok(double r)
{
    return r >= 0.0 && r <= 1.0; /* false for NaN */
}

int tcpw__ml_impairment_check(const struct tcpw_impairment *imp)
{
    if (!imp || !rate_ok(imp->loss) || !rate_ok(imp->duplicate) || !rate_ok(imp->reorder))
        return -EINVAL;
    return 0;
}

static uint64_t path_key(uint32_t from, uint32_t to)
{
    return ((uint64_t)from << 32) | to;
}

/* The path (from, to), created on first use with its own generator. */
static int path_get(struct tcpw__memlink *ml, uint32_t from, uint32_t to,
                    struct tcpw__ml_path **out)
{
    uint64_t key = path_key(from, to), idx;
    struct tcpw__ml_path *p;
    int err;

    if (tcpw__ml_map_get(&ml->path_index, key, &idx)) {
        *out = &ml->paths[idx];
        return 0;
    }
    if (ml->npaths == ml->cap_paths) {
        size_t ncap = ml->cap_paths ? ml->cap_paths * 2u : 16u;
        struct tcpw__ml_path *np = realloc(ml->paths, ncap * sizeof(*np));
        if (!np)
            return -ENOMEM;
        ml->paths = np;
        ml->cap_paths = ncap;
    }
    err = tcpw__ml_map_put(&ml->path_index, key, ml->npaths);
    if (err)
        return err;
    p = &ml->paths[ml->npaths++];
    memset(p, 0, sizeof(*p));
    p->from = from;
    p->to = to;
    /* The stream depends on the seed and the pair only: not on when the
     * path was first used nor on what other paths exist. */
    tcpw__ml_rng_seed(&p->rng, tcpw__ml_derive(ml->seed, DOMAIN_PATH, key));
    *out = p;
    return 0;
}

int tcpw__ml_set_path(struct tcpw__memlink *ml, uint32_t from, uint32_t to,
                      const struct tcpw_impairment *imp)
{
    struct tcpw__ml_path *p;
    int err = tcpw__ml_impairment_check(imp);

    if (err)
        return err;
    err = path_get(ml, from, to, &p);
    if (err)
        return err;
    p->own = true;
    p->imp = *imp;
    return 0;
}

/* Jitter uniform in [0, max]. Modulo bias is below 2^-40 for any jitter a
 * test would use, far under what a statistical check can see. */
static uint64_t draw_jitter(uint64_t x, uint64_t max)
{
    if (max == 0)
        return 0;
    if (max == UINT64_MAX)
        return x;
    return x % (max + 1u);
}

int tcpw__ml_plan(struct tcpw__memlink *ml, uint32_t from, uint32_t to, uint64_t now,
                  struct tcpw__ml_plan *plan)
{
    struct tcpw__ml_path *p;
    const struct tcpw_impairment *imp;
    uint64_t r[6];
    int err = path_get(ml, from, to, &p);

    if (err)
        return err;
    imp = p->own ? &p->imp : &ml->default_imp;
    /* Always six draws a packet, whatever the rates: then a packet's loss,
     * duplication, reordering and jitter each come from fixed positions of
     * the stream, and turning one impairment on does not move the others. */
    for (int i = 0; i < 6; i++)
        r[i] = tcpw__ml_rng_next(&p->rng);
    memset(plan, 0, sizeof(*plan));
    plan->lost = unit(r[0]) < imp->loss;
    if (plan->lost)
        return 0;
    plan->copies = unit(r[1]) < imp->duplicate ? 2u : 1u;
    for (unsigned c = 0; c < plan->copies; c++) {
        bool held = unit(r[2 + 2 * c]) < imp->reorder;
        uint64_t due =
            sat_add(sat_add(now, imp->delay_us), draw_jitter(r[3 + 2 * c], imp->jitter_us));
        if (held) {
            /* Held back: later packets may overtake it, so it neither obeys
             * nor moves the path's in-order floor. */
            due = sat_add(due, imp->reorder_delay_us);
        } else {
            /* Jitter alone never reorders: an in-order packet is delivered
             * no earlier than the previous in-order one. Since send times
             * on a path only grow, this keeps due <= now + delay + jitter. */
            if (due < p->last_due)
                due = p->last_due;
            p->last_due = due;
        }
        plan->due[c] = due;
    }
    return 0;
}

/* --- NAT --------------------------------------------------------------------- */

static uint64_t nat_key(uint8_t proto, uint32_t addr, uint16_t port)
{
    return ((uint64_t)proto << 48) | ((uint64_t)addr << 16) | port;
}

/* Stores the new 32-bit value at `field` and folds the change into the
 * checksum at `csum` (RFC 1624 eqn. 3, one 16-bit word at a time). */
static void rewrite32(uint8_t *field, uint32_t v, uint8_t *csum)
{
    uint32_t old = tcpw_get32(field);
    uint16_t c = tcpw_get16(csum);

    c = tcpw_csum_update16(c, (uint16_t)(old >> 16), (uint16_t)(v >> 16));
    c = tcpw_csum_update16(c, (uint16_t)old, (uint16_t)v);
    tcpw_put16(csum, c);
    tcpw_put32(field, v);
}

/* Folds a 32-bit change (an address in the pseudo-header) into a checksum
 * without storing anything. */
static void fold32(uint32_t old, uint32_t v, uint8_t *csum)
{
    uint16_t c = tcpw_get16(csum);

    c = tcpw_csum_update16(c, (uint16_t)(old >> 16), (uint16_t)(v >> 16));
    c = tcpw_csum_update16(c, (uint16_t)old, (uint16_t)v);
    tcpw_put16(csum, c);
}

static void rewrite16(uint8_t *field, uint16_t v, uint8_t *csum)
{
    tcpw_put16(csum, tcpw_csum_update16(tcpw_get16(csum), tcpw_get16(field), v));
    tcpw_put16(field, v);
}

/* The translation of (proto, inside addr, inside port), made on first use
 * with the lowest free public port at or after the last one handed out for
 * this (proto, public address, base). */
static int nat_map(struct tcpw__memlink *ml, uint8_t proto, uint32_t inside_addr,
                   uint16_t inside_port, uint32_t public_addr, uint16_t port_base,
                   const struct tcpw__ml_nat_entry **out)
{
    uint64_t idx, cursor, okey = nat_key(proto, inside_addr, inside_port);
    uint64_t ckey = nat_key(proto, public_addr, port_base);
    struct tcpw__ml_nat_entry *e;
    uint32_t port, tried;
    int err;

    if (tcpw__ml_map_get(&ml->nat_out, okey, &idx) && ml->nat[idx].public_addr == public_addr) {
        *out = &ml->nat[idx];
        return 0;
    }
    port = tcpw__ml_map_get(&ml->nat_cursor, ckey, &cursor) ? (uint32_t)cursor : port_base;
    /* Mappings are never freed, so the cursor only moves forward and the
     * search is O(1) on average; it wraps to the base once before giving up. */
    for (tried = 0;; tried++) {
        if (tried > 65535u - port_base)
            return -EADDRNOTAVAIL;
        if (port > 65535u)
            port = port_base;
        if (!tcpw__ml_map_get(&ml->nat_in, nat_key(proto, public_addr, (uint16_t)port), &idx))
            break;
        port++;
    }
    if (ml->nnat == ml->cap_nat) {
        size_t ncap = ml->cap_nat ? ml->cap_nat * 2u : 16u;
        struct tcpw__ml_nat_entry *nn = realloc(ml->nat, ncap * sizeof(*nn));
        if (!nn)
            return -ENOMEM;
        ml->nat = nn;
        ml->cap_nat = ncap;
    }
    e = &ml->nat[ml->nnat];
    e->inside_addr = inside_addr;
    e->inside_port = inside_port;
    e->public_addr = public_addr;
    e->public_port = (uint16_t)port;
    e->proto = proto;
    /* Reserve the public port first: if a later insert fails for memory,
     * what is left is a reserved port or an unused entry, never a map
     * value pointing past the table. */
    err = tcpw__ml_map_put(&ml->nat_in, nat_key(proto, public_addr, (uint16_t)port), ml->nnat);
    if (err)
        return err;
    ml->nnat++;
    err = tcpw__ml_map_put(&ml->nat_out, okey, ml->nnat - 1u);
    if (err)
        return err;
    (void)tcpw__ml_map_put(&ml->nat_cursor, ckey, port + 1u); /* a lagging cursor is harmless */
    *out = e;
    return 0;
}

int tcpw__ml_nat_outbound(struct tcpw__memlink *ml, uint8_t *pkt, size_t len, uint32_t public_addr,
                          uint16_t port_base)
{
    const struct tcpw__ml_nat_entry *e;
    struct tcpw_ipv4 ip;
    uint8_t *l4;
    int err;

    /* A NAT must read the header to translate it; one it cannot read (or a
     * fragment, whose ports it cannot see) does not get through. */
    if (tcpw_ipv4_parse(pkt, len, &ip) != TCPW_DROP_NONE)
        return -EINVAL;
    l4 = pkt + ip.ihl;
    switch (ip.proto) {
    case TCPW_IP_PROTO_TCP:
        if (ip.payload_len < TCPW_TCP_HDR_MIN)
            return -EINVAL;
        err = nat_map(ml, TCPW_IP_PROTO_TCP, ip.src, tcpw_get16(l4), public_addr, port_base, &e);
        if (err)
            return err;
        /* The TCP checksum covers the pseudo-header's source address. */
        fold32(ip.src, public_addr, l4 + 16);
        rewrite16(l4, e->public_port, l4 + 16);
        break;
    case TCPW_IP_PROTO_ICMP:
        if (ip.payload_len >= ICMP_HDR_LEN && l4[0] == ICMP_ECHO_REQUEST) {
            /* RFC 5508 §3.1: the echo identifier plays the port's part. The
             * ICMP checksum has no pseudo-header. */
            err = nat_map(ml, TCPW_IP_PROTO_ICMP, ip.src, tcpw_get16(l4 + 4), public_addr,
                          port_base, &e);
            if (err)
                return err;
            rewrite16(l4 + 4, e->public_port, l4 + 2);
        }
        /* Other ICMP from inside (its own errors) leaves with the address
         * rewritten only; the quoted packet is not translated. */
        break;
    default:
        break;
    }
    rewrite32(pkt + 12, public_addr, pkt + 10);
    return 0;
}

static bool icmp_is_error(uint8_t type)
{
    return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH || type == ICMP_TIME_EXCEEDED ||
           type == ICMP_PARAM_PROBLEM;
}

/* RFC 5508 §4.2: an ICMP error about a translated packet quotes that packet
 * as it left the NAT (public source); translate the quote back and send the
 * error to the inside host. Returns as tcpw__ml_nat_inbound(). */
static int nat_inbound_icmp_error(struct tcpw__memlink *ml, uint8_t *pkt,
                                  const struct tcpw_ipv4 *ip, uint32_t *inside)
{
    uint8_t *icmp = pkt + ip->ihl, *q = icmp + ICMP_HDR_LEN, *ql4;
    size_t qlen = ip->payload_len - ICMP_HDR_LEN, qihl;
    const struct tcpw__ml_nat_entry *e;
    uint64_t idx;
    uint16_t qport;
    uint8_t qproto;

    if (qlen < TCPW_IPV4_HDR_MIN)
        return 0;
    qihl = (size_t)(q[0] & 0x0fu) * 4u;
    if ((q[0] >> 4) != 4 || qihl < TCPW_IPV4_HDR_MIN || qlen < qihl + 8u)
        return 0; /* RFC 792: at least 8 bytes of the quoted payload */
    qproto = q[9];
    ql4 = q + qihl;
    if (qproto == TCPW_IP_PROTO_TCP)
        qport = tcpw_get16(ql4);
    else if (qproto == TCPW_IP_PROTO_ICMP && ql4[0] == ICMP_ECHO_REQUEST)
        qport = tcpw_get16(ql4 + 4);
    else
        return 0;
    if (!tcpw__ml_map_get(&ml->nat_in, nat_key(qproto, tcpw_get32(q + 12), qport), &idx))
        return 0;
    e = &ml->nat[idx];
    if (qproto == TCPW_IP_PROTO_TCP) {
        /* Fix the quoted TCP checksum only when the quote reaches it. */
        if (qlen >= qihl + 18u) {
            fold32(e->public_addr, e->inside_addr, ql4 + 16);
            rewrite16(ql4, e->inside_port, ql4 + 16);
        } else {
            tcpw_put16(ql4, e->inside_port);
        }
    } else if (qlen >= qihl + 8u) {
        rewrite16(ql4 + 4, e->inside_port, ql4 + 2);
    }
    rewrite32(q + 12, e->inside_addr, q + 10);
    /* The quote changed in several places: recompute the ICMP checksum. */
    tcpw_put16(icmp + 2, 0);
    tcpw_put16(icmp + 2, tcpw_csum_fold(tcpw_csum_partial(icmp, ip->payload_len, 0)));
    rewrite32(pkt + 16, e->inside_addr, pkt + 10);
    *inside = e->inside_addr;
    return 1;
}

int tcpw__ml_nat_inbound(struct tcpw__memlink *ml, uint8_t *pkt, size_t len, uint32_t *inside)
{
    const struct tcpw__ml_nat_entry *e;
    struct tcpw_ipv4 ip;
    uint8_t *l4;
    uint64_t idx;

    if (ml->nnat == 0 || tcpw_ipv4_parse(pkt, len, &ip) != TCPW_DROP_NONE)
        return 0;
    l4 = pkt + ip.ihl;
    switch (ip.proto) {
    case TCPW_IP_PROTO_TCP:
        if (ip.payload_len < TCPW_TCP_HDR_MIN ||
            !tcpw__ml_map_get(&ml->nat_in, nat_key(TCPW_IP_PROTO_TCP, ip.dst, tcpw_get16(l4 + 2)),
                              &idx))
            return 0;
        e = &ml->nat[idx];
        fold32(ip.dst, e->inside_addr, l4 + 16);
        rewrite16(l4 + 2, e->inside_port, l4 + 16);
        break;
    case TCPW_IP_PROTO_ICMP:
        if (ip.payload_len < ICMP_HDR_LEN)
            return 0;
        if (icmp_is_error(l4[0]))
            return nat_inbound_icmp_error(ml, pkt, &ip, inside);
        if (l4[0] != ICMP_ECHO_REPLY ||
            !tcpw__ml_map_get(&ml->nat_in, nat_key(TCPW_IP_PROTO_ICMP, ip.dst, tcpw_get16(l4 + 4)),
                              &idx))
            return 0;
        e = &ml->nat[idx];
        rewrite16(l4 + 4, e->inside_port, l4 + 2);
        break;
    default:
        return 0;
    }
    rewrite32(pkt + 16, e->inside_addr, pkt + 10);
    *inside = e->inside_addr;
    return 1;
}
