/* Unit tests for tcp/buffer: the send ring (RFC 9293 §3.3.1) and the
 * receive ring with out-of-order ranges and SACK block order (RFC 9293
 * §3.10.7.4 "seventh", RFC 2018 §4).
 *
 * Besides hand-written cases, both buffers are run against a reference
 * model under a few hundred thousand random operations. The receive model is
 * deliberately naive: a flat array of byte values and a presence bitmap,
 * indexed from the first unread byte, from which the expected ranges are
 * recomputed after every step.
 */
#include "check.h"

#include "tcp/buffer.h"

#include <stdlib.h>
#include <string.h>

#define NRANGES TCPW_RCVBUF_MAX_RANGES

/* Printing helper: true if b's ranges are exactly want[0..n). */
static bool ranges_equal(const struct tcpw_range *got, unsigned got_n,
                         const struct tcpw_range *want, unsigned want_n)
{
    bool same = got_n == want_n;
    for (unsigned i = 0; same && i < got_n; i++)
        same = got[i].start == want[i].start && got[i].end == want[i].end;
    if (!same) {
        fprintf(stderr, "  ranges: got %u:", got_n);
        for (unsigned i = 0; i < got_n; i++)
            fprintf(stderr, " [%u,%u)", (unsigned)got[i].start, (unsigned)got[i].end);
        fprintf(stderr, "\n  ranges: want %u:", want_n);
        for (unsigned i = 0; i < want_n; i++)
            fprintf(stderr, " [%u,%u)", (unsigned)want[i].start, (unsigned)want[i].end);
        fputc('\n', stderr);
    }
    return same;
}

#define RANGES(...) ((const struct tcpw_range[]){__VA_ARGS__})
#define NARGS(...)  ((unsigned)(sizeof(RANGES(__VA_ARGS__)) / sizeof(struct tcpw_range)))
/* CHECK that the receive buffer's range list is exactly the given ranges. */
#define CHECK_OOO(b, ...)                                                                          \
    CHECK(ranges_equal((b)->ooo, (b)->ooo_count, RANGES(__VA_ARGS__), NARGS(__VA_ARGS__)))
/* CHECK that the SACK blocks (max 4, as the option allows) are exactly these. */
#define CHECK_SACK(b, ...)                                                                         \
    do {                                                                                           \
        struct tcpw_range sack_[4];                                                                \
        unsigned sack_n_ = tcpw_rcvbuf_sack_ranges((b), sack_, 4);                                 \
        CHECK(ranges_equal(sack_, sack_n_, RANGES(__VA_ARGS__), NARGS(__VA_ARGS__)));              \
    } while (0)

static size_t wr(struct tcpw_rcvbuf *b, uint32_t off, const char *s)
{
    return tcpw_rcvbuf_write(b, off, s, strlen(s));
}

/* Moves the ring's head to `pos` by writing and reading pos bytes. */
static void rcv_rotate(struct tcpw_rcvbuf *b, size_t pos)
{
    static const uint8_t junk[4096];
    while (pos > 0) {
        size_t n = pos < sizeof(junk) ? pos : sizeof(junk);
        n = tcpw_rcvbuf_write(b, 0, junk, n);
        tcpw_rcvbuf_read(b, NULL, n);
        pos -= n;
    }
}

/* ------------------------------------------------------------ send side */

static void test_sndbuf_basic(void)
{
    struct tcpw_sndbuf b;
    char out[16];

    CHECK_EQ_I(tcpw_sndbuf_init(&b, 8), 0);
    CHECK_EQ(b.cap, 8);
    CHECK_EQ(b.len, 0);
    CHECK_EQ(tcpw_sndbuf_space(&b), 8);
    CHECK_EQ(tcpw_sndbuf_append(&b, "hello", 5), 5);
    CHECK_EQ(b.len, 5);
    CHECK_EQ(tcpw_sndbuf_space(&b), 3);
    tcpw_sndbuf_copy(&b, 1, out, 3);
    CHECK(memcmp(out, "ell", 3) == 0);
    tcpw_sndbuf_drop(&b, 2);
    CHECK_EQ(b.len, 3);
    tcpw_sndbuf_copy(&b, 0, out, 3);
    CHECK(memcmp(out, "llo", 3) == 0);
    /* Only the free space is taken; the rest wraps around the ring. */
    CHECK_EQ(tcpw_sndbuf_append(&b, "ABCDEFGHIJ", 10), 5);
    CHECK_EQ(b.len, 8);
    CHECK_EQ(tcpw_sndbuf_space(&b), 0);
    CHECK_EQ(tcpw_sndbuf_append(&b, "x", 1), 0);
    tcpw_sndbuf_copy(&b, 0, out, 8);
    CHECK(memcmp(out, "lloABCDE", 8) == 0);
    tcpw_sndbuf_copy(&b, 4, out, 4);
    CHECK(memcmp(out, "BCDE", 4) == 0);
    tcpw_sndbuf_copy(&b, 8, out, 0);
    CHECK_EQ(tcpw_sndbuf_append(&b, NULL, 0), 0);
    tcpw_sndbuf_drop(&b, 0);
    CHECK_EQ(b.len, 8);
    tcpw_sndbuf_drop(&b, 8);
    CHECK_EQ(b.len, 0);
    CHECK_EQ(tcpw_sndbuf_space(&b), 8);
    CHECK_EQ(tcpw_sndbuf_append(&b, "12345678", 8), 8);
    tcpw_sndbuf_copy(&b, 0, out, 8);
    CHECK(memcmp(out, "12345678", 8) == 0);
    tcpw_sndbuf_clear(&b);
    CHECK_EQ(b.len, 0);
    CHECK_EQ(tcpw_sndbuf_space(&b), 8);
    CHECK_EQ(tcpw_sndbuf_append(&b, "xyz", 3), 3);
    tcpw_sndbuf_copy(&b, 0, out, 3);
    CHECK(memcmp(out, "xyz", 3) == 0);
    tcpw_sndbuf_fini(&b);
    CHECK(b.data == NULL);
    tcpw_sndbuf_fini(&b); /* harmless twice */
    CHECK_EQ(b.cap, 0);
}

/* Every head position × every offset/length of a copy, for a small ring. */
static void test_sndbuf_wrap_every_position(void)
{
    enum { CAP = 7 };
    for (size_t head = 0; head < CAP; head++) {
        for (size_t fill = 0; fill <= CAP; fill++) {
            struct tcpw_sndbuf b;
            uint8_t src[CAP], out[CAP];
            CHECK_EQ_I(tcpw_sndbuf_init(&b, CAP), 0);
            CHECK_EQ(tcpw_sndbuf_append(&b, src, head), head);
            tcpw_sndbuf_drop(&b, head);
            for (size_t i = 0; i < fill; i++)
                src[i] = (uint8_t)(0xa0 + head * 8 + i);
            CHECK_EQ(tcpw_sndbuf_append(&b, src, fill), fill);
            CHECK_EQ(tcpw_sndbuf_space(&b), CAP - fill);
            for (size_t off = 0; off <= fill; off++) {
                for (size_t len = 0; off + len <= fill; len++) {
                    memset(out, 0, sizeof(out));
                    tcpw_sndbuf_copy(&b, off, out, len);
                    CHECK(memcmp(out, src + off, len) == 0);
                }
            }
            tcpw_sndbuf_fini(&b);
        }
    }
}

static void test_sndbuf_random_model(void)
{
    static const size_t caps[] = {1, 2, 7, 64, 1000};
    uint64_t rng = 0x5e4db0f0u;
    uint8_t *model = malloc(2100), *in = malloc(2100), *out = malloc(2100);
    CHECK(model && in && out);

    for (size_t ci = 0; ci < sizeof(caps) / sizeof(caps[0]) && !check_failures; ci++) {
        size_t cap = caps[ci], mlen = 0;
        struct tcpw_sndbuf b;
        CHECK_EQ_I(tcpw_sndbuf_init(&b, cap), 0);
        for (int op = 0; op < 20000; op++) {
            unsigned r = (unsigned)(check_rand(&rng) % 100);
            if (r < 45) {
                size_t len = (size_t)(check_rand(&rng) % (cap + 4));
                size_t want = len < cap - mlen ? len : cap - mlen;
                for (size_t i = 0; i < len; i++)
                    in[i] = (uint8_t)check_rand(&rng);
                size_t got = tcpw_sndbuf_append(&b, in, len);
                CHECK_EQ(got, want);
                memcpy(model + mlen, in, want);
                mlen += want;
            } else if (r < 75) {
                size_t n = mlen ? (size_t)(check_rand(&rng) % (mlen + 1)) : 0;
                tcpw_sndbuf_drop(&b, n);
                memmove(model, model + n, mlen - n);
                mlen -= n;
            } else if (r < 99) {
                size_t off = (size_t)(check_rand(&rng) % (mlen + 1));
                size_t len = (size_t)(check_rand(&rng) % (mlen - off + 1));
                memset(out, 0xee, len);
                tcpw_sndbuf_copy(&b, off, out, len);
                CHECK_MSG(memcmp(out, model + off, len) == 0,
                          "cap %zu op %d: copy(%zu, %zu) differs", cap, op, off, len);
            } else {
                tcpw_sndbuf_clear(&b);
                mlen = 0;
            }
            CHECK_EQ(b.len, mlen);
            CHECK_EQ(tcpw_sndbuf_space(&b), cap - mlen);
            CHECK(b.head < cap);
            tcpw_sndbuf_copy(&b, 0, out, mlen);
            CHECK_MSG(memcmp(out, model, mlen) == 0, "cap %zu op %d: contents differ", cap, op);
        }
        tcpw_sndbuf_fini(&b);
    }
    free(model);
    free(in);
    free(out);
}

/* --------------------------------------------------------- receive side */

static void test_rcvbuf_in_order(void)
{
    struct tcpw_rcvbuf b;
    char out[16] = {0};

    CHECK_EQ_I(tcpw_rcvbuf_init(&b, 10), 0);
    CHECK_EQ(tcpw_rcvbuf_space(&b), 10);
    CHECK_EQ(b.readable, 0);
    CHECK_EQ(b.ooo_count, 0);
    CHECK_EQ_I(b.ooo_latest, -1);
    CHECK_EQ(tcpw_rcvbuf_read(&b, out, sizeof(out)), 0);
    CHECK_EQ(wr(&b, 0, "abc"), 3);
    CHECK_EQ(b.readable, 3);
    CHECK_EQ(tcpw_rcvbuf_space(&b), 7);
    CHECK_EQ(wr(&b, 0, "defg"), 4);
    CHECK_EQ(b.readable, 7);
    CHECK_EQ(b.ooo_count, 0);
    CHECK_EQ_I(b.ooo_latest, -1);
    /* Peek does not consume. */
    CHECK_EQ(tcpw_rcvbuf_peek(&b, out, 2), 2);
    CHECK(memcmp(out, "ab", 2) == 0);
    CHECK_EQ(tcpw_rcvbuf_peek(&b, out, 100), 7);
    CHECK(memcmp(out, "abcdefg", 7) == 0);
    CHECK_EQ(b.readable, 7);
    /* Reading frees window space. */
    CHECK_EQ(tcpw_rcvbuf_read(&b, out, 2), 2);
    CHECK(memcmp(out, "ab", 2) == 0);
    CHECK_EQ(b.readable, 5);
    CHECK_EQ(tcpw_rcvbuf_space(&b), 5);
    /* Wraps: 5 readable at ring index 2, 5 more fill the ring exactly. */
    CHECK_EQ(wr(&b, 0, "hijklmn"), 5);
    CHECK_EQ(tcpw_rcvbuf_space(&b), 0);
    CHECK_EQ(wr(&b, 0, "x"), 0);
    CHECK_EQ(tcpw_rcvbuf_read(&b, NULL, 1), 1); /* NULL discards */
    CHECK_EQ(tcpw_rcvbuf_read(&b, out, 100), 9);
    CHECK(memcmp(out, "defghijkl", 9) == 0);
    CHECK_EQ(b.readable, 0);
    CHECK_EQ(tcpw_rcvbuf_space(&b), 10);
    CHECK_EQ(tcpw_rcvbuf_read(&b, out, 0), 0);
    tcpw_rcvbuf_fini(&b);
    CHECK(b.data == NULL);
    tcpw_rcvbuf_fini(&b); /* harmless twice */
    CHECK_EQ(b.readable, 0);
}

static void test_rcvbuf_out_of_order_then_fill(void)
{
    struct tcpw_rcvbuf b;
    char out[32] = {0};

    CHECK_EQ_I(tcpw_rcvbuf_init(&b, 64), 0);
    CHECK_EQ(wr(&b, 10, "KLMNO"), 0);
    CHECK_EQ(b.readable, 0);
    CHECK_EQ(tcpw_rcvbuf_space(&b), 64); /* out-of-order bytes are not readable */
    CHECK_OOO(&b, {10, 15});
    CHECK_EQ_I(b.ooo_latest, 0);
    /* RCV.NXT advances by 5; the range is re-based to the new RCV.NXT. */
    CHECK_EQ(wr(&b, 0, "ABCDE"), 5);
    CHECK_EQ(b.readable, 5);
    CHECK_OOO(&b, {5, 10});
    CHECK_EQ_I(b.ooo_latest, -1); /* RFC 2018 §4: a segment that advanced RCV.NXT */
    CHECK_SACK(&b, {5, 10});
    /* Filling the hole joins the range: RCV.NXT advances over both. */
    CHECK_EQ(wr(&b, 0, "FGHIJ"), 10);
    CHECK_EQ(b.readable, 15);
    CHECK_EQ(b.ooo_count, 0);
    CHECK_EQ_I(b.ooo_latest, -1);
    CHECK_EQ(tcpw_rcvbuf_read(&b, out, sizeof(out)), 15);
    CHECK(memcmp(out, "ABCDEFGHIJKLMNO", 15) == 0);

    /* A fill that joins several ranges at once, and leaves one behind. */
    CHECK_EQ(wr(&b, 3, "dd"), 0);
    CHECK_EQ(wr(&b, 7, "hh"), 0);
    CHECK_EQ(wr(&b, 12, "mm"), 0);
    CHECK_OOO(&b, {3, 5}, {7, 9}, {12, 14});
    CHECK_EQ(wr(&b, 0, "aaa"), 5);
    CHECK_OOO(&b, {2, 4}, {7, 9});
    CHECK_EQ(wr(&b, 0, "ff"), 4);
    CHECK_OOO(&b, {3, 5});
    CHECK_EQ(wr(&b, 0, "jkl"), 5);
    CHECK_EQ(b.ooo_count, 0);
    CHECK_EQ(b.readable, 14);
    CHECK_EQ(tcpw_rcvbuf_read(&b, out, sizeof(out)), 14);
    CHECK(memcmp(out, "aaaddffhhjklmm", 14) == 0);
    tcpw_rcvbuf_fini(&b);
}

static void test_rcvbuf_merge_ranges(void)
{
    struct tcpw_rcvbuf b;

    CHECK_EQ_I(tcpw_rcvbuf_init(&b, 64), 0);
    CHECK_EQ(wr(&b, 5, "aaaaa"), 0);
    CHECK_EQ(wr(&b, 10, "bbbbb"), 0); /* touching: merged, not kept adjacent */
    CHECK_OOO(&b, {5, 15});
    CHECK_EQ(wr(&b, 20, "ccccc"), 0);
    CHECK_OOO(&b, {5, 15}, {20, 25});
    CHECK_EQ_I(b.ooo_latest, 1);
    CHECK_EQ(wr(&b, 15, "ddddd"), 0); /* bridges exactly */
    CHECK_OOO(&b, {5, 25});
    CHECK_EQ_I(b.ooo_latest, 0);
    CHECK_EQ(wr(&b, 3, "e"), 0);
    CHECK_OOO(&b, {3, 4}, {5, 25});
    CHECK_EQ(wr(&b, 30, "f"), 0);
    CHECK_EQ(wr(&b, 40, "g"), 0);
    CHECK_OOO(&b, {3, 4}, {5, 25}, {30, 31}, {40, 41});
    CHECK_EQ(wr(&b, 4, "h"), 0); /* touches on both sides */
    CHECK_OOO(&b, {3, 25}, {30, 31}, {40, 41});
    CHECK_EQ_I(b.ooo_latest, 0);
    /* One segment overlapping and covering several ranges. */
    CHECK_EQ(wr(&b, 2, "iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii"), 0); /* [2, 34) */
    CHECK_OOO(&b, {2, 34}, {40, 41});
    CHECK_EQ(wr(&b, 39, "jjj"), 0); /* extends both ends of [40, 41) */
    CHECK_OOO(&b, {2, 34}, {39, 42});
    CHECK_EQ_I(b.ooo_latest, 1);
    CHECK_EQ(wr(&b, 50, "k"), 0);
    CHECK_EQ(wr(&b, 45, "l"), 0); /* inserted in the middle keeps the order */
    CHECK_OOO(&b, {2, 34}, {39, 42}, {45, 46}, {50, 51});
    CHECK_EQ_I(b.ooo_latest, 2);
    CHECK_EQ(wr(&b, 63, "m"), 0); /* the last byte of the window */
    CHECK_OOO(&b, {2, 34}, {39, 42}, {45, 46}, {50, 51}, {63, 64});
    tcpw_rcvbuf_fini(&b);
}

static void test_rcvbuf_first_copy_wins(void)
{
    struct tcpw_rcvbuf b;
    char out[16] = {0};

    CHECK_EQ_I(tcpw_rcvbuf_init(&b, 16), 0);
    CHECK_EQ(wr(&b, 4, "AAAA"), 0);
    CHECK_EQ(wr(&b, 2, "BBBBBBBBBB"), 0);
    CHECK_OOO(&b, {2, 12});
    CHECK_EQ(wr(&b, 6, "ZZ"), 0); /* a duplicate changes nothing */
    CHECK_OOO(&b, {2, 12});
    CHECK_EQ(wr(&b, 0, "CCDDDD"), 12);
    CHECK_EQ(tcpw_rcvbuf_read(&b, out, sizeof(out)), 12);
    CHECK(memcmp(out, "CCBBAAAABBBB", 12) == 0);
    tcpw_rcvbuf_fini(&b);
}

static void test_rcvbuf_window_edges(void)
{
    struct tcpw_rcvbuf b;
    char out[32] = {0};

    CHECK_EQ_I(tcpw_rcvbuf_init(&b, 10), 0);
    /* Cut at the end of the space. */
    CHECK_EQ(wr(&b, 8, "xyzzy"), 0);
    CHECK_OOO(&b, {8, 10});
    /* At or beyond the space: nothing is stored, nothing changes. */
    CHECK_EQ(wr(&b, 10, "q"), 0);
    CHECK_EQ(wr(&b, 11, "q"), 0);
    CHECK_EQ(wr(&b, 0x80000000u, "q"), 0);
    CHECK_EQ(wr(&b, UINT32_MAX, "qqqqqqqq"), 0);
    CHECK_OOO(&b, {8, 10});
    CHECK_EQ_I(b.ooo_latest, 0);
    CHECK_EQ(wr(&b, 3, "q"), 0);
    CHECK_OOO(&b, {3, 4}, {8, 10});
    CHECK_EQ_I(b.ooo_latest, 0);
    /* Zero length: nothing at all, not even the SACK order. */
    CHECK_EQ(tcpw_rcvbuf_write(&b, 8, "q", 0), 0);
    CHECK_EQ(tcpw_rcvbuf_write(&b, 0, "q", 0), 0);
    CHECK_EQ(tcpw_rcvbuf_write(&b, 5, NULL, 0), 0);
    CHECK_OOO(&b, {3, 4}, {8, 10});
    CHECK_EQ_I(b.ooo_latest, 0);
    CHECK_EQ(b.readable, 0);
    /* Offset 0 with more than the space: cut to 10, the stored bytes win. */
    CHECK_EQ(wr(&b, 0, "0123456789abcdef"), 10);
    CHECK_EQ(b.readable, 10);
    CHECK_EQ(b.ooo_count, 0);
    CHECK_EQ(tcpw_rcvbuf_space(&b), 0);
    CHECK_EQ(wr(&b, 0, "r"), 0);
    CHECK_EQ(tcpw_rcvbuf_peek(&b, out, sizeof(out)), 10);
    CHECK(memcmp(out, "012q4567xy", 10) == 0);
    CHECK_EQ(tcpw_rcvbuf_read(&b, out, 4), 4);
    CHECK_EQ(tcpw_rcvbuf_space(&b), 4);
    CHECK_EQ(wr(&b, 3, "st"), 0);
    CHECK_OOO(&b, {3, 4});
    CHECK_EQ(wr(&b, 0, "uvwxyz"), 4);
    CHECK_EQ(b.readable, 10);
    CHECK_EQ(tcpw_rcvbuf_read(&b, out, sizeof(out)), 10);
    CHECK(memcmp(out, "4567xyuvws", 10) == 0);
    tcpw_rcvbuf_fini(&b);
}

static void test_rcvbuf_capacity_one(void)
{
    struct tcpw_rcvbuf b;
    char out[4] = {0};

    CHECK_EQ_I(tcpw_rcvbuf_init(&b, 1), 0);
    for (int i = 0; i < 5; i++) {
        char c = (char)('a' + i);
        CHECK_EQ(wr(&b, 1, "z"), 0); /* beyond the space */
        CHECK_EQ(b.ooo_count, 0);
        CHECK_EQ(tcpw_rcvbuf_write(&b, 0, &c, 1), 1);
        CHECK_EQ(tcpw_rcvbuf_space(&b), 0);
        CHECK_EQ(wr(&b, 0, "z"), 0);
        CHECK_EQ(tcpw_rcvbuf_read(&b, out, 4), 1);
        CHECK_EQ(out[0], c);
        CHECK_EQ(b.head, 0);
    }
    tcpw_rcvbuf_fini(&b);
}

/* Every head position × out-of-order offset × length, then the fill. */
static void test_rcvbuf_wrap_every_position(void)
{
    enum { CAP = 7 };
    for (size_t head = 0; head < CAP; head++) {
        for (uint32_t off = 1; off <= CAP; off++) {
            for (size_t len = 1; len <= CAP + 1; len++) {
                struct tcpw_rcvbuf b;
                uint8_t seg[CAP + 1], fill[CAP], want[CAP], out[CAP + 1];
                size_t stored = off < CAP ? (len < CAP - off ? len : CAP - off) : 0;
                CHECK_EQ_I(tcpw_rcvbuf_init(&b, CAP), 0);
                rcv_rotate(&b, head);
                CHECK_EQ(b.head, head);
                for (size_t i = 0; i < sizeof(seg); i++)
                    seg[i] = (uint8_t)(0x40 + i);
                for (size_t i = 0; i < sizeof(fill); i++)
                    fill[i] = (uint8_t)(0x10 + i);
                CHECK_EQ(tcpw_rcvbuf_write(&b, off, seg, len), 0);
                CHECK_EQ(b.ooo_count, stored ? 1 : 0);
                if (stored) {
                    CHECK_EQ(b.ooo[0].start, off);
                    CHECK_EQ(b.ooo[0].end, off + stored);
                }
                /* Fill the hole (off < CAP) or the whole window (off == CAP). */
                size_t hole = off < CAP ? off : CAP;
                CHECK_EQ(tcpw_rcvbuf_write(&b, 0, fill, hole), hole + stored);
                memcpy(want, fill, hole);
                memcpy(want + hole, seg, stored);
                CHECK_EQ(b.ooo_count, 0);
                CHECK_EQ(tcpw_rcvbuf_read(&b, out, sizeof(out)), hole + stored);
                CHECK(memcmp(out, want, hole + stored) == 0);
                tcpw_rcvbuf_fini(&b);
            }
        }
    }
}

/* Fills the list with NRANGES one-byte ranges at first, first + 2, ... */
static void fill_ranges(struct tcpw_rcvbuf *b, uint32_t first)
{
    for (uint32_t i = 0; i < NRANGES; i++)
        tcpw_rcvbuf_write(b, first + 2 * i, "r", 1);
}

static void test_rcvbuf_ranges_full(void)
{
    struct tcpw_rcvbuf b;
    struct tcpw_range sack[NRANGES + 1];
    char out[128] = {0};

    CHECK_EQ_I(tcpw_rcvbuf_init(&b, 128), 0);
    fill_ranges(&b, 1); /* [1,2) [3,4) ... [63,64) */
    CHECK_EQ(b.ooo_count, NRANGES);
    CHECK_EQ(b.ooo[0].start, 1);
    CHECK_EQ(b.ooo[NRANGES - 1].start, 63);
    CHECK_EQ(b.ooo[NRANGES - 1].end, 64);
    CHECK_EQ_I(b.ooo_latest, NRANGES - 1);

    /* The 33rd disjoint range is refused and changes nothing. */
    CHECK_EQ(wr(&b, 65, "X"), 0);
    CHECK_EQ(wr(&b, 100, "XXXX"), 0);
    CHECK_EQ(b.ooo_count, NRANGES);
    CHECK_EQ(b.ooo[NRANGES - 1].end, 64);
    CHECK_EQ_I(b.ooo_latest, NRANGES - 1);
    /* Extending a range is accepted: [63,64) + [64,65). */
    CHECK_EQ(wr(&b, 64, "e"), 0);
    CHECK_EQ(b.ooo_count, NRANGES);
    CHECK_EQ(b.ooo[NRANGES - 1].start, 63);
    CHECK_EQ(b.ooo[NRANGES - 1].end, 65);
    /* 66 does not touch [63,65): refused; 65 does: accepted. */
    CHECK_EQ(wr(&b, 66, "X"), 0);
    CHECK_EQ(b.ooo[NRANGES - 1].end, 65);
    CHECK_EQ(wr(&b, 65, "f"), 0);
    CHECK_EQ(b.ooo[NRANGES - 1].end, 66);
    /* A duplicate inside a range is accepted and becomes the latest. */
    CHECK_EQ(wr(&b, 3, "X"), 0);
    CHECK_EQ_I(b.ooo_latest, 1);
    CHECK_EQ(tcpw_rcvbuf_sack_ranges(&b, sack, 3), 3);
    CHECK(ranges_equal(sack, 3, RANGES({3, 4}, {1, 2}, {5, 6}), 3));
    /* Bridging two ranges is accepted and frees a slot... */
    CHECK_EQ(wr(&b, 2, "b"), 0);
    CHECK_EQ(b.ooo_count, NRANGES - 1);
    CHECK_EQ(b.ooo[0].start, 1);
    CHECK_EQ(b.ooo[0].end, 4);
    CHECK_EQ(b.ooo[1].start, 5);
    /* ...which a new range may then take. */
    CHECK_EQ(wr(&b, 100, "n"), 0);
    CHECK_EQ(b.ooo_count, NRANGES);
    CHECK_EQ(b.ooo[NRANGES - 1].start, 100);
    CHECK_EQ(wr(&b, 90, "X"), 0);
    CHECK_EQ(b.ooo_count, NRANGES);
    /* Data at RCV.NXT is always accepted: RCV.NXT moves over [0,4). */
    CHECK_EQ(wr(&b, 0, "0"), 4);
    CHECK_EQ(b.ooo_count, NRANGES - 1);
    CHECK_EQ(b.ooo[0].start, 1); /* was [5,6) */
    CHECK_EQ(b.ooo[0].end, 2);
    CHECK_EQ(b.ooo[NRANGES - 2].start, 96); /* was [100,101) */
    CHECK_EQ(tcpw_rcvbuf_read(&b, out, sizeof(out)), 4);
    CHECK(memcmp(out, "0rbr", 4) == 0);
    tcpw_rcvbuf_clear(&b);

    /* Full list whose first range does not touch offset 0: in-order data
     * that joins nothing must still be taken, without needing a slot. */
    fill_ranges(&b, 2); /* [2,3) [4,5) ... [64,65) */
    CHECK_EQ(b.ooo_count, NRANGES);
    CHECK_EQ(wr(&b, 0, "a"), 1);
    CHECK_EQ(b.readable, 1);
    CHECK_EQ(b.ooo_count, NRANGES);
    CHECK_EQ(b.ooo[0].start, 1);
    CHECK_EQ(b.ooo[NRANGES - 1].start, 63);
    CHECK_EQ(b.ooo[NRANGES - 1].end, 64);
    CHECK_EQ_I(b.ooo_latest, -1);
    CHECK_EQ(tcpw_rcvbuf_sack_ranges(&b, sack, NRANGES + 1), NRANGES);
    for (unsigned i = 0; i < NRANGES; i++)
        CHECK_EQ(sack[i].start, 1 + 2 * i);
    CHECK_EQ(wr(&b, 0, "b"), 2);
    CHECK_EQ(b.ooo_count, NRANGES - 1);
    tcpw_rcvbuf_fini(&b);
}

static void test_rcvbuf_sack_order(void)
{
    struct tcpw_rcvbuf b;
    struct tcpw_range sack[4];

    CHECK_EQ_I(tcpw_rcvbuf_init(&b, 100), 0);
    CHECK_EQ(tcpw_rcvbuf_sack_ranges(&b, sack, 4), 0);
    CHECK_EQ(wr(&b, 10, "aa"), 0);
    CHECK_SACK(&b, {10, 12});
    CHECK_EQ(wr(&b, 30, "bb"), 0);
    CHECK_SACK(&b, {30, 32}, {10, 12});
    CHECK_EQ(wr(&b, 20, "cc"), 0);
    /* RFC 2018 §4: the block holding the latest segment first, then the
     * others (ascending here). */
    CHECK_SACK(&b, {20, 22}, {10, 12}, {30, 32});
    CHECK_EQ(tcpw_rcvbuf_sack_ranges(&b, sack, 2), 2);
    CHECK(ranges_equal(sack, 2, RANGES({20, 22}, {10, 12}), 2));
    CHECK_EQ(tcpw_rcvbuf_sack_ranges(&b, sack, 1), 1);
    CHECK(ranges_equal(sack, 1, RANGES({20, 22}), 1));
    CHECK_EQ(tcpw_rcvbuf_sack_ranges(&b, sack, 0), 0);
    CHECK_EQ(wr(&b, 12, "dd"), 0); /* extends [10,12) */
    CHECK_SACK(&b, {10, 14}, {20, 22}, {30, 32});
    CHECK_EQ(wr(&b, 40, "e"), 0);
    CHECK_EQ(wr(&b, 50, "f"), 0);
    CHECK_SACK(&b, {50, 51}, {10, 14}, {20, 22}, {30, 32}); /* four of five */
    /* A duplicate: its block comes first. */
    CHECK_EQ(wr(&b, 31, "g"), 0);
    CHECK_SACK(&b, {30, 32}, {10, 14}, {20, 22}, {40, 41});
    /* A segment that advanced RCV.NXT is not reported first (§4). */
    CHECK_EQ(wr(&b, 0, "h"), 1);
    CHECK_SACK(&b, {9, 13}, {19, 21}, {29, 31}, {39, 40});
    /* A duplicate makes its block first; data beyond the window is not
     * stored and leaves the order alone. */
    CHECK_EQ(wr(&b, 29, "i"), 0);
    CHECK_SACK(&b, {29, 31}, {9, 13}, {19, 21}, {39, 40});
    CHECK_EQ(wr(&b, 200, "j"), 0);
    CHECK_SACK(&b, {29, 31}, {9, 13}, {19, 21}, {39, 40});
    /* Reading moves neither RCV.NXT nor the ranges. */
    CHECK_EQ(tcpw_rcvbuf_read(&b, NULL, 1), 1);
    CHECK_SACK(&b, {29, 31}, {9, 13}, {19, 21}, {39, 40});
    /* A segment joining two ranges puts the joined range first. */
    CHECK_EQ(wr(&b, 13, "kkkkkk"), 0);
    CHECK_SACK(&b, {9, 21}, {29, 31}, {39, 40}, {49, 50});
    tcpw_rcvbuf_clear(&b);
    CHECK_EQ(tcpw_rcvbuf_sack_ranges(&b, sack, 4), 0);
    CHECK_EQ_I(b.ooo_latest, -1);
    tcpw_rcvbuf_fini(&b);
}

static void test_rcvbuf_clear(void)
{
    struct tcpw_rcvbuf b;
    char out[8] = {0};

    CHECK_EQ_I(tcpw_rcvbuf_init(&b, 8), 0);
    CHECK_EQ(wr(&b, 0, "abc"), 3);
    CHECK_EQ(wr(&b, 2, "zz"), 0);
    CHECK_EQ(b.ooo_count, 1);
    tcpw_rcvbuf_clear(&b);
    CHECK_EQ(b.readable, 0);
    CHECK_EQ(b.ooo_count, 0);
    CHECK_EQ_I(b.ooo_latest, -1);
    CHECK_EQ(tcpw_rcvbuf_space(&b), 8);
    CHECK_EQ(tcpw_rcvbuf_read(&b, out, 8), 0);
    CHECK_EQ(wr(&b, 0, "12345678"), 8);
    CHECK_EQ(tcpw_rcvbuf_read(&b, out, 8), 8);
    CHECK(memcmp(out, "12345678", 8) == 0);
    tcpw_rcvbuf_fini(&b);
}

/* --------------------------------------------------- receive model test */

/* The reference model: index i is the i-th byte from the first unread one.
 * [0, readable) is in order; beyond it pres[] says what has arrived. */
struct rmodel {
    size_t cap, readable;
    uint8_t *val, *pres;
    long latest; /* index of a byte in the most recently written range, or -1 */
};

/* The maximal runs of present bytes beyond the readable ones, as offsets
 * from RCV.NXT. Returns the count (unbounded by the buffer's limit). */
static unsigned model_runs(const struct rmodel *m, struct tcpw_range *out, unsigned max)
{
    unsigned n = 0;
    for (size_t i = m->readable; i < m->cap; i++) {
        if (!m->pres[i] || (i > m->readable && m->pres[i - 1]))
            continue;
        size_t j = i;
        while (j < m->cap && m->pres[j])
            j++;
        if (n < max) {
            out[n].start = (uint32_t)(i - m->readable);
            out[n].end = (uint32_t)(j - m->readable);
        }
        n++;
    }
    return n;
}

/* Applies a write to the model; returns the expected RCV.NXT advance. */
static size_t model_write(struct rmodel *m, uint32_t off, const uint8_t *data, size_t len,
                          bool *refused)
{
    size_t space = m->cap - m->readable, n, s = off, old = m->readable;
    struct tcpw_range runs[NRANGES + 1];
    bool touches = false;

    *refused = false;
    if (len == 0 || off >= space)
        return 0;
    n = len < space - s ? len : space - s;
    /* Does [s, s + n) overlap or touch a present byte? */
    for (size_t i = s ? s - 1 : 0; i <= s + n && i < space; i++)
        touches |= m->pres[m->readable + i] != 0;
    if (s > 0 && !touches && model_runs(m, runs, NRANGES + 1) >= NRANGES) {
        *refused = true;
        return 0;
    }
    for (size_t k = 0; k < n; k++) {
        size_t i = m->readable + s + k;
        if (!m->pres[i]) {
            m->pres[i] = 1;
            m->val[i] = data[k];
        }
    }
    while (m->readable < m->cap && m->pres[m->readable])
        m->readable++;
    m->latest = s > 0 ? (long)(old + s) : -1;
    return m->readable - old;
}

static size_t model_read(struct rmodel *m, uint8_t *out, size_t len)
{
    size_t n = len < m->readable ? len : m->readable;
    if (out)
        memcpy(out, m->val, n);
    memmove(m->val, m->val + n, m->cap - n);
    memmove(m->pres, m->pres + n, m->cap - n);
    memset(m->pres + m->cap - n, 0, n);
    m->readable -= n;
    if (m->latest >= 0)
        m->latest -= (long)n;
    return n;
}

/* Compares every observable part of b with the model. */
static void verify_rcv(const struct tcpw_rcvbuf *b, const struct rmodel *m, uint64_t rng)
{
    struct tcpw_range want[NRANGES + 1], sack[NRANGES + 1], exp[NRANGES + 1];
    unsigned nw = model_runs(m, want, NRANGES + 1), ns = 0, max;

    CHECK_EQ(b->readable, m->readable);
    CHECK_EQ(tcpw_rcvbuf_space(b), m->cap - m->readable);
    CHECK(b->head < b->cap);
    CHECK(nw <= NRANGES);
    CHECK(ranges_equal(b->ooo, b->ooo_count, want, nw));

    /* SACK order: the run holding the latest write first, then ascending. */
    max = (unsigned)(rng % (NRANGES + 2));
    if (m->latest >= 0) {
        for (unsigned i = 0; i < nw; i++) {
            if ((long)want[i].start + (long)m->readable <= m->latest &&
                m->latest < (long)want[i].end + (long)m->readable) {
                exp[ns++] = want[i];
                want[i].start = want[i].end = 0; /* mark as used */
            }
        }
        CHECK_EQ(ns, 1);
    }
    for (unsigned i = 0; i < nw; i++) {
        if (want[i].end != 0)
            exp[ns++] = want[i];
    }
    if (ns > max)
        ns = max;
    CHECK(ranges_equal(sack, tcpw_rcvbuf_sack_ranges(b, sack, max), exp, ns));

    /* Every byte that has arrived, in order or not, is in its ring slot. */
    for (size_t i = 0, pos = b->head; i < m->cap; i++, pos = pos + 1 == b->cap ? 0 : pos + 1) {
        if (m->pres[i])
            CHECK_MSG(b->data[pos] == m->val[i], "byte %zu: ring %u, model %u", i, b->data[pos],
                      m->val[i]);
    }
}

struct rcv_stats {
    unsigned long writes, refused, advances, joins, reads, peeks, full;
};

static void run_rcv_model(size_t cap, uint64_t seed, int ops, struct rcv_stats *st)
{
    struct tcpw_rcvbuf b;
    struct rmodel m = {cap, 0, calloc(cap, 1), calloc(cap, 1), -1};
    size_t maxlen = 2 * cap + 8;
    uint8_t *seg = malloc(maxlen), *out = malloc(maxlen), *exp = malloc(maxlen);
    uint64_t rng = seed;
    int op = 0;

    CHECK(m.val && m.pres && seg && out && exp);
    CHECK_EQ_I(tcpw_rcvbuf_init(&b, cap), 0);
    for (op = 0; op < ops && !check_failures; op++) {
        unsigned r = (unsigned)(check_rand(&rng) % 1000);
        size_t space = cap - m.readable;
        if (r < 650) {
            /* A segment: mostly inside the window, some beyond, a few at
             * offsets that would overflow 32 bits if added carelessly. */
            uint32_t off;
            size_t len;
            unsigned mode = (unsigned)(check_rand(&rng) % 32);
            struct tcpw_range runs[NRANGES + 1];
            unsigned nr = model_runs(&m, runs, NRANGES + 1);
            /* Every other stretch of 2000 operations sprinkles one- and
             * two-byte segments beyond RCV.NXT, so the range list fills up
             * and the full-list rule is exercised. */
            bool sparse = (op / 2000) % 2 == 1 && space > 1;
            if (sparse)
                off = 1 + (uint32_t)(check_rand(&rng) % (space - 1));
            else if (mode == 0)
                off = 0;
            else if (mode == 1)
                off = UINT32_MAX - (uint32_t)(check_rand(&rng) % 4);
            else if (mode == 2)
                off = (uint32_t)space + (uint32_t)(check_rand(&rng) % (cap + 1));
            else if (mode < 10 && nr > 0) {
                /* Aim at the gap before a range (or right after one). */
                struct tcpw_range g = runs[check_rand(&rng) % (nr < NRANGES ? nr : NRANGES)];
                off = mode < 6 ? g.start - (uint32_t)(check_rand(&rng) % (g.start + 1))
                               : g.end - (uint32_t)(check_rand(&rng) % 2);
            } else
                off = (uint32_t)(check_rand(&rng) % (space + 1));
            switch (sparse ? 4 + check_rand(&rng) % 4 : check_rand(&rng) % 8) {
            case 0:
                len = 0;
                break;
            case 1:
                len = (size_t)(check_rand(&rng) % maxlen);
                break;
            case 2:
            case 3:
                len = (size_t)(check_rand(&rng) % (cap / 4 + 2));
                break;
            default:
                len = 1 + (size_t)(check_rand(&rng) % (sparse ? 2 : 4));
                break;
            }
            for (size_t i = 0; i < len; i++)
                seg[i] = (uint8_t)check_rand(&rng);
            bool refused;
            unsigned ranges_before = b.ooo_count;
            size_t want = model_write(&m, off, seg, len, &refused);
            size_t got = tcpw_rcvbuf_write(&b, off, seg, len);
            CHECK_MSG(got == want, "write(%u, %zu): advanced %zu, model %zu", (unsigned)off, len,
                      got, want);
            st->writes++;
            st->refused += refused;
            st->advances += want > 0;
            st->joins += want > 0 && ranges_before > b.ooo_count;
            st->full += b.ooo_count == NRANGES;
        } else if (r < 850) {
            size_t len = (size_t)(check_rand(&rng) % (cap + 3));
            bool discard = check_rand(&rng) % 8 == 0;
            size_t want = model_read(&m, exp, len);
            size_t got = tcpw_rcvbuf_read(&b, discard ? NULL : out, len);
            CHECK_EQ(got, want);
            if (!discard)
                CHECK(memcmp(out, exp, got) == 0);
            st->reads++;
        } else if (r < 999) {
            size_t len = (size_t)(check_rand(&rng) % (cap + 3));
            size_t want = len < m.readable ? len : m.readable;
            size_t head = b.head;
            CHECK_EQ(tcpw_rcvbuf_peek(&b, out, len), want);
            CHECK(memcmp(out, m.val, want) == 0);
            CHECK_EQ(b.head, head);
            st->peeks++;
        } else {
            tcpw_rcvbuf_clear(&b);
            memset(m.pres, 0, cap);
            m.readable = 0;
            m.latest = -1;
        }
        verify_rcv(&b, &m, check_rand(&rng));
    }
    if (check_failures)
        fprintf(stderr, "  (cap %zu, seed 0x%llx, failed at op %d)\n", cap,
                (unsigned long long)seed, op - 1);
    tcpw_rcvbuf_fini(&b);
    free(m.val);
    free(m.pres);
    free(seg);
    free(out);
    free(exp);
}

static void test_rcvbuf_random_model(void)
{
    static const size_t caps[] = {1, 2, 3, 7, 64, 66, 200, 1000};
    struct rcv_stats st = {0}, big = {0};
    unsigned long ops = 0;

    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]) && !check_failures; i++) {
        struct rcv_stats *s = caps[i] >= 64 ? &big : &st;
        run_rcv_model(caps[i], 0x9e3779b9u * (i + 1), 30000, s);
        ops += 30000;
    }
    CHECK(ops >= 200000);
    /* The generator must actually reach the interesting cases. */
    CHECK(st.advances > 1000 && big.advances > 1000);
    CHECK(st.joins > 1000 && big.joins > 1000);
    CHECK(big.full > 1000);
    CHECK(big.refused > 100);
    CHECK(st.reads > 1000 && st.peeks > 1000);
    printf("# %lu ops: %lu writes (%lu refused for a full list), %lu advances (%lu joining "
           "ranges), %lu reads, %lu peeks\n",
           ops, st.writes + big.writes, st.refused + big.refused, st.advances + big.advances,
           st.joins + big.joins, st.reads + big.reads, st.peeks + big.peeks);
}

int main(void)
{
    RUN(test_sndbuf_basic);
    RUN(test_sndbuf_wrap_every_position);
    RUN(test_sndbuf_random_model);
    RUN(test_rcvbuf_in_order);
    RUN(test_rcvbuf_out_of_order_then_fill);
    RUN(test_rcvbuf_merge_ranges);
    RUN(test_rcvbuf_first_copy_wins);
    RUN(test_rcvbuf_window_edges);
    RUN(test_rcvbuf_capacity_one);
    RUN(test_rcvbuf_wrap_every_position);
    RUN(test_rcvbuf_ranges_full);
    RUN(test_rcvbuf_sack_order);
    RUN(test_rcvbuf_clear);
    RUN(test_rcvbuf_random_model);
    return check_summary();
}
