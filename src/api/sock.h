/* api/ — sockets and listeners: what a descriptor refers to.
 *
 * A socket outlives its connection (after a reset or TIME_WAIT the
 * application still holds the descriptor and reads the error or EOF), and a
 * connection outlives its socket (after close() it goes on as an orphan).
 */
#ifndef TCPW_SOCK_H
#define TCPW_SOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp/conn.h"
#include "tcp/tcp.h"

struct tcpw_listener {
    struct tcpw_listener *next;
    struct tcpw_sock *sock;
    uint32_t addr;            /* 0: any of ours */
    uint16_t port;
    uint32_t backlog;         /* accept queue limit */
    struct tcpw_conn *accept_head, *accept_tail;
    uint32_t accept_count;    /* established, waiting for accept() */
    uint32_t syn_count;       /* in SYN_RECEIVED */
};

struct tcpw_sock {
    int fd;
    struct tcpw_stack *stack;
    struct tcpw_conn *conn;          /* NULL before connect/after the end */
    struct tcpw_listener *listener;  /* when listening */
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    bool bound, connected_once;
    enum tcpw_state last_state;      /* state when conn is NULL */
    int error;                       /* pending SO_ERROR, positive errno */
    bool eof;                        /* the peer's FIN was reached (recv returns 0) */
    bool rd_shut, wr_shut;
    bool dead;                       /* the connection ended abnormally: sends give EPIPE */
    /* Data the application had not read when the connection went away
     * (TIME_WAIT or a reset): still readable, as in Linux, where the full
     * socket keeps its receive queue after tcp_done(). */
    struct tcpw_rcvbuf leftover;
    /* How the connection ended, for TCPW_SO_CLOSE_REASON. */
    uint8_t close_reason;
    /* A lingering close (SO_LINGER, l_linger > 0) is under way or done. */
    bool lingering;
    int linger_status;               /* -EINPROGRESS, 0, or a negative errno */
    /* options */
    bool reuseaddr, keepalive, nodelay;
    uint32_t sndbuf, rcvbuf;
    uint32_t maxseg;
    uint32_t keepidle_s, keepintvl_s, keepcnt;
    uint32_t user_timeout_ms;
    struct tcpw_linger linger;
    /* event reporting */
    bool wake_pending;
    struct tcpw_sock *wake_next;
    unsigned last_events;
};

/* The socket behind fd, or NULL. */
struct tcpw_sock *tcpw__sock_get(struct tcpw_stack *s, int fd);
/* Queues a readiness report for the socket (api/events.c). */
void tcpw__sock_wake(struct tcpw_sock *so);
/* Readiness bits now. */
unsigned tcpw__sock_events(const struct tcpw_sock *so);
/* Creates a socket for an accepted connection; returns it or NULL. */
struct tcpw_sock *tcpw__sock_new(struct tcpw_stack *s);
/* The listener for a segment to addr:port, or NULL. */
struct tcpw_listener *tcpw__listener_find(struct tcpw_stack *s, uint32_t addr, uint16_t port);
/* Frees every socket and listener (stack teardown). */
void tcpw__socks_destroy(struct tcpw_stack *s);

#endif
