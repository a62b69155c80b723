/* tcp/ — the transmission control block (RFC 9293 §3.3.1) and what the
 * tcp/ files share about it.
 *
 * A connection lives in the stack's connection table from the moment it
 * leaves CLOSED until it reaches CLOSED again or enters TIME_WAIT, where it
 * is replaced by a compact record (tcp/timewait.h) and freed.
 */
#ifndef TCPW_CONN_H
#define TCPW_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "stack/stack_impl.h"
#include "tcp/buffer.h"
#include "tcp/cc.h"
#include "tcp/hash.h"
#include "tcp/rtt.h"
#include "tcp/seq.h"
#include "tcpwave/socket.h"
#include "wire/wire.h"

struct tcpw_sock;
struct tcpw_listener;

/* RFC 7323 §2.3: the largest window shift. */
#define TCPW_MAX_WSCALE 14u
/* RFC 9293 §3.7.1: the MSS assumed when the peer sends none (536 + 40 = 576). */
#define TCPW_DEFAULT_MSS 536u
/* RFC 5681 §4.2: ACK at least every second full-sized segment. */
#define TCPW_DELACK_SEGMENTS 2u

struct tcpw_conn {
    struct tcpw_tuple_node node; /* in tcp.conns, keyed by the 4-tuple */
    struct tcpw_stack *stack;
    struct tcpw_sock *sock;          /* NULL: orphaned, or not yet accepted */
    struct tcpw_listener *listener;  /* passive open not yet accepted */
    struct tcpw_conn *accept_next;   /* accept queue link */
    enum tcpw_state state;
    bool passive;         /* created by a listener (RFC 9293 §3.10.7.4 SYN-RECEIVED RST) */
    bool in_accept_queue;

    /* Send sequence space (RFC 9293 §3.3.1 Figure 3). snd_max is the
     * highest sequence ever sent: after a timeout snd_nxt goes back to
     * snd_una (go-back-N) and segments below snd_max are retransmissions. */
    uint32_t iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2;
    uint32_t snd_wnd;     /* bytes, already scaled */
    uint32_t max_snd_wnd; /* largest window the peer offered (RFC 5961 §5.2) */
    /* Receive sequence space (Figure 4). rcv_adv is the right edge we last
     * advertised; the window is never shrunk below it (RFC 9293 §3.8.6.2.2). */
    uint32_t irs, rcv_nxt, rcv_adv;

    uint16_t mss;          /* what we send per segment (peer's MSS, clamped to ours) */
    uint16_t adv_mss;      /* what we advertised */
    uint8_t snd_wscale;    /* peer's shift, applied to windows we receive */
    uint8_t rcv_wscale;    /* our shift, applied to windows we send */
    bool wscale_ok, ts_ok, sack_ok;

    /* RFC 7323 timestamps. */
    uint32_t ts_offset;      /* random per connection (RFC 7323 §5.4) */
    uint32_t ts_recent;      /* TS.Recent */
    uint64_t ts_recent_age;  /* stack time when TS.Recent was set, µs */
    uint32_t last_ack_sent;  /* Last.ACK.sent (RFC 7323 §4.3) */

    /* Closing. */
    bool fin_queued;         /* the application asked for FIN after the queued data */
    uint32_t fin_seq;        /* sequence number of our FIN, once queued */
    bool fin_rcvd;           /* the peer's FIN is in (RCV.NXT is past it) */
    bool fin_ooo;            /* a FIN arrived ahead of missing data */
    uint32_t fin_ooo_seq;    /* its sequence number */
    bool rd_shut;            /* no more data is wanted: SHUT_RD or close() */

    /* Timers (intrusive; tcp/timer.c). */
    struct tcpw_timer rtx_timer;     /* retransmission, SYN retransmission, zero-window probe */
    struct tcpw_timer delack_timer;
    struct tcpw_timer state_timer;   /* orphan FIN_WAIT_2 (tcp_fin_timeout) */

    struct tcpw_rtt rtt;
    struct tcpw_cc cc;
    bool rtt_timing;         /* measuring one segment without timestamps (Karn) */
    uint32_t rtt_seq;
    uint64_t rtt_start;
    uint32_t retransmits;    /* consecutive timeouts of the current series */
    uint64_t retrans_stamp;  /* when the current retransmission series began */
    uint64_t total_retrans;
    bool probing;            /* the rtx timer is the zero-window persist timer */
    uint32_t dupacks;

    uint32_t ack_pending;    /* segments received and not yet acknowledged */
    bool ack_now;            /* an ACK must go out at the end of this input */

    struct tcpw_sndbuf snd;
    struct tcpw_rcvbuf rcv;
    bool nodelay;

    int error;               /* pending error for the application (positive errno) */

    /* Why it ends (tcpw_close_reason), set where the cause is known; orderly
     * ends are derived from who sent the first FIN. */
    uint8_t reason;
    bool peer_fin_first;     /* the peer's FIN came before we queued ours */
    bool simultaneous;       /* passed through CLOSING */

    /* Keepalive (RFC 1122 §4.2.3.6) and SO_LINGER. */
    struct tcpw_timer keepalive_timer;
    struct tcpw_timer linger_timer;
    uint64_t last_rcv;       /* stack time of the last segment received */
    uint32_t ka_probes;      /* unanswered keepalive probes */
    /* RFC 1122 §4.2.3.9 soft error from ICMP (positive errno): reported
     * instead of ETIMEDOUT if the connection later times out. */
    int soft_error;
};

/* --- tcp/state.c --- */
/* The one place a state changes: counts and traces "A => B". */
void tcpw__set_state(struct tcpw_conn *c, enum tcpw_state st);
/* RFC 9293 §3.3.2: states in which our side may still send data. */
bool tcpw__state_can_send(enum tcpw_state st);
/* States in which data from the peer is still accepted. */
bool tcpw__state_can_receive(enum tcpw_state st);
/* States in which the connection is synchronized (past the handshake). */
bool tcpw__state_synchronized(enum tcpw_state st);

/* --- tcp/conn.c --- */
/* Creates a connection for `tuple` in CLOSED, with buffers of the given
 * sizes, inserted in the table. Returns NULL on allocation failure. */
struct tcpw_conn *tcpw__conn_create(struct tcpw_stack *s, const struct tcpw_tuple *tuple,
                                    size_t sndbuf, size_t rcvbuf);
/* Removes the connection from every table and queue, cancels its timers,
 * detaches its socket (which keeps `error`), and frees it. */
void tcpw__conn_destroy(struct tcpw_conn *c);
/* Ends the connection with `err` (positive errno, 0 for an orderly end):
 * CLOSED, error reported to the socket, connection freed. */
void tcpw__conn_done(struct tcpw_conn *c, int err);
/* Records why the connection ends (socket, lingering close) and emits the
 * close event; `time_wait` when a TIME_WAIT record takes its place. */
void tcpw__conn_report_end(struct tcpw_conn *c, int err, bool time_wait);
/* Our MSS: the MTU less IPv4 and TCP headers (RFC 9293 §3.7.1), clamped by
 * TCP_MAXSEG (`maxseg`, 0 for none). */
uint16_t tcpw__our_mss(const struct tcpw_stack *s, uint32_t maxseg);
/* The window shift to ask for: enough for the receive buffer (RFC 7323
 * §2.3), at most 14. */
uint8_t tcpw__wscale_for(size_t rcvbuf);
/* Looks up a connection by 4-tuple. */
struct tcpw_conn *tcpw__conn_find(struct tcpw_stack *s, const struct tcpw_tuple *t);

/* The RFC 7323 §5.4 timestamp offset of every connection between laddr and
 * raddr: keyed by the address pair, 0 with tcp_timestamps = 2. */
uint32_t tcpw__ts_offset(const struct tcpw_stack *s, uint32_t laddr, uint32_t raddr);
/* Bytes sent and not yet acknowledged (sequence space, SYN/FIN included). */
static inline uint32_t tcpw__conn_flight(const struct tcpw_conn *c)
{
    return c->snd_nxt - c->snd_una;
}
/* First sequence number of data: SND.UNA, or ISS+1 while the SYN is unacked. */
static inline uint32_t tcpw__data_start(const struct tcpw_conn *c)
{
    return c->snd_una == c->iss ? c->iss + 1 : c->snd_una;
}
/* Sequence number just past the buffered data (where FIN goes). */
static inline uint32_t tcpw__data_end(const struct tcpw_conn *c)
{
    return tcpw__data_start(c) + (uint32_t)c->snd.len;
}
static inline bool tcpw__fin_sent(const struct tcpw_conn *c)
{
    return c->fin_queued && seq_gt(c->snd_max, c->fin_seq);
}
static inline bool tcpw__fin_acked(const struct tcpw_conn *c)
{
    return c->fin_queued && seq_gt(c->snd_una, c->fin_seq);
}
/* Data bytes in a full-sized segment: the MSS less the options every
 * segment carries (RFC 9293 §3.7.1: SendMSS excludes the TCP options; the
 * timestamp option takes 12 bytes with its NOP padding). */
static inline uint32_t tcpw__seg_size(const struct tcpw_conn *c)
{
    return c->mss - (c->ts_ok ? 12u : 0u);
}
/* Tells the socket its readiness may have changed. */
void tcpw__conn_wake(struct tcpw_conn *c);
/* Our timestamp clock (RFC 7323 §5.4): 1 ms ticks plus a random offset. */
uint32_t tcpw__ts_now(const struct tcpw_conn *c);

/* --- tcp/output.c --- */
/* Sends what the windows allow: new data, FIN, and a pending ACK. */
void tcpw__output(struct tcpw_conn *c);
/* Sends one ACK now (with timestamps and SACK as negotiated). */
void tcpw__send_ack(struct tcpw_conn *c);
/* Sends SYN (SYN_SENT) or SYN,ACK (SYN_RECEIVED) with our options. */
void tcpw__send_syn(struct tcpw_conn *c);
/* Sends a window probe / keepalive: <SEQ=SND.UNA-1><ACK=RCV.NXT>, no data. */
void tcpw__send_probe(struct tcpw_conn *c);
/* Sends <SEQ=SND.NXT><CTL=RST> (RFC 9293 §3.10.4 ABORT, §3.10.7.4). */
void tcpw__send_rst(struct tcpw_conn *c);
/* Retransmits the first unacknowledged segment (or SYN / FIN); returns the
 * sequence space it covers. */
uint32_t tcpw__retransmit_first(struct tcpw_conn *c);
/* The receive window to advertise now, in bytes (before scaling). */
uint32_t tcpw__rcv_window(const struct tcpw_conn *c);
/* Sends the segment carrying sequence `seq` with up to `len` data bytes
 * and `flags` (FIN added by the caller's flags). Used by output and tests
 * of retransmission. Returns the sequence space consumed. */
uint32_t tcpw__send_segment(struct tcpw_conn *c, uint32_t seq, uint32_t len, uint8_t flags);

/* --- tcp/timer.c --- */
void tcpw__timers_init(struct tcpw_conn *c);
void tcpw__timers_cancel(struct tcpw_conn *c);
/* Arms the retransmission timer for the current RTO if data or SYN/FIN is
 * outstanding; cancels it when nothing is (RFC 6298 §5.1–5.3). */
void tcpw__rtx_timer_update(struct tcpw_conn *c, bool restart);
/* Schedules a delayed ACK (RFC 9293 §3.8.6.3). */
void tcpw__delack_schedule(struct tcpw_conn *c);

/* --- tcp/input.c --- */
/* Moves a passive connection that became ESTABLISHED to its listener's
 * accept queue. */
void tcpw__conn_established_passive(struct tcpw_conn *c);

/* --- keepalive, linger (tcp/timer.c) --- */
/* (Re)starts the keepalive timer when the socket asked for it. */
void tcpw__keepalive_update(struct tcpw_conn *c);
/* A segment arrived: the peer is alive. */
static inline void tcpw__conn_heard(struct tcpw_conn *c, uint64_t now)
{
    c->last_rcv = now;
    c->ka_probes = 0;
}

/* --- tcp/close.c --- */
/* The application closes or shuts down for writing: queue FIN after the
 * data and move to FIN_WAIT_1 / LAST_ACK (RFC 9293 §3.10.4). */
void tcpw__conn_shutdown_write(struct tcpw_conn *c);
/* ABORT (RFC 9293 §3.10.5): RST if synchronized, then CLOSED with `err`. */
void tcpw__conn_abort(struct tcpw_conn *c, int err);

#endif
