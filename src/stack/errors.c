/* stack/ — error texts for tcpw_strerror(). */
#include <errno.h>
#include <string.h>

#include "tcpwave/stack.h"

const char *tcpw_strerror(int err)
{
    if (err > 0) {
        const char *help = tcpw_drop_reason_help((enum tcpw_drop_reason)err);
        return help ? help : "unknown drop reason";
    }
    switch (-err) {
    case 0:
        return "success";
    case EINVAL:
        return "invalid argument";
    case ENOMEM:
        return "out of memory";
    case ENOENT:
        return "no such entry";
    case ERANGE:
        return "value out of range";
    case EEXIST:
        return "already exists";
    case ETIMEDOUT:
        return "connection timed out";
    case ECONNRESET:
        return "connection reset by peer";
    case ECONNREFUSED:
        return "connection refused";
    case EPIPE:
        return "broken pipe: the connection can no longer send";
    case EHOSTUNREACH:
        return "no route to host";
    case ENETUNREACH:
        return "network is unreachable";
    case EADDRINUSE:
        return "address already in use";
    case EADDRNOTAVAIL:
        return "cannot assign requested address (no free ephemeral port)";
    case EAGAIN:
        return "resource temporarily unavailable (would block)";
    case ENOTCONN:
        return "socket is not connected";
    case EISCONN:
        return "socket is already connected";
    case EALREADY:
        return "operation already in progress";
    case EINPROGRESS:
        return "operation now in progress";
    case EBADF:
        return "bad socket descriptor";
    case EOPNOTSUPP:
        return "operation not supported";
    default:
        return strerror(-err);
    }
}
