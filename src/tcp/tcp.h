/* tcp/ — what the stack layer calls into TCP (and ICMP) with, and the TCP
 * state a stack owns.
 *
 * The stack has validated the IPv4 header, the address policy and the
 * TCP/ICMP checksum before input is called; TCP never sees a malformed
 * packet.
 */
#ifndef TCPW_TCP_H
#define TCPW_TCP_H

#include "stack/stack_impl.h"
#include "tcp/hash.h"
#include "tcp/port_holds.h"
#include "tcp/ports.h"
#include "tcp/recycle.h"
#include "tcp/timewait.h"
#include "tcpwave/socket.h"
#include "wire/wire.h"

struct tcpw_sock;
struct tcpw_listener;

/* Everything TCP and the socket layer keep per stack. */
struct tcpw_tcp_state {
    uint8_t secret[16];                 /* keys hashes, ISNs and ports */
    struct tcpw_tuple_table conns;      /* live connections by 4-tuple */
    struct tcpw_tw_table tw;            /* TIME_WAIT records */
    struct tcpw_recycle_cache recycle;  /* tcp_tw_recycle per-peer TSvals */
    struct tcpw_listener *listeners;    /* singly linked */
    struct tcpw_port_picker ports;
    /* Local ports held by a bound (or listening) socket, one bit per port:
     * 8 KiB per stack, so connect()'s per-candidate check is O(1). One bit
     * suffices: bind() refuses a port another socket holds. */
    uint64_t bound_ports[65536 / 64];
    struct tcpw_port_holds holds;       /* ports held by connections / TIME_WAIT */
    uint64_t state_counts[TCPW_STATE_COUNT]; /* live connections per state */
    uint64_t orphans;                   /* connections the application closed */

    /* Socket descriptors: socks[fd], NULL when free. */
    struct tcpw_sock **socks;
    size_t nsocks;
    tcpw_event_fn event_fn;
    void *event_user;
    tcpw_state_trace_fn trace_fn;
    void *trace_user;
    tcpw_close_fn close_fn;
    void *close_user;
    /* ICMP error rate limit: a token bucket (Linux: icmp_msgs_per_sec 1000,
     * icmp_msgs_burst 50). */
    uint32_t icmp_tokens;
    uint64_t icmp_refill_at;
    struct tcpw_sock *wake_head;        /* sockets with readiness to report */
    bool dispatching;
};

/* Sets up the TCP state of a new stack. Returns 0 or -ENOMEM. */
int tcpw__tcp_init(struct tcpw_stack *s);
/* Frees the TCP state without sending anything. */
void tcpw__tcp_destroy(struct tcpw_stack *s);

/* One validated inbound TCP segment (RFC 9293 §3.10.7). */
void tcpw__tcp_input(struct tcpw_stack *s, const struct tcpw_packet *p);

/* One validated inbound ICMP message. */
void tcpw__icmp_input(struct tcpw_stack *s, const struct tcpw_packet *p);

/* Sends the reset RFC 9293 §3.10.7.1 prescribes in answer to `seg` when no
 * connection exists: if the segment has ACK, <SEQ=SEG.ACK><CTL=RST>;
 * otherwise <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Never answers a RST. */
void tcpw__tcp_send_reset_for(struct tcpw_stack *s, const struct tcpw_packet *p);

/* Answers a datagram of a protocol (or UDP port) nobody serves with ICMP
 * destination unreachable `code` (RFC 1122 §3.2.2.1), as Linux does:
 * protocol unreachable, or port unreachable for UDP. Rate-limited. */
void tcpw__icmp_send_unreach(struct tcpw_stack *s, const uint8_t *pkt, size_t len,
                             const struct tcpw_ipv4 *ip, uint8_t code);

/* Reports readiness changes to the application's callback; called at the
 * end of every stack entry point (api/events.c). */
void tcpw__dispatch_events(struct tcpw_stack *s);

#endif
