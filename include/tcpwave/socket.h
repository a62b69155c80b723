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
 * TCPAbortOnClose). Returns 0 or -EBADF. */
int tcpw_close(struct tcpw_stack *stack, int fd);

/* Readiness now (TCPW_POLL* bits); 0 for a bad descriptor. */
unsigned tcpw_poll(struct tcpw_stack *stack, int fd);

/* State of the socket's connection (TCPW_CLOSED when none), or -EBADF. */
int tcpw_sock_state(struct tcpw_stack *stack, int fd);

/* Local and remote address of a socket. Errors: -EBADF, -ENOTCONN
 * (getpeername without a peer). */
int tcpw_getsockname(struct tcpw_stack *stack, int fd, uint32_t *addr, uint16_t *port);
int tcpw_getpeername(struct tcpw_stack *stack, int fd, uint32_t *addr, uint16_t *port);

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

#ifdef __cplusplus
}
#endif
#endif
