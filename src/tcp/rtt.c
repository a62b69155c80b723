/* tcp/ — round-trip time estimation and the retransmission timeout.
 *
 * RFC 6298 (SRTT/RTTVAR estimator §2, exponential backoff §5.5), with
 * Linux's RTO rule in place of §2.4's 1 s floor: RTO = SRTT +
 * max(4·RTTVAR, rto_min), clamped to [rto_min, rto_max] (see rtt.h).
 * tcpw_rtt_give_up_time() is Linux's tcp_model_timeout().
 *
 * Rounding. The struct keeps SRTT and RTTVAR in whole microseconds, not in
 * scaled fixed point as Linux does, so every division rounds to the nearest
 * microsecond with ties upward:
 *
 *   first sample R   SRTT = R, RTTVAR = (R + 1) / 2
 *   later sample R'  RTTVAR = (3·RTTVAR + |SRTT − R'| + 2) / 4
 *                    SRTT   = (7·SRTT + R' + 4) / 8
 *
 * (integer division, RTTVAR computed first from the old SRTT, as §2.3
 * orders it). Under a constant RTT, SRTT therefore settles within 4 µs of
 * it and RTTVAR at a few µs instead of converging exactly to R and 0, far
 * below any timer's granularity.
 * All intermediate values are computed in 64 bits, so no sample can
 * overflow.
 */
#include "tcp/rtt.h"

#include <stdint.h>

/* A shift of 32 already moves any non-zero 32-bit RTO past any 32-bit
 * rto_max, and (2^32 − 1) << 32 still fits in 64 bits. */
#define RTT_MAX_SHIFT 32u

void tcpw_rtt_init(struct tcpw_rtt *r, uint32_t initial_rto_us)
{
    /* RFC 6298 §2.1: until a measurement is made, RTO is the initial value
     * (1 s by default, tcp_rto_initial). */
    r->srtt_us = 0;
    r->rttvar_us = 0;
    r->rto_us = initial_rto_us;
    r->backoff = 0;
    r->has_sample = false;
}

static uint64_t clamp_u64(uint64_t v, uint64_t lo, uint64_t hi)
{
    /* hi wins when a misconfiguration makes lo > hi: the RTO must never
     * exceed rto_max (tcpw_config_validate rejects that case anyway). */
    if (v < lo)
        v = lo;
    if (v > hi)
        v = hi;
    return v;
}

void tcpw_rtt_sample(struct tcpw_rtt *r, uint32_t r_us, uint32_t rto_min_us, uint32_t rto_max_us)
{
    uint64_t m = r_us ? r_us : 1; /* a 0 µs sample would make SRTT 0: treat as 1 µs */

    if (!r->has_sample) {
        /* RFC 6298 §2.2: the first measurement R sets SRTT <- R and
         * RTTVAR <- R/2. */
        r->srtt_us = (uint32_t)m;
        r->rttvar_us = (uint32_t)((m + 1) / 2);
        r->has_sample = true;
    } else {
        /* RFC 6298 §2.3 with alpha = 1/8 and beta = 1/4; RTTVAR uses the
         * SRTT from before this sample. Both results are weighted means of
         * 32-bit values, so they fit back into 32 bits. */
        uint64_t srtt = r->srtt_us;
        uint64_t diff = srtt > m ? srtt - m : m - srtt;
        r->rttvar_us = (uint32_t)((3 * (uint64_t)r->rttvar_us + diff + 2) / 4);
        r->srtt_us = (uint32_t)((7 * srtt + m + 4) / 8);
    }

    /* RFC 6298 §2.3 computes RTO = SRTT + max(G, K·RTTVAR); Linux (and
     * tcpwave) use rto_min as that lower bound on the variance term, which
     * is what keeps a 1 ms path at 201 ms rather than 1 s (§2.4). */
    uint64_t var = 4 * (uint64_t)r->rttvar_us;
    if (var < rto_min_us)
        var = rto_min_us;
    r->rto_us = (uint32_t)clamp_u64((uint64_t)r->srtt_us + var, rto_min_us, rto_max_us);
}

uint64_t tcpw_rtt_rto(const struct tcpw_rtt *r, uint32_t rto_max_us)
{
    /* RFC 6298 §5.5: each timeout doubles the RTO; §2.5 allows a maximum
     * (Linux: TCP_RTO_MAX, 120 s). The shift is capped so that it is always
     * defined and the product always fits in 64 bits. */
    unsigned shift = r->backoff < RTT_MAX_SHIFT ? r->backoff : RTT_MAX_SHIFT;
    uint64_t rto = (uint64_t)r->rto_us << shift;
    return rto < rto_max_us ? rto : rto_max_us;
}

void tcpw_rtt_on_timeout(struct tcpw_rtt *r)
{
    /* RFC 6298 §5.5: "back off the timer". The count saturates instead of
     * wrapping back to an RTO of rto_us after 256 timeouts. */
    if (r->backoff < UINT8_MAX)
        r->backoff++;
}

/* floor(log2(v)) for v >= 1. */
static unsigned ilog2_u32(uint32_t v)
{
    unsigned n = 0;
    while (v >>= 1)
        n++;
    return n;
}

uint64_t tcpw_rtt_give_up_time(uint32_t retries, uint32_t rto_base_us, uint32_t rto_max_us)
{
    /* Linux tcp_model_timeout(): the RTO doubles from rto_base while that
     * stays at or below rto_max, i.e. for the first
     * thresh = ilog2(rto_max / rto_base) retransmissions, and is rto_max
     * from then on. The sum of RTOs 0..retries is therefore
     *   ((2 << retries) − 1) · base                              if retries <= thresh
     *   ((2 << thresh) − 1) · base + (retries − thresh) · max    otherwise.
     * A base above max is clamped to max (every RTO is then max), which
     * also keeps the ratio >= 1 so ilog2 is defined. */
    uint64_t base = rto_base_us < rto_max_us ? rto_base_us : rto_max_us;
    uint64_t max = rto_max_us;
    if (base == 0)
        return 0;

    unsigned thresh = ilog2_u32((uint32_t)(max / base)); /* <= 31 */
    if (retries <= thresh)
        return (((uint64_t)2 << retries) - 1) * base;

    /* No overflow: 2^thresh · base <= max, so the first term is < 2·max,
     * and the total is < (retries + 2) · max <= (2^32 + 1)(2^32 − 1)
     * = 2^64 − 1. */
    return (((uint64_t)2 << thresh) - 1) * base + (uint64_t)(retries - thresh) * max;
}
