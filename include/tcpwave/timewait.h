/* tcpwave — TIME_WAIT observability: the records a stack holds, like
 * `ss -tan state time-wait -o` on Linux, their number and their memory.
 *
 * RFC 9293 §3.4.2 / §3.10.7.4: a connection that closed first waits 2MSL in
 * TIME-WAIT so that old duplicates die and the peer's retransmitted FIN is
 * re-ACKed. tcpwave keeps each such connection as a 40-byte record (not a
 * socket), so the application sees CLOSED while the stack still holds the
 * 4-tuple; these calls show what it holds.
 *
 * None of the observability functions changes the stack or allocates; all
 * are O(1) except the two walks, which are O(records). tcpw_tw_save/_load,
 * tcpw_port_usage and tcpw_port_usage_foreach (below) are the exceptions,
 * documented each. They read the state as of the last
 * tcpw_stack_input()/tcpw_stack_advance(): records due by then are gone.
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

/* ---- TIME_WAIT across a restart (RFC 9293 §3.4.3) ----
 *
 * A host that restarts loses its TIME_WAIT records, and with them the
 * protection of the 4-tuples its last run closed. tcpw_tw_save() writes the
 * records to a file at an orderly shutdown; the next run's tcpw_tw_load()
 * puts them back with the time they had left, so a retransmitted FIN is
 * still re-ACKed with <SEQ=SND.NXT><ACK=RCV.NXT> and each record expires
 * when it would have. The stack reads no clock: the caller passes
 * CLOCK_REALTIME in µs to both (the monotonic clocks of two processes are
 * unrelated), and the loader subtracts the time that passed in between.
 *
 * File (text, "\n" line ends, every number unsigned decimal):
 *   tcpwave-tw 1
 *   addr <the stack's address, dotted quad>
 *   realtime_us <the caller's CLOCK_REALTIME at saving>
 *   records <n>
 *   tw <laddr> <lport> <raddr> <rport> <remaining_us> <snd_nxt> <rcv_nxt>
 *      <rcv_wnd> <ts_ok 0|1> <ts_recent> <ts_recent_age_s> <ts_val>   (one line, n times)
 *   end <FNV-1a 64 of every byte before this line, 16 lowercase hex digits>
 * ts_val is the record's own timestamp clock at saving: a record keeps the
 * clock of the run that made it (timestamp offsets derive from each stack's
 * secret), advanced by the time that passed, so its re-ACKs continue the
 * TSvals the peer has seen. Such a record is never taken over by
 * tcp_tw_reuse (the new run's clock need not be ahead of it). */

/* Writes every TIME_WAIT record of the stack, with its remaining time as of
 * the last tcpw_stack_input()/tcpw_stack_advance(), to `path` (through
 * "<path>.tmp" and rename(), so a reader never sees half a file; not
 * fsync'ed). `realtime_us` is the caller's CLOCK_REALTIME in µs. Returns
 * the number of records written (saturated at INT_MAX), -EINVAL for a NULL
 * argument, or a negative errno of the file operations (the temporary file
 * is then removed). Allocates nothing on the stack's behalf. */
int tcpw_tw_save(const struct tcpw_stack *stack, const char *path, uint64_t realtime_us);

/* Loads a file tcpw_tw_save() wrote into a stack whose TIME_WAIT table is
 * empty (call it right after tcpw_stack_create()). `realtime_us` is the
 * caller's CLOCK_REALTIME now, in µs; the time passed since saving is taken
 * off every record (none if the clock went backwards: records then live
 * longer, never shorter) and records with no time left are not loaded.
 * Remaining times beyond this stack's 2MSL are cut to 2MSL. Records whose
 * local address is not the stack's, and records whose 4-tuple a live
 * connection holds, are skipped; a file saved for another address loads
 * nothing. A file for this address, even with no record left, ends the
 * quiet time (tcp_quiet_time).
 * Returns the number of records loaded (saturated at INT_MAX); -EINVAL for
 * a NULL argument or a file that is not exactly as above (bad magic or
 * version, a field out of range, a duplicate 4-tuple, a count or checksum
 * that does not match, truncation, anything after the end line), with
 * nothing loaded and the quiet time untouched; -EBUSY when the table is not
 * empty; -ENOBUFS when more records would remain than tcp_max_tw_buckets
 * or than tcp_tw_dest_quota for one destination (nothing loaded); -ENOMEM; or the negative errno of opening/reading the file. */
int tcpw_tw_load(struct tcpw_stack *stack, const char *path, uint64_t realtime_us);

/* ---- ports toward one destination (the cost of TIME_WAIT for a client) ---- */

/* Of the ports of ip_local_port_range, toward (laddr, raddr, rport). */
struct tcpw_port_usage {
    uint32_t range;       /* ports in ip_local_port_range */
    uint32_t connections; /* held by a live connection to (raddr, rport) */
    uint32_t time_wait;   /* held by a TIME_WAIT record to (raddr, rport) */
    uint32_t listening;   /* a listener on (laddr, port): connect() skips it */
    uint32_t free;        /* the rest: range - connections - time_wait - listening */
};

/* Counts how the ephemeral ports toward (raddr, rport) from `laddr` (0: the
 * stack's address) are used. A port held by a TIME_WAIT record counts as
 * time_wait even when tcp_tw_reuse could take it over; ports held only by a
 * bound but unconnected socket count as free. O(size of the range): one
 * hash lookup per port. Returns 0, or -EINVAL for a NULL stack or out, or
 * raddr or rport 0 (*out is then zeroed when out is not NULL). Never
 * allocates. */
int tcpw_port_usage(const struct tcpw_stack *stack, uint32_t laddr, uint32_t raddr,
                    uint16_t rport, struct tcpw_port_usage *out);

/* One destination of tcpw_port_usage_foreach() (a copy; owns nothing). */
struct tcpw_port_dest_usage {
    uint32_t laddr;               /* local address, host byte order */
    uint32_t raddr;               /* remote address, host byte order */
    uint16_t rport;               /* remote port, host byte order */
    struct tcpw_port_usage usage; /* exactly what tcpw_port_usage() reports for it */
};

/* Calls fn(user, d) once for every destination (laddr, raddr, rport) toward
 * which at least one port of ip_local_port_range is held by a live
 * connection (orphans and handshakes included) or a TIME_WAIT record, so a
 * client sees a destination's ports run out before connect() fails with
 * -EADDRNOTAVAIL. Destinations that hold nothing are not visited (all their
 * ports but the listeners' are free). Order: the most held
 * (connections + time_wait) first, ties by raddr, then rport, then laddr,
 * ascending; the same state gives the same order every time. Each d->usage
 * counts a port once, connection before TIME_WAIT before listener, as
 * tcpw_port_usage() does. `d` is valid only during the call; fn returns 0
 * to go on, nonzero to stop, and must not change the stack.
 * Returns 0 after the last destination (also when there is none), fn's
 * nonzero value if it stopped the walk, -EINVAL for a NULL stack or fn, or
 * -ENOMEM (fn was then not called). Allocates: yes, temporarily (a table of
 * the destinations and an array of the listeners in the range, freed before
 * it returns). O(connections + table buckets + records + listeners x local
 * addresses + destinations x log(destinations)), against O(range) for each
 * tcpw_port_usage() call. */
int tcpw_port_usage_foreach(const struct tcpw_stack *stack,
                            int (*fn)(void *user, const struct tcpw_port_dest_usage *d),
                            void *user);

#ifdef __cplusplus
}
#endif
#endif
