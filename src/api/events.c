/* api/ — readiness events.
 *
 * Sockets whose readiness may have changed are queued while the stack is
 * processing a packet or a timer, and reported afterwards, so the
 * application's callback never runs inside the state machine and may call
 * any API function.
 */
#include "api/sock.h"

void tcpw_set_event_fn(struct tcpw_stack *s, tcpw_event_fn fn, void *user)
{
    s->tcp->event_fn = fn;
    s->tcp->event_user = user;
}

void tcpw__sock_wake(struct tcpw_sock *so)
{
    struct tcpw_tcp_state *t = so->stack->tcp;

    if (so->wake_pending)
        return;
    so->wake_pending = true;
    so->wake_next = t->wake_head;
    t->wake_head = so;
}

void tcpw__dispatch_events(struct tcpw_stack *s)
{
    struct tcpw_tcp_state *t = s->tcp;

    if (t->dispatching)
        return;
    t->dispatching = true;
    while (t->wake_head) {
        struct tcpw_sock *so = t->wake_head;
        unsigned ev;

        t->wake_head = so->wake_next;
        so->wake_pending = false;
        so->wake_next = NULL;
        ev = tcpw__sock_events(so);
        so->last_events = ev;
        if (t->event_fn)
            t->event_fn(t->event_user, s, so->fd, ev);
    }
    t->dispatching = false;
}
