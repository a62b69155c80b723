/* Unit tests for tcp/hash: SipHash-2-4 against the reference vectors, the
 * tuple hash, and the intrusive tuple table against a model. */
#include "check.h"

#include <errno.h>
#include <string.h>

#include "tcp/hash.h"

/* The 64 SipHash-2-4 test vectors of the reference implementation
 * (vectors.h, `vectors_sip64`): key 00 01 .. 0f, message 00 01 .. (i−1) of
 * length i, output bytes read as a little-endian 64-bit word. Entry 15 is
 * the example of the paper's appendix A. */
static const uint64_t sip64_vectors[64] = {
    0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL, 0x85676696d7fb7e2dULL,
    0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL, 0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL,
    0x93f5f5799a932462ULL, 0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
    0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL, 0xa129ca6149be45e5ULL,
    0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL, 0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL,
    0xbed65cf21aa2ee98ULL, 0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
    0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL, 0x2f2e6163076bcfadULL,
    0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL, 0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL,
    0x7127512f72f27cceULL, 0xa7f32346f95978e3ULL, 0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
    0x314dffbe0815a3b4ULL, 0x027990f029623981ULL, 0xcadcd4e59ef40c4dULL, 0x9abfd8766a33735cULL,
    0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL, 0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL,
    0xf935451de4f21df2ULL, 0xa9538f0419755787ULL, 0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL,
    0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL, 0xee64435a9752fe72ULL, 0xa192d576b245165aULL,
    0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL, 0x7fa8220ba3b2eceaULL, 0x245731c13ca42499ULL,
    0xb78dbfaf3a8d83bdULL, 0xea1ad565322a1a0bULL, 0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
    0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL, 0xe51b38608ef25f57ULL, 0x958a324ceb064572ULL,
};

static void ref_key(uint8_t key[16])
{
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
}

static void test_siphash_vectors(void)
{
    uint8_t key[16], msg[64];
    ref_key(key);
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    for (size_t len = 0; len < 64; len++) {
        uint64_t h = tcpw_siphash24(key, msg, len);
        CHECK_MSG(h == sip64_vectors[len], "len %zu: %016" PRIx64 " != %016" PRIx64, len, h,
                  sip64_vectors[len]);
    }
    /* The paper's example: 15-byte message 00..0e. */
    CHECK_EQ(tcpw_siphash24(key, msg, 15), 0xa129ca6149be45e5ULL);
}

static void test_siphash_unaligned(void)
{
    /* The same bytes at every alignment hash the same (no word casts). */
    uint8_t key[16], buf[64 + 8];
    ref_key(key);
    for (size_t off = 0; off < 8; off++) {
        for (int i = 0; i < 64; i++)
            buf[off + (size_t)i] = (uint8_t)i;
        CHECK_EQ(tcpw_siphash24(key, buf + off, 63), sip64_vectors[63]);
        CHECK_EQ(tcpw_siphash24(key, buf + off, 9), sip64_vectors[9]);
    }
}

static void test_tuple_hash(void)
{
    uint8_t key[16];
    ref_key(key);
    struct tcpw_tuple t = {.laddr = 0x0a000001, .raddr = 0xc0a80102, .lport = 40000, .rport = 80};
    /* Defined as SipHash of laddr raddr lport rport in network byte order. */
    const uint8_t wire[12] = {0x0a, 0x00, 0x00, 0x01, 0xc0, 0xa8,
                              0x01, 0x02, 0x9c, 0x40, 0x00, 0x50};
    CHECK_EQ(tcpw_tuple_hash(key, &t), tcpw_siphash24(key, wire, sizeof wire));

    /* Each field matters, and the key matters. */
    uint64_t h = tcpw_tuple_hash(key, &t);
    struct tcpw_tuple u = t;
    u.lport++;
    CHECK(tcpw_tuple_hash(key, &u) != h);
    u = t;
    u.rport++;
    CHECK(tcpw_tuple_hash(key, &u) != h);
    u = t;
    u.laddr ^= 0x80000000u;
    CHECK(tcpw_tuple_hash(key, &u) != h);
    u = t;
    u.raddr ^= 1;
    CHECK(tcpw_tuple_hash(key, &u) != h);
    /* Swapping the two ends is another connection. */
    u = (struct tcpw_tuple){.laddr = t.raddr, .raddr = t.laddr, .lport = t.rport, .rport = t.lport};
    CHECK(tcpw_tuple_hash(key, &u) != h);
    key[7] ^= 1;
    CHECK(tcpw_tuple_hash(key, &t) != h);
}

/* Unique tuples: laddr = i · odd constant is a bijection on 32 bits, the other
 * fields are random. */
static struct tcpw_tuple nth_tuple(uint32_t i, uint64_t *rng)
{
    uint64_t r = check_rand(rng);
    return (struct tcpw_tuple){.laddr = i * 2654435761u,
                               .raddr = (uint32_t)r,
                               .lport = (uint16_t)(r >> 32),
                               .rport = (uint16_t)(r >> 48)};
}

static size_t longest_chain(const struct tcpw_tuple_table *t)
{
    size_t longest = 0;
    for (size_t b = 0; b < tcpw_tuple_table_chains(t); b++) {
        size_t len = 0;
        for (const struct tcpw_tuple_node *n = tcpw_tuple_table_chain(t, b); n; n = n->next)
            len++;
        if (len > longest)
            longest = len;
    }
    return longest;
}

static void test_init_rounding(void)
{
    uint8_t key[16];
    ref_key(key);
    struct tcpw_tuple_table t;
    static const struct {
        size_t asked, buckets;
    } cases[] = {{0, 16}, {1, 16}, {16, 16}, {17, 32}, {100, 128}, {1024, 1024}, {1025, 2048}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_EQ_I(tcpw_tuple_table_init(&t, cases[i].asked, key), 0);
        CHECK_EQ(t.mask + 1, cases[i].buckets);
        CHECK_EQ(t.count, 0);
        tcpw_tuple_table_fini(&t);
    }
    /* An impossible size fails cleanly. */
    CHECK_EQ_I(tcpw_tuple_table_init(&t, SIZE_MAX, key), -ENOMEM);
}

#define N_TUPLES 100000u

/* Removals and lookups while the table is mid-doubling: the node's chain is
 * in whichever array its bucket lives in at that moment. */
static void test_remove_while_doubling(void)
{
    uint8_t key[16];
    static struct tcpw_tuple_node nodes[600];
    struct tcpw_tuple_table t;
    uint64_t rng = 3;
    size_t seen = 0;

    ref_key(key);
    CHECK_EQ_I(tcpw_tuple_table_init(&t, 512, key), 0);
    memset(nodes, 0, sizeof nodes);
    for (uint32_t i = 0; i < 600; i++)
        nodes[i].tuple = nth_tuple(i, &rng);
    /* 513 inserts start the 512 -> 1024 doubling; 87 more move 174 of the
     * 512 old buckets. */
    for (uint32_t i = 0; i < 600; i++)
        CHECK_EQ_I(tcpw_tuple_table_insert(&t, &nodes[i]), 0);
    CHECK(t.old != NULL);
    CHECK_EQ(t.migrated, 2u * 88u);
    for (uint32_t i = 0; i < 600; i += 2)
        tcpw_tuple_table_remove(&t, &nodes[i]);
    CHECK_EQ(t.count, 300);
    for (uint32_t i = 0; i < 600; i++)
        CHECK(tcpw_tuple_table_find(&t, &nodes[i].tuple) == (i % 2 ? &nodes[i] : NULL));
    for (size_t b = 0; b < tcpw_tuple_table_chains(&t); b++)
        for (const struct tcpw_tuple_node *n = tcpw_tuple_table_chain(&t, b); n; n = n->next)
            seen++;
    CHECK_EQ(seen, 300);
    tcpw_tuple_table_fini(&t);
}

static void test_table_vs_model(void)
{
    uint8_t key[16];
    ref_key(key);
    struct tcpw_tuple_table t;
    CHECK_EQ_I(tcpw_tuple_table_init(&t, 0, key), 0);

    /* Static so that a failing CHECK (which returns) leaks nothing big. */
    static struct tcpw_tuple_node nodes[N_TUPLES];
    static bool in[N_TUPLES]; /* the model */
    memset(nodes, 0, sizeof nodes);
    memset(in, 0, sizeof in);
    uint64_t rng = 1;
    for (uint32_t i = 0; i < N_TUPLES; i++)
        nodes[i].tuple = nth_tuple(i, &rng);

    /* Insert all, in order; the table grows to keep the load <= 1, a few
     * buckets per insert: while it doubles, a walk still sees every node
     * exactly once and every node is found. */
    size_t count = 0, doubling_seen = 0;
    for (uint32_t i = 0; i < N_TUPLES; i++) {
        CHECK_EQ_I(tcpw_tuple_table_insert(&t, &nodes[i]), 0);
        in[i] = true;
        count++;
        if (t.count != count || t.count > t.mask + 1)
            break;
        if (t.old && (i % 997 == 0 || t.migrated == 2)) {
            size_t seen = 0;
            doubling_seen++;
            for (size_t b = 0; b < tcpw_tuple_table_chains(&t); b++)
                for (const struct tcpw_tuple_node *n = tcpw_tuple_table_chain(&t, b); n; n = n->next)
                    seen++;
            CHECK_EQ(seen, count);
            CHECK(tcpw_tuple_table_find(&t, &nodes[i / 2].tuple) == &nodes[i / 2]);
            CHECK(tcpw_tuple_table_find(&t, &nodes[i].tuple) == &nodes[i]);
        }
    }
    CHECK(doubling_seen >= 13); /* every doubling, 16 -> 131072 buckets */
    CHECK(t.old == NULL);       /* the last one is over */
    CHECK_EQ(t.count, N_TUPLES);
    CHECK(t.mask + 1 >= N_TUPLES);
    CHECK_EQ(t.mask + 1, 131072); /* 16 doubled until >= 100000 */
    CHECK_MSG(longest_chain(&t) <= 12, "longest chain %zu", longest_chain(&t));

    for (uint32_t i = 0; i < N_TUPLES; i++)
        CHECK_MSG(tcpw_tuple_table_find(&t, &nodes[i].tuple) == &nodes[i], "tuple %u", i);

    /* Random operations against the model: find, remove, reinsert. */
    for (uint32_t step = 0; step < 4 * N_TUPLES; step++) {
        uint32_t i = (uint32_t)(check_rand(&rng) % N_TUPLES);
        switch (check_rand(&rng) % 3) {
        case 0:
            CHECK_MSG(tcpw_tuple_table_find(&t, &nodes[i].tuple) == (in[i] ? &nodes[i] : NULL),
                      "step %u: find %u (in=%d)", step, i, in[i]);
            break;
        case 1:
            if (in[i]) {
                tcpw_tuple_table_remove(&t, &nodes[i]);
                in[i] = false;
                count--;
            }
            break;
        default:
            if (!in[i]) {
                tcpw_tuple_table_insert(&t, &nodes[i]);
                in[i] = true;
                count++;
            }
            break;
        }
        CHECK_EQ(t.count, count);
    }
    for (uint32_t i = 0; i < N_TUPLES; i++)
        CHECK_MSG(tcpw_tuple_table_find(&t, &nodes[i].tuple) == (in[i] ? &nodes[i] : NULL),
                  "tuple %u (in=%d)", i, in[i]);

    /* Absent tuples: never inserted ones, and near misses of present ones. */
    for (uint32_t i = N_TUPLES; i < N_TUPLES + 10000; i++) {
        struct tcpw_tuple a = nth_tuple(i, &rng);
        CHECK(!tcpw_tuple_table_find(&t, &a));
    }
    for (uint32_t i = 0; i < 1000; i++) {
        struct tcpw_tuple a = nodes[i].tuple;
        a.rport ^= 1;
        CHECK(!tcpw_tuple_table_find(&t, &a));
    }

    /* Empty it. */
    for (uint32_t i = 0; i < N_TUPLES; i++)
        if (in[i])
            tcpw_tuple_table_remove(&t, &nodes[i]);
    CHECK_EQ(t.count, 0);
    for (size_t b = 0; b <= t.mask; b++)
        CHECK(t.buckets[b] == NULL);
    for (uint32_t i = 0; i < N_TUPLES; i += 97)
        CHECK(!tcpw_tuple_table_find(&t, &nodes[i].tuple));

    tcpw_tuple_table_fini(&t);
}

static void test_growth(void)
{
    uint8_t key[16];
    ref_key(key);
    struct tcpw_tuple_table t;
    CHECK_EQ_I(tcpw_tuple_table_init(&t, 16, key), 0);
    struct tcpw_tuple_node nodes[40];
    uint64_t rng = 7;
    for (uint32_t i = 0; i < 40; i++)
        nodes[i].tuple = nth_tuple(i, &rng);
    /* 16 fit in 16 buckets; the 17th doubles; the 33rd doubles again. */
    for (uint32_t i = 0; i < 40; i++) {
        tcpw_tuple_table_insert(&t, &nodes[i]);
        size_t expect = i + 1 <= 16 ? 16 : i + 1 <= 32 ? 32 : 64;
        CHECK_EQ(t.mask + 1, expect);
        /* Everything inserted so far survives the rehash. */
        for (uint32_t j = 0; j <= i; j++)
            CHECK(tcpw_tuple_table_find(&t, &nodes[j].tuple) == &nodes[j]);
    }
    /* Removal never shrinks (keeps O(1) without hysteresis concerns). */
    for (uint32_t i = 0; i < 40; i++)
        tcpw_tuple_table_remove(&t, &nodes[i]);
    CHECK_EQ(t.mask + 1, 64);
    CHECK_EQ(t.count, 0);
    tcpw_tuple_table_fini(&t);
    CHECK(t.buckets == NULL);
}

/* Finds `want` tuples that share bucket index `bucket` of a 16-bucket table. */
static void colliding_tuples(const struct tcpw_tuple_table *t, size_t bucket,
                             struct tcpw_tuple_node *out, size_t want)
{
    size_t got = 0;
    for (uint32_t port = 1; got < want; port++) {
        struct tcpw_tuple tu = {
            .laddr = 0x0a000001, .raddr = 0x0a000002, .lport = (uint16_t)port, .rport = 443};
        if ((tcpw_tuple_hash(t->key, &tu) & t->mask) == bucket)
            out[got++].tuple = tu;
    }
}

static void test_chain_removal(void)
{
    uint8_t key[16];
    ref_key(key);
    /* Remove the head, a middle node and the tail of one chain of 3. */
    for (int victim = 0; victim < 3; victim++) {
        struct tcpw_tuple_table t;
        CHECK_EQ_I(tcpw_tuple_table_init(&t, 16, key), 0);
        struct tcpw_tuple_node nodes[3];
        colliding_tuples(&t, 5, nodes, 3);
        for (int i = 0; i < 3; i++)
            tcpw_tuple_table_insert(&t, &nodes[i]);
        CHECK_EQ(t.mask, 15); /* no growth: one chain of 3 in bucket 5 */

        struct tcpw_tuple_node *chain[3];
        chain[0] = t.buckets[5];
        CHECK(chain[0] != NULL);
        chain[1] = chain[0]->next;
        CHECK(chain[1] != NULL);
        chain[2] = chain[1]->next;
        CHECK(chain[2] != NULL);
        CHECK(chain[2]->next == NULL);

        tcpw_tuple_table_remove(&t, chain[victim]);
        CHECK_EQ(t.count, 2);
        CHECK(tcpw_tuple_table_find(&t, &chain[victim]->tuple) == NULL);
        size_t len = 0;
        for (struct tcpw_tuple_node *n = t.buckets[5]; n; n = n->next) {
            CHECK(n != chain[victim]);
            len++;
        }
        CHECK_EQ(len, 2);
        for (int i = 0; i < 3; i++)
            if (i != victim)
                CHECK(tcpw_tuple_table_find(&t, &chain[i]->tuple) == chain[i]);

        /* And the rest, down to an empty bucket; then reinsert one. */
        for (int i = 0; i < 3; i++)
            if (i != victim)
                tcpw_tuple_table_remove(&t, chain[i]);
        CHECK(t.buckets[5] == NULL);
        CHECK_EQ(t.count, 0);
        tcpw_tuple_table_insert(&t, chain[victim]);
        CHECK(tcpw_tuple_table_find(&t, &chain[victim]->tuple) == chain[victim]);
        tcpw_tuple_table_fini(&t);
    }
}

static void test_find_absent(void)
{
    uint8_t key[16];
    ref_key(key);
    struct tcpw_tuple_table t;
    CHECK_EQ_I(tcpw_tuple_table_init(&t, 16, key), 0);
    struct tcpw_tuple a = {.laddr = 1, .raddr = 2, .lport = 3, .rport = 4};
    CHECK(!tcpw_tuple_table_find(&t, &a)); /* empty table */
    /* A chain whose members all differ from the probe in one field only. */
    struct tcpw_tuple_node nodes[3];
    colliding_tuples(&t, 9, nodes, 3);
    for (int i = 0; i < 3; i++)
        tcpw_tuple_table_insert(&t, &nodes[i]);
    struct tcpw_tuple_node probe[4];
    colliding_tuples(&t, 9, probe, 4); /* the 4th collides but is absent */
    CHECK(!tcpw_tuple_table_find(&t, &probe[3].tuple));
    tcpw_tuple_table_fini(&t);
}

int main(void)
{
    RUN(test_siphash_vectors);
    RUN(test_siphash_unaligned);
    RUN(test_tuple_hash);
    RUN(test_init_rounding);
    RUN(test_table_vs_model);
    RUN(test_remove_while_doubling);
    RUN(test_growth);
    RUN(test_chain_removal);
    RUN(test_find_absent);
    return check_summary();
}
