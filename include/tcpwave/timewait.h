/* tcpwave — TIME_WAIT observability: the records a stack holds, like
 * `ss -tan state time-wait -o` on Linux, their number and their memory.
 *
 * RFC 9293 §3.4.2 / §3.10.7.4: a connection that closed first waits 2MSL in
 * TIME-WAIT so that old duplicates die and the peer's retransmitted FIN is
 * re-ACKed. tcpwave keeps each such connection as a 40-byte record (not a
 * socket), so the application sees CLOSED while the stack still holds the
 * 4-tuple; these calls show what it holds.
 *
 * None of these functions changes the stack or allocates; all are O(1)
 * except the two walks, which are O(records). They read the state as of the
 * last tcpw_stack_input()/tcpw_stack_advance(): records due by then are gone.
 */
#ifndef TCPWAVE_TIMEWAIT_H
#define TCPWAVE_TIMEWAIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tcpw_stack;

/* One TIME_WAIT record as the caller sees it (a copy; owns nothing). */
struct tcpw_tw_info {
    uint32_t laddr;        /* local address, host byte order */
    uint32_t raddr;        /* remote address, host byte order */
    uint16_t lport;        /* local port, host byte order */
    uint16_t rport;        /* remote port, host byte order */
    uint64_t remaining_us; /* time until the record expires (ss's "timer:(timewait,...)") */
};

/* Called once per record, oldest (first to expire) first. `info` is valid
 * only during the call. Return 0 to go on, nonzero to stop the walk. The
 * callback must not call into the same stack except for the read-only
 * functions of this header. */
typedef int (*tcpw_tw_visit_fn)(void *user, const struct tcpw_tw_info *info);

/* Number of TIME_WAIT records held (0 for a NULL stack). Never allocates. */
uint64_t tcpw_tw_count(const struct tcpw_stack *stack);

/* Heap bytes the TIME_WAIT table holds: record chunks, their index and the
 * chunk ring (0 for a NULL stack). With many records this divided by
 * tcpw_tw_count() is the real cost per record, 42..44 bytes at load.
 * Never allocates. */
size_t tcpw_tw_memory_bytes(const struct tcpw_stack *stack);

/* Calls fn(user, info) for every record, oldest first. Returns 0 after the
 * last record, the callback's nonzero value if it stopped the walk, or
 * -EINVAL for a NULL stack or fn. Never allocates. */
int tcpw_tw_foreach(const struct tcpw_stack *stack, tcpw_tw_visit_fn fn, void *user);

/* Copies up to `cap` records, oldest first, into the caller's `out` and sets
 * *written to how many. Returns 0 when every record fitted, -ENOSPC when
 * there were more (out holds the oldest `cap`; size a bigger array from
 * tcpw_tw_count()), -EINVAL for a NULL stack or written, or a NULL out with
 * cap > 0 (*written is then 0). Never allocates. */
int tcpw_tw_list(const struct tcpw_stack *stack, struct tcpw_tw_info *out, size_t cap,
                 size_t *written);

#ifdef __cplusplus
}
#endif
#endif
