/* tcp/ — send and receive buffers of a connection.
 *
 * The send buffer holds every byte from SND.UNA on: bytes sent and not yet
 * acknowledged, then bytes queued and not yet sent (RFC 9293 §3.3.1 Figure 3).
 * The receive buffer holds in-order bytes the application has not read yet,
 * and, beyond them, out-of-order bytes that arrived inside the window
 * (RFC 9293 §3.10.7.4 "seventh": segments beyond RCV.NXT are held for later
 * processing). Out-of-order bytes are written straight into the ring at their
 * place, and a sorted list of received ranges says which are present; that
 * list is also the source of SACK blocks (RFC 2018).
 *
 * Both are rings of fixed capacity chosen at creation; they allocate only in
 * init and free only in fini.
 */
#ifndef TCPW_BUFFER_H
#define TCPW_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tcpw_sndbuf {
    uint8_t *data;
    size_t cap;
    size_t head; /* ring index of the byte at SND.UNA */
    size_t len;  /* bytes held (unacknowledged + unsent) */
};

/* Returns 0 or -ENOMEM. cap must be > 0. */
int tcpw_sndbuf_init(struct tcpw_sndbuf *b, size_t cap);
void tcpw_sndbuf_fini(struct tcpw_sndbuf *b);
static inline size_t tcpw_sndbuf_space(const struct tcpw_sndbuf *b) { return b->cap - b->len; }
/* Appends up to len bytes; returns how many were taken (<= space). */
size_t tcpw_sndbuf_append(struct tcpw_sndbuf *b, const void *data, size_t len);
/* Copies len bytes starting `offset` bytes after SND.UNA into out.
 * offset + len must be <= b->len. */
void tcpw_sndbuf_copy(const struct tcpw_sndbuf *b, size_t offset, void *out, size_t len);
/* Drops n acknowledged bytes from the front (n <= len). */
void tcpw_sndbuf_drop(struct tcpw_sndbuf *b, size_t n);
/* Discards everything (abort, SO_LINGER 0). */
void tcpw_sndbuf_clear(struct tcpw_sndbuf *b);

#define TCPW_RCVBUF_MAX_RANGES 32

/* An out-of-order range, as offsets from RCV.NXT: [start, end). */
struct tcpw_range {
    uint32_t start, end;
};

struct tcpw_rcvbuf {
    uint8_t *data;
    size_t cap;
    size_t head;     /* ring index of the first unread byte */
    size_t readable; /* in-order bytes not yet read by the application */
    /* Out-of-order ranges beyond RCV.NXT, sorted, disjoint, non-adjacent,
     * offsets relative to RCV.NXT (i.e. to the byte after the readable ones). */
    struct tcpw_range ooo[TCPW_RCVBUF_MAX_RANGES];
    unsigned ooo_count;
    /* Most recently changed range first, for SACK's "first block is the one
     * holding the segment that triggered this ACK" (RFC 2018 §4). Index into
     * ooo[] or -1. */
    int ooo_latest;
};

/* Returns 0 or -ENOMEM. cap must be > 0. */
int tcpw_rcvbuf_init(struct tcpw_rcvbuf *b, size_t cap);
void tcpw_rcvbuf_fini(struct tcpw_rcvbuf *b);

/* Free space after the readable bytes: what the receive window may offer. */
static inline size_t tcpw_rcvbuf_space(const struct tcpw_rcvbuf *b)
{
    return b->cap - b->readable;
}

/* Stores len bytes that start `offset` bytes after RCV.NXT. Bytes beyond the
 * space are cut off (the caller trims to the window first; this is a guard).
 * Bytes already present are left as they were (first copy wins).
 * Returns how many bytes became in-order readable, i.e. how far RCV.NXT
 * advances (offset 0 data plus any out-of-order ranges it joins up with).
 * When the range list is full and the data would need a new range, the
 * out-of-order data is not stored (it will be retransmitted) and 0 returns. */
size_t tcpw_rcvbuf_write(struct tcpw_rcvbuf *b, uint32_t offset, const void *data, size_t len);

/* Copies up to len readable bytes into out (NULL: discard them), consuming
 * them. Returns the number of bytes. */
size_t tcpw_rcvbuf_read(struct tcpw_rcvbuf *b, void *out, size_t len);

/* Copies up to len readable bytes without consuming them (MSG_PEEK). */
size_t tcpw_rcvbuf_peek(const struct tcpw_rcvbuf *b, void *out, size_t len);

/* Up to `max` out-of-order ranges for SACK blocks, the most recently changed
 * first, then the others in ascending order. Returns the count. */
unsigned tcpw_rcvbuf_sack_ranges(const struct tcpw_rcvbuf *b, struct tcpw_range *out,
                                 unsigned max);

/* Discards everything, readable and out-of-order. */
void tcpw_rcvbuf_clear(struct tcpw_rcvbuf *b);

#endif
