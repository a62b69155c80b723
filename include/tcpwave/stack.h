/* tcpwave — a stack instance.
 *
 * A stack is driven entirely by its caller: packets come in through
 * tcpw_stack_input(), packets go out through the output callback, and time
 * comes in as `now` (microseconds on any monotonic clock the caller chooses).
 * The stack never reads a clock, never sleeps and keeps no global state, so
 * many stacks can live in one process and a simulated run is exactly
 * reproducible.
 *
 * Threading: a stack is not thread-safe; call it from one thread at a time.
 */
#ifndef TCPWAVE_STACK_H
#define TCPWAVE_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpwave/config.h"
#include "tcpwave/counters.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "No deadline": returned by tcpw_stack_next_deadline() when nothing is due. */
#define TCPW_NO_DEADLINE UINT64_MAX

struct tcpw_stack;

/* Called for every packet the stack sends: a complete IPv4 datagram.
 * `pkt` is owned by the stack and valid only during the call; copy it to keep
 * it. The callback must not call back into the same stack. */
typedef void (*tcpw_output_fn)(void *user, const uint8_t *pkt, size_t len, uint64_t now);

struct tcpw_stack_params {
    uint32_t addr;                   /* this stack's IPv4 address, host byte order */
    const struct tcpw_config *config; /* copied; NULL means tcpw_config_linux_defaults */
    uint64_t seed;                   /* seeds ISNs, ports and timestamp offsets (RFC 6528) */
    tcpw_output_fn output;           /* may be NULL: packets are then discarded */
    void *output_user;               /* passed to output unchanged */
};

/* Creates a stack. `now` is the caller's current time in µs.
 * Returns 0 and sets *out, -EINVAL for bad params or config, -ENOMEM.
 * Allocates; free with tcpw_stack_destroy(). */
int tcpw_stack_create(const struct tcpw_stack_params *params, uint64_t now, struct tcpw_stack **out);

/* Frees the stack and everything it owns, without sending anything.
 * NULL is accepted. */
void tcpw_stack_destroy(struct tcpw_stack *stack);

/* Hands one inbound IPv4 datagram to the stack. The stack does not keep
 * `pkt`. Runs the timers due at `now` first. Malformed packets are counted
 * under a drop reason and dropped (or answered as the RFCs say).
 * Returns 0 when the packet was accepted, or the drop reason (> 0) it was
 * refused for; never fails otherwise. `now` must not go backwards (a smaller
 * value is treated as the last one seen). May allocate. */
int tcpw_stack_input(struct tcpw_stack *stack, const uint8_t *pkt, size_t len, uint64_t now);

/* Runs every timer due at or before `now`, in expiry order, timers due at the
 * same instant in the order they were armed. May send packets and allocate. */
void tcpw_stack_advance(struct tcpw_stack *stack, uint64_t now);

/* The earliest time the stack wants to be called again (by
 * tcpw_stack_advance or tcpw_stack_input), or TCPW_NO_DEADLINE. The value
 * may be earlier than the next real expiry (a wheel cascade point); calling
 * early is always harmless. Never allocates. */
uint64_t tcpw_stack_next_deadline(const struct tcpw_stack *stack);

/* Last `now` the stack has seen. */
uint64_t tcpw_stack_now(const struct tcpw_stack *stack);

/* This stack's IPv4 address (host byte order). */
uint32_t tcpw_stack_addr(const struct tcpw_stack *stack);

/* The stack's configuration (read-only; valid while the stack lives). */
const struct tcpw_config *tcpw_stack_config(const struct tcpw_stack *stack);

/* Value of a counter; 0 for an id out of range. */
uint64_t tcpw_stack_counter(const struct tcpw_stack *stack, enum tcpw_counter c);

/* Number of inbound packets dropped for `reason`; 0 out of range. */
uint64_t tcpw_stack_drops(const struct tcpw_stack *stack, enum tcpw_drop_reason reason);

/* Receives the stack's log lines, such as Linux's rate-limited "time wait
 * bucket table overflow". `message` is a NUL-terminated line without a
 * newline, owned by the stack and valid only during the call. The callback
 * is called inside the stack and must not call back into the same stack. */
typedef void (*tcpw_log_fn)(void *user, const char *message);

/* Sets the log callback and the `user` passed to it unchanged; fn NULL
 * (the default) disables logging. Each kind of message is rate-limited to
 * one per second of the stack's time; counters count every event. */
void tcpw_set_log_fn(struct tcpw_stack *stack, tcpw_log_fn fn, void *user);

/* Explains a tcpwave error code (a negative errno or a positive drop
 * reason). Returns a static string; never NULL. */
const char *tcpw_strerror(int err);

/* Formats an IPv4 address (host order) as dotted quad into buf (>= 16 bytes). */
const char *tcpw_addr_str(uint32_t addr, char buf[16]);

/* Parses a dotted quad into *addr (host order). Returns 0 or -EINVAL. */
int tcpw_addr_parse(const char *text, uint32_t *addr);

#ifdef __cplusplus
}
#endif
#endif
