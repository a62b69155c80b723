/* api/ — socket options (include/tcpwave/socket.h, enum tcpw_sockopt).
 *
 * Linux's meanings: SO_SNDBUF/SO_RCVBUF are fixed before the connection
 * starts (tcpwave's buffers are fixed rings), TCP_KEEP* in seconds,
 * TCP_USER_TIMEOUT in ms (RFC 5482), SO_LINGER as struct tcpw_linger.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "api/sock.h"

#define BUF_MIN 2048u
#define BUF_MAX (64u << 20)

static int get_int(const void *val, size_t len, int *out)
{
    if (!val || len < sizeof(int))
        return -EINVAL;
    memcpy(out, val, sizeof(int));
    return 0;
}

int tcpw_setsockopt(struct tcpw_stack *s, int fd, int opt, const void *val, size_t len)
{
    struct tcpw_sock *so = tcpw__sock_get(s, fd);
    int v = 0, err;

    if (!so)
        return -EBADF;
    if (opt == TCPW_SO_LINGER) {
        struct tcpw_linger l;
        if (!val || len < sizeof(l))
            return -EINVAL;
        memcpy(&l, val, sizeof(l));
        if (l.l_linger < 0)
            return -EINVAL;
        so->linger = l;
        return 0;
    }
    err = get_int(val, len, &v);
    if (err)
        return err;
    switch (opt) {
    case TCPW_SO_REUSEADDR:
        so->reuseaddr = v != 0;
        return 0;
    case TCPW_SO_KEEPALIVE:
        so->keepalive = v != 0;
        if (so->conn)
            tcpw__keepalive_update(so->conn);
        return 0;
    case TCPW_TCP_NODELAY:
        so->nodelay = v != 0;
        if (so->conn) {
            so->conn->nodelay = so->nodelay;
            tcpw__output(so->conn); /* Linux pushes pending data at once */
        }
        return 0;
    case TCPW_SO_SNDBUF:
    case TCPW_SO_RCVBUF:
        if (so->conn || so->listener)
            return -EISCONN;
        if (v <= 0)
            return -EINVAL;
        if ((unsigned)v < BUF_MIN)
            v = BUF_MIN;
        if ((unsigned)v > BUF_MAX)
            v = BUF_MAX;
        if (opt == TCPW_SO_SNDBUF)
            so->sndbuf = (uint32_t)v;
        else
            so->rcvbuf = (uint32_t)v;
        return 0;
    case TCPW_TCP_MAXSEG:
        /* Linux accepts 88..32767 (TCP_MIN_MSS..MAX_TCP_WINDOW). */
        if (so->conn)
            return -EISCONN;
        if (v != 0 && (v < 88 || v > 32767))
            return -EINVAL;
        so->maxseg = (uint32_t)v;
        return 0;
    case TCPW_TCP_KEEPIDLE:
    case TCPW_TCP_KEEPINTVL:
        if (v < 1 || v > 32767) /* Linux's MAX_TCP_KEEPIDLE / KEEPINTVL */
            return -EINVAL;
        if (opt == TCPW_TCP_KEEPIDLE) {
            so->keepidle_s = (uint32_t)v;
            /* Linux re-arms the timer with the new idle time. */
            if (so->conn) {
                tcpw_timer_cancel(&s->wheel, &so->conn->keepalive_timer);
                tcpw__keepalive_update(so->conn);
            }
        } else {
            so->keepintvl_s = (uint32_t)v;
        }
        return 0;
    case TCPW_TCP_KEEPCNT:
        if (v < 1 || v > 127) /* Linux's MAX_TCP_KEEPCNT */
            return -EINVAL;
        so->keepcnt = (uint32_t)v;
        return 0;
    case TCPW_TCP_USER_TIMEOUT:
        if (v < 0)
            return -EINVAL;
        so->user_timeout_ms = (uint32_t)v;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

int tcpw_getsockopt(struct tcpw_stack *s, int fd, int opt, void *val, size_t *len)
{
    struct tcpw_sock *so = tcpw__sock_get(s, fd);
    int v;

    if (!so)
        return -EBADF;
    if (!val || !len)
        return -EINVAL;
    if (opt == TCPW_SO_LINGER) {
        if (*len < sizeof(so->linger))
            return -EINVAL;
        memcpy(val, &so->linger, sizeof(so->linger));
        *len = sizeof(so->linger);
        return 0;
    }
    if (*len < sizeof(int))
        return -EINVAL;
    switch (opt) {
    case TCPW_SO_ERROR:
        v = so->error;
        so->error = 0;
        break;
    case TCPW_SO_CLOSE_REASON:
        v = so->close_reason;
        break;
    case TCPW_SO_REUSEADDR:
        v = so->reuseaddr;
        break;
    case TCPW_SO_KEEPALIVE:
        v = so->keepalive;
        break;
    case TCPW_TCP_NODELAY:
        v = so->nodelay;
        break;
    case TCPW_SO_SNDBUF:
        v = (int)(so->conn ? so->conn->snd.cap : so->sndbuf);
        break;
    case TCPW_SO_RCVBUF:
        v = (int)(so->conn ? so->conn->rcv.cap : so->rcvbuf);
        break;
    case TCPW_TCP_MAXSEG:
        /* Like Linux's mss_cache: on a connection, the data a full segment
         * carries (timestamps excluded: 1448 on Ethernet with timestamps). */
        v = so->conn ? (int)tcpw__seg_size(so->conn)
                     : (int)(so->maxseg ? so->maxseg : s->cfg.mtu - 40u);
        break;
    case TCPW_TCP_KEEPIDLE:
        v = (int)so->keepidle_s;
        break;
    case TCPW_TCP_KEEPINTVL:
        v = (int)so->keepintvl_s;
        break;
    case TCPW_TCP_KEEPCNT:
        v = (int)so->keepcnt;
        break;
    case TCPW_TCP_USER_TIMEOUT:
        v = so->user_timeout_ms > INT_MAX ? INT_MAX : (int)so->user_timeout_ms;
        break;
    default:
        return -ENOPROTOOPT;
    }
    memcpy(val, &v, sizeof(v));
    *len = sizeof(v);
    return 0;
}
