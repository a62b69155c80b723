/* Unit tests: wire/checksum.c — RFC 1071 sum, RFC 1624 incremental update,
 * RFC 9293 §3.1 pseudo-header — against an obviously-correct reference and
 * against real packets captured from the Linux kernel
 * (tests/data/kernel_packets.txt, see tests/data/README.md).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "wire/wire.h"

/* The reference: RFC 1071 §4.1 word by word, big-endian pairs, odd byte
 * padded on the right, folded at the end. Too simple to be wrong. */
static uint32_t ref_sum(const uint8_t *p, size_t len)
{
    uint64_t sum = 0;
    size_t i;
    for (i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8) | p[i + 1];
    if (i < len)
        sum += (uint32_t)p[i] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint32_t)sum;
}

static uint32_t ref_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint32_t)sum;
}

/* Drop reason names from the X-macro list, so the test needs only wire/. */
static const char *reason(enum tcpw_drop_reason r)
{
#define REASON_NAME(id, name, help) name,
    static const char *const names[] = {"none", TCPW_DROP_REASONS(REASON_NAME)};
#undef REASON_NAME
    return (size_t)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

static void fill_random(uint8_t *p, size_t len, uint64_t *seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)check_rand(seed);
}

/* RFC 1071 §3's worked example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2. */
static void test_rfc1071_example(void)
{
    const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    CHECK_EQ(tcpw_csum_partial(b, sizeof b, 0), 0xddf2);
    CHECK_EQ(tcpw_csum_fold(tcpw_csum_partial(b, sizeof b, 0)), 0x220d);
    CHECK_EQ(tcpw_csum_partial(b, 0, 0), 0);
    CHECK_EQ(tcpw_csum_partial(b, 1, 0), 0x0000);
    CHECK_EQ(tcpw_csum_partial(b + 1, 1, 0), 0x0100);
    CHECK_EQ(tcpw_csum_partial(b + 2, 3, 0), ref_fold(0xf203 + 0xf400));
}

static void test_fold(void)
{
    CHECK_EQ(tcpw_csum_fold(0), 0xffff);
    CHECK_EQ(tcpw_csum_fold(0xffff), 0x0000);
    CHECK_EQ(tcpw_csum_fold(0x1fffe), 0x0000);
    CHECK_EQ(tcpw_csum_fold(0x12345678), (uint16_t) ~(0x5678 + 0x1234));
    CHECK_EQ(tcpw_csum_fold(0xffffffff), 0x0000);
    CHECK_EQ(tcpw_csum_fold(0x0001ffff), (uint16_t)~0x0001);
}

/* Every length 0..2000 at several alignments, random bytes, fixed seed. */
static void test_partial_vs_reference_every_length(void)
{
    static uint8_t buf[2000 + 16];
    static const size_t offsets[] = {0, 1, 2, 3, 4, 5, 7, 8, 13};
    uint64_t seed = 0x5eed0001;
    fill_random(buf, sizeof buf, &seed);
    for (size_t len = 0; len <= 2000; len++) {
        for (size_t o = 0; o < sizeof offsets / sizeof offsets[0]; o++) {
            const uint8_t *p = buf + offsets[o];
            uint32_t want = ref_sum(p, len);
            uint32_t got = tcpw_csum_partial(p, len, 0);
            CHECK_MSG(got == want, "len %zu offset %zu: got 0x%x want 0x%x", len, offsets[o],
                      (unsigned)got, (unsigned)want);
            /* A non-zero initial sum is added in, one's-complement style. */
            uint32_t init = (uint32_t)check_rand(&seed);
            CHECK_EQ(tcpw_csum_partial(p, len, init), ref_fold((uint64_t)want + init));
        }
        /* Fresh bytes now and then so the lengths do not all share a prefix. */
        if (len % 97 == 0)
            fill_random(buf, sizeof buf, &seed);
    }
}

/* All-ones data carries on every add: the end-around carry must not be lost. */
static void test_partial_carries(void)
{
    static uint8_t buf[4096 + 8];
    memset(buf, 0xff, sizeof buf);
    for (size_t len = 0; len <= 4096; len += 1)
        CHECK_EQ(tcpw_csum_partial(buf + (len & 7), len, 0), ref_sum(buf, len));
    memset(buf, 0, sizeof buf);
    CHECK_EQ(tcpw_csum_partial(buf, 4096, 0), 0);
    buf[4095] = 1;
    CHECK_EQ(tcpw_csum_partial(buf, 4096, 0), 1);
}

/* Summing in even-length pieces equals summing at once. */
static void test_partial_chained(void)
{
    static uint8_t buf[1500];
    uint64_t seed = 42;
    fill_random(buf, sizeof buf, &seed);
    for (size_t split = 0; split <= 1500; split += 2) {
        uint32_t a = tcpw_csum_partial(buf, split, 0);
        uint32_t ab = tcpw_csum_partial(buf + split, sizeof buf - split, a);
        CHECK_EQ(ab, ref_sum(buf, sizeof buf));
    }
}

static void test_pseudo_header(void)
{
    uint64_t seed = 7;
    for (int i = 0; i < 10000; i++) {
        uint32_t src = (uint32_t)check_rand(&seed), dst = (uint32_t)check_rand(&seed);
        uint8_t proto = (uint8_t)check_rand(&seed);
        uint16_t len = (uint16_t)check_rand(&seed);
        uint8_t ph[12];
        tcpw_put32(ph, src);
        tcpw_put32(ph + 4, dst);
        ph[8] = 0;
        ph[9] = proto;
        tcpw_put16(ph + 10, len);
        CHECK_EQ(ref_fold(tcpw_csum_pseudo(src, dst, proto, len)), ref_sum(ph, sizeof ph));
    }
    /* 10.77.0.2 -> 10.77.0.1, TCP, 40 bytes: 0x0a4d+0x0002+0x0a4d+0x0001+6+40 */
    CHECK_EQ(ref_fold(tcpw_csum_pseudo(0x0a4d0002, 0x0a4d0001, 6, 40)),
             0x0a4d + 0x0002 + 0x0a4d + 0x0001 + 6 + 40);
}

/* RFC 1624: updating one word incrementally equals recomputing from scratch. */
static void test_update16_vs_recompute(void)
{
    uint8_t buf[60];
    uint64_t seed = 1624;
    for (int i = 0; i < 200000; i++) {
        size_t len = 2 + 2 * (check_rand(&seed) % 29);
        fill_random(buf, len, &seed);
        /* Now and then make the data sum to special values (0xffff, tiny). */
        if (i % 7 == 0)
            memset(buf, (i % 14) ? 0xff : 0x00, len);
        uint16_t csum = tcpw_csum_fold(tcpw_csum_partial(buf, len, 0));
        size_t at = 2 * (check_rand(&seed) % (len / 2));
        uint16_t old_word = tcpw_get16(buf + at);
        uint16_t new_word = (uint16_t)check_rand(&seed);
        if (i % 5 == 0)
            new_word = (i % 10) ? 0xffff : 0x0000;
        tcpw_put16(buf + at, new_word);
        uint16_t want = tcpw_csum_fold(tcpw_csum_partial(buf, len, 0));
        uint16_t got = tcpw_csum_update16(csum, old_word, new_word);
        if (want == 0xffff) {
            /* Only all-zero data recomputes to 0xffff (-0); eqn. 3 gives the
             * other zero, 0x0000. No real header is all zeros (version,
             * protocol), so the two never meet in practice. */
            CHECK_EQ(got, 0x0000);
            continue;
        }
        CHECK_MSG(got == want, "iteration %d len %zu at %zu: %04x -> %04x: got %04x want %04x", i,
                  len, at, old_word, new_word, got, want);
    }
}

/* --- real packets from the Linux kernel --- */

struct fixture {
    char name[64];
    uint8_t bytes[1600];
    size_t len;
};

#define MAX_FIXTURES 32
static struct fixture fixtures[MAX_FIXTURES];
static size_t fixture_count;

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads tests/data/kernel_packets.txt: "# name: ..." then a line of hex. */
static bool load_fixtures(void)
{
    const char *dir = getenv("TCPW_TEST_DATA");
    char path[1024], line[4096], name[64] = "";
    if (!dir)
        dir = "tests/data";
    snprintf(path, sizeof path, "%s/kernel_packets.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "  cannot open %s (set TCPW_TEST_DATA)\n", path);
        return false;
    }
    bool ok = true;
    while (ok && fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n");
        line[n] = '\0';
        if (line[0] == '#') {
            /* The first word of the comment, up to ':' or a blank. */
            const char *s = line + 1;
            while (*s == ' ')
                s++;
            size_t w = strcspn(s, ": \t");
            if (w >= sizeof name)
                w = sizeof name - 1;
            memcpy(name, s, w);
            name[w] = '\0';
            continue;
        }
        if (n == 0)
            continue;
        if (fixture_count == MAX_FIXTURES || n % 2 || n / 2 > sizeof fixtures[0].bytes ||
            !name[0]) {
            ok = false;
            break;
        }
        struct fixture *fx = &fixtures[fixture_count++];
        snprintf(fx->name, sizeof fx->name, "%s", name);
        fx->len = n / 2;
        for (size_t i = 0; i < fx->len; i++) {
            int hi = hexval(line[2 * i]), lo = hexval(line[2 * i + 1]);
            if (hi < 0 || lo < 0)
                ok = false;
            fx->bytes[i] = (uint8_t)(hi << 4 | lo);
        }
        name[0] = '\0';
    }
    fclose(f);
    return ok;
}

static const struct fixture *fixture(const char *name)
{
    for (size_t i = 0; i < fixture_count; i++)
        if (strcmp(fixtures[i].name, name) == 0)
            return &fixtures[i];
    return NULL;
}

static const char *const kernel_tcp[] = {"kernel-syn",    "kernel-synack",   "kernel-data",
                                         "kernel-finack", "kernel-ack-sack", "kernel-rstack",
                                         "kernel-rst"};
static const char *const kernel_icmp[] = {"kernel-icmp-echo-reply", "kernel-icmp-port-unreach"};
#define N_KERNEL_TCP  (sizeof kernel_tcp / sizeof kernel_tcp[0])
#define N_KERNEL_ICMP (sizeof kernel_icmp / sizeof kernel_icmp[0])

static void test_fixtures_present(void)
{
    CHECK(load_fixtures());
    CHECK_EQ(fixture_count, N_KERNEL_TCP + N_KERNEL_ICMP);
    for (size_t i = 0; i < N_KERNEL_TCP; i++)
        CHECK_MSG(fixture(kernel_tcp[i]), "fixture %s missing", kernel_tcp[i]);
    for (size_t i = 0; i < N_KERNEL_ICMP; i++)
        CHECK_MSG(fixture(kernel_icmp[i]), "fixture %s missing", kernel_icmp[i]);
}

/* The kernel's packets parse, and recomputing each checksum from scratch with
 * the field zeroed gives the kernel's bytes exactly. */
static void test_kernel_checksums_reproduced(void)
{
    CHECK(fixture_count > 0);
    for (size_t i = 0; i < fixture_count; i++) {
        const struct fixture *fx = &fixtures[i];
        struct tcpw_packet pkt;
        uint8_t copy[1600];
        enum tcpw_drop_reason r = tcpw_packet_parse(fx->bytes, fx->len, &pkt);
        CHECK_MSG(r == TCPW_DROP_NONE, "%s: %s", fx->name, reason(r));
        CHECK_EQ(pkt.ip.total_len, fx->len);

        size_t ihl = pkt.ip.ihl;
        memcpy(copy, fx->bytes, fx->len);
        tcpw_put16(copy + 10, 0);
        CHECK_EQ(tcpw_csum_fold(tcpw_csum_partial(copy, ihl, 0)), tcpw_get16(fx->bytes + 10));

        uint8_t *l4 = copy + ihl;
        size_t l4_len = fx->len - ihl;
        if (pkt.ip.proto == TCPW_IP_PROTO_TCP) {
            tcpw_put16(l4 + 16, 0);
            uint32_t sum = tcpw_csum_pseudo(pkt.ip.src, pkt.ip.dst, 6, (uint16_t)l4_len);
            CHECK_EQ(tcpw_csum_fold(tcpw_csum_partial(l4, l4_len, sum)),
                     tcpw_get16(fx->bytes + ihl + 16));
            /* The same with the reference sum, byte pair by byte pair. */
            CHECK_EQ(tcpw_csum_fold(ref_fold((uint64_t)ref_sum(l4, l4_len) + sum)),
                     tcpw_get16(fx->bytes + ihl + 16));
        } else {
            CHECK_EQ(pkt.ip.proto, TCPW_IP_PROTO_ICMP);
            tcpw_put16(l4 + 2, 0);
            CHECK_EQ(tcpw_csum_fold(tcpw_csum_partial(l4, l4_len, 0)),
                     tcpw_get16(fx->bytes + ihl + 2));
        }
    }
}

/* One flipped bit anywhere a checksum covers (and where no earlier check
 * looks) is rejected with the checksum's reason. */
static void test_kernel_bit_flips_rejected(void)
{
    CHECK(fixture_count > 0);
    for (size_t i = 0; i < fixture_count; i++) {
        const struct fixture *fx = &fixtures[i];
        uint8_t copy[1600];
        struct tcpw_packet pkt;
        size_t ihl = (size_t)(fx->bytes[0] & 15) * 4;
        bool is_tcp = fx->bytes[9] == TCPW_IP_PROTO_TCP;
        for (size_t bit = 0; bit < fx->len * 8; bit++) {
            size_t byte = bit / 8;
            enum tcpw_drop_reason want;
            if (byte == 0 || byte == 2 || byte == 3)
                continue; /* version/IHL/total length: checked before the checksum */
            if (byte < ihl)
                want = TCPW_DROP_IP_BAD_CHECKSUM;
            else if (is_tcp && byte == ihl + 12 && (bit % 8) < 4)
                continue; /* data offset: checked before the checksum */
            else
                want = is_tcp ? TCPW_DROP_TCP_BAD_CHECKSUM : TCPW_DROP_ICMP_BAD_CHECKSUM;
            memcpy(copy, fx->bytes, fx->len);
            copy[byte] ^= (uint8_t)(0x80u >> (bit % 8));
            enum tcpw_drop_reason r = tcpw_packet_parse(copy, fx->len, &pkt);
            CHECK_MSG(r == want, "%s bit %zu: got %s want %s", fx->name, bit, reason(r),
                      reason(want));
        }
    }
}

/* The pseudo-header is covered: change the IP source (fixing the IP header
 * checksum incrementally) and the TCP checksum no longer verifies. */
static void test_kernel_pseudo_header_covered(void)
{
    const struct fixture *fx = fixture("kernel-synack");
    CHECK(fx);
    uint8_t copy[1600];
    struct tcpw_packet pkt;
    memcpy(copy, fx->bytes, fx->len);
    uint16_t old_word = tcpw_get16(copy + 14), new_word = old_word ^ 0x0100;
    tcpw_put16(copy + 14, new_word);
    tcpw_put16(copy + 10, tcpw_csum_update16(tcpw_get16(copy + 10), old_word, new_word));
    CHECK_EQ(tcpw_packet_parse(copy, fx->len, &pkt), TCPW_DROP_TCP_BAD_CHECKSUM);
    /* Fixing the TCP checksum the same way makes it whole again. */
    size_t ihl = pkt.ip.ihl;
    tcpw_put16(copy + ihl + 16,
               tcpw_csum_update16(tcpw_get16(copy + ihl + 16), old_word, new_word));
    CHECK_EQ(tcpw_packet_parse(copy, fx->len, &pkt), TCPW_DROP_NONE);
}

/* The parsed fields of the kernel's packets, value by value. */
static void test_kernel_fields(void)
{
    struct tcpw_packet pkt;
    const struct fixture *fx = fixture("kernel-syn");
    CHECK(fx);
    CHECK_EQ(tcpw_packet_parse(fx->bytes, fx->len, &pkt), TCPW_DROP_NONE);
    CHECK_EQ(pkt.ip.src, 0x0a4d0001);
    CHECK_EQ(pkt.ip.dst, 0x0a4d0002);
    CHECK_EQ(pkt.ip.ttl, 64);
    CHECK_EQ(pkt.ip.frag, 0x4000); /* DF */
    CHECK_EQ(pkt.l4.tcp.dport, 5555);
    CHECK_EQ(pkt.l4.tcp.flags, TCPW_SYN);
    CHECK_EQ(pkt.l4.tcp.doff, 40);
    CHECK_EQ(pkt.l4.tcp.payload_len, 0);
    CHECK(pkt.l4.tcp.opts.has_mss && pkt.l4.tcp.opts.mss == 1460);
    CHECK(pkt.l4.tcp.opts.sack_permitted);
    CHECK(pkt.l4.tcp.opts.has_ts && pkt.l4.tcp.opts.ts_ecr == 0);
    CHECK(pkt.l4.tcp.opts.has_wscale);
    CHECK_EQ(pkt.l4.tcp.opts.unknown, 0);

    fx = fixture("kernel-synack");
    CHECK(fx);
    CHECK_EQ(tcpw_packet_parse(fx->bytes, fx->len, &pkt), TCPW_DROP_NONE);
    CHECK_EQ(pkt.l4.tcp.flags, TCPW_SYN | TCPW_ACK);
    CHECK_EQ(pkt.l4.tcp.sport, 7777);
    CHECK_EQ(pkt.l4.tcp.dport, 40001);
    CHECK_EQ(pkt.l4.tcp.ack, 0xffffff01);   /* our ISS 0xffffff00 + 1 */
    CHECK_EQ(pkt.l4.tcp.opts.ts_ecr, 1000); /* echoes our TSval */

    fx = fixture("kernel-data");
    CHECK(fx);
    CHECK_EQ(tcpw_packet_parse(fx->bytes, fx->len, &pkt), TCPW_DROP_NONE);
    CHECK_EQ(pkt.l4.tcp.flags, TCPW_PSH | TCPW_ACK);
    CHECK_EQ(pkt.l4.tcp.payload_len, 22);
    CHECK(memcmp(pkt.l4.tcp.payload, "hello from the kernel\n", 22) == 0);
    CHECK(pkt.l4.tcp.opts.has_ts && !pkt.l4.tcp.opts.has_mss);

    fx = fixture("kernel-ack-sack");
    CHECK(fx);
    CHECK_EQ(tcpw_packet_parse(fx->bytes, fx->len, &pkt), TCPW_DROP_NONE);
    CHECK_EQ(pkt.l4.tcp.opts.sack_count, 1);
    CHECK_EQ(pkt.l4.tcp.opts.sack[0].left, pkt.l4.tcp.ack + 100);
    CHECK_EQ(pkt.l4.tcp.opts.sack[0].right, pkt.l4.tcp.ack + 110);

    fx = fixture("kernel-rst");
    CHECK(fx);
    CHECK_EQ(tcpw_packet_parse(fx->bytes, fx->len, &pkt), TCPW_DROP_NONE);
    CHECK_EQ(pkt.l4.tcp.flags, TCPW_RST);
    CHECK_EQ(pkt.l4.tcp.seq, 0xcafef00d);

    fx = fixture("kernel-rstack");
    CHECK(fx);
    CHECK_EQ(tcpw_packet_parse(fx->bytes, fx->len, &pkt), TCPW_DROP_NONE);
    CHECK_EQ(pkt.l4.tcp.flags, TCPW_RST | TCPW_ACK);
    CHECK_EQ(pkt.l4.tcp.seq, 0);
    CHECK_EQ(pkt.l4.tcp.ack, 0x12345679);

    fx = fixture("kernel-icmp-echo-reply");
    CHECK(fx);
    CHECK_EQ(tcpw_packet_parse(fx->bytes, fx->len, &pkt), TCPW_DROP_NONE);
    CHECK_EQ(pkt.l4.icmp.type, 0);
    CHECK_EQ(pkt.l4.icmp.rest, 0x77770001);
    CHECK_EQ(pkt.l4.icmp.data_len, 19);

    fx = fixture("kernel-icmp-port-unreach");
    CHECK(fx);
    CHECK_EQ(tcpw_packet_parse(fx->bytes, fx->len, &pkt), TCPW_DROP_NONE);
    CHECK_EQ(pkt.l4.icmp.type, 3);
    CHECK_EQ(pkt.l4.icmp.code, 3);
    CHECK_EQ(pkt.l4.icmp.data_len, 32); /* our 20-byte IP header + 12 bytes of UDP */
    CHECK_EQ(pkt.l4.icmp.data[0], 0x45);
}

/* tcpw_tcp_build, fed the parsed fields, writes the kernel's bytes exactly:
 * same option layout, same checksums. */
static void test_kernel_tcp_rebuilt_identical(void)
{
    CHECK(fixture_count > 0);
    for (size_t i = 0; i < N_KERNEL_TCP; i++) {
        const struct fixture *fx = fixture(kernel_tcp[i]);
        CHECK(fx);
        struct tcpw_packet pkt;
        CHECK_EQ(tcpw_packet_parse(fx->bytes, fx->len, &pkt), TCPW_DROP_NONE);
        const struct tcpw_tcp *t = &pkt.l4.tcp;
        struct tcpw_tcp_out out = {
            .src = pkt.ip.src,
            .dst = pkt.ip.dst,
            .sport = t->sport,
            .dport = t->dport,
            .seq = t->seq,
            .ack = t->ack,
            .flags = t->flags,
            .ttl = pkt.ip.ttl,
            .wnd = t->wnd,
            .ip_id = pkt.ip.id,
            .df = (pkt.ip.frag & 0x4000) != 0,
            .opts = t->opts,
            .payload = t->payload,
            .payload_len = t->payload_len,
        };
        uint8_t buf[1600];
        size_t n = tcpw_tcp_build(buf, sizeof buf, &out);
        CHECK_EQ(n, fx->len);
        if (memcmp(buf, fx->bytes, n) != 0) {
            check_hexdump("kernel", fx->bytes, fx->len);
            check_hexdump("tcpwave", buf, n);
            CHECK_MSG(false, "%s: rebuilt bytes differ", fx->name);
        }
    }
}

/* tcpw_icmp_build reproduces the kernel's ICMP message (the IP header differs
 * only in fields tcpwave chooses itself: TOS and ID). */
static void test_kernel_icmp_rebuilt_identical(void)
{
    CHECK(fixture_count > 0);
    for (size_t i = 0; i < N_KERNEL_ICMP; i++) {
        const struct fixture *fx = fixture(kernel_icmp[i]);
        CHECK(fx);
        struct tcpw_packet pkt;
        CHECK_EQ(tcpw_packet_parse(fx->bytes, fx->len, &pkt), TCPW_DROP_NONE);
        const struct tcpw_icmp *m = &pkt.l4.icmp;
        uint8_t buf[1600];
        size_t n = tcpw_icmp_build(buf, sizeof buf, pkt.ip.src, pkt.ip.dst, m->type, m->code,
                                   m->rest, m->data, m->data_len);
        CHECK_EQ(n, fx->len);
        CHECK_MSG(memcmp(buf + 20, fx->bytes + 20, n - 20) == 0, "%s: ICMP bytes differ", fx->name);
    }
}

int main(void)
{
    RUN(test_rfc1071_example);
    RUN(test_fold);
    RUN(test_partial_vs_reference_every_length);
    RUN(test_partial_carries);
    RUN(test_partial_chained);
    RUN(test_pseudo_header);
    RUN(test_update16_vs_recompute);
    RUN(test_fixtures_present);
    RUN(test_kernel_checksums_reproduced);
    RUN(test_kernel_bit_flips_rejected);
    RUN(test_kernel_pseudo_header_covered);
    RUN(test_kernel_fields);
    RUN(test_kernel_tcp_rebuilt_identical);
    RUN(test_kernel_icmp_rebuilt_identical);
    return check_summary();
}
