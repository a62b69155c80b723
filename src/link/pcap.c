/* link/ — a classic pcap writer, so any link can be read by tshark/Wireshark.
 *
 * Format: libpcap 2.4 with microsecond stamps. Every field of the file and
 * record headers is written in the writer's native byte order; readers tell
 * the order from the magic number, which is how libpcap itself writes files.
 * The link type is LINKTYPE_RAW (101): each record is a bare IPv4 datagram.
 *
 * The writer never reads a clock: the stamp of a record is the `now` it is
 * given (virtual µs in the simulator), so a simulated capture is as
 * reproducible as the run that made it.
 */
#include "tcpwave/pcap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCAP_MAGIC_USEC    0xa1b2c3d4u
#define PCAP_VERSION_MAJOR 2u
#define PCAP_VERSION_MINOR 4u

struct tcpw_pcap {
    FILE *f;
    uint64_t count;
};

/* stdio does not promise to set errno; EIO stands in when it did not. */
static int stdio_error(void)
{
    return errno > 0 ? -errno : -EIO;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, sizeof(v));
}
static void put_u16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, sizeof(v));
}

int tcpw_pcap_open(const char *path, struct tcpw_pcap **out)
{
    uint8_t hdr[24];
    struct tcpw_pcap *pc;
    int err;

    if (!path || !out)
        return -EINVAL;
    *out = NULL;
    pc = calloc(1, sizeof(*pc));
    if (!pc)
        return -ENOMEM;
    errno = 0;
    pc->f = fopen(path, "wb");
    if (!pc->f) {
        err = stdio_error();
        free(pc);
        return err;
    }
    put_u32(hdr + 0, PCAP_MAGIC_USEC);
    put_u16(hdr + 4, PCAP_VERSION_MAJOR);
    put_u16(hdr + 6, PCAP_VERSION_MINOR);
    put_u32(hdr + 8, 0);  /* thiszone: stamps are already "UTC" (virtual) */
    put_u32(hdr + 12, 0); /* sigfigs: always 0 in practice */
    put_u32(hdr + 16, TCPW_PCAP_SNAPLEN);
    put_u32(hdr + 20, TCPW_PCAP_LINKTYPE_RAW);
    errno = 0;
    if (fwrite(hdr, sizeof(hdr), 1, pc->f) != 1) {
        err = stdio_error();
        fclose(pc->f);
        free(pc);
        return err;
    }
    *out = pc;
    return 0;
}

int tcpw_pcap_write(struct tcpw_pcap *pc, const uint8_t *pkt, size_t len, uint64_t now_us)
{
    uint8_t rec[16];
    size_t caplen;

    if (!pc || (!pkt && len))
        return -EINVAL;
    caplen = len < TCPW_PCAP_SNAPLEN ? len : TCPW_PCAP_SNAPLEN;
    /* 32-bit seconds last until 2106 of virtual time; wrapping is what
     * every classic pcap writer does beyond that. */
    put_u32(rec + 0, (uint32_t)(now_us / 1000000u));
    put_u32(rec + 4, (uint32_t)(now_us % 1000000u));
    put_u32(rec + 8, (uint32_t)caplen);
    put_u32(rec + 12, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len);
    errno = 0;
    if (fwrite(rec, sizeof(rec), 1, pc->f) != 1)
        return stdio_error();
    if (caplen && fwrite(pkt, caplen, 1, pc->f) != 1)
        return stdio_error();
    pc->count++;
    return 0;
}

uint64_t tcpw_pcap_count(const struct tcpw_pcap *pc)
{
    return pc ? pc->count : 0;
}

int tcpw_pcap_close(struct tcpw_pcap *pc)
{
    int err = 0;

    if (!pc)
        return 0;
    errno = 0;
    if (fclose(pc->f) != 0)
        err = stdio_error();
    free(pc);
    return err;
}

void tcpw_pcap_tap(void *user, const uint8_t *pkt, size_t len, uint64_t now)
{
    /* A tap has nowhere to report a write error; the capture is best effort
     * and tcpw_pcap_close() reports a failed flush. */
    (void)tcpw_pcap_write(user, pkt, len, now);
}
