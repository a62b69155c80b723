/* tcp/ — tcp_tw_recycle's per-peer timestamp cache (Linux before 4.12:
 * tcp_remember_stamp() / tcp_peer_is_proven(), the timestamp fields of
 * tcp_metrics; RFC 7323 §5 PAWS applied across connections, which RFC 7323
 * does not sanction: see docs/states/TIME_WAIT.md, "tcp_tw_recycle").
 *
 * One entry per peer IPv4 address: the newest TS.Recent a TIME_WAIT record
 * of that peer held, and when it was seen. A SYN from the peer whose TSval
 * is older than that, while the entry is younger than TCP_PAWS_MSL (60 s),
 * is taken for an old duplicate and dropped ("PAWS passive"). Every
 * connection from one address is assumed to share one timestamp clock:
 * false behind a NAT, which is why Linux removed the option.
 *
 * The cache is a fixed open-addressing table (RECYCLE_SLOTS entries, keyed
 * SipHash of the address under the stack secret, probing a window of
 * RECYCLE_PROBE slots); a new peer whose window is full replaces the entry
 * seen longest ago. It is allocated only when tcp_tw_recycle is on (the
 * config is immutable), so it costs nothing by default.
 */
#ifndef TCPW_RECYCLE_H
#define TCPW_RECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tcpw_stack;

#define RECYCLE_SLOTS 1024u /* power of two: 16 KiB per stack */
#define RECYCLE_PROBE 8u
/* Linux's TCP_PAWS_MSL: an entry older than this is ignored. */
#define RECYCLE_PAWS_MSL_US (60ull * 1000000u)
/* Linux's TCP_PAWS_WINDOW: a TSval at most this much older still passes. */
#define RECYCLE_PAWS_WINDOW 1u

struct tcpw_recycle_entry {
    uint32_t addr;    /* peer address; 0 = empty (0.0.0.0 is never a peer) */
    uint32_t ts;      /* the newest TS.Recent remembered for it */
    uint64_t seen_us; /* stack time that TSval was received */
};

struct tcpw_recycle_cache {
    struct tcpw_recycle_entry *slots; /* RECYCLE_SLOTS, or NULL when off */
};

/* Allocates the cache when tcp_tw_recycle is on. Returns 0 or -ENOMEM. */
int tcpw__recycle_init(struct tcpw_stack *s);
void tcpw__recycle_fini(struct tcpw_stack *s);

/* Whether recycling is on (cache allocated). */
bool tcpw__recycle_on(const struct tcpw_stack *s);

/* A TIME_WAIT record with timestamps was made for peer `addr`: remember its
 * TS.Recent `ts`, received at stack time `seen_us`, unless a newer TSval
 * from the peer within TCP_PAWS_MSL is already remembered (Linux's
 * tcp_tw_remember_stamp()). No-op when recycling is off. */
void tcpw__recycle_remember(struct tcpw_stack *s, uint32_t addr, uint32_t ts, uint64_t seen_us);

/* Linux's !tcp_peer_is_proven(paws_check): true when a SYN from `addr`
 * carrying TSval `tsval` must be dropped, i.e. the cache holds an entry for
 * `addr` younger than TCP_PAWS_MSL whose TSval exceeds `tsval` by more than
 * TCP_PAWS_WINDOW. Always false when recycling is off. */
bool tcpw__recycle_syn_rejected(const struct tcpw_stack *s, uint32_t addr, uint32_t tsval);

/* The entry for `addr` valid now, or NULL (tests and tools). */
const struct tcpw_recycle_entry *tcpw__recycle_find(const struct tcpw_stack *s, uint32_t addr);

#endif
