/* tcp/ — a map keyed by destination: (local address, remote address, remote
 * port), RFC 6056's unit of ephemeral-port budget, with a caller's payload
 * per destination.
 *
 * Three places count or keep something per destination: the TIME_WAIT table
 * (records per destination, tcp_tw_dest_quota), the port holders (busy
 * destinations' bitmaps) and tcpw_port_usage_foreach() (ports held per
 * destination). They share this one map.
 *
 * Open addressing with linear probing, at most half full (so a free slot
 * ends every probe, and at half full a probe averages 1.5 slots for a
 * present key, 2.5 for an absent one), doubled when one more entry would
 * pass half; deletion shifts the following entries back instead of leaving
 * tombstones, so lookups never slow down under churn. Each entry keeps its
 * hash for growth and deletion. The hash is the caller's to compute, with
 * tcpw__dest_hash() under the stack secret (keyed SipHash: a peer cannot
 * choose colliding destinations), once per operation however many map calls
 * that operation makes (and a test can choose colliding hashes).
 *
 * Entries are the caller's own struct whose first member is a
 * struct tcpw_dest_entry (the key, the hash, the in-use flag); the map is
 * told the struct's size and copies entries whole. The payloads are too
 * unlike for one fixed entry type: a 4-byte count (TIME_WAIT quota, an
 * entry for every destination holding records, reported as the table's
 * memory), a 16-byte bitmap handle, over 30 bytes of counts (port usage). A
 * fixed union would cost the quota map a larger entry, and a pointer to a
 * payload an allocation per entry (and a failure point) for port usage. A
 * caller converts an entry pointer to its own type with a cast, which C
 * allows because the header is the first member (C11 6.7.2.1 §15).
 */
#ifndef TCPW_DEST_MAP_H
#define TCPW_DEST_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A destination, host byte order. */
struct tcpw_dest {
    uint32_t laddr, raddr;
    uint16_t rport;
};

/* The first member of every entry: 16 bytes, so a 4-byte payload makes a
 * 20-byte entry. */
struct tcpw_dest_entry {
    uint32_t laddr, raddr;
    uint32_t hash; /* tcpw__dest_hash() of the key */
    uint16_t rport;
    bool in_use; /* false: a free slot (its other bytes mean nothing) */
};

struct tcpw_dest_map {
    unsigned char *slots; /* capacity x entry_size bytes; NULL until the first reserve */
    size_t entry_size;    /* the caller's entry struct, struct tcpw_dest_entry first */
    uint32_t mask;        /* capacity - 1 (capacity a power of two); 0 without slots */
    uint32_t used;        /* entries in use */
    uint32_t min_cap;     /* capacity of the first allocation */
    uint32_t max_cap;     /* growth past this fails with -ENOMEM */
};

/* The hash of a destination: tcpw_tuple_hash of (laddr, raddr, 0, rport)
 * under the stack secret. */
uint32_t tcpw__dest_hash(const uint8_t secret[16], const struct tcpw_dest *k);

/* An empty map of entries of `entry_size` bytes (at least
 * sizeof(struct tcpw_dest_entry)); allocates nothing. The first allocation
 * holds min_cap entries, the largest max_cap (both powers of two, 2 <=
 * min_cap <= max_cap <= 2^31). */
void tcpw__dest_map_init(struct tcpw_dest_map *m, size_t entry_size, uint32_t min_cap,
                         uint32_t max_cap);
/* Frees the slots and leaves the map empty, as after init; the payloads are
 * the caller's to free first (tcpw__dest_map_next). */
void tcpw__dest_map_fini(struct tcpw_dest_map *m);

/* The entry of destination k (whose hash is `hash`), or NULL. O(1) average.
 * Entry pointers stay valid until the next reserve that grows the map, or
 * the next remove. */
struct tcpw_dest_entry *tcpw__dest_map_find(const struct tcpw_dest_map *m,
                                            const struct tcpw_dest *k, uint32_t hash);

/* Makes room for one more entry, growing the map if need be, so that the
 * tcpw__dest_map_insert that follows cannot fail. Returns 0, or -ENOMEM
 * (past max_cap, or no memory) with the map unchanged. */
int tcpw__dest_map_reserve(struct tcpw_dest_map *m);
/* Adds destination k, which must not be in the map, after a successful
 * reserve (one insert per reserve). Returns its entry with the payload
 * zeroed. Never fails. */
struct tcpw_dest_entry *tcpw__dest_map_insert(struct tcpw_dest_map *m, const struct tcpw_dest *k,
                                              uint32_t hash);
/* Removes an entry (the caller has released its payload). Moves other
 * entries: every entry pointer is invalid afterwards. */
void tcpw__dest_map_remove(struct tcpw_dest_map *m, struct tcpw_dest_entry *e);

/* Iteration in slot order: start with *cursor = 0; returns the next entry
 * in use, or NULL at the end. The map must not change during a walk. */
struct tcpw_dest_entry *tcpw__dest_map_next(const struct tcpw_dest_map *m, uint32_t *cursor);

/* Hands the entries over as a dense array of *n entries, in slot order, for
 * the caller to sort and free(); the map is left empty, as after init.
 * Returns NULL (and *n = 0) when the map has no slots. No allocation. */
struct tcpw_dest_entry *tcpw__dest_map_take(struct tcpw_dest_map *m, uint32_t *n);

/* Heap bytes of the slots (0 before the first reserve). */
size_t tcpw__dest_map_memory_bytes(const struct tcpw_dest_map *m);

#endif
