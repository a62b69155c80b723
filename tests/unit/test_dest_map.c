/* Unit tests for tcp/dest_map: the open-addressing map of destinations,
 * against a brute-force model.
 *
 * The hashes are chosen, not SipHash's: many keys share one hash (so one
 * home slot at every capacity), and all-ones hashes have their home in the
 * last slot, so probe runs wrap around the end and backward-shift deletion
 * meets its cyclic cases. After every operation the map must agree with the
 * model exactly: the entries, their payloads, the count, the capacity the
 * growth rule gives, and linear probing's invariant (no free slot between
 * an entry's home and the entry). */
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/dest_map.h"
#include "tcp/hash.h"

/* A caller's entry: the map's part, then a payload of an odd size, so that
 * the map cannot get away with copying only the header. */
struct ent {
    struct tcpw_dest_entry dest;
    uint32_t value;
    uint16_t tag;
};

#define NKEYS 300u

struct model {
    bool present[NKEYS];
    uint32_t value[NKEYS];
    uint32_t count;
    uint64_t cap; /* what the growth rule must have made: 0, min_cap, doubled */
};

static struct tcpw_dest key_of(uint32_t i)
{
    return (struct tcpw_dest){.laddr = 0x0a000001u + (i & 1u),
                              .raddr = 0x0b000000u + i,
                              .rport = (uint16_t)(80u + i % 7u)};
}

/* Chosen hashes: a third share hash 5, a fifth are all ones (home: the
 * last slot), some share the top bit only (the same home until the map is
 * large), the rest spread. */
static uint32_t hash_of(uint32_t i)
{
    switch (i % 6u) {
    case 0:
    case 3:
        return 5u;
    case 1:
        return UINT32_MAX;
    case 2:
        return 0x80000000u | (i << 8);
    default:
        return i * 2654435761u;
    }
}

static struct ent *find(const struct tcpw_dest_map *m, uint32_t i)
{
    struct tcpw_dest k = key_of(i);
    return (struct ent *)tcpw__dest_map_find(m, &k, hash_of(i));
}

static uint32_t slot_index(const struct tcpw_dest_map *m, const struct ent *e)
{
    return (uint32_t)(((const unsigned char *)e - m->slots) / sizeof(struct ent));
}

static uint32_t key_index(const struct ent *e)
{
    return e->dest.raddr - 0x0b000000u;
}

/* The map and the model agree; returns through CHECK on the first
 * difference, so the caller checks check_failures. */
static void check_against(const struct tcpw_dest_map *m, const struct model *md)
{
    bool seen[NKEYS] = {false};
    const struct tcpw_dest_entry *e;
    uint32_t walked = 0;

    CHECK_EQ(m->used, md->count);
    CHECK_EQ(md->cap ? (uint64_t)m->mask + 1u : 0u, md->cap);
    CHECK_EQ(m->slots != NULL, md->cap != 0);
    CHECK_EQ(tcpw__dest_map_memory_bytes(m), md->cap * sizeof(struct ent));
    CHECK(2u * (uint64_t)m->used <= md->cap);
    for (uint32_t i = 0; i < NKEYS; i++) {
        const struct ent *x = find(m, i);
        struct tcpw_dest k = key_of(i);
        if (!md->present[i]) {
            CHECK_MSG(x == NULL, "key %u found but was removed", i);
            continue;
        }
        CHECK_MSG(x != NULL, "key %u lost", i);
        CHECK_EQ(x->dest.laddr, k.laddr);
        CHECK_EQ(x->dest.raddr, k.raddr);
        CHECK_EQ(x->dest.rport, k.rport);
        CHECK_EQ(x->dest.hash, hash_of(i));
        CHECK_EQ(x->value, md->value[i]);
        CHECK_EQ(x->tag, (uint16_t)(i ^ 0xa5a5u));
    }
    for (uint32_t it = 0; (e = tcpw__dest_map_next(m, &it)) != NULL;) {
        const struct ent *x = (const struct ent *)e;
        uint32_t i = key_index(x), j = slot_index(m, x);
        CHECK_MSG(i < NKEYS && md->present[i] && !seen[i], "walk met key %u twice or stale", i);
        seen[i] = true;
        walked++;
        CHECK_EQ(it, j + 1u); /* the cursor is just past the entry */
        /* Linear probing: every slot from the home to the entry is in use. */
        for (uint32_t h = x->dest.hash & m->mask; h != j; h = (h + 1u) & m->mask) {
            const struct tcpw_dest_entry *between =
                (const struct tcpw_dest_entry *)(const void *)(m->slots + h * sizeof(struct ent));
            CHECK_MSG(between->in_use, "key %u at slot %u, home %u: slot %u is free", i, j,
                      x->dest.hash & m->mask, h);
        }
    }
    CHECK_EQ(walked, md->count);
}

/* Adds key i the way the users do: reserve, then insert. */
static int add(struct tcpw_dest_map *m, struct model *md, uint32_t i, uint32_t value)
{
    struct tcpw_dest k = key_of(i);
    struct ent *x;
    int err = tcpw__dest_map_reserve(m);

    if (err)
        return err;
    if (2u * ((uint64_t)md->count + 1u) > md->cap)
        md->cap = md->cap ? 2u * md->cap : m->min_cap;
    x = (struct ent *)tcpw__dest_map_insert(m, &k, hash_of(i));
    if (x->value != 0 || x->tag != 0)
        return -EINVAL; /* the payload must come zeroed */
    x->value = value;
    x->tag = (uint16_t)(i ^ 0xa5a5u);
    md->present[i] = true;
    md->value[i] = value;
    md->count++;
    return 0;
}

static void del(struct tcpw_dest_map *m, struct model *md, uint32_t i)
{
    tcpw__dest_map_remove(m, &find(m, i)->dest);
    md->present[i] = false;
    md->count--;
}

static uint64_t rng_next(uint64_t *rng)
{
    *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
    return *rng >> 33;
}

/* Random inserts, removes and payload changes, with phases that fill the
 * map (growth up to 512 slots) and drain it, checked after every step. */
static void test_model_random(void)
{
    struct tcpw_dest_map m;
    struct model *md = calloc(1, sizeof(*md));
    uint64_t rng = 12345;
    uint32_t grew = 0, removed = 0;

    CHECK(md != NULL);
    tcpw__dest_map_init(&m, sizeof(struct ent), 2u, UINT32_C(1) << 31);
    check_against(&m, md);
    for (int step = 0; step < 40000 && !check_failures; step++) {
        uint32_t r = (uint32_t)rng_next(&rng), i = r % NKEYS;
        /* Phases of 800 steps: mostly adding, then mostly removing. */
        bool filling = (step / 800) % 2 == 0;
        uint32_t op = (r >> 16) % 10u;
        uint64_t cap_before = md->cap;

        if (op < (filling ? 7u : 3u)) {
            if (!md->present[i]) {
                CHECK_EQ_I(add(&m, md, i, r | 1u), 0);
                grew += md->cap != cap_before;
            }
        } else if (op < 9u) {
            if (md->present[i]) {
                del(&m, md, i);
                removed++;
            }
        } else if (md->present[i]) {
            find(&m, i)->value = r;
            md->value[i] = r;
        }
        check_against(&m, md);
    }
    CHECK_EQ(check_failures, 0);
    CHECK_MSG(grew >= 9u, "only %u growths", grew); /* 0, 2, 4 .. 512 slots */
    CHECK_MSG(removed > 5000u, "only %u removals", removed);
    tcpw__dest_map_fini(&m);
    CHECK(m.slots == NULL);
    CHECK_EQ(m.used, 0);
    CHECK_EQ(tcpw__dest_map_memory_bytes(&m), 0);
    free(md);
}

/* Exact slots: with 8 slots, two keys of hash 7 and one of hash 0 sit at
 * 7, 0, 1; removing the first moves the second back to its home, 7, and the
 * third to its home, 0. */
static void test_backward_shift_wraps(void)
{
    struct tcpw_dest_map m;
    struct tcpw_dest a = {1, 2, 3}, b = {1, 2, 4}, c = {1, 2, 5};
    struct tcpw_dest_entry *ea, *eb, *ec;

    tcpw__dest_map_init(&m, sizeof(struct ent), 8u, 8u);
    CHECK_EQ_I(tcpw__dest_map_reserve(&m), 0);
    ea = tcpw__dest_map_insert(&m, &a, 7u);
    CHECK_EQ_I(tcpw__dest_map_reserve(&m), 0);
    eb = tcpw__dest_map_insert(&m, &b, 0xfffffff7u); /* home 7 too */
    CHECK_EQ_I(tcpw__dest_map_reserve(&m), 0);
    ec = tcpw__dest_map_insert(&m, &c, 8u); /* home 0 */
    CHECK_EQ(slot_index(&m, (struct ent *)ea), 7);
    CHECK_EQ(slot_index(&m, (struct ent *)eb), 0);
    CHECK_EQ(slot_index(&m, (struct ent *)ec), 1);
    ((struct ent *)eb)->value = 0xbbbbu;
    ((struct ent *)ec)->value = 0xccccu;
    tcpw__dest_map_remove(&m, ea);
    eb = tcpw__dest_map_find(&m, &b, 0xfffffff7u);
    ec = tcpw__dest_map_find(&m, &c, 8u);
    CHECK(tcpw__dest_map_find(&m, &a, 7u) == NULL);
    CHECK(eb != NULL && ec != NULL);
    CHECK_EQ(slot_index(&m, (struct ent *)eb), 7);
    CHECK_EQ(slot_index(&m, (struct ent *)ec), 0);
    CHECK_EQ(((struct ent *)eb)->value, 0xbbbbu);
    CHECK_EQ(((struct ent *)ec)->value, 0xccccu);
    CHECK_EQ(m.used, 2);
    /* An entry at its home stays when the hole is elsewhere: removing b
     * (slot 7) leaves c at 0. */
    tcpw__dest_map_remove(&m, eb);
    ec = tcpw__dest_map_find(&m, &c, 8u);
    CHECK(ec != NULL);
    CHECK_EQ(slot_index(&m, (struct ent *)ec), 0);
    tcpw__dest_map_fini(&m);
}

/* Growth re-inserts in the old slot order, so equal insertions give equal
 * layouts (port usage's listing sorts what a walk gives): A and B share a
 * home and keep their order when the map doubles. */
static void test_growth_keeps_order(void)
{
    struct tcpw_dest_map m;
    struct tcpw_dest a = {1, 2, 3}, b = {1, 2, 4}, c = {1, 2, 5};
    struct tcpw_dest_entry *e;

    tcpw__dest_map_init(&m, sizeof(struct ent), 4u, 64u);
    CHECK_EQ_I(tcpw__dest_map_reserve(&m), 0);
    tcpw__dest_map_insert(&m, &a, 0x11u);
    CHECK_EQ_I(tcpw__dest_map_reserve(&m), 0);
    tcpw__dest_map_insert(&m, &b, 0x11u);
    CHECK_EQ(m.mask, 3u);
    CHECK_EQ_I(tcpw__dest_map_reserve(&m), 0); /* a third entry: 8 slots */
    CHECK_EQ(m.mask, 7u);
    tcpw__dest_map_insert(&m, &c, 0x16u);
    e = tcpw__dest_map_find(&m, &a, 0x11u);
    CHECK(e != NULL);
    CHECK_EQ(slot_index(&m, (struct ent *)e), 1);
    e = tcpw__dest_map_find(&m, &b, 0x11u);
    CHECK(e != NULL);
    CHECK_EQ(slot_index(&m, (struct ent *)e), 2);
    e = tcpw__dest_map_find(&m, &c, 0x16u);
    CHECK(e != NULL);
    CHECK_EQ(slot_index(&m, (struct ent *)e), 6);
    CHECK_EQ(tcpw__dest_map_memory_bytes(&m), 8u * sizeof(struct ent));
    tcpw__dest_map_fini(&m);
}

/* Reserve fails past max_cap with the map unchanged; a successful reserve
 * keeps its promise even when entries go between it and the insert (the
 * TIME_WAIT table evicts records, and so their destinations, there). */
static void test_reserve_limits(void)
{
    struct tcpw_dest_map m;
    struct model *md = calloc(1, sizeof(*md));
    const unsigned char *slots;

    CHECK(md != NULL);
    tcpw__dest_map_init(&m, sizeof(struct ent), 4u, 16u);
    for (uint32_t i = 0; i < 8u; i++)
        CHECK_EQ_I(add(&m, md, i, 100u + i), 0);
    CHECK_EQ(m.mask, 15u);
    slots = m.slots;
    CHECK_EQ_I(tcpw__dest_map_reserve(&m), -ENOMEM);
    CHECK(m.slots == slots);
    check_against(&m, md);
    CHECK_EQ(check_failures, 0);
    /* One out: room again, without growth. */
    del(&m, md, 3u);
    CHECK_EQ_I(tcpw__dest_map_reserve(&m), 0);
    del(&m, md, 5u); /* goes between the reserve and the insert */
    CHECK_EQ_I(add(&m, md, 20u, 7u), 0);
    CHECK(m.slots == slots);
    check_against(&m, md);
    tcpw__dest_map_fini(&m);
    free(md);
}

/* take(): the entries, dense, in the order a walk gives; the map is empty
 * and usable again afterwards. */
static void test_take(void)
{
    struct tcpw_dest_map m;
    struct model *md = calloc(1, sizeof(*md));
    const struct tcpw_dest_entry *e;
    uint32_t order[NKEYS], n = 0, got = 77;
    struct ent *dense;

    CHECK(md != NULL);
    tcpw__dest_map_init(&m, sizeof(struct ent), 16u, UINT32_C(1) << 31);
    CHECK(tcpw__dest_map_take(&m, &got) == NULL);
    CHECK_EQ(got, 0);
    for (uint32_t i = 0; i < 100u; i++)
        CHECK_EQ_I(add(&m, md, i, i * 3u), 0);
    for (uint32_t i = 0; i < 100u; i += 3u)
        del(&m, md, i);
    for (uint32_t it = 0; (e = tcpw__dest_map_next(&m, &it)) != NULL;)
        order[n++] = key_index((const struct ent *)e);
    CHECK_EQ(n, md->count);
    dense = (struct ent *)tcpw__dest_map_take(&m, &got);
    CHECK(dense != NULL);
    CHECK_EQ(got, n);
    for (uint32_t k = 0; k < n; k++) {
        CHECK_EQ(key_index(&dense[k]), order[k]);
        CHECK(dense[k].dest.in_use);
        CHECK_EQ(dense[k].value, order[k] * 3u);
        CHECK_EQ(dense[k].dest.hash, hash_of(order[k]));
    }
    free(dense);
    CHECK(m.slots == NULL);
    CHECK_EQ(m.used, 0);
    CHECK_EQ(tcpw__dest_map_memory_bytes(&m), 0);
    CHECK(find(&m, 1u) == NULL);
    /* Usable again, from min_cap. */
    CHECK_EQ_I(tcpw__dest_map_reserve(&m), 0);
    CHECK_EQ(m.mask, 15u);
    tcpw__dest_map_fini(&m);
    free(md);
}

/* The hash is the tuple hash of (laddr, raddr, 0, rport), the key the
 * users shared before this map. */
static void test_hash(void)
{
    uint8_t secret[16];
    struct tcpw_dest k = {0x0a000001u, 0x0b000002u, 443};
    struct tcpw_tuple t = {.laddr = 0x0a000001u, .raddr = 0x0b000002u, .lport = 0, .rport = 443};

    for (int i = 0; i < 16; i++)
        secret[i] = (uint8_t)(i * 7 + 1);
    CHECK_EQ(tcpw__dest_hash(secret, &k), (uint32_t)tcpw_tuple_hash(secret, &t));
    k.rport = 444;
    CHECK(tcpw__dest_hash(secret, &k) != (uint32_t)tcpw_tuple_hash(secret, &t));
}

int main(void)
{
    RUN(test_model_random);
    RUN(test_backward_shift_wraps);
    RUN(test_growth_keeps_order);
    RUN(test_reserve_limits);
    RUN(test_take);
    RUN(test_hash);
    return check_summary();
}
