/* tcp/ — a map keyed by destination. See dest_map.h. */
#include "tcp/dest_map.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/hash.h"

static struct tcpw_dest_entry *slot(const struct tcpw_dest_map *m, uint32_t i)
{
    return (struct tcpw_dest_entry *)(void *)(m->slots + (size_t)i * m->entry_size);
}

static bool same_dest(const struct tcpw_dest_entry *e, const struct tcpw_dest *k)
{
    return e->laddr == k->laddr && e->raddr == k->raddr && e->rport == k->rport;
}

/* The entry of k, or the free slot where it would go. The map is at most
 * half full, so a free slot ends every probe. */
static struct tcpw_dest_entry *probe(const struct tcpw_dest_map *m, const struct tcpw_dest *k,
                                     uint32_t hash)
{
    for (uint32_t i = hash & m->mask;; i = (i + 1u) & m->mask) {
        struct tcpw_dest_entry *e = slot(m, i);
        if (!e->in_use || same_dest(e, k))
            return e;
    }
}

uint32_t tcpw__dest_hash(const uint8_t secret[16], const struct tcpw_dest *k)
{
    struct tcpw_tuple key = {.laddr = k->laddr, .raddr = k->raddr, .rport = k->rport};
    return (uint32_t)tcpw_tuple_hash(secret, &key);
}

void tcpw__dest_map_init(struct tcpw_dest_map *m, size_t entry_size, uint32_t min_cap,
                         uint32_t max_cap)
{
    assert(entry_size >= sizeof(struct tcpw_dest_entry));
    assert(min_cap >= 2u && (min_cap & (min_cap - 1u)) == 0 && min_cap <= max_cap);
    assert((max_cap & (max_cap - 1u)) == 0 && max_cap <= (UINT32_C(1) << 31));
    memset(m, 0, sizeof(*m));
    m->entry_size = entry_size;
    m->min_cap = min_cap;
    m->max_cap = max_cap;
}

void tcpw__dest_map_fini(struct tcpw_dest_map *m)
{
    free(m->slots);
    m->slots = NULL;
    m->mask = 0;
    m->used = 0;
}

struct tcpw_dest_entry *tcpw__dest_map_find(const struct tcpw_dest_map *m,
                                            const struct tcpw_dest *k, uint32_t hash)
{
    struct tcpw_dest_entry *e;

    if (!m->slots)
        return NULL;
    e = probe(m, k, hash);
    return e->in_use ? e : NULL;
}

int tcpw__dest_map_reserve(struct tcpw_dest_map *m)
{
    uint64_t cap = m->slots ? (uint64_t)m->mask + 1u : 0, ncap;
    unsigned char *old = m->slots;

    if (cap && 2u * ((uint64_t)m->used + 1u) <= cap)
        return 0;
    ncap = cap ? 2u * cap : m->min_cap;
    if (ncap > m->max_cap)
        return -ENOMEM;
    m->slots = calloc((size_t)ncap, m->entry_size);
    if (!m->slots) {
        m->slots = old;
        return -ENOMEM;
    }
    m->mask = (uint32_t)(ncap - 1u);
    /* In the old slot order: the same insertions always give the same
     * layout, so a walk (and what is sorted from it) is reproducible. */
    for (uint64_t i = 0; i < cap; i++) {
        const struct tcpw_dest_entry *e =
            (const struct tcpw_dest_entry *)(const void *)(old + (size_t)i * m->entry_size);
        if (e->in_use) {
            struct tcpw_dest k = {.laddr = e->laddr, .raddr = e->raddr, .rport = e->rport};
            memcpy(probe(m, &k, e->hash), e, m->entry_size);
        }
    }
    free(old);
    return 0;
}

struct tcpw_dest_entry *tcpw__dest_map_insert(struct tcpw_dest_map *m, const struct tcpw_dest *k,
                                              uint32_t hash)
{
    struct tcpw_dest_entry *e;

    /* The caller's reserve made room for this entry. */
    assert(m->slots && 2u * ((uint64_t)m->used + 1u) <= (uint64_t)m->mask + 1u);
    e = probe(m, k, hash);
    assert(!e->in_use);
    memset(e, 0, m->entry_size);
    e->laddr = k->laddr;
    e->raddr = k->raddr;
    e->rport = k->rport;
    e->hash = hash;
    e->in_use = true;
    m->used++;
    return e;
}

void tcpw__dest_map_remove(struct tcpw_dest_map *m, struct tcpw_dest_entry *e)
{
    uint32_t i = (uint32_t)(((unsigned char *)e - m->slots) / m->entry_size), j;

    assert(e->in_use && m->used);
    e->in_use = false;
    m->used--;
    /* Linear probing's deletion without tombstones: entries after the hole
     * whose home is not cyclically in (hole, entry] move back into it. */
    for (j = (i + 1u) & m->mask; slot(m, j)->in_use; j = (j + 1u) & m->mask) {
        uint32_t home = slot(m, j)->hash & m->mask;
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays)
            continue;
        memcpy(slot(m, i), slot(m, j), m->entry_size);
        slot(m, j)->in_use = false;
        i = j;
    }
}

struct tcpw_dest_entry *tcpw__dest_map_next(const struct tcpw_dest_map *m, uint32_t *cursor)
{
    if (!m->slots)
        return NULL;
    /* The cursor can reach capacity (2^31 at most), so no wrap. */
    for (; *cursor <= m->mask; (*cursor)++) {
        struct tcpw_dest_entry *e = slot(m, *cursor);
        if (e->in_use) {
            (*cursor)++;
            return e;
        }
    }
    return NULL;
}

struct tcpw_dest_entry *tcpw__dest_map_take(struct tcpw_dest_map *m, uint32_t *n)
{
    struct tcpw_dest_entry *dense = (struct tcpw_dest_entry *)(void *)m->slots;
    uint32_t k = 0;

    *n = 0;
    if (!m->slots)
        return NULL;
    /* Packing forward in place: slot k <= i is already read or is i. */
    for (uint32_t i = 0; i <= m->mask; i++) {
        if (!slot(m, i)->in_use)
            continue;
        if (k != i)
            memcpy(slot(m, k), slot(m, i), m->entry_size);
        k++;
    }
    assert(k == m->used);
    *n = k;
    m->slots = NULL;
    m->mask = 0;
    m->used = 0;
    return dense;
}

size_t tcpw__dest_map_memory_bytes(const struct tcpw_dest_map *m)
{
    return m->slots ? ((size_t)m->mask + 1u) * m->entry_size : 0u;
}
