/* tcp/ — keyed hashing of connection 4-tuples and the tuple table.
 *
 * SipHash-2-4 (J.-P. Aumasson and D. J. Bernstein, "SipHash: a fast
 * short-input PRF", 2012), keyed by the stack's secret so that a peer cannot
 * choose addresses and ports that pile up in one bucket (hash flooding).
 * The same PRF, on differently shaped inputs, gives RFC 6528 ISNs (isn.c)
 * and RFC 6056 port offsets (ports.c).
 *
 * Bytes are read with shifts, never through a cast pointer, so input of any
 * alignment is fine and the result does not depend on the host's byte order.
 */
#include "tcp/hash.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- SipHash-2-4 ---- */

static uint64_t rotl64(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

/* Little-endian 64-bit load (the paper reads the key and message words in
 * little-endian order). */
static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

struct sip_state {
    uint64_t v0, v1, v2, v3;
};

/* One SipRound (the paper's §2, figure 2.1): two ARX half-rounds on the four
 * words; every rotation amount is in 13..32, so no shift reaches 64. */
static void sip_round(struct sip_state *s)
{
    s->v0 += s->v1;
    s->v1 = rotl64(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = rotl64(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = rotl64(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = rotl64(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = rotl64(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = rotl64(s->v2, 32);
}

/* Compression: c = 2 SipRounds per message word. */
static void sip_compress(struct sip_state *s, uint64_t m)
{
    s->v3 ^= m;
    sip_round(s);
    sip_round(s);
    s->v0 ^= m;
}

uint64_t tcpw_siphash24(const uint8_t key[16], const void *data, size_t len)
{
    const uint8_t *in = data;
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);

    /* Initialization: the key XORed with "somepseudorandomlygeneratedbytes". */
    struct sip_state s = {
        .v0 = k0 ^ 0x736f6d6570736575ULL,
        .v1 = k1 ^ 0x646f72616e646f6dULL,
        .v2 = k0 ^ 0x6c7967656e657261ULL,
        .v3 = k1 ^ 0x7465646279746573ULL,
    };

    size_t full = len - len % 8;
    for (size_t i = 0; i < full; i += 8)
        sip_compress(&s, load_le64(in + i));

    /* The last word holds the 0..7 remaining bytes (little-endian) and the
     * message length modulo 256 in its top byte. */
    uint64_t last = (uint64_t)(len & 0xff) << 56;
    for (size_t i = 0; i < len % 8; i++)
        last |= (uint64_t)in[full + i] << (8 * i);
    sip_compress(&s, last);

    /* Finalization: d = 4 SipRounds after v2 ^= 0xff. */
    s.v2 ^= 0xff;
    for (int i = 0; i < 4; i++)
        sip_round(&s);
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

/* ---- tuples ---- */

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

uint64_t tcpw_tuple_hash(const uint8_t key[16], const struct tcpw_tuple *t)
{
    /* Serialised as on the wire, laddr raddr lport rport in network byte
     * order (12 bytes): the same tuple hashes the same on every host and the
     * struct's padding never reaches the hash. */
    uint8_t b[12];
    put_be32(b, t->laddr);
    put_be32(b + 4, t->raddr);
    put_be16(b + 8, t->lport);
    put_be16(b + 10, t->rport);
    return tcpw_siphash24(key, b, sizeof b);
}

/* ---- the tuple table ---- */

#define TABLE_MIN_BUCKETS 16u

/* The chain a tuple belongs in: in the old array while its bucket there has
 * not moved yet (the table is doubling), else in the current one. */
static struct tcpw_tuple_node **bucket_of(const struct tcpw_tuple_table *t,
                                          const struct tcpw_tuple *tuple)
{
    /* SipHash output is uniform in every bit, so the low bits index. */
    size_t h = (size_t)tcpw_tuple_hash(t->key, tuple);

    if (t->old && (h & t->old_mask) >= t->migrated)
        return &t->old[h & t->old_mask];
    return &t->buckets[h & t->mask];
}

int tcpw_tuple_table_init(struct tcpw_tuple_table *t, size_t initial_buckets, const uint8_t key[16])
{
    size_t n = TABLE_MIN_BUCKETS;
    while (n < initial_buckets) {
        if (n > SIZE_MAX / 2 / sizeof(*t->buckets))
            return -ENOMEM;
        n *= 2;
    }
    t->buckets = calloc(n, sizeof(*t->buckets));
    if (!t->buckets)
        return -ENOMEM;
    t->mask = n - 1;
    t->count = 0;
    t->old = NULL;
    t->old_mask = 0;
    t->migrated = 0;
    memcpy(t->key, key, sizeof t->key);
    return 0;
}

void tcpw_tuple_table_fini(struct tcpw_tuple_table *t)
{
    free(t->buckets);
    free(t->old);
    t->buckets = NULL;
    t->old = NULL;
    t->mask = 0;
    t->count = 0;
}

/* Moves up to `n` buckets of the old array: old bucket i splits into i and
 * i + old size of the current one. */
static void table_migrate(struct tcpw_tuple_table *t, size_t n)
{
    while (t->old && n--) {
        size_t i = t->migrated;
        struct tcpw_tuple_node *node = t->old[i];

        t->old[i] = NULL;
        t->migrated++; /* from now on bucket_of() routes i's tuples here */
        while (node) {
            struct tcpw_tuple_node *next = node->next, **b = bucket_of(t, &node->tuple);
            node->next = *b;
            *b = node;
            node = next;
        }
        if (t->migrated == t->old_mask + 1) {
            free(t->old);
            t->old = NULL;
        }
    }
}

/* Starts doubling the bucket array (zeroed: the buckets of the old ones not
 * moved yet are empty, so a walk sees each node once). Growth is an
 * optimisation: when memory is short the table keeps its size and its
 * chains get longer, but nothing fails. */
static void table_grow(struct tcpw_tuple_table *t)
{
    size_t old_n = t->mask + 1;
    if (old_n > SIZE_MAX / 2 / sizeof(*t->buckets))
        return;
    size_t new_n = old_n * 2;
    struct tcpw_tuple_node **nb = calloc(new_n, sizeof(*nb));
    if (!nb)
        return;
    t->old = t->buckets;
    t->old_mask = t->mask;
    t->migrated = 0;
    t->buckets = nb;
    t->mask = new_n - 1;
}

int tcpw_tuple_table_insert(struct tcpw_tuple_table *t, struct tcpw_tuple_node *n)
{
    assert(!tcpw_tuple_table_find(t, &n->tuple));
    struct tcpw_tuple_node **b = bucket_of(t, &n->tuple);
    n->next = *b;
    *b = n;
    t->count++;
    /* Keep the load factor at or below 1 so chains stay O(1) on average:
     * a doubling started at load 1 is over after half the old size of
     * inserts, before the load can pass 1 again. */
    if (!t->old && t->count > t->mask + 1)
        table_grow(t);
    table_migrate(t, 2);
    return 0;
}

struct tcpw_tuple_node *tcpw_tuple_table_find(const struct tcpw_tuple_table *t,
                                              const struct tcpw_tuple *tuple)
{
    struct tcpw_tuple_node *n = *bucket_of(t, tuple);
    while (n && !tcpw_tuple_eq(&n->tuple, tuple))
        n = n->next;
    return n;
}

void tcpw_tuple_table_remove(struct tcpw_tuple_table *t, struct tcpw_tuple_node *n)
{
    struct tcpw_tuple_node **pp = bucket_of(t, &n->tuple);
    while (*pp && *pp != n)
        pp = &(*pp)->next;
    assert(*pp == n); /* the caller promised n is in the table */
    if (!*pp)
        return;
    *pp = n->next;
    n->next = NULL;
    t->count--;
}

size_t tcpw_tuple_table_chains(const struct tcpw_tuple_table *t)
{
    if (!t->buckets)
        return 0;
    return t->mask + 1 + (t->old ? t->old_mask + 1 : 0);
}

struct tcpw_tuple_node *tcpw_tuple_table_chain(const struct tcpw_tuple_table *t, size_t i)
{
    if (i <= t->mask)
        return t->buckets[i];
    return t->old[i - (t->mask + 1)]; /* moved buckets are NULL */
}
