/* tcp/ — round-trip time estimation and the retransmission timeout.
 *
 * RFC 6298 (SRTT, RTTVAR, RTO, backoff, Karn's rule is the caller's: it
 * takes no sample from a retransmitted segment unless timestamps make the
 * sample unambiguous, RFC 7323 §4). Where RFC 6298 §2.4 rounds RTO up to
 * 1 s, tcpwave follows Linux instead: RTO = SRTT + max(4·RTTVAR, rto_min)
 * with rto_min = 200 ms, capped at rto_max = 120 s (docs/tunables.md).
 */
#ifndef TCPW_RTT_H
#define TCPW_RTT_H

#include <stdbool.h>
#include <stdint.h>

struct tcpw_rtt {
    uint32_t srtt_us;   /* RFC 6298 SRTT */
    uint32_t rttvar_us; /* RFC 6298 RTTVAR */
    uint32_t rto_us;    /* RTO before backoff */
    uint8_t backoff;    /* consecutive timeouts: the current RTO is rto_us << backoff */
    bool has_sample;
};

/* RFC 6298 §2.1: before any sample RTO is the initial value. */
void tcpw_rtt_init(struct tcpw_rtt *r, uint32_t initial_rto_us);

/* Takes one measurement r_us (RFC 6298 §2.2 first, §2.3 later ones), then
 * RTO = SRTT + max(4·RTTVAR, rto_min), clamped to [rto_min, rto_max].
 * A 0 sample is treated as 1 µs. Does not touch the backoff. */
void tcpw_rtt_sample(struct tcpw_rtt *r, uint32_t r_us, uint32_t rto_min_us, uint32_t rto_max_us);

/* The RTO to arm now: rto_us doubled `backoff` times (RFC 6298 §5.5),
 * capped at rto_max_us. Never overflows. */
uint64_t tcpw_rtt_rto(const struct tcpw_rtt *r, uint32_t rto_max_us);

/* RFC 6298 §5.5: a timeout doubles the RTO (counted in backoff, saturating). */
void tcpw_rtt_on_timeout(struct tcpw_rtt *r);

/* New data acknowledged: the backoff ends (RFC 6298 §5.7 note, Linux). */
static inline void tcpw_rtt_reset_backoff(struct tcpw_rtt *r) { r->backoff = 0; }

/* Linux's tcp_model_timeout(): the time from the first transmission until
 * `retries` retransmissions have all timed out when the first RTO is
 * rto_base_us and each doubles up to rto_max_us. With 15 retries, 200 ms and
 * 120 s this is 924.6 s. Used to turn tcp_retries2 into a give-up time. */
uint64_t tcpw_rtt_give_up_time(uint32_t retries, uint32_t rto_base_us, uint32_t rto_max_us);

#endif
