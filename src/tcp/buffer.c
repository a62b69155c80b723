/* tcp/ — send and receive buffers of a connection.
 *
 * RFC 9293 §3.3.1 (the send sequence space: the send buffer holds every byte
 * from SND.UNA on), RFC 9293 §3.10.7.4 "seventh" (segments beyond RCV.NXT
 * inside the window are kept for later processing), RFC 2018 §3–4 (the
 * received out-of-order ranges are what SACK blocks report, the block
 * holding the most recently received segment first).
 *
 * Both buffers are byte rings of fixed capacity. Out-of-order bytes are
 * written straight to their final place in the receive ring, so when the
 * hole before them fills nothing is copied: RCV.NXT just moves over them.
 * The range list only records which bytes beyond RCV.NXT are present.
 *
 * Ring positions are always reduced with ring_add() below rather than with
 * `(a + b) % cap`, so no intermediate sum can overflow size_t whatever the
 * capacity.
 */
#include "tcp/buffer.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* (a + b) mod cap for a < cap and b <= cap, without forming a + b. */
static size_t ring_add(size_t cap, size_t a, size_t b)
{
    return b >= cap - a ? b - (cap - a) : a + b;
}

/* Copies len (<= cap) bytes into the ring starting at index pos (< cap). */
static void ring_put(uint8_t *ring, size_t cap, size_t pos, const uint8_t *src, size_t len)
{
    size_t first = cap - pos < len ? cap - pos : len;
    memcpy(ring + pos, src, first);
    memcpy(ring, src + first, len - first);
}

/* Copies len (<= cap) bytes out of the ring starting at index pos (< cap). */
static void ring_get(const uint8_t *ring, size_t cap, size_t pos, uint8_t *dst, size_t len)
{
    size_t first = cap - pos < len ? cap - pos : len;
    memcpy(dst, ring + pos, first);
    memcpy(dst + first, ring, len - first);
}

/* ---------------------------------------------------------------- send */

int tcpw_sndbuf_init(struct tcpw_sndbuf *b, size_t cap)
{
    assert(cap > 0);
    b->head = 0;
    b->len = 0;
    b->data = malloc(cap);
    b->cap = b->data ? cap : 0;
    return b->data ? 0 : -ENOMEM;
}

void tcpw_sndbuf_fini(struct tcpw_sndbuf *b)
{
    /* Leaves an empty zero-capacity buffer, so a second fini is harmless. */
    free(b->data);
    b->data = NULL;
    b->cap = 0;
    b->head = 0;
    b->len = 0;
}

size_t tcpw_sndbuf_append(struct tcpw_sndbuf *b, const void *data, size_t len)
{
    size_t space = tcpw_sndbuf_space(b);
    size_t n = len < space ? len : space;

    if (n == 0)
        return 0;
    ring_put(b->data, b->cap, ring_add(b->cap, b->head, b->len), data, n);
    b->len += n;
    return n;
}

void tcpw_sndbuf_copy(const struct tcpw_sndbuf *b, size_t offset, void *out, size_t len)
{
    assert(offset <= b->len && len <= b->len - offset);
    if (len == 0)
        return;
    ring_get(b->data, b->cap, ring_add(b->cap, b->head, offset), out, len);
}

void tcpw_sndbuf_drop(struct tcpw_sndbuf *b, size_t n)
{
    assert(n <= b->len);
    b->len -= n;
    /* An empty ring restarts at 0 so that the next burst is contiguous. */
    b->head = b->len ? ring_add(b->cap, b->head, n) : 0;
}

void tcpw_sndbuf_clear(struct tcpw_sndbuf *b)
{
    b->head = 0;
    b->len = 0;
}

/* ------------------------------------------------------------- receive */

int tcpw_rcvbuf_init(struct tcpw_rcvbuf *b, size_t cap)
{
    assert(cap > 0);
    b->head = 0;
    b->readable = 0;
    b->ooo_count = 0;
    b->ooo_latest = -1;
    b->data = malloc(cap);
    b->cap = b->data ? cap : 0;
    return b->data ? 0 : -ENOMEM;
}

void tcpw_rcvbuf_fini(struct tcpw_rcvbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->cap = 0;
    tcpw_rcvbuf_clear(b);
}

/* Ring index of the byte `off` bytes after RCV.NXT (off < space). */
static size_t rcv_pos(const struct tcpw_rcvbuf *b, size_t off)
{
    return ring_add(b->cap, ring_add(b->cap, b->head, b->readable), off);
}

/* Copies the bytes of [s, e) (offsets from RCV.NXT; src holds byte s at
 * src[0]) that are not inside any of the ranges ooo[lo..hi). Those ranges
 * are the sorted ones that overlap or touch [s, e). Bytes already present
 * stay as they are (first copy wins): a retransmission carries the same
 * bytes, so copying them again is wasted work; should overlapping segments
 * ever disagree, the bytes stored first win whatever the later segments'
 * boundaries. */
static void rcv_copy_gaps(struct tcpw_rcvbuf *b, uint32_t s, uint32_t e, const uint8_t *src,
                          unsigned lo, unsigned hi)
{
    uint32_t at = s;

    for (unsigned i = lo; i <= hi && at < e; i++) {
        uint32_t gap_end = i < hi && b->ooo[i].start < e ? b->ooo[i].start : e;
        if (gap_end > at)
            ring_put(b->data, b->cap, rcv_pos(b, at), src + (at - s), gap_end - at);
        if (i < hi)
            at = b->ooo[i].end; /* never backwards: ooo[lo].end >= s */
    }
}

size_t tcpw_rcvbuf_write(struct tcpw_rcvbuf *b, uint32_t offset, const void *data, size_t len)
{
    /* Offsets are 32-bit (sequence-space distances), so a buffer bigger
     * than 4 GiB can still only hold 2^32 - 1 bytes beyond RCV.NXT. */
    size_t limit = tcpw_rcvbuf_space(b) < UINT32_MAX ? tcpw_rcvbuf_space(b) : UINT32_MAX;
    uint32_t s = offset, e, ns, ne;
    unsigned lo = 0, hi, removed;
    size_t advance = 0;

    if (len == 0 || offset >= limit)
        return 0;
    e = (uint32_t)(len < limit - offset ? offset + len : limit);

    /* ooo[lo..hi) are the ranges that overlap or touch [s, e): they and the
     * new bytes become one range, since ranges are kept non-adjacent. */
    while (lo < b->ooo_count && b->ooo[lo].end < s)
        lo++;
    hi = lo;
    while (hi < b->ooo_count && b->ooo[hi].start <= e)
        hi++;

    /* A new range with the list full: drop the segment; the sender will
     * retransmit it. Data at RCV.NXT never needs a range, and data joining
     * an existing range never needs a new one, so both are always kept. */
    if (s > 0 && lo == hi && b->ooo_count == TCPW_RCVBUF_MAX_RANGES)
        return 0;

    rcv_copy_gaps(b, s, e, data, lo, hi);

    ns = lo < hi && b->ooo[lo].start < s ? b->ooo[lo].start : s;
    ne = lo < hi && b->ooo[hi - 1].end > e ? b->ooo[hi - 1].end : e;

    if (ns == 0) {
        /* RCV.NXT moves over the segment and every range it joined; the
         * ranges left behind are re-based on the new RCV.NXT. No range holds
         * this segment now, so none is "latest" (RFC 2018 §4: the first
         * block is not reported for a segment that advanced the ACK). */
        assert(lo == 0);
        advance = ne;
        b->readable += advance;
        removed = hi;
        for (unsigned i = hi; i < b->ooo_count; i++) {
            b->ooo[i - removed].start = b->ooo[i].start - ne;
            b->ooo[i - removed].end = b->ooo[i].end - ne;
        }
        b->ooo_count -= removed;
        b->ooo_latest = -1;
        return advance;
    }

    if (lo == hi) {
        /* Make room for a new range at lo. */
        memmove(&b->ooo[lo + 1], &b->ooo[lo], (b->ooo_count - lo) * sizeof(b->ooo[0]));
        b->ooo_count++;
    } else if (hi - lo > 1) {
        /* ooo[lo] absorbs ooo[lo + 1 .. hi). */
        memmove(&b->ooo[lo + 1], &b->ooo[hi], (b->ooo_count - hi) * sizeof(b->ooo[0]));
        b->ooo_count -= hi - lo - 1;
    }
    b->ooo[lo].start = ns;
    b->ooo[lo].end = ne;
    /* RFC 2018 §4: the first SACK block is the one containing the segment
     * that triggered the ACK, even when the segment was a duplicate. */
    b->ooo_latest = (int)lo;
    return 0;
}

size_t tcpw_rcvbuf_peek(const struct tcpw_rcvbuf *b, void *out, size_t len)
{
    size_t n = len < b->readable ? len : b->readable;

    if (n > 0)
        ring_get(b->data, b->cap, b->head, out, n);
    return n;
}

size_t tcpw_rcvbuf_read(struct tcpw_rcvbuf *b, void *out, size_t len)
{
    size_t n = len < b->readable ? len : b->readable;

    if (n == 0)
        return 0;
    if (out)
        ring_get(b->data, b->cap, b->head, out, n);
    /* head + readable (the ring index of RCV.NXT) does not move, so the
     * out-of-order bytes and their offsets stay where they are. */
    b->head = ring_add(b->cap, b->head, n);
    b->readable -= n;
    return n;
}

unsigned tcpw_rcvbuf_sack_ranges(const struct tcpw_rcvbuf *b, struct tcpw_range *out, unsigned max)
{
    unsigned n = 0;

    if (b->ooo_latest >= 0 && n < max)
        out[n++] = b->ooo[b->ooo_latest];
    for (unsigned i = 0; i < b->ooo_count && n < max; i++) {
        if ((int)i != b->ooo_latest)
            out[n++] = b->ooo[i];
    }
    return n;
}

void tcpw_rcvbuf_clear(struct tcpw_rcvbuf *b)
{
    b->head = 0;
    b->readable = 0;
    b->ooo_count = 0;
    b->ooo_latest = -1;
}
