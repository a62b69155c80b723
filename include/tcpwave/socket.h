/* tcpwave — the BSD-socket-like API.
 *
 * Sockets are small integers local to one stack. Every call is
 * non-blocking and returns a negative errno on failure (tcpw_strerror()
 * explains). Calls act at the stack's current time: the time of the last
 * tcpw_stack_input()/tcpw_stack_advance(); a driver that wants exact
 * timing calls tcpw_stack_advance(stack, now) before acting.
 *
 * Completion and readiness are reported two ways: tcpw_poll() answers
 * "what is ready now", and an event callback (tcpw_set_event_fn) is told
 * whenever a socket's readiness changes. Callbacks run after the stack has
 * finished processing the packet or timer that caused them, so they may call
 * any function of this API.
 */
#ifndef TCPWAVE_SOCKET_H
#define TCPWAVE_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tcpwave/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 9293 §3.3.2 states, named as the RFC names them. */
enum tcpw_state {
    TCPW_CLOSED,
    TCPW_LISTEN,
    TCPW_SYN_SENT,
    TCPW_SYN_RECEIVED,
    TCPW_ESTABLISHED,
    TCPW_FIN_WAIT_1,
    TCPW_FIN_WAIT_2,
    TCPW_CLOSE_WAIT,
    TCPW_CLOSING,
    TCPW_LAST_ACK,
    TCPW_TIME_WAIT,
    TCPW_STATE_COUNT
};

/* "ESTABLISHED", "FIN_WAIT_1", ... (static; "?" out of range). */
const char *tcpw_state_name(enum tcpw_state st);

/* Readiness bits, with poll(2)'s meanings. */
enum {
    TCPW_POLLIN = 0x01,    /* recv would not block: data, EOF, or a connection to accept */
    TCPW_POLLOUT = 0x04,   /* send would not block (connected and buffer space) */
    TCPW_POLLERR = 0x08,   /* a pending error (read it with TCPW_SO_ERROR) */
    TCPW_POLLHUP = 0x10,   /* both directions are shut: no more data either way */
    TCPW_POLLRDHUP = 0x2000, /* the peer sent FIN (recv will return 0 after the data) */
};

/* Called when socket `fd` may have new readiness `events` (TCPW_POLL*).
 * Runs after packet/timer processing, never from inside it. */
typedef void (*tcpw_event_fn)(void *user, struct tcpw_stack *stack, int fd, unsigned events);

/* Installs (or removes, with NULL) the event callback. Never allocates. */
void tcpw_set_event_fn(struct tcpw_stack *stack, tcpw_event_fn fn, void *user);

/* Creates a TCP socket. Returns its descriptor (>= 0) or -ENOMEM /
 * -EMFILE. Allocates; release with tcpw_close(). */
int tcpw_socket(struct tcpw_stack *stack);

/* Binds to the stack's address (addr 0 or the stack's own) and `port`
 * (0: an ephemeral port). Errors: -EBADF, -EINVAL (already bound, or addr
 * not ours), -EADDRINUSE (a socket holds the port; for a listener without
 * TCPW_SO_REUSEADDR, TIME_WAIT records on the port also count),
 * -EADDRNOTAVAIL (no ephemeral port left). */
int tcpw_bind(struct tcpw_stack *stack, int fd, uint32_t addr, uint16_t port);

/* Starts listening; backlog is clamped to [1, somaxconn] like Linux.
 * Errors: -EBADF, -EINVAL (connected), -EADDRINUSE. */
int tcpw_listen(struct tcpw_stack *stack, int fd, int backlog);

/* Takes an established connection from a listener's queue. Returns the new
 * descriptor and fills *addr and *port (either may be NULL), -EAGAIN when the
 * queue is empty, -EBADF, -EINVAL (not listening). Allocates. */
int tcpw_accept(struct tcpw_stack *stack, int fd, uint32_t *addr, uint16_t *port);

/* Starts an active open toward addr:port; binds an ephemeral port when the
 * socket is unbound. Returns -EINPROGRESS (completion is reported as
 * TCPW_POLLOUT, or TCPW_POLLERR with TCPW_SO_ERROR = ECONNREFUSED /
 * ETIMEDOUT / ...), -EISCONN, -EALREADY, -EADDRNOTAVAIL, -EINVAL, -EBADF.
 * May allocate. */
int tcpw_connect(struct tcpw_stack *stack, int fd, uint32_t addr, uint16_t port);

/* Queues data. Returns bytes taken (may be fewer than len), -EAGAIN (buffer
 * full, or still connecting), -EPIPE (this side shut down for writing, or
 * the connection is gone), -ENOTCONN, a pending error (-ECONNRESET,
 * -ETIMEDOUT, ...; reported once, then -EPIPE), -EBADF. tcpwave raises no
 * SIGPIPE: -EPIPE is the whole report (as with MSG_NOSIGNAL). */
ssize_t tcpw_send(struct tcpw_stack *stack, int fd, const void *buf, size_t len);

/* Flags for tcpw_recv. */
enum { TCPW_MSG_PEEK = 0x02 };

/* Reads data. Returns bytes read, 0 at end of stream (the peer's FIN was
 * read, or SHUT_RD), -EAGAIN when nothing is there yet, a pending error
 * (-ECONNRESET, -ETIMEDOUT, ...), -ENOTCONN, -EBADF. Reading opens the
 * receive window and may send a window update. */
ssize_t tcpw_recv(struct tcpw_stack *stack, int fd, void *buf, size_t len, int flags);

enum { TCPW_SHUT_RD = 0, TCPW_SHUT_WR = 1, TCPW_SHUT_RDWR = 2 };

/* Half or full shutdown. SHUT_WR sends FIN after the queued data
 * (ESTABLISHED -> FIN_WAIT_1, CLOSE_WAIT -> LAST_ACK). SHUT_RD discards
 * unread and future data locally, as Linux does. Errors: -ENOTCONN, -EINVAL,
 * -EBADF. */
int tcpw_shutdown(struct tcpw_stack *stack, int fd, int how);

/* Releases the descriptor. The connection, if any, goes on as an orphan:
 * queued data is sent, then FIN (RFC 9293 §3.10.4), unless unread data was
 * pending, in which case a RST is sent instead (RFC 2525 §2.17,
 * TCPAbortOnClose). Returns 0 or -EBADF.
 *
 * SO_LINGER changes this:
 * - l_onoff, l_linger = 0: the send queue is discarded and the connection
 *   reset at once in the states that need it (as Linux's tcp_disconnect():
 *   ESTABLISHED, SYN_RECEIVED, FIN_WAIT_1/2, CLOSE_WAIT); no TIME_WAIT on
 *   either side. TCPAbortOnLinger counts it. Returns 0.
 * - l_onoff, l_linger > 0: the close is graceful but the descriptor stays
 *   until it completes: tcpw_close returns -EINPROGRESS, the close event and
 *   TCPW_POLLHUP tell when all data and the FIN are acknowledged, and
 *   tcpw_close_status() says how it ended. If l_linger seconds pass first,
 *   the connection is reset (tcpwave's choice, like BSD's hard close; Linux
 *   returns and finishes in the background) and the status is -ETIMEDOUT.
 *   Calling tcpw_close again then releases the descriptor and returns that
 *   status. */
int tcpw_close(struct tcpw_stack *stack, int fd);

/* The state of a lingering close: -EINPROGRESS while waiting, 0 once all
 * data and the FIN were acknowledged, -ETIMEDOUT when the linger time ran
 * out (RST sent), another negative errno when the connection failed; -EBADF
 * for a bad descriptor, -EINVAL when no lingering close was started. */
int tcpw_close_status(struct tcpw_stack *stack, int fd);

/* Blocking close for programs that want close() to wait: starts the close
 * and calls `drive(user)` (which must move time and packets forward, e.g.
 * one simulator step or one event-loop turn) until it completes, then
 * releases the descriptor. Returns the final status as tcpw_close_status,
 * or -EIO when drive returns non-zero (it gave up). */
int tcpw_close_blocking(struct tcpw_stack *stack, int fd, int (*drive)(void *user), void *user);

/* Readiness now (TCPW_POLL* bits); 0 for a bad descriptor. */
unsigned tcpw_poll(struct tcpw_stack *stack, int fd);

/* State of the socket's connection (TCPW_CLOSED when none), or -EBADF. */
int tcpw_sock_state(struct tcpw_stack *stack, int fd);

/* Local and remote address of a socket. Errors: -EBADF, -ENOTCONN
 * (getpeername without a peer). */
int tcpw_getsockname(struct tcpw_stack *stack, int fd, uint32_t *addr, uint16_t *port);
int tcpw_getpeername(struct tcpw_stack *stack, int fd, uint32_t *addr, uint16_t *port);

/* Why a connection ended ("why did my connection die?"). Readable with
 * TCPW_SO_CLOSE_REASON while the descriptor lives, and carried by the
 * close event for every connection, orphans included. */
enum tcpw_close_reason {
    TCPW_REASON_NONE = 0,             /* not ended (yet) */
    TCPW_REASON_LOCAL_FIN_FIRST,      /* orderly; this side sent the first FIN */
    TCPW_REASON_PEER_FIN_FIRST,       /* orderly; the peer sent the first FIN */
    TCPW_REASON_SIMULTANEOUS_CLOSE,   /* orderly; the FINs crossed (CLOSING) */
    TCPW_REASON_RESET_RECEIVED,       /* the peer sent RST (ECONNRESET / EPIPE) */
    TCPW_REASON_REFUSED,              /* RST in answer to our SYN (ECONNREFUSED) */
    TCPW_REASON_UNREAD_DATA,          /* we reset: closed with unread data (TCPAbortOnClose) */
    TCPW_REASON_DATA_AFTER_CLOSE,     /* we reset: data for a closed socket (TCPAbortOnData) */
    TCPW_REASON_LINGER_ABORT,         /* we reset: SO_LINGER with l_linger = 0 */
    TCPW_REASON_LINGER_TIMEOUT,       /* we reset: SO_LINGER time ran out */
    TCPW_REASON_CONNECT_TIMEOUT,      /* SYN retransmissions exhausted (ETIMEDOUT) */
    TCPW_REASON_RETRANSMIT_TIMEOUT,   /* data/FIN retransmissions exhausted (ETIMEDOUT) */
    TCPW_REASON_KEEPALIVE_TIMEOUT,    /* keepalive probes unanswered (ETIMEDOUT) */
    TCPW_REASON_USER_TIMEOUT,         /* TCP_USER_TIMEOUT passed (ETIMEDOUT) */
    TCPW_REASON_ICMP_ERROR,           /* a hard ICMP error */
    TCPW_REASON_ORPHAN_FIN_TIMEOUT,   /* orphan in FIN_WAIT_2 past tcp_fin_timeout */
    TCPW_REASON_ORPHAN_OVERFLOW,      /* reset: more than tcp_max_orphans (TCPAbortOnMemory) */
    TCPW_REASON_TIME_WAIT_OVERFLOW,   /* closed without TIME_WAIT: tcp_max_tw_buckets */
    TCPW_REASON_ABORTED,              /* the application abandoned it (close in SYN_SENT,
                                         listener closed with it unaccepted) */
    TCPW_REASON_HALF_OPEN_DROPPED,    /* a passive open that never completed */
    TCPW_REASON_COUNT
};

/* "local-fin-first", "reset-received", ... (static; "?" out of range). */
const char *tcpw_close_reason_name(enum tcpw_close_reason r);

/* What the close event reports. */
struct tcpw_close_info {
    int fd;                        /* the descriptor, or -1 for an orphan / unaccepted one */
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    enum tcpw_close_reason reason;
    int error;                     /* positive errno the application is given, or 0 */
    bool time_wait;                /* the stack keeps a TIME_WAIT record for the 4-tuple */
};

/* Called once for every connection that ends, orphans included, inside the
 * stack (it must not call the stack back). `info` is valid during the call. */
typedef void (*tcpw_close_fn)(void *user, const struct tcpw_close_info *info);

/* Installs (or removes, with NULL) the close event. Never allocates. */
void tcpw_set_close_fn(struct tcpw_stack *stack, tcpw_close_fn fn, void *user);

/* Socket options. Values are int unless said otherwise. */
enum tcpw_sockopt {
    TCPW_SO_ERROR = 1,     /* get: pending error as a positive errno, cleared by reading */
    TCPW_SO_REUSEADDR,     /* bind a listener on a port TIME_WAIT records still hold */
    TCPW_SO_SNDBUF,        /* send buffer bytes (set before connect/listen) */
    TCPW_SO_RCVBUF,        /* receive buffer bytes (set before connect/listen) */
    TCPW_SO_KEEPALIVE,
    TCPW_TCP_NODELAY,      /* 1: no Nagle (RFC 896) */
    TCPW_TCP_MAXSEG,       /* get: the MSS in use; set: clamp before connect */
    TCPW_TCP_KEEPIDLE,     /* seconds */
    TCPW_TCP_KEEPINTVL,    /* seconds */
    TCPW_TCP_KEEPCNT,
    TCPW_TCP_USER_TIMEOUT, /* ms, RFC 5482 */
    TCPW_SO_LINGER,        /* struct tcpw_linger */
    TCPW_SO_CLOSE_REASON,  /* get: enum tcpw_close_reason of the connection's end */
};

struct tcpw_linger {
    int l_onoff;
    int l_linger; /* seconds */
};

/* Sets an option. Errors: -EBADF, -ENOPROTOOPT (unknown), -EINVAL (bad
 * value or size), -EISCONN (buffer sizes after the connection started). */
int tcpw_setsockopt(struct tcpw_stack *stack, int fd, int opt, const void *val, size_t len);

/* Gets an option into val (*len in: its size; out: the bytes written).
 * Errors as tcpw_setsockopt. */
int tcpw_getsockopt(struct tcpw_stack *stack, int fd, int opt, void *val, size_t *len);

/* Connection details for tools and tests (like Linux's struct tcp_info). */
struct tcpw_conn_info {
    enum tcpw_state state;
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    uint32_t iss, irs, snd_una, snd_nxt, rcv_nxt;
    uint32_t snd_wnd, rcv_wnd;   /* bytes */
    uint32_t mss;
    uint8_t snd_wscale, rcv_wscale;
    bool ts_ok, sack_ok;
    uint32_t srtt_us, rto_us;
    uint32_t cwnd, ssthresh;     /* bytes */
    uint32_t unacked, unsent;    /* bytes in the send buffer */
    uint32_t readable;           /* bytes waiting for recv */
    uint32_t retransmits;        /* consecutive timeouts now */
    uint64_t total_retrans;
    bool orphan;                 /* the application has closed it */
};

/* Fills *info for the socket's connection. Errors: -EBADF, -ENOTCONN. */
int tcpw_conn_info(struct tcpw_stack *stack, int fd, struct tcpw_conn_info *info);

/* Called on every state change of every connection of the stack, inside
 * the stack (it must not call the stack back): the 4-tuple and the states
 * RFC 9293 names, e.g. FIN_WAIT_1 => TIME_WAIT. TIME_WAIT records report
 * TIME_WAIT => CLOSED when their 2MSL ends. */
typedef void (*tcpw_state_trace_fn)(void *user, uint32_t laddr, uint16_t lport, uint32_t raddr,
                                    uint16_t rport, enum tcpw_state from, enum tcpw_state to);

/* Installs (or removes, with NULL) the state trace. Never allocates. */
void tcpw_set_state_trace(struct tcpw_stack *stack, tcpw_state_trace_fn fn, void *user);

/* Number of connections by state, TIME_WAIT records included, orphans too. */
void tcpw_state_counts(const struct tcpw_stack *stack, uint64_t counts[TCPW_STATE_COUNT]);


/* One entry of tcpw_conn_foreach(): a live connection or a listener, as
 * `ss -tan -o` shows it. A copy; it owns nothing. */
enum tcpw_conn_timer {
    TCPW_TIMER_NONE,      /* no timer that ss would show */
    TCPW_TIMER_ON,        /* retransmission (SYN, data or FIN): ss "on" */
    TCPW_TIMER_PERSIST,   /* zero-window probe: ss "persist" */
    TCPW_TIMER_KEEPALIVE, /* keepalive: ss "keepalive" */
    TCPW_TIMER_TIMEWAIT,  /* orphan FIN_WAIT_2 (tcp_fin_timeout): ss "timewait", as Linux */
};

struct tcpw_conn_entry {
    enum tcpw_state state; /* TCPW_LISTEN for a listener */
    uint32_t laddr, raddr; /* host byte order; a listener: laddr 0 = any, raddr 0 */
    uint16_t lport, rport; /* host byte order; a listener: rport 0 */
    /* ss's Recv-Q/Send-Q. A connection: bytes received and not yet read by
     * the application / bytes in the send buffer (unacknowledged + unsent).
     * A listener: connections waiting for accept() / the backlog. */
    uint32_t recv_q, send_q;
    int fd;      /* the application's socket descriptor, or -1 (orphan, not yet accepted) */
    bool orphan; /* the application has closed it; the stack finishes the close alone */
    /* The timer ss -o would show: its kind, the time left (0 when due) and
     * the count ss prints third (retransmissions, or keepalive probes). */
    enum tcpw_conn_timer timer;
    uint64_t timer_remaining_us;
    uint32_t timer_count;
};

/* Called once per entry; `entry` is valid only during the call. Return 0 to
 * go on, nonzero to stop the walk. The callback must not change the stack
 * (no socket calls, no input/advance): the walk reads the tables in place. */
typedef int (*tcpw_conn_visit_fn)(void *user, const struct tcpw_conn_entry *entry);

/* Calls fn(user, entry) for every listener, then every live connection:
 * orphans, connections not yet accepted and handshakes in progress included,
 * each exactly once, in no particular order. TIME_WAIT records are not
 * connections: walk them with tcpw_tw_foreach() (tcpwave/timewait.h).
 * Remaining times are relative to the stack's current time. Returns 0 after
 * the last entry, the callback's nonzero value if it stopped the walk, or
 * -EINVAL for a NULL stack or fn. Never allocates; O(connections + table
 * buckets + listeners). */
int tcpw_conn_foreach(const struct tcpw_stack *stack, tcpw_conn_visit_fn fn, void *user);

#ifdef __cplusplus
}
#endif
#endif
