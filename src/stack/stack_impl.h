/* stack/ — the inside of struct tcpw_stack, shared by the layers below api/.
 *
 * Everything a stack instance owns hangs off this struct; there is no other
 * mutable state anywhere in the library.
 */
#ifndef TCPW_STACK_IMPL_H
#define TCPW_STACK_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "stack/timer_wheel.h"
#include "tcpwave/stack.h"

struct tcpw_tcp_state;

/* Largest datagram the stack builds (the MTU is configured below this). */
#define TCPW_MAX_PACKET 65535u

struct tcpw_stack {
    struct tcpw_config cfg;
    uint32_t addr;
    uint64_t now;
    uint64_t rng;               /* splitmix64 state, seeded from params.seed */
    tcpw_output_fn output;
    void *output_user;
    uint16_t ip_id;             /* next IPv4 identification */
    struct tcpw_wheel wheel;
    uint64_t counters[TCPW_CTR_COUNT];
    uint64_t drops[TCPW_DROP_COUNT];
    struct tcpw_tcp_state *tcp; /* connections, TIME_WAIT, sockets (tcp/tcp.h) */
    tcpw_log_fn log;            /* NULL: no logging */
    void *log_user;
};

static inline void tcpw__count(struct tcpw_stack *s, enum tcpw_counter c) { s->counters[c]++; }
static inline void tcpw__count_n(struct tcpw_stack *s, enum tcpw_counter c, uint64_t n)
{
    s->counters[c] += n;
}

/* Hands a finished IPv4 datagram to the output callback and counts it. */
void tcpw__stack_send(struct tcpw_stack *s, const uint8_t *pkt, size_t len);

/* Next pseudo-random 64-bit value of the stack's own generator. */
uint64_t tcpw__stack_rand(struct tcpw_stack *s);

/* Passes `message` to the log callback unless one of its kind was passed
 * less than a second ago. `*last` is the kind's state, kept by the caller:
 * 0 before the first message, then the time of the last one plus 1 (so that
 * a message at time 0 counts). Nothing happens without a callback. */
void tcpw__log_ratelimited(struct tcpw_stack *s, uint64_t *last, const char *message);

/* Next IPv4 identification value. */
uint16_t tcpw__stack_ip_id(struct tcpw_stack *s);

#endif
