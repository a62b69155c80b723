/* Test support for protocol tests: one tcpwave stack under test and a
 * scripted peer that sends exact segments and reads exactly what the stack
 * sends back, like an expert reading a packet trace.
 *
 *   struct tt t; tt_init(&t, NULL);
 *   TT_SEND(&t, TCPW_SYN, 1000, 0, NULL, 0);
 *   TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, TT_ANY, 1001, 0);
 *
 * The stack is 10.0.0.1, the peer 10.0.0.2. Peer sequence numbers start
 * just below 2^32 in the fixtures so wrap bugs show.
 */
#ifndef TCPW_TEST_TCPTEST_H
#define TCPW_TEST_TCPTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "tcpwave/tcpwave.h"
#include "wire/wire.h"

#define TT_LOCAL 0x0a000001u
#define TT_PEER 0x0a000002u
#define TT_ANY 0xdeadbeefcafeULL /* matches any seq/ack value */
#define TT_MAX_QUEUE 512

struct tt_pkt {
    uint8_t *data;
    size_t len;
    uint64_t time;
};

struct tt {
    struct tcpw_stack *stack;
    uint64_t now;
    struct tt_pkt q[TT_MAX_QUEUE];
    size_t q_head, q_count;
    /* The connection being scripted. */
    uint16_t lport, pport;
    uint32_t peer_iss;   /* the peer's ISN */
    uint32_t local_iss;  /* the stack's ISN, learned from its SYN or SYN,ACK */
    uint32_t peer_ts;    /* the peer's timestamp clock (0: no timestamps) */
    uint32_t last_ts_val; /* the stack's last TSval seen */
    uint32_t peer_nxt;   /* the peer's next sequence number, kept by the fixtures */
    uint32_t local_nxt;  /* the stack's SND.NXT, kept by the fixtures */
    int fd;              /* the stack-side socket of the connection */
    int lfd;             /* listener, when the stack is passive */
    struct tcpw_packet last; /* last segment popped by tt_expect */
    /* The stack's SYN or SYN,ACK as the *_opts fixtures saw it. */
    struct tcpw_tcp_opts local_syn_opts;
    uint16_t local_syn_wnd;
    uint8_t last_buf[70000];
};

/* Creates the stack (config NULL = Linux defaults) at time 1 s. */
int tt_init(struct tt *t, const struct tcpw_config *cfg);
/* Frees everything; returns the number of unread stack segments. */
size_t tt_fini(struct tt *t);

/* Moves time forward by `us` (running the stack's timers). */
void tt_advance(struct tt *t, uint64_t us);
/* Runs time to the next stack deadline (if any, not beyond `limit` µs from
 * now) and returns the time advanced. */
uint64_t tt_run_to_deadline(struct tt *t, uint64_t limit);

/* Sends a segment from the peer to the stack. Options: peer_ts != 0 adds a
 * timestamp (TSecr = the stack's last TSval). `syn_opts` adds MSS 1460,
 * SACK-permitted and window scale 7 as Linux does on a SYN. */
int tt_send_full(struct tt *t, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd,
                 const void *data, size_t len, bool syn_opts);
int tt_send(struct tt *t, uint8_t flags, uint32_t seq, uint32_t ack, const void *data, size_t len);
/* Sends a segment carrying exactly `opts` (NULL: none), except that a
 * timestamp is added as tt_send_full adds one when t->peer_ts != 0 and
 * `opts` has none. */
int tt_send_opts(struct tt *t, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd,
                 const struct tcpw_tcp_opts *opts, const void *data, size_t len);
/* The options Linux puts on a SYN (what `syn_opts` adds): MSS 1460,
 * SACK-permitted, window scale 7. */
struct tcpw_tcp_opts tt_linux_syn_opts(void);

/* Pops the next segment the stack sent and compares flags, seq, ack and
 * payload length (TT_ANY matches anything). Prints both sides on mismatch.
 * On success t->last holds the parsed segment. */
bool tt_expect(struct tt *t, uint8_t flags, uint64_t seq, uint64_t ack, size_t len,
               const char *file, int line);
/* Asserts that the stack has sent nothing (after running time forward by
 * `us`). */
bool tt_expect_nothing(struct tt *t, uint64_t us, const char *file, int line);
/* Segments waiting to be read. */
size_t tt_pending(const struct tt *t);
/* Drops every waiting segment. */
void tt_drain(struct tt *t);

#define TT_EXPECT(t, flags, seq, ack, len)                                                         \
    do {                                                                                           \
        check_assertions++;                                                                        \
        if (!tt_expect((t), (flags), (seq), (ack), (len), __FILE__, __LINE__)) {                 \
            check_failures++;                                                                      \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define TT_EXPECT_NOTHING(t, us)                                                                   \
    do {                                                                                           \
        check_assertions++;                                                                        \
        if (!tt_expect_nothing((t), (us), __FILE__, __LINE__)) {                                   \
            check_failures++;                                                                      \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define TT_SEND(t, flags, seq, ack, data, len)                                                     \
    CHECK_EQ_I(tt_send((t), (flags), (seq), (ack), (data), (len)), 0)

/* SO_ERROR of fd (read and cleared), or -1 when the call fails. */
int tt_so_error(struct tt *t, int fd);
/* TCPW_SO_CLOSE_REASON of fd, or -1 when the call fails. */
int tt_close_reason(struct tt *t, int fd);
/* Connections of the stack in state st (TIME_WAIT records included). */
uint64_t tt_count_state(struct tt *t, enum tcpw_state st);

#define CHECK_STATE(t, fd, st) CHECK_STR(tcpw_state_name((enum tcpw_state)tcpw_sock_state((t)->stack, (fd))), tcpw_state_name(st))

/* --- per-state fixtures: each returns true when the state was reached by a
 * real exchange, asserting every packet on the way. Peer ISN = 0xfffffff0
 * (wraps after 16 bytes). --- */

/* Active open: the stack connects to the peer (port 80) and completes the
 * handshake. t->fd is the connected socket. */
bool tt_conn_established_active(struct tt *t);
/* Passive open: the stack listens on 80, the peer connects from 40000,
 * the stack accepts. t->fd is the accepted socket. */
bool tt_conn_established_passive(struct tt *t);
/* The same handshakes with the peer's SYN or SYN,ACK carrying `opts` (plus
 * a timestamp when t->peer_ts != 0) and window `wnd`. The active one uses
 * socket `fd` when it is >= 0 (already created and configured) and creates
 * one otherwise; the passive one listens on t->lfd when it is >= 0. The
 * stack's SYN or SYN,ACK is kept in t->local_syn_opts / local_syn_wnd; the
 * passive handshake's final ACK carries `wnd` too. */
bool tt_conn_established_active_opts(struct tt *t, int fd, const struct tcpw_tcp_opts *opts,
                                     uint16_t wnd);
bool tt_conn_established_passive_opts(struct tt *t, const struct tcpw_tcp_opts *opts,
                                      uint16_t wnd);
/* Active open whose ISS is `iss` (e.g. just below 2^32, so that the stack's
 * own sequence numbers wrap). The ISN is a 4 µs clock plus a per-tuple
 * constant (RFC 6528 §3): the fixture learns the constant from a first SYN
 * from local port 50000, deletes that attempt (close in SYN_SENT sends
 * nothing), moves time on until the clock gives `iss`, and connects again
 * from the same port. Time moves forward by up to 4.8 hours. */
bool tt_conn_established_active_iss(struct tt *t, uint32_t iss);
/* ESTABLISHED then the application closes: FIN sent, unacked. */
bool tt_conn_in_fin_wait_1(struct tt *t);
/* ... and the peer ACKs the FIN. */
bool tt_conn_in_fin_wait_2(struct tt *t);
/* ESTABLISHED then the peer's FIN arrives and is ACKed. */
bool tt_conn_in_close_wait(struct tt *t);
/* CLOSE_WAIT then the application closes: FIN sent. */
bool tt_conn_in_last_ack(struct tt *t);
/* FIN_WAIT_1 then the peer's own FIN (not acking ours) arrives. */
bool tt_conn_in_closing(struct tt *t);
/* FIN_WAIT_2 then the peer's FIN arrives: the stack is in TIME_WAIT. */
bool tt_conn_in_time_wait(struct tt *t);
/* The server side closes first: passive open, close(), our FIN, the peer's
 * ACK and FIN, our ACK: one TIME_WAIT record for 10.0.0.1:80 <->
 * 10.0.0.2:40000 (as with an HTTP server). Set t->peer_ts before the call
 * (0: no timestamps). */
bool tt_server_in_time_wait(struct tt *t);

#define TT_PEER_ISS 0xfffffff0u

/* Puts a TIME_WAIT record for 4-tuple u straight into the table (what a
 * connection reaching TIME_WAIT would leave): SND.NXT = the local port,
 * RCV.NXT 2, window 100; with ts, timestamps on the stack's own clock
 * (tcpw__ts_offset) and a TS.Recent 5 s old, so tcp_tw_reuse may take it
 * over. Returns tcpw__tw_add's result. */
struct tcpw_tuple;
int tt_tw_add(struct tcpw_stack *s, const struct tcpw_tuple *u, bool ts);

#endif
