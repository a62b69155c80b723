/* tcpwave — the simulated network (memlink) and its driver.
 *
 * A simulator holds any number of hosts, each a tcpwave stack with its own
 * IPv4 address (or a raw endpoint that a test scripts by hand), joined by an
 * in-memory wire. Every ordered pair of addresses (a path) can be impaired:
 * loss, duplication, reordering, delay and jitter, all drawn from a seeded
 * generator so that one seed gives one run, bit for bit. A host can be made
 * a black hole (it crashed: nothing in, nothing out) and a host can sit behind
 * a NAT that rewrites its source address and port.
 *
 * Virtual time: the simulator jumps straight to the next packet delivery or
 * stack deadline, so simulated hours take milliseconds.
 *
 * Ownership: the simulator owns its hosts' stacks and frees them in
 * tcpw_sim_destroy(). Not thread-safe.
 */
#ifndef TCPWAVE_SIM_H
#define TCPWAVE_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpwave/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tcpw_sim;
struct tcpw_pcap;

/* Impairments of one direction of one path. All rates are probabilities in
 * [0, 1]; times are µs. Jitter alone never reorders: deliveries on a path
 * stay in sending order unless a packet is picked for reordering, which
 * delays it by reorder_delay_us more so later packets overtake it. */
struct tcpw_impairment {
    double loss;               /* probability a packet is dropped */
    double duplicate;          /* probability a packet is delivered twice */
    double reorder;            /* probability a packet is held back */
    uint64_t delay_us;         /* fixed one-way delay */
    uint64_t jitter_us;        /* extra delay, uniform in [0, jitter_us] */
    uint64_t reorder_delay_us; /* extra delay of a held-back packet */
};

/* What happened to a packet on the wire, reported to the observer. */
enum tcpw_sim_event {
    TCPW_SIM_SENT,            /* a host put the packet on the wire */
    TCPW_SIM_DELIVERED,       /* the packet reached its destination host */
    TCPW_SIM_LOST,            /* dropped by the path's loss rate */
    TCPW_SIM_DUPLICATED,      /* a second copy was scheduled */
    TCPW_SIM_BLACK_HOLED,     /* sender or receiver is a black hole */
    TCPW_SIM_NO_ROUTE,        /* no host has the destination address */
    TCPW_SIM_NAT_REWRITTEN,   /* NAT rewrote the packet (pkt is the new one) */
    TCPW_SIM_PROCESSED,       /* the receiver has finished processing a DELIVERED packet
                                 (whatever it sent in answer was reported before this) */
};

/* Observer: sees every packet event in simulation order. `pkt` is valid only
 * during the call. `host` is the sender for SENT/LOST/DUPLICATED/NO_ROUTE
 * and the receiver for DELIVERED; for BLACK_HOLED the black-holed side; for
 * NAT_REWRITTEN the inside host (sender when leaving, receiver when coming
 * back). A black-holed sender's packet gets BLACK_HOLED only (no SENT, no
 * pcap record): it never reached the wire. */
typedef void (*tcpw_sim_observer_fn)(void *user, enum tcpw_sim_event ev, uint32_t host_addr,
                                     const uint8_t *pkt, size_t len, uint64_t now);

/* A raw endpoint receives packets instead of a stack (for scripted peers). */
typedef void (*tcpw_sim_raw_rx_fn)(void *user, const uint8_t *pkt, size_t len, uint64_t now);

/* Creates an empty simulator at virtual time 0. `seed` drives every random
 * choice of the wire and the seeds of the stacks it creates.
 * Returns 0, -ENOMEM. Allocates; free with tcpw_sim_destroy(). */
int tcpw_sim_create(uint64_t seed, struct tcpw_sim **out);

/* Frees the simulator, its stacks and the packets in flight. NULL is fine.
 * Does not close a pcap set with tcpw_sim_set_pcap(). */
void tcpw_sim_destroy(struct tcpw_sim *sim);

/* Adds a host running a tcpwave stack at `addr` (host order). `name` is
 * copied (used in ladders). `config` may be NULL (Linux defaults).
 * *stack_out (may be NULL) receives the stack, owned by the simulator.
 * Returns 0, -EEXIST (address taken), -EINVAL, -ENOMEM. Allocates. */
int tcpw_sim_add_host(struct tcpw_sim *sim, const char *name, uint32_t addr,
                      const struct tcpw_config *config, struct tcpw_stack **stack_out);

/* Adds a raw endpoint at `addr`: packets to it go to `rx`. Returns as
 * tcpw_sim_add_host(). Allocates. */
int tcpw_sim_add_raw_host(struct tcpw_sim *sim, const char *name, uint32_t addr,
                          tcpw_sim_raw_rx_fn rx, void *user);

/* Replaces the stack of host `addr` by a fresh one (same config, new seed):
 * the host rebooted and forgot every connection. *stack_out gets the new
 * stack. Packets in flight to the host reach the new stack. Returns 0,
 * -ENOENT, -EINVAL (a raw endpoint), -ENOMEM; on error the old stack stays. */
int tcpw_sim_restart_host(struct tcpw_sim *sim, uint32_t addr, struct tcpw_stack **stack_out);

/* The stack of host `addr`, or NULL (no such host, or a raw endpoint). */
struct tcpw_stack *tcpw_sim_stack(const struct tcpw_sim *sim, uint32_t addr);

/* The name given to host `addr`, or NULL. */
const char *tcpw_sim_host_name(const struct tcpw_sim *sim, uint32_t addr);

/* Sets the impairment of packets from `from` to `to` (host order addresses,
 * which need not be hosts yet). Returns 0, -EINVAL (rate outside [0,1]),
 * -ENOMEM. */
int tcpw_sim_set_path(struct tcpw_sim *sim, uint32_t from, uint32_t to,
                      const struct tcpw_impairment *imp);

/* Sets the impairment of every path that has none of its own (default: no
 * loss, 1 ms delay). Returns 0 or -EINVAL. */
int tcpw_sim_set_default_path(struct tcpw_sim *sim, const struct tcpw_impairment *imp);

/* Turns the black hole of host `addr` on or off. While on, the host neither
 * sends nor receives (packets vanish, counted as BLACK_HOLED); its stack's
 * timers are not run, as if the machine were down. Returns 0 or -ENOENT. */
int tcpw_sim_set_black_hole(struct tcpw_sim *sim, uint32_t addr, bool on);

/* Puts host `inside` behind a NAT: its packets leave with source address
 * `public_addr` and a source port allocated from `port_base` upward, one per
 * (inside address, inside port); replies to public_addr:port are rewritten
 * back. Several hosts may share one public address. Checksums are fixed.
 * Returns 0, -ENOENT, -EINVAL, -ENOMEM. */
int tcpw_sim_set_nat(struct tcpw_sim *sim, uint32_t inside, uint32_t public_addr,
                     uint16_t port_base);

/* Puts a packet on the wire as if host `from` had sent it (it need not be a
 * host). The packet is copied. Returns 0, -EINVAL (shorter than an IPv4
 * header), -ENOMEM. */
int tcpw_sim_inject(struct tcpw_sim *sim, uint32_t from, const uint8_t *pkt, size_t len);

/* A filter sees every packet a host sends (after SENT and the pcap record,
 * before NAT and impairments) and returns true to drop it, reported as LOST.
 * Scenarios use it to lose one chosen packet. */
typedef bool (*tcpw_sim_filter_fn)(void *user, uint32_t from, const uint8_t *pkt, size_t len,
                                   uint64_t now);

/* Sets the filter (NULL to remove). */
void tcpw_sim_set_filter(struct tcpw_sim *sim, tcpw_sim_filter_fn fn, void *user);

/* Makes `router_addr` (not a host) answer every packet that has no route
 * with ICMP host unreachable, as a real router would (0: drop silently, the
 * default). */
void tcpw_sim_set_router(struct tcpw_sim *sim, uint32_t router_addr);

/* Sets the observer (NULL to remove). */
void tcpw_sim_set_observer(struct tcpw_sim *sim, tcpw_sim_observer_fn fn, void *user);

/* Writes every packet as it is sent (before NAT) into `pcap`, which stays
 * owned by the caller; NULL stops the capture. */
void tcpw_sim_set_pcap(struct tcpw_sim *sim, struct tcpw_pcap *pcap);

/* Current virtual time, µs. */
uint64_t tcpw_sim_now(const struct tcpw_sim *sim);

/* Time of the next event (delivery or stack deadline), or TCPW_NO_DEADLINE. */
uint64_t tcpw_sim_next_event(const struct tcpw_sim *sim);

/* Processes the next event instant: jumps to it, delivers every packet due
 * then (in sending order) and runs every stack's due timers (in the order the
 * hosts were added). Returns 1 if something ran, 0 when nothing is pending. */
int tcpw_sim_step(struct tcpw_sim *sim);

/* Runs every event up to and including `until`, then sets the clock to
 * `until`. Returns the number of event instants processed. */
uint64_t tcpw_sim_run_until(struct tcpw_sim *sim, uint64_t until);

/* Runs until nothing is pending or the clock would pass `limit`.
 * Returns the number of event instants processed. */
uint64_t tcpw_sim_run_idle(struct tcpw_sim *sim, uint64_t limit);

/* Packets currently in flight. */
size_t tcpw_sim_in_flight(const struct tcpw_sim *sim);

#ifdef __cplusplus
}
#endif
#endif
