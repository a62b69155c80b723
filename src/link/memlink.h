/* link/ — the in-memory wire (memlink): the parts of the simulated network
 * that know nothing about hosts or stacks.
 *
 * - a seeded generator per path (xoshiro256**), each derived from the sim
 *   seed and the ordered (from, to) pair, so impairing one path never shifts
 *   the random draws of another;
 * - per-path impairment planning (loss, duplication, reordering, delay and
 *   jitter), with a fixed number of draws per packet so that changing one
 *   rate of a path does not shift which packets its other draws pick;
 * - the in-flight queue, a binary heap ordered by (delivery time, sequence);
 * - the NAT translation table and the packet rewriting it implies.
 *
 * src/sim/sim.c drives it: hosts, the clock, the observer.
 */
#ifndef TCPW_MEMLINK_H
#define TCPW_MEMLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpwave/sim.h"

/* xoshiro256** state. */
struct tcpw__ml_rng {
    uint64_t s[4];
};

void tcpw__ml_rng_seed(struct tcpw__ml_rng *r, uint64_t seed);
uint64_t tcpw__ml_rng_next(struct tcpw__ml_rng *r);

/* Derives an independent 64-bit seed from a parent seed, a domain tag and a
 * key (e.g. the sim seed, "stack", addr and generation). */
uint64_t tcpw__ml_derive(uint64_t seed, uint64_t domain, uint64_t key);

/* Open-addressing map from 64-bit keys to 64-bit values. Nothing is ever
 * removed (hosts, paths and NAT mappings live as long as the simulator), so
 * there are no tombstones. */
struct tcpw__ml_slot {
    uint64_t key;
    uint64_t val;
    bool used;
};

struct tcpw__ml_map {
    struct tcpw__ml_slot *slots;
    size_t cap; /* a power of two, or 0 */
    size_t count;
};

/* Inserts or replaces. Returns 0 or -ENOMEM. */
int tcpw__ml_map_put(struct tcpw__ml_map *m, uint64_t key, uint64_t val);
/* Returns true and sets *val when `key` is present. */
bool tcpw__ml_map_get(const struct tcpw__ml_map *m, uint64_t key, uint64_t *val);
void tcpw__ml_map_free(struct tcpw__ml_map *m);

/* A packet on the wire. */
struct tcpw__ml_pkt {
    uint64_t due;  /* delivery time, µs */
    uint64_t seq;  /* scheduling order: breaks ties of `due` */
    uint32_t from; /* sending host's own address (before NAT) */
    size_t len;
    uint8_t data[];
};

/* Copies `len` bytes into a new packet. NULL on allocation failure. */
struct tcpw__ml_pkt *tcpw__ml_pkt_new(uint32_t from, const uint8_t *data, size_t len);

/* Destination address of the datagram (0 when it is too short to say). */
uint32_t tcpw__ml_pkt_dst(const struct tcpw__ml_pkt *p);

/* One direction of one path. */
struct tcpw__ml_path {
    uint32_t from, to;
    bool own;                   /* has its own impairment (else the default) */
    struct tcpw_impairment imp; /* valid when `own` */
    struct tcpw__ml_rng rng;
    uint64_t last_due; /* latest in-order delivery time scheduled */
};

/* One NAT translation: inside addr:port <-> public addr:port for a protocol
 * (for ICMP echo the "port" is the echo identifier, as Linux does it). */
struct tcpw__ml_nat_entry {
    uint32_t inside_addr, public_addr;
    uint16_t inside_port, public_port;
    uint8_t proto;
};

struct tcpw__memlink {
    uint64_t seed;
    struct tcpw_impairment default_imp;
    struct tcpw__ml_path *paths;
    size_t npaths, cap_paths;
    struct tcpw__ml_map path_index; /* (from << 32 | to) -> index in paths */
    struct tcpw__ml_pkt **heap;     /* in flight, min-heap on (due, seq) */
    size_t nheap, cap_heap;
    uint64_t next_seq;
    struct tcpw__ml_nat_entry *nat;
    size_t nnat, cap_nat;
    struct tcpw__ml_map nat_out;    /* (proto, inside addr, inside port) -> index */
    struct tcpw__ml_map nat_in;     /* (proto, public addr, public port) -> index */
    struct tcpw__ml_map nat_cursor; /* (proto, public addr, port base) -> next port to try */
};

/* What the path decided for one packet. */
struct tcpw__ml_plan {
    bool lost;
    unsigned copies; /* 0 (lost), 1, or 2 (duplicated) */
    uint64_t due[2]; /* delivery time of each copy */
};

void tcpw__ml_init(struct tcpw__memlink *ml, uint64_t seed);
/* Frees the paths, the packets in flight and the NAT table. */
void tcpw__ml_fini(struct tcpw__memlink *ml);

/* 0 when every rate is in [0, 1] (NaN is not), else -EINVAL. */
int tcpw__ml_impairment_check(const struct tcpw_impairment *imp);

/* Returns 0, -EINVAL, -ENOMEM. */
int tcpw__ml_set_path(struct tcpw__memlink *ml, uint32_t from, uint32_t to,
                      const struct tcpw_impairment *imp);

/* Draws the fate of one packet sent at `now` on path (from, to). Returns 0 or
 * -ENOMEM (the path's generator could not be allocated). */
int tcpw__ml_plan(struct tcpw__memlink *ml, uint32_t from, uint32_t to, uint64_t now,
                  struct tcpw__ml_plan *plan);

/* Queues `p` for delivery at `due`; gives it the next sequence number.
 * Returns 0 or -ENOMEM (then `p` is not queued and still the caller's). */
int tcpw__ml_schedule(struct tcpw__memlink *ml, struct tcpw__ml_pkt *p, uint64_t due);

/* The earliest packet in flight, or NULL. */
struct tcpw__ml_pkt *tcpw__ml_peek(const struct tcpw__memlink *ml);

/* Removes and returns the earliest packet in flight (the caller frees it),
 * or NULL. */
struct tcpw__ml_pkt *tcpw__ml_pop(struct tcpw__memlink *ml);

/* Rewrites a packet leaving a host behind a NAT: source address to
 * `public_addr`, and for TCP (and ICMP echo requests) the source port (echo
 * identifier) to the one mapped for (inside address, inside port), allocated
 * from `port_base` upward on first use. Checksums are updated incrementally
 * (RFC 1624). Returns 0, -EINVAL (the NAT cannot parse or translate the
 * packet), -EADDRNOTAVAIL (no public port left), -ENOMEM. */
int tcpw__ml_nat_outbound(struct tcpw__memlink *ml, uint8_t *pkt, size_t len, uint32_t public_addr,
                          uint16_t port_base);

/* Rewrites a packet sent to a public address:port that has a mapping back to
 * the inside address:port; ICMP errors quoting a translated packet are
 * translated too (outer destination and the quoted header). Returns 1 and
 * sets *inside when rewritten, 0 when no mapping applies. */
int tcpw__ml_nat_inbound(struct tcpw__memlink *ml, uint8_t *pkt, size_t len, uint32_t *inside);

#endif
