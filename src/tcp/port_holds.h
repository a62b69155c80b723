/* tcp/ — who holds the local ports, so that bind(), listen() and connect()
 * decide in O(1) (issue 5: "O(1) average per connect even when 99% of the
 * range toward one destination is held").
 *
 * The connection table (conn.c) and the TIME_WAIT table (timewait.c) report
 * every 4-tuple they gain or lose (tcpw__holds_add / _del). From those:
 *
 * - per local port, how many live connections and TIME_WAIT records use it:
 *   listen()'s EADDRINUSE checks without a walk;
 * - one bitmap over ip_local_port_range of the ports any of them uses, for
 *   bind(0)'s walk;
 * - for a busy destination (local address, remote address, remote port) —
 *   one toward which a connect() met TCPW_BUSY_BUILD held ports in its walk
 *   (at 90 % held, 19 % of walks do; at 50 %, 0.002 %) — a bitmap of the
 *   ephemeral ports known to be held toward it. A set bit always means held
 *   (every 4-tuple leaving clears its bit); a clear bit means free or not
 *   yet known, which the walk then asks the hash tables about, once: a held
 *   port found so is learnt. No scan of the range is ever needed, so each
 *   held port costs one lookup after the destination became busy, and a
 *   connect() O(1) lookups on average. The entry goes when fewer than
 *   TCPW_BUSY_KEEP of its ports are known held: its memory,
 *   (range / 8 + range / 512) bytes (3.6 KiB with the default range), is
 *   below 0.5 KiB per held port at worst, and ≈ 0.1 B at 99 % held.
 *
 * Each bitmap has a summary bit per full word, so the RFC 6056 walk jumps
 * over a run of held ports in O(range / 4096) word tests — 7 with the
 * default range — instead of one hash lookup per port; the port it lands
 * on is the one the plain walk would have found (tcpw_port_probe's skip).
 */
#ifndef TCPW_PORT_HOLDS_H
#define TCPW_PORT_HOLDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp/dest_map.h"
#include "tcp/hash.h"

struct tcpw_stack;

/* A destination becomes busy when a connect() toward it finds this many
 * ports held by it (not by bound sockets) in one walk. */
#define TCPW_BUSY_BUILD 16u
/* ... and stops being busy below this many held ports. */
#define TCPW_BUSY_KEEP 8u

/* A set of ports of the range: one bit per port (bit i: port lo + i), and
 * one summary bit per word that is all ones. The bits past the range in the
 * last word are set once and never cleared, so "full" needs no special
 * case. */
struct tcpw_port_bitmap {
    uint64_t *words; /* nwords words, then nsum summary words */
    uint32_t set;    /* ports in the set */
};

struct tcpw_port_holders {
    uint32_t conns; /* live connections with this local port */
    uint32_t tw;    /* TIME_WAIT records with this local port */
};

struct tcpw_busy_dest {
    struct tcpw_dest_entry dest;  /* first: the map's part */
    struct tcpw_port_bitmap held; /* ports known held toward it */
};

struct tcpw_port_holds {
    struct tcpw_port_holders *by_port; /* [65536]; calloc'd, so only the
                                        * pages of ports in use are backed */
    struct tcpw_port_bitmap in_use;    /* range ports with any holder */
    struct tcpw_dest_map busy;         /* of struct tcpw_busy_dest */
    uint32_t lo, num;                  /* ip_local_port_range, fixed */
    uint32_t nwords, nsum;
};

enum tcpw_holder { TCPW_HOLDER_CONN, TCPW_HOLDER_TW };

/* Sets up the structures for the stack's port range. Returns 0 or -ENOMEM. */
int tcpw__holds_init(struct tcpw_stack *s);
/* Frees them (the tables need not be empty). */
void tcpw__holds_fini(struct tcpw_stack *s);

/* A connection or TIME_WAIT record with 4-tuple u appeared / went away.
 * _del is called after the holder left its table. Never allocates, never
 * fails. */
void tcpw__holds_add(struct tcpw_stack *s, const struct tcpw_tuple *u, enum tcpw_holder who);
void tcpw__holds_del(struct tcpw_stack *s, const struct tcpw_tuple *u, enum tcpw_holder who);

/* Whether a live connection / TIME_WAIT record uses local port `port`. */
bool tcpw__holds_conn_on(const struct tcpw_stack *s, uint16_t port);
bool tcpw__holds_tw_on(const struct tcpw_stack *s, uint16_t port);

/* The busy entry of a destination, or NULL. */
struct tcpw_busy_dest *tcpw__holds_busy_find(const struct tcpw_stack *s, uint32_t laddr,
                                             uint32_t raddr, uint16_t rport);
/* Makes a destination busy, with nothing known yet: its bitmap learns the
 * held ports as walks meet them (tcpw__holds_busy_learn) and from every
 * 4-tuple added toward it from now on. Returns the entry (the existing one
 * if already busy), or NULL when memory is short (nothing changes then: the
 * walk stays right, only slower). Allocates. */
struct tcpw_busy_dest *tcpw__holds_busy_build(struct tcpw_stack *s, uint32_t laddr, uint32_t raddr,
                                              uint16_t rport);
/* Records that `port` is held toward d (a walk found a connection or a
 * record on its 4-tuple). Ports outside the range are ignored. */
void tcpw__holds_busy_learn(struct tcpw_stack *s, struct tcpw_busy_dest *d, uint16_t port);

/* tcpw_port_probe skips: from range index `index`, how many ports in a row
 * (cyclically, at most `left`) are held toward busy destination d, or by any
 * holder (_any, for bind), or by a bound socket (`bound`: the stack's bit per
 * port). */
uint32_t tcpw__holds_skip_dest(const struct tcpw_stack *s, const struct tcpw_busy_dest *d,
                               const uint64_t *bound, uint32_t index, uint32_t left);
uint32_t tcpw__holds_skip_any(const struct tcpw_stack *s, const uint64_t *bound, uint32_t index,
                              uint32_t left);

#endif
