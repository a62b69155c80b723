/* tcpwave — a Linux TUN device as a link, and a real-time event loop.
 *
 * A TUN device (IFF_TUN | IFF_NO_PI) carries bare IPv4 datagrams between the
 * kernel and this process, which is exactly what a stack eats and emits.
 * Addressing: the kernel's side of the device gets an address A (say
 * 10.88.0.1/24) and the tcpwave stack uses another address B of the same
 * subnet (10.88.0.2); the kernel's connected route for the subnet then sends
 * every packet for B into the device, and the stack's packets to A arrive
 * at the kernel as if from a neighbour on a point-to-point link.
 *
 * tcpw_tun_open() does the addressing itself with ioctls (SIOCSIFADDR,
 * SIOCSIFNETMASK, SIOCSIFMTU, SIOCSIFFLAGS), so a program needs neither the
 * `ip` tool nor a shell; pass kernel_addr 0 to leave the device unaddressed
 * and down and configure it with `ip` instead. The device is not made
 * persistent: it disappears, with its address and route, when it is closed
 * or the process exits.
 *
 * Time: this is the one part of tcpwave that reads a clock. The loop feeds
 * the stack CLOCK_MONOTONIC in microseconds (tcpw_tun_now_us()), so a pcap
 * written through the tap has monotonic, not wall-clock, time stamps.
 *
 * Needs CAP_NET_ADMIN (root) and /dev/net/tun. Linux only.
 * Threading: a tcpw_tun is not thread-safe; use it from one thread.
 */
#ifndef TCPWAVE_TUN_H
#define TCPWAVE_TUN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tcpwave/pcap.h"
#include "tcpwave/sim.h"
#include "tcpwave/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tcpw_tun;

struct tcpw_tun_params {
    /* Interface name, 1..15 characters (IFNAMSIZ - 1), e.g. "tw0". The
     * device is created if it does not exist; an existing persistent TUN
     * device of that name is attached to (and configured) instead. */
    const char *name;
    /* The KERNEL side's address, host byte order (e.g. 10.88.0.1), or 0 to
     * leave addressing, MTU and the up flag to the caller (`ip`). */
    uint32_t kernel_addr;
    /* Prefix length of the subnet, 1..31 (ignored when kernel_addr is 0).
     * The stack's own address must lie in that subnet. */
    unsigned prefix_len;
    /* Device MTU in bytes, 68..65535; 0 keeps the kernel's default (1500).
     * Make it equal the stack's `mtu` tunable so both sides agree on MSS. */
    uint32_t mtu;
    /* 1: leave IPv6 enabled on the device. 0 (the default) writes 1 to
     * /proc/sys/net/ipv6/conf/NAME/disable_ipv6, best effort, so the
     * kernel's router solicitations and MLD reports do not fill the stack's
     * drop counters and the capture. */
    int keep_ipv6;
};

/* The two directions of the device, for the impairment filter. */
enum tcpw_tun_dir {
    TCPW_TUN_TO_STACK = 0,   /* read from the device, handed to the stack */
    TCPW_TUN_FROM_STACK = 1, /* sent by the stack, written to the device */
    TCPW_TUN_DIR_COUNT
};

/* What the impairment filter did to one direction. */
struct tcpw_tun_impair_stats {
    uint64_t packets;    /* packets that went through the filter */
    uint64_t lost;       /* dropped (the loss draw) */
    uint64_t duplicated; /* delivered twice (the duplicate draw) */
    uint64_t reordered;  /* copies held back by reorder_delay_us (the reorder draw) */
    uint64_t delayed;    /* copies held in the queue for any reason (delay, jitter, reorder) */
    uint64_t overflow;   /* copies dropped because the hold queue was full */
};

/* Device counters. */
struct tcpw_tun_stats {
    uint64_t rx_packets, rx_bytes; /* read from the device (kernel -> stack) */
    uint64_t tx_packets, tx_bytes; /* written to the device (stack -> kernel) */
    uint64_t tx_errors;            /* writes that failed (packet lost) */
    int last_tx_error;             /* negative errno of the last failed write, or 0 */
    /* Indexed by enum tcpw_tun_dir; all zero while no impairment is set. */
    struct tcpw_tun_impair_stats impaired[TCPW_TUN_DIR_COUNT];
};

/* Opens /dev/net/tun, creates or attaches device params->name, sets the
 * descriptor non-blocking and close-on-exec and, when kernel_addr is not 0,
 * assigns kernel_addr/prefix_len, sets the MTU and brings the device up.
 * Returns 0 and sets *out, or a negative errno: -EINVAL (bad params),
 * -ENOENT or -ENODEV (/dev/net/tun missing: no tun module, or no device node
 * in this container), -EPERM or -EACCES (no CAP_NET_ADMIN), -EBUSY (the
 * device is in use), -EADDRINUSE, or another errno from open/ioctl.
 * When `errbuf` is not NULL (errlen bytes), a one-line explanation naming
 * the step that failed and what to do is written there on error.
 * Allocates; release with tcpw_tun_close(). */
int tcpw_tun_open(const struct tcpw_tun_params *params, struct tcpw_tun **out, char *errbuf,
                  size_t errlen);

/* Closes the descriptor (the non-persistent device disappears with it) and
 * frees `tun`. Does not close an attached pcap. NULL is accepted. */
void tcpw_tun_close(struct tcpw_tun *tun);

/* The device's file descriptor (owned by `tun`; do not close it), for
 * callers who run their own poll loop. Never allocates. */
int tcpw_tun_fd(const struct tcpw_tun *tun);

/* The device's name as the kernel gave it (static while `tun` lives). */
const char *tcpw_tun_name(const struct tcpw_tun *tun);

/* Copies the device counters into *stats. Never allocates. */
void tcpw_tun_get_stats(const struct tcpw_tun *tun, struct tcpw_tun_stats *stats);

/* Attaches a capture (or detaches it, with NULL): every packet read from or
 * written to the device is then also written to `pcap`, stamped with the
 * `now` it was handled at. `pcap` stays owned by the caller and must outlive
 * the attachment. Never allocates. */
void tcpw_tun_set_pcap(struct tcpw_tun *tun, struct tcpw_pcap *pcap);

/* Impairs one direction of the device the way memlink impairs a path
 * (tcpwave/sim.h): each packet is lost, duplicated, delayed by delay_us plus
 * a jitter in [0, jitter_us] (jitter alone never reorders), or held back
 * reorder_delay_us more so later packets overtake it. Every decision comes
 * from a generator seeded with `seed` (six draws a packet, whatever the
 * rates), so one seed and the same packets give the same decisions; on a
 * real network the packets and their timing vary, so a run is not
 * replayable bit for bit. NULL (or all zero) removes the impairment.
 *
 * TO_STACK applies in tcpw_tun_run() to what is read from the device;
 * FROM_STACK applies in tcpw_tun_output() to what the stack sends
 * (tcpw_tun_write() itself is never impaired). Delayed packets wait in a
 * time-ordered queue (at most 8192 copies; more are dropped and counted as
 * overflow) that only tcpw_tun_run() releases. The pcap tap sees the device
 * side: every packet read, and what is actually written.
 * Returns 0, or -EINVAL (a rate outside [0, 1], or NaN). Never allocates;
 * holding a packet does (a copy; the queue grows), a failed allocation drops
 * it as overflow, and tcpw_tun_close() frees what is still held. */
int tcpw_tun_set_impairment(struct tcpw_tun *tun, enum tcpw_tun_dir dir,
                            const struct tcpw_impairment *imp, uint64_t seed);

/* Reads one datagram into buf (cap bytes). Returns its length, -EAGAIN
 * when none is waiting, or another negative errno from read(2). A datagram
 * longer than cap is cut to cap by the kernel, so pass at least the MTU
 * (65535 holds any). Counts the packet and taps it at `now`. Never
 * allocates. */
ssize_t tcpw_tun_read(struct tcpw_tun *tun, uint8_t *buf, size_t cap, uint64_t now);

/* Writes one IPv4 datagram to the device (into the kernel). Returns 0 or a
 * negative errno from write(2) (-EIO when the device is down, -EINVAL for a
 * malformed datagram); failures are also counted in tx_errors. Never
 * allocates. */
int tcpw_tun_write(struct tcpw_tun *tun, const uint8_t *pkt, size_t len, uint64_t now);

/* An output callback (tcpw_output_fn shape) writing to the tcpw_tun passed
 * as `user`: give it and the tun as tcpw_stack_params.output/output_user.
 * A failed write loses the packet, as a full NIC queue would (TCP
 * retransmits); it is counted in the device stats. */
void tcpw_tun_output(void *user, const uint8_t *pkt, size_t len, uint64_t now);

/* CLOCK_MONOTONIC in microseconds: the `now` to give a stack driven by a
 * TUN device (also for tcpw_stack_create). */
uint64_t tcpw_tun_now_us(void);

/* Called once per loop iteration, after the packets that arrived and the
 * timers that fell due have been handed to the stack: the place to call the
 * socket API. Return 0 to go on, 1 to stop the loop (tcpw_tun_run then
 * returns 0), or a negative errno to stop it with that error. */
typedef int (*tcpw_tun_tick_fn)(void *user, struct tcpw_stack *stack, uint64_t now);

struct tcpw_tun_loop {
    struct tcpw_tun *tun;     /* required; the stack's output must write to it */
    struct tcpw_stack *stack; /* required */
    tcpw_tun_tick_fn tick;    /* may be NULL */
    void *tick_user;          /* passed to tick unchanged */
    /* May be NULL. The loop returns 0 as soon as it sees *stop != 0: point
     * it at a flag the program's signal handler sets. A signal interrupts
     * the wait at once; one that arrives just before the wait is seen at the
     * latest after max_wait_ms. */
    volatile sig_atomic_t *stop;
    /* Longest wait between two ticks, in ms; 0 means 100. Ticks also run
     * whenever packets arrive or timers fall due. */
    uint32_t max_wait_ms;
};

/* Runs the real-time loop: waits (epoll) for the device to become readable,
 * the stack's next deadline or the next impaired packet due for release; feeds every waiting datagram to
 * tcpw_stack_input() with `now` from CLOCK_MONOTONIC (through the TO_STACK
 * impairment, if any); releases the held packets that are due; calls
 * tcpw_stack_advance() with the current time (which runs the timers that are
 * due, and makes the socket calls of the tick act at the present); calls tick;
 * repeats until *stop is set or tick asks to stop. Packets the stack sends
 * go out through its own output callback (tcpw_tun_output).
 * Returns 0 when stopped, the negative errno tick returned, -EINVAL for a
 * bad loop, or a negative errno from epoll/read on a fatal device error.
 * Allocates an epoll descriptor and a 64 KiB packet buffer for the duration
 * of the call and frees them before returning. */
int tcpw_tun_run(const struct tcpw_tun_loop *loop);

#ifdef __cplusplus
}
#endif
#endif
