/* tcp/ — the application's side of closing: CLOSE and ABORT.
 *
 * RFC 9293 §3.10.4 (CLOSE call in each state), §3.10.5 (ABORT), §3.6
 * (closing a connection: FIN after all queued data).
 */
#include <errno.h>

#include "api/sock.h"
#include "tcp/conn.h"
#include "tcp/tcp.h"

void tcpw__conn_shutdown_write(struct tcpw_conn *c)
{
    if (c->fin_queued)
        return;
    /* Who closes first decides who waits in TIME_WAIT; remember it for the
     * close reason. */
    if (c->fin_rcvd)
        c->peer_fin_first = true;
    switch (c->state) {
    case TCPW_SYN_RECEIVED:
    case TCPW_ESTABLISHED:
        /* RFC 9293 §3.10.4 ESTABLISHED: "Queue this until all preceding
         * SENDs have been segmentized, then form a FIN segment and send it.
         * In any case, enter FIN-WAIT-1 state." SYN-RECEIVED: the FIN waits
         * for the handshake; like Linux we enter FIN_WAIT_1 at once and the
         * FIN follows the handshake's completion. */
        c->fin_queued = true;
        c->fin_seq = tcpw__data_end(c);
        tcpw__set_state(c, TCPW_FIN_WAIT_1);
        break;
    case TCPW_CLOSE_WAIT:
        /* "Queue this request until all preceding SENDs have been
         * segmentized; then send a FIN segment, enter LAST-ACK state." */
        c->fin_queued = true;
        c->fin_seq = tcpw__data_end(c);
        tcpw__set_state(c, TCPW_LAST_ACK);
        break;
    default:
        return;
    }
    tcpw__output(c);
}

void tcpw__conn_abort(struct tcpw_conn *c, int err)
{
    /* RFC 9293 §3.10.5: in SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1/2 and
     * CLOSE-WAIT "send a reset segment"; in the other states none is sent. */
    switch (c->state) {
    case TCPW_SYN_RECEIVED:
    case TCPW_ESTABLISHED:
    case TCPW_FIN_WAIT_1:
    case TCPW_FIN_WAIT_2:
    case TCPW_CLOSE_WAIT:
        tcpw__send_rst(c);
        break;
    default:
        break;
    }
    tcpw_sndbuf_clear(&c->snd);
    tcpw__conn_done(c, err);
}
