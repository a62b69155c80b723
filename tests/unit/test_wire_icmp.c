/* Unit tests: wire/icmp.c — RFC 792 message format and checksum, RFC 1191
 * next-hop MTU; build and parse round trips, truncation, bad checksums.
 */
#include <string.h>

#include "check.h"
#include "wire/wire.h"

static const char *reason(enum tcpw_drop_reason r)
{
#define REASON_NAME(id, name, help) name,
    static const char *const names[] = {"none", TCPW_DROP_REASONS(REASON_NAME)};
#undef REASON_NAME
    return (size_t)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

#define CHECK_REASON(got, want)                                                                    \
    do {                                                                                           \
        enum tcpw_drop_reason got_ = (got), want_ = (want);                                        \
        CHECK_MSG(got_ == want_, "%s: got %s, want %s", #got, reason(got_), reason(want_));        \
    } while (0)

#define SRC 0x0a4d0001u
#define DST 0x0a4d0002u

/* An echo request, by hand: 08 00 csum 12 34 00 01 "abcd" — checksum
 * ~(0x0800 + 0x1234 + 0x0001 + 0x6162 + 0x6364) = ~0xdefb = 0x2104. */
static void test_build_exact_bytes(void)
{
    uint8_t buf[64];
    const uint8_t data[4] = {'a', 'b', 'c', 'd'};
    CHECK_EQ(tcpw_icmp_build(buf, sizeof buf, SRC, DST, 8, 0, 0x12340001, data, 4), 32);
    static const uint8_t want[12] = {8, 0, 0x21, 0x04, 0x12, 0x34, 0x00, 0x01, 'a', 'b', 'c', 'd'};
    CHECK(memcmp(buf + 20, want, 12) == 0);
    CHECK_EQ(buf[9], TCPW_IP_PROTO_ICMP);
    CHECK_EQ(buf[8], 64);
    CHECK_EQ(tcpw_get16(buf + 2), 32);
}

static void test_round_trip(void)
{
    static uint8_t buf[2000], data[1500];
    uint64_t seed = 792;
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)check_rand(&seed);
    for (size_t n = 0; n <= 600; n++) {
        uint8_t type = (uint8_t)check_rand(&seed), code = (uint8_t)check_rand(&seed);
        uint32_t rest = (uint32_t)check_rand(&seed);
        size_t len = tcpw_icmp_build(buf, sizeof buf, SRC, DST, type, code, rest,
                                     n ? data + (n % 7) : NULL, n);
        CHECK_EQ(len, 28 + n);
        struct tcpw_packet pkt;
        CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_NONE);
        CHECK_EQ(pkt.ip.proto, TCPW_IP_PROTO_ICMP);
        CHECK_EQ(pkt.ip.src, SRC);
        CHECK_EQ(pkt.ip.dst, DST);
        CHECK_EQ(pkt.l4.icmp.type, type);
        CHECK_EQ(pkt.l4.icmp.code, code);
        CHECK_EQ(pkt.l4.icmp.rest, rest);
        CHECK_EQ(pkt.l4.icmp.data_len, n);
        CHECK(pkt.l4.icmp.data == buf + 28);
        CHECK(n == 0 || memcmp(pkt.l4.icmp.data, data + (n % 7), n) == 0);
    }
}

/* A "fragmentation needed" quoting a TCP segment: the MTU is in the low 16
 * bits of `rest` (RFC 1191 §4), the quote is the datagram's first bytes. */
static void test_frag_needed_quote(void)
{
    uint8_t seg[80], buf[128];
    struct tcpw_tcp_out out;
    memset(&out, 0, sizeof out);
    out.src = DST;
    out.dst = 0x08080808;
    out.sport = 40000;
    out.dport = 443;
    out.seq = 0xfffffff0;
    out.flags = TCPW_ACK;
    size_t seg_len = tcpw_tcp_build(seg, sizeof seg, &out);
    CHECK_EQ(seg_len, 40);
    size_t len = tcpw_icmp_build(buf, sizeof buf, SRC, DST, 3, 4, 1400, seg, 28);
    CHECK_EQ(len, 56);
    struct tcpw_packet pkt;
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_NONE);
    CHECK_EQ(pkt.l4.icmp.type, 3);
    CHECK_EQ(pkt.l4.icmp.code, 4);
    CHECK_EQ(pkt.l4.icmp.rest & 0xffff, 1400);
    CHECK_EQ(pkt.l4.icmp.data_len, 28);
    CHECK_EQ(tcpw_get32(pkt.l4.icmp.data + 16), 0x08080808);
    CHECK_EQ(tcpw_get16(pkt.l4.icmp.data + 20), 40000);
    CHECK_EQ(tcpw_get32(pkt.l4.icmp.data + 24), 0xfffffff0);
}

static void test_build_limits(void)
{
    uint8_t buf[64];
    CHECK_EQ(tcpw_icmp_build(buf, 27, SRC, DST, 0, 0, 0, NULL, 0), 0);
    CHECK_EQ(tcpw_icmp_build(buf, 28, SRC, DST, 0, 0, 0, NULL, 0), 28);
    const uint8_t data[8] = {0};
    CHECK_EQ(tcpw_icmp_build(buf, 35, SRC, DST, 0, 0, 0, data, 8), 0);
    CHECK_EQ(tcpw_icmp_build(buf, 36, SRC, DST, 0, 0, 0, data, 8), 36);
    CHECK_EQ(tcpw_icmp_build(buf, 64, SRC, DST, 0, 0, 0, data, 65535 - 27), 0);
}

static void test_truncated_every_length(void)
{
    uint8_t buf[64];
    struct tcpw_packet pkt;
    for (size_t n = 0; n < 8; n++) {
        tcpw_ipv4_build(buf, sizeof buf, SRC, DST, TCPW_IP_PROTO_ICMP, 64, 0, false, n);
        memset(buf + 20, 0, n);
        CHECK_REASON(tcpw_packet_parse(buf, 20 + n, &pkt), TCPW_DROP_ICMP_TRUNCATED);
    }
    /* tcpw_icmp_parse on its own. */
    struct tcpw_ipv4 ip = {.src = SRC, .dst = DST, .proto = 1, .payload = buf + 20};
    struct tcpw_icmp icmp;
    for (ip.payload_len = 0; ip.payload_len < 8; ip.payload_len++)
        CHECK_REASON(tcpw_icmp_parse(&ip, &icmp), TCPW_DROP_ICMP_TRUNCATED);
    /* Eight bytes, no data: fine. */
    size_t len = tcpw_icmp_build(buf, sizeof buf, SRC, DST, 0, 0, 7, NULL, 0);
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_NONE);
    CHECK_EQ(pkt.l4.icmp.data_len, 0);
}

/* Any single flipped bit in the message breaks the checksum. */
static void test_bad_checksum_every_bit(void)
{
    uint8_t buf[64], copy[64];
    const uint8_t data[13] = "odd length!!";
    size_t len = tcpw_icmp_build(buf, sizeof buf, SRC, DST, 8, 0, 0xabcd0001, data, 13);
    CHECK_EQ(len, 41);
    struct tcpw_packet pkt;
    for (size_t bit = 20 * 8; bit < len * 8; bit++) {
        memcpy(copy, buf, len);
        copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        enum tcpw_drop_reason r = tcpw_packet_parse(copy, len, &pkt);
        CHECK_MSG(r == TCPW_DROP_ICMP_BAD_CHECKSUM, "bit %zu: %s", bit, reason(r));
    }
    /* No pseudo-header: other addresses (IP checksum fixed) still verify. */
    memcpy(copy, buf, len);
    tcpw_put32(copy + 12, 0xc0000201);
    tcpw_put16(copy + 10, 0);
    tcpw_put16(copy + 10, tcpw_csum_fold(tcpw_csum_partial(copy, 20, 0)));
    CHECK_REASON(tcpw_packet_parse(copy, len, &pkt), TCPW_DROP_NONE);
}

int main(void)
{
    RUN(test_build_exact_bytes);
    RUN(test_round_trip);
    RUN(test_frag_needed_quote);
    RUN(test_build_limits);
    RUN(test_truncated_every_length);
    RUN(test_bad_checksum_every_bit);
    return check_summary();
}
