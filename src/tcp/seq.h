/* tcp/ — sequence-number arithmetic (RFC 9293 §3.4, RFC 1982 style).
 *
 * Sequence numbers live on a 2^32 circle; they are compared only through
 * these helpers, never with < on raw values, so that wrap-around is right.
 */
#ifndef TCPW_SEQ_H
#define TCPW_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool seq_geq(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }
/* lo <= x < hi, on the circle starting at lo. */
static inline bool seq_in(uint32_t x, uint32_t lo, uint32_t hi) { return x - lo < hi - lo; }
/* lo <= x <= hi */
static inline bool seq_between(uint32_t x, uint32_t lo, uint32_t hi)
{
    return x - lo <= hi - lo;
}
static inline uint32_t seq_max(uint32_t a, uint32_t b) { return seq_gt(a, b) ? a : b; }
static inline uint32_t seq_min(uint32_t a, uint32_t b) { return seq_lt(a, b) ? a : b; }

#endif
