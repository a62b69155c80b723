/* tcp/ — congestion control: NewReno.
 *
 * RFC 5681 §3.1 (slow start, congestion avoidance by byte counting, the
 * loss window after a timeout), RFC 5681 §3.2 (fast retransmit / fast
 * recovery), RFC 6582 §3.2 (NewReno: the `recover` variable, partial and full
 * acknowledgments), RFC 6928 / Linux TCP_INIT_CWND (initial window of 10
 * segments), RFC 5681 §4.1 (restart after idle).
 *
 * Conventions of this file:
 *  - Every byte count saturates at UINT32_MAX instead of wrapping, and an
 *    MSS of 0 is taken as 1, so no input makes cwnd wrap to a tiny value or 0.
 *  - `recover` is an exclusive end: it holds SND.NXT at the moment loss was
 *    detected, one more than RFC 6582's "highest sequence number
 *    transmitted". Hence an ACK `ack` acknowledges "all of the data up to and
 *    including recover" (full ACK) when ack >= recover, and the Cumulative
 *    Acknowledgment field "covers more than recover" (RFC 6582 §3.2 step 2,
 *    "ack_number - 1 > recover") when SND.UNA > recover.
 *  - Sequence numbers are compared only with the wrap-safe helpers.
 */
#include "tcp/cc.h"

#include <stdint.h>

#include "tcp/seq.h"

#define CC_INIT_CWND_SEGS   10u /* RFC 6928, Linux TCP_INIT_CWND */
#define CC_DUPACK_THRESHOLD 3u  /* RFC 5681 §3.2: the third duplicate ACK */

static uint32_t sat_add(uint32_t a, uint32_t b)
{
    return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

static uint32_t sat_mul(uint32_t a, uint32_t b)
{
    uint64_t p = (uint64_t)a * b;
    return p > UINT32_MAX ? UINT32_MAX : (uint32_t)p;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}
static uint32_t max_u32(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
}

static uint32_t initial_window(const struct tcpw_cc *cc)
{
    return sat_mul(cc->mss, CC_INIT_CWND_SEGS);
}

/* RFC 5681 §3.1 equation (4), used both by fast retransmit (§3.2 step 2) and
 * by the retransmission timeout: ssthresh = max(FlightSize / 2, 2·SMSS).
 * FlightSize, not cwnd (the §3.1 implementation note). */
static uint32_t loss_ssthresh(const struct tcpw_cc *cc, uint32_t flight)
{
    return max_u32(flight / 2, sat_mul(cc->mss, 2));
}

void tcpw_cc_init(struct tcpw_cc *cc, uint32_t mss, uint32_t snd_una)
{
    cc->mss = mss ? mss : 1;
    cc->cwnd = initial_window(cc);
    /* RFC 5681 §3.1: "the initial value of ssthresh SHOULD be set
     * arbitrarily high". */
    cc->ssthresh = UINT32_MAX;
    cc->dupacks = 0;
    /* RFC 6582 §3.2 step 1 initializes recover to the ISS. With the
     * exclusive convention, one below SND.UNA is the value that lets the very
     * first loss (even of the first data byte) enter fast retransmit, which
     * the header promises ("or this is the first loss"). */
    cc->recover = snd_una - 1;
    cc->ca_acked = 0;
    cc->in_recovery = false;
}

void tcpw_cc_set_mss(struct tcpw_cc *cc, uint32_t mss)
{
    if (!mss)
        mss = 1;
    if (mss == cc->mss)
        return;
    if (!cc->mss) {
        /* Not initialised yet (the handshake has not finished, e.g. a path
         * MTU report during SYN-SENT): tcpw_cc_init will size the window. */
        cc->mss = mss;
        return;
    }
    /* Keep the window's size in segments (as Linux, which counts cwnd in
     * packets): 10 segments of a provisional 536-byte MSS become 10 segments
     * of the negotiated one. Rounded down, never below 1 segment (2 for
     * ssthresh, eq. (4)'s floor). */
    uint32_t segs = max_u32(cc->cwnd / cc->mss, 1);
    cc->cwnd = sat_mul(segs, mss);
    if (cc->ssthresh != UINT32_MAX) {
        segs = max_u32(cc->ssthresh / cc->mss, 2);
        cc->ssthresh = sat_mul(segs, mss);
    }
    cc->mss = mss;
}

enum tcpw_cc_action tcpw_cc_on_ack(struct tcpw_cc *cc, uint32_t ack, uint32_t acked,
                                   uint32_t flight_after)
{
    enum tcpw_cc_action action = TCPW_CC_NONE;

    /* RFC 5681 §2: an ACK that advances SND.UNA ends a run of duplicates. */
    cc->dupacks = 0;

    if (cc->in_recovery) {
        if (seq_geq(ack, cc->recover)) {
            /* RFC 6582 §3.2 step 3, full acknowledgment: deflate with option
             * (1), cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS), which
             * avoids a burst when little is outstanding, and exit fast
             * recovery. cwnd is then left alone until the next event
             * (RFC 6582 §6): no growth on this ACK. */
            uint32_t flight = max_u32(flight_after, cc->mss);
            cc->cwnd = min_u32(cc->ssthresh, sat_add(flight, cc->mss));
            cc->in_recovery = false;
            cc->ca_acked = 0;
        } else {
            /* RFC 6582 §3.2 step 3, partial acknowledgment: retransmit the
             * first unacknowledged segment, deflate cwnd by the newly
             * acknowledged data and, when that was at least one SMSS, add
             * one SMSS back for the retransmission that has left the
             * network. Stay in fast recovery. tcpwave keeps at least one
             * segment so that a large partial ACK cannot zero the window. */
            uint32_t cwnd = cc->cwnd > acked ? cc->cwnd - acked : 0;
            if (acked >= cc->mss)
                cwnd = sat_add(cwnd, cc->mss);
            cc->cwnd = max_u32(cwnd, cc->mss);
            action = TCPW_CC_RETRANSMIT_FIRST;
        }
        return action;
    }

    /* RFC 6582 §6: outside recovery, recover must follow SND.UNA or, after
     * 2^31 bytes, the wrap-safe comparison of step 2 would flip and forbid
     * fast retransmit. Once SND.UNA has passed recover it only needs to stay
     * just below SND.UNA; until then (after a timeout) it is left where it
     * is, which is what keeps dupacks from re-entering recovery. */
    if (seq_gt(ack, cc->recover))
        cc->recover = ack - 1;

    if (cc->cwnd < cc->ssthresh) {
        /* RFC 5681 §3.1 slow start, equation (2): cwnd += min(N, SMSS) per
         * ACK, where N is the number of newly acknowledged bytes. tcpwave
         * takes RFC 5681's limit L = 1 SMSS rather than RFC 3465's 2 SMSS, so
         * a stretch ACK cannot burst. */
        cc->cwnd = sat_add(cc->cwnd, min_u32(acked, cc->mss));
    } else {
        /* RFC 5681 §3.1 congestion avoidance (cwnd >= ssthresh), the
         * recommended byte counting: once the bytes acknowledged since the
         * last increase reach cwnd, cwnd += SMSS. The excess is carried
         * over, so the growth is one SMSS per cwnd acknowledged. */
        cc->ca_acked = sat_add(cc->ca_acked, acked);
        if (cc->ca_acked >= cc->cwnd) {
            cc->ca_acked -= cc->cwnd;
            cc->cwnd = sat_add(cc->cwnd, cc->mss);
        }
    }
    return action;
}

enum tcpw_cc_action tcpw_cc_on_dupack(struct tcpw_cc *cc, uint32_t snd_una, uint32_t snd_nxt,
                                      uint32_t flight)
{
    if (cc->dupacks < UINT32_MAX)
        cc->dupacks++;

    if (cc->in_recovery) {
        /* RFC 5681 §3.2 step 4 (and RFC 6582 §3.2 step 3 after a partial
         * ACK): each further duplicate ACK means a segment has left the
         * network, so inflate cwnd by SMSS. */
        cc->cwnd = sat_add(cc->cwnd, cc->mss);
        return TCPW_CC_NONE;
    }

    if (cc->dupacks != CC_DUPACK_THRESHOLD)
        return TCPW_CC_NONE;

    /* RFC 6582 §3.2 step 2: enter fast retransmit only when the cumulative
     * ACK covers more than recover; otherwise these duplicates may be
     * caused by our own retransmissions of data already declared lost (after
     * a timeout, or just after a recovery), and ssthresh is not reduced
     * again. */
    if (!seq_gt(snd_una, cc->recover))
        return TCPW_CC_NONE;

    /* RFC 5681 §3.2 step 2: ssthresh by equation (4); RFC 6582 step 2:
     * recover = the highest sequence number sent (here SND.NXT, exclusive);
     * RFC 5681 §3.2 step 3: retransmit, cwnd = ssthresh + 3·SMSS for the
     * three segments the duplicates say have left the network. */
    cc->ssthresh = loss_ssthresh(cc, flight);
    cc->recover = snd_nxt;
    cc->cwnd = sat_add(cc->ssthresh, sat_mul(cc->mss, CC_DUPACK_THRESHOLD));
    cc->ca_acked = 0;
    cc->in_recovery = true;
    return TCPW_CC_RETRANSMIT_FIRST;
}

void tcpw_cc_on_timeout(struct tcpw_cc *cc, uint32_t flight, uint32_t snd_nxt)
{
    /* RFC 5681 §3.1: ssthresh by equation (4) and cwnd = the loss window,
     * one full-sized segment (regardless of the initial window). `flight` is
     * FlightSize, SND.MAX − SND.UNA, and `snd_nxt` the highest sequence sent
     * plus one (SND.MAX when the caller rewinds SND.NXT to resend).
     * RFC 6582 §3.2 step 4: record that in recover and exit fast recovery, so
     * the duplicates our go-back-N retransmissions provoke do not start a
     * fast retransmit before SND.UNA passes it. */
    cc->ssthresh = loss_ssthresh(cc, flight);
    cc->cwnd = cc->mss;
    cc->in_recovery = false;
    cc->recover = snd_nxt;
    cc->dupacks = 0;
    cc->ca_acked = 0;
}

void tcpw_cc_on_idle_restart(struct tcpw_cc *cc)
{
    /* RFC 5681 §4.1: after an idle period longer than RTO the ACK clock is
     * gone; restart from RW = min(IW, cwnd). ssthresh is kept. */
    cc->cwnd = min_u32(cc->cwnd, initial_window(cc));
    cc->ca_acked = 0;
}
