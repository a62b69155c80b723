/* wire/ — parse and build IPv4, TCP and ICMP headers; pure, no state.
 *
 * RFC 791 (IPv4), RFC 1071 (Internet checksum), RFC 9293 §3.1 (TCP header and
 * pseudo-header), RFC 9293 §3.2 and RFC 6691 (MSS), RFC 7323 (window scale,
 * timestamps), RFC 2018 (SACK), RFC 792 (ICMP).
 *
 * Parsing never reads outside [pkt, pkt+len) and never writes to the packet.
 * A parsed packet points into the caller's buffer; it is valid as long as the
 * buffer is. Addresses and ports are host byte order in every struct here.
 */
#ifndef TCPW_WIRE_H
#define TCPW_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpwave/counters.h"

#define TCPW_IPV4_HDR_MIN 20u
#define TCPW_TCP_HDR_MIN 20u
#define TCPW_TCP_OPTS_MAX 40u
#define TCPW_IP_PROTO_ICMP 1u
#define TCPW_IP_PROTO_TCP 6u

/* TCP flags, as in the header's 13th byte (RFC 9293 §3.1, RFC 3168). */
enum {
    TCPW_FIN = 0x01,
    TCPW_SYN = 0x02,
    TCPW_RST = 0x04,
    TCPW_PSH = 0x08,
    TCPW_ACK = 0x10,
    TCPW_URG = 0x20,
    TCPW_ECE = 0x40,
    TCPW_CWR = 0x80,
};

/* TCP option kinds (IANA). */
enum {
    TCPW_OPT_EOL = 0,
    TCPW_OPT_NOP = 1,
    TCPW_OPT_MSS = 2,
    TCPW_OPT_WSCALE = 3,
    TCPW_OPT_SACK_PERMITTED = 4,
    TCPW_OPT_SACK = 5,
    TCPW_OPT_TIMESTAMP = 8,
};

#define TCPW_SACK_MAX_BLOCKS 4

struct tcpw_sack_block {
    uint32_t left, right; /* RFC 2018 §3: left edge, right edge (exclusive) */
};

/* The TCP options tcpwave understands. Unknown options are skipped by their
 * length (RFC 9293 §3.2: "must be prepared to handle an illegal option
 * length"; unknown kinds are ignored) and counted in `unknown`. */
struct tcpw_tcp_opts {
    bool has_mss;
    bool has_wscale;
    bool sack_permitted;
    bool has_ts;
    uint8_t wscale;        /* as received; the receiver clamps to 14 (RFC 7323 §2.3) */
    uint8_t sack_count;    /* blocks in sack[] */
    uint8_t unknown;       /* unknown options skipped */
    uint16_t mss;
    uint32_t ts_val, ts_ecr;
    struct tcpw_sack_block sack[TCPW_SACK_MAX_BLOCKS];
};

struct tcpw_ipv4 {
    uint32_t src, dst;
    uint16_t total_len; /* from the header; bytes past it are ignored (link padding) */
    uint16_t id;
    uint16_t frag;      /* flags + fragment offset, as in the header */
    uint8_t ihl;        /* header length in bytes */
    uint8_t tos, ttl, proto;
    const uint8_t *payload; /* first byte after the IP header */
    size_t payload_len;     /* total_len - ihl */
};

struct tcpw_tcp {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;     /* TCPW_FIN ... TCPW_CWR */
    uint8_t doff;      /* header length in bytes */
    uint16_t wnd;      /* raw window field, unscaled */
    uint16_t urp;
    struct tcpw_tcp_opts opts;
    const uint8_t *payload;
    size_t payload_len;
};

/* ICMP header (RFC 792): type, code, the 4-byte rest, and the quoted data
 * (for errors: the offending IP header + at least 8 bytes). */
struct tcpw_icmp {
    uint8_t type, code;
    uint32_t rest;         /* bytes 4..7, host order (id/seq, next-hop MTU, ...) */
    const uint8_t *data;   /* after the 8-byte header */
    size_t data_len;
};

/* A parsed inbound packet. */
struct tcpw_packet {
    struct tcpw_ipv4 ip;
    union {
        struct tcpw_tcp tcp;   /* when ip.proto == TCPW_IP_PROTO_TCP */
        struct tcpw_icmp icmp; /* when ip.proto == TCPW_IP_PROTO_ICMP */
    } l4;
};

/* Parses the IPv4 header only (no address policy, no L4).
 * Returns TCPW_DROP_NONE or the reason. Fragments are reported as
 * TCPW_DROP_IP_FRAGMENT after the header is otherwise validated. */
enum tcpw_drop_reason tcpw_ipv4_parse(const uint8_t *pkt, size_t len, struct tcpw_ipv4 *ip);

/* Parses TCP header, options and payload of `ip`, verifying the checksum
 * with the pseudo-header. Returns TCPW_DROP_NONE or the reason. */
enum tcpw_drop_reason tcpw_tcp_parse(const struct tcpw_ipv4 *ip, struct tcpw_tcp *tcp);

/* Parses an options area of `len` bytes into *opts (zeroed first).
 * Returns TCPW_DROP_NONE or TCPW_DROP_TCP_BAD_OPTION. */
enum tcpw_drop_reason tcpw_tcp_opts_parse(const uint8_t *p, size_t len, struct tcpw_tcp_opts *opts);

/* Parses an ICMP message in `ip`, verifying its checksum. */
enum tcpw_drop_reason tcpw_icmp_parse(const struct tcpw_ipv4 *ip, struct tcpw_icmp *icmp);

/* Whole packet: IPv4 header, then TCP or ICMP by protocol. Other protocols
 * give TCPW_DROP_IP_UNKNOWN_PROTOCOL with `out->ip` filled in. Address policy
 * (martians, not-for-us) is the stack's job, not this function's. */
enum tcpw_drop_reason tcpw_packet_parse(const uint8_t *pkt, size_t len, struct tcpw_packet *out);

/* --- building --- */

/* What an outbound TCP segment needs. Options are written in the order
 * Linux uses for a SYN: MSS, SACK-permitted+timestamps (or NOP padding),
 * window scale; on other segments NOP,NOP,timestamps then SACK blocks. */
struct tcpw_tcp_out {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint8_t ttl;      /* 0 means 64 */
    uint16_t wnd;     /* raw field (already scaled down) */
    uint16_t ip_id;
    bool df;          /* set IPv4 Don't Fragment */
    struct tcpw_tcp_opts opts; /* which of has_mss/... to emit */
    const uint8_t *payload;
    size_t payload_len;
};

/* Bytes the options of `opts` take, padded to a multiple of 4 (<= 40). */
size_t tcpw_tcp_opts_len(const struct tcpw_tcp_opts *opts);

/* Writes the options into p (cap bytes). Returns bytes written (a multiple of
 * 4) or 0 when they do not fit (or there are none). SACK blocks are trimmed to
 * what fits in min(cap, 40) bytes; sack_count above 4 counts as 4. */
size_t tcpw_tcp_opts_build(uint8_t *p, size_t cap, const struct tcpw_tcp_opts *opts);

/* Builds a complete IPv4+TCP datagram with both checksums into buf.
 * Returns its length, or 0 when cap is too small. */
size_t tcpw_tcp_build(uint8_t *buf, size_t cap, const struct tcpw_tcp_out *seg);

/* Builds an IPv4 header (checksum filled) for a payload of payload_len bytes
 * that the caller writes after it. TOS is 0; a ttl of 0 means 64. Returns 20,
 * or 0 when cap < 20 or 20 + payload_len exceeds 65535. */
size_t tcpw_ipv4_build(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, uint8_t proto,
                       uint8_t ttl, uint16_t id, bool df, size_t payload_len);

/* Builds an ICMP message (checksum filled) in an IPv4 datagram. `data` is
 * copied after the 8-byte header. Returns the datagram length or 0. */
size_t tcpw_icmp_build(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, uint8_t type,
                       uint8_t code, uint32_t rest, const uint8_t *data, size_t data_len);

/* --- checksums (RFC 1071) --- */

/* One's-complement sum of `len` bytes folded into 16 bits, added to
 * `initial` (a previous partial sum); not inverted. Odd lengths are padded
 * with a zero byte, so only the last piece of a chained sum may be odd.
 * Any alignment of `data` is fine. */
uint32_t tcpw_csum_partial(const void *data, size_t len, uint32_t initial);

/* Folds a partial sum and inverts it: the value to store in a header. */
uint16_t tcpw_csum_fold(uint32_t sum);

/* Partial sum of the TCP/UDP pseudo-header (RFC 9293 §3.1). */
uint32_t tcpw_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4_len);

/* Incremental update (RFC 1624 eqn. 3) of a stored checksum when a 16-bit
 * word changes from old_word to new_word. */
uint16_t tcpw_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word);

/* --- byte order helpers (unaligned, bounds are the caller's) --- */
static inline uint16_t tcpw_get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t tcpw_get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void tcpw_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void tcpw_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Short text of flags, e.g. "SYN,ACK" or "FIN,ACK" (Wireshark order:
 * FIN SYN RST PSH ACK URG ECE CWR printed as in tcpdump's [S.] family is not
 * used; names are spelled out); "none" when no flag is set. buf must hold 32
 * bytes; returns buf. */
const char *tcpw_tcp_flags_str(uint8_t flags, char buf[32]);

#endif
