/* sim/ — the simulator driver: hosts on the in-memory wire, the virtual
 * clock, the observer and the pcap hook. The wire itself (impairments, the
 * in-flight queue, NAT) is src/link/memlink.c.
 *
 * Determinism: nothing here reads a clock or keeps global state. One event
 * instant runs as follows: deliver every packet due then, in (time, sequence)
 * order, each through tcpw_stack_input(stack, pkt, len, now); then run
 * tcpw_stack_advance(now) for each (not black-holed) stack in the order the
 * hosts were added; repeat while that sent packets due at the same instant
 * (a path with zero delay). Packets get sequence numbers in the order they
 * are sent, so a packet sent during a delivery is delivered after the one
 * being delivered, never recursively inside it.
 *
 * Where a packet's fate is decided:
 * - at send: sender black hole, SENT, pcap (before NAT), NAT (outbound for a
 *   host behind one, then inbound when the destination is a mapped public
 *   address), then the path (real sender, real receiver) draws loss,
 *   duplication, reordering and delay;
 * - at delivery: routing (NO_ROUTE when no host has the address), receiver
 *   black hole, DELIVERED.
 */
#include "tcpwave/sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "link/memlink.h"
#include "tcpwave/pcap.h"
#include "wire/wire.h"

#define DOMAIN_STACK 0x737461636bu /* "stack" */

struct sim_host {
    struct tcpw_sim *sim;
    char *name;
    uint32_t addr;
    struct tcpw_stack *stack; /* NULL for a raw endpoint */
    tcpw_sim_raw_rx_fn rx;
    void *rx_user;
    uint64_t generation; /* restarts so far: part of the stack's seed */
    bool black_hole;
    bool nat;
    uint32_t nat_public;
    uint16_t nat_port_base;
};

struct tcpw_sim {
    uint64_t seed;
    uint64_t now;
    struct tcpw__memlink link;
    struct sim_host **hosts; /* in the order added: the order stacks run */
    size_t nhosts, cap_hosts;
    struct tcpw__ml_map host_index; /* addr -> index in hosts */
    tcpw_sim_observer_fn observer;
    void *observer_user;
    tcpw_sim_filter_fn filter;
    void *filter_user;
    uint32_t router;     /* answers packets with no route with ICMP (0: silent) */
    struct tcpw_pcap *pcap;
};

static void notify(struct tcpw_sim *sim, enum tcpw_sim_event ev, uint32_t host, const uint8_t *pkt,
                   size_t len, uint64_t now)
{
    if (sim->observer)
        sim->observer(sim->observer_user, ev, host, pkt, len, now);
}

static struct sim_host *host_find(const struct tcpw_sim *sim, uint32_t addr)
{
    uint64_t idx;
    /* An index past the end is the mark left by host_remove_last(). */
    if (!tcpw__ml_map_get(&sim->host_index, addr, &idx) || idx >= sim->nhosts)
        return NULL;
    return sim->hosts[idx];
}

int tcpw_sim_create(uint64_t seed, struct tcpw_sim **out)
{
    struct tcpw_sim *sim;

    if (!out)
        return -EINVAL;
    *out = NULL;
    sim = calloc(1, sizeof(*sim));
    if (!sim)
        return -ENOMEM;
    sim->seed = seed;
    tcpw__ml_init(&sim->link, seed);
    *out = sim;
    return 0;
}

static void host_free(struct sim_host *h)
{
    tcpw_stack_destroy(h->stack);
    free(h->name);
    free(h);
}

void tcpw_sim_destroy(struct tcpw_sim *sim)
{
    if (!sim)
        return;
    for (size_t i = 0; i < sim->nhosts; i++)
        host_free(sim->hosts[i]);
    free(sim->hosts);
    tcpw__ml_map_free(&sim->host_index);
    tcpw__ml_fini(&sim->link);
    free(sim);
}

/* --- sending ------------------------------------------------------------------ */

/* Puts one packet on the wire from `from` at time `t`. `h` is the sending
 * host, or NULL for an injection from an address that is not a host.
 * Returns 0 (including every fate the wire decides) or -ENOMEM. */
static int sim_send(struct tcpw_sim *sim, uint32_t from, struct sim_host *h, const uint8_t *pkt,
                    size_t len, uint64_t t)
{
    struct tcpw__ml_pkt *p, *dup = NULL;
    struct tcpw__ml_plan plan;
    uint32_t inside;
    int err = 0;

    /* A stack that has not caught up with the clock still sends "now": the
     * wire cannot carry a packet into the past. */
    if (t < sim->now)
        t = sim->now;
    if (h && h->black_hole) {
        notify(sim, TCPW_SIM_BLACK_HOLED, from, pkt, len, t);
        return 0;
    }
    notify(sim, TCPW_SIM_SENT, from, pkt, len, t);
    if (sim->pcap)
        (void)tcpw_pcap_write(sim->pcap, pkt, len, t);
    /* The filter decides before the path's impairments, so a scenario can
     * lose one chosen packet without disturbing the path's random draws. */
    if (sim->filter && sim->filter(sim->filter_user, from, pkt, len, t)) {
        notify(sim, TCPW_SIM_LOST, from, pkt, len, t);
        return 0;
    }
    p = tcpw__ml_pkt_new(from, pkt, len);
    if (!p)
        return -ENOMEM;
    if (h && h->nat) {
        err = tcpw__ml_nat_outbound(&sim->link, p->data, p->len, h->nat_public, h->nat_port_base);
        if (err && err != -ENOMEM) {
            /* Untranslatable (unparsable, or no public port left): the NAT
             * has nowhere to send it. */
            notify(sim, TCPW_SIM_NO_ROUTE, from, p->data, p->len, t);
            err = 0;
            goto out;
        }
        if (err)
            goto out;
        notify(sim, TCPW_SIM_NAT_REWRITTEN, from, p->data, p->len, t);
    }
    if (tcpw__ml_nat_inbound(&sim->link, p->data, p->len, &inside) == 1)
        notify(sim, TCPW_SIM_NAT_REWRITTEN, inside, p->data, p->len, t);
    err = tcpw__ml_plan(&sim->link, from, tcpw__ml_pkt_dst(p), t, &plan);
    if (err)
        goto out;
    if (plan.lost) {
        notify(sim, TCPW_SIM_LOST, from, p->data, p->len, t);
        goto out;
    }
    if (plan.copies == 2) {
        dup = tcpw__ml_pkt_new(from, p->data, p->len);
        if (!dup) {
            err = -ENOMEM;
            goto out;
        }
    }
    err = tcpw__ml_schedule(&sim->link, p, plan.due[0]);
    if (err)
        goto out;
    p = NULL; /* the wire owns it now */
    if (dup) {
        err = tcpw__ml_schedule(&sim->link, dup, plan.due[1]);
        if (err)
            goto out;
        notify(sim, TCPW_SIM_DUPLICATED, from, dup->data, dup->len, t);
        dup = NULL;
    }
out:
    free(p);
    free(dup);
    return err;
}

/* The output callback of every stack host. */
static void host_output(void *user, const uint8_t *pkt, size_t len, uint64_t now)
{
    struct sim_host *h = user;
    /* A stack cannot be told that its packet fell off for want of memory;
     * to it, that is indistinguishable from loss on the wire. */
    (void)sim_send(h->sim, h->addr, h, pkt, len, now);
}

int tcpw_sim_inject(struct tcpw_sim *sim, uint32_t from, const uint8_t *pkt, size_t len)
{
    if (!sim || !pkt || len < TCPW_IPV4_HDR_MIN)
        return -EINVAL;
    return sim_send(sim, from, host_find(sim, from), pkt, len, sim->now);
}

/* --- hosts -------------------------------------------------------------------- */

static uint64_t stack_seed(const struct tcpw_sim *sim, const struct sim_host *h)
{
    return tcpw__ml_derive(sim->seed, DOMAIN_STACK, ((uint64_t)h->generation << 32) | h->addr);
}

static int stack_make(struct tcpw_sim *sim, struct sim_host *h, const struct tcpw_config *config,
                      struct tcpw_stack **out)
{
    struct tcpw_stack_params params = {
        .addr = h->addr,
        .config = config,
        .seed = stack_seed(sim, h),
        .output = host_output,
        .output_user = h,
    };
    return tcpw_stack_create(&params, sim->now, out);
}

static int host_add(struct tcpw_sim *sim, const char *name, uint32_t addr, struct sim_host **out)
{
    struct sim_host *h;
    size_t nlen;
    int err;

    if (!sim || !name || addr == 0 || addr == UINT32_MAX)
        return -EINVAL;
    if (host_find(sim, addr))
        return -EEXIST;
    if (sim->nhosts == sim->cap_hosts) {
        size_t ncap = sim->cap_hosts ? sim->cap_hosts * 2u : 8u;
        struct sim_host **nh = realloc(sim->hosts, ncap * sizeof(*nh));
        if (!nh)
            return -ENOMEM;
        sim->hosts = nh;
        sim->cap_hosts = ncap;
    }
    h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    nlen = strlen(name);
    h->name = malloc(nlen + 1u);
    if (!h->name) {
        free(h);
        return -ENOMEM;
    }
    memcpy(h->name, name, nlen + 1u);
    h->sim = sim;
    h->addr = addr;
    err = tcpw__ml_map_put(&sim->host_index, addr, sim->nhosts);
    if (err) {
        host_free(h);
        return err;
    }
    sim->hosts[sim->nhosts++] = h;
    *out = h;
    return 0;
}

/* Undoes the last host_add() (its stack could not be made). */
static void host_remove_last(struct tcpw_sim *sim)
{
    struct sim_host *h = sim->hosts[--sim->nhosts];
    /* The map cannot remove; mark the entry with an impossible index that
     * host_find() reads as absent (a later host_add() overwrites it). */
    (void)tcpw__ml_map_put(&sim->host_index, h->addr, UINT64_MAX);
    host_free(h);
}

int tcpw_sim_add_host(struct tcpw_sim *sim, const char *name, uint32_t addr,
                      const struct tcpw_config *config, struct tcpw_stack **stack_out)
{
    struct sim_host *h;
    int err = host_add(sim, name, addr, &h);

    if (stack_out)
        *stack_out = NULL;
    if (err)
        return err;
    err = stack_make(sim, h, config, &h->stack);
    if (err) {
        host_remove_last(sim);
        return err;
    }
    if (stack_out)
        *stack_out = h->stack;
    return 0;
}

int tcpw_sim_add_raw_host(struct tcpw_sim *sim, const char *name, uint32_t addr,
                          tcpw_sim_raw_rx_fn rx, void *user)
{
    struct sim_host *h;
    int err = host_add(sim, name, addr, &h);

    if (err)
        return err;
    h->rx = rx;
    h->rx_user = user;
    return 0;
}

int tcpw_sim_restart_host(struct tcpw_sim *sim, uint32_t addr, struct tcpw_stack **stack_out)
{
    struct sim_host *h = sim ? host_find(sim, addr) : NULL;
    struct tcpw_stack *fresh;
    int err;

    if (stack_out)
        *stack_out = NULL;
    if (!h)
        return -ENOENT;
    if (!h->stack)
        return -EINVAL; /* a raw endpoint has no stack to restart */
    h->generation++;
    /* Make the new stack before dropping the old one, so that a failure
     * leaves the host as it was. */
    err = stack_make(sim, h, tcpw_stack_config(h->stack), &fresh);
    if (err) {
        h->generation--;
        return err;
    }
    tcpw_stack_destroy(h->stack);
    h->stack = fresh;
    if (stack_out)
        *stack_out = fresh;
    return 0;
}

struct tcpw_stack *tcpw_sim_stack(const struct tcpw_sim *sim, uint32_t addr)
{
    const struct sim_host *h = sim ? host_find(sim, addr) : NULL;
    return h ? h->stack : NULL;
}

const char *tcpw_sim_host_name(const struct tcpw_sim *sim, uint32_t addr)
{
    const struct sim_host *h = sim ? host_find(sim, addr) : NULL;
    return h ? h->name : NULL;
}

/* --- configuration of the wire ------------------------------------------------ */

int tcpw_sim_set_path(struct tcpw_sim *sim, uint32_t from, uint32_t to,
                      const struct tcpw_impairment *imp)
{
    if (!sim)
        return -EINVAL;
    return tcpw__ml_set_path(&sim->link, from, to, imp);
}

int tcpw_sim_set_default_path(struct tcpw_sim *sim, const struct tcpw_impairment *imp)
{
    int err;

    if (!sim)
        return -EINVAL;
    err = tcpw__ml_impairment_check(imp);
    if (err)
        return err;
    sim->link.default_imp = *imp;
    return 0;
}

int tcpw_sim_set_black_hole(struct tcpw_sim *sim, uint32_t addr, bool on)
{
    struct sim_host *h = sim ? host_find(sim, addr) : NULL;

    if (!h)
        return -ENOENT;
    h->black_hole = on;
    return 0;
}

int tcpw_sim_set_nat(struct tcpw_sim *sim, uint32_t inside, uint32_t public_addr,
                     uint16_t port_base)
{
    struct sim_host *h = sim ? host_find(sim, inside) : NULL;

    if (!h)
        return -ENOENT;
    /* Port 0 is not a port a peer can answer to. */
    if (public_addr == 0 || public_addr == UINT32_MAX || public_addr == inside || port_base == 0)
        return -EINVAL;
    h->nat = true;
    h->nat_public = public_addr;
    h->nat_port_base = port_base;
    return 0;
}

void tcpw_sim_set_filter(struct tcpw_sim *sim, tcpw_sim_filter_fn fn, void *user)
{
    sim->filter = fn;
    sim->filter_user = user;
}

void tcpw_sim_set_observer(struct tcpw_sim *sim, tcpw_sim_observer_fn fn, void *user)
{
    sim->observer = fn;
    sim->observer_user = user;
}

void tcpw_sim_set_pcap(struct tcpw_sim *sim, struct tcpw_pcap *pcap)
{
    sim->pcap = pcap;
}

/* --- time ------------------------------------------------------------------------ */

uint64_t tcpw_sim_now(const struct tcpw_sim *sim)
{
    return sim->now;
}

size_t tcpw_sim_in_flight(const struct tcpw_sim *sim)
{
    return sim->link.nheap;
}

uint64_t tcpw_sim_next_event(const struct tcpw_sim *sim)
{
    const struct tcpw__ml_pkt *p = tcpw__ml_peek(&sim->link);
    uint64_t next = p ? p->due : TCPW_NO_DEADLINE;

    for (size_t i = 0; i < sim->nhosts; i++) {
        const struct sim_host *h = sim->hosts[i];
        uint64_t d;
        /* A black-holed machine is down: its timers do not run. */
        if (!h->stack || h->black_hole)
            continue;
        d = tcpw_stack_next_deadline(h->stack);
        if (d < next)
            next = d;
    }
    /* Something overdue (a timer armed in the past by an API call, a host
     * back from a black hole) runs at once, not in the past. */
    if (next != TCPW_NO_DEADLINE && next < sim->now)
        next = sim->now;
    return next;
}

/* The simulated router's answer to a packet it cannot deliver: ICMP host
 * unreachable quoting the IP header and 8 bytes (RFC 792, RFC 1812 §4.3.2.3),
 * never about an ICMP message (RFC 1122 §3.2.2). */
static void router_unreachable(struct tcpw_sim *sim, const struct tcpw__ml_pkt *p)
{
    uint8_t buf[TCPW_IPV4_HDR_MIN + 8u + 60u + 8u];
    size_t ihl, quote, n;

    if (!sim->router || p->len < TCPW_IPV4_HDR_MIN || p->data[9] == TCPW_IP_PROTO_ICMP)
        return;
    ihl = (size_t)(p->data[0] & 0x0fu) * 4u;
    quote = ihl + 8u < p->len ? ihl + 8u : p->len;
    n = tcpw_icmp_build(buf, sizeof(buf), sim->router, tcpw_get32(p->data + 12), 3, 1, 0, p->data,
                        quote);
    if (n)
        (void)sim_send(sim, sim->router, NULL, buf, n, sim->now);
}

void tcpw_sim_set_router(struct tcpw_sim *sim, uint32_t router_addr)
{
    sim->router = router_addr;
}

static void deliver(struct tcpw_sim *sim, struct tcpw__ml_pkt *p)
{
    uint32_t dst = tcpw__ml_pkt_dst(p);
    struct sim_host *h = host_find(sim, dst);

    if (!h) {
        notify(sim, TCPW_SIM_NO_ROUTE, p->from, p->data, p->len, sim->now);
        router_unreachable(sim, p);
        return;
    }
    if (h->black_hole) {
        notify(sim, TCPW_SIM_BLACK_HOLED, dst, p->data, p->len, sim->now);
        return;
    }
    notify(sim, TCPW_SIM_DELIVERED, dst, p->data, p->len, sim->now);
    if (h->stack)
        (void)tcpw_stack_input(h->stack, p->data, p->len, sim->now);
    else if (h->rx)
        h->rx(h->rx_user, p->data, p->len, sim->now);
    notify(sim, TCPW_SIM_PROCESSED, dst, p->data, p->len, sim->now);
}

/* Runs everything due at sim->now (see the file comment for the order). */
static void run_instant(struct tcpw_sim *sim)
{
    for (;;) {
        const struct tcpw__ml_pkt *top;

        while ((top = tcpw__ml_peek(&sim->link)) && top->due <= sim->now) {
            struct tcpw__ml_pkt *p = tcpw__ml_pop(&sim->link);
            deliver(sim, p);
            free(p);
        }
        /* Index, not pointer, iteration: a raw host's rx or a stack's output
         * never adds hosts, but stay correct if a test's callback does. */
        for (size_t i = 0; i < sim->nhosts; i++) {
            struct sim_host *h = sim->hosts[i];
            if (h->stack && !h->black_hole)
                tcpw_stack_advance(h->stack, sim->now);
        }
        top = tcpw__ml_peek(&sim->link);
        if (!top || top->due > sim->now)
            break;
    }
}

int tcpw_sim_step(struct tcpw_sim *sim)
{
    uint64_t t = tcpw_sim_next_event(sim);

    if (t == TCPW_NO_DEADLINE)
        return 0;
    sim->now = t;
    run_instant(sim);
    return 1;
}

uint64_t tcpw_sim_run_until(struct tcpw_sim *sim, uint64_t until)
{
    uint64_t n = 0, t;

    while ((t = tcpw_sim_next_event(sim)) != TCPW_NO_DEADLINE && t <= until) {
        sim->now = t;
        run_instant(sim);
        n++;
    }
    if (until > sim->now) {
        sim->now = until;
        /* Nothing is due before `until` (else the loop would have run it);
         * this only brings the stacks' clocks level with the simulator's, so
         * an API call made next sees the same `now`. */
        for (size_t i = 0; i < sim->nhosts; i++) {
            struct sim_host *h = sim->hosts[i];
            if (h->stack && !h->black_hole)
                tcpw_stack_advance(h->stack, sim->now);
        }
    }
    return n;
}

uint64_t tcpw_sim_run_idle(struct tcpw_sim *sim, uint64_t limit)
{
    uint64_t n = 0, t;

    while ((t = tcpw_sim_next_event(sim)) != TCPW_NO_DEADLINE && t <= limit) {
        sim->now = t;
        run_instant(sim);
        n++;
    }
    return n;
}
