/* tcp/ — initial sequence numbers (RFC 9293 §3.4.1, RFC 6528).
 *
 * ISN = M + F(localip, localport, remoteip, remoteport, secretkey), where M
 * is a clock ticking every 4 µs and F is SipHash-2-4 under the stack's
 * secret. A new incarnation of a 4-tuple therefore starts above the old one's
 * sequence space unless more than about 4.55 hours pass (RFC 9293 §3.4.1).
 */
#ifndef TCPW_ISN_H
#define TCPW_ISN_H

#include <stdint.h>

#include "tcp/hash.h"

uint32_t tcpw_isn(const uint8_t secret[16], const struct tcpw_tuple *t, uint64_t now_us);

#endif
