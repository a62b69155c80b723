/* tcp/ — TIME_WAIT as its own compact record (DESIGN.md).
 *
 * RFC 9293 §3.10.7.4 (TIME-WAIT processing), RFC 1337 (ignore RST in
 * TIME-WAIT), RFC 6191 (accepting a new SYN), RFC 9293 §3.4.2 / §3.6 (2MSL).
 *
 * When a connection enters TIME_WAIT its full control block is freed and a
 * record holding only what TIME_WAIT needs takes its place. Every record
 * lives exactly 2MSL from its last restart, so the records form a FIFO in
 * expiry order: expiry is O(1) from the head with one wheel timer for the
 * whole table, and a restart (a retransmitted FIN) moves a record to the tail.
 */
#ifndef TCPW_TIMEWAIT_H
#define TCPW_TIMEWAIT_H

#include <stdbool.h>
#include <stdint.h>

#include "stack/timer_wheel.h"
#include "tcp/hash.h"

struct tcpw_stack;
struct tcpw_conn;
struct tcpw_packet;

struct tcpw_tw {
    struct tcpw_tuple_node node;  /* in the table, by 4-tuple */
    struct tcpw_tw *older, *newer; /* the expiry FIFO */
    uint64_t expires;             /* µs */
    uint32_t snd_nxt;             /* our SND.NXT (after our FIN) */
    uint32_t rcv_nxt;             /* RCV.NXT (after the peer's FIN) */
    uint32_t ts_recent;           /* TS.Recent, when ts_ok */
    uint32_t ts_offset;           /* our timestamp clock's offset */
    uint32_t ts_recent_age_s;     /* when TS.Recent was set, seconds of stack time */
    uint16_t rcv_wnd;             /* raw window field of the re-ACK */
    bool ts_ok;
};

struct tcpw_tw_table {
    struct tcpw_tuple_table map;
    struct tcpw_tw *oldest, *newest;
    uint64_t count;
    struct tcpw_timer timer;      /* armed for the oldest record's expiry */
    struct tcpw_stack *stack;
};

int tcpw__tw_init(struct tcpw_stack *s);
void tcpw__tw_fini(struct tcpw_stack *s);

/* Replaces `c` (which has just reached TIME_WAIT) by a record and frees
 * `c`. When the table is full the connection is simply destroyed and
 * counted (TCPTimeWaitOverflow), as Linux does. */
void tcpw__tw_enter(struct tcpw_conn *c);

/* The record for a 4-tuple, or NULL. */
struct tcpw_tw *tcpw__tw_find(struct tcpw_stack *s, const struct tcpw_tuple *t);

/* A segment for a record (RFC 9293 §3.10.7.4 in TIME-WAIT). Returns true
 * when the segment was consumed; false when the record was removed to let a
 * new SYN through (RFC 6191) and the caller goes on to the listeners. */
bool tcpw__tw_input(struct tcpw_stack *s, struct tcpw_tw *tw, const struct tcpw_packet *p);

/* Remaining time of a record, µs. */
uint64_t tcpw__tw_remaining(const struct tcpw_stack *s, const struct tcpw_tw *tw);

#endif
