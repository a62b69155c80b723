/* tcpwave — umbrella header: the whole public API.
 *
 *   stack.h    a stack instance: packets in, packets out, explicit time
 *   socket.h   the BSD-socket-like calls
 *   config.h   tunables (Linux sysctl names)
 *   counters.h counters (nstat names) and drop reasons
 *   sim.h      the simulated network (memlink) and its driver
 *   pcap.h     capture of any link to a pcap file
 *   timewait.h the TIME_WAIT records a stack holds (count, list, memory)
 *   tun.h      a Linux TUN device as a link, and its real-time event loop
 */
#ifndef TCPWAVE_TCPWAVE_H
#define TCPWAVE_TCPWAVE_H

#include "tcpwave/config.h"
#include "tcpwave/counters.h"
#include "tcpwave/pcap.h"
#include "tcpwave/sim.h"
#include "tcpwave/socket.h"
#include "tcpwave/stack.h"
#include "tcpwave/timewait.h"
#include "tcpwave/tun.h"

#endif
