/* tcpwave — counters and drop reasons.
 *
 * Counters carry the names `nstat` shows on Linux (group + name, e.g.
 * "TcpExtTW"), so that a reader can compare a tcpwave run with a kernel.
 * Every packet the stack refuses is counted once under a drop reason; the
 * reasons are listed in TCPW_DROP_REASONS with a one-line explanation.
 */
#ifndef TCPWAVE_COUNTERS_H
#define TCPWAVE_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(id, group, name, help). group+name is the nstat spelling. */
#define TCPW_COUNTERS(X)                                                                           \
    X(IP_IN_RECEIVES, "Ip", "InReceives", "IPv4 packets handed to the stack")                      \
    X(IP_IN_HDR_ERRORS, "Ip", "InHdrErrors", "IPv4 packets with a bad header")                     \
    X(IP_IN_ADDR_ERRORS, "Ip", "InAddrErrors", "IPv4 packets not addressed to this stack")         \
    X(IP_IN_UNKNOWN_PROTOS, "Ip", "InUnknownProtos", "IPv4 packets of a protocol not handled")     \
    X(IP_REASM_REQDS, "Ip", "ReasmReqds", "IPv4 fragments received (not reassembled: dropped)")    \
    X(IP_IN_DELIVERS, "Ip", "InDelivers", "IPv4 packets delivered to TCP or ICMP")                 \
    X(IP_OUT_REQUESTS, "Ip", "OutRequests", "IPv4 packets sent")                                   \
    X(TCP_ACTIVE_OPENS, "Tcp", "ActiveOpens", "CLOSED -> SYN_SENT transitions")                    \
    X(TCP_PASSIVE_OPENS, "Tcp", "PassiveOpens", "LISTEN -> SYN_RECEIVED transitions")              \
    X(TCP_ATTEMPT_FAILS, "Tcp", "AttemptFails", "SYN_SENT/SYN_RECEIVED -> CLOSED or LISTEN")       \
    X(TCP_ESTAB_RESETS, "Tcp", "EstabResets", "ESTABLISHED/CLOSE_WAIT -> CLOSED by a reset")       \
    X(TCP_IN_SEGS, "Tcp", "InSegs", "TCP segments received, including bad ones")                   \
    X(TCP_OUT_SEGS, "Tcp", "OutSegs", "TCP segments sent, excluding retransmissions")              \
    X(TCP_RETRANS_SEGS, "Tcp", "RetransSegs", "TCP segments retransmitted")                        \
    X(TCP_IN_ERRS, "Tcp", "InErrs", "TCP segments received in error")                              \
    X(TCP_OUT_RSTS, "Tcp", "OutRsts", "TCP segments sent with RST")                                \
    X(TCP_IN_CSUM_ERRORS, "Tcp", "InCsumErrors", "TCP segments with a bad checksum")               \
    X(TW, "TcpExt", "TW", "connections that finished TIME_WAIT (2MSL elapsed)")                    \
    X(TW_RECYCLED, "TcpExt", "TWRecycled", "TIME_WAIT records reused for a new connection")        \
    X(TW_KILLED, "TcpExt", "TWKilled", "TIME_WAIT records removed early")                          \
    X(TCP_TIME_WAIT_OVERFLOW, "TcpExt", "TCPTimeWaitOverflow", "TIME_WAIT refused: table full")    \
    X(PAWS_ACTIVE, "TcpExt", "PAWSActive", "SYN-ACKs dropped by PAWS")                             \
    X(PAWS_PASSIVE, "TcpExt", "PAWSPassive", "SYNs dropped by the tw_recycle timestamp cache")     \
    X(PAWS_ESTAB, "TcpExt", "PAWSEstab", "segments dropped by PAWS on a connection")               \
    X(TCP_ABORT_ON_DATA, "TcpExt", "TCPAbortOnData", "resets sent: data arrived after close")      \
    X(TCP_ABORT_ON_CLOSE, "TcpExt", "TCPAbortOnClose", "resets sent: closed with unread data")     \
    X(TCP_ABORT_ON_MEMORY, "TcpExt", "TCPAbortOnMemory", "resets sent: too many orphans")          \
    X(TCP_ABORT_ON_TIMEOUT, "TcpExt", "TCPAbortOnTimeout", "connections aborted by a timeout")     \
    X(TCP_ABORT_ON_LINGER, "TcpExt", "TCPAbortOnLinger", "resets sent by SO_LINGER")               \
    X(TCP_CHALLENGE_ACK, "TcpExt", "TCPChallengeACK", "challenge ACKs sent (RFC 5961)")            \
    X(TCP_SYN_CHALLENGE, "TcpExt", "TCPSYNChallenge", "challenge ACKs sent for an in-window SYN")  \
    X(LISTEN_OVERFLOWS, "TcpExt", "ListenOverflows", "SYNs dropped: accept queue full")            \
    X(LISTEN_DROPS, "TcpExt", "ListenDrops", "SYNs dropped by a listener for any reason")          \
    X(DELAYED_ACKS, "TcpExt", "DelayedACKs", "delayed ACKs sent")                                  \
    X(TCP_TIMEOUTS, "TcpExt", "TCPTimeouts", "retransmission timer expiries")                      \
    X(TCP_FAST_RETRANS, "TcpExt", "TCPFastRetrans", "fast retransmissions")                        \
    X(TCP_RETRIES1_EXCEEDED, "TcpExt", "TCPRetries1Exceeded",                                      \
      "retransmission series that passed tcp_retries1 (tcpwave; RFC 1122 R1)")                        \
    X(ICMP_IN_MSGS, "Icmp", "InMsgs", "ICMP messages received")                                    \
    X(ICMP_IN_ERRORS, "Icmp", "InErrors", "ICMP messages received in error")                       \
    X(ICMP_OUT_MSGS, "Icmp", "OutMsgs", "ICMP messages sent")                                      \
    X(ICMP_IN_DEST_UNREACHS, "Icmp", "InDestUnreachs", "ICMP destination unreachable received")    \
    X(ICMP_OUT_DEST_UNREACHS, "Icmp", "OutDestUnreachs", "ICMP destination unreachable sent")      \
    X(ICMP_IN_ECHOS, "Icmp", "InEchos", "ICMP echo requests received")                             \
    X(ICMP_OUT_ECHO_REPS, "Icmp", "OutEchoReps", "ICMP echo replies sent")                         \
    X(OUT_OF_WINDOW_ICMPS, "TcpExt", "OutOfWindowIcmps",                                           \
      "ICMP errors ignored: the quoted sequence number is not in flight (RFC 5927)")               \
    X(ICMP_RATE_LIMITED, "TcpExt", "IcmpRateLimited",                                              \
      "ICMP errors not sent: rate limit (tcpwave; Linux counts IcmpOutRateLimitGlobal)")           \
    X(TW_EVICTED, "TcpExt", "TWEvicted",                                                           \
      "TIME_WAIT records evicted for a newer one at tcp_max_tw_buckets (tcpwave-specific)")      \
    X(TW_QUOTA_REFUSED, "TcpExt", "TWQuotaRefused", "TIME_WAIT refused: per-destination quota (tcpwave)")

enum tcpw_counter {
#define TCPW_COUNTER_ENUM(id, group, name, help) TCPW_CTR_##id,
    TCPW_COUNTERS(TCPW_COUNTER_ENUM)
#undef TCPW_COUNTER_ENUM
        TCPW_CTR_COUNT
};

/* X(id, name, help). Every inbound packet that is refused is counted under
 * exactly one reason. */
#define TCPW_DROP_REASONS(X)                                                                       \
    X(IP_TRUNCATED, "ip-truncated", "shorter than an IPv4 header")                                 \
    X(IP_BAD_VERSION, "ip-bad-version", "IP version is not 4")                                     \
    X(IP_BAD_IHL, "ip-bad-ihl", "IPv4 header length below 20 or beyond the packet")                \
    X(IP_BAD_TOTAL_LENGTH, "ip-bad-total-length", "IPv4 total length below the header or beyond the packet") \
    X(IP_BAD_CHECKSUM, "ip-bad-checksum", "IPv4 header checksum wrong")                            \
    X(IP_FRAGMENT, "ip-fragment", "IPv4 fragment (reassembly is not supported)")                   \
    X(IP_BAD_OPTIONS, "ip-bad-options", "IPv4 options malformed")                                  \
    X(IP_MARTIAN_SOURCE, "ip-martian-source", "source address is 0, loopback, multicast or broadcast") \
    X(IP_NOT_FOR_US, "ip-not-for-us", "destination is not this stack's address")                   \
    X(IP_UNKNOWN_PROTOCOL, "ip-unknown-protocol", "protocol neither TCP nor ICMP")                 \
    X(TCP_TRUNCATED, "tcp-truncated", "shorter than a TCP header")                                 \
    X(TCP_BAD_DATA_OFFSET, "tcp-bad-data-offset", "TCP data offset below 5 or beyond the segment") \
    X(TCP_BAD_CHECKSUM, "tcp-bad-checksum", "TCP checksum wrong")                                  \
    X(TCP_BAD_OPTION, "tcp-bad-option", "TCP option with a bad length or overrunning the header")  \
    X(TCP_BAD_PORT, "tcp-bad-port", "TCP source or destination port 0")                            \
    X(ICMP_TRUNCATED, "icmp-truncated", "shorter than an ICMP header")                             \
    X(ICMP_BAD_CHECKSUM, "icmp-bad-checksum", "ICMP checksum wrong")

enum tcpw_drop_reason {
    TCPW_DROP_NONE = 0,
#define TCPW_DROP_ENUM(id, name, help) TCPW_DROP_##id,
    TCPW_DROP_REASONS(TCPW_DROP_ENUM)
#undef TCPW_DROP_ENUM
        TCPW_DROP_COUNT
};

/* nstat-style name of a counter ("TcpExtTW"), or NULL out of range. Static. */
const char *tcpw_counter_name(enum tcpw_counter c);
/* One-line description of a counter, or NULL out of range. Static. */
const char *tcpw_counter_help(enum tcpw_counter c);
/* Finds a counter by its nstat name; returns its id or -ENOENT. */
int tcpw_counter_lookup(const char *nstat_name);
/* Short name of a drop reason ("tcp-bad-checksum"), or NULL out of range.
 * TCPW_DROP_NONE is in range: "none" ("not dropped"). */
const char *tcpw_drop_reason_name(enum tcpw_drop_reason r);
/* One-line description of a drop reason, or NULL out of range. */
const char *tcpw_drop_reason_help(enum tcpw_drop_reason r);

#ifdef __cplusplus
}
#endif
#endif
