/* tcp/ — keyed hashing of connection 4-tuples.
 *
 * SipHash-2-4 (Aumasson & Bernstein, 2012), keyed by a per-stack secret, so
 * a peer cannot pick addresses that collide in our tables (hash flooding)
 * or predict ISNs and ports (RFC 6528, RFC 6056 §3.3.3).
 */
#ifndef TCPW_HASH_H
#define TCPW_HASH_H

#include <stddef.h>
#include <stdint.h>

/* A connection's identity, host byte order. */
struct tcpw_tuple {
    uint32_t laddr, raddr;
    uint16_t lport, rport;
};

static inline int tcpw_tuple_eq(const struct tcpw_tuple *a, const struct tcpw_tuple *b)
{
    return a->laddr == b->laddr && a->raddr == b->raddr && a->lport == b->lport &&
           a->rport == b->rport;
}

/* SipHash-2-4 of `len` bytes under a 128-bit key. */
uint64_t tcpw_siphash24(const uint8_t key[16], const void *data, size_t len);

/* Hash of a 4-tuple (fields serialised in a fixed byte order). */
uint64_t tcpw_tuple_hash(const uint8_t key[16], const struct tcpw_tuple *t);

/* Intrusive hash table of tuples: embed a node in the owner and recover the
 * owner from a found node. Chained buckets, power-of-two size, doubled when
 * the load passes 1 (so lookups stay O(1) on average). The doubling is
 * incremental (linear hashing's split: each insert moves two buckets of the
 * old array), so no insert pauses to rehash every connection. */
struct tcpw_tuple_node {
    struct tcpw_tuple_node *next;
    struct tcpw_tuple tuple;
};

struct tcpw_tuple_table {
    struct tcpw_tuple_node **buckets;
    size_t mask;  /* bucket count - 1 */
    size_t count;
    uint8_t key[16];
    /* While doubling: the old array, whose buckets below `migrated` have
     * moved to `buckets`; NULL otherwise. */
    struct tcpw_tuple_node **old;
    size_t old_mask;
    size_t migrated;
};

/* initial_buckets is rounded up to a power of two (>= 16). Returns 0/-ENOMEM. */
int tcpw_tuple_table_init(struct tcpw_tuple_table *t, size_t initial_buckets,
                          const uint8_t key[16]);
/* Frees the bucket array (not the nodes, which belong to their owners). */
void tcpw_tuple_table_fini(struct tcpw_tuple_table *t);
/* Inserts n (n->tuple must be set, and not already present). May grow the
 * table; a failed growth is not an error (the table just gets fuller).
 * Returns 0. */
int tcpw_tuple_table_insert(struct tcpw_tuple_table *t, struct tcpw_tuple_node *n);
/* The node with this tuple, or NULL. */
struct tcpw_tuple_node *tcpw_tuple_table_find(const struct tcpw_tuple_table *t,
                                              const struct tcpw_tuple *tuple);
/* Removes n (which must be in the table). */
void tcpw_tuple_table_remove(struct tcpw_tuple_table *t, struct tcpw_tuple_node *n);

/* Walking every node: chains 0 .. tcpw_tuple_table_chains() - 1, each
 * node in exactly one (also while the table doubles). A walk that removes
 * nodes may do so (removal never moves other nodes); one that inserts must
 * start over. */
size_t tcpw_tuple_table_chains(const struct tcpw_tuple_table *t);
struct tcpw_tuple_node *tcpw_tuple_table_chain(const struct tcpw_tuple_table *t, size_t i);

#endif
