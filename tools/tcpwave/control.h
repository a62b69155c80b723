/* tcpwave program — the control socket of a running `serve`/`connect`, and
 * its clients `tcpwave ss` and `tcpwave stat`.
 *
 * The stack lives inside the tcpwave process, so the kernel's ss and nstat
 * cannot see it. Instead the process listens on a Unix stream socket
 * (default /run/tcpwave/<tun>.sock); a client writes one request line ("ss",
 * "ports" for `ss --ports`, or "stat [-a]"), reads the text answer and sees
 * the connection close. The server is polled from the TUN loop's tick: no
 * threads, and the stack is only ever read between two loop iterations,
 * never while it runs.
 */
#ifndef TCPWAVE_TOOL_CONTROL_H
#define TCPWAVE_TOOL_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "tcpwave/stack.h"

struct control;
struct realnet;

/* The default control path of TUN device `tun`: /run/tcpwave/<tun>.sock.
 * Returns 0, or -ENAMETOOLONG when it does not fit in buf (cap bytes). */
int control_default_path(const char *tun, char *buf, size_t cap);

/* Listens at `path` (non-blocking, close-on-exec, mode 0600: the answers
 * are for the operator). With `make_dir`, creates the parent directory
 * first (one level, mode 0755). A socket file left behind by a process that
 * died is replaced; one a live process answers on gives -EADDRINUSE.
 * Returns 0 and sets *out (allocated; release with control_close()), or a
 * negative errno. */
int control_open(const char *path, int make_dir, struct control **out);

/* Accepts waiting clients, reads their request lines and writes answers as
 * far as the sockets take them without blocking. Answers describe `stack`
 * as of `now`. A client that sends nothing for 5 s is dropped. NULL ctl is
 * accepted (no control socket). Never blocks. */
void control_poll(struct control *ctl, const struct tcpw_stack *stack, uint64_t now);

/* Closes the clients and the listener, removes the socket file and frees
 * ctl. NULL is accepted. */
void control_close(struct control *ctl);

/* For realnet_start(): opens rn->control_path, or the default path of the
 * TUN device when none was given, into rn->ctl. An explicit path that
 * cannot be opened is an error (returns 1, printed); the default path only
 * warns (a read-only /run must not stop a server) and returns 0. */
int realnet_control_start(struct realnet *rn);

#endif
