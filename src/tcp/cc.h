/* tcp/ — congestion control: NewReno.
 *
 * RFC 5681 (slow start, congestion avoidance with appropriate byte counting,
 * fast retransmit / fast recovery), RFC 6582 (NewReno: partial ACKs, the
 * `recover` variable), RFC 6928 / Linux (initial window of 10 segments).
 * The connection decides what is a duplicate ACK (RFC 5681 §2) and does the
 * sending; this module only keeps cwnd/ssthresh and says what to retransmit.
 */
#ifndef TCPW_CC_H
#define TCPW_CC_H

#include <stdbool.h>
#include <stdint.h>

struct tcpw_cc {
    uint32_t mss;
    uint32_t cwnd;      /* bytes, including fast-recovery inflation */
    uint32_t ssthresh;  /* bytes; UINT32_MAX initially (RFC 5681 §3.1: "arbitrarily high") */
    uint32_t dupacks;   /* consecutive duplicate ACKs */
    uint32_t recover;   /* RFC 6582 `recover`, as an exclusive end: SND.NXT when loss was
                         * detected (the RFC's "highest sequence number transmitted" + 1);
                         * once SND.UNA passes it, it trails SND.UNA (RFC 6582 §6) */
    uint32_t ca_acked;  /* bytes acked in congestion avoidance since the last increase */
    bool in_recovery;   /* in fast recovery */
};

enum tcpw_cc_action {
    TCPW_CC_NONE,
    TCPW_CC_RETRANSMIT_FIRST, /* retransmit the segment at SND.UNA now */
};

/* Initial window: 10 segments (RFC 6928, Linux's TCP_INIT_CWND). */
void tcpw_cc_init(struct tcpw_cc *cc, uint32_t mss, uint32_t snd_una);

/* MSS changed (negotiated or path MTU): keeps cwnd in whole segments. */
void tcpw_cc_set_mss(struct tcpw_cc *cc, uint32_t mss);

/* An ACK advanced SND.UNA to `ack` acknowledging `acked` new bytes. Grows
 * cwnd (slow start or congestion avoidance), or in recovery handles a
 * partial ACK (ack before `recover`; RFC 6582 §3.2 step 3: returns
 * TCPW_CC_RETRANSMIT_FIRST, deflates) or a full ACK (ack at or beyond
 * `recover`; same step: leaves recovery, cwnd = min(ssthresh,
 * max(flight_after, mss) + mss)). `flight_after` is what is still
 * outstanding after this ACK. Resets dupacks. */
enum tcpw_cc_action tcpw_cc_on_ack(struct tcpw_cc *cc, uint32_t ack, uint32_t acked,
                                   uint32_t flight_after);

/* A duplicate ACK (RFC 5681 §2 definition). On the third (RFC 6582 §3.2
 * step 2: only when SND.UNA is beyond `recover`, i.e. the ACK covers more
 * than what was outstanding at the last loss, or this is the first loss),
 * enters fast recovery: ssthresh = max(flight/2, 2·mss), recover = snd_nxt,
 * cwnd = ssthresh + 3·mss, returns TCPW_CC_RETRANSMIT_FIRST. After that each
 * further one inflates cwnd by mss (RFC 5681 §3.2 step 4). */
enum tcpw_cc_action tcpw_cc_on_dupack(struct tcpw_cc *cc, uint32_t snd_una, uint32_t snd_nxt,
                                      uint32_t flight);

/* Retransmission timeout (RFC 5681 §3.1 eq. 4, RFC 6582 §3.2 step 4 note):
 * ssthresh = max(flight/2, 2·mss), cwnd = 1 segment (loss window), leaves
 * recovery, recover = snd_nxt, dupacks = 0. */
void tcpw_cc_on_timeout(struct tcpw_cc *cc, uint32_t flight, uint32_t snd_nxt);

/* RFC 5681 §4.1: after an idle period longer than RTO, cwnd restarts at
 * min(cwnd, initial window). */
void tcpw_cc_on_idle_restart(struct tcpw_cc *cc);

#endif
