/* stack/ — hierarchical timer wheel with exact microsecond expiry.
 *
 * Every operation is O(1): arm and cancel link/unlink an intrusive node;
 * advancing moves each timer down at most once per level (a constant number
 * of levels), and firing pops from the head of a slot.
 *
 * Order: timers fire in order of expiry; timers due at the same instant fire
 * in the order they were armed (re-arming counts as a new arming). A
 * simulated run is therefore the same run every time.
 *
 * The wheel never reads a clock; `now` comes from the caller.
 */
#ifndef TCPW_TIMER_WHEEL_H
#define TCPW_TIMER_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

#define TCPW_WHEEL_BITS 6u                        /* 64 slots a level */
#define TCPW_WHEEL_SLOTS (1u << TCPW_WHEEL_BITS)
#define TCPW_WHEEL_LEVELS 11u                     /* 11 * 6 = 66 >= 64 bits of µs */

struct tcpw_timer;
/* Expiry callback. `now` is the instant the timer fell due (its `expires`),
 * not the target of the tcpw_wheel_advance() that runs it, so a timer re-armed
 * at now + interval keeps exact time however coarsely the wheel is advanced;
 * during the call the wheel's own time is that instant too. It may re-arm or
 * cancel any timer, including its own, and arm timers due at or before the
 * advance target (they fire in this same advance, in (expires, arming) order;
 * an expiry before `now` counts as `now`). It must not call
 * tcpw_wheel_advance() on the same wheel. */
typedef void (*tcpw_timer_fn)(struct tcpw_timer *timer, uint64_t now);

/* Intrusive timer: embed it in the owning object and recover the owner with
 * a container_of-style cast in the callback. Zero-initialise, or call
 * tcpw_timer_init(), before first use. */
struct tcpw_timer {
    struct tcpw_timer *next, *prev; /* slot list; NULL when idle */
    uint64_t expires;               /* µs; an expiry in the past is stored as the
                                       wheel's time when armed (it is due now) */
    uint64_t seq;                   /* arming order, for ties */
    tcpw_timer_fn fn;
    uint8_t level;                  /* internal */
    uint8_t slot;                   /* internal */
    bool armed;
};

struct tcpw_timer_slot {
    struct tcpw_timer *head, *tail; /* in arming order among equal expiries */
    uint64_t min_expires; /* earliest expiry placed here since the slot was last
                             empty (that timer may have left: a lower bound) */
};

struct tcpw_wheel {
    uint64_t now;                   /* time the wheel has been advanced to */
    uint64_t next_seq;
    uint64_t armed_count;
    uint64_t occupied[TCPW_WHEEL_LEVELS]; /* bit i set: slot i of the level non-empty */
    struct tcpw_timer_slot slots[TCPW_WHEEL_LEVELS][TCPW_WHEEL_SLOTS];
};

void tcpw_wheel_init(struct tcpw_wheel *w, uint64_t now);

void tcpw_timer_init(struct tcpw_timer *t, tcpw_timer_fn fn);

/* Arms (or re-arms) `t` to fire at `expires`. An expiry at or before the
 * wheel's time fires at the next tcpw_wheel_advance(), as if armed for the
 * wheel's time (t->expires is set to it), after the timers already due then. */
void tcpw_timer_arm(struct tcpw_wheel *w, struct tcpw_timer *t, uint64_t expires);

/* Disarms `t`; harmless when it is not armed. */
void tcpw_timer_cancel(struct tcpw_wheel *w, struct tcpw_timer *t);

static inline bool tcpw_timer_armed(const struct tcpw_timer *t) { return t->armed; }

/* Earliest time at which advancing can do anything; never later than the
 * earliest expiry and never before the wheel's time. It is that exact expiry,
 * except when the slot holding the earliest timer (always a higher-level slot
 * then) has lost its earliest member to a cancel or re-arm since the slot was
 * last empty: then it is the expiry that member had, a lower bound at or after
 * the slot's start. Advancing to a lower bound fires nothing but cascades
 * that slot, after which the answer is exact. UINT64_MAX when nothing is
 * armed. O(levels). */
uint64_t tcpw_wheel_next_deadline(const struct tcpw_wheel *w);

/* Fires every timer with expires <= now, in order (see above), and moves the
 * wheel's time to `now` (never backwards: a smaller `now` only fires what is
 * already due). Returns the number fired. Cost is O(levels) per slot visited
 * plus O(levels) per timer, independent of how far time jumps. */
uint64_t tcpw_wheel_advance(struct tcpw_wheel *w, uint64_t now);

#endif
