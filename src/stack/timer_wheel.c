/* stack/ — hierarchical timer wheel with exact microsecond expiry.
 *
 * Placement rule (the one invariant everything rests on): an armed timer with
 * expiry e sits at level L = (index of the highest bit in which e and the
 * wheel's time differ) / 6, in slot (e >> 6L) & 63; e equal to the wheel's
 * time goes to level 0. Between operations every timer obeys this rule for
 * the current time, which gives:
 *
 *  - Level 0 slots each hold a single expiry, so firing needs no sorting.
 *  - In level L >= 1, occupied slots lie strictly after the time's own digit,
 *    and every event of level L is later than every event of level L-1. The
 *    next thing to do is therefore at the first occupied slot of the lowest
 *    non-empty level: one ctz per level, whatever the size of the jump.
 *  - When time reaches the start of a level-L slot, that slot is the only
 *    event at that instant; its timers are re-placed, each strictly lower, so a
 *    timer moves at most once per level.
 *  - All timers with the same expiry are in the same slot (the rule depends
 *    only on e and the time). A cascade therefore moves a whole group of equal
 *    expiries, in its order, into a slot holding none of that expiry; a direct
 *    arm appends the newest sequence number. Inside a slot, timers of one
 *    expiry stay in arming order without any sorted insertion, which is what
 *    makes same-instant firing follow arming order.
 *
 * Timers armed for a time at or before the wheel's time are stored as due at
 * the wheel's time: they go to the level-0 slot of "now", behind the timers
 * already due then. During tcpw_wheel_advance() the wheel's time is the
 * instant being processed, so a callback that arms for "now or earlier"
 * appends to the slot being fired and the timer fires in this same call.
 */
#include "stack/timer_wheel.h"

#include <assert.h>
#include <stddef.h>

#define WHEEL_MASK ((uint64_t)TCPW_WHEEL_SLOTS - 1u)

/* Bits of a time above level `level`'s digit (the part a level's rotation
 * shares with the wheel's time). Level 10 covers bits 60..63, above which
 * nothing remains; shifting a 64-bit value by 66 would be undefined. */
static uint64_t above_level_mask(unsigned level)
{
    unsigned shift = (level + 1u) * TCPW_WHEEL_BITS;
    return shift >= 64u ? 0 : ~(uint64_t)0 << shift;
}

static unsigned digit(uint64_t t, unsigned level)
{
    return (unsigned)((t >> (level * TCPW_WHEEL_BITS)) & WHEEL_MASK);
}

/* Start time of slot `slot` of `level` in the rotation that contains `now`. */
static uint64_t slot_start(uint64_t now, unsigned level, unsigned slot)
{
    return (now & above_level_mask(level)) | ((uint64_t)slot << (level * TCPW_WHEEL_BITS));
}

static unsigned level_for(uint64_t expires, uint64_t now)
{
    uint64_t diff = expires ^ now;
    if (diff == 0)
        return 0;
    return (unsigned)(63 - __builtin_clzll(diff)) / TCPW_WHEEL_BITS;
}

/* Appends `t` (expires >= w->now) to the slot the placement rule names. */
static void place(struct tcpw_wheel *w, struct tcpw_timer *t)
{
    unsigned level = level_for(t->expires, w->now);
    unsigned slot = digit(t->expires, level);
    struct tcpw_timer_slot *s = &w->slots[level][slot];

    assert(t->expires >= w->now);
    t->level = (uint8_t)level;
    t->slot = (uint8_t)slot;
    t->next = NULL;
    t->prev = s->tail;
    if (s->tail) {
        s->tail->next = t;
        if (t->expires < s->min_expires)
            s->min_expires = t->expires;
    } else {
        s->head = t;
        s->min_expires = t->expires;
        w->occupied[level] |= (uint64_t)1 << slot;
    }
    s->tail = t;
}

static void unlink_timer(struct tcpw_wheel *w, struct tcpw_timer *t)
{
    struct tcpw_timer_slot *s = &w->slots[t->level][t->slot];

    if (t->prev)
        t->prev->next = t->next;
    else
        s->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        s->tail = t->prev;
    t->next = t->prev = NULL;
    /* min_expires is left alone when the earliest member leaves: finding the
     * new earliest would cost a walk of the slot, and the old value is still
     * a lower bound of every member (and at or after the slot's start). */
    if (!s->head)
        w->occupied[t->level] &= ~((uint64_t)1 << t->slot);
}

void tcpw_wheel_init(struct tcpw_wheel *w, uint64_t now)
{
    *w = (struct tcpw_wheel){.now = now};
}

void tcpw_timer_init(struct tcpw_timer *t, tcpw_timer_fn fn)
{
    *t = (struct tcpw_timer){.fn = fn};
}

void tcpw_timer_arm(struct tcpw_wheel *w, struct tcpw_timer *t, uint64_t expires)
{
    if (t->armed)
        unlink_timer(w, t);
    else
        w->armed_count++;
    t->armed = true;
    t->expires = expires < w->now ? w->now : expires;
    t->seq = w->next_seq++;
    place(w, t);
}

void tcpw_timer_cancel(struct tcpw_wheel *w, struct tcpw_timer *t)
{
    if (!t->armed)
        return;
    unlink_timer(w, t);
    t->armed = false;
    w->armed_count--;
}

/* Finds the next event: the first occupied slot of the lowest non-empty
 * level (see the top of the file for why that is the earliest). Returns
 * false when the wheel is empty. */
static bool next_event(const struct tcpw_wheel *w, unsigned *level, unsigned *slot)
{
    for (unsigned l = 0; l < TCPW_WHEEL_LEVELS; l++) {
        uint64_t occ = w->occupied[l];
        if (occ) {
            *level = l;
            *slot = (unsigned)__builtin_ctzll(occ);
            /* Placement keeps level 0 at or after the time's digit and the
             * higher levels strictly after it. */
            assert(l == 0 ? *slot >= digit(w->now, 0) : *slot > digit(w->now, l));
            return true;
        }
    }
    return false;
}

uint64_t tcpw_wheel_next_deadline(const struct tcpw_wheel *w)
{
    unsigned level, slot;
    const struct tcpw_timer_slot *s;

    if (!next_event(w, &level, &slot))
        return UINT64_MAX;
    s = &w->slots[level][slot];
    /* Exact for level 0 (one expiry a slot) and for any slot whose earliest
     * member is still there; otherwise a lower bound, see unlink_timer(). */
    assert(s->min_expires >= slot_start(w->now, level, slot));
    return s->min_expires;
}

/* Re-places every timer of a higher-level slot whose start has been reached;
 * each lands on a strictly lower level. No callback runs here. */
static void cascade(struct tcpw_wheel *w, unsigned level, unsigned slot)
{
    struct tcpw_timer_slot *s = &w->slots[level][slot];
    struct tcpw_timer *t = s->head;

    s->head = s->tail = NULL;
    w->occupied[level] &= ~((uint64_t)1 << slot);
    while (t) {
        struct tcpw_timer *next = t->next;
        place(w, t);
        assert(t->level < level);
        t = next;
    }
}

/* Fires a level-0 slot one head at a time, so that callbacks may cancel
 * timers still waiting in it and append new ones due now, which then fire
 * in this same loop. */
static uint64_t fire_slot(struct tcpw_wheel *w, unsigned slot)
{
    struct tcpw_timer_slot *s = &w->slots[0][slot];
    struct tcpw_timer *t;
    uint64_t fired = 0;

    while ((t = s->head) != NULL) {
        assert(t->expires == w->now);
        unlink_timer(w, t);
        t->armed = false;
        w->armed_count--;
        fired++;
        if (t->fn)
            t->fn(t, w->now);
    }
    return fired;
}

uint64_t tcpw_wheel_advance(struct tcpw_wheel *w, uint64_t now)
{
    uint64_t fired = 0;
    unsigned level, slot;

    if (now < w->now)
        now = w->now;
    /* Each step jumps straight to the next slot that needs work, so the cost
     * does not depend on the distance travelled. */
    while (next_event(w, &level, &slot)) {
        uint64_t when = slot_start(w->now, level, slot);
        if (when > now)
            break;
        w->now = when;
        if (level == 0)
            fired += fire_slot(w, slot);
        else
            cascade(w, level, slot);
    }
    /* Moving to a time before every remaining slot's start keeps each timer
     * on the level the placement rule gives for the new time. */
    w->now = now;
    return fired;
}
