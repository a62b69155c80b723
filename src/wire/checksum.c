/* wire/checksum.c — the Internet checksum.
 *
 * RFC 1071 (computing the one's-complement sum), RFC 1624 (incremental
 * update, eqn. 3), RFC 9293 §3.1 (the TCP pseudo-header).
 *
 * The sum is computed over the bytes in the machine's own byte order and
 * swapped once at the end: RFC 1071 §2(B) shows that the one's-complement sum
 * is independent of byte order up to a final swap. Words are loaded with
 * memcpy, so any alignment is fine (no unaligned pointer casts: those are
 * undefined behaviour and UBSan reports them).
 */
#include <string.h>

#include "wire/wire.h"

/* True on a little-endian host. The compiler folds this to a constant. */
static bool host_is_little_endian(void)
{
    const uint16_t one = 1;
    uint8_t first;
    memcpy(&first, &one, 1);
    return first == 1;
}

/* Adds with end-around carry (RFC 1071 §2(A)): a carry out of bit 63 is
 * added back into bit 0, which keeps the sum congruent modulo 2^16 - 1. */
static uint64_t add_carry64(uint64_t sum, uint64_t v)
{
    sum += v;
    return sum + (sum < v);
}

/* Folds a 64-bit one's-complement sum into 16 bits. A sum of non-zero data
 * never folds to 0 (only all-zero data sums to +0). */
static uint32_t fold64(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint32_t)sum;
}

uint32_t tcpw_csum_partial(const void *data, size_t len, uint32_t initial)
{
    const uint8_t *p = data;
    uint64_t sum = 0;

    /* The main loop: 32 bytes per iteration in four independent 64-bit loads. */
    while (len >= 32) {
        uint64_t w[4];
        memcpy(w, p, sizeof w);
        sum = add_carry64(sum, w[0]);
        sum = add_carry64(sum, w[1]);
        sum = add_carry64(sum, w[2]);
        sum = add_carry64(sum, w[3]);
        p += 32;
        len -= 32;
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        sum = add_carry64(sum, w);
        p += 8;
        len -= 8;
    }
    if (len >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        sum = add_carry64(sum, w);
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        sum = add_carry64(sum, w);
        p += 2;
        len -= 2;
    }
    if (len == 1) {
        /* RFC 1071 §4.1: an odd byte is padded with a zero byte on its right
         * (network order). Loading {byte, 0} natively keeps it in the same
         * lane as the other native-order words. */
        const uint8_t pad[2] = {p[0], 0};
        uint16_t w;
        memcpy(&w, pad, 2);
        sum = add_carry64(sum, w);
    }

    uint32_t folded = fold64(sum);
    if (host_is_little_endian())
        folded = (uint32_t)(((folded & 0xffu) << 8) | (folded >> 8));
    return fold64((uint64_t)folded + initial);
}

uint16_t tcpw_csum_fold(uint32_t sum)
{
    return (uint16_t)~fold64(sum);
}

uint32_t tcpw_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4_len)
{
    /* RFC 9293 §3.1: source, destination, zero + protocol, TCP length. */
    uint64_t sum =
        (uint64_t)(src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) + proto + l4_len;
    return fold64(sum);
}

uint16_t tcpw_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word)
{
    /* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). Unlike RFC 1141's
     * HC + m + ~m' it gives the same value as a full recomputation, never a
     * 0xffff where the recomputation gives 0x0000 (RFC 1624 §3). */
    uint32_t sum = (uint32_t)(uint16_t)~csum + (uint16_t)~old_word + new_word;
    return (uint16_t)~fold64(sum);
}
