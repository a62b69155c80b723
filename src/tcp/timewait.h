/* tcp/ — TIME_WAIT as its own compact record (DESIGN.md).
 *
 * RFC 9293 §3.10.7.4 (TIME-WAIT processing), RFC 1337 (ignore RST in
 * TIME-WAIT), RFC 6191 (accepting a new SYN), RFC 9293 §3.4.2 / §3.6 (2MSL),
 * RFC 7323 §5.4-5.5 (the timestamp clock and TS.Recent a record keeps).
 *
 * When a connection enters TIME_WAIT its full control block is freed and a
 * 40-byte record holding only what TIME_WAIT needs takes its place.
 *
 * The store is a log. Every record lives exactly 2MSL (with tcp_tw_recycle:
 * 3.5 x tcp_rto_min, for every record of the stack) from its last
 * (re)start, so records in order of insertion are records in order of
 * expiry: they are appended at the tail of a ring of fixed-size chunks and
 * expire from the head, with one wheel timer for the whole table. A record
 * is addressed by its 32-bit position in the log (positions count up modulo
 * 2^32; chunk = position >> TW_CHUNK_BITS), so the FIFO needs no links at
 * all. A record that leaves early (RST with tcp_rfc1337=0, a new SYN,
 * RFC 6191) or restarts (a retransmitted FIN moves it to the tail) leaves a
 * tombstone behind; when tombstones outnumber live records the log is
 * compacted in order, a few positions per table operation (the live records
 * slide toward the tail, the emptied head-side chunks are freed at the
 * end), which keeps memory near 2x of the live records under any traffic,
 * costs O(1) amortised per tombstone and never pauses for the whole log.
 *
 * Lookup by 4-tuple is a chained hash of 32-bit positions: a bucket array
 * (power of two, keyed SipHash of the tuple under the stack secret, doubled
 * when the load passes 2) and a 32-bit `hnext` in each record. Doubling is
 * incremental (linear hashing's split, four old buckets per insert): no
 * insert pauses to rehash millions of records.
 *
 * Memory per record at load: 40 (the record) + 2..4 (bucket heads at load
 * 1..2) + under 0.1 (chunk ring, partly filled head and tail chunks) = 42..44
 * bytes, against ~250+ bytes for Linux's tw_sock_TCP (BENCHMARKS.md).
 */
#ifndef TCPW_TIMEWAIT_H
#define TCPW_TIMEWAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stack/timer_wheel.h"
#include "tcp/dest_map.h"
#include "tcp/hash.h"

struct tcpw_stack;
struct tcpw_conn;
struct tcpw_packet;

/* Records per chunk: 4096 x 40 B = 160 KiB, large enough that the partly
 * used head and tail chunks are noise at load, small enough that a table of
 * a few records costs little. */
#define TW_CHUNK_BITS 12u
#define TW_CHUNK_RECORDS (1u << TW_CHUNK_BITS)
/* "No position": the end of a hash chain. The log never puts a record at
 * this position (the slot is left as a tombstone when the log passes it). */
#define TW_NIL UINT32_MAX

/* `bits` layout. The expiry is µs of stack time modulo 2^36 (19 h): a live
 * record's expiry is never more than 2MSL (at most 2 h, tcp_msl <= 3600 s)
 * from now, so the full value is recovered exactly from `now` (half range
 * 9.5 h). */
#define TW_BITS_EXP_HI_MASK 0x000fu /* expiry bits 32..35 */
#define TW_BITS_TS_OK 0x0010u       /* timestamps were in use (RFC 7323) */
#define TW_BITS_AGE_SHIFT 5u        /* bits 5..15: TS.Recent age, below */
#define TW_TS_AGE_MAX 2047u

/* One TIME_WAIT record: 40 bytes, 4-byte aligned, no padding.
 * tuple.lport == 0 marks a tombstone (no live TCP port is 0: such segments
 * are dropped as tcp-bad-port before TCP sees them). */
struct tcpw_tw {
    struct tcpw_tuple tuple;  /* 12: the 4-tuple */
    uint32_t snd_nxt;         /* our SND.NXT (after our FIN) */
    uint32_t rcv_nxt;         /* RCV.NXT (after the peer's FIN) */
    uint32_t ts_recent;       /* TS.Recent, when TW_BITS_TS_OK */
    uint32_t ts_offset;       /* our timestamp clock's offset (RFC 7323 §5.4) */
    uint32_t expires_lo;      /* expiry, µs, bits 0..31 */
    uint32_t hnext;           /* next position in the hash chain, or TW_NIL */
    uint16_t rcv_wnd;         /* raw window field of the re-ACK */
    /* Expiry bits 32..35, TS_OK, and the age of TS.Recent in whole seconds
     * when the record last (re)started, saturating at TW_TS_AGE_MAX (34 min):
     * the age now is that plus the time since the (re)start, which the expiry
     * gives (start = expiry - 2MSL). Coarse on purpose: Linux keeps seconds
     * (tw_ts_recent_stamp) for the same two uses, "older than 1 s" for
     * tcp_tw_reuse and the 24-day PAWS idle rule (RFC 7323 §5.5). */
    uint16_t bits;
};

/* What a new record is made of (tcpw__tw_add). */
struct tcpw_tw_proto {
    struct tcpw_tuple tuple;
    uint32_t snd_nxt, rcv_nxt;
    uint32_t ts_recent, ts_offset;
    uint32_t ts_recent_age_s; /* age of TS.Recent now, seconds (saturated) */
    uint16_t rcv_wnd;
    bool ts_ok;
    /* 0: the record lives a full 2MSL from now. Otherwise its remaining
     * lifetime (clamped to 2MSL), for a record reloaded across a restart
     * (tcpw_tw_load): the record must then expire no earlier than every
     * record already in the table (the log is in expiry order), else
     * tcpw__tw_add returns -EINVAL. ts_recent_age_s is the age now, as
     * always. */
    uint64_t remaining_us;
};

struct tcpw_tw_table {
    /* The log: chunks[(chunk number) & chunk_mask], chunk number =
     * position >> TW_CHUNK_BITS. Chunks first_chunk .. first_chunk +
     * nchunks - 1 (modulo 2^(32 - TW_CHUNK_BITS)) are allocated. */
    struct tcpw_tw **chunks;
    uint32_t chunk_mask;
    uint32_t first_chunk, nchunks;
    uint32_t head, tail;   /* records at positions [head, tail) */
    uint32_t dead;         /* tombstones in [head, tail) */
    /* Compaction in progress (timewait.c, "compaction"): positions up to
     * crd are still to be read; (crd, cwr] is a gap of tombstones; live
     * records above cwr (up to where the log ended when it began) are
     * packed. */
    bool compacting;
    uint32_t crd, cwr;
    uint64_t count;        /* live records */
    /* The index: bucket heads, positions or TW_NIL. */
    uint32_t *buckets;
    uint32_t bucket_mask;
    /* While the index doubles: the old bucket array, whose buckets below
     * `migrated` have moved to `buckets` (each add moves a few more), so no
     * insert pays for rehashing the whole table; NULL otherwise. */
    uint32_t *old_buckets;
    uint32_t old_mask;
    uint32_t migrated;
    uint64_t lifetime_us;  /* 2MSL, or 3.5 x tcp_rto_min with tcp_tw_recycle:
                            * fixed, the config is immutable */
    struct tcpw_timer timer; /* armed for the head record's expiry */
    struct tcpw_stack *stack;
    /* RFC 9293 §3.4.3 quiet time (tcp_quiet_time): no connection opens
     * before this instant, µs of stack time; 0 when there is none. */
    uint64_t quiet_until;
    /* tcpw__log_ratelimited()'s state for "time wait bucket table
     * overflow". */
    uint64_t overflow_logged;
    /* tcp_tw_dest_quota: live records per destination (local address,
     * remote address, remote port), so that the quota is checked in O(1).
     * Entries of struct tcpw_tw_dest; a destination's entry goes with its
     * last record. Empty, with nothing allocated, while the quota is 0
     * (nothing is kept then). It does not shrink: its size follows the peak
     * number of destinations, which tcp_max_tw_buckets bounds. */
    struct tcpw_dest_map dests;
};

struct tcpw_tw_dest {
    struct tcpw_dest_entry dest; /* first: the map's part */
    uint32_t count;              /* live records, never 0 in the map */
};

/* Sets up the empty table. Returns 0, -ENOMEM, or -EINVAL when 2MSL does not
 * fit the record's expiry encoding (cannot happen with a validated config). */
int tcpw__tw_init(struct tcpw_stack *s);
/* Frees every record and the table's memory; counts nothing. */
void tcpw__tw_fini(struct tcpw_stack *s);

/* Replaces `c` (which has just reached TIME_WAIT) by a record and frees `c`.
 * At tcp_max_tw_buckets, tcp_tw_overflow_policy decides: 0 closes the
 * connection without TIME_WAIT (Linux; TCPTimeWaitOverflow), 1 evicts the
 * oldest record for it (FreeBSD before 14 / lwIP; TWEvicted). */
void tcpw__tw_enter(struct tcpw_conn *c);

/* Adds a record for p (whose tuple must not be in the table), expiring 2MSL
 * from now, with the overflow policy applied. Returns 0; -ENOBUFS when the
 * table is full and the policy refuses (counted TCPTimeWaitOverflow, and
 * logged at most once a second) or p's destination already holds
 * tcp_tw_dest_quota records (counted TWQuotaRefused, whatever the policy); or
 * -ENOMEM (also counted TCPTimeWaitOverflow: the connection goes without
 * TIME_WAIT either way). Evicting the oldest counts TWEvicted. Does not touch
 * connections or traces beyond the evicted record's TIME_WAIT => CLOSED. */
int tcpw__tw_add(struct tcpw_stack *s, const struct tcpw_tw_proto *p);

/* The record for a 4-tuple, or NULL. The pointer is valid until the next
 * change to the table (add, remove, restart, expiry). */
struct tcpw_tw *tcpw__tw_find(struct tcpw_stack *s, const struct tcpw_tuple *t);

/* Removes a record early (no counter: the caller counts why). */
void tcpw__tw_remove(struct tcpw_stack *s, struct tcpw_tw *tw);

/* tcp_tw_reuse (Linux's tcp_twsk_unique()): whether a new outgoing
 * connection may take over the 4-tuple `tw` holds. Needs tcp_tw_reuse = 1,
 * or 2 with a loopback (127/8) address on either side; timestamps on the
 * record (PAWS then rejects the old connection's duplicates, RFC 7323 §5);
 * and TS.Recent at least 1 s old. */
bool tcpw__tw_reusable(const struct tcpw_stack *s, const struct tcpw_tw *tw);
/* Whether tcp_tw_reuse may take records between these addresses over at
 * all (1, or 2 with a loopback address); the record's own conditions are
 * tcpw__tw_reusable's. */
bool tcpw__tw_reuse_applies(const struct tcpw_stack *s, uint32_t laddr, uint32_t raddr);

/* Takes over a record judged reusable for a new connection: returns the
 * ISS the new connection must use (Linux's write_seq rule, old SND.NXT +
 * 65535 + 2, never 0), counts TWRecycled, traces TIME_WAIT => CLOSED and
 * removes the record. `tw` is not valid after the call. */
uint32_t tcpw__tw_take_over(struct tcpw_stack *s, struct tcpw_tw *tw);

/* Restarts the 2MSL wait of a record (it moves to the tail of the log).
 * Returns the record's new address; `tw` is no longer valid. */
struct tcpw_tw *tcpw__tw_restart(struct tcpw_stack *s, struct tcpw_tw *tw);

/* A segment for a record (RFC 9293 §3.10.7.4 in TIME-WAIT). Returns true
 * when the segment was consumed; false when the record was removed to let a
 * new SYN through (RFC 6191) and the caller goes on to the listeners, with
 * *iss set to the ISS the new connection must use (Linux's tw_isn: the old
 * SND.NXT + 65535 + 2, never 0). `tw` is not valid after the call. */
bool tcpw__tw_input(struct tcpw_stack *s, struct tcpw_tw *tw, const struct tcpw_packet *p,
                    uint32_t *iss);

/* Absolute expiry of a record, µs of stack time. */
uint64_t tcpw__tw_expires(const struct tcpw_stack *s, const struct tcpw_tw *tw);
/* Remaining time of a record, µs. */
uint64_t tcpw__tw_remaining(const struct tcpw_stack *s, const struct tcpw_tw *tw);
/* Age of TS.Recent, whole seconds; a lower bound once the age at the
 * record's last (re)start had reached TW_TS_AGE_MAX. 0 without timestamps. */
uint32_t tcpw__tw_ts_recent_age_s(const struct tcpw_stack *s, const struct tcpw_tw *tw);

/* Bytes the table holds on the heap: chunks, chunk ring, buckets and the
 * tcp_tw_dest_quota map. */
size_t tcpw__tw_memory_bytes(const struct tcpw_stack *s);

/* RFC 9293 §3.4.3 quiet time. _start (at stack creation) begins an MSL of
 * quiet when tcp_quiet_time is set; _end stops it (a TIME_WAIT table was
 * loaded); tcpw__tw_quiet says whether it is still running at s->now. */
void tcpw__tw_quiet_start(struct tcpw_stack *s);
void tcpw__tw_quiet_end(struct tcpw_stack *s);
bool tcpw__tw_quiet(const struct tcpw_stack *s);

/* Visits the live records oldest (first to expire) first. fn returns
 * nonzero to stop; that value is returned, else 0. fn must not change the
 * table. */
int tcpw__tw_walk(const struct tcpw_stack *s, int (*fn)(void *user, const struct tcpw_tw *tw),
                  void *user);

#endif
