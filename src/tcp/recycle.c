/* tcp/ — tcp_tw_recycle's per-peer timestamp cache (see recycle.h).
 *
 * RFC 7323 §5.3 (PAWS), extended across connections as Linux did before
 * 4.12 (tcp_remember_stamp(), tcp_tw_remember_stamp(), tcp_peer_is_proven()
 * in net/ipv4/tcp_metrics.c). Stack time only: `seen_us` is µs of stack
 * time, never the wall clock.
 */
#include "tcp/recycle.h"

#include <errno.h>
#include <stdlib.h>

#include "tcp/tcp.h"

int tcpw__recycle_init(struct tcpw_stack *s)
{
    struct tcpw_recycle_cache *c = &s->tcp->recycle;

    c->slots = NULL;
    if (!s->cfg.tcp_tw_recycle)
        return 0;
    c->slots = calloc(RECYCLE_SLOTS, sizeof(*c->slots));
    return c->slots ? 0 : -ENOMEM;
}

void tcpw__recycle_fini(struct tcpw_stack *s)
{
    free(s->tcp->recycle.slots);
    s->tcp->recycle.slots = NULL;
}

bool tcpw__recycle_on(const struct tcpw_stack *s)
{
    return s->tcp->recycle.slots != NULL;
}

static uint32_t home_of(const struct tcpw_stack *s, uint32_t addr)
{
    return (uint32_t)tcpw_siphash24(s->tcp->secret, &addr, sizeof(addr)) & (RECYCLE_SLOTS - 1u);
}

/* Whether an entry is younger than TCP_PAWS_MSL at stack time `now`. */
static bool fresh(const struct tcpw_recycle_entry *e, uint64_t now)
{
    return e->addr != 0 && (now < e->seen_us || now - e->seen_us < RECYCLE_PAWS_MSL_US);
}

const struct tcpw_recycle_entry *tcpw__recycle_find(const struct tcpw_stack *s, uint32_t addr)
{
    const struct tcpw_recycle_entry *slots = s->tcp->recycle.slots;
    uint32_t home;

    if (!slots || addr == 0)
        return NULL;
    home = home_of(s, addr);
    for (uint32_t i = 0; i < RECYCLE_PROBE; i++) {
        const struct tcpw_recycle_entry *e = &slots[(home + i) & (RECYCLE_SLOTS - 1u)];
        if (e->addr == addr)
            return fresh(e, s->now) ? e : NULL;
    }
    return NULL;
}

/* 0 empty, 1 stale, 2 in use: the lower, the better a slot to overwrite. */
static int rank(const struct tcpw_recycle_entry *e, uint64_t now)
{
    return e->addr == 0 ? 0 : fresh(e, now) ? 2 : 1;
}

void tcpw__recycle_remember(struct tcpw_stack *s, uint32_t addr, uint32_t ts, uint64_t seen_us)
{
    struct tcpw_recycle_entry *slots = s->tcp->recycle.slots, *victim = NULL;
    uint32_t home;

    if (!slots || addr == 0)
        return;
    home = home_of(s, addr);
    for (uint32_t i = 0; i < RECYCLE_PROBE; i++) {
        struct tcpw_recycle_entry *e = &slots[(home + i) & (RECYCLE_SLOTS - 1u)];
        if (e->addr == addr) {
            /* Linux's tcp_tw_remember_stamp(): keep the newer TSval, or
             * replace one that has gone stale. */
            if (!fresh(e, s->now) || (int32_t)(e->ts - ts) <= 0) {
                e->ts = ts;
                e->seen_us = seen_us;
            }
            return;
        }
        /* The victim for a new peer: an empty slot, else a stale one, else
         * the one seen longest ago (the cache is bounded; losing an entry
         * only makes recycling forget a peer, which is the safe side). */
        if (!victim || rank(e, s->now) < rank(victim, s->now) ||
            (rank(e, s->now) == 2 && rank(victim, s->now) == 2 && e->seen_us < victim->seen_us))
            victim = e;
    }
    victim->addr = addr;
    victim->ts = ts;
    victim->seen_us = seen_us;
}

bool tcpw__recycle_syn_rejected(const struct tcpw_stack *s, uint32_t addr, uint32_t tsval)
{
    const struct tcpw_recycle_entry *e = tcpw__recycle_find(s, addr);

    /* Linux: (s32)(tcpm_ts - req->ts_recent) > TCP_PAWS_WINDOW. */
    return e && (int32_t)(e->ts - tsval) > (int32_t)RECYCLE_PAWS_WINDOW;
}
