/* tcp/ — the ports a destination costs: how many ports of
 * ip_local_port_range toward one (local address, remote address, remote
 * port) are held by live connections, by TIME_WAIT records and by
 * listeners, and how many connect() can still pick.
 *
 * RFC 6056 §2.1 and §3.3.3: an outgoing connection needs a local port whose
 * 4-tuple toward the destination is unused, so each destination has its own
 * budget of ip_local_port_range ports, and RFC 9293 §3.4.2 keeps a port of
 * that budget held for 2MSL after every connection that closed first. A
 * client that opens and closes quickly runs out of one destination's ports
 * long before the stack runs out of memory; these counts show it coming.
 *
 * tcpw_port_usage() answers for one destination with one lookup per port of
 * the range. tcpw_port_usage_foreach() finds every destination from the
 * tables themselves: one pass over the live connections and one over the
 * TIME_WAIT records, aggregated in a temporary hash table keyed like the
 * tables (SipHash under the stack secret, so a peer cannot choose colliding
 * destinations), then sorted. Both count a port once, with the precedence
 * connection > TIME_WAIT record > listener, so they agree exactly.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/sock.h"
#include "tcp/conn.h"
#include "tcp/dest_map.h"
#include "tcp/tcp.h"
#include "tcpwave/timewait.h"

/* ---- one destination ---- */

int tcpw_port_usage(const struct tcpw_stack *stack, uint32_t laddr, uint32_t raddr, uint16_t rport,
                    struct tcpw_port_usage *out)
{
    /* The lookups below only read; they take a non-const stack. */
    struct tcpw_stack *s = (struct tcpw_stack *)(uintptr_t)stack;
    uint32_t lo, hi;

    if (out)
        memset(out, 0, sizeof(*out));
    if (!stack || !stack->tcp || !out || raddr == 0 || rport == 0)
        return -EINVAL;
    if (laddr == 0)
        laddr = stack->addr;
    lo = stack->cfg.ip_local_port_range_min;
    hi = stack->cfg.ip_local_port_range_max;
    out->range = hi - lo + 1u;
    /* O(range): a diagnostic call, not a per-connect() path. The per-port
     * holder counts (tcp/port_holds) spare the hash lookups for the ports
     * no connection or record uses at all. */
    for (uint32_t port = lo; port <= hi; port++) {
        struct tcpw_tuple tu = {laddr, raddr, (uint16_t)port, rport};
        if (tcpw__holds_conn_on(s, (uint16_t)port) && tcpw__conn_find(s, &tu))
            out->connections++;
        else if (tcpw__holds_tw_on(s, (uint16_t)port) && tcpw__tw_find(s, &tu))
            out->time_wait++;
        else if (tcpw__listener_find(s, laddr, (uint16_t)port))
            out->listening++;
    }
    out->free = out->range - out->connections - out->time_wait - out->listening;
    return 0;
}

/* ---- every destination ---- */

#define AGG_INITIAL 16u
#define AGG_MAX     (UINT32_C(1) << 31)

/* A listener whose port is in the range: (port, addr), addr 0 for any of
 * ours, as tcpw__listener_find() matches it. */
struct lis {
    uint16_t port;
    uint32_t addr;
};

/* One destination being counted. */
struct agg_entry {
    struct tcpw_dest_entry dest;   /* first: the map's part */
    struct tcpw_port_dest_usage d; /* usage.connections and .time_wait count up */
    uint32_t held_listening;       /* held ports a listener for d.laddr also has */
};

struct agg {
    const struct tcpw_stack *s;
    uint32_t lo, hi;
    const struct lis *lis; /* sorted by (port, addr) */
    size_t nlis;
    struct tcpw_dest_map map; /* of struct agg_entry, while counting */
    struct agg_entry *e;      /* then the entries, dense (agg_finish) */
    uint32_t n;
    int err;
};

static int cmp_lis(const void *a, const void *b)
{
    const struct lis *x = a, *y = b;
    if (x->port != y->port)
        return x->port < y->port ? -1 : 1;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Whether tcpw__listener_find(s, laddr, port) would find one, in
 * O(log listeners) instead of a walk of the list. */
static bool lis_has(const struct agg *a, uint32_t laddr, uint16_t port)
{
    size_t lo = 0, hi = a->nlis;

    while (lo < hi) { /* the first entry with this port or a later one */
        size_t mid = lo + (hi - lo) / 2u;
        if (a->lis[mid].port < port)
            lo = mid + 1u;
        else
            hi = mid;
    }
    for (; lo < a->nlis && a->lis[lo].port == port; lo++)
        if (a->lis[lo].addr == 0 || a->lis[lo].addr == laddr)
            return true;
    return false;
}

/* Ports of the range a listener for `laddr` has, each once: what
 * tcpw_port_usage() counts as listening before the destination's own
 * connections and records take their ports. O(listeners). */
static uint32_t lis_ports(const struct agg *a, uint32_t laddr)
{
    uint32_t n = 0;

    for (size_t i = 0; i < a->nlis;) {
        uint16_t port = a->lis[i].port;
        bool match = false;
        for (; i < a->nlis && a->lis[i].port == port; i++)
            match = match || a->lis[i].addr == 0 || a->lis[i].addr == laddr;
        n += match ? 1u : 0u;
    }
    return n;
}

/* The listeners whose port is in the range, sorted; *out NULL when there are
 * none. Returns 0 or -ENOMEM. */
static int lis_collect(const struct tcpw_stack *s, uint32_t lo, uint32_t hi, struct lis **out,
                       size_t *n)
{
    const struct tcpw_listener *l;
    struct lis *v;
    size_t cap = 0, k = 0;

    *out = NULL;
    *n = 0;
    for (l = s->tcp->listeners; l; l = l->next)
        if (l->port >= lo && l->port <= hi)
            cap++;
    if (!cap)
        return 0;
    v = malloc(cap * sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (l = s->tcp->listeners; l; l = l->next)
        if (l->port >= lo && l->port <= hi)
            v[k++] = (struct lis){l->port, l->addr};
    qsort(v, k, sizeof(*v), cmp_lis);
    *out = v;
    *n = k;
    return 0;
}

/* Counts one port the 4-tuple u holds for its destination. */
static int agg_add(struct agg *a, const struct tcpw_tuple *u, bool is_conn)
{
    struct tcpw_dest k = {.laddr = u->laddr, .raddr = u->raddr, .rport = u->rport};
    struct agg_entry *e;
    uint32_t hash;

    /* Only ports of the range count. A tuple tcpw_port_usage() could not be
     * asked about (an address or remote port 0) cannot be in the tables:
     * such segments are dropped before TCP sees them. */
    if (u->lport < a->lo || u->lport > a->hi || u->laddr == 0 || u->raddr == 0 || u->rport == 0)
        return 0;
    hash = tcpw__dest_hash(a->s->tcp->secret, &k);
    /* The map's entries are struct agg_entry, the map's part first. */
    e = (struct agg_entry *)tcpw__dest_map_find(&a->map, &k, hash);
    if (!e) {
        if (tcpw__dest_map_reserve(&a->map) != 0)
            return -ENOMEM;
        e = (struct agg_entry *)tcpw__dest_map_insert(&a->map, &k, hash);
        e->d.laddr = u->laddr;
        e->d.raddr = u->raddr;
        e->d.rport = u->rport;
    }
    if (is_conn)
        e->d.usage.connections++;
    else
        e->d.usage.time_wait++;
    if (lis_has(a, u->laddr, u->lport))
        e->held_listening++;
    return 0;
}

static int agg_tw(void *user, const struct tcpw_tw *tw)
{
    struct agg *a = user;
    /* The lookup only reads; it takes a non-const stack. */
    struct tcpw_stack *s = (struct tcpw_stack *)(uintptr_t)a->s;

    /* A record and a connection never share a 4-tuple (the connection takes
     * the record's place, RFC 6191 / tcp_tw_reuse); should they, the port
     * counts once, as the connection's. */
    if (tcpw__conn_find(s, &tw->tuple))
        return 0;
    a->err = agg_add(a, &tw->tuple, false);
    return a->err ? 1 : 0;
}

static uint32_t held(const struct agg_entry *e)
{
    return e->d.usage.connections + e->d.usage.time_wait;
}

static int cmp_laddr(const void *x, const void *y)
{
    const struct agg_entry *a = x, *b = y;
    return a->d.laddr < b->d.laddr ? -1 : a->d.laddr > b->d.laddr;
}

/* Most held first, then (raddr, rport, laddr) ascending: a total order, so
 * the listing is the same every time. */
static int cmp_order(const void *x, const void *y)
{
    const struct agg_entry *a = x, *b = y;

    if (held(a) != held(b))
        return held(a) > held(b) ? -1 : 1;
    if (a->d.raddr != b->d.raddr)
        return a->d.raddr < b->d.raddr ? -1 : 1;
    if (a->d.rport != b->d.rport)
        return a->d.rport < b->d.rport ? -1 : 1;
    return a->d.laddr < b->d.laddr ? -1 : a->d.laddr > b->d.laddr;
}

/* Live connections, orphans and handshakes included: every node of the
 * table. */
static int agg_conns(struct agg *a)
{
    const struct tcpw_tuple_table *t = &a->s->tcp->conns;
    int err = 0;

    for (size_t b = 0; b < tcpw_tuple_table_chains(t) && !err; b++)
        for (const struct tcpw_tuple_node *n = tcpw_tuple_table_chain(t, b); n && !err;
             n = n->next)
            err = agg_add(a, &n->tuple, true);
    return err;
}

/* Takes the entries out of the map as a dense array, then settles
 * `listening` (one pass over the listeners per local address) and `free`,
 * and sorts for output. */
static void agg_finish(struct agg *a)
{
    uint32_t range = a->hi - a->lo + 1u, listening = 0;

    a->e = (struct agg_entry *)tcpw__dest_map_take(&a->map, &a->n);
    qsort(a->e, a->n, sizeof(*a->e), cmp_laddr);
    for (size_t i = 0; i < a->n; i++) {
        struct tcpw_port_usage *u = &a->e[i].d.usage;
        if (i == 0 || a->e[i].d.laddr != a->e[i - 1u].d.laddr)
            listening = lis_ports(a, a->e[i].d.laddr);
        u->range = range;
        u->listening = listening - a->e[i].held_listening;
        u->free = range - u->connections - u->time_wait - u->listening;
    }
    qsort(a->e, a->n, sizeof(*a->e), cmp_order);
}

int tcpw_port_usage_foreach(const struct tcpw_stack *stack,
                            int (*fn)(void *user, const struct tcpw_port_dest_usage *d), void *user)
{
    struct agg a;
    struct lis *lis = NULL;
    int err;

    if (!stack || !stack->tcp || !fn)
        return -EINVAL;
    memset(&a, 0, sizeof(a));
    tcpw__dest_map_init(&a.map, sizeof(struct agg_entry), AGG_INITIAL, AGG_MAX);
    a.s = stack;
    a.lo = stack->cfg.ip_local_port_range_min;
    a.hi = stack->cfg.ip_local_port_range_max;
    err = lis_collect(stack, a.lo, a.hi, &lis, &a.nlis);
    a.lis = lis;
    if (!err)
        err = agg_conns(&a);
    if (!err && tcpw__tw_walk(stack, agg_tw, &a))
        err = a.err;
    if (!err && a.map.used) {
        agg_finish(&a);
        /* The callback sees our copy: nothing it does can disturb the walk. */
        for (size_t i = 0; i < a.n && !err; i++)
            err = fn(user, &a.e[i].d);
    }
    tcpw__dest_map_fini(&a.map);
    free(a.e);
    free(lis);
    return err;
}
