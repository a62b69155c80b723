/* tcpwave — pcap capture of any link.
 *
 * Files are classic libpcap format (magic 0xa1b2c3d4, microsecond stamps,
 * version 2.4) with LINKTYPE_RAW (101): each record is a bare IPv4 datagram,
 * which tshark and Wireshark decode directly. Time stamps are the stack's
 * `now` (virtual µs in the simulator, CLOCK_MONOTONIC on TUN).
 */
#ifndef TCPWAVE_PCAP_H
#define TCPWAVE_PCAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TCPW_PCAP_LINKTYPE_RAW 101u
#define TCPW_PCAP_SNAPLEN 65535u

struct tcpw_pcap;

/* Creates (truncates) `path` and writes the file header.
 * Returns 0, or a negative errno from fopen/fwrite. Allocates; close with
 * tcpw_pcap_close(). */
int tcpw_pcap_open(const char *path, struct tcpw_pcap **out);

/* Appends one packet with time stamp `now_us`. Packets longer than the
 * snap length are truncated in the file (caplen < len), as libpcap does.
 * Returns 0 or a negative errno. Never allocates. */
int tcpw_pcap_write(struct tcpw_pcap *pcap, const uint8_t *pkt, size_t len, uint64_t now_us);

/* Packets written so far. */
uint64_t tcpw_pcap_count(const struct tcpw_pcap *pcap);

/* Flushes and closes the file and frees `pcap`. Returns 0 or a negative
 * errno from fclose (the object is freed either way). NULL is fine. */
int tcpw_pcap_close(struct tcpw_pcap *pcap);

/* An output callback (tcpw_output_fn shape) that writes to the pcap passed
 * as `user`; chain it in front of a link to tap it. */
void tcpw_pcap_tap(void *user, const uint8_t *pkt, size_t len, uint64_t now);

#ifdef __cplusplus
}
#endif
#endif
